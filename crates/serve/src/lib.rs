//! The serve stage: the catalog, plans, audits and verification reports in
//! a browser and over a JSON API, with deployments and results kept in
//! SQLite (a file beside the user) or PostgreSQL (a team's server).
//!
//! Pure stages (catalog search, check, plan, render) run in the server's
//! process; one-off jobs whose logic lives in the command line (`new`,
//! `port`, `audit`, `report`, `catalog show`) run as a child `portplan`
//! with a time limit (engine.rs), so a page shows exactly what the command
//! prints and a crash in one job cannot take the server down.

pub mod api;
pub mod cpu;
pub mod engine;
pub mod http;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// What `portplan serve` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// `sqlite:FILE` or `postgres://...`.
    pub db: String,
    pub listen: SocketAddr,
    /// Access tokens by user name; empty: no sign-in (loopback only).
    pub tokens: Vec<(String, String)>,
    /// `--catalog DIR`, passed to every child `portplan` too.
    pub catalog_dir: Option<PathBuf>,
    /// The `portplan` binary the engine runs (the running one).
    pub exe: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_upload: usize,
    /// Who changes things when no token names them (the server's user).
    pub local_user: String,
}

/// Opens the database (migrating it), binds, prints the address, serves
/// until Ctrl-C or SIGTERM.
pub async fn serve(opts: Options) -> Result<(), String> {
    if !opts.listen.ip().is_loopback() && opts.tokens.is_empty() {
        return Err(format!(
            "refusing to listen on {} (beyond this machine) without an access token: \
             set PORTPLAN_SERVE_TOKEN or give --token-file FILE (lines `NAME TOKEN`)",
            opts.listen
        ));
    }
    let catalog = portplan_model::Catalog::load(opts.catalog_dir.as_deref()).map_err(|ds| {
        ds.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let store = store::Store::open(&opts.db).await?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e} (pick another with --listen 127.0.0.1:PORT, or :0 for any free port)",
                opts.listen
            )
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let state = http::AppState::new(opts, Arc::new(catalog), store, addr);
    let app = http::router(state);
    // The URL on stdout (tests and scripts read it); the rest on stderr.
    println!("http://{addr}/");
    eprintln!("portplan serve: listening on http://{addr}/ (Ctrl-C stops)");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| format!("server stopped: {e}"))
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Now, as RFC 3339 UTC with microseconds: fixed width, so text order is
/// time order in both databases.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// A new record id: time first (ids sort by creation), then randomness.
pub fn new_id() -> String {
    let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let mut r = [0u8; 5];
    // Without OS randomness the time part still keeps ids apart in practice;
    // the primary key refuses a collision rather than overwriting.
    let _ = getrandom::fill(&mut r);
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("{ms:012x}{hex}")
}

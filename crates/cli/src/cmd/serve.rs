//! `portplan serve`: the catalog, plans, audits and verification reports
//! in a browser and over a JSON API (crates/serve).

use super::{Failure, Global, Outcome};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  portplan serve                                   # http://127.0.0.1:8080/, data in ./portplan.db
  portplan serve --db postgres://portplan@db.example/portplan
  PORTPLAN_SERVE_TOKEN=... portplan serve --listen 0.0.0.0:8080   # beyond this machine: a token is required

Access: on loopback no sign-in is needed. To listen on any other address,
give tokens: PORTPLAN_SERVE_TOKEN (one, for the user `token`) or
--token-file FILE (lines `NAME TOKEN`; NAME is who changes are recorded as).
Scripts send `Authorization: Bearer TOKEN`; the API is described at
/api/openapi.json.")]
pub struct Args {
    /// Where deployments, audits and reports are kept: `sqlite:FILE` (made
    /// if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, default_value = "sqlite:portplan.db", value_name = "URL")]
    pub db: String,
    /// Address and port to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Access tokens, one per line: `NAME TOKEN` (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Largest upload accepted (a ruleset, a report), in MB.
    #[arg(long, default_value_t = 32, value_name = "MB")]
    pub max_upload: usize,
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let mut tokens = Vec::new();
    if let Ok(t) = std::env::var("PORTPLAN_SERVE_TOKEN") {
        let t = t.trim().to_string();
        if !t.is_empty() {
            check_token("PORTPLAN_SERVE_TOKEN", &t)?;
            tokens.push(("token".to_string(), t));
        }
    }
    if let Some(f) = &args.token_file {
        tokens.extend(read_tokens(f)?);
    }
    if args.max_upload == 0 || args.max_upload > 4096 {
        return Err(Failure::Message(
            "--max-upload: give a size in MB from 1 to 4096".into(),
        ));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Message(format!("cannot find the running portplan binary: {e}")))?;
    let local_user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "local".into());
    let opts = portplan_serve::Options {
        db: args.db,
        listen: args.listen,
        tokens,
        catalog_dir: g.catalog_dir.clone(),
        exe,
        max_upload: args.max_upload * 1024 * 1024,
        local_user,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Message(format!("cannot start the server's runtime: {e}")))?;
    rt.block_on(portplan_serve::serve(opts))
        .map_err(Failure::Message)?;
    Ok(ExitCode::SUCCESS)
}

fn check_token(place: &str, token: &str) -> Result<(), Failure> {
    if token.len() < 16 || token.chars().any(char::is_whitespace) {
        return Err(Failure::Message(format!(
            "{place}: a token is at least 16 characters without spaces (e.g. `openssl rand -hex 16`)"
        )));
    }
    Ok(())
}

/// `NAME TOKEN` per line; names are what changes are recorded as.
fn read_tokens(path: &Path) -> Result<Vec<(String, String)>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Message(format!("--token-file {}: {e}", path.display())))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let place = format!("{}:{}", path.display(), i + 1);
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(name), Some(token), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Failure::Message(format!(
                "{place}: write `NAME TOKEN` (two words)"
            )));
        };
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
        {
            return Err(Failure::Message(format!(
                "{place}: `{name}`: a name is letters, digits, `.`, `-`, `_`, `@`"
            )));
        }
        check_token(&place, token)?;
        if out.iter().any(|(_, t)| t == token) {
            return Err(Failure::Message(format!(
                "{place}: this token is given twice; each user needs their own"
            )));
        }
        out.push((name.to_string(), token.to_string()));
    }
    if out.is_empty() {
        return Err(Failure::Message(format!(
            "--token-file {}: no `NAME TOKEN` line",
            path.display()
        )));
    }
    Ok(out)
}

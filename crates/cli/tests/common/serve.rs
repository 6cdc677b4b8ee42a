//! The harness of the `portplan serve` API tests: the real binary started
//! on loopback over a fresh database (a SQLite file, or a new database on
//! the PostgreSQL server PORTPLAN_TEST_POSTGRES names), and a small HTTP
//! client that keeps statuses, headers and bodies for the checks.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which database a server keeps its data in.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    /// The URL of a PostgreSQL server's database; each server gets a new
    /// database next to it.
    Postgres(String),
}

impl Db {
    pub fn name(&self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }
}

/// Under CI every half of a test must run.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// SQLite always; PostgreSQL when PORTPLAN_TEST_POSTGRES names one
/// (`scripts/pg-throwaway.sh start DIR` makes one). Under CI=true its
/// absence fails the test: CI must test both.
pub fn databases() -> Vec<Db> {
    let mut dbs = vec![Db::Sqlite];
    match std::env::var("PORTPLAN_TEST_POSTGRES") {
        Ok(u) if !u.trim().is_empty() => dbs.push(Db::Postgres(u.trim().to_string())),
        _ if in_ci() => panic!(
            "CI=true but PORTPLAN_TEST_POSTGRES is not set: CI tests serve on PostgreSQL too \
             (.ci/run starts one with scripts/pg-throwaway.sh)"
        ),
        _ => eprintln!(
            "serve_api: PORTPLAN_TEST_POSTGRES is not set, the PostgreSQL half is skipped \
             (scripts/pg-throwaway.sh start DIR prints a URL for it)"
        ),
    }
    dbs
}

/// Runs `f` once per database, saying which one a failure was on.
pub fn each_db(f: impl Fn(&Db)) {
    for db in databases() {
        eprintln!("serve_api: on {}", db.name());
        f(&db);
    }
}

/// A fresh PostgreSQL database, dropped again at the end.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `postgres://u@h:p/db?x` with `db` replaced.
fn with_database(url: &str, db: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(start);
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{head}{authority}/{db}{query}")
}

impl PgDatabase {
    pub fn create(admin_url: &str) -> PgDatabase {
        use sqlx::{Connection, Executor};
        let name = format!(
            "portplan_test_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        runtime().block_on(async {
            let mut c = sqlx::PgConnection::connect(admin_url)
                .await
                .unwrap_or_else(|e| panic!("cannot reach PORTPLAN_TEST_POSTGRES: {e}"));
            c.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await
                .unwrap();
            c.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let _ = c.close().await;
        });
        PgDatabase {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        use sqlx::{Connection, Executor};
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        runtime().block_on(async move {
            if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                let _ = c
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                let _ = c.close().await;
            }
        });
    }
}

/// Where a server's data is; removed when the server is dropped.
enum Store {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgDatabase),
}

/// A running `portplan serve`; killed on drop (then its database goes).
pub struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    pub db: Db,
    // Declared after `child`: the server ends before its database is dropped.
    _store: Store,
}

/// Starts `portplan serve` and reads its URL from its first stdout line.
pub struct Launch<'a> {
    pub db: &'a Db,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl<'a> Launch<'a> {
    pub fn new(db: &'a Db) -> Launch<'a> {
        Launch {
            db,
            args: Vec::new(),
            env: Vec::new(),
        }
    }
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    /// The command, with its database made.
    fn command(&self) -> (Command, Store) {
        let (url, store) = match self.db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("serve.db").display());
                (url, Store::Sqlite(dir))
            }
            Db::Postgres(admin) => {
                let pg = PgDatabase::create(admin);
                (pg.url.clone(), Store::Postgres(pg))
            }
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portplan"));
        cmd.arg("serve").arg("--db").arg(url);
        if !self.args.iter().any(|a| a == "--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(&self.args)
            .env_remove("PORTPLAN_SERVE_TOKEN")
            .env("USER", "local-tester")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        (cmd, store)
    }

    pub fn start(self) -> Server {
        let (mut cmd, store) = self.command();
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        // The first stdout line is the URL; reading it waits for the server
        // (or for its end, when it refuses to start).
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        std::thread::spawn(move || for _ in out.lines().map_while(Result::ok) {});
        let base = line.trim().trim_end_matches('/').to_string();
        if !base.starts_with("http://127.0.0.1:") {
            let status = child.wait().ok();
            std::thread::sleep(Duration::from_millis(100)); // stderr's reader
            panic!(
                "portplan serve did not start ({status:?}): stdout {line:?}, stderr:\n{}",
                stderr.lock().unwrap()
            );
        }
        Server {
            child,
            stderr,
            base,
            db: self.db.clone(),
            _store: store,
        }
    }

    /// Runs the server expecting it to refuse to start: (exit code, stderr).
    pub fn refused(self) -> (Option<i32>, String) {
        let (mut cmd, _store) = self.command();
        let out = cmd.output().unwrap();
        assert!(
            out.stdout.is_empty(),
            "it printed a URL: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "serve_api: the {} server's stderr:\n{}",
                self.db.name(),
                self.stderr.lock().unwrap()
            );
        }
    }
}

/// An answer: status, headers (lower-case names), body text.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// `NAME=VALUE` of a Set-Cookie header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next())
            .find(|kv| kv.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }
}

/// The CSRF pair a page sends: the cookie and the same value as a header.
pub const CSRF: &str = "0123456789abcdef0123456789abcdef";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        // A hung server fails the test instead of hanging CI (the engine's
        // own job limit is 120 s).
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .new_agent()
}

impl Server {
    /// Sends a request; `headers` as given (nothing added).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        let mut b = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let r = match body {
            Some(text) => agent().run(b.body(text.to_string()).unwrap()),
            None => agent().run(b.body(()).unwrap()),
        };
        let mut r = r.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = r
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap();
        Resp {
            status: r.status().as_u16(),
            headers,
            body,
        }
    }

    /// What the server said on stderr so far (for a failing test's message).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], None)
    }

    /// A change as the pages make it: CSRF cookie and header, a user name.
    pub fn change(&self, method: &str, path: &str, body: &str) -> Resp {
        self.change_as(method, path, body, "alice")
    }

    pub fn change_as(&self, method: &str, path: &str, body: &str, user: &str) -> Resp {
        let cookie = format!("pp_csrf={CSRF}");
        self.send(
            method,
            path,
            &[
                ("Cookie", &cookie),
                ("X-CSRF-Token", CSRF),
                ("X-Portplan-User", user),
                ("Content-Type", content_type(body)),
            ],
            Some(body),
        )
    }

    pub fn post_json(&self, path: &str, v: &Value) -> Resp {
        self.change("POST", path, &v.to_string())
    }

    /// Saves a deployment; its first version.
    pub fn create(&self, name: &str, yaml: &str) -> Resp {
        self.post_json(
            "/api/deployments",
            &serde_json::json!({"name": name, "yaml": yaml, "message": "first"}),
        )
    }

    /// One request written by hand on a socket (headers a client library
    /// would not send as given, like a foreign Host): status and body.
    pub fn raw(&self, request: &str) -> (u16, String) {
        let addr = self.base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        // A server that waits for more fails the test instead of hanging it.
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {text}"));
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

fn content_type(body: &str) -> &'static str {
    if body.starts_with('{') {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// A file of the repository (examples/, catalog/).
pub fn repo_file(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One host's `verify -f json`, in the shape the command writes it:
/// `rows` are (destination, address, tcp port, state); `verified` passes.
pub fn verify_result(src: &str, sha256: &Value, rows: &[(&str, &str, u16, &str)]) -> Value {
    let results: Vec<Value> = rows
        .iter()
        .map(|(dst, addr, port, state)| {
            serde_json::json!({
                "flow": 0, "src": src, "dst": dst, "required": true,
                "reasons": ["strongdm: relay-resource"], "passed": *state == "verified",
                "host": addr, "protocol": "tcp", "port": port, "address": addr,
                "state": state, "evidence": format!("{state} evidence"), "rtt_ms": 0.3
            })
        })
        .collect();
    serde_json::json!({
        "kind": "portplan-verify",
        "title": format!("portplan verify strongdm.yaml --from {src}"),
        "summary": {"paths": rows.len(), "expect": "responder"},
        "results": results,
        "not_probed": [],
        "run": {
            "sources": [src], "machine": src,
            "deployment": {"name": "strongdm-datacenter", "file": "strongdm.yaml", "sha256": sha256},
            "started_unix_ms": 1000, "finished_unix_ms": 2000
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_are_rewritten() {
        assert_eq!(
            super::with_database("postgres://u@h:5/portplan", "t1"),
            "postgres://u@h:5/t1"
        );
        assert_eq!(
            super::with_database("postgresql://u:p@h/db?sslmode=disable", "t2"),
            "postgresql://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://h", "t3"),
            "postgres://h/t3"
        );
    }
}

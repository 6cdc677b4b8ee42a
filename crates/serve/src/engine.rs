//! Jobs run by a child `portplan`: the command line owns their logic
//! (`new`, `port`, `catalog show`, `audit`, `report`), so the page shows
//! what the command prints, with its exit code and its messages. Inputs go
//! through files in a private temporary folder, never through a shell.

use crate::http::error::ApiError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// Child jobs allowed to wait per core: each holds its upload (up to
/// --max-upload) while it waits.
const WAITING_PER_CORE: usize = 16;

/// What a child run gave back.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// (the path the child saw, the name the user sent), to put the names
    /// back in what the child wrote (`names_in`).
    renames: Vec<(String, String)>,
}

impl Ran {
    /// Every string of `v` with the run's temporary paths replaced by the
    /// names the user sent: a stored result must not name the server's
    /// temporary folder (it leaks, and it is not the user's file).
    pub fn names_in(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.contains("portplan-serve-") => {
                for (from, to) in &self.renames {
                    *s = s.replace(from.as_str(), to);
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.names_in(x)),
            serde_json::Value::Object(m) => m.values_mut().for_each(|x| self.names_in(x)),
            _ => {}
        }
    }
}

#[derive(Debug, Clone)]
pub struct Engine {
    exe: PathBuf,
    catalog_dir: Option<PathBuf>,
    /// A job that takes longer is stopped (and said so).
    pub limit: Duration,
    /// At most one job per core at a time; the others wait their turn, so
    /// a burst of uploads cannot start hundreds of processes at once, and
    /// past `WAITING_PER_CORE` a core they are told to come back later.
    slots: crate::cpu::Queue,
}

/// A file to hand a child: its name (as the child reports it) and text.
pub struct Input<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Engine {
    pub fn new(exe: PathBuf, catalog_dir: Option<PathBuf>) -> Engine {
        let cores = crate::cpu::cores();
        Engine {
            exe,
            catalog_dir,
            limit: Duration::from_secs(120),
            slots: crate::cpu::Queue::bounded(cores, cores * WAITING_PER_CORE),
        }
    }

    /// Runs `portplan ARGS...`, where an argument `{0}`, `{1}`... is the path
    /// of input 0, 1... written into a fresh folder for this run.
    /// The server being too busy is a 503; anything else that keeps the
    /// job from running, its message as a 422.
    pub async fn run(&self, args: &[&str], inputs: &[Input<'_>]) -> Result<Ran, ApiError> {
        let _slot = self.slots.enter().await?;
        self.run_now(args, inputs)
            .await
            .map_err(ApiError::unprocessable)
    }

    async fn run_now(&self, args: &[&str], inputs: &[Input<'_>]) -> Result<Ran, String> {
        let dir = tempfile::Builder::new()
            .prefix("portplan-serve-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
        let mut paths = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            // The child names files in its messages: keep the user's name
            // (made safe for a path) so `where` points at what they sent.
            let file = dir.path().join(format!("{i}-{}", safe_name(input.name)));
            tokio::fs::write(&file, input.text)
                .await
                .map_err(|e| format!("cannot write a temporary file: {e}"))?;
            paths.push(file);
        }
        let mut cmd = Command::new(&self.exe);
        if let Some(c) = &self.catalog_dir {
            cmd.arg("--catalog").arg(c);
        }
        cmd.arg("--color").arg("never");
        for a in args {
            cmd.arg(expand(a, &paths));
        }
        cmd.current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("COLUMNS", "200")
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.exe.display()))?;
        let out = tokio::time::timeout(self.limit, child.wait_with_output())
            .await
            .map_err(|_| {
                format!(
                    "`portplan {}` took longer than {} s and was stopped",
                    args.first().copied().unwrap_or(""),
                    self.limit.as_secs()
                )
            })?
            .map_err(|e| format!("cannot run {}: {e}", self.exe.display()))?;
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let mut renames: Vec<(String, String)> = paths
            .iter()
            .zip(inputs)
            .map(|(p, i)| (p.display().to_string(), i.name.to_string()))
            .collect();
        renames.push((format!("{}/", dir.path().display()), String::new()));
        Ok(Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            // The child saw the temporary folder; the user sent a name.
            stderr: unfold(&stderr, dir.path(), inputs),
            renames,
        })
    }
}

fn expand(arg: &str, paths: &[PathBuf]) -> std::ffi::OsString {
    for (i, p) in paths.iter().enumerate() {
        if arg == format!("{{{i}}}") {
            return p.clone().into_os_string();
        }
    }
    arg.into()
}

/// Letters, digits, `.`, `-`, `_` of a name; at most 80 of them.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(80)
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "input".into()
    } else {
        s
    }
}

/// The child's messages name `/tmp/portplan-serve-XXXX/0-gw.nft`; the user
/// knows it as `gw.nft`.
fn unfold(text: &str, dir: &Path, inputs: &[Input<'_>]) -> String {
    let mut out = text.to_string();
    for (i, input) in inputs.iter().enumerate() {
        let path = dir.join(format!("{i}-{}", safe_name(input.name)));
        out = out.replace(&path.display().to_string(), input.name);
    }
    out.replace(&format!("{}/", dir.display()), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "etcpasswd");
        assert_eq!(safe_name("gw 1.nft"), "gw1.nft");
        assert_eq!(safe_name(""), "input");
        assert_eq!(safe_name("..."), "input");
    }
}

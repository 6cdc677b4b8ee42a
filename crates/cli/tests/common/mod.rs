//! What the cli's process tests share: a background process (a responder,
//! a stand-in service) whose output is collected while the test goes on.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A background process whose stdout lines are collected; killed on drop.
pub struct Spawned {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Spawned {
    /// Starts `cmd` and waits until a stdout line contains `ready`.
    pub fn start(mut cmd: Command, ready: &str) -> Spawned {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        for (stream, tag) in [
            (
                Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
                "",
            ),
            (Box::new(child.stderr.take().unwrap()), "stderr: "),
        ] {
            let l = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    l.lock().unwrap().push(format!("{tag}{line}"));
                }
            });
        }
        let s = Spawned { child, lines };
        let t0 = Instant::now();
        while !s.text().contains(ready) {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "{cmd:?} never said `{ready}`:\n{}",
                s.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }
    pub fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
    /// Waits for the process to end by itself; its exit code.
    pub fn wait(&mut self) -> Option<i32> {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50)); // let readers drain
                return st.code();
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "process did not end:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

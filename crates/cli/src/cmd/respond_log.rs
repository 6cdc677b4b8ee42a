//! The responder's log: lines go to a thread of their own through a
//! bounded queue, so serving never waits for the output and a closed or
//! stuck stdout never stops or panics the responder. Under a flood, lines
//! past a rate are counted and summarised once a second instead of written.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines queued for the writer at most; past it lines are dropped (counted).
const QUEUE: usize = 4096;
/// Probe and ignore lines written per second at most; the rest summarised.
const PER_SECOND: u32 = 200;

/// What the writer thread is sent: a line, or a request to say when every
/// line before it is written.
enum Msg {
    Line(String),
    Flushed(SyncSender<()>),
}

pub struct Log {
    /// JSON lines (`--format json`): the log's own notes are objects too.
    json: bool,
    tx: SyncSender<Msg>,
    dropped: Arc<AtomicU64>,
    window: Mutex<(Instant, u32, u64)>,
}

impl Log {
    /// Starts the writer thread on stdout.
    pub fn stdout(json: bool) -> Arc<Log> {
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let d = dropped.clone();
        std::thread::spawn(move || {
            let mut out = std::io::stdout().lock();
            let mut open = true;
            for msg in rx {
                let line = match msg {
                    Msg::Line(l) => l,
                    Msg::Flushed(ack) => {
                        let _ = ack.try_send(());
                        continue;
                    }
                };
                // Once stdout fails (closed pipe), keep draining: senders
                // must never find the queue full because nobody reads.
                if !open {
                    continue;
                }
                let lost = d.swap(0, Ordering::Relaxed);
                let mut ok = true;
                if lost > 0 {
                    let text =
                        format!("({lost} log lines dropped: the output is slower than the events)");
                    ok &= writeln!(out, "{}", note_text(json, &text)).is_ok();
                }
                ok &= writeln!(out, "{line}").is_ok() && out.flush().is_ok();
                open = ok;
            }
        });
        Arc::new(Log {
            json,
            tx,
            dropped,
            window: Mutex::new((Instant::now(), 0, 0)),
        })
    }

    /// Queues a line that must be written (start, stop): never blocks.
    pub fn line(&self, text: String) {
        match self.tx.try_send(Msg::Line(text)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Queues a per-event line, at most PER_SECOND a second; the lines past
    /// it are counted and summarised when the next second starts.
    pub fn event(&self, text: String) {
        let summary = match self.window.lock() {
            Ok(mut w) => {
                let now = Instant::now();
                let mut summary = None;
                if now.duration_since(w.0) >= Duration::from_secs(1) {
                    if w.2 > 0 {
                        summary = Some(note_text(
                            self.json,
                            &format!(
                            "({} more events in the last {:.0} s not logged one by one: a flood)",
                            w.2,
                            now.duration_since(w.0).as_secs_f64()
                        ),
                        ));
                    }
                    *w = (now, 0, 0);
                }
                w.1 += 1;
                if w.1 > PER_SECOND {
                    w.2 += 1;
                    drop(w);
                    if let Some(s) = summary {
                        self.line(s);
                    }
                    return;
                }
                summary
            }
            Err(_) => None,
        };
        if let Some(s) = summary {
            self.line(s);
        }
        self.line(text);
    }

    /// Waits up to `limit` for the lines queued so far to be written (at
    /// exit); a stuck output is given up on when the time is over.
    pub fn flush(&self, limit: Duration) {
        let t0 = Instant::now();
        let (ack, done) = sync_channel(1);
        let mut msg = Msg::Flushed(ack);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) if t0.elapsed() < limit => {
                    msg = m;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return,
            }
        }
        let _ = done.recv_timeout(limit.saturating_sub(t0.elapsed()));
    }
}

/// A line on stderr that never panics (a closed stderr is not worth dying for).
pub fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "portplan: warning: {text}");
}

/// A note of the log itself: the text, or a JSON object in JSON lines.
fn note_text(json: bool, text: &str) -> String {
    if json {
        serde_json::json!({ "event": "note", "text": text }).to_string()
    } else {
        text.to_string()
    }
}

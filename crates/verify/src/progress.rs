//! A progress bar on stderr for long runs, only when stderr is a terminal.

use crate::engine::Progress;
use std::io::IsTerminal;
use std::sync::Arc;

/// Runs shorter than this finish before a bar is worth drawing.
const MIN_PROBES: usize = 200;

/// A progress callback and the bar to finish, or none when not on a TTY.
pub fn bar(total: usize) -> Option<(Progress, indicatif::ProgressBar)> {
    if total < MIN_PROBES || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} probes ({per_sec}, eta {eta})",
    ) {
        pb.set_style(style);
    }
    let p = pb.clone();
    let cb: Progress = Arc::new(move |done, _| p.set_position(done as u64));
    Some((cb, pb))
}

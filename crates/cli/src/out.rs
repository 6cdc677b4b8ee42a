//! Terminal output helpers: colour only on a TTY, aligned tables, files.

use portplan_model::{Diagnostic, Severity};
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// `--format` of a command whose output is a table (or text) or JSON.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    pub fn enabled(self) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// A diagnostic as one or two lines, the severity coloured when asked.
pub fn diagnostic(d: &Diagnostic, color: bool) -> String {
    let text = d.to_string();
    if !color {
        return text;
    }
    let (word, code) = match d.severity {
        Severity::Error => (": error: ", "31"),
        Severity::Warning => (": warning: ", "33"),
    };
    text.replacen(
        word,
        &format!(": \x1b[1;{code}m{}\x1b[0m: ", word.trim_matches([':', ' '])),
        1,
    )
}

/// The width tables fit, decided once per run (`set_width`): None prints
/// every cell whole.
static WIDTH: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

/// Decides the width tables fit: none with `--wide`; else `COLUMNS` when
/// the user set it; else the terminal's width when stdout is a terminal;
/// never when stdout is a pipe or a file (scripts get whole cells).
pub fn set_width(wide: bool) {
    let w = if wide {
        None
    } else if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        Some(n)
    } else if std::io::stdout().is_terminal() {
        // terminal_size: a small, maintained crate for the window size
        // ioctl (and its Windows equivalent); already in the tree via indicatif.
        terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
    } else {
        None
    };
    let _ = WIDTH.set(w);
}

fn width() -> Option<usize> {
    WIDTH.get().copied().flatten()
}

/// A cell on one line: control characters (a newline in a command line)
/// are written escaped, so each row stays one line.
fn one_line(c: &str) -> std::borrow::Cow<'_, str> {
    if !c.contains(char::is_control) {
        return std::borrow::Cow::Borrowed(c);
    }
    let mut out = String::with_capacity(c.len() + 4);
    for ch in c.chars() {
        if ch.is_control() {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Column widths cut so a line fits `max`: the widest column gives up a
/// character at a time, none below its header or 8 characters.
fn fit(widths: &mut [usize], header: &[&str], max: usize) -> bool {
    let gaps = 2 * widths.len().saturating_sub(1);
    let floor: Vec<usize> = header.iter().map(|h| h.chars().count().max(8)).collect();
    let mut cut = false;
    // The first column names the row (a product id, a host): the others
    // give way first, so what a user types next stays whole.
    for first in [1, 0] {
        while widths.iter().sum::<usize>() + gaps > max {
            let Some((i, _)) = widths
                .iter()
                .enumerate()
                .skip(first)
                .filter(|(i, w)| **w > floor.get(*i).copied().unwrap_or(8))
                .max_by_key(|(_, w)| **w)
            else {
                break;
            };
            widths[i] -= 1;
            cut = true;
        }
    }
    cut
}

/// A cell cut to `w` characters, the cut marked with `~`.
fn clip(c: &str, w: usize) -> std::borrow::Cow<'_, str> {
    if c.chars().count() <= w {
        return std::borrow::Cow::Borrowed(c);
    }
    let mut t: String = c.chars().take(w.saturating_sub(1)).collect();
    t.push('~');
    std::borrow::Cow::Owned(t)
}

static CUT_NOTE: std::sync::Once = std::sync::Once::new();

/// An aligned plain-text table; the header is bold when `color`. Fits the
/// width `set_width` chose by cutting the widest columns (said once on
/// stderr, with `--wide` to see every cell whole).
pub fn table(header: &[&str], rows: &[Vec<String>], color: bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(one_line(c).chars().count());
            }
        }
    }
    let full = widths.clone();
    let cut = width().is_some_and(|max| fit(&mut widths, header, max));
    // Each line is padded in place into the output: a table of 100,000
    // rows (an audit) would otherwise make several strings per row.
    let push_line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let start = out.len();
        let mut cells = cells.peekable();
        let mut i = 0;
        while let Some(c) = cells.next() {
            let c = one_line(c);
            let c = match widths.get(i) {
                Some(w) if cut && full.get(i) != Some(w) => clip(&c, *w).into_owned(),
                _ => c.into_owned(),
            };
            out.push_str(&c);
            if cells.peek().is_some() {
                let pad = widths
                    .get(i)
                    .map_or(0, |w| w.saturating_sub(c.chars().count()))
                    + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
            i += 1;
        }
        let kept = out[start..].trim_end().len();
        out.truncate(start + kept);
        out.push('\n');
    };
    let mut out = String::new();
    if color {
        let mut h = String::new();
        push_line(&mut h, &mut header.iter().copied());
        out.push_str(&format!("\x1b[1m{}\x1b[0m\n", h.trim_end_matches('\n')));
    } else {
        push_line(&mut out, &mut header.iter().copied());
    }
    // Rows are written in chunks on every core, joined in order: an
    // audit's table has a row per planned flow.
    let parts: Vec<String> = rows
        .par_chunks(4096)
        .map(|chunk| {
            let mut part = String::new();
            for r in chunk {
                push_line(&mut part, &mut r.iter().map(String::as_str));
            }
            part
        })
        .collect();
    out.reserve(parts.iter().map(String::len).sum());
    for p in &parts {
        out.push_str(p);
    }
    if cut {
        CUT_NOTE.call_once(|| {
            eprintln!(
                "portplan: note: long cells are cut (~) to fit the width; --wide shows them whole"
            );
        });
    }
    out
}

/// Writes `text` to `path`, or to stdout when `path` is None or `-`.
pub fn emit(text: &str, path: Option<&Path>) -> Result<(), super::cmd::Failure> {
    emit_parts(&[text], path)
}

/// `emit` of text made in parts (on several cores), without joining them
/// first: a large output would be copied once more for nothing.
pub fn emit_parts<S: AsRef<str>>(
    parts: &[S],
    path: Option<&Path>,
) -> Result<(), super::cmd::Failure> {
    match path {
        Some(p) if p != Path::new("-") => {
            let fail = |e: std::io::Error| {
                super::cmd::Failure::Message(format!("cannot write {}: {e}", p.display()))
            };
            let mut f = std::fs::File::create(p).map_err(fail)?;
            for part in parts {
                f.write_all(part.as_ref().as_bytes()).map_err(fail)?;
            }
            Ok(())
        }
        _ => {
            let mut so = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            for part in parts {
                if so.write_all(part.as_ref().as_bytes()).is_err() {
                    break;
                }
            }
            Ok(())
        }
    }
}

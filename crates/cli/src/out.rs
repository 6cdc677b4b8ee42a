//! Terminal output helpers: colour only on a TTY, aligned tables, files.

use portplan_model::{Diagnostic, Severity};
use std::io::{IsTerminal, Write};
use std::path::Path;

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

/// An aligned plain-text table; the header is bold when `color`.
pub fn table(header: &[&str], rows: &[Vec<String>], color: bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    // Each line is padded in place into the output: a table of 100,000
    // rows (an audit) would otherwise make several strings per row.
    let push_line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let start = out.len();
        let mut cells = cells.peekable();
        let mut i = 0;
        while let Some(c) = cells.next() {
            out.push_str(c);
            if cells.peek().is_some() {
                let pad = widths.get(i).map_or(0, |w| w - c.chars().count()) + 2;
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
    for r in rows {
        push_line(&mut out, &mut r.iter().map(String::as_str));
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

//! Diagnostics: located, explained messages about user-supplied data.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about a file: where, what, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    /// 1-based line and column, when the finding has a place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
        }
    }
    pub fn warning(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }
    pub fn at(mut self, loc: Option<Location>) -> Self {
        if let Some(l) = loc {
            self.line = Some(l.line);
            self.column = Some(l.column);
        }
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {sev}: {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// A 1-based place in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Errors first, then by file and place, so output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (b.severity, &a.file, a.line, a.column).cmp(&(a.severity, &b.file, b.line, b.column))
    });
}

/// "did you mean" for a misspelt id.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(word, c);
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// The names a wrong `word` most likely meant: the name it is (ignoring
/// case), else the names it is a part of (a `-` separated word, a prefix, a
/// suffix or, from three letters, any part: `asa` -> `cisco-asa`), else the
/// names that are part of it, else the closest spelling.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let all: Vec<&str> = candidates.into_iter().collect();
    let w = word.trim().to_ascii_lowercase();
    if w.is_empty() {
        return Vec::new();
    }
    if let Some(c) = all.iter().find(|c| c.eq_ignore_ascii_case(&w)) {
        return vec![*c];
    }
    let contains: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| {
            let c = c.to_ascii_lowercase();
            c.split(['-', '_', '.']).any(|part| part == w)
                || (w.len() >= 2 && (c.starts_with(&w) || c.ends_with(&w)))
                || (w.len() >= 3 && c.contains(&w))
        })
        .collect();
    if !contains.is_empty() {
        return contains;
    }
    let inside: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| c.len() >= 3 && w.contains(&c.to_ascii_lowercase()))
        .collect();
    if !inside.is_empty() {
        return inside;
    }
    match did_you_mean(&w, all.iter().copied()) {
        Some(c) => all.into_iter().filter(|x| *x == c).take(1).collect(),
        None => Vec::new(),
    }
}

/// "unknown X `y`" with a hint that names the closest id or lists the known ones.
pub fn unknown<'a>(
    what: &str,
    word: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> (String, String) {
    let message = format!("unknown {what} `{word}`");
    let hint = match did_you_mean(word, known.clone()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => {
            let all: Vec<&str> = known.into_iter().collect();
            if all.is_empty() {
                format!("no {what} is defined here")
            } else {
                format!("known: {}", all.join(", "))
            }
        }
    };
    (message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_by_part_then_by_spelling() {
        let names = [
            "table",
            "cisco-asa",
            "cisco-ios",
            "aws-terraform",
            "gcp-terraform",
            "nftables",
        ];
        assert_eq!(suggest("asa", names), vec!["cisco-asa"]);
        assert_eq!(suggest("ASA", names), vec!["cisco-asa"]);
        assert_eq!(
            suggest("terraform", names),
            vec!["aws-terraform", "gcp-terraform"]
        );
        assert_eq!(suggest("nft", names), vec!["nftables"]);
        assert_eq!(suggest("cisco-asa-9", names), vec!["cisco-asa"]);
        assert_eq!(suggest("cisko-asa", names), vec!["cisco-asa"]);
        assert!(suggest("zzz", names).is_empty());
    }
}

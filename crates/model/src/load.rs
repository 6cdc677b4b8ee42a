//! Reading YAML files into typed values with located diagnostics.

use crate::diag::{Diagnostic, Location};
use crate::locate::LocationIndex;
use crate::yaml_hints;
use serde::de::DeserializeOwned;
use std::sync::OnceLock;

/// A parsed document, with its text kept to locate values for messages.
pub struct Parsed<T> {
    pub value: T,
    pub file: String,
    src: String,
    /// Built on the first message that needs a place: reading the YAML a
    /// second time for positions costs as much as parsing it, and a clean
    /// file never needs one.
    index: OnceLock<LocationIndex>,
}

impl<T> Parsed<T> {
    /// The index from value paths to file positions.
    pub fn index(&self) -> &LocationIndex {
        self.index.get_or_init(|| LocationIndex::build(&self.src))
    }
    /// The text the value was read from.
    pub fn source(&self) -> &str {
        &self.src
    }
    /// An error located at the value found at `path`.
    pub fn error_at(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(&self.file, message).at(self.index().value(path))
    }
    pub fn warning_at(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(&self.file, message).at(self.index().value(path))
    }
}

/// Parses `src` (named `file` in messages) into `T`. Syntax errors, unknown
/// keys, wrong types and out-of-range ports come back as one located error.
pub fn parse_yaml<T: DeserializeOwned>(file: &str, src: &str) -> Result<Parsed<T>, Diagnostic> {
    if src.trim().is_empty() {
        return Err(Diagnostic::error(file, "the file is empty")
            .hint("see `portplan catalog schema` for the expected keys"));
    }
    match serde_norway::from_str::<T>(src) {
        Ok(value) => Ok(Parsed {
            value,
            file: file.to_string(),
            src: src.to_string(),
            index: OnceLock::new(),
        }),
        Err(e) => Err(yaml_error(file, src, &e)),
    }
}

fn yaml_error(file: &str, src: &str, e: &serde_norway::Error) -> Diagnostic {
    let loc = e.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    // serde_norway appends " at line L column C"; the location is shown in front.
    let full = e.to_string();
    let mut msg = full.clone();
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    // A key given twice (crate::unique): point at the second one.
    if msg.contains("is given twice in the same mapping") {
        if let Some(d) = crate::locate::duplicate_keys(src).first() {
            return Diagnostic::error(
                file,
                format!(
                    "`{}` is given twice in the same mapping (first on line {})",
                    d.key, d.first.line
                ),
            )
            .at(Some(d.again))
            .hint(format!(
                "keep one `{}:` and merge the values into it (e.g. a list `[a, b]`); only one of the two would be read",
                d.key
            ));
        }
    }
    // A syntax error says what the parser expected; say what the user did.
    if let Some(x) = loc.and_then(|l| yaml_hints::explain(src, &msg, &full, l)) {
        return Diagnostic::error(file, x.message)
            .at(Some(x.at))
            .hint(x.hint);
    }
    let hint = if msg.contains("unknown field") {
        let moved = loc.and_then(|l| yaml_hints::dedented(src, l));
        Some(match moved {
            Some(m) => format!("{m}; otherwise {}", expected_fields_hint(&msg)),
            None => expected_fields_hint(&msg),
        })
    } else if msg.contains("missing field") {
        let key = msg.split('`').nth(1).unwrap_or_default();
        let moved = loc.and_then(|l| yaml_hints::misplaced_key(src, key, l));
        Some(match moved {
            Some(m) => m,
            None => "add the field; `portplan catalog schema` lists every key".to_string(),
        })
    } else if msg.contains("invalid type: unit value") {
        // `key:` with nothing after it and nothing indented under it.
        let key = msg.split(':').next().unwrap_or_default();
        let key = key.rsplit('.').next().unwrap_or(key);
        Some(format!(
            "`{key}:` has no value: write one after it, or indent the lines that belong to it deeper than `{key}:`"
        ))
    } else if msg.contains("invalid type: string") && msg.contains("expected a map") {
        Some("a mapping is expected here: write `key: value` lines (a key needs `: ` after it) at one indentation".to_string())
    } else if msg.contains("invalid type") {
        Some("write the value in the shape the message expects (a list is `[a, b]`, a mapping `{key: value}`); `portplan catalog schema` shows every key".to_string())
    } else if msg.contains("did not match any variant") {
        Some("check the value's shape: a single value or a list, as the schema says".to_string())
    } else {
        None
    };
    let d = Diagnostic::error(file, msg).at(loc);
    match hint {
        Some(h) => d.hint(h),
        None => d,
    }
}

/// Turns serde's "expected one of `a`, `b`" tail into a hint.
fn expected_fields_hint(msg: &str) -> String {
    match msg.find("expected") {
        Some(i) => format!("remove the key or correct its spelling; {}", &msg[i..]),
        None => "remove the key or correct its spelling".to_string(),
    }
}

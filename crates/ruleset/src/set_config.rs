//! What the readers of `set`-command configurations (Junos `display set`,
//! PAN-OS `set` output) share: statement lines, zones as symbols, and a
//! budget for resolving nested groups.

use crate::model::AddrMatch;
use crate::space::Addrs;
use crate::words::words;
use portplan_model::{Diagnostic, Location};
use std::cell::Cell;

/// An error on a statement's line.
pub(crate) fn err(file: &str, line: usize, msg: String) -> Diagnostic {
    Diagnostic::error(file, msg).at(Some(Location { line, column: 1 }))
}

/// The words of statement line `n` (trimmed); an error for a line of the
/// hierarchical (curly-brace) format, which `export` says how to avoid,
/// or for a quote left open.
pub(crate) fn statement(
    file: &str,
    n: usize,
    l: &str,
    export: &str,
) -> Result<Vec<String>, Diagnostic> {
    if l.ends_with('{') || l == "}" || l.ends_with(';') {
        return Err(err(
            file,
            n,
            format!("`{l}` is the hierarchical (curly-brace) format: export with {export}"),
        ));
    }
    if l.matches('"').count() % 2 == 1 {
        return Err(err(file, n, format!("`{l}` opens a quote it never closes")));
    }
    Ok(words(l))
}

/// Zones as a condition on one side (`zone:NAME` symbols); `None` for no
/// zone or `any`.
pub(crate) fn zones(zs: &[String]) -> Option<AddrMatch> {
    if zs.is_empty() || zs.iter().any(|z| z == "any") {
        return None;
    }
    let mut m = AddrMatch::of(Addrs::none());
    m.symbols = zs.iter().map(|z| format!("zone:{z}")).collect();
    Some(m)
}

/// Steps left to resolve one rule's groups: nested groups can repeat, and
/// a group that nests in a loop or multiplies must stop.
#[derive(Default)]
pub(crate) struct Budget(Cell<u32>);

impl Budget {
    pub fn reset(&self, steps: u32) {
        self.0.set(steps);
    }
    /// One more step, if the budget allows.
    pub fn step(&self) -> bool {
        let b = self.0.get();
        self.0.set(b.saturating_sub(1));
        b > 0
    }
}

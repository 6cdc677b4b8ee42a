//! portplan import stage: a vendor's ports page (plain text, Markdown or
//! HTML) becomes a draft catalog entry, with every doubtful value flagged.
//!
//! The pipeline: [`text`] turns the page into rows of cells of items;
//! [`segment`] cuts rows into records and reads their context; [`grammar`]
//! reads ports and protocols; [`resolve`] fills protocols the page leaves to
//! context and finds anomalies; [`draft`] writes a `Product`; [`diff`]
//! compares a page with a catalog entry.

mod bound_rows;
mod cell_lines;
mod choices;
pub mod diff;
pub mod draft;
pub mod finding;
pub mod grammar;
pub mod knowledge;
mod records;
pub mod resolve;
mod restated;
pub mod segment;
pub mod text;

pub use finding::{Anomaly, AnomalyKind, Finding, PortItem, ProtocolBasis};
pub use text::Format;

use portplan_model::Product;

/// Rows (or lines, or findings) one parallel task reads: fewer would cost
/// more in hand-offs than they save.
pub(crate) const ROWS_PER_TASK: usize = 4096;

/// What the importer was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Product id of the draft (default: from the file name).
    pub product: Option<String>,
    /// File name the draft cites (`sources[0].file`).
    pub file: Option<String>,
    /// Only the draft is wanted: the findings move into it and
    /// `Import::findings` comes back empty (a large page's findings are not
    /// copied then).
    pub draft_only: bool,
}

/// Everything an import produced.
#[derive(Debug, Clone)]
pub struct Import {
    pub format: Format,
    pub findings: Vec<Finding>,
    pub anomalies: Vec<Anomaly>,
    pub draft: Product,
    pub provenance: Vec<draft::Provenance>,
}

/// Imports a page. Never fails: what cannot be read becomes an anomaly.
pub fn import(src: &str, opts: &Options) -> Import {
    let (format, rows) = text::rows(src);
    let rows = cell_lines::regroup(rows);
    let walk = segment::walk(&rows);
    let layout = restated::Layout {
        code: rows.iter().filter(|r| r.code).map(|r| r.line).collect(),
        table: rows
            .iter()
            .filter(|r| r.cells.len() >= 2)
            .flat_map(|r| std::iter::once(r.line).chain(r.cell_lines.iter().copied()))
            .collect(),
        headings: rows.iter().filter(|r| r.heading).map(|r| r.line).collect(),
    };
    // Freeing the rows of a large page takes a while: not on the way.
    rayon::spawn(move || drop(rows));
    let (mut parts, mut anomalies) = resolve::resolve(walk);
    restated::apply(&mut parts, &mut anomalies, &layout);
    let (findings, taken) = if opts.draft_only {
        (Vec::new(), parts)
    } else {
        let findings: Vec<Finding> = parts.into_iter().flatten().collect();
        let taken = vec![findings.clone()];
        (findings, taken)
    };
    let (draft, provenance) = draft::draft(taken, &anomalies, opts);
    Import {
        format,
        findings,
        anomalies,
        draft,
        provenance,
    }
}

/// Lowercase ASCII words of a text (letters and digits).
pub(crate) fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `Cisco ISE Monitoring` → `cisco-ise-monitoring`.
pub(crate) fn slug(s: &str) -> String {
    let w = words(s);
    let mut out = w.join("-");
    out.truncate(48);
    out.trim_end_matches('-').to_string()
}

//! Walks the rows of a page and cuts them into records: table rows (with
//! the table's column meanings), bullets, one-field-per-line blocks and prose
//! sentences. Each record yields findings with their context: the section
//! heading, the row's label, direction words, conditions and host names.

use crate::finding::{Anomaly, AnomalyKind, Finding, PortItem};
use crate::grammar::{self, Parsed};
use crate::knowledge::{directions, has_word, Dir};
use crate::text::Row;
use crate::words;
use crate::ROWS_PER_TASK;
use portplan_model::{PortRange, Protocol, Scope};
use rayon::prelude::*;
use std::sync::Arc;

/// What a table column holds, read from its header cell.
#[derive(Debug, Clone, PartialEq)]
enum Col {
    Port {
        interface: Option<String>,
    },
    /// One end of a range given in two columns (`Min port` | `Max port`).
    Bound {
        low: bool,
    },
    Listener,
    Talker,
    Direction,
    /// Whether the port is open by default (`On by default`, `Default
    /// status`): `No`/`Disabled` rows are features.
    Default,
    Service,
    Description,
    Other,
}

fn column(h: &str) -> Col {
    let l = h.to_ascii_lowercase();
    if l.contains("listen") || l.contains("destination") || l == "to" {
        Col::Listener
    } else if l.contains("talk")
        || l.contains("initiat")
        || l.contains("source")
        || l == "from"
        // Who uses a listener is who connects to it (`Used By`, `Clients`).
        || l.contains("used by")
        || l.contains("accessed by")
        || l.contains("consumer")
        || l.contains("caller")
        || (l.starts_with("client") && !l.contains("port"))
    {
        Col::Talker
    } else if l.contains("direction") {
        Col::Direction
    } else if l.contains("description")
        || l.contains("purpose")
        || l.contains("comment")
        || l.contains("notes")
    {
        Col::Description
    } else if !l.contains("port")
        && (l.contains("by default")
            || l.contains("default status")
            || l.contains("enabled")
            || l == "default")
    {
        Col::Default
    } else if let Some(low) = bound_word(&l).filter(|_| l.contains("port")) {
        Col::Bound { low }
    } else if l.contains("port") || l.contains("protocol") {
        let interface = l
            .find("ports on ")
            .or_else(|| l.find("port on "))
            .map(|i| {
                h[i..]
                    .split_once(" on ")
                    .map_or("", |x| x.1)
                    .trim()
                    .to_string()
            })
            .filter(|s| !s.is_empty());
        Col::Port { interface }
    } else if [
        "service",
        "feature",
        "application",
        "name",
        "process",
        "component",
        "function",
        "use",
    ]
    .iter()
    .any(|w| l.contains(w))
    {
        Col::Service
    } else {
        Col::Other
    }
}

/// Whether a header names the low (`min`, `start`, `first`) or the high
/// (`max`, `end`, `last`) end of a range.
pub(crate) fn bound_word(lower: &str) -> Option<bool> {
    const LOW: &[&str] = &[
        "min", "minimum", "start", "first", "low", "lowest", "begin", "from",
    ];
    const HIGH: &[&str] = &["max", "maximum", "end", "last", "high", "highest", "to"];
    let ws: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if ws.iter().any(|w| LOW.contains(w)) {
        Some(true)
    } else if ws.iter().any(|w| HIGH.contains(w)) {
        Some(false)
    } else {
        None
    }
}

/// A range split over a low and a high column becomes one port cell:
/// `Min port 30000 | Max port 39999` is `30000-39999`, not two ports. The
/// row, its cell texts and the header with the pair read as one port column.
fn join_bounds(
    row: &Row,
    cells: &[String],
    header: &[Col],
) -> Option<(Row, Vec<String>, Vec<Col>)> {
    let lo = header.iter().position(|c| *c == Col::Bound { low: true })?;
    let hi = header
        .iter()
        .position(|c| *c == Col::Bound { low: false })?;
    let num = |i: usize| cells.get(i).and_then(|c| c.trim().parse::<u32>().ok());
    let mut header = header.to_vec();
    header[lo] = Col::Port { interface: None };
    header[hi] = Col::Other;
    let (mut row, mut cells) = (row.clone(), cells.to_vec());
    if let (Some(a), Some(b)) = (num(lo), num(hi)) {
        if a < b && row.cells.len() > lo.max(hi) {
            let joined = format!("{a}-{b}");
            row.cells[lo] = vec![joined.clone()];
            row.cells[hi] = vec![String::new()];
            cells[lo] = joined;
            cells[hi] = String::new();
        } else if a == b && row.cells.len() > hi {
            row.cells[hi] = vec![String::new()];
            cells[hi] = String::new();
        }
    } else {
        // Not two numbers: both columns are read as ports.
        header[hi] = Col::Port { interface: None };
    }
    Some((row, cells, header))
}

/// A short cell that names a column (`Source`, `Port`, `Purpose`).
pub(crate) fn is_header_cell(c: &str) -> bool {
    c.split_whitespace().count() <= 4
        && !c.chars().any(|ch| ch.is_ascii_digit())
        && column(c) != Col::Other
}

/// A header cell of the port column.
pub(crate) fn is_port_column(c: &str) -> bool {
    matches!(column(c), Col::Port { .. } | Col::Bound { .. })
}

const HEADER_WORDS: &[&str] = &[
    "port",
    "ports",
    "protocol",
    "protocols",
    "service",
    "services",
    "description",
    "direction",
    "listening",
    "talking",
    "source",
    "destination",
    "from",
    "to",
    "feature",
    "application",
    "name",
    "url",
    "urls",
    "purpose",
    "notes",
    "used",
    "by",
    "required",
    "who",
    "is",
    "inbound",
    "outbound",
    "type",
    "number",
    "component",
    "process",
    "impact",
    "default",
    "status",
    "enabled",
    // Sizing tables' headers: a header, so that the table reads as one
    // with no port column.
    "size",
    "spec",
    "minimum",
    "recommended",
    "cpu",
    "vcpus",
    "ram",
    "memory",
    "disk",
    "nodes",
];

fn looks_header(cells: &[String]) -> bool {
    // Cheap tests first: this runs on every table row.
    if cells.iter().any(|c| c.split_whitespace().count() > 14) {
        return false;
    }
    let cue = cells
        .iter()
        .any(|c| crate::knowledge::any_word(c, HEADER_WORDS));
    cue && cells
        .iter()
        .all(|c| c.split_whitespace().count() <= 14 && !c.contains("://") && hosts(c).is_empty())
        && cells.iter().all(|c| grammar::parse(c).mentions.is_empty())
}

/// Everything the walk found.
#[derive(Default)]
pub struct Walk {
    /// In page order, in the parts the page was read in (joining them
    /// would copy every finding once more).
    pub findings: Vec<Vec<Finding>>,
    pub anomalies: Vec<Anomaly>,
    /// Numbered notes (`1. This is the default port`): their numbers.
    /// (line, number) of each, in page order.
    pub footnotes: Vec<(u32, u32)>,
}

/// What one part of the rows gave.
#[derive(Default)]
struct Part {
    findings: Vec<Finding>,
    anomalies: Vec<Anomaly>,
}

#[derive(Clone)]
struct State {
    heading: Option<String>,
    header: Option<Vec<Col>>,
    /// "All ports listed are TCP unless otherwise noted."
    page_protocol: Option<Protocol>,
    /// "The following table lists the TCP ports ..."
    table_protocol: Option<Protocol>,
    /// The role the current heading names (computed once per heading).
    heading_role: String,
    /// The other party a heading names as the listener of an outbound
    /// section: `Outbound (ports open on external systems)`.
    heading_peer: Option<String>,
    /// Direction of the list below a lead-in line (`Inbound (to the appliance):`)
    /// or of the section (a heading that says `Outbound`).
    list_dir: Dir,
    /// The list below says what is dropped or blocked (`The following
    /// traffic is dropped:`): its ports are not ports to open.
    list_blocked: bool,
}

/// What the second pass does with one row, in page order.
enum Job<'r> {
    /// A one-field-per-line record, read already (boxed: a finding is
    /// large, and most jobs are not one).
    Ready(Box<Finding>),
    Table {
        row: &'r Row,
        cells: Vec<String>,
    },
    Items {
        row: &'r Row,
    },
}

/// Two passes. The first walks the rows in order and keeps the context that
/// flows down a page (heading, table header, protocol sentences, list
/// direction); it is cheap. The second reads each row with the context the
/// first gave it: that is where the time goes, and rows do not depend on
/// each other there, so large pages are read on every core. The findings
/// come out in page order, the same as one pass would give.
pub fn walk(rows: &[Row]) -> Walk {
    let mut w = Walk::default();
    let mut consumed = crate::records::records(rows);
    let mut st = Arc::new(State {
        heading: None,
        header: None,
        page_protocol: None,
        table_protocol: None,
        heading_role: String::new(),
        heading_peer: None,
        list_dir: Dir::Unknown,
        list_blocked: false,
    });
    // The product's own part as the headings name it, for an outbound
    // section whose heading names only the other side.
    let mut own_role = String::new();
    // The previous non-blank row was a table row: a header only starts a table.
    let mut in_table = false;
    let mut jobs: Vec<(Job, Arc<State>)> = Vec::with_capacity(rows.len());
    // What each row says on its own is read on every core; only applying
    // it in page order is left to this loop.
    let facts: Vec<Option<Facts>> = (0..rows.len())
        .into_par_iter()
        .with_min_len(ROWS_PER_TASK)
        .map(|idx| {
            let skip = |i: usize| consumed.contains_key(&i);
            (!skip(idx)).then(|| facts(rows, idx, &skip)).flatten()
        })
        .collect();
    for ((idx, row), fx) in rows.iter().enumerate().zip(facts) {
        if row.separator || row.is_blank() {
            continue;
        }
        if let Some(rec) = consumed.remove(&idx) {
            if let Some(mut f) = rec {
                apply_heading(&mut f, &st);
                if f.raw.iter().all(|m| m.protocols.is_empty()) && f.row_protocols.is_empty() {
                    f.row_protocols.extend(st.page_protocol);
                }
                jobs.push((Job::Ready(f), st.clone()));
            }
            continue;
        }
        let Some(fx) = fx else { continue };
        if let Some(n) = fx.footnote {
            w.footnotes.push((row.line, n));
        }
        let table = fx.table;
        let starts_table = !in_table;
        in_table = table;
        if table && starts_table {
            if let Some(h) = fx.header {
                Arc::make_mut(&mut st).header = Some(h);
                continue;
            }
        }
        if table && fx.real_cells >= 1 {
            jobs.push((
                Job::Table {
                    row,
                    cells: fx.cells,
                },
                st.clone(),
            ));
            continue;
        }
        // A single-cell line: heading, context sentence, bullet or prose.
        let Some(line) = fx.line else { continue };
        if let Some(h) = line.heading {
            let HeadingFacts {
                text,
                role,
                dir,
                peer,
            } = h;
            let s = Arc::make_mut(&mut st);
            if peer.is_none() && !role.is_empty() {
                own_role = role.clone();
            }
            s.heading_role = if peer.is_some() {
                own_role.clone()
            } else {
                role
            };
            s.heading_peer = peer;
            s.list_dir = dir;
            s.list_blocked = false;
            s.heading = Some(text);
            s.header = None;
            s.table_protocol = None;
            continue;
        }
        for c in line.contexts {
            match c {
                Context::Page(p) => Arc::make_mut(&mut st).page_protocol = Some(p),
                Context::Table(p) => Arc::make_mut(&mut st).table_protocol = Some(p),
            }
        }
        if let Some(d) = line.lead_dir.filter(|d| *d != st.list_dir) {
            Arc::make_mut(&mut st).list_dir = d;
        }
        if let Some(b) = line.lead_blocks.filter(|b| *b != st.list_blocked) {
            Arc::make_mut(&mut st).list_blocked = b;
        }
        jobs.push((Job::Items { row }, st.clone()));
    }
    for part in read_rows(jobs) {
        w.findings.push(part.findings);
        w.anomalies.extend(part.anomalies);
    }
    w
}

/// A party cell that reads as a sentence, not a name: `The UMS Server
/// imports apps from the IGEL App Portal.` (a parenthesis is a detail of the
/// name: `IGEL download server (HTTP server at fwus.igel.com)` is a name).
pub(crate) fn reads_as_sentence(cell: &str) -> bool {
    let base = cell.split('(').next().unwrap_or(cell).trim();
    base.split_whitespace().count() > 6 || base.ends_with('.')
}

/// Listener, talker and description of a table row, with cells that slid
/// left put back. A row that leaves its listener cell out puts the talker
/// under "listener" and the description under "talker", and leaves the
/// description column empty: read that way, the sentence is the description,
/// the talker is the cell before it, and the listener is not given. Either
/// way a party cell that reads as a sentence is reported (the last value
/// says the cells were moved).
fn unshift(
    line: u32,
    listener: Option<String>,
    talker: Option<String>,
    description: Option<String>,
    w: &mut Part,
) -> (Option<String>, Option<String>, Option<String>, bool) {
    let sentence = |c: &Option<String>| c.as_deref().is_some_and(reads_as_sentence);
    let named = |c: &Option<String>| c.as_deref().is_some_and(|c| !c.trim().is_empty());
    if sentence(&talker) && description.is_none() && named(&listener) && !sentence(&listener) {
        let (l, t) = (
            listener.clone().unwrap_or_default(),
            talker.clone().unwrap_or_default(),
        );
        w.anomalies.push(Anomaly {
            line,
            kind: AnomalyKind::ShiftedColumns,
            text: format!("{l} | {t}"),
            message: format!(
                "the row has a cell too few: a sentence stands under the talker header and the \
                 description is empty; read as talker `{l}`, listener not given"
            ),
        });
        return (None, listener, talker, true);
    }
    for (cell, column) in [(&listener, "listener"), (&talker, "talker")] {
        if let Some(c) = cell.as_deref().filter(|c| reads_as_sentence(c)) {
            w.anomalies.push(Anomaly {
                line,
                kind: AnomalyKind::ShiftedColumns,
                text: c.to_string(),
                message: format!(
                    "`{c}` stands under the {column} header but does not read as a name: the columns may be shifted"
                ),
            });
        }
    }
    (listener, talker, description, false)
}

/// What one row says, read without its context.
struct Facts {
    /// Two cells or more.
    table: bool,
    /// The text of each cell of a table row.
    cells: Vec<String>,
    /// Cells with something in them (not empty, not `—`).
    real_cells: usize,
    /// The number of a footnote the row defines (`1. This is the default port`).
    footnote: Option<u32>,
    /// The row reads as a table header: its columns' meanings.
    header: Option<Vec<Col>>,
    /// Set when the row is not a table row with content.
    line: Option<LineFacts>,
}

/// What a line outside a table says about what follows it.
struct LineFacts {
    /// A heading: its text, the role it names and its direction.
    heading: Option<HeadingFacts>,
    /// Sentences setting the protocol of the page or of the next table.
    contexts: Vec<Context>,
    /// `Outbound (from the appliance):` sets the direction of the list below.
    lead_dir: Option<Dir>,
    /// A lead-in line: whether the list below is of dropped traffic.
    lead_blocks: Option<bool>,
}

/// What a heading says about the rows under it.
struct HeadingFacts {
    text: String,
    /// The part of the product the section is about.
    role: String,
    dir: Dir,
    /// The listening party of an outbound section, when the heading names
    /// it (`Outbound (ports open on external systems)`).
    peer: Option<String>,
}

/// Where a heading says the ports are open: the words after `open on`,
/// `listening on` … up to a closing parenthesis or a comma, without
/// articles. `Inbound (ports open on the appliance)` gives `appliance`.
pub(crate) fn listener_phrase(h: &str) -> Option<String> {
    const CUES: &[&str] = &[
        "open on ",
        "opened on ",
        "listening on ",
        "listens on ",
        "listen on ",
        "accepted on ",
        "accepted by ",
    ];
    let lower = h.to_ascii_lowercase();
    let (at, cue) = CUES
        .iter()
        .filter_map(|c| lower.find(c).map(|i| (i, *c)))
        .min_by_key(|(i, _)| *i)?;
    let rest = &h[at + cue.len()..];
    let rest = rest.split([')', ',', ';', ':']).next().unwrap_or("");
    let role = role_from_heading(rest);
    (!role.is_empty()).then_some(role)
}

/// The facts of row `idx`; None for a separator or a blank row. `skip`
/// tells the rows a one-field-per-line record took.
fn facts(rows: &[Row], idx: usize, skip: &dyn Fn(usize) -> bool) -> Option<Facts> {
    let row = &rows[idx];
    if row.separator || row.is_blank() {
        return None;
    }
    let table = row.cells.len() >= 2;
    // Cell texts are only needed of table rows (most lines are not).
    let cells: Vec<String> = if table {
        row.cells.iter().map(|c| c.join(" ")).collect()
    } else {
        Vec::new()
    };
    let real_cells = cells
        .iter()
        .filter(|c| !c.trim().is_empty() && c.trim() != "—")
        .count();
    let footnote = row
        .number
        .filter(|n| (1..=20).contains(n))
        .filter(|_| grammar::parse(&row.text_ref()).mentions.is_empty());
    // A header only starts a table: the row before (blank, separator and
    // record rows aside) is not a table row.
    let starts_table = || {
        rows[..idx]
            .iter()
            .enumerate()
            .rev()
            .find(|(i, r)| !(r.separator || r.is_blank() || skip(*i)))
            .is_none_or(|(_, r)| r.cells.len() < 2)
    };
    let header = (table && starts_table() && looks_header(&cells))
        .then(|| cells.iter().map(|c| column(c)).collect());
    let line = (!table || real_cells == 0).then(|| {
        let text = row.text();
        if is_heading(row, &text, rows.get(idx + 1)) {
            let dir = pick_dir(&[directions(&text)]);
            // "Inbound (ports open on the appliance)": the appliance is the
            // part the section is about; "Outbound (ports open on external
            // systems)": the product talks to the systems named.
            let (role, peer) = match (listener_phrase(&text), dir) {
                (Some(x), Dir::Out) => (String::new(), Some(x)),
                (Some(x), _) => (x, None),
                (None, _) => (role_from_heading(&text), None),
            };
            return LineFacts {
                heading: Some(HeadingFacts {
                    text,
                    role,
                    dir,
                    peer,
                }),
                contexts: Vec::new(),
                lead_dir: None,
                lead_blocks: None,
            };
        }
        let contexts = sentences(&text)
            .into_iter()
            .filter_map(context_sentence)
            .collect();
        let lead_in = !row.bullet && text.trim_end().ends_with(':');
        let lead_dir = lead_in
            .then(|| pick_dir(&[directions(&text)]))
            .filter(|d| *d != Dir::Unknown);
        LineFacts {
            heading: None,
            contexts,
            lead_dir,
            lead_blocks: lead_in.then(|| says_blocked(&text)),
        }
    });
    Some(Facts {
        table,
        cells,
        real_cells,
        footnote,
        header,
        line,
    })
}

/// The second pass: each row read with its context, on every core; the
/// parts come back in page order.
fn read_rows(jobs: Vec<(Job, Arc<State>)>) -> Vec<Part> {
    if jobs.len() <= ROWS_PER_TASK {
        return vec![read_part(jobs)];
    }
    jobs.into_par_iter()
        .chunks(ROWS_PER_TASK)
        .map(read_part)
        .collect()
}

fn read_part(jobs: Vec<(Job, Arc<State>)>) -> Part {
    let mut w = Part::default();
    for (job, st) in jobs {
        match job {
            Job::Ready(f) => w.findings.push(*f),
            Job::Table { row, cells } => table_row(row, &cells, &st, &mut w),
            Job::Items { row } => line_items(row, &st, &mut w),
        }
    }
    w
}

fn is_heading(row: &Row, text: &str, next: Option<&Row>) -> bool {
    if row.heading {
        return true;
    }
    if row.bullet {
        return false;
    }
    let t = text.trim();
    let n = t.split_whitespace().count();
    let first_upper = t.chars().next().is_some_and(|c| c.is_uppercase());
    let ends = t.ends_with(['.', ':', ',', ';', '?', '!']);
    // Cheap tests first: this runs on every line outside a table.
    if n == 0 || n > 8 || !first_upper || ends || next.is_none() || t.contains("://") {
        return false;
    }
    let only_header_words = words(t).iter().all(|x| HEADER_WORDS.contains(&x.as_str()));
    let lower = t.to_ascii_lowercase();
    let boilerplate = [
        "note",
        "tip",
        "important",
        "caution",
        "warning",
        "last updated",
        "skip to",
        "table ",
        "figure ",
    ]
    .iter()
    .any(|b| lower.starts_with(b));
    if only_header_words || boilerplate {
        return false;
    }
    let parsed = grammar::parse(t);
    parsed.mentions.is_empty() && parsed.bare_protocols.is_empty()
}

/// What a sentence says about the protocol of what follows.
enum Context {
    /// "All ports listed are TCP unless otherwise noted."
    Page(Protocol),
    /// "The following table lists the TCP ports ..."
    Table(Protocol),
}

/// Sentences that set the protocol of what follows.
fn context_sentence(text: &str) -> Option<Context> {
    if !crate::knowledge::any_word(text, &["tcp", "udp"]) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let p = grammar::parse(text);
    if !p.mentions.is_empty() {
        return None;
    }
    let proto = match p.bare_protocols.as_slice() {
        [one] if one.has_ports() => *one,
        // "lists the TCP ports ... In addition, ... ICMP and UDP port 51824":
        // the first protocol before the word "ports" governs the table.
        _ => return None,
    };
    if lower.contains("unless") || lower.contains("all ports") {
        Some(Context::Page(proto))
    } else if lower.contains("table") || lower.contains("following") || lower.contains("below") {
        Some(Context::Table(proto))
    } else {
        None
    }
}

fn apply_heading(f: &mut Finding, st: &State) {
    if let Some(h) = &st.heading {
        f.heading = Some(h.clone());
        if !st.heading_role.is_empty() {
            f.this_role = st.heading_role.clone();
        }
        if f.peer.is_none() {
            f.peer.clone_from(&st.heading_peer);
        }
    }
}

/// A heading's words minus generic ones: `Cisco ISE Monitoring Node Ports`
/// becomes `cisco-ise-monitoring-node`; `Port Requirements` becomes nothing.
pub fn role_from_heading(h: &str) -> String {
    const GENERIC: &[&str] = &[
        "port",
        "ports",
        "requirements",
        "requirement",
        "reference",
        "guide",
        "communication",
        "communications",
        "used",
        "by",
        "the",
        "table",
        "availability",
        "list",
        "of",
        "and",
        "for",
        "firewall",
        "network",
        "overview",
        "all",
        "other",
        "required",
        "service",
        // Direction and socket words say how, not who.
        "inbound",
        "outbound",
        "ingress",
        "egress",
        "incoming",
        "outgoing",
        "open",
        "opened",
        "on",
        "to",
        "from",
        "listeners",
        "listener",
        "listening",
        "sockets",
        "tcp",
        "udp",
        "a",
        "an",
        "your",
    ];
    let kept: Vec<String> = words(h)
        .into_iter()
        .filter(|w| !GENERIC.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
        .take(5)
        .collect();
    kept.join("-")
}

/// A line that is only a port: `443`, `53 (UDP)`, `Custom`, `8000-8999`.
pub(crate) fn bare_port(t: &str) -> bool {
    if [
        "custom",
        "auto",
        "dynamic",
        "configurable",
        "any",
        "ephemeral",
    ]
    .iter()
    .any(|w| t.eq_ignore_ascii_case(w))
    {
        return true;
    }
    t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.split_whitespace().count() <= 3
        && grammar::parse(t).mentions.len() == 1
}

/// The mentions of an item become the finding's ports and protocols.
pub(crate) fn fill_ports(f: &mut Finding, parsed: &Parsed) {
    for m in &parsed.mentions {
        if m.is_default {
            continue;
        }
        f.alternatives |= m.alternatives;
        // A socket bound to the loopback address is reached only from its
        // own host, whatever the rest of the row says.
        if m.bind == Some(grammar::Bind::Loopback) {
            f.scope = Scope::Loopback;
        }
        if let Some(h) = &m.host {
            if !f.hosts.contains(h) {
                f.hosts.push(h.clone());
            }
        }
    }
    f.raw = parsed.mentions.clone();
    f.row_protocols = parsed.bare_protocols.clone();
    f.typos = parsed
        .mentions
        .iter()
        .flat_map(|m| m.typos.clone())
        .chain(parsed.bare_typos.clone())
        .collect();
}

/// Required/optional words, "only required if …", "if X is used",
/// loopback/localhost, broadcast.
pub(crate) fn conditions(f: &mut Finding, text: &str) {
    if !crate::knowledge::any_word(
        text,
        &[
            "optional",
            "optionally",
            "required",
            "if",
            "when",
            "loopback",
            "localhost",
            "broadcast",
            "disabled",
            "default",
            "only",
        ],
    ) {
        return;
    }
    let lower = text.to_ascii_lowercase();
    // `This service is disabled by default`: a feature someone turns on.
    if [
        "disabled by default",
        "not enabled by default",
        "off by default",
    ]
    .iter()
    .any(|c| lower.contains(c))
    {
        f.required = Some(false);
        if f.condition.is_none() {
            f.condition = Some(if f.service.is_empty() {
                "when enabled (off by default)".into()
            } else {
                format!("{} is enabled", f.service)
            });
        }
    }
    if has_word(&lower, "optional") || has_word(&lower, "optionally") {
        f.required = Some(false);
    } else if f.required.is_none() && has_word(&lower, "required") && !lower.contains("required if")
    {
        f.required = Some(true);
    }
    let cues = ["only required if ", "required only if ", "only if "]
        .into_iter()
        .chain(ONLY_FOR.iter().copied())
        .chain(["if ", "when "]);
    for cue in cues {
        if let Some(i) = find_word(&lower, cue) {
            let rest = &text[i..];
            let end = rest.find(['.', ';', ')', '|', ',']).unwrap_or(rest.len());
            let clause = rest[..end].trim().to_string();
            if clause.split_whitespace().count() >= 2 && names_part_of_ports(f, text) {
                // `8080-8081 ... (8081 only when clustering is enabled)`: the
                // draft cannot make one port of a statement conditional, and
                // must not make them all so (a port closed is an outage).
                f.notes.push(format!(
                    "REVIEW: the page makes only some of these ports conditional ({}); all are kept required",
                    text.trim()
                ));
                break;
            }
            if clause.split_whitespace().count() >= 2 {
                if cue.contains("only") {
                    f.required = Some(false);
                }
                f.condition = Some(clause);
            }
            break;
        }
    }
    if has_word(&lower, "loopback") || has_word(&lower, "localhost") {
        f.scope = Scope::Loopback;
    } else if has_word(&lower, "broadcast") {
        f.scope = Scope::Broadcast;
    }
}

/// Whether `text` names some of `f`'s ports by number, but not all of them.
fn names_part_of_ports(f: &Finding, text: &str) -> bool {
    // Read ports (`ports`) and those still as printed (`raw`).
    let held: Vec<(u64, u64)> = f
        .ports
        .iter()
        .filter_map(|p| match p {
            PortItem::Fixed(r) => Some((u64::from(r.low), u64::from(r.high))),
            PortItem::Param { .. } => None,
        })
        .chain(
            f.raw
                .iter()
                .flat_map(|m| m.ports.iter().map(|n| (n.low, n.high))),
        )
        .filter(|(low, high)| low <= high)
        .collect();
    let mut named: Vec<u64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u64>().ok())
        .filter(|n| held.iter().any(|(low, high)| (low..=high).contains(&n)))
        .collect();
    named.sort_unstable();
    named.dedup();
    let held_count: u64 = held.iter().fold(0u64, |n, (low, high)| {
        n.saturating_add((high - low).saturating_add(1))
    });
    !named.is_empty() && (named.len() as u64) < held_count
}

fn find_word(lower: &str, cue: &str) -> Option<usize> {
    lower
        .match_indices(cue)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || !lower.as_bytes()[i - 1].is_ascii_alphanumeric())
}

/// Host names, wildcards, URLs' hosts and IPv4 addresses in a text.
pub fn hosts(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // A host has a dot between two name characters; most lines have none.
    let b = text.as_bytes();
    if !(1..b.len().saturating_sub(1)).any(|i| {
        b[i] == b'.'
            && b[i + 1].is_ascii_alphanumeric()
            && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'*')
    }) {
        return out;
    }
    for raw in text.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '"' | '<' | '>' | '|' | '[' | ']')
    }) {
        let mut t = raw;
        if let Some(i) = t.find("://") {
            t = &t[i + 3..];
        }
        let t = t.split(['/', '?', '#']).next().unwrap_or("");
        let t = t
            .rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map_or(t, |x| x.0);
        let t = t.trim_end_matches(['.', ':']);
        if is_host(t) && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

fn is_host(t: &str) -> bool {
    let labels: Vec<&str> = t.split('.').collect();
    if labels.len() < 2 || t.len() > 253 {
        return false;
    }
    if labels.len() == 4
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 3 && l.chars().all(|c| c.is_ascii_digit()))
    {
        // 0.0.0.0 and 127.x are where a socket is bound, not a party.
        return labels[0] != "127"
            && t != "0.0.0.0"
            && labels
                .iter()
                .all(|l| l.parse::<u16>().is_ok_and(|n| n <= 255));
    }
    let tld = labels.last().copied().unwrap_or("");
    const FILES: &[&str] = &[
        "exe", "dll", "txt", "yaml", "yml", "json", "xml", "html", "htm", "pdf", "log", "conf",
        "cfg", "ini", "sh", "ps1", "msi", "zip", "jar", "png", "jpg",
    ];
    let first_ok = |i: usize, l: &str| {
        (i == 0 && l == "*")
            || (!l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    (2..=12).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_lowercase())
        && !FILES.contains(&tld)
        && labels.iter().enumerate().all(|(i, l)| first_ok(i, l))
        && labels
            .iter()
            .skip(1)
            .any(|l| l.chars().any(|c| c.is_ascii_alphabetic()))
}

/// A table row: its label, its columns' meanings, its items.
fn table_row(row: &Row, cells: &[String], st: &State, w: &mut Part) {
    let header = st.header.clone().unwrap_or_default();
    if let Some((row, cells, header)) = join_bounds(row, cells, &header) {
        let mut st = st.clone();
        st.header = Some(header);
        return table_row(&row, &cells, &st, w);
    }
    let col = |i: usize| header.get(i).cloned().unwrap_or(Col::Other);
    // A table whose header names no port or protocol column (hardware
    // sizes, node counts): its numbers are quantities unless a cell says
    // port by itself (`443/tcp`, `port 8080`).
    let no_port_column = !header.is_empty()
        && !header
            .iter()
            .any(|c| matches!(c, Col::Port { .. } | Col::Bound { .. }));
    // A row of numbers only (a port list laid out as a table).
    let numeric = !no_port_column
        && cells.iter().all(|c| {
            let c = c.trim();
            c.is_empty()
                || c.chars()
                    .all(|ch| ch.is_ascii_digit() || matches!(ch, '-' | ',' | ' '))
        });
    if numeric {
        let mut f = Finding::new(row.line, &cells.join(" "));
        f.service = st.heading.clone().unwrap_or_else(|| "ports".into());
        apply_heading(&mut f, st);
        let mut raw = Vec::new();
        for c in cells.iter().filter(|c| !c.trim().is_empty()) {
            let p = grammar::parse(&format!("port {c}"));
            raw.extend(p.mentions);
        }
        f.raw = raw;
        f.row_protocols
            .extend(st.table_protocol.or(st.page_protocol));
        if !f.raw.is_empty() {
            w.findings.push(f);
        }
        return;
    }
    // The row's name: its service column; else a short purpose (`Purpose:
    // Kubelet API`), which names the service better than a port or
    // protocol cell does.
    let label_idx = (0..cells.len())
        .find(|&i| matches!(col(i), Col::Service))
        .or_else(|| {
            (0..cells.len()).find(|&i| {
                col(i) == Col::Description
                    && !cells[i].trim().is_empty()
                    && !reads_as_sentence(&cells[i])
            })
        })
        .unwrap_or(0);
    let label = cells.get(label_idx).cloned().unwrap_or_default();
    let row_text = cells.join(" | ");
    let listener = (0..cells.len())
        .find(|&i| col(i) == Col::Listener)
        .map(|i| cells[i].clone());
    let talker = (0..cells.len())
        .find(|&i| col(i) == Col::Talker)
        .map(|i| cells[i].clone());
    let description = (0..cells.len())
        .find(|&i| col(i) == Col::Description)
        .map(|i| cells[i].clone())
        .filter(|d| !d.trim().is_empty());
    let (listener, talker, description, shifted) =
        unshift(row.line, listener, talker, description, w);
    // `Self`, `localhost` among who uses a port: the node itself (loopback).
    let (talker, by_itself) = match talker.as_deref().map(split_self) {
        Some((rest, true)) => (rest, true),
        _ => (talker, false),
    };
    let cell_of = |want: &Col| (0..cells.len()).find(|&i| col(i) == *want);
    let column_dirs = cell_of(&Col::Direction)
        .map(|i| directions(&cells[i]))
        .unwrap_or((false, false));
    let off_by_default = cell_of(&Col::Default).is_some_and(|i| says_off(&cells[i]));
    // Every item is read once; the row's view is the union of its items'.
    let cell_parses: Vec<Vec<Parsed>> = row
        .cells
        .iter()
        .map(|c| c.iter().map(|t| grammar::parse(t)).collect())
        .collect();
    let mut row_parsed = Parsed::default();
    for p in cell_parses.iter().flatten() {
        row_parsed.mentions.extend(p.mentions.iter().cloned());
        for b in &p.bare_protocols {
            if !row_parsed.bare_protocols.contains(b) {
                row_parsed.bare_protocols.push(*b);
            }
        }
        if row_parsed.unnumbered.is_none() {
            row_parsed.unnumbered.clone_from(&p.unnumbered);
        }
    }
    // When every port the row prints carries the same protocols, a port the
    // row's prose repeats bare (`listen on port 6155`) has them too.
    let stated_sets: Vec<&Vec<Protocol>> = row_parsed
        .mentions
        .iter()
        .map(|m| &m.protocols)
        .filter(|p| !p.is_empty())
        .collect();
    let row_stated: Vec<Protocol> = match stated_sets.first() {
        Some(first) if stated_sets.iter().all(|s| s == first) => (*first).clone(),
        _ => vec![],
    };
    // Row-wide context, read once per row so long rows stay linear.
    let row_hosts = hosts(&row_text);
    let label_dirs = directions(&label);
    let heading_dirs = directions(st.heading.as_deref().unwrap_or(""));
    let mut row_cond = Finding::new(row.line, "");
    conditions(&mut row_cond, &row_text);
    let before = w.findings.len();
    for (ci, cell) in row.cells.iter().enumerate() {
        let interface = match col(ci) {
            Col::Port { interface } => interface,
            _ => None,
        };
        let port_col = matches!(col(ci), Col::Port { .. });
        let items: Vec<&String> = cell.iter().collect();
        let parsed: &Vec<Parsed> = &cell_parses[ci];
        for (it, p) in items.iter().zip(parsed) {
            if p.mentions.is_empty()
                && !(port_col && p.unnumbered.is_some())
                && !p.bare_protocols.iter().any(|b| !b.has_ports())
            {
                continue;
            }
            if no_port_column
                && row_parsed.bare_protocols.is_empty()
                && p.mentions
                    .iter()
                    .all(|m| m.protocols.is_empty() && m.host.is_none() && !m.is_default)
                && !grammar::says_port(it)
            {
                continue;
            }
            let mut f = Finding::new(row.cell_line(ci), it);
            if shifted {
                f.notes.push(
                    "REVIEW: the row leaves a cell out; the listening party is not given".into(),
                );
            }
            apply_heading(&mut f, st);
            f.interface = interface.clone();
            let own_label = item_label(it);
            f.service = own_label.unwrap_or_else(|| clean_label(&label));
            f.description = description.clone();
            fill_ports(&mut f, p);
            if f.raw.is_empty() && p.unnumbered.is_some() {
                f.ports.push(PortItem::Param {
                    named: p.unnumbered.clone().unwrap_or_default(),
                    default: None,
                    allowed: None,
                });
            }
            for x in &row_parsed.bare_protocols {
                if !f.row_protocols.contains(x) {
                    f.row_protocols.push(*x);
                }
            }
            if f.row_protocols.is_empty() {
                f.row_protocols.extend(row_stated.iter().copied());
            }
            if f.row_protocols.is_empty() {
                f.row_protocols
                    .extend(st.table_protocol.or(st.page_protocol));
            }
            f.listener = listener.clone();
            if shifted && f.listener.is_none() {
                // The listener's cell is the one left out: unknown, not the
                // section's part (an empty name drafts the generic peer).
                f.listener = Some(String::new());
            }
            f.talker = talker.clone();
            f.dir = pick_dir(&[column_dirs, directions(it), label_dirs, heading_dirs]);
            for h in &row_hosts {
                if !f.hosts.contains(h) {
                    f.hosts.push(h.clone());
                }
            }
            f.required = row_cond.required;
            f.condition = row_cond.condition.clone();
            // A listener bound to loopback (`localhost:9879`) stays loopback.
            if f.scope == Scope::Network {
                f.scope = row_cond.scope;
            }
            if by_itself {
                if f.talker.is_none() {
                    f.scope = Scope::Loopback;
                } else {
                    f.notes.push(
                        "REVIEW: the node itself uses this port too (a loopback flow besides this one)"
                            .into(),
                    );
                }
            }
            if off_by_default {
                f.required = Some(false);
                if f.condition.is_none() {
                    f.condition = Some(format!("{} is enabled", clean_label(&label)));
                }
            }
            w.findings.push(f);
        }
        no_port_items(row.line, &items, parsed, w);
    }
    // Ports named without a number in the port column (`Auto (high port)`).
    if w.findings.len() == before {
        let lead = cells.first().cloned().unwrap_or_default();
        let lp = grammar::parse(&lead);
        if let Some(named) = lp
            .unnumbered
            .clone()
            .or_else(|| row_parsed.unnumbered.clone())
            .filter(|_| !header.is_empty())
        {
            let mut f = Finding::new(row.line, &lead);
            apply_heading(&mut f, st);
            f.service = clean_label(cells.get(1).unwrap_or(&label));
            f.description = description.clone();
            f.ports.push(PortItem::Param {
                named,
                default: None,
                allowed: None,
            });
            f.row_protocols = lp.bare_protocols.clone();
            f.listener = listener.clone();
            f.talker = talker.clone();
            conditions(&mut f, &row_text);
            w.findings.push(f);
        } else if !row_parsed.bare_protocols.is_empty() || has_url(&row_text) {
            // A protocol or URL with no port: a requirement to review.
            url_or_param_row(row.line, &label, &row_text, &row_parsed, st, w);
        }
    }
}

/// A sentence saying traffic is dropped, blocked or denied (and not that
/// it must not be): `UDP traffic to ports 135 and 445 is dropped`.
fn says_blocked(text: &str) -> bool {
    // Verb forms only: `block` and `drop` are also nouns (`a port block`).
    const BLOCKS: &[&str] = &[
        "dropped",
        "drops",
        "blocked",
        "denied",
        "rejected",
        "discarded",
    ];
    const BUT: &[&str] = &[
        "not", "never", "unblock", "allow", "allowed", "allows", "open", "opened", "unless",
        "except", "ensure", "make", "avoid", "prevent",
    ];
    crate::knowledge::any_word(text, BLOCKS)
        && !crate::knowledge::any_word(text, BUT)
        && !text.contains("n't")
}

/// Splits the self-references (`Self`, `localhost`, `itself`) out of a
/// party list: `Self, Control plane` gives (`Control plane`, true).
fn split_self(cell: &str) -> (Option<String>, bool) {
    const SELF: &[&str] = &[
        "self",
        "itself",
        "localhost",
        "local host",
        "the node itself",
    ];
    let mut rest = Vec::new();
    let mut found = false;
    for part in cell
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let l = part.to_ascii_lowercase();
        let l = l.strip_prefix("and ").unwrap_or(&l);
        if SELF.contains(&l) {
            found = true;
        } else {
            rest.push(part);
        }
    }
    let rest = (!rest.is_empty()).then(|| rest.join(", "));
    (rest, found)
}

/// A `Default`/`On by default` cell saying the port is not open unless
/// someone turns it on: `No`, `No*`, `Disabled`, `Off`, `Optional`.
fn says_off(cell: &str) -> bool {
    let l = cell
        .trim()
        .trim_end_matches(['*', '.', ')'])
        .to_ascii_lowercase();
    let first = l
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    matches!(
        first,
        "no" | "disabled" | "off" | "false" | "optional" | "opt"
    )
}

fn has_url(t: &str) -> bool {
    t.contains("https://") || t.contains("http://") || !hosts(t).is_empty()
}

fn url_or_param_row(line: u32, label: &str, text: &str, parsed: &Parsed, st: &State, w: &mut Part) {
    let mut f = Finding::new(line, text);
    apply_heading(&mut f, st);
    f.service = clean_label(label);
    f.hosts = hosts(text);
    f.row_protocols = parsed.bare_protocols.clone();
    let (i, o) = directions(text);
    f.dir = pick_dir(&[(i, o)]);
    if text.contains("https://") || text.contains("http://") {
        let port = if text.contains("https://") { 443 } else { 80 };
        f.ports.push(PortItem::Fixed(PortRange::single(port)));
        f.row_protocols = vec![Protocol::Tcp];
        f.notes
            .push(format!("REVIEW: port {port} implied by the URL scheme"));
        f.dir = Dir::Out;
    } else if !f.hosts.is_empty() || !parsed.bare_protocols.is_empty() {
        f.ports.push(PortItem::Param {
            named: parsed
                .unnumbered
                .clone()
                .unwrap_or_else(|| format!("{} port", clean_label(label))),
            default: None,
            allowed: None,
        });
        f.notes.push("REVIEW: the page gives no port number".into());
    } else {
        return;
    }
    conditions(&mut f, text);
    w.findings.push(f);
}

pub(crate) fn pick_dir(levels: &[(bool, bool)]) -> Dir {
    for (i, o) in levels {
        match (i, o) {
            (true, false) => return Dir::In,
            (false, true) => return Dir::Out,
            _ => {}
        }
    }
    Dir::Unknown
}

/// Items among ported siblings that name no port (`CoA •`).
fn no_port_items(line: u32, items: &[&String], parsed: &[Parsed], w: &mut Part) {
    let ported = parsed.iter().filter(|p| !p.mentions.is_empty()).count();
    if ported < 2 || ported * 2 < items.len() {
        return;
    }
    for (it, p) in items.iter().zip(parsed) {
        let t = it.trim();
        let lower = t.to_ascii_lowercase();
        if p.mentions.is_empty()
            && p.bare_protocols.is_empty()
            && p.unnumbered.is_none()
            && !t.ends_with(':')
            && !lower.starts_with("note")
            && !lower.starts_with("see ")
            && t.split_whitespace().count() <= 4
            && !t.chars().any(|c| c.is_ascii_digit())
        {
            w.anomalies.push(Anomaly {
                line,
                kind: AnomalyKind::NoPort,
                text: t.to_string(),
                message: format!(
                    "list item `{t}` names no port or protocol while its neighbours do"
                ),
            });
        }
    }
}

/// `LDAP: TCP/389` → `LDAP`; `DNS – TCP/UDP on port 53` → `DNS`.
fn item_label(item: &str) -> Option<String> {
    let cut = [": ", " – ", "– ", " - ", " — "]
        .iter()
        .filter_map(|s| item.find(s))
        .min()?;
    let l = item[..cut].trim();
    let ok = !l.is_empty() && l.split_whitespace().count() <= 12 && {
        let p = grammar::parse(l);
        p.mentions.is_empty() && p.bare_protocols.is_empty()
    };
    ok.then(|| l.to_string())
}

fn clean_label(l: &str) -> String {
    let l = l.split(" - ").next().unwrap_or(l).trim();
    // `Required only for Flannel VXLAN`: the condition names the service.
    let l = ONLY_FOR
        .iter()
        .find_map(|cue| {
            l.get(..cue.len())
                .filter(|h| h.eq_ignore_ascii_case(cue))
                .map(|_| l[cue.len()..].trim())
        })
        .filter(|rest| !rest.is_empty())
        .unwrap_or(l);
    l.chars().take(80).collect::<String>().trim().to_string()
}

/// Lead words of a condition that names what a port is for.
const ONLY_FOR: &[&str] = &[
    "required only for ",
    "only required for ",
    "needed only for ",
    "only needed for ",
    "used only for ",
    "only used for ",
    "only for ",
];

/// A line outside a table: bullet items or prose sentences.
fn line_items(row: &Row, st: &State, w: &mut Part) {
    let items: Vec<&String> = row.cells.iter().flatten().collect();
    let listy = row.bullet || items.len() > 1;
    let mut parsed: Vec<Parsed> = Vec::new();
    for it in &items {
        // Prose: one sentence at a time so a sentence's cues stay with its ports.
        let sents = sentences(it);
        let whole = (sents.len() == 1 || listy).then(|| grammar::parse(it));
        for sentence in sents {
            let sp = match &whole {
                Some(p) if sentence.len() == it.trim().len() => p.clone(),
                _ => grammar::parse(sentence),
            };
            let real = !sp.mentions.is_empty();
            let (d_in, d_out) = directions(sentence);
            let unnumbered_row = sp.mentions.is_empty()
                && sp.bare_protocols.iter().any(|p| p.has_ports())
                && (sp.unnumbered.is_some() || d_in || d_out);
            let portless_only =
                sp.mentions.is_empty() && sp.bare_protocols.iter().any(|b| !b.has_ports());
            if !real && !unnumbered_row && !portless_only {
                if let Some(other) = crate::knowledge::other_ip_protocol(sentence) {
                    w.anomalies.push(Anomaly {
                        line: row.line,
                        kind: AnomalyKind::Unparsed,
                        text: sentence.to_string(),
                        message: format!(
                            "names {other}, which a catalog entry cannot hold (TCP, UDP, ICMP and ESP only): add it by hand"
                        ),
                    });
                    continue;
                }
                if sp.stray_port_words {
                    w.anomalies.push(Anomaly {
                        line: row.line,
                        kind: AnomalyKind::Unparsed,
                        text: sentence.to_string(),
                        message:
                            "mentions ports with numbers that could not be read as a port list"
                                .into(),
                    });
                }
                continue;
            }
            if (row.bullet && st.list_blocked) || says_blocked(sentence) {
                w.anomalies.push(Anomaly {
                    line: row.line,
                    kind: AnomalyKind::Blocked,
                    text: sentence.to_string(),
                    message: "the page says this traffic is dropped or blocked: not drafted as a \
                              port to open"
                        .into(),
                });
                continue;
            }
            let (i_in, i_out) = (d_in, d_out);
            // No direction word: the list's, else the verb's, seen from the
            // section's product (`The web server sends traps to your NMS`).
            let by_verb = (!i_in && !i_out && st.list_dir == Dir::Unknown)
                .then(|| {
                    let this = st.heading.as_deref().unwrap_or_default();
                    crate::knowledge::verb_direction(sentence, this)
                })
                .flatten();
            let dirs: Vec<Dir> = match (i_in, i_out) {
                (true, true) => vec![Dir::Out, Dir::In],
                (true, false) => vec![Dir::In],
                (false, true) => vec![Dir::Out],
                _ => vec![by_verb.map_or(st.list_dir, |(d, _)| d)],
            };
            for d in dirs {
                let mut f = Finding::new(row.line, sentence);
                apply_heading(&mut f, st);
                fill_ports(&mut f, &sp);
                if unnumbered_row {
                    let named = sp.unnumbered.clone().unwrap_or_else(|| "port".into());
                    f.ports.push(PortItem::Param {
                        named,
                        default: None,
                        allowed: None,
                    });
                    f.notes.push("REVIEW: the page gives no port number".into());
                }
                if sp.mentions.iter().any(|m| !m.is_default)
                    && sp
                        .unnumbered
                        .as_deref()
                        .is_some_and(|u| u.contains("port") && !u.contains('_'))
                {
                    f.ports.push(PortItem::Param {
                        named: sp.unnumbered.clone().unwrap_or_default(),
                        default: None,
                        allowed: None,
                    });
                }
                f.dir = d;
                if let Some((_, verb)) = by_verb {
                    f.notes.push(format!(
                        "REVIEW: direction read from the verb `{verb}` and who does it"
                    ));
                }
                let (service, description) = split_service(sentence);
                f.service = item_label(sentence)
                    .or_else(|| after_port_label(sentence))
                    .or_else(|| lead_name(sentence))
                    .unwrap_or(service);
                f.description = description;
                if f.row_protocols.is_empty() {
                    f.row_protocols.extend(st.page_protocol);
                }
                f.hosts = hosts(sentence).into_iter().chain(f.hosts.clone()).fold(
                    Vec::new(),
                    |mut v, h| {
                        if !v.contains(&h) {
                            v.push(h);
                        }
                        v
                    },
                );
                conditions(&mut f, sentence);
                w.findings.push(f);
            }
        }
        if listy {
            parsed.push(whole.unwrap_or_else(|| grammar::parse(it)));
        }
    }
    if listy {
        no_port_items(row.line, &items, &parsed, w);
    }
}

/// `22/tcp: SSH for administrators` → `SSH for administrators`: when the
/// text before the separator is the port, the name follows it.
fn after_port_label(item: &str) -> Option<String> {
    let (cut, sep) = [": ", " — ", " – ", " - "]
        .iter()
        .filter_map(|s| item.find(s).map(|i| (i, s.len())))
        .min()?;
    if grammar::parse(&item[..cut]).mentions.is_empty() {
        return None;
    }
    let rest = item[cut + sep..].trim();
    let name = rest.split([',', ';', '(']).next().unwrap_or(rest).trim();
    (!name.is_empty() && name.split_whitespace().count() <= 8).then(|| name.to_string())
}

/// The words before a row's first protocol word: `BMC Remedy TCP/UDP, …` → `BMC Remedy`.
fn lead_name(s: &str) -> Option<String> {
    let mut out = Vec::new();
    for w in s.split_whitespace() {
        let core = w
            .split('/')
            .next()
            .unwrap_or(w)
            .trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if crate::knowledge::protocol_word(core).is_some_and(|p| !p.1) {
            break;
        }
        if w.chars().next().is_some_and(|c| c.is_ascii_digit()) || out.len() >= 8 {
            return None;
        }
        out.push(w);
    }
    (!out.is_empty() && out.len() < s.split_whitespace().count()).then(|| out.join(" "))
}

/// Splits prose at sentence ends (`. ` before a capital), keeping list rows whole.
fn sentences(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut start = 0;
    for i in 0..b.len() {
        if b[i] == b'.' && i + 2 < b.len() && b[i + 1] == b' ' && b[i + 2].is_ascii_uppercase() {
            out.push(s[start..=i].trim());
            start = i + 2;
        }
    }
    out.push(s[start..].trim());
    out.into_iter().filter(|x| !x.is_empty()).collect()
}

/// `22 TCP, outbound, SSH Used to manage …` → (`SSH`, `Used to manage …`).
fn split_service(s: &str) -> (String, Option<String>) {
    // Drop the leading port/protocol/direction fields.
    let fields: Vec<&str> = s.split(", ").collect();
    let rest_start = fields
        .iter()
        .position(|f| {
            let (i, o) = directions(f);
            let direction_field = (i || o) && f.split_whitespace().count() <= 4;
            // Only a field with a digit or a protocol word can hold a port.
            let may_hold_port = f.bytes().any(|b| b.is_ascii_digit())
                || crate::knowledge::any_word(f, &["tcp", "udp", "icmp"]);
            let ported = may_hold_port && {
                let p = grammar::parse(f);
                !p.mentions.is_empty() || !p.bare_protocols.is_empty()
            };
            !ported && !direction_field
        })
        .unwrap_or(0);
    let rest = fields[rest_start..].join(", ");
    let ws: Vec<&str> = rest.split_whitespace().collect();
    let mut n = ws.len();
    for k in 1..ws.len() {
        let cap = ws[k].chars().next().is_some_and(char::is_uppercase);
        let next_lower = ws
            .get(k + 1)
            .is_some_and(|x| x.chars().next().is_some_and(char::is_lowercase));
        if cap && next_lower {
            n = k;
            break;
        }
    }
    let service: String = ws[..n].join(" ");
    let desc = (n < ws.len()).then(|| ws[n..].join(" "));
    if service.split_whitespace().count() > 8 || service.is_empty() {
        let short: String = ws.iter().take(6).copied().collect::<Vec<_>>().join(" ");
        return (short, Some(rest));
    }
    (service, desc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_found_and_files_not() {
        assert_eq!(
            hosts("see https://a.example.com/x and *.b.example.com:443"),
            vec!["a.example.com", "*.b.example.com"]
        );
        assert_eq!(hosts("1.1.1.1"), vec!["1.1.1.1"]);
        assert!(hosts("DLLHOST.EXE in Release 2.1").is_empty());
    }

    #[test]
    fn service_split() {
        assert_eq!(
            split_service("22 TCP, outbound, SSH Used to manage SSH-based devices.").0,
            "SSH"
        );
        assert_eq!(
            split_service(
                "3389 TCP, outbound and inbound, Remote Desktop Protocol (RDP) Used for x"
            )
            .0,
            "Remote Desktop Protocol (RDP)"
        );
    }

    #[test]
    fn heading_roles_drop_generic_words() {
        assert_eq!(
            role_from_heading("Monitoring Node Ports"),
            "monitoring-node"
        );
        assert_eq!(role_from_heading("Port Requirements"), "");
    }
}

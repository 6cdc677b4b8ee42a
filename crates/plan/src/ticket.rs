//! The plan as a change ticket (`plan --format csv`): one row per source
//! party, destination party, protocol and ports, each party's name next to
//! its own addresses, the service the page describes and the page it cites.
//! Merged flows are split back into hosts with the deployment's directory
//! (a named network stays one row). Loopback flows stay on each host and
//! change no firewall between hosts: they are left out and counted, so the
//! caller can say so.

use crate::parties::{parties, Party};
use portplan_model::catalog::Scope;
use portplan_model::flow::Because;
use portplan_model::{Addr, FlowSet};

pub const COLUMNS: &[&str] = &[
    "src_name",
    "src_address",
    "dst_name",
    "dst_address",
    "protocol",
    "ports",
    "service",
    "required",
    "scope",
    "requirements",
    "features",
    "page_citation",
    "notes",
];

/// The ticket's rows (cells in `COLUMNS` order) and the requirement ids of
/// the loopback flows left out.
pub struct Ticket {
    pub rows: Vec<Vec<String>>,
    pub loopback: Vec<String>,
}

/// `directory`: every named host and network with its addresses.
/// `title`: the title of the page a requirement cites, when the catalog has one.
/// `only`: a host (`--for-host`): only the rows it sends or receives, not
/// those of the other hosts merged into the same flow.
pub fn ticket(
    set: &FlowSet,
    directory: &[(String, Vec<Addr>)],
    title: &dyn Fn(&Because) -> Option<String>,
    only: Option<(&str, &[Addr])>,
) -> Ticket {
    let wanted = |p: &Party| match only {
        None => true,
        Some((name, addrs)) => p.is(name, addrs),
    };
    let lookup = |name: &str| {
        directory
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.as_slice())
    };
    // Rows keyed by their ends, protocol, ports and scope: flows of several
    // requirements between the same two parties make one row naming them all.
    struct Acc {
        cells: [String; 6],
        scope: String,
        required: bool,
        because: Vec<std::sync::Arc<Because>>,
        features: Vec<String>,
        notes: Vec<String>,
    }
    let mut acc: Vec<Acc> = Vec::new();
    let mut index: std::collections::HashMap<([String; 6], String), usize> =
        std::collections::HashMap::new();
    let mut loopback = Vec::new();
    for f in &set.flows {
        if f.scope == Scope::Loopback {
            for id in f.reason_ids() {
                if !loopback.contains(&id) {
                    loopback.push(id);
                }
            }
            continue;
        }
        let r = crate::report::row(f);
        let addrs = |p: &Party| {
            p.addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        for s in parties(&f.src, lookup) {
            for d in parties(&f.dst, lookup) {
                if !wanted(&s) && !wanted(&d) {
                    continue;
                }
                let cells = [
                    s.name.clone(),
                    addrs(&s),
                    d.name.clone(),
                    addrs(&d),
                    r.protocol.clone(),
                    r.ports.clone(),
                ];
                let key = (cells.clone(), r.scope.clone());
                let i = *index.entry(key).or_insert_with(|| {
                    acc.push(Acc {
                        cells,
                        scope: r.scope.clone(),
                        required: false,
                        because: Vec::new(),
                        features: Vec::new(),
                        notes: Vec::new(),
                    });
                    acc.len() - 1
                });
                let a = &mut acc[i];
                a.required |= f.required;
                for b in &f.because {
                    if !a.because.contains(b) {
                        a.because.push(b.clone());
                    }
                }
                for x in &r.features {
                    if !a.features.contains(x) {
                        a.features.push(x.clone());
                    }
                }
                for n in &f.notes {
                    if !a.notes.contains(n) {
                        a.notes.push(n.clone());
                    }
                }
            }
        }
    }
    let distinct = |it: &mut dyn Iterator<Item = String>| -> String {
        let mut v: Vec<String> = Vec::new();
        for s in it {
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v.join("; ")
    };
    let rows = acc
        .into_iter()
        .map(|a| {
            let mut row: Vec<String> = a.cells.to_vec();
            row.push(distinct(&mut a.because.iter().map(|b| b.service.clone())));
            row.push(a.required.to_string());
            row.push(a.scope);
            row.push(distinct(
                &mut a
                    .because
                    .iter()
                    .map(|b| format!("{}/{}", b.product, b.requirement)),
            ));
            row.push(a.features.join("; "));
            row.push(citations(&a.because, title));
            row.push(a.notes.join("; "));
            row
        })
        .collect::<Vec<Vec<String>>>();
    // A ticket reads by source, then destination, protocol and ports.
    let mut rows = rows;
    rows.sort_by(|a, b| a[..6].cmp(&b[..6]));
    Ticket { rows, loopback }
}

/// `StrongDM Ports Guide: ports.txt lines 12, 93`: each cited page once, by
/// title when the catalog has it, with the lines its requirements cite.
fn citations(
    because: &[std::sync::Arc<Because>],
    title: &dyn Fn(&Because) -> Option<String>,
) -> String {
    let mut pages: Vec<(String, Vec<String>)> = Vec::new();
    for b in because {
        let (file, line) = match b.source.rsplit_once(':') {
            Some((f, l)) if l.chars().all(|c| c.is_ascii_digit()) => (f, l),
            _ => (b.source.as_str(), ""),
        };
        let page = match title(b) {
            Some(t) => format!("{t}: {file}"),
            None => file.to_string(),
        };
        let i = match pages.iter().position(|(p, _)| *p == page) {
            Some(i) => i,
            None => {
                pages.push((page, Vec::new()));
                pages.len() - 1
            }
        };
        if !line.is_empty() && !pages[i].1.iter().any(|l| l == line) {
            pages[i].1.push(line.to_string());
        }
    }
    pages
        .into_iter()
        .map(|(page, lines)| match lines.len() {
            0 => page,
            1 => format!("{page} line {}", lines[0]),
            _ => format!("{page} lines {}", lines.join(", ")),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

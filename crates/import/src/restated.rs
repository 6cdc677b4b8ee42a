//! What a page says twice is one requirement. Two shapes:
//!
//! - examples: ports inside code blocks (a firewall command, a config
//!   sample, a tutorial's `127.0.0.1:7000`, program output) restate what
//!   the page says in its text, or illustrate; they are drafted only when
//!   the page states ports nowhere else (a reference of flags in code);
//! - restatements: prose or a list item saying again the ports and
//!   protocols, in the same direction and section, of a table row or a
//!   record (which also names the parties): the row is kept, and notes
//!   the lines that repeat it.
//!
//! Nothing is dropped silently: each example set aside is an anomaly with
//! its line, each restatement a note on the requirement kept.

use crate::finding::{Anomaly, AnomalyKind, Finding, PortItem};
use crate::knowledge::Dir;
use std::collections::{BTreeSet, HashMap};

/// Where the rows were: lines inside code blocks and table lines.
pub struct Layout {
    pub code: BTreeSet<u32>,
    pub table: BTreeSet<u32>,
    /// Lines of headings, in order: a section runs to the next one.
    pub headings: Vec<u32>,
}

pub fn apply(parts: &mut [Vec<Finding>], anomalies: &mut Vec<Anomaly>, layout: &Layout) {
    set_aside_examples(parts, anomalies, &layout.code);
    drop_restatements(parts, &layout.table, &layout.headings);
}

fn set_aside_examples(
    parts: &mut [Vec<Finding>],
    anomalies: &mut Vec<Anomaly>,
    code: &BTreeSet<u32>,
) {
    if code.is_empty() {
        return;
    }
    let outside = parts.iter().flatten().any(|f| !code.contains(&f.line));
    if !outside {
        return;
    }
    for part in parts.iter_mut() {
        part.retain(|f| {
            if !code.contains(&f.line) {
                return true;
            }
            anomalies.push(Anomaly {
                line: f.line,
                kind: AnomalyKind::Example,
                text: f.text.clone(),
                message: "a port in a code example (a command, a sample file, output): not \
                          drafted, since the page states its ports in its text"
                    .into(),
            });
            false
        });
    }
    anomalies.sort_by_key(|a| a.line);
}

/// What makes two statements the same requirement: one section (the
/// headings before it), the protocols, the ports, the direction.
type Key = (usize, Vec<portplan_model::Protocol>, Vec<String>, u8);

fn key(f: &Finding, headings: &[u32]) -> Option<Key> {
    let ports: Vec<String> = f
        .ports
        .iter()
        .map(|p| match p {
            PortItem::Fixed(r) => Some(r.to_string()),
            PortItem::Param { default, .. } => default.map(|d| d.to_string()),
        })
        .collect::<Option<Vec<_>>>()?;
    if ports.is_empty() {
        return None;
    }
    let dir = match f.dir {
        Dir::In => 0,
        Dir::Out => 1,
        Dir::Unknown => 2,
    };
    let mut protocols = f.protocols.clone();
    protocols.sort();
    let section = headings.partition_point(|&h| h <= f.line);
    Some((section, protocols, ports, dir))
}

fn drop_restatements(parts: &mut [Vec<Finding>], table: &BTreeSet<u32>, headings: &[u32]) {
    // Only prose and list items are dropped, and only for a statement that
    // says more: a table row or a record (it names parties or hosts). Two
    // rows, two records, or two sentences stay two requirements.
    let structured = |f: &Finding| {
        table.contains(&f.line)
            || f.listener.is_some()
            || f.talker.is_some()
            || f.peer.is_some()
            || !f.hosts.is_empty()
    };
    let mut keeper: HashMap<Key, (usize, usize)> = HashMap::new();
    for (pi, part) in parts.iter().enumerate() {
        for (fi, f) in part.iter().enumerate() {
            if structured(f) {
                if let Some(k) = key(f, headings) {
                    keeper.entry(k).or_insert((pi, fi));
                }
            }
        }
    }
    if keeper.is_empty() {
        return;
    }
    let mut repeats: Vec<((usize, usize), u32)> = Vec::new();
    let mut gone: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (pi, part) in parts.iter().enumerate() {
        for (fi, f) in part.iter().enumerate() {
            if structured(f) {
                continue;
            }
            let Some(k) = key(f, headings) else { continue };
            if let Some(&at) = keeper.get(&k) {
                gone.insert((pi, fi));
                repeats.push((at, f.line));
            }
        }
    }
    for ((pi, fi), line) in repeats {
        parts[pi][fi].notes.push(format!(
            "the page states these ports again on line {line} (not drafted twice)"
        ));
    }
    for (pi, part) in parts.iter_mut().enumerate() {
        let mut fi = 0;
        part.retain(|_| {
            let keep = !gone.contains(&(pi, fi));
            fi += 1;
            keep
        });
    }
}

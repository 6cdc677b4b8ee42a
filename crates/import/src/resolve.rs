//! Turns raw mentions into ports and protocols: splits a finding by
//! protocol, fills protocols the page leaves to context, and finds the
//! page's defects (out-of-range numbers, glued footnotes, protocol typos,
//! well-known services on the wrong transport). Doubtful values are marked
//! `REVIEW:` on the finding and listed as anomalies; none is copied silently.

use crate::finding::{Anomaly, AnomalyKind, Finding, PortItem, ProtocolBasis};
use crate::grammar::{self, Num};
use crate::knowledge::{services_in, soft_service, well_known};
use crate::segment::Walk;
use portplan_model::{PortRange, Protocol};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The statements read, in page order, in the parts the page was read in.
pub fn resolve(walk: Walk) -> (Vec<Vec<Finding>>, Vec<Anomaly>) {
    let Walk {
        findings,
        mut anomalies,
        footnotes,
        ..
    } = walk;
    // Footnotes are defined right after the table they annotate: a port may
    // carry a marker of a footnote defined within the next FOOTNOTE_REACH lines.
    let mut footnotes = footnotes;
    footnotes.sort_unstable();
    // Ports the page prints with exactly one protocol, for ports printed bare.
    // Each part of the page is counted on its own core, then the counts joined.
    let stated: BTreeMap<u64, BTreeSet<Protocol>> = findings
        .par_iter()
        .map(|part| {
            let mut stated: BTreeMap<u64, BTreeSet<Protocol>> = BTreeMap::new();
            for m in part.iter().flat_map(|f| &f.raw) {
                for n in m.ports.iter().filter(|n| n.low == n.high) {
                    stated
                        .entry(n.low)
                        .or_default()
                        .extend(m.protocols.iter().copied());
                }
            }
            stated
        })
        .reduce(BTreeMap::new, |mut a, b| {
            for (port, protocols) in b {
                a.entry(port).or_default().extend(protocols);
            }
            a
        });
    // Each part of the page is read on its own core. A part's findings are
    // consumed as they are read, so its memory serves the next part: the
    // page's findings are never held twice.
    let mut read: Vec<PartRead> = findings
        .into_par_iter()
        .map(|part| {
            let mut r = PartRead::default();
            for f in part {
                read_one(f, &footnotes, &stated, &mut r);
            }
            r
        })
        .collect();
    // Duplicate statements (one line saying a port twice) are kept once, the
    // first in page order: decided on the keys alone, in order...
    let mut seen: std::collections::HashSet<u64> = std::collections::HashSet::new();
    // One statement of a portless protocol per line and protocol.
    let mut portless_lines: BTreeSet<(u32, Vec<Protocol>)> = BTreeSet::new();
    let keep: Vec<Vec<bool>> = read
        .iter()
        .map(|r| {
            r.items
                .iter()
                .map(|it| match it {
                    Item::Statement(k, _) => seen.insert(*k),
                    Item::Portless(t) => portless_lines.insert((t.line, t.protocols.clone())),
                })
                .collect()
        })
        .collect();
    for r in &mut read {
        anomalies.append(&mut r.anomalies);
    }
    // ... and the findings kept are then moved out, part by part.
    let out: Vec<Vec<Finding>> = read
        .into_par_iter()
        .zip(keep)
        .map(|(r, keep)| {
            let mut part: Vec<Finding> = r
                .items
                .into_iter()
                .zip(keep)
                .filter_map(|(it, k)| k.then(|| it.finding()))
                .collect();
            crate::bound_rows::join(&mut part);
            part
        })
        .collect();
    anomalies.sort_by_key(|a| a.line);
    (out, anomalies)
}

/// What reading one part of the page gave, in page order.
#[derive(Default)]
struct PartRead {
    items: Vec<Item>,
    anomalies: Vec<Anomaly>,
}

/// A statement read: with ports (and its dedupe key), or of a portless
/// protocol (one per line and protocol).
enum Item {
    Statement(u64, Finding),
    Portless(Finding),
}

impl Item {
    fn finding(self) -> Finding {
        match self {
            Item::Statement(_, f) | Item::Portless(f) => f,
        }
    }
}

/// Reads one finding into `r`: its statements by protocol group, then the
/// statements of the portless protocols its line names.
fn read_one(
    f: Finding,
    footnotes: &[(u32, u32)],
    stated: &BTreeMap<u64, BTreeSet<Protocol>>,
    r: &mut PartRead,
) {
    // ICMP and ESP have no ports: a line naming one is its own statement.
    // The line is read again only when it names one (once for both).
    const PORTLESS: [Protocol; 2] = [Protocol::Icmp, Protocol::Esp];
    let named = PORTLESS
        .iter()
        .any(|p| crate::knowledge::has_word(&f.text, p.as_str()));
    let bare = if named {
        grammar::parse(&f.text).bare_protocols
    } else {
        Vec::new()
    };
    let portless: Vec<Finding> = PORTLESS
        .into_iter()
        .filter(|p| {
            (crate::knowledge::has_word(&f.text, p.as_str()) && bare.contains(p))
                || (f.raw.is_empty() && f.ports.is_empty() && f.row_protocols.contains(p))
        })
        .map(|p| portless_statement(f.clone(), p))
        .collect();
    let near = footnotes_near(footnotes, f.line);
    for mut g in split(f, &near, stated, &mut r.anomalies) {
        if g.ports.is_empty() {
            continue;
        }
        // The raw mentions have been read; keep memory to what the output needs.
        g.raw = Vec::new();
        g.row_protocols = Vec::new();
        g.confidence = g.basis.confidence()
            - if g.notes.iter().any(|n| n.starts_with("REVIEW")) {
                0.2
            } else {
                0.0
            };
        r.items.push(Item::Statement(dedupe_key(&g), g));
    }
    r.items.extend(portless.into_iter().map(Item::Portless));
}

/// The statement of a line that names a protocol without ports (ICMP, ESP).
fn portless_statement(mut g: Finding, p: Protocol) -> Finding {
    g.protocols = vec![p];
    g.ports.clear();
    g.basis = ProtocolBasis::Stated;
    g.confidence = 0.8;
    if g.service.is_empty() || g.service == g.text {
        g.service = p.as_str().to_ascii_uppercase();
    }
    g
}

/// How far below a port its footnote's definition may stand.
const FOOTNOTE_REACH: u32 = 60;

/// Footnote numbers defined within `FOOTNOTE_REACH` lines after `line`.
fn footnotes_near(all: &[(u32, u32)], line: u32) -> BTreeSet<u32> {
    let start = all.partition_point(|(l, _)| *l < line);
    all[start..]
        .iter()
        .take_while(|(l, _)| *l <= line.saturating_add(FOOTNOTE_REACH))
        .map(|(_, n)| *n)
        .collect()
}

/// A hash of what makes two findings the same statement.
fn dedupe_key(g: &Finding) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    g.line.hash(&mut h);
    g.protocols.hash(&mut h);
    for p in &g.ports {
        match p {
            PortItem::Fixed(r) => (0u8, r.low, r.high).hash(&mut h),
            PortItem::Param { named, .. } => (1u8, named).hash(&mut h),
        }
    }
    g.service.hash(&mut h);
    (g.dir as u8).hash(&mut h);
    h.finish()
}

/// One finding per protocol group of its mentions.
fn split(
    f: Finding,
    footnotes: &BTreeSet<u32>,
    stated: &BTreeMap<u64, BTreeSet<Protocol>>,
    anomalies: &mut Vec<Anomaly>,
) -> Vec<Finding> {
    // "(default port is 8443)" qualifies the item's other ports; with no
    // other ports ("the default ports are 443 and 389") it is the statement.
    let only_defaults = f.raw.iter().all(|m| m.is_default);
    let defaults: Vec<Num> = f
        .raw
        .iter()
        .filter(|m| m.is_default && !only_defaults)
        .flat_map(|m| m.ports.iter().cloned())
        .collect();
    let mut groups: Vec<(Vec<Protocol>, Vec<Num>, bool)> = Vec::new();
    for m in f.raw.iter().filter(|m| !m.is_default || only_defaults) {
        match groups.iter_mut().find(|g| g.0 == m.protocols) {
            Some(g) => {
                g.1.extend(m.ports.iter().cloned());
                g.2 |= m.alternatives;
            }
            None => groups.push((m.protocols.clone(), m.ports.clone(), m.alternatives)),
        }
    }
    let item_protocols: BTreeSet<Protocol> =
        groups.iter().flat_map(|g| g.0.iter().copied()).collect();
    let mut out = Vec::new();
    if groups.is_empty() {
        // Ports named without a number (`Custom`, `Auto (high port)`).
        if f.ports.is_empty() {
            return out;
        }
        let mut g = f.clone();
        let ports_hint: Vec<u64> = g
            .ports
            .iter()
            .filter_map(|p| match p {
                PortItem::Fixed(r) => Some(u64::from(r.low)),
                PortItem::Param {
                    default: Some(d), ..
                } => Some(u64::from(d.low)),
                PortItem::Param { .. } => None,
            })
            .collect();
        fill_protocol(&mut g, &ports_hint, stated);
        out.push(g);
        return out;
    }
    // The last group takes the finding itself; the others a copy.
    let last = groups.len().saturating_sub(1);
    let mut source = Some(f);
    for (k, (protocols, nums, alternatives)) in groups.into_iter().enumerate() {
        let taken = if k == last {
            source.take()
        } else {
            source.clone()
        };
        let Some(mut g) = taken else { break };
        g.alternatives = alternatives;
        g.ports.retain(|p| matches!(p, PortItem::Param { .. }));
        let mut fixed: Vec<PortRange> = Vec::new();
        for n in &nums {
            if let Some(r) = check_number(n, &g, footnotes, anomalies) {
                g.notes.extend(r.1);
                if let Some(said) = r.2 {
                    g.page_said = Some(said);
                }
                if !fixed.contains(&r.0) {
                    fixed.push(r.0);
                }
            } else {
                g.notes.push(format!(
                    "REVIEW: `{}` is not a port (outside 1..65535); left out",
                    n.text
                ));
            }
        }
        // A range with a default inside it: a configurable port.
        let default = defaults.iter().find(|d| d.valid()).map(|d| PortRange {
            low: d.low as u16,
            high: d.high as u16,
        });
        match (fixed.as_slice(), default) {
            ([range], Some(d)) if !range.is_single() && range.contains_range(&d) => {
                g.ports.insert(
                    0,
                    PortItem::Param {
                        named: format!("{} port", g.service),
                        default: Some(d),
                        allowed: Some(*range),
                    },
                );
            }
            _ => {
                for (k, r) in fixed.into_iter().enumerate() {
                    g.ports.insert(k, PortItem::Fixed(r));
                }
            }
        }
        if g.ports.is_empty() {
            continue;
        }
        g.protocols = protocols.clone();
        if protocols.is_empty() {
            let hint: Vec<u64> = nums.iter().map(|n| n.low).collect();
            fill_protocol(&mut g, &hint, stated);
        } else {
            g.basis = ProtocolBasis::Stated;
        }
        typos_and_transport(&mut g, &item_protocols, anomalies);
        out.push(g);
    }
    out
}

/// A protocol for a finding whose text prints none.
fn fill_protocol(g: &mut Finding, ports: &[u64], stated: &BTreeMap<u64, BTreeSet<Protocol>>) {
    // The item's own service (`HTTP: 8080`) outranks its row's protocols.
    let own: BTreeSet<Protocol> = services_in(&g.service)
        .iter()
        .filter(|s| !soft_service(s.name))
        .map(|s| s.only)
        .collect();
    if own.len() == 1 && g.service != g.text {
        g.protocols = own.into_iter().collect();
        g.basis = ProtocolBasis::Service;
        return;
    }
    let row: Vec<Protocol> = g
        .row_protocols
        .iter()
        .copied()
        .filter(|p| p.has_ports())
        .collect();
    if !row.is_empty() {
        g.protocols = row;
        g.basis = ProtocolBasis::Row;
        return;
    }
    let same: BTreeSet<Protocol> = ports
        .iter()
        .filter_map(|p| stated.get(p))
        .flat_map(|s| s.iter().copied())
        .collect();
    if same.len() == 1
        && ports
            .iter()
            .all(|p| stated.get(p).is_some_and(|s| s.len() == 1))
    {
        g.protocols = same.into_iter().collect();
        g.basis = ProtocolBasis::SamePort;
        return;
    }
    let services = services_in(&format!("{} {}", g.service, g.text));
    let protos: BTreeSet<Protocol> = services.iter().map(|s| s.only).collect();
    if protos.len() == 1 {
        g.protocols = protos.into_iter().collect();
        g.basis = ProtocolBasis::Service;
        return;
    }
    g.protocols = vec![Protocol::Tcp];
    g.basis = ProtocolBasis::Guess;
    g.notes
        .push("REVIEW: the page gives no protocol; TCP assumed".into());
}

type Checked = (PortRange, Vec<String>, Option<(String, String)>);

/// A printed number as a port: as is, or with a glued footnote removed.
fn check_number(
    n: &Num,
    g: &Finding,
    footnotes: &BTreeSet<u32>,
    anomalies: &mut Vec<Anomaly>,
) -> Option<Checked> {
    if n.low == n.high {
        if let Some((port, marker)) = unglue(&n.text, g, footnotes) {
            let msg = format!(
                "`{}` reads as port {port} followed by footnote marker {marker} (the page defines footnote {})",
                n.text,
                marker.chars().next().unwrap_or('?')
            );
            anomalies.push(Anomaly {
                line: g.line,
                kind: AnomalyKind::GluedFootnote,
                text: g.text.clone(),
                message: msg.clone(),
            });
            return Some((
                PortRange::single(port),
                vec![format!("REVIEW: {msg}")],
                Some((
                    g.text.clone(),
                    format!("`{}` is {port} with footnote {marker} glued on", n.text),
                )),
            ));
        }
    }
    if n.valid() {
        return Some((
            PortRange {
                low: n.low as u16,
                high: n.high as u16,
            },
            vec![],
            None,
        ));
    }
    anomalies.push(Anomaly {
        line: g.line,
        kind: AnomalyKind::OutOfRange,
        text: g.text.clone(),
        message: format!("`{}` is not a port: ports are 1..65535", n.text),
    });
    None
}

/// `3891` → (389, "1") when footnote 1 exists and 389 is the likelier port.
fn unglue(digits: &str, g: &Finding, footnotes: &BTreeSet<u32>) -> Option<(u16, String)> {
    if footnotes.is_empty() || digits.len() < 2 {
        return None;
    }
    let whole: u64 = digits.parse().unwrap_or(u64::MAX);
    let mut services = None;
    for cut in 1..=2.min(digits.len() - 1) {
        let (head, tail) = digits.split_at(digits.len() - cut);
        // Every marker digit must be a footnote the page defines.
        if !tail
            .chars()
            .all(|c| c.to_digit(10).is_some_and(|d| footnotes.contains(&d)))
            || head.starts_with('0')
        {
            continue;
        }
        let Ok(q) = head.parse::<u64>() else { continue };
        if !(1..=65535).contains(&q) {
            continue;
        }
        let services =
            services.get_or_insert_with(|| services_in(&format!("{} {}", g.service, g.text)));
        let service_says = services.iter().any(|s| u64::from(s.port) == q);
        let out_of_range = !(1..=65535).contains(&whole);
        let likelier = well_known(q) && !well_known(whole);
        if out_of_range || service_says || likelier {
            return Some((q as u16, tail.to_string()));
        }
    }
    None
}

/// Protocol typos and well-known services on the wrong transport.
fn typos_and_transport(
    g: &mut Finding,
    item_protocols: &BTreeSet<Protocol>,
    anomalies: &mut Vec<Anomaly>,
) {
    for t in std::mem::take(&mut g.typos) {
        let fixed = crate::knowledge::protocol_word(&t)
            .map(|p| p.0.to_string())
            .unwrap_or_default();
        let msg = format!("`{t}` is not a protocol; read as {}", fixed.to_uppercase());
        anomalies.push(Anomaly {
            line: g.line,
            kind: AnomalyKind::ProtocolTypo,
            text: g.text.clone(),
            message: msg.clone(),
        });
        g.notes.push(format!("REVIEW: {msg}"));
        if g.page_said.is_none() {
            g.page_said = Some((g.text.clone(), msg));
        }
    }
    if g.basis != ProtocolBasis::Stated {
        return;
    }
    let services = services_in(&format!("{} {}", g.service, g.text));
    for s in services {
        if soft_service(s.name) || item_protocols.contains(&s.only) {
            continue;
        }
        if g.protocols.iter().all(|p| *p != s.only && p.has_ports()) {
            let said: Vec<String> = g
                .protocols
                .iter()
                .map(|p| p.to_string().to_uppercase())
                .collect();
            let msg = format!(
                "{} runs over {}, but the page says {}; the draft holds {}",
                s.name.to_uppercase(),
                s.only.to_string().to_uppercase(),
                said.join("/"),
                s.only.to_string().to_uppercase()
            );
            anomalies.push(Anomaly {
                line: g.line,
                kind: AnomalyKind::WrongProtocol,
                text: g.text.clone(),
                message: msg.clone(),
            });
            g.notes.push(format!("REVIEW: {msg}"));
            g.page_said = Some(match g.page_said.take() {
                Some((text, before)) => (text, format!("{before}; {msg}")),
                None => (g.text.clone(), msg),
            });
            g.protocols = vec![s.only];
            break;
        }
    }
}

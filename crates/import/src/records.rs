//! Records that spread one requirement over several lines, read before the
//! row walk so their lines are not read again as prose:
//!
//! - one field per line: a name line, a bare port line (`443`, `53 (UDP)`,
//!   `Custom`), then direction / `Required` lines and a description;
//! - `Key: value` blocks: `Port: 2055/UDP`, `Purpose: NetFlow exports`,
//!   `Direction: inbound`, `Source: Routers`, ...

use crate::finding::{Finding, PortItem};
use crate::grammar;
use crate::knowledge::{directions, has_word, Dir};
use crate::segment::{bare_port, conditions, fill_ports, hosts, pick_dir};
use crate::text::Row;
use portplan_model::{PortRange, Scope};
use rayon::prelude::*;
use std::collections::HashMap;

/// A record read from several lines.
struct Record {
    /// The line that makes it a record (its port line); a record whose
    /// anchor an earlier record took is not one.
    anchor: usize,
    /// First and one-past-last row it takes.
    start: usize,
    end: usize,
    finding: Finding,
}

/// Rows the records take: the finding on its anchor row, `None` on the
/// others. Candidates are found and read on every core (this looks at every
/// line of the page); which of them stand is then decided in page order.
pub(crate) fn records(rows: &[Row]) -> HashMap<usize, Option<Box<Finding>>> {
    let mut found: Vec<Record> = (0..rows.len())
        .into_par_iter()
        .with_min_len(crate::ROWS_PER_TASK)
        .filter_map(|i| {
            let r = &rows[i];
            if r.cells.len() != 1 || r.separator {
                return None;
            }
            let t = r.text_ref();
            let t = t.trim();
            if bare_port(t) {
                field_record(rows, i)
            } else if key_value(t).is_some_and(|(k, _)| field(k) == Some(Field::Port)) {
                kv_record(rows, i)
            } else {
                None
            }
        })
        .collect();
    found.sort_by_key(|r| r.anchor);
    let mut consumed = HashMap::with_capacity(found.len() * 4);
    // Lines a record took are not read again.
    let mut next = 0;
    for rec in found {
        if rec.anchor < next {
            continue;
        }
        // A block may share its first lines with the one before: those
        // stay with the first.
        for k in rec.start.max(next)..rec.end {
            consumed.insert(k, None);
        }
        consumed.insert(rec.anchor, Some(Box::new(rec.finding)));
        next = rec.end;
    }
    consumed
}

fn field_record(rows: &[Row], i: usize) -> Option<Record> {
    let single = |r: &Row| -> Option<String> {
        (r.cells.len() == 1 && !r.separator).then(|| r.text_ref().trim().to_string())
    };
    let t = single(&rows[i])?;
    // The following field lines: direction and/or required words.
    let mut j = i + 1;
    let mut dir = Dir::Unknown;
    let mut required = None;
    let mut fields = 0;
    while let Some(n) = rows.get(j).and_then(single) {
        let l = n.to_ascii_lowercase();
        match l.as_str() {
            "egress" | "outbound" | "outgoing" => dir = Dir::Out,
            "ingress" | "inbound" | "incoming" => dir = Dir::In,
            "required" | "mandatory" | "yes" => required = Some(true),
            "optional" | "no" => required = Some(false),
            _ => break,
        }
        fields += 1;
        j += 1;
    }
    if fields == 0 || i == 0 {
        return None;
    }
    let name = single(&rows[i - 1]).filter(|n| !n.is_empty() && !bare_port(n))?;
    let desc = rows
        .get(j)
        .and_then(single)
        .filter(|d| !bare_port(d) && d.split_whitespace().count() > 3);
    let mut f = Finding::new(rows[i].line, &t);
    let parsed = grammar::parse(&t);
    let lower = name.to_ascii_lowercase();
    f.dir = dir;
    f.required = required;
    f.service = name.clone();
    f.description = desc.clone();
    f.hosts = hosts(&name);
    if f.hosts.is_empty() {
        f.peer = Some(name.split('(').next().unwrap_or(&name).trim().to_string());
    }
    if has_word(&lower, "loopback") || has_word(&lower, "localhost") {
        f.scope = Scope::Loopback;
    }
    let desc_parsed = desc.as_deref().map(grammar::parse).unwrap_or_default();
    fill_ports(&mut f, &parsed);
    if f.ports.is_empty() && parsed.unnumbered.is_some() {
        let default = desc_parsed
            .mentions
            .iter()
            .find(|m| m.is_default)
            .and_then(|m| m.ports.first())
            .filter(|n| n.valid())
            .map(|n| PortRange {
                low: n.low as u16,
                high: n.high as u16,
            });
        f.ports.push(PortItem::Param {
            named: name.clone(),
            default,
            allowed: None,
        });
    }
    if let Some(d) = &desc {
        conditions(&mut f, d);
    }
    Some(Record {
        anchor: i,
        start: i - 1,
        end: if desc.is_some() { j + 1 } else { j },
        finding: f,
    })
}

/// What a `Key: value` line gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Port,
    Protocol,
    Service,
    Direction,
    Source,
    Destination,
    Required,
    Note,
}

/// The field a key names (`Port(s)`, `Purpose`, `Direction`, ...).
fn field(key: &str) -> Option<Field> {
    let k = key.trim().to_ascii_lowercase();
    let k = k.trim_end_matches("(s)").trim();
    Some(match k {
        "port" | "ports" | "port number" | "port numbers" | "port/protocol"
        | "destination port" | "destination ports" | "listening port" => Field::Port,
        "protocol" | "protocols" | "transport" => Field::Protocol,
        "purpose" | "service" | "description" | "usage" | "used for" | "function" | "use"
        | "application" | "name" => Field::Service,
        "direction" | "traffic" | "flow" => Field::Direction,
        "source" | "from" | "initiator" | "client" | "who talks" | "originator" => Field::Source,
        "destination" | "to" | "target" | "listener" | "who listens" | "server" => {
            Field::Destination
        }
        "required" | "mandatory" | "optional" => Field::Required,
        "note" | "notes" | "comment" | "comments" | "condition" => Field::Note,
        _ => return None,
    })
}

/// `Key: value` of a line whose key is a short label.
fn key_value(t: &str) -> Option<(&str, &str)> {
    let (k, v) = t.split_once(':')?;
    let v = v.trim();
    let short = !k.is_empty() && k.len() <= 24 && k.split_whitespace().count() <= 3;
    (short && !v.is_empty() && !v.starts_with("//")).then_some((k, v))
}

/// The `Key: value` line of row `i`, if it is one with a key we know.
fn kv_line(rows: &[Row], i: usize) -> Option<(Field, String)> {
    let r = rows.get(i)?;
    if r.cells.len() != 1 || r.separator {
        return None;
    }
    let t = r.text_ref();
    let (k, v) = key_value(t.trim())?;
    Some((field(k)?, v.to_string()))
}

/// The `Key: value` block around the `Port:` line on row `i`: the lines
/// above and below it that are `Key: value` lines too, up to a blank line or
/// another `Port:` line.
fn kv_record(rows: &[Row], i: usize) -> Option<Record> {
    let (_, port_value) = kv_line(rows, i)?;
    let parsed = grammar::parse(&port_value);
    if parsed.mentions.is_empty() {
        return None;
    }
    // The other lines of the block, each read once, in page order.
    let other = |k: usize| kv_line(rows, k).filter(|(f, _)| *f != Field::Port);
    let mut start = i;
    let mut above = Vec::new();
    while let Some(line) = start.checked_sub(1).and_then(other) {
        above.push(line);
        start -= 1;
    }
    above.reverse();
    let mut end = i + 1;
    let mut below = Vec::new();
    while let Some(line) = other(end) {
        below.push(line);
        end += 1;
    }
    let mut f = Finding::new(rows[i].line, &port_value);
    fill_ports(&mut f, &parsed);
    let mut dir_text = String::new();
    for (field, value) in above.into_iter().chain(below) {
        match field {
            Field::Port => {}
            Field::Protocol => {
                let p = grammar::parse(&value);
                f.row_protocols.extend(p.bare_protocols);
            }
            Field::Service if f.service.is_empty() => {
                let short = value.split(['(', ',', ';']).next().unwrap_or(&value).trim();
                f.service = short.to_string();
                if short.len() < value.len() {
                    f.description = Some(value.clone());
                }
                conditions(&mut f, &value);
            }
            Field::Service | Field::Note => {
                conditions(&mut f, &value);
                f.notes.push(format!("the page says: {value}"));
            }
            Field::Direction => dir_text.push_str(&value),
            Field::Source => f.talker = Some(value),
            Field::Destination => f.listener = Some(value),
            Field::Required => {
                let v = value.to_ascii_lowercase();
                f.required = if has_word(&v, "yes") || has_word(&v, "required") {
                    Some(true)
                } else if has_word(&v, "no") || has_word(&v, "optional") {
                    Some(false)
                } else {
                    f.required
                };
            }
        }
    }
    f.dir = pick_dir(&[directions(&dir_text)]);
    // One end named: the other is the product the section is about.
    match (f.talker.take(), f.listener.take()) {
        (Some(src), None) => {
            f.peer = Some(src);
            f.dir = Dir::In;
        }
        (None, Some(dst)) => {
            f.peer = Some(dst);
            f.dir = Dir::Out;
        }
        (talker, listener) => {
            f.talker = talker;
            f.listener = listener;
        }
    }
    if f.service.is_empty() {
        f.service = "ports".into();
    }
    for h in [&f.listener, &f.talker, &f.peer]
        .into_iter()
        .flatten()
        .flat_map(|p| hosts(p))
    {
        if !f.hosts.contains(&h) {
            f.hosts.push(h);
        }
    }
    Some(Record {
        anchor: i,
        start,
        end,
        finding: f,
    })
}

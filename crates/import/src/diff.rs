//! A page against a catalog entry: which (protocol, port) statements the page
//! adds, which the catalog holds that the page no longer says, and which
//! changed what they are for or whether they are required.

use crate::finding::{Finding, PortItem};
use crate::knowledge::Dir;
use portplan_model::{PortSpec, Product, Protocol};
use serde::Serialize;
use std::collections::BTreeMap;

/// One side's view of a (protocol, port).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub protocol: Protocol,
    /// `443`, `8000-8999`, `-` (ICMP) or `param` (a port with no fixed number).
    pub port: String,
    pub service: String,
    /// `from -> to` roles (catalog) or the direction the page states.
    pub direction: String,
    pub required: bool,
    /// `requirement id` (catalog) or `line N` (page).
    pub at: String,
    /// Words that say what it is for (service, description, peers, hosts).
    #[serde(skip)]
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    pub added: Vec<Entry>,
    pub removed: Vec<Entry>,
    /// (catalog, page) pairs that no longer agree on purpose or `required`.
    pub changed: Vec<(Entry, Entry)>,
    pub unchanged: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

const STOP: &[&str] = &[
    "the", "for", "and", "port", "ports", "tcp", "udp", "with", "from", "this", "that", "are",
    "required", "optional", "used", "use", "all", "any", "other", "page", "review", "not",
];

fn keywords(texts: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        for w in crate::words(t) {
            if w.len() > 2 && !STOP.contains(&w.as_str()) && !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

type Entries = BTreeMap<(Protocol, String), Vec<Entry>>;

fn catalog_entries(p: &Product) -> Entries {
    let mut m: Entries = BTreeMap::new();
    for r in &p.requirements {
        let mut texts: Vec<String> =
            vec![r.service.clone(), r.description.clone().unwrap_or_default()];
        for role in r.from_roles().iter().chain(r.to_roles().iter()) {
            if let Some(x) = p.role(role) {
                texts.push(x.name.clone());
                texts.extend(x.endpoints.iter().cloned());
            }
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let words = keywords(&refs);
        for proto in r.protocols() {
            let ports: Vec<String> = if proto.has_ports() {
                r.ports
                    .iter()
                    .map(|ps| match ps {
                        PortSpec::Fixed(x) => x.to_string(),
                        PortSpec::Param(name) => p
                            .parameter(name)
                            .and_then(|x| x.default)
                            .map_or_else(|| "param".to_string(), |d| d.to_string()),
                    })
                    .collect()
            } else {
                vec!["-".into()]
            };
            for port in ports {
                m.entry((proto, port.clone())).or_default().push(Entry {
                    protocol: proto,
                    port,
                    service: r.service.clone(),
                    direction: format!(
                        "{} -> {}",
                        r.from_roles().join(","),
                        r.to_roles().join(",")
                    ),
                    required: r.required,
                    at: r.id.clone(),
                    words: words.clone(),
                });
            }
        }
    }
    m
}

fn page_entries(findings: &[Finding]) -> Entries {
    let mut m: Entries = BTreeMap::new();
    for f in findings {
        let dir = match f.dir {
            Dir::In => "inbound",
            Dir::Out => "outbound",
            Dir::Unknown => "unstated",
        };
        let mut texts: Vec<&str> = vec![&f.service, &f.text];
        if let Some(d) = &f.description {
            texts.push(d);
        }
        texts.extend(f.hosts.iter().map(String::as_str));
        let words = keywords(&texts);
        let mut pairs = f.pairs();
        // A parameter with no default is compared as "some configurable port".
        for item in &f.ports {
            if let PortItem::Param { default: None, .. } = item {
                for p in f.protocols.iter().filter(|p| p.has_ports()) {
                    pairs.push((*p, "param".to_string()));
                }
            }
        }
        for (proto, port) in pairs {
            m.entry((proto, port.clone())).or_default().push(Entry {
                protocol: proto,
                port,
                service: f.service.clone(),
                direction: dir.into(),
                required: f.required.unwrap_or(true),
                at: format!("line {}", f.line),
                words: words.clone(),
            });
        }
    }
    m
}

/// Whether two entries plausibly describe the same statement: they share a word.
fn related(a: &Entry, b: &Entry) -> bool {
    a.words.iter().any(|w| b.words.contains(w))
}

pub fn diff(catalog: &Product, findings: &[Finding]) -> Diff {
    let cat = catalog_entries(catalog);
    let page = page_entries(findings);
    let mut d = Diff::default();
    for (k, pes) in &page {
        match cat.get(k) {
            None => d.added.extend(pes.iter().take(1).cloned()),
            Some(ces) => {
                // Unchanged when some page statement and some catalog
                // requirement share a word and agree on `required`.
                let agree = pes.iter().any(|pe| {
                    ces.iter()
                        .any(|c| related(c, pe) && c.required == pe.required)
                });
                if agree {
                    d.unchanged += 1;
                } else {
                    let pe = &pes[0];
                    let c = ces.iter().find(|c| related(c, pe)).unwrap_or(&ces[0]);
                    d.changed.push((c.clone(), pe.clone()));
                }
            }
        }
    }
    for (k, ces) in &cat {
        if !page.contains_key(k) {
            d.removed.extend(ces.iter().take(1).cloned());
        }
    }
    d
}

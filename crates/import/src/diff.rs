//! A page against a catalog entry: which (protocol, port) statements the page
//! adds, which the catalog holds that the page no longer says, and which
//! changed their service, direction or required flag.

use crate::finding::Finding;
use portplan_model::{PortSpec, Product, Protocol};
use serde::Serialize;
use std::collections::BTreeMap;

/// One side's view of a (protocol, port).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub protocol: Protocol,
    /// `443`, `8000-8999`, or a parameter's name.
    pub port: String,
    pub service: String,
    /// `from -> to` roles (catalog) or the direction the page states.
    pub direction: String,
    pub required: bool,
    /// `requirement id` (catalog) or `line N` (page).
    pub at: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    pub added: Vec<Entry>,
    pub removed: Vec<Entry>,
    /// (catalog, page) pairs whose service, direction or required flag differ.
    pub changed: Vec<(Entry, Entry)>,
    pub unchanged: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn catalog_entries(p: &Product) -> BTreeMap<(Protocol, String), Vec<Entry>> {
    let mut m: BTreeMap<(Protocol, String), Vec<Entry>> = BTreeMap::new();
    for r in &p.requirements {
        for proto in r.protocols() {
            let ports: Vec<String> = if proto.has_ports() {
                r.ports
                    .iter()
                    .map(|ps| match ps {
                        PortSpec::Fixed(x) => x.to_string(),
                        PortSpec::Param(name) => p
                            .parameter(name)
                            .and_then(|x| x.default)
                            .map_or_else(|| format!("param:{name}"), |d| d.to_string()),
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
                });
            }
        }
    }
    m
}

fn page_entries(findings: &[Finding]) -> BTreeMap<(Protocol, String), Vec<Entry>> {
    let mut m: BTreeMap<(Protocol, String), Vec<Entry>> = BTreeMap::new();
    for f in findings {
        let dir = match f.dir {
            crate::knowledge::Dir::In => "inbound",
            crate::knowledge::Dir::Out => "outbound",
            crate::knowledge::Dir::Unknown => "unstated",
        };
        for (proto, port) in f.pairs() {
            m.entry((proto, port.clone())).or_default().push(Entry {
                protocol: proto,
                port,
                service: f.service.clone(),
                direction: dir.into(),
                required: f.required.unwrap_or(true),
                at: format!("line {}", f.line),
            });
        }
    }
    m
}

/// Whether two service names plausibly name the same thing: they share a word.
fn same_service(a: &str, b: &str) -> bool {
    let wa = crate::words(a);
    let wb = crate::words(b);
    wa.iter().any(|w| w.len() > 2 && wb.contains(w)) || (wa.is_empty() && wb.is_empty())
}

pub fn diff(catalog: &Product, findings: &[Finding]) -> Diff {
    let cat = catalog_entries(catalog);
    let page = page_entries(findings);
    let mut d = Diff::default();
    for (k, pes) in &page {
        match cat.get(k) {
            None => d.added.extend(pes.iter().take(1).cloned()),
            Some(ces) => {
                // Same (protocol, port): changed when no catalog entry shares
                // a service word with the page's, or `required` flipped.
                let pe = &pes[0];
                let matched = ces
                    .iter()
                    .find(|c| same_service(&c.service, &pe.service) && c.required == pe.required);
                match matched {
                    Some(_) => d.unchanged += 1,
                    None => d.changed.push((ces[0].clone(), pe.clone())),
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

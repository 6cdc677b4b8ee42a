//! Who talks to whom, for the picture formats (Mermaid, DOT): one node per
//! host, network, role placed by address or outside party, and one edge per
//! pair of nodes and scope whose label lists every service between them.
//! Merged flows list several hosts on a side; drawn as they are, one host
//! would sit in as many boxes as there are merged sets it is part of.

use crate::common::{self, ident};
use crate::RenderOptions;
use portplan_model::catalog::Scope;
use portplan_model::{Addr, FlowSet};
use portplan_plan::parties::{parties, Party};
use std::collections::BTreeMap;

/// A box of the picture.
pub struct Node {
    /// Unique among the picture's nodes, safe as an identifier.
    pub ident: String,
    pub name: String,
    /// Its addresses, once each; empty when the name is the address.
    pub addrs: Vec<String>,
}

/// An arrow between two nodes, every service of that pair and scope on it.
pub struct Edge {
    pub src: usize,
    pub dst: usize,
    pub scope: Scope,
    /// `tcp 443`, `udp 53 (optional)`: distinct, in flow order.
    pub services: Vec<String>,
    /// Whether any service on the edge is required (else it is drawn faint).
    pub required: bool,
    /// Requirement ids behind the edge, distinct.
    pub reasons: Vec<String>,
}

impl Edge {
    pub fn label(&self) -> String {
        self.services.join(", ")
    }
}

pub struct Picture {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Picture {
    pub fn new(set: &FlowSet, opts: &RenderOptions) -> Picture {
        let lookup = |name: &str| {
            opts.directory
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.addrs.as_slice())
        };
        // `--for-host`: only the arrows the host is at one end of, not
        // those of the other hosts merged into the same flow.
        let wanted = |p: &Party| match &opts.for_host {
            None => true,
            Some(h) => p.is(&h.name, &h.addrs),
        };
        // A loopback flow stays on each host: no arrow to another.
        let drawn = |scope: Scope, a: &Party, b: &Party| {
            (wanted(a) || wanted(b)) && (scope != Scope::Loopback || a.name == b.name)
        };
        let flows = common::sorted(set);
        let mut by_name: BTreeMap<String, Vec<Addr>> = BTreeMap::new();
        let mut pairs: Vec<(Vec<Party>, Vec<Party>)> = Vec::with_capacity(flows.len());
        for f in &flows {
            let s = parties(&f.src, lookup);
            let d = parties(&f.dst, lookup);
            for a in &s {
                for b in d.iter().filter(|b| drawn(f.scope, a, b)) {
                    for p in [a, b] {
                        let held = by_name.entry(p.name.clone()).or_default();
                        held.extend(p.addrs.iter().cloned());
                    }
                }
            }
            pairs.push((s, d));
        }
        let mut used: BTreeMap<String, usize> = BTreeMap::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut nodes = Vec::with_capacity(by_name.len());
        for (name, mut addrs) in by_name {
            addrs.sort();
            addrs.dedup();
            let bare = addrs.len() == 1 && addrs[0].to_string() == name;
            let base = ident(&name);
            let n = used.entry(base.clone()).or_insert(0);
            *n += 1;
            let ident = if *n == 1 { base } else { format!("{base}_{n}") };
            index.insert(name.clone(), nodes.len());
            nodes.push(Node {
                ident,
                name,
                addrs: if bare {
                    Vec::new()
                } else {
                    addrs.iter().map(ToString::to_string).collect()
                },
            });
        }
        let mut edges: BTreeMap<(usize, usize, Scope), Edge> = BTreeMap::new();
        for (f, (s, d)) in flows.iter().zip(&pairs) {
            let mut service = common::service_phrase(f);
            if !f.required {
                service.push_str(" (optional)");
            }
            for a in s {
                for b in d {
                    if !drawn(f.scope, a, b) {
                        continue;
                    }
                    let (src, dst) = (index[&a.name], index[&b.name]);
                    let e = edges.entry((src, dst, f.scope)).or_insert_with(|| Edge {
                        src,
                        dst,
                        scope: f.scope,
                        services: Vec::new(),
                        required: false,
                        reasons: Vec::new(),
                    });
                    if !e.services.contains(&service) {
                        e.services.push(service.clone());
                    }
                    e.required |= f.required;
                    for r in f.reason_ids() {
                        if !e.reasons.contains(&r) {
                            e.reasons.push(r);
                        }
                    }
                }
            }
        }
        Picture {
            nodes,
            edges: edges.into_values().collect(),
        }
    }
}

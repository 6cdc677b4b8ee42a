//! Scoring against hand-made truth tables: (line, protocol, port) sets.
#![allow(dead_code)] // each test binary uses a part of these helpers

use portplan_import::{import, Options};
use portplan_model::{PortRange, PortSpec, Product, Requirement};
use std::collections::BTreeSet;
use std::path::PathBuf;

pub type Triple = (u32, String, String);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn seeds_dir() -> PathBuf {
    repo().join("catalog/sources")
}

pub fn truth(path: &std::path::Path) -> BTreeSet<Triple> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert!(c.len() >= 3, "{}: bad truth row `{l}`", path.display());
            (c[0].parse().unwrap(), c[1].to_string(), c[2].to_string())
        })
        .collect()
}

pub fn extracted(page: &str) -> BTreeSet<Triple> {
    let imp = import(page, &Options::default());
    imp.findings
        .iter()
        .flat_map(|f| {
            f.pairs()
                .into_iter()
                .map(move |(p, port)| (f.line, p.to_string(), port))
        })
        .collect()
}

/// (recall, precision, missed, extra).
pub fn score(
    truth: &BTreeSet<Triple>,
    got: &BTreeSet<Triple>,
) -> (f64, f64, Vec<Triple>, Vec<Triple>) {
    let hit = truth.intersection(got).count() as f64;
    let recall = if truth.is_empty() {
        1.0
    } else {
        hit / truth.len() as f64
    };
    let precision = if got.is_empty() {
        1.0
    } else {
        hit / got.len() as f64
    };
    (
        recall,
        precision,
        truth.difference(got).cloned().collect(),
        got.difference(truth).cloned().collect(),
    )
}

/// The same, over (protocol, port) pairs with lines ignored.
pub fn pair_score(truth: &BTreeSet<Triple>, got: &BTreeSet<Triple>) -> (f64, f64) {
    let t: BTreeSet<(String, String)> = truth.iter().map(|x| (x.1.clone(), x.2.clone())).collect();
    let g: BTreeSet<(String, String)> = got.iter().map(|x| (x.1.clone(), x.2.clone())).collect();
    let hit = t.intersection(&g).count() as f64;
    (
        hit / t.len().max(1) as f64,
        if g.is_empty() {
            1.0
        } else {
            hit / g.len() as f64
        },
    )
}

/// The draft of a page imported with default options.
pub fn draft(page: &str) -> Product {
    import(page, &Options::default()).draft
}

/// The first requirement of `p` whose fixed ports hold `port`.
pub fn on_port(p: &Product, port: u16) -> &Requirement {
    p.requirements
        .iter()
        .find(|r| {
            r.ports.iter().any(|s| match s {
                PortSpec::Fixed(PortRange { low, high }) => (*low..=*high).contains(&port),
                PortSpec::Param(_) => false,
            })
        })
        .unwrap_or_else(|| panic!("no requirement on port {port}: {:#?}", p.requirements))
}

/// A drafted requirement as a reviewer reads it.
#[derive(Debug, Clone)]
pub struct Drafted {
    /// Roles joined by `,`.
    pub from: String,
    pub to: String,
    /// Ports joined by `,`: `443`, `8000-8999`, `param:NAME`.
    pub ports: String,
    pub scope: portplan_model::Scope,
    pub required: bool,
    pub feature: Option<String>,
}

/// Every drafted requirement of a page, in order.
pub fn drafted(page: &str) -> Vec<Drafted> {
    draft(page)
        .requirements
        .iter()
        .map(|r| Drafted {
            from: r.from_roles().join(","),
            to: r.to_roles().join(","),
            ports: r
                .ports
                .iter()
                .map(|p| match p {
                    PortSpec::Fixed(r) => r.to_string(),
                    PortSpec::Param(n) => format!("param:{n}"),
                })
                .collect::<Vec<_>>()
                .join(","),
            scope: r.scope,
            required: r.required,
            feature: r.feature.clone(),
        })
        .collect()
}

//! The flow set as rows of text, shared by the table, CSV and Markdown
//! outputs: one row per merged flow, every reason named.

use portplan_model::{Addr, Flow, FlowSet, Protocol, Side};

/// CSV header of `portplan plan --format csv` (same spirit as `catalog export`).
pub const COLUMNS: &[&str] = &[
    "src",
    "dst",
    "protocol",
    "ports",
    "required",
    "scope",
    "requirements",
    "features",
    "sources",
    "notes",
];

/// One flow in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub src: String,
    pub dst: String,
    pub protocol: String,
    pub ports: String,
    pub required: bool,
    pub scope: String,
    pub requirements: Vec<String>,
    pub features: Vec<String>,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
}

impl Row {
    /// Cells in `COLUMNS` order; lists joined with `sep`.
    pub fn cells(&self, sep: &str) -> Vec<String> {
        vec![
            self.src.clone(),
            self.dst.clone(),
            self.protocol.clone(),
            self.ports.clone(),
            self.required.to_string(),
            self.scope.clone(),
            self.requirements.join(sep),
            self.features.join(sep),
            self.sources.join(sep),
            self.notes.join(sep),
        ]
    }
}

/// `srv1 (10.0.0.5)`, `cisco-ise/nad (10.10.0.0/16)`, `app.strongdm.com`.
pub fn side_text(s: &Side) -> String {
    let addrs: Vec<String> = s.addrs.iter().map(Addr::to_string).collect();
    let addrs = addrs.join(", ");
    let labels = s.labels.join(", ");
    if labels.is_empty() || labels == addrs {
        addrs
    } else {
        format!("{labels} ({addrs})")
    }
}

fn uniq(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Distinct values in first-seen order (reasons are sorted by requirement).
fn in_order(it: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in it {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// A flow's ports as tables show them: its ports, its ICMP type, or `-`.
pub fn ports_text(f: &Flow) -> String {
    match f.protocol {
        Protocol::Tcp | Protocol::Udp => f.ports.to_string(),
        Protocol::Icmp => f.icmp_type.clone().unwrap_or_else(|| "any type".into()),
        // No ports, no types: the protocol is the whole match.
        Protocol::Esp => "-".into(),
    }
}

pub fn row(f: &Flow) -> Row {
    let ports = ports_text(f);
    Row {
        src: side_text(&f.src),
        dst: side_text(&f.dst),
        protocol: f.protocol.to_string(),
        ports,
        required: f.required,
        scope: f.scope.as_str().to_string(),
        requirements: f.reason_ids(),
        features: uniq(f.because.iter().filter_map(|b| b.feature.clone()).collect()),
        sources: in_order(f.because.iter().map(|b| b.source.clone())),
        notes: f.notes.clone(),
    }
}

/// Whether a side includes the host (by name or address).
fn side_has_host(s: &Side, name: &str, addrs: &[Addr]) -> bool {
    s.labels.iter().any(|l| l == name)
        || addrs.iter().any(|h| {
            s.addrs.iter().any(|a| match (a, h) {
                (Addr::Any, _) => false,
                (Addr::Net(n), Addr::Net(m)) => n.contains(m) || m.contains(n),
                (x, y) => x == y,
            })
        })
}

/// Only the flows a host sends or receives (`--for-host` on the tabular formats).
pub fn for_host(set: &FlowSet, name: &str, addrs: &[Addr]) -> FlowSet {
    FlowSet {
        deployment: set.deployment.clone(),
        flows: set
            .flows
            .iter()
            .filter(|f| side_has_host(&f.src, name, addrs) || side_has_host(&f.dst, name, addrs))
            .cloned()
            .collect(),
        diagnostics: set.diagnostics.clone(),
    }
}

/// Markdown: a heading and one table row per flow.
pub fn markdown(set: &FlowSet) -> String {
    markdown_named(set, &[])
}

/// `markdown` with sides by their names and a table below giving each
/// name's addresses (`legend`), so one can tell which address is whose.
pub fn markdown_named(set: &FlowSet, legend: &[(String, Vec<Addr>)]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("# Flows of `{}`\n\n", set.deployment);
    out.push_str(&format!(
        "{} flows. Every row names the requirements behind it and the page line they cite.\n\n",
        set.flows.len()
    ));
    out.push_str(
        "| From | To | Protocol | Ports | Required | Scope | Requirements | Page citation |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    let side_of = |s: &Side| {
        if legend.is_empty() {
            side_text(s)
        } else {
            side_names(s, legend)
        }
    };
    for f in &set.flows {
        let r = row(f);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            esc(&side_of(&f.src)),
            esc(&side_of(&f.dst)),
            r.protocol,
            r.ports,
            if r.required { "yes" } else { "optional" },
            r.scope,
            esc(&r.requirements.join("<br>")),
            esc(&r.sources.join("<br>")),
        ));
    }
    if !legend.is_empty() {
        out.push_str("\n## Hosts and networks\n\n| Name | Addresses |\n|---|---|\n");
        for (name, addrs) in legend {
            let a: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            out.push_str(&format!("| {} | {} |\n", esc(name), esc(&a.join(", "))));
        }
    }
    let notes: Vec<String> = uniq(set.flows.iter().flat_map(|f| f.notes.clone()).collect());
    if !notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for n in notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    let warnings: Vec<String> = set.diagnostics.iter().map(|d| d.message.clone()).collect();
    if !warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        for w in warnings {
            out.push_str(&format!("- {}\n", esc(&w)));
        }
    }
    out
}

/// What each name in a table stands for: named hosts and networks, and roles
/// placed by address (`cisco-ise/pan`), limited to names the flows use.
pub fn legend(dep: &portplan_model::Deployment, set: &FlowSet) -> Vec<(String, Vec<Addr>)> {
    legend_of(dep, set.flows.iter())
}

/// `legend` for flows that are not gathered in a flow set.
pub fn legend_of<'a>(
    dep: &portplan_model::Deployment,
    flows: impl Iterator<Item = &'a Flow>,
) -> Vec<(String, Vec<Addr>)> {
    use std::collections::BTreeMap;
    // Only asked whether it holds a name: hashed, not kept in order (an
    // audit's 100,000 flows name 200,000 sides).
    let used: std::collections::HashSet<&str> = flows
        .flat_map(|f| f.src.labels.iter().chain(&f.dst.labels))
        .map(String::as_str)
        .collect();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, v) in dep.hosts.iter().chain(&dep.networks) {
        out.insert(name.clone(), v.iter().cloned().collect());
    }
    for u in &dep.products {
        for (role, v) in &u.roles {
            let inline: Vec<String> = v
                .iter()
                .filter(|e| !dep.hosts.contains_key(*e) && !dep.networks.contains_key(*e))
                .cloned()
                .collect();
            if !inline.is_empty() {
                out.entry(format!("{}/{role}", u.product))
                    .or_default()
                    .extend(inline);
            }
        }
    }
    out.into_iter()
        .filter(|(k, _)| used.contains(k.as_str()))
        .map(|(k, v)| {
            let addrs: Vec<Addr> = v.iter().filter_map(|s| s.parse().ok()).collect();
            (k, crate::cidr::normalise(&addrs))
        })
        .collect()
}

/// Requirement ids grouped by product: `igel-ums: a, b; strongdm: c`.
pub fn reasons_short(f: &Flow) -> String {
    let mut by: Vec<(String, Vec<String>)> = Vec::new();
    for b in &f.because {
        match by.iter_mut().find(|(p, _)| *p == b.product) {
            Some((_, v)) => v.push(b.requirement.clone()),
            None => by.push((b.product.clone(), vec![b.requirement.clone()])),
        }
    }
    by.into_iter()
        .map(|(p, mut v)| {
            v.dedup();
            format!("{p}: {}", v.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A side by its names when the legend says where they are; with its
/// addresses when they differ (part of a network cut out by an override).
/// `legend` is `legend_of`'s: sorted by name, each name once.
pub fn side_names(s: &Side, legend: &[(String, Vec<Addr>)]) -> String {
    debug_assert!(legend.windows(2).all(|w| w[0].0 < w[1].0));
    let mut known: Vec<Addr> = Vec::new();
    for l in &s.labels {
        // Found by halves: an audit names 100,000 flows' sides against a
        // legend of thousands of names.
        match legend.binary_search_by(|(k, _)| k.as_str().cmp(l)) {
            Ok(i) => known.extend(legend[i].1.iter().cloned()),
            Err(_) => known.extend(l.parse::<Addr>()),
        }
    }
    let known = crate::cidr::normalise(&known);
    if s.labels.is_empty() {
        return side_text(s);
    }
    if known == s.addrs {
        return s.labels.join(", ");
    }
    // Part of the named addresses: name what is cut out.
    let nets = |v: &[Addr]| -> Vec<ipnet::IpNet> {
        v.iter()
            .filter_map(|a| match a {
                Addr::Net(n) => Some(*n),
                _ => None,
            })
            .collect()
    };
    let mut rest = nets(&known);
    for hole in nets(&s.addrs) {
        rest = rest
            .into_iter()
            .flat_map(|n| crate::cidr::subtract(n, hole))
            .collect();
    }
    let inside = s.addrs.iter().all(|a| match a {
        Addr::Net(n) => known
            .iter()
            .any(|k| matches!(k, Addr::Net(m) if m.contains(n))),
        _ => false,
    });
    let rest = ipnet::IpNet::aggregate(&rest);
    if inside && !rest.is_empty() && rest.len() <= 4 {
        let cut: Vec<String> = rest.into_iter().map(|n| Addr::Net(n).to_string()).collect();
        format!("{} except {}", s.labels.join(", "), cut.join(", "))
    } else {
        side_text(s)
    }
}

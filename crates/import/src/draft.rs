//! Findings become a draft catalog entry in the catalog's own format.
//! Roles the page does not name are placeholders (`this-product`, `peer`);
//! every guess carries a `REVIEW:` note so a maintainer knows where to look.

use crate::finding::{Anomaly, AnomalyKind, Finding, PortItem};
use crate::knowledge::Dir;
use crate::{slug, Options};
use portplan_model::{
    Citation, Erratum, Feature, Note, OneOrMany, PageSaid, Parameter, ParameterKind, PortSpec,
    Product, Requirement, Role, RoleKind, Scope, SourceDoc,
};
use serde::Serialize;

const DOC: &str = "page";

/// Ids already used, so building a large draft stays linear.
#[derive(Default)]
struct Seen {
    roles: std::collections::HashSet<String>,
    params: std::collections::HashSet<String>,
    features: std::collections::HashSet<String>,
    requirements: std::collections::HashSet<String>,
    next: std::collections::HashMap<String, u32>,
    /// Host → role id, and (role, service) → requirement id base: computed once.
    host_roles: std::collections::HashMap<String, String>,
    bases: std::collections::HashMap<(String, String), String>,
}

/// Where each draft requirement came from and how sure the importer is.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub requirement: String,
    pub line: u32,
    pub confidence: f32,
    pub basis: crate::ProtocolBasis,
}

/// Takes the findings (in page order, in parts): their strings move into
/// the draft (a large page's findings would otherwise be copied whole).
pub fn draft(
    findings: Vec<Vec<Finding>>,
    anomalies: &[Anomaly],
    opts: &Options,
) -> (Product, Vec<Provenance>) {
    let id = opts
        .product
        .clone()
        .map(|p| slug(&p))
        .filter(|p| !p.is_empty())
        .or_else(|| {
            opts.file.as_deref().map(|f| {
                let stem = std::path::Path::new(f)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                slug(&stem)
            })
        })
        .filter(|p| !p.is_empty() && p.starts_with(|c: char| c.is_ascii_lowercase()))
        .unwrap_or_else(|| "imported-product".into());
    let title = findings
        .iter()
        .flatten()
        .find_map(|f| f.heading.clone())
        .unwrap_or_else(|| id.clone());
    let mut p = Product {
        product: id.clone(),
        name: format!("REVIEW: {id}"),
        vendor: "REVIEW: unknown".into(),
        version: None,
        sources: vec![SourceDoc {
            id: DOC.into(),
            title: title.clone(),
            file: opts.file.clone(),
            url: None,
            read: None,
        }],
        roles: vec![],
        features: vec![],
        choices: vec![],
        parameters: vec![],
        notes: vec![Note {
            text: "REVIEW: drafted by `portplan import`; check roles, directions, features and every REVIEW note, then drop the REVIEW prefixes".into(),
            source: None,
        }],
        requirements: vec![],
        errata: vec![],
    };
    // Sized once: a requirement is large, and growing by doubling would
    // copy them all again and again on a big page.
    let count: usize = findings.iter().map(Vec::len).sum();
    p.requirements.reserve_exact(count);
    let mut prov = Vec::with_capacity(count);
    let mut seen = Seen::default();
    for mut f in findings.into_iter().flatten() {
        let this = if f.this_role.is_empty() {
            "this-product".to_string()
        } else {
            f.this_role.clone()
        };
        add_role(&mut p, &mut seen, &this, &this, RoleKind::Component, None);
        let mut notes: Vec<String> = std::mem::take(&mut f.notes);
        let (from, to) = ends(&mut p, &mut seen, &f, &this, &mut notes);
        let mut ports = Vec::new();
        for item in &f.ports {
            match item {
                PortItem::Fixed(r) => ports.push(PortSpec::Fixed(*r)),
                PortItem::Param {
                    named,
                    default,
                    allowed,
                } => {
                    let pid = param_id(named, &f.service);
                    if seen.params.insert(pid.clone()) {
                        let many = named.to_ascii_lowercase().contains("ports")
                            || named.to_ascii_lowercase().contains("ephemeral");
                        p.parameters.push(Parameter {
                            id: pid.clone(),
                            name: format!("{} ({})", f.service, named),
                            kind: if many && default.is_none() {
                                ParameterKind::Range
                            } else {
                                ParameterKind::Port
                            },
                            default: *default,
                            allowed: *allowed,
                            description: Some(format!(
                                "REVIEW: the page names this port `{named}` (line {})",
                                f.line
                            )),
                        });
                    }
                    ports.push(PortSpec::Param(pid));
                }
            }
        }
        let feature = f.condition.as_ref().map(|c| {
            let fid = feature_id(c);
            if seen.features.insert(fid.clone()) {
                p.features.push(Feature {
                    id: fid.clone(),
                    name: c.clone(),
                    description: Some(format!(
                        "REVIEW: from the page's condition on line {}",
                        f.line
                    )),
                    default: false,
                });
            }
            fid
        });
        if let Some(c) = &f.condition {
            notes.push(format!("condition on the page: {c}"));
        }
        if let Some(h) = &f.heading {
            notes.push(format!("section: {h}"));
        }
        let base = match seen.bases.get(&(this.clone(), f.service.clone())) {
            Some(b) => b.clone(),
            None => {
                let b = slug(&format!("{this}-{}", short(&f.service)));
                seen.bases
                    .insert((this.clone(), f.service.clone()), b.clone());
                b
            }
        };
        let rid = unique_id(&mut seen, &base);
        let alternatives = f.alternatives && ports.len() > 1;
        p.requirements.push(Requirement {
            id: rid.clone(),
            service: if f.service.is_empty() {
                "REVIEW: unnamed".into()
            } else {
                std::mem::take(&mut f.service)
            },
            description: f.description.take(),
            from: one_or_many(from),
            to: one_or_many(to),
            protocol: one_or_many(std::mem::take(&mut f.protocols)),
            ports,
            alternatives,
            icmp_type: None,
            required: f.required.unwrap_or(true),
            feature,
            when: None,
            scope: f.scope,
            interface: f.interface.take(),
            per_target: false,
            notes,
            page_said: f
                .page_said
                .take()
                .map(|(text, correction)| PageSaid { text, correction }),
            source: Citation {
                doc: DOC.into(),
                line: f.line.max(1),
                end_line: None,
                section: None,
            },
        });
        prov.push(Provenance {
            requirement: rid,
            line: f.line,
            confidence: f.confidence,
            basis: f.basis,
        });
    }
    for a in anomalies {
        if matches!(
            a.kind,
            AnomalyKind::NoPort | AnomalyKind::Unparsed | AnomalyKind::OutOfRange
        ) {
            p.errata.push(Erratum {
                source: Citation {
                    doc: DOC.into(),
                    line: a.line.max(1),
                    end_line: None,
                    section: None,
                },
                text: a.text.clone(),
                note: format!("REVIEW: {}", a.message),
                see: vec![],
            });
        }
    }
    crate::choices::infer(&mut p);
    (p, prov)
}

fn one_or_many<T>(mut v: Vec<T>) -> OneOrMany<T> {
    if v.len() == 1 {
        OneOrMany::One(v.remove(0))
    } else {
        OneOrMany::Many(v)
    }
}

/// (from, to) roles of a finding, adding the roles to the product.
fn ends(
    p: &mut Product,
    seen: &mut Seen,
    f: &Finding,
    this: &str,
    notes: &mut Vec<String>,
) -> (Vec<String>, Vec<String>) {
    if f.scope == Scope::Loopback {
        return (vec![this.to_string()], vec![this.to_string()]);
    }
    if f.listener.is_some() || f.talker.is_some() {
        let side = |p: &mut Product,
                    seen: &mut Seen,
                    name: &Option<String>,
                    notes: &mut Vec<String>|
         -> String {
            match name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) if !crate::segment::reads_as_sentence(n) => {
                    let base = n.split('(').next().unwrap_or(n).trim();
                    let id = slug(base);
                    let id = if id.is_empty() {
                        "peer".to_string()
                    } else {
                        id
                    };
                    let endpoints = crate::segment::hosts(n);
                    let kind = if endpoints.is_empty() {
                        RoleKind::Component
                    } else {
                        RoleKind::Internet
                    };
                    add_role(p, seen, &id, n, kind, Some(endpoints));
                    id
                }
                Some(n) => {
                    notes.push(format!(
                        "REVIEW: `{n}` does not read as a role name; the columns may be shifted"
                    ));
                    add_role(
                        p,
                        seen,
                        "peer",
                        "REVIEW: the other party",
                        RoleKind::Service,
                        None,
                    );
                    "peer".into()
                }
                None => {
                    add_role(
                        p,
                        seen,
                        "peer",
                        "REVIEW: the other party",
                        RoleKind::Service,
                        None,
                    );
                    "peer".into()
                }
            }
        };
        // `Self, Control plane`, `kube-apiserver, etcd`: one role each.
        let mut many = |p: &mut Product, seen: &mut Seen, name: &Option<String>| -> Vec<String> {
            let parts = name.as_deref().map(party_list).unwrap_or_default();
            if parts.len() < 2 {
                return vec![side(p, seen, name, notes)];
            }
            let mut ids = Vec::new();
            for part in parts {
                let id = side(p, seen, &Some(part), notes);
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            ids
        };
        let from = many(p, seen, &f.talker);
        // Who uses a port, without who holds it: the section's part holds it
        // (a `Used By` column under a node's heading).
        let to = if f.listener.is_none() && f.talker.is_some() {
            vec![this.to_string()]
        } else {
            many(p, seen, &f.listener)
        };
        return (from, to);
    }
    let peers: Vec<String> = if !f.hosts.is_empty() {
        f.hosts
            .iter()
            .map(|h| {
                if let Some(id) = seen.host_roles.get(h) {
                    return id.clone();
                }
                let id = slug(h.trim_start_matches("*."));
                let id = if id.is_empty() { "peer".into() } else { id };
                add_role(p, seen, &id, h, RoleKind::Internet, Some(vec![h.clone()]));
                seen.host_roles.insert(h.clone(), id.clone());
                id
            })
            .collect()
    } else if let Some(peer) = f.peer.as_deref().map(slug).filter(|s| !s.is_empty()) {
        add_role(
            p,
            seen,
            &peer,
            f.peer.as_deref().unwrap_or(&peer),
            RoleKind::Service,
            None,
        );
        vec![peer]
    } else {
        add_role(
            p,
            seen,
            "peer",
            "REVIEW: the other party",
            RoleKind::Service,
            None,
        );
        vec!["peer".into()]
    };
    match f.dir {
        Dir::Out => (vec![this.to_string()], peers),
        Dir::In => (peers, vec![this.to_string()]),
        Dir::Unknown => {
            if !f.hosts.is_empty() {
                notes.push(
                    "REVIEW: direction not stated; a named host is assumed to be reached outbound"
                        .into(),
                );
                (vec![this.to_string()], peers)
            } else {
                notes.push("REVIEW: direction not stated; assumed inbound to the product".into());
                (peers, vec![this.to_string()])
            }
        }
    }
}

fn add_role(
    p: &mut Product,
    seen: &mut Seen,
    id: &str,
    name: &str,
    kind: RoleKind,
    endpoints: Option<Vec<String>>,
) {
    if !seen.roles.contains(id) {
        seen.roles.insert(id.to_string());
        p.roles.push(Role {
            id: id.to_string(),
            name: name.chars().take(100).collect(),
            kind,
            description: None,
            endpoints: endpoints.unwrap_or_default(),
        });
    }
}

fn short(s: &str) -> String {
    let w: Vec<String> = crate::words(s).into_iter().take(4).collect();
    if w.is_empty() {
        "port".into()
    } else {
        w.join("-")
    }
}

fn unique_id(seen: &mut Seen, base: &str) -> String {
    let base = if base.is_empty() {
        "requirement".to_string()
    } else {
        base.to_string()
    };
    if seen.requirements.insert(base.clone()) {
        return base;
    }
    loop {
        let n = seen.next.entry(base.clone()).or_insert(1);
        *n += 1;
        let candidate = format!("{base}-{n}");
        if seen.requirements.insert(candidate.clone()) {
            return candidate;
        }
    }
}

fn param_id(named: &str, service: &str) -> String {
    let base = if named.contains('_') {
        named.to_ascii_lowercase()
    } else {
        format!("{}_{}", short(service), short(named))
    };
    let id: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let id = id.trim_matches('_').to_string();
    if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("port_{id}")
    } else {
        id
    }
}

/// A party cell naming several parties (`kube-apiserver, etcd`, `Servers
/// and clients`): their names, when each is short enough to be a name.
fn party_list(cell: &str) -> Vec<String> {
    let parts: Vec<String> = cell
        .split([',', ';', '/'])
        .flat_map(|p| p.split(" and "))
        .map(|p| p.trim().trim_start_matches("and ").trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > 1 && parts.iter().all(|p| p.split_whitespace().count() <= 4) {
        parts
    } else {
        vec![cell.to_string()]
    }
}

/// `only required if email notifications will be sent` → `email-notifications`.
fn feature_id(cond: &str) -> String {
    const SKIP: &[&str] = &[
        "only", "required", "needed", "used", "for", "if", "when", "the", "a", "an", "is", "are",
        "you", "your",
    ];
    const STOP: &[&str] = &[
        "is",
        "are",
        "will",
        "was",
        "has",
        "have",
        "be",
        "exists",
        "enabled",
        "used",
        "must",
        "can",
        "running",
        "activated",
        "deactivated",
        "configured",
    ];
    let ws = crate::words(cond);
    let mut kept = Vec::new();
    let mut started = false;
    for w in ws {
        if !started && SKIP.contains(&w.as_str()) {
            continue;
        }
        started = true;
        if matches!(w.as_str(), "the" | "a" | "an") {
            continue;
        }
        if STOP.contains(&w.as_str()) || kept.len() >= 5 {
            break;
        }
        kept.push(w);
    }
    let id = kept.join("-");
    if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        "condition".into()
    } else {
        id
    }
}

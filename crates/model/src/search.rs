//! Catalog search: products, roles and requirements found by words (name,
//! service, description, ids) and by port across the whole catalog.
//! One function for the CLI (`portplan catalog search`) and any later front
//! end, so both find the same things.

use crate::catalog::{PortSpec, Product, Requirement};
use crate::store::Catalog;
use serde::Serialize;

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    Product,
    Role,
    Requirement,
}

/// One thing the search found.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub kind: HitKind,
    pub product: String,
    /// The role or requirement id (the product id for a product).
    pub id: String,
    /// Its name or service.
    pub title: String,
    /// For a requirement: `from -> to`, protocols and ports, as the catalog
    /// states them (a parameter shows its default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Which words matched where, for people deciding between hits.
    pub matched: Vec<String>,
    /// Higher first: exact id and port matches above words found in prose.
    #[serde(skip)]
    pub score: u32,
}

/// One word of a query: a port (`443`), a protocol with a port (`udp/53`,
/// `53/udp`), or text.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Port(u16, Option<String>),
    Text(String),
}

fn terms(query: &str) -> Vec<Term> {
    query
        .split_whitespace()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let (a, b) = lower.split_once('/').unwrap_or((&lower, ""));
            match (a.parse::<u16>(), b.parse::<u16>()) {
                (Ok(p), _) if p > 0 => Term::Port(p, (!b.is_empty()).then(|| b.to_string())),
                (_, Ok(p)) if p > 0 => Term::Port(p, Some(a.to_string())),
                _ => Term::Text(lower),
            }
        })
        .collect()
}

/// The range of a requirement's ports that holds `port`, parameters at their default.
fn opens(p: &Product, r: &Requirement, port: u16) -> Option<String> {
    r.ports.iter().find_map(|ps| match ps {
        PortSpec::Fixed(range) if range.contains(port) => Some(range.to_string()),
        PortSpec::Param(name) => {
            let par = p.parameter(name)?;
            // The default, not the allowed range: a port a parameter may be
            // set to is not one the catalog opens.
            par.default
                .filter(|d| d.contains(port))
                .map(|_| format!("{{{name}}}"))
        }
        _ => None,
    })
}

/// A requirement's protocols and ports as the catalog states them.
fn flow_text(p: &Product, r: &Requirement) -> String {
    let protos: Vec<&str> = r.protocols().iter().map(|x| x.as_str()).collect();
    if r.ports.is_empty() {
        protos.join("/")
    } else {
        format!("{} {}", protos.join("/"), p.ports_text(r))
    }
}

/// Whether every text term is in one of `fields` (case-insensitive); the
/// fields each term was found in.
fn words_in(texts: &[&str], fields: &[(&str, &str)]) -> Option<Vec<String>> {
    let mut found = Vec::new();
    for t in texts {
        let (name, _) = fields
            .iter()
            .find(|(_, v)| v.to_ascii_lowercase().contains(t))?;
        found.push(format!("`{t}` in {name}"));
    }
    Some(found)
}

/// Everything in the catalog that matches every word of `query`. Port
/// terms match requirements only (a port is no property of a product or a
/// role); text terms match ids, names, services, descriptions and, for a
/// requirement, its product's and roles' names too, so `ise radius` finds
/// ISE's RADIUS requirements.
pub fn search(cat: &Catalog, query: &str) -> Vec<Hit> {
    search_with(cat, None, query)
}

/// Every requirement's searchable text, lowercased, made once for a
/// catalog that answers many queries (`portplan serve`): a query then skips
/// the requirements that lack one of its words without building their
/// fields. Must be made from the same catalog it is used with.
pub struct Haystacks(Vec<Vec<String>>);

impl Haystacks {
    pub fn new(cat: &Catalog) -> Haystacks {
        Haystacks(
            cat.products
                .values()
                .map(|p| {
                    p.requirements
                        .iter()
                        .map(|r| requirement_fields(p, r).join("\n").to_ascii_lowercase())
                        .collect()
                })
                .collect(),
        )
    }
}

/// What each of `requirement_fields` is called in a hit's `matched`.
const FIELD_NAMES: [&str; 11] = [
    "requirement id",
    "service",
    "description",
    "from",
    "to",
    "role names",
    "feature",
    "protocol",
    "product id",
    "product name",
    "vendor",
];

/// The fields a requirement's text terms are looked for in (named by
/// `FIELD_NAMES`), its product's last.
fn requirement_fields(p: &Product, r: &Requirement) -> Vec<String> {
    let role_names: String = r
        .from_roles()
        .iter()
        .chain(r.to_roles().iter())
        .filter_map(|id| p.role(id).map(|x| x.name.clone()))
        .collect::<Vec<_>>()
        .join(" ");
    let protos: String = r
        .protocols()
        .iter()
        .map(|x| x.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        r.id.clone(),
        r.service.clone(),
        r.description.clone().unwrap_or_default(),
        r.from_roles().join(" "),
        r.to_roles().join(" "),
        role_names,
        r.feature.clone().unwrap_or_default(),
        protos,
        p.product.clone(),
        p.name.clone(),
        p.vendor.clone(),
    ]
}

/// `search`, with the catalog's haystacks when it has them.
pub fn search_with(cat: &Catalog, hay: Option<&Haystacks>, query: &str) -> Vec<Hit> {
    let terms = terms(query);
    if terms.is_empty() {
        return Vec::new();
    }
    let texts: Vec<&str> = terms
        .iter()
        .filter_map(|t| match t {
            Term::Text(s) => Some(s.as_str()),
            Term::Port(..) => None,
        })
        .collect();
    let ports: Vec<(u16, Option<&str>)> = terms
        .iter()
        .filter_map(|t| match t {
            Term::Port(p, proto) => Some((*p, proto.as_deref())),
            Term::Text(_) => None,
        })
        .collect();
    let exact = |id: &str| texts.iter().any(|t| id.eq_ignore_ascii_case(t));
    let mut hits = Vec::new();
    for (pi, p) in cat.products.values().enumerate() {
        let pfields = [
            ("product id", p.product.as_str()),
            ("product name", p.name.as_str()),
            ("vendor", p.vendor.as_str()),
        ];
        if ports.is_empty() {
            if let Some(m) = words_in(&texts, &pfields) {
                hits.push(Hit {
                    kind: HitKind::Product,
                    product: p.product.clone(),
                    id: p.product.clone(),
                    title: p.name.clone(),
                    detail: None,
                    matched: m,
                    score: if exact(&p.product) { 100 } else { 50 },
                });
            }
            for r in &p.roles {
                let desc = r.description.as_deref().unwrap_or("");
                let ends = r.endpoints.join(" ");
                let mut fields = vec![
                    ("role id", r.id.as_str()),
                    ("role name", r.name.as_str()),
                    ("role description", desc),
                    ("endpoints", ends.as_str()),
                ];
                fields.extend(pfields);
                if let Some(m) = words_in(&texts, &fields) {
                    hits.push(Hit {
                        kind: HitKind::Role,
                        product: p.product.clone(),
                        id: r.id.clone(),
                        title: r.name.clone(),
                        detail: None,
                        matched: m,
                        score: if exact(&r.id) { 80 } else { 30 },
                    });
                }
            }
        }
        for (ri, r) in p.requirements.iter().enumerate() {
            // Words never span fields (they hold no whitespace; fields are
            // joined by a newline), so this skips exactly the requirements
            // `words_in` below would refuse.
            let lacks_a_word = hay
                .and_then(|h| h.0.get(pi)?.get(ri))
                .is_some_and(|text| !texts.iter().all(|t| text.contains(t)));
            if lacks_a_word {
                continue;
            }
            let mut port_hits = Vec::new();
            let ports_ok = ports.iter().all(|(port, proto)| {
                let proto_ok = proto.is_none_or(|want| {
                    r.protocols()
                        .iter()
                        .any(|x| x.as_str().eq_ignore_ascii_case(want))
                });
                match opens(p, r, *port).filter(|_| proto_ok) {
                    Some(how) => {
                        port_hits.push(format!("port {port} in {how}"));
                        true
                    }
                    None => false,
                }
            });
            if !ports_ok {
                continue;
            }
            let values = requirement_fields(p, r);
            let fields: Vec<(&str, &str)> = FIELD_NAMES
                .iter()
                .copied()
                .zip(values.iter().map(String::as_str))
                .collect();
            let Some(mut m) = words_in(&texts, &fields) else {
                continue;
            };
            m.extend(port_hits);
            let exact_port = ports.iter().any(|(port, _)| {
                r.ports
                    .iter()
                    .any(|ps| matches!(ps, PortSpec::Fixed(x) if x.low == *port && x.high == *port))
            });
            hits.push(Hit {
                kind: HitKind::Requirement,
                product: p.product.clone(),
                id: r.id.clone(),
                title: r.service.clone(),
                detail: Some(format!(
                    "{} -> {}, {}",
                    r.from_roles().join(","),
                    r.to_roles().join(","),
                    flow_text(p, r)
                )),
                matched: m,
                score: match (exact(&r.id), exact_port) {
                    (true, _) => 90,
                    (_, true) => 60,
                    _ => 20,
                },
            });
        }
    }
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.kind.cmp(&b.kind))
            .then(a.product.cmp(&b.product))
            .then(a.id.cmp(&b.id))
    });
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haystacks_find_what_the_fields_find() {
        let cat = Catalog::load(None).expect("the built-in catalog loads");
        let hay = Haystacks::new(&cat);
        for q in [
            "radius",
            "ise radius",
            "1812",
            "1812/udp",
            "gateway 443",
            "ssh",
            "tcp",
            "Active Directory",
            "replication 8443",
            "no-such-word",
            "kerberos udp/88",
        ] {
            let plain = serde_json::to_string(&search(&cat, q)).unwrap();
            let fast = serde_json::to_string(&search_with(&cat, Some(&hay), q)).unwrap();
            assert_eq!(plain, fast, "{q}");
        }
    }

    #[test]
    fn query_words_become_ports_protocols_and_text() {
        assert_eq!(
            terms("udp/53 443 Radius 53/tcp"),
            vec![
                Term::Port(53, Some("udp".into())),
                Term::Port(443, None),
                Term::Text("radius".into()),
                Term::Port(53, Some("tcp".into())),
            ]
        );
    }
}

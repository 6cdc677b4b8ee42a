//! Catalog search: products, roles and requirements found by words (name,
//! service, description, ids) and by port across the whole catalog.
//! One function for the CLI (`portplan catalog search`) and any later front
//! end, so both find the same things.

use crate::catalog::{PortSpec, Product, Requirement};
use crate::ports::PortRange;
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

/// The ports a port spec opens: its range, or a parameter's default (not
/// the range it may be set to: a port a parameter may take is not one the
/// catalog opens).
fn open_range(p: &Product, ps: &PortSpec) -> Option<PortRange> {
    match ps {
        PortSpec::Fixed(range) => Some(*range),
        PortSpec::Param(name) => p.parameter(name).and_then(|par| par.default),
    }
}

/// The port spec of a requirement that holds `port` (no allocation: a
/// port query may test every requirement).
fn opening<'r>(p: &Product, r: &'r Requirement, port: u16) -> Option<&'r PortSpec> {
    r.ports
        .iter()
        .find(|ps| open_range(p, ps).is_some_and(|x| x.contains(port)))
}

/// The range of a requirement's ports that holds `port`, as written.
fn opens(p: &Product, r: &Requirement, port: u16) -> Option<String> {
    opening(p, r, port).map(|ps| match ps {
        PortSpec::Fixed(range) => range.to_string(),
        PortSpec::Param(name) => format!("{{{name}}}"),
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
///
/// One query scans every requirement's fields: cheaper than building the
/// index (`Haystacks`) it would use once. A server answering many queries
/// uses `search_top`, which finds the same hits (tested against this).
pub fn search(cat: &Catalog, query: &str) -> Vec<Hit> {
    let q = Query::new(query);
    if q.is_empty() {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for p in cat.products.values() {
        q.product_and_role_hits(p, &mut hits);
        hits.extend(
            p.requirements
                .iter()
                .filter_map(|r| q.requirement_hit(p, r)),
        );
    }
    hits.sort_by(|a, b| order(key(a), key(b)));
    hits
}

mod index;
pub use index::Haystacks;

impl Haystacks {
    /// The catalog's requirements made searchable once, for a catalog
    /// that answers many queries (`portplan serve`). Must be used with the
    /// same catalog.
    pub fn new(cat: &Catalog) -> Haystacks {
        Haystacks::build(
            cat,
            index::Parts {
                fields: requirement_fields,
                opens: |p, r| r.ports.iter().filter_map(|ps| open_range(p, ps)).collect(),
            },
        )
    }
}

/// A query split into its text terms (lowercase) and its ports (with the
/// protocol each names, if any).
struct Query {
    texts: Vec<String>,
    ports: Vec<(u16, Option<String>)>,
}

impl Query {
    fn new(query: &str) -> Query {
        let mut q = Query {
            texts: Vec::new(),
            ports: Vec::new(),
        };
        for t in terms(query) {
            match t {
                Term::Text(s) => q.texts.push(s),
                Term::Port(p, proto) => q.ports.push((p, proto)),
            }
        }
        q
    }

    fn texts(&self) -> Vec<&str> {
        self.texts.iter().map(String::as_str).collect()
    }

    fn is_empty(&self) -> bool {
        self.texts.is_empty() && self.ports.is_empty()
    }

    fn exact(&self, id: &str) -> bool {
        self.texts.iter().any(|t| id.eq_ignore_ascii_case(t))
    }

    /// Whether the requirement opens every port of the query (with its
    /// protocol, when one is named).
    fn ports_open(&self, p: &Product, r: &Requirement) -> bool {
        self.ports.iter().all(|(port, proto)| {
            let proto_ok = proto.as_deref().is_none_or(|want| {
                r.protocol
                    .iter()
                    .any(|x| x.as_str().eq_ignore_ascii_case(want))
            });
            proto_ok && opening(p, r, *port).is_some()
        })
    }

    /// Exact id and port matches above words found in prose.
    fn requirement_score(&self, r: &Requirement) -> u32 {
        let exact_port = self.ports.iter().any(|(port, _)| {
            r.ports
                .iter()
                .any(|ps| matches!(ps, PortSpec::Fixed(x) if x.low == *port && x.high == *port))
        });
        match (self.exact(&r.id), exact_port) {
            (true, _) => 90,
            (_, true) => 60,
            _ => 20,
        }
    }

    /// The hits of a product and its roles (none for a query with ports:
    /// a port is no property of a product or a role).
    fn product_and_role_hits(&self, p: &Product, hits: &mut Vec<Hit>) {
        if !self.ports.is_empty() {
            return;
        }
        let texts = self.texts();
        let pfields = [
            ("product id", p.product.as_str()),
            ("product name", p.name.as_str()),
            ("vendor", p.vendor.as_str()),
        ];
        if let Some(m) = words_in(&texts, &pfields) {
            hits.push(Hit {
                kind: HitKind::Product,
                product: p.product.clone(),
                id: p.product.clone(),
                title: p.name.clone(),
                detail: None,
                matched: m,
                score: if self.exact(&p.product) { 100 } else { 50 },
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
                    score: if self.exact(&r.id) { 80 } else { 30 },
                });
            }
        }
    }

    /// The requirement's hit, when its fields hold every text term and it
    /// opens every port.
    fn requirement_hit(&self, p: &Product, r: &Requirement) -> Option<Hit> {
        if !self.ports_open(p, r) {
            return None;
        }
        let values = requirement_fields(p, r);
        let fields: Vec<(&str, &str)> = FIELD_NAMES
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect();
        let mut matched = words_in(&self.texts(), &fields)?;
        for (port, _) in &self.ports {
            if let Some(how) = opens(p, r, *port) {
                matched.push(format!("port {port} in {how}"));
            }
        }
        Some(Hit {
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
            matched,
            score: self.requirement_score(r),
        })
    }
}

/// Hits in the order people read them: higher score, then products, roles,
/// requirements, then by product and id.
fn order(a: (u32, HitKind, &str, &str), b: (u32, HitKind, &str, &str)) -> std::cmp::Ordering {
    b.0.cmp(&a.0)
        .then(a.1.cmp(&b.1))
        .then(a.2.cmp(b.2))
        .then(a.3.cmp(b.3))
}

fn key(h: &Hit) -> (u32, HitKind, &str, &str) {
    (h.score, h.kind, &h.product, &h.id)
}

/// `search` with the catalog's haystacks: how many hits there are, and the
/// first `limit` of them. Only the requirements the word index names are
/// looked at, and only the hits shown are written out.
pub fn search_top(cat: &Catalog, hay: &Haystacks, query: &str, limit: usize) -> (usize, Vec<Hit>) {
    let q = Query::new(query);
    if q.is_empty() {
        return (0, Vec::new());
    }
    let products: Vec<&Product> = cat.products.values().collect();
    let mut made = Vec::new();
    for p in &products {
        q.product_and_role_hits(p, &mut made);
    }
    let texts = q.texts();
    // Requirements that match, kept as their place until they are shown.
    let mut found: Vec<(u32, &Product, &Requirement)> = Vec::new();
    let ports: Vec<u16> = q.ports.iter().map(|(p, _)| *p).collect();
    for g in hay.candidates(&texts, &ports) {
        let text = hay.text(g);
        if !texts.iter().all(|t| text.contains(t)) {
            continue;
        }
        let (pi, ri) = hay.owner(g);
        let Some((p, r)) = products
            .get(pi)
            .and_then(|p| Some((*p, p.requirements.get(ri)?)))
        else {
            continue;
        };
        if q.ports_open(p, r) {
            found.push((q.requirement_score(r), p, r));
        }
    }
    let total = made.len() + found.len();
    made.sort_by(|a, b| order(key(a), key(b)));
    found.sort_by(|a, b| {
        order(
            (a.0, HitKind::Requirement, &a.1.product, &a.2.id),
            (b.0, HitKind::Requirement, &b.1.product, &b.2.id),
        )
    });
    // Merge the two sorted lists, writing out requirement hits only as far
    // as the limit reaches.
    let mut out = Vec::with_capacity(limit.min(total));
    let (mut made, mut found) = (made.into_iter().peekable(), found.into_iter().peekable());
    while out.len() < limit {
        let take_made = match (made.peek(), found.peek()) {
            (Some(h), Some(f)) => {
                order(key(h), (f.0, HitKind::Requirement, &f.1.product, &f.2.id)).is_le()
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_made {
            out.extend(made.next());
        } else if let Some((_, p, r)) = found.next() {
            // The text held every term, so its fields do: a hit.
            out.extend(q.requirement_hit(p, r));
        }
    }
    (total, out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn same(cat: &Catalog, hay: &Haystacks, q: &str) {
        let plain = serde_json::to_string(&search(cat, q)).unwrap();
        let (total, hits) = search_top(cat, hay, q, usize::MAX);
        assert_eq!(plain, serde_json::to_string(&hits).unwrap(), "{q}");
        assert_eq!(total, hits.len(), "{q}");
        // A limit shows the first hits of the same list, and counts them all.
        let (t3, first3) = search_top(cat, hay, q, 3);
        assert_eq!(t3, total, "{q}");
        let head: Vec<&Hit> = hits.iter().take(3).collect();
        assert_eq!(
            serde_json::to_string(&head).unwrap(),
            serde_json::to_string(&first3).unwrap(),
            "{q}"
        );
    }

    #[test]
    fn the_index_finds_what_scanning_every_field_finds() {
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
            // Pieces inside words, across punctuation, and without a piece.
            "adius",
            "sdm-gw",
            "tcp/udp",
            "->",
            "/",
            "strongdm",
            "e",
            "é",
        ] {
            same(&cat, &hay, q);
        }
        // Ports: single ones, inside ranges (dynamic RPC), a parameter's
        // default, with a protocol and with words.
        for port in [
            1, 22, 53, 88, 123, 135, 389, 443, 445, 1024, 3268, 5000, 8080, 49152, 50000, 65535,
        ] {
            for q in [
                format!("{port}"),
                format!("{port}/tcp"),
                format!("udp/{port}"),
                format!("{port} 443"),
                format!("{port} server"),
            ] {
                same(&cat, &hay, &q);
            }
        }
    }

    #[test]
    fn every_slice_of_every_requirement_text_finds_the_same() {
        // Queries cut from the catalog's own texts at every kind of place:
        // whole words, word middles, spans over punctuation.
        let cat = Catalog::load(None).expect("the built-in catalog loads");
        let hay = Haystacks::new(&cat);
        let mut n = 0;
        for g in (0..hay.len() as u32).step_by(23) {
            let text: Vec<char> = hay.text(g).chars().collect();
            for (start, len) in [(0, 4), (3, 7), (11, 5), (20, 9), (7, 2)] {
                let q: String = text.iter().skip(start).take(len).collect();
                // A slice over a space is a query of two words.
                if !q.trim().is_empty() {
                    same(&cat, &hay, &q);
                    n += 1;
                }
            }
        }
        assert!(n > 100, "only {n} queries");
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

//! `catalog search` over the built-in catalog: words find products, roles
//! and requirements; ports find the requirements that open them, fixed or
//! through a parameter's default; every word must match.

use portplan_model::search::{search, HitKind};
use portplan_model::Catalog;

fn cat() -> Catalog {
    Catalog::load(None).map_err(|e| format!("{e:?}")).unwrap()
}

#[test]
fn a_product_id_comes_first() {
    let hits = search(&cat(), "strongdm");
    assert_eq!(hits[0].kind, HitKind::Product, "{hits:?}");
    assert_eq!(hits[0].id, "strongdm");
    assert!(hits.len() > 10, "its roles and requirements follow");
}

#[test]
fn a_port_finds_the_requirements_that_open_it_and_only_those() {
    let c = cat();
    let hits = search(&c, "1812");
    assert!(!hits.is_empty());
    for h in &hits {
        assert_eq!(h.kind, HitKind::Requirement, "{h:?}");
        let p = c.get(&h.product).unwrap();
        let r = p.requirements.iter().find(|r| r.id == h.id).unwrap();
        // Opened: a fixed range holds 1812, or a parameter's default does.
        let opens = r.ports.iter().any(|ps| match ps {
            portplan_model::PortSpec::Fixed(x) => x.contains(1812),
            portplan_model::PortSpec::Param(n) => p
                .parameter(n)
                .and_then(|x| x.default)
                .is_some_and(|d| d.contains(1812)),
        });
        assert!(opens, "{h:?}");
    }
    assert!(hits.iter().any(|h| h.product == "cisco-ise"), "{hits:?}");
    // The protocol narrows: RADIUS is UDP.
    let udp = search(&c, "udp/1812");
    let tcp = search(&c, "1812/tcp");
    assert!(udp.iter().any(|h| h.id == "psn-radius-auth"), "{udp:?}");
    assert!(!tcp.iter().any(|h| h.id == "psn-radius-auth"), "{tcp:?}");
    assert_eq!(
        udp.len() + tcp.len(),
        hits.len()
            + hits
                .iter()
                .filter(|h| {
                    let d = h.detail.as_deref().unwrap();
                    d.contains("tcp/udp") || d.contains("udp/tcp")
                })
                .count()
    );
    for h in &udp {
        assert!(h.detail.as_deref().unwrap().contains("udp"), "{h:?}");
    }
}

#[test]
fn a_port_behind_a_parameter_default_is_found() {
    // ISE's guest portal port is a parameter whose default is 8443.
    let hits = search(&cat(), "8443 guest");
    assert!(
        hits.iter().any(|h| h.product == "cisco-ise"
            && h.matched.iter().any(|m| m.contains("{guest_portal_port}"))),
        "{hits:?}"
    );
}

#[test]
fn every_word_must_match_across_product_and_requirement() {
    let c = cat();
    let both = search(&c, "ise radius");
    assert!(!both.is_empty());
    assert!(both.iter().all(|h| h.product == "cisco-ise"), "{both:?}");
    assert!(search(&c, "radius zzzz-no-such-word").is_empty());
    assert!(search(&c, "").is_empty());
}

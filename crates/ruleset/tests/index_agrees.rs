//! The audit's fast paths against the straightforward ones, on generated
//! Cisco IOS ACLs long enough to be indexed: every verdict (its parts, the
//! deciding rules, the reasons) and every reverse finding with the rule
//! index equals what scanning every rule in order gives; and remarks,
//! which the reader no longer splits into words, label the rules they
//! precede exactly as written, without changing any rule.

use portplan_ruleset::space::Space;
use portplan_ruleset::{judge, parse_query, read, reverse, Compiled, Hit, Members};
use proptest::prelude::*;
use std::collections::HashSet;

/// Addresses of a small universe, so that rules overlap, shadow and
/// decide each other's flows.
const SIDES: &[&str] = &[
    "any",
    "host 10.0.0.1",
    "host 10.0.0.2",
    "host 10.0.0.5",
    "10.0.0.0 0.0.0.3",
    "10.0.0.4 0.0.0.3",
    "10.0.0.0 0.0.0.255",
];
const PORTS: &[&str] = &[
    "",
    " eq 22",
    " eq 80",
    " eq 443",
    " range 80 443",
    " gt 1000",
];
const PROTOS: &[&str] = &["tcp", "udp", "ip", "icmp"];
/// The same addresses as flows write them.
const HOSTS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.5",
    "10.0.0.0/30",
    "10.0.0.9",
];
const FLOW_PORTS: &[&str] = &["22", "80", "443", "80,443", "1001", "8080"];

/// One generated entry: (permit?, protocol, source, destination, ports).
type Gen = (bool, usize, usize, usize, usize);

fn entry_text((permit, p, s, d, port): Gen) -> String {
    let proto = PROTOS[p];
    let ports = if proto == "tcp" || proto == "udp" {
        PORTS[port]
    } else {
        ""
    };
    format!(
        " {} {proto} {} {}{ports}",
        if permit { "permit" } else { "deny" },
        SIDES[s],
        SIDES[d]
    )
}

fn acl(entries: &[Gen], remarks: &[(usize, String)]) -> String {
    let mut t = String::from("ip access-list extended EDGE\n");
    for (i, e) in entries.iter().enumerate() {
        for (at, r) in remarks {
            if *at == i {
                t.push_str(&format!(" remark {r}\n"));
            }
        }
        t.push_str(&entry_text(*e));
        t.push('\n');
    }
    t
}

fn gen_entry() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        0..PROTOS.len(),
        0..SIDES.len(),
        0..SIDES.len(),
        0..PORTS.len(),
    )
}

fn gen_flow() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("tcp"), Just("udp")],
        0..HOSTS.len(),
        0..HOSTS.len(),
        0..FLOW_PORTS.len(),
    )
        .prop_map(|(p, s, d, port)| {
            format!("{p} {} -> {}:{}", HOSTS[s], HOSTS[d], FLOW_PORTS[port])
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// More than the 48 rules below which a chain is scanned anyway.
    #[test]
    fn indexed_verdicts_equal_scanning_every_rule(
        entries in proptest::collection::vec(gen_entry(), 60..140),
        flows in proptest::collection::vec(gen_flow(), 1..24),
    ) {
        let text = acl(&entries, &[]);
        let rs = read(&text, "gen.cfg", Some("cisco-ios")).map_err(|d| TestCaseError::fail(d.to_string()))?;
        let m = Members::default();
        let indexed = Compiled::new(&rs, &m);
        let scanned = Compiled::without_index(&rs, &m);
        let mut all: Vec<Space> = Vec::new();
        let mut hits: HashSet<Hit> = HashSet::new();
        for f in &flows {
            let q = parse_query(f, &m).map_err(TestCaseError::fail)?;
            let a = judge(&indexed, &q.spaces, None);
            let b = judge(&scanned, &q.spaces, None);
            prop_assert_eq!(&a, &b, "flow {}", f);
            prop_assert_eq!(&a.hits, &b.hits, "flow {}", f);
            hits.extend(a.hits.iter().copied());
            all.extend(q.spaces);
        }
        prop_assert_eq!(
            reverse(&indexed, &all, &hits, None),
            reverse(&scanned, &all, &hits, None)
        );
    }

    /// Remarks label the rule after them (several joined by a space) and
    /// change no rule; a remark's text may look like an entry.
    #[test]
    fn remarks_label_rules_and_change_none(
        entries in proptest::collection::vec(gen_entry(), 1..30),
        remarks in proptest::collection::vec(
            (0usize..30, prop_oneof![
                Just("permit tcp any any eq 80".to_string()),
                Just("10 deny ip any any".to_string()),
                "[a-z]{1,8}( [a-z0-9:/.]{1,8}){0,4}",
            ]),
            0..4,
        ),
    ) {
        let plain = read(&acl(&entries, &[]), "gen.cfg", Some("cisco-ios")).map_err(|d| TestCaseError::fail(d.to_string()))?;
        let marked = read(&acl(&entries, &remarks), "gen.cfg", Some("cisco-ios")).map_err(|d| TestCaseError::fail(d.to_string()))?;
        let (a, b) = (&plain.chains[0].rules, &marked.chains[0].rules);
        prop_assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            prop_assert_eq!(&x.matches, &y.matches);
            prop_assert_eq!(&x.action, &y.action);
            prop_assert_eq!(&x.text, &y.text);
            let want: Vec<&str> = remarks
                .iter()
                .filter(|(at, _)| *at == i)
                .map(|(_, r)| r.as_str())
                .collect();
            let want = (!want.is_empty()).then(|| want.join(" "));
            prop_assert_eq!(y.label.as_deref(), want.as_deref(), "rule {}", i);
        }
    }
}

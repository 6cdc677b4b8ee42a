//! The cloud formats write what an engineer attaches: one firewall object
//! per host (AWS security group, Azure NSG, GCP network tag), each holding
//! every ingress its host needs, and a stated answer for DNS names.
//! Checked through the readers' meaning: a flow's verdict, and which
//! object the rules that decided it belong to.

mod common;

use common::*;
use portplan_model::catalog::Scope;
use portplan_model::{Addr, Because, Flow, FlowSet, PortRange, PortSet, Protocol, Side};
use portplan_render::HostView;
use portplan_ruleset::{Members, Verdict};
use std::sync::Arc;

/// How each cloud names the object a rule belongs to: the attribute a
/// rule resource carries, and its value for a host's object.
struct Cloud {
    format: &'static str,
    owner_key: &'static str,
    owner_of: fn(&str) -> String,
    /// The declaration of one object, for counting them.
    object: fn(&str) -> String,
}

fn ident(host: &str) -> String {
    host.replace('-', "_")
}

const CLOUDS: [Cloud; 3] = [
    Cloud {
        format: "aws-terraform",
        owner_key: "security_group_id",
        owner_of: |h| format!("aws_security_group.{}.id", ident(h)),
        object: |h| format!("resource \"aws_security_group\" \"{}\"", ident(h)),
    },
    Cloud {
        format: "azure-terraform",
        owner_key: "network_security_group_name",
        owner_of: |h| format!("azurerm_network_security_group.{}.name", ident(h)),
        object: |h| {
            format!(
                "resource \"azurerm_network_security_group\" \"{}\"",
                ident(h)
            )
        },
    },
    Cloud {
        format: "gcp-terraform",
        owner_key: "target_tags",
        owner_of: |h| format!("[\"pp-{h}\"]"),
        object: |h| format!("# target tag pp-{h}:"),
    },
];

/// The value of `key` in the resource block that starts at `line` (1-based).
fn owner(text: &str, line: usize, key: &str) -> String {
    for l in text.lines().skip(line - 1) {
        let l = l.trim();
        if l == "}" {
            break;
        }
        if let Some((k, v)) = l.split_once('=') {
            if k.trim() == key {
                return v.trim().to_string();
            }
        }
    }
    panic!("no `{key}` in the block at line {line}:\n{text}");
}

fn strongdm() -> (FlowSet, Vec<HostView>) {
    let (set, dep) = plan("strongdm");
    (set, directory(&dep))
}

/// Hosts (single addresses) of the deployment that receive a network flow.
fn receivers(set: &FlowSet, dir: &[HostView]) -> Vec<String> {
    dir.iter()
        .filter(|h| h.addrs.len() == 1 && !h.addrs[0].to_string().contains('/'))
        .filter(|h| {
            set.flows
                .iter()
                .any(|f| f.scope != Scope::Loopback && f.dst.labels.contains(&h.name))
        })
        .map(|h| h.name.clone())
        .collect()
}

#[test]
fn each_receiving_host_gets_one_object_holding_all_its_ingress() {
    let (set, dir) = strongdm();
    let hosts = receivers(&set, &dir);
    assert_eq!(hosts, ["bastion-1", "pg-1", "sdm-gw-1", "sdm-gw-2"]);
    let m = Members::default();
    for c in &CLOUDS {
        let out = render_dir(c.format, &set, None, &dir);
        let t = &out.text;
        let rs = read(c.format, t);
        assert!(rs.issues.is_empty(), "{}: {:?}", c.format, rs.issues);
        let ins = inbound(&rs);
        for h in &hosts {
            assert_eq!(
                t.matches(&(c.object)(h)).count(),
                1,
                "{}: {h} must have exactly one object\n{t}",
                c.format
            );
        }
        // sdm-gw-1's object admits tcp/5000 from the staff laptops, the
        // relay and the other gateway, and only by its own rules.
        for src in ["10.50.7.9", "10.20.0.10", "203.0.113.11"] {
            let q = format!("tcp {src} -> 203.0.113.10:5000");
            let j = judged(&ins, &m, &q, None);
            assert_eq!(
                j.verdict,
                Verdict::Allowed,
                "{}: {q}: {:#?}",
                c.format,
                j.parts
            );
            for l in lines(&j) {
                assert_eq!(
                    owner(t, l, c.owner_key),
                    (c.owner_of)("sdm-gw-1"),
                    "{}: {q} decided at line {l} by another object",
                    c.format
                );
            }
        }
        // Nothing beyond: the CI runners do not reach the gateway, nor
        // the gateway's other ports.
        for q in [
            "tcp 10.60.4.1 -> 203.0.113.10:5000",
            "tcp 10.50.7.9 -> 203.0.113.10:5001",
        ] {
            let j = judged(&ins, &m, q, None);
            assert_ne!(j.verdict, Verdict::Allowed, "{}: {q}", c.format);
        }
        // The resources reach pg-1 and bastion-1 on their own ports only,
        // each decided by that host's object.
        for (src, dst, port, host) in [
            ("10.20.0.10", "10.30.0.21", 5432, "pg-1"),
            ("203.0.113.11", "10.30.0.40", 22, "bastion-1"),
        ] {
            let q = format!("tcp {src} -> {dst}:{port}");
            let j = judged(&ins, &m, &q, None);
            assert_eq!(j.verdict, Verdict::Allowed, "{}: {q}", c.format);
            for l in lines(&j) {
                assert_eq!(owner(t, l, c.owner_key), (c.owner_of)(host), "{q}");
            }
        }
    }
}

#[test]
fn the_relay_has_one_security_group_and_no_group_is_empty() {
    let (set, dir) = strongdm();
    let t = render_dir("aws-terraform", &set, None, &dir).text;
    // The relay sends (to the gateways, the resources, the Internet): its
    // egress lives in one group, described by its one address.
    let group_descriptions: Vec<&str> = t
        .split("resource \"aws_security_group\" ")
        .skip(1)
        .filter_map(|b| b.lines().find(|l| l.trim().starts_with("description")))
        .collect();
    let relay_groups: Vec<&&str> = group_descriptions
        .iter()
        .filter(|d| d.contains("10.20.0.10/32"))
        .collect();
    assert_eq!(relay_groups.len(), 1, "{relay_groups:?}");
    assert!(relay_groups[0].contains("\"sdm-relay-1: 10.20.0.10/32\""));
    assert_eq!(
        t.matches("resource \"aws_security_group\" ").count(),
        5,
        "{t}"
    );
    // Every group holds at least one rule; networks that only send
    // (staff laptops, CI runners) are source ranges, not groups.
    for l in t.lines().filter_map(|l| {
        l.strip_prefix("resource \"aws_security_group\" \"")
            .and_then(|r| r.strip_suffix("\" {"))
    }) {
        assert!(
            t.contains(&format!("security_group_id = aws_security_group.{l}.id")),
            "group {l} holds no rule"
        );
    }
    assert!(!t.contains("aws_security_group\" \"staff_laptops\""));
    let m = Members::default();
    let rs = read("aws-terraform", &t);
    let out = {
        let mut r = rs.clone();
        r.filters
            .retain(|f| f.direction == portplan_ruleset::Direction::Out);
        r
    };
    let j = judged(&out, &m, "tcp 10.20.0.10 -> 203.0.113.11:5000", None);
    assert_eq!(j.verdict, Verdict::Allowed, "{:#?}", j.parts);
    for l in lines(&j) {
        assert_eq!(
            owner(&t, l, "security_group_id"),
            "aws_security_group.sdm_relay_1.id"
        );
    }
}

#[test]
fn for_host_writes_only_that_hosts_object() {
    let (set, dir) = strongdm();
    let gw = dir.iter().find(|h| h.name == "sdm-gw-1").unwrap().clone();
    let mine = FlowSet {
        flows: set
            .flows
            .iter()
            .filter(|f| touches(&f.src, &gw) || touches(&f.dst, &gw))
            .cloned()
            .collect(),
        ..set.clone()
    };
    for c in &CLOUDS {
        let out = render_dir(c.format, &mine, Some(&gw), &dir);
        for other in ["sdm-gw-2", "pg-1", "bastion-1", "sdm-relay-1"] {
            assert!(
                !out.text.contains(&(c.object)(other)),
                "{}: --for-host sdm-gw-1 wrote {other}'s object",
                c.format
            );
        }
        assert!(out.text.contains(&(c.object)("sdm-gw-1")), "{}", c.format);
        // Its ingress is all there.
        let rs = read(c.format, &out.text);
        let j = judged(
            &inbound(&rs),
            &Members::default(),
            "tcp 10.20.0.10 -> 203.0.113.10:5000",
            None,
        );
        assert_eq!(j.verdict, Verdict::Allowed, "{}", c.format);
    }
}

/// One host sending HTTPS to a DNS name and to a wildcard.
fn to_names() -> (FlowSet, Vec<HostView>) {
    let a = |s: &str| s.parse::<Addr>().unwrap();
    let flow = |dst: &str, req: &str| Flow {
        src: Side {
            labels: vec!["app-1".into()],
            addrs: vec![a("10.0.0.5")],
        },
        dst: Side {
            labels: vec![dst.into()],
            addrs: vec![Addr::Name(dst.into())],
        },
        protocol: Protocol::Tcp,
        ports: PortSet::from_ranges([PortRange {
            low: 443,
            high: 443,
        }]),
        icmp_type: None,
        scope: Scope::Network,
        required: true,
        interface: None,
        because: vec![Arc::new(Because {
            product: "p".into(),
            requirement: req.into(),
            service: "HTTPS".into(),
            feature: None,
            source: "t:1".into(),
        })],
        notes: vec![],
    };
    let set = FlowSet {
        deployment: "names".into(),
        flows: vec![
            flow("api.example.com", "api"),
            flow("*.cdn.example.net", "cdn"),
        ],
        diagnostics: vec![],
    };
    let dir = vec![HostView {
        name: "app-1".into(),
        addrs: vec![a("10.0.0.5")],
    }];
    (set, dir)
}

#[test]
fn dns_names_get_a_stated_answer_in_each_cloud() {
    let (set, dir) = to_names();
    let m = Members::default();
    for c in &CLOUDS {
        let out = render_dir(c.format, &set, None, &dir);
        let t = &out.text;
        // Still listed: no VPC-level rule enforces a name.
        for n in ["api.example.com", "*.cdn.example.net"] {
            let u = out
                .unexpressed
                .iter()
                .find(|u| u.reason.contains(n))
                .unwrap_or_else(|| panic!("{}: {n} not listed", c.format));
            assert!(
                u.reason.contains("any") && u.reason.contains("more than planned"),
                "{}: the answer must say what it permits: {}",
                c.format,
                u.reason
            );
        }
        assert!(!t.contains("NOT EXPRESSED") || t.contains("more than planned"));
        // What is written permits the flow to the name, and the reader
        // says so; the wider part (any address on 443) is real too, and
        // only on the planned port.
        let rs = read(c.format, t);
        assert!(rs.issues.is_empty(), "{}: {:?}", c.format, rs.issues);
        // The by-name firewall the output offers is read for what it is.
        let offered = ["Network Firewall", "Azure Firewall", "Cloud NGFW"];
        assert!(
            rs.notes
                .iter()
                .any(|n| offered.iter().any(|o| n.message.contains(o))),
            "{}: the reader says nothing of the by-name rules: {:?}",
            c.format,
            rs.notes
        );
        for (q, allowed) in [
            ("tcp 10.0.0.5 -> api.example.com:443", true),
            ("tcp 10.0.0.5 -> 198.51.100.9:443", true),
        ] {
            let j = judged(&rs, &m, q, None);
            assert_eq!(
                j.verdict == Verdict::Allowed,
                allowed,
                "{}: {q}: {:#?}",
                c.format,
                j.parts
            );
        }
    }
    // AWS: the any-address egress is only on 443, and the domain list
    // filters by name (a leading dot for the wildcard).
    let aws = render_dir("aws-terraform", &set, None, &dir).text;
    let rs = read("aws-terraform", &aws);
    let j = judged(&rs, &m, "tcp 10.0.0.5 -> 198.51.100.9:444", None);
    assert_ne!(j.verdict, Verdict::Allowed);
    assert!(aws.contains("generated_rules_type = \"ALLOWLIST\""));
    assert!(aws.contains("targets              = [\".cdn.example.net\", \"api.example.com\"]"));
    // Azure: application rules take the wildcard as written.
    let az = render_dir("azure-terraform", &set, None, &dir).text;
    assert!(
        az.contains("destination_fqdns = [\"api.example.com\"]"),
        "{az}"
    );
    assert!(
        az.contains("destination_fqdns = [\"*.cdn.example.net\"]"),
        "{az}"
    );
    // GCP: FQDN objects take no wildcard: only the exact name gets a
    // rule, and the wildcard's answer says why.
    let gcp = render_dir("gcp-terraform", &set, None, &dir);
    assert!(gcp.text.contains("dest_fqdns = [\"api.example.com\"]"));
    assert!(!gcp.text.contains("dest_fqdns = [\"*."));
    assert!(gcp
        .unexpressed
        .iter()
        .any(|u| u.reason.contains("*.cdn.example.net") && u.reason.contains("no wildcards")));
}

/// A flow `src -> dst` on one TCP port, each side one named party.
fn tcp(src: (&str, &str), dst: (&str, &str), port: u16) -> Flow {
    let side = |(l, a): (&str, &str)| Side {
        labels: vec![l.into()],
        addrs: vec![a.parse::<Addr>().unwrap()],
    };
    Flow {
        src: side(src),
        dst: side(dst),
        protocol: Protocol::Tcp,
        ports: PortSet::from_ranges([PortRange {
            low: port,
            high: port,
        }]),
        icmp_type: None,
        scope: Scope::Network,
        required: true,
        interface: None,
        because: vec![Arc::new(Because {
            product: "p".into(),
            requirement: format!("r{port}"),
            service: format!("tcp {port}"),
            feature: None,
            source: "t:1".into(),
        })],
        notes: vec![],
    }
}

/// Parties inside others: db-1 is a host in the receiving network lan;
/// app-9 is a single-address party (it sends, so it has a group) inside
/// agents, a network that only sends.
fn nested() -> (FlowSet, Vec<HostView>) {
    let mon = ("mon-1", "10.9.0.5");
    let set = FlowSet {
        deployment: "nested".into(),
        flows: vec![
            tcp(mon, ("lan", "10.1.0.0/24"), 9100),
            tcp(mon, ("db-1", "10.1.0.15"), 9104),
            tcp(("agents", "10.2.0.0/16"), mon, 8220),
            tcp(("app-9", "10.2.8.15/32"), mon, 9200),
        ],
        diagnostics: vec![],
    };
    let dir = [
        ("mon-1", "10.9.0.5"),
        ("lan", "10.1.0.0/24"),
        ("db-1", "10.1.0.15"),
        ("agents", "10.2.0.0/16"),
        ("app-9", "10.2.8.15/32"),
    ]
    .iter()
    .map(|(n, a)| HostView {
        name: (*n).into(),
        addrs: vec![a.parse().unwrap()],
    })
    .collect();
    (set, dir)
}

/// Every cloud's output, read back, decides each query as given.
fn decides(set: &FlowSet, dir: &[HostView], queries: &[(&str, bool)]) {
    let m = Members::default();
    for c in &CLOUDS {
        let out = render_dir(c.format, set, None, dir);
        let rs = read(c.format, &out.text);
        assert!(rs.issues.is_empty(), "{}: {:?}", c.format, rs.issues);
        for &(q, allowed) in queries {
            let j = judged(&rs, &m, q, None);
            assert_eq!(
                j.verdict == Verdict::Allowed,
                allowed,
                "{}: {q}: {:#?}\n{}",
                c.format,
                j.parts,
                out.text
            );
        }
    }
}

/// Azure applies a subnet's NSG and the NIC's NSG both to traffic to the
/// NIC, and the reader ANDs them: before the fix, the network's deny-all
/// blocked the host's own flow and the host's deny-all blocked the
/// network's flow to it. Each must pass both, and nothing more.
#[test]
fn a_host_inside_a_receiving_network_is_admitted_by_both_groups() {
    let (set, dir) = nested();
    decides(
        &set,
        &dir,
        &[
            ("tcp 10.9.0.5 -> 10.1.0.15:9104", true),
            ("tcp 10.9.0.5 -> 10.1.0.15:9100", true),
            ("tcp 10.9.0.5 -> 10.1.0.20:9100", true),
            // The network's rule for the host is scoped to the host.
            ("tcp 10.9.0.5 -> 10.1.0.20:9104", false),
        ],
    );
    // Azure: the network's NSG admits the host's flow to the host only,
    // and the host's NSG admits the network's flow to the host only.
    let az = render_dir("azure-terraform", &set, None, &dir).text;
    let in_nsg = |nsg: &str, port: &str, dst: &str| {
        az.split("resource \"azurerm_network_security_rule\"")
            .any(|r| {
                r.contains(&format!("azurerm_network_security_group.{nsg}.name"))
                    && r.contains(&format!("[\"{port}\"]"))
                    && r.contains(&format!("destination_address_prefix  = \"{dst}\""))
            })
    };
    assert!(in_nsg("lan", "9104", "10.1.0.15/32"), "{az}");
    assert!(in_nsg("db_1", "9100", "10.1.0.15/32"), "{az}");
}

/// AWS: a network that only sends has no group; an instance inside it
/// that holds a group of its own (its egress restricted to its rules) was
/// blocked sending the network's flow. It must pass, on its port only.
#[test]
fn an_instance_inside_a_sending_network_sends_the_networks_flows() {
    let (set, dir) = nested();
    decides(
        &set,
        &dir,
        &[
            ("tcp 10.2.8.15 -> 10.9.0.5:8220", true),
            ("tcp 10.2.8.15 -> 10.9.0.5:9200", true),
            ("tcp 10.2.8.15 -> 10.9.0.5:8221", false),
            ("tcp 10.2.0.1 -> 10.9.0.5:8220", true),
        ],
    );
    let aws = render_dir("aws-terraform", &set, None, &dir).text;
    assert!(
        aws.contains(
            "resource \"aws_vpc_security_group_egress_rule\" \"app_9_egress_to_mon_1_tcp_8220\""
        ),
        "{aws}"
    );
}

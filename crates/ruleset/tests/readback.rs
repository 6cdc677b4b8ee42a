//! The read-back proof: for every renderer, what it wrote, read back by
//! this crate, permits exactly the planned flows of its scope, minus what
//! the renderer listed as not expressed. Nothing missing (every flow
//! allowed, by the filters that must carry it), nothing extra (no rule
//! permits beyond the plan, no rule is dead). On every example deployment
//! and on generated plans.

mod common;

use common::*;
use portplan_model::catalog::Scope;
use portplan_model::{Addr, Because, Flow, FlowSet, PortRange, PortSet, Protocol, Side};
use portplan_render::{HostView, RenderOptions};
use portplan_ruleset::{
    flow_spaces_any, host_flow_spaces_any, judge, reverse, Compiled, Direction, End, Members,
    Ruleset, Verdict,
};
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

/// What a format leaves open by design, as its renderer's header says.
fn open_by_design(format: &str, egress: bool) -> &'static [Direction] {
    match format {
        "nftables" | "iptables" if egress => &[],
        // Windows allows outbound unless the profile blocks it; GCP and
        // Azure allow egress by default; the renderers say so.
        // nftables and iptables filter inbound only unless `--egress`.
        "windows" | "gcp-terraform" | "azure-terraform" | "nftables" | "iptables" => {
            &[Direction::Out]
        }
        // Kubernetes: a pod no NetworkPolicy selects accepts everything,
        // and the renderer writes ingress only (its header says so); what
        // it restricts are the pods its policies select, which the reader
        // isolates with a Block rule per policy before that default.
        "k8s" => &[Direction::In, Direction::Out],
        _ => &[],
    }
}

/// Rules a host firewall keeps for the host itself (loopback, IPv6
/// neighbour discovery), which no planned flow needs.
fn infrastructure(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    // The management path (`management:`) serves the administrators.
    t.contains("management access")
        || t.contains("\"lo\"")
        || t.contains(" lo ")
        || t.ends_with(" lo")
        || t.contains("-i lo")
        || t.contains("-o lo")
        || t.contains("nd-")
        || t.contains("neighbor")
}

fn only(rs: &Ruleset, dir: Direction) -> Ruleset {
    let mut r = rs.clone();
    r.filters.retain(|f| f.direction == dir);
    r
}

/// A box without a single host's traffic to itself (which never crosses
/// a network): for each address that is a single point on both sides.
fn without_self(s: portplan_ruleset::space::Space) -> Vec<portplan_ruleset::space::Space> {
    let mut out = vec![s.clone()];
    let points4: Vec<u32> = s
        .src
        .v4
        .spans()
        .iter()
        .filter(|(a, b)| a == b && s.dst.v4.contains(*a))
        .map(|(a, _)| *a)
        .collect();
    for p in points4 {
        let mut own = portplan_ruleset::space::Space::every();
        own.src.v4 = portplan_ruleset::space::Ranges::one(p);
        own.dst.v4 = portplan_ruleset::space::Ranges::one(p);
        own.src.v6 = portplan_ruleset::space::Ranges::empty();
        own.dst.v6 = portplan_ruleset::space::Ranges::empty();
        own.src.names = portplan_ruleset::space::Names::none();
        own.dst.names = portplan_ruleset::space::Names::none();
        out = portplan_ruleset::space::subtract_all(out, &own);
    }
    out
}

/// The deployment's own parties: their names, and all their addresses.
type Placed = (HashSet<String>, portplan_ruleset::space::Addrs);

fn placed_of(parties: &[(String, Vec<Addr>)]) -> Placed {
    let names = parties.iter().map(|p| p.0.clone()).collect();
    // A network named for the Internet (`internet: any`) is outside the
    // deployment, not one of its own addresses.
    let addrs: Vec<Addr> = parties
        .iter()
        .flat_map(|p| p.1.iter().cloned())
        .filter(|a| *a != Addr::Any)
        .collect();
    (
        names,
        portplan_ruleset::query::side_addrs(&addrs, &Members::default()),
    )
}

/// The parties whose egress a format leaves to others, and the addresses
/// whose egress it must carry. A cloud format with a group per host writes
/// no group for a named network that only sends (staff laptops): those
/// machines are not instances it can attach to, so their egress is not
/// its to carry (their flows' ingress still is, and is checked).
fn outside_senders(
    format: &str,
    set: &FlowSet,
    directory: &[HostView],
    own: &portplan_ruleset::space::Addrs,
) -> (HashSet<String>, portplan_ruleset::space::Addrs) {
    let mut names = HashSet::new();
    let mut gate = own.clone();
    if format != "aws-terraform" {
        return (names, gate);
    }
    for h in directory {
        let network = h.addrs.iter().any(|a| match a {
            Addr::Net(n) => n.prefix_len() < n.max_prefix_len(),
            _ => false,
        });
        let receives = set
            .flows
            .iter()
            .any(|f| f.scope != Scope::Loopback && f.dst.labels.contains(&h.name));
        if network && !receives {
            names.insert(h.name.clone());
            gate = gate.subtract(&host_addrs(h));
        }
    }
    (names, gate)
}

/// Everything wrong with `format`'s output for this plan (and host).
fn prove(
    format: &str,
    what: &str,
    set: &FlowSet,
    placed: &Placed,
    host: Option<&HostView>,
    directory: &[HostView],
) -> Vec<String> {
    let opts = RenderOptions {
        directory: directory.to_vec(),
        ..RenderOptions::default()
    };
    prove_with(format, what, set, placed, host, &opts)
}

fn prove_with(
    format: &str,
    what: &str,
    set: &FlowSet,
    placed: &Placed,
    host: Option<&HostView>,
    opts: &RenderOptions,
) -> Vec<String> {
    let (placed, own) = placed;
    // A plan's `any` is the parties outside the deployment.
    let outside = portplan_ruleset::space::Addrs::every().subtract(own);
    let mut bad = Vec::new();
    let rendered = render_with(format, set, host, opts);
    let rs = read(format, &rendered.text);
    let ctx = format!("{format} {what}");
    for i in &rs.issues {
        bad.push(format!(
            "{ctx}: own output not understood at line {}: {} ({})",
            i.line, i.message, i.text
        ));
    }
    let members = Members::default();
    let c = Compiled::new(&rs, &members);
    let h = host.map(host_addrs);
    let gaps: HashSet<Vec<String>> = rendered
        .unexpressed
        .iter()
        .map(|u| {
            let mut v = u.requirements.clone();
            v.sort();
            v
        })
        .collect();
    let senders = outside_senders(format, set, &opts.directory, own);
    let ins = only(&rs, Direction::In);
    let outs = only(&rs, Direction::Out);
    let c_in = Compiled::new(&ins, &members);
    let c_out = Compiled::new(&outs, &members);
    let mut hits = HashSet::new();
    let mut declared_hits = HashSet::new();
    let mut all_spaces = Vec::new();
    for f in in_scope(set, host) {
        let spaces_for = |any: &portplan_ruleset::space::Addrs| match host {
            Some(hv) => host_flow_spaces_any(f, &members, &hv.name, &hv.addrs, any),
            None => flow_spaces_any(f, &members, false, any),
        };
        // What the plan needs: a flow to `any` may go anywhere (no format
        // can say "anywhere but the deployment"); what it must reach:
        // the parties outside the deployment.
        all_spaces.extend(spaces_for(&portplan_ruleset::space::Addrs::every()));
        // A side that merged the host into `any` (`office, remote clients`
        // as `any`): the spaces below keep only the outside of `any`, but
        // the host's own part (to or from other machines) is planned too,
        // so the rules carrying it serve this flow. (Counted for the
        // unused-rule check only; the host's part is not judged here.)
        if let Some(ha) = &h {
            let own: Vec<_> = spaces_for(&portplan_ruleset::space::Addrs::every())
                .into_iter()
                .flat_map(|s| {
                    let (mut out, mut inb) = (s.clone(), s);
                    out.src = out.src.intersect(ha);
                    out.dst = out.dst.subtract(ha);
                    inb.dst = inb.dst.intersect(ha);
                    inb.src = inb.src.subtract(ha);
                    [out, inb]
                })
                .filter(|x| !x.is_empty())
                .collect();
            if !own.is_empty() {
                hits.extend(judge(&c, &own, h.as_ref()).hits.iter().copied());
            }
        }
        let spaces = spaces_for(&outside);
        // No packet can make the flow (an IPv4-only end and an IPv6-only
        // end), or it is only the host talking to itself over loopback.
        let carried: Vec<_> = match &h {
            Some(ha) => spaces
                .iter()
                .flat_map(|s| portplan_ruleset::eval::without_self(s, ha))
                .collect(),
            None => spaces.clone(),
        };
        if carried.is_empty() {
            continue;
        }
        let j = judge(&c, &spaces, h.as_ref());
        hits.extend(j.hits.iter().copied());
        let mut ids = f.reason_ids();
        ids.sort();
        if gaps.contains(&ids) {
            declared_hits.extend(j.hits.iter().copied());
            continue;
        }
        let name = format!(
            "{} -> {} {} {}",
            f.src.labels.join(","),
            f.dst.labels.join(","),
            f.protocol,
            f.ports
        );
        if j.verdict != Verdict::Allowed {
            bad.push(format!(
                "{ctx}: {name} is {}: {:?}",
                j.verdict.as_str(),
                j.parts
            ));
            continue;
        }
        // Carried where it must be: inbound at its destination, outbound
        // at its source, wherever the format has such filters.
        let dst_here = match host {
            Some(hv) => touches(&f.dst, hv),
            None => f.dst.labels.iter().any(|l| placed.contains(l)),
        };
        let src_here = match host {
            Some(hv) => touches(&f.src, hv),
            None => f
                .src
                .labels
                .iter()
                .any(|l| placed.contains(l) && !senders.0.contains(l)),
        };
        // On a host, only the part that arrives at (leaves) the host.
        let part = |dir: Direction| -> Vec<portplan_ruleset::space::Space> {
            let Some(ha) = &h else {
                // A cloud or cluster firewall carries, at each end, the
                // part of the flow whose end is a party of the deployment,
                // and never a host's traffic to itself.
                return spaces
                    .iter()
                    .filter_map(|s| {
                        let mut x = s.clone();
                        if dir == Direction::In {
                            x.dst = x.dst.intersect(own);
                        } else {
                            x.src = x.src.intersect(&senders.1);
                        }
                        (!x.is_empty()).then_some(x)
                    })
                    .flat_map(without_self)
                    .collect();
            };
            spaces
                .iter()
                .flat_map(|s| {
                    let mut x = s.clone();
                    if dir == Direction::In {
                        if f.scope != Scope::Broadcast {
                            x.dst = x.dst.intersect(ha);
                        }
                    } else {
                        x.src = x.src.intersect(ha);
                    }
                    // Its traffic to itself goes over loopback.
                    portplan_ruleset::eval::without_self(&x, ha)
                })
                .filter(|x| !x.is_empty())
                .collect()
        };
        let (p_in, p_out) = (part(Direction::In), part(Direction::Out));

        if dst_here && !ins.filters.is_empty() && !p_in.is_empty() {
            let j = judge(&c_in, &p_in, h.as_ref());
            if j.verdict != Verdict::Allowed {
                bad.push(format!(
                    "{ctx}: {name} is {} inbound at its destination: {:?}",
                    j.verdict.as_str(),
                    j.parts
                ));
            }
        }
        if src_here && !outs.filters.is_empty() && !p_out.is_empty() {
            let j = judge(&c_out, &p_out, h.as_ref());
            if j.verdict != Verdict::Allowed {
                bad.push(format!(
                    "{ctx}: {name} is {} outbound at its source: {:?}",
                    j.verdict.as_str(),
                    j.parts
                ));
            }
        }
    }
    let rev = reverse(&c, &all_spaces, &hits, h.as_ref());
    // A rule for a flow the renderer said it cannot express exactly (an
    // NSG rule allowing every ICMP type for one) may permit more: it said so.
    let declared_refs: Vec<portplan_ruleset::RuleRef> = declared_hits
        .iter()
        .map(|h| portplan_ruleset::RuleRef::of(&rs, *h))
        .collect();
    let declared = |r: &portplan_ruleset::RuleRef| declared_refs.contains(r);
    for b in rev.beyond.iter().filter(|b| !declared(&b.rule)) {
        // Neighbour discovery and loopback rules serve the host or the
        // link, not a planned flow (as for unused rules below).
        if infrastructure(&b.rule.text) {
            continue;
        }
        bad.push(format!(
            "{ctx}: line {} `{}` permits beyond the plan: {:?}",
            b.rule.line, b.rule.text, b.beyond
        ));
    }
    for f in &rs.filters {
        if let End::Policy {
            accept: true, line, ..
        } = rs.chains[f.entry].end
        {
            if !open_by_design(format, opts.egress).contains(&f.direction) {
                bad.push(format!(
                    "{ctx}: filter {} (line {line}) accepts by policy",
                    f.name
                ));
            }
        }
    }
    for s in &rev.shadowed {
        // nftables sets for DNS names start empty by design.
        if s.by.is_empty() && s.rule.text.contains("@dns_") {
            continue;
        }
        // A planned rule the management path covers already (SSH from the
        // admin network) is redundant by the user's choice.
        if !s.by.is_empty() && s.by.iter().all(|r| r.text.contains("management access")) {
            continue;
        }
        bad.push(format!(
            "{ctx}: line {} `{}` never decides anything (shadowed by {:?})",
            s.rule.line,
            s.rule.text,
            s.by.iter().map(|r| r.line).collect::<Vec<_>>()
        ));
    }
    for u in &rev.unused {
        let is_accept = rs.rules().any(|(_, r)| {
            r.line == u.line && r.text == u.text && r.action == portplan_ruleset::Action::Accept
        });
        if is_accept && !infrastructure(&u.text) {
            bad.push(format!(
                "{ctx}: line {} `{}` serves no planned flow",
                u.line, u.text
            ));
        }
    }
    bad
}

fn prove_examples(format: &str) {
    prove_examples_with(format, &RenderOptions::default());
}

fn prove_examples_with(format: &str, opts: &RenderOptions) {
    let per_host = portplan_render::renderer(format).unwrap().per_host();
    let mut bad = Vec::new();
    for ex in examples() {
        let (set, dep) = plan(&ex);
        let with_dir = RenderOptions {
            directory: directory(&dep),
            ..opts.clone()
        };
        let placed = placed_of(
            &hosts(&dep)
                .into_iter()
                .map(|n| {
                    let hv = host_view(&dep, &n);
                    (n, hv.addrs)
                })
                .collect::<Vec<_>>(),
        );
        if per_host {
            for name in firewall_hosts(&dep) {
                let hv = host_view(&dep, &name);
                bad.extend(prove_with(
                    format,
                    &format!("{ex} --for-host {name}"),
                    &set,
                    &placed,
                    Some(&hv),
                    &with_dir,
                ));
            }
        } else {
            bad.extend(prove_with(format, &ex, &set, &placed, None, &with_dir));
        }
    }
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

macro_rules! proofs {
    ($($test:ident => $format:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            prove_examples($format);
        }
    )*};
}

proofs! {
    readback_nftables => "nftables",
    readback_iptables => "iptables",
    readback_cisco_ios => "cisco-ios",
    readback_cisco_asa => "cisco-asa",
    readback_junos => "junos",
    readback_panos => "panos",
    readback_aws_terraform => "aws-terraform",
    readback_azure_terraform => "azure-terraform",
    readback_gcp_terraform => "gcp-terraform",
    readback_k8s => "k8s",
    readback_windows => "windows",
}

/// Host firewalls with `--egress` (outbound filtered too: no accept policy
/// outbound for nftables and iptables) and a management network: every
/// planned flow still exactly, the management rules serving the admins.
fn management_opts(egress: bool) -> RenderOptions {
    RenderOptions {
        egress,
        management: Some(portplan_render::Management {
            from: vec![
                "192.0.2.0/24".parse().unwrap(),
                "2001:db8::/64".parse().unwrap(),
            ],
            labels: vec!["admins".into()],
            ports: vec![],
        }),
        ..Default::default()
    }
}

#[test]
fn readback_host_formats_with_egress() {
    for format in ["nftables", "iptables", "windows"] {
        prove_examples_with(format, &management_opts(true));
    }
}

#[test]
fn readback_host_formats_with_management() {
    for format in ["nftables", "iptables", "windows"] {
        prove_examples_with(format, &management_opts(false));
    }
}

/// The management path is open on every host: TCP 22 from the admin
/// network reaches the host whatever the plan says, before any other rule.
#[test]
fn management_path_is_open_on_every_host() {
    let admin: portplan_ruleset::space::Addrs = host_addrs(&HostView {
        name: "admin".into(),
        addrs: vec!["192.0.2.7".parse().unwrap()],
    });
    for format in ["nftables", "iptables", "windows"] {
        for ex in examples() {
            let (set, dep) = plan(&ex);
            for name in firewall_hosts(&dep) {
                let hv = host_view(&dep, &name);
                let text = render_with(format, &set, Some(&hv), &management_opts(false)).text;
                let rs = read(format, &text);
                let c = Compiled::new(&rs, &Members::default());
                // The admin address is IPv4: it reaches the host's IPv4
                // addresses (a packet never goes from one family to the other).
                let h = host_addrs(&HostView {
                    name: hv.name.clone(),
                    addrs: hv
                        .addrs
                        .iter()
                        .filter(|a| !a.to_string().contains(':'))
                        .cloned()
                        .collect(),
                });
                let ssh = portplan_ruleset::space::Space {
                    proto: portplan_ruleset::space::Ranges::one(6),
                    src: admin.clone(),
                    dst: h.clone(),
                    sport: portplan_ruleset::space::Ranges::full(),
                    dport: portplan_ruleset::space::Ranges::one(22),
                };
                if ssh.dst.is_empty() || !h.intersect(&admin).is_empty() {
                    continue;
                }
                let j = judge(&c, &[ssh], Some(&h));
                assert_eq!(
                    j.verdict,
                    Verdict::Allowed,
                    "{format} {ex} --for-host {name}: SSH from the management network: {:?}\n{text}",
                    j.parts
                );
            }
        }
    }
}

#[test]
fn every_rule_format_is_proven() {
    // Pictures (mermaid, dot) permit nothing; every other format is above.
    let proven = [
        "nftables",
        "iptables",
        "cisco-ios",
        "cisco-asa",
        "junos",
        "panos",
        "aws-terraform",
        "azure-terraform",
        "gcp-terraform",
        "k8s",
        "windows",
    ];
    for f in portplan_render::formats() {
        assert!(
            proven.contains(&f) || f == "mermaid" || f == "dot",
            "render format {f} has no read-back proof"
        );
    }
}

// ---- generated plans ----

/// The parties generated flows run between: hosts and networks of both
/// families, a DNS name and `any`.
fn pool() -> Vec<(&'static str, Vec<Addr>)> {
    let a = |s: &str| s.parse::<Addr>().unwrap();
    vec![
        ("h1", vec![a("10.1.0.1")]),
        ("h2", vec![a("10.1.0.2")]),
        ("h3", vec![a("10.2.0.3"), a("2001:db8::3")]),
        ("h4", vec![a("192.0.2.4")]),
        ("net1", vec![a("10.9.0.0/24")]),
        ("net6", vec![a("2001:db8:9::/64")]),
        ("ext", vec![a("198.51.100.7")]),
        ("svc.example.com", vec![a("svc.example.com")]),
        ("any", vec![Addr::Any]),
    ]
}

fn side(ix: &[usize]) -> Side {
    let p = pool();
    let mut labels = Vec::new();
    let mut addrs = Vec::new();
    for &i in ix {
        labels.push(p[i].0.to_string());
        addrs.extend(p[i].1.iter().cloned());
    }
    labels.sort();
    labels.dedup();
    addrs.sort();
    addrs.dedup();
    Side { labels, addrs }
}

/// Sources and destinations (indexes into `pool`), a protocol pick, port
/// ranges, and whether the flow is required.
type RawFlow = (Vec<usize>, Vec<usize>, u8, Vec<(u16, u16)>, bool);

fn arb_flow() -> impl Strategy<Value = RawFlow> {
    (
        proptest::collection::vec(0usize..7, 1..3),
        proptest::collection::vec(0usize..9, 1..3),
        0u8..10,
        proptest::collection::vec((1u16..2000, 0u16..3), 1..3),
        proptest::bool::weighted(0.85),
    )
        .prop_map(|(s, d, p, ports, req)| {
            let ports = ports.into_iter().map(|(a, w)| (a, a + w)).collect();
            (s, d, p, ports, req)
        })
}

fn make_set(raw: Vec<RawFlow>) -> FlowSet {
    let flows: Vec<Flow> = raw
        .into_iter()
        .enumerate()
        .filter_map(|(i, (s, d, p, ports, required))| {
            let src = side(&s);
            let dst = side(&d);
            if src == dst {
                return None;
            }
            let (protocol, ports, icmp_type) = match p {
                0..=4 => (Protocol::Tcp, ports, None),
                5..=7 => (Protocol::Udp, ports, None),
                8 => (Protocol::Icmp, vec![], Some("echo-request".to_string())),
                _ => (Protocol::Esp, vec![], None),
            };
            let ports = PortSet::from_ranges(
                ports
                    .into_iter()
                    .map(|(a, b)| PortRange { low: a, high: b }),
            );
            Some(Flow {
                src,
                dst,
                protocol,
                ports,
                icmp_type,
                scope: Scope::Network,
                required,
                interface: None,
                because: vec![Arc::new(Because {
                    product: "gen".into(),
                    requirement: format!("r{i}"),
                    service: "generated".into(),
                    feature: None,
                    source: "gen:1".into(),
                })],
                notes: vec![],
            })
        })
        .collect();
    FlowSet {
        deployment: "generated".into(),
        flows: portplan_plan::merge(flows),
        diagnostics: vec![],
    }
}

fn prove_generated(format: &str, set: &FlowSet, host_ix: usize) -> Vec<String> {
    let per_host = portplan_render::renderer(format).unwrap().per_host();
    let placed = placed_of(
        &pool()[..7]
            .iter()
            .map(|p| (p.0.to_string(), p.1.clone()))
            .collect::<Vec<_>>(),
    );
    let p = pool();
    let hv = HostView {
        name: p[host_ix].0.to_string(),
        addrs: p[host_ix].1.clone(),
    };
    // The named parties, as `plan` would pass them: cloud formats split
    // merged sides into one group per party with it.
    let dir: Vec<HostView> = p[..7]
        .iter()
        .map(|x| HostView {
            name: x.0.to_string(),
            addrs: x.1.clone(),
        })
        .collect();
    let mut bad = prove(
        format,
        "generated",
        set,
        &placed,
        per_host.then_some(&hv),
        &dir,
    );
    // Over-permission on generated plans is reported, not asserted, where
    // flows overlap after merging (two rules for one need): only missing
    // flows and rules that are not understood fail here.
    bad.retain(|b| !b.contains("never decides anything") && !b.contains("serves no planned flow"));
    bad
}

macro_rules! generated {
    ($($test:ident => $format:literal),* $(,)?) => {$(
        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
            #[test]
            fn $test(raw in proptest::collection::vec(arb_flow(), 1..8), host in 0usize..5) {
                let set = make_set(raw);
                let bad = prove_generated($format, &set, host);
                prop_assert!(bad.is_empty(), "{}", bad.join("\n"));
            }
        }
    )*};
}

generated! {
    generated_nftables => "nftables",
    generated_iptables => "iptables",
    generated_cisco_ios => "cisco-ios",
    generated_cisco_asa => "cisco-asa",
    generated_junos => "junos",
    generated_panos => "panos",
    generated_aws_terraform => "aws-terraform",
    generated_azure_terraform => "azure-terraform",
    generated_gcp_terraform => "gcp-terraform",
    generated_k8s => "k8s",
    generated_windows => "windows",
}

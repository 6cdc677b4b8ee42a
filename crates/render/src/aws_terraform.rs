//! AWS: Terraform with one security group per host of the deployment
//! (`cloud_groups`), each holding that host's ingress and egress as
//! `aws_vpc_security_group_ingress_rule`/`egress_rule` resources (Terraform
//! AWS provider, registry.terraform.io/providers/hashicorp/aws/latest/docs/
//! resources/vpc_security_group_ingress_rule: one rule per resource, with
//! `cidr_ipv4`, `cidr_ipv6` or `referenced_security_group_id`). A peer with
//! a group is referenced by it, others by CIDR. Terraform removes AWS's
//! default allow-all egress, so egress rules are written too.
//!
//! DNS names: security groups match addresses only. The egress to a name is
//! written to any address on the flow's ports (wider than the plan, said in
//! the rule's description and listed as not expressed), and an AWS Network
//! Firewall domain list that does allow only the names is written behind a
//! variable (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
//! aws-properties-networkfirewall-rulegroup-rulessourcelist.html: ALLOWLIST,
//! TLS_SNI / HTTP_HOST, a leading `.` for a domain and its subdomains).

use crate::cloud_groups::{Cloud, End};
use crate::common::{self, why_lines, Gaps, Split};
use crate::prepare::{prepare, Can};
use crate::tf::{self, Labels};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::{Flow, FlowSet, Protocol};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

pub struct AwsTerraform;

/// AWS allows these characters (and letters/digits) in group and rule descriptions.
fn aws_text(s: &str, max: usize) -> String {
    common::sanitize(
        &common::one_line(s),
        |c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c),
        '_',
        max,
    )
}

/// The other end of a rule: a group (party index) or a CIDR of one family.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Group(usize),
    V4(String),
    V6(String),
}

/// One rule resource: its group, direction, peer, protocol and ports.
type Key = (usize, bool, Peer, String, Option<(i32, i32)>);

/// What the flows a rule serves say about it.
#[derive(Default)]
struct Serves {
    reasons: BTreeSet<String>,
    why: Vec<String>,
    /// DNS names this any-address egress stands for.
    names: BTreeSet<String>,
}

impl Renderer for AwsTerraform {
    fn name(&self) -> &'static str {
        "aws-terraform"
    }
    fn extension(&self) -> &'static str {
        "tf"
    }
    fn render(&self, set: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String> {
        let set = &common::split_outside(set);
        let flows = common::sorted(set);
        let cloud = Cloud::new(&flows, opts);
        let mut gaps = Gaps::default();
        // Names are kept: this format answers them itself (see the module doc).
        let can = Can {
            fqdn: true,
            wildcard: true,
            broadcast: false,
        };
        let mut rules: BTreeMap<Key, Serves> = BTreeMap::new();
        let mut unwritten: Vec<Vec<String>> = Vec::new();
        // (protocol, ports) per DNS name, for the Network Firewall list.
        let mut domains: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (i, f) in flows.iter().enumerate() {
            let p = prepare(f, can, &mut gaps, "Security groups");
            let mut why = why_lines(f);
            why.extend(p.comments.iter().cloned());
            for n in &p.src.names {
                why.push(gaps.add(
                    f,
                    &format!("DNS name {n}"),
                    "Security groups: a source given by DNS name cannot be matched; use the addresses it resolves to",
                ));
            }
            if !p.writable() {
                unwritten.push(why);
                continue;
            }
            let icmp = if f.protocol == Protocol::Icmp {
                match common::icmp_of(f) {
                    Ok(i) => Some(i),
                    Err(e) => {
                        why.push(gaps.add(f, "ICMP type", &e));
                        unwritten.push(why);
                        continue;
                    }
                }
            } else {
                None
            };
            let (srcs, dsts) = &cloud.ends[i];
            let mut wrote = false;
            let mut add = |key: Key, names: &[String]| {
                let s = rules.entry(key).or_default();
                s.reasons.extend(f.reason_ids());
                for w in &why {
                    if !s.why.contains(w) {
                        s.why.push(w.clone());
                    }
                }
                s.names.extend(names.iter().cloned());
            };
            for d in dsts.iter().filter(|d| cloud.parties[d.party].grouped) {
                for s in srcs {
                    for peer in peers(&cloud, s, d.party) {
                        for (proto, ports) in specs(f, icmp, &cloud, &peer, d.party) {
                            add((d.party, false, peer.clone(), proto, ports), &[]);
                            wrote = true;
                        }
                    }
                }
            }
            let mut dns_senders = Vec::new();
            for owner in senders(&cloud, srcs) {
                for d in dsts {
                    let names = Split::of(&d.addrs).names;
                    let mut ps = peers(&cloud, d, owner);
                    if !names.is_empty() && !Split::of(&d.addrs).any {
                        let own = cloud.parties[owner].split();
                        if !own.v4.is_empty() {
                            ps.push(Peer::V4("0.0.0.0/0".into()));
                        }
                        if !own.v6.is_empty() {
                            ps.push(Peer::V6("::/0".into()));
                        }
                        dns_senders.push(cloud.parties[owner].title.clone());
                    }
                    for peer in ps {
                        let any_peer =
                            matches!(&peer, Peer::V4(c) | Peer::V6(c) if c.ends_with("/0"));
                        for (proto, ports) in specs(f, icmp, &cloud, &peer, owner) {
                            let n: &[String] = if any_peer { &names } else { &[] };
                            add((owner, true, peer.clone(), proto, ports), n);
                            wrote = true;
                        }
                    }
                }
            }
            // Every DNS name of the flow's destination: the answer, stated.
            let names: BTreeSet<String> = dsts
                .iter()
                .filter(|d| !Split::of(&d.addrs).any)
                .flat_map(|d| Split::of(&d.addrs).names)
                .collect();
            for n in &names {
                let service = common::service_phrase(f);
                let reason = if dns_senders.is_empty() {
                    "no sender of this flow has a security group here (the senders are networks or outside parties): nothing restricts it in this file, and nothing allows only the name".to_string()
                } else {
                    dns_senders.dedup();
                    format!(
                        "security groups cannot match DNS names: written as egress to any address (0.0.0.0/0, and ::/0 for IPv6 hosts) on {service} from {}, which permits more than planned; to allow only the name, route egress through AWS Network Firewall with the domain list below (var.enable_domain_allowlist)",
                        dns_senders.join(", ")
                    )
                };
                why.push(gaps.add(f, &format!("DNS name {n}"), &reason));
                if f.protocol == Protocol::Tcp {
                    domains
                        .entry(n.clone())
                        .or_default()
                        .insert(service.clone());
                }
            }
            // Pairs of ends neither of which holds a group: nothing here
            // restricts or allows them (DNS names are answered above).
            let mut loose = Vec::new();
            for s in srcs.iter().filter(|s| !cloud.parties[s.party].grouped) {
                for d in dsts.iter().filter(|d| !cloud.parties[d.party].grouped) {
                    // With --for-host, pairs without the host are not this output's.
                    if !cloud.parties[s.party].wanted && !cloud.parties[d.party].wanted {
                        continue;
                    }
                    let ds = Split::of(&d.addrs);
                    if ds.any || !ds.v4.is_empty() || !ds.v6.is_empty() {
                        loose.push(format!(
                            "{} to {}",
                            cloud.parties[s.party].title, cloud.parties[d.party].title
                        ));
                    }
                }
            }
            if !loose.is_empty() {
                why.push(gaps.add(
                    f,
                    "no group",
                    &format!(
                        "{}: neither end can hold a security group (`any`, a DNS name, a network that only sends, or only outside addresses), so no rule here applies",
                        loose.join(", ")
                    ),
                ));
            }
            if !wrote {
                unwritten.push(why);
            }
        }
        fold_covered(&mut rules);
        let mut t = String::new();
        header(&mut t, set);
        let mut labels = Labels::default();
        let grouped = cloud.grouped();
        for &g in &grouped {
            let party = &cloud.parties[g];
            let ident = &party.ident;
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# attach to the instance of {} ({}): vpc_security_group_ids = [aws_security_group.{ident}.id]",
                party.title,
                party.cidrs().join(" ")
            );
            let _ = writeln!(t, "resource \"aws_security_group\" \"{ident}\" {{");
            let _ = writeln!(
                t,
                "  name        = {}",
                tf::s(&aws_text(
                    &format!("portplan-{}-{ident}", set.deployment),
                    255
                ))
            );
            let _ = writeln!(
                t,
                "  description = {}",
                tf::s(&aws_text(
                    &format!("{}: {}", party.title, party.cidrs().join(" ")),
                    255
                ))
            );
            let _ = writeln!(t, "  vpc_id      = var.vpc_id");
            let _ = writeln!(t, "}}");
            for egress in [false, true] {
                for (key, serves) in rules.iter().filter(|(k, _)| k.0 == g && k.1 == egress) {
                    rule(&mut t, &mut labels, &cloud, key, serves);
                }
            }
        }
        if grouped.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# No party of this plan can hold a security group: nothing to attach."
            );
        }
        if !unwritten.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(t, "# Flows without a rule here:");
            for why in &unwritten {
                let _ = writeln!(t);
                tf::comments(why, &mut t);
            }
        }
        if !grouped.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(t, "output \"security_group_ids\" {{");
            let _ = writeln!(
                t,
                "  description = \"The security group of each host, to attach to its instance.\""
            );
            let _ = writeln!(t, "  value = {{");
            for &g in &grouped {
                let p = &cloud.parties[g];
                let _ = writeln!(
                    t,
                    "    {} = aws_security_group.{}.id",
                    tf::s(&p.title),
                    p.ident
                );
            }
            let _ = writeln!(t, "  }}");
            let _ = writeln!(t, "}}");
        }
        domain_list(&mut t, set, &domains);
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

/// A rule whose peer range lies inside another rule's of the same group,
/// direction, protocol and ports permits nothing more: an instance is
/// admitted by the union of its group's rules. Its flows are named on the
/// wider rule instead (`internal clients` inside `any`, both to 443), so
/// the file holds no rule that never decides anything.
fn fold_covered(rules: &mut BTreeMap<Key, Serves>) {
    let net = |p: &Peer| match p {
        Peer::V4(c) | Peer::V6(c) => c.parse::<ipnet::IpNet>().ok(),
        Peer::Group(_) => None,
    };
    // Peer ranges per (group, direction, protocol, ports): few per key.
    type Rule = (usize, bool, String, Option<(i32, i32)>);
    let mut by_rule: BTreeMap<Rule, Vec<(Key, ipnet::IpNet)>> = BTreeMap::new();
    for k in rules.keys() {
        if let Some(n) = net(&k.2) {
            by_rule
                .entry((k.0, k.1, k.3.clone(), k.4))
                .or_default()
                .push((k.clone(), n));
        }
    }
    for peers in by_rule.values() {
        for (k, n) in peers {
            // The widest range that holds this one.
            let Some((wider, _)) = peers
                .iter()
                .filter(|(o, w)| o != k && w.contains(n) && w != n)
                .min_by_key(|(_, w)| w.prefix_len())
            else {
                continue;
            };
            let Some(narrow) = rules.remove(k) else {
                continue;
            };
            if let Some(w) = rules.get_mut(wider) {
                w.reasons.extend(narrow.reasons);
                for line in narrow.why {
                    if !w.why.contains(&line) {
                        w.why.push(line);
                    }
                }
                w.names.extend(narrow.names);
            }
        }
    }
}

fn header(t: &mut String, set: &FlowSet) {
    common::header(
        t,
        "#",
        &format!(
            "AWS security groups for deployment {}",
            common::one_line(&set.deployment)
        ),
        &[
            "One security group per host: attach each to that host's instance (the",
            "comment above each group says how; output security_group_ids lists them).",
            "Each group holds its host's ingress and egress. Peers with a group are",
            "referenced by it; networks that only send, `any` and outside parties are",
            "CIDRs. A host outside this VPC (on premises) cannot carry a group: swap its",
            "referenced_security_group_id for cidr_ipv4/cidr_ipv6 of its addresses.",
            "DNS names: egress to any address on the flow's ports (wider than planned,",
            "said in the rule), and an optional AWS Network Firewall domain allowlist.",
            "Security groups are stateful: replies need no rule.",
        ],
    );
    let _ = writeln!(t);
    let _ = writeln!(t, "variable \"vpc_id\" {{");
    let _ = writeln!(t, "  type        = string");
    let _ = writeln!(
        t,
        "  description = \"The VPC the security groups belong to.\""
    );
    let _ = writeln!(t, "}}");
}

/// The groups that carry a flow's egress: each grouped source, and for a
/// source that holds no group (a network that only sends) the grouped
/// parties inside it. Those instances are the network's too, and their
/// own group's egress rules are all that lets them send (security groups
/// allow only what a rule allows), so the network's flows go there.
fn senders(cloud: &Cloud, srcs: &[End]) -> Vec<usize> {
    let mut out = Vec::new();
    for s in srcs {
        let owners = if cloud.parties[s.party].grouped {
            vec![s.party]
        } else {
            cloud.inside(s)
        };
        for o in owners {
            if !out.contains(&o) {
                out.push(o);
            }
        }
    }
    out
}

/// The peers of a rule of group `owner` for the other end `e`: its group,
/// or its CIDRs of the families the owner has.
fn peers(cloud: &Cloud, e: &End, owner: usize) -> Vec<Peer> {
    if cloud.parties[e.party].grouped {
        return vec![Peer::Group(e.party)];
    }
    let own = cloud.parties[owner].split();
    let s = Split::of(&e.addrs);
    let mut v = Vec::new();
    if s.any {
        if !own.v4.is_empty() {
            v.push(Peer::V4("0.0.0.0/0".into()));
        }
        if !own.v6.is_empty() {
            v.push(Peer::V6("::/0".into()));
        }
        return v;
    }
    if !own.v4.is_empty() {
        v.extend(s.v4.iter().map(|n| Peer::V4(n.to_string())));
    }
    if !own.v6.is_empty() {
        v.extend(s.v6.iter().map(|n| Peer::V6(n.to_string())));
    }
    v
}

/// (ip_protocol, ports) of the rules for a flow; no ports for a protocol
/// that has none (ESP is `ip_protocol = "50"` alone).
fn specs(
    f: &Flow,
    icmp: Option<Option<common::IcmpPair>>,
    cloud: &Cloud,
    peer: &Peer,
    owner: usize,
) -> Vec<(String, Option<(i32, i32)>)> {
    let own = cloud.parties[owner].split();
    let (fam4, fam6) = match peer {
        Peer::Group(g) => {
            let o = cloud.parties[*g].split();
            (
                !own.v4.is_empty() && !o.v4.is_empty(),
                !own.v6.is_empty() && !o.v6.is_empty(),
            )
        }
        Peer::V4(_) => (true, false),
        Peer::V6(_) => (false, true),
    };
    let mut out = Vec::new();
    match icmp {
        None if !f.protocol.has_ports() => {
            out.push((f.protocol.number().to_string(), None));
        }
        None => {
            for r in f.ports.ranges() {
                out.push((f.protocol.to_string(), Some((r.low.into(), r.high.into()))));
            }
        }
        Some(icmp) => {
            let (t4, t6) = match icmp {
                None => (Some(-1), Some(-1)),
                Some((a, b)) => (a.map(i32::from), b.map(i32::from)),
            };
            if let (true, Some(ty)) = (fam4, t4) {
                out.push(("icmp".into(), Some((ty, -1))));
            }
            if let (true, Some(ty)) = (fam6, t6) {
                out.push(("icmpv6".into(), Some((ty, -1))));
            }
        }
    }
    out
}

fn rule(t: &mut String, labels: &mut Labels, cloud: &Cloud, key: &Key, serves: &Serves) {
    let (g, egress, peer, proto, ports) = key;
    let group = &cloud.parties[*g].ident;
    let kind = if *egress { "egress" } else { "ingress" };
    let dir = if *egress { "to" } else { "from" };
    let (peer_attr, peer_val, peer_id) = match peer {
        Peer::Group(p) => {
            let id = &cloud.parties[*p].ident;
            (
                "referenced_security_group_id",
                format!("aws_security_group.{id}.id"),
                id.clone(),
            )
        }
        Peer::V4(c) => ("cidr_ipv4", tf::s(c), c.clone()),
        Peer::V6(c) => ("cidr_ipv6", tf::s(c), c.clone()),
    };
    let from = ports.map_or_else(|| "all".to_string(), |(f, _)| f.to_string());
    let label = labels.unique(&format!("{group}_{kind}_{dir}_{peer_id}_{proto}_{from}"));
    let reasons: Vec<String> = serves.reasons.iter().cloned().collect();
    let mut description = reasons.join(", ");
    if !serves.names.is_empty() {
        let names: Vec<String> = serves.names.iter().cloned().collect();
        description = format!(
            "for DNS names {} (groups cannot match names: any address, wider than planned); {description}",
            names.join(" ")
        );
    }
    let _ = writeln!(t);
    tf::comments(&serves.why, t);
    if !serves.names.is_empty() {
        let names: Vec<String> = serves.names.iter().cloned().collect();
        tf::comments(
            &[format!(
                "DNS names {}: security groups match addresses only, so this allows any address on these ports (more than planned)",
                names.join(" ")
            )],
            t,
        );
    }
    let _ = writeln!(
        t,
        "resource \"aws_vpc_security_group_{kind}_rule\" \"{label}\" {{"
    );
    let _ = writeln!(t, "  security_group_id = aws_security_group.{group}.id");
    let _ = writeln!(t, "  {peer_attr} = {peer_val}");
    let _ = writeln!(t, "  ip_protocol = {}", tf::s(proto));
    if let Some((from, to)) = ports {
        let _ = writeln!(t, "  from_port   = {from}");
        let _ = writeln!(t, "  to_port     = {to}");
    }
    let _ = writeln!(t, "  description = {}", tf::s(&aws_text(&description, 255)));
    let _ = writeln!(t, "}}");
}

/// The AWS Network Firewall domain allowlist for the plan's DNS names on
/// TCP (TLS SNI for HTTPS, Host for HTTP), created when the variable is set.
fn domain_list(t: &mut String, set: &FlowSet, domains: &BTreeMap<String, BTreeSet<String>>) {
    if domains.is_empty() {
        return;
    }
    let targets: Vec<String> = domains
        .keys()
        .map(|n| n.strip_prefix('*').unwrap_or(n).to_string())
        .collect();
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "# Allowing only the DNS names: AWS Network Firewall domain list (HTTPS by TLS SNI,"
    );
    let _ = writeln!(
        t,
        "# HTTP by Host header). Add it to the stateful rule groups of your firewall policy"
    );
    let _ = writeln!(
        t,
        "# and route the hosts' egress through the firewall; then the any-address egress"
    );
    let _ = writeln!(
        t,
        "# rules above may stay. A leading `.` is the domain and its subdomains."
    );
    for (n, services) in domains {
        let s: Vec<String> = services.iter().cloned().collect();
        let _ = writeln!(t, "#   {n}: {}", s.join(", "));
    }
    let _ = writeln!(t, "variable \"enable_domain_allowlist\" {{");
    let _ = writeln!(t, "  type        = bool");
    let _ = writeln!(t, "  default     = false");
    let _ = writeln!(
        t,
        "  description = \"Create the AWS Network Firewall domain allowlist for the plan's DNS names.\""
    );
    let _ = writeln!(t, "}}");
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "resource \"aws_networkfirewall_rule_group\" \"domain_allowlist\" {{"
    );
    let _ = writeln!(t, "  count    = var.enable_domain_allowlist ? 1 : 0");
    let _ = writeln!(t, "  capacity = {}", (targets.len() * 2).max(100));
    let _ = writeln!(
        t,
        "  name     = {}",
        tf::s(&common::sanitize(
            &format!("portplan-{}-domains", set.deployment),
            |c| c.is_ascii_alphanumeric() || c == '-',
            '-',
            128,
        ))
    );
    let _ = writeln!(t, "  type     = \"STATEFUL\"");
    let _ = writeln!(t, "  rule_group {{");
    let _ = writeln!(t, "    rules_source {{");
    let _ = writeln!(t, "      rules_source_list {{");
    let _ = writeln!(t, "        generated_rules_type = \"ALLOWLIST\"");
    let _ = writeln!(
        t,
        "        target_types         = [\"TLS_SNI\", \"HTTP_HOST\"]"
    );
    let _ = writeln!(t, "        targets              = {}", tf::list(&targets));
    let _ = writeln!(t, "      }}");
    let _ = writeln!(t, "    }}");
    let _ = writeln!(t, "  }}");
    let _ = writeln!(t, "}}");
}

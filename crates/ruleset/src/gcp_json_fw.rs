//! Google Cloud VPC firewall semantics, shared by the `gcp-json` and
//! `gcp-terraform` readers (Google Cloud docs, "VPC firewall rules"; the
//! compute API's Firewall resource).
//!
//! Rules are evaluated by priority, lower number first; at equal priority a
//! deny rule wins over an allow rule; a rule without targets applies to
//! every instance of its network; below every rule sit the implied rules
//! (priority 65535): deny all ingress, allow all egress. Rules are
//! stateful. Modelled as one inbound filter whose chain is the INGRESS rules
//! sorted (priority, deny first), each scoped to its targets (tags
//! `tag:NAME`, service accounts `sa:NAME`, none: `network:NAME`), ending in
//! the implied deny; and one outbound filter for EGRESS rules ending in the
//! implied allow. Disabled rules stay in place and never match. Several
//! networks in one list: every rule is also scoped to its own network's
//! instances (`network:NAME`), so one network's rules never decide
//! another's traffic.

use crate::model::*;
use crate::space::{self, Addrs, Ranges};
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub(crate) struct FwRule {
    pub line: usize,
    pub text: String,
    pub name: String,
    pub network: String,
    pub ingress: bool,
    pub priority: u32,
    pub deny: bool,
    pub disabled: bool,
    /// Protocols and ports: one per allowed/denied entry.
    pub services: Vec<(Ranges<u8>, Ranges<u16>)>,
    /// The instances the rule applies to; `None`: all of its network.
    pub targets: Option<AddrMatch>,
    /// Ingress: the sources (ranges, tags, service accounts: a union).
    /// Egress: the source ranges, if any (on top of the targets).
    pub src: Option<AddrMatch>,
    /// Ingress: the destination ranges, if any (on top of the targets).
    /// Egress: the destinations.
    pub dst: Option<AddrMatch>,
    pub when: Vec<Cond>,
    /// A rule whose action is not known (a firewall policy rule this
    /// reader does not read): the issue.
    pub unknown_action: Option<usize>,
}

/// The symbol for a network's instances.
pub(crate) fn network_symbol(n: &str) -> String {
    format!("network:{n}")
}

/// A protocol and its ports as a firewall rule writes them (`tcp` with
/// `["22", "8000-8999"]`, `icmp`, `all`, `50`); the error says what is wrong.
pub(crate) fn service(proto: &str, ports: &[String]) -> Result<(Ranges<u8>, Ranges<u16>), String> {
    let p = proto.trim().to_ascii_lowercase();
    let n: Option<u8> = match p.as_str() {
        "all" => None,
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "esp" => Some(50),
        "ah" => Some(51),
        "sctp" => Some(132),
        "ipip" => Some(4),
        x => Some(x.parse::<u8>().map_err(|_| {
            format!("protocol `{proto}`: a firewall rule takes tcp, udp, icmp, esp, ah, sctp, ipip, all or a protocol number")
        })?),
    };
    let proto_r = n.map_or_else(Ranges::full, Ranges::one);
    if ports.is_empty() {
        // Every port; for ICMP (which has types, not ports) every type.
        let all = if matches!(n, Some(1 | 58)) {
            Ranges::range(0, 255)
        } else {
            Ranges::full()
        };
        return Ok((proto_r, all));
    }
    if !n.is_some_and(space::has_ports) {
        return Err(format!(
            "ports are given for `{proto}`, which has none: the API refuses such a rule"
        ));
    }
    let mut spans = Vec::new();
    for x in ports {
        match crate::words::port_span(x, '-') {
            Some(s) => spans.push(s),
            None => return Err(format!("`{x}` is not a port or port range")),
        }
    }
    Ok((proto_r, Ranges::from_iter(spans)))
}

/// A service as [`service`] reads it, or every protocol and port where it
/// cannot be read (the problem goes to `problems`).
pub(crate) fn service_or_any(
    proto: &str,
    ports: &[String],
    problems: &mut Vec<String>,
) -> (Ranges<u8>, Ranges<u16>) {
    service(proto, ports).unwrap_or_else(|m| {
        problems.push(m);
        (Ranges::full(), Ranges::full())
    })
}

/// Every IPv4 address, which Google Cloud takes for the source of an
/// ingress rule or the destination of an egress rule that names none
/// (`side`): noted, in the words of `who` ("the API", "Google Cloud").
pub(crate) fn every_v4(
    set: &mut Ruleset,
    line: usize,
    text: &str,
    name: &str,
    side: &str,
    who: &str,
) -> AddrMatch {
    set.note(
        line,
        text,
        format!("{name} names no {side}: {who} takes 0.0.0.0/0 (every IPv4 {side})"),
    );
    AddrMatch::of(Addrs::all_v4())
}

/// A source or destination range (`10.0.0.0/8`, `::/0`).
pub(crate) fn range(s: &str) -> Option<Addrs> {
    crate::aws_json_sg::cidr(s)
}

/// A rule's source or destination ranges as one match; `None` where it
/// names none. What is not a range goes to `problems`.
pub(crate) fn ranges(v: &[String], problems: &mut Vec<String>) -> Option<AddrMatch> {
    if v.is_empty() {
        return None;
    }
    let mut a = Addrs::none();
    for s in v {
        match range(s) {
            Some(x) => a = a.union(&x),
            None => problems.push(format!("`{s}` is not an address range")),
        }
    }
    Some(AddrMatch::of(a))
}

/// The filters. `ours`: the file is portplan's own output, whose comments
/// list the members of every target tag: the network's instances are then
/// taken to be the targets (noted).
pub(crate) fn finish(set: &mut Ruleset, mut rules: Vec<FwRule>, ours: bool) {
    let networks: BTreeSet<String> = rules
        .iter()
        .filter(|r| r.unknown_action.is_none())
        .map(|r| r.network.clone())
        .collect();
    let multi = networks.len() > 1;
    if multi {
        set.note(
            rules.first().map_or(1, |r| r.line),
            "network",
            format!(
                "rules of {} networks ({}): each rule applies only to its own network's instances (network:NAME); give each network's addresses with --member network:NAME=ADDRESS,...",
                networks.len(),
                networks.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    // Priority order; deny before allow at equal priority; file order after.
    rules.sort_by_key(|r| (r.priority, !r.deny));
    let cin = set.chain(
        "INGRESS rules by priority",
        0,
        End::Policy {
            accept: false,
            line: 0,
            text: "implied rule: deny all ingress (priority 65535)".into(),
        },
    );
    let cout = set.chain(
        "EGRESS rules by priority",
        0,
        End::Policy {
            accept: true,
            line: 0,
            text: "implied rule: allow all egress (priority 65535)".into(),
        },
    );
    let mut members = AddrMatch::of(Addrs::none());
    let mut untargeted = false;
    for r in rules {
        let net = if r.unknown_action.is_some() {
            // A firewall policy: the instances of every network here.
            let mut a = AddrMatch::of(Addrs::none());
            a.symbols = networks.iter().map(|n| network_symbol(n)).collect();
            a
        } else {
            AddrMatch::symbol(network_symbol(&r.network))
        };
        let target = match r.targets {
            Some(t) if multi => t.and(net.clone()),
            Some(t) => t,
            None => {
                untargeted = true;
                net.clone()
            }
        };
        if r.ingress {
            crate::aws_json_sg::union_into(&mut members, &target);
            for a in &target.also {
                crate::aws_json_sg::union_into(&mut members, a);
            }
        }
        // The target side is instances: exact where their addresses are
        // known (portplan's comments), a set otherwise.
        let exact_target = target.symbols.is_empty() && target.also.is_empty() && !target.negated;
        let (src, src_exact, dst, dst_exact) = if r.ingress {
            (
                r.src.unwrap_or_else(AddrMatch::every),
                false,
                match r.dst {
                    Some(d) => target.and(d),
                    None => target,
                },
                exact_target,
            )
        } else {
            (
                match r.src {
                    Some(s) => target.and(s),
                    None => target,
                },
                exact_target,
                r.dst.unwrap_or_else(AddrMatch::every),
                false,
            )
        };
        let mut rule = Rule::new(
            r.line,
            &r.text,
            match r.unknown_action {
                Some(k) => Action::Unknown(k),
                None if r.deny => Action::Block,
                None => Action::Accept,
            },
        );
        rule.label = Some(r.name);
        rule.matches = r
            .services
            .iter()
            .flat_map(|(proto, dport)| {
                crate::aws_json_sg::family_matches(proto, dport, &src, src_exact, &dst, dst_exact)
            })
            .collect();
        rule.when = r.when;
        if r.disabled {
            rule.when
                .push(Cond::Never("disabled: the rule is not enforced".into()));
        }
        let c = if r.ingress { cin } else { cout };
        set.chains[c].rules.push(rule);
    }
    if !ours || untargeted || multi {
        for n in &networks {
            crate::aws_json_sg::union_into(&mut members, &AddrMatch::symbol(network_symbol(n)));
        }
        if let Some(n) = networks.iter().next().filter(|_| !multi) {
            let s = network_symbol(n);
            set.note(
                1,
                "network",
                format!(
                    "the instances of network {n} are not in this file: ingress to them is audited where tags or service accounts name them, or once you give {s} (--member {s}=ADDRESS,..., e.g. its subnets)"
                ),
            );
        }
    } else {
        set.note(
            1,
            "target tags",
            "portplan's output: the network's instances are taken to be the parties its rules target (the addresses each `# target tag` comment lists); other instances get GCP's implied deny-ingress",
        );
    }
    let mut fin = Filter::new("VPC firewall ingress", Direction::In, Families::BOTH, cin);
    fin.members = Some(crate::aws_json_sg::exact(&members));
    // Egress rules are scoped to their targets; traffic from elsewhere
    // meets no egress rule and passes the implied allow.
    let mut fout = Filter::new("VPC firewall egress", Direction::Out, Families::BOTH, cout);
    fout.members = Some(AddrMatch::every());
    set.filters.push(fin);
    set.filters.push(fout);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services() {
        let s = |p: &str, ports: &[&str]| {
            service(p, &ports.iter().map(|x| x.to_string()).collect::<Vec<_>>())
        };
        let (p, d) = s("tcp", &["22", "8000-8999"]).unwrap();
        assert_eq!(p, Ranges::one(6));
        assert_eq!(d.spans(), &[(22, 22), (8000, 8999)]);
        assert!(s("all", &[]).unwrap().0.is_full());
        assert_eq!(s("icmp", &[]).unwrap().0, Ranges::one(1));
        assert_eq!(s("58", &[]).unwrap().0, Ranges::one(58));
        assert!(s("icmp", &["1"]).is_err());
        assert!(s("tcp", &["x"]).is_err());
        assert!(s("gre", &[]).is_err());
    }
}

//! AWS security-group semantics, shared by the `aws-json` and
//! `aws-terraform` readers.
//!
//! Security groups allow only, and are stateful; the groups attached to an
//! instance are a union (Amazon VPC User Guide, "Security group rules" and
//! "Security groups": rules are permissive, traffic no rule allows is
//! dropped, replies are allowed whatever the rules say). Modelled as ONE
//! inbound filter and ONE outbound filter: every ingress rule is scoped to
//! its group's members (destination in the group), every egress rule to its
//! group's members as source; each chain ends in drop; each filter applies
//! to the union of all groups' members. An instance in two groups is then
//! allowed what either group allows.

use crate::model::*;
use crate::space::{Addrs, Ranges};
use ipnet::IpNet;
use std::collections::HashMap;

/// One security group as the readers know it.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// How the file names it (`sg-0abc`, a Terraform label).
    pub key: String,
    /// For reports: `sg-0abc (web)`.
    pub display: String,
    /// Its members: addresses its description lists (our own groups), or
    /// the symbol `sg:ID` the user gives members to.
    pub members: AddrMatch,
    pub line: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Groups {
    pub list: Vec<Group>,
    index: HashMap<String, usize>,
}

impl Groups {
    pub fn find(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }
    /// Adds a group (the first of a key wins); returns its index.
    pub fn add(&mut self, g: Group) -> usize {
        if let Some(i) = self.find(&g.key) {
            return i;
        }
        self.index.insert(g.key.clone(), self.list.len());
        self.list.push(g);
        self.list.len() - 1
    }
    pub fn members(&self, i: usize) -> AddrMatch {
        self.list
            .get(i)
            .map_or_else(|| AddrMatch::of(Addrs::none()), |g| g.members.clone())
    }
}

/// One rule of one group.
#[derive(Debug, Clone)]
pub(crate) struct SgRule {
    pub line: usize,
    pub text: String,
    pub label: Option<String>,
    pub egress: bool,
    pub group: usize,
    pub proto: Ranges<u8>,
    pub dport: Ranges<u16>,
    /// The other end: source of an ingress rule, destination of an egress
    /// rule (a union of addresses and sets).
    pub peer: AddrMatch,
    pub when: Vec<Cond>,
}

impl SgRule {
    /// A rule that may allow anything, both ways: what issue `k` says the
    /// reader could not read.
    pub fn unknown(line: usize, text: String, egress: bool, group: usize, k: usize) -> Self {
        SgRule {
            line,
            text,
            label: None,
            egress,
            group,
            proto: Ranges::full(),
            dport: Ranges::full(),
            peer: AddrMatch::every(),
            when: vec![Cond::Unknown(k)],
        }
    }
}

/// The rules of a group the file does not hold (a group referenced from
/// another account or file, a variable): its members may be allowed more
/// than this file says, both ways, so where no rule here allows their
/// traffic the verdict is unknown.
pub(crate) fn unknown_group(
    set: &mut Ruleset,
    rules: &mut Vec<SgRule>,
    group: usize,
    g: &Group,
    what: &str,
) {
    let k = set.issue(
        g.line,
        &g.display,
        format!("the rules of security group {} are not in this {what}: traffic to and from its members that no rule here allows is unknown", g.display),
    );
    for egress in [false, true] {
        let text = format!("{} (rules not in this {what})", g.display);
        rules.push(SgRule::unknown(g.line, text, egress, group, k));
    }
}

/// Adds `other` to a union of addresses and sets.
pub(crate) fn union_into(acc: &mut AddrMatch, other: &AddrMatch) {
    acc.addrs = acc.addrs.union(&other.addrs);
    for s in &other.symbols {
        if !acc.symbols.contains(s) {
            acc.symbols.push(s.clone());
        }
    }
}

/// The two filters: every rule scoped to its group, drop at the end.
pub(crate) fn finish(set: &mut Ruleset, groups: &Groups, rules: Vec<SgRule>) {
    let drop_text = |dir: &str| {
        format!(
            "no {dir} rule of the security groups allows it: security groups allow only what a rule allows"
        )
    };
    let cin = set.chain(
        "security groups ingress",
        0,
        End::Policy {
            accept: false,
            line: 0,
            text: drop_text("ingress"),
        },
    );
    let cout = set.chain(
        "security groups egress",
        0,
        End::Policy {
            accept: false,
            line: 0,
            text: drop_text("egress"),
        },
    );
    for r in rules {
        let mut rule = Rule::new(r.line, &r.text, Action::Accept);
        rule.label = r.label;
        let own = groups.members(r.group);
        rule.matches = if r.egress {
            family_matches(&r.proto, &r.dport, &own, true, &r.peer, false)
        } else {
            family_matches(&r.proto, &r.dport, &r.peer, false, &own, true)
        };
        rule.when = r.when;
        let c = if r.egress { cout } else { cin };
        set.chains[c].rules.push(rule);
    }
    let mut all = AddrMatch::of(Addrs::none());
    for g in &groups.list {
        union_into(&mut all, &g.members);
    }
    let all = exact(&all);
    let mut fin = Filter::new(
        "security groups ingress",
        Direction::In,
        Families::BOTH,
        cin,
    );
    fin.members = Some(all.clone());
    let mut fout = Filter::new(
        "security groups egress",
        Direction::Out,
        Families::BOTH,
        cout,
    );
    fout.members = Some(all);
    set.filters.push(fin);
    set.filters.push(fout);
}

fn plain(m: &AddrMatch) -> bool {
    m.symbols.is_empty() && m.also.is_empty() && !m.negated
}

/// Instances known by their addresses, as a side that matches exactly those
/// addresses and no DNS name (a name in a plan is a service elsewhere, not
/// an instance these rules protect). The evaluator takes a plain address
/// set to maybe match any name; the complement of the complement does not.
/// Sides naming sets are returned as they are.
pub(crate) fn exact(m: &AddrMatch) -> AddrMatch {
    if !plain(m) {
        return m.clone();
    }
    AddrMatch {
        negated: true,
        ..AddrMatch::of(Addrs {
            v4: m.addrs.v4.complement(),
            v6: m.addrs.v6.complement(),
            names: m.addrs.names.complement(),
        })
    }
}

/// One side's addresses of one family; a side covering every address of
/// both families matches every name too (as the evaluator would take it).
fn family_part(a: &Addrs, v6: bool) -> Addrs {
    let covers = a.v4.is_full() && a.v6.is_full();
    Addrs {
        v4: if v6 { Ranges::empty() } else { a.v4.clone() },
        v6: if v6 { a.v6.clone() } else { Ranges::empty() },
        names: if covers {
            crate::space::Names::every()
        } else {
            a.names.clone()
        },
    }
}

/// A rule's match, one alternative per address family: a packet is IPv4 or
/// IPv6 end to end, so a group with members of both families and a peer of
/// one never matches the other family's members. `*_exact`: that side is
/// a group's (or tag's) instances, given by their addresses (see `exact`).
/// Sides naming sets stay one alternative.
pub(crate) fn family_matches(
    proto: &Ranges<u8>,
    dport: &Ranges<u16>,
    src: &AddrMatch,
    src_exact: bool,
    dst: &AddrMatch,
    dst_exact: bool,
) -> Vec<Match> {
    let side = |m: &AddrMatch, ex: bool| if ex { exact(m) } else { m.clone() };
    let mk = |s: AddrMatch, d: AddrMatch| Match {
        proto: proto.clone(),
        src: s,
        dst: d,
        sport: Ranges::full(),
        dport: dport.clone(),
    };
    if !plain(src) || !plain(dst) {
        return vec![mk(side(src, src_exact), side(dst, dst_exact))];
    }
    let mut out = Vec::new();
    for v6 in [false, true] {
        // ICMP is IPv4's, ICMPv6 IPv6's.
        if proto == &Ranges::one(if v6 { 1 } else { 58 }) {
            continue;
        }
        let mut s = family_part(&src.addrs, v6);
        let mut d = family_part(&dst.addrs, v6);
        // From (to) addresses of one family, a name is reached at its
        // addresses of that family: a side covering the family covers it.
        let full = |a: &Addrs| if v6 { a.v6.is_full() } else { a.v4.is_full() };
        let pure = |a: &Addrs| a.names.is_empty() && (!a.v4.is_empty() || !a.v6.is_empty());
        if full(&s) && pure(&d) {
            s.names = crate::space::Names::every();
        }
        if full(&d) && pure(&s) {
            d.names = crate::space::Names::every();
        }
        let ranged = |a: &Addrs| !a.v4.is_empty() || !a.v6.is_empty();
        // An exact side has no names: it needs addresses of this family.
        let s_ok = if src_exact { ranged(&s) } else { !s.is_empty() };
        let d_ok = if dst_exact { ranged(&d) } else { !d.is_empty() };
        if !s_ok || !d_ok {
            continue;
        }
        out.push(mk(
            side(&AddrMatch::of(s), src_exact),
            side(&AddrMatch::of(d), dst_exact),
        ));
    }
    out
}

/// ICMP types that have only code 0: a rule naming code 0 of them covers
/// the whole type.
fn single_code(proto: u8, ty: i64) -> bool {
    match proto {
        1 => matches!(ty, 0 | 8 | 10 | 13 | 14 | 15 | 16 | 17 | 18),
        _ => matches!(ty, 128..=137),
    }
}

/// A rule's protocol and ports as AWS reads them: `ip_protocol`/`IpProtocol`
/// (`tcp`, `udp`, `icmp`, `icmpv6`, `-1` or a number) with from/to ports (for
/// ICMP: type and code, -1 for all). A protocol number other than TCP, UDP,
/// ICMP and ICMPv6 allows every port, whatever the ports say. The third
/// value is what could not be read (the rule is then unknown where it
/// matches, and matches as widely as it could).
pub(crate) fn proto_ports(
    proto: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> (Ranges<u8>, Ranges<u16>, Option<String>) {
    let p = proto.trim().to_ascii_lowercase();
    let wide = |m: String| (Ranges::full(), Ranges::full(), Some(m));
    let n: u8 = match p.as_str() {
        "-1" | "all" => return (Ranges::full(), Ranges::full(), None),
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmpv6" => 58,
        x => match x.parse::<u8>() {
            Ok(n) => n,
            Err(_) => {
                return wide(format!(
                    "protocol `{proto}`: AWS takes tcp, udp, icmp, icmpv6, -1 or a protocol number 0-255"
                ))
            }
        },
    };
    let one = Ranges::one(n);
    match n {
        6 | 17 => match (from, to) {
            (Some(a), Some(b)) if (0..=65535).contains(&a) && (a..=65535).contains(&b) => {
                (one, Ranges::range(a as u16, b as u16), None)
            }
            (Some(a), Some(b)) => (
                one,
                Ranges::full(),
                Some(format!("port range {a}-{b} is not one of 0-65535")),
            ),
            _ => (
                one,
                Ranges::full(),
                Some(format!(
                    "{} needs a from and a to port",
                    if n == 6 { "tcp" } else { "udp" }
                )),
            ),
        },
        1 | 58 => {
            let ty = from.unwrap_or(-1);
            if ty == -1 {
                return (one, Ranges::range(0, 255), None);
            }
            if !(0..=255).contains(&ty) {
                return (
                    one,
                    Ranges::range(0, 255),
                    Some(format!("ICMP type {ty} is not one of 0-255")),
                );
            }
            let types = Ranges::one(ty as u16);
            match to.unwrap_or(-1) {
                -1 => (one, types, None),
                0 if single_code(n, ty) => (one, types, None),
                c => (
                    one,
                    types,
                    Some(format!(
                        "the rule matches only code {c} of ICMP type {ty}: codes are not told apart here"
                    )),
                ),
            }
        }
        _ => (one, Ranges::full(), None),
    }
}

/// A CIDR as AWS writes it (`10.0.0.0/8`, `2001:db8::/32`); a bare
/// address is taken as one host.
pub(crate) fn cidr(s: &str) -> Option<Addrs> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(Addrs::net(&n.trunc()));
    }
    s.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| Addrs::net(&IpNet::from(ip)))
}

/// The members our renderer writes into a group's description
/// (`bastion-1: 10.30.0.40/32`, `a + b: 10.0.0.1/32 203.0.113.10/31`): the
/// addresses, and whether the description was cut at AWS's 255 characters
/// (then more members exist than it lists, and the cut one is dropped).
pub(crate) fn described_members(desc: &str) -> Option<(Addrs, bool)> {
    let d = desc.trim();
    let (cut, d) = match d.strip_suffix("...") {
        Some(x) => (true, x),
        None => (false, d),
    };
    let (_, tail) = d.rsplit_once(": ")?;
    let mut tokens: Vec<&str> = tail.split_whitespace().collect();
    if cut {
        tokens.pop();
    }
    if tokens.is_empty() && !cut {
        return None;
    }
    let mut a = Addrs::none();
    for t in tokens {
        if !t.contains('/') {
            return None;
        }
        a = a.union(&cidr(t)?);
    }
    Some((a, cut))
}

/// A group's members from our description, or its symbol.
pub(crate) fn group_members(
    desc: Option<&str>,
    ours: bool,
    symbol: &str,
) -> (AddrMatch, Described) {
    if ours {
        if let Some((a, cut)) = desc.and_then(described_members) {
            let mut m = AddrMatch::of(a);
            if cut {
                m.symbols.push(symbol.to_string());
                return (m, Described::Cut);
            }
            return (m, Described::Listed);
        }
    }
    (AddrMatch::symbol(symbol), Described::No)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Described {
    Listed,
    Cut,
    No,
}

/// The note for a group whose members were read from its description.
pub(crate) fn described_note(
    set: &mut Ruleset,
    g: &Group,
    how: Described,
    text: &str,
    symbol: &str,
) {
    match how {
        Described::Listed => set.note(
            g.line,
            text,
            format!(
                "members of {} are read from its description (portplan writes them there): attach the group to exactly those instances",
                g.display
            ),
        ),
        Described::Cut => set.note(
            g.line,
            text,
            format!(
                "the description of {} is cut at 255 characters: the members it lists are read, the rest are {symbol} (give them with --member {symbol}=ADDRESS,...)",
                g.display
            ),
        ),
        Described::No => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_and_ports() {
        let (p, d, e) = proto_ports("tcp", Some(22), Some(22));
        assert_eq!((p, d, e), (Ranges::one(6), Ranges::one(22), None));
        let (p, d, e) = proto_ports("-1", Some(0), Some(0));
        assert!(p.is_full() && d.is_full() && e.is_none());
        let (p, d, e) = proto_ports("50", Some(1), Some(2));
        assert_eq!((p, d.is_full(), e), (Ranges::one(50), true, None));
        let (p, d, e) = proto_ports("icmp", Some(8), Some(-1));
        assert_eq!((p, d, e), (Ranges::one(1), Ranges::one(8), None));
        assert!(proto_ports("icmp", Some(8), Some(0)).2.is_none());
        assert!(proto_ports("icmp", Some(3), Some(4)).2.is_some());
        assert_eq!(proto_ports("icmpv6", None, None).1, Ranges::range(0, 255));
        assert!(proto_ports("gre", None, None).2.is_some());
        assert!(proto_ports("tcp", None, None).2.is_some());
        assert!(proto_ports("udp", Some(10), Some(5)).2.is_some());
    }

    #[test]
    fn described() {
        let (a, cut) = described_members("bastion-1: 10.30.0.40/32").unwrap();
        assert!(!cut);
        assert_eq!(a, cidr("10.30.0.40").unwrap());
        let (a, cut) =
            described_members("a + b: 10.20.0.10/32 203.0.113.10/31 2001:db8::/64").unwrap();
        assert!(!cut && a.v6.count() > 0 && a.v4.count() == 3);
        let (a, cut) = described_members("a + b: 10.20.0.10/32 10.5...").unwrap();
        assert!(cut);
        assert_eq!(a, cidr("10.20.0.10/32").unwrap());
        assert!(described_members("Allow TLS inbound traffic").is_none());
        assert!(described_members("web: the web servers").is_none());
    }
}

//! Reads Cisco IOS / IOS XE access lists: what `render/src/cisco_ios.rs`
//! writes (a named extended ACL and an IPv6 ACL, applied nowhere) and the
//! ACL parts of a running-config: named and numbered ACLs, IPv6 ACLs,
//! object groups, and the interfaces that apply them.
//!
//! Semantics (Cisco IOS Security Command Reference and the "IP Access List"
//! configuration guides): an ACL is a first-match list in sequence order
//! with an implicit deny at its end; an IPv6 ACL has implicit permits for
//! neighbour discovery (`permit icmp any any nd-na`, `nd-ns`) before its
//! implicit deny. `ip access-group NAME in|out` / `ipv6 traffic-filter NAME
//! in|out` on an interface filters what arrives on (leaves by) it: the
//! filter is bound to the traffic from (to) `interface:NAME`, whose members
//! the user gives with `--member`. An ACL applied but not defined, or with
//! no entries, permits everything; an interface without an ACL filters
//! nothing. IOS ACLs are stateless: `established` matches only packets of
//! an existing TCP connection (ACK or RST set), never a new connection's
//! first packet.

use crate::cisco_ios_names::{self as cn, at, blocks, has_ports, is_icmp, port_match, Svc, Tok};
use crate::model::*;
use crate::space::{self, Addrs, Ranges};
use crate::Reader;
use portplan_model::Diagnostic;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

pub struct CiscoIos;

impl Reader for CiscoIos {
    fn name(&self) -> &'static str {
        "cisco-ios"
    }
    fn about(&self) -> &'static str {
        "Cisco IOS / IOS XE extended ACLs and running-config"
    }
    fn sniff(&self, text: &str) -> u8 {
        let mut score = 0;
        for l in text.lines().take(2000) {
            let t = l.trim_start();
            if t.starts_with("ip access-group ") || t.starts_with("ipv6 traffic-filter ") {
                score = score.max(90);
            } else if t.starts_with("ip access-list extended ")
                || t.starts_with("ip access-list standard ")
            {
                score = score.max(85);
            } else if t.starts_with("ipv6 access-list ") && t.split_whitespace().count() == 3 {
                score = score.max(70);
            } else if t.starts_with("access-list ") {
                let w: Vec<&str> = t.split_whitespace().collect();
                if w.get(1).is_some_and(|n| n.parse::<u32>().is_ok())
                    && matches!(
                        w.get(2).copied(),
                        Some("permit" | "deny" | "remark" | "dynamic")
                    )
                {
                    score = score.max(75);
                }
            }
            // ASA words: never IOS.
            if t.starts_with("nameif ")
                || t.starts_with("access-group ")
                || t.starts_with("network-object ")
                || t.starts_with("ASA Version")
                || (t.starts_with("access-list ") && t.contains(" extended "))
            {
                return 0;
            }
        }
        score
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

/// An ACL as the configuration defines it.
struct Acl<'a> {
    name: String,
    line: usize,
    v6: bool,
    standard: bool,
    /// Entry lines: line, text, and how many leading words are not the
    /// entry's (2: `access-list N` of numbered lists). Words are split when
    /// the entry is parsed, on every core.
    entries: Vec<(usize, &'a str, usize)>,
}

/// An object group's member lines.
struct Group<'a> {
    line: usize,
    service: bool,
    members: Vec<(usize, &'a str)>,
}

/// What the reader knows while reading entries.
struct Cx<'a> {
    file: &'a str,
    groups: HashMap<String, Group<'a>>,
    time_ranges: HashSet<String>,
    /// Resolved network groups: addresses, and the issue that makes them
    /// uncertain.
    nets: HashMap<String, (Addrs, Option<usize>)>,
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let mut set = Ruleset::new("cisco-ios", file);
    let bl = blocks(text);
    let mut acls: Vec<Acl> = Vec::new();
    let mut by_name: HashMap<(String, bool), usize> = HashMap::new();
    let mut groups: HashMap<String, Group> = HashMap::new();
    let mut time_ranges = HashSet::new();
    // (interface, ACL, IPv6, inbound, line, text)
    let mut bindings: Vec<(String, String, bool, bool, usize, &str)> = Vec::new();
    let acl_of = |acls: &mut Vec<Acl>,
                  by_name: &mut HashMap<(String, bool), usize>,
                  name: &str,
                  v6: bool,
                  standard: bool,
                  line: usize|
     -> usize {
        *by_name.entry((name.to_string(), v6)).or_insert_with(|| {
            acls.push(Acl {
                name: name.to_string(),
                line,
                v6,
                standard,
                entries: Vec::new(),
            });
            acls.len() - 1
        })
    };
    for b in &bl {
        let w = cn::toks(b.text);
        let word = |i: usize| w.get(i).map(|t| t.s);
        match (word(0), word(1)) {
            (Some("ip"), Some("access-list")) => {
                let kind = word(2);
                match (kind, w.get(3)) {
                    (Some("extended" | "standard"), Some(n)) if w.len() == 4 => {
                        let i = acl_of(
                            &mut acls,
                            &mut by_name,
                            n.s,
                            false,
                            kind == Some("standard"),
                            b.line,
                        );
                        for &(l, t) in &b.kids {
                            acls[i].entries.push((l, t, 0));
                        }
                    }
                    (Some("extended" | "standard"), _) => {
                        let col = w.get(3).map_or(b.text.chars().count() + 1, |t| t.col);
                        return Err(at(
                            file,
                            b.line,
                            col,
                            "an ACL name is expected: `ip access-list extended NAME`",
                        ));
                    }
                    // Global settings (`ip access-list logging interval`,
                    // `resequence`, `log-update`) filter nothing.
                    (Some("logging" | "log-update" | "resequence" | "persistent"), _) => {}
                    _ => {
                        set.note(
                            b.line,
                            b.text,
                            "this kind of access list is not an interface packet filter this reader reads: skipped",
                        );
                    }
                }
            }
            (Some("ipv6"), Some("access-list")) => {
                // `ipv6 access-list NAME`; other forms are global settings.
                if w.len() == 3 {
                    let i = acl_of(&mut acls, &mut by_name, w[2].s, true, false, b.line);
                    for &(l, t) in &b.kids {
                        acls[i].entries.push((l, t, 0));
                    }
                } else if !matches!(
                    word(2),
                    Some("log-update" | "cache" | "match-local-traffic")
                ) {
                    set.note(
                        b.line,
                        b.text,
                        "not an IPv6 access list definition this reader knows: skipped",
                    );
                }
            }
            (Some("access-list"), Some(n)) => {
                let Ok(num) = n.parse::<u32>() else {
                    // `access-list compiled`, `access-list rate-limit ...`:
                    // not packet filters.
                    continue;
                };
                let standard = matches!(num, 1..=99 | 1300..=1999);
                let extended = matches!(num, 100..=199 | 2000..=2699);
                if !standard && !extended {
                    set.note(
                        b.line,
                        b.text,
                        format!("access-list {num} is not an IP access list (its number says another type): skipped"),
                    );
                    continue;
                }
                let i = acl_of(&mut acls, &mut by_name, n, false, standard, b.line);
                acls[i].entries.push((b.line, b.text, 2));
            }
            (Some("object-group"), Some(kind)) => {
                let Some(name) = word(2) else {
                    return Err(at(
                        file,
                        b.line,
                        b.text.chars().count() + 1,
                        "an object group needs a name: `object-group network NAME`",
                    ));
                };
                let service = match kind {
                    "network" | "v6-network" => false,
                    "service" | "v6-service" => true,
                    _ => {
                        set.note(
                            b.line,
                            b.text,
                            format!("object-group {kind} is not used by IP access lists this reader reads: skipped"),
                        );
                        continue;
                    }
                };
                groups.insert(
                    name.to_string(),
                    Group {
                        line: b.line,
                        service,
                        members: b.kids.clone(),
                    },
                );
            }
            (Some("time-range"), Some(name)) => {
                time_ranges.insert(name.to_string());
            }
            (Some("interface"), Some(_)) => {
                let iface = w
                    .get(1)
                    .map_or("", |t| b.text[byte_of(b.text, t.col)..].trim())
                    .to_string();
                for &(l, t) in &b.kids {
                    let k = cn::toks(t);
                    let v6 = match (k.first().map(|x| x.s), k.get(1).map(|x| x.s)) {
                        (Some("ip"), Some("access-group")) => false,
                        (Some("ipv6"), Some("traffic-filter")) => true,
                        _ => continue,
                    };
                    let (Some(name), dir) = (k.get(2), k.get(3).map(|x| x.s)) else {
                        return Err(at(
                            file,
                            l,
                            t.chars().count() + 1,
                            "the ACL name is missing: `ip access-group NAME in|out`",
                        ));
                    };
                    let inbound = match dir {
                        Some("in") => true,
                        Some("out") => false,
                        _ => {
                            let col = k.get(3).map_or(t.chars().count() + 1, |x| x.col);
                            return Err(at(
                                file,
                                l,
                                col,
                                "the direction is missing: `in` or `out` after the ACL name",
                            ));
                        }
                    };
                    bindings.push((iface.clone(), name.s.to_string(), v6, inbound, l, t));
                }
            }
            (Some("line"), Some(_)) => {
                for &(l, t) in &b.kids {
                    let t = t.trim();
                    if t.starts_with("access-class ") || t.starts_with("ipv6 access-class ") {
                        set.note(
                            l,
                            t,
                            "access-class filters management sessions to the device itself, not traffic through it: not audited",
                        );
                    }
                }
            }
            // Everything else (hostname, routing, NAT, services) does not
            // decide which packets an ACL passes.
            _ => {}
        }
    }
    if acls.is_empty() {
        let line = bl.first().map_or(1, |b| b.line);
        return Err(at(
            file,
            line,
            1,
            "no access list found: expected `ip access-list extended NAME`, `ipv6 access-list NAME` or `access-list NUMBER permit|deny ...`",
        ));
    }
    let mut cx = Cx {
        file,
        groups,
        time_ranges,
        nets: HashMap::new(),
    };
    resolve_nets(&mut set, &mut cx);
    let mut chain_of: HashMap<(String, bool), usize> = HashMap::new();
    let mut empty: HashSet<usize> = HashSet::new();
    for acl in &acls {
        let c = build_acl(&mut set, &cx, acl)?;
        if set.chains[c].rules.is_empty() {
            empty.insert(c);
        }
        chain_of.insert((acl.name.clone(), acl.v6), c);
    }
    let fam = |v6: bool| if v6 { Families::V6 } else { Families::V4 };
    if bindings.is_empty() {
        for acl in &acls {
            let c = chain_of[&(acl.name.clone(), acl.v6)];
            if empty.contains(&c) {
                set.note(
                    acl.line,
                    &acl_header(acl),
                    "the ACL has no entries: applied, IOS would pass all traffic; not audited",
                );
                continue;
            }
            set.note(
                acl.line,
                &acl_header(acl),
                "no interface applies this ACL in this file (`ip access-group` / `ipv6 traffic-filter`): audited as applied to all traffic",
            );
            set.filters.push(Filter::new(
                format!("ACL {}", acl.name),
                Direction::Through,
                fam(acl.v6),
                c,
            ));
        }
        return Ok(set);
    }
    let mut used: HashSet<(String, bool)> = HashSet::new();
    for (iface, name, v6, inbound, line, text) in &bindings {
        used.insert((name.clone(), *v6));
        let Some(&c) = chain_of.get(&(name.clone(), *v6)) else {
            set.note(
                *line,
                text,
                format!("ACL {name} is not defined in this file: IOS passes all traffic through an undefined ACL (if it is defined elsewhere, add it to the file)"),
            );
            continue;
        };
        if empty.contains(&c) {
            set.note(
                *line,
                text,
                format!("ACL {name} has no entries: IOS passes all traffic through it"),
            );
            continue;
        }
        let mut f = Filter::new(
            format!(
                "{iface} {} {name} {}",
                if *v6 {
                    "ipv6 traffic-filter"
                } else {
                    "ip access-group"
                },
                if *inbound { "in" } else { "out" }
            ),
            Direction::Through,
            fam(*v6),
            c,
        );
        let side = AddrMatch::symbol(format!("interface:{iface}"));
        if *inbound {
            f.src_in = Some(side);
        } else {
            f.dst_in = Some(side);
        }
        set.filters.push(f);
    }
    for acl in &acls {
        if !used.contains(&(acl.name.clone(), acl.v6)) {
            set.note(
                acl.line,
                &acl_header(acl),
                "no interface in this file applies this ACL: not audited as a filter (it may serve NAT, routing, QoS or management access)",
            );
        }
    }
    if let Some(first) = bindings.first() {
        set.note(
            first.4,
            first.5,
            "interfaces without an access-group pass what they carry unfiltered: flows that enter and leave only through them are not carried by any filter",
        );
    }
    Ok(set)
}

fn acl_header(acl: &Acl) -> String {
    if acl.v6 {
        format!("ipv6 access-list {}", acl.name)
    } else if acl.name.parse::<u32>().is_ok() {
        format!("access-list {}", acl.name)
    } else if acl.standard {
        format!("ip access-list standard {}", acl.name)
    } else {
        format!("ip access-list extended {}", acl.name)
    }
}

/// Network object groups as address sets, nested groups included.
fn resolve_nets(set: &mut Ruleset, cx: &mut Cx) {
    let mut names: Vec<String> = cx
        .groups
        .iter()
        .filter(|(_, g)| !g.service)
        .map(|(n, _)| n.clone())
        .collect();
    names.sort();
    for n in names {
        let mut stack = Vec::new();
        net_group(set, cx, &n, &mut stack);
    }
}

fn net_group(
    set: &mut Ruleset,
    cx: &mut Cx,
    name: &str,
    stack: &mut Vec<String>,
) -> Option<(Addrs, Option<usize>)> {
    if let Some(r) = cx.nets.get(name) {
        return Some(r.clone());
    }
    let g = cx.groups.get(name).filter(|g| !g.service)?;
    let (gline, members) = (g.line, g.members.clone());
    if stack.iter().any(|s| s == name) || stack.len() > 32 {
        let k = set.issue(
            gline,
            &format!("object-group network {name}"),
            "object groups nest in a loop",
        );
        return Some((Addrs::none(), Some(k)));
    }
    stack.push(name.to_string());
    let mut addrs = Addrs::none();
    let mut issue = None;
    for (l, t) in members {
        let w = cn::toks(t);
        let s = |i: usize| w.get(i).map(|x| x.s);
        let got: Result<Addrs, String> = match (s(0), s(1), s(2)) {
            (Some("description"), _, _) => continue,
            (Some("any"), None, _) => Ok(Addrs::every()),
            (Some("host"), Some(a), None) => host_addr(a).ok_or(format!("`{a}` is not an address")),
            (Some("range"), Some(a), Some(b)) => crate::words::addr_range(&format!("{a}-{b}"))
                .ok_or(format!("`{a} {b}` is not an address range")),
            (Some("group-object"), Some(n), None) => match net_group(set, cx, n, stack) {
                Some((a, k)) => {
                    issue = issue.or(k);
                    Ok(a)
                }
                None => Err(format!(
                    "group-object {n}: no network object group of that name"
                )),
            },
            (Some(a), Some(m), None) if m.starts_with('/') => {
                cn::prefix4(&format!("{a}{m}")).ok_or(format!("`{a} {m}` is not a network"))
            }
            (Some(a), Some(m), None) => match (a.parse::<Ipv4Addr>(), m.parse::<Ipv4Addr>()) {
                (Ok(a), Ok(m)) => {
                    cn::masked(a, m).ok_or(format!("`{m}` is not a contiguous network mask"))
                }
                _ => Err(format!("`{t}` is not a network")),
            },
            (Some(a), None, _) if a.contains('/') => cn::prefix6(a)
                .or_else(|| cn::prefix4(a))
                .ok_or(format!("`{a}` is not a network")),
            _ => Err(format!("`{t}` is not a member this reader knows")),
        };
        match got {
            Ok(a) => addrs = addrs.union(&a),
            Err(m) => {
                let k = set.issue(l, t, format!("object-group network {name}: {m}"));
                issue = issue.or(Some(k));
            }
        }
    }
    stack.pop();
    cx.nets.insert(name.to_string(), (addrs.clone(), issue));
    Some((addrs, issue))
}

fn host_addr(a: &str) -> Option<Addrs> {
    if let Ok(v4) = a.parse::<Ipv4Addr>() {
        return Some(cn::host4(v4));
    }
    a.parse::<Ipv6Addr>().ok().map(cn::host6)
}

/// The services of a service object group, for an IPv4 or IPv6 list.
fn svc_group(cx: &Cx, name: &str, v6: bool, depth: usize, why: &mut Vec<String>) -> Vec<Svc> {
    // What cannot be read may match any service.
    let Some(g) = cx.groups.get(name).filter(|g| g.service) else {
        why.push(format!("no service object group `{name}`"));
        return vec![Svc::of(Ranges::full())];
    };
    if depth > 32 {
        why.push(format!("object group `{name}` nests in a loop"));
        return vec![Svc::of(Ranges::full())];
    }
    let mut out = Vec::new();
    for &(l, t) in &g.members {
        let w = cn::toks(t);
        match w.first().map(|x| x.s) {
            None | Some("description") => continue,
            Some("group-object") => match w.get(1) {
                Some(n) => out.extend(svc_group(cx, n.s, v6, depth + 1, why)),
                None => {
                    why.push(format!("line {l}: `group-object` without a name"));
                    out.push(Svc::of(Ranges::full()));
                }
            },
            Some(p) => {
                let mut local = Vec::new();
                let protos = if p == "tcp-udp" {
                    Ranges::from_iter([(6, 6), (17, 17)])
                } else {
                    match proto(p, v6) {
                        Some(r) => r,
                        None => {
                            why.push(format!("line {l}: protocol `{p}` in object-group {name}"));
                            out.push(Svc::of(Ranges::full()));
                            continue;
                        }
                    }
                };
                let mut i = 1;
                let mut sport = Ranges::full();
                let mut dport = Ranges::full();
                let ported = p == "tcp-udp" || has_ports(&protos);
                if ported {
                    if w.get(i).map(|x| x.s) == Some("source") {
                        i += 1;
                        match group_ports(&w, &mut i) {
                            Some(Ok(r)) => sport = r,
                            Some(Err(m)) => local.push(m),
                            None => local.push("`source` without ports".into()),
                        }
                    }
                    if w.get(i).map(|x| x.s) == Some("destination") {
                        i += 1;
                    }
                    match group_ports(&w, &mut i) {
                        Some(Ok(r)) => dport = r,
                        Some(Err(m)) => local.push(m),
                        None => {}
                    }
                } else if is_icmp(&protos) {
                    if let Some(x) = w.get(i) {
                        match cn::icmp(x.s, v6) {
                            Some((ty, None)) => dport = Ranges::one(u16::from(ty)),
                            Some((ty, Some(c))) => {
                                dport = Ranges::one(u16::from(ty));
                                local.push(format!("ICMP `{}` is code {c} of type {ty} only", x.s));
                            }
                            None => local.push(format!("ICMP message `{}`", x.s)),
                        }
                        i += 1;
                    }
                }
                if i < w.len() {
                    local.push(format!(
                        "`{}`",
                        w[i..].iter().map(|x| x.s).collect::<Vec<_>>().join(" ")
                    ));
                }
                for m in local {
                    why.push(format!("line {l}: {m}"));
                }
                out.push(Svc {
                    proto: protos,
                    sport,
                    dport,
                });
            }
        }
    }
    out
}

/// Ports in a service group: an operator, or a bare port (`tcp smtp`,
/// `eq` left out).
fn group_ports(w: &[Tok], i: &mut usize) -> Option<Result<Ranges<u16>, String>> {
    if let Some(p) = w.get(*i).and_then(|t| cn::port(t.s)) {
        *i += 1;
        return Some(Ok(Ranges::one(p)));
    }
    port_match(w, i)
}

/// A protocol word: `ip`/`ipv6` is every protocol; in an IPv6 list `icmp`
/// is ICMPv6.
fn proto(w: &str, v6: bool) -> Option<Ranges<u8>> {
    let n = match w.to_ascii_lowercase().as_str() {
        "ip" if !v6 => return Some(Ranges::full()),
        "ipv6" if v6 => return Some(Ranges::full()),
        "icmp" if v6 => 58,
        "ahp" => 51,
        "nos" => 94,
        "pcp" => 108,
        "hbh" if v6 => 0,
        "ipinip" => 4,
        other => space::proto_number(other)?,
    };
    Some(Ranges::one(n))
}

/// One side's addresses.
#[allow(clippy::too_many_arguments)]
fn address(
    cx: &Cx,
    w: &[Tok],
    i: &mut usize,
    v6: bool,
    standard: bool,
    line: usize,
    why: &mut Vec<String>,
    conds: &mut Vec<Cond>,
) -> Result<Addrs, Diagnostic> {
    let end_col = w.last().map_or(1, |t| t.col + t.s.len() + 1);
    let Some(t) = w.get(*i) else {
        return Err(at(
            cx.file,
            line,
            end_col,
            "an address is expected here: `any`, `host ADDRESS`, an address with its wildcard or an object group",
        ));
    };
    *i += 1;
    let bad = |what: &str| at(cx.file, line, t.col, what.to_string());
    match t.s {
        "any" => Ok(Addrs::every()),
        "host" => {
            let Some(a) = w.get(*i) else {
                return Err(at(cx.file, line, end_col, "`host` needs an address"));
            };
            *i += 1;
            let r = if v6 {
                a.s.parse::<Ipv6Addr>().ok().map(cn::host6)
            } else {
                a.s.parse::<Ipv4Addr>().ok().map(cn::host4)
            };
            r.ok_or_else(|| {
                at(
                    cx.file,
                    line,
                    a.col,
                    format!("`{}` is not an IPv{} address", a.s, if v6 { 6 } else { 4 }),
                )
            })
        }
        "object-group" | "addrgroup" => {
            let Some(n) = w.get(*i) else {
                return Err(at(
                    cx.file,
                    line,
                    end_col,
                    "`object-group` needs a group name",
                ));
            };
            *i += 1;
            match cx.nets.get(n.s) {
                Some((a, k)) => {
                    if let Some(k) = k {
                        conds.push(Cond::Unknown(*k));
                    }
                    Ok(a.clone())
                }
                None => {
                    why.push(format!("no network object group `{}`", n.s));
                    Ok(Addrs::every())
                }
            }
        }
        s if v6 => cn::prefix6(s).ok_or_else(|| {
            bad(&format!(
                "`{s}` is not an IPv6 prefix (`2001:db8::/32`), `any` or `host ADDRESS`"
            ))
        }),
        s if s.contains('/') => {
            cn::prefix4(s).ok_or_else(|| bad(&format!("`{s}` is not an IPv4 network")))
        }
        s => {
            let a: Ipv4Addr = s.parse().map_err(|_| {
                bad(&format!("`{s}` is not an address: expected `any`, `host ADDRESS`, `ADDRESS WILDCARD` or `object-group NAME`"))
            })?;
            // A standard list may leave out the wildcard: one host.
            let wc = match w.get(*i).and_then(|x| x.s.parse::<Ipv4Addr>().ok()) {
                Some(m) => {
                    *i += 1;
                    m
                }
                None if standard => Ipv4Addr::UNSPECIFIED,
                None => {
                    let col = w.get(*i).map_or(end_col, |x| x.col);
                    return Err(at(
                        cx.file,
                        line,
                        col,
                        format!("`{s}` needs its wildcard mask (`{s} 0.0.0.255`)"),
                    ));
                }
            };
            match cn::wildcard(a, wc, 256) {
                Ok(r) => Ok(r),
                Err(envelope) => {
                    let (lo, hi) = envelope.v4.spans().first().copied().unwrap_or((0, 0));
                    why.push(format!(
                        "wildcard {wc} is not contiguous: it matches {} separate ranges, too many to list, somewhere in {} - {}",
                        1u64 << (u32::from(wc).count_ones() - u32::from(wc).trailing_ones()),
                        Ipv4Addr::from(lo),
                        Ipv4Addr::from(hi)
                    ));
                    Ok(*envelope)
                }
            }
        }
    }
}

/// An entry: a rule (with its sequence number, if written), a remark, or
/// nothing to keep.
enum Entry {
    Rule(Option<u64>, Box<Rule>),
    Remark(String),
}

fn build_acl(set: &mut Ruleset, cx: &Cx, acl: &Acl) -> Result<usize, Diagnostic> {
    let c = set.chain(
        acl.name.clone(),
        acl.line,
        End::Policy {
            accept: false,
            line: 0,
            text: "implicit deny".into(),
        },
    );
    // Entries parse independently, so on every core (a core firewall's ACL
    // has 100,000 of them); what each raises is merged in entry order.
    let parsed: Vec<Result<(Option<Entry>, Raised), Diagnostic>> = acl
        .entries
        .par_iter()
        .map(|&(line, text, skip)| {
            let mut raised = Raised::default();
            // Most lines of a large ACL are remarks: their words after the
            // first few are text, not worth splitting.
            let head = cn::toks_n(text, skip + 4);
            let all;
            let w = if remark_head(head.get(skip..).unwrap_or(&[])) {
                &head[skip..]
            } else {
                all = cn::toks(text);
                all.get(skip..).unwrap_or(&[])
            };
            entry(&mut raised, cx, acl, line, text, w).map(|e| (e, raised))
        })
        .collect();
    let mut rules: Vec<(u64, Rule)> = Vec::new();
    let mut last_seq = 0u64;
    let mut remark: Vec<String> = Vec::new();
    for p in parsed {
        let (e, raised) = p?;
        let base = set.issues.len();
        set.issues.extend(raised.issues);
        set.notes.extend(raised.notes);
        match e {
            Some(Entry::Remark(r)) => remark.push(r),
            Some(Entry::Rule(seq, mut r)) => {
                relocate(&mut r, base);
                if !remark.is_empty() {
                    r.label = Some(cut(&remark.join(" "), 240));
                    remark.clear();
                }
                // An entry without a number follows the last one by 10.
                let seq = seq.unwrap_or(last_seq + 10);
                last_seq = seq;
                rules.push((seq, *r));
            }
            None => {}
        }
    }
    // IOS keeps entries in sequence order, whatever order they were typed.
    rules.sort_by_key(|(s, _)| *s);
    let mut rules: Vec<Rule> = rules.into_iter().map(|(_, r)| r).collect();
    if acl.v6 && !rules.is_empty() && !rules.iter().any(catch_all) {
        for (ty, name) in [(136u16, "nd-na"), (135, "nd-ns")] {
            let mut r = Rule::new(
                0,
                &format!("permit icmp any any {name} (implicit in every IPv6 ACL, before its implicit deny)"),
                Action::Accept,
            );
            r.matches[0].proto = Ranges::one(58);
            r.matches[0].dport = Ranges::one(ty);
            rules.push(r);
        }
    }
    set.chains[c].rules = rules;
    Ok(c)
}

/// Whether an entry's first words (at least four, if it has them) make it
/// a remark, as `entry` reads them: `remark`, `10 remark`, `sequence 10 remark`.
fn remark_head(w: &[Tok]) -> bool {
    let i = if w.first().is_some_and(|t| t.s.parse::<u64>().is_ok()) {
        1
    } else if w.first().map(|t| t.s) == Some("sequence") {
        2
    } else {
        0
    };
    w.get(i).map(|t| t.s) == Some("remark")
}

/// Issue indices an entry hands out count from here until they are merged:
/// entries parse in parallel, before their issues have places in the
/// ruleset (indices below it are the ruleset's own, from object groups).
const LOCAL: usize = 1 << 40;

/// The issues and notes parsing one entry raised.
#[derive(Default)]
struct Raised {
    issues: Vec<Issue>,
    notes: Vec<Issue>,
}

impl Raised {
    fn issue(&mut self, line: usize, text: &str, message: impl Into<String>) -> usize {
        self.issues.push(Issue {
            line,
            text: cut(text.trim(), 240),
            message: message.into(),
        });
        LOCAL + self.issues.len() - 1
    }
    fn note(&mut self, line: usize, text: &str, message: impl Into<String>) {
        self.notes.push(Issue {
            line,
            text: cut(text.trim(), 240),
            message: message.into(),
        });
    }
}

/// An entry's own issue indices moved to where its issues were merged.
fn relocate(r: &mut Rule, base: usize) {
    let at = |k: &mut usize| {
        if *k >= LOCAL {
            *k = *k - LOCAL + base;
        }
    };
    for c in &mut r.when {
        if let Cond::Unknown(k) = c {
            at(k);
        }
    }
    if let Action::Unknown(k) = &mut r.action {
        at(k);
    }
}

/// A rule every packet matches, with nothing in doubt.
fn catch_all(r: &Rule) -> bool {
    r.when.is_empty()
        && matches!(r.action, Action::Accept | Action::Block)
        && r.matches.iter().any(|m| {
            m.proto.is_full()
                && m.src.is_every()
                && m.dst.is_every()
                && m.sport.is_full()
                && m.dport.is_full()
        })
}

fn entry(
    set: &mut Raised,
    cx: &Cx,
    acl: &Acl,
    line: usize,
    text: &str,
    w: &[Tok],
) -> Result<Option<Entry>, Diagnostic> {
    let v6 = acl.v6;
    let mut i = 0;
    let mut seq = None;
    // `10 permit ...` (IPv4), `sequence 10 permit ...` (IPv6).
    if let Some(n) = w.first().and_then(|t| t.s.parse::<u64>().ok()) {
        seq = Some(n);
        i = 1;
    } else if w.first().map(|t| t.s) == Some("sequence") {
        seq = w.get(1).and_then(|t| t.s.parse::<u64>().ok());
        i = 2;
    }
    let Some(verb) = w.get(i) else {
        return Err(at(
            cx.file,
            line,
            1,
            "an ACL entry is expected: `permit`, `deny` or `remark`",
        ));
    };
    // A remark before the rule is made: most lines of a large ACL are.
    if verb.s == "remark" {
        let rest = w.get(i + 1).map_or("", |t| &text[byte_of(text, t.col)..]);
        return Ok(Some(Entry::Remark(rest.trim().to_string())));
    }
    let mut r = Rule::new(line, text, Action::Next);
    let mut why: Vec<String> = Vec::new();
    let mut dynamic = None;
    let mut at_verb = i;
    match verb.s {
        "evaluate" => {
            r.action = Action::Accept;
            r.when.push(Cond::Never(format!(
                "evaluates reflexive list {}: its entries match only replies to sessions a `reflect` rule opened",
                w.get(i + 1).map_or("", |t| t.s)
            )));
            set.note(
                line,
                text,
                "reflexive entries match only return traffic, never a new connection",
            );
            return Ok(Some(Entry::Rule(seq, Box::new(r))));
        }
        "dynamic" => {
            dynamic = w.get(i + 1).map(|t| t.s.to_string());
            at_verb = i + 2;
            if w.get(at_verb).map(|t| t.s) == Some("timeout") {
                at_verb += 2;
            }
        }
        "statistics" => return Ok(None),
        _ => {}
    }
    let Some(verb) = w.get(at_verb) else {
        return Err(at(
            cx.file,
            line,
            text.chars().count() + 1,
            "`permit` or `deny` is expected",
        ));
    };
    r.action = match verb.s {
        "permit" => Action::Accept,
        "deny" => Action::Block,
        v => {
            let k = set.issue(
                line,
                text,
                format!("ACL entry `{v}` is not one this reader knows"),
            );
            r.action = Action::Unknown(k);
            return Ok(Some(Entry::Rule(seq, Box::new(r))));
        }
    };
    if let Some(d) = dynamic {
        let k = set.issue(
            line,
            text,
            format!("dynamic (lock-and-key) entry {d} is active only after a user authenticates: whether it matches is not known"),
        );
        r.when.push(Cond::Unknown(k));
    }
    i = at_verb + 1;
    // The protocol, or services from an object group.
    let mut grouped = false;
    let svcs: Vec<Svc> = if acl.standard {
        vec![Svc::of(Ranges::full())]
    } else {
        let Some(p) = w.get(i) else {
            return Err(at(cx.file, line, text.chars().count() + 1, "a protocol is expected (`ip`, `tcp`, `udp`, `icmp`, a number or `object-group NAME`)"));
        };
        i += 1;
        if p.s == "object-group" {
            let Some(n) = w.get(i) else {
                return Err(at(
                    cx.file,
                    line,
                    text.chars().count() + 1,
                    "`object-group` needs a service group name",
                ));
            };
            i += 1;
            grouped = true;
            svc_group(cx, n.s, v6, 0, &mut why)
        } else {
            match proto(p.s, v6) {
                Some(pr) => vec![Svc::of(pr)],
                None => {
                    let k = set.issue(
                        line,
                        text,
                        format!("protocol `{}` is not one this reader knows", p.s),
                    );
                    r.action = Action::Unknown(k);
                    return Ok(Some(Entry::Rule(seq, Box::new(r))));
                }
            }
        }
    };
    let single = (!grouped && svcs.len() == 1).then(|| svcs[0].proto.clone());
    let ported = single.as_ref().is_some_and(has_ports);
    let icmp = single.as_ref().is_some_and(is_icmp);
    let mut conds = Vec::new();
    let src = address(cx, w, &mut i, v6, acl.standard, line, &mut why, &mut conds)?;
    let mut sport = Ranges::full();
    let mut dport = Ranges::full();
    let mut dst = Addrs::every();
    if !acl.standard {
        if ported {
            match port_match(w, &mut i) {
                Some(Ok(p)) => sport = p,
                Some(Err(m)) => why.push(m),
                None => {}
            }
        }
        dst = address(cx, w, &mut i, v6, false, line, &mut why, &mut conds)?;
        if ported {
            match port_match(w, &mut i) {
                Some(Ok(p)) => dport = p,
                Some(Err(m)) => why.push(m),
                None => {}
            }
        }
        if icmp {
            if let Some(ty) = cn::icmp_type(w, &mut i, v6, &mut why) {
                dport = Ranges::one(u16::from(ty));
            }
        }
    }
    // Options.
    while let Some(t) = w.get(i) {
        i += 1;
        match t.s {
            "log" | "log-input" => {
                // An optional cookie word follows.
                if w.get(i).is_some_and(|x| !is_option(x.s)) {
                    i += 1;
                }
            }
            "established" => {
                r.when.push(Cond::Never(
                    "`established` matches only TCP packets with ACK or RST set, never a new connection's first packet".into(),
                ));
            }
            "fragments" => r.when.push(Cond::Never(
                "`fragments` matches only non-initial fragments".into(),
            )),
            "time-range" => {
                let n = w.get(i).map_or("", |x| x.s);
                i += 1;
                let defined = if cx.time_ranges.contains(n) {
                    "its periods"
                } else {
                    "it is not defined in this file, and its periods"
                };
                why.push(format!("active only during time-range {n} ({defined} are not evaluated against the clock)"));
            }
            "reflect" => {
                let n = w.get(i).map_or("", |x| x.s);
                i += 1;
                if w.get(i).map(|x| x.s) == Some("timeout") {
                    i += 2;
                }
                set.note(
                    line,
                    text,
                    format!("`reflect {n}` opens reply entries for what this rule permits; the rule itself matches as written"),
                );
            }
            "syn" => {}
            "ack" | "fin" | "psh" | "rst" | "urg" => r.when.push(Cond::Never(format!(
                "matches only TCP packets with {} set, never a new connection's first packet (a bare SYN)",
                t.s.to_ascii_uppercase()
            ))),
            "match-all" | "match-any" => {
                let mut flags = Vec::new();
                while let Some(f) = w.get(i).filter(|x| x.s.starts_with('+') || x.s.starts_with('-')) {
                    flags.push(f.s);
                    i += 1;
                }
                // A bare SYN: +syn holds, -x holds for every other flag.
                let holds = |f: &str| {
                    let on = f.starts_with('+');
                    let name = &f[1..];
                    (name == "syn") == on
                };
                let first = if t.s == "match-all" {
                    flags.iter().all(|f| holds(f))
                } else {
                    flags.iter().any(|f| holds(f))
                };
                if !first {
                    r.when.push(Cond::Never(format!(
                        "`{} {}` never matches a new connection's first packet (a bare SYN)",
                        t.s,
                        flags.join(" ")
                    )));
                }
            }
            "sequence" if v6 => {
                seq = w.get(i).and_then(|x| x.s.parse::<u64>().ok()).or(seq);
                i += 1;
            }
            "precedence" | "tos" | "dscp" | "option" | "flow-label" | "routing-type"
            | "mobility-type" | "dest-option-type" => {
                let v = w.get(i).map_or("", |x| x.s);
                i += 1;
                why.push(format!("matches only packets with {} {v}", t.s));
            }
            "ttl" | "packet-length" => {
                let op = w.get(i).map_or("", |x| x.s);
                i += if op == "range" { 3 } else { 2 };
                why.push(format!("matches only packets by {}", t.s));
            }
            "routing" | "undetermined-transport" | "hbh" | "mobility" | "dest-option" | "auth" => {
                why.push(format!("matches only packets with `{}`", t.s));
            }
            other => why.push(format!("`{other}`")),
        }
    }
    r.matches = svcs
        .into_iter()
        .map(|s| Match {
            proto: s.proto,
            src: AddrMatch::of(src.clone()),
            dst: AddrMatch::of(dst.clone()),
            sport: if ported { sport.clone() } else { s.sport },
            dport: if ported || icmp {
                dport.clone()
            } else {
                s.dport
            },
        })
        .collect();
    r.when.extend(conds);
    if !why.is_empty() {
        let k = set.issue(line, text, format!("not understood: {}", why.join("; ")));
        r.when.push(Cond::Unknown(k));
    }
    Ok(Some(Entry::Rule(seq, Box::new(r))))
}

/// Words that start an option (so a `log` cookie is not taken for one).
fn is_option(w: &str) -> bool {
    matches!(
        w,
        "log"
            | "log-input"
            | "established"
            | "fragments"
            | "time-range"
            | "reflect"
            | "precedence"
            | "tos"
            | "dscp"
            | "option"
            | "ttl"
            | "sequence"
            | "match-all"
            | "match-any"
            | "syn"
            | "ack"
            | "fin"
            | "psh"
            | "rst"
            | "urg"
            | "flow-label"
            | "routing"
            | "packet-length"
    )
}

/// The byte offset of a 1-based character column.
fn byte_of(text: &str, col: usize) -> usize {
    text.char_indices()
        .nth(col.saturating_sub(1))
        .map_or(text.len(), |(b, _)| b)
}

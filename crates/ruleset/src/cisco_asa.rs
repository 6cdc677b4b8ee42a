//! Reads Cisco ASA access rules: what `render/src/cisco_asa.rs` writes (object
//! groups, FQDN objects and one extended access-list, applied nowhere) and
//! the access-rule parts of an ASA running-config: interfaces with their
//! `nameif` and security level, `name`, network and service objects, object
//! groups of every kind the access lists use, extended access lists and the
//! `access-group` commands that apply them.
//!
//! Semantics (Cisco ASA Series Firewall Configuration Guide, chapter
//! "Access Rules"): an access list is a first-match list; an interface's
//! inbound access list is checked first, then the global access list (which
//! is inbound only, on every interface), then the implicit deny. An
//! outbound access list ends in its own implicit deny. Without any access
//! rule on the interface it arrives on, routed unicast traffic passes from
//! a higher security level to a lower one only (equal levels with
//! `same-security-traffic permit inter-interface`). The ASA is stateful:
//! replies need no rule. `any` is both families (8.x `any` was IPv4 only);
//! FQDN objects match the addresses the name resolves to (by name in the
//! model); `inactive` entries never match. NAT does not change what an
//! access rule matches (ASA 8.3 and later match real addresses), so NAT
//! commands are skipped.

use crate::cisco_ios_names::{self as cn, at, blocks, has_ports, is_icmp, port_match, Svc, Tok};
use crate::model::*;
use crate::space::{self, Addrs, Ranges};
use crate::Reader;
use portplan_model::Diagnostic;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub struct CiscoAsa;

impl Reader for CiscoAsa {
    fn name(&self) -> &'static str {
        "cisco-asa"
    }
    fn about(&self) -> &'static str {
        "Cisco ASA access-lists, objects and access-groups (running-config)"
    }
    fn sniff(&self, text: &str) -> u8 {
        let mut score = 0;
        for l in text.lines().take(4000) {
            let t = l.trim_start();
            if t.starts_with("ASA Version") {
                score = score.max(95);
            } else if t.starts_with("access-group ")
                && (t.contains(" interface ") || t.ends_with(" global"))
            {
                score = score.max(90);
            } else if t.starts_with("access-list ") && t.contains(" extended ") {
                score = score.max(85);
            } else if t.starts_with("network-object ")
                || t.starts_with("port-object ")
                || t.starts_with("service-object ")
            {
                score = score.max(80);
            } else if t.starts_with("nameif ") || t.starts_with("object network ") {
                score = score.max(70);
            }
            // IOS words: never ASA.
            if t.starts_with("ip access-group ")
                || t.starts_with("ip access-list ")
                || t.starts_with("ipv6 traffic-filter ")
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

/// An interface with a `nameif`.
struct Iface {
    line: usize,
    level: u8,
    level_line: usize,
    addrs: Addrs,
    /// Down, or `management-only` (no traffic through it).
    shutdown: bool,
}

/// An object or object group's definition.
struct Def<'a> {
    line: usize,
    /// `network`, `service`, `protocol`, `icmp-type`, ...
    kind: String,
    /// The protocol word of `object-group service NAME tcp`.
    proto: Option<String>,
    header: &'a str,
    members: Vec<(usize, &'a str)>,
}

/// One entry of an access list, in order.
enum Line<'a> {
    Remark(String),
    Ace(usize, &'a str, Vec<Tok<'a>>, usize),
}

struct Acl<'a> {
    name: String,
    line: usize,
    entries: Vec<Line<'a>>,
    /// Not an extended list (`standard`, `webtype`, `ethertype`).
    other: Option<&'static str>,
}

/// An `access-group`: the list, where (nameif, inbound) or `None` for
/// global, its line and text.
type Applied<'a> = (String, Option<(String, bool)>, usize, &'a str);

struct Cx<'a> {
    file: &'a str,
    objects: HashMap<String, Def<'a>>,
    groups: HashMap<String, Def<'a>>,
    names: HashMap<String, IpAddr>,
    ifaces: HashMap<String, Iface>,
    nets: HashMap<String, (Addrs, Option<usize>)>,
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let mut set = Ruleset::new("cisco-asa", file);
    let bl = blocks(text);
    let mut cx = Cx {
        file,
        objects: HashMap::new(),
        groups: HashMap::new(),
        names: HashMap::new(),
        ifaces: HashMap::new(),
        nets: HashMap::new(),
    };
    let mut acls: Vec<Acl> = Vec::new();
    let mut acl_ix: HashMap<String, usize> = HashMap::new();
    // (ACL, Some((nameif, inbound)) or None for global, line, text)
    let mut groups_applied: Vec<Applied> = Vec::new();
    let mut inter = false;
    let mut intra = false;
    let mut iface_order: Vec<String> = Vec::new();
    for b in &bl {
        let w = cn::toks(b.text);
        let word = |i: usize| w.get(i).map(|t| t.s);
        let end = b.text.chars().count() + 1;
        match word(0) {
            Some("interface") => {
                let mut nameif = None;
                let mut level = None;
                let mut level_line = b.line;
                let mut addrs = Addrs::none();
                let mut shutdown = false;
                for &(l, t) in &b.kids {
                    let k = cn::toks(t);
                    let s = |i: usize| k.get(i).map(|x| x.s);
                    match (s(0), s(1), s(2)) {
                        (Some("nameif"), Some(n), _) => nameif = Some((n.to_string(), l)),
                        (Some("security-level"), Some(v), _) => {
                            level = v.parse::<u8>().ok().filter(|v| *v <= 100);
                            if level.is_none() {
                                let col = k.get(1).map_or(1, |x| x.col);
                                return Err(at(
                                    file,
                                    l,
                                    col,
                                    "a security level is a number from 0 to 100",
                                ));
                            }
                            level_line = l;
                        }
                        (Some("ip"), Some("address"), Some(a)) => {
                            if let Ok(a) = a.parse::<Ipv4Addr>() {
                                addrs = addrs.union(&cn::host4(a));
                            }
                        }
                        (Some("ipv6"), Some("address"), Some(a)) => {
                            let a = a.split('/').next().unwrap_or("");
                            if let Ok(a) = a.parse::<Ipv6Addr>() {
                                addrs = addrs.union(&cn::host6(a));
                            }
                        }
                        (Some("shutdown" | "management-only"), None, _) => shutdown = true,
                        _ => {}
                    }
                }
                if let Some((n, l)) = nameif {
                    // The ASA gives `inside` level 100 and other names 0
                    // when no level is set.
                    let level = level.unwrap_or(if n == "inside" { 100 } else { 0 });
                    iface_order.push(n.clone());
                    cx.ifaces.insert(
                        n,
                        Iface {
                            line: l,
                            level,
                            level_line: if level_line == b.line { l } else { level_line },
                            addrs,
                            shutdown,
                        },
                    );
                }
            }
            Some("name") => {
                if let (Some(a), Some(n)) = (word(1), word(2)) {
                    if let Ok(a) = a.parse::<IpAddr>() {
                        cx.names.insert(n.to_string(), a);
                    }
                }
            }
            Some("object") | Some("object-group") => {
                let (Some(kind), Some(name)) = (word(1), word(2)) else {
                    return Err(at(
                        file,
                        b.line,
                        end,
                        format!(
                            "`{}` needs a kind and a name: `{} network NAME`",
                            b.text,
                            word(0).unwrap_or("object")
                        ),
                    ));
                };
                let def = Def {
                    line: b.line,
                    kind: kind.to_string(),
                    proto: word(3).map(str::to_string),
                    header: b.text,
                    members: b.kids.clone(),
                };
                // A running-config names an object again for its NAT
                // rule: the members add up.
                let map = if word(0) == Some("object") {
                    &mut cx.objects
                } else {
                    &mut cx.groups
                };
                match map.get_mut(name) {
                    Some(d) if d.kind == def.kind => d.members.extend(def.members),
                    _ => {
                        map.insert(name.to_string(), def);
                    }
                }
            }
            Some("access-list") | Some("ipv6")
                if word(0) == Some("access-list") || word(1) == Some("access-list") =>
            {
                let off = usize::from(word(0) == Some("ipv6"));
                let Some(name) = w.get(1 + off) else {
                    return Err(at(file, b.line, end, "`access-list` needs a name"));
                };
                let i = *acl_ix.entry(name.s.to_string()).or_insert_with(|| {
                    acls.push(Acl {
                        name: name.s.to_string(),
                        line: b.line,
                        entries: Vec::new(),
                        other: None,
                    });
                    acls.len() - 1
                });
                let mut j = 2 + off;
                let mut pos = None;
                if w.get(j).map(|t| t.s) == Some("line") {
                    pos = w.get(j + 1).and_then(|t| t.s.parse::<usize>().ok());
                    j += 2;
                }
                let entry = match w.get(j).map(|t| t.s) {
                    Some("remark") => {
                        let rest = w.get(j + 1).map_or("", |t| byte_tail(b.text, t.col));
                        Line::Remark(rest.trim().to_string())
                    }
                    Some("extended") => Line::Ace(b.line, b.text, w.clone(), j + 1),
                    // Before 8.3 the word `extended` could be left out.
                    Some("permit" | "deny") => Line::Ace(b.line, b.text, w.clone(), j),
                    Some(k @ ("standard" | "webtype" | "ethertype")) => {
                        acls[i].other = Some(match k {
                            "standard" => "standard",
                            "webtype" => "webtype",
                            _ => "ethertype",
                        });
                        continue;
                    }
                    Some("rename") | Some("alert-interval") | Some("deny-flow-max") => continue,
                    _ => {
                        let col = w.get(j).map_or(end, |t| t.col);
                        return Err(at(
                            file,
                            b.line,
                            col,
                            "expected `extended permit|deny ...` or `remark TEXT` after the access-list name",
                        ));
                    }
                };
                let e = &mut acls[i].entries;
                match pos {
                    Some(p) if p >= 1 && p <= e.len() => e.insert(p - 1, entry),
                    _ => e.push(entry),
                }
            }
            Some("access-group") => {
                let (Some(acl), Some(dir)) = (word(1), word(2)) else {
                    return Err(at(file, b.line, end, "`access-group NAME in|out interface NAMEIF` or `access-group NAME global` is expected"));
                };
                let bind = match dir {
                    "global" => None,
                    "in" | "out" => {
                        let (Some("interface"), Some(n)) = (word(3), word(4)) else {
                            let col = w.get(3).map_or(end, |t| t.col);
                            return Err(at(
                                file,
                                b.line,
                                col,
                                "`interface NAMEIF` is expected after the direction",
                            ));
                        };
                        match word(5) {
                            Some("control-plane") => {
                                set.note(b.line, b.text, "a control-plane access group filters traffic to the ASA itself, not through it: not audited");
                                continue;
                            }
                            Some("per-user-override") => set.note(
                                b.line,
                                b.text,
                                "per-user-override: access lists downloaded for authenticated users replace this one for their traffic; the audit reads this one",
                            ),
                            _ => {}
                        }
                        Some((n.to_string(), dir == "in"))
                    }
                    _ => {
                        let col = w.get(2).map_or(end, |t| t.col);
                        return Err(at(
                            file,
                            b.line,
                            col,
                            "the direction is `in`, `out` or `global`",
                        ));
                    }
                };
                groups_applied.push((acl.to_string(), bind, b.line, b.text));
            }
            Some("same-security-traffic") => match word(2) {
                Some("inter-interface") => inter = true,
                Some("intra-interface") => intra = true,
                _ => {}
            },
            // Everything else (hostname, routes, NAT, VPN, logging,
            // inspection policies) does not change what an access rule
            // permits.
            _ => {}
        }
    }
    if acls.is_empty() {
        let line = bl.first().map_or(1, |b| b.line);
        return Err(at(
            file,
            line,
            1,
            "no access list found: expected `access-list NAME extended permit|deny ...`",
        ));
    }
    // Chains, once every object is known.
    let global = groups_applied
        .iter()
        .find(|g| g.1.is_none())
        .map(|g| (g.0.clone(), g.2, g.3));
    let mut chain_of: HashMap<String, usize> = HashMap::new();
    for acl in &acls {
        if let Some(k) = acl.other {
            set.note(
                acl.line,
                &format!("access-list {} {k}", acl.name),
                format!("access list {} is a {k} list, which does not filter routed IP traffic: not audited", acl.name),
            );
            continue;
        }
        let falls_through = global.as_ref().is_some_and(|g| g.0 != acl.name);
        let end = if falls_through {
            End::Return
        } else {
            End::Policy {
                accept: false,
                line: 0,
                text: "implicit deny".into(),
            }
        };
        let c = set.chain(acl.name.clone(), acl.line, end);
        let mut rules = Vec::new();
        let mut remark: Vec<String> = Vec::new();
        for e in &acl.entries {
            match e {
                Line::Remark(r) => remark.push(r.clone()),
                Line::Ace(line, text, w, i) => {
                    let mut r = ace(&mut set, &mut cx, *line, text, w, *i)?;
                    if !remark.is_empty() {
                        r.label = Some(cut(&remark.join(" "), 240));
                        remark.clear();
                    }
                    rules.push(r);
                }
            }
        }
        set.chains[c].rules = rules;
        chain_of.insert(acl.name.clone(), c);
    }
    let implicit = || End::Policy {
        accept: false,
        line: 0,
        text: "implicit deny".into(),
    };
    if groups_applied.is_empty() {
        for acl in &acls {
            let Some(&c) = chain_of.get(&acl.name) else {
                continue;
            };
            set.note(
                acl.line,
                &format!("access-list {}", acl.name),
                "no access-group applies this access list in this file: audited as applied to all traffic",
            );
            set.filters.push(Filter::new(
                format!("access-list {}", acl.name),
                Direction::Through,
                Families::BOTH,
                c,
            ));
        }
        if !cx.ifaces.is_empty() {
            set.note(
                cx.ifaces.values().map(|i| i.line).min().unwrap_or(1),
                "nameif",
                "without access-groups the ASA passes traffic from a higher to a lower security level only; this audit reads the access lists instead",
            );
        }
        return Ok(set);
    }
    let mut used = HashSet::new();
    let mut inbound_ifaces: Vec<String> = Vec::new();
    for (acl, bind, line, text) in &groups_applied {
        used.insert(acl.clone());
        let Some(&c) = chain_of.get(acl) else {
            let why = match acl_ix.get(acl).and_then(|&i| acls[i].other) {
                Some(k) => format!("access list {acl} is a {k} list, which does not filter routed IP traffic: not audited"),
                None => format!("access list {acl} is not defined in this file (the ASA refuses an access-group for an empty access list): not audited"),
            };
            set.note(*line, text, why);
            continue;
        };
        match bind {
            None => {}
            Some((nameif, inbound)) => {
                if !cx.ifaces.contains_key(nameif) && !cx.ifaces.is_empty() {
                    set.note(
                        *line,
                        text,
                        format!("no interface in this file has `nameif {nameif}`"),
                    );
                }
                let side = AddrMatch::symbol(format!("interface:{nameif}"));
                let name = format!(
                    "access-group {acl} {} interface {nameif}",
                    if *inbound { "in" } else { "out" }
                );
                let entry = match (&global, *inbound) {
                    (Some(g), true) if g.0 != *acl => {
                        // The interface's list, then the global one.
                        let w =
                            set.chain(format!("{name}, then global {}", g.0), *line, implicit());
                        let mut j = Rule::new(*line, text, Action::Jump(c));
                        j.label = Some("interface access rules first".into());
                        let mut rules = vec![j];
                        if let Some(&gc) = chain_of.get(&g.0) {
                            let mut r = Rule::new(g.1, g.2, Action::Goto(gc));
                            r.label = Some("then the global access rules".into());
                            rules.push(r);
                        }
                        set.chains[w].rules = rules;
                        w
                    }
                    (Some(g), false) if g.0 != *acl => {
                        // An outbound list ends in its own implicit deny.
                        let w = set.chain(name.clone(), *line, implicit());
                        set.chains[w].rules = vec![Rule::new(*line, text, Action::Jump(c))];
                        w
                    }
                    _ => c,
                };
                let mut f = Filter::new(name, Direction::Through, Families::BOTH, entry);
                if *inbound {
                    inbound_ifaces.push(nameif.clone());
                    f.src_in = Some(side);
                } else {
                    f.dst_in = Some(side);
                }
                set.filters.push(f);
            }
        }
    }
    match &global {
        Some((g, line, text)) => {
            if let Some(&gc) = chain_of.get(g) {
                // Traffic arriving on interfaces without their own inbound
                // list meets the global list alone.
                let mut f = Filter::new(
                    format!("access-group {g} global"),
                    Direction::Through,
                    Families::BOTH,
                    gc,
                );
                if !inbound_ifaces.is_empty() {
                    f.src_in = Some(AddrMatch {
                        symbols: inbound_ifaces
                            .iter()
                            .map(|n| format!("interface:{n}"))
                            .collect(),
                        negated: true,
                        ..AddrMatch::of(Addrs::none())
                    });
                }
                set.filters.push(f);
                let _ = (line, text);
            }
        }
        None => security_levels(
            &mut set,
            &cx,
            &iface_order,
            &inbound_ifaces,
            inter,
            intra,
            &groups_applied,
        ),
    }
    for acl in &acls {
        if acl.other.is_none() && !used.contains(&acl.name) {
            set.note(
                acl.line,
                &format!("access-list {}", acl.name),
                "no access-group applies this access list: not audited as a filter (it may serve NAT, VPN or a service policy)",
            );
        }
    }
    Ok(set)
}

/// Interfaces without an inbound access list: traffic passes from a higher
/// security level to a lower one (the ASA's implicit permit).
fn security_levels(
    set: &mut Ruleset,
    cx: &Cx,
    order: &[String],
    inbound: &[String],
    inter: bool,
    intra: bool,
    applied: &[Applied],
) {
    let live: Vec<&String> = order
        .iter()
        .filter(|n| cx.ifaces.get(*n).is_some_and(|i| !i.shutdown))
        .collect();
    if live.is_empty() {
        if let Some(a) = applied.first() {
            set.note(
                a.2,
                a.3,
                "traffic arriving on interfaces without an inbound access-group passes by security level, and this file defines no interfaces: that traffic is not audited",
            );
        }
        return;
    }
    for from in &live {
        if inbound.contains(from) {
            continue;
        }
        let Some(fi) = cx.ifaces.get(*from) else {
            continue;
        };
        let c = set.chain(
            format!("security-level {} ({})", from, fi.level),
            fi.level_line,
            End::Policy {
                accept: false,
                line: fi.level_line,
                text: format!(
                    "no inbound access-group on {from}: traffic to an equal or higher security level is denied"
                ),
            },
        );
        let mut rules = Vec::new();
        for to in &live {
            let Some(ti) = cx.ifaces.get(*to) else {
                continue;
            };
            let pass = if to == from {
                intra
            } else if ti.level == fi.level {
                inter
            } else {
                ti.level < fi.level
            };
            if !pass {
                continue;
            }
            let mut r = Rule::new(
                fi.level_line,
                &format!(
                    "implicit permit from {from} (security-level {}) to {to} (security-level {})",
                    fi.level, ti.level
                ),
                Action::Accept,
            );
            r.matches[0].dst = AddrMatch::symbol(format!("interface:{to}"));
            rules.push(r);
        }
        set.chains[c].rules = rules;
        let mut f = Filter::new(
            format!("security levels from {from}"),
            Direction::Through,
            Families::BOTH,
            c,
        );
        f.src_in = Some(AddrMatch::symbol(format!("interface:{from}")));
        set.filters.push(f);
        set.note(
            fi.line,
            &format!("nameif {from}"),
            format!("no inbound access-group on {from}: the ASA's security levels decide (higher to lower passes)"),
        );
    }
}

fn byte_tail(text: &str, col: usize) -> &str {
    let b = text
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(text.len(), |(b, _)| b);
    &text[b..]
}

/// A protocol word of an access list or service.
fn proto(w: &str) -> Option<Ranges<u8>> {
    let n = match w.to_ascii_lowercase().as_str() {
        "ip" => return Some(Ranges::full()),
        "icmp6" => 58,
        "igrp" => 9,
        "snp" => 109,
        "nos" => 94,
        "pcp" => 108,
        "ipsec" => 50,
        "pptp" => 47,
        "ipinip" => 4,
        other => space::proto_number(other)?,
    };
    Some(Ranges::one(n))
}

/// A network object or group's addresses; the issue that makes them
/// uncertain.
fn net(
    set: &mut Ruleset,
    cx: &mut Cx,
    name: &str,
    object: bool,
    depth: usize,
) -> Option<(Addrs, Option<usize>)> {
    let key = format!("{}{name}", if object { "o:" } else { "g:" });
    if let Some(r) = cx.nets.get(&key) {
        return Some(r.clone());
    }
    let defs = if object { &cx.objects } else { &cx.groups };
    let d = defs.get(name).filter(|d| d.kind == "network")?;
    let (line, header, members) = (d.line, d.header, d.members.clone());
    if depth > 32 {
        let k = set.issue(line, header, "object groups nest in a loop");
        return Some((Addrs::none(), Some(k)));
    }
    let mut addrs = Addrs::none();
    let mut issue = None;
    for (l, t) in members {
        let w = cn::toks(t);
        let s = |i: usize| w.get(i).map(|x| x.s);
        // `network-object X` in groups, the bare form in objects.
        let (m0, m1, m2) = if s(0) == Some("network-object") {
            (s(1), s(2), s(3))
        } else {
            (s(0), s(1), s(2))
        };
        let got: Result<Addrs, String> = match (m0, m1, m2) {
            (Some("description"), _, _) => continue,
            (Some("nat"), _, _) => continue,
            (Some("host"), Some(a), None) => host(cx, a).ok_or(format!("`{a}` is not an address")),
            (Some("subnet"), Some(a), Some(m)) => mask(cx, a, m),
            (Some("subnet"), Some(a), None) => {
                cn::prefix6(a).ok_or(format!("`{a}` is not an IPv6 prefix"))
            }
            (Some("range"), Some(a), Some(b)) => crate::words::addr_range(&format!("{a}-{b}"))
                .ok_or(format!("`{a} {b}` is not an address range")),
            (Some("fqdn"), Some(a), b) => {
                let n = match (a, b) {
                    ("v4" | "v6", Some(n)) => n,
                    (n, _) => n,
                };
                if n.contains('*') {
                    Err(format!(
                        "FQDN `{n}`: the ASA does not resolve wildcard names"
                    ))
                } else {
                    Ok(Addrs::name(&n.trim_end_matches('.').to_ascii_lowercase()))
                }
            }
            (Some("object"), Some(n), None) => match net(set, cx, n, true, depth + 1) {
                Some((a, k)) => {
                    issue = issue.or(k);
                    Ok(a)
                }
                None => Err(format!("no network object `{n}`")),
            },
            (Some("group-object"), Some(n), None) => match net(set, cx, n, false, depth + 1) {
                Some((a, k)) => {
                    issue = issue.or(k);
                    Ok(a)
                }
                None => Err(format!("no network object group `{n}`")),
            },
            (Some(a), None, _) if a.contains('/') => {
                cn::prefix6(a).ok_or(format!("`{a}` is not an IPv6 prefix"))
            }
            (Some(a), Some(m), None) => mask(cx, a, m),
            _ => Err(format!("`{t}` is not a member this reader knows")),
        };
        match got {
            Ok(a) => addrs = addrs.union(&a),
            Err(m) => {
                let k = set.issue(l, t, format!("{header}: {m}"));
                issue = issue.or(Some(k));
            }
        }
    }
    cx.nets.insert(key, (addrs.clone(), issue));
    Some((addrs, issue))
}

fn host(cx: &Cx, a: &str) -> Option<Addrs> {
    if let Ok(v4) = a.parse::<Ipv4Addr>() {
        return Some(cn::host4(v4));
    }
    if let Ok(v6) = a.parse::<Ipv6Addr>() {
        return Some(cn::host6(v6));
    }
    cx.names.get(a).map(|ip| match ip {
        IpAddr::V4(v4) => cn::host4(*v4),
        IpAddr::V6(v6) => cn::host6(*v6),
    })
}

fn mask(cx: &Cx, a: &str, m: &str) -> Result<Addrs, String> {
    let a4 = a
        .parse::<Ipv4Addr>()
        .ok()
        .or_else(|| match cx.names.get(a) {
            Some(IpAddr::V4(v4)) => Some(*v4),
            _ => None,
        })
        .ok_or(format!("`{a}` is not an IPv4 address"))?;
    let m4: Ipv4Addr = m
        .parse()
        .map_err(|_| format!("`{m}` is not a network mask"))?;
    cn::masked(a4, m4).ok_or(format!("`{m}` is not a contiguous network mask"))
}

/// The services of a service object, a service group (`service-object`
/// members, or `port-object` members of a group typed `tcp`/`udp`/
/// `tcp-udp`), a protocol group or an ICMP type group.
fn services(
    cx: &Cx,
    name: &str,
    object: bool,
    v6: bool,
    depth: usize,
    why: &mut Vec<String>,
) -> Vec<Svc> {
    let defs = if object { &cx.objects } else { &cx.groups };
    let Some(d) = defs.get(name) else {
        why.push(format!(
            "no {} `{name}`",
            if object { "object" } else { "object group" }
        ));
        return vec![Svc::of(Ranges::full())];
    };
    if depth > 32 {
        why.push(format!("object group `{name}` nests in a loop"));
        return vec![Svc::of(Ranges::full())];
    }
    let mut out = Vec::new();
    let typed = d.proto.as_deref().and_then(|p| match p {
        "tcp-udp" => Some(Ranges::from_iter([(6, 6), (17, 17)])),
        p => proto(p),
    });
    for &(l, t) in &d.members {
        let w = cn::toks(t);
        let s0 = w.first().map(|x| x.s);
        let mut bad = |m: String, out: &mut Vec<Svc>| {
            why.push(format!("line {l}: {m}"));
            out.push(Svc::of(Ranges::full()));
        };
        match (d.kind.as_str(), s0) {
            (_, None | Some("description")) => {}
            (_, Some("group-object")) => match w.get(1) {
                Some(n) => out.extend(services(cx, n.s, false, v6, depth + 1, why)),
                None => bad("`group-object` without a name".into(), &mut out),
            },
            ("service", Some("port-object")) => {
                let Some(p) = typed.clone() else {
                    bad(
                        format!("port-object in object-group {name}, which names no protocol"),
                        &mut out,
                    );
                    continue;
                };
                let mut i = 1;
                match port_match(&w, &mut i) {
                    Some(Ok(r)) => out.push(Svc {
                        proto: p,
                        sport: Ranges::full(),
                        dport: r,
                    }),
                    Some(Err(m)) => bad(m, &mut out),
                    None => bad(format!("`{t}`"), &mut out),
                }
            }
            ("service", Some("service-object" | "service")) => {
                if w.get(1).map(|x| x.s) == Some("object") {
                    match w.get(2) {
                        Some(n) => out.extend(services(cx, n.s, true, v6, depth + 1, why)),
                        None => bad("`service-object object` without a name".into(), &mut out),
                    }
                    continue;
                }
                match service_spec(&w, 1, v6) {
                    Ok(s) => out.push(s),
                    Err(m) => bad(m, &mut out),
                }
            }
            ("protocol", Some("protocol-object")) => match w.get(1).and_then(|x| proto(x.s)) {
                Some(p) => out.push(Svc::of(p)),
                None => bad(format!("`{t}`"), &mut out),
            },
            ("icmp-type", Some("icmp-object")) => match w.get(1).and_then(|x| cn::icmp(x.s, v6)) {
                Some((ty, code)) => {
                    if let Some(c) = code {
                        why.push(format!("line {l}: ICMP code {c} of type {ty} only"));
                    }
                    out.push(Svc {
                        proto: Ranges::one(if v6 { 58 } else { 1 }),
                        sport: Ranges::full(),
                        dport: Ranges::one(u16::from(ty)),
                    });
                }
                None => bad(format!("`{t}`"), &mut out),
            },
            (k, _) => bad(format!("`{t}` in a {k} object"), &mut out),
        }
    }
    out
}

/// `PROTO [source OP P] [destination OP P]`, `icmp TYPE [CODE]` (a service
/// object's `service` or a group's `service-object`).
fn service_spec(w: &[Tok], mut i: usize, v6: bool) -> Result<Svc, String> {
    let Some(p) = w.get(i) else {
        return Err("a protocol is expected".into());
    };
    i += 1;
    let protos = if p.s == "tcp-udp" {
        Ranges::from_iter([(6, 6), (17, 17)])
    } else {
        proto(p.s).ok_or(format!("protocol `{}`", p.s))?
    };
    let mut s = Svc::of(protos.clone());
    if has_ports(&protos) {
        if w.get(i).map(|x| x.s) == Some("source") {
            i += 1;
            s.sport = port_match(w, &mut i).ok_or("`source` without ports")??;
        }
        if w.get(i).map(|x| x.s) == Some("destination") {
            i += 1;
            s.dport = port_match(w, &mut i).ok_or("`destination` without ports")??;
        } else if let Some(r) = port_match(w, &mut i) {
            // The 8.x form without `destination`.
            s.dport = r?;
        }
    } else if is_icmp(&protos) {
        let six = protos.spans() == [(58, 58)] || v6;
        if let Some(t) = w.get(i) {
            let (ty, code) = cn::icmp(t.s, six).ok_or(format!("ICMP message `{}`", t.s))?;
            i += 1;
            if let Some(c) = code.or_else(|| w.get(i).and_then(|x| x.s.parse::<u8>().ok())) {
                return Err(format!("ICMP code {c} of type {ty} only"));
            }
            s.dport = Ranges::one(u16::from(ty));
        }
    }
    if let Some(x) = w.get(i) {
        return Err(format!("`{}`", x.s));
    }
    Ok(s)
}

/// One side of an access control entry.
struct Side {
    addrs: Addrs,
    symbols: Vec<String>,
}

fn side(
    set: &mut Ruleset,
    cx: &mut Cx,
    w: &[Tok],
    i: &mut usize,
    line: usize,
    why: &mut Vec<String>,
    conds: &mut Vec<Cond>,
) -> Result<Side, Diagnostic> {
    let end_col = w.last().map_or(1, |t| t.col + t.s.chars().count() + 1);
    let plain = |a: Addrs| Side {
        addrs: a,
        symbols: Vec::new(),
    };
    // Identity and security-group criteria come before the address.
    while let Some(t) = w.get(*i) {
        match t.s {
            "user"
            | "user-group"
            | "object-group-user"
            | "security-group"
            | "object-group-security" => {
                why.push(format!("`{}` criteria (identity or TrustSec): who the traffic belongs to is not known here", t.s));
                *i += if t.s == "security-group" { 3 } else { 2 };
            }
            _ => break,
        }
    }
    let Some(t) = w.get(*i) else {
        return Err(at(cx.file, line, end_col, "an address is expected: `any`, `host ADDRESS`, `ADDRESS MASK`, `object NAME`, `object-group NAME` or `interface NAMEIF`"));
    };
    *i += 1;
    let arg = |i: &mut usize, what: &str| -> Result<Tok, Diagnostic> {
        let a = w
            .get(*i)
            .copied()
            .ok_or_else(|| at(cx.file, line, end_col, format!("`{}` needs {what}", t.s)))?;
        *i += 1;
        Ok(a)
    };
    match t.s {
        "any" => Ok(plain(Addrs::every())),
        "any4" => Ok(plain(Addrs::all_v4())),
        "any6" => Ok(plain(Addrs::all_v6())),
        "host" => {
            let a = arg(i, "an address")?;
            host(cx, a.s).map(plain).ok_or_else(|| {
                at(
                    cx.file,
                    line,
                    a.col,
                    format!("`{}` is not an address or a `name`", a.s),
                )
            })
        }
        "interface" => {
            let n = arg(i, "a nameif")?;
            match cx.ifaces.get(n.s) {
                Some(f) if !f.addrs.is_empty() => Ok(plain(f.addrs.clone())),
                _ => Ok(Side {
                    addrs: Addrs::none(),
                    symbols: vec![format!("interface-address:{}", n.s)],
                }),
            }
        }
        "object" | "object-group" => {
            let n = arg(i, "a name")?;
            match net(set, cx, n.s, t.s == "object", 0) {
                Some((a, k)) => {
                    if let Some(k) = k {
                        conds.push(Cond::Unknown(k));
                    }
                    Ok(plain(a))
                }
                None => {
                    why.push(format!("no network {} `{}`", t.s, n.s));
                    Ok(plain(Addrs::every()))
                }
            }
        }
        s if s.contains('/') => cn::prefix6(s)
            .or_else(|| cn::prefix4(s))
            .map(plain)
            .ok_or_else(|| at(cx.file, line, t.col, format!("`{s}` is not a prefix"))),
        s => {
            let m = arg(i, "a network mask")?;
            mask(cx, s, m.s)
                .map(plain)
                .map_err(|e| at(cx.file, line, t.col, format!("{e}: expected `any`, `host ADDRESS`, `ADDRESS MASK`, `object NAME` or `object-group NAME`")))
        }
    }
}

/// A rule's two sides, one pair per address family: a packet's source and
/// destination are of one family (an object group of both families does
/// not make an IPv6 host talk to an IPv4 one). DNS names and symbols,
/// whose family is not known, go with both; ICMP goes with IPv4 only,
/// ICMPv6 with IPv6 only.
fn by_family(src: &Side, dst: &Side, proto: &Ranges<u8>) -> Vec<(AddrMatch, AddrMatch)> {
    let only = |s: &Side, v6: bool| AddrMatch {
        symbols: s.symbols.clone(),
        ..AddrMatch::of(Addrs {
            v4: if v6 {
                Ranges::empty()
            } else {
                s.addrs.v4.clone()
            },
            v6: if v6 {
                s.addrs.v6.clone()
            } else {
                Ranges::empty()
            },
            names: s.addrs.names.clone(),
        })
    };
    let mut out = Vec::new();
    for v6 in [false, true] {
        if (v6 && proto.spans() == [(1, 1)]) || (!v6 && proto.spans() == [(58, 58)]) {
            continue;
        }
        let (a, b) = (only(src, v6), only(dst, v6));
        let empty = |m: &AddrMatch| m.addrs.is_empty() && m.symbols.is_empty();
        if empty(&a) || empty(&b) {
            continue;
        }
        // Names alone on both sides need one pair, not two.
        if v6
            && !a.addrs.has_ranges()
            && !b.addrs.has_ranges()
            && a.symbols.is_empty()
            && b.symbols.is_empty()
        {
            continue;
        }
        out.push((a, b));
    }
    out
}

/// Whether `name` is a service group usable as ports (`port-object`s).
fn is_port_group(cx: &Cx, name: &str) -> bool {
    cx.groups
        .get(name)
        .is_some_and(|d| d.kind == "service" && d.proto.is_some())
}

/// One `access-list NAME extended ...` entry, from word `i` (the action).
fn ace(
    set: &mut Ruleset,
    cx: &mut Cx,
    line: usize,
    text: &str,
    w: &[Tok],
    mut i: usize,
) -> Result<Rule, Diagnostic> {
    let end_col = text.chars().count() + 1;
    let mut r = Rule::new(line, text, Action::Next);
    let Some(verb) = w.get(i) else {
        return Err(at(cx.file, line, end_col, "`permit` or `deny` is expected"));
    };
    r.action = match verb.s {
        "permit" => Action::Accept,
        "deny" => Action::Block,
        v => {
            return Err(at(
                cx.file,
                line,
                verb.col,
                format!("`{v}`: `permit` or `deny` is expected"),
            ))
        }
    };
    i += 1;
    let mut why: Vec<String> = Vec::new();
    let mut conds = Vec::new();
    let Some(p) = w.get(i) else {
        return Err(at(cx.file, line, end_col, "a protocol is expected (`ip`, `tcp`, `udp`, `icmp`, `icmp6`, a number, `object NAME` or `object-group NAME`)"));
    };
    i += 1;
    let mut grouped = false;
    let svcs: Vec<Svc> = match p.s {
        "object" | "object-group" => {
            let Some(n) = w.get(i) else {
                return Err(at(
                    cx.file,
                    line,
                    end_col,
                    format!("`{}` needs a name", p.s),
                ));
            };
            i += 1;
            grouped = true;
            services(cx, n.s, p.s == "object", false, 0, &mut why)
        }
        s => match proto(s) {
            Some(pr) => vec![Svc::of(pr)],
            None => {
                let k = set.issue(
                    line,
                    text,
                    format!("protocol `{s}` is not one this reader knows"),
                );
                r.action = Action::Unknown(k);
                return Ok(r);
            }
        },
    };
    let protos = svcs.iter().fold(Ranges::empty(), |a, s| a.union(&s.proto));
    let ported = !protos.is_empty()
        && protos
            .spans()
            .iter()
            .any(|&(a, b)| (a..=b).any(space::has_ports))
        && !protos.is_full();
    let icmp = !grouped && is_icmp(&protos);
    let src = side(set, cx, w, &mut i, line, &mut why, &mut conds)?;
    let mut sport = None;
    let mut dport = None;
    let port_group = |cx: &Cx, name: &str, why: &mut Vec<String>| -> Ranges<u16> {
        services(cx, name, false, false, 0, why)
            .iter()
            .fold(Ranges::empty(), |a, s| a.union(&s.dport))
    };
    if ported {
        if w.get(i).map(|t| t.s) == Some("object-group")
            && w.get(i + 1).is_some_and(|n| is_port_group(cx, n.s))
        {
            sport = Some(port_group(cx, w[i + 1].s, &mut why));
            i += 2;
        } else if let Some(x) = port_match(w, &mut i) {
            match x {
                Ok(p) => sport = Some(p),
                Err(m) => why.push(m),
            }
        }
    }
    let dst = side(set, cx, w, &mut i, line, &mut why, &mut conds)?;
    if ported {
        if w.get(i).map(|t| t.s) == Some("object-group")
            && w.get(i + 1).is_some_and(|n| is_port_group(cx, n.s))
        {
            dport = Some(port_group(cx, w[i + 1].s, &mut why));
            i += 2;
        } else if let Some(x) = port_match(w, &mut i) {
            match x {
                Ok(p) => dport = Some(p),
                Err(m) => why.push(m),
            }
        }
    }
    let six = protos.spans() == [(58, 58)];
    if icmp {
        match w.get(i).map(|t| t.s) {
            Some("object-group") => {
                if let Some(n) = w.get(i + 1) {
                    let types = services(cx, n.s, false, six, 0, &mut why)
                        .iter()
                        .fold(Ranges::empty(), |a, s| a.union(&s.dport));
                    dport = Some(types);
                    i += 2;
                }
            }
            Some(_) => {
                if let Some(ty) = cn::icmp_type(w, &mut i, six, &mut why) {
                    dport = Some(Ranges::one(u16::from(ty)));
                }
            }
            None => {}
        }
    }
    while let Some(t) = w.get(i) {
        i += 1;
        match t.s {
            "log" => {
                // `log [LEVEL] [interval SECS]`, `log disable`, `log default`.
                while let Some(x) = w.get(i) {
                    let lvl = matches!(
                        x.s,
                        "disable"
                            | "default"
                            | "emergencies"
                            | "alerts"
                            | "critical"
                            | "errors"
                            | "warnings"
                            | "notifications"
                            | "informational"
                            | "debugging"
                    ) || x.s.parse::<u8>().is_ok();
                    if lvl {
                        i += 1;
                    } else if x.s == "interval" {
                        i += 2;
                    } else {
                        break;
                    }
                }
            }
            "inactive" => r.when.push(Cond::Never("the entry is `inactive`".into())),
            "time-range" => {
                let n = w.get(i).map_or("", |x| x.s);
                i += 1;
                why.push(format!(
                    "active only during time-range {n} (not evaluated against the clock)"
                ));
            }
            other => why.push(format!("`{other}`")),
        }
    }
    let mut matches = Vec::new();
    for s in svcs {
        let p = s
            .proto
            .spans()
            .iter()
            .all(|&(a, b)| (a..=b).all(space::has_ports));
        let sp = match (&sport, p) {
            (Some(x), true) => x.intersect(&s.sport),
            _ => s.sport.clone(),
        };
        let dp = match (&dport, p || icmp) {
            (Some(x), true) => x.intersect(&s.dport),
            _ => s.dport.clone(),
        };
        for (sa, da) in by_family(&src, &dst, &s.proto) {
            matches.push(Match {
                proto: s.proto.clone(),
                src: sa,
                dst: da,
                sport: sp.clone(),
                dport: dp.clone(),
            });
        }
    }
    r.matches = matches;
    r.when.extend(conds);
    if !why.is_empty() {
        let k = set.issue(line, text, format!("not understood: {}", why.join("; ")));
        r.when.push(Cond::Unknown(k));
    }
    Ok(r)
}

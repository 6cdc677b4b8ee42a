//! Flows as boxes of the packet space: planned flows, and single flows a
//! user asks about (`tcp 10.0.0.1 -> 10.0.1.5:443`).

use crate::eval::Members;
use crate::space::{self, Addrs, Ranges, Space};
use ipnet::IpNet;
use portplan_model::catalog::Scope;
use portplan_model::ports::icmp_type_numbers;
use portplan_model::{Addr, Flow, Protocol};
use std::net::Ipv4Addr;

/// A flow's addresses as a set; DNS names the user gave addresses for
/// (`--member NAME=...`) become those addresses.
pub fn side_addrs(addrs: &[Addr], members: &Members) -> Addrs {
    side_addrs_any(addrs, members, &Addrs::every())
}

/// `side_addrs`, with `any` standing for `any` (a plan's `any` is the
/// parties outside the deployment: everything but its own addresses).
pub fn side_addrs_any(addrs: &[Addr], members: &Members, any: &Addrs) -> Addrs {
    let mut a = Addrs::none();
    for x in addrs {
        let s = match x {
            Addr::Net(n) => Addrs::net(n),
            Addr::Name(n) => members.get(n).unwrap_or_else(|| Addrs::name(n)),
            Addr::Any => any.clone(),
        };
        a = a.union(&s);
    }
    a
}

/// Where a broadcast to these networks goes: each IPv4 network's directed
/// broadcast address; 255.255.255.255 for `any` when `limited`.
pub fn broadcast_addrs(addrs: &[Addr], limited: bool) -> Addrs {
    let mut a = Addrs::none();
    for x in addrs {
        let s = match x {
            Addr::Net(IpNet::V4(n)) => Addrs {
                v4: Ranges::one(u32::from(n.broadcast())),
                ..Addrs::none()
            },
            Addr::Any if limited => Addrs {
                v4: Ranges::one(u32::from(Ipv4Addr::BROADCAST)),
                ..Addrs::none()
            },
            _ => Addrs::none(),
        };
        a = a.union(&s);
    }
    a
}

/// The boxes of one planned flow: one per address family (ICMP differs by
/// family), source ports any. `limited`: a broadcast to `any` is the
/// limited broadcast (a host's own firewall sees it).
pub fn flow_spaces(f: &Flow, members: &Members, limited: bool) -> Vec<Space> {
    flow_spaces_any(f, members, limited, &Addrs::every())
}

/// `flow_spaces` where `any` stands for `any` (see `side_addrs_any`).
pub fn flow_spaces_any(f: &Flow, members: &Members, limited: bool, any: &Addrs) -> Vec<Space> {
    let src = side_addrs_any(&f.src.addrs, members, any);
    let dst = if f.scope == Scope::Broadcast {
        broadcast_addrs(&f.dst.addrs, limited)
    } else {
        side_addrs_any(&f.dst.addrs, members, any)
    };
    let icmp = f.icmp_type.as_deref().and_then(icmp_type_numbers);
    spaces(
        f.protocol,
        &src,
        &dst,
        &f.ports
            .ranges()
            .iter()
            .map(|r| (r.low, r.high))
            .collect::<Vec<_>>(),
        icmp,
        f.icmp_type.is_some(),
    )
}

/// The boxes of a planned flow as the firewall of one host sees them: only
/// where that host is an end the flow names (a flow to `any` from the host
/// is its outbound traffic, not traffic to itself).
pub fn host_flow_spaces(f: &Flow, members: &Members, name: &str, addrs: &[Addr]) -> Vec<Space> {
    host_flow_spaces_any(f, members, name, addrs, &Addrs::every())
}

/// `host_flow_spaces` where `any` stands for `any` (see `side_addrs_any`).
pub fn host_flow_spaces_any(
    f: &Flow,
    members: &Members,
    name: &str,
    addrs: &[Addr],
    any: &Addrs,
) -> Vec<Space> {
    let at_src = f.src.touches(name, addrs);
    let at_dst = f.dst.touches(name, addrs);
    let host = side_addrs(addrs, members);
    let mut out = Vec::new();
    for s in flow_spaces_any(f, members, true, any) {
        match (at_src, at_dst) {
            (false, false) => {}
            (true, true) => out.push(s),
            (true, false) => {
                let mut x = s;
                x.src = x.src.intersect(&host);
                if !x.is_empty() {
                    out.push(x);
                }
            }
            (false, true) => {
                let mut x = s;
                // A broadcast reaches the host at the broadcast address of
                // the networks it is in, which is not one of its own.
                if f.scope == Scope::Broadcast {
                    let near: Vec<Addr> = f
                        .dst
                        .addrs
                        .iter()
                        .filter(|a| {
                            matches!(a, Addr::Any)
                                || portplan_model::Side {
                                    labels: vec![],
                                    addrs: vec![(*a).clone()],
                                }
                                .touches("", addrs)
                        })
                        .cloned()
                        .collect();
                    x.dst = x.dst.intersect(&broadcast_addrs(&near, true));
                } else {
                    x.dst = x.dst.intersect(&host);
                }
                if !x.is_empty() {
                    out.push(x);
                }
            }
        }
    }
    out
}

fn spaces(
    protocol: Protocol,
    src: &Addrs,
    dst: &Addrs,
    ports: &[(u16, u16)],
    icmp: Option<(Option<u8>, Option<u8>)>,
    icmp_named: bool,
) -> Vec<Space> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let fam = |a: &Addrs| Addrs {
            v4: if v6 { Ranges::empty() } else { a.v4.clone() },
            v6: if v6 { a.v6.clone() } else { Ranges::empty() },
            names: a.names.clone(),
        };
        let (s, d) = (fam(src), fam(dst));
        if s.is_empty() || d.is_empty() {
            continue;
        }
        let names_only = !s.has_ranges() && !d.has_ranges();
        let (proto, dport) = match protocol {
            Protocol::Tcp | Protocol::Udp => {
                if v6 && names_only {
                    // Names on both sides: the IPv4 box already holds them.
                    continue;
                }
                let p = if protocol == Protocol::Tcp {
                    space::TCP
                } else {
                    space::UDP
                };
                (p, Ranges::from_iter(ports.iter().copied()))
            }
            Protocol::Esp => {
                if v6 && names_only {
                    continue;
                }
                (space::ESP, Ranges::full())
            }
            Protocol::Icmp => {
                let p = if v6 { space::ICMPV6 } else { space::ICMP };
                let t = match icmp {
                    Some((a, b)) => {
                        let n = if v6 { b } else { a };
                        match n {
                            Some(n) => Ranges::one(u16::from(n)),
                            // The type does not exist in this family.
                            None => continue,
                        }
                    }
                    // A name portplan does not know: every type, and the
                    // planner reports the name.
                    None if icmp_named => Ranges::range(0, 255),
                    None => Ranges::range(0, 255),
                };
                (p, t)
            }
        };
        out.push(Space {
            proto: Ranges::one(proto),
            src: s,
            dst: d,
            sport: Ranges::full(),
            dport,
        });
    }
    // At most two boxes (one per family); the room for four a pushed
    // vector keeps would double an audit's memory per flow.
    out.shrink_to_fit();
    out
}

/// A flow a user asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// As the user wrote it.
    pub text: String,
    pub spaces: Vec<Space>,
}

/// Parses `PROTO SRC[:SPORT] -> DST[:PORTS] [ICMP-TYPE]`:
/// `tcp 10.0.0.1 -> 10.0.1.5:443`, `udp 10.0.0.0/24 -> 10.0.1.5:53,123`,
/// `tcp [2001:db8::1] -> [2001:db8::2]:22`, `icmp 10.0.0.1 -> 10.0.0.2 echo-request`,
/// `esp 10.0.0.1 -> 10.0.0.2`, `tcp any -> app.example.com:443`.
pub fn parse_query(text: &str, members: &Members) -> Result<Query, String> {
    let t = text.trim();
    let (left, right) = t.split_once("->").ok_or_else(|| {
        format!(
            "`{t}`: write `PROTO SOURCE -> DESTINATION:PORT`, e.g. `tcp 10.0.0.1 -> 10.0.1.5:443`"
        )
    })?;
    let mut lw = left.split_whitespace();
    let proto_word = lw.next().ok_or_else(|| {
        format!("`{t}`: the protocol is missing (tcp, udp, icmp, esp or a number)")
    })?;
    let src_word = lw
        .next()
        .ok_or_else(|| format!("`{t}`: the source is missing"))?;
    if let Some(x) = lw.next() {
        return Err(format!("`{t}`: unexpected `{x}` before `->`"));
    }
    let mut rw = right.split_whitespace();
    let dst_word = rw
        .next()
        .ok_or_else(|| format!("`{t}`: the destination is missing"))?;
    let extra = rw.next();
    if let Some(x) = rw.next() {
        return Err(format!("`{t}`: unexpected `{x}`"));
    }
    let proto = space::proto_number(proto_word).ok_or_else(|| {
        format!("`{t}`: unknown protocol `{proto_word}`: write tcp, udp, icmp, icmpv6, esp or a number 0-255")
    })?;
    let (src, sport) = endpoint(src_word, t, members)?;
    let (dst, dport) = endpoint(dst_word, t, members)?;
    let ported = space::has_ports(proto);
    if !ported && (sport.is_some() || dport.is_some()) {
        return Err(format!("`{t}`: {} has no ports", space::proto_name(proto)));
    }
    if ported && dport.is_none() {
        return Err(format!(
            "`{t}`: which destination port? write `{dst_word}:PORT` (a port, a range `8000-8999` or a list `53,123`)"
        ));
    }
    let icmp_type = match (proto, extra) {
        (1 | 58, Some(w)) => {
            let (v4, v6) = icmp_type_numbers(w).ok_or_else(|| {
                format!(
                    "`{t}`: unknown ICMP type `{w}`: write a number or a name such as echo-request"
                )
            })?;
            let n = if proto == 58 { v6 } else { v4 };
            Some(n.ok_or_else(|| {
                format!(
                    "`{t}`: `{w}` does not exist in {}",
                    space::proto_name(proto)
                )
            })?)
        }
        (_, Some(w)) => return Err(format!("`{t}`: unexpected `{w}` after the destination")),
        _ => None,
    };
    let mut spaces = Vec::new();
    for v6 in [false, true] {
        let fam = |a: &Addrs| Addrs {
            v4: if v6 { Ranges::empty() } else { a.v4.clone() },
            v6: if v6 { a.v6.clone() } else { Ranges::empty() },
            names: a.names.clone(),
        };
        let (s, d) = (fam(&src), fam(&dst));
        if s.is_empty() || d.is_empty() || (v6 && !s.has_ranges() && !d.has_ranges()) {
            continue;
        }
        let dport = match icmp_type {
            Some(n) => Ranges::one(u16::from(n)),
            None if ported => dport.clone().unwrap_or_else(Ranges::full),
            None if proto == 1 || proto == 58 => Ranges::range(0, 255),
            None => Ranges::full(),
        };
        spaces.push(Space {
            proto: Ranges::one(proto),
            src: s,
            dst: d,
            sport: sport.clone().unwrap_or_else(Ranges::full),
            dport,
        });
    }
    if spaces.is_empty() {
        return Err(format!(
            "`{t}`: the source and destination are of different address families"
        ));
    }
    Ok(Query {
        text: t.to_string(),
        spaces,
    })
}

/// `10.0.0.1`, `10.0.0.0/24:443`, `[2001:db8::1]:22`, `name:443`, `any`.
fn endpoint(w: &str, t: &str, members: &Members) -> Result<(Addrs, Option<Ranges<u16>>), String> {
    let (host, port) = if let Some(rest) = w.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{t}`: `{w}` opens `[` without closing it"))?;
        let p = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("`{t}`: write `[ADDRESS]:PORT`, not `{w}`")),
        };
        (h, p)
    } else if w.matches(':').count() > 1 {
        // A bare IPv6 address (no port can follow without brackets).
        (w, None)
    } else {
        match w.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (w, None),
        }
    };
    let addr: Addr = host.parse().map_err(|e| format!("`{t}`: {e}"))?;
    let addrs = side_addrs(std::slice::from_ref(&addr), members);
    let ports = match port {
        None => None,
        Some(p) => Some(port_list(p).map_err(|e| format!("`{t}`: {e}"))?),
    };
    Ok((addrs, ports))
}

/// `443`, `8000-8999`, `53,123`, `0-65535`.
pub fn port_list(p: &str) -> Result<Ranges<u16>, String> {
    let mut v = Vec::new();
    for part in p.split(',') {
        let part = part.trim();
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u16 = a
            .trim()
            .parse()
            .map_err(|_| format!("`{part}` is not a port (0-65535)"))?;
        let b: u16 = b
            .trim()
            .parse()
            .map_err(|_| format!("`{part}` is not a port (0-65535)"))?;
        if a > b {
            return Err(format!("port range `{part}` runs backwards"));
        }
        v.push((a, b));
    }
    Ok(Ranges::from_iter(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse() {
        let m = Members::default();
        let q = parse_query("tcp 10.0.0.1 -> 10.0.1.5:443", &m).unwrap();
        assert_eq!(q.spaces.len(), 1);
        assert_eq!(q.spaces[0].dport.spans(), &[(443, 443)]);
        let q = parse_query("tcp [2001:db8::1]:5555 -> [2001:db8::2]:22,80-81", &m).unwrap();
        assert_eq!(q.spaces[0].sport.spans(), &[(5555, 5555)]);
        assert_eq!(q.spaces[0].dport.spans(), &[(22, 22), (80, 81)]);
        let q = parse_query("icmp 10.0.0.1 -> 10.0.0.2 echo-request", &m).unwrap();
        assert_eq!(q.spaces[0].dport.spans(), &[(8, 8)]);
        let q = parse_query("tcp any -> app.example.com:443", &m).unwrap();
        assert!(!q.spaces.is_empty());
        for bad in [
            "tcp 10.0.0.1 10.0.0.2:443",
            "tcp 10.0.0.1 -> 10.0.0.2",
            "tpc 10.0.0.1 -> 10.0.0.2:1",
            "icmp 1.1.1.1 -> 2.2.2.2:5",
            "tcp 1.1.1.1 -> 2.2.2.2:70000",
            "tcp 1.1.1.1 -> [::1:22",
            "tcp 10.0.0.1 -> 2001:db8::1",
        ] {
            assert!(parse_query(bad, &m).is_err(), "{bad} parsed");
        }
    }
}

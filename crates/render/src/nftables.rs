//! nftables: an `nft -f` script with its own `inet portplan` table, so it
//! never touches other tables and can be re-applied (the table is deleted
//! and rebuilt in one transaction).

use crate::common::{self, broadcast_addrs, short4, short6, why_lines, Gaps, Split};
use crate::host::{host_plan, lockout, Dir, HostFlow, Mgmt};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{FlowSet, Protocol};
use std::collections::BTreeSet;
use std::fmt::Write;

pub struct Nftables;

/// nftables keeps at most 128 bytes of a rule comment.
const COMMENT_MAX: usize = 127;

impl Renderer for Nftables {
    fn name(&self) -> &'static str {
        "nftables"
    }
    fn extension(&self) -> &'static str {
        "nft"
    }
    fn per_host(&self) -> bool {
        true
    }
    fn render(&self, set: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String> {
        let (host, net, lo) = host_plan(self.name(), set, opts)?;
        let mut gaps = Gaps::default();
        let mut names: BTreeSet<String> = BTreeSet::new();
        let mut input = String::new();
        let mut output = String::new();
        let mut open_out = Vec::new();
        for hf in &net {
            let body = if hf.dir == Dir::In {
                &mut input
            } else if opts.egress {
                &mut output
            } else {
                // Outbound is left open: listed, not written.
                open_out.push(hf.flow);
                continue;
            };
            rule(hf, &mut gaps, &mut names, body);
        }
        let mgmt = Mgmt::of(opts, &[22]);
        let warning = match &mgmt {
            Some(_) => None,
            None => Some(lockout(host, &net, "SSH, TCP 22", &[22])),
        };

        let mut t = String::new();
        let _ = writeln!(t, "#!/usr/sbin/nft -f");
        if let Some((lines, _)) = &warning {
            for l in lines {
                let _ = writeln!(t, "# {l}");
            }
        }
        let _ = writeln!(
            t,
            "# portplan: host firewall for {} (deployment {})",
            common::one_line(&host.name),
            common::one_line(&set.deployment)
        );
        let _ = writeln!(
            t,
            "# Apply with `nft -f FILE`. Only table inet portplan is replaced."
        );
        if opts.egress {
            let _ = writeln!(
                t,
                "# Default deny both ways (--egress): anything not listed here (DNS, NTP,"
            );
            let _ = writeln!(
                t,
                "# updates, ...) is dropped by this table; add it before applying."
            );
        } else {
            let _ = writeln!(
                t,
                "# Inbound: default deny, anything not listed here is dropped by this table."
            );
            let _ = writeln!(
                t,
                "# Outbound is left open (output policy accept); --egress writes an output chain"
            );
            let _ = writeln!(
                t,
                "# with default deny that allows only the planned outbound flows."
            );
        }
        if let Some(m) = &mgmt {
            let _ = writeln!(
                t,
                "# Management: TCP {} from {} is accepted before any other rule.",
                m.port_list(),
                text_c(&m.who)
            );
        }
        let _ = writeln!(
            t,
            "# Replies (established/related), loopback and IPv6 neighbour discovery are accepted."
        );
        if !names.is_empty() {
            let _ = writeln!(
                t,
                "# Sets named dns_* start empty: fill them with the addresses the names"
            );
            let _ = writeln!(
                t,
                "# resolve to (dnsmasq `nftset=/NAME/4#inet#portplan#SET`, or a script)."
            );
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "table inet portplan");
        let _ = writeln!(t, "delete table inet portplan");
        let _ = writeln!(t);
        let _ = writeln!(t, "table inet portplan {{");
        for n in &names {
            for (fam, ty) in [("v4", "ipv4_addr"), ("v6", "ipv6_addr")] {
                let _ = writeln!(t, "\tset {}_{fam} {{", set_name(n));
                let _ = writeln!(t, "\t\ttype {ty}");
                let _ = writeln!(t, "\t\tflags interval");
                let _ = writeln!(t, "\t\tcomment \"{}\"", text(&format!("addresses of {n}")));
                let _ = writeln!(t, "\t}}");
                let _ = writeln!(t);
            }
        }
        let first = mgmt.as_ref().map(mgmt_rules).unwrap_or_default();
        chain(&mut t, "input", "iifname", &first, &input);
        let _ = writeln!(t);
        if opts.egress {
            chain(&mut t, "output", "oifname", "", &output);
        } else {
            // Written, not left out, so the file says it and an old output
            // chain of this table is replaced by an open one.
            let _ = writeln!(t, "\tchain output {{");
            let _ = writeln!(
                t,
                "\t\ttype filter hook output priority filter; policy accept;"
            );
            let _ = writeln!(t, "\t}}");
        }
        if !open_out.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "\t# Outbound flows of this host: outbound is left open (--egress writes rules)."
            );
            for f in &open_out {
                let _ = writeln!(t, "\t#   {}", crate::host::open_line(f));
            }
        }
        if !lo.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "\t# Loopback flows of this host: accepted by the lo rules above, no rule needed."
            );
            for f in &lo {
                let _ = writeln!(
                    t,
                    "\t#   {} ({})",
                    text_c(&common::service_phrase(f)),
                    text_c(&common::reasons(f))
                );
            }
        }
        let _ = writeln!(t, "}}");
        if net.is_empty() && lo.is_empty() {
            let _ = writeln!(t, "# The plan has no flow to or from this host.");
        }
        common::gaps_footer(&mut t, &gaps, "#");
        let mut done = gaps.finish(t);
        done.unexpressed.extend(warning.map(|w| w.1));
        Ok(done)
    }
}

/// The management path's rules, first in the input chain, so that no later
/// rule (nor the drop policy) can cut the administrators' access.
fn mgmt_rules(m: &Mgmt) -> String {
    let mut out = String::new();
    let from = Split::of(&m.from);
    let ports: Vec<String> = m.ports.iter().map(ToString::to_string).collect();
    let comment = text(&format!("portplan: management access from {}", m.who));
    let _ = writeln!(
        out,
        "\t\t# Management path (`management:` or --management): first, before anything else."
    );
    let mut matches: Vec<String> = Vec::new();
    if !from.v4.is_empty() {
        let l: Vec<String> = from.v4.iter().map(short4).collect();
        matches.push(format!("ip saddr {}", set_of(&l)));
    }
    if !from.v6.is_empty() {
        let l: Vec<String> = from.v6.iter().map(short6).collect();
        matches.push(format!("ip6 saddr {}", set_of(&l)));
    }
    for m in matches {
        let _ = writeln!(
            out,
            "\t\t{m} tcp dport {} accept comment \"{comment}\"",
            set_of(&ports)
        );
    }
    out
}

fn chain(t: &mut String, name: &str, lo_match: &str, first: &str, body: &str) {
    let _ = writeln!(t, "\tchain {name} {{");
    let _ = writeln!(
        t,
        "\t\ttype filter hook {name} priority filter; policy drop;"
    );
    t.push_str(first);
    let _ = writeln!(t, "\t\t{lo_match} \"lo\" accept");
    let _ = writeln!(t, "\t\tct state established,related accept");
    let _ = writeln!(t, "\t\tct state invalid drop");
    let _ = writeln!(
        t,
        "\t\ticmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert }} accept"
    );
    t.push_str(body);
    let _ = writeln!(t, "\t}}");
}

/// The rules of one flow: one per address family (and per DNS name set).
fn rule(hf: &HostFlow, gaps: &mut Gaps, names: &mut BTreeSet<String>, out: &mut String) {
    let f = hf.flow;
    let _ = writeln!(out);
    for l in why_lines(f) {
        let _ = writeln!(out, "\t\t# {}", text_c(&l));
    }
    let peer = hf.peer_split();
    let saddr = match hf.dir {
        Dir::In => "saddr",
        Dir::Out => "daddr",
    };
    let comment = format!(" comment \"{}\"", text(&common::reasons(f)));

    // (family keyword, address match) pairs; an empty match means any address.
    let mut matches: Vec<(&str, String)> = Vec::new();
    let broadcast_out = f.scope == Scope::Broadcast && hf.dir == Dir::Out;
    if broadcast_out {
        let b = broadcast_addrs(&hf.peer().addrs, true);
        if !b.is_empty() {
            let list: Vec<String> = b.iter().map(ToString::to_string).collect();
            matches.push(("ip", format!("ip daddr {}", set_of(&list))));
        }
        if !peer.v6.is_empty() {
            let _ = writeln!(
                out,
                "\t\t# {}",
                gaps.add(
                    f,
                    "IPv6 broadcast",
                    "IPv6 has no broadcast; the IPv6 destinations get no rule"
                )
            );
        }
    } else if peer.any {
        matches.push(("", String::new()));
    } else {
        if !peer.v4.is_empty() {
            let l: Vec<String> = peer.v4.iter().map(short4).collect();
            matches.push(("ip", format!("ip {saddr} {}", set_of(&l))));
        }
        if !peer.v6.is_empty() {
            let l: Vec<String> = peer.v6.iter().map(short6).collect();
            matches.push(("ip6", format!("ip6 {saddr} {}", set_of(&l))));
        }
    }
    if !peer.any && !broadcast_out {
        for n in &peer.names {
            names.insert(n.clone());
            let s = set_name(n);
            matches.push(("ip", format!("ip {saddr} @{s}_v4")));
            matches.push(("ip6", format!("ip6 {saddr} @{s}_v6")));
            let _ = writeln!(
                out,
                "\t\t# {}",
                gaps.add(
                    f,
                    &format!("DNS name {n}"),
                    &format!(
                        "nftables matches addresses, not names: the rules use sets {s}_v4/{s}_v6, which stay empty until something fills them with {n}'s addresses"
                    )
                )
            );
        }
    }
    // A flow of one host inside the network this firewall is for: only
    // that host's addresses, per family (an IPv4-only host end drops the
    // IPv6 rule, which could never match).
    if let Some(own) = hf.narrower() {
        let daddr = match hf.dir {
            Dir::In => "daddr",
            Dir::Out => "saddr",
        };
        let v4: Vec<String> = own.v4.iter().map(short4).collect();
        let v6: Vec<String> = own.v6.iter().map(short6).collect();
        let mine = |fam: &str| match fam {
            "ip" if !v4.is_empty() => Some(format!("ip {daddr} {}", set_of(&v4))),
            "ip6" if !v6.is_empty() => Some(format!("ip6 {daddr} {}", set_of(&v6))),
            _ => None,
        };
        let mut scoped: Vec<(&str, String)> = Vec::new();
        for (fam, m) in matches {
            let fams: &[&str] = if fam.is_empty() {
                &["ip", "ip6"]
            } else {
                &[fam]
            };
            for f in fams {
                if let Some(own) = mine(f) {
                    let sep = if m.is_empty() { "" } else { " " };
                    scoped.push((f, format!("{m}{sep}{own}")));
                }
            }
        }
        matches = scoped;
    }
    // A broadcast arrives addressed to the network's broadcast address, not
    // to the host's own: only that is opened, not unicast on the same ports.
    if f.scope == Scope::Broadcast && hf.dir == Dir::In {
        let b = hf.broadcast_in();
        let list: Vec<String> = b.iter().map(ToString::to_string).collect();
        let to = format!("ip daddr {}", set_of(&list));
        matches = matches
            .into_iter()
            .filter(|(fam, _)| *fam != "ip6")
            .map(|(_, m): (&str, String)| {
                let sep = if m.is_empty() { "" } else { " " };
                ("ip", format!("{m}{sep}{to}"))
            })
            .collect();
        if b.is_empty() {
            matches.clear();
        }
    }
    if matches.is_empty() {
        let _ = writeln!(
            out,
            "\t\t# {}",
            gaps.add(f, "no address", "the other end of this flow has no address")
        );
        return;
    }
    let icmp = match common::icmp_of(f) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(out, "\t\t# {}", gaps.add(f, "ICMP type", &e));
            return;
        }
    };
    for (fam, m) in matches {
        let sep = if m.is_empty() { "" } else { " " };
        match f.protocol {
            Protocol::Tcp | Protocol::Udp => {
                let ports: Vec<String> = f.ports.ranges().iter().map(ToString::to_string).collect();
                let _ = writeln!(
                    out,
                    "\t\t{m}{sep}{} dport {} accept{comment}",
                    f.protocol,
                    set_of(&ports)
                );
            }
            Protocol::Esp => {
                let _ = writeln!(out, "\t\t{m}{sep}meta l4proto esp accept{comment}");
            }
            Protocol::Icmp => {
                // ICMPv4 for IPv4 peers, ICMPv6 for IPv6 peers, both for any.
                let (t4, t6) = match icmp {
                    None => (Some(None), Some(None)),
                    Some((a, b)) => (a.map(Some), b.map(Some)),
                };
                if fam != "ip6" {
                    match t4 {
                        Some(Some(t)) => {
                            let _ = writeln!(out, "\t\t{m}{sep}icmp type {t} accept{comment}");
                        }
                        Some(None) => {
                            let _ = writeln!(out, "\t\t{m}{sep}meta l4proto icmp accept{comment}");
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "\t\t# {}",
                                gaps.add(f, "ICMPv4", "this ICMP type exists only in ICMPv6")
                            );
                        }
                    }
                }
                if fam != "ip" {
                    match t6 {
                        Some(Some(t)) => {
                            let _ = writeln!(out, "\t\t{m}{sep}icmpv6 type {t} accept{comment}");
                        }
                        Some(None) => {
                            let _ =
                                writeln!(out, "\t\t{m}{sep}meta l4proto ipv6-icmp accept{comment}");
                        }
                        None if fam == "ip6" => {
                            let _ = writeln!(
                                out,
                                "\t\t# {}",
                                gaps.add(f, "ICMPv6", "this ICMP type has no ICMPv6 equivalent")
                            );
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

fn set_of(items: &[String]) -> String {
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("{{ {} }}", items.join(", "))
    }
}

/// A set name for a DNS name: letters, digits and `_` (nft identifiers).
fn set_name(name: &str) -> String {
    let n = common::sanitize(
        &name.replace('*', "wildcard"),
        |c| c.is_ascii_alphanumeric(),
        '_',
        60,
    );
    format!("dns_{}", n.replace("...", ""))
}

/// A quoted nft string: no double quotes or backslashes inside.
fn text(s: &str) -> String {
    let t = common::one_line(s).replace(['"', '\\'], "'");
    common::cut(&t, COMMENT_MAX)
}

/// Text for a `#` comment line.
fn text_c(s: &str) -> String {
    common::one_line(s)
}

//! iptables: `iptables-restore` input for the filter table of one host,
//! IPv4 only (IPv6 is ip6tables' job; every IPv6 address of the plan is
//! listed as not expressed). Restoring replaces the whole filter table.

use crate::common::{self, broadcast_addrs, why_lines, Gaps, Split};
use crate::host::{host_plan, lockout, Dir, HostFlow, Mgmt};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{FlowSet, PortRange, Protocol};
use std::fmt::Write;

pub struct Iptables;

/// `-m multiport` takes at most 15 ports; a range counts as two.
const MULTIPORT_MAX: usize = 15;
/// `-m comment` keeps at most 256 bytes.
const COMMENT_MAX: usize = 255;

impl Renderer for Iptables {
    fn name(&self) -> &'static str {
        "iptables"
    }
    fn extension(&self) -> &'static str {
        "rules"
    }
    fn per_host(&self) -> bool {
        true
    }
    fn render(&self, set: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String> {
        let (host, net, lo) = host_plan(self.name(), set, opts)?;
        let mut gaps = Gaps::default();
        let mgmt = Mgmt::of(opts, &[22]);
        let warning = match &mgmt {
            Some(_) => None,
            None => Some(lockout(host, &net, "SSH, TCP 22", &[22])),
        };
        let mut t = String::new();
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
            "# Apply with `iptables-restore < FILE`: it replaces the filter table."
        );
        let _ = writeln!(
            t,
            "# IPv4 only: IPv6 flows are listed below as not expressed (ip6tables)."
        );
        if opts.egress {
            let _ = writeln!(
                t,
                "# Default deny both ways (--egress; FORWARD too: this host is not a router)."
            );
            let _ = writeln!(
                t,
                "# Anything not listed (DNS, NTP, updates, ...) is dropped; add it first."
            );
        } else {
            let _ = writeln!(
                t,
                "# Inbound (and FORWARD: this host is not a router): default deny, anything"
            );
            let _ = writeln!(
                t,
                "# not listed is dropped. Outbound is left open (OUTPUT policy ACCEPT);"
            );
            let _ = writeln!(
                t,
                "# --egress writes OUTPUT rules with default deny for the planned flows only."
            );
        }
        if let Some(m) = &mgmt {
            let _ = writeln!(
                t,
                "# Management: TCP {} from {} is accepted before any other rule.",
                m.port_list(),
                common::one_line(&m.who)
            );
        }
        let _ = writeln!(t, "*filter");
        let _ = writeln!(t, ":INPUT DROP [0:0]");
        let _ = writeln!(t, ":FORWARD DROP [0:0]");
        let out_policy = if opts.egress { "DROP" } else { "ACCEPT" };
        let _ = writeln!(t, ":OUTPUT {out_policy} [0:0]");
        if let Some(m) = &mgmt {
            mgmt_rules(m, &mut t);
        }
        let chains: &[(&str, &str)] = if opts.egress {
            &[("INPUT", "-i lo"), ("OUTPUT", "-o lo")]
        } else {
            &[("INPUT", "-i lo")]
        };
        for (chain, lo_if) in chains {
            let _ = writeln!(t, "-A {chain} {lo_if} -j ACCEPT");
            let _ = writeln!(
                t,
                "-A {chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
            );
            let _ = writeln!(t, "-A {chain} -m conntrack --ctstate INVALID -j DROP");
        }
        let mut open_out = Vec::new();
        for hf in &net {
            if hf.dir == Dir::Out && !opts.egress {
                open_out.push(hf.flow);
                // Open or not, IPv6 is ip6tables' business, as inbound.
                let peer = hf.peer_split();
                if !peer.v6.is_empty() && !peer.any {
                    let l: Vec<String> = peer.v6.iter().map(ToString::to_string).collect();
                    let _ = writeln!(
                        t,
                        "# {}",
                        gaps.add(
                            hf.flow,
                            &format!("IPv6 {}", l.join(" ")),
                            "iptables is IPv4 only: write these for ip6tables"
                        )
                    );
                }
                continue;
            }
            rules(hf, &mut gaps, &mut t);
        }
        if !open_out.is_empty() {
            let _ = writeln!(
                t,
                "# Outbound flows of this host: outbound is left open (--egress writes rules)."
            );
            for f in &open_out {
                let _ = writeln!(t, "#   {}", crate::host::open_line(f));
            }
        }
        if !lo.is_empty() {
            let _ = writeln!(
                t,
                "# Loopback flows of this host: accepted by the lo rules above, no rule needed."
            );
            for f in &lo {
                let _ = writeln!(
                    t,
                    "#   {} ({})",
                    common::one_line(&common::service_phrase(f)),
                    common::one_line(&common::reasons(f))
                );
            }
        }
        if net.is_empty() && lo.is_empty() {
            let _ = writeln!(t, "# The plan has no flow to or from this host.");
        }
        let _ = writeln!(t, "COMMIT");
        common::gaps_footer(&mut t, &gaps, "#");
        let mut done = gaps.finish(t);
        done.unexpressed.extend(warning.map(|w| w.1));
        Ok(done)
    }
}

/// The management path's rules, first in INPUT, so that no later rule (nor
/// the DROP policy) can cut the administrators' access. IPv4 only, like
/// the rest of the file; IPv6 sources are named for ip6tables.
fn mgmt_rules(m: &Mgmt, t: &mut String) {
    let from = Split::of(&m.from);
    let comment = common::cut(
        &common::one_line(&format!("portplan: management access from {}", m.who))
            .replace(['"', '\\'], "'"),
        COMMENT_MAX,
    );
    let _ = writeln!(
        t,
        "# Management path (`management:` or --management): first, before anything else."
    );
    if !from.v6.is_empty() {
        let l: Vec<String> = from.v6.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            t,
            "# IPv6 management sources ({}) need the same rule in ip6tables.",
            l.join(" ")
        );
    }
    for n in &from.v4 {
        for m in port_matches(&m.ports) {
            let _ = writeln!(
                t,
                "-A INPUT -s {n} -p tcp{m} -m comment --comment \"{comment}\" -j ACCEPT"
            );
        }
    }
}

fn rules(hf: &HostFlow, gaps: &mut Gaps, t: &mut String) {
    let f = hf.flow;
    for l in why_lines(f) {
        let _ = writeln!(t, "# {}", l);
    }
    let peer = hf.peer_split();
    let (chain, flag) = match hf.dir {
        Dir::In => ("INPUT", "-s"),
        Dir::Out => ("OUTPUT", "-d"),
    };
    let mut addrs: Vec<String> = Vec::new();
    if f.scope == Scope::Broadcast && hf.dir == Dir::Out {
        addrs.extend(
            broadcast_addrs(&hf.peer().addrs, true)
                .iter()
                .map(|a| format!(" -d {a}/32")),
        );
    } else if peer.any {
        addrs.push(String::new());
    } else {
        addrs.extend(peer.v4.iter().map(|n| format!(" {flag} {n}")));
    }
    if !peer.v6.is_empty() && !peer.any {
        let l: Vec<String> = peer.v6.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            t,
            "# {}",
            gaps.add(
                f,
                &format!("IPv6 {}", l.join(" ")),
                "iptables is IPv4 only: write these for ip6tables"
            )
        );
    }
    if !peer.any {
        for n in &peer.names {
            let _ = writeln!(
                t,
                "# {}",
                gaps.add(
                    f,
                    &format!("DNS name {n}"),
                    "iptables matches addresses, not names (it would resolve a name once, at load time)"
                )
            );
        }
    }
    if addrs.is_empty() {
        if peer.is_empty() {
            let _ = writeln!(
                t,
                "# {}",
                gaps.add(f, "no address", "the other end of this flow has no address")
            );
        }
        return;
    }
    let comment = format!(
        " -m comment --comment \"{}\"",
        common::cut(
            &common::one_line(&common::reasons(f)).replace(['"', '\\'], "'"),
            COMMENT_MAX
        )
    );
    let matches: Vec<String> = match f.protocol {
        Protocol::Tcp | Protocol::Udp => port_matches(f.ports.ranges())
            .into_iter()
            .map(|m| format!(" -p {}{m}", f.protocol))
            .collect(),
        Protocol::Esp => vec![" -p esp".to_string()],
        Protocol::Icmp => match common::icmp_of(f) {
            Err(e) => {
                let _ = writeln!(t, "# {}", gaps.add(f, "ICMP type", &e));
                return;
            }
            Ok(None) => vec![" -p icmp".to_string()],
            Ok(Some((Some(v4), _))) => vec![format!(" -p icmp --icmp-type {v4}")],
            Ok(Some((None, _))) => {
                let _ = writeln!(
                    t,
                    "# {}",
                    gaps.add(
                        f,
                        "ICMPv6 type",
                        "this ICMP type exists only in ICMPv6 (ip6tables)"
                    )
                );
                return;
            }
        },
    };
    // A broadcast arrives addressed to the network's broadcast address, not
    // to the host's own: only that is opened, not unicast on the same ports.
    let to: Vec<String> = if f.scope == Scope::Broadcast && hf.dir == Dir::In {
        hf.broadcast_in()
            .iter()
            .map(|a| format!(" -d {a}/32"))
            .collect()
    } else if let Some(own) = hf.narrower() {
        // A flow of one host inside the network this firewall is for: only
        // that host's addresses (the network's machines share this file).
        let to_flag = match hf.dir {
            Dir::In => "-d",
            Dir::Out => "-s",
        };
        if own.v4.is_empty() {
            let _ = writeln!(
                t,
                "# {}",
                gaps.add(
                    f,
                    "IPv6 host end",
                    "this flow's end on this network is IPv6 only: iptables is IPv4 only, write it for ip6tables"
                )
            );
        }
        own.v4.iter().map(|n| format!(" {to_flag} {n}")).collect()
    } else {
        vec![String::new()]
    };
    for a in &addrs {
        for d in &to {
            for m in &matches {
                let _ = writeln!(t, "-A {chain}{a}{d}{m}{comment} -j ACCEPT");
            }
        }
    }
}

/// `--dport` for one port or range, else `-m multiport --dports` in chunks
/// of at most 15 ports (ranges count twice).
fn port_matches(ranges: &[PortRange]) -> Vec<String> {
    let fmt = |r: &PortRange| {
        if r.is_single() {
            r.low.to_string()
        } else {
            format!("{}:{}", r.low, r.high)
        }
    };
    if ranges.len() == 1 {
        return vec![format!(" --dport {}", fmt(&ranges[0]))];
    }
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut weight = 0;
    for r in ranges {
        let w = if r.is_single() { 1 } else { 2 };
        if weight + w > MULTIPORT_MAX {
            out.push(std::mem::take(&mut cur));
            weight = 0;
        }
        cur.push(fmt(r));
        weight += w;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|c| format!(" -m multiport --dports {}", c.join(",")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiport_chunks_count_ranges_twice() {
        let mut rs: Vec<PortRange> = (1..=14).map(|p| PortRange::single(p * 10)).collect();
        rs.push(PortRange::new(1000, 2000).unwrap());
        let m = port_matches(&rs);
        assert_eq!(m.len(), 2);
        assert!(m[1].ends_with("--dports 1000:2000"));
        assert_eq!(port_matches(&rs[..1]), vec![" --dport 10".to_string()]);
    }
}

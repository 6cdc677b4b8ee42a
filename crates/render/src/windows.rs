//! Windows: a PowerShell script of `New-NetFirewallRule` calls for one
//! host, inbound and outbound, in one rule group that the script first
//! removes, so running it again replaces the rules instead of adding more.

use crate::common::{self, broadcast_addrs, why_lines, Gaps, Split};
use crate::host::{host_plan, Dir, HostFlow, Mgmt};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{FlowSet, Protocol};
use std::fmt::Write;

pub struct Windows;

/// A single-quoted PowerShell string: nothing inside is expanded; quotes
/// (ASCII and the typographic ones PowerShell also honours) are doubled.
fn ps(s: &str) -> String {
    let mut out = String::from("'");
    for c in common::one_line(s).chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn ps_list(items: &[String]) -> String {
    items.iter().map(|i| ps(i)).collect::<Vec<_>>().join(",")
}

impl Renderer for Windows {
    fn name(&self) -> &'static str {
        "windows"
    }
    fn extension(&self) -> &'static str {
        "ps1"
    }
    fn per_host(&self) -> bool {
        true
    }
    fn render(&self, set: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String> {
        let (host, net, lo) = host_plan(self.name(), set, opts)?;
        let mut gaps = Gaps::default();
        let group = format!("portplan: {}", common::one_line(&set.deployment));
        let slug = common::sanitize(&set.deployment, |c| c.is_ascii_alphanumeric(), '-', 40);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# portplan: Windows Firewall rules for {} (deployment {})",
            common::one_line(&host.name),
            common::one_line(&set.deployment)
        );
        let _ = writeln!(
            t,
            "# Run in an elevated PowerShell. Rules go to the group below, which is replaced."
        );
        let _ = writeln!(
            t,
            "# Windows blocks unlisted inbound by default and allows all outbound."
        );
        if opts.egress {
            let _ = writeln!(
                t,
                "# --egress: the outbound rules only limit traffic once outbound is blocked too:"
            );
            let _ = writeln!(
                t,
                "#   Set-NetFirewallProfile -All -DefaultOutboundAction Block"
            );
            let _ = writeln!(
                t,
                "# (do that only after adding what else the host needs: DNS, updates, ...)."
            );
        } else {
            let _ = writeln!(
                t,
                "# Inbound rules only: outbound is left open (--egress writes outbound rules)."
            );
        }
        // The script adds rules to its own group and removes no other rule:
        // remote access keeps working through the rules already enabled on
        // the host, so it cannot lock anyone out; a named management path is
        // written as its own rule so it survives a later lockdown.
        let mgmt = Mgmt::of(opts, &[22, 3389, 5985, 5986]);
        match &mgmt {
            Some(m) => {
                let _ = writeln!(
                    t,
                    "# Management: TCP {} (SSH, RDP, WinRM) from {} is allowed first.",
                    m.port_list(),
                    common::one_line(&m.who)
                );
            }
            None => {
                let _ = writeln!(
                    t,
                    "# Remote access (RDP 3389, WinRM 5985/5986, SSH 22) is not touched: it keeps"
                );
                let _ = writeln!(
                    t,
                    "# working through the host's own rules. Name a management network"
                );
                let _ = writeln!(
                    t,
                    "# (`management:` in the deployment, or --management CIDR) to add it here."
                );
            }
        }
        let _ = writeln!(t, "$ErrorActionPreference = 'Stop'");
        let _ = writeln!(t, "$group = {}", ps(&group));
        let _ = writeln!(
            t,
            "Get-NetFirewallRule -Group $group -ErrorAction SilentlyContinue | Remove-NetFirewallRule"
        );
        if let Some(m) = &mgmt {
            mgmt_rule(m, &slug, &mut t);
        }
        let mut n = 0;
        let mut open_out = Vec::new();
        for hf in &net {
            if hf.dir == Dir::Out && !opts.egress {
                open_out.push(hf.flow);
                continue;
            }
            rule(hf, &slug, &mut n, &mut gaps, &mut t);
        }
        if !open_out.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# Outbound flows of this host: outbound is left open (--egress writes rules)."
            );
            for f in &open_out {
                let _ = writeln!(t, "#   {}", crate::host::open_line(f));
            }
        }
        if !lo.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(t, "# Loopback flows of this host: Windows Firewall does not filter loopback, no rule needed.");
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
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

/// The management path: one inbound rule, first in the group.
fn mgmt_rule(m: &Mgmt, slug: &str, t: &mut String) {
    let from = Split::of(&m.from);
    let ports: Vec<String> = m.ports.iter().map(ToString::to_string).collect();
    let what = format!("portplan: management access from {}", m.who);
    let _ = writeln!(t);
    let _ = writeln!(t, "# Management path (`management:` or --management).");
    let _ = writeln!(
        t,
        "New-NetFirewallRule -Name {} -DisplayName {} -Group $group -Direction Inbound -Action Allow -Protocol TCP -LocalPort {} -RemoteAddress {} -Description {} | Out-Null",
        ps(&format!("portplan-{slug}-mgmt")),
        ps(&common::cut(&what, 200)),
        ps_list(&ports),
        ps_list(&from.cidrs()),
        ps(&what)
    );
}

fn rule(hf: &HostFlow, slug: &str, n: &mut usize, gaps: &mut Gaps, t: &mut String) {
    let f = hf.flow;
    let _ = writeln!(t);
    for l in why_lines(f) {
        let _ = writeln!(t, "# {}", l);
    }
    let peer = hf.peer_split();
    // (remote addresses, ICMP family) per rule; `None` addresses is Any.
    let mut v4: Option<Vec<String>> = None;
    let mut v6: Option<Vec<String>> = None;
    let mut any = false;
    if f.scope == Scope::Broadcast && hf.dir == Dir::Out {
        let b: Vec<String> = broadcast_addrs(&hf.peer().addrs, true)
            .iter()
            .map(ToString::to_string)
            .collect();
        if !b.is_empty() {
            v4 = Some(b);
        }
        if !peer.v6.is_empty() {
            let _ = writeln!(
                t,
                "# {}",
                gaps.add(f, "IPv6 broadcast", "IPv6 has no broadcast")
            );
        }
    } else if peer.any {
        any = true;
    } else {
        if !peer.v4.is_empty() {
            v4 = Some(peer.v4.iter().map(ToString::to_string).collect());
        }
        if !peer.v6.is_empty() {
            v6 = Some(peer.v6.iter().map(ToString::to_string).collect());
        }
        for name in &peer.names {
            let _ = writeln!(
                t,
                "# {}",
                gaps.add(
                    f,
                    &format!("DNS name {name}"),
                    "Windows Firewall rules match addresses, not names"
                )
            );
        }
    }
    if !any && v4.is_none() && v6.is_none() {
        if peer.is_empty() {
            let _ = writeln!(
                t,
                "# {}",
                gaps.add(f, "no address", "the other end has no address")
            );
        }
        return;
    }
    let (dir, dword, port_flag) = match hf.dir {
        Dir::In => ("Inbound", "in", "-LocalPort"),
        Dir::Out => ("Outbound", "out", "-RemotePort"),
    };
    // (protocol argument, extra arguments, remote addresses)
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let remote_all = {
        let mut all = Vec::new();
        all.extend(v4.clone().unwrap_or_default());
        all.extend(v6.clone().unwrap_or_default());
        if any {
            "Any".to_string()
        } else {
            ps_list(&all)
        }
    };
    match f.protocol {
        Protocol::Tcp | Protocol::Udp => {
            let ports: Vec<String> = f.ports.ranges().iter().map(ToString::to_string).collect();
            calls.push((
                f.protocol.as_str().to_ascii_uppercase(),
                format!(" {port_flag} {}", ps_list(&ports)),
                remote_all,
            ));
        }
        // New-NetFirewallRule takes a protocol number for what it has no name for.
        Protocol::Esp => calls.push((f.protocol.number().to_string(), String::new(), remote_all)),
        Protocol::Icmp => {
            let icmp = match common::icmp_of(f) {
                Ok(i) => i,
                Err(e) => {
                    let _ = writeln!(t, "# {}", gaps.add(f, "ICMP type", &e));
                    return;
                }
            };
            let (t4, t6) = match icmp {
                None => (Some(None), Some(None)),
                Some((a, b)) => (a.map(Some), b.map(Some)),
            };
            let fam4 = if any {
                Some("Any".to_string())
            } else {
                v4.as_ref().map(|v| ps_list(v))
            };
            let fam6 = if any {
                Some("Any".to_string())
            } else {
                v6.as_ref().map(|v| ps_list(v))
            };
            for (proto, ty, remote) in [("ICMPv4", t4, fam4), ("ICMPv6", t6, fam6)] {
                let Some(remote) = remote else { continue };
                match ty {
                    Some(Some(ty)) => {
                        calls.push((proto.into(), format!(" -IcmpType {ty}"), remote))
                    }
                    Some(None) => calls.push((proto.into(), String::new(), remote)),
                    None => {
                        let _ = writeln!(
                            t,
                            "# {}",
                            gaps.add(
                                f,
                                proto,
                                "this ICMP type does not exist in this ICMP version"
                            )
                        );
                    }
                }
            }
        }
    }
    // A broadcast arrives addressed to the network's broadcast address, not
    // to the host's own: only that is opened, not unicast on the same ports.
    let local = if f.scope == Scope::Broadcast && hf.dir == Dir::In {
        let b: Vec<String> = hf.broadcast_in().iter().map(ToString::to_string).collect();
        if b.is_empty() {
            return;
        }
        format!(" -LocalAddress {}", ps_list(&b))
    } else if let Some(own) = hf.narrower() {
        // A flow of one host inside the network this firewall is for: only
        // that host's addresses (the network's machines share these rules).
        let mut l: Vec<String> = own.v4.iter().map(ToString::to_string).collect();
        l.extend(own.v6.iter().map(ToString::to_string));
        if l.is_empty() {
            let _ = writeln!(
                t,
                "# {}",
                gaps.add(
                    f,
                    "no address",
                    "this flow's end on this host has no address"
                )
            );
            return;
        }
        format!(" -LocalAddress {}", ps_list(&l))
    } else {
        String::new()
    };
    for (proto, extra, remote) in calls {
        *n += 1;
        let name = format!("portplan-{slug}-{dword}-{:03}", *n);
        let display = format!(
            "portplan {dword}: {}",
            common::cut(&common::reasons(f), 200)
        );
        let _ = writeln!(
            t,
            "New-NetFirewallRule -Name {} -DisplayName {} -Group $group -Direction {dir} -Action Allow -Protocol {proto}{extra} -RemoteAddress {remote}{local} -Description {} | Out-Null",
            ps(&name),
            ps(&display),
            ps(&common::reasons(f))
        );
    }
}

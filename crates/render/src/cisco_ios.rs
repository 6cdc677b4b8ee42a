//! Cisco IOS / IOS XE: one extended named ACL for IPv4 and one IPv6 ACL,
//! one ACE per address pair and port range (the `eq`/`range` forms every
//! IOS release accepts), each flow introduced by remarks naming its
//! requirements.

use crate::common::{self, why_lines, Gaps};
use crate::prepare::{prepare, Can, Prepared};
use crate::{RenderOptions, Rendered, Renderer};
use ipnet::{Ipv4Net, Ipv6Net};
use portplan_model::{FlowSet, PortRange, Protocol};
use std::fmt::Write;

pub struct CiscoIos;

/// IOS keeps at most 100 characters of a remark.
const REMARK_MAX: usize = 100;

impl Renderer for CiscoIos {
    fn name(&self) -> &'static str {
        "cisco-ios"
    }
    fn extension(&self) -> &'static str {
        "cfg"
    }
    fn render(&self, set: &FlowSet, _opts: &RenderOptions) -> Result<Rendered, String> {
        let flows = common::sorted(set);
        let mut gaps = Gaps::default();
        let can = Can {
            fqdn: false,
            wildcard: false,
            broadcast: true,
        };
        let name = acl_name(&set.deployment);
        let mut v4 = String::new();
        let mut v6 = String::new();
        for f in &flows {
            let p = prepare(f, can, &mut gaps, "IOS ACLs");
            flow_aces(&p, &mut gaps, &mut v4, &mut v6);
        }
        let mut t = String::new();
        // An interface takes one ACL per direction and family; every ACL ends
        // in an implicit deny (an IPv6 ACL's also permits neighbour discovery
        // first). Cisco IOS command references `ip access-group`, `ipv6
        // traffic-filter`, `ip access-list resequence`; "IP Access List
        // Entry Sequence Numbering" (an entry without a number goes last).
        // So the lists carry no deny of their own: merged into the ACL
        // already on the interface, above its final deny, they add only
        // their permits; bound alone, the implicit deny closes them.
        common::header(
            &mut t,
            "!",
            &format!(
                "Cisco IOS ACLs for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Permits only, no final deny: traffic not listed falls to the implicit deny.",
                "Apply inbound on the interface the sources enter. An interface has one ACL",
                "per direction (`show ip interface IF | include access list`):",
                "- it has one (EXISTING): make room at its top with `ip access-list",
                "  resequence EXISTING 10000 10`, then in `ip access-list extended EXISTING`",
                "  enter the entries below numbered 10, 20, ... (an unnumbered entry goes",
                "  last, after a final deny, and never matches). The same for IPv6.",
                &format!("- it has none: `ip access-group {name} in` and"),
                &format!("  `ipv6 traffic-filter {name}-V6 in`. All else entering the interface"),
                "  is then denied: add its permits first.",
                "IOS ACLs are stateless: let replies back with ZBF inspection, a reflexive",
                "ACL or `established` on the return interface.",
            ],
        );
        let _ = writeln!(t, "ip access-list extended {name}");
        t.push_str(&v4);
        let _ = writeln!(
            t,
            " remark end of the permits: the implicit deny takes the rest"
        );
        let _ = writeln!(t, "!");
        let _ = writeln!(t, "ipv6 access-list {name}-V6");
        t.push_str(&v6);
        let _ = writeln!(
            t,
            " remark end of the permits: the implicit neighbour discovery permits and deny follow"
        );
        let _ = writeln!(t, "!");
        common::gaps_footer(&mut t, &gaps, "!");
        Ok(gaps.finish(t))
    }
}

/// `PORTPLAN-<DEPLOYMENT>`: IOS names take letters, digits, `-` and `_`.
pub(crate) fn acl_name(deployment: &str) -> String {
    let d = common::sanitize(
        &deployment.to_ascii_uppercase(),
        |c| c.is_ascii_alphanumeric() || c == '_',
        '-',
        48,
    )
    .replace("...", "");
    if d.is_empty() {
        "PORTPLAN".into()
    } else {
        format!("PORTPLAN-{d}")
    }
}

/// Remark lines of at most 100 characters.
pub(crate) fn remarks(lines: &[String], indent: &str, out: &mut String) {
    for l in lines {
        for piece in common::wrap(&common::one_line(l), REMARK_MAX) {
            let _ = writeln!(out, "{indent}remark {piece}");
        }
    }
}

fn flow_aces(p: &Prepared, gaps: &mut Gaps, v4: &mut String, v6: &mut String) {
    let f = p.flow;
    let mut why = why_lines(f);
    why.extend(p.comments.iter().cloned());
    let pairs4 = p.pairs4();
    let pairs6 = p.pairs6();
    let ports = port_ops(f.ports.ranges());
    let icmp = if f.protocol == Protocol::Icmp {
        match common::icmp_of(f) {
            Ok(i) => Some(i),
            Err(e) => {
                why.push(gaps.add(f, "ICMP type", &e));
                remarks(&why, " ", v4);
                return;
            }
        }
    } else {
        None
    };
    why.extend(crate::common::icmp_family_gaps(
        f,
        icmp,
        !pairs4.is_empty(),
        !pairs6.is_empty(),
        gaps,
    ));
    if !pairs4.is_empty() || pairs6.is_empty() {
        remarks(&why, " ", v4);
    }
    if !pairs6.is_empty() {
        remarks(&why, " ", v6);
    }
    for (s, d) in pairs4 {
        let (s, d) = (a4(s), a4(d));
        match icmp {
            Some(None) => {
                let _ = writeln!(v4, " permit icmp {s} {d}");
            }
            Some(Some((Some(t), _))) => {
                let _ = writeln!(v4, " permit icmp {s} {d} {t}");
            }
            Some(Some((None, _))) => {}
            None if !f.protocol.has_ports() => {
                let _ = writeln!(v4, " permit {} {s} {d}", f.protocol);
            }
            None => {
                for op in &ports {
                    let _ = writeln!(v4, " permit {} {s} {d} {op}", f.protocol);
                }
            }
        }
    }
    for (s, d) in pairs6 {
        let (s, d) = (a6(s), a6(d));
        match icmp {
            Some(None) => {
                let _ = writeln!(v6, " permit icmp {s} {d}");
            }
            Some(Some((_, Some(t)))) => {
                let _ = writeln!(v6, " permit icmp {s} {d} {t}");
            }
            Some(Some((_, None))) => {}
            None if !f.protocol.has_ports() => {
                let _ = writeln!(v6, " permit {} {s} {d}", f.protocol);
            }
            None => {
                for op in &ports {
                    let _ = writeln!(v6, " permit {} {s} {d} {op}", f.protocol);
                }
            }
        }
    }
}

/// `eq 443` / `range 8000 8999`, one per range.
pub(crate) fn port_ops(ranges: &[PortRange]) -> Vec<String> {
    ranges
        .iter()
        .map(|r| {
            if r.is_single() {
                format!("eq {}", r.low)
            } else {
                format!("range {} {}", r.low, r.high)
            }
        })
        .collect()
}

/// `any`, `host A`, or `NET WILDCARD`.
pub(crate) fn a4(n: Option<Ipv4Net>) -> String {
    match n {
        None => "any".into(),
        Some(n) if n.prefix_len() == 32 => format!("host {}", n.addr()),
        Some(n) => format!("{} {}", n.network(), n.hostmask()),
    }
}

pub(crate) fn a6(n: Option<Ipv6Net>) -> String {
    match n {
        None => "any".into(),
        Some(n) if n.prefix_len() == 128 => format!("host {}", n.addr()),
        Some(n) => n.to_string(),
    }
}

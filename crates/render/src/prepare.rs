//! The shared first step of network-firewall and cloud formats: take a flow,
//! keep the ends the format can match, and say what it cannot (DNS names,
//! wildcards, broadcast, missing address families) before any syntax.

use crate::common::{broadcast_addrs, Gaps, Split};
use ipnet::{Ipv4Net, Ipv6Net};
use portplan_model::catalog::Scope;
use portplan_model::Flow;

/// What a format can do with the harder kinds of ends.
#[derive(Clone, Copy)]
pub struct Can {
    /// FQDN objects (resolved by the device at run time).
    pub fqdn: bool,
    /// Wildcard names (`*.example.com`).
    pub wildcard: bool,
    /// Broadcast: rules to the directed broadcast address of each
    /// destination network (a router forwards them only when told to).
    pub broadcast: bool,
}

/// A flow ready for a format: ends it can match, and the comment lines
/// (gaps included) to write above its rules.
pub struct Prepared<'a> {
    pub flow: &'a Flow,
    pub src: Split,
    pub dst: Split,
    pub comments: Vec<String>,
}

impl Prepared<'_> {
    /// Address pairs of the same family; `None` is any.
    pub fn pairs4(&self) -> Vec<(Option<Ipv4Net>, Option<Ipv4Net>)> {
        let s = ends(self.src.any, &self.src.v4);
        let d = ends(self.dst.any, &self.dst.v4);
        s.iter()
            .flat_map(|a| d.iter().map(move |b| (*a, *b)))
            .collect()
    }
    pub fn pairs6(&self) -> Vec<(Option<Ipv6Net>, Option<Ipv6Net>)> {
        let s = ends(self.src.any, &self.src.v6);
        let d = ends(self.dst.any, &self.dst.v6);
        s.iter()
            .flat_map(|a| d.iter().map(move |b| (*a, *b)))
            .collect()
    }
    /// Whether any rule can be written at all (a family or name in common).
    pub fn writable(&self) -> bool {
        let has = |s: &Split| !s.is_empty();
        has(&self.src)
            && has(&self.dst)
            && (!self.pairs4().is_empty()
                || !self.pairs6().is_empty()
                || !self.src.names.is_empty()
                || !self.dst.names.is_empty())
    }
}

fn ends<N: Copy>(any: bool, nets: &[N]) -> Vec<Option<N>> {
    if any {
        vec![None]
    } else {
        nets.iter().map(|n| Some(*n)).collect()
    }
}

pub fn prepare<'a>(flow: &'a Flow, can: Can, gaps: &mut Gaps, format: &str) -> Prepared<'a> {
    let mut comments = Vec::new();
    if flow.scope == Scope::Loopback {
        comments.push("loopback: no network rule needed".into());
        return Prepared {
            flow,
            src: Split::default(),
            dst: Split::default(),
            comments,
        };
    }
    let mut src = Split::of(&flow.src.addrs);
    let mut dst = Split::of(&flow.dst.addrs);
    for side in [&mut src, &mut dst] {
        if side.any {
            side.names.clear();
            continue;
        }
        let mut keep = Vec::new();
        for n in std::mem::take(&mut side.names) {
            let wild = crate::common::is_wildcard(&n);
            if (wild && can.wildcard) || (!wild && can.fqdn) {
                keep.push(n);
            } else {
                let why = if wild {
                    format!("{format}: no objects for wildcard names; allow it on a proxy or a DNS-aware firewall")
                } else {
                    format!(
                        "{format}: no way to match a DNS name; use the addresses it resolves to"
                    )
                };
                comments.push(gaps.add(flow, &format!("DNS name {n}"), &why));
            }
        }
        side.names = keep;
    }
    if flow.scope == Scope::Broadcast {
        if !can.broadcast {
            comments.push(gaps.add(
                flow,
                "broadcast",
                &format!(
                    "{format}: broadcast is not carried; sender and receivers must share a segment"
                ),
            ));
            src = Split::default();
            dst = Split::default();
        } else {
            let b = broadcast_addrs(&flow.dst.addrs, false);
            if dst.any {
                comments.push(gaps.add(
                    flow,
                    "limited broadcast",
                    "255.255.255.255 never crosses a router; sender and receivers must share a segment",
                ));
            }
            if !dst.v6.is_empty() {
                comments.push(gaps.add(flow, "IPv6 broadcast", "IPv6 has no broadcast"));
            }
            if !dst.names.is_empty() {
                comments.push(gaps.add(
                    flow,
                    "broadcast to a name",
                    "a broadcast goes to a network, not a name",
                ));
            }
            if !b.is_empty() {
                comments.push(
                    "broadcast: written to the directed broadcast address of each destination network; the last router must forward directed broadcasts (IOS: ip directed-broadcast)".into(),
                );
            }
            dst = Split {
                v4: b.into_iter().map(Ipv4Net::from).collect(),
                ..Split::default()
            };
        }
    }
    let mut p = Prepared {
        flow,
        src,
        dst,
        comments,
    };
    if flow.scope != Scope::Broadcast || can.broadcast {
        if p.src.is_empty() || p.dst.is_empty() {
            if flow.src.addrs.is_empty() || flow.dst.addrs.is_empty() {
                let c = gaps.add(flow, "no address", "one end of this flow has no address");
                p.comments.push(c);
            }
        } else if !p.writable() {
            let c = gaps.add(
                flow,
                "address families",
                "source and destination share no address family (IPv4 to IPv6)",
            );
            p.comments.push(c);
        }
    }
    p
}

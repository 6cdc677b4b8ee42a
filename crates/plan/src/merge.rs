//! Merging planned flows into the fewest rules without changing what they
//! admit: flows between the same ends merge their ports; flows with the same
//! ports and one common end merge the other end's addresses into the fewest
//! CIDRs. Reasons, labels and notes are unioned, so every rule still names
//! every requirement behind it.

use crate::cidr::normalise;
use portplan_model::{Addr, Flow, Protocol, Side};
use std::cmp::Ordering;
use std::net::IpAddr;

/// What must be equal, besides the ends and ports, for two flows to merge.
fn kind_cmp(a: &Flow, b: &Flow) -> Ordering {
    (a.protocol, &a.icmp_type, a.scope, a.required, &a.interface).cmp(&(
        b.protocol,
        &b.icmp_type,
        b.scope,
        b.required,
        &b.interface,
    ))
}

/// Moves `f`'s reasons, labels and notes into `acc`; `tidy` sorts them once
/// the group is complete (sorting on every add would be quadratic).
fn absorb(acc: &mut Flow, f: Flow) {
    acc.src.labels.extend(f.src.labels);
    acc.dst.labels.extend(f.dst.labels);
    acc.notes.extend(f.notes);
    acc.because.extend(f.because);
}

fn sort_dedup<T: Ord>(v: &mut Vec<T>) {
    if v.len() > 1 {
        v.sort();
        v.dedup();
    }
}

fn tidy(f: &mut Flow) {
    if f.src.addrs.len() > 1 {
        f.src.addrs = normalise(&f.src.addrs);
    }
    if f.dst.addrs.len() > 1 {
        if f.scope == portplan_model::Scope::Broadcast {
            // Each network keeps its own broadcast address: 10.64.0.0/16 and
            // 10.65.0.0/16 must not become 10.64.0.0/15 (one broadcast address).
            sort_dedup(&mut f.dst.addrs);
        } else {
            f.dst.addrs = normalise(&f.dst.addrs);
        }
    }
    sort_dedup(&mut f.src.labels);
    sort_dedup(&mut f.dst.labels);
    sort_dedup(&mut f.because);
    sort_dedup(&mut f.notes);
}

/// Sorts flows by `cmp` and folds each run of equal ones into one; `fold`
/// must not change what `cmp` compares.
fn group(
    flows: Vec<Flow>,
    cmp: impl Fn(&Flow, &Flow) -> Ordering,
    fold: impl Fn(&mut Flow, &Flow),
) -> Vec<Flow> {
    let mut out: Vec<Flow> = Vec::with_capacity(flows.len());
    let mut grew: Vec<bool> = Vec::with_capacity(flows.len());
    for f in sorted(flows, &cmp) {
        match out.last_mut() {
            Some(acc) if cmp(acc, &f) == Ordering::Equal => {
                fold(acc, &f);
                absorb(acc, f);
                if let Some(g) = grew.last_mut() {
                    *g = true;
                }
            }
            _ => {
                out.push(f);
                grew.push(false);
            }
        }
    }
    for (f, g) in out.iter_mut().zip(grew) {
        if g {
            tidy(f);
        }
    }
    out
}

/// Merges flows; the result admits exactly the same (source, destination,
/// protocol, port) tuples as the input (see `admits`).
pub fn merge(mut flows: Vec<Flow>) -> Vec<Flow> {
    flows.iter_mut().for_each(tidy);
    let same_ends = |a: &Flow, b: &Flow| {
        a.src
            .addrs
            .cmp(&b.src.addrs)
            .then_with(|| a.dst.addrs.cmp(&b.dst.addrs))
            .then_with(|| kind_cmp(a, b))
    };
    let add_ports = |acc: &mut Flow, f: &Flow| acc.ports.union(&f.ports);
    let flows = group(flows, same_ends, add_ports);
    let flows = group(
        flows,
        |a, b| {
            a.dst
                .addrs
                .cmp(&b.dst.addrs)
                .then_with(|| a.ports.cmp(&b.ports))
                .then_with(|| kind_cmp(a, b))
        },
        |acc, f| acc.src.addrs.extend(f.src.addrs.iter().cloned()),
    );
    let flows = group(
        flows,
        |a, b| {
            a.src
                .addrs
                .cmp(&b.src.addrs)
                .then_with(|| a.ports.cmp(&b.ports))
                .then_with(|| kind_cmp(a, b))
        },
        |acc, f| acc.dst.addrs.extend(f.dst.addrs.iter().cloned()),
    );
    let flows = group(flows, same_ends, add_ports);
    sorted(flows, |a, b| {
        (&a.src.labels, &a.dst.labels, a.protocol, &a.ports).cmp(&(
            &b.src.labels,
            &b.dst.labels,
            b.protocol,
            &b.ports,
        ))
    })
}

/// `flows` in `cmp` order, stable. Sorts indexes, then applies the
/// permutation in place by following its cycles: a flow is large, and a
/// sort would move each one many times.
fn sorted(mut flows: Vec<Flow>, cmp: impl Fn(&Flow, &Flow) -> Ordering) -> Vec<Flow> {
    let n = flows.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| cmp(&flows[a], &flows[b]));
    // Position j must receive the flow now at idx[j]; n marks a done position.
    for start in 0..n {
        if idx[start] == n {
            continue;
        }
        let mut j = start;
        loop {
            let k = idx[j];
            idx[j] = n;
            if k == start {
                break;
            }
            flows.swap(j, k);
            j = k;
        }
    }
    flows
}

/// One end of a packet as a membership test sees it: an address, or a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Point {
    Ip(IpAddr),
    Name(String),
}

fn side_has(side: &Side, p: &Point) -> bool {
    side.addrs.iter().any(|a| match (a, p) {
        (Addr::Any, _) => true,
        (Addr::Net(n), Point::Ip(ip)) => n.contains(ip),
        (Addr::Name(n), Point::Name(m)) => n == m,
        _ => false,
    })
}

/// Whether `f` admits a packet from `src` to `dst` on `protocol`/`port`
/// (`port` is ignored for ICMP).
pub fn admits(f: &Flow, src: &Point, dst: &Point, protocol: Protocol, port: u16) -> bool {
    f.protocol == protocol
        && side_has(&f.src, src)
        && side_has(&f.dst, dst)
        && (!protocol.has_ports() || f.ports.contains(port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portplan_model::catalog::Scope;
    use portplan_model::{Because, PortRange, PortSet};
    use proptest::prelude::*;

    fn side(addrs: Vec<Addr>) -> Side {
        Side {
            labels: vec!["x".into()],
            addrs,
        }
    }

    fn addr(choice: u8, v: u8) -> Addr {
        match choice % 6 {
            0 => Addr::Name(format!("h{}.example.com", v % 3)),
            1 => Addr::Net(format!("10.0.{}.0/30", v % 4).parse().unwrap()),
            5 if v % 7 == 0 => Addr::Any,
            _ => Addr::Net(format!("10.0.{}.{}/32", v % 4, v % 8).parse().unwrap()),
        }
    }

    fn flow_strategy() -> impl Strategy<Value = Flow> {
        (
            (any::<u8>(), any::<u8>()),
            (any::<u8>(), any::<u8>()),
            0u8..4,
            prop::collection::vec((1u16..40, 0u16..4), 1..4),
            any::<bool>(),
            0u8..3,
        )
            .prop_map(|(s, d, proto, ports, required, req)| Flow {
                src: side(vec![addr(s.0, s.1)]),
                dst: side(vec![addr(d.0, d.1)]),
                protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Icmp, Protocol::Esp]
                    [proto as usize],
                ports: if proto >= 2 {
                    PortSet::new()
                } else {
                    PortSet::from_ranges(ports.iter().map(|(l, w)| PortRange {
                        low: *l,
                        high: l + w,
                    }))
                },
                icmp_type: None,
                scope: Scope::Network,
                required,
                interface: None,
                because: vec![Because {
                    product: "p".into(),
                    requirement: format!("r{req}"),
                    service: "s".into(),
                    feature: None,
                    source: "f:1".into(),
                }
                .into()],
                notes: Vec::new(),
            })
    }

    fn points() -> Vec<Point> {
        let mut v: Vec<Point> = (0..4)
            .flat_map(|a| (0..8).map(move |b| Point::Ip(format!("10.0.{a}.{b}").parse().unwrap())))
            .collect();
        v.push(Point::Ip("192.0.2.1".parse().unwrap()));
        v.extend((0..3).map(|i| Point::Name(format!("h{i}.example.com"))));
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The merged set admits exactly the planned flows: no more, no less.
        #[test]
        fn merged_admits_exactly_the_planned_flows(flows in prop::collection::vec(flow_strategy(), 0..25)) {
            let merged = merge(flows.clone());
            prop_assert!(merged.len() <= flows.len());
            let pts = points();
            for s in &pts {
                for d in &pts {
                    for proto in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp, Protocol::Esp] {
                        for port in [1u16, 2, 5, 17, 39, 42, 43] {
                            let want = flows.iter().any(|f| admits(f, s, d, proto, port));
                            let got = merged.iter().any(|f| admits(f, s, d, proto, port));
                            prop_assert_eq!(want, got, "{:?} -> {:?} {} {}", s, d, proto, port);
                        }
                    }
                }
            }
            // Every requirement behind a planned flow is named by a merged rule.
            for f in &flows {
                prop_assert!(merged.iter().any(|m| m.because.contains(&f.because[0])));
            }
        }
    }

    #[test]
    fn broadcast_destinations_keep_their_own_networks() {
        let mk = |dst: &str| Flow {
            src: side(vec!["10.0.0.4".parse().unwrap()]),
            dst: side(vec![dst.parse().unwrap()]),
            protocol: Protocol::Udp,
            ports: PortSet::from_ranges([PortRange::single(9)]),
            icmp_type: None,
            scope: Scope::Broadcast,
            required: true,
            interface: None,
            because: Vec::new(),
            notes: Vec::new(),
        };
        let merged = merge(vec![mk("10.64.0.0/16"), mk("10.65.0.0/16")]);
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0].dst.addrs,
            vec![
                "10.64.0.0/16".parse::<Addr>().unwrap(),
                "10.65.0.0/16".parse::<Addr>().unwrap()
            ]
        );
    }

    #[test]
    fn ports_of_one_pair_merge_and_hosts_aggregate() {
        let mk = |src: &str, dst: &str, port: u16| Flow {
            src: side(vec![src.parse().unwrap()]),
            dst: side(vec![dst.parse().unwrap()]),
            protocol: Protocol::Tcp,
            ports: PortSet::from_ranges([PortRange::single(port)]),
            icmp_type: None,
            scope: Scope::Network,
            required: true,
            interface: None,
            because: Vec::new(),
            notes: Vec::new(),
        };
        let merged = merge(vec![
            mk("10.0.0.4", "10.1.0.1", 443),
            mk("10.0.0.4", "10.1.0.1", 444),
            mk("10.0.0.5", "10.1.0.1", 443),
            mk("10.0.0.5", "10.1.0.1", 444),
            mk("10.0.0.6", "10.1.0.1", 443),
            mk("10.0.0.6", "10.1.0.1", 444),
            mk("10.0.0.7", "10.1.0.1", 443),
            mk("10.0.0.7", "10.1.0.1", 444),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0].src.addrs,
            vec!["10.0.0.4/30".parse::<Addr>().unwrap()]
        );
        assert_eq!(merged[0].ports.to_string(), "443-444");
    }
}

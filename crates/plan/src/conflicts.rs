//! Two checks that look at the deployment as a whole: two listeners on one
//! host and port, and address claims that overlap without being the same
//! machine.

use crate::expand::{Claim, Listener};
use crate::resolve::Origin;
use portplan_model::diag::Diagnostic;
use portplan_model::load::Parsed;
use portplan_model::{Addr, Deployment, PortSet};
use std::collections::{BTreeMap, BTreeSet};

/// What names the machine of a single-host entry: its host name, its addresses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum HostKey {
    Addr(Addr),
    Host(String),
}

fn host_keys(l: &Listener) -> Vec<HostKey> {
    let mut keys: Vec<HostKey> = l.entry.addrs.iter().cloned().map(HostKey::Addr).collect();
    if let Origin::Host(n) = &l.entry.origin {
        keys.push(HostKey::Host(n.clone()));
    }
    keys
}

fn common(a: &PortSet, b: &PortSet) -> PortSet {
    PortSet::from_ranges(a.ranges().iter().flat_map(|ra| {
        b.ranges().iter().filter_map(move |rb| {
            let low = ra.low.max(rb.low);
            let high = ra.high.min(rb.high);
            (low <= high).then_some(portplan_model::PortRange { low, high })
        })
    }))
}

/// A port that two roles listen on, on one host, where both are installed by
/// their products: roles of two products, or two roles of one product whose
/// catalog names them in a `colocated`/`separate` condition.
pub fn listener_conflicts(dep: &Parsed<Deployment>, ls: &[Listener]) -> Vec<Diagnostic> {
    let mut by_host: BTreeMap<HostKey, Vec<usize>> = BTreeMap::new();
    for (i, l) in ls.iter().enumerate() {
        if l.entry.is_single_host() {
            for k in host_keys(l) {
                by_host.entry(k).or_default().push(i);
            }
        }
    }
    // (host, protocol, first role, second role) -> ports, requirements, place.
    type Key = (String, portplan_model::Protocol, String, String);
    let mut found: BTreeMap<Key, (PortSet, BTreeSet<String>, BTreeSet<String>, String)> =
        BTreeMap::new();
    for (hkey, idx) in &by_host {
        for (n, &i) in idx.iter().enumerate() {
            for &j in &idx[n + 1..] {
                let (a, b) = (&ls[i], &ls[j]);
                if a.protocol != b.protocol || (a.product == b.product && a.role == b.role) {
                    continue;
                }
                // Only what products install can collide. An outside party
                // (a directory, a syslog server, a managed target) on that
                // host and port is the same service, used by both.
                if !a.installed || !b.installed {
                    continue;
                }
                // Roles of one product on one node (ISE personas) share its
                // listeners, unless the catalog says their sharing a host
                // matters (IGEL's UMS Server and HA load balancer).
                // One requirement naming both as listeners is one service.
                if a.product == b.product
                    && (!a.paired.contains(&b.role) || a.requirement == b.requirement)
                {
                    continue;
                }
                let both = common(&a.ports, &b.ports);
                if both.is_empty() {
                    continue;
                }
                let host = match (&a.entry.origin, &b.entry.origin) {
                    (Origin::Host(x), _) | (_, Origin::Host(x)) => x.clone(),
                    _ => match hkey {
                        HostKey::Addr(a) => a.to_string(),
                        HostKey::Host(h) => h.clone(),
                    },
                };
                let (first, second) = if a.entry.path <= b.entry.path {
                    (a, b)
                } else {
                    (b, a)
                };
                let e = found
                    .entry((
                        host,
                        a.protocol,
                        format!("{}/{}", first.product, first.role),
                        format!("{}/{}", second.product, second.role),
                    ))
                    .or_insert_with(|| {
                        (
                            PortSet::new(),
                            BTreeSet::new(),
                            BTreeSet::new(),
                            second.entry.path.clone(),
                        )
                    });
                e.0.union(&both);
                e.1.insert(first.requirement.clone());
                e.2.insert(second.requirement.clone());
            }
        }
    }
    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    found
        .into_iter()
        .map(|((host, proto, first, second), (ports, r1, r2, path))| {
            dep.error_at(
                &path,
                format!(
                    "port conflict on `{host}`: {proto}/{ports} is a listener of {first} ({}) and of {second} ({})",
                    list(&r1),
                    list(&r2)
                ),
            )
            .hint("put the roles on different hosts, or move one to another port (a parameter or an override)")
        })
        .collect()
}

/// Networks and addresses that overlap without being the same thing: a host
/// inside another role's CIDR, two CIDRs that cut into each other. Named
/// networks are populations and may hold anything; equal claims are
/// colocation, which is meant.
pub fn overlapping_claims(dep: &Parsed<Deployment>, claims: &[Claim]) -> Vec<Diagnostic> {
    let mut nets = Vec::new();
    for c in claims {
        if matches!(c.entry.origin, Origin::Network(_)) {
            continue;
        }
        for a in &c.entry.addrs {
            if let Addr::Net(n) = a {
                nets.push((*n, c));
            }
        }
    }
    nets.sort_by_key(|x| x.0);
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, (na, ca)) in nets.iter().enumerate() {
        // Sorted by network address: a net can only contain nets after it
        // until the first net past its end.
        for (nb, cb) in &nets[i + 1..] {
            if !na.contains(&nb.network()) {
                break;
            }
            if na == nb || !na.contains(nb) || ca.entry.path == cb.entry.path {
                continue;
            }
            if let (Origin::Host(x), Origin::Host(y)) = (&ca.entry.origin, &cb.entry.origin) {
                if x == y {
                    continue;
                }
            }
            if !seen.insert((cb.entry.path.clone(), ca.entry.path.clone())) {
                continue;
            }
            out.push(
                dep.warning_at(
                    &cb.entry.path,
                    format!(
                        "`{}` ({}/{}) lies inside `{}` ({}/{}): the two claims overlap",
                        Addr::Net(*nb),
                        cb.product,
                        cb.role,
                        Addr::Net(*na),
                        ca.product,
                        ca.role
                    ),
                )
                .hint(format!(
                    "if `{}` is a population (clients, devices) that may hold `{}`, name it under `networks:` (`networks: {{NAME: {}}}`) and write NAME in the role; otherwise correct the addresses",
                    Addr::Net(*na),
                    Addr::Net(*nb),
                    Addr::Net(*na)
                )),
            );
        }
    }
    out
}

//! A merged flow's side split back into the parties people name: each
//! named host or network with the addresses it holds on that side, each
//! outside address or DNS name on its own, and a role placed by address
//! (`product/role`) with what is left. Pictures draw one box per party and
//! change tickets write one row per pair of parties, so a host that is part
//! of three merged sets is still one box and its address sits next to its name.

use portplan_model::{Addr, Side};

/// One party of a side: a name and the side's addresses that belong to it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Party {
    /// A host or network name, `product/role`, or the address itself.
    pub name: String,
    pub addrs: Vec<Addr>,
}

impl Party {
    /// Whether the name is only the address (an outside party: `1.1.1.1`,
    /// `app.example.com`, `any`), so writing both would repeat it.
    pub fn is_bare_address(&self) -> bool {
        self.addrs.len() == 1 && self.addrs[0].to_string() == self.name
    }

    /// Whether this party is, or holds, the host `name` with `addrs`.
    pub fn is(&self, name: &str, addrs: &[Addr]) -> bool {
        self.name == name
            || self.addrs.iter().any(|a| {
                addrs
                    .iter()
                    .any(|h| !matches!(a, Addr::Any) && common(a, h).is_some())
            })
    }
}

/// What two addresses share: the smaller of two nested networks, or the
/// address when both are the same name; None when they are apart.
fn common(a: &Addr, b: &Addr) -> Option<Addr> {
    match (a, b) {
        // A side merged into `any` (`office, remote clients`) holds every
        // named host it lists.
        (Addr::Any, _) => Some(b.clone()),
        (_, Addr::Any) => Some(a.clone()),
        (Addr::Net(x), Addr::Net(y)) if x.contains(y) => Some(b.clone()),
        (Addr::Net(x), Addr::Net(y)) if y.contains(x) => Some(a.clone()),
        (Addr::Net(_), Addr::Net(_)) => None,
        _ => (a == b).then(|| a.clone()),
    }
}

/// The side's parties, in the order of its labels then leftover addresses.
/// `lookup` gives the addresses of a name the deployment defines (hosts and
/// networks); other labels are outside addresses or roles placed by address.
pub fn parties<'a>(side: &Side, lookup: impl Fn(&str) -> Option<&'a [Addr]>) -> Vec<Party> {
    let mut out: Vec<Party> = Vec::new();
    let mut roles: Vec<&str> = Vec::new();
    for label in &side.labels {
        let own: Vec<Addr> = match lookup(label) {
            Some(addrs) => addrs.to_vec(),
            // An outside party is labelled with its own address; any other
            // label (a role placed by address) names addresses it does not spell.
            None => match label.parse::<Addr>() {
                Ok(a) if a.to_string() == *label && side.addrs.contains(&a) => vec![a],
                _ => {
                    roles.push(label);
                    continue;
                }
            },
        };
        // Only what the side holds of the name: an override may have cut
        // part of a network out.
        let mut held: Vec<Addr> = Vec::new();
        for a in &side.addrs {
            for h in &own {
                if let Some(c) = common(a, h) {
                    if !held.contains(&c) {
                        held.push(c);
                    }
                }
            }
        }
        if !held.is_empty() {
            held.sort();
            out.push(Party {
                name: label.clone(),
                addrs: held,
            });
        }
    }
    let rest = leftover(&side.addrs, &out);
    match (roles.len(), rest.is_empty()) {
        (_, true) => {}
        // Addresses no named party holds: the role placed by address, or
        // each address on its own when no label is left to name them.
        (0, false) => out.extend(rest.into_iter().map(|a| Party {
            name: a.to_string(),
            addrs: vec![a],
        })),
        // Several roles placed by address share the rest: the side does not
        // say which address is whose, so they stay one party.
        (_, false) => out.push(Party {
            name: roles.join(" + "),
            addrs: rest,
        }),
    }
    if out.is_empty() {
        // No addresses at all (should not happen): keep the side visible.
        out.push(Party {
            name: side.labels.join(" + "),
            addrs: side.addrs.clone(),
        });
    }
    out
}

/// The side's addresses that no party holds.
fn leftover(addrs: &[Addr], parties: &[Party]) -> Vec<Addr> {
    let held: Vec<&Addr> = parties.iter().flat_map(|p| &p.addrs).collect();
    let mut rest: Vec<Addr> = Vec::new();
    for a in addrs {
        match a {
            Addr::Net(n) => {
                let mut pieces = vec![*n];
                for h in &held {
                    if let Addr::Net(hole) = h {
                        pieces = pieces
                            .into_iter()
                            .flat_map(|p| crate::cidr::subtract(p, *hole))
                            .collect();
                    }
                }
                rest.extend(ipnet::IpNet::aggregate(&pieces).into_iter().map(Addr::Net));
            }
            other if !held.contains(&other) => rest.push(other.clone()),
            _ => {}
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Addr {
        s.parse().unwrap()
    }

    #[test]
    fn splits_a_merged_side_into_named_hosts_outside_addresses_and_roles() {
        let gw1 = vec![a("203.0.113.10")];
        let gw2 = vec![a("203.0.113.11")];
        let lookup = |n: &str| match n {
            "gw-1" => Some(gw1.as_slice()),
            "gw-2" => Some(gw2.as_slice()),
            _ => None,
        };
        let side = Side {
            labels: vec![
                "gw-1".into(),
                "gw-2".into(),
                "p/nad".into(),
                "1.1.1.1".into(),
            ],
            addrs: vec![a("203.0.113.10/31"), a("10.9.0.0/24"), a("1.1.1.1")],
        };
        let got = parties(&side, lookup);
        let names: Vec<(&str, Vec<String>)> = got
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.addrs.iter().map(|x| x.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("gw-1", vec!["203.0.113.10".to_string()]),
                ("gw-2", vec!["203.0.113.11".to_string()]),
                ("1.1.1.1", vec!["1.1.1.1".to_string()]),
                ("p/nad", vec!["10.9.0.0/24".to_string()]),
            ]
        );
        assert!(got[2].is_bare_address());
        assert!(!got[0].is_bare_address());
    }

    #[test]
    fn a_network_cut_by_an_override_keeps_only_what_the_side_holds() {
        let lan = vec![a("10.1.0.0/16")];
        let side = Side {
            labels: vec!["lan".into()],
            addrs: vec![a("10.1.0.0/24")],
        };
        let got = parties(&side, |n| (n == "lan").then_some(lan.as_slice()));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].addrs, vec![a("10.1.0.0/24")]);
    }
}

//! What the cloud formats attach: one firewall object (AWS security group,
//! Azure NSG, GCP network tag) per host of the deployment, not one per
//! merged set of hosts. The planner merges flows (`sdm-gw-2 + sdm-relay-1 +
//! staff-laptops -> sdm-gw-1`); an engineer attaches a group to one
//! instance. So each side is split back into the deployment's named hosts
//! and networks (`RenderOptions.directory`); what no name covers (a raw
//! address a role lists, an outside party) stays one party of its own.
//!
//! A party gets a group when it is one of the deployment's own (addresses
//! only, not `any`, not a DNS name, not an outside public address) and it
//! receives traffic, or it is a single host that sends traffic. A network
//! that only sends (staff laptops) is a source range in the rules of the
//! groups it reaches, not a group: nothing there to attach it to.

use crate::common::{self, Split};
use crate::tf::Labels;
use crate::{HostView, RenderOptions};
use ipnet::IpNet;
use portplan_model::catalog::Scope;
use portplan_model::{Addr, Flow, Side};
use std::collections::HashMap;

/// One party: a named host or network, or the unnamed rest of a side.
#[derive(Debug, Clone)]
pub struct Party {
    /// The deployment's name (`sdm-gw-1`), or the side's labels.
    pub title: String,
    /// Lowercase letters, digits, `_`; unique in one output.
    pub ident: String,
    pub addrs: Vec<Addr>,
    /// Named in the deployment's directory (a host or network).
    pub named: bool,
    /// Gets a group of its own.
    pub grouped: bool,
    /// In this output's scope: the `--for-host` host, or every party.
    pub wanted: bool,
}

impl Party {
    pub fn split(&self) -> Split {
        Split::of(&self.addrs)
    }
    /// Its addresses as CIDRs, IPv4 first.
    pub fn cidrs(&self) -> Vec<String> {
        self.split().cidrs()
    }
}

/// One end of a flow after the split: a party and the addresses of the
/// side that are that party's.
#[derive(Debug, Clone)]
pub struct End {
    pub party: usize,
    pub addrs: Vec<Addr>,
}

/// Every party of the plan and each flow's ends.
pub struct Cloud {
    pub parties: Vec<Party>,
    /// Per flow (in the order given): source ends, destination ends.
    pub ends: Vec<(Vec<End>, Vec<End>)>,
}

impl Cloud {
    pub fn new(flows: &[&Flow], opts: &RenderOptions) -> Cloud {
        let mut parties: Vec<Party> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut idents = Labels::default();
        let mut received = Vec::new();
        let mut sent = Vec::new();
        let mut ends = Vec::with_capacity(flows.len());
        let known = learned(flows, &opts.directory);
        for f in flows {
            let mut pair = (Vec::new(), Vec::new());
            for (is_src, side) in [(true, &f.src), (false, &f.dst)] {
                for (key, title, named, whole, addrs) in parts(side, &known, opts.directory.len()) {
                    let i = *index.entry(key).or_insert_with(|| {
                        parties.push(Party {
                            ident: idents.unique(&title),
                            title: title.clone(),
                            addrs: whole.clone(),
                            named,
                            grouped: false,
                            wanted: true,
                        });
                        received.push(false);
                        sent.push(false);
                        parties.len() - 1
                    });
                    if f.scope != Scope::Loopback {
                        if is_src {
                            sent[i] = true;
                        } else {
                            received[i] = true;
                        }
                    }
                    let e = End { party: i, addrs };
                    if is_src {
                        pair.0.push(e);
                    } else {
                        pair.1.push(e);
                    }
                }
            }
            ends.push(pair);
        }
        for (i, p) in parties.iter_mut().enumerate() {
            let side = Side {
                labels: vec![p.title.clone()],
                addrs: p.addrs.clone(),
            };
            let s = p.split();
            let own = !p.addrs.is_empty() && !s.any && s.names.is_empty();
            let inside = own && !common::outside_side(&side);
            // What the directory names a network may be machines outside the
            // cloud (laptops); anything else that sends is taken as instances.
            let host =
                !opts.directory.iter().any(|h| h.name == p.title) || p.addrs.iter().all(single);
            let wanted = opts.for_host.as_ref().is_none_or(|h| is_host(p, h));
            p.wanted = wanted;
            p.grouped = inside && wanted && (received[i] || (sent[i] && host));
        }
        Cloud { parties, ends }
    }

    /// The other grouped parties whose addresses overlap the end's ranges, each
    /// with the addresses both hold: a host inside a network's range, or
    /// the network around a host. An instance there is covered by that
    /// party's group as well as by the end's own (Azure: the subnet's NSG
    /// and the NIC's NSG), so a format where every group must admit the
    /// traffic writes the flow into each of them.
    pub fn overlapping(&self, e: &End) -> Vec<(usize, Vec<Addr>)> {
        let mut out = Vec::new();
        for g in self.grouped() {
            if g == e.party {
                continue;
            }
            let both = overlap(&self.parties[g].addrs, &ranges(&e.addrs));
            if !both.is_empty() {
                out.push((g, both));
            }
        }
        out
    }

    /// The other grouped parties that lie wholly inside the end's
    /// addresses: instances of a network that holds no group of its own
    /// (one that only sends), which send its flows under their own group.
    /// Only a range counts: `any` as a source is the parties outside the
    /// deployment, not its instances.
    pub fn inside(&self, e: &End) -> Vec<usize> {
        let ranges = ranges(&e.addrs);
        self.grouped()
            .into_iter()
            .filter(|&g| g != e.party)
            .filter(|&g| {
                let p = &self.parties[g];
                !p.addrs.is_empty() && p.addrs.iter().all(|a| ranges.iter().any(|o| covers(o, a)))
            })
            .collect()
    }

    /// The parties with a group, in order of title.
    pub fn grouped(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.parties.len())
            .filter(|&i| self.parties[i].grouped)
            .collect();
        v.sort_by(|a, b| self.parties[*a].title.cmp(&self.parties[*b].title));
        v
    }
}

/// The directory, and the parties the plan names without it (a role's
/// raw addresses, `cisco-ise/pan`): a label seen alone on a side is a
/// party of its own with that side's addresses, so merged sides split
/// into it too.
fn learned(flows: &[&Flow], directory: &[HostView]) -> Vec<HostView> {
    let mut out: Vec<HostView> = directory.to_vec();
    for f in flows {
        for side in [&f.src, &f.dst] {
            let [label] = side.labels.as_slice() else {
                continue;
            };
            let plain = side.addrs.iter().all(|a| matches!(a, Addr::Net(_)));
            if !plain || side.addrs.is_empty() || !common::deployment_named(side) {
                continue;
            }
            match out.iter_mut().position(|h| h.name == *label) {
                Some(i) if i < directory.len() => {}
                Some(i) => {
                    for a in &side.addrs {
                        if !out[i].addrs.contains(a) {
                            out[i].addrs.push(a.clone());
                        }
                    }
                }
                None => out.push(HostView {
                    name: label.clone(),
                    addrs: side.addrs.clone(),
                }),
            }
        }
    }
    out
}

/// Whether a party is the `--for-host` host: by name, or by its addresses.
fn is_host(p: &Party, h: &HostView) -> bool {
    if p.named {
        return p.title == h.name;
    }
    !p.addrs.is_empty() && p.addrs.iter().all(|a| h.addrs.contains(a))
}

/// A single address (`/32`, `/128`).
fn single(a: &Addr) -> bool {
    match a {
        Addr::Net(n) => n.prefix_len() == n.max_prefix_len(),
        _ => false,
    }
}

/// Whether `inner` lies inside `outer`.
fn covers(outer: &Addr, inner: &Addr) -> bool {
    match (outer, inner) {
        (Addr::Any, _) => true,
        (Addr::Net(o), Addr::Net(i)) => o.contains(i),
        (Addr::Name(o), Addr::Name(i)) => o == i,
        _ => false,
    }
}

/// An end's address ranges: `any` and DNS names are parties outside the
/// deployment, never its instances.
fn ranges(addrs: &[Addr]) -> Vec<Addr> {
    addrs
        .iter()
        .filter(|a| matches!(a, Addr::Net(_)))
        .cloned()
        .collect()
}

/// The addresses two lists both hold, as the narrower of each pair of
/// nested networks (party addresses are networks or single addresses).
fn overlap(a: &[Addr], b: &[Addr]) -> Vec<Addr> {
    let mut out: Vec<Addr> = Vec::new();
    for x in a {
        for y in b {
            let both = if covers(x, y) {
                Some(y)
            } else if covers(y, x) {
                Some(x)
            } else {
                None
            };
            if let Some(z) = both.filter(|z| !out.contains(z)) {
                out.push(z.clone());
            }
        }
    }
    out
}

type PartOf = (String, String, bool, Vec<Addr>, Vec<Addr>);

/// A side split into (key, title, named, the party's addresses, the
/// side's addresses that are the party's). Each label the directory names
/// is a party; what remains is one party titled by the other labels.
///
/// `named` of `directory` are the deployment's own names; the others were
/// learned from the plan: a role's several single addresses are several
/// instances, one party each (`cisco-ise/pan 10.0.0.5`).
fn parts(side: &Side, directory: &[HostView], named: usize) -> Vec<PartOf> {
    let mut out = Vec::new();
    let mut taken: Vec<IpNet> = Vec::new();
    let mut taken_names: Vec<Addr> = Vec::new();
    let mut rest_labels = Vec::new();
    for l in &side.labels {
        let Some(at) = directory.iter().position(|h| h.name == *l) else {
            rest_labels.push(l.clone());
            continue;
        };
        let h = &directory[at];
        let mine: Vec<Addr> = h
            .addrs
            .iter()
            .filter(|a| side.addrs.iter().any(|s| covers(s, a)))
            .cloned()
            .collect();
        if mine.is_empty() {
            rest_labels.push(l.clone());
            continue;
        }
        for a in &mine {
            match a {
                Addr::Net(n) => taken.push(*n),
                other => taken_names.push(other.clone()),
            }
        }
        if at >= named && h.addrs.len() > 1 && h.addrs.iter().all(single) {
            for a in mine {
                let title = format!("{l} {a}");
                out.push((
                    format!("host\0{title}"),
                    title,
                    true,
                    vec![a.clone()],
                    vec![a],
                ));
            }
            continue;
        }
        out.push((format!("host\0{l}"), l.clone(), true, h.addrs.clone(), mine));
    }
    let taken = IpNet::aggregate(&taken);
    let rest: Vec<Addr> = side
        .addrs
        .iter()
        .filter(|a| match a {
            Addr::Net(n) => !taken.iter().any(|t| t.contains(n)),
            other => !taken_names.contains(other),
        })
        .cloned()
        .collect();
    if !rest.is_empty() {
        let texts: Vec<String> = rest.iter().map(ToString::to_string).collect();
        // A label that is one of the rest's addresses, or any other label
        // the directory does not know (a role's raw address, a catalog's
        // outside party), titles the rest.
        let labels = if rest_labels.is_empty() {
            texts.clone()
        } else {
            rest_labels
        };
        let title = labels.join(" + ");
        let key = format!("rest\0{title}\0{}", texts.join(" "));
        out.push((key, title, false, rest.clone(), rest));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Addr {
        s.parse().unwrap()
    }

    #[test]
    fn merged_sides_split_into_named_hosts() {
        let dir = vec![
            HostView {
                name: "gw1".into(),
                addrs: vec![a("203.0.113.10")],
            },
            HostView {
                name: "gw2".into(),
                addrs: vec![a("203.0.113.11")],
            },
        ];
        let side = Side {
            labels: vec!["gw1".into(), "gw2".into(), "raw".into()],
            addrs: vec![a("203.0.113.10/31"), a("10.9.0.0/24")],
        };
        let p = parts(&side, &dir, 2);
        let titles: Vec<&str> = p.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(titles, ["gw1", "gw2", "raw"]);
        assert_eq!(p[0].4, vec![a("203.0.113.10")]);
        assert_eq!(p[2].4, vec![a("10.9.0.0/24")]);
        // Without a directory the side stays one party.
        assert_eq!(parts(&side, &[], 0).len(), 1);
    }
}

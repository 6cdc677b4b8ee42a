//! Host firewalls see the plan from one host: the flows it receives
//! (input), the flows it sends (output), and its own loopback traffic.

use crate::common::{self, Split};
use crate::{HostView, RenderOptions, Unexpressed};
use portplan_model::catalog::Scope;
use portplan_model::{Addr, Flow, FlowSet, PortRange, Protocol, Side};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dir {
    /// The host is the destination.
    In,
    /// The host is the source.
    Out,
}

/// One flow as the host sees it.
pub struct HostFlow<'a> {
    pub dir: Dir,
    pub flow: &'a Flow,
    pub host: &'a HostView,
}

impl HostFlow<'_> {
    /// The other end: the source of inbound traffic, the destination of outbound.
    pub fn peer(&self) -> &Side {
        match self.dir {
            Dir::In => &self.flow.src,
            Dir::Out => &self.flow.dst,
        }
    }

    /// The other end's addresses, in the address families the host has: a
    /// host with IPv4 addresses only never sends to (or hears from) the
    /// peer's IPv6 addresses, so a rule for them would permit what the plan
    /// never uses. Kept whole when the host's own family is unknown (a
    /// name, `any`) or nothing of the host's families would be left.
    pub fn peer_split(&self) -> Split {
        let peer = Split::of(&self.peer().addrs);
        let own = Split::of(&self.host.addrs);
        if own.any || !own.names.is_empty() || peer.any || !peer.names.is_empty() {
            return peer;
        }
        let mut kept = peer.clone();
        if own.v6.is_empty() {
            kept.v6.clear();
        }
        if own.v4.is_empty() {
            kept.v4.clear();
        }
        if kept.v4.is_empty() && kept.v6.is_empty() {
            peer
        } else {
            kept
        }
    }

    /// For a broadcast the host receives: the broadcast addresses it
    /// arrives at (those of the destination networks the host is in, and
    /// the limited broadcast when the destination is `any`).
    pub fn broadcast_in(&self) -> Vec<std::net::Ipv4Addr> {
        let near: Vec<portplan_model::Addr> = self
            .flow
            .dst
            .addrs
            .iter()
            .filter(|a| {
                let one = Side {
                    labels: vec![],
                    addrs: vec![(*a).clone()],
                };
                matches!(a, portplan_model::Addr::Any) || one.touches("", &self.host.addrs)
            })
            .cloned()
            .collect();
        common::broadcast_addrs(&near, true)
    }

    /// The host's own end of the flow when it is narrower than the host
    /// view: a firewall written for a network is one ruleset shared by all
    /// its machines, so a flow of one named host inside it must match that
    /// host's addresses (`ip daddr`/`-d`/`-LocalAddress`) or every machine
    /// of the network would accept it. `None` when the end is the whole
    /// view (named as the host, `any`, or a network containing it), and for
    /// a broadcast received, which `broadcast_in` addresses instead.
    pub fn narrower(&self) -> Option<Split> {
        let end = match self.dir {
            Dir::In => &self.flow.dst,
            Dir::Out => &self.flow.src,
        };
        if (self.flow.scope == Scope::Broadcast && self.dir == Dir::In)
            || end.labels.contains(&self.host.name)
            || end.addrs.contains(&Addr::Any)
        {
            return None;
        }
        let mut inside = Vec::new();
        let mut covered = true;
        for h in &self.host.addrs {
            match h {
                Addr::Net(hn) => {
                    let whole = end
                        .addrs
                        .iter()
                        .any(|e| matches!(e, Addr::Net(en) if en.contains(hn)));
                    if whole {
                        inside.push(h.clone());
                        continue;
                    }
                    covered = false;
                    inside.extend(
                        end.addrs
                            .iter()
                            .filter(|e| matches!(e, Addr::Net(en) if hn.contains(en)))
                            .cloned(),
                    );
                }
                Addr::Name(_) if end.addrs.contains(h) => inside.push(h.clone()),
                Addr::Name(_) => covered = false,
                Addr::Any => return None,
            }
        }
        (!covered).then(|| Split::of(&inside))
    }
}

/// Whether a side is (or contains) the host: by label, or by an address the
/// host has inside one of the side's networks (or names equal).
pub fn is_host(side: &Side, host: &HostView) -> bool {
    side.touches(&host.name, &host.addrs)
}

/// The host's flows, split: network flows in/out, and loopback flows (which
/// the host firewall's loopback rule already admits).
fn host_flows<'a>(flows: &[&'a Flow], host: &'a HostView) -> (Vec<HostFlow<'a>>, Vec<&'a Flow>) {
    let mut net = Vec::new();
    let mut lo = Vec::new();
    for f in flows {
        let as_dst = is_host(&f.dst, host);
        let as_src = is_host(&f.src, host);
        if f.scope == Scope::Loopback {
            if as_dst || as_src {
                lo.push(*f);
            }
            continue;
        }
        if as_dst {
            net.push(HostFlow {
                dir: Dir::In,
                flow: f,
                host,
            });
        }
        if as_src {
            net.push(HostFlow {
                dir: Dir::Out,
                flow: f,
                host,
            });
        }
    }
    net.sort_by_key(|h| h.dir);
    (net, lo)
}

/// What every host-firewall format starts from: the host (refusing without
/// `--for-host`), its network flows in and out, and its loopback flows, in
/// the stable order of `common::sorted`.
pub type HostPlan<'a> = (&'a HostView, Vec<HostFlow<'a>>, Vec<&'a Flow>);

pub fn host_plan<'a>(
    format: &str,
    set: &'a FlowSet,
    opts: &'a RenderOptions,
) -> Result<HostPlan<'a>, String> {
    let host = opts.for_host.as_ref().ok_or_else(|| need_host(format))?;
    let (net, lo) = host_flows(&common::sorted(set), host);
    Ok((host, net, lo))
}

/// The refusal every host format gives without `--for-host`.
fn need_host(format: &str) -> String {
    format!(
        "`{format}` writes one host's firewall: name the host with --for-host (a host name from the deployment, or one of its addresses)"
    )
}

/// The management path a host format opens first: its sources and TCP
/// ports (the deployment's, else `default`), `None` when none is named.
pub struct Mgmt {
    pub from: Vec<portplan_model::Addr>,
    pub who: String,
    pub ports: Vec<PortRange>,
}

impl Mgmt {
    pub fn of(opts: &RenderOptions, default: &[u16]) -> Option<Mgmt> {
        let m = opts.management.as_ref().filter(|m| !m.from.is_empty())?;
        let ports = if m.ports.is_empty() {
            default.iter().map(|p| PortRange::single(*p)).collect()
        } else {
            m.ports.clone()
        };
        Some(Mgmt {
            from: m.from.clone(),
            who: common::one_line(&m.labels.join(", ")),
            ports,
        })
    }

    /// `22` / `22, 3389`.
    pub fn port_list(&self) -> String {
        self.ports
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The lock-out warning of a host format without a management path: the
/// comment lines for the top of the file (without the comment marker) and
/// the item for stderr (which `--strict` counts). `service` names what is
/// cut (`SSH, TCP 22`); the sources the plan itself lets in on those ports
/// are named, but they are not a management path for other administrators.
pub fn lockout(
    host: &HostView,
    net: &[HostFlow],
    service: &str,
    ports: &[u16],
) -> (Vec<String>, Unexpressed) {
    let mut planned: Vec<String> = Vec::new();
    for hf in net.iter().filter(|h| h.dir == Dir::In) {
        let f = hf.flow;
        if f.protocol == Protocol::Tcp && ports.iter().any(|p| f.ports.contains(*p)) {
            for l in &f.src.labels {
                if !planned.contains(l) {
                    planned.push(l.clone());
                }
            }
        }
    }
    let except = if planned.is_empty() {
        "from everywhere".to_string()
    } else {
        format!(
            "except from what the plan lets in ({})",
            common::one_line(&planned.join(", "))
        )
    };
    let name = common::one_line(&host.name);
    let reason = format!(
        "applying this file will cut remote access ({service}) to {name} {except}: name a management network (`management: {{ from: [NETWORK] }}` in the deployment) or add --management CIDR"
    );
    let lines = vec![
        "#################################################################".to_string(),
        format!("WARNING: applying this file will cut remote access ({service})"),
        format!("to {name} {except}."),
        "Name where administrators connect from: `management: { from: [NETWORK] }`".to_string(),
        "in the deployment, or add --management CIDR, and write it again.".to_string(),
        "#################################################################".to_string(),
    ];
    (
        lines,
        Unexpressed {
            requirements: Vec::new(),
            reason,
        },
    )
}

/// One line for an outbound flow left open (no `--egress`): what, to whom, why.
pub fn open_line(f: &Flow) -> String {
    let to = if f.dst.labels.is_empty() {
        f.dst
            .addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        f.dst.labels.join(", ")
    };
    common::one_line(&format!(
        "{} to {to} ({})",
        common::service_phrase(f),
        common::reasons(f)
    ))
}

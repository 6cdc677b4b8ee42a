//! From a flow set to what one host must do: the probes it sends (`verify
//! --from`), the ports it must accept (`respond --as`, `listeners`). A flow
//! concerns a host when the host's name is among the side's labels, or one
//! of its addresses lies in the side's addresses.

use crate::engine::Target;
use portplan_model::{Addr, Flow, FlowSet, Protocol, Scope, Side};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A host as the deployment names it.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub addrs: Vec<Addr>,
}

impl Host {
    fn ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.addrs.iter().filter_map(|a| match a {
            Addr::Net(n) => Some(n.addr()),
            _ => None,
        })
    }
    /// Whether this host is (or lies inside) one side of a flow.
    pub fn is(&self, side: &Side) -> bool {
        side.labels.iter().any(|l| l == &self.name)
            || side.addrs.iter().any(|a| match a {
                Addr::Net(n) => self.ips().any(|ip| n.contains(&ip)),
                Addr::Name(s) => self
                    .addrs
                    .iter()
                    .any(|h| matches!(h, Addr::Name(x) if x == s)),
                Addr::Any => false,
            })
    }
}

/// One probe a flow asks for.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Index of the flow in the flow set.
    pub flow: usize,
    pub src: String,
    pub dst: String,
    pub required: bool,
    pub reasons: Vec<String>,
    #[serde(skip)]
    pub target: Target,
}

/// A flow (or one destination of it) that cannot be probed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotProbed {
    pub flow: usize,
    pub src: String,
    pub dst: String,
    pub protocol: Protocol,
    pub ports: String,
    pub required: bool,
    pub reasons: Vec<String>,
    pub why: String,
}

pub fn side_text(s: &Side) -> String {
    if s.labels.is_empty() {
        s.addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    } else {
        s.labels.join(",")
    }
}

/// The probes `host` must send, and the flows from it that no probe can prove.
pub fn outbound(fs: &FlowSet, host: &Host) -> (Vec<Check>, Vec<NotProbed>) {
    let mut checks = Vec::new();
    let mut skipped = Vec::new();
    for (i, f) in fs.flows.iter().enumerate() {
        if !host.is(&f.src) {
            continue;
        }
        let skip = |why: String, dst: String| NotProbed {
            flow: i,
            src: host.name.clone(),
            dst,
            protocol: f.protocol,
            ports: f.ports.to_string(),
            required: f.required,
            reasons: f.reason_ids(),
            why,
        };
        let dst_label = side_text(&f.dst);
        if let Some(why) = unprobeable(f) {
            skipped.push(skip(why, dst_label));
            continue;
        }
        for a in &f.dst.addrs {
            let host_text = match a {
                Addr::Net(n) if n.prefix_len() == n.max_prefix_len() => n.addr().to_string(),
                Addr::Net(n) => {
                    skipped.push(skip(
                        format!("the destination is the network {n}: probe a host in it with `portplan probe`"),
                        dst_label.clone(),
                    ));
                    continue;
                }
                Addr::Name(s) if s.starts_with("*.") => {
                    skipped.push(skip(
                        format!(
                            "`{s}` is a wildcard: probe a name it covers with `portplan probe`"
                        ),
                        dst_label.clone(),
                    ));
                    continue;
                }
                Addr::Name(s) => s.clone(),
                Addr::Any => {
                    skipped.push(skip(
                        "the destination is anywhere (the Internet)".into(),
                        dst_label.clone(),
                    ));
                    continue;
                }
            };
            for port in f.ports.iter_ports() {
                checks.push(Check {
                    flow: i,
                    src: host.name.clone(),
                    dst: dst_label.clone(),
                    required: f.required,
                    reasons: f.reason_ids(),
                    target: Target {
                        host: host_text.clone(),
                        protocol: f.protocol,
                        port,
                    },
                });
            }
        }
        if f.dst.addrs.is_empty() {
            skipped.push(skip("the destination has no address".into(), dst_label));
        }
    }
    (checks, skipped)
}

fn unprobeable(f: &Flow) -> Option<String> {
    match f.protocol {
        Protocol::Icmp => {
            return Some("ICMP is not probed (it needs raw sockets); try `ping`".into())
        }
        Protocol::Esp => {
            return Some(
                "ESP is not probed (no ports; it flows once IKE sets up the tunnel): check the tunnel's SAs"
                    .into(),
            )
        }
        Protocol::Tcp | Protocol::Udp => {}
    }
    match f.scope {
        Scope::Loopback => {
            Some("loopback-only: checked by `portplan listeners`, not over the network".into())
        }
        Scope::Broadcast => Some("broadcast: a unicast probe cannot prove it".into()),
        Scope::Network if f.ports.is_empty() => Some("the flow has no port".into()),
        Scope::Network => None,
    }
}

/// A port this host must accept, and the flows that ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inbound {
    pub protocol: Protocol,
    pub port: u16,
    pub scope: Scope,
    pub products: Vec<String>,
    pub reasons: Vec<String>,
}

/// The ports `host` must accept from the network (and, separately, the
/// loopback-only ones it must have free for itself), one entry per port.
pub fn inbound(fs: &FlowSet, host: &Host) -> (Vec<Inbound>, Vec<Inbound>) {
    type Map = BTreeMap<(Protocol, u16), Inbound>;
    let mut net = Map::new();
    let mut lo = Map::new();
    for f in &fs.flows {
        if !f.protocol.has_ports() {
            continue;
        }
        let (map, mine) = match f.scope {
            Scope::Loopback => (&mut lo, host.is(&f.dst) || host.is(&f.src)),
            _ => (&mut net, host.is(&f.dst)),
        };
        if !mine {
            continue;
        }
        let reasons = f.reason_ids();
        for port in f.ports.iter_ports() {
            let x = map.entry((f.protocol, port)).or_insert_with(|| Inbound {
                protocol: f.protocol,
                port,
                scope: f.scope,
                products: Vec::new(),
                reasons: Vec::new(),
            });
            for b in &f.because {
                if !x.products.contains(&b.product) {
                    x.products.push(b.product.clone());
                }
            }
            for r in &reasons {
                if !x.reasons.contains(r) {
                    x.reasons.push(r.clone());
                }
            }
        }
    }
    (net.into_values().collect(), lo.into_values().collect())
}

/// The deployment hosts whose addresses are on this machine: an address is
/// local when a socket can bind it.
pub fn local_hosts(hosts: &[Host]) -> Vec<Host> {
    hosts
        .iter()
        .filter(|h| h.ips().any(|ip| std::net::UdpSocket::bind((ip, 0)).is_ok()))
        .cloned()
        .collect()
}

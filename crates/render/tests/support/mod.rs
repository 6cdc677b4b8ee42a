//! Hand-built flow sets shaped like real plans, with every hard case a
//! renderer meets: port lists and ranges, UDP, ICMP, ESP, DNS names, wildcards,
//! `any`, broadcast, loopback, IPv6, optional flows, notes that try to
//! break out of comments.
#![allow(dead_code)]

use portplan_model::catalog::Scope;
use portplan_model::{Addr, Because, Flow, FlowSet, PortSet, Protocol, Side};
use portplan_render::{HostView, RenderOptions};

fn side(labels: &[&str], addrs: &[&str]) -> Side {
    Side {
        labels: labels.iter().map(|s| s.to_string()).collect(),
        addrs: addrs.iter().map(|a| a.parse::<Addr>().unwrap()).collect(),
    }
}

fn because(req: &str, service: &str, feature: Option<&str>, line: u32) -> Because {
    let (product, requirement) = req.split_once('/').unwrap();
    Because {
        product: product.into(),
        requirement: requirement.into(),
        service: service.into(),
        feature: feature.map(str::to_string),
        source: format!("seeds/{product}.md:{line}"),
    }
}

struct F {
    flow: Flow,
}

impl F {
    fn new(src: Side, dst: Side, protocol: Protocol, ports: &str) -> F {
        F {
            flow: Flow {
                src,
                dst,
                protocol,
                ports: if ports.is_empty() {
                    PortSet::new()
                } else {
                    ports.parse().unwrap()
                },
                icmp_type: None,
                scope: Scope::Network,
                required: true,
                interface: None,
                because: Vec::new(),
                notes: Vec::new(),
            },
        }
    }
    fn why(mut self, req: &str, service: &str, line: u32) -> F {
        self.flow
            .because
            .push(because(req, service, None, line).into());
        self
    }
    fn feature(mut self, req: &str, service: &str, feature: &str, line: u32) -> F {
        self.flow
            .because
            .push(because(req, service, Some(feature), line).into());
        self
    }
    fn icmp(mut self, t: &str) -> F {
        self.flow.icmp_type = Some(t.into());
        self
    }
    fn scope(mut self, s: Scope) -> F {
        self.flow.scope = s;
        self
    }
    fn optional(mut self) -> F {
        self.flow.required = false;
        self
    }
    fn note(mut self, n: &str) -> F {
        self.flow.notes.push(n.into());
        self
    }
    fn interface(mut self, i: &str) -> F {
        self.flow.interface = Some(i.into());
        self
    }
}

fn pan() -> Side {
    side(&["cisco-ise/pan"], &["10.0.0.5", "10.0.0.6", "2001:db8::5"])
}
fn psn() -> Side {
    side(&["cisco-ise/psn"], &["10.0.1.0/28"])
}

/// A campus NAC deployment: admin and RADIUS traffic, an Internet guest
/// portal, cloud endpoints by name, a device scan broadcast, IPv6 admins.
pub fn campus() -> FlowSet {
    use Protocol::*;
    let admins = side(&["admins"], &["10.50.0.0/24", "2001:db8:50::/64"]);
    let nad = side(&["cisco-ise/nad"], &["10.10.0.0/16"]);
    let flows = vec![
        F::new(admins.clone(), pan(), Tcp, "22,443,8000-8999")
            .why("cisco-ise/pan-admin-https", "Admin portal (HTTPS)", 12)
            .why("cisco-ise/pan-ssh", "CLI over SSH", 13)
            .interface("GigabitEthernet 0")
            .note("TCP keep-alive is 60 minutes: raise the firewall's idle timeout"),
        F::new(nad.clone(), psn(), Udp, "1645-1646,1812-1813").why(
            "cisco-ise/psn-radius",
            "RADIUS authentication and accounting",
            40,
        ),
        F::new(psn(), nad, Udp, "1700,3799")
            .feature(
                "cisco-ise/psn-coa",
                "RADIUS change of authorization",
                "coa",
                41,
            )
            .optional(),
        F::new(psn(), pan(), Tcp, "443,12001").why(
            "cisco-ise/psn-replication",
            "Node replication",
            20,
        ),
        F::new(
            pan(),
            side(&["cisco-ise/smart-licensing"], &["tools.cisco.com"]),
            Tcp,
            "443",
        )
        .why("cisco-ise/pan-smart-licensing", "Smart licensing", 60),
        F::new(pan(), side(&["walkme/cdn"], &["*.walkme.com"]), Tcp, "443")
            .feature(
                "cisco-ise/pan-walkme",
                "In-product guidance",
                "guidance",
                61,
            )
            .optional(),
        F::new(side(&["monitoring"], &["10.0.2.10"]), pan(), Icmp, "")
            .icmp("echo-request")
            .why("cisco-ise/ping", "Reachability check", 70),
        F::new(side(&["internet"], &["any"]), psn(), Tcp, "8443").feature(
            "cisco-ise/guest-portal",
            "Guest portal",
            "guest-portal",
            80,
        ),
        F::new(
            side(&["igel-ums/server"], &["10.0.3.5"]),
            side(&["igel-ums/devices"], &["10.20.0.0/16", "10.21.0.0/16"]),
            Udp,
            "30005",
        )
        .scope(Scope::Broadcast)
        .why(
            "igel-ums/ums-server-scan-broadcast",
            "Device scan (broadcast)",
            27,
        ),
        F::new(side(&["cisco-ise/nad"], &["10.10.0.0/16"]), psn(), Esp, "").feature(
            "cisco-ise/psn-ipsec-esp",
            "IPsec data (ESP)",
            "ipsec",
            118,
        ),
        F::new(
            side(&["vpn-peer"], &["10.0.9.1", "2001:db8:9::1"]),
            pan(),
            Esp,
            "",
        )
        .why(
            "cisco-ise/pan-ipsec-mgmt",
            "Management over IPsec (ESP)",
            119,
        ),
        F::new(pan(), pan(), Tcp, "65220")
            .scope(Scope::Loopback)
            .why("cisco-ise/pan-local-status", "Local status listener", 90),
        F::new(pan(), side(&["dns"], &["1.1.1.1"]), Udp, "53").why(
            "cisco-ise/dns",
            "DNS resolution",
            95,
        ),
        F::new(
            side(&["v6-clients"], &["2001:db8:10::/48"]),
            pan(),
            Tcp,
            "443",
        )
        .why("cisco-ise/pan-admin-https", "Admin portal (HTTPS)", 12),
    ];
    FlowSet {
        deployment: "campus".into(),
        flows: flows.into_iter().map(|f| f.flow).collect(),
        diagnostics: Vec::new(),
    }
}

/// A privileged-access deployment: gateways reached by clients, relays,
/// targets on several ports, loopback listeners, all-type ICMP, and notes
/// written to break out of comments in every syntax.
pub fn access() -> FlowSet {
    use Protocol::*;
    let gw = side(&["gw-1", "gw-2"], &["192.168.1.10", "192.168.1.11"]);
    let relay = side(&["relay-1"], &["192.168.2.20"]);
    let clients = side(&["strongdm/client"], &["172.16.0.0/12"]);
    let targets = side(&["db-1", "win-1"], &["192.168.5.0/24"]);
    let flows = vec![
        F::new(clients.clone(), gw.clone(), Tcp, "5000").why(
            "strongdm/client-gateway",
            "Client to gateway",
            30,
        ),
        F::new(relay.clone(), gw.clone(), Tcp, "5000").why(
            "strongdm/relay-gateway",
            "Relay to gateway",
            31,
        ),
        F::new(gw.clone(), targets, Tcp, "22,1433,3389,5432")
            .why("strongdm/gateway-targets", "Resource access", 40)
            .note("quote \" backslash \\ and a line\nbreak; `$(rm -rf /)` ${var} %{x} */ -->"),
        F::new(
            gw.clone(),
            side(&["strongdm/control-plane"], &["app.strongdm.com"]),
            Tcp,
            "443",
        )
        .why("strongdm/gateway-control", "Control plane", 50),
        F::new(
            relay.clone(),
            side(&["strongdm/control-plane"], &["app.strongdm.com"]),
            Tcp,
            "443",
        )
        .why("strongdm/relay-control", "Control plane", 51),
        F::new(gw.clone(), gw.clone(), Tcp, "65220,65230")
            .scope(Scope::Loopback)
            .why("strongdm/client-status-loopback", "Local status", 143),
        F::new(relay.clone(), gw.clone(), Icmp, "")
            .why("strongdm/health-icmp", "Health probe", 60)
            .optional(),
        F::new(gw, side(&["ntp"], &["192.168.0.123"]), Udp, "123").why(
            "strongdm/ntp",
            "Time sync",
            70,
        ),
    ];
    FlowSet {
        deployment: "access \"lab\"".into(),
        flows: flows.into_iter().map(|f| f.flow).collect(),
        diagnostics: Vec::new(),
    }
}

/// The host each fixture's host firewalls are written for.
pub fn host_of(fixture: &str) -> HostView {
    match fixture {
        "campus" => HostView {
            name: "pan-1".into(),
            addrs: vec!["10.0.0.5".parse().unwrap(), "2001:db8::5".parse().unwrap()],
        },
        _ => HostView {
            name: "gw-1".into(),
            addrs: vec!["192.168.1.10".parse().unwrap()],
        },
    }
}

pub fn fixtures() -> Vec<(&'static str, FlowSet)> {
    vec![("campus", campus()), ("access", access())]
}

pub fn opts(fixture: &str) -> RenderOptions {
    RenderOptions {
        for_host: Some(host_of(fixture)),
        ..Default::default()
    }
}

/// The fixtures and every planned example, each with the host its host
/// firewalls are written for (an example's busiest named host).
pub fn all() -> Vec<(String, FlowSet, RenderOptions)> {
    let mut v: Vec<(String, FlowSet, RenderOptions)> = fixtures()
        .into_iter()
        .map(|(n, s)| (n.to_string(), s, opts(n)))
        .collect();
    for p in planned() {
        let opts = RenderOptions {
            for_host: p.busiest(),
            directory: p.directory.clone(),
            ..Default::default()
        };
        v.push((p.stem, p.set, opts));
    }
    v
}

pub struct Planned {
    pub stem: String,
    pub set: FlowSet,
    pub hosts: Vec<HostView>,
    /// Every named host and network (what `plan` passes as `directory`).
    pub directory: Vec<HostView>,
}

impl Planned {
    /// The host with the most flows: its firewall shows the most of a format.
    pub fn busiest(&self) -> Option<HostView> {
        let count = |h: &HostView| {
            self.set
                .flows
                .iter()
                .filter(|f| touches(&f.src, h) || touches(&f.dst, h))
                .count()
        };
        self.hosts
            .iter()
            .max_by(|a, b| count(a).cmp(&count(b)).then(b.name.cmp(&a.name)))
            .cloned()
    }
}

pub fn touches(side: &Side, h: &HostView) -> bool {
    side.labels.contains(&h.name)
        || side.addrs.iter().any(|a| {
            h.addrs.iter().any(|b| match (a, b) {
                (Addr::Net(s), Addr::Net(b)) => s.contains(b),
                _ => false,
            })
        })
}

/// Every example deployment, planned by the real planner.
pub fn planned() -> Vec<Planned> {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"));
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no examples in {}", dir.display());
    let cat = portplan_model::Catalog::load(None).unwrap();
    paths
        .into_iter()
        .map(|path| {
            let dep = portplan_plan::load_deployment(&path).unwrap();
            let set = portplan_plan::plan(&cat, &dep)
                .unwrap_or_else(|d| panic!("{} does not plan: {d:?}", path.display()));
            let hosts = dep
                .value
                .hosts
                .keys()
                .filter_map(|h| portplan_plan::host_view(&dep.value, h))
                .map(|(name, addrs)| HostView { name, addrs })
                .collect();
            let directory = portplan_plan::directory(&dep.value)
                .into_iter()
                .map(|(name, addrs)| HostView { name, addrs })
                .collect();
            Planned {
                directory,
                stem: path.file_stem().unwrap().to_string_lossy().into_owned(),
                set,
                hosts,
            }
        })
        .collect()
}

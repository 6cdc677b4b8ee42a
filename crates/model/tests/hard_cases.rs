//! The hard cases of DESIGN.md, each held by the built-in catalog as the
//! page means it (not only "some port is there": the shape is right).

use portplan_model::{Catalog, PortRange, PortSpec, Product, Protocol, Requirement, Scope};

fn cat() -> Catalog {
    Catalog::load(None).map_err(|e| format!("{e:?}")).unwrap()
}

fn req<'a>(p: &'a Product, id: &str) -> &'a Requirement {
    p.requirements
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{}: no requirement {id}", p.product))
}

fn fixed(r: &Requirement) -> Vec<PortRange> {
    r.ports
        .iter()
        .filter_map(|p| match p {
            PortSpec::Fixed(x) => Some(*x),
            PortSpec::Param(_) => None,
        })
        .collect()
}

#[test]
fn alternatives_lists_and_both_protocols() {
    let c = cat();
    let pi = c.get("privileged-identity").unwrap();
    let smtp = req(pi, "pi-smtp");
    assert!(smtp.alternatives);
    assert!(smtp.feature.is_some(), "SMTP is only for notifications");
    let ports: Vec<u16> = fixed(smtp).iter().map(|r| r.low).collect();
    assert_eq!(ports, vec![25, 465, 587]);
    // "135 & Ephemeral ports TCP/UDP": both protocols, a fixed port and a range parameter
    let rpc = pi
        .requirements
        .iter()
        .find(|r| r.params().any(|p| p == "rpc_dynamic_ports"))
        .unwrap();
    assert_eq!(rpc.protocols(), vec![Protocol::Tcp, Protocol::Udp]);
    assert!(fixed(rpc).contains(&PortRange::single(135)));
    let eph = pi.parameter("rpc_dynamic_ports").unwrap();
    assert_eq!(eph.kind, portplan_model::ParameterKind::Range);
    // a parameter with no default: planning must ask for it
    assert!(pi.parameter("bmc_ar_port").unwrap().default.is_none());
    // per-target overrides ("an SSH target listening on port 5555")
    assert!(pi
        .requirements
        .iter()
        .any(|r| r.per_target && fixed(r).contains(&PortRange::single(22))));
    // "outbound and inbound" on one row: two requirements, different peers
    let rdp: Vec<&Requirement> = pi
        .requirements
        .iter()
        .filter(|r| fixed(r).contains(&PortRange::single(3389)))
        .collect();
    assert_eq!(rdp.len(), 2);
    assert_ne!(rdp[0].to_roles(), rdp[1].to_roles());
}

#[test]
fn page_defects_are_corrected_with_what_the_page_said() {
    let c = cat();
    let x = c.get("xclarity-orchestrator").unwrap();
    let ldap = req(x, "lxco-ldap");
    let prm = ldap.params().next().and_then(|p| x.parameter(p)).unwrap();
    assert_eq!(
        prm.default,
        Some(PortRange::single(389)),
        "3891 is 389 with footnote 1"
    );
    assert!(ldap.page_said.as_ref().unwrap().text.contains("3891"));
    let smtp = req(x, "lxco-smtp");
    assert_eq!(
        smtp.protocols(),
        vec![Protocol::Tcp],
        "SMTP is TCP, whatever the page says"
    );
    assert!(smtp.page_said.as_ref().unwrap().text.contains("UDP"));
    assert!(req(x, "lxco-rest")
        .page_said
        .as_ref()
        .unwrap()
        .text
        .contains("UPD"));
    let ise = c.get("cisco-ise").unwrap();
    assert!(
        ise.errata
            .iter()
            .any(|e| e.text.contains("CoA") && !e.see.is_empty()),
        "CoA with no port is kept as an erratum pointing at the CoA requirements"
    );
}

#[test]
fn scopes_interfaces_endpoints_and_notes() {
    let c = cat();
    let sdm = c.get("strongdm").unwrap();
    assert_eq!(req(sdm, "client-status-loopback").scope, Scope::Loopback);
    assert_eq!(
        sdm.parameter("gateway_port").unwrap().default,
        Some(PortRange::single(5000))
    );
    assert_eq!(
        sdm.role("cloudflare-dns").unwrap().endpoints,
        vec!["1.1.1.1"]
    );
    let ise = c.get("cisco-ise").unwrap();
    assert!(ise
        .roles
        .iter()
        .any(|r| r.endpoints.iter().any(|e| e == "*.walkme.com")));
    assert!(ise.requirements.iter().any(|r| r.interface.is_some()));
    assert!(ise
        .requirements
        .iter()
        .any(|r| r.scope == Scope::Loopback && fixed(r).contains(&PortRange::single(323))));
    assert!(ise.notes.iter().any(|n| n.text.contains("60 minutes")));
    let sponsor = ise.parameter("sponsor_portal_port").unwrap();
    assert_eq!(sponsor.default, Some(PortRange::single(8445)));
    assert_eq!(sponsor.allowed, PortRange::new(8000, 8999).ok());
    for id in ["pan", "mnt", "psn", "pxgrid"] {
        assert!(ise.role(id).is_some(), "ISE role {id}");
    }
    let nmap = ise
        .requirements
        .iter()
        .find(|r| r.source.end_line.is_some() && r.ports.len() > 800)
        .expect("the NMAP OS-scan list is one requirement over its table");
    assert!(fixed(nmap).contains(&PortRange::new(1040, 1100).unwrap()));
}

#[test]
fn choices_conditions_and_broadcasts() {
    let c = cat();
    let igel = c.get("igel-ums").unwrap();
    let db = igel.choice("database").unwrap();
    assert!(db.options.len() >= 4);
    assert!(igel
        .requirements
        .iter()
        .any(|r| r
            .when
            .as_ref()
            .is_some_and(|w| w.choice.get("database").map(String::as_str) == Some("oracle"))
            && fixed(r).contains(&PortRange::single(1521))));
    let moved = igel
        .requirements
        .iter()
        .find(|r| fixed(r).contains(&PortRange::single(30002)))
        .unwrap();
    assert!(moved.when.as_ref().is_some_and(|w| !w.colocated.is_empty()));
    let wol = igel
        .requirements
        .iter()
        .find(|r| fixed(r).contains(&PortRange::single(9)) && r.protocols() == vec![Protocol::Udp])
        .unwrap();
    assert_eq!(wol.scope, Scope::Broadcast);
}

//! Every anomaly class, each on a small page written for it: the anomaly is
//! reported with its line, and the draft does not copy the bad value.

mod common;
use portplan_import::{import, AnomalyKind, Options, PortItem};
use portplan_model::{PortRange, PortSpec, Protocol};

fn kinds(page: &str) -> Vec<(u32, AnomalyKind)> {
    import(page, &Options::default())
        .anomalies
        .iter()
        .map(|a| (a.line, a.kind))
        .collect()
}

fn fixed_ports(page: &str) -> Vec<(Protocol, u16)> {
    let imp = import(page, &Options::default());
    imp.findings
        .iter()
        .flat_map(|f| {
            f.protocols.iter().flat_map(move |p| {
                f.ports.iter().filter_map(move |x| match x {
                    PortItem::Fixed(r) => Some((*p, r.low)),
                    PortItem::Param { .. } => None,
                })
            })
        })
        .collect()
}

#[test]
fn number_outside_the_port_range() {
    let page = "Admin console\n- Web: TCP/443\n- Agent: TCP/70000\n";
    assert_eq!(kinds(page), vec![(3, AnomalyKind::OutOfRange)]);
    let imp = import(page, &Options::default());
    // Not copied: no requirement holds 70000, and the erratum names it.
    assert!(imp
        .draft
        .requirements
        .iter()
        .all(|r| r.ports.iter().all(|p| match p {
            PortSpec::Fixed(x) => x.high < 65535,
            PortSpec::Param(_) => true,
        })));
    assert!(imp
        .draft
        .errata
        .iter()
        .any(|e| e.source.line == 3 && e.note.contains("70000")));
}

#[test]
fn footnote_marker_glued_to_a_port() {
    // Footnote 2 is defined; `6362` is LDAPS 636 + marker, `44322` is 443 + two markers.
    let page = "Ports\n- Directory (LDAPS) – TCP on port 6362\n- Portal – TCP on port 44322\n- Backup – TCP on port 10000\n\n  2. Configurable in the settings.\n";
    let k = kinds(page);
    assert!(k.contains(&(2, AnomalyKind::GluedFootnote)), "{k:?}");
    assert!(k.contains(&(3, AnomalyKind::GluedFootnote)), "{k:?}");
    assert!(!k.iter().any(|(l, _)| *l == 4), "10000 is not glued: {k:?}");
    let ports = fixed_ports(page);
    assert!(ports.contains(&(Protocol::Tcp, 636)));
    assert!(ports.contains(&(Protocol::Tcp, 443)));
    assert!(ports.contains(&(Protocol::Tcp, 10000)));
    let imp = import(page, &Options::default());
    let r = imp
        .draft
        .requirements
        .iter()
        .find(|r| r.source.line == 2)
        .unwrap();
    assert!(r.page_said.as_ref().unwrap().text.contains("6362"));
    assert!(r.notes.iter().any(|n| n.starts_with("REVIEW:")));
}

#[test]
fn no_footnotes_no_ungluing() {
    // The same number with no footnote defined on the page stays as printed.
    let page = "Ports\n- Directory (LDAPS) – TCP on port 6362\n";
    assert!(kinds(page).is_empty());
    assert_eq!(fixed_ports(page), vec![(Protocol::Tcp, 6362)]);
}

#[test]
fn protocol_typos() {
    let page = "Ports\n- Metrics – UPD on port 8125\n- Console – TPC/9443\n- Remote Desktop (RDP) is used for support.\n";
    let k = kinds(page);
    assert_eq!(
        k,
        vec![
            (2, AnomalyKind::ProtocolTypo),
            (3, AnomalyKind::ProtocolTypo)
        ]
    );
    let ports = fixed_ports(page);
    assert!(ports.contains(&(Protocol::Udp, 8125)));
    assert!(ports.contains(&(Protocol::Tcp, 9443)));
}

#[test]
fn well_known_service_on_the_wrong_protocol() {
    let page = "Outbound\n- Mail relay (SMTP): UDP/25\n- Directory (LDAP): TCP/389, UDP/389\n- Syslog: TCP/514\n";
    let k = kinds(page);
    // SMTP over UDP is wrong; LDAP's UDP beside its TCP (CLDAP) and syslog over TCP are real.
    assert_eq!(k, vec![(2, AnomalyKind::WrongProtocol)]);
    let ports = fixed_ports(page);
    assert!(ports.contains(&(Protocol::Tcp, 25)));
    assert!(!ports.contains(&(Protocol::Udp, 25)));
}

#[test]
fn list_item_without_a_port() {
    let page = "Admin\tHTTPS: TCP/443 • SSH: TCP/22 • Callback • REST: TCP/9060\t—\n";
    let k = kinds(page);
    assert_eq!(k, vec![(1, AnomalyKind::NoPort)]);
    let imp = import(page, &Options::default());
    assert!(imp.draft.errata.iter().any(|e| e.text == "Callback"));
}

#[test]
fn line_that_looks_like_a_requirement_but_does_not_parse() {
    let page = "Notes\nThe dynamic port range is from 20000 to 30000 on every node.\n";
    assert_eq!(kinds(page), vec![(2, AnomalyKind::Unparsed)]);
    let imp = import(page, &Options::default());
    assert_eq!(imp.draft.errata.len(), 1);
    assert_eq!(imp.draft.errata[0].source.line, 2);
}

#[test]
fn clean_pages_have_no_anomalies() {
    let page =
        "| Port | Protocol | Use |\n|---|---|---|\n| 443 | TCP | Web |\n| 161 | UDP | SNMP |\n";
    assert!(kinds(page).is_empty());
    let ports = fixed_ports(page);
    assert_eq!(ports, vec![(Protocol::Tcp, 443), (Protocol::Udp, 161)]);
    let _ = PortRange::single(1);
}

#[test]
fn a_row_with_a_cell_left_out_is_read_back_and_reported() {
    // The second row leaves out its listener cell: the talker slid under
    // "Who listens" and the description under "Who talks".
    let page = "Port | Feature | Who listens | Who talks | Description\n\
                ---|---|---|---|---\n\
                8443 (TCP) | Console | Mgmt server | Admin workstation | The console connects to the server.\n\
                443 (TCP) | Cloud | Mgmt server | The server fetches updates from the vendor cloud. |\n";
    assert_eq!(kinds(page), vec![(4, AnomalyKind::ShiftedColumns)]);
    let imp = import(page, &Options::default());
    let r = |port: u16| common::on_port(&imp.draft, port);
    // The well-formed row: the workstation talks to the server.
    assert_eq!(r(8443).from_roles(), vec!["admin-workstation"]);
    assert_eq!(r(8443).to_roles(), vec!["mgmt-server"]);
    // The short row: the server talks (it fetches), to a party the page
    // does not give; the sentence is the description, not a role.
    let cloud = r(443);
    assert_eq!(cloud.from_roles(), vec!["mgmt-server"]);
    assert_eq!(cloud.to_roles(), vec!["peer"]);
    assert_eq!(
        cloud.description.as_deref(),
        Some("The server fetches updates from the vendor cloud.")
    );
    assert!(cloud
        .notes
        .iter()
        .any(|n| n.starts_with("REVIEW: the row leaves a cell out")));
}

#[test]
fn a_sentence_in_a_party_column_with_a_description_is_reported() {
    let page = "Port | Who listens | Who talks | Description\n\
                ---|---|---|---\n\
                443 (TCP) | Mgmt server | The agent on each managed host opens this. | Agent check-in\n";
    assert_eq!(kinds(page), vec![(3, AnomalyKind::ShiftedColumns)]);
}

#[test]
fn a_name_with_details_in_parentheses_is_not_a_shifted_cell() {
    let page = "Port | Who listens | Who talks | Description\n\
                ---|---|---|---\n\
                443 (TCP) | Download server (HTTP server at dl.example.com) | Mgmt server | Firmware downloads.\n";
    assert!(kinds(page).is_empty(), "{:?}", kinds(page));
}

#[test]
fn esp_is_read_and_other_ip_protocols_are_reported() {
    let page = "VPN gateway\n\n- IKE: UDP 500 and UDP 4500 (NAT traversal)\n\
                - ESP (IP protocol 50) between the peers\n- AH: IP protocol 51\n";
    assert_eq!(kinds(page), vec![(5, AnomalyKind::Unparsed)]);
    let imp = import(page, &Options::default());
    assert!(imp.anomalies[0].message.contains("IP protocol 51 (AH)"));
    let esp: Vec<_> = imp
        .draft
        .requirements
        .iter()
        .filter(|r| r.protocols() == vec![Protocol::Esp])
        .collect();
    assert_eq!(esp.len(), 1, "{:#?}", imp.draft.requirements);
    assert!(esp[0].ports.is_empty());
    assert_eq!(esp[0].source.line, 4);
}

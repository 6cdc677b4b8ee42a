//! `Key: value` blocks, one requirement spread over labelled lines: the
//! fields are read for what they say (direction, ends, purpose, protocol,
//! required), not left to guesses.

mod common;
use common::{draft, on_port};
use portplan_model::Protocol;

#[test]
fn direction_purpose_and_protocol_fields_are_read() {
    let p = draft(
        "Collector\n\nPort: 2055\nProtocol: UDP\nPurpose: NetFlow exports from routers\nDirection: Inbound\n\n\
         Ports: 443/TCP\nUsed for: license check (only if the appliance is online)\nDirection: outbound\n",
    );
    let netflow = on_port(&p, 2055);
    assert_eq!(netflow.protocols(), vec![Protocol::Udp]);
    assert_eq!(netflow.service, "NetFlow exports from routers");
    assert_eq!(netflow.to_roles(), vec!["collector"]);
    assert!(
        netflow
            .notes
            .iter()
            .all(|n| !n.contains("direction not stated")),
        "{:?}",
        netflow.notes
    );
    let license = on_port(&p, 443);
    assert_eq!(license.from_roles(), vec!["collector"]);
    assert!(!license.required, "only if ... is optional");
    assert!(license.feature.is_some());
}

#[test]
fn source_and_destination_fields_name_the_ends() {
    let p = draft(
        "Agent\n\nPort: 8443/TCP\nSource: Admin workstation\nDestination: Manager server\nRequired: yes\n\n\
         Port: 514/UDP\nDestination: Syslog collector\n",
    );
    let console = on_port(&p, 8443);
    assert_eq!(console.from_roles(), vec!["admin-workstation"]);
    assert_eq!(console.to_roles(), vec!["manager-server"]);
    assert!(console.required);
    // Only the far end named: the near end is the product of the section.
    let syslog = on_port(&p, 514);
    assert_eq!(syslog.from_roles(), vec!["agent"]);
    assert_eq!(syslog.to_roles(), vec!["syslog-collector"]);
}

#[test]
fn a_condition_on_one_port_of_several_does_not_make_all_optional() {
    let p = draft("Node\n\nPort: 8080-8081/TCP\nPurpose: REST API (8081 only when clustering is enabled)\nDirection: inbound\n");
    let api = on_port(&p, 8080);
    assert!(api.required, "8080 is always needed");
    assert!(api.feature.is_none());
    assert!(api
        .notes
        .iter()
        .any(|n| n.starts_with("REVIEW: the page makes only some of these ports conditional")));
}

#[test]
fn a_key_value_line_is_not_a_heading() {
    let p = draft("Collector\n\nPort: 2055/UDP\nPurpose: NetFlow exports\nDirection: inbound\n\nPort: 8080/TCP\nPurpose: REST API\nDirection: inbound\n");
    // Both blocks belong to the section `Collector`, not to a "Purpose" section.
    for port in [2055, 8080] {
        assert_eq!(on_port(&p, port).to_roles(), vec!["collector"], "{port}");
    }
    assert!(
        p.roles.iter().all(|r| !r.id.starts_with("purpose")),
        "{:?}",
        p.roles
    );
}

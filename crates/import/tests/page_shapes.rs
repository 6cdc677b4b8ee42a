//! Shapes of pages the importer met on pages it had not seen (issue 13):
//! who listens said by a heading (`ports open on X`), listeners written as
//! bind address and port, ranges given as a low and a high bound, and
//! tables copied from a browser with one cell per line. Each test reads
//! the draft as a reviewer would: roles, direction, ports, scope.

mod common;

use portplan_import::{import, Options};
use portplan_model::Scope;

/// (from, to, ports, scope) of every drafted requirement.
fn flows(page: &str) -> Vec<(String, String, String, Scope)> {
    common::drafted(page)
        .into_iter()
        .map(|d| (d.from, d.to, d.ports, d.scope))
        .collect()
}

fn has(fl: &[(String, String, String, Scope)], from: &str, to: &str, ports: &str) -> bool {
    fl.iter()
        .any(|(f, t, p, _)| f == from && t == to && p == ports)
}

#[test]
fn headings_that_say_where_ports_are_open_give_the_direction() {
    let page = "# Widget Server network ports\n\n## Inbound (ports open on the appliance)\n\n| Port | Protocol | Description |\n|---|---|---|\n| 443 | TCP | Web console |\n\n## Outbound (ports open on external systems)\n\n| Port | Protocol | Description |\n|---|---|---|\n| 53 | UDP | DNS lookups |\n| 389 | TCP | LDAP directory |\n";
    let fl = flows(page);
    assert!(has(&fl, "peer", "appliance", "443"), "{fl:?}");
    // The appliance's own lookups go out to the systems the heading names.
    assert!(has(&fl, "appliance", "external-systems", "53"), "{fl:?}");
    assert!(has(&fl, "appliance", "external-systems", "389"), "{fl:?}");
    // No role is named after a direction or a port.
    let imp = import(page, &Options::default());
    for r in &imp.draft.roles {
        assert!(
            !r.id.contains("inbound") && !r.id.contains("outbound") && !r.id.contains("open"),
            "role {}",
            r.id
        );
    }
}

#[test]
fn bind_address_listeners_say_their_scope() {
    let page = "Agent listeners\n\nThe agent opens these sockets:\nlocalhost:9879   status endpoint\n*:4244           peer synchronisation\n0.0.0.0:8080     web UI\n[::]:8443        web UI over TLS\n127.0.0.1:6060   debug profiler\n[::1]:6061       debug profiler (IPv6)\n";
    let fl = flows(page);
    let scope_of = |port: &str| {
        fl.iter()
            .find(|(_, _, p, _)| p == port)
            .map(|x| x.3)
            .unwrap_or_else(|| panic!("port {port} not found: {fl:?}"))
    };
    for p in ["9879", "6060", "6061"] {
        assert_eq!(scope_of(p), Scope::Loopback, "{p}: {fl:?}");
    }
    for p in ["4244", "8080", "8443"] {
        assert_eq!(scope_of(p), Scope::Network, "{p}: {fl:?}");
    }
    // A wildcard or loopback address is where a socket is bound, not a party.
    let imp = import(page, &Options::default());
    for r in &imp.draft.roles {
        assert!(
            !r.id.starts_with("0-0") && !r.id.starts_with("127"),
            "role {}",
            r.id
        );
    }
}

#[test]
fn low_and_high_bounds_are_one_range() {
    let table = "# Media relay ports\n\n| Component | Protocol | Min port | Max port |\n|---|---|---|---|\n| Media relay | UDP | 30000 | 39999 |\n| Signalling | TCP | 5060 | 5061 |\n";
    let fl = flows(table);
    assert!(fl.iter().any(|x| x.2 == "30000-39999"), "{fl:?}");
    assert!(fl.iter().any(|x| x.2 == "5060-5061"), "{fl:?}");
    assert!(
        !fl.iter().any(|x| x.2 == "30000" || x.2 == "39999"),
        "{fl:?}"
    );
    let prose = "Media server ports\n\nThe media server uses a UDP port range: min 30000, max 32767.\nRTP uses minimum port 16384 and maximum port 32767 (UDP).\nThe cache uses min 2 GB and max 8 GB of memory.\n";
    let fl = flows(prose);
    assert!(fl.iter().any(|x| x.2 == "30000-32767"), "{fl:?}");
    assert!(fl.iter().any(|x| x.2 == "16384-32767"), "{fl:?}");
    assert_eq!(fl.len(), 2, "memory sizes are not ports: {fl:?}");
}

#[test]
fn a_table_copied_one_cell_per_line_keeps_its_parties() {
    let page = "Ports used by Widget\nSource\nDestination\nPort\nProtocol\nPurpose\nAgent\nWidget Server\n8443\nTCP\nAgent check-in\nWidget Server\nDatabase\n5432\nTCP\nConfiguration store\nAdmin browser\nWidget Server\n443\nTCP\nWeb console\n";
    let fl = flows(page);
    assert!(has(&fl, "agent", "widget-server", "8443"), "{fl:?}");
    assert!(has(&fl, "widget-server", "database", "5432"), "{fl:?}");
    assert!(has(&fl, "admin-browser", "widget-server", "443"), "{fl:?}");
    assert_eq!(fl.len(), 3, "{fl:?}");
}

#[test]
fn ports_in_backticks_and_settings_named_for_a_port_are_ports() {
    let page = "# Agent ports\n\n| Name | Default port | Protocol |\n|---|---|---|\n| HTTP API | `8500` | TCP |\n| DNS | `8600` | TCP and UDP |\n\nThe web server reads `http_port = 3000` and `grpc-port: 9095` from its settings.\nIt sends a report = 5 times a day.\n";
    let fl = flows(page);
    for p in ["8500", "8600", "3000", "9095"] {
        assert!(
            fl.iter().any(|x| x.2.split(',').any(|q| q == p)),
            "{p} missing: {fl:?}"
        );
    }
    assert!(
        !fl.iter().any(|x| x.2 == "5"),
        "`report = 5` is no port: {fl:?}"
    );
    assert!(!fl.iter().any(|x| x.2.starts_with("param:")), "{fl:?}");
}

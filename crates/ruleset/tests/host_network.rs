//! A host firewall written for a NETWORK is one ruleset every machine of
//! the network applies. A flow of one named host inside it (an exporter on
//! one server of the server network) must be opened for that host's address
//! only, inbound and (with `--egress`) outbound; a flow of the whole
//! network stays open for the whole network. Read back and asked packet by
//! packet, for every host format.

mod common;

use common::*;
use portplan_model::{Addr, FlowSet, Side};
use portplan_render::{HostView, RenderOptions};
use portplan_ruleset::{Members, Verdict};

fn side(name: &str, addr: &str) -> Side {
    Side {
        labels: vec![name.into()],
        addrs: vec![addr.parse::<Addr>().unwrap()],
    }
}

/// servers 10.30.0.0/24 holds db-1 10.30.0.15: the monitor scrapes every
/// server on 9100 and db-1 alone on 9104; db-1 alone sends to the relay.
fn plan() -> (FlowSet, HostView) {
    let monitor = side("monitor", "10.70.0.11");
    let servers = side("servers", "10.30.0.0/24");
    let db = side("db-1", "10.30.0.15");
    let relay = side("relay", "10.0.5.25");
    let set = FlowSet {
        deployment: "t".into(),
        flows: vec![
            common::tcp_flow(monitor.clone(), servers.clone(), 9100, "node"),
            common::tcp_flow(monitor, db.clone(), 9104, "exporter"),
            common::tcp_flow(db, relay, 25, "mail"),
        ],
        diagnostics: vec![],
    };
    let view = HostView {
        name: "servers".into(),
        addrs: servers.addrs,
    };
    (set, view)
}

#[test]
fn an_inner_hosts_flow_is_opened_for_that_host_only() {
    let (set, view) = plan();
    let opts = RenderOptions {
        egress: true,
        ..RenderOptions::default()
    };
    let m = Members::default();
    let net = host_addrs(&view);
    for format in ["nftables", "iptables", "windows"] {
        let text = render_with(format, &set, Some(&view), &opts).text;
        let rs = read(format, &text);
        let ask = |q: &str| judged(&rs, &m, q, Some(&net)).verdict;
        let cases = [
            ("tcp 10.70.0.11 -> 10.30.0.15:9104", Verdict::Allowed),
            ("tcp 10.70.0.11 -> 10.30.0.16:9104", Verdict::Blocked),
            ("tcp 10.70.0.11 -> 10.30.0.16:9100", Verdict::Allowed),
            ("tcp 10.70.0.11 -> 10.30.0.15:9100", Verdict::Allowed),
            ("tcp 10.30.0.15 -> 10.0.5.25:25", Verdict::Allowed),
        ];
        for (q, want) in cases {
            assert_eq!(ask(q), want, "{format}: {q}\n{text}");
        }
        // Outbound is open by design on Windows (its header says so), so
        // its outbound rule is asked by what it says: db-1's address only.
        if format == "windows" {
            let out: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("-Direction Outbound"))
                .collect();
            assert_eq!(out.len(), 1, "{text}");
            assert!(out[0].contains("-LocalAddress '10.30.0.15/32'"), "{text}");
        } else {
            // With --egress, only db-1 may send mail.
            assert_eq!(
                ask("tcp 10.30.0.16 -> 10.0.5.25:25"),
                Verdict::Blocked,
                "{format}\n{text}"
            );
        }
    }
}

//! `portplan verify` / `respond` / `probe` / `listeners` in a real test bed:
//! two network namespaces joined by a veth pair, nftables rules in the
//! destination namespace, the built binary run in each with `ip netns exec`.
//! Every state is produced by the kernel, not mocked. Needs root, `ip` and
//! `nft`: skipped with a reason otherwise, except under CI (env `CI`), where
//! a skip is a failure.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::Spawned;

const BIN: &str = env!("CARGO_BIN_EXE_portplan");
const SECRET: &str = "bed-secret-Xq7Kp2Vm9Lw4Rt8";
const AGENT: &str = "10.213.0.1";
const SERVER: &str = "10.213.0.2";

fn fixture(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify")
        .join(p)
        .display()
        .to_string()
}

/// Whether the bed can be built; under CI it must be.
fn bed_possible(test: &str) -> bool {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let reason = if uid.as_deref() != Some("0") {
        Some("not root (network namespaces need root)".to_string())
    } else if Command::new("ip").arg("-V").output().is_err() {
        Some("`ip` (iproute2) is not installed".to_string())
    } else if Command::new("nft").arg("--version").output().is_err() {
        Some("`nft` (nftables) is not installed".to_string())
    } else {
        None
    };
    match reason {
        None => true,
        Some(r) if std::env::var_os("CI").is_some() => {
            panic!("{test}: CI must run the namespace tests, but {r}")
        }
        Some(r) => {
            eprintln!("skipping {test}: {r}");
            false
        }
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn must(cmd: &mut Command) {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Two namespaces, `a` (agent, 10.213.0.1) and `b` (server, 10.213.0.2),
/// joined by veth; both removed on drop, even when the test fails.
struct Bed {
    a: String,
    b: String,
}

impl Bed {
    fn new(tag: &str) -> Bed {
        let id = std::process::id() % 100_000;
        let bed = Bed {
            a: format!("pptest-{id}-{tag}-a"),
            b: format!("pptest-{id}-{tag}-b"),
        };
        let (va, vb) = (format!("pp{id}{tag}a"), format!("pp{id}{tag}b"));
        must(Command::new("ip").args(["netns", "add", &bed.a]));
        must(Command::new("ip").args(["netns", "add", &bed.b]));
        must(Command::new("ip").args(["link", "add", &va, "type", "veth", "peer", "name", &vb]));
        must(Command::new("ip").args(["link", "set", &va, "netns", &bed.a]));
        must(Command::new("ip").args(["link", "set", &vb, "netns", &bed.b]));
        for (ns, dev, addr) in [(&bed.a, &va, AGENT), (&bed.b, &vb, SERVER)] {
            must(Command::new("ip").args([
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/30"),
                "dev",
                dev,
            ]));
            must(Command::new("ip").args(["-n", ns, "link", "set", dev, "up"]));
            must(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]));
        }
        bed
    }

    /// The portplan binary in namespace `ns`, with the bed's catalog and secret.
    fn portplan(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, BIN, "--catalog", &fixture("catalog")])
            .args(args)
            .env("PORTPLAN_SECRET", SECRET)
            .env("NO_COLOR", "1");
        c
    }

    /// Drops, resets and admin-prohibited rejects on the server side.
    fn firewall_server(&self) {
        let rules = "table ip pptest {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 7002 reject with tcp reset\n  udp dport 7002 reject with icmp type port-unreachable\n  tcp dport 7003 drop\n  udp dport 7003 drop\n  tcp dport 7004 reject with icmp type admin-prohibited\n  udp dport 7004 reject with icmp type admin-prohibited\n }\n}\n";
        let mut c = Command::new("ip")
            .args(["netns", "exec", &self.b, "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin.take().unwrap().write_all(rules.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success(), "nft rules did not load");
    }

    /// A real (non-portplan) service in namespace `ns`: this test binary's
    /// `helper_process` serving TCP and UDP on `port`.
    fn real_service(&self, ns: &str, port: u16) -> Spawned {
        self.helper(ns, "PORTPLAN_TEST_SERVE", &port.to_string())
    }

    /// This test binary's `helper_process` in namespace `ns`, told what to
    /// be by the environment variable `role`.
    fn helper(&self, ns: &str, role: &str, value: &str) -> Spawned {
        let exe = std::env::current_exe().unwrap();
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns])
            .arg(exe)
            .args([
                "helper_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(role, value);
        Spawned::start(c, "ready")
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// `verify` JSON results as "proto/port host" -> (state, evidence).
fn states(o: &Output) -> BTreeMap<String, (String, String)> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{} {}",
                    r["protocol"].as_str().unwrap(),
                    r["port"],
                    r["host"].as_str().unwrap()
                ),
                (
                    r["state"].as_str().unwrap().to_string(),
                    r["evidence"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn assert_state(m: &BTreeMap<String, (String, String)>, key: &str, state: &str, evidence: &str) {
    let (s, e) = m
        .get(key)
        .unwrap_or_else(|| panic!("no result for {key}: {m:#?}"));
    assert_eq!(s, state, "{key}: {e}");
    assert!(
        e.contains(evidence),
        "{key}: evidence `{e}` lacks `{evidence}`"
    );
}

#[test]
fn before_install_the_responder_proves_each_state() {
    if !bed_possible("before_install_the_responder_proves_each_state") {
        return;
    }
    let bed = Bed::new("bi");
    bed.firewall_server();
    let dep = fixture("bed.yaml");
    let resp = Spawned::start(
        bed.portplan(
            &bed.b,
            &["respond", &dep, "--as", "server-host", "--ttl", "20s"],
        ),
        "listening on",
    );
    assert!(
        resp.text()
            .contains("listening on 10 ports (tcp/7001-7004,7020 udp/53,7001-7004)"),
        "{}",
        resp.text()
    );
    // No --from: the agent's address is the only local one in namespace a.
    let o = run(&mut bed.portplan(
        &bed.a,
        &["verify", &dep, "--timeout", "1s", "--format", "json"],
    ));
    assert_eq!(
        o.status.code(),
        Some(1),
        "closed/filtered required flows fail the run"
    );
    let m = states(&o);
    // What `portplan report` needs to merge it with other hosts' results.
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "portplan-verify");
    assert_eq!(v["run"]["sources"], serde_json::json!(["agent-host"]));
    assert_eq!(v["run"]["deployment"]["name"], "netns-bed");
    assert_eq!(
        v["run"]["deployment"]["sha256"].as_str().map(str::len),
        Some(64)
    );
    assert!(v["run"]["finished_unix_ms"].as_u64() >= v["run"]["started_unix_ms"].as_u64());
    assert_state(&m, "tcp/7001 10.213.0.2", "verified", "token valid");
    assert_state(&m, "tcp/7020 10.213.0.2", "verified", "token valid");
    assert_state(&m, "tcp/7002 10.213.0.2", "closed", "TCP reset");
    assert_state(&m, "tcp/7003 10.213.0.2", "filtered", "no answer");
    assert_state(&m, "tcp/7004 10.213.0.2", "filtered", "EHOSTUNREACH");
    assert_state(&m, "udp/7001 10.213.0.2", "verified", "token valid");
    assert_state(&m, "udp/7002 10.213.0.2", "closed", "ICMP port-unreachable");
    assert_state(
        &m,
        "udp/7003 10.213.0.2",
        "open|filtered",
        "no answer and no ICMP error",
    );
    assert_state(&m, "udp/7004 10.213.0.2", "filtered", "EHOSTUNREACH");
    assert_state(
        &m,
        "tcp/443 registry.invalid",
        "unresolved",
        "registry.invalid",
    );
    assert_state(&m, "udp/53 10.213.0.2", "verified", "token valid");
    assert_eq!(m.len(), 11);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["summary"]["required_failed"], 7,
        "3 TCP, 3 UDP, 1 unresolved"
    );

    // JUnit for CI: the same failures.
    let o = run(&mut bed.portplan(
        &bed.a,
        &[
            "verify",
            &dep,
            "--from",
            "agent-host",
            "--timeout",
            "1s",
            "--format",
            "junit",
        ],
    ));
    let x = String::from_utf8_lossy(&o.stdout);
    assert!(x.starts_with("<?xml"), "{x}");
    assert_eq!(x.matches("<failure ").count(), 7, "{x}");
    assert!(x.contains("failures=\"7\""));

    // The responder logged who probed which port: that proves direction.
    let log = resp.text();
    assert!(log.contains("probe from 10.213.0.1:"), "{log}");
    assert!(log.contains("to tcp/7001: answered with a token"), "{log}");
    assert!(log.contains("to udp/7001: answered with a token"), "{log}");
}

#[test]
fn after_install_a_real_listener_is_open_and_unused_ports_closed() {
    if !bed_possible("after_install_a_real_listener_is_open_and_unused_ports_closed") {
        return;
    }
    let bed = Bed::new("ai");
    let _svc = bed.real_service(&bed.b, 7001);
    let dep = fixture("bed.yaml");
    let o = run(&mut bed.portplan(
        &bed.a,
        &[
            "verify",
            &dep,
            "--installed",
            "--from",
            "agent-host",
            "--timeout",
            "1s",
            "--format",
            "json",
        ],
    ));
    let m = states(&o);
    assert_state(&m, "tcp/7001 10.213.0.2", "open", "handshake completed");
    assert_state(&m, "udp/7001 10.213.0.2", "open", "the service answered");
    // A DNS server answers only DNS: the protocol-aware probe proves the path.
    assert_state(&m, "udp/53 10.213.0.2", "open", "DNS answer (rcode 0)");
    for p in [7002, 7003, 7004] {
        assert_state(&m, &format!("tcp/{p} 10.213.0.2"), "closed", "TCP reset");
        assert_state(
            &m,
            &format!("udp/{p} 10.213.0.2"),
            "closed",
            "ICMP port-unreachable",
        );
    }
    assert_eq!(o.status.code(), Some(1));

    // `probe` is the same engine: the listening port passes, exit 0.
    let o = run(&mut bed.portplan(
        &bed.a,
        &[
            "probe",
            SERVER,
            "--ports",
            "tcp:7001",
            "udp:7001",
            "--timeout",
            "1s",
        ],
    ));
    let t = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("tcp/7001") && t.contains("udp/7001") && t.contains("2 paths: 2 open"),
        "{t}"
    );
}

#[test]
fn a_wrong_secret_is_an_impostor_and_garbage_does_not_stop_the_responder() {
    if !bed_possible("a_wrong_secret_is_an_impostor_and_garbage_does_not_stop_the_responder") {
        return;
    }
    let bed = Bed::new("ws");
    let _resp = Spawned::start(
        bed.portplan(
            &bed.b,
            &["respond", "--ports", "tcp:7001", "udp:7001", "--ttl", "20s"],
        ),
        "listening on",
    );
    // Garbage from the agent side: datagrams and connections of all shapes.
    let exe = std::env::current_exe().unwrap();
    let o = run(Command::new("ip")
        .args(["netns", "exec", &bed.a])
        .arg(&exe)
        .args([
            "helper_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PORTPLAN_TEST_GARBAGE", format!("{SERVER}:7001")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut wrong = bed.portplan(
        &bed.a,
        &[
            "probe", SERVER, "--ports", "tcp:7001", "udp:7001", "--format", "json", "--expect",
            "verified",
        ],
    );
    wrong.env("PORTPLAN_SECRET", "not-the-secret-Hq3Zr8Wx1Nv6");
    let o = run(&mut wrong);
    assert_eq!(o.status.code(), Some(1), "an impostor fails the run");
    let m = states(&o);
    assert_state(&m, "tcp/7001 10.213.0.2", "impostor", "does not check");
    assert_state(&m, "udp/7001 10.213.0.2", "impostor", "does not check");

    let o = run(&mut bed.portplan(
        &bed.a,
        &[
            "probe", SERVER, "--ports", "tcp:7001", "udp:7001", "--format", "json", "--expect",
            "verified",
        ],
    ));
    assert_eq!(o.status.code(), Some(0));
    let m = states(&o);
    assert_state(&m, "tcp/7001 10.213.0.2", "verified", "token valid");
    assert_state(&m, "udp/7001 10.213.0.2", "verified", "token valid");
    let log = _resp.text();
    assert!(log.contains("ignored from 10.213.0.1:"), "{log}");
    assert!(log.contains("not a portplan probe"), "{log}");
    assert!(log.contains("s from this host's"), "{log}");
}

#[test]
fn before_install_anything_but_a_valid_token_is_an_impostor() {
    if !bed_possible("before_install_anything_but_a_valid_token_is_an_impostor") {
        return;
    }
    let bed = Bed::new("im");
    // A plain service on 7001 (and DNS on 53), a forger on 7020: neither is
    // a responder, and neither may pass a pre-install proof.
    let _svc = bed.real_service(&bed.b, 7001);
    let _forger = bed.helper(&bed.b, "PORTPLAN_TEST_FORGE", "7020");
    let o = run(&mut bed.portplan(
        &bed.a,
        &[
            "verify",
            &fixture("bed.yaml"),
            "--from",
            "agent-host",
            "--timeout",
            "1s",
            "--format",
            "json",
        ],
    ));
    assert_eq!(o.status.code(), Some(1));
    let m = states(&o);
    assert_state(&m, "tcp/7001 10.213.0.2", "impostor", "no responder token");
    assert_state(&m, "udp/7001 10.213.0.2", "impostor", "no responder token");
    assert_state(&m, "udp/53 10.213.0.2", "impostor", "DNS answer");
    assert_state(&m, "tcp/7020 10.213.0.2", "impostor", "does not check");
    assert!(
        m.values().all(|(s, _)| s != "open" && s != "verified"),
        "nothing may pass: {m:#?}"
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["expect"], "responder");

    // Before install without the secret there is no proof to give.
    let o = run(bed
        .portplan(
            &bed.a,
            &["verify", &fixture("bed.yaml"), "--from", "agent-host"],
        )
        .env_remove("PORTPLAN_SECRET"));
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("--installed") && e.contains("PORTPLAN_SECRET"),
        "{e}"
    );
}

#[test]
fn a_relay_to_another_address_does_not_verify() {
    if !bed_possible("a_relay_to_another_address_does_not_verify") {
        return;
    }
    let bed = Bed::new("rl");
    // A second address in the server's namespace runs the real responder;
    // the planned address only relays to it (a misrouted DNAT, a forward).
    must(Command::new("ip").args(["-n", &bed.b, "addr", "add", "10.214.0.3/32", "dev", "lo"]));
    let _resp = Spawned::start(
        bed.portplan(
            &bed.b,
            &[
                "respond",
                "--bind",
                "10.214.0.3",
                "--ports",
                "tcp:7001",
                "udp:7001",
                "--ttl",
                "30s",
            ],
        ),
        "listening on",
    );
    let _relay = bed.helper(
        &bed.b,
        "PORTPLAN_TEST_RELAY",
        &format!("{SERVER}:7001->10.214.0.3:7001"),
    );
    let o = run(&mut bed.portplan(
        &bed.a,
        &[
            "verify",
            &fixture("bed.yaml"),
            "--from",
            "agent-host",
            "--timeout",
            "1s",
            "--format",
            "json",
        ],
    ));
    assert_eq!(o.status.code(), Some(1));
    let m = states(&o);
    assert_state(&m, "tcp/7001 10.213.0.2", "impostor", "no responder token");
    assert_state(&m, "udp/7001 10.213.0.2", "open|filtered", "no answer");
    let log = _resp.text();
    assert!(
        log.contains("a probe aimed at 10.213.0.2 arrived at 10.214.0.3 (a relay"),
        "{log}"
    );

    // A responder told which host it is answers only at that host's
    // addresses: a probe that reaches it at another is not answered.
    let _own = Spawned::start(
        bed.portplan(
            &bed.b,
            &[
                "respond",
                &fixture("bed.yaml"),
                "--as",
                "server-host",
                "--bind",
                "10.214.0.3",
                "--ttl",
                "30s",
            ],
        ),
        "listening on",
    );
    let o = run(&mut bed.portplan(
        &bed.b,
        &[
            "probe",
            "10.214.0.3",
            "--ports",
            "tcp:7020",
            "--timeout",
            "1s",
            "-f",
            "json",
        ],
    ));
    let m = states(&o);
    assert_state(&m, "tcp/7020 10.214.0.3", "open", "handshake completed");
    assert!(
        _own.text()
            .contains("10.214.0.3 is not an address of the host"),
        "{}",
        _own.text()
    );
}

#[test]
fn a_host_reached_through_nat_verifies_at_its_public_address() {
    if !bed_possible("a_host_reached_through_nat_verifies_at_its_public_address") {
        return;
    }
    let bed = Bed::new("nat");
    // The deployment knows the server by the address clients use,
    // 10.213.0.2; the responder listens only on 10.214.0.3, and the
    // namespace DNATs the public address to it (as a cloud's 1:1 NAT).
    must(Command::new("ip").args(["-n", &bed.b, "addr", "add", "10.214.0.3/32", "dev", "lo"]));
    let rules = "table ip ppnat {\n chain pre {\n  type nat hook prerouting priority -100;\n  ip daddr 10.213.0.2 tcp dport 7001 dnat to 10.214.0.3\n  ip daddr 10.213.0.2 udp dport 7001 dnat to 10.214.0.3\n }\n}\n";
    let mut c = Command::new("ip")
        .args(["netns", "exec", &bed.b, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        c.stdin.take().unwrap().write_all(rules.as_bytes()).unwrap();
    }
    assert!(c.wait().unwrap().success(), "nft rules did not load");
    let _resp = Spawned::start(
        bed.portplan(
            &bed.b,
            &[
                "respond",
                &fixture("bed.yaml"),
                "--as",
                "server-host",
                "--bind",
                "10.214.0.3",
                "--ttl",
                "30s",
            ],
        ),
        "listening on",
    );
    let o = run(&mut bed.portplan(
        &bed.a,
        &[
            "verify",
            &fixture("bed.yaml"),
            "--from",
            "agent-host",
            "--timeout",
            "1s",
            "--format",
            "json",
        ],
    ));
    let m = states(&o);
    assert_state(&m, "tcp/7001 10.213.0.2", "verified", "token valid");
    assert_state(&m, "udp/7001 10.213.0.2", "verified", "token valid");
}

#[test]
fn a_port_held_by_another_process_is_a_listener_conflict() {
    if !bed_possible("a_port_held_by_another_process_is_a_listener_conflict") {
        return;
    }
    let bed = Bed::new("lc");
    let _svc = bed.real_service(&bed.b, 7001);
    let dep = fixture("bed.yaml");
    let o = run(&mut bed.portplan(
        &bed.b,
        &[
            "listeners",
            "--deployment",
            &dep,
            "--as",
            "server-host",
            "--json",
        ],
    ));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdict = |proto: &str, port: u16| -> (String, String, String) {
        let c = v
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["protocol"] == proto && c["port"] == port)
            .unwrap_or_else(|| panic!("{proto}/{port} missing: {v:#}"));
        (
            c["verdict"].as_str().unwrap().into(),
            c["note"].as_str().unwrap().into(),
            c["scope"].as_str().unwrap().into(),
        )
    };
    let (tcp, note, _) = verdict("tcp", 7001);
    assert_eq!(tcp, "conflict");
    assert!(note.contains("pid"), "{note}");
    assert_eq!(verdict("udp", 7001).0, "conflict");
    assert_eq!(verdict("tcp", 7002).0, "free");
    let (lo, _, scope) = verdict("tcp", 7010);
    assert_eq!((lo.as_str(), scope.as_str()), ("free", "loopback"));

    // The same process named as the product's is expected, not a conflict.
    let o = run(&mut bed.portplan(
        &bed.b,
        &[
            "listeners",
            "--deployment",
            &dep,
            "--as",
            "server-host",
            "--expect",
            "helper_process",
        ],
    ));
    let t = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("expected"), "{t}");

    // The responder skips the held port, says by whom, and serves the rest.
    let mut resp = Spawned::start(
        bed.portplan(
            &bed.b,
            &["respond", &dep, "--as", "server-host", "--ttl", "1s"],
        ),
        "listening on",
    );
    assert_eq!(
        resp.wait(),
        Some(1),
        "a skipped port makes the responder exit 1"
    );
    let log = resp.text();
    assert!(log.contains("skipped tcp/7001: in use, held by"), "{log}");
    assert!(log.contains("skipped udp/53: in use, held by"), "{log}");
    assert!(log.contains("listening on 7 ports"), "{log}");
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    // No namespaces needed: these fail before any packet is sent.
    let cat = fixture("catalog");
    let o = run(Command::new(BIN).args([
        "--catalog",
        &cat,
        "verify",
        &fixture("malformed.yaml"),
        "--from",
        "agent-host",
    ]));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("malformed.yaml:6:"), "{e}");

    let o = run(Command::new(BIN).args([
        "--catalog",
        &cat,
        "verify",
        &fixture("bed.yaml"),
        "--from",
        "no-such-host",
    ]));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("no-such-host") && e.contains("agent-host, server-host"),
        "{e}"
    );

    let o = run(Command::new(BIN)
        .args([
            "--catalog",
            &cat,
            "respond",
            &fixture("bed.yaml"),
            "--as",
            "server-host",
        ])
        .env_remove("PORTPLAN_SECRET"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("PORTPLAN_SECRET"));

    let o = run(Command::new(BIN).args(["probe", "127.0.0.1", "--ports", "tcp:0-5"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1..=65535"));

    // A secret one reply could give away is refused, with how to make one.
    let o = run(Command::new(BIN)
        .args(["respond", "--ports", "tcp:7001", "--ttl", "1s"])
        .env("PORTPLAN_SECRET", "abcd"));
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("at least 24") && e.contains("openssl rand"),
        "{e}"
    );
    let o = run(Command::new(BIN).args([
        "respond",
        "--ports",
        "tcp:7001",
        "--ttl",
        "1s",
        "--secret-file",
        "/dev/zero",
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("more than 4096 bytes"));
}

/// Not a test of portplan: the stand-in "real service" and "garbage sender"
/// that the tests above run inside a namespace (`ip netns exec <this binary>
/// helper_process`). Run directly, it checks the service answers on loopback.
#[test]
fn helper_process() {
    if let Ok(port) = std::env::var("PORTPLAN_TEST_SERVE") {
        let dns = std::net::UdpSocket::bind("0.0.0.0:53").unwrap();
        std::thread::spawn(move || serve_dns(dns));
        serve(port.parse().unwrap(), "0.0.0.0", true);
        return;
    }
    if let Ok(target) = std::env::var("PORTPLAN_TEST_GARBAGE") {
        send_garbage(target.parse().unwrap());
        return;
    }
    if let Ok(port) = std::env::var("PORTPLAN_TEST_FORGE") {
        forge(port.parse().unwrap());
        return;
    }
    if let Ok(spec) = std::env::var("PORTPLAN_TEST_RELAY") {
        let (from, to) = spec.split_once("->").unwrap();
        relay(from.parse().unwrap(), to.parse().unwrap());
        return;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::thread::spawn(move || serve(port, "127.0.0.1", false));
    std::thread::sleep(Duration::from_millis(200));
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    u.send_to(b"hi", ("127.0.0.1", port)).unwrap();
    let mut b = [0u8; 64];
    let (n, _) = u.recv_from(&mut b).unwrap();
    assert_eq!(&b[..n], b"pong");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
}

/// A plain service: TCP greets and closes, UDP answers `pong`.
fn serve(port: u16, addr: &str, announce: bool) {
    let t = std::net::TcpListener::bind((addr, port)).unwrap();
    let u = std::net::UdpSocket::bind((addr, port)).unwrap();
    std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok((_, from)) = u.recv_from(&mut b) {
            let _ = u.send_to(b"pong", from);
        }
    });
    if announce {
        println!("ready");
    }
    for s in t.incoming().flatten() {
        use std::io::Write;
        let mut s = s;
        let _ = s.write_all(b"220 real service ready\r\n");
    }
}

/// A DNS stand-in: answers well-formed queries (QR bit set, same id,
/// NOERROR, no records) and ignores every other datagram, as a name server
/// ignores what it cannot parse.
fn serve_dns(u: std::net::UdpSocket) {
    let mut b = [0u8; 512];
    while let Ok((n, from)) = u.recv_from(&mut b) {
        let is_query = n >= 17 && b[2] & 0x80 == 0 && b[4..6] == [0, 1];
        if is_query {
            let mut r = b[..n].to_vec();
            r[2] |= 0x80;
            r[3] &= 0xf0;
            let _ = u.send_to(&r, from);
        }
    }
}

/// An impostor: answers every TCP connection and every datagram on `port`
/// with something shaped like a responder's reply (framing right, token
/// made up), as a server built to fake a pass would.
fn forge(port: u16) {
    use std::io::{Read, Write};
    let mut fake = b"PORTPLN2!".to_vec();
    fake.extend((0..32u8).map(|i| i.wrapping_mul(37)));
    let t = std::net::TcpListener::bind(("0.0.0.0", port)).unwrap();
    let u = std::net::UdpSocket::bind(("0.0.0.0", port)).unwrap();
    let f = fake.clone();
    std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok((_, from)) = u.recv_from(&mut b) {
            let _ = u.send_to(&f, from);
        }
    });
    println!("ready");
    for s in t.incoming().flatten() {
        let mut s = s;
        let mut b = [0u8; 64];
        let _ = s.read(&mut b);
        let _ = s.write_all(&fake);
    }
}

/// A relay, as a misrouted DNAT or a port forward would be: TCP
/// connections and UDP datagrams to `from` are carried to `to` and the
/// answers back.
fn relay(from: std::net::SocketAddr, to: std::net::SocketAddr) {
    let t = std::net::TcpListener::bind(from).unwrap();
    let u = std::net::UdpSocket::bind(from).unwrap();
    std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok((n, client)) = u.recv_from(&mut b) {
            let out = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
            out.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let _ = out.send_to(&b[..n], to);
            let mut r = [0u8; 2048];
            if let Ok((m, _)) = out.recv_from(&mut r) {
                let _ = u.send_to(&r[..m], client);
            }
        }
    });
    println!("ready");
    for s in t.incoming().flatten() {
        std::thread::spawn(move || {
            let Ok(back) = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(2)) else {
                return;
            };
            let (mut a, mut b) = (s.try_clone().unwrap(), back.try_clone().unwrap());
            let (mut c, mut d) = (s, back);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut a, &mut b);
                let _ = b.shutdown(std::net::Shutdown::Write);
            });
            let _ = std::io::copy(&mut d, &mut c);
        });
    }
}

/// Everything a portplan responder must survive.
fn send_garbage(to: std::net::SocketAddr) {
    use std::io::Write;
    let u = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let mut magic_wrong_kind = b"PORTPLN2!".to_vec();
    magic_wrong_kind.extend_from_slice(&[0u8; 16]);
    for d in [
        &b""[..],
        b"x",
        b"PORTPLN2",
        &magic_wrong_kind,
        &[0xffu8; 1500],
        b"GET / HTTP/1.0\r\n\r\n",
    ] {
        u.send_to(d, to).unwrap();
    }
    // A well-formed probe from a clock an hour off: not answered.
    let mut stale = b"PORTPLN2?".to_vec();
    stale.extend_from_slice(&[7u8; 16]);
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    stale.extend_from_slice(&hour_ago.to_be_bytes());
    stale.resize(64, 0);
    u.send_to(&stale, to).unwrap();
    for d in [
        &b""[..],
        b"PORTPLN2?short",
        &[0u8; 4096],
        b"SSH-2.0-x\r\n",
        &stale,
    ] {
        if let Ok(mut s) = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(2)) {
            let _ = s.write_all(d);
        }
    }
    std::thread::sleep(Duration::from_millis(200));
}

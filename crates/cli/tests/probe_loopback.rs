//! `portplan respond --ports` and `portplan probe` on 127.0.0.1, no root
//! needed: a responder's token verifies, a wrong secret is only `open`, an
//! unused port is `closed` (TCP reset, ICMP port-unreachable), and garbage
//! does not stop the responder. The namespace bed (verify_netns.rs) covers
//! filtering and the deployment commands.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portplan");
const LOOP_SECRET: &str = "loop-secret-9fK2xQ7mV4pL8tR";

/// A port free for both TCP and UDP right now.
fn free_port() -> u16 {
    loop {
        let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = t.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

fn probe(secret: &str, spec: &[String]) -> (Option<i32>, Vec<(String, String, String)>) {
    let o = Command::new(BIN)
        .args([
            "probe",
            "127.0.0.1",
            "--timeout",
            "1s",
            "-f",
            "json",
            "--expect",
            "open",
            "--ports",
        ])
        .args(spec)
        .env("PORTPLAN_SECRET", secret)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}/{}", r["protocol"].as_str().unwrap(), r["port"]),
                r["state"].as_str().unwrap().to_string(),
                r["evidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (o.status.code(), rows)
}

#[test]
fn responder_tokens_wrong_secrets_closed_ports_and_garbage() {
    let (up, down) = (free_port(), free_port());
    let mut resp = Command::new(BIN)
        .args(["respond", "--bind", "127.0.0.1", "--ttl", "30s", "--ports"])
        .args([format!("tcp:{up}"), format!("udp:{up}")])
        .env("PORTPLAN_SECRET", LOOP_SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(resp.stdout.take().unwrap());
    let mut line = String::new();
    let t0 = Instant::now();
    while !line.contains("listening on") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "responder ended early"
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
    assert!(line.contains(&format!("tcp/{up} udp/{up}")), "{line}");

    // Garbage of every shape first: the responder must keep serving.
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for d in [
        &b""[..],
        b"PORTPLN2",
        &[0xffu8; 1400],
        b"PORTPLN2?too-short",
    ] {
        u.send_to(d, ("127.0.0.1", up)).unwrap();
    }
    for d in [&b""[..], b"hello", &[0u8; 3000]] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", up)).unwrap();
        let _ = s.write_all(d);
    }

    let spec = [format!("tcp:{up},{down}"), format!("udp:{up},{down}")];
    let (code, rows) = probe(LOOP_SECRET, &spec);
    let find = |rows: &[(String, String, String)], k: &str| {
        rows.iter()
            .find(|r| r.0 == k)
            .cloned()
            .unwrap_or_else(|| panic!("{k}: {rows:?}"))
    };
    assert_eq!(code, Some(1), "the unused port fails the run");
    let r = find(&rows, &format!("tcp/{up}"));
    assert_eq!(
        (r.1.as_str(), r.2.contains("token valid")),
        ("verified", true),
        "{r:?}"
    );
    let r = find(&rows, &format!("udp/{up}"));
    assert_eq!(
        (r.1.as_str(), r.2.contains("token valid")),
        ("verified", true),
        "{r:?}"
    );
    let r = find(&rows, &format!("tcp/{down}"));
    assert_eq!((r.1.as_str(), r.2.as_str()), ("closed", "TCP reset"));
    let r = find(&rows, &format!("udp/{down}"));
    assert_eq!(r.1, "closed");
    assert!(r.2.contains("ICMP port-unreachable"), "{r:?}");

    // A responder with another secret cannot fake a pass: its token does
    // not check, and that is an impostor, never a pass.
    let (code, rows) = probe(
        "another-secret-Q7vX2mK9pL4tR8",
        &[format!("tcp:{up}"), format!("udp:{up}")],
    );
    assert_eq!(code, Some(1), "an impostor fails the run");
    for r in rows {
        assert_eq!(
            (r.1.as_str(), r.2.contains("does not check")),
            ("impostor", true),
            "{r:?}"
        );
    }

    let _ = resp.kill();
    let _ = resp.wait();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut out, &mut rest);
    assert!(rest.contains("not a portplan probe"), "{rest}");
    assert!(
        rest.contains(&format!("to udp/{up}: answered with a token")),
        "{rest}"
    );
}

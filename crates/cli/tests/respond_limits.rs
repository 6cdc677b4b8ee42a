//! `portplan respond` under abuse, in a network namespace of its own (a
//! clean port space, loopback only): a stuck or closed stdout, thousands of
//! ports, idle and slow connections from many sources, UDP floods, a low
//! open-files limit. Each test is bounded in time and cleans up. Needs
//! root and `ip`: skipped with a reason otherwise, except under CI.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::Spawned;

const BIN: &str = env!("CARGO_BIN_EXE_portplan");
const SECRET: &str = "limits-secret-Rq8Zx3Wv6Kp1Nm";

fn possible(test: &str) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let reason = if !root {
        Some("not root (network namespaces need root)")
    } else if Command::new("ip").arg("-V").output().is_err() {
        Some("`ip` (iproute2) is not installed")
    } else {
        None
    };
    match reason {
        None => true,
        Some(r) if std::env::var_os("CI").is_some() => panic!("{test}: CI must run this, but {r}"),
        Some(r) => {
            eprintln!("skipping {test}: {r}");
            false
        }
    }
}

/// A namespace with loopback up; removed on drop.
struct Ns(String);

impl Ns {
    fn new(tag: &str) -> Ns {
        let name = format!("pplim-{}-{tag}", std::process::id() % 100_000);
        let ok = |c: &mut Command| assert!(c.status().unwrap().success(), "{c:?}");
        ok(Command::new("ip").args(["netns", "add", &name]));
        ok(Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]));
        Ns(name)
    }
    /// `portplan ARGS` in the namespace, with the secret.
    fn portplan(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, BIN])
            .args(args)
            .env("PORTPLAN_SECRET", SECRET);
        c
    }
    /// This test binary's `helper_process` in the namespace as `role`.
    fn helper(&self, role: &str, value: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0])
            .arg(std::env::current_exe().unwrap())
            .args([
                "helper_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(role, value);
        c
    }
    /// `probe 127.0.0.1 --ports SPEC` in the namespace: "proto/port" -> state.
    fn probe(&self, spec: &[&str]) -> Vec<(String, String)> {
        let o = self
            .portplan(&[
                "probe",
                "127.0.0.1",
                "--timeout",
                "2s",
                "-f",
                "json",
                "--ports",
            ])
            .args(spec)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    format!("{}/{}", r["protocol"].as_str().unwrap(), r["port"]),
                    r["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
    fn all_verified(&self, spec: &[&str]) {
        let r = self.probe(spec);
        assert!(
            !r.is_empty() && r.iter().all(|(_, s)| s == "verified"),
            "{r:?}"
        );
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// Waits for `child` to end within `limit`; its exit code.
fn ends_within(child: &mut Child, limit: Duration) -> Option<i32> {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {:?} after its deadline", t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_stuck_or_closed_stdout_neither_stops_nor_outlives_the_responder() {
    if !possible("a_stuck_or_closed_stdout_neither_stops_nor_outlives_the_responder") {
        return;
    }
    let ns = Ns::new("out");
    // Stuck: stdout is a pipe nobody reads, shrunk to one page so a few
    // dozen log lines fill it.
    let started = Instant::now();
    let mut stuck = ns
        .portplan(&["respond", "--ports", "tcp:7001", "udp:7001", "--ttl", "6s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = stuck.stdout.take().unwrap();
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor this test owns.
        unsafe { libc::fcntl(out.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    }
    let t0 = Instant::now();
    while ns.probe(&["tcp:7001"]).iter().any(|(_, s)| s != "verified") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the responder never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Thousands of log lines' worth of garbage: the pipe is full long before.
    assert!(ns
        .helper("PP_FLOOD", "127.0.0.1:7001:3000")
        .status()
        .unwrap()
        .success());
    ns.all_verified(&["tcp:7001", "udp:7001"]);
    let code = ends_within(&mut stuck, Duration::from_secs(6 + 5));
    assert!(started.elapsed() < Duration::from_secs(6 + 5));
    assert_ne!(code, Some(101), "a stuck stdout must not end in a panic");
    drop(out);

    // Closed: stdout read up to `listening on`, then closed (`| head -2`).
    let mut closed = ns
        .portplan(&["respond", "--ports", "tcp:7002", "udp:7002", "--ttl", "4s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut r = BufReader::new(closed.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "ended early");
    }
    drop(r);
    assert!(ns
        .helper("PP_FLOOD", "127.0.0.1:7002:500")
        .status()
        .unwrap()
        .success());
    ns.all_verified(&["tcp:7002", "udp:7002"]);
    let code = ends_within(&mut closed, Duration::from_secs(4 + 5));
    let mut err = String::new();
    closed
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn thousands_of_ports_idle_and_slow_connections_do_not_starve_any_port() {
    if !possible("thousands_of_ports_idle_and_slow_connections_do_not_starve_any_port") {
        return;
    }
    let ns = Ns::new("slots");
    let resp = Spawned::start(
        ns.portplan(&["respond", "--ports", "tcp:20000-22999", "--ttl", "60s"]),
        "listening on",
    );
    assert!(
        resp.text().contains("listening on 3000 ports"),
        "{}",
        resp.text()
    );
    // 1,100 connections from 20 sources to one port, each sending a byte
    // every 2 s (slowloris) for 8 s: more than each source may hold.
    let mut attack = ns
        .helper("PP_SLOW", "127.0.0.1:20000:1100:8")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // Meanwhile every other port, and the attacked one, still answers.
    ns.all_verified(&["tcp:20000,20001,21500,22999"]);
    let mut report = String::new();
    attack
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut report)
        .unwrap();
    assert!(attack.wait().unwrap().success(), "{report}");
    // "held N cut M": no connection outlived the 5 s connection deadline.
    let held: usize = field(&report, "held");
    let cut: usize = field(&report, "cut");
    assert!(
        held > 0 && cut == held,
        "slow connections must be cut: {report}"
    );
    let log = resp.text();
    assert!(
        log.contains("closed: this source already holds 32 connections"),
        "{log}"
    );
    assert!(log.contains("no probe within 5 s"), "{log}");
}

#[test]
fn udp_replies_are_rate_limited_per_source_and_never_larger_than_the_probe() {
    if !possible("udp_replies_are_rate_limited_per_source_and_never_larger_than_the_probe") {
        return;
    }
    let ns = Ns::new("udp");
    let _resp = Spawned::start(
        ns.portplan(&["respond", "--ports", "udp:7001", "--ttl", "30s"]),
        "listening on",
    );
    let o = ns
        .helper("PP_UDP_BURST", "127.0.0.1:7001:3000")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{report}");
    let replies: usize = field(&report, "replies");
    let largest: usize = field(&report, "largest");
    let sent: usize = field(&report, "sent");
    assert_eq!(sent, 3000);
    // A burst of 400 and 200 a second: 3,000 probes in well under 2 s get
    // no more than 800 replies.
    assert!((100..=800).contains(&replies), "{report}");
    assert!(largest <= 64, "a reply larger than the probe: {report}");
    // Another source is not held back by the first one's flood.
    ns.all_verified(&["udp:7001"]);

    // Reflection: probes forged to come from a victim's address get the
    // victim no more than the same rate, in replies no larger than them.
    let o = ns
        .helper("PP_SPOOF", "127.0.0.1:7001:3000")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let replies: usize = field(&report, "replies");
    assert!((100..=800).contains(&replies), "{report}");
    assert!(field(&report, "largest") <= 64, "{report}");
}

#[test]
fn a_low_open_files_limit_still_serves_and_says_what_it_cannot() {
    if !possible("a_low_open_files_limit_still_serves_and_says_what_it_cannot") {
        return;
    }
    let ns = Ns::new("nofile");
    let limited = |ports: &str| -> Output {
        Command::new("ip")
            .args(["netns", "exec", &ns.0, "prlimit", "--nofile=1024:1024", BIN])
            .args(["respond", "--ports", ports, "--ttl", "1s"])
            .env("PORTPLAN_SECRET", SECRET)
            .output()
            .unwrap()
    };
    let o = limited("tcp:7000-7009 udp:7000-7009");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("listening on 20 ports"), "{out}");
    assert_eq!(o.status.code(), Some(0));
    let o = limited("tcp:30000-31999");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let n: usize = out
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!((900..1024).contains(&n), "{out}");
    assert!(
        err.contains("open-files limit") && err.contains("ulimit -n"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(1), "ports left unserved fail the run");
}

#[test]
fn sigterm_stops_it_cleanly_and_an_endless_ttl_is_refused() {
    if !possible("sigterm_stops_it_cleanly_and_an_endless_ttl_is_refused") {
        return;
    }
    let ns = Ns::new("term");
    let mut r = Spawned::start(
        ns.portplan(&["respond", "--ports", "tcp:7001", "--ttl", "60s"]),
        "listening on",
    );
    let pid = r.child.id();
    // `ip netns exec` runs portplan in its own process (exec), same pid.
    assert!(Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let code = ends_within(&mut r.child, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(code, Some(0), "{}", r.text());
    assert!(
        r.text().contains("done (terminated (SIGTERM))"),
        "{}",
        r.text()
    );

    let o = ns
        .portplan(&["respond", "--ports", "tcp:7001", "--ttl", "99999999999999h"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-ttl"));
}

/// `NAME N` in a helper's report.
fn field(report: &str, name: &str) -> usize {
    report
        .split_whitespace()
        .skip_while(|w| *w != name)
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no `{name}` in {report}"))
}

/// Not a test: what the tests above run in their namespace.
#[test]
fn helper_process() {
    let arg = |k: &str| std::env::var(k).ok();
    if let Some(v) = arg("PP_FLOOD") {
        let (addr, n) = v.rsplit_once(':').unwrap();
        flood(addr.parse().unwrap(), n.parse().unwrap());
    } else if let Some(v) = arg("PP_SLOW") {
        let p: Vec<&str> = v.split(':').collect();
        slowloris(
            format!("{}:{}", p[0], p[1]).parse().unwrap(),
            p[2].parse().unwrap(),
            Duration::from_secs(p[3].parse().unwrap()),
        );
    } else if let Some(v) = arg("PP_UDP_BURST") {
        let (addr, n) = v.rsplit_once(':').unwrap();
        udp_burst(addr.parse().unwrap(), n.parse().unwrap());
    } else if let Some(v) = arg("PP_SPOOF") {
        let (addr, n) = v.rsplit_once(':').unwrap();
        spoofed(addr.parse().unwrap(), n.parse().unwrap());
    }
}

/// `n` datagrams and `n / 10` connections of garbage: each a log line.
fn flood(to: SocketAddr, n: usize) {
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..n {
        let _ = u.send_to(format!("garbage {i}").as_bytes(), to);
    }
    for _ in 0..n / 10 {
        if let Ok(mut s) = TcpStream::connect_timeout(&to, Duration::from_secs(1)) {
            let _ = s.write_all(b"not a probe at all");
        }
    }
}

/// `n` connections from 127.0.0.2-21, each sending a byte every 2 s for
/// `how_long`; reports how many the responder held and how many it cut.
fn slowloris(to: SocketAddr, n: usize, how_long: Duration) {
    use socket2::{Domain, Socket, Type};
    let mut conns = Vec::new();
    for k in 0..n {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (k % 20) as u8)), 0);
        s.bind(&src.into()).unwrap();
        if s.connect_timeout(&to.into(), Duration::from_secs(1))
            .is_ok()
        {
            let t: TcpStream = s.into();
            t.set_nonblocking(true).unwrap();
            conns.push(t);
        }
    }
    // Held: still open after the first second (the others were closed at once).
    std::thread::sleep(Duration::from_secs(1));
    let alive = |t: &mut TcpStream| {
        let mut b = [0u8; 8];
        match t.read(&mut b) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
            Err(_) => false,
        }
    };
    let mut held: Vec<TcpStream> = conns
        .into_iter()
        .filter_map(|mut t| alive(&mut t).then_some(t))
        .collect();
    let n_held = held.len();
    let t0 = Instant::now();
    // A probe's own first bytes, one at a time: each read looks like the
    // start of a probe, so only the connection deadline can end it.
    let prefix = b"PORTPLN2?";
    let mut i = 0;
    while t0.elapsed() < how_long {
        for t in &mut held {
            let _ = t.write_all(&prefix[i % prefix.len()..i % prefix.len() + 1]);
        }
        i += 1;
        std::thread::sleep(Duration::from_secs(2));
    }
    let cut = held.iter_mut().map(|t| !alive(t)).filter(|c| *c).count();
    println!("held {n_held} cut {cut}");
}

/// A well-formed probe (any nonce; the time now).
fn probe_bytes(i: usize) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut p = b"PORTPLN2?".to_vec();
    p.extend_from_slice(&(i as u128).to_be_bytes());
    p.extend_from_slice(&now.to_be_bytes());
    // The address aimed at, IPv4-mapped: the responder's own.
    p.extend_from_slice(&std::net::Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets());
    p.resize(64, 0);
    p
}

/// `n` probes with a forged source, 127.0.0.9:5555 (a victim the sender
/// wants replies sent to), through a raw socket; the victim's socket
/// counts what reaches it.
fn spoofed(to: SocketAddr, n: usize) {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let victim = UdpSocket::bind("127.0.0.9:5555").unwrap();
    victim
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let raw = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(libc::IPPROTO_RAW)),
    )
    .unwrap();
    let SocketAddr::V4(dst) = to else {
        panic!("IPv4 only")
    };
    let r = Arc::new(Mutex::new((0usize, 0usize)));
    let r2 = r.clone();
    let reader = std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok(k) = victim.recv(&mut b) {
            let mut g = r2.lock().unwrap();
            g.0 += 1;
            g.1 = g.1.max(k);
        }
    });
    for i in 0..n {
        let payload = probe_bytes(i);
        let udp_len = 8 + payload.len();
        let total = 20 + udp_len;
        let mut pkt = Vec::with_capacity(total);
        // IPv4 header; the kernel fills in the id and the checksum.
        pkt.extend_from_slice(&[0x45, 0]);
        pkt.extend_from_slice(&(total as u16).to_be_bytes());
        pkt.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
        pkt.extend_from_slice(&[127, 0, 0, 9]);
        pkt.extend_from_slice(&dst.ip().octets());
        // UDP header, checksum 0 (none, allowed over IPv4).
        pkt.extend_from_slice(&5555u16.to_be_bytes());
        pkt.extend_from_slice(&dst.port().to_be_bytes());
        pkt.extend_from_slice(&(udp_len as u16).to_be_bytes());
        pkt.extend_from_slice(&[0, 0]);
        pkt.extend_from_slice(&payload);
        raw.send_to(&pkt, &SockAddr::from(to)).unwrap();
    }
    reader.join().unwrap();
    let g = r.lock().unwrap();
    println!("sent {n} replies {} largest {}", g.0, g.1);
}

/// `n` well-formed probes from one socket as fast as it can send; reports
/// how many replies came and the largest.
fn udp_burst(to: SocketAddr, n: usize) {
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let r = Arc::new(Mutex::new((0usize, 0usize)));
    let (u2, r2) = (u.try_clone().unwrap(), r.clone());
    let reader = std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok(k) = u2.recv(&mut b) {
            let mut g = r2.lock().unwrap();
            g.0 += 1;
            g.1 = g.1.max(k);
        }
    });
    for i in 0..n {
        let _ = u.send_to(&probe_bytes(i), to);
    }
    reader.join().unwrap();
    let g = r.lock().unwrap();
    println!("sent {n} replies {} largest {}", g.0, g.1);
}

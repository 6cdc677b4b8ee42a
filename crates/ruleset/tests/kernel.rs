//! The kernel is the oracle for its own formats. Rulesets — what our
//! renderers write for generated plans, and random ones with user chains,
//! jumps, gotos, returns, sets, negation and connection state — are loaded
//! into a network namespace (`b`); real TCP connections and UDP datagrams
//! are sent to it across a veth pair from another namespace (`a`), and back;
//! and the audit's verdict for each of those flows must be what the kernel
//! did. Any disagreement is a bug in the model.
//!
//! Needs root, `ip`, `nft` and `iptables-restore`: skipped with a reason
//! otherwise, except under CI (env `CI`), where a skip is a failure.

mod common;

use portplan_model::catalog::Scope;
use portplan_model::{Addr, Because, Flow, FlowSet, PortRange, PortSet, Protocol, Side};
use portplan_render::HostView;
use portplan_ruleset::space::{Addrs, Ranges, Space};
use portplan_ruleset::{judge, Compiled, Members, Verdict};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The namespace with the firewall (`b`) owns these; `a` owns the sources.
const B4: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 99, 0, 2), Ipv4Addr::new(10, 99, 0, 3)];
const B6: Ipv6Addr = Ipv6Addr::new(0xfd99, 0, 0, 0, 0, 0, 0, 2);
const A6: Ipv6Addr = Ipv6Addr::new(0xfd99, 0, 0, 0, 0, 0, 0, 1);
/// Ports probes use: listeners answer on all of them, in both namespaces.
const PORTS: std::ops::RangeInclusive<u16> = 20..=44;
/// How long a probe waits before calling a packet dropped (a veth
/// round trip is tens of microseconds).
const WAIT: Duration = Duration::from_millis(300);

fn a_sources() -> Vec<Ipv4Addr> {
    let mut v = vec![Ipv4Addr::new(10, 99, 0, 1)];
    v.extend((10..42).map(|i| Ipv4Addr::new(10, 99, 0, i)));
    v
}

fn possible(test: &str) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let missing: Vec<&str> = ["ip", "nft", "iptables-restore"]
        .into_iter()
        .filter(|t| {
            Command::new(t)
                .arg(if *t == "ip" { "-V" } else { "--version" })
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
        })
        .collect();
    let reason = if !root {
        Some("not root (network namespaces need root)".to_string())
    } else if !missing.is_empty() {
        Some(format!("missing {}", missing.join(", ")))
    } else {
        None
    };
    match reason {
        None => true,
        Some(r) if std::env::var_os("CI").is_some() => {
            panic!("{test}: CI must run the kernel tests, but {r}")
        }
        Some(r) => {
            eprintln!("skipping {test}: {r}");
            false
        }
    }
}

fn sh(args: &[&str]) {
    let o = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Two namespaces joined by a veth pair; removed on drop.
struct Bed {
    a: String,
    b: String,
    stop: Arc<AtomicBool>,
}

impl Bed {
    fn new(tag: &str) -> Bed {
        static BEDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = BEDS.fetch_add(1, Ordering::SeqCst);
        let id = std::process::id() % 100_000;
        let a = format!("ppk-{tag}-{id}-a");
        let b = format!("ppk-{tag}-{id}-b");
        let (va, vb) = (format!("k{id}x{n}a"), format!("k{id}x{n}b"));
        for n in [&a, &b] {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
            sh(&["ip", "netns", "add", n]);
        }
        let bed = Bed {
            a,
            b,
            stop: Arc::new(AtomicBool::new(false)),
        };
        sh(&[
            "ip", "link", "add", &va, "type", "veth", "peer", "name", &vb,
        ]);
        sh(&["ip", "link", "set", &va, "netns", &bed.a]);
        sh(&["ip", "link", "set", &vb, "netns", &bed.b]);
        let ex = |ns: &str, args: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", ns];
            v.extend_from_slice(args);
            sh(&v);
        };
        for s in a_sources() {
            ex(
                &bed.a,
                &["ip", "addr", "add", &format!("{s}/24"), "dev", &va],
            );
        }
        for s in B4 {
            ex(
                &bed.b,
                &["ip", "addr", "add", &format!("{s}/24"), "dev", &vb],
            );
        }
        ex(
            &bed.a,
            &[
                "ip",
                "addr",
                "add",
                &format!("{A6}/64"),
                "dev",
                &va,
                "nodad",
            ],
        );
        ex(
            &bed.b,
            &[
                "ip",
                "addr",
                "add",
                &format!("{B6}/64"),
                "dev",
                &vb,
                "nodad",
            ],
        );
        for (ns, v) in [(&bed.a, &va), (&bed.b, &vb)] {
            ex(ns, &["ip", "link", "set", v, "up"]);
            ex(ns, &["ip", "link", "set", "lo", "up"]);
        }
        // Static IPv6 neighbours: a ruleset under test may drop neighbour
        // discovery, which would stop IPv6 before any rule is asked.
        let mac = |ns: &str, dev: &str| -> String {
            let o = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    ns,
                    "cat",
                    &format!("/sys/class/net/{dev}/address"),
                ])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        };
        let (ma, mb) = (mac(&bed.a, &va), mac(&bed.b, &vb));
        let b6 = B6.to_string();
        let a6 = A6.to_string();
        ex(
            &bed.a,
            &[
                "ip",
                "-6",
                "neigh",
                "replace",
                &b6,
                "lladdr",
                &mb,
                "dev",
                &va,
                "nud",
                "permanent",
            ],
        );
        ex(
            &bed.b,
            &[
                "ip",
                "-6",
                "neigh",
                "replace",
                &a6,
                "lladdr",
                &ma,
                "dev",
                &vb,
                "nud",
                "permanent",
            ],
        );
        let mut a_own: Vec<IpAddr> = a_sources().into_iter().map(IpAddr::V4).collect();
        a_own.push(IpAddr::V6(A6));
        let mut b_own: Vec<IpAddr> = B4.iter().map(|b| IpAddr::V4(*b)).collect();
        b_own.push(IpAddr::V6(B6));
        listen(&bed.a, bed.stop.clone(), a_own);
        listen(&bed.b, bed.stop.clone(), b_own);
        bed
    }

    /// Replaces `b`'s firewall with `text` (nft script or iptables-restore input).
    fn load(&self, nft: bool, text: &str) {
        let run = |args: &[&str], input: &str| {
            let mut c = Command::new("ip")
                .args(["netns", "exec", &self.b])
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
            let o = c.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "{args:?} refused:\n{}\n{text}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        run(&["nft", "-f", "-"], "flush ruleset\n");
        if nft {
            run(&["nft", "-f", "-"], text);
        } else {
            run(&["iptables-restore"], text);
        }
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for n in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
    }
}

/// Runs `f` on a thread that has entered namespace `ns`.
fn in_ns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: setns on this thread only, with a namespace file we hold open.
        let r = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
}

/// TCP and UDP listeners on every probe port, both families, in `ns`:
/// TCP accepts, UDP echoes. UDP sockets are bound to each address the
/// namespace owns, so a reply leaves from the address the probe was sent
/// to (a wildcard socket may answer from another, which the prober's
/// connected socket and the firewall's connection tracking would not see
/// as the reply).
fn listen(ns: &str, stop: Arc<AtomicBool>, own: Vec<IpAddr>) {
    for port in PORTS {
        let st = stop.clone();
        in_ns(ns, move || {
            let l = TcpListener::bind(SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))).unwrap();
            l.set_nonblocking(true).unwrap();
            while !st.load(Ordering::SeqCst) {
                match l.accept() {
                    // Answer only what arrives: the client's data proves its
                    // later packets pass, the answer that replies do.
                    Ok((mut s, _)) => {
                        std::thread::spawn(move || {
                            let _ = s.set_nonblocking(false);
                            let _ = s.set_read_timeout(Some(WAIT));
                            let mut buf = [0u8; 8];
                            if matches!(s.read(&mut buf), Ok(n) if n > 0) {
                                let _ = s.write_all(b"ok");
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
    }
    let st = stop.clone();
    in_ns(ns, move || {
        let socks: Vec<UdpSocket> = own
            .iter()
            .flat_map(|a| PORTS.map(move |p| SocketAddr::new(*a, p)))
            .map(|sa| {
                let u = UdpSocket::bind(sa).unwrap_or_else(|e| panic!("bind {sa}: {e}"));
                u.set_nonblocking(true).unwrap();
                u
            })
            .collect();
        let mut fds: Vec<libc::pollfd> = socks
            .iter()
            .map(|u| libc::pollfd {
                fd: u.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let mut buf = [0u8; 64];
        while !st.load(Ordering::SeqCst) {
            // SAFETY: `fds` is a valid array of pollfd for the sockets we own.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 20) };
            if n <= 0 {
                continue;
            }
            for (i, f) in fds.iter_mut().enumerate() {
                if f.revents & libc::POLLIN != 0 {
                    while let Ok((k, from)) = socks[i].recv_from(&mut buf) {
                        let _ = socks[i].send_to(&buf[..k], from);
                    }
                }
                f.revents = 0;
            }
        }
    });
    // Let the listeners bind before anything probes.
    std::thread::sleep(Duration::from_millis(100));
}

/// One probe: does a new connection from `src` to `dst:port` get through?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Probe {
    tcp: bool,
    src: IpAddr,
    dst: IpAddr,
    port: u16,
}

fn send(p: Probe) -> bool {
    let dom = if p.dst.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let ty = if p.tcp { Type::STREAM } else { Type::DGRAM };
    let s = Socket::new(dom, ty, None).unwrap();
    s.bind(&SockAddr::from(SocketAddr::new(p.src, 0))).unwrap();
    let to = SockAddr::from(SocketAddr::new(p.dst, p.port));
    if p.tcp {
        // A whole exchange: the handshake, data each way.
        if s.connect_timeout(&to, WAIT).is_err() {
            return false;
        }
        let mut t: std::net::TcpStream = s.into();
        let _ = t.set_read_timeout(Some(WAIT));
        if t.write_all(b"hi").is_err() {
            return false;
        }
        let mut buf = [0u8; 8];
        return matches!(t.read(&mut buf), Ok(n) if n > 0);
    }
    if s.connect(&to).is_err() {
        return false;
    }
    let u: UdpSocket = s.into();
    u.set_read_timeout(Some(WAIT)).unwrap();
    if u.send(b"probe").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(u.recv(&mut buf), Ok(n) if n > 0)
}

/// What the kernel does with each probe, sent from `ns`, 16 at a time.
fn kernel(ns: &str, probes: &[Probe]) -> Vec<bool> {
    let work = Arc::new(Mutex::new(
        probes.iter().copied().enumerate().collect::<Vec<_>>(),
    ));
    let out = Arc::new(Mutex::new(vec![false; probes.len()]));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (w, o) = (work.clone(), out.clone());
            in_ns(ns, move || loop {
                let Some((i, p)) = w.lock().unwrap().pop() else {
                    break;
                };
                let r = send(p);
                o.lock().unwrap()[i] = r;
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let v = out.lock().unwrap().clone();
    v
}

fn point(a: IpAddr) -> Addrs {
    match a {
        IpAddr::V4(v) => Addrs {
            v4: Ranges::one(u32::from(v)),
            ..Addrs::none()
        },
        IpAddr::V6(v) => Addrs {
            v6: Ranges::one(u128::from(v)),
            ..Addrs::none()
        },
    }
}

fn b_addrs() -> Addrs {
    let mut a = point(IpAddr::V6(B6));
    for b in B4 {
        a = a.union(&point(IpAddr::V4(b)));
    }
    a
}

/// What the audit says of each probe, for a ruleset protecting `b`.
fn model(format: &str, text: &str, probes: &[Probe]) -> Vec<Verdict> {
    let rs = portplan_ruleset::read(text, "kernel-test", Some(format))
        .unwrap_or_else(|e| panic!("{format}: {e}\n{text}"));
    assert!(
        rs.issues.is_empty(),
        "{format}: not understood: {:?}\n{text}",
        rs.issues
    );
    let members = Members::default();
    let c = Compiled::new(&rs, &members);
    let host = b_addrs();
    probes
        .iter()
        .map(|p| {
            let s = Space {
                proto: Ranges::one(if p.tcp { 6 } else { 17 }),
                src: point(p.src),
                dst: point(p.dst),
                sport: Ranges::full(),
                dport: Ranges::one(p.port),
            };
            judge(&c, &[s], Some(&host)).verdict
        })
        .collect()
}

/// Loads `text`, sends `inbound` probes from `a` to `b` and `outbound`
/// from `b` to `a`, and returns every disagreement.
fn compare(
    bed: &Bed,
    format: &str,
    text: &str,
    inbound: &[Probe],
    outbound: &[Probe],
) -> Vec<String> {
    bed.load(format == "nftables", text);
    let mut bad = Vec::new();
    for (ns, probes) in [(&bed.a, inbound), (&bed.b, outbound)] {
        let k = kernel(ns, probes);
        tally(&k);
        let m = model(format, text, probes);
        for ((p, k), m) in probes.iter().zip(k).zip(m) {
            let agrees_with = |k: bool| match m {
                Verdict::Allowed => k,
                Verdict::Blocked => !k,
                _ => false,
            };
            let mut k = k;
            // A packet lost to load looks like a drop: ask the kernel again
            // before calling it a disagreement.
            for _ in 0..2 {
                if agrees_with(k) {
                    break;
                }
                k = kernel(ns, &[*p])[0];
            }
            let agrees = agrees_with(k);
            if !agrees {
                bad.push(format!(
                    "{} {} -> {}:{}: kernel {}, audit {}",
                    if p.tcp { "tcp" } else { "udp" },
                    p.src,
                    p.dst,
                    p.port,
                    if k { "passed it" } else { "stopped it" },
                    m.as_str()
                ));
            }
        }
    }
    if !bad.is_empty() {
        bad.push(format!("ruleset ({format}):\n{text}"));
    }
    bad
}

/// The kernel's verdicts over a run, so a test can show it asked both
/// kinds of question (a run where everything passes proves little).
static PASSED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static STOPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn tally(k: &[bool]) {
    let p = k.iter().filter(|x| **x).count();
    PASSED.fetch_add(p, Ordering::SeqCst);
    STOPPED.fetch_add(k.len() - p, Ordering::SeqCst);
}

fn assert_both_kinds() {
    let (p, s) = (
        PASSED.load(Ordering::SeqCst),
        STOPPED.load(Ordering::SeqCst),
    );
    assert!(
        p >= 20 && s >= 20,
        "too one-sided to prove much: {p} passed, {s} stopped"
    );
}

/// How many generated rulesets a test tries: `n` in CI, more when
/// `PORTPLAN_KERNEL_SEEDS` asks (a longer hunt for disagreements).
fn seeds(n: u64) -> u64 {
    std::env::var("PORTPLAN_KERNEL_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn port(r: &mut Rng) -> u16 {
    PORTS.start() + r.below(u64::from(PORTS.end() - PORTS.start() + 1)) as u16
}

fn src_net(r: &mut Rng) -> String {
    let base = *r.pick(&[0u8, 8, 16, 24, 32]);
    let len = *r.pick(&[24u8, 27, 28, 29, 32]);
    let host = if len == 32 {
        base + 10 + r.below(8) as u8
    } else {
        base
    };
    format!("10.99.0.{host}/{len}")
}

fn probes_in(r: &mut Rng, n: usize, v6: bool) -> Vec<Probe> {
    let srcs = a_sources();
    (0..n)
        .map(|_| {
            let six = v6 && r.chance(20);
            Probe {
                tcp: r.chance(60),
                src: if six {
                    IpAddr::V6(A6)
                } else {
                    IpAddr::V4(*r.pick(&srcs))
                },
                dst: if six {
                    IpAddr::V6(B6)
                } else {
                    IpAddr::V4(*r.pick(&B4))
                },
                port: port(r),
            }
        })
        .collect()
}

fn probes_out(r: &mut Rng, n: usize, v6: bool) -> Vec<Probe> {
    let srcs = a_sources();
    (0..n)
        .map(|_| {
            let six = v6 && r.chance(20);
            Probe {
                tcp: r.chance(60),
                src: if six {
                    IpAddr::V6(B6)
                } else {
                    IpAddr::V4(*r.pick(&B4))
                },
                dst: if six {
                    IpAddr::V6(A6)
                } else {
                    IpAddr::V4(*r.pick(&srcs))
                },
                port: port(r),
            }
        })
        .collect()
}

/// A random iptables-restore filter table: INPUT (or OUTPUT) with user
/// chains reached by jump and goto, RETURN, negation, multiport, iprange,
/// connection state, REJECT and LOG.
fn random_iptables(r: &mut Rng, outbound: bool) -> String {
    let main = if outbound { "OUTPUT" } else { "INPUT" };
    let other = if outbound { "INPUT" } else { "OUTPUT" };
    let mut t = String::from("*filter\n");
    let policy = if r.chance(50) { "ACCEPT" } else { "DROP" };
    t.push_str(&format!(":{main} {policy} [0:0]\n:FORWARD DROP [0:0]\n"));
    // The other direction lets replies through.
    t.push_str(&format!(":{other} DROP [0:0]\n:U1 - [0:0]\n:U2 - [0:0]\n"));
    t.push_str(&format!(
        "-A {other} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
    ));
    let side = if outbound { "-d" } else { "-s" };
    let range_flag = if outbound {
        "--dst-range"
    } else {
        "--src-range"
    };
    let rule = |r: &mut Rng, chain: &str, targets: &[&str]| -> String {
        let mut m = String::new();
        if r.chance(50) {
            let neg = if r.chance(20) { "! " } else { "" };
            m.push_str(&format!(" {neg}{side} {}", src_net(r)));
        } else if r.chance(15) {
            let a = 10 + r.below(20);
            m.push_str(&format!(
                " -m iprange {range_flag} 10.99.0.{a}-10.99.0.{}",
                a + r.below(10)
            ));
        }
        if r.chance(75) {
            let proto = if r.chance(60) { "tcp" } else { "udp" };
            m.push_str(&format!(" -p {proto}"));
            match r.below(4) {
                0 => {}
                1 => m.push_str(&format!(" --dport {}", port(r))),
                2 => {
                    let a = port(r);
                    m.push_str(&format!(" --dport {a}:{}", a + r.below(6) as u16));
                }
                _ => {
                    let ps: Vec<String> = (0..3).map(|_| port(r).to_string()).collect();
                    let neg = if r.chance(15) { "! " } else { "" };
                    m.push_str(&format!(" -m multiport {neg}--dports {}", ps.join(",")));
                }
            }
        }
        if r.chance(15) {
            let st = *r.pick(&["NEW", "ESTABLISHED,RELATED", "NEW,ESTABLISHED", "INVALID"]);
            let neg = if r.chance(30) { "! " } else { "" };
            m.push_str(&format!(" -m conntrack {neg}--ctstate {st}"));
        }
        let target = *r.pick(targets);
        let extra = if target == "REJECT" && r.chance(50) {
            " --reject-with tcp-reset"
        } else {
            ""
        };
        let jump = if target == "U2" && r.chance(40) {
            "-g"
        } else {
            "-j"
        };
        // tcp-reset only for TCP rules.
        let extra = if extra.is_empty() || m.contains("-p tcp") {
            extra
        } else {
            ""
        };
        format!("-A {chain}{m} {jump} {target}{extra}\n")
    };
    for _ in 0..(4 + r.below(8)) {
        t.push_str(&rule(
            r,
            main,
            &["ACCEPT", "DROP", "REJECT", "U1", "U2", "LOG"],
        ));
    }
    for _ in 0..(1 + r.below(4)) {
        t.push_str(&rule(r, "U1", &["ACCEPT", "DROP", "RETURN", "U2"]));
    }
    for _ in 0..(1 + r.below(4)) {
        t.push_str(&rule(r, "U2", &["ACCEPT", "DROP", "RETURN", "REJECT"]));
    }
    t.push_str("COMMIT\n");
    t
}

#[test]
fn iptables_random_rulesets_agree_with_the_kernel() {
    if !possible("iptables_random_rulesets_agree_with_the_kernel") {
        return;
    }
    let bed = Bed::new("randipt");
    let mut bad = Vec::new();
    for seed in 1..=seeds(12) {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let outbound = seed % 3 == 0;
        let text = random_iptables(&mut r, outbound);
        let (i, o) = if outbound {
            (vec![], probes_out(&mut r, 40, false))
        } else {
            (probes_in(&mut r, 40, false), vec![])
        };
        bad.extend(compare(&bed, "iptables", &text, &i, &o));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_both_kinds();
}

/// A random nftables ruleset: an inet table with named sets, user chains
/// reached by jump and goto, return, verdict maps, connection state, IPv6
/// rules, and a second table with another base chain on the same hook at
/// an earlier priority (all base chains must accept).
fn random_nft(r: &mut Rng, outbound: bool) -> String {
    let (hook, other, key) = if outbound {
        ("output", "input", "daddr")
    } else {
        ("input", "output", "saddr")
    };
    // Interval sets refuse overlapping elements: pick from disjoint ones.
    let disjoint = [
        "10.99.0.10/32",
        "10.99.0.12/31",
        "10.99.0.16/29",
        "10.99.0.32/28",
    ];
    let set_elems: Vec<String> = disjoint
        .iter()
        .filter(|_| r.chance(60))
        .map(|s| s.to_string())
        .collect();
    let set_elems = if set_elems.is_empty() {
        vec![disjoint[2].to_string()]
    } else {
        set_elems
    };
    let a = PORTS.start() + r.below(10) as u16;
    let mut t = format!(
        "table inet t {{\n\tset peers {{ type ipv4_addr; flags interval; elements = {{ {} }} }}\n\tset ports {{ type inet_service; flags interval; elements = {{ {}-{}, {} }} }}\n",
        set_elems.join(", "),
        a,
        a + r.below(4) as u16,
        a + 5 + r.below(10) as u16
    );
    let rule = |r: &mut Rng, verdicts: &[&str]| -> String {
        let mut m: Vec<String> = Vec::new();
        match r.below(6) {
            0 => m.push(format!("ip {key} {}", src_net(r))),
            1 => m.push(format!("ip {key} != {}", src_net(r))),
            2 => m.push(format!("ip {key} @peers")),
            3 => {
                let (x, y) = (r.below(2) as usize, 2 + r.below(2) as usize);
                m.push(format!("ip {key} {{ {}, {} }}", disjoint[x], disjoint[y]));
            }
            // The peer in `a` either way.
            4 => m.push(format!("ip6 {key} {A6}")),
            _ => {}
        }
        match r.below(6) {
            0 => m.push(format!("tcp dport {}", port(r))),
            1 => {
                let x = port(r);
                m.push(format!(
                    "udp dport {{ {x}, {} }}",
                    x + 1 + r.below(3) as u16
                ));
            }
            2 => m.push("tcp dport @ports".to_string()),
            3 => {
                let a = port(r);
                m.push(format!(
                    "meta l4proto {{ tcp, udp }} th dport {a}-{}",
                    a + r.below(5) as u16
                ));
            }
            4 => m.push("meta l4proto udp".to_string()),
            _ => {}
        }
        if r.chance(12) {
            m.push(
                (*r.pick(&[
                    "ct state new",
                    "ct state established,related",
                    "ct state { new, established }",
                ]))
                .to_string(),
            );
        }
        if r.chance(10) {
            m.push("counter".to_string());
        }
        let mut v = *r.pick(verdicts);
        if v == "vmap"
            && m.iter()
                .any(|x| x.contains("udp") || x.contains("th dport") || x.contains("tcp dport"))
        {
            v = "accept";
        }
        if v == "vmap" {
            let (x, y) = (port(r), port(r));
            let (vx, vy) = (
                *r.pick(&["accept", "drop", "jump c1"]),
                *r.pick(&["accept", "drop"]),
            );
            if x == y {
                return format!("\t\t{} tcp dport vmap {{ {x} : {vx} }}\n", m.join(" "));
            }
            return format!(
                "\t\t{} tcp dport vmap {{ {x} : {vx}, {y} : {vy} }}\n",
                m.join(" ")
            );
        }
        let v = if v == "reject" && m.iter().any(|x| x.starts_with("tcp")) && r.chance(50) {
            "reject with tcp reset"
        } else {
            v
        };
        format!("\t\t{} {v}\n", m.join(" "))
    };
    t.push_str("\tchain c2 {\n");
    for _ in 0..(1 + r.below(3)) {
        t.push_str(&rule(r, &["accept", "drop", "return", "reject"]));
    }
    t.push_str("\t}\n\tchain c1 {\n");
    for _ in 0..(1 + r.below(3)) {
        t.push_str(&rule(
            r,
            &["accept", "drop", "return", "jump c2", "goto c2"],
        ));
    }
    let policy = if r.chance(50) { "accept" } else { "drop" };
    t.push_str(&format!(
        "\t}}\n\tchain main {{\n\t\ttype filter hook {hook} priority filter; policy {policy};\n"
    ));
    for _ in 0..(3 + r.below(7)) {
        t.push_str(&rule(
            r,
            &[
                "accept", "drop", "reject", "jump c1", "goto c2", "vmap", "continue",
            ],
        ));
    }
    t.push_str(&format!(
        "\t}}\n\tchain back {{\n\t\ttype filter hook {other} priority filter; policy drop;\n\t\tct state established,related accept\n\t}}\n}}\n"
    ));
    // Another table, another base chain on the hook, earlier.
    t.push_str(&format!(
        "table ip early {{\n\tchain guard {{\n\t\ttype filter hook {hook} priority -5; policy accept;\n"
    ));
    for _ in 0..r.below(3) {
        // Sets belong to the other table: literals here.
        t.push_str(
            &rule(r, &["drop", "accept", "continue"])
                .replace("ip6 ", "ip ")
                .replace("fd99::1", "10.99.0.40")
                .replace("@peers", "10.99.0.16/29")
                .replace("@ports", "30"),
        );
    }
    t.push_str("\t}\n}\n");
    t
}

#[test]
fn nftables_random_rulesets_agree_with_the_kernel() {
    if !possible("nftables_random_rulesets_agree_with_the_kernel") {
        return;
    }
    let bed = Bed::new("randnft");
    let mut bad = Vec::new();
    for seed in 1..=seeds(14) {
        let mut r = Rng(0x2545_f491_4f6c_dd1d ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let outbound = seed % 3 == 0;
        let text = random_nft(&mut r, outbound);
        let (i, o) = if outbound {
            (vec![], probes_out(&mut r, 40, true))
        } else {
            (probes_in(&mut r, 40, true), vec![])
        };
        bad.extend(compare(&bed, "nftables", &text, &i, &o));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_both_kinds();
}

// ---- what our renderers write ----

fn party(name: &str, addrs: &[&str]) -> Side {
    Side {
        labels: vec![name.to_string()],
        addrs: addrs.iter().map(|a| a.parse::<Addr>().unwrap()).collect(),
    }
}

/// A generated plan for host `b` and peers in `a`.
fn plan(r: &mut Rng) -> FlowSet {
    let b = party("b", &["10.99.0.2", "10.99.0.3", "fd99::2"]);
    let peers = [
        party("a1", &["10.99.0.10"]),
        party("a2", &["10.99.0.16/29"]),
        party("a3", &["10.99.0.32/28", "fd99::1"]),
        party("a-all", &["10.99.0.0/24"]),
    ];
    let flows = (0..(3 + r.below(5)))
        .map(|i| {
            let peer = r.pick(&peers).clone();
            let (src, dst) = if r.chance(50) {
                (peer, b.clone())
            } else {
                (b.clone(), peer)
            };
            let a = port(r);
            let hi = (a + r.below(4) as u16).min(*PORTS.end());
            Flow {
                src,
                dst,
                protocol: if r.chance(60) {
                    Protocol::Tcp
                } else {
                    Protocol::Udp
                },
                ports: PortSet::from_ranges([PortRange { low: a, high: hi }]),
                icmp_type: None,
                scope: Scope::Network,
                required: true,
                interface: None,
                because: vec![Arc::new(Because {
                    product: "kernel".into(),
                    requirement: format!("r{i}"),
                    service: "test".into(),
                    feature: None,
                    source: "kernel:1".into(),
                })],
                notes: vec![],
            }
        })
        .collect();
    FlowSet {
        deployment: "kernel".into(),
        flows: portplan_plan::merge(flows),
        diagnostics: vec![],
    }
}

fn rendered_agree(format: &str, v6: bool) {
    let bed = Bed::new(&format!("rend{format}"));
    let host = HostView {
        name: "b".into(),
        addrs: ["10.99.0.2", "10.99.0.3", "fd99::2"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect(),
    };
    let mut bad = Vec::new();
    for seed in 1..=seeds(6) {
        let mut r = Rng(0x517c_c1b7_2722_0a95 ^ seed.wrapping_mul(0x9e37_79b9));
        let set = plan(&mut r);
        let text = common::render(format, &set, Some(&host)).text;
        let i = probes_in(&mut r, 40, v6);
        let o = probes_out(&mut r, 40, v6);
        bad.extend(compare(&bed, format, &text, &i, &o));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_both_kinds();
}

#[test]
fn rendered_nftables_agrees_with_the_kernel() {
    if possible("rendered_nftables_agrees_with_the_kernel") {
        rendered_agree("nftables", true);
    }
}

#[test]
fn rendered_iptables_agrees_with_the_kernel() {
    if possible("rendered_iptables_agrees_with_the_kernel") {
        rendered_agree("iptables", false);
    }
}

// ---- what a host firewall keeps open: the management path, outbound ----

/// Host `b` with a management network (10.99.0.10): SSH from it still
/// connects once the generated rules are loaded, SSH from another address
/// of the same LAN does not; an unplanned outbound connection succeeds by
/// default and fails with `--egress`, while planned flows pass both ways.
fn management_and_egress(format: &str) {
    let bed = Bed::new(&format!("mgmt{format}"));
    let b = party("b", &["10.99.0.2", "10.99.0.3", "fd99::2"]);
    let set = FlowSet {
        deployment: "kernel".into(),
        flows: vec![
            common::tcp_flow(party("a1", &["10.99.0.11"]), b.clone(), 30, "in"),
            common::tcp_flow(b.clone(), party("a2", &["10.99.0.12"]), 31, "out"),
        ],
        diagnostics: vec![],
    };
    let host = HostView {
        name: "b".into(),
        addrs: b.addrs.clone(),
    };
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let probe = |src: &str, dst: &str, port: u16| Probe {
        tcp: true,
        src: ip(src),
        dst: ip(dst),
        port,
    };
    // (probe, passes by default, passes with --egress)
    let inbound = [
        (probe("10.99.0.10", "10.99.0.2", 22), true, true),
        (probe("10.99.0.20", "10.99.0.2", 22), false, false),
        (probe("10.99.0.11", "10.99.0.2", 30), true, true),
        (probe("10.99.0.20", "10.99.0.2", 30), false, false),
    ];
    let outbound = [
        (probe("10.99.0.2", "10.99.0.12", 31), true, true),
        (probe("10.99.0.2", "10.99.0.12", 40), true, false),
        (probe("10.99.0.2", "10.99.0.20", 43), true, false),
    ];
    let mut bad = Vec::new();
    for egress in [false, true] {
        let opts = portplan_render::RenderOptions {
            egress,
            management: Some(portplan_render::Management {
                from: vec!["10.99.0.10".parse().unwrap()],
                labels: vec!["admins".into()],
                ports: vec![],
            }),
            ..Default::default()
        };
        let text = common::render_with(format, &set, Some(&host), &opts).text;
        bed.load(format == "nftables", &text);
        for (ns, probes) in [(&bed.a, &inbound[..]), (&bed.b, &outbound[..])] {
            for (p, by_default, with_egress) in probes {
                let want = if egress { *with_egress } else { *by_default };
                // A packet lost to load looks like a drop: ask again.
                let mut got = kernel(ns, &[*p])[0];
                for _ in 0..2 {
                    if got == want {
                        break;
                    }
                    got = kernel(ns, &[*p])[0];
                }
                if got != want {
                    bad.push(format!(
                        "{format} egress={egress}: tcp {} -> {}:{}: kernel {}, expected {}\n{text}",
                        p.src,
                        p.dst,
                        p.port,
                        if got { "passed it" } else { "stopped it" },
                        if want { "to pass" } else { "to stop" }
                    ));
                }
            }
        }
        // And the audit model says what the kernel did.
        let ins: Vec<Probe> = inbound.iter().map(|x| x.0).collect();
        let outs: Vec<Probe> = outbound.iter().map(|x| x.0).collect();
        bad.extend(compare(&bed, format, &text, &ins, &outs));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn nftables_keeps_the_management_path_and_leaves_outbound_open() {
    if possible("nftables_keeps_the_management_path_and_leaves_outbound_open") {
        management_and_egress("nftables");
    }
}

#[test]
fn iptables_keeps_the_management_path_and_leaves_outbound_open() {
    if possible("iptables_keeps_the_management_path_and_leaves_outbound_open") {
        management_and_egress("iptables");
    }
}

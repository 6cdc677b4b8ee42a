//! The sockets bound on this host and the process behind each, read from
//! /proc (the namespace of the calling process), with no root-only tool:
//! /proc/net/{tcp,tcp6,udp,udp6} give address, port and socket inode;
//! /proc/<pid>/fd links (`socket:[inode]`) give the owner.

use crate::flows::Inbound;
use portplan_model::{Protocol, Scope};
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A process, as far as /proc lets us see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    pub pid: u32,
    pub name: String,
    pub cmdline: String,
}

/// A listening TCP socket or a bound, unconnected UDP socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    pub protocol: Protocol,
    pub address: IpAddr,
    pub port: u16,
    pub inode: u64,
    /// None when the owner is not visible (another user's process without
    /// root, or a socket held by the kernel).
    pub process: Option<Process>,
}

impl Listener {
    pub fn owner_text(&self) -> String {
        match &self.process {
            Some(p) => format!("{} (pid {})", p.name, p.pid),
            None => "an unknown process (not visible in /proc)".into(),
        }
    }
}

const TCP_LISTEN: &str = "0A";
const UDP_UNCONNECTED: &str = "07";

/// Every listener of this network namespace, sorted by protocol and port.
pub fn listeners() -> Result<Vec<Listener>, String> {
    let owners = socket_owners();
    let mut out = Vec::new();
    for (file, proto, state) in [
        ("/proc/net/tcp", Protocol::Tcp, TCP_LISTEN),
        ("/proc/net/tcp6", Protocol::Tcp, TCP_LISTEN),
        ("/proc/net/udp", Protocol::Udp, UDP_UNCONNECTED),
        ("/proc/net/udp6", Protocol::Udp, UDP_UNCONNECTED),
    ] {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            // No IPv6 in this kernel or namespace: nothing bound there.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.ends_with('6') => continue,
            Err(e) => return Err(format!("cannot read {file}: {e}")),
        };
        for (address, port, inode) in parse_proc_net(&text, state) {
            out.push(Listener {
                protocol: proto,
                address,
                port,
                inode,
                process: owners.get(&inode).cloned(),
            });
        }
    }
    out.sort_by_key(|l| (l.protocol, l.port, l.address));
    out.dedup_by(|a, b| a.inode == b.inode && a.protocol == b.protocol);
    Ok(out)
}

/// (address, port, inode) of each line in `state`.
pub fn parse_proc_net(text: &str, state: &str) -> Vec<(IpAddr, u16, u64)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != state {
                return None;
            }
            let (a, p) = f[1].split_once(':')?;
            let port = u16::from_str_radix(p, 16).ok()?;
            let inode = f[9].parse().ok()?;
            Some((hex_addr(a)?, port, inode))
        })
        .collect()
}

/// The kernel prints each 32-bit word of the address in host byte order.
fn hex_addr(h: &str) -> Option<IpAddr> {
    let word = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::to_ne_bytes);
    match h.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(h)?))),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(&h[i * 8..i * 8 + 8])?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// socket inode -> owning process, for every process we may look into.
fn socket_owners() -> HashMap<u64, Process> {
    let mut m = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return m;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        let mut proc_info: Option<Process> = None;
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = link
                .to_str()
                .and_then(|s| s.strip_prefix("socket:["))
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            let p = proc_info.get_or_insert_with(|| process(pid));
            m.entry(inode).or_insert_with(|| p.clone());
        }
    }
    m
}

fn process(pid: u32) -> Process {
    let base = format!("/proc/{pid}");
    let name = std::fs::read_to_string(format!("{base}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let cmdline = std::fs::read(format!("{base}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Process { pid, name, cmdline }
}

/// Whether a port a host must listen on is usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing holds it: the product can bind it.
    Free,
    /// Held by a process that looks like the product.
    Expected,
    /// Held by `portplan respond` (a stand-in until the product is installed).
    Responder,
    /// Held by something else: the product will fail to bind it.
    Conflict,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Free => "free",
            Verdict::Expected => "expected",
            Verdict::Responder => "responder",
            Verdict::Conflict => "conflict",
        }
    }
}

/// One port the host needs, and who holds it now.
#[derive(Debug, Clone, Serialize)]
pub struct PortCheck {
    #[serde(flatten)]
    pub need: Inbound,
    pub verdict: Verdict,
    pub holders: Vec<Listener>,
    pub note: String,
}

/// Compares the ports a host needs with what is bound. A holder is the
/// expected product when its process name or command line contains one of
/// `expect` (product ids, names and vendors from the catalog, and the
/// user's `--expect` words), compared case-insensitively.
pub fn assess(need: &[Inbound], bound: &[Listener], expect: &[String]) -> Vec<PortCheck> {
    let words: Vec<String> = expect
        .iter()
        .map(|w| w.to_lowercase())
        .filter(|w| w.len() >= 3)
        .collect();
    need.iter()
        .map(|n| {
            let holders: Vec<Listener> = bound
                .iter()
                .filter(|l| l.protocol == n.protocol && l.port == n.port)
                .cloned()
                .collect();
            let looks =
                |l: &Listener, f: &dyn Fn(&Process) -> bool| l.process.as_ref().is_some_and(f);
            let is_responder = |p: &Process| {
                p.name == "portplan" && p.cmdline.split_whitespace().any(|a| a == "respond")
            };
            let is_expected = |p: &Process| {
                let text = format!("{} {}", p.name, p.cmdline).to_lowercase();
                words.iter().any(|w| text.contains(w.as_str()))
            };
            let verdict = if holders.is_empty() {
                Verdict::Free
            } else if holders.iter().all(|l| looks(l, &is_responder)) {
                Verdict::Responder
            } else if holders
                .iter()
                .all(|l| looks(l, &is_expected) || looks(l, &is_responder))
            {
                Verdict::Expected
            } else {
                Verdict::Conflict
            };
            let mut note = match verdict {
                Verdict::Free => String::new(),
                _ => holders
                    .iter()
                    .map(|l| format!("{} on {}", l.owner_text(), l.address))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            if n.scope == Scope::Loopback && holders.iter().any(|l| !l.address.is_loopback()) {
                note.push_str("; listens beyond loopback although the catalog says loopback-only");
            }
            PortCheck {
                need: n.clone(),
                verdict,
                holders,
                note,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_lines() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0\n";
        let v = parse_proc_net(tcp, TCP_LISTEN);
        assert_eq!(v, vec![("127.0.0.1".parse().unwrap(), 8080, 12345)]);
        let tcp6 = "header\n   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1\n";
        assert_eq!(
            parse_proc_net(tcp6, TCP_LISTEN),
            vec![("::1".parse().unwrap(), 22, 999)]
        );
    }

    #[test]
    fn finds_our_own_listener_and_its_process() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let all = listeners().unwrap();
        let me = all
            .iter()
            .find(|x| x.protocol == Protocol::Tcp && x.port == port)
            .unwrap();
        assert_eq!(me.process.as_ref().map(|p| p.pid), Some(std::process::id()));
    }

    #[test]
    fn a_port_held_by_another_process_is_a_conflict() {
        let need = vec![Inbound {
            protocol: Protocol::Tcp,
            port: 443,
            scope: Scope::Network,
            products: vec!["acme".into()],
            reasons: vec![],
        }];
        let holder = |name: &str| Listener {
            protocol: Protocol::Tcp,
            address: "0.0.0.0".parse().unwrap(),
            port: 443,
            inode: 1,
            process: Some(Process {
                pid: 7,
                name: name.into(),
                cmdline: format!("/usr/sbin/{name}"),
            }),
        };
        let words = vec!["acme".to_string()];
        assert_eq!(assess(&need, &[], &words)[0].verdict, Verdict::Free);
        assert_eq!(
            assess(&need, &[holder("nginx")], &words)[0].verdict,
            Verdict::Conflict
        );
        assert!(assess(&need, &[holder("nginx")], &words)[0]
            .note
            .contains("nginx (pid 7)"));
        assert_eq!(
            assess(&need, &[holder("acme-server")], &words)[0].verdict,
            Verdict::Expected
        );
    }
}

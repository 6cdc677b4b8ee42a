//! `portplan respond`: binds every port a host must accept and answers a
//! portplan probe with its token, and nothing else. It never runs anything,
//! never echoes, logs every datagram and connection it sees (the log shows
//! the direction of each path), and stops when its time is up.

use crate::listeners::{self, Listener};
use crate::{icmp, limits, pktinfo, token, Secret};
use portplan_model::Protocol;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

/// What the responder does and sees, for the caller to log.
#[derive(Debug, Clone)]
pub enum Event {
    /// Listening on these ports.
    Bound { protocol: Protocol, port: u16 },
    /// Could not bind: in use (and by whom), not permitted, or out of descriptors.
    Skipped {
        protocol: Protocol,
        port: u16,
        why: String,
        holder: Option<Listener>,
    },
    /// All binds done: serving until the TTL ends.
    Ready { bound: usize, skipped: usize },
    /// A well-formed probe, answered with a token.
    Probe {
        from: SocketAddr,
        protocol: Protocol,
        port: u16,
    },
    /// Something that is not a probe: logged, not answered.
    Ignored {
        from: SocketAddr,
        protocol: Protocol,
        port: u16,
        why: String,
    },
    /// The TTL ended (or the process was interrupted).
    Done { probes: u64, ignored: u64 },
}

pub type OnEvent = Arc<dyn Fn(Event) + Send + Sync>;

/// A responder's settings.
#[derive(Clone)]
pub struct Settings {
    pub ports: Vec<(Protocol, u16)>,
    pub bind: IpAddr,
    pub secret: Secret,
    pub ttl: Duration,
}

/// How long a connection may take to send its probe.
const READ_LIMIT: Duration = Duration::from_secs(5);
/// TCP connections handled at once; more wait to be accepted (a flood must
/// not exhaust the descriptors the listeners need).
const MAX_CONNECTIONS: usize = 1024;

struct Counters {
    probes: std::sync::atomic::AtomicU64,
    ignored: std::sync::atomic::AtomicU64,
}

/// Binds, serves until the TTL ends, and returns. Errors only when no
/// runtime can be built.
pub fn run_blocking(s: Settings, on: OnEvent) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(s, on));
    Ok(())
}

pub async fn run(s: Settings, on: OnEvent) {
    let budget = limits::fd_budget().saturating_sub(MAX_CONNECTIONS);
    let secret = Arc::new(s.secret);
    let counters = Arc::new(Counters {
        probes: 0.into(),
        ignored: 0.into(),
    });
    let conns = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = tokio::task::JoinSet::new();
    let mut in_use: Vec<(Protocol, u16, String)> = Vec::new();
    let mut bound = 0usize;
    let mut skipped = 0usize;
    for (i, &(proto, port)) in s.ports.iter().enumerate() {
        if i >= budget {
            on(Event::Skipped {
                protocol: proto,
                port,
                why: format!("not bound: the open-files limit allows {budget} sockets"),
                holder: None,
            });
            skipped += 1;
            continue;
        }
        let addr = SocketAddr::new(s.bind, port);
        let res = match proto {
            Protocol::Tcp => TcpListener::bind(addr).await.map(|l| {
                tasks.spawn(serve_tcp(
                    l,
                    port,
                    secret.clone(),
                    on.clone(),
                    counters.clone(),
                    conns.clone(),
                ));
            }),
            Protocol::Udp => UdpSocket::bind(addr).await.map(|u| {
                tasks.spawn(serve_udp(
                    u,
                    port,
                    secret.clone(),
                    on.clone(),
                    counters.clone(),
                ));
            }),
            Protocol::Icmp | Protocol::Esp => continue,
        };
        match res {
            Ok(()) => {
                bound += 1;
                on(Event::Bound {
                    protocol: proto,
                    port,
                });
            }
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
                in_use.push((proto, port, "in use".into()));
            }
            Err(e) => {
                skipped += 1;
                let name = icmp::errno_name(e.raw_os_error().unwrap_or(0));
                on(Event::Skipped {
                    protocol: proto,
                    port,
                    why: format!("cannot bind {addr}: {e} ({name})"),
                    holder: None,
                });
            }
        }
    }
    if !in_use.is_empty() {
        // Who holds them: one /proc scan for all.
        let all = listeners::listeners().unwrap_or_default();
        for (proto, port, why) in in_use {
            skipped += 1;
            let holder = all
                .iter()
                .find(|l| l.protocol == proto && l.port == port)
                .cloned();
            on(Event::Skipped {
                protocol: proto,
                port,
                why,
                holder,
            });
        }
    }
    on(Event::Ready { bound, skipped });
    tokio::select! {
        _ = tokio::time::sleep(s.ttl) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tasks.abort_all();
    on(Event::Done {
        probes: counters.probes.load(std::sync::atomic::Ordering::Relaxed),
        ignored: counters.ignored.load(std::sync::atomic::Ordering::Relaxed),
    });
}

async fn serve_tcp(
    l: TcpListener,
    port: u16,
    secret: Arc<Secret>,
    on: OnEvent,
    c: Arc<Counters>,
    conns: Arc<Semaphore>,
) {
    loop {
        // Take a slot first: past the limit, connections wait in the
        // kernel's accept queue instead of being refused.
        let Ok(permit) = conns.clone().acquire_owned().await else {
            return;
        };
        let (stream, from) = match l.accept().await {
            Ok(x) => x,
            // EMFILE and kin pass; back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (secret, on, c) = (secret.clone(), on.clone(), c.clone());
        tokio::spawn(async move {
            let outcome = answer_tcp(stream, port, &secret).await;
            drop(permit);
            match outcome {
                Ok(()) => {
                    c.probes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    on(Event::Probe {
                        from,
                        protocol: Protocol::Tcp,
                        port,
                    });
                }
                Err(why) => {
                    c.ignored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    on(Event::Ignored {
                        from,
                        protocol: Protocol::Tcp,
                        port,
                        why,
                    });
                }
            }
        });
    }
}

async fn answer_tcp(mut s: TcpStream, port: u16, secret: &Secret) -> Result<(), String> {
    let mut buf = [0u8; token::PROBE_LEN];
    let mut got = 0;
    while got < buf.len() {
        match tokio::time::timeout(READ_LIMIT, s.read(&mut buf[got..])).await {
            Err(_) => {
                return Err(format!(
                    "no probe within {} s (a connection only)",
                    READ_LIMIT.as_secs()
                ))
            }
            Ok(Ok(0)) if got == 0 => return Err("connection only (no data)".into()),
            Ok(Ok(0)) => return Err(format!("{got} bytes, not a portplan probe")),
            Ok(Ok(n)) => got += n,
            Ok(Err(e)) => return Err(format!("connection error: {e}")),
        }
        let k = got.min(token::MAGIC.len());
        if buf[..k] != token::MAGIC[..k] {
            return Err(format!("{got} bytes, not a portplan probe"));
        }
    }
    let nonce =
        token::parse_probe(&buf).ok_or_else(|| format!("{got} bytes, not a portplan probe"))?;
    let reply = token::reply(&secret.token(&nonce, port, Protocol::Tcp));
    s.write_all(&reply)
        .await
        .map_err(|e| format!("probe received, reply failed: {e}"))?;
    let _ = s.shutdown().await;
    Ok(())
}

async fn serve_udp(u: UdpSocket, port: u16, secret: Arc<Secret>, on: OnEvent, c: Arc<Counters>) {
    let v6 = u.local_addr().map(|a| a.is_ipv6()).unwrap_or(false);
    let pktinfo = pktinfo::enable(&u, v6);
    let mut buf = [0u8; 2048];
    loop {
        let got = if pktinfo {
            u.async_io(Interest::READABLE, || pktinfo::recv(&u, &mut buf))
                .await
        } else {
            u.recv_from(&mut buf).await.map(|(n, f)| (n, f, None))
        };
        let (n, from, dst) = match got {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        match token::parse_probe(&buf[..n]) {
            Some(nonce) => {
                let reply = token::reply(&secret.token(&nonce, port, Protocol::Udp));
                let _ = match dst {
                    Some(src) => {
                        u.async_io(Interest::WRITABLE, || {
                            pktinfo::send_from(&u, &reply, from, src)
                        })
                        .await
                    }
                    None => u.send_to(&reply, from).await,
                };
                c.probes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                on(Event::Probe {
                    from,
                    protocol: Protocol::Udp,
                    port,
                });
            }
            None => {
                c.ignored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                on(Event::Ignored {
                    from,
                    protocol: Protocol::Udp,
                    port,
                    why: format!("{n}-byte datagram, not a portplan probe"),
                });
            }
        }
    }
}

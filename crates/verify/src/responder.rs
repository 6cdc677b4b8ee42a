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
    /// The TTL ended, or the process was interrupted (`why`).
    Done {
        probes: u64,
        ignored: u64,
        why: &'static str,
    },
}

pub type OnEvent = Arc<dyn Fn(Event) + Send + Sync>;

/// A responder's settings.
#[derive(Clone)]
pub struct Settings {
    pub ports: Vec<(Protocol, u16)>,
    pub bind: IpAddr,
    pub secret: Secret,
    pub ttl: Duration,
    /// The addresses this responder answers for (the host's, from the
    /// deployment); empty: any address of this machine. A probe that
    /// arrives at another address is not answered.
    pub serves: Vec<ipnet::IpNet>,
}

/// Whether to answer a probe aimed at `target` that arrived at `local`:
/// the address the token binds (the target), or why not. Without `--as`
/// (`serves` empty) only a probe aimed at the address it arrived at is
/// answered, so a relay or DNAT from another address gets nothing; with
/// `--as HOST`, a probe aimed at any of that host's addresses in the
/// deployment (a public address reached through NAT) and at no other.
fn answer_for(
    target: IpAddr,
    local: Option<IpAddr>,
    bind: IpAddr,
    serves: &[ipnet::IpNet],
) -> Result<IpAddr, String> {
    let target = target.to_canonical();
    let local = local
        .or((!bind.is_unspecified()).then_some(bind))
        .map(|a| a.to_canonical());
    let ok = if serves.is_empty() {
        local == Some(target)
    } else {
        serves.iter().any(|n| n.contains(&target))
    };
    if ok {
        return Ok(target);
    }
    let arrived = local.map_or_else(|| "here".to_string(), |l| format!("at {l}"));
    if serves.is_empty() {
        Err(format!(
            "a probe aimed at {target} arrived {arrived} (a relay, port forward or DNAT): not answered; if this host is reached at {target} through NAT, start the responder with --as HOST, the deployment giving HOST that address"
        ))
    } else {
        Err(format!(
            "a probe aimed at {target} arrived {arrived}, and {target} is not an address of the host this responder answers for ({}): not answered",
            serves
                .iter()
                .map(|n| if n.prefix_len() == n.max_prefix_len() {
                    n.addr().to_string()
                } else {
                    n.to_string()
                })
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// The probe in a request, if it is one this responder answers: well
/// formed, and with a clock near this host's.
fn accept_probe(b: &[u8]) -> Result<token::Probe, String> {
    let p =
        token::parse_probe(b).ok_or_else(|| format!("{} bytes, not a portplan probe", b.len()))?;
    match p.skew(token::now_secs()) {
        None => Ok(p),
        Some(d) => Err(format!(
            "a probe whose clock is {d} s from this host's (more than {} s): not answered; are both clocks synchronised?",
            token::MAX_SKEW_SECS
        )),
    }
}

/// How long a whole connection may last, from accept to reply: a client
/// that sends a byte now and then (slowloris) is cut at this deadline.
const CONN_DEADLINE: Duration = Duration::from_secs(5);
/// TCP connections served at once at most. A slot is taken after accept,
/// so listeners never wait for one; past the limit a connection is closed
/// at once.
const MAX_CONNECTIONS: usize = 1024;
/// Connections one source address may hold at once: one prober needs a
/// few, a flood from one address cannot take every slot.
const PER_SOURCE: usize = 32;
/// UDP replies one source address gets per second, and in a burst: a
/// prober sends one probe per port and retry; spoofed floods are cut.
const UDP_RATE: f64 = 200.0;
const UDP_BURST: f64 = 400.0;
/// Descriptors kept for connections when the open-files limit is too low
/// to bind every port and serve a full set of slots.
const MIN_SLOTS: usize = 16;

struct Counters {
    probes: std::sync::atomic::AtomicU64,
    ignored: std::sync::atomic::AtomicU64,
}

impl Counters {
    /// Counts what became of one request and tells the caller: answered
    /// with a token, or ignored and why.
    fn report(
        &self,
        on: &OnEvent,
        from: SocketAddr,
        protocol: Protocol,
        port: u16,
        outcome: Result<(), String>,
    ) {
        use std::sync::atomic::Ordering::Relaxed;
        match outcome {
            Ok(()) => {
                self.probes.fetch_add(1, Relaxed);
                on(Event::Probe {
                    from,
                    protocol,
                    port,
                });
            }
            Err(why) => {
                self.ignored.fetch_add(1, Relaxed);
                on(Event::Ignored {
                    from,
                    protocol,
                    port,
                    why,
                });
            }
        }
    }
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
    // Listeners first, then connection slots: a low open-files limit binds
    // fewer slots, never fewer ports, as long as MIN_SLOTS remain.
    let fds = limits::fd_budget();
    let wanted = s
        .ports
        .iter()
        .filter(|(p, _)| matches!(p, Protocol::Tcp | Protocol::Udp))
        .count();
    let budget = fds.saturating_sub(MIN_SLOTS);
    let slots = fds
        .saturating_sub(wanted.min(budget))
        .clamp(1, MAX_CONNECTIONS);
    let secret = Arc::new(s.secret);
    let serves: Arc<Vec<ipnet::IpNet>> = Arc::new(s.serves.clone());
    let counters = Arc::new(Counters {
        probes: 0.into(),
        ignored: 0.into(),
    });
    let conns = Arc::new(Slots {
        all: Arc::new(Semaphore::new(slots)),
        by_source: std::sync::Mutex::new(std::collections::HashMap::new()),
    });
    let mut tasks = tokio::task::JoinSet::new();
    let mut in_use: Vec<(Protocol, u16, String)> = Vec::new();
    let mut bound = 0usize;
    let mut skipped = 0usize;
    for (i, &(proto, port)) in s.ports.iter().enumerate() {
        if i >= budget {
            on(Event::Skipped {
                protocol: proto,
                port,
                why: format!(
                    "not bound: the open-files limit allows {budget} listening sockets (and {MIN_SLOTS} connections); to serve all {wanted} ports raise it, e.g. `ulimit -n {}` before `portplan respond`",
                    wanted + MAX_CONNECTIONS + 64
                ),
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
                    (s.bind, serves.clone()),
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
                    (s.bind, serves.clone()),
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
    let why = tokio::select! {
        _ = tokio::time::sleep(s.ttl) => "time is up",
        _ = tokio::signal::ctrl_c() => "interrupted (Ctrl-C)",
        _ = terminated() => "terminated (SIGTERM)",
    };
    tasks.abort_all();
    on(Event::Done {
        probes: counters.probes.load(std::sync::atomic::Ordering::Relaxed),
        ignored: counters.ignored.load(std::sync::atomic::Ordering::Relaxed),
        why,
    });
}

/// Resolves when the process gets SIGTERM (never, where it cannot listen).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut t) = signal(SignalKind::terminate()) {
            t.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

/// Connection slots: all of them, and those each source address holds.
struct Slots {
    all: Arc<Semaphore>,
    by_source: std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>,
}

/// A connection's hold on a slot, given back when it is dropped.
struct Held {
    _permit: tokio::sync::OwnedSemaphorePermit,
    slots: Arc<Slots>,
    source: IpAddr,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut m) = self.slots.by_source.lock() {
            if let Some(n) = m.get_mut(&self.source) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.source);
                }
            }
        }
    }
}

impl Slots {
    /// A slot for a connection from `source`, or why there is none.
    fn take(self: &Arc<Self>, source: IpAddr) -> Result<Held, String> {
        let mut m = self
            .by_source
            .lock()
            .map_err(|_| "busy (slot table unavailable)".to_string())?;
        let n = m.entry(source).or_insert(0);
        if *n >= PER_SOURCE {
            return Err(format!(
                "closed: this source already holds {PER_SOURCE} connections"
            ));
        }
        let permit = self
            .all
            .clone()
            .try_acquire_owned()
            .map_err(|_| "closed: every connection slot is busy".to_string())?;
        *n += 1;
        Ok(Held {
            _permit: permit,
            slots: self.clone(),
            source,
        })
    }
}

/// Per-source token buckets for UDP replies.
struct Rates {
    buckets: std::collections::HashMap<IpAddr, (f64, std::time::Instant)>,
}

impl Rates {
    /// Whether `source` may get another reply now.
    fn allow(&mut self, source: IpAddr) -> bool {
        let now = std::time::Instant::now();
        // Spoofed sources must not grow the table without end.
        if self.buckets.len() > 65_536 {
            self.buckets
                .retain(|_, (_, t)| now.duration_since(*t) < Duration::from_secs(2));
        }
        let (tokens, last) = self.buckets.entry(source).or_insert((UDP_BURST, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * UDP_RATE).min(UDP_BURST);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The address a responder binds and the addresses it serves.
type Serves = (IpAddr, Arc<Vec<ipnet::IpNet>>);

async fn serve_tcp(
    l: TcpListener,
    port: u16,
    serves: Serves,
    secret: Arc<Secret>,
    on: OnEvent,
    c: Arc<Counters>,
    conns: Arc<Slots>,
) {
    loop {
        // Accept first, then take a slot: a listener never waits for one,
        // so idle connections on one port cannot starve another.
        let (stream, from) = match l.accept().await {
            Ok(x) => x,
            // EMFILE and kin pass; back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let held = match conns.take(from.ip().to_canonical()) {
            Ok(h) => h,
            Err(why) => {
                drop(stream);
                c.report(&on, from, Protocol::Tcp, port, Err(why));
                continue;
            }
        };
        let (secret, on, c, serves) = (secret.clone(), on.clone(), c.clone(), serves.clone());
        tokio::spawn(async move {
            let outcome = match tokio::time::timeout(
                CONN_DEADLINE,
                answer_tcp(stream, port, &serves, &secret),
            )
            .await
            {
                Ok(o) => o,
                Err(_) => Err(format!(
                    "closed: no probe within {} s of connecting",
                    CONN_DEADLINE.as_secs()
                )),
            };
            drop(held);
            c.report(&on, from, Protocol::Tcp, port, outcome);
        });
    }
}

async fn answer_tcp(
    mut s: TcpStream,
    port: u16,
    serves: &Serves,
    secret: &Secret,
) -> Result<(), String> {
    let mut buf = [0u8; token::PROBE_LEN];
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]).await {
            Ok(0) if got == 0 => return Err("connection only (no data)".into()),
            Ok(0) => return Err(format!("{got} bytes, not a portplan probe")),
            Ok(n) => got += n,
            Err(e) => return Err(format!("connection error: {e}")),
        }
        let k = got.min(token::MAGIC.len());
        if buf[..k] != token::MAGIC[..k] {
            return Err(format!("{got} bytes, not a portplan probe"));
        }
    }
    let probe = accept_probe(&buf)?;
    // The address the connection arrived at (after any DNAT on this host)
    // decides, with the address the probe names, whether to answer.
    let target = answer_for(
        probe.target,
        s.local_addr().ok().map(|a| a.ip()),
        serves.0,
        &serves.1,
    )?;
    let reply = token::reply(&secret.token(&probe, target, port, Protocol::Tcp));
    s.write_all(&reply)
        .await
        .map_err(|e| format!("probe received, reply failed: {e}"))?;
    let _ = s.shutdown().await;
    Ok(())
}

async fn serve_udp(
    u: UdpSocket,
    port: u16,
    serves: Serves,
    secret: Arc<Secret>,
    on: OnEvent,
    c: Arc<Counters>,
) {
    let v6 = u.local_addr().map(|a| a.is_ipv6()).unwrap_or(false);
    let pktinfo = pktinfo::enable(&u, v6);
    let mut buf = [0u8; 2048];
    let mut rates = Rates {
        buckets: std::collections::HashMap::new(),
    };
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
        let accepted = accept_probe(&buf[..n])
            .and_then(|p| answer_for(p.target, dst, serves.0, &serves.1).map(|t| (p, t)))
            .and_then(|x| {
                if rates.allow(from.ip().to_canonical()) {
                    Ok(x)
                } else {
                    Err(format!(
                        "not answered: more than {UDP_RATE} probes a second from this source"
                    ))
                }
            });
        match accepted {
            Ok((probe, local)) => {
                let reply = token::reply(&secret.token(&probe, local, port, Protocol::Udp));
                let _ = match dst {
                    Some(src) => {
                        u.async_io(Interest::WRITABLE, || {
                            pktinfo::send_from(&u, &reply, from, src)
                        })
                        .await
                    }
                    None => u.send_to(&reply, from).await,
                };
                c.report(&on, from, Protocol::Udp, port, Ok(()));
            }
            Err(why) => c.report(&on, from, Protocol::Udp, port, Err(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn answers_only_for_the_address_aimed_at_or_the_hosts_own() {
        let any = a("0.0.0.0");
        // Without --as: only where the probe arrived.
        assert_eq!(
            answer_for(a("10.0.0.2"), Some(a("10.0.0.2")), any, &[]),
            Ok(a("10.0.0.2"))
        );
        assert_eq!(
            answer_for(a("10.0.0.2"), Some(a("::ffff:10.0.0.2")), any, &[]),
            Ok(a("10.0.0.2"))
        );
        let relay = answer_for(a("10.0.0.2"), Some(a("10.0.0.3")), any, &[]).unwrap_err();
        assert!(relay.contains("arrived at 10.0.0.3"), "{relay}");
        assert!(answer_for(a("10.0.0.2"), None, any, &[]).is_err());
        assert!(answer_for(a("10.0.0.2"), None, a("10.0.0.2"), &[]).is_ok());
        // With --as: the host's deployment addresses, a NATed public one too.
        let host: Vec<ipnet::IpNet> = vec!["203.0.113.5/32".parse().unwrap()];
        assert_eq!(
            answer_for(a("203.0.113.5"), Some(a("10.0.0.3")), any, &host),
            Ok(a("203.0.113.5"))
        );
        assert!(answer_for(a("10.0.0.3"), Some(a("10.0.0.3")), any, &host).is_err());
    }
}

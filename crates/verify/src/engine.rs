//! Runs many probes at once: names resolved once, a semaphore sized from the
//! open-files limit, results in input order.

use crate::udp_protocols::UdpOptions;
use crate::{limits, tcp, tcp_scan, udp, Finding, Secret, State};
use portplan_model::Protocol;
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};

/// How to probe.
#[derive(Debug, Clone)]
pub struct Config {
    /// Per-probe limit (for UDP it covers every retry).
    pub timeout: Duration,
    /// Extra UDP sends when nothing answers.
    pub retries: u32,
    /// Probes in flight at once; capped by the open-files limit.
    pub concurrency: Option<usize>,
    pub secret: Option<Secret>,
    pub udp: UdpOptions,
    /// What should answer: before install, a responder's token is the only
    /// pass and any other answer is an impostor.
    pub expect: crate::Expect,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(2),
            retries: 2,
            concurrency: None,
            secret: None,
            udp: UdpOptions::default(),
            expect: crate::Expect::Service,
        }
    }
}

/// One path to probe. `host` is an address or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Target {
    pub host: String,
    pub protocol: Protocol,
    pub port: u16,
}

/// A target, the address it resolved to, and what the probe found.
#[derive(Debug, Clone, Serialize)]
pub struct Probed {
    #[serde(flatten)]
    pub target: Target,
    pub address: Option<IpAddr>,
    #[serde(flatten)]
    pub finding: Finding,
}

/// Called after each probe with (done, total).
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Resolves each distinct host once; a failure is kept as the reason.
async fn resolve(
    hosts: impl Iterator<Item = String>,
    limit: Duration,
) -> HashMap<String, Result<IpAddr, String>> {
    let mut out = HashMap::new();
    for h in hosts {
        if out.contains_key(&h) {
            continue;
        }
        let r = match h.parse::<IpAddr>() {
            Ok(ip) => Ok(ip),
            Err(_) => {
                match tokio::time::timeout(limit, tokio::net::lookup_host((h.as_str(), 0))).await {
                    Err(_) => Err(format!(
                        "no DNS answer for `{h}` within {} ms",
                        limit.as_millis()
                    )),
                    Ok(Err(e)) => Err(format!("`{h}` did not resolve: {e}")),
                    Ok(Ok(mut addrs)) => {
                        let all: Vec<SocketAddr> = addrs.by_ref().collect();
                        // Prefer IPv4: the flows and rules are most often written for it.
                        all.iter()
                            .find(|a| a.is_ipv4())
                            .or(all.first())
                            .map(|a| a.ip())
                            .ok_or_else(|| format!("`{h}` resolved to no address"))
                    }
                }
            }
        };
        out.insert(h, r);
    }
    out
}

/// Connect results sent to the runtime at once.
const BATCH: usize = 256;

/// Probes every target; the result has one entry per target, in order.
/// TCP connects run on a blocking thread (tcp_scan), UDP probes and the
/// token exchange of connected TCP sockets run as tasks, all at once.
pub async fn run(targets: Vec<Target>, cfg: Config, progress: Option<Progress>) -> Vec<Probed> {
    let names = resolve(
        targets.iter().map(|t| t.host.clone()),
        cfg.timeout.max(Duration::from_secs(2)),
    )
    .await;
    let total = targets.len();
    let cfg = Arc::new(cfg);
    // Three pools share the descriptor budget: connects, token exchanges, UDP.
    let each = (limits::concurrency(cfg.concurrency) / 3).max(1);
    // Results travel in batches: a message per probe from the blocking connect
    // thread would cost a runtime wake-up (eventfd write + epoll_wait) each.
    let (res_tx, mut res_rx) = mpsc::unbounded_channel::<Vec<(usize, Finding)>>();
    let mut addr_of: Vec<Option<IpAddr>> = vec![None; total];
    let mut tcp: Vec<(usize, SocketAddr)> = Vec::new();
    let mut udp: Vec<(usize, SocketAddr)> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        match names.get(&t.host) {
            Some(Ok(ip)) => {
                addr_of[i] = Some(*ip);
                let sa = SocketAddr::new(*ip, t.port);
                match t.protocol {
                    Protocol::Tcp => tcp.push((i, sa)),
                    Protocol::Udp => udp.push((i, sa)),
                    Protocol::Icmp | Protocol::Esp => {
                        let _ = res_tx.send(vec![(
                            i,
                            Finding::new(
                                State::Filtered,
                                "ICMP and ESP are not probed (they need raw sockets)",
                                None,
                            ),
                        )]);
                    }
                }
            }
            Some(Err(why)) => {
                let _ = res_tx.send(vec![(
                    i,
                    Finding::new(State::Unresolved, why.clone(), None),
                )]);
            }
            None => {
                let _ = res_tx.send(vec![(
                    i,
                    Finding::new(
                        State::Unresolved,
                        format!("`{}` was not looked up", t.host),
                        None,
                    ),
                )]);
            }
        }
    }
    // UDP: one task per probe, at most `each` at once.
    let udp_sem = Arc::new(Semaphore::new(each));
    {
        let (cfg, tx) = (cfg.clone(), res_tx.clone());
        tokio::spawn(async move {
            for (i, sa) in udp {
                let Ok(permit) = udp_sem.clone().acquire_owned().await else {
                    return;
                };
                let (cfg, tx) = (cfg.clone(), tx.clone());
                tokio::spawn(async move {
                    let f = udp::probe(sa, &cfg).await;
                    drop(permit);
                    let _ = tx.send(vec![(i, f)]);
                });
            }
        });
    }
    // TCP: connects on a blocking thread; connected sockets come back here
    // for the token exchange, which has its own bound (the scan waits for it).
    if !tcp.is_empty() {
        let token_sem = Arc::new(Semaphore::new(each));
        let (cfg2, tx) = (cfg.clone(), res_tx.clone());
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let addrs: Vec<SocketAddr> = tcp.iter().map(|(_, a)| *a).collect();
            let mut batch = Vec::with_capacity(BATCH);
            tcp_scan::scan(&addrs, cfg2.timeout, each, |k, c| {
                let (i, sa) = tcp[k];
                match c {
                    tcp_scan::Connect::Failed(e, rtt) => {
                        batch.push((i, tcp::not_connected(Some((&e, rtt)), &cfg2)));
                    }
                    tcp_scan::Connect::Silent => {
                        batch.push((i, tcp::not_connected(None, &cfg2)));
                    }
                    tcp_scan::Connect::Open(s, rtt) => {
                        let Ok(permit) = handle.block_on(token_sem.clone().acquire_owned()) else {
                            return;
                        };
                        let (cfg, tx) = (cfg2.clone(), tx.clone());
                        handle.spawn(async move {
                            let f = match TcpStream::from_std(s) {
                                Ok(s) => tcp::after_connect(s, sa, rtt, &cfg).await,
                                Err(e) => tcp::not_connected(Some((&e, rtt)), &cfg),
                            };
                            drop(permit);
                            let _ = tx.send(vec![(i, f)]);
                        });
                    }
                }
                if batch.len() >= BATCH {
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            });
            let _ = tx.send(batch);
        });
    }
    drop(res_tx);
    let mut found: Vec<Option<Finding>> = vec![None; total];
    let mut done = 0usize;
    while let Some(batch) = res_rx.recv().await {
        for (i, f) in batch {
            found[i] = Some(f);
            done += 1;
            if let Some(p) = &progress {
                p(done, total);
            }
        }
    }
    targets
        .into_iter()
        .zip(found)
        .zip(addr_of)
        .map(|((target, f), address)| Probed {
            target,
            address,
            finding: f.unwrap_or_else(|| {
                Finding::new(
                    State::Filtered,
                    "the probe did not finish (internal error)",
                    None,
                )
            }),
        })
        .collect()
}

/// `run` for callers that are not async. Probes are split over one
/// single-threaded runtime per core: a shared multi-threaded runtime spends
/// more time waking threads (futex) than probing when most probes end in
/// microseconds (a reset on the same host).
pub fn run_blocking(
    targets: Vec<Target>,
    cfg: Config,
    progress: Option<Progress>,
) -> std::io::Result<Vec<Probed>> {
    let total = targets.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shards = cores.min(total / 256).max(1);
    let one = |targets: Vec<Target>, cfg: Config, progress: Option<Progress>| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(run(targets, cfg, progress)))
    };
    if shards == 1 {
        return one(targets, cfg, progress);
    }
    let per_shard = limits::concurrency(cfg.concurrency).div_ceil(shards);
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut parts: Vec<(Vec<usize>, Vec<Target>)> = vec![(Vec::new(), Vec::new()); shards];
    for (i, t) in targets.into_iter().enumerate() {
        parts[i % shards].0.push(i);
        parts[i % shards].1.push(t);
    }
    let mut out: Vec<Option<Probed>> = vec![None; total];
    std::thread::scope(|s| -> std::io::Result<()> {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|(idx, ts)| {
                let mut c = cfg.clone();
                c.concurrency = Some(per_shard);
                let cb: Option<Progress> = progress.clone().map(|p| {
                    let done = done.clone();
                    Arc::new(move |_: usize, _: usize| {
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        p(n, total);
                    }) as Progress
                });
                s.spawn(move || one(ts, c, cb).map(|r| (idx, r)))
            })
            .collect();
        for h in handles {
            let (idx, res) = h
                .join()
                .map_err(|_| std::io::Error::other("a probe thread panicked"))??;
            for (i, p) in idx.into_iter().zip(res) {
                out[i] = Some(p);
            }
        }
        Ok(())
    })?;
    Ok(out.into_iter().flatten().collect())
}

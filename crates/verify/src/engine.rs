//! Runs many probes at once: names resolved once, a semaphore sized from the
//! open-files limit, results in input order.

use crate::udp_protocols::UdpOptions;
use crate::{limits, tcp, udp, Finding, Secret, State};
use portplan_model::Protocol;
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(2),
            retries: 2,
            concurrency: None,
            secret: None,
            udp: UdpOptions::default(),
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

/// Probes every target; the result has one entry per target, in order.
pub async fn run(targets: Vec<Target>, cfg: Config, progress: Option<Progress>) -> Vec<Probed> {
    let names = resolve(
        targets.iter().map(|t| t.host.clone()),
        cfg.timeout.max(Duration::from_secs(2)),
    )
    .await;
    let cfg = Arc::new(cfg);
    let sem = Arc::new(Semaphore::new(limits::concurrency(cfg.concurrency)));
    let total = targets.len();
    let mut results: Vec<Option<Probed>> = vec![None; total];
    let mut set = tokio::task::JoinSet::new();
    let mut done = 0usize;
    let tick = |done: usize| {
        if let Some(p) = &progress {
            p(done, total);
        }
    };
    for (i, t) in targets.into_iter().enumerate() {
        let addr = match names.get(&t.host) {
            Some(Ok(ip)) => *ip,
            Some(Err(why)) => {
                results[i] = Some(Probed {
                    target: t,
                    address: None,
                    finding: Finding::new(State::Unresolved, why.clone(), None),
                });
                done += 1;
                tick(done);
                continue;
            }
            None => unreachable!("every host was resolved above"),
        };
        // Reap finished probes while waiting for a slot, so progress moves.
        let permit = loop {
            if let Ok(p) = sem.clone().try_acquire_owned() {
                break p;
            }
            if let Some(Ok((j, p))) = set.join_next().await {
                results[j] = Some(p);
                done += 1;
                tick(done);
            }
        };
        let cfg = cfg.clone();
        set.spawn(async move {
            let sa = SocketAddr::new(addr, t.port);
            let finding = match t.protocol {
                Protocol::Tcp => tcp::probe(sa, &cfg).await,
                Protocol::Udp => udp::probe(sa, &cfg).await,
                Protocol::Icmp => Finding::new(
                    State::Filtered,
                    "ICMP is not probed (it needs raw sockets)",
                    None,
                ),
            };
            drop(permit);
            (
                i,
                Probed {
                    target: t,
                    address: Some(addr),
                    finding,
                },
            )
        });
    }
    while let Some(r) = set.join_next().await {
        if let Ok((j, p)) = r {
            results[j] = Some(p);
            done += 1;
            tick(done);
        }
    }
    results.into_iter().flatten().collect()
}

/// `run` on a runtime of its own, for callers that are not async.
pub fn run_blocking(
    targets: Vec<Target>,
    cfg: Config,
    progress: Option<Progress>,
) -> std::io::Result<Vec<Probed>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(run(targets, cfg, progress)))
}

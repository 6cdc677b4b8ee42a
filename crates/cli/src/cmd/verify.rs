//! `portplan verify DEPLOYMENT [--from H]`: probes every flow whose source is
//! this host. Also loads and plans a deployment and finds "this host" for
//! `respond` and `listeners`.

use super::probe::{print, run_probes, ProbeOpts};
use super::{Failure, Global, Outcome};
use portplan_model::load::Parsed;
use portplan_model::{Catalog, Deployment, FlowSet};
use portplan_verify::flows::{self, Host};
use portplan_verify::report::{machine_name, now_unix_ms, DeploymentId, Report, RunMeta};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Deployment file (YAML).
    pub deployment: PathBuf,
    /// The host to verify from: a host name of the deployment or an address
    /// (default: the deployment hosts whose addresses are on this machine).
    #[arg(long, value_name = "HOST")]
    pub from: Option<String>,
    /// The product is installed: its services answer, and a completed
    /// handshake or a service's reply passes. Without it (before install)
    /// every target runs `portplan respond`, only a responder's valid token
    /// passes (`verified`), and anything else that answers is an `impostor`.
    #[arg(long)]
    pub installed: bool,
    #[command(flatten)]
    pub opts: ProbeOpts,
}

/// A deployment, its catalog and its plan; warnings go to stderr.
pub fn planned(path: &Path, g: &Global) -> Result<(Catalog, Parsed<Deployment>, FlowSet), Failure> {
    planned_with(path, g, false, false)
}

/// `planned`, leaving out optional requirements when asked.
pub fn planned_with(
    path: &Path,
    g: &Global,
    no_optional: bool,
    no_merge: bool,
) -> Result<(Catalog, Parsed<Deployment>, FlowSet), Failure> {
    // The catalog and the deployment are read side by side (a large
    // deployment's YAML takes a while); a bad catalog is still said first.
    let (cat, dep) = rayon::join(|| g.catalog(), || portplan_plan::load_deployment(path));
    let cat = cat?;
    let dep = dep?;
    let opts = portplan_plan::PlanOptions { no_optional };
    let flows =
        portplan_plan::plan_set(&cat, &dep, &opts, !no_merge).map_err(Failure::Diagnostics)?;
    for d in &flows.diagnostics {
        eprintln!("{}", crate::out::diagnostic(d, g.color));
    }
    Ok((cat, dep, flows))
}

/// The host(s) a command acts as: the one named, or every deployment host
/// with an address on this machine.
pub fn this_host(
    dep: &Parsed<Deployment>,
    named: Option<&str>,
    flag: &str,
) -> Result<Vec<Host>, Failure> {
    let known = || {
        let names: Vec<&str> = dep.value.hosts.keys().map(String::as_str).collect();
        if names.is_empty() {
            "the deployment names no hosts".to_string()
        } else {
            format!("its hosts are {}", names.join(", "))
        }
    };
    match named {
        Some(h) => match portplan_plan::host_view(&dep.value, h) {
            Some((name, addrs)) => Ok(vec![Host { name, addrs }]),
            None => Err(Failure::Message(format!(
                "{flag} {h}: {} has no host, network or address `{h}`; {}",
                dep.file,
                known()
            ))),
        },
        None => {
            let all: Vec<Host> = dep
                .value
                .hosts
                .keys()
                .filter_map(|k| portplan_plan::host_view(&dep.value, k))
                .map(|(name, addrs)| Host { name, addrs })
                .collect();
            let local = flows::local_hosts(&all);
            if local.is_empty() {
                return Err(Failure::Message(format!(
                    "no host of {} has an address on this machine: say which host this is with {flag} ({})",
                    dep.file,
                    known()
                )));
            }
            Ok(local)
        }
    }
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let (_, dep, flowset) = planned(&args.deployment, g)?;
    let hosts = this_host(&dep, args.from.as_deref(), "--from")?;
    let mut cfg = args.opts.config()?;
    let expect = if args.installed {
        portplan_verify::Expect::Service
    } else {
        portplan_verify::Expect::Responder
    };
    cfg.expect = expect;
    if cfg.secret.is_none() && !args.installed {
        return Err(Failure::Message(
            "before install, verify proves each path by the responder's token, which needs the shared secret: set PORTPLAN_SECRET or give --secret-file (the one `portplan respond` uses); after install, add --installed to probe the product's own services".into(),
        ));
    }
    let mut checks = Vec::new();
    let mut skipped = Vec::new();
    for h in &hosts {
        let (c, s) = flows::outbound(&flowset, h);
        checks.extend(c);
        skipped.extend(s);
    }
    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    if checks.is_empty() && skipped.is_empty() {
        eprintln!(
            "portplan: {} plans no flow from {}: nothing to verify",
            dep.file,
            names.join(", ")
        );
    }
    let targets = checks.iter().map(|c| c.target.clone()).collect();
    let started_unix_ms = now_unix_ms();
    let probed = run_probes(targets, cfg)?;
    let title = format!(
        "portplan verify {} --from {}{}",
        dep.file,
        names.join(","),
        if args.installed { " --installed" } else { "" }
    );
    let mut report = Report::from_checks(
        title,
        checks,
        probed,
        skipped,
        expect,
        args.opts.allow_open_filtered,
    );
    // The file was read moments ago to plan; a failure to read it again
    // leaves the hash empty rather than the run without a result.
    let bytes = std::fs::read(&args.deployment).unwrap_or_default();
    report.run = Some(RunMeta {
        sources: names.iter().map(|s| s.to_string()).collect(),
        machine: machine_name(),
        deployment: Some(DeploymentId::of(&dep.value.name, &dep.file, &bytes)),
        started_unix_ms,
        finished_unix_ms: now_unix_ms(),
    });
    print(&report, &args.opts, g)
}

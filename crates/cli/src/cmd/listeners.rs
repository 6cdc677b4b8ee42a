//! `portplan listeners [--deployment D --as H]`: the ports bound on this host
//! and their processes (from /proc); with a deployment, whether each port the
//! host must listen on is free, held by the product, or a conflict.

use super::{Failure, Global, Outcome};
use crate::out::TableOrJson;
use portplan_verify::flows;
use portplan_verify::listeners::{self, Verdict};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Deployment file: compare its needs for this host with what is bound.
    #[arg(long, value_name = "FILE")]
    pub deployment: Option<PathBuf>,
    /// The host this is (default: the deployment hosts whose addresses are on this machine).
    #[arg(long = "as", value_name = "HOST", requires = "deployment")]
    pub as_host: Option<String>,
    /// A word in the process name or command line that marks the product's own
    /// processes (besides the catalog's product id, name and vendor).
    #[arg(long, value_name = "WORD", requires = "deployment")]
    pub expect: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
    /// Same as `--format json` (the older spelling).
    #[arg(long, hide = true)]
    pub json: bool,
}

pub fn run(mut args: Args, g: &Global) -> Outcome {
    if args.json {
        args.format = TableOrJson::Json;
    }
    let json = args.format == TableOrJson::Json;
    let bound = listeners::listeners().map_err(Failure::Message)?;
    let Some(path) = &args.deployment else {
        let text = if json {
            format!(
                "{}\n",
                serde_json::to_string_pretty(&bound).unwrap_or_default()
            )
        } else {
            let rows: Vec<Vec<String>> = bound
                .iter()
                .map(|l| {
                    let (pid, name, cmd) = match &l.process {
                        Some(p) => (p.pid.to_string(), p.name.clone(), p.cmdline.clone()),
                        None => ("-".into(), "?".into(), "(not visible in /proc)".into()),
                    };
                    vec![
                        l.protocol.to_string(),
                        l.address.to_string(),
                        l.port.to_string(),
                        pid,
                        name,
                        cmd,
                    ]
                })
                .collect();
            crate::out::table(
                &["PROTO", "ADDRESS", "PORT", "PID", "PROCESS", "COMMAND"],
                &rows,
                g.color,
            )
        };
        crate::out::emit(&text, None)?;
        return Ok(ExitCode::SUCCESS);
    };
    let (cat, dep, flowset) = super::verify::planned(path, g)?;
    let hosts = super::verify::this_host(&dep, args.as_host.as_deref(), "--as")?;
    let mut net = Vec::new();
    let mut lo = Vec::new();
    for h in &hosts {
        let (n, l) = flows::inbound(&flowset, h);
        net.extend(n);
        lo.extend(l);
    }
    // The catalog's own words for each product: how its processes are likely named.
    let mut words = args.expect.clone();
    for n in net.iter().chain(&lo) {
        for id in &n.products {
            words.push(id.clone());
            words.extend(id.split('-').filter(|w| w.len() >= 4).map(String::from));
            if let Some(p) = cat.get(id) {
                words.push(p.name.replace(' ', ""));
                words.push(p.vendor.replace(' ', ""));
            }
        }
    }
    words.sort();
    words.dedup();
    let checks: Vec<_> = listeners::assess(&net, &bound, &words)
        .into_iter()
        .chain(listeners::assess(&lo, &bound, &words))
        .collect();
    let conflicts = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Conflict)
        .count();
    let text = if json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&checks).unwrap_or_default()
        )
    } else {
        let rows: Vec<Vec<String>> = checks
            .iter()
            .map(|c| {
                vec![
                    format!("{}/{}", c.need.protocol, c.need.port),
                    c.need.scope.as_str().to_string(),
                    c.verdict.as_str().to_string(),
                    if c.note.is_empty() {
                        "-".into()
                    } else {
                        c.note.clone()
                    },
                    c.need.reasons.join(", "),
                ]
            })
            .collect();
        let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        format!(
            "{}\n{} port{} {} must listen on; {} free, {} conflict{}\n",
            crate::out::table(
                &["PORT", "SCOPE", "STATE", "HELD BY", "REQUIREMENTS"],
                &rows,
                g.color
            )
            .trim_end(),
            checks.len(),
            if checks.len() == 1 { "" } else { "s" },
            names.join(", "),
            checks.iter().filter(|c| c.verdict == Verdict::Free).count(),
            conflicts,
            if conflicts == 1 { "" } else { "s" },
        )
    };
    crate::out::emit(&text, None)?;
    Ok(if conflicts == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

//! `portplan report RESULT...`: the `verify --format json` results of many
//! hosts (and the fleet playbook's host records) merged into one report.
//! Exit 0 when the deployment is proven, 1 when a required path failed or
//! was left without a result by a host, 2 on bad input.

use super::{Failure, Global, Outcome};
use portplan_verify::flows::{self, Host};
use portplan_verify::merge::{self, Expected, ExpectedSource, Input};
use portplan_verify::report::DeploymentId;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// `verify --format json` results and fleet host records (`*.json`);
    /// a folder stands for the `.json` files in it.
    #[arg(required = true, value_name = "RESULT")]
    pub results: Vec<PathBuf>,
    /// The deployment: every planned path no result covers is then listed
    /// as not verified, with the cause the host records give.
    #[arg(long, value_name = "FILE")]
    pub deployment: Option<PathBuf>,
    /// Output format; html is one self-contained file.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also fail (exit 1) when a required flow cannot be probed at all
    /// (ICMP, a network as destination, loopback): it stays unproven.
    #[arg(long)]
    pub strict: bool,
    /// Also send the report to a `portplan serve`: the deployment's page
    /// there (`http://HOST:8080/#/deployments/NAME`). A server with tokens
    /// needs PORTPLAN_SERVE_TOKEN.
    #[arg(long, value_name = "URL")]
    pub push: Option<String>,
    /// Who sent it, as the server's history shows it.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "portplan report",
        requires = "push"
    )]
    pub push_source: String,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Junit,
    Md,
    Html,
}

/// The files named, folders opened (their `.json` files, sorted).
fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| {
                Failure::Message(format!("cannot read the folder {}: {e}", p.display()))
            })?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json") && f.is_file())
                .collect();
            files.sort();
            if files.is_empty() {
                eprintln!(
                    "portplan: warning: the folder {} holds no .json file",
                    p.display()
                );
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn read_inputs(paths: &[PathBuf]) -> Result<Vec<(String, Input)>, Failure> {
    let mut inputs = Vec::new();
    for f in input_files(paths)? {
        let shown = f.display().to_string();
        let text = std::fs::read_to_string(&f)
            .map_err(|e| Failure::Message(format!("cannot read {shown}: {e}")))?;
        let input = merge::parse_input(&text).map_err(|e| {
            // A JSON syntax error already starts with its line:col.
            let sep = if e.starts_with(|c: char| c.is_ascii_digit()) {
                ":"
            } else {
                ": "
            };
            Failure::Message(format!("{shown}{sep}{e}"))
        })?;
        inputs.push((shown, input));
    }
    Ok(inputs)
}

/// What the deployment expects from every host and network that sends flows.
fn expected(path: &Path, g: &Global) -> Result<Expected, Failure> {
    let (_, dep, flowset) = super::verify::planned(path, g)?;
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Message(format!("cannot read {}: {e}", path.display())))?;
    let mut sources = Vec::new();
    for name in dep.value.hosts.keys().chain(dep.value.networks.keys()) {
        let Some((name, addrs)) = portplan_plan::host_view(&dep.value, name) else {
            continue;
        };
        let host = Host { name, addrs };
        let (checks, skipped) = flows::outbound(&flowset, &host);
        if checks.is_empty() && skipped.is_empty() {
            continue;
        }
        sources.push(ExpectedSource {
            network: dep.value.networks.contains_key(&host.name),
            name: host.name,
            checks,
            skipped,
        });
    }
    Ok(Expected {
        deployment: DeploymentId::of(&dep.value.name, &dep.file, &bytes),
        sources,
    })
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let inputs = read_inputs(&args.results)?;
    let exp = match &args.deployment {
        Some(p) => Some(expected(p, g)?),
        None => None,
    };
    let m = merge::merge(inputs, exp.as_ref());
    for w in &m.warnings {
        eprintln!("portplan: warning: {w}");
    }
    let text = match args.format {
        Format::Json => m.json(),
        Format::Junit => m.junit(),
        Format::Md => m.markdown(),
        Format::Html => m.html(),
        Format::Table => {
            let mut t = String::new();
            let (h, rows) = m.matrix_table();
            let h: Vec<&str> = h.iter().map(String::as_str).collect();
            t.push_str(&crate::out::table(&h, &rows, g.color));
            let (h, rows) = m.paths_table();
            // Required failures first, then optional ones: what a reader looks for.
            let mut rows = rows;
            rows.sort_by_key(|r| {
                (
                    r.get(5).is_none_or(|x| x == "pass"),
                    r.get(1).is_none_or(|x| x != "yes"),
                )
            });
            t.push('\n');
            t.push_str(&crate::out::table(&h, &rows, g.color));
            for (h, rows) in [m.gaps_table(), m.hosts_table()] {
                if !rows.is_empty() {
                    t.push('\n');
                    t.push_str(&crate::out::table(&h, &rows, g.color));
                }
            }
            t.push('\n');
            t.push_str(&m.summary());
            t.push('\n');
            t
        }
    };
    crate::out::emit(&text, args.output.as_deref())?;
    if args.format != Format::Table || args.output.is_some() {
        eprintln!("{}", m.summary());
    }
    if let Some(url) = &args.push {
        let json = if args.format == Format::Json {
            text
        } else {
            m.json()
        };
        eprintln!(
            "portplan: {}",
            super::report_push::push(url, &json, &args.push_source)?
        );
    }
    let unprobeable = m
        .not_verified
        .iter()
        .filter(|n| n.required && n.gap == merge::Gap::Unprobeable)
        .count();
    if args.strict && unprobeable > 0 {
        eprintln!(
            "portplan: --strict: {unprobeable} required flow{} cannot be probed (listed as not verified)",
            if unprobeable == 1 { "" } else { "s" }
        );
    }
    Ok(if m.proven() && !(args.strict && unprobeable > 0) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

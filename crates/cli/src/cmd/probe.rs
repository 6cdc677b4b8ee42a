//! `portplan probe ADDR --ports SPEC`: the verify engine without a
//! deployment, for quick checks. Also holds the probe options and the report
//! printing that `verify` shares.

use super::{Failure, Global, Outcome};
use portplan_verify::report::Report;
use portplan_verify::udp_protocols::UdpOptions;
use portplan_verify::{duration, engine, progress, spec, Config, Secret, Target};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Address or host name to probe.
    pub addr: String,
    /// Ports: `1-65535` (TCP), `tcp:443,8443 udp:1812,53` (groups separated by spaces).
    #[arg(long, short = 'p', value_name = "SPEC", num_args = 1.., required = true)]
    pub ports: Vec<String>,
    /// What the ports should be: a run then fails (exit 1) on any port
    /// that is not. Without it, probe reports the states and exits 0.
    #[arg(long, value_enum, value_name = "STATE")]
    pub expect: Option<ProbeExpect>,
    #[command(flatten)]
    pub opts: ProbeOpts,
}

/// `probe --expect`: what a port must be found to pass.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProbeExpect {
    /// Something answers (a service or a responder); with
    /// --allow-open-filtered a silent UDP port counts too.
    Open,
    /// A portplan responder answers with a valid token (before install).
    Verified,
    /// Nothing answers: closed, filtered, or a silent UDP port.
    Closed,
}

impl ProbeExpect {
    fn passes(self, state: portplan_verify::State, allow_open_filtered: bool) -> bool {
        use portplan_verify::{Expect, State};
        match self {
            ProbeExpect::Open => state.passes(Expect::Service, allow_open_filtered),
            ProbeExpect::Verified => state.passes(Expect::Responder, allow_open_filtered),
            ProbeExpect::Closed => {
                matches!(state, State::Closed | State::Filtered | State::OpenFiltered)
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Junit,
}

/// Options of every command that probes.
#[derive(clap::Args)]
pub struct ProbeOpts {
    /// Per-probe time limit (UDP: for all its tries together), e.g. 500ms, 2s.
    #[arg(long, default_value = "2s", value_parser = duration::parse_duration)]
    pub timeout: std::time::Duration,
    /// Extra UDP sends when nothing answers.
    #[arg(long, default_value_t = 2)]
    pub retries: u32,
    /// Probes in flight at once (default 2048; never above what the open-files limit allows).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// File holding the shared secret (default: the PORTPLAN_SECRET environment variable).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// RADIUS shared secret file: enables Status-Server probes (RFC 5997) on RADIUS ports.
    #[arg(long, value_name = "FILE")]
    pub radius_secret_file: Option<PathBuf>,
    /// SNMP v2c community for SNMP probes.
    #[arg(long, default_value = "public")]
    pub snmp_community: String,
    /// Count open|filtered (UDP: no answer, no ICMP error) as passing.
    #[arg(long)]
    pub allow_open_filtered: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ProbeOpts {
    /// The engine settings; a missing secret is allowed (tokens then stay unchecked).
    pub fn config(&self) -> Result<Config, Failure> {
        let secret = match Secret::load(self.secret_file.as_deref()).map_err(Failure::Message)? {
            Some(l) => {
                if let Some(w) = &l.warning {
                    eprintln!("portplan: warning: {w}");
                }
                Some(l.secret)
            }
            None => None,
        };
        let radius_secret = match &self.radius_secret_file {
            Some(p) => {
                let mut b = std::fs::read(p).map_err(|e| {
                    Failure::Message(format!(
                        "cannot read the RADIUS secret file {}: {e}",
                        p.display()
                    ))
                })?;
                while matches!(b.last(), Some(b'\n' | b'\r')) {
                    b.pop();
                }
                Some(b)
            }
            None => None,
        };
        Ok(Config {
            timeout: self.timeout,
            retries: self.retries,
            concurrency: self.concurrency,
            secret,
            udp: UdpOptions {
                snmp_community: Some(self.snmp_community.clone()),
                radius_secret,
            },
            expect: portplan_verify::Expect::Service,
        })
    }
}

/// Runs the engine with a progress bar when stderr is a terminal.
pub fn run_probes(targets: Vec<Target>, cfg: Config) -> Result<Vec<engine::Probed>, Failure> {
    let bar = progress::bar(targets.len());
    let cb = bar.as_ref().map(|(cb, _)| cb.clone());
    let res = engine::run_blocking(targets, cfg, cb)
        .map_err(|e| Failure::Message(format!("cannot start the probe runtime: {e}")));
    if let Some((_, pb)) = bar {
        pb.finish_and_clear();
    }
    res
}

/// Prints a report in the chosen format; exit 0 when every required path passed, else 1.
pub fn print(report: &Report, opts: &ProbeOpts, g: &Global) -> Outcome {
    let text = match opts.format {
        Format::Json => report.json(),
        Format::Junit => report.junit(),
        Format::Table => {
            let (h, rows) = report.table();
            let mut t = crate::out::table(&h, &rows, g.color);
            if !report.not_probed.is_empty() {
                let (h, rows) = report.not_probed_table();
                t.push('\n');
                t.push_str(&crate::out::table(&h, &rows, g.color));
            }
            t.push('\n');
            t.push_str(&report.summary());
            t.push('\n');
            t
        }
    };
    crate::out::emit(&text, opts.output.as_deref())?;
    if opts.format != Format::Table || opts.output.is_some() {
        eprintln!("{}", report.summary());
    }
    Ok(if report.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let groups = spec::parse_ports(&args.ports.join(" "))
        .map_err(|e| Failure::Message(format!("--ports: {e}")))?;
    if args.addr.parse::<portplan_model::Addr>().is_err() {
        return Err(Failure::Message(format!(
            "`{}` is not an address or a host name",
            args.addr
        )));
    }
    let cfg = args.opts.config()?;
    let targets: Vec<Target> = groups
        .iter()
        .flat_map(|(proto, set)| {
            set.iter_ports().map(|port| Target {
                host: args.addr.clone(),
                protocol: *proto,
                port,
            })
        })
        .collect();
    let probed = run_probes(targets, cfg)?;
    let title = format!("portplan probe {}", args.addr);
    let expect = match args.expect {
        Some(ProbeExpect::Verified) => portplan_verify::Expect::Responder,
        _ => portplan_verify::Expect::Service,
    };
    let mut report = Report::from_probes(title, probed, expect, args.opts.allow_open_filtered);
    for r in &mut report.rows {
        match args.expect {
            Some(e) => r.passed = e.passes(r.probed.finding.state, args.opts.allow_open_filtered),
            // No expectation: every state is an answer, none a failure.
            None => r.required = false,
        }
    }
    if args.expect.is_none() {
        eprintln!(
            "portplan: note: states only, exit 0; --expect open|verified|closed makes them a check"
        );
    }
    print(&report, &args.opts, g)
}

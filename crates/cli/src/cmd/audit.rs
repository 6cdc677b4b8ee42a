//! `portplan audit [DEPLOYMENT] --rules FILE`: what a ruleset (ours, or
//! exported from a live firewall) does with each planned flow, which rules
//! permit more than the plan, which are shadowed or unused; or, with
//! `--flow`, what it does with single flows.

use super::audit_out::{self, Audited, Report};
use super::{Failure, Global, Outcome};
use crate::one_of::OneOf;
use crate::out;
use portplan_model::catalog::Scope;
use portplan_model::{Addr, Diagnostic, Location};
use portplan_ruleset::fast_hash::{FastMap, FastSet};
use portplan_ruleset::space::Addrs;
use portplan_ruleset::{
    flow_spaces, host_flow_spaces, judge, parse_query, query, reverse, Compiled, Members, Ruleset,
    Verdict,
};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of the audit itself; with `--missing`, any plan format.
const OWN_FORMATS: &[&str] = &["table", "json", "csv", "junit"];

fn format_parser() -> OneOf {
    let mut all: Vec<&'static str> = OWN_FORMATS.to_vec();
    all.extend(["md"]);
    all.extend(portplan_render::formats());
    OneOf(all)
}

fn rules_format_parser() -> OneOf {
    let mut all = vec!["auto"];
    all.extend(portplan_ruleset::formats());
    OneOf(all)
}

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  portplan audit examples/strongdm.yaml --rules gw1.nft --as sdm-gw-1
  portplan audit examples/campus.yaml --rules asa-running.txt --member interface:inside=10.1.0.0/16
  portplan audit examples/campus.yaml --rules edge.cfg --missing --format cisco-ios > change.txt
  portplan audit --rules sgs.json --flow 'tcp 10.0.0.1 -> 10.0.1.5:443'

Verdicts: allowed (by which rules, file:line), blocked (by which rule or
policy), partly (which ports or addresses pass), unknown (a construct the
reader does not understand, or a set whose members the file does not list:
give them with --member). Exit codes: 0 every required flow (or every asked
flow) is allowed; 1 one is blocked, partly blocked or unknown; 2 bad input.")]
pub struct Args {
    /// The deployment whose planned flows the ruleset should carry (YAML).
    /// Not needed with --flow/--flows.
    #[arg(value_name = "DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
    /// The ruleset: a file portplan wrote, or an export of a live firewall
    /// (`-` reads stdin).
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// The ruleset's format; `auto` recognises it from its content.
    #[arg(long, default_value = "auto", value_parser = rules_format_parser())]
    pub rules_format: String,
    /// The host the ruleset protects (a host firewall needs it), or whose
    /// flows to audit: a host or network of the deployment, or an address.
    #[arg(long = "as", value_name = "HOST")]
    pub as_host: Option<String>,
    /// What a set the ruleset names without listing contains:
    /// `interface:eth0=10.0.0.0/8`, `zone:trust=10.1.0.0/16,10.2.0.0/16`,
    /// `sg:sg-0ab12=10.0.1.5`, `tag:web=web-1` (deployment names allowed),
    /// `app.example.com=203.0.113.9` (a DNS name's addresses), `=any`.
    #[arg(long = "member", value_name = "SET=ADDRESSES")]
    pub members: Vec<String>,
    /// Audit only the filters whose name contains this (an ACL, a chain,
    /// `ingress`); repeatable. `--filter list` lists them.
    #[arg(long = "filter", value_name = "NAME")]
    pub filters: Vec<String>,
    /// A single flow to ask about: `tcp 10.0.0.1 -> 10.0.1.5:443`,
    /// `udp 10.0.0.0/24 -> 10.0.1.5:53,123`, `icmp 10.0.0.1 -> 10.0.0.2 echo-request`.
    #[arg(long = "flow", value_name = "FLOW")]
    pub flows: Vec<String>,
    /// A file of flows to ask about, one per line (`#` comments).
    #[arg(long = "flows", value_name = "FILE")]
    pub flows_file: Option<PathBuf>,
    /// Output: table, json, csv or junit; with --missing, any plan format.
    #[arg(long, short, default_value = "table", value_parser = format_parser())]
    pub format: String,
    /// Write only the planned flows the ruleset still blocks, as rules in
    /// --format (a change ticket that holds only the change).
    #[arg(long)]
    pub missing: bool,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Fail (exit 2) when the reader did not understand a construct, or a
    /// verdict is unknown.
    #[arg(long)]
    pub strict: bool,
    /// Leave out requirements the catalog marks optional.
    #[arg(long)]
    pub no_optional: bool,
    /// One verdict per requirement, protocol and pair of role entries, as
    /// planned (like `plan --no-merge`): which requirement is blocked.
    #[arg(long)]
    pub no_merge: bool,
}

pub fn run(args: Args, g: &Global) -> Outcome {
    if args.missing
        && OWN_FORMATS.contains(&args.format.as_str())
        && args.format != "csv"
        && args.format != "json"
    {
        return Err(Failure::Message(format!(
            "--missing writes rules: give --format a plan format (nftables, cisco-ios, csv, ...), not `{}`",
            args.format
        )));
    }
    if !args.missing && !OWN_FORMATS.contains(&args.format.as_str()) {
        return Err(Failure::Message(format!(
            "--format {} writes rules: add --missing to write the flows still blocked as {} rules; the audit itself is table, json, csv or junit",
            args.format, args.format
        )));
    }
    let clock = Clock::new();
    let listing = args.filters.iter().any(|f| f == "list");
    // The rules are read while the deployment is planned: neither needs
    // the other, and on large inputs each takes about a second.
    let (rs, planned) = rayon::join(
        || -> Result<_, Failure> {
            let (file, text) = read_rules(&args.rules)?;
            let format = (args.rules_format != "auto").then_some(args.rules_format.as_str());
            Ok(portplan_ruleset::read(&text, &file, format)?)
        },
        || match &args.deployment {
            Some(p) if !listing => {
                super::verify::planned_with(p, g, args.no_optional, args.no_merge).map(Some)
            }
            _ => Ok(None),
        },
    );
    let mut rs = rs?;
    if listing {
        let mut t = String::new();
        for f in &rs.filters {
            t.push_str(&format!("{}  ({})\n", f.name, f.direction.as_str()));
        }
        out::emit(&t, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    select_filters(&mut rs, &args.filters)?;
    say_what_was_read(&rs, g);
    if args.strict && !rs.issues.is_empty() {
        return Err(Failure::Message(format!(
            "--strict: {} construct{} of {} not understood (listed above)",
            rs.issues.len(),
            if rs.issues.len() == 1 { "" } else { "s" },
            rs.file
        )));
    }
    let planned = planned?;
    let dep = planned.as_ref().map(|(_, d, _)| &d.value);
    let members = parse_members(&args.members, dep)?;
    let host = match &args.as_host {
        None => None,
        Some(h) => Some(resolve_host(
            h,
            dep,
            planned.as_ref().map(|(_, d, _)| d.file.as_str()),
        )?),
    };
    clock.lap("read the rules and plan");
    let c = Compiled::new(&rs, &members);
    clock.lap("compile");
    let host_addrs = host.as_ref().map(|(_, a)| query::side_addrs(a, &members));
    if !args.flows.is_empty() || args.flows_file.is_some() {
        return ask(&args, &c, host_addrs.as_ref(), &members, g);
    }
    let Some((_, dep, set)) = planned else {
        return Err(Failure::Message(
            "give a deployment to audit its planned flows, or ask about single flows with --flow"
                .into(),
        ));
    };
    if rs.is_host_firewall() && host.is_none() {
        return Err(Failure::Message(format!(
            "{} is a host firewall ({} protects the host it runs on): say which host with --as ({})",
            rs.file,
            rs.format,
            super::plan::hosts_hint(&dep.value)
        )));
    }
    let set = match &host {
        Some((name, addrs)) => portplan_plan::report::for_host(&set, name, addrs),
        None => set,
    };
    let host_fw = rs.is_host_firewall();
    let flows: Vec<&portplan_model::Flow> = set
        .flows
        .iter()
        .filter(|f| f.scope != Scope::Loopback)
        .collect();
    let loopback = set.flows.len() - flows.len();
    let spaces: Vec<Vec<portplan_ruleset::space::Space>> = flows
        .par_iter()
        .map(|f| match (&host, host_fw) {
            (Some((name, addrs)), true) => host_flow_spaces(f, &members, name, addrs),
            _ => flow_spaces(f, &members, host_fw),
        })
        .collect();
    // An unmerged plan repeats boxes (one flow per requirement, several
    // requirements per port): each distinct box is judged once.
    let mut seen: FastMap<&Vec<portplan_ruleset::space::Space>, usize> =
        FastMap::with_capacity_and_hasher(spaces.len(), Default::default());
    let mut distinct: Vec<&Vec<portplan_ruleset::space::Space>> = Vec::new();
    let which: Vec<usize> = spaces
        .iter()
        .map(|s| {
            *seen.entry(s).or_insert_with(|| {
                distinct.push(s);
                distinct.len() - 1
            })
        })
        .collect();
    let verdicts: Vec<portplan_ruleset::Judged> = distinct
        .par_iter()
        .map(|s| judge(&c, s, host_addrs.as_ref()))
        .collect();
    let hits: FastSet<portplan_ruleset::Hit> = verdicts
        .iter()
        .flat_map(|j| j.hits.iter().copied())
        .collect();
    let all: Vec<portplan_ruleset::space::Space> =
        distinct.iter().flat_map(|s| s.iter().cloned()).collect();
    drop(seen);
    clock.lap("judge the flows");
    let rev = reverse(&c, &all, &hits, host_addrs.as_ref());
    clock.lap("reverse checks");
    let audited: Vec<Audited> = flows
        .iter()
        .zip(&which)
        .map(|(f, &i)| Audited {
            flow: f,
            judged: &verdicts[i],
        })
        .collect();
    let unknown = audited
        .iter()
        .filter(|a| a.judged.verdict == Verdict::Unknown)
        .count();
    if args.strict && unknown > 0 {
        return Err(Failure::Message(format!(
            "--strict: {unknown} verdict{} unknown (see why with the audit's table)",
            if unknown == 1 { " is" } else { "s are" }
        )));
    }
    let failing = audited
        .iter()
        .filter(|a| {
            a.flow.required
                && a.judged
                    .parts
                    .iter()
                    .any(|p| p.outcome == Verdict::Blocked || p.outcome == Verdict::Unknown)
        })
        .count();
    if args.missing {
        let missing = audit_out::missing(&set, &audited);
        let note = format!(
            "{} of {} audited flows are blocked by {} in whole or in part",
            missing.flows.len(),
            audited.len(),
            rs.file
        );
        eprintln!("portplan: {note}");
        for a in audited
            .iter()
            .filter(|a| a.judged.verdict == Verdict::Unknown)
        {
            eprintln!(
                "portplan: not in the change (verdict unknown): {}",
                audit_out::flow_words(a.flow)
            );
        }
        let text = super::plan::write_format(&args.format, &missing, host.clone(), &dep.value, g)?;
        out::emit(&text, args.output.as_deref())?;
        return Ok(exit(failing));
    }
    let report = Report {
        ruleset: &rs,
        deployment: &dep.value,
        deployment_file: &dep.file,
        host: host.as_ref().map(|(n, _)| n.as_str()),
        flows: &audited,
        reverse: &rev,
        loopback,
    };
    let text = match args.format.as_str() {
        "json" => audit_out::json(&report),
        "csv" => audit_out::csv(&report)?,
        "junit" => audit_out::junit(&report),
        _ => audit_out::table(&report, g.color),
    };
    out::emit(&text, args.output.as_deref())?;
    clock.lap("write the report");
    // Freeing a large audit's structures one by one would only cost time
    // (a third of a second for 100,000 rules); the process ends here.
    std::mem::forget((text, audited, rev, all, c, distinct));
    std::mem::forget((verdicts, spaces, which, flows));
    std::mem::forget((rs, set, dep));
    Ok(exit(failing))
}

/// Stage times on stderr when `PORTPLAN_TIMINGS` is set: for the benchmark
/// (benches/audit/run.sh), which reports where an audit spends its time.
struct Clock(Option<std::cell::Cell<std::time::Instant>>);

impl Clock {
    fn new() -> Self {
        Clock(
            std::env::var_os("PORTPLAN_TIMINGS")
                .map(|_| std::cell::Cell::new(std::time::Instant::now())),
        )
    }
    fn lap(&self, what: &str) {
        if let Some(t) = &self.0 {
            let now = std::time::Instant::now();
            // Resident memory too (Linux), to see which stage holds what.
            let rss_mb = std::fs::read_to_string("/proc/self/statm")
                .ok()
                .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map_or(0, |pages| pages * 4096 / 1_000_000);
            eprintln!(
                "timing: {what}: {:.3}s, resident {rss_mb} MB",
                (now - t.get()).as_secs_f64()
            );
            t.set(now);
        }
    }
}

fn exit(failing: usize) -> ExitCode {
    if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Single flows: the action, the deciding rule and its line.
fn ask(args: &Args, c: &Compiled, host: Option<&Addrs>, members: &Members, g: &Global) -> Outcome {
    let mut texts: Vec<(String, Option<(String, usize)>)> =
        args.flows.iter().map(|f| (f.clone(), None)).collect();
    if let Some(p) = &args.flows_file {
        let name = p.display().to_string();
        let body = std::fs::read_to_string(p)
            .map_err(|e| Failure::Message(format!("cannot read {name}: {e}")))?;
        for (i, l) in body.lines().enumerate() {
            let l = l.split('#').next().unwrap_or("").trim();
            if !l.is_empty() {
                texts.push((l.to_string(), Some((name.clone(), i + 1))));
            }
        }
    }
    let mut diags = Vec::new();
    let mut queries = Vec::new();
    for (t, at) in &texts {
        match parse_query(t, members) {
            Ok(q) => queries.push(q),
            Err(e) => {
                let (file, line) = at.clone().unwrap_or(("--flow".into(), 0));
                let d = Diagnostic::error(file, e).hint(
                    "write `PROTO SOURCE -> DESTINATION:PORTS`, e.g. `tcp 10.0.0.1 -> 10.0.1.5:443`",
                );
                diags.push(if line > 0 {
                    d.at(Some(Location { line, column: 1 }))
                } else {
                    d
                });
            }
        }
    }
    if !diags.is_empty() {
        return Err(Failure::Diagnostics(diags));
    }
    // A host firewall judges traffic to it and from it differently: without
    // --as, each flow is asked as arriving at its destination.
    let inbound = host.is_none() && c.set.is_host_firewall();
    if inbound {
        eprintln!(
            "portplan: note: {} is a host firewall and no --as names its host: each flow is asked as traffic arriving at its destination",
            c.set.file
        );
    }
    let answers: Vec<(portplan_ruleset::Query, portplan_ruleset::Judged)> = queries
        .into_iter()
        .map(|q| {
            let dst = q.spaces.iter().fold(Addrs::none(), |a, s| a.union(&s.dst));
            let j = judge(c, &q.spaces, if inbound { Some(&dst) } else { host });
            (q, j)
        })
        .collect();
    let text = match args.format.as_str() {
        "json" => audit_out::answers_json(c.set, &answers),
        "csv" => audit_out::answers_csv(c.set, &answers)?,
        "junit" => audit_out::answers_junit(c.set, &answers),
        _ => audit_out::answers_table(c.set, &answers, g.color),
    };
    out::emit(&text, args.output.as_deref())?;
    let failing = answers
        .iter()
        .filter(|(_, j)| j.verdict != Verdict::Allowed)
        .count();
    Ok(exit(failing))
}

fn read_rules(p: &std::path::Path) -> Result<(String, String), Failure> {
    use std::io::Read;
    let name = p.display().to_string();
    let mut bytes = Vec::new();
    let res = if name == "-" {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    res.map_err(|e| Failure::Message(format!("cannot read {name}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Failure::Message(format!(
            "{name}: not UTF-8 text (byte {at}): export the rules as text (iptables-save, nft list ruleset, show running-config, JSON)"
        ))
    })?;
    let file = if name == "-" {
        "<stdin>".to_string()
    } else {
        name
    };
    Ok((file, text))
}

/// Keep the filters `--filter` names; an unknown name is an error that
/// lists the filters there are.
fn select_filters(rs: &mut Ruleset, wanted: &[String]) -> Result<(), Failure> {
    if wanted.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = rs.filters.iter().map(|f| f.name.clone()).collect();
    for w in wanted {
        if !names.iter().any(|n| n.contains(w.as_str())) {
            return Err(Failure::Message(format!(
                "--filter {w}: no filter of {} is named so; its filters: {}",
                rs.file,
                names.join(", ")
            )));
        }
    }
    rs.filters
        .retain(|f| wanted.iter().any(|w| f.name.contains(w.as_str())));
    // Chosen by hand: the filter sees what it is asked, wherever it is bound.
    for f in &mut rs.filters {
        f.src_in = None;
        f.dst_in = None;
    }
    Ok(())
}

/// What the reader did not understand and what it assumed, on stderr.
fn say_what_was_read(rs: &Ruleset, g: &Global) {
    for i in &rs.issues {
        let d = Diagnostic::warning(
            &rs.file,
            format!("not understood: {} ({})", i.message, i.text),
        )
        .at(Some(Location {
            line: i.line,
            column: 1,
        }))
        .hint("verdicts this affects are `unknown`; --strict fails on it");
        eprintln!("{}", out::diagnostic(&d, g.color));
    }
    for n in &rs.notes {
        let mut d = Diagnostic::warning(&rs.file, format!("assumed: {}", n.message));
        if n.line > 0 {
            d = d.at(Some(Location {
                line: n.line,
                column: 1,
            }));
        }
        eprintln!("{}", out::diagnostic(&d, g.color));
    }
}

/// `--member SET=ADDR,...`: addresses, networks, `any`, DNS names, or the
/// deployment's host and network names.
fn parse_members(
    raw: &[String],
    dep: Option<&portplan_model::Deployment>,
) -> Result<Members, Failure> {
    let mut m = Members::default();
    for r in raw {
        let (k, v) = r.rsplit_once('=').ok_or_else(|| {
            Failure::Message(format!(
                "--member {r}: write SET=ADDRESSES, e.g. `interface:eth0=10.0.0.0/8` or `sg:sg-0ab12=10.0.1.5,10.0.1.6`"
            ))
        })?;
        let k = k.trim();
        if k.is_empty() {
            return Err(Failure::Message(format!(
                "--member {r}: the set's name is missing before `=`"
            )));
        }
        let mut a = Addrs::none();
        for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let addrs: Vec<Addr> = match dep.and_then(|d| portplan_plan::host_view(d, part)) {
                Some((_, addrs))
                    if part.parse::<Addr>().is_err()
                        || dep.is_some_and(|d| {
                            d.hosts.contains_key(part) || d.networks.contains_key(part)
                        }) =>
                {
                    addrs
                }
                _ => vec![part.parse::<Addr>().map_err(|e| {
                    Failure::Message(match portplan_model::addr_check::explain(part) {
                        Some((m, h)) => format!("--member {r}: {m}; {h}"),
                        None => format!(
                            "--member {r}: {e}; or name a host or network of the deployment"
                        ),
                    })
                })?],
            };
            a = a.union(&query::side_addrs(&addrs, &Members::default()));
        }
        let entry = m.map.entry(k.to_string()).or_default();
        *entry = entry.union(&a);
    }
    Ok(m)
}

/// `--as`: a host or network of the deployment, or an address.
fn resolve_host(
    h: &str,
    dep: Option<&portplan_model::Deployment>,
    file: Option<&str>,
) -> Result<(String, Vec<Addr>), Failure> {
    if let Some(d) = dep {
        if let Some(v) = portplan_plan::host_view(d, h) {
            return Ok(v);
        }
    }
    if let Some((m, help)) = portplan_model::addr_check::explain(h) {
        return Err(Failure::Message(format!("--as {h}: {m}; {help}")));
    }
    match h.parse::<Addr>() {
        Ok(a @ Addr::Net(_)) => Ok((h.to_string(), vec![a])),
        _ => Err(Failure::Message(match (dep, file) {
            (Some(d), Some(f)) => format!(
                "--as {h}: {f} has no host, network or address `{h}`: {}",
                super::plan::hosts_hint_for(d, h)
            ),
            _ => format!(
                "--as {h}: give an address or network (or a deployment whose host it names)"
            ),
        })),
    }
}

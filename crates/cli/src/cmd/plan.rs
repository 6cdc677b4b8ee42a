//! `portplan plan DEPLOYMENT`: the deployment's flows as a table, JSON, CSV,
//! Markdown, or any firewall format of the render stage.

use super::{Failure, Global, Outcome};
use crate::one_of::OneOf;
use crate::out;
use portplan_model::{Diagnostic, FlowSet};
use portplan_plan::report;
use portplan_plan::ticket;
use portplan_plan::{host_view, load_deployment, plan_set, PlanOptions};
use portplan_render::{HostView, Management, RenderOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Formats the plan stage writes itself; the rest come from the render stage.
const OWN_FORMATS: &[&str] = &["table", "json", "csv", "md"];

/// Formats made from the unmerged plan: they group flows per pair of hosts
/// themselves, and so name each pair's own requirements.
const UNMERGED_FORMATS: &[&str] = &["csv", "mermaid", "dot"];

fn format_parser() -> OneOf {
    let mut all: Vec<&'static str> = OWN_FORMATS.to_vec();
    all.extend(portplan_render::formats());
    OneOf(all)
}

#[derive(clap::Args)]
pub struct Args {
    /// The deployment file (YAML); `-` reads stdin. Start one with
    /// `portplan new PRODUCT`; the format: README, "The deployment file".
    #[arg(value_name = "DEPLOYMENT")]
    pub deployment: PathBuf,
    /// Output format: a table, data (json, csv, md) or firewall rules.
    /// Several (`-f cisco-ios,junos` or `-f cisco-ios -f junos`) plan once
    /// and write one file per format into the folder `-o` names.
    #[arg(long, short, default_value = "table", value_parser = format_parser(),
          value_delimiter = ',', action = clap::ArgAction::Append)]
    pub format: Vec<String>,
    /// Write for one host (a name under `hosts:`/`networks:`, or an address
    /// the deployment places): required by host firewalls, a filter otherwise.
    #[arg(long, value_name = "HOST")]
    pub for_host: Option<String>,
    /// Write to this file instead of stdout; with several formats, the
    /// folder to write `FORMAT.EXT` files into (made if missing).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Fail (exit 2) when anything is left out: planner warnings, or flows
    /// the format cannot express.
    #[arg(long)]
    pub strict: bool,
    /// Leave out requirements the catalog marks optional.
    #[arg(long)]
    pub no_optional: bool,
    /// One rule per requirement, protocol and pair of role entries, as
    /// planned: for reviewing or diffing a plan rule by rule.
    #[arg(long)]
    pub no_merge: bool,
    /// Host firewalls: filter outbound too (default deny both ways). By
    /// default nftables, iptables and Windows filter inbound only.
    #[arg(long)]
    pub egress: bool,
    /// Host firewalls: an address or CIDR administrators connect from, kept
    /// open (SSH; on Windows also RDP and WinRM) before any other rule.
    /// Adds to the deployment's `management: { from: [...] }`.
    #[arg(long, value_name = "CIDR")]
    pub management: Vec<String>,
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let mut formats: Vec<&str> = Vec::new();
    for f in &args.format {
        if !formats.contains(&f.as_str()) {
            formats.push(f);
        }
    }
    if formats.len() > 1 && args.output.as_deref().is_none_or(|p| p == Path::new("-")) {
        return Err(Failure::Message(format!(
            "{} formats need a folder to write into: add `-o DIR` (one file per format)",
            formats.len()
        )));
    }
    let cat = g.catalog()?;
    let dep = load_deployment(&args.deployment)?;
    let opts = PlanOptions {
        no_optional: args.no_optional,
    };
    let set = plan_set(&cat, &dep, &opts, !args.no_merge).map_err(Failure::Diagnostics)?;
    let management = management(&dep, &args.management)?;
    // The CSV ticket and the pictures name, for each pair of hosts, only that
    // pair's own requirements: merged flows share their reasons among all
    // their hosts, so these are made from the unmerged plan (and merge their
    // rows and arrows per pair themselves).
    let unmerged = if formats.iter().any(|f| UNMERGED_FORMATS.contains(f)) && !args.no_merge {
        Some(plan_set(&cat, &dep, &opts, false).map_err(Failure::Diagnostics)?)
    } else {
        None
    };
    // The location index and the catalog are not needed past planning.
    let portplan_model::load::Parsed {
        value: deployment,
        file,
        ..
    } = dep;
    // Freeing the catalog would only cost time; the process ends soon.
    std::mem::forget(cat);
    let dep = Named {
        value: deployment,
        file,
    };
    for d in &set.diagnostics {
        eprintln!("{}", out::diagnostic(d, g.color));
    }
    let host = match &args.for_host {
        None => None,
        Some(h) => Some(host_view(&dep.value, h).ok_or_else(|| {
            Failure::Message(format!(
                "`{h}` is not a host of {}: {}",
                dep.file,
                hosts_hint_for(&dep.value, h)
            ))
        })?),
    };
    // `any` is the parties outside the deployment: no machine applies a
    // host firewall written for it.
    if let Some((name, addrs)) = &host {
        let host_format = formats
            .iter()
            .any(|f| portplan_render::renderer(f).is_some_and(|r| r.per_host()));
        if host_format && addrs.contains(&portplan_model::Addr::Any) {
            return Err(Failure::Message(format!(
                "`{name}` is `any`, the parties outside the deployment: a host firewall is written for a host or a network of hosts"
            )));
        }
    }
    // A host firewall is written for the host from every flow; other formats
    // keep only the flows that start or end at it.
    let filters = formats.iter().any(|f| {
        OWN_FORMATS.contains(f) || portplan_render::renderer(f).is_some_and(|r| !r.per_host())
    });
    let filtered = host
        .as_ref()
        .filter(|_| filters)
        .map(|(name, addrs)| report::for_host(&set, name, addrs));
    let mut texts = Vec::new();
    let mut left_out = 0;
    for format in &formats {
        let (text, n) = if OWN_FORMATS.contains(format) {
            (
                own_format(
                    format,
                    match (&unmerged, *format) {
                        // The ticket keeps only the host's rows itself.
                        (Some(u), "csv") => u,
                        _ => filtered.as_ref().unwrap_or(&set),
                    },
                    &dep.value,
                    host.as_ref(),
                    g,
                )?,
                0,
            )
        } else if let (Some(u), true) = (&unmerged, UNMERGED_FORMATS.contains(format)) {
            // A picture keeps to --for-host's own arrows itself.
            rendered_with(
                format,
                u,
                None,
                host.clone(),
                &dep.value,
                g,
                HostOptions::default(),
            )?
        } else {
            let host_opts = HostOptions {
                egress: args.egress,
                management: management.clone(),
            };
            rendered_with(
                format,
                &set,
                filtered.as_ref(),
                host.clone(),
                &dep.value,
                g,
                host_opts,
            )?
        };
        texts.push((*format, text));
        left_out += n;
    }
    let warned = set.diagnostics.len() + left_out;
    if args.strict && warned > 0 {
        return Err(Failure::Message(format!(
            "--strict: {warned} item{} left out or not expressible (listed above); nothing written",
            if warned == 1 { "" } else { "s" }
        )));
    }
    match args.output.as_deref() {
        Some(dir) if texts.len() > 1 => write_folder(dir, &texts)?,
        // One format (several without `-o` were refused above).
        output => {
            for (_, text) in &texts {
                out::emit(text, output)?;
            }
        }
    }
    // The process ends here: freeing tens of thousands of flows one by one
    // would only cost time (the OS takes the memory back at once).
    std::mem::forget(set);
    std::mem::forget(filtered);
    std::mem::forget(unmerged);
    std::mem::forget(dep);
    Ok(ExitCode::SUCCESS)
}

/// One file per format, `DIR/FORMAT.EXT`, each named on stderr.
fn write_folder(dir: &Path, texts: &[(&str, String)]) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Message(format!("cannot make folder {}: {e}", dir.display())))?;
    for (format, text) in texts {
        let ext = portplan_render::renderer(format)
            .map_or_else(|| own_extension(format), |r| r.extension());
        let path = dir.join(format!("{format}.{ext}"));
        out::emit(text, Some(&path))?;
        eprintln!("wrote {} ({} lines)", path.display(), text.lines().count());
    }
    Ok(())
}

fn own_extension(format: &str) -> &'static str {
    match format {
        "json" => "json",
        "csv" => "csv",
        "md" => "md",
        _ => "txt",
    }
}

/// The deployment and its file name, once planning is done.
struct Named {
    value: portplan_model::Deployment,
    file: String,
}

fn own_format(
    format: &str,
    set: &FlowSet,
    dep: &portplan_model::Deployment,
    host: Option<&(String, Vec<portplan_model::Addr>)>,
    g: &Global,
) -> Result<String, Failure> {
    match format {
        "json" => serde_json::to_string_pretty(set)
            .map(|s| s + "\n")
            .map_err(|e| Failure::Message(format!("cannot write JSON: {e}"))),
        "csv" => csv_text(set, dep, host, g),
        "md" => Ok(report::markdown_named(set, &report::legend(dep, set))),
        _ => Ok(table_text(set, dep, g.color)),
    }
}

/// Names in the table, addresses in a legend below it: rules stay readable
/// when a side holds many hosts.
fn table_text(set: &FlowSet, dep: &portplan_model::Deployment, color: bool) -> String {
    let legend = report::legend(dep, set);
    let names = |s: &portplan_model::Side| report::side_names(s, &legend);
    let rows: Vec<Vec<String>> = set
        .flows
        .iter()
        .map(|f| {
            let r = report::row(f);
            vec![
                names(&f.src),
                names(&f.dst),
                r.protocol,
                r.ports,
                r.scope,
                if r.required { "yes" } else { "optional" }.to_string(),
                report::reasons_short(f),
            ]
        })
        .collect();
    let mut text = out::table(
        &[
            "FROM", "TO", "PROTO", "PORTS", "SCOPE", "REQUIRED", "BECAUSE",
        ],
        &rows,
        color,
    );
    let legend: Vec<Vec<String>> = legend
        .into_iter()
        .map(|(k, v)| {
            let a: Vec<String> = v.iter().map(ToString::to_string).collect();
            vec![k, a.join(", ")]
        })
        .collect();
    if !legend.is_empty() {
        text.push('\n');
        text.push_str(&out::table(&["NAME", "ADDRESSES"], &legend, color));
    }
    text.push_str(&format!(
        "\n{} rules for `{}`. More detail: --format md, csv or json; firewall rules: see `portplan plan --help`.\n",
        set.flows.len(),
        set.deployment,
    ));
    text
}

/// The change ticket: one row per source, destination, protocol and ports
/// (see `portplan_plan::ticket`); loopback flows are left out, said on stderr.
fn csv_text(
    set: &FlowSet,
    dep: &portplan_model::Deployment,
    host: Option<&(String, Vec<portplan_model::Addr>)>,
    g: &Global,
) -> Result<String, Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::Message(format!("cannot write CSV: {e}"));
    let titles = page_titles(g);
    let title = |b: &portplan_model::flow::Because| {
        let file = b
            .source
            .rsplit_once(':')
            .map_or(b.source.as_str(), |(f, _)| f);
        titles.get(&(b.product.clone(), file.to_string())).cloned()
    };
    let only = host.map(|(n, a)| (n.as_str(), a.as_slice()));
    let t = ticket::ticket(set, &portplan_plan::directory(dep), &title, only);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(ticket::COLUMNS).map_err(|e| fail(&e))?;
    for r in &t.rows {
        w.write_record(r).map_err(|e| fail(&e))?;
    }
    if !t.loopback.is_empty() {
        eprintln!(
            "portplan: note: csv leaves out the loopback flows (each host talks to itself; no firewall between hosts is involved): {}; --format md or json lists them",
            t.loopback.join(", ")
        );
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

/// The management path: the deployment's `management:` plus `--management`.
fn management(
    dep: &portplan_model::load::Parsed<portplan_model::Deployment>,
    extra: &[String],
) -> Result<Option<Management>, Failure> {
    let mut m = portplan_plan::management_path(dep).map(|p| Management {
        from: p.from,
        labels: p.labels,
        ports: p.ports,
    });
    for raw in extra {
        let a: portplan_model::Addr = raw
            .trim()
            .parse()
            .map_err(|e| Failure::Message(format!("--management {raw}: {e}")))?;
        if !matches!(a, portplan_model::Addr::Net(_)) {
            return Err(Failure::Message(format!(
                "--management {raw}: give an address or CIDR administrators connect from"
            )));
        }
        let m = m.get_or_insert_with(Management::default);
        m.from.push(a);
        m.labels.push(raw.trim().to_string());
    }
    Ok(m)
}

/// What host firewalls take from the command line (`--egress`, `--management`).
#[derive(Default)]
struct HostOptions {
    egress: bool,
    management: Option<Management>,
}

/// (product, file) -> the title of the page a citation `file:line` points
/// at, from the catalog's `sources:`. Empty when the catalog does not load.
fn page_titles(g: &Global) -> std::collections::HashMap<(String, String), String> {
    let mut out = std::collections::HashMap::new();
    if let Ok(cat) = g.catalog() {
        for (id, p) in &cat.products {
            for s in &p.sources {
                let file = s.file.clone().unwrap_or_else(|| s.id.clone());
                out.insert((id.clone(), file), s.title.clone());
            }
        }
    }
    out
}

/// A render-stage format; returns the text and how many items it could not express.
/// `filtered` is `set` cut to the flows of `--for-host`, if given.
fn rendered_with(
    format: &str,
    set: &FlowSet,
    filtered: Option<&FlowSet>,
    host: Option<(String, Vec<portplan_model::Addr>)>,
    dep: &portplan_model::Deployment,
    g: &Global,
    host_opts: HostOptions,
) -> Result<(String, usize), Failure> {
    let r = portplan_render::renderer(format)
        .ok_or_else(|| Failure::Message(format!("unknown format `{format}`")))?;
    if r.per_host() && host.is_none() {
        return Err(Failure::Message(format!(
            "`{format}` is a host firewall: pick the host with --for-host ({})",
            hosts_hint(dep)
        )));
    }
    let input = if r.per_host() {
        set
    } else {
        filtered.unwrap_or(set)
    };
    let opts = RenderOptions {
        for_host: host.map(|(name, addrs)| HostView { name, addrs }),
        directory: portplan_plan::directory(dep)
            .into_iter()
            .map(|(name, addrs)| HostView { name, addrs })
            .collect(),
        egress: host_opts.egress,
        management: host_opts.management,
    };
    let done = r
        .render(input, &opts)
        .map_err(|e| Failure::Message(format!("cannot write {format}: {e}")))?;
    for u in &done.unexpressed {
        // An item of no requirement is about the whole file (a lock-out warning).
        let message = if u.requirements.is_empty() {
            u.reason.clone()
        } else {
            format!(
                "not expressed: {} [{}]",
                u.reason,
                u.requirements.join(", ")
            )
        };
        let d = Diagnostic::warning(format!("{format} output"), message);
        eprintln!("{}", out::diagnostic(&d, g.color));
    }
    Ok((done.text, done.unexpressed.len()))
}

/// The hosts a user can name with --for-host.
/// `hosts_hint`, led by the names `asked` most likely meant.
pub(crate) fn hosts_hint_for(dep: &portplan_model::Deployment, asked: &str) -> String {
    let names = dep
        .hosts
        .keys()
        .chain(dep.networks.keys())
        .map(String::as_str);
    match portplan_model::diag::suggest(asked, names).as_slice() {
        [] => hosts_hint(dep),
        meant => format!(
            "did you mean {}? ({})",
            meant
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            hosts_hint(dep)
        ),
    }
}

pub(crate) fn hosts_hint(dep: &portplan_model::Deployment) -> String {
    let names: Vec<&str> = dep
        .hosts
        .keys()
        .chain(dep.networks.keys())
        .map(String::as_str)
        .collect();
    if names.is_empty() {
        "the deployment names no host; give an address it places".to_string()
    } else {
        format!(
            "hosts: {}; or an address the deployment places",
            names.join(", ")
        )
    }
}

/// One flow set in any plan format (own or rendered), warnings on stderr:
/// for commands that make a flow set of their own (`audit --missing`).
pub(crate) fn write_format(
    format: &str,
    set: &FlowSet,
    host: Option<(String, Vec<portplan_model::Addr>)>,
    dep: &portplan_model::Deployment,
    g: &Global,
) -> Result<String, Failure> {
    if OWN_FORMATS.contains(&format) {
        own_format(format, set, dep, None, g)
    } else {
        // Flows missing from a ruleset are written in both directions: an
        // outbound one missing from a filtering OUTPUT chain needs its rule.
        let both_ways = HostOptions {
            egress: true,
            management: None,
        };
        Ok(rendered_with(format, set, None, host, dep, g, both_ways)?.0)
    }
}

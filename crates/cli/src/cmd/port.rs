//! `portplan port N[/tcp|/udp]`: who uses a port, and its IANA name.

use super::{Failure, Global, Outcome};
use crate::out;
use portplan_model::iana;
use portplan_model::{PortSpec, Protocol};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A port, optionally with a protocol: `443`, `1812/udp`.
    port: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = out::TableOrJson::Table)]
    format: out::TableOrJson,
    /// Same as `--format json` (the older spelling).
    #[arg(long, hide = true)]
    json: bool,
}

fn parse(spec: &str) -> Result<(u16, Option<Protocol>), Failure> {
    let (num, proto) = match spec.split_once('/') {
        Some((n, p)) => (n, Some(p.parse::<Protocol>().map_err(Failure::Message)?)),
        None => (spec, None),
    };
    let port: u32 = num.trim().parse().map_err(|_| {
        Failure::Message(format!(
            "`{spec}` is not a port: write a number like 443 or 1812/udp"
        ))
    })?;
    let range = portplan_model::PortRange::new(port, port).map_err(Failure::Message)?;
    if let Some(p) = proto.filter(|p| !p.has_ports()) {
        return Err(Failure::Message(format!(
            "{} has no ports: write /tcp or /udp",
            p.as_str().to_ascii_uppercase()
        )));
    }
    Ok((range.low, proto))
}

#[derive(serde::Serialize)]
struct Use {
    product: String,
    requirement: String,
    service: String,
    from: Vec<String>,
    to: Vec<String>,
    protocol: String,
    how: String,
    /// `exact` when the requirement names the port itself, `range` when
    /// the port is inside a range it gives.
    #[serde(rename = "match")]
    matched: &'static str,
    /// The title of the page the requirement cites.
    page: String,
    source: String,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let (port, proto) = parse(&a.port)?;
    let cat = g.catalog()?;
    let mut uses = Vec::new();
    for p in cat.products.values() {
        for r in &p.requirements {
            for rp in r.protocols() {
                if !rp.has_ports() || proto.is_some_and(|x| x != rp) {
                    continue;
                }
                // An exact match wins over a range of the same requirement.
                let mut hows: Vec<(bool, String)> = r
                    .ports
                    .iter()
                    .filter_map(|ps| match ps {
                        PortSpec::Fixed(range) if range.contains(port) => {
                            Some(if range.is_single() {
                                (true, "fixed".to_string())
                            } else {
                                (false, format!("in range {range}"))
                            })
                        }
                        PortSpec::Param(name) => {
                            let prm = p.parameter(name)?;
                            match (prm.default, prm.allowed) {
                                (Some(d), _) if d.contains(port) => {
                                    Some((d.is_single(), format!("default of {name}")))
                                }
                                (_, Some(a)) if a.contains(port) => {
                                    Some((false, format!("allowed for {name} ({a})")))
                                }
                                _ => None,
                            }
                        }
                        _ => None,
                    })
                    .collect();
                hows.sort_by_key(|(exact, _)| !exact);
                if let Some((exact, how)) = hows.into_iter().next() {
                    let page = p
                        .source(&r.source.doc)
                        .map_or_else(|| r.source.doc.clone(), |d| d.title.clone());
                    uses.push(Use {
                        product: p.product.clone(),
                        requirement: r.id.clone(),
                        service: r.service.clone(),
                        from: r.from_roles(),
                        to: r.to_roles(),
                        protocol: rp.to_string(),
                        how,
                        matched: if exact { "exact" } else { "range" },
                        page,
                        source: p.cite(&r.source),
                    });
                }
            }
        }
    }
    let names = iana::lookup(port, proto);
    if a.json || a.format == out::TableOrJson::Json {
        let v = serde_json::json!({ "port": port, "iana": names, "uses": uses });
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| Failure::Message(format!("cannot write json: {e}")))?;
        out::emit(&(text + "\n"), None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    if names.is_empty() {
        s.push_str(&format!("{port}: no IANA service name\n"));
    }
    for n in &names {
        let desc = if n.description.is_empty() {
            String::new()
        } else {
            format!(" ({})", n.description)
        };
        s.push_str(&format!("{port}/{}: IANA `{}`{desc}\n", n.protocol, n.name));
    }
    s.push('\n');
    if uses.is_empty() {
        s.push_str("No catalog requirement uses this port.\n");
    }
    for (kind, title) in [
        ("exact", format!("Requirements that name {port} itself")),
        (
            "range",
            format!("Requirements whose port range contains {port}"),
        ),
    ] {
        let rows: Vec<Vec<String>> = uses
            .iter()
            .filter(|u| u.matched == kind)
            .map(|u| {
                // `Cisco ISE Ports Reference, line 23`: the page by title;
                // the file name is in --format json.
                let line = u.source.rsplit_once(':').map_or("", |(_, l)| l);
                vec![
                    u.product.clone(),
                    u.requirement.clone(),
                    u.protocol.clone(),
                    format!("{} -> {}", u.from.join(","), u.to.join(",")),
                    u.how.clone(),
                    format!(
                        "{}, line{} {line}",
                        u.page,
                        if line.contains('-') { "s" } else { "" }
                    ),
                    u.service.clone(),
                ]
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        s.push_str(&format!("{title} ({}):\n", rows.len()));
        s.push_str(&out::table(
            &[
                "PRODUCT",
                "REQUIREMENT",
                "PROTO",
                "FROM -> TO",
                "HOW",
                "PAGE",
                "SERVICE",
            ],
            &rows,
            g.color,
        ));
        s.push('\n');
    }
    out::emit(&s, None)?;
    Ok(ExitCode::SUCCESS)
}

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
                let how = r.ports.iter().find_map(|ps| match ps {
                    PortSpec::Fixed(range) if range.contains(port) => Some(if range.is_single() {
                        "fixed".to_string()
                    } else {
                        format!("in range {range}")
                    }),
                    PortSpec::Param(name) => {
                        let prm = p.parameter(name)?;
                        if prm.default.is_some_and(|d| d.contains(port)) {
                            Some(format!("default of {name}"))
                        } else if prm.allowed.is_some_and(|d| d.contains(port)) {
                            Some(format!("allowed for {name}"))
                        } else {
                            None
                        }
                    }
                    _ => None,
                });
                if let Some(how) = how {
                    uses.push(Use {
                        product: p.product.clone(),
                        requirement: r.id.clone(),
                        service: r.service.clone(),
                        from: r.from_roles(),
                        to: r.to_roles(),
                        protocol: rp.to_string(),
                        how,
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
    } else {
        let rows: Vec<Vec<String>> = uses
            .iter()
            .map(|u| {
                vec![
                    u.product.clone(),
                    u.requirement.clone(),
                    u.protocol.clone(),
                    format!("{} -> {}", u.from.join(","), u.to.join(",")),
                    u.how.clone(),
                    u.source.clone(),
                    u.service.clone(),
                ]
            })
            .collect();
        s.push_str(&out::table(
            &[
                "PRODUCT",
                "REQUIREMENT",
                "PROTO",
                "FROM -> TO",
                "HOW",
                "SOURCE",
                "SERVICE",
            ],
            &rows,
            g.color,
        ));
    }
    out::emit(&s, None)?;
    Ok(ExitCode::SUCCESS)
}

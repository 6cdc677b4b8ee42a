//! `portplan respond DEPLOYMENT --as H`: before the product is installed,
//! listen on every port this host must accept and answer portplan probes
//! with an authenticated token, logging each probe, until the TTL ends.

use super::respond_log::{self, Log};
use super::{Failure, Global, Outcome};
use portplan_model::Protocol;
use portplan_verify::flows;
use portplan_verify::responder::{self, Event, Settings};
use portplan_verify::{duration, spec, Secret};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

#[derive(clap::Args)]
pub struct Args {
    /// Deployment file (YAML); or give --ports instead.
    #[arg(required_unless_present = "ports")]
    pub deployment: Option<PathBuf>,
    /// The host this is: a host name of the deployment or an address
    /// (default: the deployment hosts whose addresses are on this machine).
    #[arg(long = "as", value_name = "HOST")]
    pub as_host: Option<String>,
    /// Answer on these ports instead of a deployment's: `tcp:443 udp:1812`.
    #[arg(long, value_name = "SPEC", num_args = 1.., conflicts_with = "deployment")]
    pub ports: Vec<String>,
    /// Stop after this long (a hard deadline: the process ends then).
    #[arg(long, default_value = "15m", value_parser = duration::parse_duration)]
    pub ttl: std::time::Duration,
    /// The longest --ttl accepted: a responder left running is a listener
    /// on every planned port, so raising this is a decision to make.
    #[arg(long, default_value = "24h", value_parser = duration::parse_duration)]
    pub max_ttl: std::time::Duration,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// File holding the shared secret (default: the PORTPLAN_SECRET environment variable).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// Log format: a line of text per event, or a JSON object per line.
    #[arg(long, short = 'f', value_enum, default_value_t = crate::out::TableOrJson::Table)]
    pub format: crate::out::TableOrJson,
}

fn ports_text(ports: &[(Protocol, u16)]) -> String {
    let mut out = Vec::new();
    for proto in [Protocol::Tcp, Protocol::Udp] {
        let set = portplan_model::PortSet::from_ranges(
            ports
                .iter()
                .filter(|(p, _)| *p == proto)
                .map(|(_, n)| portplan_model::PortRange::single(*n)),
        );
        if !set.is_empty() {
            out.push(format!("{proto}/{set}"));
        }
    }
    out.join(" ")
}

pub fn run(args: Args, g: &Global) -> Outcome {
    if args.as_host.is_some() && args.deployment.is_none() {
        return Err(Failure::Message(
            "--as names a host of a deployment: give the deployment file too".into(),
        ));
    }
    if args.ttl > args.max_ttl {
        return Err(Failure::Message(format!(
            "--ttl {} is longer than --max-ttl ({}): a responder should not outlive the check it serves; raise --max-ttl if this is meant",
            duration_text(args.ttl),
            duration_text(args.max_ttl)
        )));
    }
    if args.ttl.is_zero() {
        return Err(Failure::Message(
            "--ttl 0 would stop before answering anything: give e.g. 15m".into(),
        ));
    }
    let loaded = Secret::load(args.secret_file.as_deref())
        .map_err(Failure::Message)?
        .ok_or_else(|| {
            Failure::Message(format!(
                "a responder needs the shared secret: set PORTPLAN_SECRET or give --secret-file ({})",
                portplan_verify::token::MAKE_ONE
            ))
        })?;
    if let Some(w) = &loaded.warning {
        respond_log::warn(w);
    }
    let secret = loaded.secret;
    // The addresses answered for: the deployment host's, when it names them.
    let mut serves: Vec<ipnet::IpNet> = Vec::new();
    let ports: Vec<(Protocol, u16)> = match &args.deployment {
        Some(path) => {
            let (_, dep, flowset) = super::verify::planned(path, g)?;
            let hosts = super::verify::this_host(&dep, args.as_host.as_deref(), "--as")?;
            let mut ports: Vec<(Protocol, u16)> = Vec::new();
            for h in &hosts {
                let (net, _) = flows::inbound(&flowset, h);
                ports.extend(net.iter().map(|i| (i.protocol, i.port)));
                serves.extend(h.addrs.iter().filter_map(|a| match a {
                    portplan_model::Addr::Net(n) => Some(*n),
                    _ => None,
                }));
            }
            ports.sort();
            ports.dedup();
            let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
            if ports.is_empty() {
                return Err(Failure::Message(format!(
                    "{} plans no flow to {}: nothing to answer",
                    dep.file,
                    names.join(", ")
                )));
            }
            let _ = writeln!(
                std::io::stdout(),
                "portplan respond: as {} ({} ports)",
                names.join(", "),
                ports.len()
            );
            ports
        }
        None => spec::parse_ports(&args.ports.join(" "))
            .map_err(|e| Failure::Message(format!("--ports: {e}")))?
            .into_iter()
            .flat_map(|(p, set)| set.iter_ports().map(move |n| (p, n)).collect::<Vec<_>>())
            .collect(),
    };
    let bound = Arc::new(Mutex::new(Vec::new()));
    let failed = Arc::new(Mutex::new(0usize));
    let (b, f) = (bound.clone(), failed.clone());
    let ttl = args.ttl;
    let json = args.format == crate::out::TableOrJson::Json;
    let log = Log::stdout(json);
    let l = log.clone();
    // One event as a line: its text, or with --format json an object with
    // the event's fields and the same text.
    let say = move |event: &str, fields: serde_json::Value, text: String| -> String {
        if !json {
            return text;
        }
        let mut v = fields;
        v["event"] = event.into();
        v["text"] = text.into();
        v.to_string()
    };
    let on: responder::OnEvent = Arc::new(move |e| {
        match e {
        Event::Bound { protocol, port } => {
            if let Ok(mut v) = b.lock() {
                v.push((protocol, port));
            }
        }
        Event::Skipped {
            protocol,
            port,
            why,
            holder,
        } => {
            if let Ok(mut n) = f.lock() {
                *n += 1;
            }
            match holder {
                Some(h) => respond_log::warn(&format!(
                    "skipped {protocol}/{port}: {why}, held by {} on {}",
                    h.owner_text(),
                    h.address
                )),
                None => respond_log::warn(&format!("skipped {protocol}/{port}: {why}")),
            }
        }
        Event::Ready { bound: n, skipped } => {
            let v = b.lock().map(|v| ports_text(&v)).unwrap_or_default();
            l.line(say(
                "ready",
                serde_json::json!({ "bound": n, "skipped": skipped, "ttl_s": ttl.as_secs() }),
                format!(
                    "listening on {n} port{} ({v}); {skipped} skipped; answering for {}",
                    if n == 1 { "" } else { "s" },
                    duration_text(ttl)
                ),
            ));
        }
        Event::Probe {
            from,
            protocol,
            port,
        } => l.event(say(
            "probe",
            serde_json::json!({ "from": from.to_string(), "protocol": protocol.to_string(), "port": port }),
            format!("probe from {from} to {protocol}/{port}: answered with a token"),
        )),
        Event::Ignored {
            from,
            protocol,
            port,
            why,
        } => l.event(say(
            "ignored",
            serde_json::json!({ "from": from.to_string(), "protocol": protocol.to_string(), "port": port, "why": why.to_string() }),
            format!("ignored from {from} to {protocol}/{port}: {why}"),
        )),
        Event::Done {
            probes,
            ignored,
            why,
        } => l.line(say(
            "done",
            serde_json::json!({ "probes": probes, "ignored": ignored, "why": why.to_string() }),
            format!("done ({why}): {probes} probes answered, {ignored} ignored"),
        )),
    }
    });
    // The TTL is a hard deadline: whatever holds the runtime up (a stuck
    // output, a task that will not end), the process ends shortly after.
    std::thread::spawn(move || {
        std::thread::sleep(ttl + std::time::Duration::from_secs(3));
        respond_log::warn("the time to live is over and the responder had not stopped: ending it");
        std::process::exit(0);
    });
    let settings = Settings {
        ports,
        bind: args.bind,
        secret,
        ttl: args.ttl,
        serves,
    };
    responder::run_blocking(settings, on)
        .map_err(|e| Failure::Message(format!("cannot start the responder: {e}")))?;
    log.flush(std::time::Duration::from_secs(1));
    let n = failed.lock().map(|n| *n).unwrap_or(0);
    Ok(if n == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn duration_text(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{} ms", d.as_millis()),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

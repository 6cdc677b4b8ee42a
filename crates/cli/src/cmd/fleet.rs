//! `portplan fleet DEPLOYMENT -o DIR`: writes an Ansible project that proves
//! the deployment's flows on every host (responders on the hosts that must
//! accept flows, `verify --from` on every source) and merges the results
//! with `portplan report`. portplan drives the engine operations teams
//! already run against these hosts instead of growing agents of its own.

use super::fleet_inventory::{self, Entry};
use super::fleet_playbook::{PLAYBOOK, SECRET_VARS};
use super::{Failure, Global, Outcome};
use portplan_verify::{duration, flows};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Deployment file (YAML).
    pub deployment: PathBuf,
    /// Folder to write the Ansible project to (created; files portplan
    /// writes there are replaced).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: PathBuf,
    /// Your Ansible inventory (YAML): hosts are matched by name and keep
    /// their connection settings; a host the deployment needs and the
    /// inventory lacks is an error. Without it, each host is reached at its
    /// deployment address.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// The product is installed: no responders; its services must answer.
    #[arg(long)]
    pub installed: bool,
    /// Verify a network's flows from one host in it: `clients=pc-17`.
    /// Networks that send flows and have none are listed as not verified.
    #[arg(long, value_name = "NETWORK=HOST")]
    pub representative: Vec<String>,
    /// Time to live of the responders (they stop by themselves then, even
    /// if the control node goes away).
    #[arg(long, default_value = "15m", value_parser = duration::parse_duration)]
    pub ttl: std::time::Duration,
    /// Per-probe time limit passed to `verify --timeout`.
    #[arg(long, default_value = "2s", value_parser = duration::parse_duration)]
    pub probe_timeout: std::time::Duration,
    /// portplan is already installed on the hosts at this path: it is not copied.
    #[arg(long, value_name = "PATH")]
    pub remote_binary: Option<String>,
    /// The portplan binary copied to the hosts (default: this one; it must
    /// run on the hosts' system and architecture).
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// Send the merged report to a `portplan serve` at the end: the
    /// deployment's page there (`http://HOST:8080/#/deployments/NAME`).
    /// The control node's PORTPLAN_SERVE_TOKEN is its token.
    #[arg(long, value_name = "URL")]
    pub push: Option<String>,
    /// What is said once the project is written: a line of text, or JSON
    /// (the folder, each inventory host's part, the command to run).
    #[arg(long, short = 'f', value_enum, default_value_t = crate::out::TableOrJson::Table)]
    pub format: crate::out::TableOrJson,
}

/// A deployment host or network that sends flows, or accepts them.
struct Role {
    name: String,
    sends: bool,
    accepts: bool,
    network: bool,
    address: Option<String>,
}

fn roles(path: &Path, g: &Global, installed: bool) -> Result<(Vec<Role>, String), Failure> {
    let (_, dep, flowset) = super::verify::planned(path, g)?;
    let mut out = Vec::new();
    for name in dep.value.hosts.keys().chain(dep.value.networks.keys()) {
        let Some((name, addrs)) = portplan_plan::host_view(&dep.value, name) else {
            continue;
        };
        let host = flows::Host { name, addrs };
        let (checks, _) = flows::outbound(&flowset, &host);
        let (inbound, _) = flows::inbound(&flowset, &host);
        let network = dep.value.networks.contains_key(&host.name);
        let address = host.addrs.iter().find_map(|a| match a {
            portplan_model::Addr::Net(n) if n.prefix_len() == n.max_prefix_len() => {
                Some(n.addr().to_string())
            }
            portplan_model::Addr::Name(s) => Some(s.clone()),
            _ => None,
        });
        out.push(Role {
            sends: !checks.is_empty(),
            // A network cannot run a responder; flows to it are not probed.
            accepts: !installed && !network && !inbound.is_empty(),
            network,
            address,
            name: host.name,
        });
    }
    Ok((out, dep.value.name.clone()))
}

/// `NETWORK=HOST` pairs, checked against the deployment.
fn representatives(given: &[String], roles: &[Role]) -> Result<Vec<(String, String)>, Failure> {
    let mut out = Vec::new();
    for r in given {
        let Some((net, host)) = r
            .split_once('=')
            .filter(|(n, h)| !n.is_empty() && !h.is_empty())
        else {
            return Err(Failure::Message(format!(
                "--representative {r}: give NETWORK=HOST, e.g. clients=pc-17"
            )));
        };
        match roles.iter().find(|x| x.name == net) {
            Some(x) if x.sends => out.push((net.to_string(), host.to_string())),
            Some(_) => eprintln!(
                "portplan: warning: --representative {r}: {net} sends no flow that can be probed; ignored"
            ),
            None => {
                return Err(Failure::Message(format!(
                    "--representative {r}: the deployment has no network or host `{net}`"
                )))
            }
        }
    }
    Ok(out)
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Message(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Failure::Message(format!("cannot write {}: {e}", path.display())))
}

/// Copies the `.yaml`/`.yml` files of the catalog folder into the project.
fn copy_catalog(from: &Path, to: &Path) -> Result<(), Failure> {
    let rd = std::fs::read_dir(from)
        .map_err(|e| Failure::Message(format!("cannot read --catalog {}: {e}", from.display())))?;
    std::fs::create_dir_all(to)
        .map_err(|e| Failure::Message(format!("cannot create {}: {e}", to.display())))?;
    for f in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        if f.is_file() && f.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            if let Some(name) = f.file_name() {
                std::fs::copy(&f, to.join(name))
                    .map_err(|e| Failure::Message(format!("cannot copy {}: {e}", f.display())))?;
            }
        }
    }
    Ok(())
}

/// A YAML string scalar, quoted (JSON strings are valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn absolute(p: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(p)
        .map_err(|e| Failure::Message(format!("cannot resolve {}: {e}", p.display())))
}

pub fn run(args: Args, g: &Global) -> Outcome {
    if let Some(url) = &args.push {
        super::report_push::target(url)?;
    }
    let (roles, name) = roles(&args.deployment, g, args.installed)?;
    // The name goes into YAML comments: a line break would end the comment.
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let reps = representatives(&args.representative, &roles)?;
    let user = match &args.inventory {
        Some(p) => Some(fleet_inventory::read(p)?),
        None => None,
    };
    let mut entries: Vec<Entry> = Vec::new();
    for r in roles
        .iter()
        .filter(|r| !r.network && (r.sends || r.accepts))
    {
        entries.push(Entry {
            name: r.name.clone(),
            machine: r.name.clone(),
            address: r.address.clone(),
            from: r.sends.then(|| r.name.clone()),
            as_host: r.accepts.then(|| r.name.clone()),
        });
    }
    for (net, host) in &reps {
        // Its own inventory entry, so a host can both play its part and
        // stand for a network; both entries reach the same machine.
        let taken = entries.iter().any(|e| e.name == *host);
        let address = roles
            .iter()
            .find(|r| r.name == *host && !r.network)
            .and_then(|r| r.address.clone())
            .or_else(|| Some(host.clone()));
        entries.push(Entry {
            name: if taken {
                format!("{host}-for-{net}")
            } else {
                host.clone()
            },
            machine: host.clone(),
            address,
            from: Some(net.clone()),
            as_host: None,
        });
    }
    for r in roles.iter().filter(|r| r.network && r.sends) {
        if !reps.iter().any(|(n, _)| n == &r.name) {
            eprintln!(
                "portplan: note: {} is a network: its flows are listed as not verified unless --representative {}=HOST names a host in it",
                r.name, r.name
            );
        }
    }
    if entries.is_empty() {
        return Err(Failure::Message(format!(
            "{} plans no flow between its hosts that a probe can prove: nothing for a fleet to do",
            args.deployment.display()
        )));
    }
    let inventory = fleet_inventory::render(&entries, user.as_ref(), &name)?;

    let dir = &args.output;
    let binary = match &args.binary {
        Some(b) => absolute(b)?,
        None => std::env::current_exe()
            .map_err(|e| Failure::Message(format!("cannot find this portplan binary: {e}")))?,
    };
    let control = std::env::current_exe()
        .map_err(|e| Failure::Message(format!("cannot find this portplan binary: {e}")))?;
    let deployment_text = std::fs::read_to_string(&args.deployment)
        .map_err(|e| Failure::Message(format!("cannot read {}: {e}", args.deployment.display())))?;
    write(&dir.join("files/deployment.yaml"), &deployment_text)?;
    if let Some(c) = &g.catalog_dir {
        copy_catalog(c, &dir.join("files/catalog"))?;
    }
    write(&dir.join("inventory.yml"), &inventory)?;
    write(&dir.join("verify.yml"), PLAYBOOK)?;
    write(&dir.join("group_vars/all/secret.yml"), SECRET_VARS)?;
    let settings = format!(
        "# Settings of the portplan fleet run (written by `portplan fleet`).\n\
         # Deployment: {name}\n\
         # The binary copied to each host; it must run on the hosts' system.\n\
         portplan_binary: {binary}\n\
         # Already installed on the hosts at this path (then nothing is copied); empty: copy.\n\
         portplan_remote_binary: {remote}\n\
         # The binary that merges the results on this (control) node.\n\
         portplan_control_binary: {control}\n\
         # The product is installed: no responders, its services answer.\n\
         portplan_installed: {installed}\n\
         # A catalog folder travels with the deployment (files/catalog).\n\
         portplan_catalog: {catalog}\n\
         # Responders end by themselves after this, whatever happens here.\n\
         portplan_ttl: {ttl}\n\
         # Per-probe time limit, and the longest a host's verify may run (s).\n\
         portplan_probe_timeout: {probe}\n\
         portplan_verify_budget: 600\n\
         # How long to wait for a responder to listen (s).\n\
         portplan_ready_timeout: 30\n\
         # Responders bind the planned ports: below 1024 that needs root.\n\
         portplan_become: false\n\
         # Where the per-host results land on this node.\n\
         portplan_results: \"{{{{ playbook_dir }}}}/results\"\n\
         # A portplan serve page the report is pushed to (empty: none); its\n\
         # token is PORTPLAN_SERVE_TOKEN in this node's environment.\n\
         portplan_push: {push}\n",
        binary = yaml_str(&binary.display().to_string()),
        remote = yaml_str(args.remote_binary.as_deref().unwrap_or("")),
        control = yaml_str(&control.display().to_string()),
        installed = args.installed,
        catalog = g.catalog_dir.is_some(),
        ttl = yaml_str(&format!("{}s", args.ttl.as_secs().max(1))),
        probe = yaml_str(&format!("{}ms", args.probe_timeout.as_millis().max(1))),
        push = yaml_str(args.push.as_deref().unwrap_or("")),
    );
    write(&dir.join("group_vars/all/portplan.yml"), &settings)?;
    let sources = entries.iter().filter(|e| e.from.is_some()).count();
    let targets = entries.iter().filter(|e| e.as_host.is_some()).count();
    let command = format!(
        "ansible-playbook -i {d}/inventory.yml {d}/verify.yml",
        d = dir.display()
    );
    if args.format == crate::out::TableOrJson::Json {
        let hosts: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| serde_json::json!({ "host": e.name, "from": e.from, "as": e.as_host }))
            .collect();
        let v = serde_json::json!({
            "output": dir.display().to_string(),
            "hosts": hosts,
            "secret_needed": !args.installed,
            "command": command,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "wrote {}: {} inventory host{} ({sources} verify from, {targets} respond as)\n\
         run:  {}{command}",
        dir.display(),
        entries.len(),
        if entries.len() == 1 { "" } else { "s" },
        if args.installed {
            ""
        } else {
            "PORTPLAN_SECRET=... "
        },
    );
    Ok(ExitCode::SUCCESS)
}

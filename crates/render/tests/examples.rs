//! Every example deployment, planned by the real planner and rendered in
//! every format: golden files (host formats for the example's first named
//! host), and the firewall validators for every named host.

mod support;

use portplan_model::Catalog;
use portplan_render::{formats, renderer, HostView, RenderOptions};
use std::path::PathBuf;
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no examples in {}", dir.display());
    v
}

struct Planned {
    stem: String,
    set: portplan_model::FlowSet,
    hosts: Vec<HostView>,
}

fn planned() -> Vec<Planned> {
    let cat = Catalog::load(None).unwrap();
    examples()
        .into_iter()
        .map(|path| {
            let dep = portplan_plan::load_deployment(&path).unwrap();
            let set = portplan_plan::plan(&cat, &dep)
                .unwrap_or_else(|d| panic!("{} does not plan: {d:?}", path.display()));
            let hosts = dep
                .value
                .hosts
                .keys()
                .filter_map(|h| portplan_plan::host_view(&dep.value, h))
                .map(|(name, addrs)| HostView { name, addrs })
                .collect();
            Planned {
                stem: path.file_stem().unwrap().to_string_lossy().into_owned(),
                set,
                hosts,
            }
        })
        .collect()
}

#[test]
fn every_format_renders_every_example() {
    for p in planned() {
        assert!(!p.set.flows.is_empty(), "{}: no flows", p.stem);
        // The busiest host: its firewall shows the most of the format.
        let busiest = |h: &HostView| {
            p.set
                .flows
                .iter()
                .filter(|f| touches(&f.src, h) || touches(&f.dst, h))
                .count()
        };
        let first = p
            .hosts
            .iter()
            .max_by(|a, b| busiest(a).cmp(&busiest(b)).then(b.name.cmp(&a.name)))
            .cloned();
        for name in formats() {
            let r = renderer(name).unwrap();
            let opts = RenderOptions {
                for_host: first.clone(),
            };
            let out = r
                .render(&p.set, &opts)
                .unwrap_or_else(|e| panic!("{name}/{}: {e}", p.stem));
            let mut snap = out.text.clone();
            snap.push_str("\n=== unexpressed ===\n");
            for u in &out.unexpressed {
                snap.push_str(&format!("{}: {}\n", u.requirements.join(", "), u.reason));
            }
            insta::assert_snapshot!(format!("{name}__{}", p.stem), snap);
        }
    }
}

fn touches(side: &portplan_model::Side, h: &HostView) -> bool {
    side.labels.contains(&h.name)
        || side.addrs.iter().any(|a| {
            h.addrs.iter().any(|b| match (a, b) {
                (portplan_model::Addr::Net(s), portplan_model::Addr::Net(b)) => s.contains(b),
                _ => false,
            })
        })
}

fn ready(tools: &[&str]) -> bool {
    let missing: Vec<&&str> = tools
        .iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
        .collect();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if missing.is_empty() && root {
        return true;
    }
    let why = format!("missing tools {missing:?}, root: {root}");
    if std::env::var_os("CI").is_some() {
        panic!("CI must run the firewall validators: {why}");
    }
    eprintln!("skipping example validators: {why}");
    false
}

#[test]
fn host_firewalls_of_every_example_host_validate() {
    if !ready(&["ip", "nft", "iptables-restore"]) {
        return;
    }
    let ns = format!("portplan-render-{}-ex", std::process::id());
    assert!(Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .unwrap()
        .success());
    let tmp = std::env::temp_dir().join(format!("portplan-render-{}-ex", std::process::id()));
    let mut failures = Vec::new();
    let mut checked = 0;
    for p in planned() {
        for h in &p.hosts {
            let opts = RenderOptions {
                for_host: Some(h.clone()),
            };
            for (fmt, cmd) in [
                ("nftables", vec!["nft", "-c", "-f"]),
                ("iptables", vec!["iptables-restore", "--test"]),
            ] {
                let text = renderer(fmt).unwrap().render(&p.set, &opts).unwrap().text;
                std::fs::write(&tmp, &text).unwrap();
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &ns]).args(&cmd);
                if fmt == "nftables" {
                    c.arg(&tmp);
                } else {
                    c.stdin(std::fs::File::open(&tmp).unwrap());
                }
                let o = c.output().unwrap();
                checked += 1;
                if !o.status.success() {
                    failures.push(format!(
                        "{fmt} {} for {}: {}",
                        p.stem,
                        h.name,
                        String::from_utf8_lossy(&o.stderr)
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_file(&tmp);
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0);
    eprintln!("validated {checked} host firewall files");
}

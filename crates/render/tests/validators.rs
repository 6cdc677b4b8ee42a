//! Real validators on the host-firewall output: `nft -c -f` and
//! `iptables-restore --test`, run inside a network namespace this test
//! creates and deletes, so the machine's own rules are never touched.
//! Without root or the tools the test says why and skips, except under CI
//! (env `CI`), where a missing tool fails it.

mod support;

use portplan_render::renderer;
use std::path::PathBuf;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether the validators can run here; under CI they must.
fn can_run(tools: &[&str]) -> bool {
    let mut missing: Vec<String> = tools
        .iter()
        .filter(|t| !have(t))
        .map(|t| format!("`{t}` is not installed"))
        .collect();
    if !is_root() {
        missing.push("not running as root (network namespaces need it)".into());
    }
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI must run the firewall validators: {}",
            missing.join("; ")
        );
    }
    eprintln!("skipping firewall validators: {}", missing.join("; "));
    false
}

/// A network namespace for this test only; deleted on drop.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("portplan-render-{}-{tag}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap();
        assert!(st.success(), "ip netns add {name} failed");
        Netns(name)
    }
    fn run(&self, cmd: &[&str], stdin_file: Option<&PathBuf>) -> (bool, String) {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(cmd);
        if let Some(f) = stdin_file {
            c.stdin(std::fs::File::open(f).unwrap());
        }
        let o = c.output().unwrap();
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Each fixture as written by default (inbound only, lock-out warning),
/// with `--egress`, and with a management network of both families.
fn variants(fx: &str) -> Vec<(&'static str, portplan_render::RenderOptions)> {
    let base = support::opts(fx);
    let management = Some(portplan_render::Management {
        from: vec![
            "192.0.2.0/24".parse().unwrap(),
            "198.51.100.7".parse().unwrap(),
            "2001:db8::/64".parse().unwrap(),
        ],
        labels: vec!["admins".into()],
        ports: vec![],
    });
    vec![
        ("default", base.clone()),
        (
            "egress",
            portplan_render::RenderOptions {
                egress: true,
                ..base.clone()
            },
        ),
        (
            "management",
            portplan_render::RenderOptions {
                management,
                egress: true,
                ..base
            },
        ),
    ]
}

fn write_tmp(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("portplan-render-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn nft_accepts_every_fixture() {
    if !can_run(&["ip", "nft"]) {
        return;
    }
    let ns = Netns::new("nft");
    let empty = ("empty", portplan_model::FlowSet::default());
    for (fx, set) in support::fixtures().into_iter().chain([empty]) {
        for (v, opts) in variants(fx) {
            let out = renderer("nftables").unwrap().render(&set, &opts).unwrap();
            let fx = format!("{fx} {v}");
            let f = write_tmp(&format!("{fx}.nft").replace(' ', "-"), &out.text);
            let (ok, msg) = ns.run(&["nft", "-c", "-f", f.to_str().unwrap()], None);
            assert!(ok, "nft -c rejected the {fx} script:\n{msg}\n{}", out.text);
            // Applying it for real inside the namespace also works, twice (re-apply).
            for _ in 0..2 {
                let (ok, msg) = ns.run(&["nft", "-f", f.to_str().unwrap()], None);
                assert!(ok, "nft -f failed on {fx}:\n{msg}");
            }
            let (ok, listing) = ns.run(&["nft", "list", "table", "inet", "portplan"], None);
            assert!(ok);
            assert!(listing.contains("policy drop"), "{listing}");
            let _ = std::fs::remove_file(f);
        }
    }
}

#[test]
fn iptables_restore_accepts_every_fixture() {
    if !can_run(&["ip", "iptables-restore"]) {
        return;
    }
    let ns = Netns::new("ipt");
    let empty = ("empty", portplan_model::FlowSet::default());
    for (fx, set) in support::fixtures().into_iter().chain([empty]) {
        for (v, opts) in variants(fx) {
            let out = renderer("iptables").unwrap().render(&set, &opts).unwrap();
            let fx = format!("{fx} {v}");
            let f = write_tmp(&format!("{fx}.rules").replace(' ', "-"), &out.text);
            let (ok, msg) = ns.run(&["iptables-restore", "--test"], Some(&f));
            assert!(
                ok,
                "iptables-restore --test rejected {fx}:\n{msg}\n{}",
                out.text
            );
            let _ = std::fs::remove_file(f);
        }
    }
}

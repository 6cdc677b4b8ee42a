//! Host firewalls that cannot lock the engineer out (`portplan plan -f
//! nftables|iptables|windows`): without a management network the file and
//! stderr say that applying it cuts remote access, and `--strict` fails;
//! with one (`management:` in the deployment or `--management CIDR`) SSH
//! from it is accepted first; outbound stays open unless `--egress`.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("portplan")
        .unwrap()
        .env("NO_COLOR", "1")
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        err,
    )
}

/// The StrongDM example with `extra` appended (a `management:` section).
fn strongdm_with(dir: &Path, extra: &str) -> String {
    let text = std::fs::read_to_string(root().join("examples/strongdm.yaml")).unwrap();
    let p = dir.join("dep.yaml");
    std::fs::write(&p, format!("{text}\n{extra}")).unwrap();
    p.to_string_lossy().into_owned()
}

const DEP: &str = "examples/strongdm.yaml";
const HOST: &str = "bastion-1";

#[test]
fn without_a_management_network_the_file_and_stderr_warn_and_strict_fails() {
    for format in ["nftables", "iptables"] {
        let (code, out, err) = run(&["plan", DEP, "-f", format, "--for-host", HOST]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("applying this file will cut remote access (SSH, TCP 22) to bastion-1"),
            "{format}: {err}"
        );
        // The plan lets the StrongDM gateways in on 22: named, but still a warning.
        assert!(err.contains("sdm-gw-1"), "{err}");
        let top: String = out.lines().take(7).collect::<Vec<_>>().join("\n");
        assert!(
            top.contains("WARNING: applying this file will cut remote access"),
            "{format}: not at the top:\n{top}"
        );
        assert!(top.contains("--management CIDR"), "{top}");
        let (code, _, err) = run(&["plan", DEP, "-f", format, "--for-host", HOST, "--strict"]);
        assert_eq!(code, 2, "{format}: {err}");
        // The warning was the only reason: a management network makes it pass.
        let (code, out, err) = run(&[
            "plan",
            DEP,
            "-f",
            format,
            "--for-host",
            HOST,
            "--strict",
            "--management",
            "10.9.0.0/24",
        ]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(
            !out.contains("WARNING") && !err.contains("remote access"),
            "{err}"
        );
        assert!(out.contains("management access from 10.9.0.0/24"), "{out}");
    }
}

#[test]
fn the_deployment_names_the_management_network() {
    let dir = tempfile::tempdir().unwrap();
    let dep = strongdm_with(dir.path(), "management:\n  from: [staff-laptops]\n");
    let (code, _, err) = run(&["check", &dep]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&[
        "plan",
        &dep,
        "-f",
        "nftables",
        "--for-host",
        HOST,
        "--strict",
    ]);
    assert_eq!(code, 0, "{err}");
    // First in the input chain, before the loopback and state rules.
    let input = out.split("chain input {").nth(1).unwrap();
    let first_rule = input
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("type "))
        .unwrap();
    assert_eq!(
        first_rule,
        "ip saddr 10.50.0.0/16 tcp dport 22 accept comment \"portplan: management access from staff-laptops\"",
        "{out}"
    );
    // Windows: SSH, RDP and WinRM by default.
    let (code, out, err) = run(&["plan", &dep, "-f", "windows", "--for-host", HOST]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("-LocalPort '22','3389','5985','5986' -RemoteAddress '10.50.0.0/16'"),
        "{out}"
    );
}

#[test]
fn management_entries_that_are_not_addresses_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let dep = strongdm_with(
        dir.path(),
        "management:\n  from: [staff-laptop, jump.example.com]\n",
    );
    let line = std::fs::read_to_string(&dep)
        .unwrap()
        .lines()
        .position(|l| l.contains("staff-laptop,"))
        .unwrap()
        + 1;
    for cmd in ["check", "plan"] {
        let (code, _, err) = run(&[cmd, &dep]);
        assert_ne!(code, 0, "{cmd}: {err}");
        assert!(err.contains(&format!("dep.yaml:{line}:")), "{cmd}: {err}");
        assert!(
            err.contains("`staff-laptop`") && err.contains("staff-laptops"),
            "{err}"
        );
        assert!(err.contains("a management source is"), "{err}");
        assert!(err.contains("jump.example.com"), "{err}");
    }
    let (code, _, err) = run(&[
        "plan",
        DEP,
        "-f",
        "nftables",
        "--for-host",
        HOST,
        "--management",
        "any",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--management any"), "{err}");
}

#[test]
fn outbound_is_open_unless_egress() {
    let (_, out, _) = run(&["plan", DEP, "-f", "nftables", "--for-host", "sdm-gw-1"]);
    let output = out.split("chain output {").nth(1).unwrap();
    assert!(output.contains("policy accept;"), "{out}");
    assert!(out.contains("Outbound is left open"), "{out}");
    let (_, out, _) = run(&[
        "plan",
        DEP,
        "-f",
        "nftables",
        "--for-host",
        "sdm-gw-1",
        "--egress",
    ]);
    let output = out.split("chain output {").nth(1).unwrap();
    assert!(output.contains("policy drop;"), "{out}");
    assert!(output.contains("tcp dport 5432 accept"), "{out}");
    let (_, out, _) = run(&["plan", DEP, "-f", "iptables", "--for-host", "sdm-gw-1"]);
    assert!(
        out.contains(":OUTPUT ACCEPT") && !out.contains("-A OUTPUT"),
        "{out}"
    );
    let (_, out, _) = run(&[
        "plan",
        DEP,
        "-f",
        "iptables",
        "--for-host",
        "sdm-gw-1",
        "--egress",
    ]);
    assert!(
        out.contains(":OUTPUT DROP") && out.contains("-A OUTPUT -d 10.30.0.21/32"),
        "{out}"
    );
    let (_, out, _) = run(&["plan", DEP, "-f", "windows", "--for-host", "sdm-gw-1"]);
    assert!(!out.contains("-Direction Outbound"), "{out}");
    let (_, out, _) = run(&[
        "plan",
        DEP,
        "-f",
        "windows",
        "--for-host",
        "sdm-gw-1",
        "--egress",
    ]);
    assert!(out.contains("-Direction Outbound"), "{out}");
    assert!(out.contains("DefaultOutboundAction Block"), "{out}");
}

/// A network named for `any` (the Internet) is no machine: a host firewall
/// for it is refused, for every host format, with the reason, and nothing
/// is written; a host inside the deployment is still written.
#[test]
fn a_host_firewall_for_any_is_refused() {
    let dep = "examples/exchange-server.yaml";
    for format in ["nftables", "iptables", "windows"] {
        let (code, out, err) = run(&["plan", dep, "-f", format, "--for-host", "internet"]);
        assert_ne!(code, 0, "{format}: {out}");
        assert!(
            err.contains("`internet` is `any`, the parties outside the deployment: a host firewall is written for a host or a network of hosts"),
            "{format}: {err}"
        );
        assert!(out.is_empty(), "{format}: {out}");
    }
    let (code, out, err) = run(&["plan", dep, "-f", "nftables", "--for-host", "ex-edge-1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("table inet portplan"), "{out}");
}

//! `portplan audit` as an engineer uses it: our own rules audited clean, a
//! rule taken out found with the line that now decides, single flows
//! asked, the change ticket of what is missing, and bad input refused with
//! a located message and exit 2.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env("NO_COLOR", "1");
    c.current_dir(root());
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = portplan().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        err,
    )
}

/// Our iptables rules for pi-1 of the Privileged Identity example, in `dir`.
fn pi_rules(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("pi-1.rules");
    let (code, _, err) = run(&[
        "plan",
        "examples/privileged-identity.yaml",
        "-f",
        "iptables",
        "--for-host",
        "pi-1",
        // Both directions: these tests audit outbound flows too.
        "--egress",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

#[test]
fn our_own_rules_carry_every_planned_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, _) = pi_rules(dir.path());
    let (code, out, err) = run(&[
        "audit",
        "examples/privileged-identity.yaml",
        "--rules",
        rules.to_str().unwrap(),
        "--as",
        "pi-1",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("0 blocked, 0 partly, 0 unknown"), "{out}");
    assert!(!out.contains("Permits more than the plan needs"), "{out}");
}

#[test]
fn a_rule_taken_out_is_found_with_the_line_that_decides() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, text) = pi_rules(dir.path());
    // Take out the LDAP rule; keep every other line (and line numbers).
    let cut: String = text
        .lines()
        .map(|l| {
            if l.contains("--dport 636") {
                "# removed"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&rules, cut + "\n").unwrap();
    let policy_line = text
        .lines()
        .position(|l| l.starts_with(":OUTPUT DROP"))
        .unwrap()
        + 1;
    let (code, out, err) = run(&[
        "audit",
        "examples/privileged-identity.yaml",
        "--rules",
        rules.to_str().unwrap(),
        "--as",
        "pi-1",
    ]);
    assert_eq!(code, 1, "a required flow is blocked: {out}\n{err}");
    let ldap = out
        .lines()
        .find(|l| l.starts_with("blocked") && l.contains("636"))
        .unwrap_or_else(|| panic!("no blocked LDAP row:\n{out}"));
    assert!(ldap.ends_with(&policy_line.to_string()), "{ldap}");
    assert!(
        out.contains(&format!("pi-1.rules:{policy_line} `:OUTPUT DROP [0:0]`")),
        "{out}"
    );
    assert!(out.contains("1 blocked"), "{out}");

    // The change ticket holds just that flow, as rules.
    let (code, change, err) = run(&[
        "audit",
        "examples/privileged-identity.yaml",
        "--rules",
        rules.to_str().unwrap(),
        "--as",
        "pi-1",
        "--missing",
        "--format",
        "iptables",
    ]);
    assert_eq!(code, 1, "{err}");
    let accepts: Vec<&str> = change
        .lines()
        .filter(|l| l.starts_with("-A ") && l.contains("comment"))
        .collect();
    assert_eq!(accepts.len(), 1, "{change}");
    assert!(accepts[0].contains("--dport 636"), "{change}");
    assert!(err.contains("1 of"), "{err}");

    // JSON and JUnit say the same.
    let (_, json, _) = run(&[
        "audit",
        "examples/privileged-identity.yaml",
        "--rules",
        rules.to_str().unwrap(),
        "--as",
        "pi-1",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["summary"]["blocked"], 1, "{json}");
    let blocked: Vec<&serde_json::Value> = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] == "blocked")
        .collect();
    assert_eq!(blocked[0]["parts"][0]["rules"][0]["line"], policy_line);
    let (_, junit, _) = run(&[
        "audit",
        "examples/privileged-identity.yaml",
        "--rules",
        rules.to_str().unwrap(),
        "--as",
        "pi-1",
        "--format",
        "junit",
    ]);
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");
}

#[test]
fn single_flows_get_the_action_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, text) = pi_rules(dir.path());
    let ldap_line = text
        .lines()
        .position(|l| l.contains("--dport 636"))
        .unwrap()
        + 1;
    let r = rules.to_str().unwrap();
    let (code, out, err) = run(&[
        "audit",
        "--rules",
        r,
        "--as",
        "10.5.0.10",
        "--flow",
        "tcp 10.5.0.10 -> 10.5.1.30:636",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("VERDICT"), "{out}");
    assert!(
        out.contains(&format!(
            "allowed  tcp 10.5.0.10 -> 10.5.1.30:636  {ldap_line}"
        )),
        "{out}"
    );
    let (code, out, _) = run(&[
        "audit",
        "--rules",
        r,
        "--as",
        "10.5.0.10",
        "--flow",
        "tcp 10.5.0.10 -> 10.5.1.30:637",
        "--flow",
        "udp 10.5.0.10 -> 10.5.1.30:636",
    ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("\nblocked  ").count(), 2, "{out}");
    assert_eq!(out.matches("blocked by").count(), 2, "{out}");
    // A flows file, with a located error for a bad line.
    let flows = dir.path().join("flows.txt");
    std::fs::write(&flows, "# asked by the change board\ntcp 10.5.0.10 -> 10.5.1.30:636\ntcp 10.5.0.10 => 10.5.1.30:636\n").unwrap();
    let (code, _, err) = run(&["audit", "--rules", r, "--flows", flows.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("flows.txt:3:1"), "{err}");
}

#[test]
fn bad_input_is_refused_with_where_and_what() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, _) = pi_rules(dir.path());
    let r = rules.to_str().unwrap();
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello world\nthis is not a firewall\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "audit",
                "examples/privileged-identity.yaml",
                "--rules",
                junk.to_str().unwrap(),
                "--as",
                "pi-1",
            ],
            "not recognised",
        ),
        (
            vec!["audit", "examples/privileged-identity.yaml", "--rules", r],
            "--as",
        ),
        (
            vec![
                "audit",
                "examples/privileged-identity.yaml",
                "--rules",
                r,
                "--as",
                "nobody",
            ],
            "no host",
        ),
        (
            vec!["audit", "--rules", r, "--flow", "tcp 1.2.3.4 -> 5.6.7.8"],
            "destination port",
        ),
        (
            vec![
                "audit",
                "--rules",
                r,
                "--member",
                "novalue",
                "--flow",
                "tcp 1.2.3.4 -> 5.6.7.8:1",
            ],
            "SET=ADDRESSES",
        ),
        (vec!["audit", "--rules", r], "give a deployment"),
        (
            vec![
                "audit",
                "examples/privileged-identity.yaml",
                "--rules",
                "/nonexistent/x.rules",
                "--as",
                "pi-1",
            ],
            "cannot read",
        ),
        (
            vec![
                "audit",
                "examples/privileged-identity.yaml",
                "--rules",
                r,
                "--as",
                "pi-1",
                "--format",
                "nftables",
            ],
            "--missing",
        ),
        (
            vec![
                "audit",
                "examples/privileged-identity.yaml",
                "--rules",
                r,
                "--as",
                "pi-1",
                "--filter",
                "nosuch",
            ],
            "filters:",
        ),
    ];
    for (args, want) in cases {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // Broken syntax of a known format: located.
    let broken = dir.path().join("broken.rules");
    std::fs::write(&broken, "*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\n").unwrap();
    let (code, _, err) = run(&[
        "audit",
        "--rules",
        broken.to_str().unwrap(),
        "--flow",
        "tcp 1.2.3.4 -> 5.6.7.8:1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.rules:1"), "{err}");
}

#[test]
fn what_the_reader_does_not_understand_is_said_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, text) = pi_rules(dir.path());
    let odd = text.replacen(
        "-A INPUT -m conntrack --ctstate INVALID -j DROP",
        "-A INPUT -m conntrack --ctstate INVALID -j DROP\n-A INPUT -p tcp -m recent --name ssh --rcheck -j DROP",
        1,
    );
    std::fs::write(&rules, odd).unwrap();
    let r = rules.to_str().unwrap();
    let base = [
        "audit",
        "examples/privileged-identity.yaml",
        "--rules",
        r,
        "--as",
        "pi-1",
    ];
    let (code, out, err) = run(&base);
    assert_eq!(code, 1, "inbound TCP is now unknown: {out}{err}");
    // The line added right after the INVALID rule.
    let odd_line = text
        .lines()
        .position(|l| l == "-A INPUT -m conntrack --ctstate INVALID -j DROP")
        .unwrap()
        + 2;
    assert!(
        err.contains(&format!("pi-1.rules:{odd_line}:1: warning: not understood")),
        "{err}"
    );
    assert!(out.contains("unknown"), "{out}");
    let mut strict = base.to_vec();
    strict.push("--strict");
    let (code, _, err) = run(&strict);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--strict"), "{err}");
}

#[test]
fn every_live_export_is_read_and_answers() {
    let dir = root().join("crates/ruleset/tests/fixtures");
    let mut n = 0;
    for folder in std::fs::read_dir(&dir).unwrap() {
        for f in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let p = f.to_str().unwrap();
            let (code, out, err) = run(&[
                "audit",
                "--rules",
                p,
                "--flow",
                "tcp 10.0.0.1 -> 10.0.1.5:443",
                "--flow",
                "udp 10.0.0.1 -> 10.0.1.5:53",
                "--format",
                "json",
            ]);
            assert!(code == 0 || code == 1, "{p}: exit {code}: {err}");
            let v: serde_json::Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{p}: {e}\n{out}"));
            assert_eq!(v["flows"].as_array().unwrap().len(), 2, "{p}");
            for f in v["flows"].as_array().unwrap() {
                let verdict = f["verdict"].as_str().unwrap();
                assert!(
                    ["allowed", "blocked", "partly", "unknown", "not-carried"].contains(&verdict),
                    "{p}: {verdict}"
                );
            }
            n += 1;
        }
    }
    assert!(n >= 18, "only {n} fixtures");
}

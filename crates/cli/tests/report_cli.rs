//! `portplan report`: merging hosts' verify results and the fleet
//! playbook's host records. The inputs are written here in the shapes
//! `verify --format json` and the playbook write (the namespace test
//! fleet_netns.rs makes them for real).

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fleet")
        .join(p)
}

/// (dst, address, protocol, port, state, passed, required)
type Row<'a> = (&'a str, &'a str, &'a str, u16, &'a str, bool, bool);

fn verify_json(src: &str, sha: &str, rows: &[Row]) -> Value {
    let results: Vec<Value> = rows
        .iter()
        .map(|(dst, host, proto, port, state, passed, required)| {
            json!({
                "flow": 0, "src": src, "dst": dst, "required": required,
                "reasons": ["fleetcheck: client-service-tcp"], "passed": passed,
                "host": host, "protocol": proto, "port": port, "address": host,
                "state": state, "evidence": format!("{state} evidence"), "rtt_ms": 0.3
            })
        })
        .collect();
    json!({
        "kind": "portplan-verify",
        "title": format!("portplan verify fleet.yaml --from {src}"),
        "summary": {"paths": rows.len(), "expect": "responder"},
        "results": results,
        "not_probed": [],
        "run": {
            "sources": [src], "machine": src,
            "deployment": {"name": "fleet-bed", "file": "fleet.yaml", "sha256": sha},
            "started_unix_ms": 1000, "finished_unix_ms": 2000
        }
    })
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

fn report(args: &[&Path], extra: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::cargo_bin("portplan")
        .unwrap()
        .arg("--catalog")
        .arg(fixture("catalog"))
        .arg("report")
        .args(args)
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn json_report(args: &[&Path], extra: &[&str]) -> (Option<i32>, Value) {
    let mut e = vec!["--format", "json"];
    e.extend(extra);
    let (code, out, err) = report(args, &e);
    let v = serde_json::from_str(&out).unwrap_or_else(|x| panic!("not JSON ({x}): {out}\n{err}"));
    (code, v)
}

const FL2: &str = "10.214.0.12";
const FL3: &str = "10.214.0.13";

/// Every planned path of fl-1 and fl-2 (fleet.yaml), all verified.
fn all_good(dir: &Path) -> (PathBuf, PathBuf) {
    let mut one = Vec::new();
    for (dst, a) in [("fl-2", FL2), ("fl-3", FL3)] {
        one.push((dst, a, "tcp", 7101, "verified", true, true));
        one.push((dst, a, "tcp", 7102, "verified", true, true));
        one.push((dst, a, "udp", 7103, "verified", true, true));
    }
    let two: Vec<Row> = one.iter().filter(|r| r.0 == "fl-3").cloned().collect();
    (
        write(dir, "fl-1.verify.json", &verify_json("fl-1", "abc", &one)),
        write(dir, "fl-2.verify.json", &verify_json("fl-2", "abc", &two)),
    )
}

/// fl-1's result: fl-2:7101 verified, and `second`.
fn fl1_with(dir: &Path, second: Row) -> PathBuf {
    let first = ("fl-2", FL2, "tcp", 7101, "verified", true, true);
    write(dir, "a.json", &verify_json("fl-1", "abc", &[first, second]))
}

#[test]
fn two_hosts_merge_into_counts_states_and_a_matrix() {
    let d = tempfile::tempdir().unwrap();
    let a = fl1_with(d.path(), ("fl-2", FL2, "tcp", 7102, "closed", false, false));
    let b = write(
        d.path(),
        "b.json",
        &verify_json(
            "fl-2",
            "abc",
            &[
                ("fl-3", FL3, "tcp", 7101, "verified", true, true),
                ("fl-3", FL3, "tcp", 7102, "filtered", false, true),
            ],
        ),
    );
    let (code, v) = json_report(&[&a, &b], &[]);
    assert_eq!(code, Some(1), "a required path is filtered");
    let s = &v["summary"];
    assert_eq!(s["paths"], 4);
    assert_eq!(s["passed"], 2);
    assert_eq!(s["required_failed"], 1);
    assert_eq!(s["optional_failed"], 1);
    assert_eq!(s["states"]["verified"], 2);
    assert_eq!(s["states"]["filtered"], 1);
    assert_eq!(s["states"]["closed"], 1);
    assert_eq!(v["proven"], false);
    let cells = v["matrix"]["cells"].as_array().unwrap();
    let cell = |src: &str, dst: &str| {
        cells
            .iter()
            .find(|c| c["src"] == src && c["dst"] == dst)
            .unwrap_or_else(|| panic!("no cell {src} -> {dst}: {cells:?}"))
            .clone()
    };
    assert_eq!(cell("fl-1", "fl-2")["passed"], 1);
    assert_eq!(cell("fl-1", "fl-2")["failed"], 1);
    assert_eq!(cell("fl-2", "fl-3")["failed_states"]["filtered"], 1);
    // The same file twice counts each path once.
    let (_, v) = json_report(&[&a, &a, &b], &[]);
    assert_eq!(v["summary"]["paths"], 4);
    // The table says it too, with the failure first.
    let (code, out, _) = report(&[&a, &b], &[]);
    assert_eq!(code, Some(1));
    let first_path = out
        .lines()
        .find(|l| l.contains("tcp/71"))
        .unwrap_or_default();
    assert!(first_path.contains("filtered"), "{out}");
    assert!(
        out.contains(
            "4 paths: 1 closed, 1 filtered, 2 verified; 1 required failed, 1 optional failed; 0 not verified"
        ),
        "{out}"
    );
}

#[test]
fn every_planned_path_verified_exits_zero_and_an_optional_failure_does_not_fail() {
    let d = tempfile::tempdir().unwrap();
    let (one, two) = all_good(d.path());
    let (code, v) = json_report(&[&one, &two], &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["proven"], true);
    let opt = write(
        d.path(),
        "opt.json",
        &verify_json(
            "fl-9",
            "abc",
            &[("x", "10.0.0.9", "tcp", 1, "closed", false, false)],
        ),
    );
    let (code, _) = json_report(&[&one, &two, &opt], &[]);
    assert_eq!(
        code,
        Some(0),
        "an optional path that fails does not fail the proof"
    );
}

#[test]
fn with_the_deployment_a_missing_or_unreachable_host_leaves_its_flows_not_verified() {
    let d = tempfile::tempdir().unwrap();
    let (one, _) = all_good(d.path());
    // fl-2's playbook record: it could not be reached.
    let rec = write(
        d.path(),
        "fl-2.host.json",
        &json!({
            "kind": "portplan-fleet-host", "host": "fl-2", "from": "fl-2", "as": "fl-2",
            "steps": [["working folder", {"unreachable": true, "changed": false,
                "msg": "Failed to connect to the host via ssh: Connection timed out"}],
                      ["copy binary", {"skipped": true}]],
            "respond_log": null
        }),
    );
    let dep = fixture("fleet.yaml");
    let (code, v) = json_report(&[&one, &rec], &["--deployment", dep.to_str().unwrap()]);
    assert_eq!(
        code,
        Some(1),
        "every given path passed, but hosts gave no result"
    );
    let gaps = v["not_verified"].as_array().unwrap();
    let from = |src: &str| gaps.iter().filter(|g| g["src"] == src).collect::<Vec<_>>();
    // fl-2 -> fl-3 (3 ports): unreachable, with ssh's own words.
    assert_eq!(from("fl-2").len(), 3, "{gaps:#?}");
    for g in from("fl-2") {
        let why = g["why"].as_str().unwrap();
        assert!(
            why.contains("unreachable") && why.contains("Connection timed out"),
            "{why}"
        );
        assert_eq!(g["gap"], "no-result");
    }
    // fl-4 -> fl-2 and fl-3 (6 ports): no record, no result.
    assert_eq!(from("fl-4").len(), 6);
    assert!(from("fl-4")[0]["why"]
        .as_str()
        .unwrap()
        .contains("not among the files read"));
    assert_eq!(v["summary"]["required_no_result"], 9);
    assert_eq!(v["hosts"][0]["host"], "fl-2");
    // Results made from another version of the deployment are named.
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .contains("different version of the deployment"));
}

#[test]
fn responder_trouble_and_a_failed_verify_are_host_problems_with_their_cause() {
    let d = tempfile::tempdir().unwrap();
    let log = "{\"bound\":1,\"event\":\"ready\",\"skipped\":1,\"ttl_s\":900,\"text\":\"listening\"}\n\
               portplan: warning: skipped tcp/7101: address in use, held by nginx (pid 812) on 0.0.0.0\n";
    let held = write(
        d.path(),
        "fl-3.host.json",
        &json!({"kind": "portplan-fleet-host", "host": "fl-3", "from": null, "as": "fl-3",
                "steps": [["start responder", {"changed": true, "rc": 0}],
                          ["wait for responder", {"changed": false}]],
                "respond_log": log}),
    );
    let dead = write(
        d.path(),
        "fl-2.host.json",
        &json!({"kind": "portplan-fleet-host", "host": "fl-2", "from": "fl-2", "as": "fl-2",
                "steps": [["start responder", {"changed": true, "rc": 0}],
                          ["wait for responder", {"failed": true, "msg": "Timeout when waiting for search string"}],
                          ["verify", {"finished": 1, "rc": 2, "stderr": "portplan: error: cannot read the secret file"}]],
                "respond_log": "portplan: error: cannot start the responder: permission denied\n"}),
    );
    let (code, v) = json_report(&[&held, &dead], &[]);
    assert_eq!(code, Some(1), "fl-2 should have verified and gave nothing");
    let problems = |h: &str| -> Vec<String> {
        v["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["host"] == h)
            .unwrap()["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    };
    let p3 = problems("fl-3");
    assert_eq!(p3.len(), 1, "{p3:?}");
    assert!(
        p3[0].contains("skipped tcp/7101") && p3[0].contains("nginx"),
        "{p3:?}"
    );
    let p2 = problems("fl-2").join(" | ");
    assert!(p2.contains("wait for responder failed: Timeout"), "{p2}");
    assert!(
        p2.contains("verify failed (exit 2): portplan: error: cannot read the secret file"),
        "{p2}"
    );
    assert!(
        p2.contains("responder: cannot start the responder: permission denied"),
        "{p2}"
    );
    assert!(p2.contains("responder never became ready"), "{p2}");
    let gaps = v["not_verified"].as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0]["why"]
        .as_str()
        .unwrap()
        .contains("verify failed (exit 2)"));
}

#[test]
fn html_is_one_file_with_the_matrix_and_hostile_names_escaped() {
    let d = tempfile::tempdir().unwrap();
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let mut v = verify_json(
        evil,
        "abc",
        &[(evil, "10.0.0.2", "tcp", 443, "filtered", false, true)],
    );
    v["results"][0]["evidence"] = evil.into();
    v["run"]["deployment"]["name"] = evil.into();
    let f = write(d.path(), "evil.json", &v);
    let out = d.path().join("r.html");
    let (code, _, err) = report(&[&f], &["--format", "html", "-o", out.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "a name became markup");
    assert!(!html.contains("<img"), "a name became markup");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img"));
    // Self-contained: nothing is fetched when the file is opened.
    for external in ["src=\"", "href=", "<link", "@import", "url("] {
        assert!(!html.contains(external), "external reference `{external}`");
    }
    assert!(html.contains("Sources × destinations"));
    assert!(html.contains("<td class=\"fail\">FAIL 1/1 (filtered 1)</td>"));
    assert!(html.contains("NOT PROVEN"));
}

#[test]
fn junit_and_markdown_say_the_same_counts() {
    let d = tempfile::tempdir().unwrap();
    let a = fl1_with(
        d.path(),
        ("fl|2", FL2, "tcp", 7102, "filtered", false, true),
    );
    let (code, x, _) = report(&[&a], &["--format", "junit"]);
    assert_eq!(code, Some(1));
    assert!(x.contains("tests=\"2\" failures=\"1\""), "{x}");
    assert_eq!(x.matches("<failure ").count(), 1);
    let (_, md, _) = report(&[&a], &["--format", "md"]);
    assert!(md.contains("**NOT PROVEN**"), "{md}");
    // A pipe in a name does not split a Markdown cell.
    assert!(md.contains("fl\\|2"), "{md}");
}

#[test]
fn a_folder_stands_for_its_json_files() {
    let d = tempfile::tempdir().unwrap();
    all_good(d.path());
    std::fs::write(d.path().join("notes.txt"), "not read").unwrap();
    let (code, v) = json_report(&[d.path()], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(v["summary"]["paths"], 9);
}

#[test]
fn bad_or_foreign_files_are_errors_that_name_the_file_and_place() {
    let d = tempfile::tempdir().unwrap();
    let (one, _) = all_good(d.path());
    let broken = d.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\n  \"kind\": \"portplan-verify\",\n  \"results\": [\n",
    )
    .unwrap();
    let (code, out, err) = report(&[&one, &broken], &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "no half report: {out}");
    assert!(err.contains("broken.json:4:"), "{err}");
    let foreign = write(
        d.path(),
        "x.json",
        &json!({"kind": "terraform-plan", "x": 1}),
    );
    let (code, _, err) = report(&[&foreign], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("x.json") && err.contains("kind `terraform-plan`"),
        "{err}"
    );
    let plain = write(d.path(), "y.json", &json!([1, 2, 3]));
    let (code, _, err) = report(&[&plain], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("y.json: not a `portplan verify --format json` result"),
        "{err}"
    );
    let wrong = write(
        d.path(),
        "z.json",
        &json!({"kind": "portplan-verify", "summary": {"expect": "responder"}, "results": [{"state": "weird"}]}),
    );
    let (code, _, err) = report(&[&wrong], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("z.json: a verify result, but"), "{err}");
    let (code, _, err) = report(&[&d.path().join("missing.json")], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("cannot read") && err.contains("missing.json"),
        "{err}"
    );
}

#[test]
fn a_flow_no_probe_can_prove_is_listed_and_fails_only_under_strict() {
    let d = tempfile::tempdir().unwrap();
    let mut v = verify_json(
        "fl-1",
        "abc",
        &[("fl-2", FL2, "tcp", 7101, "verified", true, true)],
    );
    v["not_probed"] = json!([{"flow": 1, "src": "fl-1", "dst": "lan", "protocol": "icmp",
        "ports": "", "required": true, "reasons": [], "why": "ICMP is not probed"}]);
    let f = write(d.path(), "a.json", &v);
    let (code, out, _) = report(&[&f], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("fl-1 -> lan") && out.contains("ICMP is not probed"),
        "{out}"
    );
    let (code, _, err) = report(&[&f], &["--strict"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--strict: 1 required flow cannot be probed"),
        "{err}"
    );
}

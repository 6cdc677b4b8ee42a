//! `portplan catalog …` and `portplan port` as a user runs them.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn stdout(args: &[&str]) -> String {
    let out = portplan().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn list_names_every_seed_product() {
    let text = stdout(&["catalog", "list"]);
    assert!(text.starts_with("PRODUCT"));
    assert!(text.contains("strongdm"));
}

#[test]
fn show_table_is_readable_and_json_is_complete() {
    insta::assert_snapshot!("show_strongdm", stdout(&["catalog", "show", "strongdm"]));
    let json: serde_json::Value = serde_json::from_str(&stdout(&[
        "catalog", "show", "strongdm", "--format", "json",
    ]))
    .unwrap();
    assert_eq!(json["product"], "strongdm");
    assert_eq!(json["requirements"].as_array().map(Vec::len), Some(26));
    assert_eq!(json["parameters"][0]["default"], 5000);
}

#[test]
fn show_filters_by_role_and_feature() {
    let text = stdout(&[
        "catalog", "show", "strongdm", "--role", "gateway", "--format", "csv",
    ]);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.contains("gateway")), "{text}");
    let text = stdout(&[
        "catalog",
        "show",
        "strongdm",
        "--feature",
        "secret-store",
        "--format",
        "csv",
    ]);
    assert_eq!(text.lines().count(), 3, "{text}");
    portplan()
        .args(["catalog", "show", "strongdm", "--role", "gatewy"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `gateway`"));
    portplan()
        .args(["catalog", "show", "strongdmm"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `strongdm`"));
}

#[test]
fn export_has_the_fixed_columns_first() {
    let text = stdout(&["catalog", "export", "--product", "strongdm"]);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with(
        "product,requirement,service,from,to,protocol,port_low,port_high,required,feature,configurable,default_port,scope,source,line"
    ));
    insta::assert_snapshot!("export_strongdm", text);
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["catalog", "export", "--format", "json"])).unwrap();
    assert!(json.as_array().is_some_and(|a| a.len() >= 26));
}

#[test]
fn check_passes_on_the_builtin_catalog() {
    portplan()
        .args(["catalog", "check"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok:"));
}

const GOOD: &str = "product: demo
name: Demo
vendor: Demo Inc
sources:
  - id: page
    title: Demo ports
roles:
  - id: server
    name: Server
    kind: component
  - id: browser
    name: Browser
    kind: client
requirements:
  - id: web
    service: HTTPS
    from: browser
    to: server
    protocol: tcp
    ports: [443]
    source: { doc: page, line: 3 }
";

/// Writes `text` as demo.yaml in a fresh folder and runs `catalog check` on it.
fn check_text(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("demo.yaml"), text).unwrap();
    let out = portplan()
        .args(["catalog", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_locates_each_kind_of_bad_file() {
    assert_eq!(check_text(GOOD).0, 0);
    let cases = [
        // (change, expected message, expected line:column)
        (GOOD.replace("    kind: client\n", "    kind: client\n  - id: [\n"), "", ""),
        (GOOD.replace("    ports: [443]", "    port: [443]"), "unknown field `port`", "demo.yaml:20:5"),
        (GOOD.replace("[443]", "[70000]"), "port 70000 is outside 1..=65535", "demo.yaml:20"),
        (GOOD.replace("to: server", "to: sever"), "unknown role `sever`", "demo.yaml:18:9"),
        (GOOD.replace("[443]", "[\"9-1\"]"), "runs backwards", "demo.yaml:20"),
        (GOOD.replace("doc: page", "doc: pgae"), "unknown source document `pgae`", "demo.yaml:21"),
        (GOOD.replace("product: demo", "product: other"), "does not match the file name", "demo.yaml:1:10"),
        (format!("{GOOD}  - id: web\n    service: x\n    from: browser\n    to: server\n    protocol: icmp\n    ports: [1]\n    source: {{ doc: page, line: 1 }}\n"),
            "defined twice", "demo.yaml:22"),
    ];
    for (text, msg, place) in cases {
        let (code, err) = check_text(&text);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(msg), "want `{msg}` in:\n{err}");
        assert!(err.contains(place), "want `{place}` in:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // the malformed YAML case names a line too
    let (_, err) = check_text(&GOOD.replace("    kind: client\n", "    kind: client\n  - id: [\n"));
    assert!(err.contains("demo.yaml:"), "{err}");
    // a missing role, with the hint
    let (_, err) = check_text(&GOOD.replace("to: server", "to: sever"));
    assert!(err.contains("help: did you mean `server`?"), "{err}");
}

#[test]
fn catalog_dir_adds_products() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("demo.yaml"), GOOD).unwrap();
    let out = portplan()
        .arg("--catalog")
        .arg(dir.path())
        .args(["catalog", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo"));
    // a broken extra file stops the load with a located error
    fs::write(
        dir.path().join("demo.yaml"),
        GOOD.replace("to: server", "to: nope"),
    )
    .unwrap();
    portplan()
        .arg("--catalog")
        .arg(dir.path())
        .args(["catalog", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown role `nope`"));
}

#[test]
fn schema_is_json_schema() {
    let v: serde_json::Value = serde_json::from_str(&stdout(&["catalog", "schema"])).unwrap();
    assert_eq!(v["title"], "Product");
    assert!(v["properties"]["requirements"].is_object());
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&["catalog", "schema", "--deployment"])).unwrap();
    assert_eq!(v["title"], "Deployment");
}

#[test]
fn port_names_users_and_iana_service() {
    let text = stdout(&["port", "5000/tcp"]);
    assert!(text.contains("commplex-main"), "{text}");
    assert!(text.contains("gateway-advertised-port"), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&["port", "53/udp", "--json"])).unwrap();
    assert_eq!(v["iana"][0]["name"], "domain");
    assert!(v["uses"].as_array().is_some_and(|u| !u.is_empty()));
    for bad in ["70000", "http", "443/icmp", "443/sctpx"] {
        portplan().args(["port", bad]).assert().code(2);
    }
}

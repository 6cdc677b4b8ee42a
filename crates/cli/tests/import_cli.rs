//! `portplan import` as a user runs it: drafts that pass `catalog check`,
//! the export's CSV columns, anomalies on stderr, `--strict`, stdin and
//! `--against` diffs.

use assert_cmd::Command;
use portplan_model::export::COLUMNS;
use portplan_model::store::check_file;
use predicates::prelude::*;
use std::path::PathBuf;

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn seeds() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../catalog/sources");
    d.is_dir().then_some(d)
}

fn seed(stem: &str) -> Option<PathBuf> {
    seeds().map(|d| d.join(format!("{stem}.txt")))
}

fn page(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/import-pages/pages")
        .join(name)
}

#[test]
fn every_seed_drafts_a_valid_catalog_file() {
    let Some(dir) = seeds() else { return };
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let out = portplan()
            .args(["import", path.to_str().unwrap(), "--product", "drafted"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let yaml = String::from_utf8(out.stdout).unwrap();
        let checked = check_file("drafted.yaml", &yaml);
        let errors: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        let product = checked.product.unwrap();
        assert!(!product.requirements.is_empty(), "{}", path.display());
        // Every requirement cites a line and carries its confidence comment.
        assert!(yaml.matches("confidence 0.").count() >= product.requirements.len());
    }
}

#[test]
fn csv_has_the_export_columns() {
    let out = portplan()
        .args([
            "import",
            page("bullets.txt").to_str().unwrap(),
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(header, COLUMNS.join(","));
    assert!(text.lines().any(|l| l.contains(",tcp,22,22,")), "{text}");
    assert!(text.lines().any(|l| l.contains(",udp,123,123,")), "{text}");
}

#[test]
fn anomalies_go_to_stderr_with_lines_and_strict_fails() {
    let Some(p) = seed("002_910a8618404997d2") else {
        return;
    };
    let p = p.to_str().unwrap().to_string();
    portplan()
        .args(["import", &p])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "002_910a8618404997d2.txt:20:1: warning: `3891` reads as port 389",
        ))
        .stderr(predicate::str::contains(
            ":24:1: warning: `UPD` is not a protocol",
        ))
        .stderr(predicate::str::contains(
            ":23:1: warning: SMTP runs over TCP",
        ));
    portplan().args(["import", &p, "--strict"]).assert().code(2);
    // The draft holds the corrected values and keeps what the page said.
    let out = portplan()
        .args(["import", &p, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reqs = v["draft"]["requirements"].as_array().unwrap();
    let ldap = reqs.iter().find(|r| r["source"]["line"] == 20).unwrap();
    assert_eq!(ldap["ports"][0], 389);
    assert!(ldap["page_said"]["text"].as_str().unwrap().contains("3891"));
    assert!(v["anomalies"].as_array().unwrap().len() >= 9);
}

#[test]
fn a_clean_page_passes_strict_and_stdin_works() {
    let text = std::fs::read_to_string(page("markdown-table.md")).unwrap();
    portplan()
        .args(["import", "-", "--strict", "--format", "csv"])
        .write_stdin(text)
        .assert()
        .success()
        .stdout(predicate::str::contains(",udp,49152,65535,"));
}

#[test]
fn against_shows_added_removed_and_changed() {
    let Some(p) = seed("003_4ed03fe19f81dd8f") else {
        return;
    };
    // The page as shipped matches the reviewed catalog entry.
    portplan()
        .args(["import", p.to_str().unwrap(), "--against", "strongdm"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0 added, 0 removed, 0 changed"));
    // A "newer" page: one loopback port moved, the DNS fallback now required.
    let newer = std::fs::read_to_string(&p)
        .unwrap()
        .replace("65230", "65231")
        .replace("53 (UDP)\nEgress\nOptional", "53 (UDP)\nEgress\nRequired");
    let out = portplan()
        .args(["import", "-", "--against", "strongdm"])
        .write_stdin(newer.clone())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("+ tcp/65231"), "{text}");
    assert!(text.contains("- tcp/65230"), "{text}");
    assert!(text.contains("~ udp/53"), "{text}");
    assert!(text.contains("1 added, 1 removed, 1 changed"), "{text}");
    let json = portplan()
        .args(["import", "-", "--against", "strongdm", "--format", "json"])
        .write_stdin(newer)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["added"][0]["port"], "65231");
}

#[test]
fn against_an_unknown_product_names_the_closest() {
    portplan()
        .args([
            "import",
            page("prose.txt").to_str().unwrap(),
            "--against",
            "strongdn",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("strongdm"));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    portplan()
        .args(["import", "/nonexistent/page.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/page.txt",
        ));
}

#[test]
fn a_page_without_ports_says_so_and_fails_strict() {
    let text = "Release notes\n\nThis release fixes the login page.\n";
    let out = portplan()
        .args(["import", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no port statement found"), "{err}");
    portplan()
        .args(["import", "-", "--strict"])
        .write_stdin(text)
        .assert()
        .code(2);
}

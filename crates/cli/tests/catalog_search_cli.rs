//! `portplan catalog search`: a table for people, JSON and CSV for scripts,
//! exit 1 when nothing matches (so a script can test for it).

use assert_cmd::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("portplan")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn words_and_ports_find_requirements_in_every_format() {
    let (code, table, _) = run(&["catalog", "search", "ise", "1812"]);
    assert_eq!(code, 0);
    assert!(table.lines().next().unwrap().starts_with("KIND"), "{table}");
    assert!(table.contains("psn-radius-auth"), "{table}");
    let (code, json, _) = run(&["catalog", "search", "udp/1812", "--format", "json"]);
    assert_eq!(code, 0);
    let hits: serde_json::Value = serde_json::from_str(&json).unwrap();
    let hits = hits.as_array().unwrap();
    assert!(hits
        .iter()
        .any(|h| h["id"] == "psn-radius-auth" && h["kind"] == "requirement"));
    let (code, csv, _) = run(&["catalog", "search", "strongdm", "-f", "csv"]);
    assert_eq!(code, 0);
    assert!(
        csv.starts_with("kind,product,id,name,flow,matched\n"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("product,strongdm,strongdm,"),
        "{csv}"
    );
}

#[test]
fn nothing_found_says_so_and_exits_1() {
    let (code, out, err) = run(&["catalog", "search", "no-such-thing-anywhere"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("nothing in the catalog matches"), "{err}");
    let (code, json, _) = run(&["catalog", "search", "no-such-thing-anywhere", "-f", "json"]);
    assert_eq!(code, 1);
    assert_eq!(json.trim(), "[]");
    let (code, _, _) = run(&["catalog", "search"]);
    assert_eq!(code, 2, "words are required");
}

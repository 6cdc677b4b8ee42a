//! Terminal habits (issue 10, point 8): tables fit the width and `--wide`
//! shows every cell, a socket is one line even when its command line holds
//! a newline, every command takes `--format json`, `probe` exits 0 unless
//! told what to expect, `port N` separates exact matches from ranges and
//! names pages by title, long port lists fold in Markdown, and `catalog
//! list` explains its columns.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const BIN: &str = env!("CARGO_BIN_EXE_portplan");
const SECRET: &str = "terminal-test-secret-Hq3vX9mK2pL7";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env("NO_COLOR", "1").env_remove("COLUMNS");
    c.current_dir(root());
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
    )
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tables_fit_columns_and_wide_prints_every_cell() {
    for (args, first) in [
        (vec!["port", "8443"], "PRODUCT "),
        (vec!["catalog", "list"], "PRODUCT "),
        (vec!["catalog", "show", "strongdm"], "REQUIREMENT "),
        (vec!["plan", "examples/strongdm.yaml"], "FROM "),
    ] {
        let (code, fit, err) = run(portplan().args(&args).env("COLUMNS", "80"));
        assert_eq!(code, 0, "{args:?}: {err}");
        // The tables: from a header line to the next blank line.
        let mut table_lines: Vec<&str> = Vec::new();
        let mut inside = false;
        for l in fit.lines() {
            inside = (inside && !l.trim().is_empty()) || l.starts_with(first);
            if inside {
                table_lines.push(l);
            }
        }
        assert!(!table_lines.is_empty(), "{args:?}: {fit}");
        for l in &table_lines {
            assert!(
                l.chars().count() <= 80,
                "{args:?}: {} chars: {l}",
                l.chars().count()
            );
        }
        let (_, wide, _) = run(portplan().args(&args).arg("--wide").env("COLUMNS", "80"));
        // A pipe without COLUMNS is not fitted either: scripts get whole cells.
        let (_, piped, _) = run(portplan().args(&args));
        assert_eq!(wide, piped, "{args:?}");
        assert!(!wide.contains('~'), "{args:?}: --wide cut a cell");
        if wide.lines().any(|l| l.chars().count() > 80) {
            assert!(fit.contains('~'), "{args:?}: cut cells are marked");
            assert!(err.contains("--wide"), "{args:?}: the cut is said: {err}");
        }
    }
    // The widest table of the lot really is wider than 80 when whole.
    let (_, wide, _) = run(portplan().args(["port", "8443", "--wide"]));
    assert!(wide.lines().any(|l| l.chars().count() > 80));
}

#[test]
fn listeners_keep_one_line_per_socket_when_argv_holds_a_newline() {
    let (tcp, udp) = (free_tcp_port(), free_udp_port());
    // The responder's --ports takes groups separated by whitespace: a
    // newline inside its argument is a real command line with a line break.
    let spec = format!("tcp:{tcp}\nudp:{udp}");
    let mut cmd = std::process::Command::new(BIN);
    cmd.args([
        "respond",
        "--bind",
        "127.0.0.1",
        "--ttl",
        "20s",
        "--ports",
        &spec,
    ])
    .env("PORTPLAN_SECRET", SECRET);
    let _resp = common::Spawned::start(cmd, "listening on");
    let (code, table, err) = run(portplan().args(["listeners"]));
    assert_eq!(code, 0, "{err}");
    let mine: Vec<&str> = table
        .lines()
        .filter(|l| l.contains(&format!(" {tcp} ")) || l.contains(&format!(" {udp} ")))
        .collect();
    assert_eq!(mine.len(), 2, "{table}");
    for l in &mine {
        assert!(
            l.contains(&format!("tcp:{tcp}")) && l.contains(&format!("udp:{udp}")),
            "{l}"
        );
    }
    // Every line is the header or a socket: none is a command line's tail.
    for l in table.lines().skip(1) {
        assert!(
            (l.starts_with("tcp") || l.starts_with("udp")) && l.split_whitespace().count() >= 6,
            "stray line: {l}\n{table}"
        );
    }
    // JSON keeps the command line as it is.
    let (_, json, _) = run(portplan().args(["listeners", "--format", "json"]));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(v.as_array().unwrap().iter().any(|s| s["process"]["cmdline"]
        .as_str()
        .is_some_and(|c| c.contains(&spec))));
}

/// Every subcommand (and catalog subcommand) `--help` offers `--format`,
/// and none offers a `--json` flag.
#[test]
fn every_command_documents_format_and_no_json_flag() {
    let commands = |args: &[&str]| -> Vec<String> {
        let (_, help, _) = run(portplan().args(args).arg("--help"));
        help.split("Commands:")
            .nth(1)
            .unwrap_or("")
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            // A command starts at two spaces; wrapped help text is deeper.
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            // `serve` writes no report: it prints its address and serves.
            .filter(|c| !["help", "completions", "man", "serve"].contains(&c.as_str()))
            .collect()
    };
    let top = commands(&[]);
    assert!(top.len() >= 10, "{top:?}");
    for c in &top {
        let subs = if c == "catalog" {
            commands(&["catalog"])
        } else {
            Vec::new()
        };
        let paths: Vec<Vec<&str>> = if subs.is_empty() {
            vec![vec![c.as_str()]]
        } else {
            subs.iter().map(|s| vec![c.as_str(), s.as_str()]).collect()
        };
        for p in paths {
            let (_, help, _) = run(portplan().args(&p).arg("--help"));
            assert!(
                help.contains("-f, --format"),
                "{p:?} has no -f/--format:\n{help}"
            );
            assert!(!help.contains("--json"), "{p:?} offers --json:\n{help}");
        }
    }
}

#[test]
fn every_command_prints_valid_json_with_format_json() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("gw.nft");
    let (code, _, err) = run(portplan().args([
        "plan",
        "examples/strongdm.yaml",
        "-f",
        "nftables",
        "--for-host",
        "sdm-gw-1",
        "-o",
        rules.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let page = root().join("tests/import-pages/pages/markdown-table.md");
    let closed = free_tcp_port().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["catalog", "list"],
        vec!["catalog", "show", "strongdm"],
        vec!["catalog", "export"],
        vec!["catalog", "check"],
        vec!["catalog", "schema"],
        vec!["port", "443"],
        vec!["check", "examples/strongdm.yaml"],
        vec!["plan", "examples/strongdm.yaml"],
        vec![
            "audit",
            "examples/strongdm.yaml",
            "--rules",
            rules.to_str().unwrap(),
            "--as",
            "sdm-gw-1",
        ],
        vec![
            "verify",
            "examples/strongdm.yaml",
            "--from",
            "sdm-gw-1",
            "--timeout",
            "200ms",
            "--retries",
            "0",
        ],
        vec!["listeners"],
        vec![
            "probe",
            "127.0.0.1",
            "--ports",
            &closed,
            "--timeout",
            "300ms",
        ],
        vec!["import", page.to_str().unwrap()],
    ];
    for args in cases {
        let (code, out, err) = run(portplan()
            .args(&args)
            .args(["--format", "json"])
            .env("PORTPLAN_SECRET", SECRET));
        assert!(code == 0 || code == 1, "{args:?}: exit {code}: {err}");
        let v: Result<Value, _> = serde_json::from_str(&out);
        assert!(v.is_ok(), "{args:?}: not JSON: {out}");
    }
    // The responder logs JSON lines.
    let port = free_tcp_port().to_string();
    let (code, out, err) = run(portplan()
        .args([
            "respond",
            "--ports",
            &port,
            "--bind",
            "127.0.0.1",
            "--ttl",
            "1s",
            "--format",
            "json",
        ])
        .env("PORTPLAN_SECRET", SECRET));
    assert_eq!(code, 0, "{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(
        events.first().map(|e| e["event"].clone()),
        Some("ready".into())
    );
    assert_eq!(
        events.last().map(|e| e["event"].clone()),
        Some("done".into())
    );
    // The older spelling still works where it existed.
    let (code, out, _) = run(portplan().args(["port", "443", "--json"]));
    assert_eq!(code, 0);
    assert!(serde_json::from_str::<Value>(&out).is_ok());
}

#[test]
fn probe_reports_states_and_fails_only_against_an_expectation() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port().to_string();
    let closed = free_tcp_port().to_string();
    let probe = |port: &str, expect: Option<&str>| -> (i32, String) {
        let mut c = portplan();
        c.args(["probe", "127.0.0.1", "--timeout", "500ms", "--ports", port]);
        if let Some(e) = expect {
            c.args(["--expect", e]);
        }
        let (code, out, _) = run(&mut c);
        (code, out)
    };
    let (code, out) = probe(&closed, None);
    assert_eq!(code, 0, "no expectation: states only\n{out}");
    assert!(out.contains("closed"), "{out}");
    assert_eq!(probe(&closed, Some("open")).0, 1);
    assert_eq!(probe(&closed, Some("closed")).0, 0);
    assert_eq!(probe(&open, None).0, 0);
    assert_eq!(probe(&open, Some("open")).0, 0);
    assert_eq!(probe(&open, Some("closed")).0, 1);
    // No responder answers a plain listener: `verified` is not met.
    assert_eq!(probe(&open, Some("verified")).0, 1);
    drop(listener);
}

#[test]
fn port_separates_exact_matches_from_ranges_and_names_pages() {
    let (code, json, err) = run(portplan().args(["port", "5000", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&json).unwrap();
    let uses = v["uses"].as_array().unwrap();
    let exact: Vec<&Value> = uses.iter().filter(|u| u["match"] == "exact").collect();
    let range: Vec<&Value> = uses.iter().filter(|u| u["match"] == "range").collect();
    assert!(!exact.is_empty() && !range.is_empty(), "{json}");
    assert_eq!(exact.len() + range.len(), uses.len());
    for u in &range {
        assert!(!u["how"].as_str().unwrap().contains("fixed"), "{u}");
    }
    let (_, table, _) = run(portplan().args(["port", "5000", "--wide"]));
    let (e_at, r_at) = (
        table.find("name 5000 itself").expect("exact section"),
        table.find("range contains 5000").expect("range section"),
    );
    assert!(e_at < r_at);
    for u in &exact {
        let id = format!("  {}  ", u["requirement"].as_str().unwrap());
        let at = table.find(&id).unwrap_or_else(|| panic!("{id} in {table}"));
        assert!(at > e_at && at < r_at, "{id} in the exact section");
    }
    for u in &range {
        let id = format!("  {}  ", u["requirement"].as_str().unwrap());
        assert!(table[r_at..].contains(&id), "{id} in the range section");
    }
    // Pages by title, as the catalog's `sources:` name them.
    for u in uses {
        let page = u["page"].as_str().unwrap();
        assert!(!page.ends_with(".txt") && table.contains(page), "{page}");
    }
}

#[test]
fn catalog_show_md_folds_a_long_port_list() {
    let (_, json, _) = run(portplan().args(["catalog", "show", "cisco-ise", "-f", "json"]));
    let v: Value = serde_json::from_str(&json).unwrap();
    let long: Vec<(&str, usize)> = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let n = r["ports"].as_array().map_or(0, Vec::len);
            (n > 100).then(|| (r["id"].as_str().unwrap(), n))
        })
        .collect();
    assert!(!long.is_empty(), "the catalog has a long list to fold");
    let (_, md, _) = run(portplan().args(["catalog", "show", "cisco-ise", "--format", "md"]));
    for (id, n) in long {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| `{id}` |")))
            .unwrap_or_else(|| panic!("{id}"));
        assert!(row.contains(&format!("{n} entries")), "{row}");
        assert!(row.contains("--format json"), "{row}");
        assert!(row.len() < 400, "{} chars: {row}", row.len());
    }
}

#[test]
fn catalog_list_explains_each_column() {
    let (code, out, _) = run(portplan().args(["catalog", "list"]));
    assert_eq!(code, 0);
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    let legend: Vec<&str> = out
        .split("\n\n")
        .nth(1)
        .expect("a legend")
        .lines()
        .collect();
    for col in header {
        assert!(
            legend
                .iter()
                .any(|l| l.starts_with(col) && l.len() > col.len() + 10),
            "{col} is not explained:\n{out}"
        );
    }
}

//! `--rules-format auto`: every format is recognised as itself — what our
//! renderers write for every example, and every live-export fixture — and
//! a file of no known format is refused with the list of formats.

mod common;

use common::*;
use std::path::Path;

/// The fixture files and the format each is.
fn fixtures() -> Vec<(String, &'static str)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for folder in std::fs::read_dir(&dir).unwrap() {
        let folder = folder.unwrap().path();
        let name = folder.file_name().unwrap().to_string_lossy().to_string();
        for f in std::fs::read_dir(&folder).unwrap() {
            let f = f.unwrap().path();
            let ext = f
                .extension()
                .map(|e| e.to_string_lossy().to_string())
                .unwrap_or_default();
            if ext == "md" {
                continue;
            }
            let format = match (name.as_str(), ext.as_str()) {
                ("aws", "json") => "aws-json",
                ("aws", "tf") => "aws-terraform",
                ("azure", "json") => "azure-json",
                ("azure", "tf") => "azure-terraform",
                ("gcp", "json") => "gcp-json",
                ("gcp", "tf") => "gcp-terraform",
                ("nftables", "json") => "nftables-json",
                ("nftables", _) => "nftables",
                ("iptables", _) => "iptables",
                ("cisco-ios", _) => "cisco-ios",
                ("cisco-asa", _) => "cisco-asa",
                ("junos", _) => "junos",
                ("panos", _) => "panos",
                ("k8s", _) => "k8s",
                ("windows", _) => "windows",
                (other, e) => panic!("fixture folder {other} ({e}) has no expected format here"),
            };
            out.push((f.display().to_string(), format));
        }
    }
    out.sort();
    out
}

#[test]
fn every_live_export_fixture_is_recognised() {
    let all = fixtures();
    assert!(all.len() >= 18, "{all:?}");
    let mut seen: Vec<&str> = all.iter().map(|(_, f)| *f).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        portplan_ruleset::formats().len(),
        "a format has no fixture: {seen:?}"
    );
    for (path, want) in &all {
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            portplan_ruleset::detect(&text).as_deref(),
            Ok(*want),
            "{path}"
        );
    }
}

#[test]
fn everything_we_render_is_recognised_as_itself() {
    for ex in examples() {
        let (set, dep) = plan(&ex);
        let host = host_view(&dep, &hosts(&dep)[0]);
        for format in portplan_render::formats() {
            if format == "mermaid" || format == "dot" {
                continue;
            }
            let text = render(format, &set, Some(&host)).text;
            assert_eq!(
                portplan_ruleset::detect(&text).as_deref(),
                Ok(format),
                "{ex} {format}"
            );
        }
    }
}

#[test]
fn unknown_text_is_refused_with_the_formats() {
    let e = portplan_ruleset::detect("hello\nthis is a letter, not a firewall\n").unwrap_err();
    assert!(
        e.contains("--rules-format") && e.contains("nftables"),
        "{e}"
    );
    let d = portplan_ruleset::read("hello", "x.txt", Some("no-such")).unwrap_err();
    assert!(d.message.contains("no-such"), "{d}");
}

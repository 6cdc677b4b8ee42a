//! Arbitrary text never panics the importer, and every draft it writes is a
//! structurally valid catalog file (what `portplan catalog check` accepts).
//! Linear time is shown by the benchmark (scripts/bench-import.sh), not here.

mod common;
use portplan_import::{import, Options};
use portplan_model::store::check_file;
use proptest::prelude::*;

fn assert_valid_draft(page: &str) {
    let imp = import(
        page,
        &Options {
            product: Some("fuzzed".into()),
            file: None,
            ..Options::default()
        },
    );
    let yaml = serde_norway::to_string(&imp.draft).unwrap();
    let checked = check_file("fuzzed.yaml", &yaml);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert!(
        errors.is_empty(),
        "draft fails catalog check: {errors:?}\npage: {page:?}\n{yaml}"
    );
}

/// Text made of the pieces pages are built from, in any order.
fn pagey() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("TCP".to_string()),
        Just("udp".to_string()),
        Just("UPD".to_string()),
        Just("ICMP".to_string()),
        Just("port".to_string()),
        Just("ports".to_string()),
        Just("default".to_string()),
        Just("/".to_string()),
        Just(",".to_string()),
        Just("-".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("|".to_string()),
        Just("---|---".to_string()),
        Just("•".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(":".to_string()),
        Just("<td>".to_string()),
        Just("<tr>".to_string()),
        Just("<li>".to_string()),
        Just("<p".to_string()),
        Just("&amp;".to_string()),
        Just("&#99999999;".to_string()),
        Just("inbound".to_string()),
        Just("Egress".to_string()),
        Just("Optional".to_string()),
        Just("only required if".to_string()),
        Just("localhost".to_string()),
        Just("a.example.com".to_string()),
        Just("https://".to_string()),
        Just("1. ".to_string()),
        Just("Custom".to_string()),
        // Key: value blocks, shifted cells, verbs, one-of conditions.
        Just("Port: ".to_string()),
        Just("Purpose: ".to_string()),
        Just("Direction: ".to_string()),
        Just("Source: ".to_string()),
        Just("Destination: ".to_string()),
        Just("Required: ".to_string()),
        Just("Who listens | Who talks | Description".to_string()),
        Just("The server sends".to_string()),
        Just(" connects to ".to_string()),
        Just("if Oracle is used".to_string()),
        Just("if using ".to_string()),
        Just(" database".to_string()),
        Just("9999999999999-0".to_string()),
        "[0-9]{1,12}",
        "[A-Za-z]{1,8}",
        "\\PC{0,6}",
    ];
    proptest::collection::vec(piece, 0..80).prop_map(|v| v.concat())
}

fn seed_lines() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(common::seeds_dir()) {
        for e in rd.flatten() {
            if let Ok(t) = std::fs::read_to_string(e.path()) {
                out.extend(t.lines().map(str::to_string));
            }
        }
    }
    for e in std::fs::read_dir(common::repo().join("tests/import-pages/pages"))
        .unwrap()
        .flatten()
    {
        if let Ok(t) = std::fs::read_to_string(e.path()) {
            out.extend(t.lines().map(str::to_string));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_text_never_panics(page in pagey()) {
        assert_valid_draft(&page);
    }

    #[test]
    fn arbitrary_unicode_never_panics(page in "\\PC{0,400}") {
        let _ = import(&page, &Options::default());
    }

    #[test]
    fn mutated_seed_lines_never_panic(
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..30),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, "\\PC{0,3}"), 0..20),
    ) {
        let lines = seed_lines();
        prop_assume!(!lines.is_empty());
        let mut chosen: Vec<String> = picks.iter().map(|i| lines[i.index(lines.len())].clone()).collect();
        for (at, op, text) in edits {
            let k = at.index(chosen.len());
            let line = &mut chosen[k];
            let chars: Vec<char> = line.chars().collect();
            let pos = if chars.is_empty() { 0 } else { at.index(chars.len()) };
            let mut c = chars.clone();
            match op {
                0 => { c.splice(pos..pos, text.chars()); }
                1 => { if pos < c.len() { c.remove(pos); } }
                2 => { if pos < c.len() { c[pos] = text.chars().next().unwrap_or('9'); } }
                _ => { c.truncate(pos); }
            }
            *line = c.into_iter().collect();
        }
        assert_valid_draft(&chosen.join("\n"));
    }
}

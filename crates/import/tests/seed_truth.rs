//! Recall and precision of (line, protocol, port) on the five seed pages,
//! against truth tables made by reading the pages (tests/import-pages/truth).

mod common;
use common::*;

fn check_seed(stem: &str) {
    let page_path = seeds_dir().join(format!("{stem}.txt"));
    let Ok(page) = std::fs::read_to_string(&page_path) else {
        // CI places shared/ beside the repo; without it there is nothing to score.
        eprintln!("skipping {stem}: {} not found", page_path.display());
        return;
    };
    let truth = truth(&repo().join(format!("tests/import-pages/truth/{stem}.tsv")));
    let got = extracted(&page);
    let (recall, precision, missed, extra) = score(&truth, &got);
    let (pr, pp) = pair_score(&truth, &got);
    eprintln!(
        "{stem}: line-level recall {recall:.3} precision {precision:.3} ({} truth, {} found); pairs recall {pr:.3} precision {pp:.3}",
        truth.len(),
        got.len()
    );
    eprintln!("  missed: {missed:?}\n  extra: {extra:?}");
    assert!(
        recall >= 0.95,
        "{stem}: recall {recall:.3} < 0.95; missed {missed:?}"
    );
    assert!(
        precision >= 0.90,
        "{stem}: precision {precision:.3} < 0.90; extra {extra:?}"
    );
}

#[test]
fn seed_000_list_rows() {
    check_seed("000_89eeb17fd1e812ca");
}

#[test]
fn seed_001_html_fragments_in_tab_tables() {
    check_seed("001_eaad6eee9a63ff20");
}

#[test]
fn seed_002_glued_footnotes() {
    check_seed("002_910a8618404997d2");
}

#[test]
fn seed_003_one_field_per_line() {
    check_seed("003_4ed03fe19f81dd8f");
}

#[test]
fn seed_004_pipe_table() {
    check_seed("004_37d54612d3599f56");
}

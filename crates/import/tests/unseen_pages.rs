//! Pages in shapes the seeds do not have (a Markdown table with a protocol
//! column, an HTML document, prose, a bullet list), each with a truth table.

mod common;
use common::*;

fn check_page(file: &str, truth_stem: &str) {
    let page =
        std::fs::read_to_string(repo().join(format!("tests/import-pages/pages/{file}"))).unwrap();
    let truth = truth(&repo().join(format!("tests/import-pages/truth/{truth_stem}.tsv")));
    let got = extracted(&page);
    let (recall, precision, missed, extra) = score(&truth, &got);
    eprintln!("{file}: recall {recall:.3} precision {precision:.3}\n  missed: {missed:?}\n  extra: {extra:?}");
    assert!(
        recall >= 0.95,
        "{file}: recall {recall:.3}; missed {missed:?}"
    );
    assert!(
        precision >= 0.90,
        "{file}: precision {precision:.3}; extra {extra:?}"
    );
}

#[test]
fn markdown_table_with_protocol_column() {
    check_page("markdown-table.md", "markdown-table");
}

#[test]
fn html_document_table_and_list() {
    check_page("html-table.html", "html-table");
}

#[test]
fn prose_sentences() {
    check_page("prose.txt", "prose");
}

#[test]
fn bullet_list_with_direction_headings() {
    check_page("bullets.txt", "bullets");
}

#[test]
fn key_value_blocks_and_a_source_destination_table() {
    check_page("definition-list.txt", "definition-list");
}

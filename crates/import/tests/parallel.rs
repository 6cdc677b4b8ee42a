//! A large page is read on every core (rows, records, protocols and the
//! dedupe of statements run in parallel parts). What comes out must not
//! depend on how many threads read it: same findings, same anomalies, same
//! draft, in the same order, as one thread gives.

use portplan_import::{import, Import, Options};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The seed pages and the text test pages, several times over: far more
/// rows than one parallel task takes, so the page is cut into many parts,
/// with tables, headings and protocol sentences on both sides of each cut.
fn big_page() -> String {
    let mut pages = Vec::new();
    for dir in ["catalog/sources", "tests/import-pages/pages"] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "md"))
            .filter(|p| !p.ends_with("README.md"))
            .collect();
        names.sort();
        for n in names {
            pages.push(std::fs::read_to_string(n).unwrap());
        }
    }
    assert!(pages.len() >= 5);
    let one = pages.join("\n");
    let mut out = String::new();
    while out.lines().count() < 40_000 {
        out.push_str(&one);
        out.push('\n');
    }
    out
}

fn with_threads(n: usize, page: &str) -> Import {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(|| {
            import(
                page,
                &Options {
                    product: Some("big".into()),
                    file: None,
                    ..Options::default()
                },
            )
        })
}

#[test]
fn the_result_does_not_depend_on_the_thread_count() {
    let page = big_page();
    let one = with_threads(1, &page);
    assert!(one.findings.len() > 5_000, "{}", one.findings.len());
    assert!(!one.anomalies.is_empty());
    for n in [2, 3, 8] {
        let many = with_threads(n, &page);
        assert_eq!(
            format!("{:?}", one.findings),
            format!("{:?}", many.findings),
            "findings with {n} threads"
        );
        assert_eq!(
            format!("{:?}", one.anomalies),
            format!("{:?}", many.anomalies),
            "anomalies with {n} threads"
        );
        assert_eq!(one.draft, many.draft, "draft with {n} threads");
    }
}

#[test]
fn draft_only_gives_the_same_draft_without_the_findings() {
    let page = big_page();
    let opts = |draft_only| Options {
        product: Some("big".into()),
        file: None,
        draft_only,
    };
    let full = import(&page, &opts(false));
    let lean = import(&page, &opts(true));
    assert_eq!(full.draft, lean.draft);
    assert_eq!(
        format!("{:?}", full.anomalies),
        format!("{:?}", lean.anomalies)
    );
    assert!(!full.findings.is_empty());
    assert!(lean.findings.is_empty());
}

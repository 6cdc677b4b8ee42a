//! A catalog entry made from a published page with no stored copy must say
//! where (a pinned link), when (the date read) and under which heading each
//! statement stands; a stored copy needs none of that. Warnings for any
//! catalog (an importer draft still loads); the built-in catalog has none.

use portplan_model::store::check_file;

const BASE: &str = "product: demo\nname: Demo\nvendor: Demo\nsources:\n  - id: doc\n    title: Demo ports\nSOURCE\nroles:\n  - {id: a, name: A, kind: component}\n  - {id: b, name: B, kind: component}\nrequirements:\n  - id: a-b\n    service: x\n    from: a\n    to: b\n    protocol: tcp\n    ports: [1]\n    source: {doc: doc, line: 3CITE}\n";

fn warnings(source: &str, cite: &str) -> Vec<String> {
    let text = BASE.replace("SOURCE", source).replace("CITE", cite);
    check_file("demo.yaml", &text)
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn a_linked_page_needs_its_date_and_each_citation_its_section() {
    let url = "    url: https://github.com/o/r/blob/0123abc/ports.md";
    let e = warnings(url, "");
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].contains("no `read:` date") || e[1].contains("no `read:` date"),
        "{e:?}"
    );
    assert!(e.iter().any(|m| m.contains("without a `section`")), "{e:?}");
    let e = warnings(&format!("{url}\n    read: 2026-13-01"), ", section: Ports");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("is not a date"), "{e:?}");
    assert!(warnings(&format!("{url}\n    read: 2026-11-30"), ", section: Ports").is_empty());
    let e = warnings("    read: 2026-11-30", ", section: Ports");
    assert!(
        e.iter().any(|m| m.contains("neither `file` nor `url`")),
        "{e:?}"
    );
}

#[test]
fn a_stored_copy_needs_no_link_date_or_section() {
    assert!(warnings("    file: demo.txt", "").is_empty());
}

#[test]
fn the_builtin_catalog_cites_every_linked_page_fully() {
    for (name, text) in portplan_model::store::builtin_files() {
        let found: Vec<String> = check_file(name, text)
            .diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(found.is_empty(), "{name}: {found:#?}");
    }
}

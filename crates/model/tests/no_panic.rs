//! Catalog and deployment parsing never panics, whatever the bytes.

use portplan_model::load::parse_yaml;
use portplan_model::store::{builtin_files, check_file};
use portplan_model::Deployment;
use proptest::prelude::*;

fn base() -> &'static str {
    builtin_files()
        .iter()
        .find(|(n, _)| *n == "strongdm.yaml")
        .map(|(_, t)| *t)
        .unwrap_or("")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        let c = check_file("x.yaml", &s);
        // Either it parsed, or it says why.
        prop_assert!(c.product.is_some() || !c.diagnostics.is_empty());
        let _ = parse_yaml::<Deployment>("d.yaml", &s);
    }

    #[test]
    fn mutated_catalog_never_panics(cut in 0usize..6000, len in 0usize..40, junk in "[\\-:\\[\\]{}0-9a-z ,\n]{0,12}") {
        let b = base();
        let mut text = String::new();
        let at = b.char_indices().map(|(i, _)| i).find(|i| *i >= cut.min(b.len())).unwrap_or(b.len());
        text.push_str(&b[..at]);
        text.push_str(&junk);
        let rest = &b[at..];
        let skip = rest.char_indices().map(|(i, _)| i).find(|i| *i >= len).unwrap_or(rest.len());
        text.push_str(&rest[skip..]);
        let c = check_file("strongdm.yaml", &text);
        for d in &c.diagnostics {
            // every finding about a file that has lines is located
            prop_assert!(!d.message.is_empty());
        }
    }
}

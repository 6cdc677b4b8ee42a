use portplan_model::store::{builtin_files, check_file};
use portplan_model::Catalog;

#[test]
fn every_builtin_file_is_clean() {
    assert!(!builtin_files().is_empty(), "no catalog file was embedded");
    for (name, text) in builtin_files() {
        let c = check_file(name, text);
        let msgs: Vec<String> = c.diagnostics.iter().map(ToString::to_string).collect();
        assert!(msgs.is_empty(), "{name}:\n{}", msgs.join("\n"));
    }
    let cat = Catalog::load(None).map_err(|e| format!("{e:?}")).unwrap();
    assert!(cat.get("strongdm").is_some());
}

#[test]
fn bad_files_get_located_errors() {
    let base = builtin_files()
        .iter()
        .find(|(n, _)| *n == "strongdm.yaml")
        .map(|(_, t)| *t)
        .unwrap();
    // a port out of range
    let bad = base.replacen("ports: [65220]", "ports: [70000]", 1);
    let c = check_file("strongdm.yaml", &bad);
    let d = &c.diagnostics[0];
    assert!(d.message.contains("70000"), "{d}");
    assert!(d.line.is_some(), "{d}");
    // an unknown role
    let bad = base.replacen("to: sdm-login", "to: sdm-logn", 1);
    let c = check_file("strongdm.yaml", &bad);
    let d = &c.diagnostics[0];
    assert!(d.message.contains("unknown role `sdm-logn`"), "{d}");
    assert_eq!(d.hint.as_deref(), Some("did you mean `sdm-login`?"));
    let line = d.line.unwrap();
    assert_eq!(
        bad.lines().nth(line - 1).map(|l| l.trim()),
        Some("to: sdm-logn")
    );
    // an unknown key
    let bad = base.replacen("    scope: loopback\n", "    scop: loopback\n", 1);
    let c = check_file("strongdm.yaml", &bad);
    let d = &c.diagnostics[0];
    assert!(d.message.contains("unknown field `scop`"), "{d}");
    assert!(d.line.is_some() && d.column.is_some());
}

#[test]
fn every_product_round_trips_without_loss() {
    let cat = Catalog::load(None).map_err(|e| format!("{e:?}")).unwrap();
    for p in cat.products.values() {
        let yaml = serde_norway::to_string(p).unwrap();
        let back: portplan_model::Product = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(&back, p, "{} changed through YAML", p.product);
        let json = serde_json::to_string(p).unwrap();
        let back: portplan_model::Product = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, p, "{} changed through JSON", p.product);
    }
}

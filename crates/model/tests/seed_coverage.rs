//! Every port statement of every seed page is in the catalog.
//! Fixtures (`tests/seed-coverage/*.tsv`) are made by reading the pages.

use portplan_model::{Catalog, PortRange, PortSpec, Product, Protocol};
use std::path::Path;

fn covers(prod: &Product, line: u32, proto: &str, ports: &str) -> Result<(), String> {
    if proto == "erratum" {
        return if prod.errata.iter().any(|e| e.source.covers(line)) {
            Ok(())
        } else {
            Err("no erratum cites this line".into())
        };
    }
    let proto: Protocol = proto.parse()?;
    let cited: Vec<_> = prod
        .requirements
        .iter()
        .filter(|r| r.source.covers(line))
        .collect();
    if cited.is_empty() {
        return Err("no requirement cites this line".into());
    }
    let with_proto: Vec<_> = cited
        .iter()
        .filter(|r| r.protocols().contains(&proto))
        .collect();
    if with_proto.is_empty() {
        return Err(format!("requirements cite the line but none is {proto}"));
    }
    if ports == "-" {
        return Ok(());
    }
    if let Some(param) = ports.strip_prefix("param:") {
        return if with_proto.iter().any(|r| r.params().any(|p| p == param)) {
            Ok(())
        } else {
            Err(format!(
                "no {proto} requirement on this line uses parameter `{param}`"
            ))
        };
    }
    let want: PortRange = ports.parse()?;
    let held = with_proto.iter().any(|r| {
        r.ports.iter().any(|ps| match ps {
            PortSpec::Fixed(range) => range.contains_range(&want),
            PortSpec::Param(name) => prod.parameter(name).is_some_and(|p| {
                p.default.is_some_and(|d| d.contains_range(&want))
                    || p.allowed.is_some_and(|a| a.contains_range(&want))
            }),
        })
    });
    if held {
        Ok(())
    } else {
        Err(format!(
            "no {proto} requirement on this line holds port {want}"
        ))
    }
}

#[test]
fn every_seed_port_statement_is_in_the_catalog() {
    let cat = Catalog::load(None).map_err(|e| format!("{e:?}")).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/seed-coverage");
    let mut missing = Vec::new();
    let mut rows = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "tsv") {
            continue;
        }
        files += 1;
        let id = path.file_stem().unwrap().to_string_lossy().into_owned();
        let Some(prod) = cat.get(&id) else {
            missing.push(format!("{id}: product is not in the catalog"));
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, row) in text.lines().enumerate() {
            if row.trim().is_empty() || row.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = row.split('\t').collect();
            assert!(
                cols.len() >= 3,
                "{}:{}: want line, protocol, ports",
                path.display(),
                n + 1
            );
            rows += 1;
            let line: u32 = cols[0].trim().parse().unwrap();
            if let Err(e) = covers(prod, line, cols[1].trim(), cols[2].trim()) {
                missing.push(format!(
                    "{id} line {line} {} {} ({}): {e}",
                    cols[1],
                    cols[2],
                    cols.get(3).unwrap_or(&"")
                ));
            }
        }
    }
    assert!(
        files >= 1 && rows > 0,
        "no fixtures found in {}",
        dir.display()
    );
    assert!(
        missing.is_empty(),
        "{} of {rows} statements missing:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

//! Every citation points at a real line of the stored page, and that line
//! says the port the requirement holds (or the requirement records what the
//! page said instead). Catches a requirement cited to the wrong line.

use portplan_model::{Catalog, PortSpec};
use std::path::Path;

fn digit_tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn citations_point_at_lines_that_say_the_port() {
    let cat = Catalog::load(None).map_err(|e| format!("{e:?}")).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalog/sources");
    let mut problems = Vec::new();
    let mut checked = 0;
    for p in cat.products.values() {
        for doc in &p.sources {
            let Some(file) = &doc.file else { continue };
            let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
                problems.push(format!(
                    "{}: source file {file} is not in catalog/sources",
                    p.product
                ));
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            let cited = |line: u32, end: Option<u32>| -> Option<String> {
                let (a, b) = (line as usize, end.unwrap_or(line) as usize);
                (a >= 1 && b <= lines.len()).then(|| lines[a - 1..b].join("\n"))
            };
            for r in p.requirements.iter().filter(|r| r.source.doc == doc.id) {
                let Some(said) = cited(r.source.line, r.source.end_line) else {
                    problems.push(format!(
                        "{}/{}: line {} is not in {file}",
                        p.product, r.id, r.source.line
                    ));
                    continue;
                };
                checked += 1;
                let fixed: Vec<String> = r
                    .ports
                    .iter()
                    .filter_map(|ps| match ps {
                        PortSpec::Fixed(range) => Some(range.low.to_string()),
                        PortSpec::Param(_) => None,
                    })
                    .collect();
                if fixed.is_empty() {
                    continue;
                }
                let tokens = digit_tokens(&said);
                let says_port = fixed.iter().any(|port| tokens.contains(&port.as_str()));
                let says_page_text = r
                    .page_said
                    .as_ref()
                    .is_some_and(|ps| said.contains(ps.text.trim()));
                if !says_port && !says_page_text {
                    problems.push(format!(
                        "{}/{}: {file}:{} does not say any of ports {fixed:?} (and no page_said text matches it)",
                        p.product, r.id, r.source.line
                    ));
                }
            }
            for e in p.errata.iter().filter(|e| e.source.doc == doc.id) {
                if cited(e.source.line, e.source.end_line).is_none() {
                    problems.push(format!(
                        "{}: erratum line {} is not in {file}",
                        p.product, e.source.line
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no citation was checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

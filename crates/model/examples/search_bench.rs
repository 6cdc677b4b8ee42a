//! Catalog search, indexed against scanning every requirement, on the same
//! queries (benches/serve/run.sh feeds it the generated 100,000-requirement
//! catalog and its query list). Checks both give the same hits, then prints
//! the time per query of each and the ratio.
//!
//! usage: search_bench CATALOG_DIR QUERIES_FILE [LIMIT]
//! (SEARCH_BENCH_INDEX_ONLY=1 skips the scan, to profile the index alone)
//! QUERIES_FILE: one query a line, or `/api/catalog/search?q=...` paths.

use portplan_model::search::{search, search_top, Haystacks};
use portplan_model::Catalog;
use std::time::Instant;

fn decode(line: &str) -> String {
    let q = line.rsplit_once("?q=").map_or(line, |(_, q)| q);
    let mut out = Vec::new();
    let b = q.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(x) => out.push(x),
                    Err(_) => out.extend_from_slice(&b[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(file)) = (args.get(1), args.get(2)) else {
        return Err("usage: search_bench CATALOG_DIR QUERIES_FILE [LIMIT]".into());
    };
    let limit: usize = match args.get(3) {
        Some(l) => l.parse().map_err(|e| format!("LIMIT {l}: {e}"))?,
        None => 200,
    };
    let cat = Catalog::load(Some(std::path::Path::new(dir)))
        .map_err(|ds| format!("{} catalog errors", ds.len()))?;
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let queries: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(decode)
        .collect();
    let reqs: usize = cat.products.values().map(|p| p.requirements.len()).sum();
    let t = Instant::now();
    let hay = Haystacks::new(&cat);
    println!(
        "catalog: {} products, {reqs} requirements; index built in {:.0} ms",
        cat.products.len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    let t = Instant::now();
    let mut indexed = Vec::new();
    for q in &queries {
        indexed.push(search_top(&cat, &hay, q, limit));
    }
    let fast = t.elapsed().as_secs_f64() / queries.len() as f64;

    if std::env::var_os("SEARCH_BENCH_INDEX_ONLY").is_some() {
        println!("indexed {:.2} ms/query", fast * 1e3);
        return Ok(());
    }
    let t = Instant::now();
    let mut scanned = Vec::new();
    for q in &queries {
        let all = search(&cat, q);
        let total = all.len();
        scanned.push((total, all.into_iter().take(limit).collect::<Vec<_>>()));
    }
    let slow = t.elapsed().as_secs_f64() / queries.len() as f64;

    for (q, (a, b)) in queries.iter().zip(indexed.iter().zip(&scanned)) {
        let same =
            a.0 == b.0 && serde_json::to_string(&a.1).ok() == serde_json::to_string(&b.1).ok();
        if !same {
            return Err(format!("`{q}`: the index and the scan disagree"));
        }
    }
    let hits: usize = indexed.iter().map(|x| x.0).sum();
    println!(
        "{} queries ({} hits in all, first {limit} of each written): indexed {:.2} ms/query, scanning every requirement {:.2} ms/query: index {:.0}x faster (same hits)",
        queries.len(),
        hits,
        fast * 1e3,
        slow * 1e3,
        slow / fast
    );
    Ok(())
}

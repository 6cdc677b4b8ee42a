//! Times each stage of an import: `cargo run --release -p portplan-import --example stages FILE`.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let Ok(src) = std::fs::read_to_string(&path) else {
        eprintln!("cannot read {path}");
        std::process::exit(2);
    };
    let t = Instant::now();
    let (_, rows) = portplan_import::text::rows(&src);
    eprintln!("rows    {:?} ({} rows)", t.elapsed(), rows.len());
    let t = Instant::now();
    let walk = portplan_import::segment::walk(&rows);
    eprintln!(
        "walk    {:?} ({} findings)",
        t.elapsed(),
        walk.findings.iter().map(Vec::len).sum::<usize>()
    );
    let t = Instant::now();
    let (f, a) = portplan_import::resolve::resolve(walk);
    eprintln!(
        "resolve {:?} ({} findings, {} anomalies)",
        t.elapsed(),
        f.iter().map(Vec::len).sum::<usize>(),
        a.len()
    );
    let t = Instant::now();
    let (p, _) = portplan_import::draft::draft(f, &a, &portplan_import::Options::default());
    eprintln!(
        "draft   {:?} ({} requirements)",
        t.elapsed(),
        p.requirements.len()
    );
}

//! Prints what the importer finds on a page: `cargo run -p portplan-import --example dump FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE");
        std::process::exit(2);
    };
    let src = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let imp = portplan_import::import(&src, &portplan_import::Options::default());
    for f in &imp.findings {
        let pairs: Vec<String> = f.pairs().iter().map(|(p, x)| format!("{p}/{x}")).collect();
        println!(
            "{:>4} {:<40} {:?} {:.2} {:?} | {}",
            f.line,
            pairs.join(","),
            f.dir,
            f.confidence,
            f.basis,
            f.service
        );
    }
    for a in &imp.anomalies {
        println!("ANOMALY {:>4} {:?}: {}", a.line, a.kind, a.message);
    }
}

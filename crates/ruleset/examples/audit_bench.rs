//! The audit benchmark's inner loop (benches/audit/run.sh): a ruleset and a
//! plan's flows (`portplan plan -f json`), timed stage by stage with the
//! rule index, then a sample of the same flows with every chain scanned
//! rule by rule, the flows x rules way the index avoids.
//!
//! usage: audit_bench RULES FORMAT FLOWS.json HOST_CIDR SAMPLE

use portplan_model::FlowSet;
use portplan_ruleset::space::Space;
use portplan_ruleset::{flow_spaces, judge, reverse, Compiled, Members};
use std::collections::HashSet;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Resident memory now, in MB (Linux), to see which stage holds what.
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|x| x.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096 / 1_000_000)
}

fn main() -> Res<()> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 6 {
        return Err("usage: audit_bench RULES FORMAT FLOWS.json HOST_CIDR SAMPLE".into());
    }
    let t = Instant::now();
    let text = std::fs::read_to_string(&a[1])?;
    let rs = portplan_ruleset::read(&text, &a[1], Some(&a[2])).map_err(|d| d.to_string())?;
    let read = t.elapsed();
    let m_read = rss_mb();
    let rules: usize = rs.chains.iter().map(|c| c.rules.len()).sum();
    let set: FlowSet = serde_json::from_str(&std::fs::read_to_string(&a[3])?)?;
    let members = Members::default();
    let host =
        portplan_ruleset::query::side_addrs(&[a[4].parse::<portplan_model::Addr>()?], &members);
    let sample: usize = a[5].parse()?;
    let spaces: Vec<Vec<Space>> = set
        .flows
        .iter()
        .map(|f| flow_spaces(f, &members, true))
        .collect();

    let m_before_compile = rss_mb();
    let t = Instant::now();
    let c = Compiled::new(&rs, &members);
    let compile = t.elapsed();
    let m_compile = rss_mb();
    let t = Instant::now();
    let judged: Vec<_> = spaces.iter().map(|s| judge(&c, s, Some(&host))).collect();
    let judge_all = t.elapsed();
    let m_judge = rss_mb();
    let hits: HashSet<_> = judged.iter().flat_map(|j| j.hits.iter().copied()).collect();
    let all: Vec<Space> = spaces.iter().flatten().cloned().collect();
    let t = Instant::now();
    let rev = reverse(&c, &all, &hits, Some(&host));
    let reverse_t = t.elapsed();
    let m_reverse = rss_mb();

    let step = (spaces.len() / sample.max(1)).max(1);
    let picked: Vec<&Vec<Space>> = spaces.iter().step_by(step).take(sample).collect();
    let t = Instant::now();
    let indexed: Vec<_> = picked
        .iter()
        .map(|s| judge(&c, s, Some(&host)).verdict)
        .collect();
    let idx_sample = t.elapsed();
    let scan = Compiled::without_index(&rs, &members);
    let t = Instant::now();
    let scanned: Vec<_> = picked
        .iter()
        .map(|s| judge(&scan, s, Some(&host)).verdict)
        .collect();
    let scan_sample = t.elapsed();
    if indexed != scanned {
        return Err("the index changed a verdict".into());
    }

    println!(
        "rules {rules} flows {} (judge on one thread, reverse checks on every core)",
        spaces.len()
    );
    println!(
        "read {:.3}s compile {:.3}s judge {:.3}s reverse {:.3}s",
        read.as_secs_f64(),
        compile.as_secs_f64(),
        judge_all.as_secs_f64(),
        reverse_t.as_secs_f64()
    );
    println!(
        "beyond {} shadowed {} unused {}",
        rev.beyond.len(),
        rev.shadowed.len(),
        rev.unused.len()
    );
    println!("resident memory after read {m_read} MB, flows {m_before_compile} MB, compile {m_compile} MB, judge {m_judge} MB, reverse {m_reverse} MB");
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / picked.len() as f64;
    println!(
        "sample of {} flows: indexed {:.1} us/flow, scanning every rule {:.1} us/flow: index {:.0}x faster (same verdicts)",
        picked.len(),
        per(idx_sample),
        per(scan_sample),
        scan_sample.as_secs_f64() / idx_sample.as_secs_f64().max(1e-9)
    );
    Ok(())
}

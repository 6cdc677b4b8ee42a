//! The audit's outputs: a table for people, JSON and CSV for tools, JUnit
//! for CI, and the blocked flows as a flow set for `--missing`.

use super::Failure;
use crate::out;
use portplan_model::{Addr, Deployment, Flow, FlowSet, PortRange, PortSet, Side};
use portplan_plan::report;
use portplan_ruleset::audit::{Reverse, RuleRef};
use portplan_ruleset::space::{cidrs4, cidrs6, Addrs};
use portplan_ruleset::{Judged, Part, Query, Ruleset, Verdict};
use rayon::prelude::*;
use serde_json::json;
use std::fmt::Write as _;

/// One planned flow and what the ruleset does with it.
pub struct Audited<'a> {
    pub flow: &'a Flow,
    /// Shared by the flows of one box (an unmerged plan repeats boxes).
    pub judged: &'a Judged,
}

pub struct Report<'a> {
    pub ruleset: &'a Ruleset,
    pub deployment: &'a Deployment,
    pub deployment_file: &'a str,
    pub host: Option<&'a str>,
    pub flows: &'a [Audited<'a>],
    pub reverse: &'a Reverse,
    /// Loopback flows left out (no network filter sees them).
    pub loopback: usize,
}

/// How many items a table section lists before pointing at --format json.
const LISTED: usize = 20;

/// `sdm-gw-1 -> app.strongdm.com tcp 443`.
pub fn flow_words(f: &Flow) -> String {
    format!(
        "{} -> {} {}",
        report::side_text(&f.src),
        report::side_text(&f.dst),
        service(f)
    )
}

fn service(f: &Flow) -> String {
    let r = report::row(f);
    if r.ports.is_empty() {
        r.protocol
    } else {
        format!("{} {}", r.protocol, r.ports)
    }
}

/// `rules.nft:20`.
fn at(rs: &Ruleset, r: &RuleRef) -> String {
    if r.line == 0 {
        format!("{} ({})", r.text, r.chain)
    } else {
        format!("{}:{}", rs.file, r.line)
    }
}

fn lines(by: &[RuleRef]) -> String {
    let mut v: Vec<String> = by
        .iter()
        .map(|r| {
            if r.line == 0 {
                r.text.clone()
            } else {
                r.line.to_string()
            }
        })
        .collect();
    v.dedup();
    v.join(",")
}

/// The short "decided by" cell: `20,21` or `8443: 40; rest: 9`.
fn decided(parts: &[Part]) -> String {
    if parts.len() > 1 && parts.iter().all(|p| p.outcome == Verdict::Allowed) {
        let all: Vec<RuleRef> = parts.iter().flat_map(|p| p.by.iter().cloned()).collect();
        return lines(&all);
    }
    if parts.len() == 1 {
        let p = &parts[0];
        return match p.outcome {
            Verdict::Unknown => format!("{} ?", lines(&p.by)).trim().to_string(),
            Verdict::NotCarried => "no filter sees it".into(),
            _ => lines(&p.by),
        };
    }
    parts
        .iter()
        .map(|p| {
            format!("{} {}", p.outcome.as_str(), lines(&p.by))
                .trim()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn table(r: &Report, color: bool) -> String {
    let rs = r.ruleset;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Audit of {} ({}) against {}{}",
        rs.file,
        rs.format,
        r.deployment_file,
        r.host.map(|h| format!(", as {h}")).unwrap_or_default()
    );
    t.push('\n');
    let legend = report::legend_of(r.deployment, r.flows.iter().map(|a| a.flow));
    // Many flows share their sides: name each side once, on every core.
    let mut seen: portplan_ruleset::fast_hash::FastSet<&Side> = Default::default();
    let sides: Vec<&Side> = r
        .flows
        .iter()
        .flat_map(|a| [&a.flow.src, &a.flow.dst])
        .filter(|s| seen.insert(s))
        .collect();
    drop(seen);
    let named: portplan_ruleset::fast_hash::FastMap<&Side, String> = sides
        .par_iter()
        .map(|s| (*s, report::side_names(s, &legend)))
        .collect();
    let names = |s: &Side| named.get(s).cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = r
        .flows
        .par_iter()
        .map(|a| {
            vec![
                a.judged.verdict.as_str().to_string(),
                names(&a.flow.src),
                names(&a.flow.dst),
                a.flow.protocol.to_string(),
                report::ports_text(a.flow),
                if a.flow.required {
                    String::new()
                } else {
                    "optional".into()
                },
                decided(&a.judged.parts),
            ]
        })
        .collect();
    t.push_str(&out::table(
        &["VERDICT", "FROM", "TO", "PROTO", "PORTS", "", "LINE"],
        &rows,
        color,
    ));
    // Why, for every flow that is not simply allowed.
    let mut why = String::new();
    for a in r
        .flows
        .iter()
        .filter(|a| a.judged.verdict != Verdict::Allowed)
    {
        let _ = writeln!(
            why,
            "\n{}: {} -> {} {}{}",
            a.judged.verdict.as_str(),
            names(&a.flow.src),
            names(&a.flow.dst),
            service(a.flow),
            if a.flow.required { "" } else { " (optional)" }
        );
        for p in &a.judged.parts {
            let what = if p.what.is_empty() {
                String::new()
            } else {
                format!("{}: ", p.what)
            };
            let by: Vec<String> =
                p.by.iter()
                    .map(|x| format!("{} `{}`", at(rs, x), x.text))
                    .collect();
            let _ = write!(why, "  {what}{}", p.outcome.as_str());
            if !by.is_empty() {
                let _ = write!(why, " by {}", by.join(", "));
            }
            if let Some(w) = &p.why {
                let _ = write!(why, ": {w}");
            }
            why.push('\n');
        }
    }
    t.push_str(&why);
    let rev = r.reverse;
    if !rev.beyond.is_empty() {
        let _ = writeln!(
            t,
            "\nPermits more than the plan needs ({}):",
            rev.beyond.len()
        );
        for b in rev.beyond.iter().take(LISTED) {
            let more = if b.more > 0 {
                format!(" (and {} more parts)", b.more)
            } else {
                String::new()
            };
            let _ = writeln!(
                t,
                "  {} `{}`: also {}{more}",
                at(rs, &b.rule),
                b.rule.text,
                b.beyond.join("; ")
            );
        }
        listed_more(&mut t, rev.beyond.len());
    }
    if !rev.open_policies.is_empty() {
        let _ = writeln!(t, "\nAccepts by policy whatever no rule decides:");
        for p in &rev.open_policies {
            let _ = writeln!(t, "  {} `{}`", at(rs, p), p.text);
        }
    }
    if !rev.shadowed.is_empty() {
        let _ = writeln!(
            t,
            "\nNever decide anything (shadowed or empty) ({}):",
            rev.shadowed.len()
        );
        for s in rev.shadowed.iter().take(LISTED) {
            let by = if s.by.is_empty() {
                "matches nothing".to_string()
            } else {
                format!(
                    "shadowed by line {}{}",
                    lines(&s.by),
                    if s.conflict {
                        ", which decide the opposite"
                    } else {
                        ""
                    }
                )
            };
            let _ = writeln!(t, "  {} `{}`: {by}", at(rs, &s.rule), s.rule.text);
        }
        listed_more(&mut t, rev.shadowed.len());
    }
    if !rev.unused.is_empty() {
        let _ = writeln!(t, "\nNo planned flow reaches ({}):", rev.unused.len());
        for u in rev.unused.iter().take(LISTED) {
            let _ = writeln!(t, "  {} `{}`", at(rs, u), u.text);
        }
        listed_more(&mut t, rev.unused.len());
    }
    if !rs.issues.is_empty() {
        let _ = writeln!(
            t,
            "\nNot understood ({}): verdicts they touch are unknown",
            rs.issues.len()
        );
        for i in rs.issues.iter().take(LISTED) {
            let _ = writeln!(t, "  {}:{} `{}`: {}", rs.file, i.line, i.text, i.message);
        }
        listed_more(&mut t, rs.issues.len());
    }
    let _ = writeln!(t, "\n{}", summary(r));
    t
}

fn listed_more(t: &mut String, n: usize) {
    if n > LISTED {
        let _ = writeln!(t, "  ... and {} more (--format json lists all)", n - LISTED);
    }
}

fn count(r: &Report, v: Verdict) -> usize {
    r.flows.iter().filter(|a| a.judged.verdict == v).count()
}

fn summary(r: &Report) -> String {
    let mut s = format!(
        "{} flows: {} allowed, {} blocked, {} partly, {} unknown",
        r.flows.len(),
        count(r, Verdict::Allowed),
        count(r, Verdict::Blocked),
        count(r, Verdict::Partly),
        count(r, Verdict::Unknown),
    );
    let nc = count(r, Verdict::NotCarried);
    if nc > 0 {
        s.push_str(&format!(", {nc} not seen by any filter"));
    }
    if r.loopback > 0 {
        s.push_str(&format!("; {} loopback flows not audited", r.loopback));
    }
    s.push('.');
    s
}

fn part_json(p: &Part) -> serde_json::Value {
    json!({
        "verdict": p.outcome,
        "part": p.what,
        "rules": p.by,
        "why": p.why,
    })
}

pub fn json(r: &Report) -> String {
    let rs = r.ruleset;
    let flows: Vec<serde_json::Value> = r
        .flows
        .iter()
        .map(|a| {
            let row = report::row(a.flow);
            json!({
                "verdict": a.judged.verdict,
                "src": report::side_text(&a.flow.src),
                "dst": report::side_text(&a.flow.dst),
                "protocol": row.protocol,
                "ports": row.ports,
                "required": a.flow.required,
                "requirements": a.flow.reason_ids(),
                "parts": a.judged.parts.iter().map(part_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let v = json!({
        "rules": { "file": rs.file, "format": rs.format, "not_understood": rs.issues, "assumed": rs.notes },
        "deployment": r.deployment.name,
        "as": r.host,
        "summary": {
            "flows": r.flows.len(),
            "allowed": count(r, Verdict::Allowed),
            "blocked": count(r, Verdict::Blocked),
            "partly": count(r, Verdict::Partly),
            "unknown": count(r, Verdict::Unknown),
            "not_carried": count(r, Verdict::NotCarried),
            "loopback_not_audited": r.loopback,
        },
        "flows": flows,
        "beyond_plan": r.reverse.beyond,
        "open_policies": r.reverse.open_policies,
        "shadowed": r.reverse.shadowed,
        "unused": r.reverse.unused,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

pub fn csv(r: &Report) -> Result<String, Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::Message(format!("cannot write CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "verdict",
        "src",
        "dst",
        "protocol",
        "ports",
        "required",
        "requirements",
        "part",
        "part_verdict",
        "lines",
        "rules",
        "why",
    ])
    .map_err(|e| fail(&e))?;
    for a in r.flows {
        let row = report::row(a.flow);
        for p in &a.judged.parts {
            w.write_record([
                a.judged.verdict.as_str(),
                &report::side_text(&a.flow.src),
                &report::side_text(&a.flow.dst),
                &row.protocol,
                &row.ports,
                if a.flow.required { "true" } else { "false" },
                &a.flow.reason_ids().join("; "),
                &p.what,
                p.outcome.as_str(),
                &lines(&p.by),
                &p.by
                    .iter()
                    .map(|x| x.text.clone())
                    .collect::<Vec<_>>()
                    .join(" | "),
                p.why.as_deref().unwrap_or(""),
            ])
            .map_err(|e| fail(&e))?;
        }
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn explain(rs: &Ruleset, parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| {
            let by: Vec<String> =
                p.by.iter()
                    .map(|x| format!("{} `{}`", at(rs, x), x.text))
                    .collect();
            let mut s = String::new();
            if !p.what.is_empty() {
                s.push_str(&format!("{}: ", p.what));
            }
            s.push_str(p.outcome.as_str());
            if !by.is_empty() {
                s.push_str(&format!(" by {}", by.join(", ")));
            }
            if let Some(w) = &p.why {
                s.push_str(&format!(": {w}"));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One test case per flow: a required flow that is blocked in any part is
/// a failure, an unknown one an error; optional ones never fail.
pub fn junit(r: &Report) -> String {
    let rs = r.ruleset;
    let cases: Vec<(String, String, bool, Verdict, String)> = r
        .flows
        .iter()
        .map(|a| {
            (
                format!(
                    "{} -> {}",
                    report::side_text(&a.flow.src),
                    report::side_text(&a.flow.dst)
                ),
                service(a.flow),
                a.flow.required,
                a.judged.verdict,
                explain(rs, &a.judged.parts),
            )
        })
        .collect();
    junit_doc(
        &format!("portplan audit {} {}", r.deployment_file, rs.file),
        &cases,
    )
}

fn junit_doc(title: &str, cases: &[(String, String, bool, Verdict, String)]) -> String {
    let fails = |v: Verdict| matches!(v, Verdict::Blocked | Verdict::Partly);
    let failures = cases.iter().filter(|c| c.2 && fails(c.3)).count();
    let errors = cases
        .iter()
        .filter(|c| c.2 && c.3 == Verdict::Unknown)
        .count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"portplan\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        cases.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        esc(title),
        cases.len()
    );
    for (class, name, required, v, why) in cases {
        let _ = write!(
            x,
            "    <testcase classname=\"{}\" name=\"{}\">",
            esc(class),
            esc(name)
        );
        if *required && fails(*v) {
            let _ = write!(
                x,
                "<failure type=\"{}\" message=\"{}\"/>",
                v.as_str(),
                esc(why)
            );
        } else if *required && *v == Verdict::Unknown {
            let _ = write!(x, "<error type=\"unknown\" message=\"{}\"/>", esc(why));
        } else {
            let opt = if *required { "" } else { " (optional flow)" };
            let _ = write!(
                x,
                "<system-out>{}: {}{opt}</system-out>",
                v.as_str(),
                esc(why)
            );
        }
        x.push_str("</testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// The planned flows (or the parts of them) the ruleset blocks, as flows to
/// render: ports and addresses narrowed to the blocked part.
pub fn missing(set: &FlowSet, audited: &[Audited]) -> FlowSet {
    let mut flows = Vec::new();
    for a in audited {
        for p in a
            .judged
            .parts
            .iter()
            .filter(|p| p.outcome == Verdict::Blocked)
        {
            for s in &p.spaces {
                let mut f = a.flow.clone();
                f.src = narrowed(&a.flow.src, &s.src);
                f.dst = if a.flow.scope == portplan_model::catalog::Scope::Broadcast {
                    a.flow.dst.clone()
                } else {
                    narrowed(&a.flow.dst, &s.dst)
                };
                if f.protocol.has_ports() {
                    f.ports =
                        PortSet::from_ranges(s.dport.spans().iter().map(|&(lo, hi)| PortRange {
                            low: lo.max(1),
                            high: hi.max(1),
                        }));
                }
                if !f.src.addrs.is_empty() && !f.dst.addrs.is_empty() {
                    flows.push(f);
                }
            }
        }
    }
    FlowSet {
        deployment: set.deployment.clone(),
        flows: portplan_plan::merge(flows),
        diagnostics: vec![],
    }
}

/// A side cut to the addresses of a part (its labels kept for comments).
fn narrowed(side: &Side, a: &Addrs) -> Side {
    if side.addrs.iter().any(|x| matches!(x, Addr::Any)) && a.v4.is_full() {
        return side.clone();
    }
    let mut addrs = Vec::new();
    for &(lo, hi) in a.v4.spans() {
        addrs.extend(cidrs4(lo, hi).into_iter().map(|n| Addr::Net(n.into())));
    }
    for &(lo, hi) in a.v6.spans() {
        addrs.extend(cidrs6(lo, hi).into_iter().map(|n| Addr::Net(n.into())));
    }
    if !a.names.all {
        addrs.extend(a.names.items.iter().map(|n| Addr::Name(n.clone())));
    }
    addrs.sort();
    addrs.dedup();
    // The side's own addresses where the part is all of them.
    if side.addrs.iter().all(|x| addrs.contains(x)) {
        return side.clone();
    }
    Side {
        labels: side.labels.clone(),
        addrs,
    }
}

// ---- single flows ----

type Answer = (Query, Judged);

pub fn answers_table(rs: &Ruleset, answers: &[Answer], color: bool) -> String {
    let rows: Vec<Vec<String>> = answers
        .iter()
        .map(|(q, j)| {
            vec![
                j.verdict.as_str().to_string(),
                q.text.clone(),
                decided(&j.parts),
            ]
        })
        .collect();
    let mut t = out::table(&["VERDICT", "FLOW", "LINE"], &rows, color);
    for (q, j) in answers {
        let _ = writeln!(t, "\n{}: {}", j.verdict.as_str(), q.text);
        for l in explain(rs, &j.parts).lines() {
            let _ = writeln!(t, "  {l}");
        }
    }
    t
}

pub fn answers_json(rs: &Ruleset, answers: &[Answer]) -> String {
    let v: Vec<serde_json::Value> = answers
        .iter()
        .map(|(q, j)| {
            json!({
                "flow": q.text,
                "verdict": j.verdict,
                "parts": j.parts.iter().map(part_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "rules": { "file": rs.file, "format": rs.format, "not_understood": rs.issues, "assumed": rs.notes },
        "flows": v,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

pub fn answers_csv(rs: &Ruleset, answers: &[Answer]) -> Result<String, Failure> {
    let _ = rs;
    let fail = |e: &dyn std::fmt::Display| Failure::Message(format!("cannot write CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "flow",
        "verdict",
        "part",
        "part_verdict",
        "lines",
        "rules",
        "why",
    ])
    .map_err(|e| fail(&e))?;
    for (q, j) in answers {
        for p in &j.parts {
            w.write_record([
                q.text.as_str(),
                j.verdict.as_str(),
                &p.what,
                p.outcome.as_str(),
                &lines(&p.by),
                &p.by
                    .iter()
                    .map(|x| x.text.clone())
                    .collect::<Vec<_>>()
                    .join(" | "),
                p.why.as_deref().unwrap_or(""),
            ])
            .map_err(|e| fail(&e))?;
        }
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

pub fn answers_junit(rs: &Ruleset, answers: &[Answer]) -> String {
    let cases: Vec<(String, String, bool, Verdict, String)> = answers
        .iter()
        .map(|(q, j)| {
            (
                rs.file.clone(),
                q.text.clone(),
                true,
                j.verdict,
                explain(rs, &j.parts),
            )
        })
        .collect();
    junit_doc(&format!("portplan audit {}", rs.file), &cases)
}

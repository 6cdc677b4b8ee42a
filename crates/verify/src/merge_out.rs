//! The merged report as text: table rows (the cli aligns them), JSON,
//! JUnit XML and Markdown. HTML is in `merge_html`.

use crate::merge::{Gap, Merged};
use crate::report::{esc_xml, gap_row};
use std::fmt::Write;

type Table = (Vec<&'static str>, Vec<Vec<String>>);

impl Merged {
    /// `30 paths: 29 verified, 1 filtered; 1 required failed; 2 not verified; 1 host with problems`.
    pub fn summary(&self) -> String {
        let c = self.counts();
        let states: Vec<String> = c.states.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let mut s = format!(
            "{} path{}: {}; {} required failed",
            c.paths,
            if c.paths == 1 { "" } else { "s" },
            if states.is_empty() {
                "none".into()
            } else {
                states.join(", ")
            },
            c.required_failed
        );
        if c.optional_failed > 0 {
            let _ = write!(s, ", {} optional failed", c.optional_failed);
        }
        let _ = write!(s, "; {} not verified", c.not_verified);
        if c.required_no_result > 0 {
            let _ = write!(s, " ({} required with no result)", c.required_no_result);
        }
        if c.hosts_with_problems > 0 {
            let _ = write!(
                s,
                "; {} host{} with problems",
                c.hosts_with_problems,
                if c.hosts_with_problems == 1 { "" } else { "s" }
            );
        }
        s
    }

    pub fn paths_table(&self) -> Table {
        let rows = self
            .paths
            .iter()
            .map(|p| {
                vec![
                    format!("{} -> {}", p.src, p.dst),
                    yes_no(p.row.required),
                    p.row.host.clone(),
                    format!("{}/{}", p.row.protocol, p.row.port),
                    p.row.state.to_string(),
                    if p.row.passed { "pass" } else { "FAIL" }.into(),
                    p.row.evidence.clone(),
                ]
            })
            .collect();
        (
            vec!["FLOW", "REQ", "HOST", "PORT", "STATE", "RESULT", "EVIDENCE"],
            rows,
        )
    }

    pub fn gaps_table(&self) -> Table {
        let rows = self
            .not_verified
            .iter()
            .map(|n| gap_row(&n.src, &n.dst, n.required, n.protocol, &n.ports, &n.why))
            .collect();
        (vec!["FLOW", "REQ", "PORTS", "NOT VERIFIED BECAUSE"], rows)
    }

    pub fn hosts_table(&self) -> Table {
        let rows = self
            .hosts
            .iter()
            .filter(|h| !h.problems.is_empty())
            .flat_map(|h| {
                h.problems
                    .iter()
                    .map(move |p| vec![h.host.clone(), p.clone()])
            })
            .collect();
        (vec!["HOST", "PROBLEM"], rows)
    }

    /// One row per source, one column per destination.
    pub fn matrix_table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let m = self.matrix();
        let mut header = vec!["FROM \\ TO".to_string()];
        header.extend(m.destinations.iter().cloned());
        let rows = m
            .sources
            .iter()
            .map(|s| {
                let mut r = vec![s.clone()];
                for d in &m.destinations {
                    r.push(
                        m.cells
                            .get(&(s.clone(), d.clone()))
                            .map(|c| c.text())
                            .unwrap_or_default(),
                    );
                }
                r
            })
            .collect();
        (header, rows)
    }

    pub fn json(&self) -> String {
        let v = serde_json::json!({
            "kind": "portplan-report",
            "deployment": self.deployment,
            "expect": self.expect,
            "proven": self.proven(),
            "summary": self.counts(),
            "results": self.paths,
            "not_verified": self.not_verified,
            "hosts": self.hosts,
            "matrix": self.matrix(),
            "warnings": self.warnings,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    /// JUnit XML: one test case per path (a failed required path is a
    /// failure), a skipped one per flow not verified, and an error per host
    /// with problems.
    pub fn junit(&self) -> String {
        let c = self.counts();
        let tests = self.paths.len() + self.not_verified.len() + c.hosts_with_problems;
        let (failures, skipped, errors) = (
            c.required_failed,
            self.not_verified.len(),
            c.hosts_with_problems,
        );
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"portplan report\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">"
        );
        let name = self
            .deployment
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_else(|| "deployment".into());
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
            esc_xml(&name)
        );
        for p in &self.paths {
            let _ = write!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\">",
                esc_xml(&format!("{} -> {}", p.src, p.dst)),
                esc_xml(&format!("{}/{} {}", p.row.protocol, p.row.port, p.row.host))
            );
            let what = format!("{}: {}", p.row.state, p.row.evidence);
            if p.row.required && !p.row.passed {
                let _ = write!(
                    x,
                    "<failure type=\"{}\" message=\"{}\"/>",
                    esc_xml(p.row.state.as_str()),
                    esc_xml(&what)
                );
            } else {
                let opt = if p.row.required {
                    ""
                } else {
                    " (optional flow)"
                };
                let _ = write!(x, "<system-out>{}{opt}</system-out>", esc_xml(&what));
            }
            x.push_str("</testcase>\n");
        }
        for n in &self.not_verified {
            let name = match n.protocol {
                Some(p) => format!("{p}/{}", n.ports),
                None => "(all)".into(),
            };
            let _ = writeln!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\"><skipped message=\"{}\"/></testcase>",
                esc_xml(&format!("{} -> {}", n.src, n.dst)),
                esc_xml(&name),
                esc_xml(&n.why)
            );
        }
        for h in self.hosts.iter().filter(|h| !h.problems.is_empty()) {
            let _ = writeln!(
                x,
                "    <testcase classname=\"hosts\" name=\"{}\"><error message=\"{}\"/></testcase>",
                esc_xml(&h.host),
                esc_xml(&h.problems.join("; "))
            );
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }

    /// Markdown: summary, matrix, failures first, gaps, host problems, every path.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let title = self
            .deployment
            .as_ref()
            .map(|d| format!("Flow proof: {}", d.name))
            .unwrap_or_else(|| "Flow proof".into());
        let _ = writeln!(s, "# {}\n", md_cell(&title));
        let _ = writeln!(
            s,
            "**{}** — {}\n",
            if self.proven() {
                "PROVEN"
            } else {
                "NOT PROVEN"
            },
            md_cell(&self.summary())
        );
        for w in &self.warnings {
            let _ = writeln!(s, "> warning: {}\n", md_cell(w));
        }
        let (h, rows) = self.matrix_table();
        s.push_str("## Matrix\n\n");
        md_table(
            &mut s,
            &h.iter().map(String::as_str).collect::<Vec<_>>(),
            &rows,
        );
        let hosts = self.hosts_table();
        if !hosts.1.is_empty() {
            s.push_str("\n## Host problems\n\n");
            md_table(&mut s, &hosts.0, &hosts.1);
        }
        if !self.not_verified.is_empty() {
            s.push_str("\n## Not verified\n\n");
            let (h, rows) = self.gaps_table();
            md_table(&mut s, &h, &rows);
        }
        s.push_str("\n## Paths\n\n");
        let (h, rows) = self.paths_table();
        md_table(&mut s, &h, &rows);
        s
    }

    /// Whether any not-verified entry is a missing result (a host failure).
    pub fn has_missing_results(&self) -> bool {
        self.not_verified.iter().any(|n| n.gap == Gap::NoResult)
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// A Markdown table cell: pipes and line breaks would break the table;
/// HTML in a name would render.
fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

fn md_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(
        out,
        "| {} |",
        header
            .iter()
            .map(|h| md_cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}|", vec!["---"; header.len()].join("|"));
    for r in rows {
        let _ = writeln!(
            out,
            "| {} |",
            r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
}

//! A probe run as text: aligned-table rows (consecutive ports with the same
//! finding folded into a range), JSON, and JUnit XML for CI pipelines. The
//! cli prints what these return.

use crate::engine::Probed;
use crate::flows::{Check, NotProbed};
use crate::state::rtt_text;
use crate::{Expect, State};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One probed path and, under `verify`, the flow it belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    pub required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    pub passed: bool,
    #[serde(flatten)]
    pub probed: Probed,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub rows: Vec<Row>,
    pub not_probed: Vec<NotProbed>,
    /// Whether open|filtered counts as a pass (UDP services that answer nothing).
    pub allow_open_filtered: bool,
    /// What was expected to answer: a responder (before install, where only
    /// `verified` passes) or the services.
    pub expect: Expect,
    /// Who ran it, on which deployment, when: what `portplan report` needs
    /// to merge the results of many hosts (none for a bare probe).
    pub run: Option<RunMeta>,
}

/// The kind a `verify` JSON result says it is, so `portplan report` can
/// tell it from any other JSON file.
pub const VERIFY_KIND: &str = "portplan-verify";

/// Where and on what a verify run happened.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct RunMeta {
    /// The deployment hosts (or networks) probed from.
    pub sources: Vec<String>,
    /// The machine's host name, as the kernel says it.
    #[serde(default)]
    pub machine: String,
    #[serde(default)]
    pub deployment: Option<DeploymentId>,
    /// Unix time in milliseconds at the start and the end of the probes
    /// (what the fleet benchmark subtracts from the whole run).
    #[serde(default)]
    pub started_unix_ms: u64,
    #[serde(default)]
    pub finished_unix_ms: u64,
}

/// A deployment file as a run saw it: results from different versions of
/// one file should not be merged without saying so.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DeploymentId {
    pub name: String,
    pub file: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

impl DeploymentId {
    pub fn of(name: &str, file: &str, bytes: &[u8]) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(bytes);
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        DeploymentId {
            name: name.to_string(),
            file: file.to_string(),
            sha256,
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// This machine's host name (empty when it cannot be read).
pub fn machine_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

impl Report {
    /// Rows for a bare probe run (every path counts as required).
    pub fn from_probes(
        title: String,
        probed: Vec<Probed>,
        expect: Expect,
        allow_open_filtered: bool,
    ) -> Self {
        let rows = probed
            .into_iter()
            .map(|p| Row {
                flow: None,
                src: None,
                dst: None,
                required: true,
                reasons: Vec::new(),
                passed: p.finding.state.passes(expect, allow_open_filtered),
                probed: p,
            })
            .collect();
        Report {
            title,
            rows,
            not_probed: Vec::new(),
            allow_open_filtered,
            expect,
            run: None,
        }
    }

    /// Rows for a verify run: `probed[i]` is the result of `checks[i]`.
    pub fn from_checks(
        title: String,
        checks: Vec<Check>,
        probed: Vec<Probed>,
        not_probed: Vec<NotProbed>,
        expect: Expect,
        allow_open_filtered: bool,
    ) -> Self {
        let rows = checks
            .into_iter()
            .zip(probed)
            .map(|(c, p)| Row {
                flow: Some(c.flow),
                src: Some(c.src),
                dst: Some(c.dst),
                required: c.required,
                reasons: c.reasons,
                passed: p.finding.state.passes(expect, allow_open_filtered),
                probed: p,
            })
            .collect();
        Report {
            title,
            rows,
            not_probed,
            allow_open_filtered,
            expect,
            run: None,
        }
    }

    /// Required paths that did not pass.
    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| r.required && !r.passed).count()
    }

    pub fn counts(&self) -> BTreeMap<State, usize> {
        let mut m = BTreeMap::new();
        for r in &self.rows {
            *m.entry(r.probed.finding.state).or_insert(0) += 1;
        }
        m
    }

    /// `12 paths: 9 verified, 2 closed, 1 filtered; 3 required failed; 2 flows not probed`.
    pub fn summary(&self) -> String {
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let mut s = format!(
            "{} path{}: {}",
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" },
            if counts.is_empty() {
                "none".to_string()
            } else {
                counts.join(", ")
            }
        );
        let _ = write!(s, "; {} required failed", self.failures());
        if !self.not_probed.is_empty() {
            let _ = write!(s, "; {} not probed (listed above)", self.not_probed.len());
        }
        s
    }

    /// Header and rows of the table; a run of ports with the same finding is one row.
    pub fn table(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let with_flows = self.rows.iter().any(|r| r.flow.is_some());
        let mut header = vec![];
        if with_flows {
            header.extend(["FLOW", "REQ"]);
        }
        header.extend(["HOST", "ADDRESS", "PORT", "STATE", "RTT", "EVIDENCE"]);
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut i = 0;
        while i < self.rows.len() {
            let r = &self.rows[i];
            let key = |x: &Row| {
                (
                    x.flow,
                    x.probed.target.host.clone(),
                    x.probed.target.protocol,
                    x.probed.finding.state,
                    x.probed.finding.evidence.clone(),
                )
            };
            let mut j = i + 1;
            while j < self.rows.len()
                && key(&self.rows[j]) == key(r)
                && u32::from(self.rows[j].probed.target.port)
                    == u32::from(self.rows[j - 1].probed.target.port) + 1
            {
                j += 1;
            }
            let last = &self.rows[j - 1];
            let port = if j - i == 1 {
                format!("{}/{}", r.probed.target.protocol, r.probed.target.port)
            } else {
                format!(
                    "{}/{}-{}",
                    r.probed.target.protocol, r.probed.target.port, last.probed.target.port
                )
            };
            let rtt = self.rows[i..j]
                .iter()
                .filter_map(|x| x.probed.finding.rtt)
                .max();
            let mut row = Vec::new();
            if with_flows {
                row.push(format!(
                    "{} -> {}",
                    r.src.as_deref().unwrap_or("-"),
                    r.dst.as_deref().unwrap_or("-")
                ));
                row.push(if r.required { "yes" } else { "no" }.to_string());
            }
            row.push(r.probed.target.host.clone());
            row.push(
                r.probed
                    .address
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            row.push(port);
            row.push(r.probed.finding.state.to_string());
            row.push(rtt_text(rtt));
            row.push(r.probed.finding.evidence.clone());
            out.push(row);
            i = j;
        }
        (header, out)
    }

    /// Header and rows of the flows no probe could prove.
    pub fn not_probed_table(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let rows = self
            .not_probed
            .iter()
            .map(|n| {
                gap_row(
                    &n.src,
                    &n.dst,
                    n.required,
                    Some(n.protocol),
                    &n.ports,
                    &n.why,
                )
            })
            .collect();
        (vec!["FLOW", "REQ", "PORTS", "NOT PROBED BECAUSE"], rows)
    }

    pub fn json(&self) -> String {
        let counts: BTreeMap<&str, usize> = self
            .counts()
            .into_iter()
            .map(|(s, n)| (s.as_str(), n))
            .collect();
        let mut v = serde_json::json!({
            "title": self.title,
            "summary": {
                "paths": self.rows.len(),
                "states": counts,
                "required_failed": self.failures(),
                "not_probed": self.not_probed.len(),
                "allow_open_filtered": self.allow_open_filtered,
                "expect": self.expect.as_str(),
            },
            "results": self.rows,
            "not_probed": self.not_probed,
        });
        if let Some(run) = &self.run {
            v["kind"] = VERIFY_KIND.into();
            v["run"] = serde_json::to_value(run).unwrap_or_default();
        }
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    /// JUnit XML: one test case per path; a required path that does not pass
    /// is a failure, an optional one is reported but never fails the build,
    /// and flows no probe can prove are skipped test cases with the reason.
    pub fn junit(&self) -> String {
        let tests = self.rows.len() + self.not_probed.len();
        let failures = self.failures();
        let skipped = self.not_probed.len();
        let time: f64 = self
            .rows
            .iter()
            .filter_map(|r| r.probed.finding.rtt)
            .map(|d| d.as_secs_f64())
            .sum();
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"portplan\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
        );
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.6}\">",
            esc_xml(&self.title)
        );
        for r in &self.rows {
            let p = &r.probed;
            let class = match (&r.src, &r.dst) {
                (Some(s), Some(d)) => format!("{s} -> {d}"),
                _ => p.target.host.clone(),
            };
            let name = format!("{}/{} {}", p.target.protocol, p.target.port, p.target.host);
            let t = p.finding.rtt.map(|d| d.as_secs_f64()).unwrap_or(0.0);
            let _ = write!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{t:.6}\">",
                esc_xml(&class),
                esc_xml(&name)
            );
            let what = format!("{}: {}", p.finding.state, p.finding.evidence);
            if r.required && !r.passed {
                let _ = write!(
                    x,
                    "<failure type=\"{}\" message=\"{}\"/>",
                    esc_xml(p.finding.state.as_str()),
                    esc_xml(&what)
                );
            } else {
                let opt = if r.required { "" } else { " (optional flow)" };
                let _ = write!(x, "<system-out>{}{}</system-out>", esc_xml(&what), opt);
            }
            x.push_str("</testcase>\n");
        }
        for n in &self.not_probed {
            let _ = writeln!(
                x,
                "    <testcase classname=\"{}\" name=\"{}/{}\"><skipped message=\"{}\"/></testcase>",
                esc_xml(&format!("{} -> {}", n.src, n.dst)),
                n.protocol,
                esc_xml(&n.ports),
                esc_xml(&n.why)
            );
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }
}

/// A table row for a flow without a verdict: flow, required, ports, why.
pub fn gap_row(
    src: &str,
    dst: &str,
    required: bool,
    protocol: Option<portplan_model::Protocol>,
    ports: &str,
    why: &str,
) -> Vec<String> {
    vec![
        format!("{src} -> {dst}"),
        if required { "yes" } else { "no" }.to_string(),
        match protocol {
            None => "(all)".to_string(),
            Some(p) if ports.is_empty() => p.to_string(),
            Some(p) => format!("{p}/{ports}"),
        },
        why.to_string(),
    ]
}

/// XML (and HTML) attribute/text escaping.
pub fn esc_xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Target;
    use crate::Finding;
    use portplan_model::Protocol;
    use std::time::Duration;

    fn p(port: u16, state: State, ev: &str) -> Probed {
        Probed {
            target: Target {
                host: "10.0.0.1".into(),
                protocol: Protocol::Tcp,
                port,
            },
            address: "10.0.0.1".parse().ok(),
            finding: Finding::new(state, ev, Some(Duration::from_micros(300))),
        }
    }

    #[test]
    fn consecutive_ports_with_one_finding_fold_into_a_range() {
        let r = Report::from_probes(
            "t".into(),
            vec![
                p(1, State::Closed, "TCP reset"),
                p(2, State::Closed, "TCP reset"),
                p(3, State::Open, "handshake completed"),
                p(4, State::Closed, "TCP reset"),
            ],
            Expect::Service,
            false,
        );
        let (_, rows) = r.table();
        let ports: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
        assert_eq!(ports, ["tcp/1-2", "tcp/3", "tcp/4"]);
        assert_eq!(r.failures(), 3);
        assert!(r.summary().starts_with("4 paths: 1 open, 3 closed"));
    }

    #[test]
    fn junit_marks_failures_and_escapes() {
        let r = Report::from_probes(
            "a <b> & \"c\"".into(),
            vec![
                p(1, State::Closed, "TCP reset"),
                p(2, State::Verified, "token valid"),
            ],
            Expect::Service,
            false,
        );
        let x = r.junit();
        assert!(x.contains("name=\"a &lt;b&gt; &amp; &quot;c&quot;\""));
        assert_eq!(x.matches("<failure ").count(), 1);
        assert!(x.contains("failures=\"1\""));
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["summary"]["required_failed"], 1);
        assert_eq!(v["results"][1]["state"], "verified");
    }

    #[test]
    fn before_install_only_a_token_passes() {
        let probes = || {
            vec![
                p(1, State::Verified, "token valid"),
                p(2, State::Open, "handshake completed"),
                p(3, State::Impostor, "no responder token"),
                p(4, State::OpenFiltered, "no answer"),
            ]
        };
        let r = Report::from_probes("t".into(), probes(), Expect::Responder, true);
        let passed: Vec<bool> = r.rows.iter().map(|r| r.passed).collect();
        assert_eq!(passed, [true, false, false, false]);
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["summary"]["expect"], "responder");
        let r = Report::from_probes("t".into(), probes(), Expect::Service, true);
        let passed: Vec<bool> = r.rows.iter().map(|r| r.passed).collect();
        assert_eq!(passed, [true, true, false, true]);
    }
}

//! `portplan report`: the `verify` results of many hosts, and the fleet
//! playbook's record of what happened on each host, merged into one account
//! of a deployment: every path with its state, what was not verified and
//! why, and which hosts had trouble. Formats are in `merge_out`.

use crate::flows::{Check, NotProbed};
use crate::report::{DeploymentId, RunMeta, VERIFY_KIND};
use crate::State;
use portplan_model::Protocol;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The kind of the per-host record the fleet playbook writes.
pub const HOST_KIND: &str = "portplan-fleet-host";

/// One path as a `verify` JSON result gives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathRow {
    #[serde(default)]
    pub flow: Option<usize>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub dst: Option<String>,
    pub required: bool,
    #[serde(default)]
    pub reasons: Vec<String>,
    pub passed: bool,
    pub host: String,
    pub protocol: Protocol,
    pub port: u16,
    #[serde(default)]
    pub address: Option<IpAddr>,
    pub state: State,
    pub evidence: String,
    #[serde(default)]
    pub rtt_ms: Option<f64>,
}

/// A flow a `verify` run could not probe, as its JSON gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct NotProbedRow {
    pub src: String,
    pub dst: String,
    pub protocol: Protocol,
    #[serde(default)]
    pub ports: String,
    pub required: bool,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VerifySummary {
    pub expect: String,
}

/// One host's `verify --format json` output.
#[derive(Debug, Clone, Deserialize)]
pub struct VerifyResult {
    #[serde(default)]
    pub title: String,
    pub summary: VerifySummary,
    pub results: Vec<PathRow>,
    #[serde(default)]
    pub not_probed: Vec<NotProbedRow>,
    #[serde(default)]
    pub run: Option<RunMeta>,
}

/// What the fleet playbook saw on one inventory host: the result of each
/// step (Ansible's registered results, `null` for a step that did not run)
/// and the responder's log.
#[derive(Debug, Clone, Deserialize)]
pub struct HostRecord {
    pub host: String,
    /// The deployment host or network this inventory host verified from.
    #[serde(default)]
    pub from: Option<String>,
    /// The deployment host this inventory host answered for.
    #[serde(default, rename = "as")]
    pub as_host: Option<String>,
    #[serde(default)]
    pub steps: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    pub respond_log: Option<String>,
}

/// A file given to `portplan report`, read.
#[derive(Debug, Clone)]
pub enum Input {
    Verify(Box<VerifyResult>),
    Host(HostRecord),
}

/// Reads one input file's text; the error names what is wrong (the caller
/// adds the file name).
pub fn parse_input(text: &str) -> Result<Input, String> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{}:{}: not JSON: {e}", e.line(), e.column()))?;
    let kind = v.get("kind").and_then(|k| k.as_str());
    match kind {
        Some(HOST_KIND) => serde_json::from_value(v)
            .map(Input::Host)
            .map_err(|e| format!("a fleet host record, but {e}")),
        Some(VERIFY_KIND) => serde_json::from_value(v)
            .map(|r| Input::Verify(Box::new(r)))
            .map_err(|e| format!("a verify result, but {e}")),
        // A result of a portplan from before results said their kind.
        None if v.get("results").is_some() && v.get("summary").is_some() => {
            serde_json::from_value(v)
                .map(|r| Input::Verify(Box::new(r)))
                .map_err(|e| format!("looks like a verify result, but {e}"))
        }
        Some(k) => Err(format!(
            "a JSON file of kind `{k}`, not a `portplan verify --format json` result or a fleet host record"
        )),
        None => Err(
            "not a `portplan verify --format json` result or a fleet host record (no \"kind\", no \"results\")"
                .into(),
        ),
    }
}

/// The flows one source of a deployment must prove: what the report expects
/// to find when the deployment is given.
#[derive(Debug, Clone)]
pub struct ExpectedSource {
    pub name: String,
    /// A network (a /24 of clients) rather than a host: only a
    /// representative host can verify from it.
    pub network: bool,
    pub checks: Vec<Check>,
    pub skipped: Vec<NotProbed>,
}

#[derive(Debug, Clone)]
pub struct Expected {
    pub deployment: DeploymentId,
    pub sources: Vec<ExpectedSource>,
}

/// A path in the merged report: a row of a host's result.
#[derive(Debug, Clone, Serialize)]
pub struct MergedPath {
    /// The source (deployment host or network) it was probed from.
    pub src: String,
    pub dst: String,
    #[serde(flatten)]
    pub row: PathRow,
}

/// Why a flow has no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gap {
    /// No probe can prove it (ICMP, a network as destination, loopback...).
    Unprobeable,
    /// It could be probed, but no result came back from its source.
    NoResult,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotVerified {
    pub src: String,
    pub dst: String,
    /// None for a source that gave no result at all, when the deployment
    /// is not given to say which flows it had.
    pub protocol: Option<Protocol>,
    pub ports: String,
    pub required: bool,
    pub gap: Gap,
    pub why: String,
}

/// What happened on one inventory host.
#[derive(Debug, Clone, Serialize)]
pub struct HostStatus {
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_host: Option<String>,
    pub problems: Vec<String>,
}

/// The merged account.
#[derive(Debug, Clone, Serialize)]
pub struct Merged {
    pub deployment: Option<DeploymentId>,
    /// `responder` (before install) or `service`, as the results say.
    pub expect: Vec<String>,
    pub paths: Vec<MergedPath>,
    pub not_verified: Vec<NotVerified>,
    pub hosts: Vec<HostStatus>,
    /// Things the reader should know about the inputs themselves.
    pub warnings: Vec<String>,
}

/// Merges the inputs (in the order given). With the deployment's expected
/// checks, every planned probe without a result is listed, with the cause
/// the host records give.
pub fn merge(inputs: Vec<(String, Input)>, expected: Option<&Expected>) -> Merged {
    let mut paths = Vec::new();
    let mut file_gaps = Vec::new();
    let mut hosts = Vec::new();
    let mut expect = BTreeSet::new();
    let mut warnings = Vec::new();
    let mut deployments: BTreeMap<String, (DeploymentId, Vec<String>)> = BTreeMap::new();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for (file, input) in inputs {
        match input {
            Input::Verify(r) => {
                expect.insert(r.summary.expect.clone());
                let sources = r
                    .run
                    .as_ref()
                    .map(|m| m.sources.clone())
                    .unwrap_or_default();
                if let Some(d) = r.run.as_ref().and_then(|m| m.deployment.clone()) {
                    deployments
                        .entry(d.sha256.clone())
                        .or_insert_with(|| (d, Vec::new()))
                        .1
                        .push(file.clone());
                }
                for row in r.results {
                    let src = row
                        .src
                        .clone()
                        .or_else(|| sources.first().cloned())
                        .unwrap_or_else(|| "?".into());
                    reported.insert(src.clone());
                    let dst = row.dst.clone().unwrap_or_else(|| row.host.clone());
                    paths.push(MergedPath { src, dst, row });
                }
                reported.extend(sources);
                for n in r.not_probed {
                    reported.insert(n.src.clone());
                    file_gaps.push(NotVerified {
                        src: n.src,
                        dst: n.dst,
                        protocol: Some(n.protocol),
                        ports: n.ports,
                        required: n.required,
                        gap: Gap::Unprobeable,
                        why: n.why,
                    });
                }
            }
            Input::Host(h) => hosts.push(HostStatus {
                problems: host_problems(&h),
                host: h.host,
                from: h.from,
                as_host: h.as_host,
            }),
        }
    }
    // The same path reported twice (a file given twice, or two hosts
    // verifying from one source): kept once, the first.
    let mut seen = BTreeSet::new();
    paths.retain(|p| seen.insert(path_key(&p.src, &p.row.host, p.row.protocol, p.row.port)));
    if deployments.len() > 1 {
        let list: Vec<String> = deployments
            .values()
            .map(|(d, files)| {
                format!(
                    "{} ({}…) in {}",
                    d.file,
                    &d.sha256[..12.min(d.sha256.len())],
                    files.join(", ")
                )
            })
            .collect();
        warnings.push(format!(
            "the results come from different versions of the deployment: {}",
            list.join("; ")
        ));
    }
    let mut not_verified = Vec::new();
    let deployment = match expected {
        Some(exp) => {
            if let Some((d, files)) = deployments
                .values()
                .find(|(d, _)| d.sha256 != exp.deployment.sha256)
            {
                warnings.push(format!(
                    "{} were made with a different version of the deployment than {} ({} has sha256 {}…)",
                    files.join(", "),
                    exp.deployment.file,
                    d.file,
                    &d.sha256[..12.min(d.sha256.len())]
                ));
            }
            for s in &exp.sources {
                let cause = || source_gap_cause(s, &hosts, reported.contains(&s.name));
                for c in &s.checks {
                    let k = path_key(&c.src, &c.target.host, c.target.protocol, c.target.port);
                    if !seen.contains(&k) {
                        not_verified.push(NotVerified {
                            src: c.src.clone(),
                            dst: c.dst.clone(),
                            protocol: Some(c.target.protocol),
                            ports: format!("{} on {}", c.target.port, c.target.host),
                            required: c.required,
                            gap: Gap::NoResult,
                            why: cause(),
                        });
                    }
                }
                not_verified.extend(s.skipped.iter().map(|n| NotVerified {
                    src: n.src.clone(),
                    dst: n.dst.clone(),
                    protocol: Some(n.protocol),
                    ports: n.ports.clone(),
                    required: n.required,
                    gap: Gap::Unprobeable,
                    why: n.why.clone(),
                }));
            }
            Some(exp.deployment.clone())
        }
        None => {
            not_verified = file_gaps;
            // Without the deployment, a host that should have verified but
            // gave no result is all that can be said.
            for h in &hosts {
                if let Some(from) = &h.from {
                    if !reported.contains(from) {
                        not_verified.push(NotVerified {
                            src: from.clone(),
                            dst: "(every destination)".into(),
                            protocol: None,
                            ports: String::new(),
                            required: true,
                            gap: Gap::NoResult,
                            why: no_result_why(from, &hosts),
                        });
                    }
                }
            }
            if deployments.len() == 1 {
                deployments.into_values().next().map(|(d, _)| d)
            } else {
                None
            }
        }
    };
    paths.sort_by(|a, b| {
        (&a.src, &a.dst, a.row.protocol, &a.row.host, a.row.port).cmp(&(
            &b.src,
            &b.dst,
            b.row.protocol,
            &b.row.host,
            b.row.port,
        ))
    });
    Merged {
        deployment,
        expect: expect.into_iter().collect(),
        paths,
        not_verified,
        hosts,
        warnings,
    }
}

fn path_key(src: &str, host: &str, proto: Protocol, port: u16) -> (String, String, Protocol, u16) {
    (src.to_string(), host.to_string(), proto, port)
}

/// Why a source of the deployment gave no result for a path.
fn source_gap_cause(s: &ExpectedSource, hosts: &[HostStatus], reported: bool) -> String {
    if reported {
        return format!("{}'s result has no row for this path", s.name);
    }
    let ran = hosts
        .iter()
        .any(|h| h.from.as_deref() == Some(s.name.as_str()));
    if s.network && !ran {
        return format!(
            "{} is a network: no representative host verified from it (`portplan fleet --representative {}=HOST`)",
            s.name, s.name
        );
    }
    no_result_why(&s.name, hosts)
}

fn no_result_why(src: &str, hosts: &[HostStatus]) -> String {
    let problems: Vec<String> = hosts
        .iter()
        .filter(|h| h.from.as_deref() == Some(src))
        .flat_map(|h| {
            // The host's name is said once when it is the source itself.
            let who = if h.host == src {
                String::new()
            } else {
                format!("{}: ", h.host)
            };
            h.problems.iter().map(move |p| format!("{who}{p}"))
        })
        .collect();
    if problems.is_empty() {
        format!("no result from {src} (its verify result was not among the files read)")
    } else {
        format!("no result from {src}: {}", problems.join("; "))
    }
}

/// The first lines of a message, on one line, cut to a readable length.
fn short(s: &str) -> String {
    let one: Vec<&str> = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    let t = one.join(" / ");
    if t.chars().count() > 300 {
        let cut: String = t.chars().take(300).collect();
        format!("{cut}…")
    } else {
        t
    }
}

/// The problems a host record shows: an unreachable host, a failed step
/// (with Ansible's message or the command's stderr), a responder that
/// skipped ports or never became ready.
pub fn host_problems(h: &HostRecord) -> Vec<String> {
    let mut out = Vec::new();
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(short)
            .filter(|s| !s.is_empty())
    };
    let mut responder_started = false;
    for (name, v) in &h.steps {
        if !v.is_object() || v.get("skipped").and_then(|x| x.as_bool()) == Some(true) {
            continue;
        }
        if v.get("unreachable").and_then(|x| x.as_bool()) == Some(true) {
            out.push(format!(
                "unreachable ({name}): {}",
                text(v, "msg").unwrap_or_else(|| "no message".into())
            ));
            // Every later step met the same wall.
            return out;
        }
        if v.get("failed").and_then(|x| x.as_bool()) == Some(true) {
            let why = text(v, "stderr")
                .or_else(|| text(v, "msg"))
                .unwrap_or_else(|| "no message".into());
            let rc = v
                .get("rc")
                .and_then(|x| x.as_i64())
                .map(|rc| format!(" (exit {rc})"))
                .unwrap_or_default();
            out.push(format!("{name} failed{rc}: {why}"));
        } else if name == "verify" {
            // The playbook keeps verify's exit code out of Ansible's verdict
            // (1 only means a path failed): anything else is a failure.
            let rc = v.get("rc").and_then(|x| x.as_i64());
            if v.get("finished").and_then(|x| x.as_i64()) == Some(0) {
                out.push("verify did not end in the time allowed (portplan_verify_budget)".into());
            } else if let Some(rc) = rc.filter(|rc| !matches!(rc, 0 | 1)) {
                let why = text(v, "stderr")
                    .or_else(|| text(v, "msg"))
                    .unwrap_or_else(|| "no message".into());
                out.push(format!("verify failed (exit {rc}): {why}"));
            }
        } else if name == "start responder" {
            responder_started = true;
        }
    }
    if let Some(log) = &h.respond_log {
        let mut ready = false;
        for line in log.lines() {
            if line.contains("\"event\":\"ready\"") {
                ready = true;
            }
            if let Some(rest) = line.strip_prefix("portplan: warning: ") {
                out.push(format!("responder: {}", short(rest)));
            } else if let Some(rest) = line.strip_prefix("portplan: error: ") {
                out.push(format!("responder: {}", short(rest)));
            }
        }
        if responder_started && !ready {
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("the log is empty");
            out.push(format!("responder never became ready: {}", short(last)));
        }
    } else if responder_started {
        out.push("responder started but its log could not be read".into());
    }
    out
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub paths: usize,
    pub passed: usize,
    pub states: BTreeMap<String, usize>,
    pub required_failed: usize,
    pub optional_failed: usize,
    pub not_verified: usize,
    /// Required flows left without a verdict because a host gave no result.
    pub required_no_result: usize,
    pub hosts_with_problems: usize,
}

impl Merged {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            paths: self.paths.len(),
            not_verified: self.not_verified.len(),
            ..Counts::default()
        };
        for p in &self.paths {
            *c.states
                .entry(p.row.state.as_str().to_string())
                .or_insert(0) += 1;
            match (p.row.passed, p.row.required) {
                (true, _) => c.passed += 1,
                (false, true) => c.required_failed += 1,
                (false, false) => c.optional_failed += 1,
            }
        }
        c.required_no_result = self
            .not_verified
            .iter()
            .filter(|n| n.required && n.gap == Gap::NoResult)
            .count();
        c.hosts_with_problems = self.hosts.iter().filter(|h| !h.problems.is_empty()).count();
        c
    }

    /// Whether the deployment is proven: no required path failed, and none
    /// was left without a result by a host that did not report.
    pub fn proven(&self) -> bool {
        let c = self.counts();
        c.required_failed == 0 && c.required_no_result == 0
    }

    /// The source × destination matrix: sources, destinations, and a cell
    /// for each pair that has any path or gap.
    pub fn matrix(&self) -> Matrix {
        let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
        for p in &self.paths {
            let c = cells.entry((p.src.clone(), p.dst.clone())).or_default();
            if p.row.passed {
                c.passed += 1;
            } else {
                c.failed += 1;
                *c.failed_states
                    .entry(p.row.state.as_str().to_string())
                    .or_insert(0) += 1;
                c.required_failed |= p.row.required;
            }
        }
        for n in &self.not_verified {
            cells
                .entry((n.src.clone(), n.dst.clone()))
                .or_default()
                .not_verified += 1;
        }
        let sources: BTreeSet<String> = cells.keys().map(|(s, _)| s.clone()).collect();
        let destinations: BTreeSet<String> = cells.keys().map(|(_, d)| d.clone()).collect();
        Matrix {
            sources: sources.into_iter().collect(),
            destinations: destinations.into_iter().collect(),
            cells,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Cell {
    pub passed: usize,
    pub failed: usize,
    pub not_verified: usize,
    pub required_failed: bool,
    pub failed_states: BTreeMap<String, usize>,
}

impl Cell {
    /// `ok 12`, `FAIL 2/14 (filtered 2)`, `? 3` for gaps only.
    pub fn text(&self) -> String {
        let total = self.passed + self.failed;
        let mut s = if self.failed > 0 {
            let states: Vec<String> = self
                .failed_states
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            format!("FAIL {}/{total} ({})", self.failed, states.join(", "))
        } else if total > 0 {
            format!("ok {total}")
        } else {
            String::new()
        };
        if self.not_verified > 0 {
            if !s.is_empty() {
                s.push_str(", ");
            }
            s.push_str(&format!("? {}", self.not_verified));
        }
        s
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub sources: Vec<String>,
    pub destinations: Vec<String>,
    #[serde(serialize_with = "cells_as_list")]
    pub cells: BTreeMap<(String, String), Cell>,
}

fn cells_as_list<S: serde::Serializer>(
    cells: &BTreeMap<(String, String), Cell>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(cells.len()))?;
    for ((src, dst), c) in cells {
        seq.serialize_element(&serde_json::json!({
            "src": src,
            "dst": dst,
            "passed": c.passed,
            "failed": c.failed,
            "not_verified": c.not_verified,
            "failed_states": c.failed_states,
        }))?;
    }
    seq.end()
}

//! Reads `gcloud compute firewall-rules list --format=json` (an array of
//! Firewall resources; one resource, as `describe` prints it, is read too).
//!
//! Semantics in `gcp_json_fw`: priority order, deny before allow at equal
//! priority, targets as `tag:NAME` / `sa:NAME` / `network:NAME` symbols, the
//! implied deny-ingress and allow-egress rules. The list holds VPC firewall
//! rules only: firewall policies, which Google Cloud evaluates before them,
//! are not in it (noted).

use crate::gcp_json_fw::{self as fw, FwRule};
use crate::json_tree::{self as tree, at, Node};
use crate::model::*;
use crate::space::{Addrs, Ranges};
use crate::Reader;
use portplan_model::Diagnostic;

pub struct GcpJson;

impl Reader for GcpJson {
    fn name(&self) -> &'static str {
        "gcp-json"
    }
    fn about(&self) -> &'static str {
        "`gcloud compute firewall-rules list --format=json`"
    }
    fn sniff(&self, text: &str) -> u8 {
        if tree::document(text).is_none() {
            return 0;
        }
        let kind = text.contains("compute#firewall");
        let proto = text.contains("\"IPProtocol\"");
        let fields = text.contains("\"sourceRanges\"")
            || text.contains("\"targetTags\"")
            || text.contains("\"direction\"");
        match (kind, proto, fields) {
            (true, _, _) => 95,
            (false, true, true) => 90,
            (false, true, false) => 60,
            _ => 0,
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

/// Fields that do not change what a rule matches.
const HARMLESS: &[&str] = &[
    "kind",
    "id",
    "creationTimestamp",
    "name",
    "description",
    "selfLink",
    "selfLinkWithId",
    "logConfig",
    "enableLogging",
];

/// The last segment of a network URL
/// (`https://www.googleapis.com/compute/v1/projects/p/global/networks/default`).
pub(crate) fn network_name(s: &str) -> String {
    s.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(s)
        .to_string()
}

fn strings(n: Option<&Node>) -> Result<Vec<String>, String> {
    let Some(n) = n else { return Ok(Vec::new()) };
    if n.is_null() {
        return Ok(Vec::new());
    }
    if !n.is_arr() {
        return Err(format!("`{}` should be an array of strings", n.compact()));
    }
    n.items()
        .iter()
        .map(|x| {
            x.str()
                .map(str::to_string)
                .ok_or_else(|| format!("`{}` is not a string", x.compact()))
        })
        .collect()
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let root = tree::parse(text, file)?;
    let items: Vec<&Node> = if root.is_arr() {
        root.items().iter().collect()
    } else if root.is_obj() && (root.get("allowed").is_some() || root.get("denied").is_some()) {
        vec![&root]
    } else if let Some(items) = root.get("items").filter(|x| x.is_arr()) {
        // The API's list response.
        items.items().iter().collect()
    } else {
        return Err(at(
            file,
            &root,
            "not `gcloud compute firewall-rules list --format=json` output: expected an array of firewall rules",
        ));
    };
    if items.is_empty() {
        return Err(at(
            file,
            &root,
            "the list holds no firewall rule: which networks it covers cannot be told (every instance would get only the implied rules)",
        ));
    }
    let mut set = Ruleset::new("gcp-json", file);
    let mut rules = Vec::new();
    for r in items {
        rules.push(rule(&mut set, file, r)?);
    }
    set.note(
        1,
        "firewall-rules list",
        "VPC firewall rules only: hierarchical and network firewall policies, which Google Cloud evaluates before them, are not in this list",
    );
    fw::finish(&mut set, rules, false);
    Ok(set)
}

fn rule(set: &mut Ruleset, file: &str, r: &Node) -> Result<FwRule, Diagnostic> {
    if !r.is_obj() {
        return Err(at(
            file,
            r,
            "a firewall rule should be an object with name, network and allowed or denied",
        ));
    }
    let name = r.get("name").and_then(Node::str).unwrap_or("").to_string();
    let mut problems = Vec::new();
    let network = match r.get("network").and_then(Node::str) {
        Some(n) => network_name(n),
        None => {
            problems.push("the rule names no network".to_string());
            "?".to_string()
        }
    };
    let direction = match r.get("direction") {
        None => "INGRESS".to_string(),
        Some(d) => match d.str() {
            Some(s) if s.eq_ignore_ascii_case("INGRESS") || s.eq_ignore_ascii_case("EGRESS") => {
                s.to_ascii_uppercase()
            }
            _ => {
                return Err(at(
                    file,
                    d,
                    format!(
                        "direction `{}`: a firewall rule is INGRESS or EGRESS",
                        d.compact()
                    ),
                ))
            }
        },
    };
    let ingress = direction == "INGRESS";
    let mut priority = 1000;
    if let Some(p) = r.get("priority") {
        match p.int() {
            Some(n) if (0..=65535).contains(&n) => priority = n as u32,
            _ => {
                problems.push(format!("priority `{}` is not one of 0-65535", p.compact()));
                priority = 0;
            }
        }
    }
    let disabled = match r.get("disabled") {
        None => false,
        Some(d) => match d.bool() {
            Some(b) => b,
            None => {
                problems.push(format!("disabled `{}` is not true or false", d.compact()));
                false
            }
        },
    };
    let list = |k: &str, problems: &mut Vec<String>| match strings(r.get(k)) {
        Ok(v) => v,
        Err(m) => {
            problems.push(format!("{k}: {m}"));
            Vec::new()
        }
    };
    let src_ranges = list("sourceRanges", &mut problems);
    let dst_ranges = list("destinationRanges", &mut problems);
    let src_tags = list("sourceTags", &mut problems);
    let tgt_tags = list("targetTags", &mut problems);
    let src_sas = list("sourceServiceAccounts", &mut problems);
    let tgt_sas = list("targetServiceAccounts", &mut problems);
    // Services.
    let mut services = Vec::new();
    let (allowed, denied) = (r.get("allowed"), r.get("denied"));
    let deny = match (
        allowed.is_some_and(|a| !a.items().is_empty()),
        denied.is_some_and(|d| !d.items().is_empty()),
    ) {
        (true, false) => false,
        (false, true) => true,
        (true, true) => {
            problems.push("the rule has both allowed and denied".into());
            false
        }
        (false, false) => {
            problems.push("the rule has neither allowed nor denied".into());
            false
        }
    };
    for e in (if deny { denied } else { allowed }).map_or(&[][..], Node::items) {
        let proto = e.get("IPProtocol").and_then(Node::str).unwrap_or("");
        let ports = match strings(e.get("ports")) {
            Ok(v) => v,
            Err(m) => {
                problems.push(format!("ports: {m}"));
                Vec::new()
            }
        };
        services.push(fw::service_or_any(proto, &ports, &mut problems));
    }
    if services.is_empty() {
        services.push((Ranges::full(), Ranges::full()));
    }
    for (k, _) in r.members() {
        let known = HARMLESS.contains(&k.as_str())
            || matches!(
                k.as_str(),
                "network"
                    | "direction"
                    | "priority"
                    | "disabled"
                    | "sourceRanges"
                    | "destinationRanges"
                    | "sourceTags"
                    | "targetTags"
                    | "sourceServiceAccounts"
                    | "targetServiceAccounts"
                    | "allowed"
                    | "denied"
            );
        if !known {
            problems.push(format!("`{k}` is not a firewall field this reader knows"));
        }
    }
    // Addresses.
    let src_r = fw::ranges(&src_ranges, &mut problems);
    let dst_r = fw::ranges(&dst_ranges, &mut problems);
    let targets = if !tgt_tags.is_empty() || !tgt_sas.is_empty() {
        let mut t = AddrMatch::of(Addrs::none());
        t.symbols
            .extend(tgt_tags.iter().map(|x| format!("tag:{x}")));
        t.symbols.extend(tgt_sas.iter().map(|x| format!("sa:{x}")));
        Some(t)
    } else {
        None
    };
    let (src, dst) = if ingress {
        let mut s = src_r
            .clone()
            .unwrap_or_else(|| AddrMatch::of(Addrs::none()));
        s.symbols
            .extend(src_tags.iter().map(|x| format!("tag:{x}")));
        s.symbols.extend(src_sas.iter().map(|x| format!("sa:{x}")));
        if src_r.is_none() && src_tags.is_empty() && src_sas.is_empty() {
            s = fw::every_v4(set, r.line, &name, &name, "source", "the API");
        }
        (Some(s), dst_r)
    } else {
        if !src_tags.is_empty() || !src_sas.is_empty() {
            problems.push("an EGRESS rule with source tags or service accounts".into());
        }
        let d = dst_r
            .unwrap_or_else(|| fw::every_v4(set, r.line, &name, &name, "destination", "the API"));
        (src_r, Some(d))
    };
    let summary = summary(&name, &direction, priority, deny, r, disabled);
    let when = set
        .issue_if(r.line, &summary, &problems)
        .map(Cond::Unknown)
        .into_iter()
        .collect();
    Ok(FwRule {
        line: r.line,
        text: summary,
        name,
        network,
        ingress,
        priority,
        deny,
        disabled,
        services,
        targets,
        src,
        dst,
        when,
        unknown_action: None,
    })
}

/// A rule on one line, as `gcloud compute firewall-rules list` tabulates it.
fn summary(
    name: &str,
    direction: &str,
    priority: u32,
    deny: bool,
    r: &Node,
    disabled: bool,
) -> String {
    let list = |k: &str| {
        r.get(k)
            .map(|n| {
                n.items()
                    .iter()
                    .map(|x| x.str().map_or_else(|| x.compact(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|s| !s.is_empty())
    };
    let svc = r
        .get(if deny { "denied" } else { "allowed" })
        .map(|n| {
            n.items()
                .iter()
                .map(|e| {
                    let p = e.get("IPProtocol").and_then(Node::str).unwrap_or("?");
                    let ports = e
                        .get("ports")
                        .map(|x| {
                            x.items()
                                .iter()
                                .filter_map(Node::str)
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    if ports.is_empty() {
                        p.to_string()
                    } else {
                        format!("{p}:{ports}")
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let mut s = format!(
        "{name} {direction} {priority} {} {svc}",
        if deny { "deny" } else { "allow" }
    );
    for (k, label) in [
        ("sourceRanges", "src"),
        ("sourceTags", "src-tags"),
        ("sourceServiceAccounts", "src-sa"),
        ("destinationRanges", "dst"),
        ("targetTags", "target-tags"),
        ("targetServiceAccounts", "target-sa"),
    ] {
        if let Some(v) = list(k) {
            s.push_str(&format!(" {label} {v}"));
        }
    }
    if disabled {
        s.push_str(" (disabled)");
    }
    s
}

//! Reads Google Cloud VPC firewall rules written in Terraform
//! (`google_compute_firewall`, Terraform Google provider docs): what
//! `render/src/gcp_terraform.rs` writes (INGRESS rules with `target_tags`,
//! whose members a `# target tag NAME: CIDR ...` comment lists) and
//! hand-written rules (direction, priority, allow/deny blocks, source and
//! destination ranges, source/target tags and service accounts, disabled).
//!
//! Semantics in `gcp_json_fw`. Values that are not literals (variables,
//! references) are issues that make the rule's verdicts unknown, except the
//! network, which only names the rule's scope (`network:var.network`).

use crate::aws_terraform::{body_text, int, path, show, unwrap};
use crate::gcp_json::network_name;
use crate::gcp_json_fw::{self as fw, FwRule};
use crate::model::*;
use crate::space::{Addrs, Ranges};
use crate::tf::{self, TfBlock};
use crate::Reader;
use hcl::Expression;
use portplan_model::Diagnostic;
use std::collections::HashMap;

pub struct GcpTerraform;

impl Reader for GcpTerraform {
    fn name(&self) -> &'static str {
        "gcp-terraform"
    }
    fn about(&self) -> &'static str {
        "Terraform google_compute_firewall rules"
    }
    fn sniff(&self, text: &str) -> u8 {
        let t = text.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            return 0;
        }
        if crate::find::has(text, "# portplan: Google Cloud VPC firewall rules") {
            95
        } else if crate::find::has(text, "resource \"google_compute_firewall\"") {
            90
        } else {
            0
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

/// Firewall policy resources: evaluated before VPC firewall rules, not read.
const POLICY_TYPES: &[&str] = &[
    "google_compute_firewall_policy_rule",
    "google_compute_network_firewall_policy_rule",
    "google_compute_region_network_firewall_policy_rule",
    "google_compute_firewall_policy",
    "google_compute_network_firewall_policy",
    "google_compute_region_network_firewall_policy",
];

/// `# target tag pp-bastion-1: 10.30.0.40/32` comments: the members of a
/// tag, as portplan writes them, with the line.
fn tag_comments(text: &str) -> HashMap<String, (Addrs, usize)> {
    let mut out: HashMap<String, (Addrs, usize)> = HashMap::new();
    for (i, l) in text.lines().enumerate() {
        let Some(rest) = l.trim().strip_prefix("# target tag ") else {
            continue;
        };
        let Some((tag, cidrs)) = rest.split_once(": ") else {
            continue;
        };
        let mut a = Addrs::none();
        let mut ok = true;
        for t in cidrs.split_whitespace() {
            match fw::range(t) {
                Some(x) => a = a.union(&x),
                None => ok = false,
            }
        }
        if !ok || a.is_empty() {
            continue;
        }
        let e = out
            .entry(tag.trim().to_string())
            .or_insert_with(|| (Addrs::none(), i + 1));
        e.0 = e.0.union(&a);
    }
    out
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let blocks = tf::blocks(text, file)?;
    let ours = text
        .lines()
        .take(5)
        .any(|l| l.starts_with("# portplan: Google Cloud VPC firewall rules"));
    let tags = tag_comments(text);
    let mut set = Ruleset::new("gcp-terraform", file);
    let networks: HashMap<String, &TfBlock> = blocks
        .iter()
        .filter(|b| {
            b.kind == "resource"
                && b.labels
                    .first()
                    .is_some_and(|t| t == "google_compute_network")
        })
        .filter_map(|b| b.labels.get(1).map(|l| (l.clone(), b)))
        .collect();
    let mut rules = Vec::new();
    let mut used_tags: Vec<String> = Vec::new();
    for b in &blocks {
        if b.kind != "resource" {
            continue;
        }
        let (Some(t), Some(l)) = (b.labels.first(), b.labels.get(1)) else {
            continue;
        };
        if t == "google_compute_firewall" {
            rules.push(rule(&mut set, b, l, &networks, &tags, &mut used_tags));
        } else if let Some(r) = ours.then(|| fqdn_allow(&mut set, b, t, l)).flatten() {
            rules.push(r);
        } else if POLICY_TYPES.contains(&t.as_str()) {
            let text = format!("resource \"{t}\" \"{l}\"");
            let k = set.issue(
                b.line,
                &text,
                "firewall policies are evaluated before VPC firewall rules and are not read: what they decide is unknown",
            );
            for ingress in [true, false] {
                rules.push(FwRule {
                    line: b.line,
                    text: text.clone(),
                    name: l.clone(),
                    network: "?".into(),
                    ingress,
                    priority: 0,
                    deny: false,
                    disabled: false,
                    services: vec![(Ranges::full(), Ranges::full())],
                    targets: None,
                    src: Some(AddrMatch::every()),
                    dst: Some(AddrMatch::every()),
                    when: Vec::new(),
                    unknown_action: Some(k),
                });
            }
        }
    }
    if rules.is_empty() && !ours {
        return Err(Diagnostic::error(
            file,
            "no google_compute_firewall resource found: expected Terraform Google Cloud firewall rules",
        )
        .at(Some(portplan_model::Location { line: 1, column: 1 })));
    }
    for tg in &used_tags {
        if let Some((_, line)) = tags.get(tg) {
            set.note(
                *line,
                &format!("# target tag {tg}"),
                format!("members of tag:{tg} are read from this comment (portplan writes them): tag exactly those instances"),
            );
        }
    }
    fw::finish(&mut set, rules, ours);
    Ok(set)
}

/// A list of literal strings; `Err` with the expression when not literal.
fn strings(e: Option<&Expression>) -> Result<Vec<String>, String> {
    let Some(e) = e else { return Ok(Vec::new()) };
    match unwrap(e) {
        Expression::Null => Ok(Vec::new()),
        Expression::Array(v) => v
            .iter()
            .map(|x| match unwrap(x) {
                Expression::String(s) => Ok(s),
                other => Err(show(&other)),
            })
            .collect(),
        other => Err(show(&other)),
    }
}

fn rule(
    set: &mut Ruleset,
    b: &TfBlock,
    label: &str,
    networks: &HashMap<String, &TfBlock>,
    tags: &HashMap<String, (Addrs, usize)>,
    used_tags: &mut Vec<String>,
) -> FwRule {
    let text = format!(
        "resource \"google_compute_firewall\" \"{label}\" {{ {} }}",
        body_text(&b.body)
    );
    let mut problems = Vec::new();
    let name = match b.attr("name").map(unwrap) {
        Some(Expression::String(s)) => s,
        _ => label.to_string(),
    };
    let network = match b.attr("network").map(unwrap) {
        Some(Expression::String(s)) => network_name(&s),
        Some(e) => match path(&e) {
            Some(p) if p.first().is_some_and(|t| t == "google_compute_network") && p.len() >= 2 => {
                let l = &p[1];
                match networks.get(l).and_then(|nb| nb.attr("name")) {
                    Some(Expression::String(n)) => n.clone(),
                    _ => format!("google_compute_network.{l}"),
                }
            }
            Some(p) => p.join("."),
            None => {
                problems.push(format!("network `{}` cannot be resolved", show(&e)));
                show(&e)
            }
        },
        None => {
            problems.push("the rule has no network".into());
            "?".into()
        }
    };
    let direction = match b.attr("direction").map(unwrap) {
        None => "INGRESS".to_string(),
        Some(Expression::String(s))
            if s.eq_ignore_ascii_case("INGRESS") || s.eq_ignore_ascii_case("EGRESS") =>
        {
            s.to_ascii_uppercase()
        }
        Some(e) => {
            problems.push(format!("direction `{}` is not INGRESS or EGRESS", show(&e)));
            "INGRESS".into()
        }
    };
    let ingress = direction == "INGRESS";
    let priority = match b.attr("priority") {
        None => 1000,
        Some(e) => match int(e) {
            Some(n) if (0..=65535).contains(&n) => n as u32,
            _ => {
                problems.push(format!(
                    "priority `{}` is not known here: the rule is placed first, and what it decides is unknown",
                    show(e)
                ));
                0
            }
        },
    };
    let disabled = match b.attr("disabled").map(unwrap) {
        None | Some(Expression::Bool(false)) => false,
        Some(Expression::Bool(true)) => true,
        Some(e) => {
            problems.push(format!("disabled `{}` is not known here", show(&e)));
            false
        }
    };
    if b.attr("count").is_some() || b.attr("for_each").is_some() {
        problems
            .push("count/for_each: whether and how often the rule exists is not known here".into());
    }
    let list = |k: &str, problems: &mut Vec<String>| match strings(b.attr(k)) {
        Ok(v) => (v, false),
        Err(x) => {
            problems.push(format!("`{k} = {x}` is not known here"));
            (Vec::new(), true)
        }
    };
    let (src_ranges, src_r_unknown) = list("source_ranges", &mut problems);
    let (dst_ranges, dst_r_unknown) = list("destination_ranges", &mut problems);
    let (src_tags, src_t_unknown) = list("source_tags", &mut problems);
    let (tgt_tags, tgt_t_unknown) = list("target_tags", &mut problems);
    let (src_sas, src_s_unknown) = list("source_service_accounts", &mut problems);
    let (tgt_sas, tgt_s_unknown) = list("target_service_accounts", &mut problems);
    // Services.
    let allows: Vec<&hcl::Block> = tf::nested(&b.body, "allow").collect();
    let denies: Vec<&hcl::Block> = tf::nested(&b.body, "deny").collect();
    let deny = match (allows.is_empty(), denies.is_empty()) {
        (false, true) => false,
        (true, false) => true,
        (false, false) => {
            problems.push("the rule has both allow and deny blocks".into());
            false
        }
        (true, true) => {
            problems.push("the rule has neither an allow nor a deny block".into());
            false
        }
    };
    let mut services = Vec::new();
    for blk in if deny { &denies } else { &allows } {
        let proto = match tf::attr(blk.body(), "protocol").map(unwrap) {
            Some(Expression::String(s)) => s,
            Some(Expression::Number(n)) => n.to_string(),
            other => {
                problems.push(format!(
                    "protocol `{}` is not known here",
                    other.as_ref().map_or_else(|| "missing".into(), show)
                ));
                services.push((Ranges::full(), Ranges::full()));
                continue;
            }
        };
        let ports = match tf::attr(blk.body(), "ports") {
            None => Ok(Vec::new()),
            Some(e) => match unwrap(e) {
                Expression::Array(v) => v
                    .iter()
                    .map(|x| match unwrap(x) {
                        Expression::String(s) => Ok(s),
                        Expression::Number(n) => Ok(n.to_string()),
                        other => Err(show(&other)),
                    })
                    .collect(),
                other => Err(show(&other)),
            },
        };
        let ports = match ports {
            Ok(p) => p,
            Err(x) => {
                problems.push(format!("ports `{x}` are not known here"));
                services.push((Ranges::full(), Ranges::full()));
                continue;
            }
        };
        services.push(fw::service_or_any(&proto, &ports, &mut problems));
    }
    if services.is_empty() {
        services.push((Ranges::full(), Ranges::full()));
    }
    for (k, _) in &b.lines {
        let known = matches!(
            k.as_str(),
            "name"
                | "network"
                | "direction"
                | "priority"
                | "description"
                | "disabled"
                | "source_ranges"
                | "destination_ranges"
                | "source_tags"
                | "target_tags"
                | "source_service_accounts"
                | "target_service_accounts"
                | "allow"
                | "deny"
                | "log_config"
                | "enable_logging"
                | "project"
                | "depends_on"
                | "lifecycle"
                | "provider"
                | "timeouts"
                | "count"
                | "for_each"
        );
        if !known {
            problems.push(format!("`{k}` is not a firewall field this reader knows"));
        }
    }
    // Addresses.
    let ranges = |v: &[String], unknown: bool, problems: &mut Vec<String>| -> Option<AddrMatch> {
        if unknown {
            return Some(AddrMatch::every());
        }
        fw::ranges(v, problems)
    };
    let src_r = ranges(&src_ranges, src_r_unknown, &mut problems);
    let dst_r = ranges(&dst_ranges, dst_r_unknown, &mut problems);
    let tag = |x: &String, used: &mut Vec<String>| -> AddrMatch {
        match tags.get(x) {
            Some((a, _)) => {
                if !used.contains(x) {
                    used.push(x.clone());
                }
                AddrMatch::of(a.clone())
            }
            None => AddrMatch::symbol(format!("tag:{x}")),
        }
    };
    // Targets not known here are still instances of the network: the rule
    // is scoped to all of them (and is unknown where it may match).
    let targets = if tgt_t_unknown || tgt_s_unknown {
        None
    } else if !tgt_tags.is_empty() || !tgt_sas.is_empty() {
        let mut t = AddrMatch::of(Addrs::none());
        for x in &tgt_tags {
            crate::aws_json_sg::union_into(&mut t, &tag(x, used_tags));
        }
        t.symbols.extend(tgt_sas.iter().map(|x| format!("sa:{x}")));
        Some(t)
    } else {
        None
    };
    let (src, dst) = if ingress {
        let any_source = src_r.is_some()
            || !src_tags.is_empty()
            || !src_sas.is_empty()
            || src_t_unknown
            || src_s_unknown;
        let mut s = src_r
            .clone()
            .unwrap_or_else(|| AddrMatch::of(Addrs::none()));
        if src_t_unknown || src_s_unknown {
            s = AddrMatch::every();
        }
        for x in &src_tags {
            crate::aws_json_sg::union_into(&mut s, &tag(x, used_tags));
        }
        s.symbols.extend(src_sas.iter().map(|x| format!("sa:{x}")));
        if !any_source {
            s = fw::every_v4(set, b.line, &text, &name, "source", "Google Cloud");
        }
        (Some(s), dst_r)
    } else {
        if !src_tags.is_empty() || !src_sas.is_empty() {
            problems.push("an EGRESS rule with source tags or service accounts".into());
        }
        let d = dst_r.unwrap_or_else(|| {
            fw::every_v4(set, b.line, &text, &name, "destination", "Google Cloud")
        });
        (src_r, Some(d))
    };
    let when = set
        .issue_if(b.line, &text, &problems)
        .map(Cond::Unknown)
        .into_iter()
        .collect();
    FwRule {
        line: b.line,
        text,
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
    }
}

/// portplan's own Cloud NGFW rule for DNS names: an EGRESS `allow` of a
/// network firewall policy matching only `dest_fqdns` and ports. Policies
/// are evaluated before VPC rules, so it is read first (priority 0), as an
/// allow to those names from every instance of the network. Anything else
/// in it (other match fields, another action) is left to the caller,
/// which reads the policy rule as unknown.
fn fqdn_allow(set: &mut Ruleset, b: &TfBlock, t: &str, l: &str) -> Option<FwRule> {
    if t != "google_compute_network_firewall_policy_rule" {
        return None;
    }
    let lit = |k: &str| match b.attr(k).map(unwrap) {
        Some(Expression::String(s)) => Some(s),
        _ => None,
    };
    if !lit("direction")?.eq_ignore_ascii_case("EGRESS") || lit("action")? != "allow" {
        return None;
    }
    let m = tf::nested(&b.body, "match").next()?;
    if m.body().attributes().any(|a| a.key() != "dest_fqdns")
        || m.body()
            .blocks()
            .any(|x| x.identifier() != "layer4_configs")
    {
        return None;
    }
    let names = strings(tf::attr(m.body(), "dest_fqdns")).ok()?;
    if names.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    let mut services = Vec::new();
    for l4 in tf::nested(m.body(), "layer4_configs") {
        let proto = match tf::attr(l4.body(), "ip_protocol").map(unwrap) {
            Some(Expression::String(s)) => s,
            _ => return None,
        };
        let ports = strings(tf::attr(l4.body(), "ports")).ok()?;
        services.push(fw::service_or_any(&proto, &ports, &mut problems));
    }
    if services.is_empty() || !problems.is_empty() {
        return None;
    }
    let mut dst = Addrs::none();
    for n in &names {
        dst = dst.union(&Addrs::name(n));
    }
    let text = format!("resource \"{t}\" \"{l}\" {{ {} }}", body_text(&b.body));
    set.note(
        b.line,
        &text,
        "a Cloud NGFW rule allowing egress to DNS names (created only when var.firewall_policy is set): read as evaluated before the VPC rules, for every instance of the network",
    );
    Some(FwRule {
        line: b.line,
        text,
        name: l.to_string(),
        network: "var.network".into(),
        ingress: false,
        priority: 0,
        deny: false,
        disabled: false,
        services,
        // No target: every instance of the network the policy is
        // associated with, whichever addresses they have.
        targets: Some(AddrMatch::every()),
        src: None,
        dst: Some(AddrMatch::of(dst)),
        when: Vec::new(),
        unknown_action: None,
    })
}

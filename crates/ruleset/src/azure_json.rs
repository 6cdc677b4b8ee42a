//! Reads Azure network security groups as JSON: `az network nsg show`
//! (one NSG), `az network nsg list` (an array), `az network nsg rule list`
//! (an array of rules), the REST API's `{"value": [...]}` list, the ARM
//! shape where each object's fields sit under `properties`, and an ARM
//! template's `resources`. Fields are matched ignoring case, so
//! `Get-AzNetworkSecurityGroup | ConvertTo-Json` reads too.
//!
//! Semantics are in `azure_nsg.rs`: priority order per direction, first
//! match, Azure's default rules, service tags and application security
//! groups as symbols.

use crate::azure_nsg::{self, RawNsg, RawRule};
use crate::json_tree::{self as json, at, Json, Node};
use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct AzureJson;

impl Reader for AzureJson {
    fn name(&self) -> &'static str {
        "azure-json"
    }
    fn about(&self) -> &'static str {
        "`az network nsg show` / `az network nsg list` JSON"
    }
    fn sniff(&self, text: &str) -> u8 {
        let Some(t) = json::document(text) else {
            return 0;
        };
        let head: String = t.chars().take(200_000).collect();
        if head.contains("\"securityRules\"") || head.contains("\"defaultSecurityRules\"") {
            90
        } else if head.contains("Microsoft.Network/networkSecurityGroups") {
            80
        } else if head.contains("\"destinationAddressPrefix") && head.contains("\"direction\"") {
            70
        } else {
            0
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let doc = json::parse(text, file).map_err(|mut e| {
        e.message
            .push_str(" (expected `az network nsg show` or `az network nsg list` output)");
        e
    })?;
    let mut set = Ruleset::new("azure-json", file);
    let mut nsgs = Vec::new();
    collect(&doc, &mut nsgs, file)?;
    if nsgs.is_empty() {
        return Err(at(file, &doc,
            "no network security group found: expected `az network nsg show` output (an object with securityRules), `az network nsg list` output (an array of them) or a list of security rules",
        ));
    }
    azure_nsg::build(&mut set, &nsgs);
    Ok(set)
}

/// A field of an object, or of its `properties` (the ARM shape).
fn field<'a>(o: &'a Node, key: &str) -> Option<&'a Node> {
    o.get_ci("properties")
        .filter(|p| p.is_obj())
        .and_then(|p| p.get_ci(key))
        .or_else(|| o.get_ci(key))
        .filter(|v| !v.is_null())
}

fn is_nsg(o: &Node) -> bool {
    o.is_obj()
        && (field(o, "securityRules").is_some()
            || field(o, "defaultSecurityRules").is_some()
            || o.get_ci("type")
                .and_then(Node::str)
                .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Network/networkSecurityGroups")))
}

fn is_rule(o: &Node) -> bool {
    o.is_obj() && field(o, "priority").is_some() && field(o, "direction").is_some()
}

fn collect(doc: &Node, nsgs: &mut Vec<RawNsg>, file: &str) -> Result<(), Diagnostic> {
    match &doc.v {
        Json::Arr(items) => {
            if !items.is_empty() && items.iter().all(is_rule) {
                // `az network nsg rule list`: the rules of one NSG.
                let mut nsg = RawNsg {
                    name: "(rules)".into(),
                    line: doc.line,
                    ..RawNsg::default()
                };
                for r in items {
                    nsg.rules.push(rule(r, false));
                }
                nsgs.push(nsg);
                return Ok(());
            }
            for it in items {
                if is_nsg(it) {
                    nsgs.push(nsg(it));
                } else if it.is_obj() {
                    return Err(at(file, it,
                        "this array item is not a network security group (no securityRules) nor a security rule",
                    ));
                }
            }
            Ok(())
        }
        Json::Obj(_) => {
            if is_nsg(doc) {
                nsgs.push(nsg(doc));
                return Ok(());
            }
            if is_rule(doc) {
                let mut n = RawNsg {
                    name: "(rule)".into(),
                    line: doc.line,
                    ..RawNsg::default()
                };
                n.rules.push(rule(doc, false));
                nsgs.push(n);
                return Ok(());
            }
            if let Some(v) = doc.get_ci("value").filter(|v| v.is_arr()) {
                return collect(v, nsgs, file);
            }
            if let Some(res) = doc.get_ci("resources").filter(|r| r.is_arr()) {
                template(res.items(), nsgs);
                return Ok(());
            }
            Ok(())
        }
        _ => Err(at(
            file,
            doc,
            "expected a JSON object (one NSG) or array (a list of NSGs)",
        )),
    }
}

/// An ARM template's resources: NSGs, and security rules as resources of
/// their own (`"name": "nsg1/rule1"`).
fn template(res: &[Node], nsgs: &mut Vec<RawNsg>) {
    let ty = |o: &Node| {
        o.get_ci("type")
            .and_then(Node::str)
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    for o in res {
        if ty(o) == "microsoft.network/networksecuritygroups" {
            nsgs.push(nsg(o));
        }
    }
    for o in res {
        if ty(o) == "microsoft.network/networksecuritygroups/securityrules" {
            let full = o
                .get_ci("name")
                .and_then(Node::str)
                .unwrap_or("")
                .to_string();
            let (parent, _) = full.split_once('/').unwrap_or(("", ""));
            let mut r = rule(o, false);
            if let Some((_, n)) = full.split_once('/') {
                r.text = r.text.replacen(&full, n, 1);
                r.name = Some(n.to_string());
            }
            match nsgs
                .iter_mut()
                .find(|n| n.name == parent && !parent.is_empty())
            {
                Some(n) => n.rules.push(r),
                None => {
                    r.unknown.push(format!(
                        "the rule's network security group (`{full}`) is not one this template defines"
                    ));
                    let mut n = RawNsg {
                        name: if parent.is_empty() {
                            full.clone()
                        } else {
                            parent.to_string()
                        },
                        line: o.line,
                        ..RawNsg::default()
                    };
                    n.rules.push(r);
                    nsgs.push(n);
                }
            }
        }
    }
}

fn last_segment(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

fn nsg(o: &Node) -> RawNsg {
    let name = o
        .get_ci("name")
        .and_then(Node::scalar)
        .unwrap_or_else(|| "(unnamed)".into());
    let mut n = RawNsg {
        name,
        line: o.line,
        ..RawNsg::default()
    };
    for (key, default) in [("securityRules", false), ("defaultSecurityRules", true)] {
        if let Some(rs) = field(o, key) {
            if rs.is_arr() {
                for r in rs.items() {
                    n.rules.push(rule(r, default));
                }
            } else {
                n.rules.push(RawRule {
                    line: rs.line,
                    text: format!("{key}: {}", rs.compact()),
                    unknown: vec![format!("`{key}` is not a list of rules")],
                    ..RawRule::default()
                });
            }
        }
    }
    for (key, what) in [
        ("subnets", "subnet"),
        ("networkInterfaces", "network interface"),
    ] {
        for a in field(o, key).map_or(&[][..], Node::items) {
            if let Some(id) = a.get_ci("id").and_then(Node::str) {
                // `.../virtualNetworks/VNET/subnets/NAME`
                let parts: Vec<&str> = id.split('/').collect();
                let label = match parts
                    .iter()
                    .position(|p| p.eq_ignore_ascii_case("virtualNetworks"))
                {
                    Some(i) if i + 3 < parts.len() => format!("{}/{}", parts[i + 1], parts[i + 3]),
                    _ => last_segment(id).to_string(),
                };
                n.associations.push(format!("{what} {label}"));
            }
        }
    }
    n
}

/// A value as strings: a string, a number, or a list of them.
fn strings(v: Option<&Node>, what: &str, bad: &mut Vec<String>) -> Vec<String> {
    let Some(v) = v else { return Vec::new() };
    let mut out = Vec::new();
    let mut one = |x: &Node| match x.scalar() {
        Some(s) => {
            if s.starts_with('[') && s.ends_with(']') {
                bad.push(format!("{what} `{s}` is a template expression"));
            }
            out.push(s)
        }
        None if x.is_null() => {}
        None => bad.push(format!("{what} `{}` is not a string", x.compact())),
    };
    match &v.v {
        Json::Arr(a) => a.iter().for_each(&mut one),
        _ => one(v),
    }
    out
}

fn rule(o: &Node, default: bool) -> RawRule {
    let mut bad = Vec::new();
    let get = |k: &str| field(o, k);
    let one = |k: &str, bad: &mut Vec<String>| -> Option<String> {
        let v = strings(get(k), k, bad);
        v.into_iter().next()
    };
    let name = o.get_ci("name").and_then(Node::scalar);
    let priority = one("priority", &mut bad);
    let direction = one("direction", &mut bad);
    let access = one("access", &mut bad);
    let protocol = one("protocol", &mut bad);
    let both = |a: &str, b: &str, bad: &mut Vec<String>| {
        let mut v = strings(get(a), a, bad);
        v.extend(strings(get(b), b, bad));
        v
    };
    let sport = both("sourcePortRange", "sourcePortRanges", &mut bad);
    let dport = both("destinationPortRange", "destinationPortRanges", &mut bad);
    let src = both("sourceAddressPrefix", "sourceAddressPrefixes", &mut bad);
    let dst = both(
        "destinationAddressPrefix",
        "destinationAddressPrefixes",
        &mut bad,
    );
    let asgs = |k: &str, bad: &mut Vec<String>| -> Vec<String> {
        let mut out = Vec::new();
        for a in get(k).map_or(&[][..], Node::items) {
            match a
                .get_ci("id")
                .and_then(Node::str)
                .or_else(|| a.get_ci("name").and_then(Node::str))
            {
                Some(id) => out.push(last_segment(id).to_string()),
                None => bad.push(format!(
                    "an application security group in {k} without an id"
                )),
            }
        }
        out
    };
    let src_asg = asgs("sourceApplicationSecurityGroups", &mut bad);
    let dst_asg = asgs("destinationApplicationSecurityGroups", &mut bad);
    RawRule {
        line: o.line,
        text: String::new(),
        name,
        priority,
        direction,
        access,
        protocol,
        sport,
        dport,
        src,
        dst,
        src_asg,
        dst_asg,
        unknown: bad,
        default_rule: default,
    }
    .with_summary()
}

//! Reads Azure network security groups written as Terraform (azurerm
//! provider): what `render/src/azure_terraform.rs` writes (one
//! `azurerm_network_security_group` and an `azurerm_network_security_rule`
//! per rule, ending in a deny of all inbound at priority 4096), and
//! hand-written files with inline `security_rule {}` blocks, rule resources
//! pointing at their group by reference or by name, application security
//! groups and subnet / NIC associations.
//!
//! Only literal values are read: a reference (`var.ports`), a function call
//! or a `dynamic` block makes what it feeds unknown. Semantics are in
//! `azure_nsg.rs`.

use crate::azure_nsg::{self, RawNsg, RawRule};
use crate::model::Ruleset;
use crate::tf::{self, TfBlock};
use crate::Reader;
use hcl::{Expression, ObjectKey};
use portplan_model::{Diagnostic, Location};

pub struct AzureTerraform;

impl Reader for AzureTerraform {
    fn name(&self) -> &'static str {
        "azure-terraform"
    }
    fn about(&self) -> &'static str {
        "Terraform azurerm network security groups and rules"
    }
    fn sniff(&self, text: &str) -> u8 {
        // Our own header: even with no group (no host of the plan here).
        if text.starts_with("# portplan: Azure network security group") {
            return 95;
        }
        let has = |n: &str| crate::find::has(text, n);
        if has("\"azurerm_network_security_group\"") || has("\"azurerm_network_security_rule\"") {
            90
        } else if has("azurerm_network_security") && has("resource") {
            60
        } else {
            0
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

const NSG: &str = "azurerm_network_security_group";
const RULE: &str = "azurerm_network_security_rule";
const ASG: &str = "azurerm_application_security_group";

/// An NSG being read: its Terraform label (if the file defines it) and name.
struct Group {
    label: Option<String>,
    nsg: RawNsg,
    inline: bool,
    standalone: bool,
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let blocks = tf::blocks(text, file)?;
    let mut set = Ruleset::new("azure-terraform", file);
    let resources: Vec<&TfBlock> = blocks.iter().filter(|b| b.kind == "resource").collect();
    let typed = |t: &'static str| {
        resources
            .iter()
            .copied()
            .filter(move |b| b.labels.first().map(String::as_str) == Some(t))
    };
    let empty = typed(NSG).next().is_none() && typed(RULE).next().is_none();
    if empty && !text.starts_with("# portplan: Azure network security group") {
        return Err(Diagnostic::error(
            file,
            format!("no `resource \"{NSG}\"` or `resource \"{RULE}\"` found: this is not an Azure network security group in Terraform"),
        )
        .at(Some(Location { line: 1, column: 1 })));
    }
    // Application security groups by label, for `asg:NAME` symbols.
    let mut asgs: Vec<(String, String)> = Vec::new();
    for b in blocks.iter().filter(|b| {
        (b.kind == "resource" || b.kind == "data")
            && b.labels.first().map(String::as_str) == Some(ASG)
    }) {
        let label = b.labels.get(1).cloned().unwrap_or_default();
        let name = b
            .attr("name")
            .filter(|e| tf::is_literal(e))
            .map(tf::text)
            .unwrap_or_else(|| label.clone());
        let key = if b.kind == "data" {
            format!("data.{ASG}.{label}")
        } else {
            format!("{ASG}.{label}")
        };
        asgs.push((key, name));
    }
    let ours = own_header(text);
    let mut groups: Vec<Group> = Vec::new();
    for b in typed(NSG) {
        let label = b.labels.get(1).cloned().unwrap_or_default();
        let name = match b.attr("name") {
            Some(e) if tf::is_literal(e) => tf::text(e),
            _ => label.clone(),
        };
        let mut g = Group {
            label: Some(label.clone()),
            nsg: RawNsg {
                name,
                line: b.line,
                ..RawNsg::default()
            },
            inline: false,
            standalone: false,
        };
        let rule_lines: Vec<usize> = b
            .lines
            .iter()
            .filter(|(k, _)| k == "security_rule")
            .map(|(_, l)| *l)
            .collect();
        let blocks_in: Vec<&hcl::Block> = tf::nested(&b.body, "security_rule").collect();
        for (i, rb) in blocks_in.iter().enumerate() {
            let line = if rule_lines.len() == blocks_in.len() {
                rule_lines.get(i).copied().unwrap_or(b.line)
            } else {
                b.line
            };
            let get = |k: &str| tf::attr(rb.body(), k);
            g.nsg.rules.push(rule(&get, line, &asgs, &[]));
            g.inline = true;
        }
        // `security_rule = [{ ... }]`: the attributes-as-blocks form.
        if let Some(e) = b.attr("security_rule") {
            let line = b.line_of("security_rule");
            match e {
                Expression::Array(items) => {
                    for it in items {
                        match it {
                            Expression::Object(o) => {
                                let get = |k: &str| {
                                    o.iter().find_map(|(key, v)| {
                                        let name = match key {
                                            ObjectKey::Identifier(i) => i.as_str().to_string(),
                                            ObjectKey::Expression(Expression::String(s)) => s.clone(),
                                            _ => return None,
                                        };
                                        (name == k).then_some(v)
                                    })
                                };
                                g.nsg.rules.push(rule(&get, line, &asgs, &[]));
                                g.inline = true;
                            }
                            other => g.nsg.generated.push((
                                line,
                                format!("security_rule = {}", cut(&tf::text(other))),
                                "a `security_rule` list item that is not an object literal: its rules are not read".into(),
                            )),
                        }
                    }
                }
                other => g.nsg.generated.push((
                    line,
                    format!("security_rule = {}", cut(&tf::text(other))),
                    "`security_rule` is computed (not a literal list): its rules are not read"
                        .into(),
                )),
            }
        }
        for d in b.body.blocks().filter(|x| x.identifier() == "dynamic") {
            let what = d
                .labels()
                .first()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default();
            if what == "security_rule" {
                g.nsg.generated.push((
                    b.line_of("dynamic"),
                    format!("dynamic \"security_rule\" in {NSG}.{label}"),
                    "a `dynamic \"security_rule\"` block generates rules from values not read here: what they allow or deny, and where, is unknown".into(),
                ));
            }
        }
        if let Some(h) = &ours {
            g.nsg.outbound_allowed_by_header = Some(h.outbound.clone());
            g.nsg.protects = Some(h.inbound.clone());
        }
        groups.push(g);
    }
    for b in typed(RULE) {
        let label = b.labels.get(1).cloned().unwrap_or_default();
        let mut extra = Vec::new();
        for k in ["count", "for_each"] {
            if b.attr(k).is_some() {
                extra.push(format!(
                    "`{k}` makes this resource several rules (or none) whose values are not read"
                ));
            }
        }
        let get = |k: &str| b.attr(k);
        let mut r = rule(&get, b.line, &asgs, &extra);
        if r.name.is_none() {
            r.name = Some(label.clone());
        }
        // The group it belongs to: a reference to one in this file, or a name.
        let (key, is_label) = match b.attr("network_security_group_name") {
            Some(e) => {
                let t = unwrap_interp(&tf::text(e));
                let parts: Vec<&str> = t.split('.').collect();
                match parts.as_slice() {
                    [NSG, l, "name"] => (l.to_string(), true),
                    _ if tf::is_literal(e) => (t, false),
                    _ => {
                        r.unknown.push(format!(
                            "its network security group `{t}` is not one this file names"
                        ));
                        (t, false)
                    }
                }
            }
            None => {
                r.unknown.push("no network_security_group_name".into());
                (String::new(), false)
            }
        };
        let found = groups.iter_mut().find(|g| {
            if is_label {
                g.label.as_deref() == Some(key.as_str())
            } else {
                g.nsg.name == key
            }
        });
        match found {
            Some(g) => {
                g.standalone = true;
                g.nsg.rules.push(r);
            }
            None => {
                let mut g = Group {
                    label: None,
                    nsg: RawNsg {
                        name: if key.is_empty() {
                            "(no group)".into()
                        } else {
                            key.clone()
                        },
                        line: b.line,
                        ..RawNsg::default()
                    },
                    inline: false,
                    standalone: true,
                };
                if let Some(h) = &ours {
                    g.nsg.outbound_allowed_by_header = Some(h.outbound.clone());
                    g.nsg.protects = Some(h.inbound.clone());
                }
                g.nsg.rules.push(r);
                groups.push(g);
            }
        }
    }
    // Associations with subnets and network interfaces.
    for (ty, what, key) in [
        (
            "azurerm_subnet_network_security_group_association",
            "subnet",
            "subnet_id",
        ),
        (
            "azurerm_network_interface_security_group_association",
            "network interface",
            "network_interface_id",
        ),
    ] {
        for b in resources
            .iter()
            .filter(|b| b.labels.first().map(String::as_str) == Some(ty))
        {
            let target = b
                .attr(key)
                .map(|e| unwrap_interp(&tf::text(e)))
                .unwrap_or_default();
            let nsg = b
                .attr("network_security_group_id")
                .map(|e| unwrap_interp(&tf::text(e)))
                .unwrap_or_default();
            let label = nsg.split('.').nth(1).unwrap_or("").to_string();
            if let Some(g) = groups
                .iter_mut()
                .find(|g| g.label.as_deref() == Some(label.as_str()))
            {
                g.nsg.associations.push(format!(
                    "{what} {} (line {})",
                    target.trim_end_matches(".id"),
                    b.line
                ));
            }
        }
    }
    for g in &groups {
        if g.inline && g.standalone {
            set.note(
                g.nsg.line,
                &g.nsg.name,
                format!(
                    "NSG `{}` has inline security_rule blocks and {RULE} resources: Terraform's azurerm provider says the two conflict and overwrite each other; both are read",
                    g.nsg.name
                ),
            );
        }
        if g.label.is_none() {
            set.note(
                g.nsg.line,
                &g.nsg.name,
                format!(
                    "NSG `{}` is not defined in this file: only the rules given here are read, other rules it may hold are not",
                    g.nsg.name
                ),
            );
        }
    }
    if ours.as_ref().is_some_and(|h| !h.per_host) && groups.len() > 1 {
        // The header speaks of one group; with more, trust none of it.
        for g in &mut groups {
            g.nsg.outbound_allowed_by_header = None;
            g.nsg.protects = None;
        }
    }
    if empty {
        set.note(
            1,
            "# portplan: Azure network security groups",
            "portplan wrote no network security group here (no host of the plan receives traffic): nothing in this file applies to any interface",
        );
        // What the file states of outbound traffic still holds: Azure's
        // default outbound rules allow it.
        if let Some(h) = &ours {
            use crate::model::{Direction, End, Families, Filter};
            let c = set.chain(
                "azure default outbound",
                h.outbound.0,
                End::Policy {
                    accept: true,
                    line: h.outbound.0,
                    text: format!(
                        "Azure default outbound rules (allow), as the file states: {}",
                        h.outbound.1
                    ),
                },
            );
            let f = Filter::new("azure default outbound", Direction::Out, Families::BOTH, c);
            set.filters.push(f);
        }
    }
    for b in typed("azurerm_firewall_policy_rule_collection_group") {
        set.note(
            b.line,
            &format!("resource \"azurerm_firewall_policy_rule_collection_group\" \"{}\"", b.labels.get(1).map_or("", String::as_str)),
            "Azure Firewall policy rules filter traffic routed through an Azure Firewall, not at the network security groups read here: they are not part of this ruleset",
        );
    }
    let nsgs: Vec<RawNsg> = groups.into_iter().map(|g| g.nsg).collect();
    azure_nsg::build(&mut set, &nsgs);
    Ok(set)
}

/// What our renderer's header states: its rules are inbound at each
/// destination, and outbound traffic is left to Azure's default rules
/// (allowed). Lines and texts.
struct Header {
    inbound: (usize, String),
    outbound: (usize, String),
    /// The header says there is one NSG per host, each holding the rules
    /// whose destination is that host.
    per_host: bool,
}

fn own_header(text: &str) -> Option<Header> {
    let mut ours = false;
    let mut inbound = None;
    let mut per_host = false;
    for (i, l) in text.lines().enumerate().take(12) {
        let l = l.trim();
        if !l.starts_with('#') {
            continue;
        }
        if l.starts_with("# portplan: Azure network security group for deployment")
            || l.starts_with("# portplan: Azure network security groups for deployment")
        {
            ours = true;
        }
        if ours && l.contains("One network security group per host") {
            per_host = true;
        }
        if ours && l.contains("Rules are") && inbound.is_none() {
            inbound = Some((i + 1, l.to_string()));
        }
        if ours && l.contains("Outbound stays at Azure's defaults (allow)") {
            return Some(Header {
                inbound: inbound.unwrap_or((i + 1, l.to_string())),
                outbound: (i + 1, l.to_string()),
                per_host,
            });
        }
    }
    None
}

fn cut(s: &str) -> String {
    crate::model::cut(&s.replace('\n', " "), 120)
}

/// `"${x.y}"` (Terraform 0.11 interpolation) as `x.y`.
fn unwrap_interp(s: &str) -> String {
    let t = s.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(t);
    match t.strip_prefix("${").and_then(|x| x.strip_suffix('}')) {
        Some(inner) if !inner.contains("${") => inner.trim().to_string(),
        _ => t.to_string(),
    }
}

/// One rule from its attributes (a `security_rule` block, an object in a
/// `security_rule` list, or an `azurerm_network_security_rule`).
fn rule<'a>(
    get: &dyn Fn(&str) -> Option<&'a Expression>,
    line: usize,
    asgs: &[(String, String)],
    extra: &[String],
) -> RawRule {
    let mut bad: Vec<String> = extra.to_vec();
    let one = |k: &str, bad: &mut Vec<String>| -> Option<String> {
        let e = get(k)?;
        if matches!(e, Expression::Null) {
            return None;
        }
        if !tf::is_literal(e) {
            bad.push(format!("`{k} = {}` is not a literal", cut(&tf::text(e))));
        }
        Some(tf::text(e))
    };
    let many = |k: &str, bad: &mut Vec<String>| -> Vec<String> {
        let Some(e) = get(k) else { return Vec::new() };
        match e {
            Expression::Null => Vec::new(),
            Expression::Array(items) => {
                let mut v = Vec::new();
                for it in items {
                    if !tf::is_literal(it) {
                        bad.push(format!(
                            "`{k}` holds `{}`, which is not a literal",
                            cut(&tf::text(it))
                        ));
                    }
                    // Kept: what cannot be read stands for anything.
                    v.push(tf::text(it));
                }
                v
            }
            other => {
                bad.push(format!(
                    "`{k} = {}` is not a literal list",
                    cut(&tf::text(other))
                ));
                vec![tf::text(other)]
            }
        }
    };
    let name = one("name", &mut bad);
    let priority = one("priority", &mut bad);
    let direction = one("direction", &mut bad);
    let access = one("access", &mut bad);
    let protocol = one("protocol", &mut bad);
    let pair = |a: &str, b: &str, bad: &mut Vec<String>| {
        let mut v: Vec<String> = one(a, bad).into_iter().collect();
        v.extend(many(b, bad));
        v
    };
    let sport = pair("source_port_range", "source_port_ranges", &mut bad);
    let dport = pair(
        "destination_port_range",
        "destination_port_ranges",
        &mut bad,
    );
    let src = pair("source_address_prefix", "source_address_prefixes", &mut bad);
    let dst = pair(
        "destination_address_prefix",
        "destination_address_prefixes",
        &mut bad,
    );
    let asg_side = |k: &str, bad: &mut Vec<String>| -> Vec<String> {
        let Some(e) = get(k) else { return Vec::new() };
        let items: Vec<&Expression> = match e {
            Expression::Array(v) => v.iter().collect(),
            Expression::Null => Vec::new(),
            other => vec![other],
        };
        let mut out = Vec::new();
        for it in items {
            let t = unwrap_interp(&tf::text(it));
            if tf::is_literal(it) {
                // An id: `.../applicationSecurityGroups/NAME`.
                out.push(
                    t.trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(&t)
                        .to_string(),
                );
                continue;
            }
            let base = t.strip_suffix(".id").unwrap_or(&t);
            match asgs.iter().find(|(key, _)| key == base) {
                Some((_, name)) => out.push(name.clone()),
                None => bad.push(format!(
                    "`{k}` names `{}`, an application security group this file does not define",
                    cut(&t)
                )),
            }
        }
        out
    };
    let src_asg = asg_side("source_application_security_group_ids", &mut bad);
    let dst_asg = asg_side("destination_application_security_group_ids", &mut bad);
    RawRule {
        line,
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
        default_rule: false,
    }
    .with_summary()
}

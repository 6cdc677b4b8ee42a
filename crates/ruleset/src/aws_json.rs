//! Reads `aws ec2 describe-security-groups` JSON (`{"SecurityGroups": [...]}`,
//! or the array alone as `--query SecurityGroups` gives it).
//!
//! Semantics in `aws_json_sg`: one inbound and one outbound filter, every
//! rule scoped to its group's members, drop at the end. The export does not
//! say which instances carry a group: a group's members are the symbol
//! `sg:GROUPID` (`--member sg:sg-0abc=10.0.1.0/24`), except portplan's own
//! groups (named `portplan-...`), whose description lists them. Prefix
//! lists are `pl:ID`. Each address range, group pair and prefix list of a
//! permission is one rule, on its own line.

use crate::aws_json_sg::{self as sg, Group, Groups, SgRule};
use crate::json_tree::{self as tree, at, Node};
use crate::model::*;
use crate::Reader;
use portplan_model::Diagnostic;
use std::collections::BTreeSet;

pub struct AwsJson;

impl Reader for AwsJson {
    fn name(&self) -> &'static str {
        "aws-json"
    }
    fn about(&self) -> &'static str {
        "`aws ec2 describe-security-groups` JSON"
    }
    fn sniff(&self, text: &str) -> u8 {
        if tree::document(text).is_none() {
            return 0;
        }
        let perms = text.contains("\"IpPermissions\"") || text.contains("\"IpPermissionsEgress\"");
        match (
            text.contains("\"SecurityGroups\""),
            perms,
            text.contains("\"GroupId\""),
        ) {
            (true, true, _) => 95,
            (_, true, true) => 90,
            (true, false, true) => 60,
            _ => 0,
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

/// Members of a permission this reader reads; others are reported.
const PERM_KEYS: &[&str] = &[
    "IpProtocol",
    "FromPort",
    "ToPort",
    "IpRanges",
    "Ipv6Ranges",
    "PrefixListIds",
    "UserIdGroupPairs",
];

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let root = tree::parse(text, file)?;
    let items: Vec<&Node> = if let Some(sgs) = root.get("SecurityGroups") {
        if !sgs.is_arr() {
            return Err(at(
                file,
                sgs,
                "`SecurityGroups` should be an array of security groups",
            ));
        }
        sgs.items().iter().collect()
    } else if root.is_arr() {
        root.items().iter().collect()
    } else if root.get("GroupId").is_some() {
        vec![&root]
    } else {
        return Err(at(
            file,
            &root,
            "not `aws ec2 describe-security-groups` output: expected an object with `SecurityGroups` (or an array of groups with GroupId and IpPermissions)",
        ));
    };
    let mut set = Ruleset::new("aws-json", file);
    let mut groups = Groups::default();
    let mut vpcs = BTreeSet::new();
    let mut unlisted = Vec::new();
    // The groups first: rules reference groups listed later.
    for g in &items {
        if !g.is_obj() {
            return Err(at(
                file,
                g,
                "a security group should be an object with GroupId",
            ));
        }
        let Some(id) = g.get("GroupId").and_then(Node::str) else {
            return Err(at(
                file,
                g,
                "this security group has no GroupId: describe-security-groups output names every group by its GroupId",
            ));
        };
        let name = g.get("GroupName").and_then(Node::str).unwrap_or("");
        if let Some(v) = g.get("VpcId").and_then(Node::str) {
            vpcs.insert(v.to_string());
        }
        let symbol = format!("sg:{id}");
        let ours = name.starts_with("portplan-");
        let desc = g.get("Description").and_then(Node::str);
        let (members, how) = sg::group_members(desc, ours, &symbol);
        let display = if name.is_empty() {
            id.to_string()
        } else {
            format!("{id} ({name})")
        };
        let group = Group {
            key: id.to_string(),
            display,
            members,
            line: g.line,
        };
        let gtext = format!("{id} {name}: {}", desc.unwrap_or(""));
        sg::described_note(&mut set, &group, how, &gtext, &symbol);
        if how == sg::Described::No {
            unlisted.push(symbol);
        }
        groups.add(group);
    }
    if !unlisted.is_empty() {
        set.note(
            root.line,
            "SecurityGroups",
            format!(
                "describe-security-groups does not list the instances a group is attached to: give each group's members with --member (e.g. --member {}=10.0.1.0/24); until then verdicts that depend on them are unknown. Groups: {}",
                unlisted[0],
                unlisted.join(", ")
            ),
        );
    }
    if vpcs.len() > 1 {
        set.note(
            root.line,
            "VpcId",
            format!(
                "groups of {} VPCs ({}): each rule is audited for its own group's members, whatever their VPC; a CIDR means the same addresses in every VPC",
                vpcs.len(),
                vpcs.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    let mut rules = Vec::new();
    let mut missing_noted = BTreeSet::new();
    for g in &items {
        let gid = g
            .get("GroupId")
            .and_then(Node::str)
            .unwrap_or("")
            .to_string();
        let Some(gi) = groups.find(&gid) else {
            continue;
        };
        for (key, egress) in [("IpPermissions", false), ("IpPermissionsEgress", true)] {
            let Some(perms) = g.get(key) else { continue };
            if perms.is_null() {
                continue;
            }
            if !perms.is_arr() {
                return Err(at(
                    file,
                    perms,
                    format!("`{key}` should be an array of permissions"),
                ));
            }
            for p in perms.items() {
                permission(
                    &mut set,
                    &mut groups,
                    &mut missing_noted,
                    &mut rules,
                    file,
                    &gid,
                    gi,
                    egress,
                    p,
                )?;
            }
        }
    }
    for (i, g) in groups.list.clone().iter().enumerate() {
        if missing_noted.contains(&g.key) {
            sg::unknown_group(&mut set, &mut rules, i, g, "export");
        }
    }
    sg::finish(&mut set, &groups, rules);
    Ok(set)
}

/// One peer of a permission: line, text, label, addresses, what could not be read.
type PeerEntry = (usize, String, Option<String>, AddrMatch, Option<String>);

/// One `IpPermissions` item: a rule per address range, group pair and prefix list.
#[allow(clippy::too_many_arguments)]
fn permission(
    set: &mut Ruleset,
    groups: &mut Groups,
    missing_noted: &mut BTreeSet<String>,
    rules: &mut Vec<SgRule>,
    file: &str,
    gid: &str,
    gi: usize,
    egress: bool,
    p: &Node,
) -> Result<(), Diagnostic> {
    if !p.is_obj() {
        return Err(at(
            file,
            p,
            "a permission should be an object with IpProtocol",
        ));
    }
    let dir = if egress { "egress" } else { "ingress" };
    let proto_text = p
        .get("IpProtocol")
        .map(|n| n.str().map_or_else(|| n.compact(), str::to_string))
        .unwrap_or_default();
    let from = p.get("FromPort").and_then(Node::int);
    let to = p.get("ToPort").and_then(Node::int);
    let ports_text = match (from, to) {
        (Some(a), Some(b)) => format!(" {a}-{b}"),
        (Some(a), None) => format!(" {a}"),
        _ => String::new(),
    };
    let head = format!("{gid} {dir} {proto_text}{ports_text}");
    let mut problems = Vec::new();
    let (proto, dport, bad) = if p.get("IpProtocol").is_none() {
        (
            crate::space::Ranges::full(),
            crate::space::Ranges::full(),
            Some("the permission has no IpProtocol".to_string()),
        )
    } else {
        sg::proto_ports(&proto_text, from, to)
    };
    problems.extend(bad);
    for (k, _) in p.members() {
        if !PERM_KEYS.contains(&k.as_str()) {
            problems.push(format!("`{k}` is not a permission field this reader knows"));
        }
    }
    let perm_issue = set.issue_if(p.line, &p.compact(), &problems);
    let mut peers: Vec<PeerEntry> = Vec::new();
    let desc = |n: &Node| n.get("Description").and_then(Node::str).map(str::to_string);
    for (list, field) in [("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")] {
        for r in p.get(list).map_or(&[][..], Node::items) {
            let c = r.get(field).and_then(Node::str).unwrap_or("");
            let (m, prob) = match sg::cidr(c) {
                Some(a) => (AddrMatch::of(a), None),
                None => (
                    AddrMatch::every(),
                    Some(format!("`{c}` in {list} is not a CIDR")),
                ),
            };
            peers.push((r.line, r.compact(), desc(r), m, prob));
        }
    }
    for r in p.get("PrefixListIds").map_or(&[][..], Node::items) {
        let (m, prob) = match r.get("PrefixListId").and_then(Node::str) {
            Some(id) => (AddrMatch::symbol(format!("pl:{id}")), None),
            None => (
                AddrMatch::every(),
                Some("a prefix list without PrefixListId".to_string()),
            ),
        };
        peers.push((r.line, r.compact(), desc(r), m, prob));
    }
    for r in p.get("UserIdGroupPairs").map_or(&[][..], Node::items) {
        let (m, prob) = match r.get("GroupId").and_then(Node::str) {
            Some(id) => {
                let i = match groups.find(id) {
                    Some(i) => i,
                    None => {
                        let symbol = format!("sg:{id}");
                        if missing_noted.insert(id.to_string()) {
                            let account = r
                                .get("UserId")
                                .and_then(Node::str)
                                .map(|u| format!(" (account {u})"))
                                .unwrap_or_default();
                            set.note(
                                r.line,
                                &r.compact(),
                                format!(
                                    "{id}{account} is referenced but not in this export: its members are {symbol} (give them with --member {symbol}=ADDRESS,...)"
                                ),
                            );
                        }
                        groups.add(Group {
                            key: id.to_string(),
                            display: id.to_string(),
                            members: AddrMatch::symbol(symbol),
                            line: r.line,
                        })
                    }
                };
                if let Some(pcx) = r.get("VpcPeeringConnectionId").and_then(Node::str) {
                    set.note(
                        r.line,
                        &r.compact(),
                        format!("{id} is referenced across VPC peering {pcx}: its members are its instances in the peer VPC"),
                    );
                }
                (groups.members(i), None)
            }
            None => (
                AddrMatch::every(),
                Some("a group pair without GroupId".to_string()),
            ),
        };
        peers.push((r.line, r.compact(), desc(r), m, prob));
    }
    if peers.is_empty() {
        set.note(
            p.line,
            &p.compact(),
            format!("this {dir} permission names no address range, group or prefix list: it allows nothing"),
        );
    }
    for (line, etext, label, peer, prob) in peers {
        let mut when = Vec::new();
        if let Some(k) = perm_issue {
            when.push(Cond::Unknown(k));
        }
        if let Some(m) = prob {
            let k = set.issue(line, &etext, m);
            when.push(Cond::Unknown(k));
        }
        rules.push(SgRule {
            line,
            text: format!("{head} {etext}"),
            label,
            egress,
            group: gi,
            proto: proto.clone(),
            dport: dport.clone(),
            peer,
            when,
        });
    }
    Ok(())
}

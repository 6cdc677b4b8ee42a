//! Reads AWS security groups written in Terraform: what
//! `render/src/aws_terraform.rs` writes (`aws_security_group` resources whose
//! description lists their members, `aws_vpc_security_group_ingress_rule` /
//! `_egress_rule` resources), and what engineers write by hand: inline
//! `ingress {}` / `egress {}` blocks (or `ingress = [...]`), and
//! `aws_security_group_rule` resources (Terraform AWS provider docs:
//! resources aws_security_group, aws_security_group_rule,
//! aws_vpc_security_group_ingress_rule, aws_vpc_security_group_egress_rule).
//!
//! Semantics in `aws_json_sg`: allow-only union, one inbound and one
//! outbound filter, every rule scoped to its group's members. References to
//! groups of this file resolve to them; anything else (variables, data
//! sources, module outputs) becomes a symbol `sg:...` named as written, or
//! an issue — never a guess. A group's members are the addresses its
//! description lists in portplan's own output, else the symbol `sg:NAME`
//! (its literal name) or `sg:aws_security_group.LABEL`.

use crate::aws_json_sg::{self as sg, Group, Groups, SgRule};
use crate::model::*;
use crate::space::{Addrs, Ranges};
use crate::tf::{self, TfBlock};
use crate::Reader;
use hcl::expr::{Operation, TraversalOperator, UnaryOperator};
use hcl::{Body, Expression, ObjectKey};
use portplan_model::Diagnostic;
use std::collections::{BTreeSet, HashMap};

pub struct AwsTerraform;

const GROUP_TYPES: &[&str] = &["aws_security_group", "aws_default_security_group"];
const RULE_TYPES: &[&str] = &[
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_security_group_rule",
];

impl Reader for AwsTerraform {
    fn name(&self) -> &'static str {
        "aws-terraform"
    }
    fn about(&self) -> &'static str {
        "Terraform AWS security groups (aws_security_group, inline or separate rules)"
    }
    fn sniff(&self, text: &str) -> u8 {
        let t = text.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            return 0;
        }
        let kinds = GROUP_TYPES.iter().chain(RULE_TYPES);
        let mut score = 0;
        for k in kinds {
            if crate::find::has(text, &format!("resource \"{k}\"")) {
                score = 90;
            }
        }
        // Our own header: even with no group (no host of the plan here).
        if text.starts_with("# portplan: AWS security groups") {
            score = 95;
        }
        score
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

/// Fields of a rule: a block's body or an object of `ingress = [{...}]`.
#[derive(Clone, Copy)]
enum Fields<'a> {
    Body(&'a Body),
    Obj(&'a hcl::Object<ObjectKey, Expression>),
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Expression> {
        match self {
            Fields::Body(b) => tf::attr(b, key),
            Fields::Obj(o) => o.iter().find(|(k, _)| key_name(k) == key).map(|(_, v)| v),
        }
    }
    fn keys(&self) -> Vec<String> {
        match self {
            Fields::Body(b) => b
                .attributes()
                .map(|a| a.key().to_string())
                .chain(b.blocks().map(|x| x.identifier().to_string()))
                .collect(),
            Fields::Obj(o) => o.keys().map(key_name).collect(),
        }
    }
}

fn key_name(k: &ObjectKey) -> String {
    match k {
        ObjectKey::Identifier(i) => i.as_str().to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        ObjectKey::Expression(e) => show(e),
        _ => String::new(),
    }
}

/// An expression as HCL writes it, on one line.
pub(crate) fn show(e: &Expression) -> String {
    let s = hcl::format::to_string(e).unwrap_or_default();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `"${aws_security_group.web.id}"` (Terraform 0.11 style) is the reference
/// inside; parentheses are what they hold.
pub(crate) fn unwrap(e: &Expression) -> Expression {
    match e {
        Expression::Parenthesis(x) => unwrap(x),
        Expression::TemplateExpr(t) => match hcl::Template::from_expr(t) {
            Ok(tpl) => match tpl.elements() {
                [hcl::template::Element::Interpolation(i)] => unwrap(&i.expr),
                _ => e.clone(),
            },
            Err(_) => e.clone(),
        },
        _ => e.clone(),
    }
}

/// An integer literal (`22`, `"22"`, `-1`).
pub(crate) fn int(e: &Expression) -> Option<i64> {
    match unwrap(e) {
        Expression::Number(n) => n.as_i64(),
        Expression::String(s) => s.trim().parse().ok(),
        Expression::Operation(op) => match *op {
            Operation::Unary(u) if u.operator == UnaryOperator::Neg => int(&u.expr).map(|x| -x),
            _ => None,
        },
        _ => None,
    }
}

/// A reference's path: `aws_security_group.web[0].id` is
/// `["aws_security_group", "web", "id"]` (indexes are skipped).
pub(crate) fn path(e: &Expression) -> Option<Vec<String>> {
    match unwrap(e) {
        Expression::Variable(v) => Some(vec![v.as_str().to_string()]),
        Expression::Traversal(t) => {
            let mut p = path(&t.expr)?;
            for op in &t.operators {
                match op {
                    TraversalOperator::GetAttr(a) => p.push(a.as_str().to_string()),
                    TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => {}
                    _ => return None,
                }
            }
            Some(p)
        }
        _ => None,
    }
}

/// One line of a block's attributes and nested blocks (descriptions and
/// tags left out: the label carries the description).
pub(crate) fn body_text(b: &Body) -> String {
    let mut parts = Vec::new();
    for a in b.attributes() {
        if matches!(a.key(), "description" | "tags" | "tags_all") {
            continue;
        }
        parts.push(format!("{} = {}", a.key(), show(a.expr())));
    }
    for x in b.blocks() {
        parts.push(format!("{} {{ {} }}", x.identifier(), body_text(x.body())));
    }
    parts.join("; ")
}

fn obj_text(o: &hcl::Object<ObjectKey, Expression>) -> String {
    o.iter()
        .filter(|(k, _)| key_name(k) != "description")
        .map(|(k, v)| format!("{} = {}", key_name(k), show(v)))
        .collect::<Vec<_>>()
        .join("; ")
}

struct Ctx<'a> {
    text: &'a str,
    blocks: &'a [TfBlock],
    resources: HashMap<(String, String), usize>,
    data: HashMap<(String, String), usize>,
    groups: Groups,
    /// The file is portplan's own output.
    ours: bool,
    noted: BTreeSet<String>,
    /// Groups referenced but not defined here.
    externals: Vec<usize>,
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let blocks = tf::blocks(text, file)?;
    let mut set = Ruleset::new("aws-terraform", file);
    let ours = text
        .lines()
        .take(5)
        .any(|l| l.starts_with("# portplan: AWS security groups"));
    let mut cx = Ctx {
        text,
        blocks: &blocks,
        resources: HashMap::new(),
        data: HashMap::new(),
        groups: Groups::default(),
        ours,
        noted: BTreeSet::new(),
        externals: Vec::new(),
    };
    for (i, b) in blocks.iter().enumerate() {
        let (Some(t), Some(l)) = (b.labels.first(), b.labels.get(1)) else {
            continue;
        };
        match b.kind.as_str() {
            "resource" => {
                cx.resources.insert((t.clone(), l.clone()), i);
            }
            "data" => {
                cx.data.insert((t.clone(), l.clone()), i);
            }
            _ => {}
        }
    }
    // Groups first: rules reference groups written after them.
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut any = false;
    for b in &blocks {
        if b.kind != "resource" {
            continue;
        }
        let (Some(t), Some(l)) = (b.labels.first(), b.labels.get(1)) else {
            continue;
        };
        if GROUP_TYPES.contains(&t.as_str()) {
            any = true;
            let address = format!("{t}.{l}");
            let lit_name = b
                .attr("name")
                .and_then(|e| match e {
                    Expression::String(s) => Some(s.clone()),
                    _ => None,
                })
                .filter(|_| t == "aws_security_group");
            let symbol = match &lit_name {
                Some(n) if !names.contains_key(n) => format!("sg:{n}"),
                _ => format!("sg:{address}"),
            };
            if let Some(n) = &lit_name {
                *names.entry(n.clone()).or_insert(0) += 1;
            }
            let desc = b.attr("description").and_then(|e| match e {
                Expression::String(s) => Some(s.as_str()),
                _ => None,
            });
            let ours_group = cx.ours
                || lit_name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("portplan-"));
            let (members, how) = sg::group_members(desc, ours_group, &symbol);
            let g = Group {
                key: address.clone(),
                display: address.clone(),
                members,
                line: b.line,
            };
            let gtext = format!("resource \"{t}\" \"{l}\"");
            sg::described_note(&mut set, &g, how, &gtext, &symbol);
            if how == sg::Described::No {
                set.note(
                    b.line,
                    &gtext,
                    format!(
                        "the instances {address} is attached to are not in this file: its members are {symbol} (give them with --member {symbol}=ADDRESS,...)"
                    ),
                );
            }
            if b.attr("count").is_some() || b.attr("for_each").is_some() {
                set.note(
                    b.line,
                    &gtext,
                    format!(
                        "{address} has count/for_each: its copies are read as one group, {symbol}"
                    ),
                );
            }
            cx.groups.add(g);
        } else if RULE_TYPES.contains(&t.as_str()) {
            any = true;
        }
    }
    if !any && !ours {
        return Err(Diagnostic::error(
            file,
            "no AWS security group found: expected resources aws_security_group, aws_vpc_security_group_ingress_rule/egress_rule or aws_security_group_rule",
        )
        .at(Some(portplan_model::Location { line: 1, column: 1 })));
    }
    if blocks.iter().any(|b| {
        b.kind == "resource" && b.labels.first().is_some_and(|t| t == "aws_security_group")
    }) {
        set.note(
            1,
            "aws_security_group",
            "groups Terraform creates have no egress rule unless one is written (the AWS provider removes AWS's default allow-all egress)",
        );
    }
    for b in &blocks {
        if b.kind == "resource"
            && b.labels
                .first()
                .is_some_and(|t| t == "aws_networkfirewall_rule_group")
        {
            let l = b.labels.get(1).map_or("", String::as_str);
            set.note(
                b.line,
                &format!("resource \"aws_networkfirewall_rule_group\" \"{l}\""),
                "an AWS Network Firewall rule group filters traffic routed through a Network Firewall, not at the security groups read here: it is not part of this ruleset",
            );
        }
    }
    if !any {
        set.note(
            1,
            "# portplan: AWS security groups",
            "portplan wrote no security group here (no party can hold one): nothing in this file applies to any instance",
        );
    }
    let mut rules = Vec::new();
    for b in &blocks {
        if b.kind != "resource" {
            continue;
        }
        let (Some(t), Some(l)) = (b.labels.first(), b.labels.get(1)) else {
            continue;
        };
        if GROUP_TYPES.contains(&t.as_str()) {
            inline_rules(&mut cx, &mut set, &mut rules, b, t, l);
        } else if RULE_TYPES.contains(&t.as_str()) {
            rule_resource(&mut cx, &mut set, &mut rules, b, t, l);
        }
    }
    let _ = cx.text;
    for &i in &cx.externals {
        if let Some(g) = cx.groups.list.get(i).cloned() {
            sg::unknown_group(&mut set, &mut rules, i, &g, "file");
        }
    }
    sg::finish(&mut set, &cx.groups, rules);
    Ok(set)
}

/// What a rule's peer fields resolve to: known sets, and what could not be
/// known (each an issue).
#[derive(Default)]
struct Peer {
    known: Option<AddrMatch>,
    problems: Vec<String>,
}

impl Peer {
    fn add(&mut self, m: &AddrMatch) {
        match &mut self.known {
            Some(k) => sg::union_into(k, m),
            None => self.known = Some(m.clone()),
        }
    }
}

impl Ctx<'_> {
    /// The block of `type.label` in this file.
    fn resource(&self, t: &str, l: &str) -> Option<&TfBlock> {
        self.resources
            .get(&(t.to_string(), l.to_string()))
            .and_then(|&i| self.blocks.get(i))
    }

    /// A reference to a security group: a group of this file, or a set
    /// named as written (`sg:sg-0abc`, `sg:var.web_sg_id`).
    fn group_ref(
        &mut self,
        set: &mut Ruleset,
        e: &Expression,
        line: usize,
    ) -> (usize, Option<String>) {
        let e = unwrap(e);
        if let Expression::String(s) = &e {
            let key = s.trim().to_string();
            let symbol = format!("sg:{key}");
            return (self.external(set, &key, &symbol, line, false), None);
        }
        let Some(p) = path(&e) else {
            let t = show(&e);
            let symbol = format!("sg:{t}");
            return (
                self.external(set, &t, &symbol, line, false),
                Some(format!("`{t}` cannot be resolved to a security group here")),
            );
        };
        if let [t, l, ..] = p.as_slice() {
            if GROUP_TYPES.contains(&t.as_str()) {
                let key = format!("{t}.{l}");
                if let Some(i) = self.groups.find(&key) {
                    return (i, None);
                }
                let symbol = format!("sg:{key}");
                return (
                    self.external(set, &key, &symbol, line, false),
                    Some(format!("{key} is not defined in this file")),
                );
            }
        }
        if let [d, t, l, ..] = p.as_slice() {
            if d == "data" && t == "aws_security_group" {
                let key = format!("data.{t}.{l}");
                let found = self
                    .data
                    .get(&(t.clone(), l.clone()))
                    .and_then(|&i| self.blocks.get(i));
                let lit = |k: &str| {
                    found.and_then(|b| b.attr(k)).and_then(|x| match x {
                        Expression::String(s) => Some(s.clone()),
                        _ => None,
                    })
                };
                let symbol = match (lit("id"), lit("name")) {
                    (Some(id), _) => format!("sg:{id}"),
                    (None, Some(n)) => format!("sg:{n}"),
                    _ => format!("sg:{key}"),
                };
                return (self.external(set, &key, &symbol, line, true), None);
            }
        }
        let key = p.join(".");
        let symbol = format!("sg:{key}");
        (self.external(set, &key, &symbol, line, true), None)
    }

    fn external(
        &mut self,
        set: &mut Ruleset,
        key: &str,
        symbol: &str,
        line: usize,
        note: bool,
    ) -> usize {
        if let Some(i) = self.groups.find(key) {
            return i;
        }
        if note && self.noted.insert(key.to_string()) {
            set.note(
                line,
                key,
                format!(
                    "security group `{key}` is not defined in this file: its members are {symbol} (give them with --member {symbol}=ADDRESS,...)"
                ),
            );
        }
        let i = self.groups.add(Group {
            key: key.to_string(),
            display: key.to_string(),
            members: AddrMatch::symbol(symbol),
            line,
        });
        self.externals.push(i);
        i
    }

    /// CIDR lists (`cidr_blocks`, `ipv6_cidr_blocks`, `cidr_ipv4`): literals,
    /// and the literal `cidr_block` of an aws_vpc / aws_subnet of this file.
    fn cidrs(&self, e: &Expression, field: &str, peer: &mut Peer) {
        let items: Vec<Expression> = match unwrap(e) {
            Expression::Array(v) => v,
            Expression::Null => return,
            x => vec![x],
        };
        if !matches!(unwrap(e), Expression::Array(_))
            && !matches!(unwrap(e), Expression::String(_))
            && field.ends_with("blocks")
        {
            peer.problems
                .push(format!("`{field} = {}` is not known in this file", show(e)));
            return;
        }
        for it in items {
            let it = unwrap(&it);
            match &it {
                Expression::String(s) => match sg::cidr(s) {
                    Some(a) => peer.add(&AddrMatch::of(a)),
                    None => peer
                        .problems
                        .push(format!("`{s}` in {field} is not a CIDR")),
                },
                _ => match self.vpc_cidr(&it) {
                    Some(a) => peer.add(&AddrMatch::of(a)),
                    None => peer.problems.push(format!(
                        "`{}` in {field} is not known in this file",
                        show(&it)
                    )),
                },
            }
        }
    }

    fn vpc_cidr(&self, e: &Expression) -> Option<Addrs> {
        let p = path(e)?;
        let [t, l, attr] = p.as_slice() else {
            return None;
        };
        if !matches!(t.as_str(), "aws_vpc" | "aws_subnet")
            || !matches!(attr.as_str(), "cidr_block" | "ipv6_cidr_block")
        {
            return None;
        }
        match self.resource(t, l)?.attr(attr)? {
            Expression::String(s) => sg::cidr(s),
            _ => None,
        }
    }

    /// Prefix lists: a managed prefix list of this file with literal
    /// entries, else the symbol `pl:...` as written.
    fn prefix_lists(&self, e: &Expression, field: &str, peer: &mut Peer) {
        let items: Vec<Expression> = match unwrap(e) {
            Expression::Array(v) => v,
            Expression::Null => return,
            x => vec![x],
        };
        for it in items {
            let it = unwrap(&it);
            if let Expression::String(s) = &it {
                peer.add(&AddrMatch::symbol(format!("pl:{}", s.trim())));
                continue;
            }
            let Some(p) = path(&it) else {
                peer.problems.push(format!(
                    "`{}` in {field} is not known in this file",
                    show(&it)
                ));
                continue;
            };
            if let [t, l, ..] = p.as_slice() {
                if t == "aws_ec2_managed_prefix_list" {
                    if let Some(a) = self.resource(t, l).and_then(|b| managed_entries(&b.body)) {
                        peer.add(&AddrMatch::of(a));
                        continue;
                    }
                }
            }
            peer.add(&AddrMatch::symbol(format!("pl:{}", p.join("."))));
        }
    }
}

/// The literal entries of an aws_ec2_managed_prefix_list.
fn managed_entries(b: &Body) -> Option<Addrs> {
    let mut a = Addrs::none();
    let mut any = false;
    for e in tf::nested(b, "entry") {
        match tf::attr(e.body(), "cidr") {
            Some(Expression::String(s)) => a = a.union(&sg::cidr(s)?),
            _ => return None,
        }
        any = true;
    }
    any.then_some(a)
}

/// Fields a rule may carry that do not change what it matches.
const HARMLESS: &[&str] = &[
    "description",
    "tags",
    "tags_all",
    "depends_on",
    "provider",
    "lifecycle",
    "timeouts",
    "count",
    "for_each",
];

/// One rule's fields into `SgRule`s: the known peers as one rule, what
/// could not be known as another that makes its verdicts unknown.
#[allow(clippy::too_many_arguments)]
fn emit(
    cx: &mut Ctx,
    set: &mut Ruleset,
    rules: &mut Vec<SgRule>,
    f: Fields,
    line: usize,
    text: &str,
    egress: bool,
    group: usize,
    mut group_problem: Option<String>,
    kind: RuleKind,
    label: Option<String>,
) {
    let (proto_field, peer_fields): (&str, &[&str]) = match kind {
        RuleKind::Inline => (
            "protocol",
            &[
                "cidr_blocks",
                "ipv6_cidr_blocks",
                "prefix_list_ids",
                "security_groups",
                "self",
            ],
        ),
        RuleKind::Vpc => (
            "ip_protocol",
            &[
                "cidr_ipv4",
                "cidr_ipv6",
                "prefix_list_id",
                "referenced_security_group_id",
            ],
        ),
        RuleKind::Old => (
            "protocol",
            &[
                "cidr_blocks",
                "ipv6_cidr_blocks",
                "prefix_list_ids",
                "source_security_group_id",
                "self",
            ],
        ),
    };
    let mut problems: Vec<String> = group_problem.take().into_iter().collect();
    // Protocol and ports.
    let (proto, dport) = match f.get(proto_field).map(unwrap) {
        Some(Expression::String(p)) => {
            let from = f.get("from_port");
            let to = f.get("to_port");
            for (k, v) in [("from_port", from), ("to_port", to)] {
                if let Some(v) = v {
                    if int(v).is_none() {
                        problems.push(format!("`{k} = {}` is not known in this file", show(v)));
                    }
                }
            }
            let (p, d, bad) = sg::proto_ports(&p, from.and_then(int), to.and_then(int));
            problems.extend(bad);
            (p, d)
        }
        Some(Expression::Number(n)) => {
            let (p, d, bad) = sg::proto_ports(
                &n.to_string(),
                f.get("from_port").and_then(int),
                f.get("to_port").and_then(int),
            );
            problems.extend(bad);
            (p, d)
        }
        Some(x) => match int(&x) {
            Some(n) => {
                let (p, d, bad) = sg::proto_ports(
                    &n.to_string(),
                    f.get("from_port").and_then(int),
                    f.get("to_port").and_then(int),
                );
                problems.extend(bad);
                (p, d)
            }
            None => {
                problems.push(format!(
                    "`{proto_field} = {}` is not known in this file",
                    show(&x)
                ));
                (Ranges::full(), Ranges::full())
            }
        },
        None => {
            problems.push(format!("the rule has no {proto_field}"));
            (Ranges::full(), Ranges::full())
        }
    };
    for k in f.keys() {
        let known = k == proto_field
            || peer_fields.contains(&k.as_str())
            || HARMLESS.contains(&k.as_str())
            || matches!(
                k.as_str(),
                "from_port" | "to_port" | "type" | "security_group_id"
            );
        if !known {
            problems.push(format!("`{k}` is not a rule field this reader knows"));
        }
    }
    // The other end.
    let mut peer = Peer::default();
    let mut named_any = false;
    for &pf in peer_fields {
        let Some(e) = f.get(pf) else { continue };
        if matches!(e, Expression::Null) {
            continue;
        }
        named_any = true;
        match pf {
            "cidr_blocks" | "ipv6_cidr_blocks" | "cidr_ipv4" | "cidr_ipv6" => {
                cx.cidrs(e, pf, &mut peer)
            }
            "prefix_list_ids" | "prefix_list_id" => cx.prefix_lists(e, pf, &mut peer),
            "self" => match unwrap(e) {
                Expression::Bool(true) => peer.add(&cx.groups.members(group)),
                Expression::Bool(false) => {}
                x => peer
                    .problems
                    .push(format!("`self = {}` is not known in this file", show(&x))),
            },
            "security_groups" => {
                let items: Vec<Expression> = match unwrap(e) {
                    Expression::Array(v) => v,
                    x => {
                        peer.problems.push(format!(
                            "`security_groups = {}` is not known in this file",
                            show(&x)
                        ));
                        Vec::new()
                    }
                };
                for it in items {
                    let (g, prob) = cx.group_ref(set, &it, line);
                    let m = cx.groups.members(g);
                    peer.add(&m);
                    peer.problems.extend(prob);
                }
            }
            _ => {
                // referenced_security_group_id, source_security_group_id
                let (g, prob) = cx.group_ref(set, e, line);
                let m = cx.groups.members(g);
                peer.add(&m);
                peer.problems.extend(prob);
            }
        }
    }
    if !named_any {
        set.note(
            line,
            text,
            format!(
                "this rule names no {}: AWS refuses such a rule, and it allows nothing",
                if egress { "destination" } else { "source" }
            ),
        );
    }
    let rule_issue = set.issue_if(line, text, &problems);
    let base_when: Vec<Cond> = rule_issue.map(Cond::Unknown).into_iter().collect();
    if let Some(known) = peer.known {
        rules.push(SgRule {
            line,
            text: text.to_string(),
            label: label.clone(),
            egress,
            group,
            proto: proto.clone(),
            dport: dport.clone(),
            peer: known,
            when: base_when.clone(),
        });
    }
    if !peer.problems.is_empty() {
        let k = set.issue(line, text, peer.problems.join("; "));
        let mut when = base_when;
        when.push(Cond::Unknown(k));
        rules.push(SgRule {
            line,
            text: text.to_string(),
            label,
            egress,
            group,
            proto,
            dport,
            peer: AddrMatch::every(),
            when,
        });
    }
}

#[derive(Clone, Copy)]
enum RuleKind {
    /// `ingress {}` in aws_security_group.
    Inline,
    /// aws_vpc_security_group_ingress_rule / egress_rule.
    Vpc,
    /// aws_security_group_rule.
    Old,
}

fn literal_text(e: Option<&Expression>) -> Option<String> {
    match e {
        Some(Expression::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The `ingress` / `egress` blocks (or attributes) of a group.
fn inline_rules(
    cx: &mut Ctx,
    set: &mut Ruleset,
    rules: &mut Vec<SgRule>,
    b: &TfBlock,
    t: &str,
    l: &str,
) {
    let key = format!("{t}.{l}");
    let Some(gi) = cx.groups.find(&key) else {
        return;
    };
    // Nested blocks in order, with their lines.
    let mut lines = b
        .lines
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "ingress" | "egress" | "dynamic"));
    for blk in b.body.blocks() {
        let id = blk.identifier();
        if !matches!(id, "ingress" | "egress" | "dynamic") {
            continue;
        }
        let line = lines.next().map_or(b.line, |x| x.1);
        if id == "dynamic" {
            let what = blk
                .labels()
                .first()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default();
            if what == "ingress" || what == "egress" {
                let text = format!("{key} dynamic \"{what}\" {{ {} }}", body_text(blk.body()));
                let k = set.issue(
                    line,
                    &text,
                    format!("a dynamic {what} block makes its rules from values this reader does not evaluate"),
                );
                rules.push(SgRule {
                    line,
                    text,
                    label: None,
                    egress: what == "egress",
                    group: gi,
                    proto: Ranges::full(),
                    dport: Ranges::full(),
                    peer: AddrMatch::every(),
                    when: vec![Cond::Unknown(k)],
                });
            }
            continue;
        }
        let text = format!("{key} {id} {{ {} }}", body_text(blk.body()));
        let label = literal_text(tf::attr(blk.body(), "description"));
        emit(
            cx,
            set,
            rules,
            Fields::Body(blk.body()),
            line,
            &text,
            id == "egress",
            gi,
            None,
            RuleKind::Inline,
            label,
        );
    }
    // Attributes as blocks: `ingress = [{...}]`.
    for id in ["ingress", "egress"] {
        let Some(e) = b.attr(id) else { continue };
        let line = b.line_of(id);
        match e {
            Expression::Array(v) => {
                for it in v {
                    match it {
                        Expression::Object(o) => {
                            let text = format!("{key} {id} = {{ {} }}", obj_text(o));
                            let label = literal_text(Fields::Obj(o).get("description"));
                            emit(
                                cx,
                                set,
                                rules,
                                Fields::Obj(o),
                                line,
                                &text,
                                id == "egress",
                                gi,
                                None,
                                RuleKind::Inline,
                                label,
                            );
                        }
                        x => {
                            let text = format!("{key} {id} = {}", show(x));
                            let k = set.issue(
                                line,
                                &text,
                                format!("`{}` is not a rule this reader can read", show(x)),
                            );
                            rules.push(SgRule::unknown(line, text, id == "egress", gi, k));
                        }
                    }
                }
            }
            x => {
                let text = format!("{key} {id} = {}", show(x));
                let k = set.issue(
                    line,
                    &text,
                    format!(
                        "the {id} rules come from `{}`, which this reader does not evaluate",
                        show(x)
                    ),
                );
                rules.push(SgRule::unknown(line, text, id == "egress", gi, k));
            }
        }
    }
}

/// aws_vpc_security_group_ingress_rule / egress_rule / aws_security_group_rule.
fn rule_resource(
    cx: &mut Ctx,
    set: &mut Ruleset,
    rules: &mut Vec<SgRule>,
    b: &TfBlock,
    t: &str,
    l: &str,
) {
    let text = format!("resource \"{t}\" \"{l}\" {{ {} }}", body_text(&b.body));
    let line = b.line;
    let mut pre = Vec::new();
    // count / for_each: the rule may not exist.
    if let Some(c) = b.attr("count") {
        match int(c) {
            Some(0) => {
                set.note(line, &text, "count = 0: this rule is not created");
                return;
            }
            Some(_) => {}
            None => pre.push(format!(
                "`count = {}`: whether the rule exists is not known here",
                show(c)
            )),
        }
    }
    if let Some(fe) = b.attr("for_each") {
        pre.push(format!(
            "`for_each = {}`: the rule's copies are not evaluated here",
            show(fe)
        ));
    }
    let (egress, kind) = match t {
        "aws_vpc_security_group_ingress_rule" => (false, RuleKind::Vpc),
        "aws_vpc_security_group_egress_rule" => (true, RuleKind::Vpc),
        _ => {
            match b.attr("type").map(unwrap) {
                Some(Expression::String(s)) if s == "ingress" => (false, RuleKind::Old),
                Some(Expression::String(s)) if s == "egress" => (true, RuleKind::Old),
                other => {
                    let shown = other.as_ref().map_or_else(|| "missing".to_string(), show);
                    let k = set.issue(line, &text, format!("`type` is {shown}: an aws_security_group_rule is `ingress` or `egress`"));
                    // Either direction: unknown both ways.
                    for egress in [false, true] {
                        let (g, _) = match b.attr("security_group_id") {
                            Some(e) => cx.group_ref(set, e, line),
                            None => (cx.external(set, "?", "sg:?", line, false), None),
                        };
                        rules.push(SgRule::unknown(line, text.clone(), egress, g, k));
                    }
                    return;
                }
            }
        }
    };
    let (gi, gprob) = match b.attr("security_group_id") {
        Some(e) => cx.group_ref(set, e, line),
        None => {
            let key = format!("{t}.{l}.security_group_id");
            let symbol = format!("sg:{key}");
            (
                cx.external(set, &key, &symbol, line, false),
                Some("the rule has no security_group_id".to_string()),
            )
        }
    };
    let mut gp: Vec<String> = pre;
    gp.extend(gprob);
    let gp = (!gp.is_empty()).then(|| gp.join("; "));
    let label = literal_text(b.attr("description")).or_else(|| Some(l.to_string()));
    emit(
        cx,
        set,
        rules,
        Fields::Body(&b.body),
        line,
        &text,
        egress,
        gi,
        gp,
        kind,
        label,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_references() {
        let b = tf::blocks(
            "resource \"x\" \"y\" {\n  a = -1\n  b = \"22\"\n  c = aws_security_group.web[0].id\n  d = \"${aws_security_group.db.id}\"\n}\n",
            "f.tf",
        )
        .unwrap();
        assert_eq!(b[0].attr("a").and_then(int), Some(-1));
        assert_eq!(b[0].attr("b").and_then(int), Some(22));
        assert_eq!(
            b[0].attr("c").and_then(path),
            Some(vec!["aws_security_group".into(), "web".into(), "id".into()])
        );
        assert_eq!(
            b[0].attr("d").and_then(path),
            Some(vec!["aws_security_group".into(), "db".into(), "id".into()])
        );
    }
}

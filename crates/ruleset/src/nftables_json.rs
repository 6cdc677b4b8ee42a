//! Reads `nft -j list ruleset` JSON (libnftables-json(5)): the objects
//! (`table`, `chain`, `set`, `map`, `rule`, `element`) of one `nftables`
//! array, or the commands (`add`, `insert`, `flush`, `delete`) JSON input
//! uses. They are turned into the statements the text reader builds too, so
//! both formats mean the same (`nftables_model`).
//!
//! Lines: `nft -j` prints one line, so every rule is on line 1 and its text
//! names its handle (`rule handle 7: tcp dport 22 accept`); pretty-printed
//! JSON gives each rule the line its object starts on.

use crate::json_tree;
use crate::model::Ruleset;
use crate::nftables_model::*;
use crate::Reader;
use portplan_model::{Diagnostic, Location};
use serde_json::{Map, Value};

pub struct NftablesJson;

impl Reader for NftablesJson {
    fn name(&self) -> &'static str {
        "nftables-json"
    }
    fn about(&self) -> &'static str {
        "`nft -j list ruleset` JSON"
    }
    fn sniff(&self, text: &str) -> u8 {
        let t = text.trim_start();
        if !t.starts_with('{') {
            return 0;
        }
        let head: String = t.chars().take(200).filter(|c| !c.is_whitespace()).collect();
        if head.starts_with("{\"nftables\":[") {
            95
        } else if head.contains("\"nftables\"") {
            60
        } else {
            0
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        let doc = parse(text, file)?;
        Ok(build(&doc, "nftables-json", file))
    }
}

fn located(file: &str, line: usize, column: usize, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(file, msg).at(Some(Location { line, column }))
}

fn parse(text: &str, file: &str) -> Result<Doc, Diagnostic> {
    let root = json_tree::parse(text, file)?;
    let arr = root.get("nftables").filter(|a| a.is_arr()).ok_or_else(|| {
        located(
            file,
            1,
            1,
            "expected `{\"nftables\": [...]}` as `nft -j list ruleset` prints it",
        )
    })?;
    let mut doc = Doc::default();
    for (i, el) in arr.items().iter().enumerate() {
        // The line of the element's key (`"rule": {`), which is where
        // pretty-printed JSON shows it.
        let line = el.members().first().map_or(el.line, |(_, v)| v.line);
        let el = el.to_value();
        let err = |m: String| located(file, line, 1, m);
        let Some(o) = el.as_object() else {
            return Err(err(format!(
                "element {} of the `nftables` array is not an object",
                i + 1
            )));
        };
        let Some((k, body)) = o.iter().next() else {
            return Err(err(format!("element {} is an empty object", i + 1)));
        };
        let (verb, kind, body) = match k.as_str() {
            "add" | "create" | "insert" | "delete" | "destroy" | "flush" | "replace" | "list"
            | "reset" | "rename" => {
                let Some((kind, b)) = body.as_object().and_then(|b| b.iter().next()) else {
                    return Err(err(format!("`{k}` needs an object to act on")));
                };
                (k.as_str(), kind.as_str(), b)
            }
            _ => ("add", k.as_str(), body),
        };
        object(&mut doc, verb, kind, body, line).map_err(err)?;
    }
    if doc.tables.is_empty() {
        return Err(located(
            file,
            1,
            1,
            "no table found: `nft -j list ruleset` lists `{\"table\": ...}` objects",
        ));
    }
    Ok(doc)
}

fn s<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

fn need<'a>(o: &'a Map<String, Value>, k: &str, what: &str) -> Result<&'a str, String> {
    s(o, k).ok_or_else(|| format!("{what} has no `{k}`"))
}

fn table_idx(doc: &Doc, f: &str, n: &str) -> Option<usize> {
    doc.tables.iter().position(|t| t.family == f && t.name == n)
}

fn object(doc: &mut Doc, verb: &str, kind: &str, body: &Value, line: usize) -> Result<(), String> {
    let empty = Map::new();
    let o = body.as_object().unwrap_or(&empty);
    match (verb, kind) {
        (_, "metainfo") | ("list" | "reset", _) => Ok(()),
        ("flush", "ruleset") => {
            match o.get("family").and_then(Value::as_str) {
                Some(f) => doc.tables.retain(|t| t.family != f),
                None => doc.tables.clear(),
            }
            Ok(())
        }
        (_, "table") => {
            let f = need(o, "family", "a table")?;
            let n = need(o, "name", "a table")?;
            match verb {
                "delete" | "destroy" => doc.tables.retain(|t| !(t.family == f && t.name == n)),
                "flush" => {
                    if let Some(ti) = table_idx(doc, f, n) {
                        for c in &mut doc.tables[ti].chains {
                            c.rules.clear();
                        }
                    }
                }
                _ => {
                    let ti = match table_idx(doc, f, n) {
                        Some(i) => i,
                        None => {
                            doc.tables.push(Table::new(f, n, line));
                            doc.tables.len() - 1
                        }
                    };
                    let dormant = o
                        .get("flags")
                        .map(|x| x.to_string().contains("dormant"))
                        .unwrap_or(false);
                    doc.tables[ti].dormant |= dormant;
                }
            }
            Ok(())
        }
        (_, "chain") => {
            let f = need(o, "family", "a chain")?;
            let t = need(o, "table", "a chain")?;
            let n = need(o, "name", "a chain")?;
            let ti = table_idx(doc, f, t)
                .ok_or_else(|| format!("chain {n}: table {f} {t} is not listed before it"))?;
            let table = &mut doc.tables[ti];
            match verb {
                "delete" | "destroy" => {
                    table.chains.retain(|c| c.name != n);
                    return Ok(());
                }
                "flush" => {
                    if let Some(c) = table.chains.iter_mut().find(|c| c.name == n) {
                        c.rules.clear();
                    }
                    return Ok(());
                }
                "rename" => {
                    if let (Some(c), Some(new)) = (
                        table.chains.iter_mut().find(|c| c.name == n),
                        s(o, "newname"),
                    ) {
                        c.name = new.to_string();
                    }
                    return Ok(());
                }
                _ => {}
            }
            let chain = table.chain_mut(n, line);
            if let Some(hook) = s(o, "hook") {
                let kind = s(o, "type").unwrap_or("filter").to_string();
                let prio = match o.get("prio") {
                    Some(Value::Number(x)) => x.as_i64(),
                    Some(Value::String(x)) => priority(f, std::slice::from_ref(x)),
                    _ => None,
                };
                let devices: Vec<String> = match o.get("dev") {
                    Some(Value::String(d)) => vec![d.clone()],
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    _ => Vec::new(),
                };
                let handle = o
                    .get("handle")
                    .map(|h| format!(" (handle {h})"))
                    .unwrap_or_default();
                let prio_text = o.get("prio").map(|p| p.to_string()).unwrap_or_default();
                let dev_text = if devices.is_empty() {
                    String::new()
                } else {
                    format!(" device {}", devices.join(","))
                };
                let text = format!(
                    "chain {n}{handle}: type {kind} hook {hook}{dev_text} priority {prio_text}"
                );
                let policy =
                    s(o, "policy").map(|p| (p == "accept", line, format!("{text}; policy {p};")));
                if s(o, "policy").is_some_and(|p| p != "accept" && p != "drop") {
                    return Err(format!("chain {n}: a policy is `accept` or `drop`"));
                }
                chain.base = Some(Base {
                    kind,
                    hook: hook.to_string(),
                    prio,
                    devices,
                    policy,
                    line,
                    text,
                });
            }
            Ok(())
        }
        (_, "set" | "map") => {
            let f = need(o, "family", "a set")?;
            let t = need(o, "table", "a set")?;
            let n = need(o, "name", "a set")?;
            let ti = table_idx(doc, f, t)
                .ok_or_else(|| format!("set {n}: table {f} {t} is not listed before it"))?;
            let table = &mut doc.tables[ti];
            if matches!(verb, "delete" | "destroy") {
                table.sets.retain(|x| x.name != n);
                return Ok(());
            }
            let set = table.set_mut(n, line, kind == "map");
            if verb == "flush" {
                set.elems.clear();
                return Ok(());
            }
            if kind == "map" {
                set.map = true;
                set.data = o.get("map").map(show);
            }
            set.comment = s(o, "comment").map(str::to_string);
            if let Some(e) = o.get("elem") {
                set.elems.extend(elems_of(e, kind == "map"));
            }
            Ok(())
        }
        (_, "element") => {
            let f = need(o, "family", "an element")?;
            let t = need(o, "table", "an element")?;
            let n = need(o, "name", "an element")?;
            let ti = table_idx(doc, f, t)
                .ok_or_else(|| format!("element of {n}: table {f} {t} is not listed before it"))?;
            let new = o
                .get("elem")
                .map(|e| elems_of(e, false))
                .unwrap_or_default();
            let set = doc.tables[ti].set_mut(n, line, false);
            match verb {
                "delete" | "destroy" => set.elems.retain(|(e, _)| !new.iter().any(|(x, _)| x == e)),
                "flush" => set.elems.clear(),
                _ => {
                    let map = set.map;
                    let new = o.get("elem").map(|e| elems_of(e, map)).unwrap_or_default();
                    set.elems.extend(new);
                }
            }
            Ok(())
        }
        (_, "rule") => {
            let f = need(o, "family", "a rule")?;
            let t = need(o, "table", "a rule")?;
            let c = need(o, "chain", "a rule")?;
            let handle = o.get("handle").map(|h| h.to_string());
            let ti = table_idx(doc, f, t)
                .ok_or_else(|| format!("rule: table {f} {t} is not listed before it"))?;
            if !doc.tables[ti].chains.iter().any(|x| x.name == c) {
                return Err(format!(
                    "rule: chain {c} of table {f} {t} is not listed before it"
                ));
            }
            if matches!(verb, "delete" | "destroy" | "replace") {
                doc.issues.push((
                    line,
                    format!("{verb} rule {}", handle.clone().unwrap_or_default()),
                    format!("`{verb}` of a rule by its handle is not followed: read `nft -j list ruleset` output instead"),
                ));
                return Ok(());
            }
            let expr = o
                .get("expr")
                .and_then(Value::as_array)
                .ok_or_else(|| "a rule has no `expr` list".to_string())?;
            let mut stmts: Vec<Stmt> = expr.iter().map(stmt_of).collect();
            let body: Vec<String> = expr.iter().map(show_stmt).collect();
            let mut text = match &handle {
                Some(h) => format!("rule handle {h}: {}", body.join(" ")),
                None => format!("rule: {}", body.join(" ")),
            };
            if let Some(cm) = s(o, "comment") {
                stmts.push(Stmt::Comment(cm.to_string()));
                text.push_str(&format!(" comment \"{cm}\""));
            }
            let placed = o.contains_key("index")
                || (verb == "insert" || verb == "add") && o.contains_key("position");
            if placed {
                stmts.push(Stmt::Unknown(
                    "the rule is placed next to a rule by its handle or index, which this reader does not follow".into(),
                ));
            }
            let rd = RuleDecl { line, text, stmts };
            let chain = doc.tables[ti].chain_mut(c, line);
            if verb == "insert" {
                chain.rules.insert(0, rd);
            } else {
                chain.rules.push(rd);
            }
            Ok(())
        }
        // Flowtables, counters, quotas, ct helpers, limits, secmarks:
        // named objects rules may use; declaring them decides nothing.
        _ => Ok(()),
    }
}

/// Set or map elements.
fn elems_of(v: &Value, map: bool) -> Vec<(Elem, Option<Data>)> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        x => vec![x],
    };
    let mut out = Vec::new();
    for it in items {
        if map {
            if let Some([k, d]) = it.as_array().map(Vec::as_slice) {
                let data = match verdict_of(d) {
                    Some(x) => Data::Verdict(x),
                    None => Data::Other(show(d)),
                };
                out.push((elem_of(k), Some(data)));
                continue;
            }
        }
        out.push((elem_of(it), None));
    }
    out
}

/// One element: its components.
fn elem_of(v: &Value) -> Elem {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(parts)) = o.get("concat") {
                return parts.iter().map(atom_of).collect();
            }
            if let Some(e) = o.get("elem").and_then(Value::as_object) {
                if let Some(x) = e.get("val") {
                    return elem_of(x);
                }
            }
            vec![atom_of(v)]
        }
        _ => vec![atom_of(v)],
    }
}

fn atom_of(v: &Value) -> Atom {
    match v {
        Value::String(x) => Atom::Val(x.clone()),
        Value::Number(n) => Atom::Val(n.to_string()),
        Value::Bool(b) => Atom::Val(b.to_string()),
        Value::Array(a) => Atom::Val(a.iter().map(show).collect::<Vec<_>>().join(",")),
        Value::Object(o) => {
            if let Some(p) = o.get("prefix").and_then(Value::as_object) {
                if let (Some(a), Some(l)) = (
                    p.get("addr").and_then(Value::as_str),
                    p.get("len").and_then(Value::as_u64),
                ) {
                    return Atom::Prefix(a.to_string(), u8::try_from(l).unwrap_or(u8::MAX));
                }
            }
            if let Some(Value::Array(r)) = o.get("range") {
                if let [a, b] = r.as_slice() {
                    return Atom::Range(show(a), show(b));
                }
            }
            if let Some(Value::Array(r)) = o.get("|") {
                return Atom::Val(r.iter().map(show).collect::<Vec<_>>().join("|"));
            }
            if let Some(e) = o.get("elem").and_then(Value::as_object) {
                if let Some(x) = e.get("val") {
                    return atom_of(x);
                }
            }
            Atom::Other(show(v))
        }
        Value::Null => Atom::Other("null".into()),
    }
}

fn verdict_of(v: &Value) -> Option<Verdict> {
    let o = v.as_object()?;
    let (k, b) = o.iter().next()?;
    let target = || {
        b.as_object()
            .and_then(|t| t.get("target"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(match k.as_str() {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "reject" => Verdict::Reject,
        "return" => Verdict::Return,
        "continue" => Verdict::Continue,
        "queue" => Verdict::Queue,
        "jump" => Verdict::Jump(target()?),
        "goto" => Verdict::Goto(target()?),
        _ => return None,
    })
}

/// The selectors of a match's left side.
fn keys_of(v: &Value) -> Vec<Key> {
    let Some(o) = v.as_object() else {
        return vec![Key::Other(show(v))];
    };
    if let Some(Value::Array(parts)) = o.get("concat") {
        return parts.iter().flat_map(keys_of).collect();
    }
    if let Some(Value::Array(parts)) = o.get("&") {
        if let [l, m] = parts.as_slice() {
            if keys_of(l) == [Key::TcpFlags(None)] {
                let mask = match m {
                    Value::Array(a) => a.iter().map(show).collect(),
                    x => vec![show(x)],
                };
                return vec![Key::TcpFlags(Some(mask))];
            }
        }
        return vec![Key::Other(show(v))];
    }
    if let Some(p) = o.get("payload").and_then(Value::as_object) {
        let proto = s(p, "protocol").unwrap_or("");
        let field = s(p, "field").unwrap_or("");
        let fam = match proto {
            "ip" => Some(Fam::V4),
            "ip6" => Some(Fam::V6),
            _ => None,
        };
        return vec![match (proto, field, fam, L4::of(proto)) {
            (_, "saddr", Some(f), _) => Key::Saddr(f),
            (_, "daddr", Some(f), _) => Key::Daddr(f),
            ("ip", "protocol", ..) => Key::Proto(Some(Fam::V4)),
            ("ip6", "nexthdr", ..) => Key::Proto(Some(Fam::V6)),
            (_, "dport", _, Some(l)) => Key::Dport(l),
            (_, "sport", _, Some(l)) => Key::Sport(l),
            ("tcp", "flags", ..) => Key::TcpFlags(None),
            ("icmp", "type", ..) => Key::IcmpType(false),
            ("icmpv6", "type", ..) => Key::IcmpType(true),
            _ => Key::Other(show(v)),
        }];
    }
    if let Some(m) = o.get("meta").and_then(Value::as_object) {
        return vec![match s(m, "key").unwrap_or("") {
            "l4proto" => Key::Proto(None),
            "nfproto" => Key::Nfproto,
            "iifname" | "iif" => Key::Iface(false),
            "oifname" | "oif" => Key::Iface(true),
            _ => Key::Other(show(v)),
        }];
    }
    if let Some(c) = o.get("ct").and_then(Value::as_object) {
        if s(c, "key") == Some("state") && !c.contains_key("dir") {
            return vec![Key::CtState];
        }
    }
    vec![Key::Other(show(v))]
}

fn rhs_of(v: &Value) -> Rhs {
    match v {
        Value::String(x) if x.starts_with('@') => Rhs::Named(x[1..].to_string()),
        // A list of flags (`ct state established,related`).
        Value::Array(a) => Rhs::Elems(a.iter().map(|x| vec![atom_of(x)]).collect()),
        Value::Object(o) => {
            if let Some(Value::Array(items)) = o.get("set") {
                return Rhs::Elems(items.iter().map(elem_of).collect());
            }
            Rhs::Elems(vec![elem_of(v)])
        }
        x => Rhs::Elems(vec![vec![atom_of(x)]]),
    }
}

/// One statement of a rule's `expr` list.
fn stmt_of(v: &Value) -> Stmt {
    let Some((k, b)) = v.as_object().and_then(|o| o.iter().next()) else {
        return Stmt::NotUnderstood(format!("`{}` is not a statement", show(v)));
    };
    let empty = Map::new();
    let o = b.as_object().unwrap_or(&empty);
    match k.as_str() {
        "match" => {
            let (Some(l), Some(r)) = (o.get("left"), o.get("right")) else {
                return Stmt::Unknown("a match without both sides".into());
            };
            let op = s(o, "op").and_then(Op::of).unwrap_or(Op::Eq);
            Stmt::Match {
                keys: keys_of(l),
                op,
                rhs: rhs_of(r),
            }
        }
        "vmap" => {
            let (Some(key), Some(data)) = (o.get("key"), o.get("data")) else {
                return Stmt::UnknownVerdict("a verdict map without key and data".into());
            };
            let keys = keys_of(key);
            match data {
                Value::String(n) if n.starts_with('@') => Stmt::Vmap {
                    keys,
                    map: VmapData::Named(n[1..].to_string()),
                },
                Value::Object(d) => {
                    let Some(Value::Array(items)) = d.get("set") else {
                        return Stmt::UnknownVerdict("a verdict map without elements".into());
                    };
                    let mut v = Vec::new();
                    for (e, dd) in elems_of(&Value::Array(items.clone()), true) {
                        match dd {
                            Some(Data::Verdict(x)) => v.push((e, x)),
                            _ => {
                                return Stmt::UnknownVerdict(
                                    "a verdict map element without a verdict".into(),
                                )
                            }
                        }
                    }
                    Stmt::Vmap {
                        keys,
                        map: VmapData::Inline(v),
                    }
                }
                _ => Stmt::UnknownVerdict("a verdict map without elements".into()),
            }
        }
        "accept" | "drop" | "reject" | "return" | "continue" | "queue" | "jump" | "goto" => {
            match verdict_of(v) {
                Some(x) => Stmt::Verdict(x),
                None => Stmt::UnknownVerdict(format!("`{k}` without a chain")),
            }
        }
        "counter" | "log" | "mangle" | "notrack" | "flow" | "dup" | "set" | "ct helper"
        | "ct timeout" | "ct expectation" | "secmark" => Stmt::Harmless,
        "limit" | "quota" | "ct count" | "meter" => Stmt::Limited(format!(
            "`{}` matches only part of the time: the verdict holds while the rate or quota allows",
            show_stmt(v)
        )),
        "snat" | "masquerade" => Stmt::Nat {
            dest: false,
            what: show_stmt(v),
        },
        "dnat" | "redirect" | "tproxy" => Stmt::Nat {
            dest: true,
            what: show_stmt(v),
        },
        "fwd" | "synproxy" => Stmt::UnknownVerdict(format!(
            "`{k}` decides the packet's fate outside the rules (this reader cannot tell)"
        )),
        "xt" => {
            let name = s(o, "name").unwrap_or("");
            if s(o, "type") == Some("target") {
                xt_target(name)
            } else {
                Stmt::Unknown(format!(
                    "iptables extension `{name}` (iptables-nft) is not understood"
                ))
            }
        }
        _ => Stmt::NotUnderstood(format!("`{}` is not understood", show_stmt(v))),
    }
}

/// An expression as nft would write it, roughly (for rule texts).
fn show(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(x) => x.clone(),
        Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(","),
        Value::Object(o) => {
            let Some((k, b)) = o.iter().next() else {
                return "{}".into();
            };
            let empty = Map::new();
            let bo = b.as_object().unwrap_or(&empty);
            match k.as_str() {
                "payload" => match (s(bo, "protocol"), s(bo, "field")) {
                    (Some(p), Some(f)) => format!("{p} {f}"),
                    _ => format!(
                        "@{},{},{}",
                        bo.get("base").map(show).unwrap_or_default(),
                        bo.get("offset").map(show).unwrap_or_default(),
                        bo.get("len").map(show).unwrap_or_default()
                    ),
                },
                "meta" => format!("meta {}", s(bo, "key").unwrap_or("")),
                "ct" => match s(bo, "dir") {
                    Some(d) => format!("ct {d} {}", s(bo, "key").unwrap_or("")),
                    None => format!("ct {}", s(bo, "key").unwrap_or("")),
                },
                "fib" => format!(
                    "fib {} {}",
                    bo.get("flags")
                        .map(|f| match f {
                            Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(" . "),
                            x => show(x),
                        })
                        .unwrap_or_default(),
                    s(bo, "result").unwrap_or("")
                ),
                "concat" => match b {
                    Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(" . "),
                    x => show(x),
                },
                "set" => match b {
                    Value::Array(a) => format!(
                        "{{ {} }}",
                        a.iter()
                            .map(|x| match x.as_array().map(Vec::as_slice) {
                                Some([k, d]) => format!("{} : {}", show(k), show_stmt(d)),
                                _ => show(x),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    x => show(x),
                },
                "prefix" => format!(
                    "{}/{}",
                    bo.get("addr").map(show).unwrap_or_default(),
                    bo.get("len").map(show).unwrap_or_default()
                ),
                "range" => match b.as_array().map(Vec::as_slice) {
                    Some([a, z]) => format!("{}-{}", show(a), show(z)),
                    _ => show(b),
                },
                "&" | "|" | "^" | "<<" | ">>" => match b {
                    Value::Array(a) => a
                        .iter()
                        .map(show)
                        .collect::<Vec<_>>()
                        .join(&format!(" {k} ")),
                    x => show(x),
                },
                "elem" => bo.get("val").map(show).unwrap_or_default(),
                _ => v.to_string(),
            }
        }
    }
}

/// A statement as nft would write it, roughly.
fn show_stmt(v: &Value) -> String {
    let Some((k, b)) = v.as_object().and_then(|o| o.iter().next()) else {
        return show(v);
    };
    let empty = Map::new();
    let o = b.as_object().unwrap_or(&empty);
    match k.as_str() {
        "match" => {
            let op = match s(o, "op") {
                None | Some("==") | Some("in") => String::new(),
                Some(x) => format!("{x} "),
            };
            // `fib ... oif missing` is `false` in JSON.
            let right = match o.get("right") {
                Some(Value::Bool(false)) => "missing".to_string(),
                Some(Value::Bool(true)) => "exists".to_string(),
                Some(r) => show(r),
                None => String::new(),
            };
            format!(
                "{} {op}{right}",
                o.get("left").map(show).unwrap_or_default(),
            )
        }
        "vmap" => format!(
            "{} vmap {}",
            o.get("key").map(show).unwrap_or_default(),
            o.get("data").map(show).unwrap_or_default()
        ),
        "accept" | "drop" | "return" | "continue" | "reject" | "queue" | "counter" | "notrack"
        | "masquerade" => k.clone(),
        "jump" | "goto" => format!("{k} {}", s(o, "target").unwrap_or("")),
        "log" => match s(o, "prefix") {
            Some(p) => format!("log prefix \"{p}\""),
            None => "log".into(),
        },
        "limit" => format!(
            "limit rate {}{}/{}",
            if o.get("inv").and_then(Value::as_bool) == Some(true) {
                "over "
            } else {
                ""
            },
            o.get("rate").map(show).unwrap_or_default(),
            s(o, "per").unwrap_or("second")
        ),
        "snat" | "dnat" => {
            let port = o
                .get("port")
                .map(|p| format!(":{}", show(p)))
                .unwrap_or_default();
            format!(
                "{k} to {}{port}",
                o.get("addr").map(show).unwrap_or_default()
            )
        }
        "redirect" => match o.get("port") {
            Some(p) => format!("redirect to :{}", show(p)),
            None => "redirect".into(),
        },
        "mangle" => format!(
            "{} set {}",
            o.get("key").map(show).unwrap_or_default(),
            o.get("value").map(show).unwrap_or_default()
        ),
        _ => v.to_string(),
    }
}

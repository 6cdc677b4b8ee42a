//! Reads Kubernetes NetworkPolicy YAML: what `render/src/k8s.rs` writes (one
//! policy per destination party, its pods selected by the label
//! `party.portplan.dev/NAME: member` (earlier output: `portplan.dev/party:
//! NAME`), ingress only, a comment above each policy
//! naming the party and its addresses) and what engineers keep in
//! clusters: several YAML documents (`---`), or a `kind: List` with
//! `items` as `kubectl get networkpolicy -A -o yaml` prints it.
//!
//! Semantics (kubernetes.io, Concepts, "Network Policies"; API reference
//! `networking.k8s.io/v1` NetworkPolicy):
//! - A pod is isolated for ingress when some NetworkPolicy whose
//!   `policyTypes` holds `Ingress` selects it (`spec.podSelector`, in the
//!   policy's namespace; `{}` selects every pod of the namespace). An
//!   isolated pod accepts only what the union of the ingress rules of the
//!   policies selecting it allows; a pod no policy selects accepts
//!   everything. Egress likewise. Policies are additive: there is no order
//!   and no deny rule.
//! - `policyTypes` left out: `Ingress`, plus `Egress` when the policy has
//!   egress rules. `Ingress` listed without ingress rules: deny all.
//! - A rule allows traffic matching one of its peers (`from` / `to`) and
//!   one of its ports; no peers: every source (destination); no ports:
//!   every port. `ingress: [{}]` allows everything.
//! - Peers: `podSelector` (pods of the policy's namespace),
//!   `namespaceSelector` (every pod of the namespaces it selects), both in
//!   one peer (the pods of those namespaces the pod selector matches),
//!   `ipBlock` (`cidr` minus `except`).
//! - Ports: `protocol` TCP (default), UDP or SCTP; `port` a number, a
//!   named port (a name the selected pods' containers give a number: the
//!   policy does not say which, so what it matches is unknown) or left out
//!   (every port); `endPort` makes a range.
//!
//! The model: one `In` and one `Out` filter, protecting "the pods" (no
//! members). The ingress chain holds the Accept rules of every policy that
//! isolates for ingress: one per (policy, rule, port), at the line of the
//! port (of the first peer, or of the rule, when it lists no ports),
//! matching the pods the policy selects as destination and any of the
//! rule's peers as source (one alternative per peer; a peer the reader
//! does not fully understand gets an Accept of its own at its line, so
//! that its doubt does not spread to the other peers). Then one Block rule
//! per ingress-isolating policy, its destination the pods it selects, at
//! the line of its `podSelector`; then the policy "accept" for pods no
//! policy isolates. The egress chain is the mirror image. A pod's traffic
//! with itself is never blocked (where its single address is known), and
//! an alternative never pairs an IPv6 peer with an IPv4 pod.
//!
//! Pods are sets whose addresses the file does not give: symbols, spelled
//! so the user can give their addresses with `--member SYMBOL=ADDRESS,...`:
//! - `pods:NAMESPACE/SELECTOR`: the pods of NAMESPACE that SELECTOR
//!   matches; NAMESPACE is `*` when the policy has no `metadata.namespace`
//!   (it then applies in the namespace it is applied to, which the file
//!   does not say).
//! - `namespace:NSSELECTOR`: every pod of the namespaces NSSELECTOR
//!   matches; `namespace:NSSELECTOR/SELECTOR`: the pods SELECTOR matches
//!   in those namespaces. A namespace selector that only names a namespace
//!   (`kubernetes.io/metadata.name: prod`) is that namespace: `pods:prod/...`.
//! - SELECTOR is `*` for an empty selector (every pod), else kubectl's
//!   label-selector syntax with the requirements sorted: `app=web`,
//!   `tier in (api,web)`, `tier notin (db)`, `canary` (exists), `!canary`
//!   (does not exist), joined by `,`: `pods:prod/app=web,tier in (api,web)`.
//!
//! Exception: above each policy of OUR output, the comment `# bastion-1
//! (10.30.0.40)` gives the addresses of the party whose pods the policy
//! selects (`party.portplan.dev/bastion-1: member`). The reader takes them (it is
//! our documented output) for that policy's selection, and for source
//! `podSelector`s naming that party label, only when the policy is ours
//! (labelled `app.kubernetes.io/managed-by: portplan`) and selects by that
//! one label; otherwise symbols. Where two parties' comments give the same
//! address under the older single-key label, a pod there can carry only
//! one of the two label values: that is an issue, and whether each policy selects the pod at that address is
//! unknown (the party's symbol, `pods:*/portplan.dev/party=NAME`, decides
//! it when given).
//!
//! Assumptions, noted on the ruleset: NetworkPolicy is defined for TCP, UDP
//! and SCTP; what other protocols (ICMP) do at an isolated pod depends on
//! the network plugin, read as most plugins do (blocked, unless a rule
//! without ports allows everything). Traffic from the node a pod runs on
//! (kubelet probes) is always allowed; its addresses are not in the file.
//! Other kinds in the file are skipped with a note; a network policy of
//! another API (Calico, Cilium, AdminNetworkPolicy) is an issue that makes
//! every verdict unknown.

use crate::k8s_yaml::{self, Node, Value};
use crate::model::*;
use crate::space::{Addrs, Names, Ranges};
use crate::words;
use crate::Reader;
use portplan_model::{Diagnostic, Location};
use std::collections::HashMap;

pub struct K8s;

/// The label our renderer selects a party's pods by.
const PARTY: &str = "portplan.dev/party";
/// Our output's party labels since a pod may be in several parties: one
/// key per party, `party.portplan.dev/NAME: member`.
const PARTY_PREFIX: &str = "party.portplan.dev/";

/// The party a selector's one label names in our output: the value of the
/// older single key (`portplan.dev/party: NAME`), or the name in a key of
/// its own (`party.portplan.dev/NAME: member`).
fn party_of(k: &str, v: &str) -> Option<String> {
    if k == PARTY {
        return Some(v.to_string());
    }
    k.strip_prefix(PARTY_PREFIX)
        .filter(|n| !n.is_empty() && v == "member")
        .map(String::from)
}
const MANAGED: &str = "app.kubernetes.io/managed-by";
/// The label the control plane sets on every namespace: its name.
const NS_NAME: &str = "kubernetes.io/metadata.name";

impl Reader for K8s {
    fn name(&self) -> &'static str {
        "k8s"
    }
    fn about(&self) -> &'static str {
        "Kubernetes NetworkPolicy YAML (documents separated by ---, or a List as kubectl get networkpolicy -A -o yaml prints)"
    }
    fn sniff(&self, text: &str) -> u8 {
        let mut kind = false;
        let mut api = false;
        for l in text.lines().take(5000) {
            // YAML, or JSON (`kubectl get -o json`), which is YAML too.
            let t = l.trim().trim_start_matches("- ").replace(['"', '\''], "");
            let t = t.trim().trim_end_matches(',');
            if t == "kind: NetworkPolicy" {
                kind = true;
            }
            if t.starts_with("apiVersion: networking.k8s.io/") {
                api = true;
            }
        }
        match (kind, api) {
            (true, true) => 95,
            (true, false) => 70,
            (false, true) => 50,
            _ => 0,
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

fn located(file: &str, line: usize, column: usize, m: impl Into<String>) -> Diagnostic {
    Diagnostic::error(file, m).at(Some(Location {
        line: line.max(1),
        column: column.max(1),
    }))
}

/// What an object of the file is.
enum Kind {
    Policy,
    /// A network policy of another API (Calico, Cilium, ...).
    Foreign(String),
    Other(String),
}

fn kind_of(obj: &Node) -> Kind {
    let kind = obj.get("kind").and_then(Node::str).unwrap_or("");
    let api = obj.get("apiVersion").and_then(Node::str).unwrap_or("");
    if kind == "NetworkPolicy" && matches!(api, "networking.k8s.io/v1" | "extensions/v1beta1" | "")
    {
        Kind::Policy
    } else if kind.ends_with("NetworkPolicy") || kind.ends_with("NetworkPolicies") {
        Kind::Foreign(format!("{kind} ({api})"))
    } else {
        Kind::Other(format!("{kind} ({api})"))
    }
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let docs = k8s_yaml::documents(text).map_err(|e| {
        located(
            file,
            e.line,
            e.column,
            format!("not valid YAML: {}", e.message),
        )
    })?;
    // The objects: documents, and the items of Lists. `true`: a document of
    // its own (our comment may stand above it).
    let mut objects: Vec<(&Node, bool)> = Vec::new();
    let mut lists = 0;
    for d in &docs {
        match &d.value {
            Value::Null => continue,
            Value::Map(_) => {}
            _ => {
                return Err(located(
                    file,
                    d.line,
                    d.col,
                    format!(
                        "this YAML document is {}: Kubernetes YAML holds objects (mappings with apiVersion and kind)",
                        d.what()
                    ),
                ))
            }
        }
        let Some(kind) = d.get("kind").and_then(Node::str) else {
            return Err(located(
                file,
                d.line,
                d.col,
                "this YAML document has no `kind`: expected a Kubernetes object (kind: NetworkPolicy, or kind: List with items)",
            ));
        };
        if kind.ends_with("List") {
            lists += 1;
            let items = match d.get("items") {
                None => &[][..],
                Some(n) => n.seq().ok_or_else(|| {
                    located(
                        file,
                        n.line,
                        n.col,
                        format!("the items of a {kind} are a list, not {}", n.what()),
                    )
                })?,
            };
            for it in items {
                match &it.value {
                    Value::Null => {}
                    Value::Map(_) if it.get("kind").and_then(Node::str).is_some() => {
                        objects.push((it, false))
                    }
                    _ => {
                        return Err(located(
                            file,
                            it.line,
                            it.col,
                            format!(
                                "an item of the {kind} is {} without `kind`: expected a Kubernetes object",
                                it.what()
                            ),
                        ))
                    }
                }
            }
        } else {
            objects.push((d, true));
        }
    }
    let policies = objects
        .iter()
        .filter(|(o, _)| !matches!(kind_of(o), Kind::Other(_)))
        .count();
    if policies == 0 && lists == 0 && !objects.is_empty() {
        let mut kinds: Vec<&str> = objects
            .iter()
            .filter_map(|(o, _)| o.get("kind").and_then(Node::str))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let found = if kinds.is_empty() {
            "nothing".to_string()
        } else {
            kinds.join(", ")
        };
        return Err(located(
            file,
            objects.first().map_or(1, |(o, _)| o.line),
            1,
            format!("no NetworkPolicy in the file (found {found}): expected kind: NetworkPolicy objects, one per YAML document (---) or as the items of a List"),
        ));
    }
    let mut r = Reading {
        set: Ruleset::new("k8s", file),
        lines: text.lines().collect(),
        parties: HashMap::new(),
        single_key: std::collections::HashSet::new(),
        overlap: HashMap::new(),
        top: [Vec::new(), Vec::new()],
        accepts: [Vec::new(), Vec::new()],
        blocks: [Vec::new(), Vec::new()],
        isolating: None,
    };
    // Our own output first: the parties whose addresses our comments give.
    let mut own: Vec<Option<PartyKey>> = Vec::with_capacity(objects.len());
    for (o, root) in &objects {
        own.push(if *root { r.own_party(o) } else { None });
    }
    r.overlaps();
    for ((o, _), own) in objects.iter().zip(own) {
        match kind_of(o) {
            Kind::Policy => r.policy(o, own),
            Kind::Foreign(what) => {
                let name = name_of(o);
                let k = r.set.issue(
                    o.line,
                    &format!("{what} {name}"),
                    format!("{what} is a network policy of another API, which this reader does not evaluate: it may allow or deny any traffic, so every verdict is unknown"),
                );
                for top in r.top.iter_mut() {
                    top.push(Rule::new(
                        o.line,
                        &format!("{what} {name}"),
                        Action::Unknown(k),
                    ));
                }
            }
            Kind::Other(what) => r.set.note(
                o.line,
                &format!("{what} {}", name_of(o)),
                format!("{what} is not a NetworkPolicy: skipped"),
            ),
        }
    }
    if policies == 0 {
        r.set.note(
            1,
            "",
            "no NetworkPolicy: no pod is isolated, every pod accepts and sends everything",
        );
    }
    Ok(r.finish())
}

fn name_of(o: &Node) -> String {
    let meta = o.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::str)
        .unwrap_or("<unnamed>");
    match meta.and_then(|m| m.get("namespace")).and_then(Node::str) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// A label selector in its canonical spelling.
#[derive(Debug, Default)]
struct Sel {
    /// `*`, or the requirements sorted, joined by `,`.
    text: String,
    /// The only requirement, when it is one `matchLabels` entry.
    only: Option<(String, String)>,
    /// What the API would reject or the reader does not know, with lines.
    bad: Vec<(usize, String)>,
}

impl Sel {
    /// The namespace a namespace selector names, when it only names one.
    fn names_namespace(&self) -> Option<String> {
        let t = self.text.strip_prefix(NS_NAME)?;
        if let Some(v) = t.strip_prefix('=') {
            return (!v.contains(',')).then(|| v.to_string());
        }
        let v = t.strip_prefix(" in (")?.strip_suffix(')')?;
        (!v.contains(',')).then(|| v.to_string())
    }
}

fn scalar_text(n: &Node) -> Option<String> {
    match &n.value {
        Value::Null => Some(String::new()),
        Value::Str { s, .. } => Some(s.clone()),
        _ => None,
    }
}

/// `spec.podSelector`, a peer's `podSelector` or `namespaceSelector`.
fn selector(n: Option<&Node>) -> Sel {
    let mut sel = Sel::default();
    let mut terms: Vec<(String, String)> = Vec::new();
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut exprs = 0;
    if let Some(n) = n.filter(|n| !n.is_null()) {
        match n.map() {
            None => sel.bad.push((
                n.line,
                format!(
                    "a label selector is a mapping (matchLabels, matchExpressions), not {}",
                    n.what()
                ),
            )),
            Some(m) => {
                for e in m {
                    match e.key.as_str() {
                        "matchLabels" => match &e.value.value {
                            Value::Null => {}
                            Value::Map(ls) => {
                                for l in ls {
                                    match scalar_text(&l.value) {
                                        Some(v) => {
                                            terms.push((l.key.clone(), format!("{}={v}", l.key)));
                                            labels.push((l.key.clone(), v));
                                        }
                                        None => sel.bad.push((
                                            l.line,
                                            format!("label `{}` has {} for a value", l.key, l.value.what()),
                                        )),
                                    }
                                }
                            }
                            _ => sel.bad.push((
                                e.line,
                                format!("matchLabels is a mapping, not {}", e.value.what()),
                            )),
                        },
                        "matchExpressions" => match &e.value.value {
                            Value::Null => {}
                            Value::Seq(xs) => {
                                for x in xs {
                                    exprs += 1;
                                    match expression(x) {
                                        Ok(t) => terms.push(t),
                                        Err((t, why)) => {
                                            if let Some(t) = t {
                                                terms.push(t);
                                            }
                                            sel.bad.push((x.line, why));
                                        }
                                    }
                                }
                            }
                            _ => sel.bad.push((
                                e.line,
                                format!("matchExpressions is a list, not {}", e.value.what()),
                            )),
                        },
                        k => sel.bad.push((
                            e.line,
                            format!("`{k}` is not a field of a label selector (matchLabels, matchExpressions)"),
                        )),
                    }
                }
            }
        }
    }
    terms.sort();
    terms.dedup();
    sel.text = if terms.is_empty() {
        "*".into()
    } else {
        terms
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(",")
    };
    if labels.len() == 1 && exprs == 0 {
        sel.only = labels.pop();
    }
    sel
}

/// One `matchExpressions` entry as (key, requirement); on error, the
/// requirement as far as it can be spelled, and why.
#[allow(clippy::type_complexity)]
fn expression(x: &Node) -> Result<(String, String), (Option<(String, String)>, String)> {
    let Some(key) = x.get("key").and_then(Node::str) else {
        return Err((None, "a match expression needs a `key`".into()));
    };
    let op = x.get("operator").and_then(Node::str).unwrap_or("");
    let mut values: Vec<String> = Vec::new();
    let mut bad_value = false;
    match x.get("values") {
        None => {}
        Some(v) => match v.seq() {
            Some(vs) => {
                for v in vs {
                    match scalar_text(v) {
                        Some(s) => values.push(s),
                        None => bad_value = true,
                    }
                }
            }
            None => bad_value = true,
        },
    }
    values.sort();
    values.dedup();
    let list = values.join(",");
    let term = match op {
        "In" => format!("{key} in ({list})"),
        "NotIn" => format!("{key} notin ({list})"),
        "Exists" => key.to_string(),
        "DoesNotExist" => format!("!{key}"),
        _ => {
            let t = format!("{key} {op} ({list})");
            return Err((
                Some((key.to_string(), t)),
                format!("operator `{op}` of key `{key}`: a label selector takes In, NotIn, Exists or DoesNotExist"),
            ));
        }
    };
    let t = (key.to_string(), term);
    if bad_value {
        return Err((
            Some(t),
            format!("the values of key `{key}` are not a list of labels"),
        ));
    }
    match op {
        "In" | "NotIn" if values.is_empty() => Err((
            Some(t),
            format!("operator {op} of key `{key}` needs values (the API rejects it without)"),
        )),
        "Exists" | "DoesNotExist" if !values.is_empty() => Err((
            Some(t),
            format!("operator {op} of key `{key}` takes no values (the API rejects it with)"),
        )),
        _ => Ok(t),
    }
}

fn pods_symbol(ns: Option<&str>, sel: &str) -> String {
    format!("pods:{}/{sel}", ns.unwrap_or("*"))
}

/// A peer or the pods a policy selects: sure addresses, or a symbol.
#[derive(Debug, Clone)]
struct Peer {
    m: AddrMatch,
    line: usize,
    text: String,
    when: Vec<Cond>,
}

#[derive(Debug, Clone)]
struct Port {
    proto: Ranges<u8>,
    dport: Ranges<u16>,
    line: usize,
    text: String,
    when: Vec<Cond>,
}

impl Port {
    fn all(line: usize) -> Port {
        Port {
            proto: Ranges::full(),
            dport: Ranges::full(),
            line,
            text: "all ports".into(),
            when: Vec::new(),
        }
    }
}

/// What one policy gives its rules.
struct Pol<'a> {
    name: &'a str,
    /// `namespace/name`, or the name when the namespace is not said.
    label: &'a str,
    ns: Option<&'a str>,
    selected: &'a AddrMatch,
    /// How the selected pods are named in rule texts.
    pods: &'a str,
    when: &'a [Cond],
}

const DIR: [&str; 2] = ["ingress", "egress"];
const PEERS: [&str; 2] = ["from", "to"];

/// A match with the selected pods on their side (destination of ingress,
/// source of egress) and the peer on the other.
fn side_match(d: usize, selected: &AddrMatch, peer: &AddrMatch) -> Match {
    let mut m = Match::every();
    if d == 0 {
        m.dst = selected.clone();
        m.src = peer.clone();
    } else {
        m.src = selected.clone();
        m.dst = peer.clone();
    }
    m
}

/// Pods at the addresses our comment gives: those, and no DNS name the
/// comment does not list (a name in a plan is a service outside the
/// cluster, as the renderer treats it), so that a flow to a name is not
/// taken for a flow to these pods.
type PartyKey = (Option<String>, String);

/// What isolating the selected pods blocks: everything to (from) them, but
/// a pod's traffic with itself, which no policy can block. That is
/// expressed where a pod's address is known (a single address our comment
/// gives); traffic within a network of pods stays blocked as a whole.
fn isolation(d: usize, selected: &AddrMatch) -> Vec<Match> {
    if !selected.symbols.is_empty() || selected.negated {
        return vec![side_match(d, selected, &AddrMatch::every())];
    }
    let a = &selected.addrs;
    let mut singles = Vec::new();
    for &(lo, hi) in a.v4.spans() {
        if lo == hi {
            singles.push(Addrs {
                v4: Ranges::one(lo),
                ..Addrs::none()
            });
        }
    }
    for &(lo, hi) in a.v6.spans() {
        if lo == hi {
            singles.push(Addrs {
                v6: Ranges::one(lo),
                ..Addrs::none()
            });
        }
    }
    let mut rest = a.clone();
    let mut out = Vec::new();
    for x in singles {
        rest = rest.subtract(&x);
        let mut pod = selected.clone();
        pod.addrs = x.clone();
        out.push(side_match(
            d,
            &pod,
            &AddrMatch::of(Addrs::every().subtract(&x)),
        ));
    }
    if !rest.is_empty() {
        let mut pods = selected.clone();
        pods.addrs = rest;
        out.push(side_match(d, &pods, &AddrMatch::every()));
    }
    out
}

/// A packet is IPv4 or IPv6 end to end: a match whose sides may hold both
/// families is split into one alternative per family, so that it does not
/// claim IPv6 sources to IPv4 pods (a DNS name may be of either family).
fn by_family(m: Match) -> Vec<Match> {
    let fam = |a: &AddrMatch| {
        if a.symbols.is_empty() && !a.negated {
            (!a.addrs.v4.is_empty(), !a.addrs.v6.is_empty())
        } else {
            (true, true)
        }
    };
    let (s4, s6) = fam(&m.src);
    let (d4, d6) = fam(&m.dst);
    if !(s4 && d6 || s6 && d4) {
        return vec![m];
    }
    let mut out = Vec::new();
    for six in [false, true] {
        let keep = |a: &AddrMatch| -> Option<AddrMatch> {
            if a.symbols.is_empty() && !a.negated {
                let mut b = a.clone();
                if six {
                    b.addrs.v4 = Ranges::empty();
                } else {
                    b.addrs.v6 = Ranges::empty();
                }
                (!b.addrs.is_empty()).then_some(b)
            } else {
                let f = if six {
                    Addrs::all_v6()
                } else {
                    Addrs::all_v4()
                };
                Some(a.clone().and(AddrMatch::of(Addrs {
                    names: Names::every(),
                    ..f
                })))
            }
        };
        if let (Some(src), Some(dst)) = (keep(&m.src), keep(&m.dst)) {
            out.push(Match {
                src,
                dst,
                ..m.clone()
            });
        }
    }
    out
}

fn own_match(a: &Addrs) -> AddrMatch {
    let other_names = AddrMatch {
        negated: true,
        ..AddrMatch::of(Addrs {
            names: Names::every().subtract(&a.names),
            ..Addrs::none()
        })
    };
    AddrMatch::of(a.clone()).and(other_names)
}

struct Reading<'t> {
    set: Ruleset,
    lines: Vec<&'t str>,
    /// (namespace, party label value) -> the addresses our comments give,
    /// and the line of the first such comment.
    parties: HashMap<PartyKey, (Addrs, usize)>,
    /// Parties selected by the older single key, whose pods can be in
    /// only one party.
    single_key: std::collections::HashSet<PartyKey>,
    /// Addresses our comments give to a party and to another party of the
    /// same namespace too: a pod carries one value of the party label, so
    /// which of them the pods there carry is unknown.
    overlap: HashMap<PartyKey, Addrs>,
    /// By direction (0 ingress, 1 egress): rules that come first (policies
    /// of other APIs), accepts, blocks.
    top: [Vec<Rule>; 2],
    accepts: [Vec<Rule>; 2],
    blocks: [Vec<Rule>; 2],
    /// The line of the first policy that isolates pods.
    isolating: Option<usize>,
}

impl Reading<'_> {
    /// For a policy of our output (a document of its own, labelled as ours,
    /// selecting by the party label alone), the addresses the comment above
    /// it gives; they are recorded as the party's.
    fn own_party(&mut self, o: &Node) -> Option<PartyKey> {
        if !matches!(kind_of(o), Kind::Policy) {
            return None;
        }
        let meta = o.get("metadata")?;
        let ours = meta
            .get("labels")
            .and_then(|l| l.get(MANAGED))
            .and_then(Node::str)
            == Some("portplan");
        if !ours {
            return None;
        }
        let spec = o.get("spec")?;
        let sel = selector(spec.get("podSelector"));
        let (k, value) = sel.only.filter(|_| sel.bad.is_empty())?;
        let v = party_of(&k, &value)?;
        let (line, comment) = self.comment_above(o.line)?;
        let body = comment.trim_start_matches('#').trim();
        let inner = body.strip_suffix(')')?;
        let open = inner.rfind(" (")?;
        let list = &inner[open + 2..];
        let mut addrs = Addrs::none();
        for part in list.split(',') {
            let part = part.trim();
            let a = if part == "any" {
                Addrs::every()
            } else if let Some(a) = words::addr(part) {
                a
            } else if !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | '_'))
            {
                Addrs::name(part)
            } else {
                self.set.note(
                    line,
                    &comment,
                    format!("`{part}` in the comment above the policy is not an address: the pods of party `{v}` are left to --member"),
                );
                return None;
            };
            addrs = addrs.union(&a);
        }
        let ns = meta.get("namespace").and_then(Node::str).map(String::from);
        self.set.note(
            line,
            &comment,
            format!(
                "the pods labelled `{k}: {value}` are read as {} from portplan's comment above the policy",
                addrs.describe()
            ),
        );
        let key = (ns, v);
        if k == PARTY {
            self.single_key.insert(key.clone());
        }
        let e = self
            .parties
            .entry(key.clone())
            .or_insert_with(|| (Addrs::none(), line));
        e.0 = e.0.union(&addrs);
        Some(key)
    }

    /// Parties of one namespace whose comments give the same addresses.
    fn overlaps(&mut self) {
        // Only the single key ties a pod to one party.
        let mut keys: Vec<&PartyKey> = self
            .parties
            .keys()
            .filter(|k| self.single_key.contains(*k))
            .collect();
        keys.sort();
        let mut found = Vec::new();
        for k in &keys {
            let (a, line) = &self.parties[*k];
            let mut o = Addrs::none();
            let mut others = Vec::new();
            for q in &keys {
                if q == k || q.0 != k.0 {
                    continue;
                }
                let x = a.intersect(&self.parties[*q].0);
                if !x.is_empty() {
                    o = o.union(&x);
                    others.push(format!("`{}`", q.1));
                }
            }
            if !o.is_empty() {
                found.push(((*k).clone(), o, *line, others));
            }
        }
        for (k, o, line, others) in found {
            self.set.issue(
                line,
                &format!("{PARTY}: {}", k.1),
                format!(
                    "the comments above the policies give {} to party `{}` and to {} too, but a pod carries one value of label `{PARTY}`: whether the policy of `{}` selects the pods at {} is unknown",
                    o.describe(),
                    k.1,
                    others.join(", "),
                    k.1,
                    o.describe()
                ),
            );
            self.overlap.insert(k, o);
        }
    }

    /// The pods of a party of our output: the addresses its comment gives,
    /// those another party's comment gives too only maybe.
    fn party_match(&self, key: &PartyKey) -> Option<AddrMatch> {
        let (a, _) = self.parties.get(key)?;
        let sure = own_match(a);
        Some(match self.overlap.get(key) {
            None => sure,
            Some(o) => AddrMatch {
                symbols: vec![pods_symbol(key.0.as_deref(), &format!("{PARTY}={}", key.1))],
                ..AddrMatch::of(a.subtract(o))
            }
            .and(sure),
        })
    }

    /// The comment line right above `line` (blank lines skipped), as
    /// (line, text).
    fn comment_above(&self, line: usize) -> Option<(usize, String)> {
        let mut n = line.checked_sub(1)?;
        while n >= 1 {
            let t = self.lines.get(n - 1)?.trim();
            if t.starts_with('#') {
                return Some((n, t.to_string()));
            }
            if !t.is_empty() {
                return None;
            }
            n -= 1;
        }
        None
    }

    fn policy(&mut self, o: &Node, own: Option<PartyKey>) {
        let meta = o.get("metadata");
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(Node::str)
            .unwrap_or("<unnamed>")
            .to_string();
        let ns = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Node::str)
            .map(String::from);
        let label = name_of(o);
        if o.get("apiVersion").and_then(Node::str) == Some("extensions/v1beta1") {
            self.set.note(
                o.line,
                &format!("NetworkPolicy {label}"),
                "extensions/v1beta1 is the NetworkPolicy API before networking.k8s.io/v1: read with the same meaning",
            );
        }
        if ns.is_none() {
            self.set.note(
                meta.map_or(o.line, |m| m.line),
                &format!("NetworkPolicy {label}"),
                "no metadata.namespace: the policy applies in the namespace it is applied to (kubectl apply -n), which the file does not say; its pods are named `pods:*/...`",
            );
        }
        let Some(spec) = o.get("spec").filter(|s| s.map().is_some()) else {
            let k = self.set.issue(
                o.line,
                &format!("NetworkPolicy {label}"),
                "the policy has no spec (a mapping): what it selects and allows is unknown",
            );
            for top in self.top.iter_mut() {
                top.push(Rule::new(
                    o.line,
                    &format!("NetworkPolicy {label}"),
                    Action::Unknown(k),
                ));
            }
            return;
        };
        let mut when: Vec<Cond> = Vec::new();
        for e in spec.map().unwrap_or_default() {
            if !matches!(
                e.key.as_str(),
                "podSelector" | "policyTypes" | "ingress" | "egress"
            ) {
                let k = self.set.issue(
                    e.line,
                    &e.key,
                    format!(
                        "`spec.{}` is not a NetworkPolicy field: what it does is unknown",
                        e.key
                    ),
                );
                when.push(Cond::Unknown(k));
            }
        }
        let sel_line = spec.entry("podSelector").map_or(spec.line, |e| e.line);
        if spec.entry("podSelector").is_none() {
            self.set.note(
                spec.line,
                &format!("NetworkPolicy {label}"),
                "no spec.podSelector: read as `{}`, every pod of the namespace",
            );
        }
        let sel = selector(spec.get("podSelector"));
        for (line, why) in &sel.bad {
            let k = self.set.issue(*line, &sel.text, why.clone());
            when.push(Cond::Unknown(k));
        }
        let pods = pods_symbol(ns.as_deref(), &sel.text);
        let selected = own
            .and_then(|k| self.party_match(&k))
            .unwrap_or_else(|| AddrMatch::symbol(pods.clone()));
        let rules_of = |d: usize| spec.entry(DIR[d]);
        let egress_rules = match rules_of(1).map(|e| &e.value.value) {
            None | Some(Value::Null) => false,
            Some(Value::Seq(v)) => !v.is_empty(),
            Some(_) => true,
        };
        let mut types = [true, egress_rules];
        if let Some(pt) = spec.get("policyTypes") {
            match pt.seq() {
                Some([]) => {}
                Some(items) => {
                    types = [false, false];
                    for it in items {
                        match it.str() {
                            Some("Ingress") => types[0] = true,
                            Some("Egress") => types[1] = true,
                            _ => {
                                let t = it.str().unwrap_or("");
                                let k = self.set.issue(
                                    it.line,
                                    t,
                                    format!(
                                        "policy type `{t}`: NetworkPolicy knows Ingress and Egress"
                                    ),
                                );
                                when.push(Cond::Unknown(k));
                            }
                        }
                    }
                }
                None => {
                    let k = self.set.issue(
                        pt.line,
                        "policyTypes",
                        format!("policyTypes is a list (Ingress, Egress), not {}", pt.what()),
                    );
                    when.push(Cond::Unknown(k));
                }
            }
        }
        let pol = Pol {
            name: &name,
            label: &label,
            ns: ns.as_deref(),
            selected: &selected,
            pods: &pods,
            when: &when,
        };
        for (d, on) in types.into_iter().enumerate() {
            let rules = rules_of(d);
            if !on {
                if let Some(e) = rules.filter(|e| !e.value.is_null()) {
                    self.set.note(
                        e.line,
                        DIR[d],
                        format!(
                            "policyTypes does not list {}: these rules do not apply",
                            if d == 0 { "Ingress" } else { "Egress" }
                        ),
                    );
                }
                continue;
            }
            self.isolating.get_or_insert(o.line);
            match rules.map(|e| (&e.value, e.line)) {
                None => {}
                Some((v, _)) if v.is_null() => {}
                Some((v, _)) if v.seq().is_some() => {
                    for (i, item) in v.seq().unwrap_or_default().iter().enumerate() {
                        self.rule(d, &pol, item, i);
                    }
                }
                Some((v, line)) => {
                    let k = self.set.issue(
                        line,
                        DIR[d],
                        format!("spec.{} is a list of rules, not {}", DIR[d], v.what()),
                    );
                    self.unknown_accept(d, &pol, line, k);
                }
            }
            self.block(d, &pol, sel_line);
        }
    }

    /// An Accept rule for the selected pods whose match is not known.
    fn unknown_accept(&mut self, d: usize, pol: &Pol, line: usize, k: usize) {
        let mut r = Rule::new(
            line,
            &format!("{} {}: not understood", pol.label, DIR[d]),
            Action::Accept,
        );
        r.label = Some(pol.name.to_string());
        r.matches = vec![side_match(d, pol.selected, &AddrMatch::every())];
        r.when = pol.when.to_vec();
        r.when.push(Cond::Unknown(k));
        self.accepts[d].push(r);
    }

    /// The isolation of the pods a policy selects.
    fn block(&mut self, d: usize, pol: &Pol, line: usize) {
        // Pods an earlier policy isolates already: the same isolation.
        let dup = self.blocks[d].iter().any(|b| {
            b.when.is_empty()
                && pol.when.is_empty()
                && b.matches.iter().any(|m| {
                    let side = if d == 0 { &m.dst } else { &m.src };
                    side == pol.selected
                })
        });
        if dup {
            return;
        }
        let mut r = Rule::new(
            line,
            &format!(
                "{}: {} isolated for {}: only what the {} rules of the policies selecting them allow",
                pol.label, pol.pods, DIR[d], DIR[d]
            ),
            Action::Block,
        );
        r.label = Some(pol.name.to_string());
        r.matches = isolation(d, pol.selected);
        r.when = pol.when.to_vec();
        // The policy implies this block; the file writes no such rule.
        r.implied = true;
        self.blocks[d].push(r);
    }

    /// One ingress (egress) rule: an Accept per (peer, port).
    fn rule(&mut self, d: usize, pol: &Pol, item: &Node, i: usize) {
        let mut when = pol.when.to_vec();
        let what = format!("{} {}[{i}]", pol.label, DIR[d]);
        match &item.value {
            Value::Null | Value::Map(_) => {}
            _ => {
                let k = self.set.issue(
                    item.line,
                    &what,
                    format!(
                        "a rule is a mapping ({}, ports), not {}",
                        PEERS[d],
                        item.what()
                    ),
                );
                self.unknown_accept(d, pol, item.line, k);
                return;
            }
        }
        for e in item.map().unwrap_or_default() {
            if e.key != PEERS[d] && e.key != "ports" {
                let k = self.set.issue(
                    e.line,
                    &e.key,
                    format!(
                        "`{}` is not a field of an {} rule ({}, ports): what it does is unknown",
                        e.key, DIR[d], PEERS[d]
                    ),
                );
                when.push(Cond::Unknown(k));
            }
        }
        let peers: Vec<Peer> = match item.get(PEERS[d]) {
            None => Vec::new(),
            Some(n) => match n.seq() {
                Some(v) => v.iter().map(|p| self.peer(p, pol.ns)).collect(),
                None => {
                    let k = self.set.issue(
                        n.line,
                        PEERS[d],
                        format!("`{}` is a list of peers, not {}", PEERS[d], n.what()),
                    );
                    vec![Peer {
                        m: AddrMatch::every(),
                        line: n.line,
                        text: "peers not understood".into(),
                        when: vec![Cond::Unknown(k)],
                    }]
                }
            },
        };
        let ports: Vec<Port> = match item.get("ports") {
            None => Vec::new(),
            Some(n) => match n.seq() {
                Some(v) => v.iter().map(|p| self.port(p)).collect(),
                None => {
                    let k = self.set.issue(
                        n.line,
                        "ports",
                        format!("`ports` is a list, not {}", n.what()),
                    );
                    let mut p = Port::all(n.line);
                    p.when.push(Cond::Unknown(k));
                    vec![p]
                }
            },
        };
        let any_peer = peers.is_empty();
        let ports = if ports.is_empty() {
            vec![Port::all(item.line)]
        } else {
            ports
        };
        let peers = if any_peer {
            vec![Peer {
                m: AddrMatch::every(),
                line: item.line,
                text: if d == 0 {
                    "every source".into()
                } else {
                    "every destination".into()
                },
                when: Vec::new(),
            }]
        } else {
            peers
        };
        // One Accept per port, at the port's line (at the rule's when it
        // lists no ports), matching any of its peers. A peer the reader
        // does not fully understand gets an Accept of its own, at its
        // line, so that its doubt does not spread to the other peers.
        let (clean, doubtful): (Vec<&Peer>, Vec<&Peer>) =
            peers.iter().partition(|p| p.when.is_empty());
        let groups: Vec<(usize, Vec<&Peer>)> = std::iter::once((0, clean))
            .chain(doubtful.into_iter().map(|p| (p.line, vec![p])))
            .filter(|(_, g)| !g.is_empty())
            .collect();
        for port in &ports {
            for (peer_line, group) in &groups {
                let line = if *peer_line > 0 {
                    *peer_line
                } else if port.line != item.line || any_peer {
                    port.line
                } else {
                    group.first().map_or(item.line, |p| p.line)
                };
                let texts: Vec<&str> = group.iter().map(|p| p.text.as_str()).collect();
                let mut r = Rule::new(
                    line,
                    &format!(
                        "{what}: {} {} {} {}; {}",
                        if d == 0 { "to" } else { "from" },
                        pol.pods,
                        PEERS[d],
                        texts.join(", "),
                        port.text
                    ),
                    Action::Accept,
                );
                r.label = Some(pol.name.to_string());
                r.matches = group
                    .iter()
                    .flat_map(|peer| {
                        let mut m = side_match(d, pol.selected, &peer.m);
                        m.proto = port.proto.clone();
                        m.dport = port.dport.clone();
                        by_family(m)
                    })
                    .collect();
                r.when = when.clone();
                for peer in group {
                    r.when.extend(peer.when.iter().cloned());
                }
                r.when.extend(port.when.iter().cloned());
                self.accepts[d].push(r);
            }
        }
    }

    fn peer(&mut self, n: &Node, ns: Option<&str>) -> Peer {
        let mut p = Peer {
            m: AddrMatch::every(),
            line: n.line,
            text: String::new(),
            when: Vec::new(),
        };
        let Some(map) = n.map() else {
            let k = self.set.issue(
                n.line,
                "",
                format!(
                    "a peer is a mapping (podSelector, namespaceSelector, ipBlock), not {}",
                    n.what()
                ),
            );
            p.text = "peer not understood".into();
            p.when.push(Cond::Unknown(k));
            return p;
        };
        for e in map {
            if !matches!(
                e.key.as_str(),
                "podSelector" | "namespaceSelector" | "ipBlock"
            ) {
                let k = self.set.issue(
                    e.line,
                    &e.key,
                    format!("`{}` is not a kind of peer (podSelector, namespaceSelector, ipBlock): what it matches is unknown", e.key),
                );
                p.when.push(Cond::Unknown(k));
            }
        }
        let pods = n.get("podSelector");
        let nss = n.get("namespaceSelector");
        if let Some(ib) = n.get("ipBlock") {
            if pods.is_some() || nss.is_some() {
                let k = self.set.issue(
                    n.line,
                    "ipBlock",
                    "a peer with an ipBlock and a selector: the API rejects it (one kind of peer per entry)",
                );
                p.when.push(Cond::Unknown(k));
            }
            self.ip_block(ib, &mut p);
            return p;
        }
        let psel = pods.map(|s| selector(Some(s)));
        let nsel = nss.map(|s| selector(Some(s)));
        for s in psel.iter().chain(nsel.iter()) {
            for (line, why) in &s.bad {
                let k = self.set.issue(*line, &s.text, why.clone());
                p.when.push(Cond::Unknown(k));
            }
        }
        match (psel, nsel) {
            (None, None) => {
                let k = self.set.issue(
                    n.line,
                    "",
                    "a peer without podSelector, namespaceSelector or ipBlock: the API rejects it",
                );
                p.text = "empty peer".into();
                p.when.push(Cond::Unknown(k));
            }
            (Some(ps), None) => {
                let own = ps
                    .only
                    .as_ref()
                    .and_then(|(k, v)| party_of(k, v))
                    .and_then(|v| {
                        let key = (ns.map(String::from), v);
                        let m = self.party_match(&key)?;
                        Some((m, self.parties.get(&key)?.0.describe()))
                    });
                match own {
                    Some((m, shown)) => {
                        p.m = m;
                        p.text = format!("podSelector {} ({shown})", ps.text);
                    }
                    None => {
                        let s = pods_symbol(ns, &ps.text);
                        p.text = s.clone();
                        p.m = AddrMatch::symbol(s);
                    }
                }
            }
            (ps, Some(nsel)) => {
                let s = match nsel.names_namespace() {
                    Some(name) => {
                        pods_symbol(Some(&name), ps.as_ref().map_or("*", |s| s.text.as_str()))
                    }
                    None => match &ps {
                        Some(ps) => format!("namespace:{}/{}", nsel.text, ps.text),
                        None => format!("namespace:{}", nsel.text),
                    },
                };
                p.text = s.clone();
                p.m = AddrMatch::symbol(s);
            }
        }
        p
    }

    fn ip_block(&mut self, ib: &Node, p: &mut Peer) {
        let mut addrs;
        let mut text = String::from("ipBlock");
        for e in ib.map().unwrap_or_default() {
            if e.key != "cidr" && e.key != "except" {
                let k = self.set.issue(
                    e.line,
                    &e.key,
                    format!("`{}` is not a field of an ipBlock (cidr, except)", e.key),
                );
                p.when.push(Cond::Unknown(k));
            }
        }
        match ib
            .get("cidr")
            .and_then(Node::str)
            .and_then(|c| words::addr(c).map(|a| (c, a)))
        {
            Some((c, a)) => {
                addrs = a;
                text.push(' ');
                text.push_str(c);
            }
            None => {
                let c = ib.get("cidr").and_then(Node::str).unwrap_or("");
                let k = self.set.issue(
                    ib.entry("cidr").map_or(ib.line, |e| e.line),
                    c,
                    format!("ipBlock cidr `{c}` is not a CIDR (10.0.0.0/8, 2001:db8::/32)"),
                );
                p.when.push(Cond::Unknown(k));
                addrs = Addrs::every();
                text.push_str(" (cidr not understood)");
            }
        }
        if let Some(ex) = ib.get("except") {
            let items = ex.seq().unwrap_or_default();
            if ex.seq().is_none() {
                let k = self.set.issue(
                    ex.line,
                    "except",
                    format!("ipBlock except is a list of CIDRs, not {}", ex.what()),
                );
                p.when.push(Cond::Unknown(k));
            }
            let mut shown = Vec::new();
            for x in items {
                match x.str().and_then(words::addr) {
                    Some(a) => {
                        addrs = addrs.subtract(&a);
                        shown.push(x.str().unwrap_or_default().to_string());
                    }
                    None => {
                        let t = x.str().unwrap_or("");
                        let k = self.set.issue(
                            x.line,
                            t,
                            format!("ipBlock except `{t}` is not a CIDR: what the block leaves out is unknown"),
                        );
                        p.when.push(Cond::Unknown(k));
                    }
                }
            }
            if !shown.is_empty() {
                text.push_str(" except ");
                text.push_str(&shown.join(", "));
            }
        }
        p.m = AddrMatch::of(addrs);
        p.text = text;
    }

    fn port(&mut self, n: &Node) -> Port {
        let mut p = Port {
            proto: Ranges::one(6),
            dport: Ranges::full(),
            // The line that names the port, where there is one.
            line: n.entry("port").map_or(n.line, |e| e.line),
            text: String::new(),
            when: Vec::new(),
        };
        if n.is_null() {
            p.text = "TCP all ports".into();
            return p;
        }
        let Some(map) = n.map() else {
            let k = self.set.issue(
                n.line,
                "",
                format!(
                    "a port is a mapping (protocol, port, endPort), not {}",
                    n.what()
                ),
            );
            p.when.push(Cond::Unknown(k));
            p.proto = Ranges::full();
            p.text = "port not understood".into();
            return p;
        };
        for e in map {
            if !matches!(e.key.as_str(), "protocol" | "port" | "endPort") {
                let k = self.set.issue(
                    e.line,
                    &e.key,
                    format!(
                        "`{}` is not a field of a port (protocol, port, endPort)",
                        e.key
                    ),
                );
                p.when.push(Cond::Unknown(k));
            }
        }
        let proto = n.get("protocol").and_then(Node::str).unwrap_or("TCP");
        match proto {
            "TCP" => p.proto = Ranges::one(6),
            "UDP" => p.proto = Ranges::one(17),
            "SCTP" => p.proto = Ranges::one(132),
            other => {
                let k = self.set.issue(
                    n.line,
                    other,
                    format!("protocol `{other}`: NetworkPolicy takes TCP, UDP or SCTP"),
                );
                p.when.push(Cond::Unknown(k));
                p.proto = Ranges::full();
            }
        }
        let number = |v: &Node| -> Option<u16> {
            match &v.value {
                Value::Str { s, plain: true } => s.parse::<u16>().ok().filter(|&x| x > 0),
                _ => None,
            }
        };
        let port = n.get("port");
        let start = port.and_then(number);
        match (port, start) {
            (None, _) => p.text = format!("{proto} all ports"),
            (Some(_), Some(a)) => {
                p.dport = Ranges::one(a);
                p.text = format!("{proto} {a}");
            }
            (Some(v), None) => {
                let t = v.str().unwrap_or("");
                let named = matches!(&v.value, Value::Str { plain: false, .. })
                    || t.starts_with(|c: char| c.is_ascii_alphabetic());
                let why = if named {
                    format!("named port `{t}`: its number is the one the selected pods' containers give that name, which the policy does not say")
                } else {
                    format!("port `{t}` is not a port number (1-65535) or a port name")
                };
                let k = self.set.issue(v.line, t, why);
                p.when.push(Cond::Unknown(k));
                p.text = format!("{proto} port named {t}");
            }
        }
        if let Some(e) = n.get("endPort") {
            match (start, number(e)) {
                (Some(a), Some(b)) if b >= a => {
                    p.dport = Ranges::range(a, b);
                    p.text = format!("{proto} {a}-{b}");
                }
                _ => {
                    let t = e.str().unwrap_or("");
                    let k = self.set.issue(
                        e.line,
                        t,
                        "endPort needs a numeric port no greater than it (the API rejects it otherwise)",
                    );
                    p.when.push(Cond::Unknown(k));
                    p.dport = Ranges::full();
                }
            }
        }
        p
    }

    fn finish(mut self) -> Ruleset {
        if let Some(line) = self.isolating {
            self.set.note(
                line,
                "",
                "NetworkPolicy is defined for TCP, UDP and SCTP; ICMP and other protocols at an isolated pod depend on the network plugin: read as most plugins do (blocked unless a rule without ports allows everything)",
            );
            self.set.note(
                line,
                "",
                "traffic from the node a pod runs on (kubelet probes) is always allowed; the node addresses are not in the file",
            );
        }
        for (d, dir_name) in DIR.into_iter().enumerate() {
            let name = format!("k8s {dir_name}");
            let c = self.set.chain(
                name.clone(),
                1,
                End::Policy {
                    accept: true,
                    line: 0,
                    text: format!(
                        "pods no NetworkPolicy isolates for {dir_name} accept all traffic"
                    ),
                },
            );
            let mut rules = std::mem::take(&mut self.top[d]);
            rules.append(&mut self.accepts[d]);
            rules.append(&mut self.blocks[d]);
            self.set.chains[c].rules = rules;
            let dir = if d == 0 {
                Direction::In
            } else {
                Direction::Out
            };
            self.set
                .filters
                .push(Filter::new(name, dir, Families::BOTH, c));
        }
        self.set
    }
}

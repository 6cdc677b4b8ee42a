//! Reads Junos `set` configuration: what `render/src/junos.rs` writes (SRX
//! global security policies, a global address book, applications) and
//! `show configuration | display set` output of SRX, EX and MX devices.
//!
//! Semantics (Juniper, Security Policies User Guide: "Security Policies
//! Overview", "Global Policies", "Configuring Security Policies"; Routing
//! Policies, Firewall Filters and Traffic Policers User Guide: "How
//! Standard Firewall Filters Evaluate Packets"):
//! - Security policies (SRX, stateful): a new session from zone A to zone B
//!   is matched against the A-to-B policies in order, then the global
//!   policies in order, then the default policy (`deny-all` unless
//!   `default-policy permit-all`). Order is the order policies are first
//!   defined. Zones are symbols (`zone:NAME`): a policy's from-zone is a
//!   condition on the source, its to-zone on the destination.
//! - Stateless firewall filters: terms in order, the first term whose
//!   conditions all hold decides (`accept`, `discard`, `reject`); `next term`
//!   goes on; a term without a terminating action accepts; a packet no term
//!   decides is discarded. A filter applies where an interface unit binds it
//!   (`family inet filter input F`): input judges traffic arriving from
//!   behind the interface (`interface:ge-0/0/0.0` on the source), output
//!   traffic leaving through it. A filter on `lo0` protects the device
//!   itself (`zone:junos-host`).
//! - Deactivated statements (`deactivate ...`, `inactive:`) are in the
//!   configuration but not in effect: a deactivated policy or term never
//!   matches.

use crate::junos_apps::{self as apps, Alg};
use crate::model::*;
use crate::set_config::{self, err, Budget};
use crate::space::{self, Addrs, Ranges};
use crate::words;
use crate::Reader;
use ipnet::IpNet;
use portplan_model::Diagnostic;
use std::collections::{BTreeMap, HashMap};

pub struct Junos;

impl Reader for Junos {
    fn name(&self) -> &'static str {
        "junos"
    }
    fn about(&self) -> &'static str {
        "Junos `show configuration | display set`: security policies, firewall filters"
    }
    fn sniff(&self, text: &str) -> u8 {
        let mut score = 0;
        for l in text.lines().take(400) {
            let l = l.trim();
            if l.starts_with("set security policies ")
                || l.starts_with("set security zones ")
                || l.starts_with("set security address-book ")
            {
                return 95;
            }
            if l.starts_with("set firewall ")
                || l.starts_with("set applications application")
                || (l.starts_with("set interfaces ") && l.contains(" unit "))
                || l.starts_with("set system host-name ")
            {
                score = score.max(85);
            }
            if l.starts_with("set version ") {
                score = score.max(60);
            }
        }
        score
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Read::new(file).run(text)
    }
}

/// One `set` statement: its line, its words after `set`, and whether a
/// `deactivate` covers it (the length of the deactivated path).
struct Stmt {
    n: usize,
    text: String,
    w: Vec<String>,
    off: Option<(usize, usize)>,
}

#[derive(Default)]
struct Book {
    addrs: HashMap<String, (usize, Result<Addrs, String>)>,
    sets: HashMap<String, Vec<(bool, String)>>,
}

#[derive(Default)]
struct AppTerm {
    proto: Option<String>,
    dport: Option<String>,
    sport: Option<String>,
    icmp: Option<String>,
    alg: Option<String>,
    odd: Vec<String>,
}

#[derive(Default)]
struct AppDef {
    /// Terms by name, in order; `""` is the application's own statements.
    terms: Vec<(String, AppTerm)>,
}

impl AppDef {
    fn term(&mut self, name: &str) -> &mut AppTerm {
        let i = match self.terms.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.terms.push((name.to_string(), AppTerm::default()));
                self.terms.len() - 1
            }
        };
        &mut self.terms[i].1
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    Permit,
    Deny,
}

struct Policy {
    /// `(from, to)` for a zone-pair policy, `None` for a global one.
    ctx: Option<(String, String)>,
    name: String,
    line: usize,
    text: String,
    src: Vec<String>,
    dst: Vec<String>,
    apps: Vec<String>,
    src_excl: bool,
    dst_excl: bool,
    from_zones: Vec<String>,
    to_zones: Vec<String>,
    then: Option<Then>,
    odd: Vec<String>,
    notes: Vec<String>,
    off: Option<usize>,
}

#[derive(Clone)]
struct FTerm {
    name: String,
    line: usize,
    text: String,
    from: Vec<(usize, Vec<String>)>,
    then: Vec<Vec<String>>,
    jump: Option<String>,
    off: Option<usize>,
}

struct FDef {
    line: usize,
    terms: Vec<FTerm>,
    odd: Vec<(usize, String)>,
}

/// A prefix-list entry: its line and prefix (or why it is not one).
type PrefixEntry = (usize, Result<IpNet, String>);

struct Binding {
    line: usize,
    text: String,
    ifname: String,
    family: String,
    output: bool,
    filters: Vec<String>,
}

struct Read {
    file: String,
    set: Ruleset,
    books: HashMap<String, Book>,
    /// Named address books attached to zones: zone -> books.
    attached: HashMap<String, Vec<String>>,
    apps: HashMap<String, AppDef>,
    app_sets: HashMap<String, Vec<(bool, String)>>,
    policies: Vec<Policy>,
    policy_ix: HashMap<(Option<(String, String)>, String), usize>,
    default: Option<(usize, String, bool)>,
    srx: bool,
    zones: BTreeMap<String, (usize, Vec<String>)>,
    filters: HashMap<(String, String), FDef>,
    prefix_lists: HashMap<String, Vec<PrefixEntry>>,
    bindings: Vec<Binding>,
    group_policies: Vec<(usize, String)>,
    nat_sets: Vec<String>,
    /// Steps left to resolve one policy's sets (nested sets can repeat).
    budget: Budget,
}

/// How many set members one policy may resolve (nested sets that name the
/// same sets again and again grow without bound).
const BUDGET: u32 = 200_000;

/// The words of a list value: `[ a b ]` or `a`.
fn values(w: &[String]) -> Vec<String> {
    w.iter()
        .filter(|x| x.as_str() != "[" && x.as_str() != "]")
        .map(|x| x.trim_matches(|c| c == '[' || c == ']').to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

impl Read {
    fn new(file: &str) -> Self {
        Read {
            file: file.to_string(),
            set: Ruleset::new("junos", file),
            books: HashMap::new(),
            attached: HashMap::new(),
            apps: HashMap::new(),
            app_sets: HashMap::new(),
            policies: Vec::new(),
            policy_ix: HashMap::new(),
            default: None,
            srx: false,
            zones: BTreeMap::new(),
            filters: HashMap::new(),
            prefix_lists: HashMap::new(),
            bindings: Vec::new(),
            group_policies: Vec::new(),
            nat_sets: Vec::new(),
            budget: Budget::default(),
        }
    }

    fn run(mut self, text: &str) -> Result<Ruleset, Diagnostic> {
        let stmts = self.lines(text)?;
        for s in &stmts {
            self.statement(s)?;
        }
        self.build();
        Ok(self.set)
    }

    /// The `set` statements, with `deactivate` paths applied.
    fn lines(&mut self, text: &str) -> Result<Vec<Stmt>, Diagnostic> {
        let mut stmts = Vec::new();
        let mut off: HashMap<Vec<String>, usize> = HashMap::new();
        let mut content = false;
        let mut comments = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let l = raw.trim();
            comments |= l.starts_with('#');
            // Comments, the commit banner, CLI prompts and markers a
            // terminal capture carries around the configuration.
            if l.is_empty()
                || l.starts_with('#')
                || l.starts_with("/*")
                || l.starts_with('{')
                || l.starts_with("[edit")
                || l.contains("> show configuration")
                || l.contains("> show config")
                || l.ends_with("| display set")
                || l.ends_with("| display set | no-more")
            {
                continue;
            }
            let mut w =
                set_config::statement(&self.file, n, l, "`show configuration | display set`")?;
            let verb = w.first().cloned().unwrap_or_default();
            match verb.as_str() {
                "set" | "deactivate" => {
                    w.remove(0);
                    if w.is_empty() {
                        return Err(err(&self.file, n, format!("`{l}` names no statement")));
                    }
                    // `inactive:` before an element deactivates it.
                    while let Some(k) = w.iter().position(|x| x == "inactive:") {
                        w.remove(k);
                        let end = (k + 2).min(w.len());
                        off.entry(w[..end].to_vec()).or_insert(n);
                    }
                    if verb == "deactivate" {
                        off.entry(w).or_insert(n);
                    } else {
                        stmts.push(Stmt {
                            n,
                            text: l.to_string(),
                            w,
                            off: None,
                        });
                    }
                    content = true;
                }
                "activate" | "protect" | "unprotect" | "annotate" => {
                    content = true;
                }
                "delete" | "insert" | "rename" | "copy" | "replace" => {
                    self.set.issue(
                        n,
                        l,
                        format!("`{verb}` edits a configuration; this reader reads `show configuration | display set` output and does not apply it"),
                    );
                    content = true;
                }
                _ if !content => {
                    return Err(err(
                        &self.file,
                        n,
                        format!("`{}` is not Junos `display set` output: expected lines starting with `set` (show configuration | display set)", crate::model::cut(l, 60)),
                    ));
                }
                _ => {
                    self.set
                        .issue(n, l, "not a `set` or `deactivate` statement: not read");
                }
            }
        }
        if !content {
            if !comments {
                return Err(Diagnostic::error(
                    &self.file,
                    "no `set` statement found: Junos configuration is read as `show configuration | display set` output",
                ));
            }
            self.set.note(
                1,
                "",
                "the file holds comments and no statement: nothing is configured",
            );
        }
        if !off.is_empty() {
            for s in &mut stmts {
                for k in 1..=s.w.len() {
                    if let Some(&line) = off.get(&s.w[..k]) {
                        s.off = Some((k, line));
                        break;
                    }
                }
            }
        }
        Ok(stmts)
    }

    fn need<'a>(&self, s: &'a Stmt, i: usize, what: &str) -> Result<&'a str, Diagnostic> {
        s.w.get(i).map(String::as_str).ok_or_else(|| {
            err(
                &self.file,
                s.n,
                format!("`{}` stops before {what}", crate::model::cut(&s.text, 120)),
            )
        })
    }

    fn statement(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        let w: Vec<&str> = s.w.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["security", "policies", ..] => {
                self.srx = true;
                self.policy(s)
            }
            ["security", "zones", "security-zone", ..] => {
                self.srx = true;
                self.zone(s)
            }
            ["security", "address-book", ..] => self.book(s),
            ["security", "nat", kind @ ("destination" | "static"), "rule-set", rs, ..] => {
                let key = format!("{kind} {rs}");
                if s.off.is_none() && !self.nat_sets.contains(&key) {
                    self.nat_sets.push(key);
                    self.set.issue(
                        s.n,
                        &s.text,
                        format!("{kind} NAT rule-set {rs} rewrites destinations before the policies see them: flows to the original addresses are judged as if not translated"),
                    );
                }
                Ok(())
            }
            ["applications", ..] => self.application(s),
            ["firewall", ..] => self.firewall(s),
            ["policy-options", "prefix-list", ..] => self.prefix_list(s),
            ["interfaces", ..] => self.interface(s),
            ["groups", g, rest @ ..] => {
                let touches = matches!(
                    rest,
                    ["security", "policies", ..]
                        | ["security", "address-book", ..]
                        | ["security", "zones", ..]
                        | ["firewall", ..]
                        | ["applications", ..]
                ) || (rest.first() == Some(&"interfaces")
                    && rest.contains(&"filter"));
                if touches && !self.group_policies.iter().any(|(_, x)| x == g) {
                    self.group_policies.push((s.n, g.to_string()));
                }
                Ok(())
            }
            ["logical-systems", ls, ..] | ["tenants", ls, ..] => {
                if w.contains(&"policies") || w.contains(&"firewall") {
                    let ls = ls.to_string();
                    if !self
                        .set
                        .issues
                        .iter()
                        .any(|i| i.message.contains(&format!("`{ls}`")))
                    {
                        self.set.issue(
                            s.n,
                            &s.text,
                            format!("logical system or tenant `{ls}` has its own policies, which this reader does not read: audit it from its own export"),
                        );
                    }
                }
                Ok(())
            }
            // System, protocols, routing, SNMP, host-inbound services and
            // the rest do not decide which transit flows pass.
            _ => Ok(()),
        }
    }

    // ---- security policies ----

    fn policy(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        let w = &s.w;
        let (ctx, name, rest, path_len) = match w.get(2).map(String::as_str) {
            Some("from-zone") => {
                let from = self.need(s, 3, "the from-zone name")?.to_string();
                if w.get(4).map(String::as_str) != Some("to-zone") {
                    return Err(err(
                        &self.file,
                        s.n,
                        format!("`{}`: expected `to-zone ZONE` after the from-zone", s.text),
                    ));
                }
                let to = self.need(s, 5, "the to-zone name")?.to_string();
                match w.get(6).map(String::as_str) {
                    Some("policy") => {}
                    None => return Ok(()),
                    Some(x) => {
                        self.set.issue(
                            s.n,
                            &s.text,
                            format!("`{x}` in a zone pair's policies is not read"),
                        );
                        return Ok(());
                    }
                }
                let name = self.need(s, 7, "the policy name")?.to_string();
                (Some((from, to)), name, &w[8..], 8)
            }
            Some("global") => {
                match w.get(3).map(String::as_str) {
                    Some("policy") => {}
                    None => return Ok(()),
                    Some(x) => {
                        self.set.issue(
                            s.n,
                            &s.text,
                            format!("`{x}` in the global policies is not read"),
                        );
                        return Ok(());
                    }
                }
                let name = self.need(s, 4, "the policy name")?.to_string();
                (None, name, &w[5..], 5)
            }
            Some("default-policy") => {
                let v = self.need(s, 3, "permit-all or deny-all")?;
                let accept = match v {
                    "permit-all" => true,
                    "deny-all" => false,
                    x => {
                        return Err(err(
                            &self.file,
                            s.n,
                            format!("default-policy `{x}`: expected permit-all or deny-all"),
                        ))
                    }
                };
                if s.off.is_none() {
                    self.default = Some((s.n, s.text.clone(), accept));
                }
                return Ok(());
            }
            // Session re-evaluation after a policy change, the pre-ID
            // default policy (for traffic whose dynamic application is not
            // known yet, which this reader never matches on) and other
            // settings do not change which new sessions a policy permits.
            _ => return Ok(()),
        };
        let key = (ctx.clone(), name.clone());
        let ix = match self.policy_ix.get(&key) {
            Some(&i) => i,
            None => {
                self.policies.push(Policy {
                    ctx,
                    name: name.clone(),
                    line: s.n,
                    text: s.text.clone(),
                    src: Vec::new(),
                    dst: Vec::new(),
                    apps: Vec::new(),
                    src_excl: false,
                    dst_excl: false,
                    from_zones: Vec::new(),
                    to_zones: Vec::new(),
                    then: None,
                    odd: Vec::new(),
                    notes: Vec::new(),
                    off: None,
                });
                self.policy_ix.insert(key, self.policies.len() - 1);
                self.policies.len() - 1
            }
        };
        if let Some((k, line)) = s.off {
            if k <= path_len {
                if let Some(p) = self.policies.get_mut(ix) {
                    p.off.get_or_insert(line);
                }
                return Ok(());
            }
            // A deactivated part of the policy (one address, the action).
            if let Some(p) = self.policies.get_mut(ix) {
                p.notes.push(format!(
                    "`{}` is deactivated (line {line}) and not read",
                    s.text
                ));
            }
            return Ok(());
        }
        let Some(p) = self.policies.get_mut(ix) else {
            return Ok(());
        };
        let r: Vec<&str> = rest.iter().map(String::as_str).collect();
        match r.as_slice() {
            [] => {}
            ["match", key, vals @ ..] => {
                let v = values(&rest[2..]);
                if v.is_empty()
                    && !matches!(
                        *key,
                        "source-address-excluded" | "destination-address-excluded"
                    )
                {
                    return Err(err(
                        &self.file,
                        s.n,
                        format!("`{}`: `match {key}` needs a value", s.text),
                    ));
                }
                let _ = vals;
                match *key {
                    "source-address" => p.src.extend(v),
                    "destination-address" => p.dst.extend(v),
                    "application" => p.apps.extend(v),
                    "source-address-excluded" => p.src_excl = true,
                    "destination-address-excluded" => p.dst_excl = true,
                    "from-zone" => p.from_zones.extend(v),
                    "to-zone" => p.to_zones.extend(v),
                    "source-identity"
                    | "dynamic-application"
                    | "url-category"
                    | "source-end-user-profile" => {
                        if !v.iter().all(|x| x == "any") && !(v.iter().all(|x| x == "none")) {
                            p.odd.push(format!(
                                "`match {key} {}` matches on who or what the traffic is, which a flow does not say",
                                v.join(" ")
                            ));
                        }
                    }
                    x => p.odd.push(format!("`match {x}` is not understood")),
                }
            }
            ["then", act, more @ ..] => match *act {
                "permit" => {
                    p.then = Some(Then::Permit);
                    if more.first() == Some(&"firewall-authentication") {
                        p.odd.push(
                            "`then permit firewall-authentication`: the policy permits only authenticated users"
                                .into(),
                        );
                    }
                }
                "deny" | "reject" => p.then = Some(Then::Deny),
                // Logging, counting and session settings do not decide.
                "log" | "count" => {}
                x => p.odd.push(format!("`then {x}` is not understood")),
            },
            ["scheduler-name", sch, ..] => p.odd.push(format!(
                "the policy is active only during scheduler `{sch}`'s times"
            )),
            // Descriptions and metadata.
            ["description", ..] | ["policy-name", ..] => {}
            [x, ..] => p.odd.push(format!("`{x}` is not understood")),
        }
        Ok(())
    }

    fn zone(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        let name = self.need(s, 3, "the zone name")?.to_string();
        let z = self
            .zones
            .entry(name.clone())
            .or_insert_with(|| (s.n, Vec::new()));
        let w = &s.w;
        match w.get(4).map(String::as_str) {
            Some("interfaces") => {
                if let Some(i) = w.get(5) {
                    if s.off.is_none() && !z.1.contains(i) {
                        z.1.push(i.clone());
                    }
                }
            }
            Some("address-book") => {
                let book = format!("zone:{name}");
                self.book_entry(s, &book, 5)?;
            }
            // host-inbound-traffic governs traffic to the device itself,
            // screens drop malformed traffic: neither decides a transit
            // flow's policy.
            _ => {}
        }
        Ok(())
    }

    fn book(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        let name = self.need(s, 2, "the address book name")?.to_string();
        if s.w.get(3).map(String::as_str) == Some("attach") {
            if let (Some("zone"), Some(z)) = (s.w.get(4).map(String::as_str), s.w.get(5)) {
                if s.off.is_none() {
                    self.attached
                        .entry(z.clone())
                        .or_default()
                        .push(name.clone());
                }
            }
            return Ok(());
        }
        self.book_entry(s, &name, 3)
    }

    /// `address N VALUE` / `address-set S address N` at word `i`.
    fn book_entry(&mut self, s: &Stmt, book: &str, i: usize) -> Result<(), Diagnostic> {
        let w = &s.w;
        let kind = match w.get(i) {
            Some(k) => k.as_str(),
            None => return Ok(()),
        };
        if s.off.is_some() {
            // A deactivated entry does not exist; a policy naming it is
            // reported when it is resolved.
            return Ok(());
        }
        match kind {
            "address" => {
                let name = self.need(s, i + 1, "the address name")?.to_string();
                let rest: Vec<&str> = w[(i + 2).min(w.len())..]
                    .iter()
                    .map(String::as_str)
                    .collect();
                let value = match rest.as_slice() {
                    [] | ["description", ..] => None,
                    ["dns-name", host, ..] => Some(Ok(Addrs::name(host))),
                    ["range-address", a, "to", b, ..] => {
                        Some(words::addr_range(&format!("{a}-{b}")).ok_or_else(|| {
                            format!("`range-address {a} to {b}` is not an address range")
                        }))
                    }
                    ["wildcard-address", wc, ..] => Some(wildcard(wc)),
                    [a, ..] => Some(
                        words::addr(a).ok_or_else(|| format!("`{a}` is not an address or prefix")),
                    ),
                };
                if let Some(v) = value {
                    if let Err(e) = &v {
                        self.set.issue(
                            s.n,
                            &s.text,
                            format!("{e}: a policy naming address `{name}` is unknown where it matters (give its members with --member address:{name}=ADDRESS,...)"),
                        );
                    }
                    self.books
                        .entry(book.to_string())
                        .or_default()
                        .addrs
                        .insert(name, (s.n, v));
                }
            }
            "address-set" => {
                let name = self.need(s, i + 1, "the address-set name")?.to_string();
                let entry = self
                    .books
                    .entry(book.to_string())
                    .or_default()
                    .sets
                    .entry(name)
                    .or_default();
                match (w.get(i + 2).map(String::as_str), w.get(i + 3)) {
                    (Some("address"), Some(m)) => entry.push((false, m.clone())),
                    (Some("address-set"), Some(m)) => entry.push((true, m.clone())),
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ---- applications ----

    fn application(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        if s.off.is_some() {
            return Ok(());
        }
        let w = &s.w;
        match w.get(1).map(String::as_str) {
            Some("application") => {
                let name = self.need(s, 2, "the application name")?.to_string();
                let (term, mut i) = if w.get(3).map(String::as_str) == Some("term") {
                    (self.need(s, 4, "the term name")?.to_string(), 5)
                } else {
                    (String::new(), 3)
                };
                let def = self.apps.entry(name).or_default();
                let t = def.term(&term);
                while i < w.len() {
                    let k = w[i].as_str();
                    let v = w.get(i + 1).cloned();
                    match (k, v) {
                        ("protocol", Some(v)) => t.proto = Some(v),
                        ("destination-port", Some(v)) => t.dport = Some(v),
                        ("source-port", Some(v)) => t.sport = Some(v),
                        ("icmp-type" | "icmp6-type", Some(v)) => t.icmp = Some(v),
                        ("application-protocol" | "alg", Some(v)) => t.alg = Some(v),
                        ("inactivity-timeout" | "description" | "ttl-threshold", Some(_)) => {}
                        ("icmp-code" | "icmp6-code", Some(v)) => t.odd.push(format!(
                            "`{k} {v}` matches only some packets of an ICMP type"
                        )),
                        (k, v) => t
                            .odd
                            .push(format!("`{k} {}` is not understood", v.unwrap_or_default())),
                    }
                    i += 2;
                }
            }
            Some("application-set") => {
                let name = self.need(s, 2, "the application-set name")?.to_string();
                let e = self.app_sets.entry(name).or_default();
                match (w.get(3).map(String::as_str), w.get(4)) {
                    (Some("application"), Some(a)) => e.push((false, a.clone())),
                    (Some("application-set"), Some(a)) => e.push((true, a.clone())),
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ---- firewall filters ----

    fn firewall(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        let w = &s.w;
        let (family, at) = match w.get(1).map(String::as_str) {
            Some("family") => (self.need(s, 2, "the family")?.to_string(), 3),
            Some("filter") => ("inet".to_string(), 1),
            // Policers, prefix actions: no verdict of their own.
            _ => return Ok(()),
        };
        if w.get(at).map(String::as_str) != Some("filter") {
            return Ok(());
        }
        let name = self.need(s, at + 1, "the filter name")?.to_string();
        let f = self
            .filters
            .entry((family.clone(), name.clone()))
            .or_insert_with(|| FDef {
                line: s.n,
                terms: Vec::new(),
                odd: Vec::new(),
            });
        match w.get(at + 2).map(String::as_str) {
            Some("term") => {}
            None
            | Some("interface-specific")
            | Some("physical-interface-filter")
            | Some("instance-shared") => return Ok(()),
            Some(x) => {
                f.odd
                    .push((s.n, format!("`{x}` in filter {name} is not understood")));
                return Ok(());
            }
        }
        let tname = self.need(s, at + 3, "the term name")?.to_string();
        let f = match self.filters.get_mut(&(family, name)) {
            Some(f) => f,
            None => return Ok(()),
        };
        let ti = match f.terms.iter().position(|t| t.name == tname) {
            Some(i) => i,
            None => {
                f.terms.push(FTerm {
                    name: tname.clone(),
                    line: s.n,
                    text: s.text.clone(),
                    from: Vec::new(),
                    then: Vec::new(),
                    jump: None,
                    off: None,
                });
                f.terms.len() - 1
            }
        };
        let Some(t) = f.terms.get_mut(ti) else {
            return Ok(());
        };
        let term_path = at + 4;
        if let Some((k, line)) = s.off {
            if k <= term_path {
                t.off.get_or_insert(line);
                return Ok(());
            }
            // A deactivated condition or action: the term works without it.
            return Ok(());
        }
        let rest = &w[term_path.min(w.len())..];
        match rest.first().map(String::as_str) {
            Some("from") => {
                if rest.len() < 2 {
                    return Err(err(
                        &self.file,
                        s.n,
                        format!("`{}`: `from` needs a match condition", s.text),
                    ));
                }
                t.from.push((s.n, rest[1..].to_vec()));
            }
            Some("then") => {
                if rest.len() < 2 {
                    return Err(err(
                        &self.file,
                        s.n,
                        format!("`{}`: `then` needs an action", s.text),
                    ));
                }
                t.then.push(rest[1..].to_vec());
            }
            Some("filter") => t.jump = rest.get(1).cloned(),
            _ => {}
        }
        Ok(())
    }

    fn prefix_list(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        let name = self.need(s, 2, "the prefix-list name")?.to_string();
        let e = self.prefix_lists.entry(name).or_default();
        if s.off.is_some() {
            return Ok(());
        }
        match s.w.get(3).map(String::as_str) {
            None | Some("description") => {}
            Some("apply-path") => e.push((
                s.n,
                Err("`apply-path` takes its prefixes from elsewhere in the configuration".into()),
            )),
            Some(p) => e.push((
                s.n,
                p.parse::<IpNet>()
                    .map(|n| n.trunc())
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{p}` is not a prefix")),
            )),
        }
        Ok(())
    }

    fn interface(&mut self, s: &Stmt) -> Result<(), Diagnostic> {
        let w: Vec<&str> = s.w.iter().map(String::as_str).collect();
        // interfaces IF unit N family F filter input|output|input-list|output-list NAME
        let (ifname, rest) = match w.as_slice() {
            ["interfaces", ifd, "unit", u, rest @ ..] => (format!("{ifd}.{u}"), rest),
            _ => return Ok(()),
        };
        let (family, dir, names) = match rest {
            ["family", fam, "filter", dir, names @ ..] => (fam.to_string(), *dir, names),
            _ => return Ok(()),
        };
        if s.off.is_some() {
            return Ok(());
        }
        let output = match dir {
            "input" | "input-list" => false,
            "output" | "output-list" => true,
            // group, precedence: not a binding.
            _ => return Ok(()),
        };
        let names: Vec<String> = values(&names.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        if names.is_empty() {
            return Err(err(
                &self.file,
                s.n,
                format!("`{}`: the filter name is missing", s.text),
            ));
        }
        let list = dir.ends_with("-list");
        if list {
            if let Some(b) = self.bindings.iter_mut().find(|b| {
                b.ifname == ifname
                    && b.family == family
                    && b.output == output
                    && !b.filters.is_empty()
            }) {
                b.filters.extend(names);
                return Ok(());
            }
        }
        self.bindings.push(Binding {
            line: s.n,
            text: s.text.clone(),
            ifname,
            family,
            output,
            filters: names,
        });
        Ok(())
    }

    // ---- building the model ----

    fn build(&mut self) {
        for (line, g) in std::mem::take(&mut self.group_policies) {
            self.set.issue(
                line,
                &format!("set groups {g} ..."),
                format!("configuration group `{g}` holds policies, filters, addresses or applications; groups are not expanded here: export with `show configuration | display inheritance | display set`"),
            );
        }
        if self.srx || !self.policies.is_empty() {
            self.build_policies();
        }
        self.build_filters();
        // In the order a packet meets them: input filters, the policies,
        // output filters.
        let rank = |f: &Filter| match (f.direction, f.src_in.is_some(), f.dst_in.is_some()) {
            (Direction::In, ..) | (Direction::Through, true, _) => 0,
            (Direction::Through, false, false) => 1,
            _ => 2,
        };
        self.set.filters.sort_by_key(rank);
    }

    fn build_policies(&mut self) {
        let (line, text, accept) = self.default.clone().unwrap_or((
            0,
            "default-policy deny-all (the default)".to_string(),
            false,
        ));
        let chain = self.set.chain(
            "security policies",
            line,
            End::Policy { accept, line, text },
        );
        let mut order: Vec<usize> = (0..self.policies.len()).collect();
        // Zone-pair policies first, then global ones; each in the order
        // they are first defined.
        order.sort_by_key(|&i| (self.policies[i].ctx.is_none(), self.policies[i].line));
        let pols = std::mem::take(&mut self.policies);
        for i in order {
            let rules = self.policy_rules(&pols[i]);
            self.set.chains[chain].rules.extend(rules);
        }
        self.set.filters.push(Filter::new(
            "security policies",
            Direction::Through,
            Families::BOTH,
            chain,
        ));
        for (z, (l, ifs)) in &self.zones {
            if !ifs.is_empty() {
                self.set.note(
                    *l,
                    &format!("security-zone {z}"),
                    format!(
                        "zone `{z}` holds interfaces {}: give what lies behind them with --member zone:{z}=ADDRESS,...",
                        ifs.join(", ")
                    ),
                );
            }
        }
    }

    fn policy_rules(&mut self, p: &Policy) -> Vec<Rule> {
        self.budget.reset(BUDGET);
        let mut odd = p.odd.clone();
        let label = match &p.ctx {
            Some((f, t)) => format!("from-zone {f} to-zone {t} policy {}", p.name),
            None => format!("global policy {}", p.name),
        };
        for n in &p.notes {
            self.set.note(p.line, &p.text, n.clone());
        }
        // The address books a side's names resolve in.
        let books = |zones: &[String], attached: &HashMap<String, Vec<String>>| {
            let mut v: Vec<String> = Vec::new();
            for z in zones {
                v.push(format!("zone:{z}"));
                v.extend(attached.get(z).cloned().unwrap_or_default());
            }
            v.push("global".to_string());
            v
        };
        let (src_zones, dst_zones) = match &p.ctx {
            Some((f, t)) => (vec![f.clone()], vec![t.clone()]),
            None => (p.from_zones.clone(), p.to_zones.clone()),
        };
        let src_books = books(&src_zones, &self.attached);
        let dst_books = books(&dst_zones, &self.attached);
        let side =
            |names: &[String], excl: bool, bks: &[String], what: &str, odd: &mut Vec<String>| {
                if names.is_empty() {
                    odd.push(format!("no {what} is matched: Junos requires one"));
                    return AddrMatch::every();
                }
                let mut m = AddrMatch::of(Addrs::none());
                for n in names {
                    match n.as_str() {
                        "any" => m.addrs = Addrs::every(),
                        "any-ipv4" => m.addrs = m.addrs.union(&Addrs::all_v4()),
                        "any-ipv6" => m.addrs = m.addrs.union(&Addrs::all_v6()),
                        _ => {
                            if let Err(e) = self.resolve(bks, n, 0, &mut m) {
                                // What it stands for is not known.
                                m.symbols.push(format!("address:{n}"));
                                odd.push(e);
                            }
                        }
                    }
                }
                if m.addrs.is_every() {
                    m.symbols.clear();
                }
                if excl {
                    m.not().unwrap_or_else(AddrMatch::every)
                } else {
                    m
                }
            };
        let mut src = side(&p.src, p.src_excl, &src_books, "source-address", &mut odd);
        let mut dst = side(
            &p.dst,
            p.dst_excl,
            &dst_books,
            "destination-address",
            &mut odd,
        );
        if let Some(z) = set_config::zones(&src_zones) {
            src = src.and(z);
        }
        if let Some(z) = set_config::zones(&dst_zones) {
            dst = dst.and(z);
        }
        // Applications.
        let mut pieces: Vec<(Ranges<u8>, Ranges<u16>, Ranges<u16>)> = Vec::new();
        let mut extra: Vec<(Ranges<u8>, String)> = Vec::new();
        if p.apps.is_empty() {
            odd.push("no application is matched: Junos requires one".into());
            pieces.push((Ranges::full(), Ranges::full(), Ranges::full()));
        }
        for a in &p.apps {
            self.app_pieces(a, 0, &mut pieces, &mut extra, &mut odd);
        }
        let action = match p.then {
            Some(Then::Permit) => Action::Accept,
            Some(Then::Deny) => Action::Block,
            None => {
                let k = self.set.issue(
                    p.line,
                    &p.text,
                    format!("policy {} has no `then` action", p.name),
                );
                Action::Unknown(k)
            }
        };
        let mut r = Rule::new(p.line, &p.text, action.clone());
        r.label = Some(label.clone());
        r.matches = pieces
            .iter()
            .flat_map(|(proto, sport, dport)| {
                by_family(Match {
                    proto: proto.clone(),
                    src: src.clone(),
                    dst: dst.clone(),
                    sport: sport.clone(),
                    dport: dport.clone(),
                })
            })
            .collect();
        if let Some(l) = p.off {
            r.when
                .push(Cond::Never(format!("the policy is deactivated (line {l})")));
        }
        if !odd.is_empty() {
            let k = self
                .set
                .issue(p.line, &p.text, format!("{label}: {}", odd.join("; ")));
            r.when.push(Cond::Unknown(k));
        }
        let mut out = vec![r];
        // What an ALG may open besides, or an application without fixed
        // ports: unknown where it would match.
        let dynamic: Vec<&(Ranges<u8>, String)> = extra
            .iter()
            .filter(|(_, why)| action != Action::Block || why.starts_with('!'))
            .collect();
        if !dynamic.is_empty() && p.off.is_none() {
            let why: Vec<String> = dynamic
                .iter()
                .map(|(_, w)| w.trim_start_matches('!').to_string())
                .collect();
            let k = self.set.issue(
                p.line,
                &p.text,
                format!(
                    "{label}: {}: which ports it covers is decided at run time",
                    why.join("; ")
                ),
            );
            let mut c = Rule::new(p.line, &p.text, action);
            c.label = Some(format!("{label} (dynamic ports)"));
            c.matches = dynamic
                .iter()
                .flat_map(|(proto, _)| {
                    by_family(Match {
                        proto: proto.clone(),
                        src: src.clone(),
                        dst: dst.clone(),
                        sport: Ranges::full(),
                        dport: Ranges::full(),
                    })
                })
                .collect();
            c.when.push(Cond::Unknown(k));
            out.push(c);
        }
        out
    }

    /// An address name in the first book that has it.
    fn resolve(
        &self,
        books: &[String],
        name: &str,
        depth: u8,
        into: &mut AddrMatch,
    ) -> Result<(), String> {
        if depth > 16 || !self.budget.step() {
            return Err(format!("address-set `{name}` nests too deeply (a loop?)"));
        }
        for b in books {
            let Some(book) = self.books.get(b) else {
                continue;
            };
            if let Some((_, v)) = book.addrs.get(name) {
                match v {
                    Ok(a) => into.addrs = into.addrs.union(a),
                    // Reported where it is defined; what it matches is
                    // unknown, not nothing.
                    Err(_) => into.symbols.push(format!("address:{name}")),
                }
                return Ok(());
            }
            if let Some(members) = book.sets.get(name) {
                for (_, m) in members {
                    self.resolve(books, m, depth + 1, into)?;
                }
                return Ok(());
            }
        }
        Err(format!(
            "address `{name}` is not defined in the address books this policy sees"
        ))
    }

    /// The protocol/port boxes of an application or set; what it opens at
    /// run time goes to `extra` (`!` first: also for deny policies).
    fn app_pieces(
        &self,
        name: &str,
        depth: u8,
        out: &mut Vec<(Ranges<u8>, Ranges<u16>, Ranges<u16>)>,
        extra: &mut Vec<(Ranges<u8>, String)>,
        odd: &mut Vec<String>,
    ) {
        if depth > 16 || !self.budget.step() {
            out.push((Ranges::full(), Ranges::full(), Ranges::full()));
            odd.push(format!(
                "application-set `{name}` nests too deeply (a loop?)"
            ));
            return;
        }
        if name == "any" {
            out.push((Ranges::full(), Ranges::full(), Ranges::full()));
            return;
        }
        if let Some(def) = self.apps.get(name) {
            for (tname, t) in &def.terms {
                let what = if tname.is_empty() {
                    format!("application {name}")
                } else {
                    format!("application {name} term {tname}")
                };
                // An application's own statements with no protocol are
                // only the holder of its terms.
                if tname.is_empty() && t.proto.is_none() && def.terms.len() > 1 && t.dport.is_none()
                {
                    continue;
                }
                match app_term(t) {
                    Ok((proto, sport, dport)) => {
                        if let Some(alg) = &t.alg {
                            if apps::alg_opens_pinholes(alg) {
                                extra.push((
                                    proto.clone(),
                                    format!("{what} uses the {alg} ALG, which opens further connections"),
                                ));
                            }
                        }
                        out.push((proto, sport, dport));
                    }
                    Err(e) => {
                        out.push((Ranges::full(), Ranges::full(), Ranges::full()));
                        odd.push(format!("{what}: {e}"));
                    }
                }
                for o in &t.odd {
                    odd.push(format!("{what}: {o}"));
                }
            }
            return;
        }
        if let Some(members) = self.app_sets.get(name) {
            for (_, m) in members {
                self.app_pieces(m, depth + 1, out, extra, odd);
            }
            return;
        }
        if let Some(p) = apps::predefined(name) {
            for &(proto, ports) in p.terms {
                let dport = match ports {
                    Some((a, b)) => Ranges::range(a, b),
                    None => Ranges::full(),
                };
                out.push((Ranges::one(proto), Ranges::full(), dport));
            }
            match p.alg {
                Alg::No => {}
                Alg::Pinholes(why) => {
                    let protos = Ranges::from_iter(p.terms.iter().map(|t| (t.0, t.0))).union(
                        &Ranges::from_iter([(space::TCP, space::TCP), (space::UDP, space::UDP)]),
                    );
                    extra.push((protos, format!("{name}: {why}")));
                }
                Alg::Dynamic(why) => extra.push((
                    Ranges::from_iter([(space::TCP, space::TCP), (space::UDP, space::UDP)]),
                    format!("!{name}: {why}"),
                )),
            }
            return;
        }
        // What it matches is not known: anything, undecided.
        out.push((Ranges::full(), Ranges::full(), Ranges::full()));
        if name.starts_with("junos-") {
            odd.push(format!(
                "predefined application `{name}` is not in this reader's table of junos-defaults applications"
            ));
        } else {
            odd.push(format!(
                "application `{name}` is not defined in this configuration"
            ));
        }
    }

    fn build_filters(&mut self) {
        let mut bodies: HashMap<(String, String), usize> = HashMap::new();
        let mut used: Vec<(String, String)> = Vec::new();
        let bindings = std::mem::take(&mut self.bindings);
        for b in &bindings {
            let fam = match b.family.as_str() {
                "inet" => Families::V4,
                "inet6" => Families::V6,
                _ => Families::BOTH,
            };
            let dir = if b.output { "output" } else { "input" };
            let name = format!("{} {dir} filter {}", b.ifname, b.filters.join(" "));
            let first_line = b
                .filters
                .first()
                .and_then(|f| self.filters.get(&(b.family.clone(), f.clone())))
                .map_or(b.line, |f| f.line);
            let wrapper = self.set.chain(
                name.clone(),
                b.line,
                End::Policy {
                    accept: false,
                    line: first_line,
                    text: format!(
                        "implicit discard at the end of filter {}",
                        b.filters.last().cloned().unwrap_or_default()
                    ),
                },
            );
            for f in &b.filters {
                let key = (b.family.clone(), f.clone());
                let action = match self.body(&key, &mut bodies, 0) {
                    Some(c) => Action::Jump(c),
                    None => {
                        let k = self.set.issue(
                            b.line,
                            &b.text,
                            format!("filter `{f}` (family {}) is not defined", b.family),
                        );
                        Action::Unknown(k)
                    }
                };
                if !used.contains(&key) {
                    used.push(key);
                }
                let mut r = Rule::new(b.line, &b.text, action);
                r.label = Some(format!("filter {f}"));
                self.set.chains[wrapper].rules.push(r);
            }
            let ifd = b.ifname.split('.').next().unwrap_or("");
            let mut f = Filter::new(name, Direction::Through, fam, wrapper);
            let sym = AddrMatch::symbol(format!("interface:{}", b.ifname));
            if ifd == "lo0" {
                f.direction = if b.output {
                    Direction::Out
                } else {
                    Direction::In
                };
                f.members = Some(AddrMatch::symbol("zone:junos-host"));
                self.set.note(
                    b.line,
                    &b.text,
                    "a filter on lo0 judges traffic to (from) the device itself: give its addresses with --member zone:junos-host=ADDRESS,...",
                );
            } else if b.output {
                f.dst_in = Some(sym);
            } else {
                f.src_in = Some(sym);
            }
            self.set.filters.push(f);
        }
        let mut unbound: Vec<(&(String, String), &FDef)> = self
            .filters
            .iter()
            .filter(|(k, _)| !used.contains(k))
            .collect();
        unbound.sort_by_key(|(_, f)| f.line);
        let notes: Vec<(usize, String)> = unbound
            .iter()
            .map(|((fam, n), f)| {
                (
                    f.line,
                    format!("filter {n} (family {fam}) is applied to no interface here: it judges nothing in this audit"),
                )
            })
            .collect();
        for (l, m) in notes {
            self.set.note(l, "", m);
        }
    }

    /// The chain of a filter's terms (ending in a return), built once.
    fn body(
        &mut self,
        key: &(String, String),
        bodies: &mut HashMap<(String, String), usize>,
        depth: u8,
    ) -> Option<usize> {
        if let Some(&c) = bodies.get(key) {
            return Some(c);
        }
        if depth > 16 {
            return None;
        }
        let (line, terms, odd) = {
            let f = self.filters.get(key)?;
            let terms: Vec<FTerm> = f.terms.to_vec();
            (f.line, terms, f.odd.clone())
        };
        let c = self.set.chain(
            format!("filter {} (family {})", key.1, key.0),
            line,
            End::Return,
        );
        bodies.insert(key.clone(), c);
        for (l, m) in odd {
            self.set.issue(l, &key.1, m);
        }
        let six = key.0 == "inet6";
        for t in terms {
            let FTerm {
                name: tname,
                line: tline,
                text: ttext,
                from,
                then,
                jump,
                off,
            } = t;
            let mut r = self.term_rule(key, &tname, tline, &ttext, &from, &then, six);
            if let Some(g) = jump {
                let gk = (key.0.clone(), g.clone());
                r.action = match self.body(&gk, bodies, depth + 1) {
                    Some(t) => Action::Jump(t),
                    None => {
                        let k = self.set.issue(
                            tline,
                            &ttext,
                            format!("filter `{g}` that term {tname} evaluates is not defined"),
                        );
                        Action::Unknown(k)
                    }
                };
            }
            if let Some(l) = off {
                r.when
                    .push(Cond::Never(format!("the term is deactivated (line {l})")));
            }
            self.set.chains[c].rules.push(r);
        }
        Some(c)
    }

    #[allow(clippy::too_many_arguments)]
    fn term_rule(
        &mut self,
        key: &(String, String),
        tname: &str,
        line: usize,
        text: &str,
        from: &[(usize, Vec<String>)],
        then: &[Vec<String>],
        six: bool,
    ) -> Rule {
        let mut odd: Vec<String> = Vec::new();
        let mut never: Vec<String> = Vec::new();
        // Conditions by kind: lists are unions, kinds are all required.
        let mut src: Vec<(IpNet, bool)> = Vec::new();
        let mut dst: Vec<(IpNet, bool)> = Vec::new();
        let mut either: Vec<(IpNet, bool)> = Vec::new();
        let mut src_pl: Vec<(IpNet, bool)> = Vec::new();
        let mut dst_pl: Vec<(IpNet, bool)> = Vec::new();
        let mut either_pl: Vec<(IpNet, bool)> = Vec::new();
        let (mut has_src_pl, mut has_dst_pl, mut has_either_pl) = (false, false, false);
        let mut proto: Option<Ranges<u8>> = None;
        let mut proto_except: Ranges<u8> = Ranges::empty();
        let mut dport: Option<Ranges<u16>> = None;
        let mut sport: Option<Ranges<u16>> = None;
        let mut port: Option<Ranges<u16>> = None;
        let mut dport_except: Ranges<u16> = Ranges::empty();
        let mut sport_except: Ranges<u16> = Ranges::empty();
        let mut icmp: Option<Ranges<u16>> = None;
        let mut icmp_except: Ranges<u16> = Ranges::empty();
        for (_, w) in from {
            let k = w.first().map(String::as_str).unwrap_or("");
            let vals = values(&w[1.min(w.len())..]);
            let except = vals.last().map(String::as_str) == Some("except");
            let vals: Vec<String> = vals.into_iter().filter(|v| v != "except").collect();
            let nets = |into: &mut Vec<(IpNet, bool)>, odd: &mut Vec<String>| {
                for v in &vals {
                    match v
                        .parse::<IpNet>()
                        .map(|n| n.trunc())
                        .or_else(|_| v.parse::<std::net::IpAddr>().map(IpNet::from))
                    {
                        Ok(n) => into.push((n, except)),
                        Err(_) => odd.push(format!("`{k} {v}` is not a prefix")),
                    }
                }
            };
            match k {
                "source-address" => nets(&mut src, &mut odd),
                "destination-address" => nets(&mut dst, &mut odd),
                "address" => nets(&mut either, &mut odd),
                "source-prefix-list" | "destination-prefix-list" | "prefix-list" => {
                    let into = match k {
                        "source-prefix-list" => {
                            has_src_pl = true;
                            &mut src_pl
                        }
                        "destination-prefix-list" => {
                            has_dst_pl = true;
                            &mut dst_pl
                        }
                        _ => {
                            has_either_pl = true;
                            &mut either_pl
                        }
                    };
                    for v in &vals {
                        match self.prefix_lists.get(v) {
                            None => odd.push(format!("prefix-list `{v}` is not defined")),
                            Some(entries) => {
                                for (_, e) in entries {
                                    match e {
                                        Ok(n) => into.push((*n, except)),
                                        Err(m) => odd.push(format!("prefix-list `{v}`: {m}")),
                                    }
                                }
                            }
                        }
                    }
                }
                "protocol" | "next-header" | "payload-protocol" | "protocol-except"
                | "next-header-except" | "payload-protocol-except" => {
                    let mut r = Ranges::empty();
                    for v in &vals {
                        let one = if let Some((a, b)) = v.split_once('-') {
                            match (a.parse::<u8>(), b.parse::<u8>()) {
                                (Ok(a), Ok(b)) if a <= b => Some(Ranges::range(a, b)),
                                _ => None,
                            }
                        } else {
                            apps::protocol(v).map(Ranges::one)
                        };
                        match one {
                            Some(x) => r = r.union(&x),
                            None => odd.push(format!("protocol `{v}` is not understood")),
                        }
                    }
                    if k.ends_with("-except") {
                        proto_except = proto_except.union(&r);
                    } else {
                        proto = Some(proto.map_or(r.clone(), |p| p.union(&r)));
                    }
                }
                "destination-port" | "source-port" | "port" | "destination-port-except"
                | "source-port-except" | "port-except" => {
                    let mut r = Ranges::empty();
                    for v in &vals {
                        match apps::port_range(v) {
                            Some((a, b)) => r = r.union(&Ranges::range(a, b)),
                            None => odd.push(format!("port `{v}` is not understood")),
                        }
                    }
                    match k {
                        "destination-port" => dport = Some(dport.map_or(r.clone(), |p| p.union(&r))),
                        "source-port" => sport = Some(sport.map_or(r.clone(), |p| p.union(&r))),
                        "port" => port = Some(port.map_or(r.clone(), |p| p.union(&r))),
                        "destination-port-except" => dport_except = dport_except.union(&r),
                        "source-port-except" => sport_except = sport_except.union(&r),
                        _ => {
                            dport_except = dport_except.union(&r);
                            sport_except = sport_except.union(&r);
                        }
                    }
                }
                "icmp-type" | "icmp-type-except" => {
                    let mut r = Ranges::empty();
                    for v in &vals {
                        match apps::icmp_type(v, six) {
                            Some(t) => r = r.union(&Ranges::one(u16::from(t))),
                            None => odd.push(format!("ICMP type `{v}` is not understood")),
                        }
                    }
                    if k == "icmp-type" {
                        icmp = Some(icmp.map_or(r.clone(), |p| p.union(&r)));
                    } else {
                        icmp_except = icmp_except.union(&r);
                    }
                }
                "tcp-established" => never.push(
                    "matches only established TCP connections (ACK or RST set), not a new connection's first packet"
                        .into(),
                ),
                "tcp-initial" => {
                    // A new connection's first packet is the initial SYN.
                    proto = Some(proto.map_or(Ranges::one(space::TCP), |p| {
                        p.intersect(&Ranges::one(space::TCP))
                    }));
                }
                "is-fragment" | "first-fragment" => never.push(format!(
                    "`{k}` matches only fragments"
                )),
                "tcp-flags" => {
                    let e = vals.join(" ").replace(['"', ' '], "");
                    match e.as_str() {
                        "syn&!ack" | "!ack&syn" | "syn" | "(syn&!ack)" => {
                            proto = Some(proto.map_or(Ranges::one(space::TCP), |p| {
                                p.intersect(&Ranges::one(space::TCP))
                            }))
                        }
                        "ack|rst" | "(ack|rst)" | "ack" | "rst" | "fin" | "syn&ack" => never.push(
                            format!("`tcp-flags {e}` does not match a new connection's SYN"),
                        ),
                        _ => odd.push(format!("`tcp-flags {e}` is not understood")),
                    }
                }
                x => odd.push(format!("match condition `{x}` is not understood")),
            }
        }
        let _ = (has_src_pl, has_dst_pl, has_either_pl);
        // Action: terminating ones decide; without one the term accepts.
        let mut action: Option<Action> = None;
        let mut act_odd: Vec<String> = Vec::new();
        for w in then {
            match w.first().map(String::as_str).unwrap_or("") {
                "accept" | "routing-instance" => action = Some(Action::Accept),
                "discard" | "reject" => action = Some(Action::Block),
                "next" if w.get(1).map(String::as_str) == Some("term") => {
                    action = Some(Action::Next)
                }
                "count"
                | "log"
                | "syslog"
                | "sample"
                | "policer"
                | "three-color-policer"
                | "forwarding-class"
                | "loss-priority"
                | "port-mirror"
                | "dscp"
                | "traffic-class"
                | "service-accounting"
                | "packet-mode" => {}
                x => act_odd.push(format!("action `{x}` is not understood")),
            }
        }
        let action = match (action, act_odd.is_empty()) {
            (Some(a), true) => a,
            (Some(a), false) => {
                odd.extend(act_odd);
                a
            }
            (None, true) => Action::Accept,
            (None, false) => {
                let k = self.set.issue(
                    line,
                    text,
                    format!("filter {} term {tname}: {}", key.1, act_odd.join("; ")),
                );
                Action::Unknown(k)
            }
        };
        let fam = if six {
            Addrs::all_v6()
        } else {
            Addrs::all_v4()
        };
        let side_of = |v: &[(IpNet, bool)]| -> Addrs {
            let mut sorted: Vec<&(IpNet, bool)> = v.iter().collect();
            sorted.sort_by_key(|(n, _)| n.prefix_len());
            let mut a = Addrs::none();
            for (n, ex) in sorted {
                if *ex {
                    a = a.subtract(&Addrs::net(n));
                } else {
                    a = a.union(&Addrs::net(n));
                }
            }
            a
        };
        // Each side: addresses and prefix lists must both hold.
        let mut s_side = fam.clone();
        if !src.is_empty() {
            s_side = s_side.intersect(&side_of(&src));
        }
        if !src_pl.is_empty() || has_src_pl {
            s_side = s_side.intersect(&side_of(&src_pl));
        }
        let mut d_side = fam.clone();
        if !dst.is_empty() {
            d_side = d_side.intersect(&side_of(&dst));
        }
        if !dst_pl.is_empty() || has_dst_pl {
            d_side = d_side.intersect(&side_of(&dst_pl));
        }
        // `address`: either side; several kinds of either-side conditions
        // must each hold on one side or the other.
        let either_sets: Vec<Addrs> = [
            (!either.is_empty()).then(|| side_of(&either)),
            (!either_pl.is_empty() || has_either_pl).then(|| side_of(&either_pl)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut addr_alts: Vec<(Addrs, Addrs)> = vec![(s_side, d_side)];
        for e in &either_sets {
            let mut next = Vec::new();
            for (s, d) in &addr_alts {
                next.push((s.intersect(e), d.clone()));
                next.push((s.clone(), d.intersect(e)));
            }
            addr_alts = next;
        }
        // Ports only exist on port protocols; ICMP types on ICMP.
        let mut p = proto.unwrap_or_else(Ranges::full).subtract(&proto_except);
        let ported = Ranges::from_iter([(6u8, 6u8), (17, 17), (33, 33), (132, 132), (136, 136)]);
        let any_port = dport.is_some()
            || sport.is_some()
            || port.is_some()
            || !dport_except.is_empty()
            || !sport_except.is_empty();
        if any_port {
            p = p.intersect(&ported);
        }
        let icmp_proto = Ranges::one(if six { space::ICMPV6 } else { space::ICMP });
        let mut dp = Ranges::full();
        let has_icmp = icmp.is_some() || !icmp_except.is_empty();
        if has_icmp {
            p = p.intersect(&icmp_proto);
            dp = icmp
                .unwrap_or_else(|| Ranges::range(0, 255))
                .subtract(&icmp_except);
        }
        let mut port_alts: Vec<(Ranges<u16>, Ranges<u16>)> = Vec::new();
        let base_d = dport.unwrap_or_else(Ranges::full).subtract(&dport_except);
        let base_s = sport.unwrap_or_else(Ranges::full).subtract(&sport_except);
        match port {
            Some(pp) => {
                port_alts.push((base_s.clone(), base_d.intersect(&pp)));
                port_alts.push((base_s.intersect(&pp), base_d.clone()));
            }
            None => port_alts.push((base_s, if any_port { base_d } else { dp.clone() })),
        }
        if any_port && has_icmp {
            p = Ranges::empty();
        }
        let mut r = Rule::new(line, text, action.clone());
        r.label = Some(format!("filter {} term {tname}", key.1));
        let mut matches = Vec::new();
        for (s, d) in &addr_alts {
            for (sp, dpr) in &port_alts {
                matches.push(Match {
                    proto: p.clone(),
                    src: AddrMatch::of(s.clone()),
                    dst: AddrMatch::of(d.clone()),
                    sport: sp.clone(),
                    dport: dpr.clone(),
                });
            }
        }
        r.matches = matches;
        for n in never {
            r.when.push(Cond::Never(n));
        }
        if !odd.is_empty() && !matches!(action, Action::Next) {
            let k = self.set.issue(
                line,
                text,
                format!("filter {} term {tname}: {}", key.1, odd.join("; ")),
            );
            r.when.push(Cond::Unknown(k));
        }
        r
    }
}

/// A match split by address family: a packet's source and destination are
/// of one family, so a rule naming IPv4 on one side and IPv6 on the other
/// never matches across them. DNS names stay on both sides of both.
pub(crate) fn by_family(m: Match) -> Vec<Match> {
    let fam = |v6: bool| {
        AddrMatch::of(Addrs {
            v4: if v6 { Ranges::empty() } else { Ranges::full() },
            v6: if v6 { Ranges::full() } else { Ranges::empty() },
            names: crate::space::Names::every(),
        })
    };
    let void = |a: &AddrMatch| {
        !a.negated && a.symbols.is_empty() && a.also.is_empty() && a.addrs.is_empty()
    };
    let mut out = Vec::new();
    for v6 in [false, true] {
        let src = m.src.clone().and(fam(v6));
        let dst = m.dst.clone().and(fam(v6));
        // ICMP is IPv4's, ICMPv6 IPv6's.
        let other = if v6 { space::ICMP } else { space::ICMPV6 };
        let proto = m.proto.subtract(&Ranges::one(other));
        if void(&src) || void(&dst) || proto.is_empty() {
            continue;
        }
        out.push(Match {
            src,
            dst,
            proto,
            ..m.clone()
        });
    }
    out
}

/// One application term as protocol and ports.
#[allow(clippy::type_complexity)]
fn app_term(t: &AppTerm) -> Result<(Ranges<u8>, Ranges<u16>, Ranges<u16>), String> {
    let proto = match &t.proto {
        None => {
            if t.dport.is_some() || t.sport.is_some() {
                return Err("ports without a protocol".into());
            }
            if t.icmp.is_some() {
                Some(space::ICMP)
            } else {
                None
            }
        }
        Some(p) => {
            Some(apps::protocol(p).ok_or_else(|| format!("protocol `{p}` is not understood"))?)
        }
    };
    let ports = |v: &Option<String>| -> Result<Ranges<u16>, String> {
        match v {
            None => Ok(Ranges::full()),
            Some(v) => apps::port_range(v)
                .map(|(a, b)| Ranges::range(a, b))
                .ok_or_else(|| format!("port `{v}` is not understood")),
        }
    };
    match proto {
        None => Ok((Ranges::full(), Ranges::full(), Ranges::full())),
        Some(p) if space::has_ports(p) => {
            if t.icmp.is_some() {
                return Err("an ICMP type on a protocol with ports".into());
            }
            Ok((Ranges::one(p), ports(&t.sport)?, ports(&t.dport)?))
        }
        Some(p) if p == space::ICMP || p == space::ICMPV6 => {
            let dport = match &t.icmp {
                None => Ranges::full(),
                Some(v) => Ranges::one(u16::from(
                    apps::icmp_type(v, p == space::ICMPV6)
                        .ok_or_else(|| format!("ICMP type `{v}` is not understood"))?,
                )),
            };
            Ok((Ranges::one(p), Ranges::full(), dport))
        }
        Some(p) => {
            if t.dport.is_some() || t.sport.is_some() {
                return Err(format!("ports on {}, which has none", space::proto_name(p)));
            }
            Ok((Ranges::one(p), Ranges::full(), Ranges::full()))
        }
    }
}

/// `10.0.0.1/255.0.255.255`: exactly, as ranges, when there are not too many.
fn wildcard(s: &str) -> Result<Addrs, String> {
    let bad = || format!("wildcard-address `{s}` is not ADDRESS/MASK");
    let (a, m) = s.split_once('/').ok_or_else(bad)?;
    let a: std::net::Ipv4Addr = a.parse().map_err(|_| bad())?;
    let m: std::net::Ipv4Addr = match m.parse() {
        Ok(m) => m,
        Err(_) => {
            return Err(format!(
                "wildcard-address `{s}`: only IPv4 wildcard masks are read"
            ))
        }
    };
    let (a, m) = (u32::from(a), u32::from(m));
    let free = !m;
    // The low run of free bits is one block; each other free bit doubles
    // the number of blocks.
    let low = free.trailing_ones();
    let block: u64 = 1u64 << low;
    let high: Vec<u32> = (low..32).filter(|b| free & (1 << b) != 0).collect();
    if high.len() > 12 {
        return Err(format!(
            "wildcard-address `{s}` matches {} separate ranges: not read",
            1u64 << high.len()
        ));
    }
    let base = a & m;
    let mut spans = Vec::new();
    for c in 0u32..(1u32 << high.len()) {
        let mut x = base;
        for (i, b) in high.iter().enumerate() {
            if c & (1 << i) != 0 {
                x |= 1 << b;
            }
        }
        let hi = (u64::from(x) + block - 1).min(u64::from(u32::MAX)) as u32;
        spans.push((x, hi));
    }
    Ok(Addrs {
        v4: Ranges::from_iter(spans),
        ..Addrs::none()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let a = wildcard("10.0.0.0/255.255.255.0").unwrap();
        assert_eq!(a, words::addr("10.0.0.0/24").unwrap());
        let a = wildcard("10.0.0.1/255.0.255.255").unwrap();
        assert_eq!(a.v4.spans().len(), 256);
        assert!(wildcard("0.0.0.1/0.0.0.255").is_err());
        assert!(wildcard("1.2.3.4/0.0.0.1").is_err());
    }
}

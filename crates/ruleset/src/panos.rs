//! Reads PAN-OS `set` configuration: what `render/src/panos.rs` writes and
//! the `set` output of a firewall (`set cli config-output-format set`,
//! `show`), with the `set vsys vsys1 ...` prefix of a multi-vsys firewall
//! and the `set shared ...` / `set device-group DG pre-rulebase|post-rulebase
//! ...` prefixes of a Panorama export.
//!
//! Semantics (Palo Alto Networks, PAN-OS Administrator's Guide: "Security
//! Policy", "Security Policy Rule Actions", "Default Security Policy
//! Rules"; Web Interface Help: "Policies > Security", "Objects >
//! Services"; Networking Admin: "Security Policy Rules Based on ICMP and
//! ICMPv6 Packets"):
//! - Rules are evaluated top down, the first match decides; a Panorama
//!   device group's pre-rules come before the firewall's own, post-rules
//!   after (shared before the device group's for pre, after for post).
//! - Nothing matched: the default rules. `intrazone-default` allows traffic
//!   whose source and destination zone are the same, `interzone-default`
//!   denies the rest (both can be overridden to another action).
//! - Zones are symbols (`zone:NAME`): `from` is a condition on the source,
//!   `to` on the destination; `any` is no condition.
//! - A rule whose `application` is not `any` matches only what App-ID
//!   identifies as one of those applications, which a port and address flow
//!   does not say: its verdict is unknown, except for applications App-ID
//!   tells from the IP header alone (`ipsec-esp`, `icmp`, `ipv6-icmp`,
//!   `ping`, `gre`). `service application-default` means each application's
//!   default ports, which App-ID decides: with `application any` it is not
//!   decidable either.
//! - `allow` accepts; `deny`, `drop` and the `reset-*` actions block.

use crate::model::*;
use crate::set_config::{self, err, Budget};
use crate::space::{self, Addrs, Ranges};
use crate::words;
use crate::Reader;
use portplan_model::Diagnostic;
use std::collections::{BTreeSet, HashMap};

pub struct Panos;

impl Reader for Panos {
    fn name(&self) -> &'static str {
        "panos"
    }
    fn about(&self) -> &'static str {
        "PAN-OS `set` commands: addresses, services, security rules"
    }
    fn sniff(&self, text: &str) -> u8 {
        let mut score = 0;
        for l in text.lines().take(400) {
            let l = l.trim();
            if l.contains(" rulebase security rules ")
                || l.starts_with("set rulebase security ")
                || l.contains(" pre-rulebase security ")
                || l.contains(" post-rulebase security ")
            {
                return 95;
            }
            if (l.starts_with("set address ")
                && (l.contains(" ip-netmask ") || l.contains(" fqdn ") || l.contains(" ip-range ")))
                || l.starts_with("set address-group ")
                || l.starts_with("set service-group ")
                || (l.starts_with("set zone ") && l.contains(" network "))
            {
                score = score.max(85);
            }
            if l.starts_with("set deviceconfig ") {
                score = score.max(70);
            }
        }
        score
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Read::default().run(text, file)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Base {
    SharedPre,
    Pre,
    Local,
    Post,
    SharedPost,
}

#[derive(Default, Clone)]
struct Objects {
    addrs: HashMap<String, (usize, Result<Addrs, String>)>,
    groups: HashMap<String, (usize, Result<Vec<String>, String>)>,
    services: HashMap<String, (usize, SvcDef)>,
    service_groups: HashMap<String, (usize, Vec<String>)>,
    edls: BTreeSet<String>,
    zones: Vec<(String, usize)>,
}

#[derive(Default, Clone)]
struct SvcDef {
    proto: Option<String>,
    port: Option<String>,
    sport: Option<String>,
}

#[derive(Default)]
struct PRule {
    name: String,
    base: Option<Base>,
    line: usize,
    text: String,
    kv: HashMap<String, Vec<String>>,
    odd: Vec<String>,
}

#[derive(Default)]
struct Read {
    file: String,
    set: Ruleset,
    /// Objects by scope: `""` the firewall (or vsys1), `shared`, `vsys:X`,
    /// `dg:X`.
    objects: HashMap<String, Objects>,
    rules: Vec<(String, PRule)>,
    rule_ix: HashMap<(String, Base, String), usize>,
    defaults: HashMap<String, (usize, String, String)>,
    noted: BTreeSet<String>,
    /// Steps left to resolve one rule's groups (nested groups can repeat).
    budget: Budget,
}

/// Rule keys and whether they take a value.
const KEYS: &[&str] = &[
    "from",
    "to",
    "source",
    "destination",
    "source-user",
    "category",
    "application",
    "service",
    "action",
    "negate-source",
    "negate-destination",
    "disabled",
    "description",
    "tag",
    "log-start",
    "log-end",
    "log-setting",
    "profile-setting",
    "option",
    "schedule",
    "qos",
    "rule-type",
    "target",
    "source-hip",
    "destination-hip",
    "hip-profiles",
    "group-tag",
    "uuid",
    "icmp-unreachable",
    "source-imei",
    "source-imsi",
    "source-nw-slice",
    "audit-comment",
];

/// Applications App-ID tells from the IP header of the first packet:
/// protocol, and the ICMP types it covers (all when `None`).
fn header_app(name: &str) -> Option<Vec<(u8, Ranges<u16>)>> {
    let all = Ranges::full;
    Some(match name {
        "ipsec-esp" => vec![(space::ESP, all())],
        "gre" => vec![(47, all())],
        // Echo requests are identified as `ping`.
        "icmp" => vec![(space::ICMP, all().subtract(&Ranges::one(8)))],
        "ipv6-icmp" => vec![(space::ICMPV6, all().subtract(&Ranges::one(128)))],
        "ping" => vec![
            (space::ICMP, Ranges::one(8)),
            (space::ICMPV6, Ranges::one(128)),
        ],
        _ => return None,
    })
}

/// What a header-identified application may also be, undecided.
fn header_app_unsure(name: &str) -> Vec<(u8, Ranges<u16>, &'static str)> {
    match name {
        "icmp" => vec![(
            space::ICMP,
            Ranges::one(8),
            "App-ID identifies ICMP echo requests as `ping`, which this rule does not name",
        )],
        "ipv6-icmp" => vec![(
            space::ICMPV6,
            Ranges::one(128),
            "App-ID identifies ICMPv6 echo requests as `ping`, which this rule does not name",
        )],
        _ => vec![],
    }
}

/// The predefined services (Objects > Services). The documentation read
/// says HTTP and HTTPS are predefined; the ports are those the predefined
/// objects carry (an assumption of this table: TCP 80 and 8080, TCP 443).
fn predefined_service(name: &str) -> Option<Vec<(u8, Ranges<u16>)>> {
    match name {
        "service-http" => Some(vec![(
            space::TCP,
            Ranges::from_iter([(80, 80), (8080, 8080)]),
        )]),
        "service-https" => Some(vec![(space::TCP, Ranges::one(443))]),
        _ => None,
    }
}

type Boxes = Vec<(Ranges<u8>, Ranges<u16>, Ranges<u16>)>;

/// Every protocol and port: what something not understood may match.
fn every_box() -> (Ranges<u8>, Ranges<u16>, Ranges<u16>) {
    (Ranges::full(), Ranges::full(), Ranges::full())
}

impl Read {
    fn run(mut self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        self.file = file.to_string();
        self.set = Ruleset::new("panos", file);
        let mut content = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let l = raw.trim();
            if l.is_empty()
                || l.starts_with('#')
                || l.starts_with("[edit")
                || l.ends_with("> configure")
                || l.contains("# show")
                || l.contains("> show")
                || l.contains("> set cli ")
                || l.starts_with("Entering configuration mode")
                || matches!(l, "configure" | "exit" | "quit" | "commit")
            {
                continue;
            }
            let w = set_config::statement(
                file,
                n,
                l,
                "`set cli config-output-format set` then `show`",
            )?;
            match w.first().map(String::as_str) {
                Some("set") => {
                    content = true;
                    self.statement(n, l, &w[1..])?;
                }
                Some("delete" | "edit" | "up" | "top" | "move" | "rename") => {
                    content = true;
                    self.set.issue(
                        n,
                        l,
                        "an editing command: this reader reads `set` output, not a command sequence",
                    );
                }
                _ if !content => {
                    return Err(err(
                        file,
                        n,
                        format!(
                            "`{}` is not PAN-OS `set` output: expected lines starting with `set`",
                            crate::model::cut(l, 60)
                        ),
                    ))
                }
                _ => {
                    self.set.issue(n, l, "not a `set` command: not read");
                }
            }
        }
        if !content {
            if !text.lines().any(|l| l.trim().starts_with('#')) {
                return Err(Diagnostic::error(
                    file,
                    "no `set` command found: PAN-OS configuration is read as `set` commands",
                ));
            }
            self.set.note(
                1,
                "",
                "the file holds comments and no command: no rule, the default rules decide",
            );
        }
        self.build();
        Ok(self.set)
    }

    fn statement(&mut self, n: usize, l: &str, w: &[String]) -> Result<(), Diagnostic> {
        let s: Vec<&str> = w.iter().map(String::as_str).collect();
        let (scope, rest): (String, &[String]) = match s.as_slice() {
            ["vsys", v, ..] => (format!("vsys:{v}"), &w[2..]),
            ["device-group", d, ..] => (format!("dg:{d}"), &w[2..]),
            ["shared", ..] => ("shared".to_string(), &w[1..]),
            // A Panorama template carries a firewall's network settings:
            // its zones are read.
            ["template", _, "config", "vsys", v, "zone", ..] => (format!("vsys:{v}"), &w[5..]),
            ["template", _, "config", "shared", ..] => return Ok(()),
            ["template" | "template-stack", ..] => return Ok(()),
            _ => (String::new(), w),
        };
        let r: Vec<&str> = rest.iter().map(String::as_str).collect();
        let need = |i: usize, what: &str| -> Result<String, Diagnostic> {
            rest.get(i).cloned().ok_or_else(|| {
                err(
                    &self.file,
                    n,
                    format!("`{}` stops before {what}", crate::model::cut(l, 120)),
                )
            })
        };
        match r.as_slice() {
            ["address", ..] => {
                let name = need(1, "the address name")?;
                let kind = need(2, "the address type (ip-netmask, ip-range, fqdn)")?;
                let value = rest.get(3).cloned();
                let v: Option<Result<Addrs, String>> = match (kind.as_str(), value) {
                    ("description" | "tag" | "disable-override", _) => None,
                    (_, None) => {
                        return Err(err(&self.file, n, format!("`{l}`: `{kind}` needs a value")))
                    }
                    ("ip-netmask", Some(v)) => {
                        Some(words::addr(&v).ok_or_else(|| format!("`{v}` is not an address")))
                    }
                    ("ip-range", Some(v)) => Some(
                        words::addr_range(&v)
                            .ok_or_else(|| format!("`{v}` is not an address range")),
                    ),
                    ("fqdn", Some(v)) => Some(Ok(Addrs::name(&v))),
                    ("ip-wildcard", Some(v)) => {
                        Some(Err(format!("wildcard address `{v}` is not read")))
                    }
                    (k, Some(_)) => Some(Err(format!("address type `{k}` is not understood"))),
                };
                if let Some(v) = v {
                    if let Err(e) = &v {
                        self.set.issue(
                            n,
                            l,
                            format!("{e}: a rule naming address `{name}` is unknown where it matters (give its members with --member address:{name}=ADDRESS,...)"),
                        );
                    }
                    self.objects
                        .entry(scope)
                        .or_default()
                        .addrs
                        .insert(name, (n, v));
                }
            }
            ["address-group", ..] => {
                let name = need(1, "the group name")?;
                let kind = need(2, "static or dynamic")?;
                let v = match kind.as_str() {
                    "static" => {
                        let m = list(&rest[3..])
                            .map_err(|m| err(&self.file, n, format!("`{l}`: {m}")))?;
                        Some(Ok(m))
                    }
                    "dynamic" => Some(Err(format!("dag:{name}"))),
                    _ => None,
                };
                if let Some(v) = v {
                    let o = self.objects.entry(scope).or_default();
                    let e = o.groups.entry(name).or_insert((n, Ok(Vec::new())));
                    match (v, &mut e.1) {
                        (Ok(m), Ok(old)) => old.extend(m),
                        (v, slot) => *slot = v,
                    }
                }
            }
            ["external-list", name, ..] => {
                self.objects
                    .entry(scope)
                    .or_default()
                    .edls
                    .insert(name.to_string());
            }
            ["service", ..] => {
                let name = need(1, "the service name")?;
                let o = self.objects.entry(scope).or_default();
                let e = o.services.entry(name).or_insert((n, SvcDef::default()));
                // protocol tcp|udp|sctp port P [source-port S] [override ...]
                if r.get(2) == Some(&"protocol") {
                    let proto = need(3, "the protocol")?;
                    e.1.proto = Some(proto);
                    let mut i = 4;
                    while i < rest.len() {
                        match (r[i], rest.get(i + 1)) {
                            ("port", Some(v)) => e.1.port = Some(v.clone()),
                            ("source-port", Some(v)) => e.1.sport = Some(v.clone()),
                            // Session timeouts.
                            ("override", _) => break,
                            (k, None) => {
                                return Err(err(
                                    &self.file,
                                    n,
                                    format!("`{l}`: `{k}` needs a value"),
                                ))
                            }
                            _ => {}
                        }
                        i += 2;
                    }
                }
            }
            ["service-group", ..] => {
                let name = need(1, "the group name")?;
                if r.get(2) == Some(&"members") {
                    let m =
                        list(&rest[3..]).map_err(|m| err(&self.file, n, format!("`{l}`: {m}")))?;
                    let o = self.objects.entry(scope).or_default();
                    o.service_groups
                        .entry(name)
                        .or_insert((n, Vec::new()))
                        .1
                        .extend(m);
                }
            }
            ["zone", z, ..] => {
                let o = self.objects.entry(scope).or_default();
                if !o.zones.iter().any(|(x, _)| x == z) {
                    o.zones.push((z.to_string(), n));
                }
            }
            [base @ ("rulebase" | "pre-rulebase" | "post-rulebase"), "security", "rules", ..] => {
                let name = need(3, "the rule name")?;
                let b = match (*base, scope.as_str()) {
                    ("pre-rulebase", "shared") => Base::SharedPre,
                    ("post-rulebase", "shared") => Base::SharedPost,
                    ("pre-rulebase", _) => Base::Pre,
                    ("post-rulebase", _) => Base::Post,
                    _ => Base::Local,
                };
                self.rule(n, l, scope, b, name, &rest[4..])?;
            }
            ["rulebase" | "pre-rulebase" | "post-rulebase", "default-security-rules", "rules", which, rest2 @ ..] => {
                if let ["action", a, ..] = rest2 {
                    self.defaults
                        .insert(which.to_string(), (n, l.to_string(), a.to_string()));
                }
            }
            ["rulebase" | "pre-rulebase" | "post-rulebase", "nat", "rules", name, ..]
                if r.contains(&"destination-translation")
                    || r.contains(&"dynamic-destination-translation") =>
            {
                let key = format!("nat {name}");
                if self.noted.insert(key) {
                    self.set.issue(
                        n,
                        l,
                        format!("NAT rule {name} translates destinations: security rules match the original (pre-NAT) destination address with the post-NAT zone, which this reader does not model"),
                    );
                }
            }
            // Device settings, profiles, network, logging: no verdict.
            _ => {}
        }
        Ok(())
    }

    fn rule(
        &mut self,
        n: usize,
        l: &str,
        scope: String,
        base: Base,
        name: String,
        kv: &[String],
    ) -> Result<(), Diagnostic> {
        let key = (scope.clone(), base, name.clone());
        let ix = match self.rule_ix.get(&key) {
            Some(&i) => i,
            None => {
                self.rules.push((
                    scope,
                    PRule {
                        name,
                        base: Some(base),
                        line: n,
                        text: l.to_string(),
                        ..PRule::default()
                    },
                ));
                self.rule_ix.insert(key, self.rules.len() - 1);
                self.rules.len() - 1
            }
        };
        let mut i = 0;
        while i < kv.len() {
            let k = kv[i].as_str();
            if !KEYS.contains(&k) {
                if let Some((_, r)) = self.rules.get_mut(ix) {
                    r.odd.push(format!("`{k}` is not understood"));
                }
                i += 1;
                continue;
            }
            if k == "profile-setting" || k == "option" || k == "qos" || k == "target" {
                // Nested settings: skip to the next rule key.
                i += 1;
                while i < kv.len() && !KEYS.contains(&kv[i].as_str()) {
                    i += 1;
                }
                continue;
            }
            let Some(first) = kv.get(i + 1) else {
                return Err(err(
                    &self.file,
                    n,
                    format!("`{}`: `{k}` needs a value", crate::model::cut(l, 120)),
                ));
            };
            let (vals, next) = if first == "[" || first.starts_with('[') {
                let mut j = i + 1;
                let mut v = Vec::new();
                let mut closed = false;
                while j < kv.len() {
                    let x = kv[j].as_str();
                    let t = x.trim_start_matches('[').trim_end_matches(']');
                    if !t.is_empty() {
                        v.push(t.to_string());
                    }
                    j += 1;
                    if x.ends_with(']') {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(err(
                        &self.file,
                        n,
                        format!(
                            "`{}`: the list after `{k}` opens `[` and never closes it",
                            crate::model::cut(l, 120)
                        ),
                    ));
                }
                (v, j)
            } else {
                (vec![first.clone()], i + 2)
            };
            if let Some((_, r)) = self.rules.get_mut(ix) {
                r.kv.entry(k.to_string()).or_default().extend(vals);
            }
            i = next;
        }
        Ok(())
    }

    // ---- building the model ----

    fn build(&mut self) {
        // The scope whose rules are read: one firewall's policy.
        let mut scopes: Vec<(usize, String)> = Vec::new();
        for (s, r) in &self.rules {
            if s != "shared" && !scopes.iter().any(|(_, x)| x == s) {
                scopes.push((r.line, s.clone()));
            }
        }
        let chosen = scopes.first().map(|x| x.1.clone()).unwrap_or_default();
        for (line, s) in scopes.iter().skip(1) {
            let shown = s.replacen(':', " ", 1);
            self.set.issue(
                *line,
                &shown,
                format!("the file holds the rules of several virtual systems or device groups; only {} is read here: audit `{shown}` from its own export", if chosen.is_empty() { "the firewall's own rulebase".to_string() } else { format!("`{}`", chosen.replacen(':', " ", 1)) }),
            );
        }
        let mut rules: Vec<PRule> = Vec::new();
        for (s, r) in std::mem::take(&mut self.rules) {
            if s == chosen || s == "shared" {
                rules.push(r);
            }
        }
        rules.sort_by_key(|r| (r.base, r.line));
        let lookup = [chosen.clone(), "shared".to_string(), String::new()];
        // Zones the configuration knows, for the intrazone default.
        let mut zones: Vec<String> = Vec::new();
        for sc in &lookup {
            if let Some(o) = self.objects.get(sc) {
                for (z, _) in &o.zones {
                    if !zones.contains(z) {
                        zones.push(z.clone());
                    }
                }
            }
        }
        for r in &rules {
            for k in ["from", "to"] {
                for z in r.kv.get(k).into_iter().flatten() {
                    if z != "any" && !zones.contains(z) {
                        zones.push(z.clone());
                    }
                }
            }
        }
        let (end_line, end_text, end_accept) = match self.defaults.get("interzone-default") {
            Some((l, t, a)) => (*l, t.clone(), a == "allow"),
            None => (
                0,
                "interzone-default: deny (the default rule)".to_string(),
                false,
            ),
        };
        let chain = self.set.chain(
            "security rules",
            0,
            End::Policy {
                accept: end_accept,
                line: end_line,
                text: end_text,
            },
        );
        let mut catch_all: Option<(usize, String)> = None;
        for r in &rules {
            let built = self.rule_model(r, &lookup);
            if catch_all.is_none() && is_catch_all(r) {
                catch_all = Some((r.line, r.name.clone()));
            }
            self.set.chains[chain].rules.extend(built);
        }
        if let Some((line, name)) = catch_all {
            // Nothing reaches the default rules.
            self.set.note(
                line,
                &format!("rule {name}"),
                format!("rule {name} matches all traffic: the default rules (intrazone-default, interzone-default) are never reached"),
            );
            self.set.filters.push(Filter::new(
                "security rules",
                Direction::Through,
                Families::BOTH,
                chain,
            ));
            return;
        }
        // intrazone-default.
        let (line, text, allow) = match self.defaults.get("intrazone-default") {
            Some((l, t, a)) => (*l, t.clone(), a == "allow"),
            None => (
                0,
                "intrazone-default: allow (the default rule)".to_string(),
                true,
            ),
        };
        let mut d = Rule::new(
            line,
            &text,
            if allow { Action::Accept } else { Action::Block },
        );
        d.label = Some("intrazone-default".into());
        if zones.is_empty() {
            let k = self.set.issue(
                line,
                &text,
                "the default rule intrazone-default allows traffic whose source and destination are in the same zone, and this configuration defines no zones: where no rule decides, the verdict depends on the zones",
            );
            d.when.push(Cond::Unknown(k));
        } else {
            d.matches = zones
                .iter()
                .map(|z| Match {
                    src: AddrMatch::symbol(format!("zone:{z}")),
                    dst: AddrMatch::symbol(format!("zone:{z}")),
                    ..Match::every()
                })
                .collect();
        }
        self.set.chains[chain].rules.push(d);
        self.set.filters.push(Filter::new(
            "security rules",
            Direction::Through,
            Families::BOTH,
            chain,
        ));
    }

    fn obj<'a, T>(&'a self, lookup: &[String], f: impl Fn(&'a Objects) -> Option<T>) -> Option<T> {
        lookup
            .iter()
            .filter_map(|s| self.objects.get(s))
            .find_map(f)
    }

    /// An address side: literal, object, group, EDL or region.
    fn side(
        &self,
        names: &[String],
        lookup: &[String],
        odd: &mut Vec<String>,
        depth: u8,
    ) -> AddrMatch {
        let mut m = AddrMatch::of(Addrs::none());
        for n in names {
            if n == "any" {
                return AddrMatch::every();
            }
            if depth > 16 || !self.budget.step() {
                odd.push(format!("address group `{n}` nests too deeply (a loop?)"));
                continue;
            }
            if let Some((_, v)) = self.obj(lookup, |o| o.addrs.get(n)) {
                match v {
                    Ok(a) => m.addrs = m.addrs.union(a),
                    // Reported where it is defined.
                    Err(_) => m.symbols.push(format!("address:{n}")),
                }
                continue;
            }
            if let Some((_, g)) = self.obj(lookup, |o| o.groups.get(n)) {
                match g {
                    Ok(members) => {
                        let sub = self.side(members, lookup, odd, depth + 1);
                        if sub.is_every() {
                            return AddrMatch::every();
                        }
                        m.addrs = m.addrs.union(&sub.addrs);
                        m.symbols.extend(sub.symbols);
                    }
                    Err(sym) => m.symbols.push(sym.clone()),
                }
                continue;
            }
            if self
                .obj(lookup, |o| o.edls.contains(n).then_some(()))
                .is_some()
                || n.starts_with("panw-")
            {
                m.symbols.push(format!("edl:{n}"));
                continue;
            }
            if let Some(a) = words::addr(n).or_else(|| words::addr_range(n)) {
                m.addrs = m.addrs.union(&a);
                continue;
            }
            if n.len() == 2 && n.chars().all(|c| c.is_ascii_uppercase()) {
                m.symbols.push(format!("region:{n}"));
                continue;
            }
            m.symbols.push(format!("address:{n}"));
            odd.push(format!("address `{n}` is not defined"));
        }
        m
    }

    /// A service's boxes: (protocol, source ports, destination ports).
    fn service(&self, name: &str, lookup: &[String], odd: &mut Vec<String>, depth: u8) -> Boxes {
        if depth > 16 || !self.budget.step() {
            odd.push(format!("service group `{name}` nests too deeply (a loop?)"));
            return vec![(Ranges::full(), Ranges::full(), Ranges::full())];
        }
        if let Some((_, d)) = self.obj(lookup, |o| o.services.get(name)) {
            let proto = match d.proto.as_deref().and_then(space::proto_number) {
                Some(p) if space::has_ports(p) => p,
                _ => {
                    odd.push(format!(
                        "service `{name}` has no protocol PAN-OS services take (tcp, udp, sctp)"
                    ));
                    return vec![every_box()];
                }
            };
            let ports = |v: &Option<String>, what: &str, odd: &mut Vec<String>| match v {
                None => Some(Ranges::full()),
                Some(v) => match crate::query::port_list(v) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        odd.push(format!("service `{name}` {what}: {e}"));
                        None
                    }
                },
            };
            if d.port.is_none() {
                odd.push(format!("service `{name}` has no destination port"));
                return vec![every_box()];
            }
            let (Some(dp), Some(sp)) = (
                ports(&d.port, "port", odd),
                ports(&d.sport, "source-port", odd),
            ) else {
                return vec![every_box()];
            };
            return vec![(Ranges::one(proto), sp, dp)];
        }
        if let Some((_, members)) = self.obj(lookup, |o| o.service_groups.get(name)) {
            let mut v = Vec::new();
            for m in members {
                v.extend(self.service(m, lookup, odd, depth + 1));
            }
            return v;
        }
        if let Some(p) = predefined_service(name) {
            return p
                .into_iter()
                .map(|(pr, d)| (Ranges::one(pr), Ranges::full(), d))
                .collect();
        }
        odd.push(format!("service `{name}` is not defined"));
        vec![every_box()]
    }

    fn rule_model(&mut self, r: &PRule, lookup: &[String]) -> Vec<Rule> {
        self.budget.reset(200_000);
        let get = |k: &str| -> Vec<String> { r.kv.get(k).cloned().unwrap_or_default() };
        let one = |k: &str| -> Option<String> { r.kv.get(k).and_then(|v| v.last().cloned()) };
        let mut odd = r.odd.clone();
        let label = format!("rule {}", r.name);
        // Sides and zones.
        let from = get("from");
        let to = get("to");
        if from.is_empty() || to.is_empty() {
            odd.push("a rule needs `from` and `to` zones".into());
        }
        let mut src = self.side(&get("source"), lookup, &mut odd, 0);
        let mut dst = self.side(&get("destination"), lookup, &mut odd, 0);
        if get("source").is_empty() || get("destination").is_empty() {
            odd.push("a rule needs `source` and `destination`".into());
        }
        if one("negate-source").as_deref() == Some("yes") {
            src = src.not().unwrap_or_else(AddrMatch::every);
        }
        if one("negate-destination").as_deref() == Some("yes") {
            dst = dst.not().unwrap_or_else(AddrMatch::every);
        }
        let rule_type = one("rule-type").unwrap_or_else(|| "universal".into());
        // (source side, destination side) alternatives.
        let mut sides: Vec<(AddrMatch, AddrMatch)> = Vec::new();
        match rule_type.as_str() {
            "universal" => {
                let s = match set_config::zones(&from) {
                    Some(z) => src.clone().and(z),
                    None => src.clone(),
                };
                let d = match set_config::zones(&to) {
                    Some(z) => dst.clone().and(z),
                    None => dst.clone(),
                };
                sides.push((s, d));
            }
            "intrazone" | "interzone"
                if set_config::zones(&from).is_some() && set_config::zones(&to).is_some() =>
            {
                for a in &from {
                    for b in &to {
                        if (a == b) == (rule_type == "intrazone") {
                            sides.push((
                                src.clone().and(AddrMatch::symbol(format!("zone:{a}"))),
                                dst.clone().and(AddrMatch::symbol(format!("zone:{b}"))),
                            ));
                        }
                    }
                }
            }
            t => {
                odd.push(format!(
                    "rule-type {t} with zone `any`: whether the zones differ is not decidable here"
                ));
                sides.push((src.clone(), dst.clone()));
            }
        }
        for (k, what) in [
            ("source-user", "users"),
            ("category", "URL categories"),
            ("source-hip", "host information profiles"),
            ("destination-hip", "host information profiles"),
            ("hip-profiles", "host information profiles"),
            ("source-imei", "mobile equipment identities"),
            ("source-imsi", "mobile subscriber identities"),
            ("source-nw-slice", "network slices"),
        ] {
            let v = get(k);
            if !v.is_empty() && !v.iter().all(|x| x == "any") {
                odd.push(format!(
                    "`{k} {}` matches {what}, which a flow does not say",
                    v.join(" ")
                ));
            }
        }
        if let Some(s) = one("schedule") {
            odd.push(format!("the rule applies only during schedule `{s}`"));
        }
        // Applications and services.
        let apps = get("application");
        let services = get("service");
        let app_any = apps.is_empty() || apps.iter().any(|a| a == "any");
        if apps.is_empty() {
            odd.push("a rule needs `application`".into());
        }
        let mut app_boxes: Boxes = Vec::new(); // decided
        let mut unsure: Vec<(Boxes, String)> = Vec::new();
        if app_any {
            app_boxes.push((Ranges::full(), Ranges::full(), Ranges::full()));
        } else {
            let mut appid: Vec<String> = Vec::new();
            for a in &apps {
                match header_app(a) {
                    Some(v) => {
                        for (p, t) in v {
                            app_boxes.push((Ranges::one(p), Ranges::full(), t));
                        }
                        if a == "ping" && self.noted.insert("ping".into()) {
                            self.set.note(
                                r.line,
                                &r.text,
                                "App-ID `ping` is taken as ICMP and ICMPv6 echo requests, identified from the first packet",
                            );
                        }
                        // `icmp` leaves echo requests to `ping`: undecided
                        // only when the rule does not name `ping` too.
                        if !apps.iter().any(|x| x == "ping") {
                            for (p, t, why) in header_app_unsure(a) {
                                unsure.push((
                                    vec![(Ranges::one(p), Ranges::full(), t)],
                                    why.to_string(),
                                ));
                            }
                        }
                    }
                    None => appid.push(a.clone()),
                }
            }
            if !appid.is_empty() {
                unsure.push((
                    vec![(Ranges::full(), Ranges::full(), Ranges::full())],
                    format!(
                        "the rule matches only traffic App-ID identifies as {}, which a port and address flow does not say",
                        appid.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        // Services narrow both.
        let app_default = services.iter().any(|s| s == "application-default");
        let svc_any = services.is_empty() || services.iter().any(|s| s == "any");
        if services.is_empty() {
            odd.push("a rule needs `service`".into());
        }
        let svc_boxes: Option<Boxes> = if svc_any || app_default {
            None
        } else {
            let mut v = Vec::new();
            for s in &services {
                v.extend(self.service(s, lookup, &mut odd, 0));
            }
            Some(v)
        };
        if app_default && app_any {
            // Every application on its own default ports.
            unsure.push((
                app_boxes.clone(),
                "`service application-default` with `application any` allows each application only on the ports App-ID takes as its defaults, which a port and address flow does not say".into(),
            ));
            app_boxes.clear();
        }
        let narrow = |b: &Boxes| -> Boxes {
            match &svc_boxes {
                None => b.clone(),
                Some(s) => {
                    let mut out = Vec::new();
                    for (p, sp, dp) in b {
                        for (p2, sp2, dp2) in s {
                            let x = (p.intersect(p2), sp.intersect(sp2), dp.intersect(dp2));
                            if !x.0.is_empty() && !x.1.is_empty() && !x.2.is_empty() {
                                out.push(x);
                            }
                        }
                    }
                    out
                }
            }
        };
        let decided = narrow(&app_boxes);
        let action = match one("action").as_deref() {
            Some("allow") => Action::Accept,
            Some("deny" | "drop" | "reset-client" | "reset-server" | "reset-both") => Action::Block,
            Some(x) => {
                let k = self.set.issue(
                    r.line,
                    &r.text,
                    format!("{label}: action `{x}` is not understood"),
                );
                Action::Unknown(k)
            }
            None => {
                let k = self
                    .set
                    .issue(r.line, &r.text, format!("{label} has no action"));
                Action::Unknown(k)
            }
        };
        let disabled = one("disabled").as_deref() == Some("yes");
        let make = |boxes: &Boxes| -> Vec<Match> {
            let mut v = Vec::new();
            for (s, d) in &sides {
                for (p, sp, dp) in boxes {
                    v.extend(crate::junos::by_family(Match {
                        proto: p.clone(),
                        src: s.clone(),
                        dst: d.clone(),
                        sport: sp.clone(),
                        dport: dp.clone(),
                    }));
                }
            }
            v
        };
        let mut out = Vec::new();
        let mut main = Rule::new(r.line, &r.text, action.clone());
        main.label = Some(label.clone());
        main.matches = make(&decided);
        if disabled {
            main.when
                .push(Cond::Never("the rule is disabled (`disabled yes`)".into()));
        }
        if !odd.is_empty() {
            let k = self
                .set
                .issue(r.line, &r.text, format!("{label}: {}", odd.join("; ")));
            main.when.push(Cond::Unknown(k));
        }
        let has_main = !main.matches.is_empty() || unsure.is_empty();
        let when = main.when.clone();
        if has_main {
            out.push(main);
        }
        for (boxes, why) in unsure {
            let b = narrow(&boxes);
            if b.is_empty() {
                continue;
            }
            let mut u = Rule::new(r.line, &r.text, action.clone());
            u.label = Some(format!("{label} (App-ID)"));
            u.matches = make(&b);
            u.when = when.clone();
            if !disabled {
                let k = self.set.issue(r.line, &r.text, format!("{label}: {why}"));
                u.when.push(Cond::Unknown(k));
            }
            out.push(u);
        }
        out
    }
}

/// Whether a rule decides all traffic: every condition `any`, enabled,
/// allowing or blocking, nothing this reader does not understand.
fn is_catch_all(r: &PRule) -> bool {
    let any = |k: &str| {
        r.kv.get(k)
            .is_some_and(|v| !v.is_empty() && v.iter().all(|x| x == "any"))
    };
    let none_or_any = |k: &str| r.kv.get(k).is_none_or(|v| v.iter().all(|x| x == "any"));
    [
        "from",
        "to",
        "source",
        "destination",
        "application",
        "service",
    ]
    .iter()
    .all(|k| any(k))
        && [
            "source-user",
            "category",
            "source-hip",
            "destination-hip",
            "hip-profiles",
        ]
        .iter()
        .all(|k| none_or_any(k))
        && r.odd.is_empty()
        && !r.kv.contains_key("schedule")
        && r.kv
            .get("disabled")
            .is_none_or(|v| v.last().map(String::as_str) != Some("yes"))
        && r.kv
            .get("negate-source")
            .is_none_or(|v| v.last().map(String::as_str) != Some("yes"))
        && r.kv
            .get("negate-destination")
            .is_none_or(|v| v.last().map(String::as_str) != Some("yes"))
        && r.kv
            .get("rule-type")
            .is_none_or(|v| v.last().map(String::as_str) == Some("universal"))
        && matches!(
            r.kv.get("action")
                .and_then(|v| v.last())
                .map(String::as_str),
            Some("allow" | "deny" | "drop" | "reset-client" | "reset-server" | "reset-both")
        )
}

/// A list value: `[ a b ]` or one word.
fn list(w: &[String]) -> Result<Vec<String>, String> {
    let mut v = Vec::new();
    let opened = w.first().is_some_and(|x| x.starts_with('['));
    let mut closed = !opened;
    for x in w {
        let t = x.trim_start_matches('[').trim_end_matches(']');
        if !t.is_empty() {
            v.push(t.to_string());
        }
        if opened && x.ends_with(']') {
            closed = true;
            break;
        }
        if !opened {
            break;
        }
    }
    if !closed {
        return Err("a list opens `[` and never closes it".into());
    }
    if v.is_empty() {
        return Err("the list is empty".into());
    }
    Ok(v)
}

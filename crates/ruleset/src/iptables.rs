//! Reads `iptables-restore` input: what `render/src/iptables.rs` writes, and
//! `iptables-save` / `ip6tables-save` output from a live host.
//!
//! Semantics (iptables(8), iptables-extensions(8)): tables are passed in
//! netfilter's order (raw, mangle, nat, filter, security); in a table, a
//! built-in chain is a first-match list ending in its policy, user chains
//! are entered by `-j` (and return at their end or on RETURN) or `-g`.
//! INPUT judges traffic to this host, OUTPUT traffic from it, FORWARD what
//! it routes; PREROUTING sees the first two kinds of arriving traffic.
//! A packet must be accepted in every table it passes.

use crate::model::*;
use crate::space::{self, Addrs, Ranges};
use crate::words::{self, words};
use crate::Reader;
use portplan_model::Diagnostic;
use std::collections::HashMap;

pub struct Iptables;

impl Reader for Iptables {
    fn name(&self) -> &'static str {
        "iptables"
    }
    fn about(&self) -> &'static str {
        "iptables-restore input, iptables-save or ip6tables-save output"
    }
    fn sniff(&self, text: &str) -> u8 {
        let mut score = 0;
        for l in text.lines().take(400) {
            let l = l.trim();
            if l.starts_with("*filter")
                || l.starts_with("*nat")
                || l.starts_with("*mangle")
                || l.starts_with("*raw")
            {
                score = score.max(60);
            }
            if l.starts_with("-A ") && (l.contains(" -j ") || l.contains(" -g ")) {
                score = score.max(70);
            }
            if l.starts_with(":INPUT ") || l.starts_with(":FORWARD ") {
                score = score.max(80);
            }
            if l.contains("iptables-save") || l.contains("ip6tables-save") {
                score = score.max(90);
            }
        }
        score
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

/// Tables in the order netfilter passes them.
const TABLE_ORDER: &[&str] = &["raw", "mangle", "nat", "filter", "security"];

struct Table {
    name: String,
    line: usize,
    chains: HashMap<String, usize>,
    /// Built-in chains, in file order.
    builtins: Vec<(String, usize)>,
    /// Rules in file order: chain name, line, text.
    rules: Vec<(String, usize, String)>,
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let six = text
        .lines()
        .take(5)
        .any(|l| l.contains("by ip6tables-save"))
        || looks_v6(text);
    let fam = if six { Families::V6 } else { Families::V4 };
    let mut set = Ruleset::new("iptables", file);
    // One host's (or router's) hooks: they see replies and judge them by
    // connection state.
    set.tracks_connections = true;
    let mut tables: Vec<Table> = Vec::new();
    let mut open = false;
    let err = |line: usize, m: String| {
        Diagnostic::error(file, m).at(Some(portplan_model::Location { line, column: 1 }))
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(t) = l.strip_prefix('*') {
            if open {
                return Err(err(
                    n,
                    format!("table `{t}` starts before the previous table's COMMIT"),
                ));
            }
            open = true;
            tables.push(Table {
                name: t.trim().to_string(),
                line: n,
                chains: HashMap::new(),
                builtins: Vec::new(),
                rules: Vec::new(),
            });
            continue;
        }
        if l == "COMMIT" {
            if !open {
                return Err(err(n, "COMMIT without a table (`*filter`)".into()));
            }
            open = false;
            continue;
        }
        let Some(table) = tables.last_mut().filter(|_| open) else {
            return Err(err(
                n,
                format!("`{}` is outside a table: iptables-save files start tables with `*filter` and end them with COMMIT", words::words(l).first().cloned().unwrap_or_default()),
            ));
        };
        if let Some(decl) = l.strip_prefix(':') {
            let w = words(decl);
            let (Some(name), Some(policy)) = (w.first(), w.get(1)) else {
                return Err(err(
                    n,
                    format!(
                        "chain declaration `{l}` needs a name and a policy (`:INPUT DROP [0:0]`)"
                    ),
                ));
            };
            let end = match policy.as_str() {
                "ACCEPT" => End::Policy { accept: true, line: n, text: l.to_string() },
                "DROP" => End::Policy { accept: false, line: n, text: l.to_string() },
                "-" => End::Return,
                p => return Err(err(n, format!("chain `{name}` has policy `{p}`: a policy is ACCEPT, DROP or `-` (user chain)"))),
            };
            let builtin = !matches!(end, End::Return);
            let idx = set.chain(format!("{} {name}", table.name), n, end);
            table.chains.insert(name.clone(), idx);
            if builtin {
                table.builtins.push((name.clone(), idx));
            }
            continue;
        }
        let w = words(l);
        match w.first().map(String::as_str) {
            Some("-A") | Some("--append") => {
                let Some(chain) = w.get(1) else {
                    return Err(err(n, "`-A` needs a chain name".into()));
                };
                table.rules.push((chain.clone(), n, l.to_string()));
            }
            Some("-I") | Some("-N") | Some("-P") => {
                set.issue(
                    n,
                    l,
                    "iptables commands other than -A are not read (use iptables-save output)",
                );
            }
            _ => {
                return Err(err(n, format!("`{l}` is not iptables-save syntax: expected `*table`, `:CHAIN POLICY`, `-A CHAIN ...` or COMMIT")));
            }
        }
    }
    if open {
        let line = tables.last().map_or(1, |t| t.line);
        return Err(err(
            line,
            "the table is never committed: add COMMIT at its end".into(),
        ));
    }
    if tables.is_empty() {
        return Err(Diagnostic::error(
            file,
            "no table found: iptables-save output starts with `*filter`",
        ));
    }
    // Rules, once every chain is declared (jumps may point forward).
    for t in &tables {
        for (chain, line, l) in &t.rules {
            let Some(&c) = t.chains.get(chain) else {
                return Err(err(
                    *line,
                    format!(
                        "chain `{chain}` is not declared in table {}: add `:{chain} - [0:0]`",
                        t.name
                    ),
                ));
            };
            let mut rule = rule(&mut set, t, *line, l);
            if t.name == "nat" {
                // Netfilter passes only a connection's first packet through
                // the nat table: its rules never see the later ones.
                rule.when.push(Cond::States {
                    new: true,
                    later: false,
                });
            }
            set.chains[c].rules.push(rule);
        }
    }
    tables.sort_by_key(|t| TABLE_ORDER.iter().position(|x| *x == t.name).unwrap_or(99));
    for t in &tables {
        for (name, idx) in &t.builtins {
            // A nat chain decides nothing: it matters only where it
            // rewrites a destination (DNAT, REDIRECT), which makes what the
            // filter table sees unknown.
            if t.name == "nat" && !rewrites(&set, *idx) {
                continue;
            }
            if t.name == "nat" {
                // Its ACCEPT policy lets everything on to the filter table:
                // it is no decision worth naming.
                if let End::Policy { line, .. } = &mut set.chains[*idx].end {
                    *line = 0;
                }
            }
            let dirs: &[Direction] = match name.as_str() {
                "INPUT" => &[Direction::In],
                "OUTPUT" => &[Direction::Out],
                "FORWARD" => &[Direction::Through],
                "PREROUTING" => &[Direction::In, Direction::Through],
                "POSTROUTING" => &[Direction::Out, Direction::Through],
                _ => {
                    set.issue(
                        set.chains[*idx].line,
                        name,
                        format!(
                            "built-in chain `{name}` of table {} is not one iptables knows",
                            t.name
                        ),
                    );
                    continue;
                }
            };
            for d in dirs {
                set.filters
                    .push(Filter::new(format!("{} {name}", t.name), *d, fam, *idx));
            }
        }
    }
    Ok(set)
}

/// `--tcp-flags MASK COMP` on a packet carrying `flags`: every flag of the
/// mask is set exactly when COMP names it.
fn tcp_flags_match(mask: &str, comp: &str, flags: &[&str]) -> bool {
    const ALL: [&str; 6] = ["SYN", "ACK", "FIN", "RST", "URG", "PSH"];
    let list = |s: &str| -> Vec<String> {
        match s.to_ascii_uppercase().as_str() {
            "ALL" => ALL.iter().map(|x| x.to_string()).collect(),
            "NONE" => Vec::new(),
            o => o.split(',').map(str::to_string).collect(),
        }
    };
    let (m, c) = (list(mask), list(comp));
    m.iter()
        .all(|f| flags.contains(&f.as_str()) == c.contains(f))
}

/// Whether a chain, or a chain it jumps to, has a rule whose verdict is
/// unknown (a destination rewrite).
fn rewrites(set: &Ruleset, chain: usize) -> bool {
    set.reachable(chain).into_iter().any(|c| {
        set.chains[c]
            .rules
            .iter()
            .any(|r| matches!(r.action, Action::Unknown(_)))
    })
}

fn looks_v6(text: &str) -> bool {
    text.lines()
        .filter(|l| l.starts_with("-A "))
        .take(200)
        .any(|l| {
            let w = words(l);
            w.windows(2).any(|p| {
                matches!(p[0].as_str(), "-s" | "-d" | "--source" | "--destination")
                    && p[1].contains(':')
            }) || l.contains("ipv6-icmp")
                || l.contains("icmpv6")
        })
}

/// Options whose meaning does not narrow which packets of a new connection
/// match (or whose matching the model does not need).
const HARMLESS_MATCHES: &[&str] = &[
    "comment",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "icmpv6",
    "ipv6-icmp",
    "multiport",
    "conntrack",
    "state",
    "set",
    "iprange",
    "sctp",
];

/// One `-A CHAIN ...` line.
fn rule(set: &mut Ruleset, t: &Table, line: usize, l: &str) -> Rule {
    let w = words(l);
    let mut r = Rule::new(line, l, Action::Next);
    let mut m = Match::every();
    let mut alts_sport: Option<Ranges<u16>> = None; // multiport --ports
    let mut neg = false;
    let mut unknown: Vec<String> = Vec::new();
    let mut i = 2;
    let mut target: Option<(bool, String)> = None;
    let mut proto_seen = false;
    let take = |i: &mut usize| -> Option<String> {
        *i += 1;
        w.get(*i).cloned()
    };
    while i < w.len() {
        let o = w[i].clone();
        if o == "!" {
            neg = true;
            i += 1;
            continue;
        }
        let mut arg = |i: &mut usize| -> String {
            // Old syntax: `-s ! 10.0.0.1`.
            let v = take(i).unwrap_or_default();
            if v == "!" {
                neg = !neg;
                take(i).unwrap_or_default()
            } else {
                v
            }
        };
        match o.as_str() {
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                let v = arg(&mut i);
                let mut a = Addrs::none();
                let mut bad = false;
                for part in v.split(',') {
                    match words::addr(part) {
                        Some(x) => a = a.union(&x),
                        None => bad = true,
                    }
                }
                if bad || v.is_empty() {
                    unknown.push(format!("`{o} {v}` is not an address"));
                }
                let am = AddrMatch {
                    negated: neg,
                    ..AddrMatch::of(a)
                };
                if o.starts_with("-s") || o.starts_with("--s") {
                    m.src = am;
                } else {
                    m.dst = am;
                }
            }
            "-p" | "--protocol" => {
                let v = arg(&mut i);
                proto_seen = true;
                let p = if v == "all" || v == "0" {
                    Ranges::full()
                } else {
                    match space::proto_number(&v) {
                        Some(p) => Ranges::one(p),
                        None => {
                            unknown.push(format!("protocol `{v}`"));
                            Ranges::full()
                        }
                    }
                };
                m.proto = if neg { p.complement() } else { p };
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let v = arg(&mut i);
                let sym = format!("interface:{v}");
                let am = AddrMatch {
                    negated: neg,
                    ..AddrMatch::symbol(sym)
                };
                // Arriving on an interface: from what lies behind it;
                // leaving by one: to what lies behind it.
                if o == "-i" || o == "--in-interface" {
                    m.src = merge_side(&m.src, am);
                } else {
                    m.dst = merge_side(&m.dst, am);
                }
            }
            "--dport" | "--destination-port" | "--sport" | "--source-port" => {
                let v = arg(&mut i);
                let p = match words::port_span(&v, ':') {
                    Some((a, b)) => Ranges::range(a, b),
                    None => {
                        unknown.push(format!("port `{v}`"));
                        Ranges::full()
                    }
                };
                let p = if neg { p.complement() } else { p };
                if o.contains('d') && !o.contains("source") {
                    m.dport = p;
                } else {
                    m.sport = p;
                }
            }
            "--dports" | "--destination-ports" | "--sports" | "--source-ports" | "--ports" => {
                let v = arg(&mut i);
                let mut spans = Vec::new();
                for part in v.split(',') {
                    match words::port_span(part, ':') {
                        Some(s) => spans.push(s),
                        None => unknown.push(format!("port `{part}`")),
                    }
                }
                let p = Ranges::from_iter(spans);
                let p = if neg { p.complement() } else { p };
                match o.as_str() {
                    "--ports" => alts_sport = Some(p),
                    x if x.starts_with("--d") => m.dport = p,
                    _ => m.sport = p,
                }
            }
            "--icmp-type" | "--icmpv6-type" => {
                let v = arg(&mut i);
                let ty = v.split('/').next().unwrap_or("");
                let six = o == "--icmpv6-type";
                let n = ty.parse::<u8>().ok().or_else(|| {
                    portplan_model::ports::icmp_type_numbers(ty)
                        .and_then(|(a, b)| if six { b } else { a })
                });
                match n {
                    Some(n) if ty != "any" => {
                        let p = Ranges::one(u16::from(n));
                        m.dport = if neg {
                            Ranges::range(0, 255).subtract(&p)
                        } else {
                            p
                        };
                    }
                    _ if ty == "any" => m.dport = Ranges::range(0, 255),
                    _ => unknown.push(format!("ICMP type `{v}`")),
                }
            }
            "--ctstate" | "--state" => {
                let v = arg(&mut i);
                let has = |x: &str| v.split(',').any(|s| s.eq_ignore_ascii_case(x));
                // A connection's first packet is NEW; the rest, both ways,
                // ESTABLISHED (RELATED: ICMP errors and expected connections).
                let new = has("NEW") != neg;
                let later = (has("ESTABLISHED") || has("RELATED")) != neg;
                if !(new && later) {
                    r.when.push(Cond::States { new, later });
                }
            }
            "--syn" => {
                // A bare SYN: the first packet, never a later one.
                r.when.push(Cond::States {
                    new: !neg,
                    later: neg,
                });
            }
            "-f" | "--fragment" => {
                if !neg {
                    r.when
                        .push(Cond::Never("matches only later fragments".into()));
                }
            }
            "--comment" => {
                let v = arg(&mut i);
                r.label = Some(v);
            }
            "--match-set" => {
                let name = arg(&mut i);
                let dirs = take(&mut i).unwrap_or_default();
                let sym = format!("ipset:{name}");
                let am = AddrMatch {
                    negated: neg,
                    ..AddrMatch::symbol(sym)
                };
                match dirs.split(',').next() {
                    Some("src") => m.src = merge_side(&m.src, am),
                    Some("dst") => m.dst = merge_side(&m.dst, am),
                    _ => unknown.push(format!("set direction `{dirs}`")),
                }
            }
            "--src-range" | "--dst-range" => {
                let v = arg(&mut i);
                match words::addr_range(&v) {
                    Some(a) => {
                        let am = AddrMatch {
                            negated: neg,
                            ..AddrMatch::of(a)
                        };
                        if o == "--src-range" {
                            m.src = am;
                        } else {
                            m.dst = am;
                        }
                    }
                    None => unknown.push(format!("address range `{v}`")),
                }
            }
            "-m" | "--match" => {
                let v = arg(&mut i);
                if !HARMLESS_MATCHES.contains(&v.as_str()) {
                    unknown.push(format!("match `-m {v}`"));
                }
                // The module's own options are read (or skipped) as they come.
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let v = take(&mut i).unwrap_or_default();
                target = Some((o == "-g" || o == "--goto", v));
                // Target options (`--reject-with`, `--log-prefix`) follow.
                i += 1;
                while i < w.len()
                    && w[i] != "!"
                    && !(w[i].starts_with('-') && is_match_option(&w[i]))
                {
                    i += 1;
                }
                continue;
            }
            "--tcp-flags" => {
                let mask = arg(&mut i);
                let comp = take(&mut i).unwrap_or_default();
                // A connection's first packet is a bare SYN; the packets
                // after it carry ACK.
                let new = tcp_flags_match(&mask, &comp, &["SYN"]) != neg;
                let later = tcp_flags_match(&mask, &comp, &["ACK"]) != neg;
                if !(new && later) {
                    r.when.push(Cond::States { new, later });
                }
            }
            // Options of harmless modules that take a value.
            "--log-prefix" | "--log-level" | "--reject-with" | "--set-mark"
            | "--to-destination" | "--to-source" | "--to-ports" => {
                let _ = arg(&mut i);
            }
            x if x.starts_with('-') => {
                unknown.push(format!("option `{x}`"));
                // Skip its value, if any.
                if w.get(i + 1).is_some_and(|v| !v.starts_with('-')) {
                    i += 1;
                }
            }
            x => unknown.push(format!("`{x}`")),
        }
        neg = false;
        i += 1;
    }
    let _ = proto_seen;
    r.action = match &target {
        None => Action::Next,
        Some((goto, tg)) => match tg.as_str() {
            "ACCEPT" => Action::Accept,
            "DROP" | "REJECT" => Action::Block,
            "RETURN" => Action::Return,
            "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "CT" | "TRACE" | "AUDIT"
            | "NOTRACK" | "CLASSIFY" | "DSCP" | "TOS" | "TCPMSS" | "CHECKSUM" | "SNAT"
            | "MASQUERADE" => Action::Next,
            "DNAT" | "REDIRECT" | "NETMAP" => {
                let k = set.issue(line, l, format!("`-j {tg}` rewrites the destination: the filter table sees the new address, which this audit does not follow"));
                Action::Unknown(k)
            }
            name => match t.chains.get(name) {
                Some(&c) if *goto => Action::Goto(c),
                Some(&c) => Action::Jump(c),
                None => {
                    let k = set.issue(line, l, format!("target `{name}` is neither a chain of table {} nor a target this reader knows", t.name));
                    Action::Unknown(k)
                }
            },
        },
    };
    if let Some(p) = alts_sport {
        // `--ports`: either port.
        let mut a = m.clone();
        a.dport = p.clone();
        let mut b = m;
        b.sport = p;
        r.matches = vec![a, b];
    } else {
        r.matches = vec![m];
    }
    if !unknown.is_empty() && !matches!(r.action, Action::Next) {
        let k = set.issue(line, l, format!("not understood: {}", unknown.join(", ")));
        r.when.push(Cond::Unknown(k));
    }
    r
}

/// Options that start a new match (so a target's options end before them).
fn is_match_option(w: &str) -> bool {
    matches!(
        w,
        "-m" | "--match"
            | "-s"
            | "-d"
            | "-p"
            | "-i"
            | "-o"
            | "--source"
            | "--destination"
            | "--protocol"
    )
}

/// Two conditions on one side (`-s 10.0.0.0/8 -i eth0`): both must hold.
fn merge_side(old: &AddrMatch, new: AddrMatch) -> AddrMatch {
    old.clone().and(new)
}

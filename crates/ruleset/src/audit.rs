//! A ruleset against a plan: each planned flow's verdict (allowed, blocked,
//! partly, unknown) with the rule that decided it, then the other direction:
//! rules that permit more than the plan needs, rules earlier rules shadow,
//! rules no planned flow reaches.

use crate::eval::{Alt, CRule, Compiled, Hit, Members, Outcome};
use crate::index::ChainIndex;
use crate::model::{Action, Direction, End, RuleAt, Ruleset};
use crate::space::{self, subtract_all, Addrs, Ranges, Space};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;

/// A rule (or a chain's end) as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub line: usize,
    pub chain: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl RuleRef {
    pub fn of(set: &Ruleset, hit: Hit) -> RuleRef {
        match hit {
            Hit::Rule(at) => {
                let chain = set.chains.get(at.chain);
                let r = chain.and_then(|c| c.rules.get(at.rule));
                RuleRef {
                    line: r.map_or(0, |r| r.line),
                    chain: chain.map_or_else(String::new, |c| c.name.clone()),
                    text: r.map_or_else(String::new, |r| r.text.clone()),
                    label: r.and_then(|r| r.label.clone()),
                }
            }
            Hit::Policy { chain } => {
                let c = set.chains.get(chain);
                let (line, text) = match c.map(|c| &c.end) {
                    Some(End::Policy { line, text, .. }) => (*line, text.clone()),
                    _ => (0, String::new()),
                };
                RuleRef {
                    line,
                    chain: c.map_or_else(String::new, |c| c.name.clone()),
                    text,
                    label: None,
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Allowed,
    Blocked,
    /// Some ports or addresses pass, others are blocked.
    Partly,
    Unknown,
    /// No filter of the ruleset sees this flow.
    NotCarried,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Blocked => "blocked",
            Verdict::Partly => "partly",
            Verdict::Unknown => "unknown",
            Verdict::NotCarried => "not-carried",
        }
    }
}

/// One part of a flow with one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub outcome: Verdict,
    /// Which part of the flow, where it is not all of it: `tcp 8443`,
    /// `from 10.0.0.0/24`; empty for the whole flow.
    pub what: String,
    /// The deciding rules: for `allowed`, one per filter that applies.
    pub by: Vec<RuleRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The parts themselves where they do not pass (for `--missing`);
    /// empty for allowed parts, which nothing reads again.
    #[serde(skip)]
    pub spaces: Vec<Space>,
}

/// A flow's verdict and its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judged {
    pub verdict: Verdict,
    pub parts: Vec<Part>,
    #[serde(skip)]
    pub hits: Vec<Hit>,
}

/// The verdict for a flow given as boxes.
pub fn judge(c: &Compiled, spaces: &[Space], host: Option<&Addrs>) -> Judged {
    // Pieces with one outcome form a part; a flow has one or a few, so a
    // list searched in place costs less than a map keyed by text.
    type Group = (Outcome, Option<&'static str>, Vec<(Space, usize)>);
    let mut groups: Vec<Group> = Vec::new();
    let mut hits = Vec::new();
    for (w, whole) in spaces.iter().enumerate() {
        for (piece, first) in c.evaluate(whole, host) {
            for (piece, o, note) in later_packets(c, piece, first, host) {
                match &o {
                    Outcome::Allowed(h) => hits.extend(h.iter().copied()),
                    Outcome::Blocked(h) => hits.push(*h),
                    Outcome::Unknown { at: Some(h), .. } => hits.push(*h),
                    _ => {}
                }
                match groups.iter_mut().find(|g| g.0 == o && g.1 == note) {
                    Some(g) => g.2.push((piece, w)),
                    None => groups.push((o, note, vec![(piece, w)])),
                }
            }
        }
    }
    // The parts in a stable order (the one the report has always had).
    if groups.len() > 1 {
        groups.sort_by_cached_key(|g| format!("{:?}{:?}", g.0, g.1));
    }
    let mut parts = Vec::new();
    for (o, note, pieces) in groups {
        let (outcome, by, why) = match &o {
            Outcome::Allowed(h) => {
                // Where a rule allowed it, the implicit accepts of other
                // filters it passed (GCP's implied egress rule) say nothing
                // more; a policy the file writes is named.
                let rules = h.iter().any(|x| matches!(x, Hit::Rule(_)));
                let implicit = |x: &Hit| match x {
                    Hit::Policy { chain } => matches!(
                        c.set.chains.get(*chain).map(|ch| &ch.end),
                        Some(End::Policy { line: 0, .. })
                    ),
                    Hit::Rule(_) => false,
                };
                let by = h
                    .iter()
                    .filter(|x| !rules || !implicit(x))
                    .map(|x| RuleRef::of(c.set, *x))
                    .collect();
                (Verdict::Allowed, by, None)
            }
            Outcome::Blocked(h) => (
                Verdict::Blocked,
                vec![RuleRef::of(c.set, *h)],
                note.map(String::from),
            ),
            Outcome::Unknown { why, at } => (
                Verdict::Unknown,
                at.iter().map(|x| RuleRef::of(c.set, *x)).collect(),
                Some(match note {
                    Some(n) => format!("{n}: {why}"),
                    None => why.clone(),
                }),
            ),
            Outcome::NotCarried => (Verdict::NotCarried, vec![], None),
        };
        // Pieces of the same flow box with one outcome, merged back.
        let mut by_whole: Vec<(usize, Vec<Space>)> = Vec::new();
        for (p, w) in pieces {
            match by_whole.iter_mut().find(|(x, _)| spaces[*x] == spaces[w]) {
                Some((_, v)) => v.push(p),
                None => by_whole.push((w, vec![p])),
            }
        }
        let pieces: Vec<(Space, &Space)> = by_whole
            .into_iter()
            .flat_map(|(w, v)| {
                let whole = &spaces[w];
                let v = if v.len() == 1 { v } else { space::coalesce(v) };
                v.into_iter().map(move |p| (p, whole))
            })
            .collect();
        let total = pieces.len();
        let mut texts: Vec<String> = pieces.iter().map(|(p, w)| describe_part(p, w)).collect();
        texts.sort();
        texts.dedup();
        let what = if texts.iter().any(String::is_empty) && total == 1 {
            String::new()
        } else if texts.len() > 4 {
            format!(
                "{}; and {} more parts",
                texts[..4].join("; "),
                texts.len() - 4
            )
        } else {
            texts.join("; ")
        };
        parts.push(Part {
            outcome,
            what,
            by,
            why,
            spaces: if outcome == Verdict::Allowed {
                Vec::new()
            } else {
                pieces.into_iter().map(|(p, _)| p).collect()
            },
        });
    }
    let has = |v: Verdict| parts.iter().any(|p| p.outcome == v);
    let verdict = if has(Verdict::Unknown) {
        Verdict::Unknown
    } else if has(Verdict::Allowed) && has(Verdict::Blocked) {
        Verdict::Partly
    } else if has(Verdict::Blocked) {
        Verdict::Blocked
    } else if has(Verdict::Allowed) {
        Verdict::Allowed
    } else {
        Verdict::NotCarried
    };
    // Parts no filter sees say nothing once others are judged.
    if verdict != Verdict::NotCarried {
        parts.retain(|p| p.outcome != Verdict::NotCarried);
    }
    parts.sort_by_key(|p| p.outcome);
    hits.sort();
    hits.dedup();
    // Kept for every flow of an audit: no spare room.
    parts.shrink_to_fit();
    hits.shrink_to_fit();
    Judged {
        verdict,
        parts,
        hits,
    }
}

/// Where the ruleset tracks connections, a first packet it lets through is
/// only half of a working flow: the packets after it, and the replies,
/// must pass too (a rule set without `ct state established accept` stops a
/// TCP handshake at its third packet). Each part of `piece` comes back with
/// its outcome, and a note where a later packet or a reply decided it.
fn later_packets(
    c: &Compiled,
    piece: Space,
    first: Outcome,
    host: Option<&Addrs>,
) -> Vec<(Space, Outcome, Option<&'static str>)> {
    let (Some(later), Outcome::Allowed(_)) = (&c.later, &first) else {
        return vec![(piece, first, None)];
    };
    // Which way a reply goes through a host's hooks is known only when the
    // host is.
    if host.is_none() && c.set.is_host_firewall() {
        return vec![(piece, first, None)];
    }
    let Some(mut rev) = reply(&piece) else {
        return vec![(piece, first, None)];
    };
    let ported = space::has_ports(piece.proto.spans().first().map_or(0, |s| s.0));
    // Clients send from ephemeral ports, so replies go to one of them: a
    // rule about port 8081 is no rule about a web client's replies. The
    // range covers the systems' defaults: Linux 32768-60999, Windows and
    // the BSDs 49152-65535.
    let ephemeral = Ranges::range(32768, 65535);
    if ported {
        rev.dport = rev.dport.intersect(&ephemeral);
    }
    let passes = |o: &Outcome| matches!(o, Outcome::Allowed(_) | Outcome::NotCarried);
    // A TCP connection's later packets (its handshake's ACK) must pass; a
    // UDP or ICMP exchange may be one datagram and its reply.
    let tcp = piece.proto.spans() == [(space::TCP, space::TCP)];
    let forward = if tcp {
        later.evaluate(&piece, host)
    } else {
        vec![(piece.clone(), Outcome::NotCarried)]
    };
    // Replies in the flow's own terms.
    let mut back: Vec<(Space, Outcome)> = later
        .evaluate(&rev, host)
        .into_iter()
        .filter_map(|(s, o)| reply(&s).map(|s| (s, o)))
        .collect();
    if ported {
        let mut low = piece.clone();
        low.sport = low.sport.subtract(&ephemeral);
        if !low.is_empty() {
            back.push((low, Outcome::NotCarried));
        }
    }
    let mut out = Vec::new();
    for (fs, fo) in &forward {
        for (bs, bo) in &back {
            let Some(x) = fs.intersect(bs) else { continue };
            let (o, note) = if !passes(fo) {
                (
                    fo.clone(),
                    Some("its later packets are stopped (only its first packet passes)"),
                )
            } else if !passes(bo) {
                (
                    bo.clone(),
                    Some("its replies are stopped (a one-way service such as syslog needs none)"),
                )
            } else {
                (first.clone(), None)
            };
            out.push((x, o, note));
        }
    }
    out
}

/// The replies of a flow's part (source and destination, source and
/// destination ports swapped; an echo request's echo reply), or `None` for
/// a protocol whose replies connection tracking does not pair (ESP) or an
/// ICMP type that has none.
fn reply(s: &Space) -> Option<Space> {
    let proto = s.proto.spans();
    let only = |p: u8| proto.len() == 1 && proto[0] == (p, p);
    let dport = if only(space::TCP) || only(space::UDP) {
        s.sport.clone()
    } else if only(space::ICMP) && s.dport == Ranges::one(8) {
        Ranges::one(0)
    } else if only(space::ICMP) && s.dport == Ranges::one(0) {
        Ranges::one(8)
    } else if only(space::ICMPV6) && s.dport == Ranges::one(128) {
        Ranges::one(129)
    } else if only(space::ICMPV6) && s.dport == Ranges::one(129) {
        Ranges::one(128)
    } else {
        return None;
    };
    let sport = if only(space::TCP) || only(space::UDP) {
        s.dport.clone()
    } else {
        Ranges::full()
    };
    Some(Space {
        proto: s.proto.clone(),
        src: s.dst.clone(),
        dst: s.src.clone(),
        sport,
        dport,
    })
}

/// How `p` differs from `whole`, the flow it is part of.
pub fn describe_part(p: &Space, whole: &Space) -> String {
    let mut out = Vec::new();
    if p.proto != whole.proto {
        out.push(protos(&p.proto));
    }
    if p.dport != whole.dport {
        let icmp = p
            .proto
            .spans()
            .iter()
            .all(|&(a, b)| a == b && (a == 1 || a == 58));
        if icmp {
            out.push(format!("type {}", ports(&p.dport)));
        } else {
            out.push(format!("port {}", ports(&p.dport)));
        }
    }
    if p.src != whole.src {
        out.push(format!("from {}", p.src.describe()));
    }
    if p.dst != whole.dst {
        out.push(format!("to {}", p.dst.describe()));
    }
    if p.sport != whole.sport {
        out.push(format!("source port {}", ports(&p.sport)));
    }
    out.join(" ")
}

pub fn ports(r: &Ranges<u16>) -> String {
    if r.is_full() {
        return "any".into();
    }
    r.spans()
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn protos(r: &Ranges<u8>) -> String {
    if r.is_full() {
        return "any protocol".into();
    }
    let n = r.count();
    if n > 8 {
        return format!("{n} protocols");
    }
    let mut v = Vec::new();
    for &(a, b) in r.spans() {
        for p in a..=b {
            v.push(space::proto_name(p));
        }
    }
    v.join(",")
}

/// A box as one line: `tcp 443 from 10.0.0.0/24 to 10.0.1.5`.
pub fn describe_space(s: &Space) -> String {
    let mut out = vec![protos(&s.proto)];
    let ported = s
        .proto
        .spans()
        .iter()
        .all(|&(a, b)| (a..=b).all(space::has_ports));
    let icmp = s
        .proto
        .spans()
        .iter()
        .all(|&(a, b)| a == b && (a == 1 || a == 58));
    if !s.dport.is_full() || ported {
        if icmp {
            out.push(format!("type {}", ports(&s.dport)));
        } else if !(s.proto.is_full() && s.dport.is_full()) {
            out.push(format!("port {}", ports(&s.dport)));
        }
    }
    out.push(format!("from {}", s.src.describe()));
    out.push(format!("to {}", s.dst.describe()));
    if !s.sport.is_full() {
        out.push(format!("source port {}", ports(&s.sport)));
    }
    out.join(" ")
}

/// A rule that permits more than the plan needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Beyond {
    pub rule: RuleRef,
    pub filter: String,
    /// What it permits that no planned flow needs (at most a few boxes).
    pub beyond: Vec<String>,
    /// More boxes than listed, when the excess is fragmented.
    pub more: usize,
}

/// A rule earlier rules decide everything of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shadowed {
    pub rule: RuleRef,
    /// The earlier rules; empty when the rule matches nothing at all.
    pub by: Vec<RuleRef>,
    /// An earlier rule decides differently (the rule's own action never happens).
    pub conflict: bool,
}

/// Rules and policies seen from the plan's side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reverse {
    pub beyond: Vec<Beyond>,
    /// Chains whose policy accepts what no rule decides.
    pub open_policies: Vec<RuleRef>,
    pub shadowed: Vec<Shadowed>,
    /// Accept and block rules no planned flow reaches.
    pub unused: Vec<RuleRef>,
}

const MAX_PIECES: usize = 256;
const SHOWN: usize = 3;

fn is_capturing(a: &Action) -> bool {
    !matches!(a, Action::Jump(_) | Action::Next)
}

fn same_class(a: &Action, b: &Action) -> bool {
    matches!(
        (a, b),
        (Action::Accept, Action::Accept) | (Action::Block, Action::Block)
    )
}

/// The reverse checks: `flows` are the planned flows' boxes the ruleset
/// should carry; `hits` every rule their evaluation touched.
pub fn reverse<S: std::hash::BuildHasher + Sync>(
    c: &Compiled,
    flows: &[Space],
    hits: &HashSet<Hit, S>,
    host: Option<&Addrs>,
) -> Reverse {
    let set = c.set;
    let mut out = Reverse::default();
    let flow_rules: Vec<CRule> = flows
        .iter()
        .map(|s| CRule {
            alts: vec![Alt {
                sure: Some(s.clone()),
                envelope: s.clone(),
                why: None,
            }],
            never: false,
            unknown: None,
        })
        .collect();
    let flow_index = ChainIndex::build(&flow_rules);
    let loopback = Members::default().get("interface:lo").unwrap_or_default();
    let mut seen_chain = vec![false; set.chains.len()];
    for (fi, f) in set.filters.iter().enumerate() {
        let region = filter_region(c, fi, host);
        // Chains reached from the filter, with the region that reaches them.
        let mut todo = vec![(f.entry, vec![region])];
        let mut reached: Vec<Option<Vec<Space>>> = vec![None; set.chains.len()];
        while let Some((ch, regions)) = todo.pop() {
            let slot = reached[ch].get_or_insert_with(Vec::new);
            if slot.len() >= 16 {
                continue;
            }
            slot.extend(regions.iter().cloned());
            for (i, r) in set.chains[ch].rules.iter().enumerate() {
                if let Action::Jump(t) | Action::Goto(t) = r.action {
                    let mut sub = Vec::new();
                    for a in &c.rules[ch][i].alts {
                        if let Some(s) = &a.sure {
                            sub.extend(regions.iter().filter_map(|g| g.intersect(s)));
                        }
                    }
                    if !sub.is_empty() && t < set.chains.len() && depth_ok(&reached, t) {
                        todo.push((t, sub));
                    }
                }
            }
        }
        for (ch, regions) in reached.iter().enumerate() {
            let Some(regions) = regions else { continue };
            if ch == f.entry {
                if let End::Policy { accept: true, .. } = set.chains[ch].end {
                    out.open_policies
                        .push(RuleRef::of(set, Hit::Policy { chain: ch }));
                }
            }
            // Each rule on its own, on every core.
            let found: Vec<Beyond> = (0..set.chains[ch].rules.len())
                .into_par_iter()
                .filter_map(|i| {
                    let rule = &set.chains[ch].rules[i];
                    if rule.action != Action::Accept || c.rules[ch][i].never {
                        return None;
                    }
                    let mut pieces = Vec::new();
                    for a in &c.rules[ch][i].alts {
                        if let Some(s) = &a.sure {
                            pieces.extend(regions.iter().filter_map(|g| g.intersect(s)));
                        }
                    }
                    // Loopback traffic never crosses a network.
                    let mut lo = Space::every();
                    lo.src = loopback.clone();
                    pieces = subtract_all(pieces, &lo);
                    let mut lo = Space::every();
                    lo.dst = loopback.clone();
                    pieces = subtract_all(pieces, &lo);
                    // What earlier rules decide never reaches this one.
                    let earlier = c.index[ch].candidates(&c.rules[ch], 0, &pieces);
                    for j in earlier.into_iter().filter(|&j| j < i) {
                        if pieces.is_empty() || pieces.len() > MAX_PIECES {
                            break;
                        }
                        if !is_capturing(&set.chains[ch].rules[j].action) {
                            continue;
                        }
                        for a in &c.rules[ch][j].alts {
                            if let Some(s) = &a.sure {
                                pieces = subtract_all(pieces, s);
                            }
                        }
                    }
                    // What the plan needs.
                    let cands = flow_index.candidates(&flow_rules, 0, &pieces);
                    for k in cands {
                        if pieces.is_empty() || pieces.len() > MAX_PIECES {
                            break;
                        }
                        pieces = subtract_all(pieces, &flows[k]);
                    }
                    pieces.retain(|p| !p.is_empty());
                    if pieces.is_empty() {
                        return None;
                    }
                    let shown: Vec<String> =
                        pieces.iter().take(SHOWN).map(describe_space).collect();
                    Some(Beyond {
                        rule: RuleRef::of(set, Hit::Rule(RuleAt { chain: ch, rule: i })),
                        filter: f.name.clone(),
                        more: pieces.len().saturating_sub(SHOWN),
                        beyond: shown,
                    })
                })
                .collect();
            out.beyond.extend(found);
            seen_chain[ch] = true;
        }
    }
    // Shadowed and unused rules, chain by chain, each rule on its own.
    enum Dead {
        Shadowed(Shadowed),
        Unused(RuleRef),
    }
    for (ch, chain) in set.chains.iter().enumerate() {
        let found: Vec<Dead> = (0..chain.rules.len())
            .into_par_iter()
            .filter_map(|i| {
                let rule = &chain.rules[i];
                let cr = &c.rules[ch][i];
                let at = Hit::Rule(RuleAt { chain: ch, rule: i });
                // A rule that decided a planned flow is neither.
                if cr.never || rule.action == Action::Next || rule.implied || hits.contains(&at) {
                    return None;
                }
                // What the rule surely matches (a DNS name that may resolve
                // into its addresses is no rule of its own to shadow).
                let mut pieces: Vec<Space> = cr
                    .alts
                    .iter()
                    .map(|a| a.sure.clone().unwrap_or_else(|| a.envelope.clone()))
                    .collect();
                pieces.retain(|p| !p.is_empty());
                if pieces.is_empty() {
                    return Some(Dead::Shadowed(Shadowed {
                        rule: RuleRef::of(set, at),
                        by: vec![],
                        conflict: false,
                    }));
                }
                let mut by = Vec::new();
                let mut conflict = false;
                let earlier = c.index[ch].candidates(&c.rules[ch], 0, &pieces);
                for j in earlier.into_iter().filter(|&j| j < i) {
                    if pieces.is_empty() || pieces.len() > MAX_PIECES {
                        break;
                    }
                    let other = &chain.rules[j];
                    if !is_capturing(&other.action) || c.rules[ch][j].never {
                        continue;
                    }
                    let before = pieces.len();
                    let mut touched = false;
                    for a in &c.rules[ch][j].alts {
                        if let Some(s) = &a.sure {
                            if pieces.iter().any(|p| p.overlaps(s)) {
                                touched = true;
                                pieces = subtract_all(pieces, s);
                            }
                        }
                    }
                    if touched || pieces.len() != before {
                        by.push(RuleRef::of(set, Hit::Rule(RuleAt { chain: ch, rule: j })));
                        conflict |= !same_class(&other.action, &rule.action);
                    }
                }
                if pieces.is_empty() {
                    Some(Dead::Shadowed(Shadowed {
                        rule: RuleRef::of(set, at),
                        by,
                        conflict,
                    }))
                } else if matches!(rule.action, Action::Accept | Action::Block)
                    && !loopback_only(cr, &loopback)
                {
                    Some(Dead::Unused(RuleRef::of(set, at)))
                } else {
                    None
                }
            })
            .collect();
        for d in found {
            match d {
                Dead::Shadowed(s) => out.shadowed.push(s),
                Dead::Unused(u) => out.unused.push(u),
            }
        }
    }
    out
}

/// A rule that only matches traffic to or from loopback addresses, which
/// no planned flow between hosts is.
fn loopback_only(r: &CRule, lo: &Addrs) -> bool {
    !r.alts.is_empty()
        && r.alts.iter().all(|a| {
            let e = &a.envelope;
            (lo.covers(&e.src) && e.src.names.is_empty())
                || (lo.covers(&e.dst) && e.dst.names.is_empty())
        })
}

fn depth_ok(reached: &[Option<Vec<Space>>], t: usize) -> bool {
    reached[t].as_ref().is_none_or(|v| v.len() < 16)
}

/// The part of the space a filter judges.
fn filter_region(c: &Compiled, fi: usize, host: Option<&Addrs>) -> Space {
    let f = &c.set.filters[fi];
    let fam = c.families[fi];
    let mut s = Space::every();
    if !fam.v4 {
        s.src.v4 = Ranges::empty();
        s.dst.v4 = Ranges::empty();
    }
    if !fam.v6 {
        s.src.v6 = Ranges::empty();
        s.dst.v6 = Ranges::empty();
    }
    let side = match (&f.members, host) {
        (Some(m), _) => {
            let (sure, _, _) = crate::eval::addr_side(m, fam, &c.members);
            Some(sure)
        }
        (None, Some(h)) => Some(h.clone()),
        (None, None) => None,
    };
    if let Some(a) = side {
        match f.direction {
            Direction::In => s.dst = s.dst.intersect(&a),
            Direction::Out => s.src = s.src.intersect(&a),
            Direction::Through => {}
        }
    }
    if let Some(g) = &f.src_in {
        s.src = s
            .src
            .intersect(&crate::eval::addr_side(g, fam, &c.members).0);
    }
    if let Some(g) = &f.dst_in {
        s.dst = s
            .dst
            .intersect(&crate::eval::addr_side(g, fam, &c.members).0);
    }
    s
}

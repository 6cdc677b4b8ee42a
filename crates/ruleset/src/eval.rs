//! Evaluation: a box of the packet space through a ruleset, split into the
//! parts each outcome applies to. First match in a chain, jumps and returns,
//! a policy at the end; every filter that applies must accept.
//!
//! Where a rule may or may not match (a set whose members are not known, a
//! DNS name against address ranges, a construct not understood), both ways
//! are evaluated: where they agree the verdict stands, elsewhere it is
//! `unknown`, naming why. Nothing is guessed.

use crate::index::ChainIndex;
use crate::model::{Action, AddrMatch, Cond, Direction, End, Families, RuleAt, Ruleset};
use crate::space::{Addrs, Space};
use rayon::prelude::*;
use std::collections::HashMap;

/// What the user tells about sets a ruleset does not list the members of
/// (`--member sg:sg-0ab12=10.0.1.0/24`), and the addresses of DNS names.
#[derive(Debug, Clone, Default)]
pub struct Members {
    pub map: HashMap<String, Addrs>,
}

impl Members {
    /// The members of a symbol: given by the user, or known by definition
    /// (the loopback interface carries loopback addresses).
    pub fn get(&self, symbol: &str) -> Option<Addrs> {
        if let Some(a) = self.map.get(symbol) {
            return Some(a.clone());
        }
        match symbol {
            "interface:lo" | "interface:lo0" | "interface:Loopback" => {
                let mut a = Addrs::none();
                a.v4 = crate::space::Ranges::range(0x7f00_0000, 0x7fff_ffff);
                a.v6 = crate::space::Ranges::one(1);
                Some(a)
            }
            _ => None,
        }
    }
}

/// The verdict for a part of the space.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Accepted by these rules (one per filter that applies) or policies.
    Allowed(Vec<Hit>),
    Blocked(Hit),
    /// Not decidable from the ruleset: why, and the rule where it arose.
    Unknown {
        why: String,
        at: Option<Hit>,
    },
    /// No filter of the ruleset applies to it.
    NotCarried,
}

impl Outcome {
    fn class(&self) -> u8 {
        match self {
            Outcome::Allowed(_) => 0,
            Outcome::Blocked(_) => 1,
            Outcome::Unknown { .. } => 2,
            Outcome::NotCarried => 3,
        }
    }
}

/// Where a verdict was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hit {
    Rule(RuleAt),
    /// The end of a chain: its policy, or an ACL's implicit deny.
    Policy {
        chain: usize,
    },
}

/// A rule ready for evaluation: each alternative as the box it surely
/// matches and the box it may match.
#[derive(Debug, Clone)]
pub(crate) struct CRule {
    pub alts: Vec<Alt>,
    pub never: bool,
    pub unknown: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Alt {
    pub sure: Option<Space>,
    /// Everything the rule may match (contains `sure`).
    pub envelope: Space,
    pub why: Option<Why>,
}

/// Why a rule side may match. Nearly every side of a large ruleset may
/// match a DNS name, and its words are needed only where a verdict says
/// so: the addresses are kept and described then, not at compile time.
#[derive(Debug, Clone)]
pub(crate) enum Why {
    Text(String),
    /// A DNS name's addresses are unknown and the side matches these.
    Name(Box<Addrs>),
}

impl Why {
    pub(crate) fn text(&self) -> String {
        match self {
            Why::Text(t) => t.clone(),
            Why::Name(a) => format!(
                "a DNS name's addresses are not known here and the rule matches {}: \
                 give them with --member NAME=ADDRESS,...",
                crate::model::cut(&a.describe(), 80)
            ),
        }
    }
}

/// A ruleset compiled against the user's member map.
pub struct Compiled<'a> {
    pub set: &'a Ruleset,
    pub(crate) rules: Vec<Vec<CRule>>,
    pub(crate) index: Vec<ChainIndex>,
    /// Families each filter sees, by filter.
    pub families: Vec<Families>,
    pub members: Members,
    /// The same ruleset compiled for a connection's later packets and
    /// replies, where it tracks connections.
    pub later: Option<Box<Compiled<'a>>>,
}

/// Depth past which jumps are taken for a loop.
const MAX_DEPTH: u8 = 32;

/// One side of a rule against the member map: what it surely matches,
/// what it may match besides, and why it may.
pub(crate) fn addr_side(
    m: &AddrMatch,
    fam: Families,
    members: &Members,
) -> (Addrs, Addrs, Option<Why>) {
    let (mut sure, mut maybe, mut why) = addr_term(m, fam, members);
    for a in &m.also {
        let (s2, m2, w2) = addr_side(a, fam, members);
        let env = sure.union(&maybe).intersect(&s2.union(&m2));
        sure = sure.intersect(&s2);
        maybe = env.subtract(&sure);
        if why.is_none() {
            why = w2;
        }
    }
    if maybe.is_empty() {
        why = None;
    }
    (sure, maybe, why)
}

fn addr_term(m: &AddrMatch, fam: Families, members: &Members) -> (Addrs, Addrs, Option<Why>) {
    let mut sure = m.addrs.clone();
    // A DNS name the rule names stands for the addresses the user gave it
    // (`--member NAME=...`), as the same name in a flow does.
    if !sure.names.all {
        for n in &sure.names.items.clone() {
            if let Some(a) = members.map.get(n) {
                sure = sure.union(a);
            }
        }
    }
    let mut unresolved = Vec::new();
    for s in &m.symbols {
        match members.get(s) {
            Some(a) => sure = sure.union(&a),
            None => unresolved.push(s.as_str()),
        }
    }
    let mut maybe = Addrs::none();
    let mut why = None;
    if !unresolved.is_empty() {
        maybe = Addrs::every().subtract(&sure);
        why = Some(Why::Text(format!(
            "the members of {} are not in the ruleset: give them with --member {}=ADDRESS,...",
            unresolved
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            unresolved[0]
        )));
    } else {
        // A DNS name stands for addresses the ruleset cannot see: it is
        // surely matched by a side covering every address of the filter's
        // families, possibly by any other range.
        let covers = (!fam.v4 || sure.v4.is_full()) && (!fam.v6 || sure.v6.is_full());
        // A name in a plan is a remote service, never a loopback address.
        let loopback_only = sure
            .v4
            .spans()
            .iter()
            .all(|&(a, b)| a >> 24 == 127 && b >> 24 == 127)
            && sure.v6.spans().iter().all(|&(a, b)| a == 1 && b == 1);
        if covers {
            sure.names = crate::space::Names::every();
        } else if !loopback_only
            && ((fam.v4 && !sure.v4.is_empty()) || (fam.v6 && !sure.v6.is_empty()))
        {
            maybe.names = crate::space::Names::every().subtract(&sure.names);
            if !maybe.names.is_empty() {
                why = Some(Why::Name(Box::new(sure.clone())));
            }
        }
    }
    if m.negated {
        let all = sure.union(&maybe);
        sure = all.complement();
        if why.is_some() {
            // What the negated side may match is still what was unsure.
        } else {
            maybe = Addrs::none();
        }
    }
    (sure, maybe, why)
}

impl<'a> Compiled<'a> {
    pub fn new(set: &'a Ruleset, members: &Members) -> Self {
        let (mut c, later) = rayon::join(
            || Self::phase(set, members, false),
            || {
                set.tracks_connections
                    .then(|| Box::new(Self::phase(set, members, true)))
            },
        );
        c.later = later;
        c
    }

    /// The rules as they match a connection's first packet, or (`later`)
    /// the packets after it in either direction.
    fn phase(set: &'a Ruleset, members: &Members, later: bool) -> Self {
        let fams = chain_families(set);
        let rules: Vec<Vec<CRule>> = set
            .chains
            .iter()
            .enumerate()
            .map(|(c, ch)| {
                let fam = fams[c];
                // Rules compile independently: a 100,000-line ACL's
                // address sets are built on every core.
                ch.rules
                    .par_iter()
                    .map(|r| {
                        let mut never = false;
                        let mut unknown = None;
                        for w in &r.when {
                            match w {
                                Cond::Never(_) => never = true,
                                Cond::Unknown(i) => {
                                    unknown = Some(issue_text(set, *i));
                                }
                                Cond::States { new, later: l } => {
                                    if (later && !l) || (!later && !new) {
                                        never = true;
                                    }
                                }
                            }
                        }
                        let alts = r
                            .matches
                            .iter()
                            .flat_map(|m| by_family(m, fam))
                            .map(|m| {
                                let (s_sure, s_maybe, s_why) = addr_side(&m.src, fam, members);
                                let (d_sure, d_maybe, d_why) = addr_side(&m.dst, fam, members);
                                // ICMP types are 0-255, whatever a reader wrote.
                                let icmp_only = m.proto.spans().iter().all(|&(a, b)| {
                                    (a..=b).all(|p| {
                                        p == crate::space::ICMP || p == crate::space::ICMPV6
                                    })
                                });
                                let dport = if icmp_only && !m.proto.is_empty() {
                                    m.dport.intersect(&crate::space::Ranges::range(0, 255))
                                } else {
                                    m.dport.clone()
                                };
                                let sure = Space {
                                    proto: m.proto.clone(),
                                    src: s_sure.clone(),
                                    dst: d_sure.clone(),
                                    sport: m.sport.clone(),
                                    dport,
                                };
                                let envelope = Space {
                                    src: s_sure.union(&s_maybe),
                                    dst: d_sure.union(&d_maybe),
                                    ..sure.clone()
                                };
                                Alt {
                                    sure: (!sure.is_empty()).then_some(sure),
                                    envelope,
                                    why: s_why.or(d_why),
                                }
                            })
                            .collect();
                        // A vector filled one by one starts at room for four
                        // alternatives; most rules have one, and 100,000
                        // rules would keep 250 MB of empty room.
                        let mut alts: Vec<Alt> = alts;
                        alts.shrink_to_fit();
                        CRule {
                            alts,
                            never,
                            unknown,
                        }
                    })
                    .collect()
            })
            .collect();
        let index = rules.par_iter().map(|r| ChainIndex::build(r)).collect();
        Self::assemble(set, rules, index, members)
    }

    /// `new` without the rule index: every query scans its chains. Only for
    /// the benchmark that shows what the index saves.
    #[doc(hidden)]
    pub fn without_index(set: &'a Ruleset, members: &Members) -> Self {
        let mut c = Self::new(set, members);
        c.index = c.rules.iter().map(|_| ChainIndex::none()).collect();
        if let Some(l) = &mut c.later {
            l.index = l.rules.iter().map(|_| ChainIndex::none()).collect();
        }
        c
    }

    fn assemble(
        set: &'a Ruleset,
        rules: Vec<Vec<CRule>>,
        index: Vec<ChainIndex>,
        members: &Members,
    ) -> Self {
        let families = set.filters.iter().map(|f| f.families).collect();
        Compiled {
            set,
            rules,
            index,
            families,
            members: members.clone(),
            later: None,
        }
    }

    /// The parts of `q` and their verdicts, through every filter that
    /// applies. `host`: the addresses of the host being audited, for
    /// filters that protect "this host".
    pub fn evaluate(&self, q: &Space, host: Option<&Addrs>) -> Vec<(Space, Outcome)> {
        let mut pieces: Vec<(Space, Outcome)> = vec![(q.clone(), Outcome::NotCarried)];
        // A host talking to itself does so over loopback, which no network
        // filter of the host sees as traffic between hosts. (A network
        // audited as one host is many hosts: traffic between two of them
        // does cross the network, so only single addresses are taken out.)
        if let (Some(h), true) = (host, self.set.is_host_firewall()) {
            let rest = without_self(q, h);
            if rest.len() != 1 || rest[0] != *q {
                pieces = rest.into_iter().map(|p| (p, Outcome::NotCarried)).collect();
            }
        }
        for fi in 0..self.set.filters.len() {
            let mut next = Vec::with_capacity(pieces.len());
            for (p, o) in pieces {
                // A block is final; an unknown part still meets the later
                // filters, which may block it for certain, unless a rule
                // did something unknown to the packet itself (rewrote its
                // destination): then what later filters see is unknown too.
                let sticky = matches!(&o, Outcome::Unknown { at: Some(Hit::Rule(r)), .. }
                    if matches!(self.set.rule(*r).map(|x| &x.action), Some(Action::Unknown(_))));
                if matches!(o, Outcome::Blocked(_)) || sticky {
                    next.push((p, o));
                    continue;
                }
                let (applies, maybe, not) = self.applies(fi, &p, host);
                for n in not {
                    next.push((n, o.clone()));
                }
                for a in applies {
                    for (s, v) in self.filter(fi, a) {
                        next.push((s, and(&o, v)));
                    }
                }
                for (m, why) in maybe {
                    let taken: Vec<(Space, Outcome)> = self
                        .filter(fi, m.clone())
                        .into_iter()
                        .map(|(s, v)| (s, and(&o, v)))
                        .collect();
                    let skipped = vec![(m, o.clone())];
                    next.extend(overlay(taken, skipped, &why, None));
                }
            }
            pieces = next;
        }
        pieces
    }

    /// Splits `p` into the parts filter `fi` applies to, may apply to (why),
    /// and does not apply to: by direction and members, then by the sides
    /// it is bound to.
    #[allow(clippy::type_complexity)]
    fn applies(
        &self,
        fi: usize,
        p: &Space,
        host: Option<&Addrs>,
    ) -> (Vec<Space>, Vec<(Space, String)>, Vec<Space>) {
        let (mut yes, mut maybe, mut not) = self.applies_dir(fi, p, host);
        let f = &self.set.filters[fi];
        let fam = self.families[fi];
        for (guard, is_src) in [(&f.src_in, true), (&f.dst_in, false)] {
            let Some(g) = guard else { continue };
            let (sure, mb, why) = addr_side(g, fam, &self.members);
            let boxed = |a: Addrs| {
                let mut s = Space::every();
                if is_src {
                    s.src = a;
                } else {
                    s.dst = a;
                }
                s
            };
            let sure_box = boxed(sure.clone());
            let env_box = boxed(sure.union(&mb));
            let why = why.as_ref().map(Why::text).unwrap_or_default();
            let mut y2 = Vec::new();
            let mut m2 = Vec::new();
            for y in yes {
                y2.extend(y.intersect(&sure_box));
                for r in y.subtract(&sure_box) {
                    m2.extend(r.intersect(&env_box).map(|x| (x, why.clone())));
                    not.extend(r.subtract(&env_box));
                }
            }
            for (m, w) in maybe {
                for r in [m.intersect(&env_box)].into_iter().flatten() {
                    m2.push((r, w.clone()));
                }
                not.extend(m.subtract(&env_box));
            }
            yes = y2;
            maybe = m2;
        }
        (yes, maybe, not)
    }

    #[allow(clippy::type_complexity)]
    fn applies_dir(
        &self,
        fi: usize,
        p: &Space,
        host: Option<&Addrs>,
    ) -> (Vec<Space>, Vec<(Space, String)>, Vec<Space>) {
        let f = &self.set.filters[fi];
        let fam = self.families[fi];
        // The filter's families first: an IPv4 filter never sees IPv6.
        let mut in_fam = Space::every();
        if !fam.v4 {
            in_fam.src.v4 = crate::space::Ranges::empty();
            in_fam.dst.v4 = crate::space::Ranges::empty();
        }
        if !fam.v6 {
            in_fam.src.v6 = crate::space::Ranges::empty();
            in_fam.dst.v6 = crate::space::Ranges::empty();
        }
        let mut not = p.subtract(&in_fam);
        let Some(p) = p.intersect(&in_fam) else {
            return (vec![], vec![], not);
        };
        let side_box = |a: Addrs, dir: Direction| {
            let mut s = Space::every();
            match dir {
                Direction::In => s.dst = a,
                Direction::Out => s.src = a,
                Direction::Through => {}
            }
            s
        };
        match (f.direction, &f.members) {
            (Direction::Through, _) => {
                // A host firewall's forward hook sees what passes through
                // the host, not what starts or ends at it.
                // Planned flows between other hosts do not pass through the
                // audited host: it is not their router.
                if host.is_some() && self.set.is_host_firewall() {
                    not.push(p);
                    (vec![], vec![], not)
                } else {
                    (vec![p], vec![], not)
                }
            }
            (dir, None) => match host {
                Some(h) => {
                    let b = side_box(h.clone(), dir);
                    not.extend(p.subtract(&b));
                    (p.intersect(&b).into_iter().collect(), vec![], not)
                }
                // No host named: the filter is asked as it stands.
                None => (vec![p], vec![], not),
            },
            (dir, Some(m)) => {
                let (sure, mut maybe, why) = addr_side(m, fam, &self.members);
                let why = why.as_ref().map(Why::text);
                // Members are hosts: a DNS name (an outside service) is one
                // only where the filter names it.
                maybe.names = crate::space::Names::none();
                let sure_box = side_box(sure.clone(), dir);
                let env_box = side_box(sure.union(&maybe), dir);
                let yes: Vec<Space> = p.intersect(&sure_box).into_iter().collect();
                let rest = p.subtract(&sure_box);
                let mut mb = Vec::new();
                for r in rest {
                    if let Some(x) = r.intersect(&env_box) {
                        mb.push((x, why.clone().unwrap_or_default()));
                    }
                    not.extend(r.subtract(&env_box));
                }
                (yes, mb, not)
            }
        }
    }

    /// One filter's verdicts for `q`, which it applies to.
    fn filter(&self, fi: usize, q: Space) -> Vec<(Space, Outcome)> {
        let entry = self.set.filters[fi].entry;
        let steps = self.chain(entry, 0, vec![q], 0);
        steps
            .into_iter()
            .map(|(s, st)| match st {
                Step::Final(o) => (s, o),
                // A return from the base chain ends at its policy.
                Step::Return => (s, self.end(entry)),
            })
            .collect()
    }

    fn end(&self, chain: usize) -> Outcome {
        match &self.set.chains[chain].end {
            End::Policy { accept: true, .. } => Outcome::Allowed(vec![Hit::Policy { chain }]),
            End::Policy { accept: false, .. } => Outcome::Blocked(Hit::Policy { chain }),
            // Only reached for a user chain entered as a filter's entry.
            End::Return => Outcome::Unknown {
                why: format!(
                    "chain `{}` ends without a policy",
                    self.set.chains[chain].name
                ),
                at: None,
            },
        }
    }

    /// First match in `chain` from rule `start` for each of `pieces`.
    fn chain(&self, c: usize, start: usize, pieces: Vec<Space>, depth: u8) -> Vec<(Space, Step)> {
        let mut out = Vec::new();
        let mut pending = pieces;
        let cands = self.index[c].candidates(&self.rules[c], start, &pending);
        for i in cands {
            if pending.is_empty() {
                break;
            }
            let rule = &self.rules[c][i];
            if !rule
                .alts
                .iter()
                .any(|a| pending.iter().any(|p| p.overlaps(&a.envelope)))
            {
                continue;
            }
            let mut next = Vec::with_capacity(pending.len());
            for p in pending {
                let (yes, maybe, no) = split(rule, p);
                next.extend(no);
                for y in yes {
                    self.act(c, i, y, depth, &mut next, &mut out);
                }
                for (m, why) in maybe {
                    let mut t_next = Vec::new();
                    let mut taken = Vec::new();
                    self.act(c, i, m.clone(), depth, &mut t_next, &mut taken);
                    if !t_next.is_empty() {
                        taken.extend(self.chain(c, i + 1, t_next, depth));
                    }
                    let skipped = self.chain(c, i + 1, vec![m], depth);
                    out.extend(overlay_steps(
                        taken,
                        skipped,
                        &why,
                        Hit::Rule(RuleAt { chain: c, rule: i }),
                    ));
                }
            }
            pending = next;
        }
        for p in pending {
            let st = match &self.set.chains[c].end {
                End::Return => Step::Return,
                _ => Step::Final(self.end(c)),
            };
            out.push((p, st));
        }
        out
    }

    fn act(
        &self,
        c: usize,
        i: usize,
        y: Space,
        depth: u8,
        next: &mut Vec<Space>,
        out: &mut Vec<(Space, Step)>,
    ) {
        let at = Hit::Rule(RuleAt { chain: c, rule: i });
        let action = &self.set.chains[c].rules[i].action;
        match action {
            Action::Accept => out.push((y, Step::Final(Outcome::Allowed(vec![at])))),
            Action::Block => out.push((y, Step::Final(Outcome::Blocked(at)))),
            Action::Next => next.push(y),
            Action::Return => out.push((y, Step::Return)),
            Action::Unknown(k) => out.push((
                y,
                Step::Final(Outcome::Unknown {
                    why: issue_text(self.set, *k),
                    at: Some(at),
                }),
            )),
            Action::Jump(t) | Action::Goto(t) if depth >= MAX_DEPTH || *t >= self.rules.len() => {
                out.push((
                    y,
                    Step::Final(Outcome::Unknown {
                        why: "jumps nest deeper than 32 chains (a loop?)".into(),
                        at: Some(at),
                    }),
                ))
            }
            Action::Jump(t) => {
                for (s, st) in self.chain(*t, 0, vec![y], depth + 1) {
                    match st {
                        Step::Return => next.push(s),
                        f => out.push((s, f)),
                    }
                }
            }
            Action::Goto(t) => out.extend(self.chain(*t, 0, vec![y], depth + 1)),
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Final(Outcome),
    Return,
}

fn issue_text(set: &Ruleset, i: usize) -> String {
    set.issues
        .get(i)
        .map(|x| format!("line {}: {}", x.line, x.message))
        .unwrap_or_else(|| "a construct the reader did not understand".into())
}

/// `q` without a single host's traffic to itself: for every address of
/// `host` that is a single point (a /32 or /128), the box from it to it.
pub fn without_self(q: &Space, host: &Addrs) -> Vec<Space> {
    let mut out = vec![q.clone()];
    let points4 = host.v4.spans().iter().flat_map(|&(a, b)| {
        // A network's addresses are many hosts, not one.
        (a == b).then_some(a)
    });
    for p in points4 {
        if !(q.src.v4.contains(p) && q.dst.v4.contains(p)) {
            continue;
        }
        let mut own = Space::every();
        own.src = Addrs {
            v4: crate::space::Ranges::one(p),
            ..Addrs::none()
        };
        own.dst = own.src.clone();
        out = crate::space::subtract_all(out, &own);
    }
    let points6 = host
        .v6
        .spans()
        .iter()
        .flat_map(|&(a, b)| (a == b).then_some(a));
    for p in points6 {
        if !(q.src.v6.contains(p) && q.dst.v6.contains(p)) {
            continue;
        }
        let mut own = Space::every();
        own.src = Addrs {
            v6: crate::space::Ranges::one(p),
            ..Addrs::none()
        };
        own.dst = own.src.clone();
        out = crate::space::subtract_all(out, &own);
    }
    out
}

/// A match as one alternative per address family: a rule whose sides hold
/// both families never matches an IPv4 source with an IPv6 destination.
/// Sides that are only DNS names or sets belong to both.
fn by_family(m: &crate::model::Match, fam: Families) -> Vec<crate::model::Match> {
    let plain = |a: &AddrMatch| !a.negated && a.symbols.is_empty() && a.also.is_empty();
    if !(fam.v4 && fam.v6 && plain(&m.src) && plain(&m.dst)) {
        return vec![m.clone()];
    }
    let mixed = |a: &Addrs| !a.v4.is_empty() && !a.v6.is_empty();
    if !mixed(&m.src.addrs) && !mixed(&m.dst.addrs) {
        let (s4, s6) = (!m.src.addrs.v4.is_empty(), !m.src.addrs.v6.is_empty());
        let (d4, d6) = (!m.dst.addrs.v4.is_empty(), !m.dst.addrs.v6.is_empty());
        // One family each side already (or names only): nothing to split.
        if !((s4 && d6) || (s6 && d4)) {
            return vec![m.clone()];
        }
    }
    let only = |a: &Addrs, v6: bool| Addrs {
        v4: if v6 {
            crate::space::Ranges::empty()
        } else {
            a.v4.clone()
        },
        v6: if v6 {
            a.v6.clone()
        } else {
            crate::space::Ranges::empty()
        },
        names: a.names.clone(),
    };
    [false, true]
        .into_iter()
        .filter_map(|v6| {
            let mut x = m.clone();
            x.src.addrs = only(&m.src.addrs, v6);
            x.dst.addrs = only(&m.dst.addrs, v6);
            (!x.src.addrs.is_empty() && !x.dst.addrs.is_empty()).then_some(x)
        })
        .collect()
}

/// The families each chain is reached from (by filters, through jumps).
fn chain_families(set: &Ruleset) -> Vec<Families> {
    let mut fam: Vec<Option<Families>> = vec![None; set.chains.len()];
    for f in &set.filters {
        for c in set.reachable(f.entry) {
            fam[c] = Some(match fam[c] {
                None => f.families,
                Some(x) => Families {
                    v4: x.v4 || f.families.v4,
                    v6: x.v6 || f.families.v6,
                },
            });
        }
    }
    fam.into_iter()
        .map(|f| f.unwrap_or(Families::BOTH))
        .collect()
}

/// A rule against one piece: the parts it surely matches, may match (why),
/// and does not match.
#[allow(clippy::type_complexity)]
pub(crate) fn split(rule: &CRule, p: Space) -> (Vec<Space>, Vec<(Space, String)>, Vec<Space>) {
    if rule.never {
        return (vec![], vec![], vec![p]);
    }
    let mut rest = vec![p];
    let mut yes = Vec::new();
    for a in &rule.alts {
        if let Some(s) = &a.sure {
            let mut next = Vec::with_capacity(rest.len());
            for r in rest {
                if let Some(x) = r.intersect(s) {
                    yes.push(x);
                    next.extend(r.subtract(s));
                } else {
                    next.push(r);
                }
            }
            rest = next;
        }
    }
    let mut maybe = Vec::new();
    for a in &rule.alts {
        if a.sure.as_ref() == Some(&a.envelope) {
            continue;
        }
        let mut next = Vec::with_capacity(rest.len());
        for r in rest {
            if let Some(x) = r.intersect(&a.envelope) {
                maybe.push((x, a.why.as_ref().map(Why::text).unwrap_or_default()));
                next.extend(r.subtract(&a.envelope));
            } else {
                next.push(r);
            }
        }
        rest = next;
    }
    if let Some(u) = &rule.unknown {
        maybe.extend(yes.drain(..).map(|y| (y, u.clone())));
    }
    (yes, maybe, rest)
}

/// Both ways of a rule that may match: where they agree, the verdict
/// stands; elsewhere it is unknown.
fn overlay_steps(
    taken: Vec<(Space, Step)>,
    skipped: Vec<(Space, Step)>,
    why: &str,
    at: Hit,
) -> Vec<(Space, Step)> {
    let mut out = Vec::new();
    for (ts, tst) in &taken {
        for (ss, sst) in &skipped {
            let Some(x) = ts.intersect(ss) else { continue };
            let st = match (tst, sst) {
                (Step::Return, Step::Return) => Step::Return,
                (Step::Final(a), Step::Final(b)) if a.class() == b.class() && a.class() < 2 => {
                    Step::Final(agree(a, b))
                }
                (Step::Final(u @ Outcome::Unknown { .. }), _)
                | (_, Step::Final(u @ Outcome::Unknown { .. })) => Step::Final(u.clone()),
                _ => Step::Final(Outcome::Unknown {
                    why: why.to_string(),
                    at: Some(at),
                }),
            };
            out.push((x, st));
        }
    }
    out
}

fn overlay(
    taken: Vec<(Space, Outcome)>,
    skipped: Vec<(Space, Outcome)>,
    why: &str,
    at: Option<Hit>,
) -> Vec<(Space, Outcome)> {
    let mut out = Vec::new();
    for (ts, a) in &taken {
        for (ss, b) in &skipped {
            let Some(x) = ts.intersect(ss) else { continue };
            let o = if a.class() == b.class() && a.class() != 2 {
                agree(a, b)
            } else if matches!((a, b), (Outcome::Allowed(_), Outcome::NotCarried)) {
                // Where the filter may not apply, nothing else stops it.
                a.clone()
            } else if let Outcome::Unknown { .. } = a {
                a.clone()
            } else if let Outcome::Unknown { .. } = b {
                b.clone()
            } else {
                Outcome::Unknown {
                    why: why.to_string(),
                    at,
                }
            };
            out.push((x, o));
        }
    }
    out
}

/// Both ways of a maybe-match agree: the verdict stands, and where both
/// accept, by the rules of either way (a rule naming a DNS name still
/// decides the flows to that name when an earlier rule's addresses may
/// hold the name's addresses too).
fn agree(a: &Outcome, b: &Outcome) -> Outcome {
    match (a, b) {
        (Outcome::Allowed(x), Outcome::Allowed(y)) => {
            let mut v = x.clone();
            for h in y {
                if !v.contains(h) {
                    v.push(*h);
                }
            }
            Outcome::Allowed(v)
        }
        _ => a.clone(),
    }
}

/// The verdict of a part after one more filter: accepted only if every
/// filter accepted.
fn and(before: &Outcome, now: Outcome) -> Outcome {
    match (before, now) {
        (Outcome::NotCarried, n) => n,
        (Outcome::Allowed(a), Outcome::Allowed(b)) => {
            let mut v = a.clone();
            v.extend(b);
            Outcome::Allowed(v)
        }
        (Outcome::Allowed(_), n) => n,
        // Whatever an earlier filter may have done, a later one blocks.
        (Outcome::Unknown { .. }, b @ Outcome::Blocked(_)) => b,
        (b, _) => b.clone(),
    }
}

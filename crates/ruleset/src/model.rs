//! One model for every firewall format: chains of rules evaluated first
//! match, with jumps, returns and a policy at the end, grouped into filters
//! that sit inbound, outbound or in the path of the traffic. Each format's
//! semantics are expressed in it by its reader: an allow-only union (AWS
//! security groups) is a chain of allows ending in drop; priority order
//! (Azure, GCP) is the rules sorted; block-over-allow (Windows) is blocks
//! before allows; several base chains on one hook are several filters, all
//! of which must accept.

use crate::space::{Addrs, Ranges};

/// One rule as the ruleset wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line in the file the rule starts on.
    pub line: usize,
    /// The rule as written (one line; long rules are cut), for reports.
    pub text: String,
    /// A name the ruleset gives it (policy or rule name, comment), if any.
    pub label: Option<String>,
    /// What the rule matches: the union of these alternatives. Empty: it
    /// matches nothing (an empty set, say).
    pub matches: Vec<Match>,
    /// Conditions on top of the match.
    pub when: Vec<Cond>,
    pub action: Action,
    /// The format implies the rule rather than the file writing it (the
    /// block that isolates pods a NetworkPolicy selects): the reverse
    /// checks do not call it shadowed or unused.
    pub implied: bool,
}

impl Rule {
    /// A rule at `line` whose text is `text`, matching everything, with
    /// `action`; readers narrow it.
    pub fn new(line: usize, text: &str, action: Action) -> Self {
        Rule {
            line,
            text: cut(text.trim(), 240),
            label: None,
            matches: vec![Match::every()],
            when: Vec::new(),
            action,
            implied: false,
        }
    }
}

/// Cut a text to at most `max` characters, on a character boundary.
pub fn cut(s: &str, max: usize) -> String {
    // No more bytes than `max` is no more characters either.
    if s.len() <= max {
        return s.to_string();
    }
    // Only the first `max` characters are walked, and the kept ones copied
    // as one slice: a large ACL's rules each get a label cut from the
    // remarks before them, a few hundred bytes to a few kilobytes. Where
    // the first `max + 1` bytes are ASCII, they are that many characters.
    if s.as_bytes()[..=max].is_ascii() {
        let end = max.saturating_sub(1);
        let mut t = String::with_capacity(end + '…'.len_utf8());
        t.push_str(&s[..end]);
        t.push('…');
        return t;
    }
    let mut at = s.char_indices().map(|(i, _)| i);
    let Some(end) = at.nth(max.saturating_sub(1)) else {
        return s.to_string();
    };
    if max > 0 && at.next().is_none() {
        // Exactly `max` characters.
        return s.to_string();
    }
    let end = if max == 0 { 0 } else { end };
    let mut t = String::with_capacity(end + '…'.len_utf8());
    t.push_str(&s[..end]);
    t.push('…');
    t
}

/// One alternative of a rule's match: a box, whose address sides may name
/// sets the ruleset does not list the members of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// IP protocol numbers (ICMP is 1, ICMPv6 58).
    pub proto: Ranges<u8>,
    pub src: AddrMatch,
    pub dst: AddrMatch,
    pub sport: Ranges<u16>,
    /// Destination ports; for ICMP the ICMP types.
    pub dport: Ranges<u16>,
}

impl Match {
    pub fn every() -> Self {
        Match {
            proto: Ranges::full(),
            src: AddrMatch::every(),
            dst: AddrMatch::every(),
            sport: Ranges::full(),
            dport: Ranges::full(),
        }
    }
    /// One packet's addresses are of one family: a match whose sides span
    /// both is two alternatives, IPv4 to IPv4 and IPv6 to IPv6 (a DNS name,
    /// of either family, stays on both). For readers of formats whose rules
    /// name addresses of both families (Azure NSGs, Windows Firewall).
    pub(crate) fn same_family(self) -> Vec<Match> {
        let both = |a: &AddrMatch| {
            a.negated
                || !a.symbols.is_empty()
                || !a.also.is_empty()
                || (!a.addrs.v4.is_empty() && !a.addrs.v6.is_empty())
        };
        if !both(&self.src) && !both(&self.dst) {
            return vec![self];
        }
        [false, true]
            .into_iter()
            .filter_map(|v6| self.in_family(v6))
            .collect()
    }

    /// The part of a match in one address family (and DNS names), if any.
    pub(crate) fn in_family(&self, v6: bool) -> Option<Match> {
        let fam = if v6 { Addrs::all_v6() } else { Addrs::all_v4() };
        let limit = AddrMatch::of(Addrs {
            names: crate::space::Names::every(),
            ..fam
        });
        let src = self.src.clone().and(limit.clone());
        let dst = self.dst.clone().and(limit);
        let empty = |a: &AddrMatch| {
            !a.negated && a.symbols.is_empty() && a.also.is_empty() && a.addrs.is_empty()
        };
        if empty(&src) || empty(&dst) {
            return None;
        }
        Some(Match {
            src,
            dst,
            ..self.clone()
        })
    }
}

/// One side's addresses as a rule names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrMatch {
    /// Addresses and names the rule certainly matches.
    pub addrs: Addrs,
    /// Sets whose members the ruleset does not list, as the user names
    /// them to `--member`: `interface:eth0`, `zone:trust`, `sg:sg-0ab12`,
    /// `tag:web`, `pods:ns/app=web`, `service-tag:VirtualNetwork`.
    pub symbols: Vec<String>,
    /// The rule matches what is *not* in `addrs` and `symbols`.
    pub negated: bool,
    /// Further conditions on the same side, all of which must hold too
    /// (`-s 10.0.0.0/8 -i eth0`).
    pub also: Vec<AddrMatch>,
}

impl AddrMatch {
    pub fn every() -> Self {
        AddrMatch::of(Addrs::every())
    }
    pub fn of(addrs: Addrs) -> Self {
        AddrMatch {
            addrs,
            symbols: Vec::new(),
            negated: false,
            also: Vec::new(),
        }
    }
    /// The members of a set the ruleset does not list.
    pub fn symbol(s: impl Into<String>) -> Self {
        AddrMatch {
            symbols: vec![s.into()],
            ..AddrMatch::of(Addrs::none())
        }
    }
    /// Everything but what `self` matches; `None` for a conjunction
    /// (`not (a and b)` is not one term: the reader reports such a rule).
    #[allow(clippy::should_implement_trait)] // `!` cannot return an Option
    pub fn not(mut self) -> Option<Self> {
        if !self.also.is_empty() {
            return None;
        }
        self.negated = !self.negated;
        Some(self)
    }
    /// Both `self` and `other` must hold.
    pub fn and(mut self, other: AddrMatch) -> Self {
        if other.is_every() {
            return self;
        }
        if self.is_every() {
            return other;
        }
        let plain = |m: &AddrMatch| !m.negated && m.symbols.is_empty() && m.also.is_empty();
        if plain(&self) && plain(&other) {
            self.addrs = self.addrs.intersect(&other.addrs);
            return self;
        }
        self.also.push(other);
        self
    }
    pub fn is_every(&self) -> bool {
        !self.negated && self.addrs.is_every() && self.also.iter().all(AddrMatch::is_every)
    }
    pub fn collect_symbols(&self, v: &mut Vec<String>) {
        v.extend(self.symbols.iter().cloned());
        for a in &self.also {
            a.collect_symbols(v);
        }
    }
}

/// A condition on a rule beyond its match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// The rule never matches the first packet of a new connection
    /// (`ct state established,related`), or is switched off: why.
    Never(String),
    /// Something the reader could not decide (a construct it does not
    /// understand, a time range): where the rule would match, the verdict
    /// is unknown. Index into `Ruleset::issues`.
    Unknown(usize),
    /// The rule matches only some packets of a connection (`ct state
    /// established,related`, `--syn`): whether it can match the first
    /// packet (`new`), and the packets after it, either way (`later`).
    States { new: bool, later: bool },
}

/// What a rule does with what it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Accept,
    /// Drop, reject, deny, block.
    Block,
    /// Evaluate another chain; come back on `Return` or its end.
    Jump(usize),
    /// Continue in another chain without coming back.
    Goto(usize),
    /// Back to the calling chain (the policy, in a base chain).
    Return,
    /// No verdict: logging, counting, marking; evaluation goes on.
    Next,
    /// A verdict the reader does not understand: index into `Ruleset::issues`.
    Unknown(usize),
}

/// What happens when a chain runs out of rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A base chain's policy or an ACL's implicit deny: `line` is where it
    /// is written (0 when it is implicit).
    Policy {
        accept: bool,
        line: usize,
        text: String,
    },
    /// A user chain returns to its caller.
    Return,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// As the ruleset names it: `inet portplan input`, `INPUT`, an ACL name.
    pub name: String,
    pub line: usize,
    pub rules: Vec<Rule>,
    pub end: End,
}

/// Where a filter sits relative to the traffic it judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Traffic to the protected host (input hook, inbound rules, ingress).
    In,
    /// Traffic from the protected host (output hook, outbound, egress).
    Out,
    /// Traffic passing through a device (an ACL, a forward hook, a zone policy).
    Through,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Through => "through",
        }
    }
}

/// Address families a filter sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Families {
    pub v4: bool,
    pub v6: bool,
}

impl Families {
    pub const BOTH: Families = Families { v4: true, v6: true };
    pub const V4: Families = Families {
        v4: true,
        v6: false,
    };
    pub const V6: Families = Families {
        v4: false,
        v6: true,
    };
}

/// A place where traffic is judged: a base chain on a hook, an ACL, a
/// security group's ingress rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// For reports: `inet portplan input`, `ACL OUTSIDE_IN`, `sg-0ab12 ingress`.
    pub name: String,
    pub direction: Direction,
    /// For `In` and `Out`: the hosts the filter protects (destination for
    /// `In`, source for `Out`). `None`: the host being audited (`--as`).
    pub members: Option<AddrMatch>,
    pub families: Families,
    /// The chain evaluation starts in.
    pub entry: usize,
    /// The filter sees only traffic whose source is in this set: an ACL
    /// bound inbound on an interface sees what arrives from behind it
    /// (`interface:GigabitEthernet0/1`, `zone:inside`). Any direction.
    pub src_in: Option<AddrMatch>,
    /// The filter sees only traffic whose destination is in this set (an
    /// ACL bound outbound on an interface).
    pub dst_in: Option<AddrMatch>,
}

impl Filter {
    /// A filter on `entry` seeing all traffic of its direction.
    pub fn new(
        name: impl Into<String>,
        direction: Direction,
        families: Families,
        entry: usize,
    ) -> Self {
        Filter {
            name: name.into(),
            direction,
            members: None,
            families,
            entry,
            src_in: None,
            dst_in: None,
        }
    }
}

/// Something a reader did not understand, or an assumption it made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub line: usize,
    /// The construct, as written.
    pub text: String,
    pub message: String,
}

/// A ruleset read into the model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// The reader's format name (`nftables`, `cisco-asa`, ...).
    pub format: String,
    /// The file name, for locations.
    pub file: String,
    pub chains: Vec<Chain>,
    /// In evaluation order: traffic a filter applies to must be accepted
    /// by every filter that applies to it.
    pub filters: Vec<Filter>,
    /// Constructs the reader did not understand. Each one makes the verdicts
    /// of what it could affect `unknown`, and `--strict` fails on them.
    pub issues: Vec<Issue>,
    /// What the reader assumed, for the user to confirm (`access-group`
    /// missing: the ACL is audited as applied to all traffic).
    pub notes: Vec<Issue>,
    /// The ruleset's filters see a connection's later packets and its
    /// replies too, and judge them by connection state (the hooks of one
    /// Linux host or router): a flow passes only if those pass as well.
    /// Device ACLs see replies on other interfaces; cloud firewalls let
    /// them through; neither sets this.
    pub tracks_connections: bool,
}

impl Ruleset {
    pub fn new(format: &str, file: &str) -> Self {
        Ruleset {
            format: format.to_string(),
            file: file.to_string(),
            ..Ruleset::default()
        }
    }
    /// Record something not understood; returns its index for
    /// `Cond::Unknown` / `Action::Unknown`.
    pub fn issue(&mut self, line: usize, text: &str, message: impl Into<String>) -> usize {
        self.issues.push(Issue {
            line,
            text: cut(text.trim(), 240),
            message: message.into(),
        });
        self.issues.len() - 1
    }
    /// An issue for what a reader could not read of one construct, if
    /// anything (`problems`, joined): its index.
    pub(crate) fn issue_if(
        &mut self,
        line: usize,
        text: &str,
        problems: &[String],
    ) -> Option<usize> {
        (!problems.is_empty()).then(|| self.issue(line, text, problems.join("; ")))
    }
    pub fn note(&mut self, line: usize, text: &str, message: impl Into<String>) {
        self.notes.push(Issue {
            line,
            text: cut(text.trim(), 240),
            message: message.into(),
        });
    }
    /// Add a chain; returns its index.
    pub fn chain(&mut self, name: impl Into<String>, line: usize, end: End) -> usize {
        self.chains.push(Chain {
            name: name.into(),
            line,
            rules: Vec::new(),
            end,
        });
        self.chains.len() - 1
    }
    /// Whether some filter protects "the host being audited" (a host
    /// firewall: nftables, iptables, Windows), which needs `--as`.
    pub fn is_host_firewall(&self) -> bool {
        self.filters
            .iter()
            .any(|f| f.direction != Direction::Through && f.members.is_none())
    }
    /// Every rule, with its place.
    pub fn rules(&self) -> impl Iterator<Item = (RuleAt, &Rule)> {
        self.chains.iter().enumerate().flat_map(|(c, ch)| {
            ch.rules
                .iter()
                .enumerate()
                .map(move |(i, r)| (RuleAt { chain: c, rule: i }, r))
        })
    }
    pub fn rule(&self, at: RuleAt) -> Option<&Rule> {
        self.chains.get(at.chain).and_then(|c| c.rules.get(at.rule))
    }
    /// The chains a packet entering `chain` can reach: itself and those
    /// its rules jump or go to, and theirs (each once, in no set order).
    pub(crate) fn reachable(&self, chain: usize) -> Vec<usize> {
        let mut seen = vec![false; self.chains.len()];
        let mut out = Vec::new();
        let mut todo = vec![chain];
        while let Some(c) = todo.pop() {
            if c >= seen.len() || seen[c] {
                continue;
            }
            seen[c] = true;
            out.push(c);
            for r in &self.chains[c].rules {
                if let Action::Jump(t) | Action::Goto(t) = r.action {
                    todo.push(t);
                }
            }
        }
        out
    }
    /// Symbols rules and filters name, sorted, once each.
    pub fn symbols(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for ch in &self.chains {
            for r in &ch.rules {
                for m in &r.matches {
                    m.src.collect_symbols(&mut v);
                    m.dst.collect_symbols(&mut v);
                }
            }
        }
        for f in &self.filters {
            for m in [&f.members, &f.src_in, &f.dst_in].into_iter().flatten() {
                m.collect_symbols(&mut v);
            }
        }
        v.sort();
        v.dedup();
        v
    }
}

/// A rule's place: chain and index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleAt {
    pub chain: usize,
    pub rule: usize,
}

#[cfg(test)]
mod tests {
    use super::cut;

    /// `cut` as it was: every character counted, the kept ones collected.
    fn cut_by_chars(s: &str, max: usize) -> String {
        if s.len() <= max || s.chars().count() <= max {
            return s.to_string();
        }
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }

    #[test]
    fn cut_keeps_what_counting_characters_kept() {
        for s in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcdefgh",
            "éé",
            "ééé",
            "aéb€c",
            "€€€€€",
            "abcdé",
            "aé",
        ] {
            for max in 0..7 {
                assert_eq!(cut(s, max), cut_by_chars(s, max), "{s:?} {max}");
            }
        }
    }
}

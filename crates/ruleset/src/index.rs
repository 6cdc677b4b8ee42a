//! Which rules of a chain can match a part of the space, without looking at
//! every rule: rules are indexed by destination address, source address
//! and destination port, and a query walks only the index that is most
//! selective for it (a host firewall's rules differ by source, an ACL's by
//! destination), so it costs the rules near it, not the chain's length.

use crate::eval::CRule;
use crate::space::{Addrs, Ranges, Space};
use rayon::prelude::*;
use smallvec::SmallVec;

/// Chains shorter than this are scanned; the index would cost more.
const SCAN_BELOW: usize = 48;

pub(crate) struct ChainIndex {
    inner: Option<Inner>,
}

/// One address side of the rules: IPv4 and IPv6 spans, and the rules that
/// may match a DNS name there.
struct AddrIndex {
    v4: Intervals,
    v6: Intervals,
    names: Vec<u32>,
}

struct Inner {
    dst: AddrIndex,
    src: AddrIndex,
    dport: Intervals,
    /// Rules of a few destination ports, under each of their ports.
    ports: std::collections::HashMap<u16, Bucket>,
    /// Rules of many ports.
    rest: Bucket,
}

/// Spans `lo..=hi` of rules, found by overlap. Spans are kept in classes
/// by width, each sorted by start: a lookup scans, in each class, only the
/// entries starting within that class's width below the query, so a /32
/// query among /24 rules walks a /24's worth of starts, not a /16's.
/// Spans wider than the widest class are kept apart in `wide` (always
/// candidates).
/// One span of one rule: (first, last, rule).
type Entry = (u128, u128, u32);

struct Intervals {
    /// (largest width of the class, entries sorted by start).
    classes: Vec<(u128, Vec<Entry>)>,
    wide: Vec<u32>,
}

impl Intervals {
    /// Classes of widths up to 2^b - 1 for each b of `bits`.
    fn new(bits: &[u32]) -> Self {
        Intervals {
            classes: bits
                .iter()
                .map(|&b| {
                    (
                        if b >= 128 {
                            u128::MAX
                        } else {
                            (1u128 << b) - 1
                        },
                        Vec::new(),
                    )
                })
                .collect(),
            wide: Vec::new(),
        }
    }
    fn add(&mut self, rule: u32, spans: &[(u128, u128)]) {
        let widest = self.classes.last().map_or(0, |c| c.0);
        if spans.iter().any(|(lo, hi)| hi - lo > widest) {
            self.wide.push(rule);
            return;
        }
        for &(lo, hi) in spans {
            if let Some(c) = self.classes.iter_mut().find(|c| hi - lo <= c.0) {
                c.1.push((lo, hi, rule));
            }
        }
    }
    fn finish(&mut self) {
        // By start alone: lookups find by start, and what they find is
        // sorted by rule afterwards (many rules share a start: one host),
        // so the order among equal starts does not matter, and a large
        // class is sorted on every core.
        for c in &mut self.classes {
            if c.1.len() > 1 << 14 {
                c.1.par_sort_unstable_by_key(|e| e.0);
            } else {
                c.1.sort_unstable_by_key(|e| e.0);
            }
        }
        // Every lookup binary-searches every class: a chain of host rules
        // fills one class of seven, and the empty ones were most of the
        // index's cost. (`add` is done: the widest class is not needed.)
        self.classes.retain(|c| !c.1.is_empty());
        self.wide.sort_unstable();
        self.wide.dedup();
    }
    /// The entries of each class a lookup of `lo..=hi` scans.
    fn windows(&self, lo: u128, hi: u128) -> impl Iterator<Item = &[Entry]> {
        self.classes.iter().map(move |(w, e)| {
            let from = lo.saturating_sub(*w);
            let start = e.partition_point(|x| x.0 < from);
            let end = e.partition_point(|x| x.0 <= hi);
            &e[start..end.max(start)]
        })
    }
    /// An upper bound of what `lookup` finds (without the wide rules).
    fn estimate(&self, lo: u128, hi: u128) -> usize {
        self.windows(lo, hi).map(<[_]>::len).sum()
    }
    fn lookup(&self, lo: u128, hi: u128, out: &mut Vec<u32>) {
        for w in self.windows(lo, hi) {
            // Room for the window at once, not grown entry by entry.
            out.reserve(w.len());
            for e in w {
                if e.1 >= lo {
                    out.push(e.2);
                }
            }
        }
    }
}

impl AddrIndex {
    fn new() -> Self {
        AddrIndex {
            v4: Intervals::new(&[0, 4, 8, 12, 16, 20, 24]),
            v6: Intervals::new(&[0, 8, 16, 32, 48, 64, 80]),
            names: Vec::new(),
        }
    }
    fn add(&mut self, rule: u32, sides: &[&Addrs]) {
        // A rule has a span or two a side: kept inline, not allocated for
        // each of a large chain's rules.
        let mut v4: SmallVec<[(u128, u128); 4]> = SmallVec::new();
        let mut v6: SmallVec<[(u128, u128); 4]> = SmallVec::new();
        let mut names = false;
        for a in sides {
            v4.extend(
                a.v4.spans()
                    .iter()
                    .map(|&(l, h)| (u128::from(l), u128::from(h))),
            );
            v6.extend(a.v6.spans().iter().copied());
            names |= !a.names.is_empty();
        }
        if !v4.is_empty() {
            self.v4.add(rule, &v4);
        }
        if !v6.is_empty() {
            self.v6.add(rule, &v6);
        }
        if names {
            self.names.push(rule);
        }
    }
    fn finish(&mut self) {
        self.v4.finish();
        self.v6.finish();
    }
    /// How many rules a lookup of `a` would walk, at most.
    fn estimate(&self, a: &Addrs) -> usize {
        let mut n = 0;
        if !a.v4.is_empty() {
            n += self.v4.wide.len();
            n +=
                a.v4.spans()
                    .iter()
                    .map(|&(l, h)| self.v4.estimate(l.into(), h.into()))
                    .sum::<usize>();
        }
        if !a.v6.is_empty() {
            n += self.v6.wide.len();
            n +=
                a.v6.spans()
                    .iter()
                    .map(|&(l, h)| self.v6.estimate(l, h))
                    .sum::<usize>();
        }
        if !a.names.is_empty() {
            n += self.names.len();
        }
        n
    }
    fn lookup(&self, a: &Addrs, out: &mut Vec<u32>) {
        if !a.v4.is_empty() {
            out.extend_from_slice(&self.v4.wide);
            for &(l, h) in a.v4.spans() {
                self.v4.lookup(l.into(), h.into(), out);
            }
        }
        if !a.v6.is_empty() {
            out.extend_from_slice(&self.v6.wide);
            for &(l, h) in a.v6.spans() {
                self.v6.lookup(l, h, out);
            }
        }
        if !a.names.is_empty() {
            out.extend_from_slice(&self.names);
        }
    }
}

fn port_estimate(ix: &Intervals, p: &Ranges<u16>) -> usize {
    ix.wide.len()
        + p.spans()
            .iter()
            .map(|&(l, h)| ix.estimate(l.into(), h.into()))
            .sum::<usize>()
}

fn port_lookup(ix: &Intervals, p: &Ranges<u16>, out: &mut Vec<u32>) {
    out.extend_from_slice(&ix.wide);
    for &(l, h) in p.spans() {
        ix.lookup(l.into(), h.into(), out);
    }
}

/// Rules of a few destination ports (no more than this many ports in all)
/// are also indexed under each of their ports.
const FEW_PORTS: u128 = 16;

/// Rules under one destination port, by source and by destination.
struct Bucket {
    dst: AddrIndex,
    src: AddrIndex,
}

impl Bucket {
    fn new() -> Self {
        Bucket {
            dst: AddrIndex::new(),
            src: AddrIndex::new(),
        }
    }
    fn add(&mut self, rule: u32, envs: &[&Space]) {
        self.dst
            .add(rule, &envs.iter().map(|e| &e.dst).collect::<Vec<_>>());
        self.src
            .add(rule, &envs.iter().map(|e| &e.src).collect::<Vec<_>>());
    }
    fn finish(&mut self) {
        self.dst.finish();
        self.src.finish();
    }
    /// Rules of the bucket that may match `x`, through the more selective
    /// of its two indexes.
    fn lookup(&self, x: &Space, out: &mut Vec<u32>) {
        if self.dst.estimate(&x.dst) <= self.src.estimate(&x.src) {
            self.dst.lookup(&x.dst, out);
        } else {
            self.src.lookup(&x.src, out);
        }
    }
}

impl ChainIndex {
    /// No index: every query scans the chain.
    pub(crate) fn none() -> Self {
        ChainIndex { inner: None }
    }

    pub(crate) fn build(rules: &[CRule]) -> Self {
        if rules.len() < SCAN_BELOW {
            return ChainIndex { inner: None };
        }
        let mut dst = AddrIndex::new();
        let mut src = AddrIndex::new();
        let mut dport = Intervals::new(&[0, 4, 8, 10, 12]);
        let mut ports: std::collections::HashMap<u16, Bucket> = std::collections::HashMap::new();
        let mut rest = Bucket::new();
        for (i, r) in rules.iter().enumerate() {
            let i = i as u32;
            if r.never {
                continue;
            }
            let envs: Vec<&Space> = r.alts.iter().map(|a| &a.envelope).collect();
            dst.add(i, &envs.iter().map(|e| &e.dst).collect::<Vec<_>>());
            src.add(i, &envs.iter().map(|e| &e.src).collect::<Vec<_>>());
            let spans: Vec<(u128, u128)> = envs
                .iter()
                .flat_map(|e| {
                    e.dport
                        .spans()
                        .iter()
                        .map(|&(l, h)| (u128::from(l), u128::from(h)))
                })
                .collect();
            if !spans.is_empty() {
                dport.add(i, &spans);
            }
            // A rule of a few ports goes under each; any other rule (all
            // ports, a wide range) is a candidate for every port.
            let many: u128 = envs.iter().map(|e| e.dport.count()).sum();
            if many <= FEW_PORTS {
                let mut ps: Vec<u16> = envs
                    .iter()
                    .flat_map(|e| e.dport.spans().iter().flat_map(|&(l, h)| l..=h))
                    .collect();
                ps.sort_unstable();
                ps.dedup();
                for p in ps {
                    ports.entry(p).or_insert_with(Bucket::new).add(i, &envs);
                }
            } else {
                rest.add(i, &envs);
            }
        }
        dst.finish();
        src.finish();
        dport.finish();
        for b in ports.values_mut() {
            b.finish();
        }
        rest.finish();
        ChainIndex {
            inner: Some(Inner {
                dst,
                src,
                dport,
                ports,
                rest,
            }),
        }
    }

    /// Rules from `start` on that may match some part of `pieces`, in
    /// order: a superset (what the index cannot rule out), so that a caller
    /// that stops at the first rule deciding everything tests no more.
    pub(crate) fn candidates(&self, rules: &[CRule], start: usize, pieces: &[Space]) -> Vec<usize> {
        let Some(ix) = &self.inner else {
            return (start..rules.len()).filter(|&i| !rules[i].never).collect();
        };
        let mut found = Vec::new();
        // Pieces of a few ports: the buckets of those ports, and the rules
        // of many ports.
        if pieces.iter().all(|x| x.dport.count() <= FEW_PORTS) {
            for x in pieces {
                for &(l, h) in x.dport.spans() {
                    for p in l..=h {
                        if let Some(b) = ix.ports.get(&p) {
                            b.lookup(x, &mut found);
                        }
                    }
                }
                ix.rest.lookup(x, &mut found);
            }
            found.sort_unstable();
            found.dedup();
            return found
                .into_iter()
                .map(|r| r as usize)
                .filter(|&r| r >= start)
                .collect();
        }
        // Walk the index that finds the fewest rules for these pieces;
        // the full overlap test does the rest.
        let (mut d, mut s, mut p) = (0usize, 0usize, 0usize);
        for x in pieces {
            d += ix.dst.estimate(&x.dst);
            s += ix.src.estimate(&x.src);
            p += port_estimate(&ix.dport, &x.dport);
        }
        let mut found = Vec::new();
        for x in pieces {
            if d <= s && d <= p {
                ix.dst.lookup(&x.dst, &mut found);
            } else if s <= p {
                ix.src.lookup(&x.src, &mut found);
            } else {
                port_lookup(&ix.dport, &x.dport, &mut found);
            }
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|r| r as usize)
            .filter(|&r| r >= start)
            .collect()
    }
}

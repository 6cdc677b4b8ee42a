//! Which rules of a chain can match a part of the space, without looking at
//! every rule: rules are indexed by destination address and destination
//! port, so a query costs the rules near it, not the chain's length.

use crate::eval::CRule;
use crate::space::Space;

/// Chains shorter than this are scanned; the index would cost more.
const SCAN_BELOW: usize = 48;

pub(crate) struct ChainIndex {
    inner: Option<Inner>,
}

struct Inner {
    dst4: Intervals,
    dst6: Intervals,
    /// Rules that may match a DNS name as destination.
    dst_names: Vec<u32>,
    dport: Intervals,
}

/// Spans `lo..=hi` of rules, found by overlap. Spans wider than `width`
/// are kept apart in `wide` (always candidates), so a lookup only scans
/// entries starting within `width` below the query.
struct Intervals {
    entries: Vec<(u128, u128, u32)>,
    width: u128,
    wide: Vec<u32>,
}

impl Intervals {
    fn new(width: u128) -> Self {
        Intervals {
            entries: Vec::new(),
            width,
            wide: Vec::new(),
        }
    }
    fn add(&mut self, rule: u32, spans: &[(u128, u128)]) {
        if spans.iter().any(|(lo, hi)| hi - lo > self.width) {
            self.wide.push(rule);
        } else {
            for &(lo, hi) in spans {
                self.entries.push((lo, hi, rule));
            }
        }
    }
    fn finish(&mut self) {
        self.entries.sort_unstable();
        self.wide.sort_unstable();
        self.wide.dedup();
    }
    fn lookup(&self, lo: u128, hi: u128, out: &mut Vec<u32>) {
        out.extend_from_slice(&self.wide);
        let from = lo.saturating_sub(self.width);
        let start = self.entries.partition_point(|e| e.0 < from);
        for e in &self.entries[start..] {
            if e.0 > hi {
                break;
            }
            if e.1 >= lo {
                out.push(e.2);
            }
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
        let mut dst4 = Intervals::new(1 << 16);
        let mut dst6 = Intervals::new(1 << 64);
        let mut dst_names = Vec::new();
        let mut dport = Intervals::new(1024);
        for (i, r) in rules.iter().enumerate() {
            let i = i as u32;
            if r.never {
                continue;
            }
            let mut v4 = Vec::new();
            let mut v6 = Vec::new();
            let mut ports = Vec::new();
            let mut names = false;
            for a in &r.alts {
                let e = &a.envelope;
                v4.extend(
                    e.dst
                        .v4
                        .spans()
                        .iter()
                        .map(|&(l, h)| (l as u128, h as u128)),
                );
                v6.extend(e.dst.v6.spans().iter().copied());
                ports.extend(e.dport.spans().iter().map(|&(l, h)| (l as u128, h as u128)));
                names |= !e.dst.names.is_empty();
            }
            if !v4.is_empty() {
                dst4.add(i, &v4);
            }
            if !v6.is_empty() {
                dst6.add(i, &v6);
            }
            if names {
                dst_names.push(i);
            }
            if !ports.is_empty() {
                dport.add(i, &ports);
            }
        }
        dst4.finish();
        dst6.finish();
        dport.finish();
        ChainIndex {
            inner: Some(Inner {
                dst4,
                dst6,
                dst_names,
                dport,
            }),
        }
    }

    /// Rules from `start` on that can match some part of `pieces`, in order.
    pub(crate) fn candidates(&self, rules: &[CRule], start: usize, pieces: &[Space]) -> Vec<usize> {
        let Some(ix) = &self.inner else {
            return (start..rules.len())
                .filter(|&i| {
                    let r = &rules[i];
                    !r.never
                        && r.alts
                            .iter()
                            .any(|a| pieces.iter().any(|p| p.overlaps(&a.envelope)))
                })
                .collect();
        };
        let mut by_dst = Vec::new();
        let mut by_port = Vec::new();
        for p in pieces {
            for &(lo, hi) in p.dst.v4.spans() {
                ix.dst4.lookup(lo as u128, hi as u128, &mut by_dst);
            }
            for &(lo, hi) in p.dst.v6.spans() {
                ix.dst6.lookup(lo, hi, &mut by_dst);
            }
            if !p.dst.names.is_empty() {
                by_dst.extend_from_slice(&ix.dst_names);
            }
            for &(lo, hi) in p.dport.spans() {
                ix.dport.lookup(lo as u128, hi as u128, &mut by_port);
            }
        }
        by_dst.sort_unstable();
        by_dst.dedup();
        by_port.sort_unstable();
        by_port.dedup();
        // Both lists are sorted: walk them together.
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < by_dst.len() && j < by_port.len() {
            match by_dst[i].cmp(&by_port[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let r = by_dst[i] as usize;
                    if r >= start
                        && rules[r]
                            .alts
                            .iter()
                            .any(|a| pieces.iter().any(|p| p.overlaps(&a.envelope)))
                    {
                        out.push(r);
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        out
    }
}

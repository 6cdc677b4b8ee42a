//! The packet space: sets of protocols, addresses and ports, and boxes (one
//! set per dimension) with the algebra evaluation needs: intersect, subtract,
//! cover. A rule matches a union of boxes; a planned flow is a box; a verdict
//! is a partition of the flow's box.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use smallvec::{smallvec, SmallVec};
use std::collections::BTreeSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An integer type a [`Ranges`] can hold.
pub trait Bound: Copy + Ord + fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    fn succ(self) -> Self;
    fn pred(self) -> Self;
    fn to_u128(self) -> u128;
}

macro_rules! bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Self { self.saturating_add(1) }
            fn pred(self) -> Self { self.saturating_sub(1) }
            fn to_u128(self) -> u128 { self as u128 }
        }
    )*};
}
bound!(u8, u16, u32, u128);

/// A set of integers as sorted, disjoint, non-touching inclusive ranges.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ranges<T: Bound>(Spans<T>);

impl<T: Bound> Clone for Ranges<T> {
    /// Copied as one slice (an audit clones millions of sets; the derived
    /// clone pushed span by span).
    fn clone(&self) -> Self {
        Ranges(SmallVec::from_slice(&self.0))
    }
}

/// The spans of a set: most sets are one or two ranges, held inline (a
/// flow's evaluation makes and drops millions of them).
type Spans<T> = SmallVec<[(T, T); 2]>;

impl<T: Bound> fmt::Debug for Ranges<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T: Bound> Default for Ranges<T> {
    fn default() -> Self {
        Ranges(SmallVec::new())
    }
}

impl<T: Bound> Ranges<T> {
    pub fn empty() -> Self {
        Ranges(SmallVec::new())
    }
    pub fn full() -> Self {
        Ranges(smallvec![(T::MIN, T::MAX)])
    }
    pub fn one(v: T) -> Self {
        Ranges(smallvec![(v, v)])
    }
    /// `lo..=hi`; empty when `lo > hi`.
    pub fn range(lo: T, hi: T) -> Self {
        if lo > hi {
            Ranges::empty()
        } else {
            Ranges(smallvec![(lo, hi)])
        }
    }
    /// From any ranges, in any order, overlapping or not. (A plain
    /// constructor: `FromIterator` would also let `collect` build one, and
    /// readers should say which set they mean.)
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter(it: impl IntoIterator<Item = (T, T)>) -> Self {
        let mut v: Spans<T> = it.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        let mut out: Spans<T> = SmallVec::with_capacity(v.len());
        for (lo, hi) in v {
            match out.last_mut() {
                Some(last) if lo <= last.1.succ() || last.1 == T::MAX => {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                }
                _ => out.push((lo, hi)),
            }
        }
        Ranges(out)
    }
    pub fn spans(&self) -> &[(T, T)] {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn is_full(&self) -> bool {
        self.0.len() == 1 && self.0[0] == (T::MIN, T::MAX)
    }
    pub fn min(&self) -> Option<T> {
        self.0.first().map(|r| r.0)
    }
    pub fn max(&self) -> Option<T> {
        self.0.last().map(|r| r.1)
    }
    pub fn contains(&self, v: T) -> bool {
        match self.0.binary_search_by(|(lo, _)| lo.cmp(&v)) {
            Ok(_) => true,
            Err(0) => false,
            Err(i) => self.0[i - 1].1 >= v,
        }
    }
    /// How many values (saturating at `u128::MAX`).
    pub fn count(&self) -> u128 {
        self.0.iter().fold(0u128, |n, (a, b)| {
            n.saturating_add(b.to_u128() - a.to_u128())
                .saturating_add(1)
        })
    }
    pub fn union(&self, o: &Self) -> Self {
        if o.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return o.clone();
        }
        Ranges::from_iter(self.0.iter().chain(o.0.iter()).copied())
    }
    pub fn intersect(&self, o: &Self) -> Self {
        if self.is_full() {
            return o.clone();
        }
        if o.is_full() {
            return self.clone();
        }
        let (mut i, mut j) = (0, 0);
        let mut out = SmallVec::new();
        while i < self.0.len() && j < o.0.len() {
            let (a0, a1) = self.0[i];
            let (b0, b1) = o.0[j];
            let lo = a0.max(b0);
            let hi = a1.min(b1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ranges(out)
    }
    pub fn overlaps(&self, o: &Self) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < o.0.len() {
            let (a0, a1) = self.0[i];
            let (b0, b1) = o.0[j];
            if a0.max(b0) <= a1.min(b1) {
                return true;
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        false
    }
    pub fn complement(&self) -> Self {
        let mut out = SmallVec::new();
        let mut next = Some(T::MIN);
        for &(lo, hi) in &self.0 {
            if let Some(n) = next {
                if lo > n {
                    out.push((n, lo.pred()));
                }
            }
            next = if hi == T::MAX { None } else { Some(hi.succ()) };
        }
        if let Some(n) = next {
            out.push((n, T::MAX));
        }
        Ranges(out)
    }
    pub fn subtract(&self, o: &Self) -> Self {
        if o.is_empty() || self.is_empty() {
            return self.clone();
        }
        if o.is_full() {
            return Ranges::empty();
        }
        self.intersect(&o.complement())
    }
    /// Every value of `o` is in `self`.
    pub fn covers(&self, o: &Self) -> bool {
        o.subtract(self).is_empty()
    }
    /// Each span of `o` lies within one span of `self`: then `self` covers
    /// `o` (the converse holds for the merged spans every set keeps), found
    /// without building `o - self`.
    fn holds_spans(&self, o: &Self) -> bool {
        let mut i = 0;
        o.0.iter().all(|&(lo, hi)| {
            while self.0.get(i).is_some_and(|s| s.1 < lo) {
                i += 1;
            }
            self.0.get(i).is_some_and(|&(a, b)| a <= lo && hi <= b)
        })
    }
}

/// A set of DNS names: exactly these, or all names but these. A name that
/// starts with `*.` stands for its subdomains.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Names {
    /// `true`: every name except `items`; `false`: exactly `items`.
    pub all: bool,
    pub items: BTreeSet<String>,
}

/// Whether `pattern` (a name or `*.suffix`) covers `name` (a name or pattern).
pub fn name_covers(pattern: &str, name: &str) -> bool {
    if pattern == name {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .strip_prefix("*.")
            .unwrap_or(name)
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.')),
        None => false,
    }
}

impl Names {
    pub fn none() -> Self {
        Names::default()
    }
    pub fn every() -> Self {
        Names {
            all: true,
            items: BTreeSet::new(),
        }
    }
    pub fn one(n: &str) -> Self {
        Names {
            all: false,
            items: BTreeSet::from([n.to_ascii_lowercase()]),
        }
    }
    pub fn is_empty(&self) -> bool {
        !self.all && self.items.is_empty()
    }
    pub fn is_every(&self) -> bool {
        self.all && self.items.is_empty()
    }
    /// Whether the name `n` is in the set.
    pub fn contains(&self, n: &str) -> bool {
        let listed = self.items.iter().any(|p| name_covers(p, n));
        listed != self.all
    }
    pub fn intersect(&self, o: &Self) -> Self {
        match (self.all, o.all) {
            (true, true) => Names {
                all: true,
                items: self.items.union(&o.items).cloned().collect(),
            },
            (false, _) => Names {
                all: false,
                items: self
                    .items
                    .iter()
                    .filter(|n| o.contains(n))
                    .cloned()
                    .collect(),
            },
            (true, false) => o.intersect(self),
        }
    }
    pub fn complement(&self) -> Self {
        Names {
            all: !self.all,
            items: self.items.clone(),
        }
    }
    pub fn subtract(&self, o: &Self) -> Self {
        self.intersect(&o.complement())
    }
    pub fn union(&self, o: &Self) -> Self {
        self.complement().intersect(&o.complement()).complement()
    }
}

/// A set of addresses: IPv4 and IPv6 ranges, and DNS names (a name stands
/// for the addresses it resolves to, which a ruleset may not know).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addrs {
    pub v4: Ranges<u32>,
    pub v6: Ranges<u128>,
    pub names: Names,
}

impl Addrs {
    pub fn none() -> Self {
        Addrs::default()
    }
    /// Every address of both families and every name.
    pub fn every() -> Self {
        Addrs {
            v4: Ranges::full(),
            v6: Ranges::full(),
            names: Names::every(),
        }
    }
    pub fn net(n: &IpNet) -> Self {
        match n {
            IpNet::V4(n) => Addrs::v4net(n),
            IpNet::V6(n) => Addrs::v6net(n),
        }
    }
    pub fn v4net(n: &Ipv4Net) -> Self {
        Addrs {
            v4: Ranges::range(u32::from(n.network()), u32::from(n.broadcast())),
            ..Addrs::none()
        }
    }
    pub fn v6net(n: &Ipv6Net) -> Self {
        Addrs {
            v6: Ranges::range(u128::from(n.network()), u128::from(n.broadcast())),
            ..Addrs::none()
        }
    }
    pub fn name(n: &str) -> Self {
        Addrs {
            names: Names::one(n),
            ..Addrs::none()
        }
    }
    /// Every IPv4 address (and no name).
    pub fn all_v4() -> Self {
        Addrs {
            v4: Ranges::full(),
            ..Addrs::none()
        }
    }
    pub fn all_v6() -> Self {
        Addrs {
            v6: Ranges::full(),
            ..Addrs::none()
        }
    }
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty() && self.names.is_empty()
    }
    pub fn is_every(&self) -> bool {
        self.v4.is_full() && self.v6.is_full() && self.names.is_every()
    }
    pub fn has_ranges(&self) -> bool {
        !self.v4.is_empty() || !self.v6.is_empty()
    }
    pub fn union(&self, o: &Self) -> Self {
        Addrs {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
            names: self.names.union(&o.names),
        }
    }
    pub fn intersect(&self, o: &Self) -> Self {
        Addrs {
            v4: self.v4.intersect(&o.v4),
            v6: self.v6.intersect(&o.v6),
            names: self.names.intersect(&o.names),
        }
    }
    pub fn subtract(&self, o: &Self) -> Self {
        Addrs {
            v4: self.v4.subtract(&o.v4),
            v6: self.v6.subtract(&o.v6),
            names: self.names.subtract(&o.names),
        }
    }
    pub fn complement(&self) -> Self {
        Addrs::every().subtract(self)
    }
    pub fn overlaps(&self, o: &Self) -> bool {
        self.v4.overlaps(&o.v4)
            || self.v6.overlaps(&o.v6)
            || !self.names.intersect(&o.names).is_empty()
    }
    pub fn covers(&self, o: &Self) -> bool {
        o.subtract(self).is_empty()
    }
    /// The smallest CIDR list that is exactly this set's ranges, then names.
    pub fn describe(&self) -> String {
        if self.is_every() {
            return "any".into();
        }
        let mut parts = Vec::new();
        if self.v4.is_full() && self.v6.is_full() {
            parts.push("any address".to_string());
        } else {
            if self.v4.is_full() {
                parts.push("0.0.0.0/0".to_string());
            } else if self.v4.count() > (1u128 << 31) {
                // Most of the space: say what is left out (everything but
                // 127.0.0.1 is one line, not the 32 networks that cover it).
                let but: Vec<String> = self
                    .v4
                    .complement()
                    .spans()
                    .iter()
                    .flat_map(|&(lo, hi)| cidrs4(lo, hi))
                    .map(|n| net_text4(&n))
                    .collect();
                parts.push(format!("IPv4 but {}", but.join(", ")));
            } else {
                for &(lo, hi) in self.v4.spans() {
                    parts.extend(cidrs4(lo, hi).iter().map(net_text4));
                }
            }
            if self.v6.is_full() {
                parts.push("::/0".to_string());
            } else if self.v6.count() > (1u128 << 127) {
                let but: Vec<String> = self
                    .v6
                    .complement()
                    .spans()
                    .iter()
                    .flat_map(|&(lo, hi)| cidrs6(lo, hi))
                    .map(|n| net_text6(&n))
                    .collect();
                parts.push(format!("IPv6 but {}", but.join(", ")));
            } else {
                for &(lo, hi) in self.v6.spans() {
                    parts.extend(cidrs6(lo, hi).iter().map(net_text6));
                }
            }
        }
        if self.names.all {
            if self.names.items.is_empty() {
                parts.push("any name".into());
            } else {
                let but: Vec<&str> = self.names.items.iter().map(String::as_str).collect();
                parts.push(format!("any name but {}", but.join(", ")));
            }
        } else {
            parts.extend(self.names.items.iter().cloned());
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

fn net_text4(n: &Ipv4Net) -> String {
    if n.prefix_len() == 32 {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

fn net_text6(n: &Ipv6Net) -> String {
    if n.prefix_len() == 128 {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// The CIDR blocks that exactly make up `lo..=hi`.
pub fn cidrs4(lo: u32, hi: u32) -> Vec<Ipv4Net> {
    cidrs(lo as u128, hi as u128, 32)
        .into_iter()
        .filter_map(|(a, p)| Ipv4Net::new(Ipv4Addr::from(a as u32), p).ok())
        .collect()
}

pub fn cidrs6(lo: u128, hi: u128) -> Vec<Ipv6Net> {
    cidrs(lo, hi, 128)
        .into_iter()
        .filter_map(|(a, p)| Ipv6Net::new(Ipv6Addr::from(a), p).ok())
        .collect()
}

fn cidrs(mut lo: u128, hi: u128, bits: u8) -> Vec<(u128, u8)> {
    let mut out = Vec::new();
    loop {
        // The largest block that starts at lo and stays within hi.
        let mut size_bits = if lo == 0 {
            u32::from(bits)
        } else {
            lo.trailing_zeros().min(u32::from(bits))
        };
        while size_bits > 0 {
            let last = if size_bits >= 128 {
                u128::MAX
            } else {
                lo + ((1u128 << size_bits) - 1)
            };
            if last <= hi && last >= lo {
                break;
            }
            size_bits -= 1;
        }
        out.push((lo, bits - size_bits as u8));
        let last = if size_bits >= 128 {
            u128::MAX
        } else {
            lo + ((1u128 << size_bits) - 1)
        };
        if last >= hi {
            return out;
        }
        lo = last + 1;
    }
}

/// One box of the packet space: every combination of its sets.
/// `dport` holds the ICMP type for ICMP (protocols 1 and 58); for protocols
/// without ports it is the full range.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Space {
    pub proto: Ranges<u8>,
    pub src: Addrs,
    pub dst: Addrs,
    pub sport: Ranges<u16>,
    pub dport: Ranges<u16>,
}

impl Space {
    /// Every packet.
    pub fn every() -> Self {
        Space {
            proto: Ranges::full(),
            src: Addrs::every(),
            dst: Addrs::every(),
            sport: Ranges::full(),
            dport: Ranges::full(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.proto.is_empty()
            || self.src.is_empty()
            || self.dst.is_empty()
            || self.sport.is_empty()
            || self.dport.is_empty()
    }
    pub fn intersect(&self, o: &Space) -> Option<Space> {
        let proto = self.proto.intersect(&o.proto);
        if proto.is_empty() {
            return None;
        }
        let dport = self.dport.intersect(&o.dport);
        if dport.is_empty() {
            return None;
        }
        let sport = self.sport.intersect(&o.sport);
        if sport.is_empty() {
            return None;
        }
        let dst = self.dst.intersect(&o.dst);
        if dst.is_empty() {
            return None;
        }
        let src = self.src.intersect(&o.src);
        if src.is_empty() {
            return None;
        }
        Some(Space {
            proto,
            src,
            dst,
            sport,
            dport,
        })
    }
    pub fn overlaps(&self, o: &Space) -> bool {
        self.proto.overlaps(&o.proto)
            && self.dport.overlaps(&o.dport)
            && self.sport.overlaps(&o.sport)
            && self.dst.overlaps(&o.dst)
            && self.src.overlaps(&o.src)
    }
    /// `o` surely holds all of `self` (a quick test: `false` may still
    /// cover, where DNS names are involved).
    fn surely_within(&self, o: &Space) -> bool {
        let names = |a: &Addrs, b: &Addrs| a.names.is_empty() || b.names.is_every();
        o.proto.holds_spans(&self.proto)
            && o.dport.holds_spans(&self.dport)
            && o.sport.holds_spans(&self.sport)
            && o.dst.v4.holds_spans(&self.dst.v4)
            && o.dst.v6.holds_spans(&self.dst.v6)
            && o.src.v4.holds_spans(&self.src.v4)
            && o.src.v6.holds_spans(&self.src.v6)
            && names(&self.dst, &o.dst)
            && names(&self.src, &o.src)
    }
    /// `self` minus `o`, as at most five disjoint boxes.
    pub fn subtract(&self, o: &Space) -> Vec<Space> {
        // Audits subtract mostly boxes that take all of a piece (a rule
        // from the flow it allows, a flow from the rule that allows it):
        // nothing is left, as the peeling below would find at more cost.
        if !self.is_empty() && self.surely_within(o) {
            return Vec::new();
        }
        let Some(common) = self.intersect(o) else {
            return vec![self.clone()];
        };
        let mut out = Vec::new();
        // Peel one dimension at a time: the part outside `o` in that
        // dimension, with the dimensions before it already cut to `o`.
        let mut rest = self.clone();
        let proto = rest.proto.subtract(&common.proto);
        if !proto.is_empty() {
            out.push(Space {
                proto,
                ..rest.clone()
            });
        }
        rest.proto = common.proto.clone();
        let dport = rest.dport.subtract(&common.dport);
        if !dport.is_empty() {
            out.push(Space {
                dport,
                ..rest.clone()
            });
        }
        rest.dport = common.dport.clone();
        let dst = rest.dst.subtract(&common.dst);
        if !dst.is_empty() {
            out.push(Space {
                dst,
                ..rest.clone()
            });
        }
        rest.dst = common.dst.clone();
        let src = rest.src.subtract(&common.src);
        if !src.is_empty() {
            out.push(Space {
                src,
                ..rest.clone()
            });
        }
        rest.src = common.src.clone();
        let sport = rest.sport.subtract(&common.sport);
        if !sport.is_empty() {
            out.push(Space { sport, ..rest });
        }
        out
    }
    pub fn covers(&self, o: &Space) -> bool {
        self.proto.covers(&o.proto)
            && self.dport.covers(&o.dport)
            && self.sport.covers(&o.sport)
            && self.dst.covers(&o.dst)
            && self.src.covers(&o.src)
    }
}

/// Boxes merged where two differ in one dimension only (so the parts of a
/// flow that evaluation split and that share an outcome read as one).
pub fn coalesce(mut v: Vec<Space>) -> Vec<Space> {
    let mut merged = true;
    while merged && v.len() > 1 {
        merged = false;
        'outer: for i in 0..v.len() {
            for j in (i + 1)..v.len() {
                let (a, b) = (&v[i], &v[j]);
                let same = [
                    a.proto == b.proto,
                    a.src == b.src,
                    a.dst == b.dst,
                    a.sport == b.sport,
                    a.dport == b.dport,
                ];
                if same.iter().filter(|x| !**x).count() > 1 {
                    continue;
                }
                let mut m = a.clone();
                if !same[0] {
                    m.proto = a.proto.union(&b.proto);
                } else if !same[1] {
                    m.src = a.src.union(&b.src);
                } else if !same[2] {
                    m.dst = a.dst.union(&b.dst);
                } else if !same[3] {
                    m.sport = a.sport.union(&b.sport);
                } else {
                    m.dport = a.dport.union(&b.dport);
                }
                v[i] = m;
                v.swap_remove(j);
                merged = true;
                break 'outer;
            }
        }
    }
    v
}

/// A union of boxes.
pub fn subtract_all(pieces: Vec<Space>, o: &Space) -> Vec<Space> {
    let mut out = Vec::with_capacity(pieces.len());
    for p in pieces {
        if p.overlaps(o) {
            out.extend(p.subtract(o));
        } else {
            out.push(p);
        }
    }
    out
}

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;
pub const ESP: u8 = 50;

/// Protocols whose packets carry ports (TCP, UDP, SCTP, DCCP, UDP-Lite).
pub fn has_ports(p: u8) -> bool {
    matches!(p, 6 | 17 | 33 | 132 | 136)
}

/// The name of an IP protocol number, for reports.
pub fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        58 => "icmpv6".into(),
        132 => "sctp".into(),
        n => format!("protocol {n}"),
    }
}

/// An IP protocol by name or number, as rulesets write them.
pub fn proto_number(s: &str) -> Option<u8> {
    let s = s.trim().to_ascii_lowercase();
    if let Ok(n) = s.parse::<u8>() {
        return Some(n);
    }
    Some(match s.as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "ipip" | "ipinip" | "ipencap" => 4,
        "tcp" => 6,
        "egp" => 8,
        "udp" => 17,
        "ipv6" => 41,
        "rsvp" => 46,
        "gre" => 47,
        "esp" | "ipsec-esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" | "icmp6" => 58,
        "eigrp" => 88,
        "ospf" | "ospfigp" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "l2tp" => 115,
        "sctp" => 132,
        "udplite" => 136,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(v: &[(u16, u16)]) -> Ranges<u16> {
        Ranges::from_iter(v.iter().copied())
    }

    /// Everything but one address is said as such, not as the 128
    /// networks that cover the rest (an audit line once listed them all).
    #[test]
    fn nearly_everything_is_described_by_what_it_leaves_out() {
        let but_one6 = Addrs::every().subtract(&Addrs::net(&"::1/128".parse().unwrap()));
        let d = but_one6.describe();
        assert!(d.contains("IPv6 but ::1"), "{d}");
        assert!(d.len() < 60, "{d}");
        let but_one4 = Addrs::every().subtract(&Addrs::net(&"127.0.0.1/32".parse().unwrap()));
        assert!(
            but_one4.describe().contains("IPv4 but 127.0.0.1"),
            "{}",
            but_one4.describe()
        );
    }

    #[test]
    fn ranges_merge_and_complement() {
        assert_eq!(r(&[(5, 9), (1, 4), (20, 30)]).spans(), &[(1, 9), (20, 30)]);
        assert_eq!(r(&[(0, 10)]).complement().spans(), &[(11, 65535)]);
        assert_eq!(Ranges::<u16>::full().complement().spans(), &[]);
        assert_eq!(
            r(&[(1, 100)]).subtract(&r(&[(10, 20)])).spans(),
            &[(1, 9), (21, 100)]
        );
        assert!(r(&[(1, 100)]).covers(&r(&[(5, 6), (90, 100)])));
    }

    #[test]
    fn cidr_blocks_are_exact() {
        let v = cidrs4(
            u32::from(Ipv4Addr::new(10, 0, 0, 1)),
            u32::from(Ipv4Addr::new(10, 0, 0, 6)),
        );
        let t: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            t,
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(cidrs4(0, u32::MAX)[0].to_string(), "0.0.0.0/0");
        assert_eq!(cidrs6(0, u128::MAX)[0].to_string(), "::/0");
    }

    #[test]
    fn names_and_wildcards() {
        assert!(name_covers("*.walkme.com", "cdn.walkme.com"));
        assert!(!name_covers("*.walkme.com", "walkme.com"));
        assert!(!name_covers("*.walkme.com", "xwalkme.com"));
        let all_but = Names::one("a.com").complement();
        assert!(!all_but.contains("a.com"));
        assert!(all_but.contains("b.com"));
        assert!(Names::one("a.com").intersect(&all_but).is_empty());
    }

    fn arb_ranges() -> impl Strategy<Value = Ranges<u16>> {
        proptest::collection::vec((0u16..200, 0u16..200), 0..4)
            .prop_map(|v| Ranges::from_iter(v.into_iter().map(|(a, b)| (a.min(b), a.max(b)))))
    }

    fn arb_space() -> impl Strategy<Value = Space> {
        (arb_ranges(), arb_ranges(), arb_ranges()).prop_map(|(p, s, d)| Space {
            proto: Ranges::from_iter(p.spans().iter().map(|&(a, b)| (a as u8, b.min(255) as u8))),
            src: Addrs {
                v4: Ranges::from_iter(s.spans().iter().map(|&(a, b)| (a as u32, b as u32))),
                ..Addrs::none()
            },
            dst: Addrs::all_v4(),
            sport: Ranges::full(),
            dport: d,
        })
    }

    proptest! {
        #[test]
        fn subtraction_partitions(a in arb_space(), b in arb_space(), probe in (0u8..200, 0u32..200, 0u16..200)) {
            let (p, s, d) = probe;
            let point = |sp: &Space| sp.proto.contains(p) && sp.src.v4.contains(s) && sp.dport.contains(d);
            let in_a = point(&a);
            let in_b = point(&b);
            let pieces = a.subtract(&b);
            let hits = pieces.iter().filter(|x| point(x)).count();
            prop_assert_eq!(hits, usize::from(in_a && !in_b));
            if let Some(c) = a.intersect(&b) {
                prop_assert_eq!(point(&c), in_a && in_b);
            } else {
                prop_assert!(!(in_a && in_b));
            }
        }
    }
}

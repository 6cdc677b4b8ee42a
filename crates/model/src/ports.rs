//! Protocols, port ranges and port sets: the vocabulary every stage shares.

use schemars::JsonSchema;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A transport protocol as a firewall sees it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    /// IPsec's Encapsulating Security Payload (IP protocol 50): the data of
    /// an IPsec tunnel, which IKE on UDP 500 only negotiates.
    Esp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Esp => "esp",
        }
    }
    /// ICMP and ESP have no ports; every rule writer needs to know that.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
    /// The IP protocol number (`ip_protocol = "50"`, `-Protocol 50`).
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Icmp => 1,
            Protocol::Esp => 50,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "icmp" => Ok(Protocol::Icmp),
            "esp" => Ok(Protocol::Esp),
            other => Err(format!(
                "unknown protocol `{other}`: write tcp, udp, icmp or esp"
            )),
        }
    }
}

/// An inclusive range of ports, `low..=high`, both in 1..=65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    /// A checked range: both ends in 1..=65535 and `low <= high`.
    pub fn new(low: u32, high: u32) -> Result<Self, String> {
        for p in [low, high] {
            if !(1..=65535).contains(&p) {
                return Err(format!(
                    "port {p} is outside 1..=65535: a TCP/UDP port is a number from 1 to 65535"
                ));
            }
        }
        if low > high {
            return Err(format!(
                "port range {low}-{high} runs backwards: write {high}-{low}"
            ));
        }
        Ok(PortRange {
            low: low as u16,
            high: high as u16,
        })
    }
    pub fn single(p: u16) -> Self {
        PortRange { low: p, high: p }
    }
    pub fn is_single(&self) -> bool {
        self.low == self.high
    }
    pub fn contains(&self, p: u16) -> bool {
        self.low <= p && p <= self.high
    }
    pub fn contains_range(&self, other: &PortRange) -> bool {
        self.low <= other.low && other.high <= self.high
    }
    pub fn len(&self) -> u32 {
        u32::from(self.high) - u32::from(self.low) + 1
    }
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}-{}", self.low, self.high)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let parse = |t: &str| -> Result<u32, String> {
            t.trim().parse::<u32>().map_err(|_| {
                format!("`{s}` is not a port: write a number like 443 or a range like 8000-8999")
            })
        };
        match s.split_once('-') {
            Some((a, b)) => PortRange::new(parse(a)?, parse(b)?),
            None => {
                let p = parse(s)?;
                PortRange::new(p, p)
            }
        }
    }
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_single() {
            s.serialize_u16(self.low)
        } else {
            s.serialize_str(&self.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PortRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port (443) or a port range (\"8000-8999\")")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortRange, E> {
                let v = u32::try_from(v).unwrap_or(u32::MAX);
                PortRange::new(v, v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortRange, E> {
                if v < 0 {
                    return Err(E::custom(format!(
                        "port {v} is outside 1..=65535: a TCP/UDP port is a number from 1 to 65535"
                    )));
                }
                self.visit_u64(v as u64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortRange, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PortRange {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortRange".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A port (443) or an inclusive range (\"8000-8999\"), within 1..=65535",
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"type": "string", "pattern": "^[0-9]{1,5}-[0-9]{1,5}$"}
            ]
        })
    }
}

/// A normalised set of ports: sorted, non-overlapping, non-adjacent ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PortSet {
    ranges: Vec<PortRange>,
}

impl PortSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn from_ranges<I: IntoIterator<Item = PortRange>>(it: I) -> Self {
        let mut s = PortSet::new();
        for r in it {
            s.insert(r);
        }
        s
    }
    /// Adds a range, merging it with overlapping or adjacent ones.
    pub fn insert(&mut self, r: PortRange) {
        self.ranges.push(r);
        self.ranges.sort();
        let mut out: Vec<PortRange> = Vec::with_capacity(self.ranges.len());
        for r in self.ranges.drain(..) {
            match out.last_mut() {
                Some(last) if u32::from(r.low) <= u32::from(last.high) + 1 => {
                    last.high = last.high.max(r.high);
                }
                _ => out.push(r),
            }
        }
        self.ranges = out;
    }
    pub fn union(&mut self, other: &PortSet) {
        for r in &other.ranges {
            self.insert(*r);
        }
    }
    pub fn ranges(&self) -> &[PortRange] {
        &self.ranges
    }
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
    pub fn contains(&self, p: u16) -> bool {
        self.ranges.iter().any(|r| r.contains(p))
    }
    /// Number of ports in the set.
    pub fn count(&self) -> u32 {
        self.ranges.iter().map(PortRange::len).sum()
    }
    pub fn iter_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.ranges.iter().flat_map(|r| r.low..=r.high)
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.ranges.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for PortSet {
    type Err = String;
    /// `443`, `80,443`, `8000-8999,9090`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = PortSet::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            set.insert(part.parse()?);
        }
        if set.is_empty() {
            return Err(format!("`{s}` names no port"));
        }
        Ok(set)
    }
}

impl JsonSchema for PortSet {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortSet".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "array",
            "items": g.subschema_for::<PortRange>()
        })
    }
}

/// ICMP type numbers for the names catalogs use: (ICMPv4, ICMPv6).
/// A bare number is taken as ICMPv4's.
pub fn icmp_type_numbers(name: &str) -> Option<(Option<u8>, Option<u8>)> {
    let n = name.trim().to_ascii_lowercase();
    if let Ok(v) = n.parse::<u8>() {
        return Some((Some(v), None));
    }
    let pair = match n.as_str() {
        "echo-request" | "echo" | "ping" => (Some(8), Some(128)),
        "echo-reply" => (Some(0), Some(129)),
        "destination-unreachable" | "unreachable" => (Some(3), Some(1)),
        "source-quench" => (Some(4), None),
        "redirect" => (Some(5), Some(137)),
        "router-advertisement" => (Some(9), Some(134)),
        "router-solicitation" => (Some(10), Some(133)),
        "time-exceeded" => (Some(11), Some(3)),
        "parameter-problem" => (Some(12), Some(4)),
        "timestamp-request" | "timestamp" => (Some(13), None),
        "timestamp-reply" => (Some(14), None),
        "packet-too-big" => (None, Some(2)),
        _ => return None,
    };
    Some(pair)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_ranges_and_rejects_bad_ones() {
        assert_eq!("443".parse::<PortRange>(), Ok(PortRange::single(443)));
        assert_eq!(
            "8000-8999".parse::<PortRange>().map(|r| (r.low, r.high)),
            Ok((8000, 8999))
        );
        assert!("70000"
            .parse::<PortRange>()
            .unwrap_err()
            .contains("1..=65535"));
        assert!("0".parse::<PortRange>().is_err());
        assert!("9-1"
            .parse::<PortRange>()
            .unwrap_err()
            .contains("backwards"));
        assert!("ssh".parse::<PortRange>().is_err());
    }

    #[test]
    fn set_merges_adjacent_and_overlapping() {
        let s: PortSet = "1812,1813,1645-1646,1700,1646".parse().unwrap();
        assert_eq!(s.to_string(), "1645-1646,1700,1812-1813");
        assert_eq!(s.count(), 5);
    }

    proptest! {
        #[test]
        fn set_holds_exactly_the_inserted_ports(ports in proptest::collection::vec(1u16..=200, 0..40)) {
            let set = PortSet::from_ranges(ports.iter().map(|p| PortRange::single(*p)));
            for p in 1u16..=200 {
                prop_assert_eq!(set.contains(p), ports.contains(&p));
            }
            for w in set.ranges().windows(2) {
                prop_assert!(u32::from(w[0].high) + 1 < u32::from(w[1].low));
            }
        }
    }
}

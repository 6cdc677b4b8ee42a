//! The flow set: the planner's output and the input of every renderer and of
//! verification. Pure data; no stage but `plan` builds it.

use crate::catalog::Scope;
use crate::diag::Diagnostic;
use crate::ports::{PortSet, Protocol};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// One end of a flow as a firewall can match it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Addr {
    /// An address or a network (a single host is a /32 or /128).
    Net(IpNet),
    /// A DNS name or wildcard (`app.strongdm.com`, `*.walkme.com`).
    Name(String),
    /// Anywhere (the Internet).
    Any,
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Net(n) if n.prefix_len() == n.max_prefix_len() => write!(f, "{}", n.addr()),
            Addr::Net(n) => write!(f, "{n}"),
            Addr::Name(s) => f.write_str(s),
            Addr::Any => f.write_str("any"),
        }
    }
}

impl FromStr for Addr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("any") || s == "0.0.0.0/0" {
            return Ok(Addr::Any);
        }
        if let Ok(n) = s.parse::<IpNet>() {
            return Ok(Addr::Net(n.trunc()));
        }
        if let Ok(ip) = s.parse::<std::net::IpAddr>() {
            return Ok(Addr::Net(IpNet::from(ip)));
        }
        let name_ok = !s.is_empty()
            && s.len() <= 253
            && s.split('.').enumerate().all(|(i, label)| {
                (i == 0 && label == "*")
                    || (!label.is_empty()
                        && label.len() <= 63
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !label.starts_with('-'))
            });
        if name_ok && s.chars().any(|c| c.is_ascii_alphabetic()) {
            Ok(Addr::Name(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{s}` is not an address, a CIDR, a host name or `any`"
            ))
        }
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A flow end: what it is called (named hosts, or product/role) and where it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Side {
    /// Named hosts or `product/role` labels, for people and for `--for-host`.
    pub labels: Vec<String>,
    pub addrs: Vec<Addr>,
}

impl Side {
    /// Whether this side is, or contains, the host `name` with `addrs`: by
    /// label, by an address of the host inside one of the side's networks
    /// (or the other way round), or by an equal DNS name. `any` is not the
    /// host: it stands for the parties outside the deployment.
    pub fn touches(&self, name: &str, addrs: &[Addr]) -> bool {
        if self.labels.iter().any(|l| l == name) {
            return true;
        }
        self.addrs.iter().any(|a| {
            addrs.iter().any(|h| match (a, h) {
                (Addr::Net(s), Addr::Net(h)) => s.contains(h) || h.contains(s),
                (Addr::Name(s), Addr::Name(h)) => s == h,
                _ => false,
            })
        })
    }
}

/// Why a flow exists: the requirement (and its citation) that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Because {
    pub product: String,
    pub requirement: String,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// `file:line` of the page statement.
    pub source: String,
}

/// One planned flow: `src` opens to `dst` on `protocol`/`ports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub src: Side,
    pub dst: Side,
    pub protocol: Protocol,
    /// Destination ports; empty for ICMP.
    pub ports: PortSet,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<String>,
    pub scope: Scope,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Shared: one requirement explains thousands of planned flows, and
    /// a copy of its five strings in each was most of the planner's allocating.
    pub because: Vec<Arc<Because>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Flow {
    /// Requirement ids, for rule comments: `cisco-ise/pan-admin-https`.
    pub fn reason_ids(&self) -> Vec<String> {
        self.because
            .iter()
            .map(|b| format!("{}/{}", b.product, b.requirement))
            .collect()
    }
}

/// Everything a deployment needs, plus what the planner wants said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FlowSet {
    pub deployment: String,
    pub flows: Vec<Flow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
}

//! The deployment file: the user's description of what runs where.

use crate::catalog::OneOrMany;
use crate::ports::{PortRange, Protocol};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A deployment: products, their options, and the hosts that play their roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Named hosts, reusable across products: name -> address(es) or DNS name.
    /// One host may play roles of several products.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "crate::unique::map"
    )]
    pub hosts: BTreeMap<String, OneOrMany<String>>,
    /// Named networks and outside parties (admin LANs, `any` for the
    /// Internet): name -> CIDRs, addresses or host names.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "crate::unique::map"
    )]
    pub networks: BTreeMap<String, OneOrMany<String>>,
    /// Where the hosts are administered from. Host firewalls (nftables,
    /// iptables, Windows) open the management ports from these sources
    /// before any other rule, so applying them cannot lock the
    /// administrators out; without it they warn that remote access is cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<Management>,
    pub products: Vec<ProductUse>,
}

/// The management path: `management: { from: [admins, 10.9.0.0/24], ports: [22] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Management {
    /// Names under `hosts:`/`networks:`, addresses or CIDRs the
    /// administrators connect from.
    pub from: OneOrMany<String>,
    /// TCP ports to keep open from them. Default, per format: 22 (SSH) for
    /// nftables and iptables; 22, 3389 (RDP), 5985 and 5986 (WinRM) for
    /// Windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortRange>,
}

/// One product in a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductUse {
    /// Catalog product id.
    pub product: String,
    /// Optional features to switch on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Features that are on by default, switched off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without: Vec<String>,
    /// One-of decisions: choice id -> option id.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "crate::unique::map"
    )]
    pub choices: BTreeMap<String, String>,
    /// Parameter values: parameter id -> port or range.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "crate::unique::map"
    )]
    pub parameters: BTreeMap<String, PortRange>,
    /// Role id -> host names (from `hosts`/`networks`), addresses, CIDRs or DNS names.
    #[serde(deserialize_with = "crate::unique::map")]
    pub roles: BTreeMap<String, OneOrMany<String>>,
    /// Per-target ports (an SSH target listening on 5555).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
    /// Plan requirements the catalog marks optional (default: yes).
    #[serde(default = "yes")]
    pub optional: bool,
}

/// A port that differs on one target from the catalog's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Requirement id.
    pub requirement: String,
    /// A host name, address or CIDR among the requirement's destinations.
    pub target: String,
    pub ports: Vec<PortRange>,
    /// The protocol(s) on that target when they differ too (syslog over
    /// TCP 6514 instead of UDP 514); the requirement's otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OneOrMany<Protocol>>,
}

fn yes() -> bool {
    true
}

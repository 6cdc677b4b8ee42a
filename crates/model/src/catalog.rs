//! The catalog: what a product needs from the network, as reviewed data.
//!
//! One YAML file per product. Every requirement says who talks to whom, over
//! which protocol and ports, for which feature and under which condition, and
//! cites the page line it came from. Where the page was wrong, the requirement
//! holds the right value and `page_said` keeps what the page printed.

use crate::ports::{PortRange, Protocol};
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// One product's catalog entry (one file under `catalog/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Product id, lowercase with dashes (`cisco-ise`). Must match the file name.
    pub product: String,
    /// Human name (`Cisco Identity Services Engine`).
    pub name: String,
    pub vendor: String,
    /// Product versions the entry was reviewed against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The documents requirements cite.
    pub sources: Vec<SourceDoc>,
    /// Parts of the product and the outside parties it talks to.
    pub roles: Vec<Role>,
    /// Optional parts a deployment can switch on or off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<Feature>,
    /// One-of decisions (which database, which mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// Configurable values: ports with or without defaults, dynamic ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Product-wide notes a firewall admin needs (timeouts, NAT, routing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    pub requirements: Vec<Requirement>,
    /// Page statements that are not a requirement as printed (an item with no
    /// port, a pointer to another document), kept so nothing is lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<Erratum>,
}

/// A document the catalog was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceDoc {
    /// Short id requirements cite (`ports-reference`).
    pub id: String,
    pub title: String,
    /// File name of the stored copy (seed file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where the document is published. For a document with no stored copy
    /// (`file`), a link pinned to the version read (a commit, a version
    /// path) so that `line` numbers keep pointing at the same text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The date the document was read (`YYYY-MM-DD`); required without `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
}

/// What kind of party a role is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleKind {
    /// A part of the product itself (a node, a server, an agent).
    Component,
    /// People's machines: admin browsers, consoles, user clients.
    Client,
    /// Systems the product manages or connects to on someone's behalf.
    Target,
    /// Network devices and endpoints (switches, thin clients).
    Device,
    /// Infrastructure services (directory, DNS, mail, database, syslog).
    Service,
    /// Hosts on the Internet, usually named by `endpoints`.
    Internet,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Component => "component",
            RoleKind::Client => "client",
            RoleKind::Target => "target",
            RoleKind::Device => "device",
            RoleKind::Service => "service",
            RoleKind::Internet => "internet",
        }
    }
}

/// A party in the conversation: part of the product, or outside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Role id used by requirements and deployments (`pan`, `gateway`).
    pub id: String,
    pub name: String,
    pub kind: RoleKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fixed endpoints this role always is: host names (`app.strongdm.com`),
    /// wildcards (`*.walkme.com`) or addresses (`1.1.1.1`). A deployment need
    /// not place such a role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
}

/// An optional part of the product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// On unless the deployment turns it off.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
}

/// A one-of decision: exactly one option holds in a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub name: String,
    pub options: Vec<ChoiceOption>,
    /// Option that holds when the deployment says nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub id: String,
    pub name: String,
}

/// Whether a parameter holds one port or a range of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum ParameterKind {
    #[default]
    Port,
    Range,
}

/// A configurable port (or port range). With no `default`, a deployment that
/// needs it must give the value: portplan never guesses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub kind: ParameterKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<PortRange>,
    /// Values the product accepts (`8000-8999` for ISE portals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<PortRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a flow goes: across the network, only on the host itself, or as a
/// broadcast (which most firewall formats cannot scope by destination host).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Network,
    Loopback,
    Broadcast,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Network => "network",
            Scope::Loopback => "loopback",
            Scope::Broadcast => "broadcast",
        }
    }
}

/// A port as a requirement states it: fixed ports, or a parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    Fixed(PortRange),
    Param(String),
}

impl Serialize for PortSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PortSpec::Fixed(r) => r.serialize(s),
            PortSpec::Param(p) => {
                let mut m = BTreeMap::new();
                m.insert("param", p);
                m.serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PortSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port (443), a range (\"8000-8999\") or {param: NAME}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortSpec, E> {
                let v = u32::try_from(v).unwrap_or(u32::MAX);
                PortRange::new(v, v).map(PortSpec::Fixed).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortSpec, E> {
                if v < 0 {
                    return Err(E::custom(format!("port {v} is outside 1..=65535")));
                }
                self.visit_u64(v as u64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortSpec, E> {
                v.parse().map(PortSpec::Fixed).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<PortSpec, A::Error> {
                let mut param = None;
                while let Some(k) = m.next_key::<String>()? {
                    if k == "param" {
                        param = Some(m.next_value::<String>()?);
                    } else {
                        return Err(de::Error::custom(format!(
                            "unknown key `{k}` in a port: write {{param: NAME}}"
                        )));
                    }
                }
                param
                    .map(PortSpec::Param)
                    .ok_or_else(|| de::Error::custom("a port map needs `param: NAME`"))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PortSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortSpec".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let range = g.subschema_for::<PortRange>();
        schemars::json_schema!({
            "oneOf": [
                range,
                {"type": "object", "properties": {"param": {"type": "string"}},
                 "required": ["param"], "additionalProperties": false}
            ]
        })
    }
}

/// One value or a list of them, so `protocol: tcp` and `protocol: [tcp, udp]`
/// both read naturally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

/// Read by shape (a list, or one value) rather than `untagged`, so a wrong
/// value says what is wrong with it (`unknown variant `tpc`, expected one of
/// `tcp`, `udp`, `icmp``) instead of that no variant matched.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use de::value::{BoolDeserializer, I64Deserializer, StrDeserializer, U64Deserializer};
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("one value or a list of values")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(OneOrMany::Many)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(OneOrMany::One)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(StrDeserializer::<E>::new(v)).map(OneOrMany::One)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(U64Deserializer::<E>::new(v)).map(OneOrMany::One)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(I64Deserializer::<E>::new(v)).map(OneOrMany::One)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::deserialize(BoolDeserializer::<E>::new(v)).map(OneOrMany::One)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t).iter(),
            OneOrMany::Many(v) => v.iter(),
        }
    }
}

/// When a requirement applies beyond its feature: choices made, roles that
/// share (or do not share) a host.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Choice id -> option id that must hold (`database: oracle`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choice: BTreeMap<String, String>,
    /// These roles run on one host (every listed role is placed and they
    /// share a host).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colocated: Vec<String>,
    /// These roles do not share a host. Also holds when one of them is not
    /// placed at all (no HA load balancer: the server keeps its own port).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub separate: Vec<String>,
}

/// Where in a document a statement stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// A `sources[].id` of this product.
    pub doc: String,
    /// 1-based line in the stored copy.
    pub line: u32,
    /// Last line, when the statement spans several (a table of ports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// The heading the statement stands under (`Domain controllers`), so a
    /// reader finds it on the published page; required for a document with
    /// no stored copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}

impl Citation {
    /// Whether the statement covers `line`.
    pub fn covers(&self, line: u32) -> bool {
        self.line <= line && line <= self.end_line.unwrap_or(self.line)
    }
}

/// What the page printed where it was wrong, and why the catalog differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageSaid {
    /// The page's text, verbatim (`LDAP– TCP on port 3891`).
    pub text: String,
    /// What is wrong with it and what the catalog holds instead.
    pub correction: String,
}

/// A page statement that is not (or not only) a requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Erratum {
    pub source: Citation,
    pub text: String,
    pub note: String,
    /// Requirements that hold what this statement means, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub see: Vec<String>,
}

/// A product-wide note, cited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Citation>,
}

/// One network requirement: `from` roles open connections (or send
/// datagrams) to `to` roles on these protocols and ports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Unique within the product (`pan-admin-https`).
    pub id: String,
    /// Short service name (`HTTPS`, `RADIUS authentication`).
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Initiating roles.
    pub from: OneOrMany<String>,
    /// Listening roles.
    pub to: OneOrMany<String>,
    pub protocol: OneOrMany<Protocol>,
    /// Destination ports; empty for ICMP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    /// The ports are alternatives (`25/465/587`): the deployment uses one of
    /// them. The planner opens all of them unless the deployment narrows the
    /// requirement with an override, and says so.
    #[serde(default, skip_serializing_if = "is_false")]
    pub alternatives: bool,
    /// ICMP type, when the page names one (`echo-request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<String>,
    /// Optional requirements may be left closed at the cost of the function
    /// the description names.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
    /// Feature that must be on for this requirement to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    #[serde(default, skip_serializing_if = "is_network")]
    pub scope: Scope,
    /// Interface the listener is bound to (`GigabitEthernet 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// The port may differ per target host (a deployment overrides it per host).
    #[serde(default, skip_serializing_if = "is_false")]
    pub per_target: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_said: Option<PageSaid>,
    pub source: Citation,
}

impl Requirement {
    pub fn protocols(&self) -> Vec<Protocol> {
        self.protocol.to_vec()
    }
    pub fn from_roles(&self) -> Vec<String> {
        self.from.to_vec()
    }
    pub fn to_roles(&self) -> Vec<String> {
        self.to.to_vec()
    }
    /// Parameters this requirement's ports depend on.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.ports.iter().filter_map(|p| match p {
            PortSpec::Param(name) => Some(name.as_str()),
            PortSpec::Fixed(_) => None,
        })
    }
}

impl Product {
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }
    pub fn feature(&self, id: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.id == id)
    }
    pub fn parameter(&self, id: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.id == id)
    }
    pub fn choice(&self, id: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.id == id)
    }
    pub fn source(&self, id: &str) -> Option<&SourceDoc> {
        self.sources.iter().find(|s| s.id == id)
    }
    /// How a requirement's ports read to a person: `443,8443`,
    /// `gateway_port (default 5000)`, `25 or 465` for alternatives, the ICMP
    /// type (or `-`) when it has none.
    pub fn ports_text(&self, r: &Requirement) -> String {
        if r.ports.is_empty() {
            return match &r.icmp_type {
                Some(t) => t.clone(),
                None => "-".into(),
            };
        }
        let parts: Vec<String> = r
            .ports
            .iter()
            .map(|ps| match ps {
                PortSpec::Fixed(range) => range.to_string(),
                PortSpec::Param(name) => match self.parameter(name).and_then(|x| x.default) {
                    Some(d) => format!("{name} (default {d})"),
                    None => format!("{name} (no default)"),
                },
            })
            .collect();
        let sep = if r.alternatives { " or " } else { "," };
        parts.join(sep)
    }
    /// `file:line` of a citation, for people and CSV columns.
    pub fn cite(&self, c: &Citation) -> String {
        let file = self
            .source(&c.doc)
            .and_then(|s| s.file.clone())
            .unwrap_or_else(|| c.doc.clone());
        match c.end_line {
            Some(end) if end != c.line => format!("{file}:{}-{end}", c.line),
            _ => format!("{file}:{}", c.line),
        }
    }
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_network(s: &Scope) -> bool {
    *s == Scope::Network
}

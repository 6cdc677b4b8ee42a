//! What the importer extracts from a page before it becomes catalog data.

use crate::knowledge::Dir;
use portplan_model::{PortRange, Protocol, Scope};
use serde::Serialize;

/// How sure the importer is of a finding's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProtocolBasis {
    /// Printed next to the port.
    Stated,
    /// Printed elsewhere in the same item or row.
    Row,
    /// A sentence before the table or a page-wide statement.
    Context,
    /// The same port is printed with one protocol elsewhere on the page.
    SamePort,
    /// The service named runs on one transport (HTTP is TCP).
    Service,
    /// Nothing said: TCP assumed, marked for review.
    Guess,
}

impl ProtocolBasis {
    /// The serialized name (`same-port`), without going through serde: the
    /// YAML draft writes it on every requirement.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolBasis::Stated => "stated",
            ProtocolBasis::Row => "row",
            ProtocolBasis::Context => "context",
            ProtocolBasis::SamePort => "same-port",
            ProtocolBasis::Service => "service",
            ProtocolBasis::Guess => "guess",
        }
    }
    pub fn confidence(self) -> f32 {
        match self {
            ProtocolBasis::Stated => 0.9,
            ProtocolBasis::Row => 0.85,
            ProtocolBasis::Context => 0.75,
            ProtocolBasis::SamePort => 0.7,
            ProtocolBasis::Service => 0.65,
            ProtocolBasis::Guess => 0.4,
        }
    }
}

/// A port as found: a number (range) or a port the page names without one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortItem {
    Fixed(PortRange),
    Param {
        /// Words that named it (`ephemeral port`, `Custom`, `BMC_AR_Port`).
        named: String,
        default: Option<PortRange>,
        allowed: Option<PortRange>,
    },
}

/// One extracted requirement, with where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub line: u32,
    /// The item's text as read (tags removed).
    pub text: String,
    pub service: String,
    pub description: Option<String>,
    pub protocols: Vec<Protocol>,
    pub basis: ProtocolBasis,
    pub ports: Vec<PortItem>,
    pub alternatives: bool,
    #[serde(skip)]
    pub dir: Dir,
    /// The part of the product the section is about (from the heading).
    pub this_role: String,
    /// The other party, when the page names it (a host, a column's role).
    pub peer: Option<String>,
    /// Explicit listener/talker names (who-listens / who-talks columns).
    pub listener: Option<String>,
    pub talker: Option<String>,
    pub hosts: Vec<String>,
    pub required: Option<bool>,
    pub condition: Option<String>,
    pub scope: Scope,
    pub interface: Option<String>,
    pub heading: Option<String>,
    pub notes: Vec<String>,
    /// Values corrected from what the page printed: (page text, correction).
    pub page_said: Option<(String, String)>,
    pub confidence: f32,
    #[serde(skip)]
    pub(crate) raw: Vec<crate::grammar::Mention>,
    #[serde(skip)]
    pub(crate) row_protocols: Vec<Protocol>,
    #[serde(skip)]
    pub(crate) typos: Vec<String>,
}

impl Finding {
    pub fn new(line: u32, text: &str) -> Self {
        Finding {
            line,
            text: text.to_string(),
            service: String::new(),
            description: None,
            protocols: vec![],
            basis: ProtocolBasis::Guess,
            ports: vec![],
            alternatives: false,
            dir: Dir::Unknown,
            this_role: "this-product".into(),
            peer: None,
            listener: None,
            talker: None,
            hosts: vec![],
            required: None,
            condition: None,
            scope: Scope::Network,
            interface: None,
            heading: None,
            notes: vec![],
            page_said: None,
            confidence: 0.0,
            raw: vec![],
            row_protocols: vec![],
            typos: vec![],
        }
    }

    /// (protocol, port text) pairs, for scoring and diffs: a fixed range as
    /// `low` or `low-high`, a parameter as its default and allowed range.
    pub fn pairs(&self) -> Vec<(Protocol, String)> {
        let mut out = Vec::new();
        for p in &self.protocols {
            if !p.has_ports() {
                out.push((*p, "-".to_string()));
                continue;
            }
            for item in &self.ports {
                match item {
                    PortItem::Fixed(r) => out.push((*p, r.to_string())),
                    PortItem::Param {
                        default, allowed, ..
                    } => {
                        for r in default.iter().chain(allowed.iter()) {
                            out.push((*p, r.to_string()));
                        }
                    }
                }
            }
        }
        out
    }
}

/// A kind of page defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    /// A number outside 1..=65535 where a port stands.
    OutOfRange,
    /// A footnote marker glued to a port (`3891` = 389 + footnote 1).
    GluedFootnote,
    /// `UPD`, `TPC`.
    ProtocolTypo,
    /// A well-known service on the other transport (SMTP over UDP).
    WrongProtocol,
    /// A list item among ported siblings that names no port (`CoA •`).
    NoPort,
    /// A line that looks like a requirement but did not parse.
    Unparsed,
    /// A table row whose cells do not sit under their headers (a sentence
    /// in a party column, a cell left out).
    ShiftedColumns,
    /// Ports the page says a firewall drops or blocks: not drafted as
    /// ports to open.
    Blocked,
    /// A port in a code example, where the page states its ports in its
    /// text too: not drafted.
    Example,
}

/// A doubtful spot of the page, with its line.
#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub line: u32,
    pub kind: AnomalyKind,
    /// The page text it is about.
    pub text: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::ProtocolBasis;

    #[test]
    fn basis_names_are_the_serialized_ones() {
        use ProtocolBasis::*;
        for b in [Stated, Row, Context, SamePort, Service, Guess] {
            assert_eq!(serde_json::to_value(b).unwrap(), b.as_str());
        }
    }
}

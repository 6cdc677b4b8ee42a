//! What a probe found: one of the states the issue names, with its evidence.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The state of one path (address, protocol, port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum State {
    /// A portplan responder answered with a valid token: the path is proven.
    #[serde(rename = "verified")]
    Verified,
    /// TCP handshake completed, or a UDP service answered.
    #[serde(rename = "open")]
    Open,
    /// Something answered where a responder was expected, without a valid
    /// token: another service holds the port, a relay or DNAT carries the
    /// probe elsewhere, or a forgery. Never a pass.
    #[serde(rename = "impostor")]
    Impostor,
    /// TCP reset or ICMP port-unreachable: the path reaches the host, nothing listens.
    #[serde(rename = "closed")]
    Closed,
    /// No answer, or ICMP administratively-prohibited / host-unreachable.
    #[serde(rename = "filtered")]
    Filtered,
    /// UDP with no answer and no ICMP error: nothing proves either way.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
    /// The destination name did not resolve.
    #[serde(rename = "unresolved")]
    Unresolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Verified => "verified",
            State::Open => "open",
            State::Impostor => "impostor",
            State::Closed => "closed",
            State::Filtered => "filtered",
            State::OpenFiltered => "open|filtered",
            State::Unresolved => "unresolved",
        }
    }
    /// Whether the path passes. Before install (`Expect::Responder`) only
    /// a responder's valid token proves it; after install a service's answer
    /// does.
    pub fn passes(self, expect: Expect, allow_open_filtered: bool) -> bool {
        match expect {
            Expect::Responder => self == State::Verified,
            Expect::Service => {
                matches!(self, State::Verified | State::Open)
                    || (allow_open_filtered && self == State::OpenFiltered)
            }
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is expected to answer on the paths probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Expect {
    /// Before install: a portplan responder on every port; anything else
    /// answering is an impostor.
    #[serde(rename = "responder")]
    Responder,
    /// After install (or a bare probe): the real services.
    #[default]
    #[serde(rename = "service")]
    Service,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Responder => "responder",
            Expect::Service => "service",
        }
    }
}

/// A state with what showed it and how long the answer took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub state: State,
    /// What was seen: "TCP reset", "ICMP port-unreachable", "token valid", an errno.
    pub evidence: String,
    /// Round-trip time of the deciding answer; none when nothing answered.
    #[serde(
        rename = "rtt_ms",
        serialize_with = "ser_rtt",
        deserialize_with = "de_rtt",
        default
    )]
    pub rtt: Option<Duration>,
}

impl Finding {
    pub fn new(state: State, evidence: impl Into<String>, rtt: Option<Duration>) -> Self {
        Finding {
            state,
            evidence: evidence.into(),
            rtt,
        }
    }
}

fn ser_rtt<S: serde::Serializer>(rtt: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match rtt {
        Some(d) => s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3),
        None => s.serialize_none(),
    }
}

fn de_rtt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let v: Option<f64> = Option::deserialize(d)?;
    Ok(v.filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1e3)))
}

/// `0.42 ms`, `12 ms`, or `-`.
pub fn rtt_text(rtt: Option<Duration>) -> String {
    match rtt {
        Some(d) if d < Duration::from_millis(10) => format!("{:.2} ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{} ms", d.as_millis()),
        None => "-".into(),
    }
}

//! IANA service names by port, shipped with the binary (no network at run time).

use crate::ports::Protocol;
use std::sync::OnceLock;

/// One registry entry: `443/tcp https "http protocol over TLS/SSL"`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IanaEntry {
    pub port: u16,
    /// `tcp`, `udp`, `sctp` or `dccp`, as the registry says.
    pub protocol: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

static DATA: &str = include_str!("../data/iana-services.tsv");

fn entries() -> &'static [IanaEntry] {
    static PARSED: OnceLock<Vec<IanaEntry>> = OnceLock::new();
    PARSED.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.splitn(4, '\t');
                let port = f.next()?.parse().ok()?;
                Some(IanaEntry {
                    port,
                    protocol: f.next()?,
                    name: f.next()?,
                    description: f.next().unwrap_or(""),
                })
            })
            .collect()
    })
}

/// Registry entries for a port, optionally only for one protocol.
pub fn lookup(port: u16, protocol: Option<Protocol>) -> Vec<IanaEntry> {
    let all = entries();
    let start = all.partition_point(|e| e.port < port);
    all[start..]
        .iter()
        .take_while(|e| e.port == port)
        .filter(|e| protocol.is_none_or(|p| p.as_str() == e.protocol))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_well_known_ports() {
        let https = lookup(443, Some(Protocol::Tcp));
        assert_eq!(https.len(), 1);
        assert_eq!(https[0].name, "https");
        assert!(lookup(3799, None)
            .iter()
            .any(|e| e.name == "radius-dynauth"));
        assert!(lookup(4, None).is_empty(), "unassigned ports have no entry");
    }
}

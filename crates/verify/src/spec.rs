//! Port specifications on the command line: `1-65535` (TCP), `tcp:443,8443
//! udp:1812`, `udp:53,123`.

use portplan_model::{PortSet, Protocol};

/// Protocol and ports, in the order written (a protocol given twice is merged).
pub fn parse_ports(spec: &str) -> Result<Vec<(Protocol, PortSet)>, String> {
    let mut out: Vec<(Protocol, PortSet)> = Vec::new();
    for group in spec.split_whitespace() {
        let (proto, ports) = match group.split_once(':') {
            Some((p, rest)) => (p.parse::<Protocol>()?, rest),
            None => (Protocol::Tcp, group),
        };
        if !proto.has_ports() {
            return Err(format!(
                "`{group}`: {proto} has no ports; write tcp:PORTS or udp:PORTS"
            ));
        }
        let set: PortSet = ports.parse().map_err(|e| format!("`{group}`: {e}"))?;
        match out.iter_mut().find(|(p, _)| *p == proto) {
            Some((_, s)) => s.union(&set),
            None => out.push((proto, set)),
        }
    }
    if out.is_empty() {
        return Err("no ports given: write e.g. `1-1024` or `tcp:443,8443 udp:1812`".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ports_are_tcp_and_groups_merge() {
        let s = parse_ports("1-1024").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].0, s[0].1.count()), (Protocol::Tcp, 1024));
        let s = parse_ports("tcp:443,8443 udp:1812 tcp:22").unwrap();
        assert_eq!(s[0].1.to_string(), "22,443,8443");
        assert_eq!((s[1].0, s[1].1.to_string()), (Protocol::Udp, "1812".into()));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        assert!(parse_ports("sctp:1")
            .unwrap_err()
            .contains("unknown protocol"));
        assert!(parse_ports("tcp:0").unwrap_err().contains("1..=65535"));
        assert!(parse_ports("icmp:1").unwrap_err().contains("no ports"));
        assert!(parse_ports("  ").is_err());
    }
}

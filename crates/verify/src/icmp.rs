//! Turns the socket errors the kernel derives from ICMP errors (and from TCP
//! resets) into states. No raw sockets: a connected socket reports the ICMP
//! error of its peer as an errno, which is enough to tell closed from
//! filtered without root.

use crate::{Finding, State};
use portplan_model::Protocol;
use std::io;
use std::time::Duration;

/// The state a failed connect/send/recv shows, with the errno as evidence.
pub fn classify(err: &io::Error, proto: Protocol, rtt: Duration) -> Finding {
    let code = err.raw_os_error().unwrap_or(0);
    let name = errno_name(code);
    let (state, why) = match code {
        libc::ECONNREFUSED if proto == Protocol::Tcp => (State::Closed, "TCP reset".to_string()),
        libc::ECONNREFUSED => (
            State::Closed,
            "ICMP port-unreachable (ECONNREFUSED)".to_string(),
        ),
        libc::EHOSTUNREACH => (
            State::Filtered,
            "ICMP host-unreachable or administratively prohibited (EHOSTUNREACH)".to_string(),
        ),
        libc::ENETUNREACH => (
            State::Filtered,
            "ICMP network-unreachable or prohibited, or no route (ENETUNREACH)".to_string(),
        ),
        libc::EACCES | libc::EPERM => (
            State::Filtered,
            format!("refused by a firewall or ICMP prohibited ({name})"),
        ),
        libc::EHOSTDOWN => (State::Filtered, "host down (EHOSTDOWN)".to_string()),
        libc::ETIMEDOUT => (State::Filtered, "no answer (ETIMEDOUT)".to_string()),
        _ => (State::Filtered, format!("socket error: {err}")),
    };
    // An ICMP error or reset is an answer: its time is a real round trip.
    let answered = matches!(
        code,
        libc::ECONNREFUSED | libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EACCES | libc::EPERM
    );
    Finding::new(state, why, answered.then_some(rtt))
}

/// The symbolic name of the errnos a probe can meet.
pub fn errno_name(code: i32) -> String {
    let n = match code {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EHOSTDOWN => "EHOSTDOWN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNRESET => "ECONNRESET",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EMFILE => "EMFILE",
        _ => return format!("errno {code}"),
    };
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_is_closed_and_prohibited_is_filtered() {
        let d = Duration::from_millis(1);
        let e = |c| io::Error::from_raw_os_error(c);
        assert_eq!(
            classify(&e(libc::ECONNREFUSED), Protocol::Tcp, d).state,
            State::Closed
        );
        let u = classify(&e(libc::ECONNREFUSED), Protocol::Udp, d);
        assert_eq!(u.state, State::Closed);
        assert!(u.evidence.contains("port-unreachable"));
        let f = classify(&e(libc::EHOSTUNREACH), Protocol::Udp, d);
        assert_eq!(f.state, State::Filtered);
        assert!(f.evidence.contains("EHOSTUNREACH"));
        assert_eq!(f.rtt, Some(d));
        assert_eq!(
            classify(&e(libc::EACCES), Protocol::Tcp, d).state,
            State::Filtered
        );
    }
}

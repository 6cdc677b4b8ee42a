//! Domain knowledge the importer may use: what well-known services run on,
//! which words say "direction", "optional", "loopback". No page strings here:
//! only protocol facts and ordinary English cue words.

use portplan_model::Protocol;

/// The transport a well-known service runs on, when it runs on one only,
/// and its standard port. Names are matched as whole words, case-insensitive.
pub struct Service {
    pub name: &'static str,
    pub only: Protocol,
    pub port: u16,
}

/// Services that use one transport only (a claim of the other is a page
/// error worth a review), with their standard port.
pub const SINGLE_TRANSPORT: &[Service] = &[
    Service {
        name: "smtp",
        only: Protocol::Tcp,
        port: 25,
    },
    Service {
        name: "smtps",
        only: Protocol::Tcp,
        port: 465,
    },
    Service {
        name: "http",
        only: Protocol::Tcp,
        port: 80,
    },
    Service {
        name: "https",
        only: Protocol::Tcp,
        port: 443,
    },
    Service {
        name: "ldap",
        only: Protocol::Tcp,
        port: 389,
    },
    Service {
        name: "ldaps",
        only: Protocol::Tcp,
        port: 636,
    },
    Service {
        name: "ssh",
        only: Protocol::Tcp,
        port: 22,
    },
    Service {
        name: "sftp",
        only: Protocol::Tcp,
        port: 22,
    },
    Service {
        name: "telnet",
        only: Protocol::Tcp,
        port: 23,
    },
    Service {
        name: "ftp",
        only: Protocol::Tcp,
        port: 21,
    },
    Service {
        name: "imap",
        only: Protocol::Tcp,
        port: 143,
    },
    Service {
        name: "pop3",
        only: Protocol::Tcp,
        port: 110,
    },
    Service {
        name: "rdp",
        only: Protocol::Tcp,
        port: 3389,
    },
    Service {
        name: "smb",
        only: Protocol::Tcp,
        port: 445,
    },
    Service {
        name: "vnc",
        only: Protocol::Tcp,
        port: 5900,
    },
    Service {
        name: "mysql",
        only: Protocol::Tcp,
        port: 3306,
    },
    Service {
        name: "postgresql",
        only: Protocol::Tcp,
        port: 5432,
    },
    Service {
        name: "tacacs+",
        only: Protocol::Tcp,
        port: 49,
    },
    Service {
        name: "ntp",
        only: Protocol::Udp,
        port: 123,
    },
    Service {
        name: "tftp",
        only: Protocol::Udp,
        port: 69,
    },
    Service {
        name: "dhcp",
        only: Protocol::Udp,
        port: 67,
    },
    Service {
        name: "snmp",
        only: Protocol::Udp,
        port: 161,
    },
    Service {
        name: "ipmi",
        only: Protocol::Udp,
        port: 623,
    },
    Service {
        name: "syslog",
        only: Protocol::Udp,
        port: 514,
    },
];

/// Services whose protocol is only a default (they have a standard variant on
/// the other transport, like syslog over TCP): used to fill a protocol the
/// page leaves out, never to flag a page.
pub fn soft_service(name: &str) -> bool {
    matches!(name, "syslog" | "snmp")
}

/// Whole-word, case-insensitive service names found in `text`.
pub fn services_in(text: &str) -> Vec<&'static Service> {
    let mut out: Vec<&'static Service> = Vec::new();
    for w in text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+'))
        .filter(|w| (2..=10).contains(&w.len()))
    {
        for s in SINGLE_TRANSPORT {
            if w.eq_ignore_ascii_case(s.name) && !out.iter().any(|o| o.name == s.name) {
                out.push(s);
            }
        }
    }
    out
}

/// Ports that are common enough that a number ending in a footnote marker
/// is more likely one of these plus the marker than a port of its own.
pub fn well_known(port: u64) -> bool {
    const COMMON: &[u64] = &[
        20, 21, 22, 23, 25, 53, 67, 68, 69, 80, 88, 110, 123, 135, 137, 138, 139, 143, 161, 162,
        389, 443, 445, 464, 465, 514, 587, 623, 636, 993, 995, 1433, 1521, 1812, 1813, 3268, 3269,
        3306, 3389, 5432, 5900, 5985, 5986, 6514, 8080, 8088, 8089, 8443, 9090, 9443,
    ];
    COMMON.contains(&port) || SINGLE_TRANSPORT.iter().any(|s| u64::from(s.port) == port)
}

/// Which way a flow goes relative to the part of the product the page is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dir {
    /// The product listens; a peer connects.
    In,
    /// The product connects out to a peer.
    Out,
    #[default]
    Unknown,
}

/// Direction words in a text: (inbound seen, outbound seen). One pass.
pub fn directions(text: &str) -> (bool, bool) {
    let (mut inbound, mut outbound) = (false, false);
    for w in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !(6..=8).contains(&w.len()) {
            continue;
        }
        let is = |x: &str| w.eq_ignore_ascii_case(x);
        inbound |= is("inbound") || is("ingress") || is("incoming");
        outbound |= is("outbound") || is("egress") || is("outgoing");
    }
    (inbound, outbound)
}

/// Verbs of a party that opens a connection (`sends`, `polls`, `connects`).
const OPENS: &[&str] = &[
    "sends",
    "send",
    "connects",
    "connect",
    "polls",
    "poll",
    "queries",
    "query",
    "pushes",
    "push",
    "uploads",
    "upload",
    "forwards",
    "forward",
    "contacts",
    "contact",
    "reaches",
    "downloads",
    "download",
    "fetches",
    "fetch",
    "calls",
    "reports",
    "report",
    "initiates",
    "initiate",
    "accesses",
    "retrieves",
    "retrieve",
    "requests",
];
/// Verbs of a party that is connected to (`receives`, `listens`).
const SERVES: &[&str] = &[
    "receives", "receive", "accepts", "accept", "listens", "listen",
];
/// Words too common to tell one party from another.
const GENERIC: &[&str] = &[
    "the", "a", "an", "your", "our", "this", "that", "all", "each", "any", "server", "servers",
    "service", "services", "node", "nodes", "host", "hosts", "system", "port", "ports", "and",
    "or", "of", "for", "on", "to", "from",
];

/// The direction a sentence's verb gives for `this` (the section's product,
/// by its name): `The web server sends traps to your NMS` is outbound for
/// `Web server`, `Browsers connect to the web server` inbound. The verb is
/// returned with it, for the review note. None when neither the doer nor the
/// object of the verb is `this`.
pub fn verb_direction(sentence: &str, this: &str) -> Option<(Dir, &'static str)> {
    let names: Vec<String> = crate::words(this)
        .into_iter()
        .filter(|w| !GENERIC.contains(&w.as_str()))
        .collect();
    if names.is_empty() {
        return None;
    }
    let words = crate::words(sentence);
    let (at, verb, opens) = words.iter().enumerate().find_map(|(i, w)| {
        if let Some(v) = OPENS.iter().find(|v| **v == w) {
            Some((i, *v, true))
        } else {
            SERVES.iter().find(|v| **v == w).map(|v| (i, *v, false))
        }
    })?;
    let names_this = |ws: &[String]| ws.iter().any(|w| names.contains(w));
    let subject_is_this = names_this(&words[..at]);
    let object_is_this = names_this(&words[at + 1..(at + 7).min(words.len())]);
    let dir = match (subject_is_this, object_is_this, opens) {
        (true, false, true) | (false, true, false) => Dir::Out,
        (true, false, false) | (false, true, true) => Dir::In,
        _ => return None,
    };
    Some((dir, verb))
}

/// An IP protocol the catalog has no name for, as the text names it:
/// `AH: IP protocol 51` → `IP protocol 51 (AH)`; `GRE` → `GRE`.
pub fn other_ip_protocol(text: &str) -> Option<String> {
    const NAMED: &[(&str, u8)] = &[
        ("AH", 51),
        ("GRE", 47),
        ("SCTP", 132),
        ("OSPF", 89),
        ("VRRP", 112),
    ];
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let known = [1u8, 6, 17, 50];
    for (i, w) in words.iter().enumerate() {
        if w.eq_ignore_ascii_case("protocol") {
            if let Some(n) = words.get(i + 1).and_then(|n| n.parse::<u8>().ok()) {
                if !known.contains(&n) {
                    let name = NAMED.iter().find(|(_, k)| *k == n).map(|(m, _)| *m);
                    return Some(match name {
                        Some(m) => format!("IP protocol {n} ({m})"),
                        None => format!("IP protocol {n}"),
                    });
                }
            }
        }
    }
    // Names written as the protocols' own (capitals, a word of their own).
    words
        .iter()
        .find_map(|w| NAMED.iter().find(|(m, _)| w == m))
        .map(|(m, n)| format!("{m} (IP protocol {n})"))
}

/// Whether any of `words` (lowercase ASCII) is a whole word of `text`. One pass.
pub fn any_word(text: &str, words: &[&str]) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| !w.is_empty() && words.iter().any(|x| w.eq_ignore_ascii_case(x)))
}

/// Whether `word` (lowercase ASCII) is a whole word of `text`, ignoring ASCII
/// case, without allocating.
pub fn has_word(text: &str, word: &str) -> bool {
    let (h, n) = (text.as_bytes(), word.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return false;
    }
    let first = n[0];
    let mut i = 0;
    while i + n.len() <= h.len() {
        if h[i].to_ascii_lowercase() == first
            && h[i..i + n.len()].eq_ignore_ascii_case(n)
            && (i == 0 || !h[i - 1].is_ascii_alphanumeric())
            && h.get(i + n.len())
                .is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            return true;
        }
        i += 1;
    }
    false
}

/// A protocol word, or a near miss of one (`UPD`, `TPC`): (protocol, was a typo).
pub fn protocol_word(w: &str) -> Option<(Protocol, bool)> {
    if w.len() > 4 {
        return None;
    }
    for (name, p) in [
        ("tcp", Protocol::Tcp),
        ("udp", Protocol::Udp),
        ("icmp", Protocol::Icmp),
        ("esp", Protocol::Esp),
    ] {
        if w.eq_ignore_ascii_case(name) {
            return Some((p, false));
        }
    }
    // Typos only when written in capitals like the real names, three letters,
    // one edit (or one swap) away from exactly one of TCP and UDP.
    if w.len() != 3 || !w.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let near: Vec<Protocol> = [("TCP", Protocol::Tcp), ("UDP", Protocol::Udp)]
        .iter()
        .filter(|(n, _)| one_edit(w.as_bytes(), n.as_bytes()))
        .map(|(_, p)| *p)
        .collect();
    match near.as_slice() {
        [p] => Some((*p, true)),
        _ => None,
    }
}

/// Same length, and one substitution or one swap of neighbours apart.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a == b {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    match diff.as_slice() {
        [_] => true,
        [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_near_misses_in_capitals() {
        assert_eq!(protocol_word("UPD"), Some((Protocol::Udp, true)));
        assert_eq!(protocol_word("TPC"), Some((Protocol::Tcp, true)));
        assert_eq!(protocol_word("tcp"), Some((Protocol::Tcp, false)));
        assert_eq!(protocol_word("upd"), None);
        assert_eq!(protocol_word("SSL"), None);
        assert_eq!(protocol_word("TCPX"), None);
    }

    #[test]
    fn direction_words_are_whole_words() {
        assert_eq!(directions("TCP, outbound and inbound"), (true, true));
        assert_eq!(directions("Egress"), (false, true));
        assert_eq!(directions("inbounds"), (false, false));
    }

    #[test]
    fn verbs_give_a_direction_only_when_this_is_a_party() {
        let d = |s: &str, this: &str| verb_direction(s, this).map(|(d, _)| d);
        let web = "Web server";
        assert_eq!(
            d("The web server sends traps to your NMS on UDP 162.", web),
            Some(Dir::Out)
        );
        assert_eq!(
            d("Browsers connect to the web server on TCP 443.", web),
            Some(Dir::In)
        );
        assert_eq!(
            d("The web server receives alerts on UDP 162.", web),
            Some(Dir::In)
        );
        assert_eq!(
            d("Agents report to the collector on 1514.", "Collector"),
            Some(Dir::In)
        );
        // Neither party is this product: nothing is guessed.
        assert_eq!(d("Routers send flows to the collector on 2055.", web), None);
        // Both are: nothing is guessed either.
        assert_eq!(
            d("The web server connects to another web server.", web),
            None
        );
        // Only generic words in the name: no way to tell.
        assert_eq!(d("The server sends mail.", "Server"), None);
        assert_eq!(d("Open TCP 443.", web), None);
    }
}

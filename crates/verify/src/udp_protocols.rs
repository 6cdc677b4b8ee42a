//! Protocol-aware UDP probes: a real service answers only a request of its
//! own protocol, and a well-formed answer to our request (matching id or
//! timestamp) proves the path as surely as a TCP handshake. Chosen by the
//! IANA port of the destination.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

/// What a UDP probe may add to the portplan probe.
#[derive(Debug, Clone, Default)]
pub struct UdpOptions {
    /// SNMP v2c community (default `public`).
    pub snmp_community: Option<String>,
    /// RADIUS shared secret; Status-Server is only sent with one (a server
    /// drops packets whose Message-Authenticator it cannot check).
    pub radius_secret: Option<Vec<u8>>,
}

/// One protocol request and how to recognise its answer.
#[derive(Debug, Clone)]
pub struct ProtoProbe {
    pub name: &'static str,
    pub request: Vec<u8>,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Dns {
        id: [u8; 2],
    },
    Ntp {
        transmit: [u8; 8],
    },
    Snmp {
        request_id: [u8; 4],
    },
    Radius {
        id: u8,
        authenticator: [u8; 16],
        secret: Vec<u8>,
    },
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    let n = crate::token::nonce();
    for (i, x) in b.iter_mut().enumerate() {
        *x = n[i % n.len()];
    }
    b
}

/// The protocol request for a port, if its protocol is one we speak.
pub fn for_port(port: u16, opts: &UdpOptions) -> Option<ProtoProbe> {
    match port {
        53 => Some(dns()),
        123 => Some(ntp()),
        161 => Some(snmp(opts.snmp_community.as_deref().unwrap_or("public"))),
        1812 | 1813 | 1645 | 1646 => opts.radius_secret.as_deref().map(radius_status_server),
        _ => None,
    }
}

/// A DNS query for the root's NS records: every server answers it (even
/// REFUSED is an answer).
fn dns() -> ProtoProbe {
    let id = random::<2>();
    let mut q = Vec::with_capacity(17);
    q.extend_from_slice(&id);
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    q.extend_from_slice(&[0x00, 0x00, 0x02, 0x00, 0x01]); // root, NS, IN
    ProtoProbe {
        name: "DNS",
        request: q,
        kind: Kind::Dns { id },
    }
}

/// An NTPv4 client request; the server echoes our transmit time as its origin time.
fn ntp() -> ProtoProbe {
    let transmit = random::<8>();
    let mut p = vec![0u8; 48];
    p[0] = 0x23; // LI 0, version 4, mode 3 (client)
    p[40..48].copy_from_slice(&transmit);
    ProtoProbe {
        name: "NTP",
        request: p,
        kind: Kind::Ntp { transmit },
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        let bytes: Vec<u8> = (n as u32)
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        v.push(0x80 | bytes.len() as u8);
        v.extend(bytes);
    }
    v.extend_from_slice(content);
    v
}

/// SNMP v2c GetRequest for sysDescr.0.
fn snmp(community: &str) -> ProtoProbe {
    let request_id = random::<4>();
    let mut rid = request_id;
    rid[0] &= 0x7f; // a positive INTEGER
    let oid = [0x2b, 6, 1, 2, 1, 1, 1, 0];
    let varbind = [tlv(0x06, &oid), tlv(0x05, &[])].concat();
    let pdu = [
        tlv(0x02, &rid),
        tlv(0x02, &[0]),
        tlv(0x02, &[0]),
        tlv(0x30, &tlv(0x30, &varbind)),
    ]
    .concat();
    let msg = [
        tlv(0x02, &[1]),
        tlv(0x04, community.as_bytes()),
        tlv(0xa0, &pdu),
    ]
    .concat();
    ProtoProbe {
        name: "SNMP v2c",
        request: tlv(0x30, &msg),
        kind: Kind::Snmp { request_id: rid },
    }
}

/// RADIUS Status-Server (RFC 5997) with its required Message-Authenticator.
fn radius_status_server(secret: &[u8]) -> ProtoProbe {
    let id = random::<1>()[0];
    let authenticator = random::<16>();
    let mut p = vec![12, id, 0, 38];
    p.extend_from_slice(&authenticator);
    p.extend_from_slice(&[80, 18]);
    let ma_at = p.len();
    p.extend_from_slice(&[0u8; 16]);
    if let Ok(mut m) = <Hmac<Md5> as Mac>::new_from_slice(secret) {
        m.update(&p);
        let tag = m.finalize().into_bytes();
        p[ma_at..ma_at + 16].copy_from_slice(&tag);
    }
    ProtoProbe {
        name: "RADIUS Status-Server",
        request: p,
        kind: Kind::Radius {
            id,
            authenticator,
            secret: secret.to_vec(),
        },
    }
}

/// Reads one BER TLV: (tag, content, rest).
fn ber(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&l, b) = b.split_first()?;
    let (len, b) = if l < 0x80 {
        (usize::from(l), b)
    } else {
        let n = usize::from(l & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n]
            .iter()
            .fold(0usize, |a, x| (a << 8) | usize::from(*x));
        (len, &b[n..])
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

impl ProtoProbe {
    /// Evidence when `reply` is a genuine answer to this request.
    pub fn recognise(&self, reply: &[u8]) -> Option<String> {
        match &self.kind {
            Kind::Dns { id } => (reply.len() >= 12 && reply[..2] == id[..] && reply[2] & 0x80 != 0)
                .then(|| format!("DNS answer (rcode {})", reply[3] & 0x0f)),
            Kind::Ntp { transmit } => {
                (reply.len() >= 48 && reply[0] & 7 == 4 && reply[24..32] == transmit[..])
                    .then(|| format!("NTP server answer (stratum {})", reply[1]))
            }
            Kind::Snmp { request_id } => {
                let (t, msg, _) = ber(reply)?;
                let (tv, _, msg) = ber(msg).filter(|_| t == 0x30)?;
                let (tc, _, msg) = ber(msg).filter(|_| tv == 0x02)?;
                let (tp, pdu, _) = ber(msg).filter(|_| tc == 0x04)?;
                let (ti, rid, _) = ber(pdu).filter(|_| tp == 0xa2)?;
                (ti == 0x02 && rid == &request_id[..]).then(|| "SNMP v2c response".to_string())
            }
            Kind::Radius {
                id,
                authenticator,
                secret,
            } => {
                if reply.len() < 20 || reply[1] != *id || !matches!(reply[0], 2 | 3 | 5) {
                    return None;
                }
                let len = usize::from(u16::from_be_bytes([reply[2], reply[3]]));
                if len < 20 || len > reply.len() {
                    return None;
                }
                // Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
                let mut h = Md5::new();
                h.update(&reply[..4]);
                h.update(authenticator);
                h.update(&reply[20..len]);
                h.update(secret);
                let ok = h.finalize()[..] == reply[4..20];
                Some(format!(
                    "RADIUS reply to Status-Server (code {}, {})",
                    reply[0],
                    if ok {
                        "response authenticator valid"
                    } else {
                        "response authenticator does not match our secret"
                    }
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_answer_must_echo_the_id() {
        let p = dns();
        let mut reply = p.request.clone();
        reply[2] |= 0x80;
        assert!(p.recognise(&reply).is_some());
        reply[0] ^= 0xff;
        assert!(p.recognise(&reply).is_none());
        assert!(
            p.recognise(&p.request).is_none(),
            "a query is not an answer"
        );
    }

    #[test]
    fn ntp_answer_must_echo_the_transmit_time() {
        let p = ntp();
        let mut reply = vec![0u8; 48];
        reply[0] = 0x24;
        reply[1] = 2;
        reply[24..32].copy_from_slice(&p.request[40..48]);
        assert_eq!(
            p.recognise(&reply).as_deref(),
            Some("NTP server answer (stratum 2)")
        );
        reply[24] ^= 1;
        assert!(p.recognise(&reply).is_none());
    }

    #[test]
    fn snmp_request_is_valid_ber_and_response_needs_the_request_id() {
        let p = snmp("public");
        let (t, msg, rest) = ber(&p.request).unwrap();
        assert_eq!((t, rest.len()), (0x30, 0));
        // Turn our GetRequest into a GetResponse (tag 0xa0 -> 0xa2).
        let mut reply = p.request.clone();
        let at = reply.iter().position(|b| *b == 0xa0).unwrap();
        assert!(at > 0 && !msg.is_empty());
        reply[at] = 0xa2;
        assert!(p.recognise(&reply).is_some());
        assert!(p.recognise(&p.request).is_none());
        assert!(p.recognise(b"\x30\x82\xff").is_none());
    }

    #[test]
    fn radius_status_server_carries_a_valid_message_authenticator() {
        let p = radius_status_server(b"testing123");
        assert_eq!(p.request.len(), 38);
        let mut zeroed = p.request.clone();
        zeroed[22..38].fill(0);
        let mut m = <Hmac<Md5> as Mac>::new_from_slice(b"testing123").unwrap();
        m.update(&zeroed);
        assert_eq!(m.finalize().into_bytes()[..], p.request[22..38]);
        // A server's Access-Accept with the right response authenticator.
        let mut reply = vec![2, p.request[1], 0, 20];
        let mut h = Md5::new();
        h.update(&reply[..4]);
        h.update(&p.request[4..20]);
        h.update(b"testing123");
        reply.extend_from_slice(&h.finalize());
        assert!(p.recognise(&reply).unwrap().contains("authenticator valid"));
        assert!(for_port(1812, &UdpOptions::default()).is_none());
    }
}

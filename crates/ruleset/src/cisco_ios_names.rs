//! What Cisco IOS and ASA configurations share: the port and ICMP names they
//! write instead of numbers, wildcard and subnet masks, words with columns.
//!
//! The names are the keywords IOS and ASA print instead of numbers; their
//! numbers were checked against Cisco's FWSM/ASA port literal tables and
//! RFC 792 (see tests/fixtures/cisco-ios/README.md). A running-config shows
//! a port as its name where one exists (`eq www`, not `eq 80`), so every
//! name a device prints must be here: an unknown one makes the rule
//! unknown, never a guessed port.

use crate::space::{Addrs, Ranges};
use portplan_model::{Diagnostic, Location};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A TCP/UDP port by Cisco keyword (IOS and ASA use the same numbers for
/// the names they share).
pub fn port(name: &str) -> Option<u16> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(n);
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "aol" => 5190,
        "bgp" => 179,
        "biff" => 512,
        "bootpc" => 68,
        "bootps" => 67,
        "chargen" => 19,
        "cifs" => 3020,
        "citrix-ica" => 1494,
        "cmd" | "rsh" => 514,
        "ctiqbe" => 2748,
        "daytime" => 13,
        "discard" => 9,
        "dnsix" => 195,
        "domain" => 53,
        "drip" => 3949,
        "echo" => 7,
        "exec" => 512,
        "finger" => 79,
        "ftp" => 21,
        "ftp-data" => 20,
        "gopher" => 70,
        "h323" => 1720,
        "hostname" => 101,
        "http" | "www" => 80,
        "https" => 443,
        "ident" => 113,
        "imap4" => 143,
        "irc" => 194,
        "isakmp" => 500,
        "kerberos" => 750,
        "klogin" => 543,
        "kshell" => 544,
        "ldap" => 389,
        "ldaps" => 636,
        "login" => 513,
        "lotusnotes" => 1352,
        "lpd" => 515,
        "mobile-ip" => 434,
        "msrpc" => 135,
        "nameserver" => 42,
        "netbios-dgm" => 138,
        "netbios-ns" => 137,
        "netbios-ss" | "netbios-ssn" => 139,
        "nfs" => 2049,
        "nntp" => 119,
        "non500-isakmp" => 4500,
        "ntp" => 123,
        "onep-plain" => 15001,
        "onep-tls" => 15002,
        "pcanywhere-data" => 5631,
        "pcanywhere-status" => 5632,
        "pim-auto-rp" => 496,
        "pop2" => 109,
        "pop3" => 110,
        "pptp" => 1723,
        "radius" => 1645,
        "radius-acct" => 1646,
        "rip" => 520,
        "ripv6" => 521,
        "rtsp" => 554,
        "secureid-udp" => 5510,
        "sip" => 5060,
        "smtp" => 25,
        "snmp" => 161,
        "snmptrap" => 162,
        "sqlnet" => 1521,
        "ssh" => 22,
        "sunrpc" => 111,
        "syslog" => 514,
        "tacacs" => 49,
        "talk" => 517,
        "telnet" => 23,
        "tftp" => 69,
        "time" => 37,
        "uucp" => 540,
        "vxlan" => 4789,
        "who" => 513,
        "whois" => 43,
        "xdmcp" => 177,
        _ => return None,
    })
}

/// An ICMP message keyword or number (ICMPv6 with `v6`): its type, and the
/// code when the name stands for one code of a type.
pub fn icmp(name: &str, v6: bool) -> Option<(u8, Option<u8>)> {
    if v6 {
        icmp6(name)
    } else {
        icmp4(name)
    }
}

/// The ICMP type an access-list entry names at `w[*i]`, if any (`i` moves
/// past it). A code, named or a number after a numeric type, goes to `why`:
/// the model tells ICMP types, not codes.
pub fn icmp_type(w: &[Tok], i: &mut usize, v6: bool, why: &mut Vec<String>) -> Option<u8> {
    let t = w.get(*i)?.s;
    let (ty, mut code) = icmp(t, v6)?;
    *i += 1;
    // A number may follow a numeric type: the code.
    if t.parse::<u8>().is_ok() {
        if let Some(c) = w.get(*i).and_then(|x| x.s.parse::<u8>().ok()) {
            *i += 1;
            code = Some(c);
        }
    }
    if let Some(c) = code {
        why.push(format!(
            "ICMP code {c} of type {ty} only (the model tells ICMP types, not codes)"
        ));
    }
    Some(ty)
}

/// An ICMP (IPv4) message keyword: its type, and the code when the name
/// stands for one code of a type (`port-unreachable` is type 3 code 3).
pub fn icmp4(name: &str) -> Option<(u8, Option<u8>)> {
    if let Ok(n) = name.parse::<u8>() {
        return Some((n, None));
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "echo-reply" => (0, None),
        "unreachable" => (3, None),
        "net-unreachable" => (3, Some(0)),
        "host-unreachable" => (3, Some(1)),
        "protocol-unreachable" => (3, Some(2)),
        "port-unreachable" => (3, Some(3)),
        "packet-too-big" => (3, Some(4)),
        "source-route-failed" => (3, Some(5)),
        "network-unknown" => (3, Some(6)),
        "host-unknown" => (3, Some(7)),
        "host-isolated" => (3, Some(8)),
        "dod-net-prohibited" => (3, Some(9)),
        "dod-host-prohibited" => (3, Some(10)),
        "net-tos-unreachable" => (3, Some(11)),
        "host-tos-unreachable" => (3, Some(12)),
        "administratively-prohibited" => (3, Some(13)),
        "host-precedence-unreachable" => (3, Some(14)),
        "precedence-unreachable" => (3, Some(15)),
        "source-quench" => (4, None),
        "redirect" => (5, None),
        "net-redirect" => (5, Some(0)),
        "host-redirect" => (5, Some(1)),
        "net-tos-redirect" => (5, Some(2)),
        "host-tos-redirect" => (5, Some(3)),
        "alternate-address" => (6, None),
        "echo" => (8, None),
        "router-advertisement" => (9, None),
        "router-solicitation" => (10, None),
        "time-exceeded" => (11, None),
        "ttl-exceeded" => (11, Some(0)),
        "reassembly-timeout" => (11, Some(1)),
        "parameter-problem" => (12, None),
        "general-parameter-problem" => (12, Some(0)),
        "option-missing" => (12, Some(1)),
        "no-room-for-option" => (12, Some(2)),
        "timestamp-request" => (13, None),
        "timestamp-reply" => (14, None),
        "information-request" => (15, None),
        "information-reply" => (16, None),
        "mask-request" => (17, None),
        "mask-reply" => (18, None),
        "traceroute" => (30, None),
        "conversion-error" => (31, None),
        "mobile-redirect" => (32, None),
        _ => return None,
    })
}

/// An ICMPv6 message keyword (IOS `ipv6 access-list`, ASA `icmp6`).
pub fn icmp6(name: &str) -> Option<(u8, Option<u8>)> {
    if let Ok(n) = name.parse::<u8>() {
        return Some((n, None));
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "unreachable" | "destination-unreachable" => (1, None),
        "no-route" => (1, Some(0)),
        "no-admin" => (1, Some(1)),
        "beyond-scope" => (1, Some(2)),
        "address-unreachable" => (1, Some(3)),
        "port-unreachable" => (1, Some(4)),
        "packet-too-big" => (2, None),
        "time-exceeded" => (3, None),
        "hop-limit" => (3, Some(0)),
        "reassembly-timeout" => (3, Some(1)),
        "parameter-problem" => (4, None),
        "header" => (4, Some(0)),
        "next-header" => (4, Some(1)),
        "parameter-option" => (4, Some(2)),
        "echo-request" | "echo" => (128, None),
        "echo-reply" => (129, None),
        "mld-query" | "membership-query" => (130, None),
        "mld-report" | "membership-report" => (131, None),
        "mld-reduction" | "membership-reduction" => (132, None),
        "router-solicitation" => (133, None),
        "router-advertisement" => (134, None),
        "nd-ns" | "neighbor-solicitation" => (135, None),
        "nd-na" | "neighbor-advertisement" => (136, None),
        "redirect" => (137, None),
        "router-renumbering" => (138, None),
        "renum-command" => (138, Some(0)),
        "renum-result" => (138, Some(1)),
        "renum-seq-number" => (138, Some(255)),
        _ => return None,
    })
}

/// `A.B.C.D WILDCARD` as IOS writes it: the addresses it matches, when the
/// wildcard's "don't care" bits are contiguous at the end (one range), or
/// the ranges of a non-contiguous wildcard when there are at most
/// `max_spans` of them. `Err` carries the smallest range holding them all
/// (boxed: an address set is large next to the `Ok` it shares a slot with).
pub fn wildcard(a: Ipv4Addr, w: Ipv4Addr, max_spans: usize) -> Result<Addrs, Box<Addrs>> {
    let a = u32::from(a);
    let w = u32::from(w);
    let lo = a & !w;
    let hi = a | w;
    if w & w.wrapping_add(1) == 0 {
        return Ok(v4(Ranges::range(lo, hi)));
    }
    // The trailing run of don't-care bits makes each span; the other
    // don't-care bits multiply the spans.
    let tail = w.trailing_ones();
    let upper = if tail >= 32 {
        0
    } else {
        w & !((1u32 << tail) - 1)
    };
    let holes = upper.count_ones();
    if holes > 20 || (1usize << holes) > max_spans {
        return Err(Box::new(v4(Ranges::range(lo, hi))));
    }
    let bits: Vec<u32> = (0..32).filter(|b| upper & (1 << b) != 0).collect();
    let size = if tail >= 32 {
        u32::MAX
    } else {
        (1u32 << tail) - 1
    };
    let mut spans = Vec::with_capacity(1 << holes);
    for k in 0u32..(1u32 << holes) {
        let mut base = lo;
        for (j, b) in bits.iter().enumerate() {
            if k & (1 << j) != 0 {
                base |= 1 << b;
            }
        }
        spans.push((base, base | size));
    }
    Ok(v4(Ranges::from_iter(spans)))
}

/// `A.B.C.D MASK` (a subnet mask, as ASA and IOS object groups write it);
/// `None` when the mask is not contiguous.
pub fn masked(a: Ipv4Addr, m: Ipv4Addr) -> Option<Addrs> {
    let m = u32::from(m);
    if m.leading_ones() + m.trailing_zeros() != 32 {
        return None;
    }
    let a = u32::from(a);
    Some(v4(Ranges::range(a & m, a | !m)))
}

/// One IPv4 address.
pub fn host4(a: Ipv4Addr) -> Addrs {
    v4(Ranges::one(u32::from(a)))
}

pub fn host6(a: Ipv6Addr) -> Addrs {
    Addrs {
        v6: Ranges::one(u128::from(a)),
        ..Addrs::none()
    }
}

fn v4(r: Ranges<u32>) -> Addrs {
    Addrs {
        v4: r,
        ..Addrs::none()
    }
}

/// An IPv6 prefix `X/len` (the address need not be the network's first).
pub fn prefix6(s: &str) -> Option<Addrs> {
    let (a, l) = s.split_once('/')?;
    let a: Ipv6Addr = a.parse().ok()?;
    let l: u8 = l.parse().ok()?;
    let n = ipnet::Ipv6Net::new(a, l).ok()?;
    Some(Addrs::v6net(&n.trunc()))
}

/// An IPv4 prefix `A.B.C.D/len`.
pub fn prefix4(s: &str) -> Option<Addrs> {
    let (a, l) = s.split_once('/')?;
    let a: Ipv4Addr = a.parse().ok()?;
    let l: u8 = l.parse().ok()?;
    let n = ipnet::Ipv4Net::new(a, l).ok()?;
    Some(Addrs::v4net(&n.trunc()))
}

/// A word of a line and its 1-based column.
#[derive(Debug, Clone, Copy)]
pub struct Tok<'a> {
    pub s: &'a str,
    pub col: usize,
}

/// The words of a line (Cisco configurations do not quote), with columns.
pub fn toks(line: &str) -> Vec<Tok<'_>> {
    toks_n(line, usize::MAX)
}

/// The first `max` words of a line, with the columns `toks` gives them.
pub fn toks_n(line: &str, max: usize) -> Vec<Tok<'_>> {
    // Configurations are nearly always ASCII, where a byte is a column:
    // splitting bytes costs a fraction of decoding characters (an ACL of
    // 100,000 entries is split in a few milliseconds).
    if line.is_ascii() {
        ascii_toks(line, max)
    } else {
        char_toks(line, max)
    }
}

fn char_toks(line: &str, max: usize) -> Vec<Tok<'_>> {
    if max == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(max.min(16));
    // (byte offset, 1-based column) of the word being read.
    let mut start: Option<(usize, usize)> = None;
    for (n, (i, c)) in line.char_indices().enumerate() {
        if c.is_whitespace() {
            if let Some((s, col)) = start.take() {
                out.push(Tok {
                    s: &line[s..i],
                    col,
                });
                if out.len() >= max {
                    return out;
                }
            }
        } else if start.is_none() {
            start = Some((i, n + 1));
        }
    }
    if let Some((s, col)) = start {
        out.push(Tok { s: &line[s..], col });
    }
    out
}

/// `toks_n` of an ASCII line: the same words at the same columns, the
/// same whitespace (`char::is_whitespace` on ASCII).
fn ascii_toks(line: &str, max: usize) -> Vec<Tok<'_>> {
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r');
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(max.min(16));
    let mut i = 0;
    while i < bytes.len() && out.len() < max {
        if ws(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !ws(bytes[i]) {
            i += 1;
        }
        out.push(Tok {
            s: &line[start..i],
            col: start + 1,
        });
    }
    out
}

/// Port operators IOS and ASA share: `eq`, `neq`, `lt`, `gt`, `range`.
pub fn is_port_op(w: &str) -> bool {
    matches!(w, "eq" | "neq" | "lt" | "gt" | "range")
}

/// The ports an operator with its ports matches; `None` when a port is
/// not a number or a known name (or a range runs backwards).
pub fn port_op(op: &str, ports: &[u16]) -> Option<Ranges<u16>> {
    match (op, ports) {
        ("eq", p) if !p.is_empty() => Some(Ranges::from_iter(p.iter().map(|&x| (x, x)))),
        ("neq", p) if !p.is_empty() => {
            Some(Ranges::from_iter(p.iter().map(|&x| (x, x))).complement())
        }
        ("lt", [p]) => Some(if *p == 0 {
            Ranges::empty()
        } else {
            Ranges::range(0, p - 1)
        }),
        ("gt", [p]) => Some(if *p == u16::MAX {
            Ranges::empty()
        } else {
            Ranges::range(p + 1, u16::MAX)
        }),
        ("range", [a, b]) if a <= b => Some(Ranges::range(*a, *b)),
        _ => None,
    }
}

/// A top-level command and its indented sub-commands (texts as in the
/// file, indentation kept).
pub struct Block<'a> {
    pub line: usize,
    pub text: &'a str,
    pub kids: Vec<(usize, &'a str)>,
}

/// Splits a configuration into top-level commands with their sub-commands
/// (by indentation); `!` comment lines are skipped.
pub fn blocks(text: &str) -> Vec<Block<'_>> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let meaningful = |l: &str| {
        let t = l.trim();
        // `!` comments (IOS, ASA), `:` comments (ASA saved configurations).
        !t.is_empty() && !t.starts_with('!') && !t.starts_with('#') && !t.starts_with(':')
    };
    // One pass over the text (a core firewall's configuration has
    // hundreds of thousands of lines): the meaningful lines, then the
    // indentation they share.
    let mut kept: Vec<(usize, &str, usize)> = Vec::new();
    for_lines(text, |i, l| {
        if meaningful(l) {
            kept.push((i, l, indent(l)));
        }
    });
    let base = kept.iter().map(|k| k.2).min().unwrap_or(0);
    let mut out: Vec<Block> = Vec::new();
    for (i, raw, ind) in kept {
        // The text keeps its indentation, so that columns are the file's.
        let t = raw.trim_end();
        if ind > base {
            if let Some(b) = out.last_mut() {
                b.kids.push((i + 1, t));
                continue;
            }
        }
        out.push(Block {
            line: i + 1,
            text: t,
            kids: Vec::new(),
        });
    }
    out
}

/// `text.lines().enumerate()`, each line handed to `f`, with the line
/// ends found by a vectorised search: the same lines (a `\r` before a
/// `\n` dropped, an unended last line as it is, no empty line after a
/// final `\n`).
fn for_lines<'a>(text: &'a str, mut f: impl FnMut(usize, &'a str)) {
    let mut start = 0;
    let mut n = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        let l = &text[start..end];
        f(n, l.strip_suffix('\r').unwrap_or(l));
        n += 1;
        start = end + 1;
    }
    if start < text.len() {
        f(n, &text[start..]);
    }
}

pub fn at(file: &str, line: usize, column: usize, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(file, msg).at(Some(Location { line, column }))
}

/// One service of a service object group or a rule: protocols, source and
/// destination ports (ICMP: types).
#[derive(Clone)]
pub struct Svc {
    pub proto: Ranges<u8>,
    pub sport: Ranges<u16>,
    pub dport: Ranges<u16>,
}

impl Svc {
    pub fn of(proto: Ranges<u8>) -> Self {
        Svc {
            proto,
            sport: Ranges::full(),
            dport: Ranges::full(),
        }
    }
}

pub fn has_ports(p: &Ranges<u8>) -> bool {
    !p.is_empty()
        && p.spans()
            .iter()
            .all(|&(a, b)| (a..=b).all(crate::space::has_ports))
}

pub fn is_icmp(p: &Ranges<u8>) -> bool {
    p.spans() == [(1, 1)] || p.spans() == [(58, 58)]
}

/// `eq P...`, `neq P...`, `lt P`, `gt P`, `range A B` at `*i`: `None` when
/// no operator is there; `Err` when its ports are not read.
pub fn port_match(w: &[Tok], i: &mut usize) -> Option<Result<Ranges<u16>, String>> {
    let op = w.get(*i)?.s;
    if !is_port_op(op) {
        return None;
    }
    *i += 1;
    let mut ports = Vec::new();
    let want = match op {
        "lt" | "gt" => 1,
        "range" => 2,
        _ => 10,
    };
    while ports.len() < want {
        let Some(t) = w.get(*i) else { break };
        match port(t.s) {
            Some(p) => ports.push(p),
            None if ports.is_empty() => {
                *i += 1;
                return Some(Err(format!(
                    "port `{}` is not a number or a port name this reader knows",
                    t.s
                )));
            }
            None => break,
        }
        *i += 1;
    }
    Some(port_op(op, &ports).ok_or_else(|| format!("`{op}` with ports {ports:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let a: Ipv4Addr = "10.1.0.0".parse().unwrap();
        let w: Ipv4Addr = "0.0.255.255".parse().unwrap();
        let r = wildcard(a, w, 16).unwrap();
        assert_eq!(r.v4.spans(), &[(0x0a01_0000, 0x0a01_ffff)]);
        // 10.0.x.5 for x even: 128 single addresses.
        let w: Ipv4Addr = "0.0.254.0".parse().unwrap();
        let r = wildcard("10.0.0.5".parse().unwrap(), w, 256).unwrap();
        assert_eq!(r.v4.spans().len(), 128);
        assert!(r.v4.contains(0x0a00_0205));
        assert!(!r.v4.contains(0x0a00_0105));
        assert!(wildcard(
            "10.0.0.0".parse().unwrap(),
            "0.255.0.255".parse().unwrap(),
            16
        )
        .is_err());
        assert!(masked("10.0.0.0".parse().unwrap(), "255.0.255.0".parse().unwrap()).is_none());
        assert_eq!(port_op("lt", &[1024]), Some(Ranges::range(0, 1023)));
        assert_eq!(port_op("range", &[5, 1]), None);
        let t = toks("  permit tcp any");
        assert_eq!((t[1].s, t[1].col), ("tcp", 10));
    }
}

#[cfg(test)]
mod ascii_tests {
    use super::*;

    /// The byte path splits ASCII as the character path does: the same
    /// words, columns and whitespace (vertical tab and form feed too).
    #[test]
    fn ascii_words_are_the_characters_words() {
        let lines = [
            "",
            "   ",
            " permit tcp host 10.0.0.1 any eq 443",
            "\tremark  two\x0Bwords\x0Cand\rmore  ",
            "10 deny ip any any log",
            "x",
            "  a  b  c  d  e  f",
        ];
        for l in lines {
            for max in [0, 1, 3, 4, usize::MAX] {
                let a: Vec<(&str, usize)> =
                    ascii_toks(l, max).iter().map(|t| (t.s, t.col)).collect();
                let c: Vec<(&str, usize)> =
                    char_toks(l, max).iter().map(|t| (t.s, t.col)).collect();
                assert_eq!(a, c, "{l:?} max {max}");
            }
        }
        // Not ASCII: columns count characters, not bytes.
        let t = toks("caf\u{e9} permit");
        assert_eq!((t[1].s, t[1].col), ("permit", 6));
    }
}

#[cfg(test)]
mod line_tests {
    use super::for_lines;

    #[test]
    fn for_lines_gives_str_lines() {
        for t in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "a\r\nb",
            "a\r\nb\r\n",
            "a\rb\n",
            "a\r",
            "x\n\ny\r",
            " \r\n\r\n",
        ] {
            let mut got = Vec::new();
            for_lines(t, |i, l| got.push((i, l)));
            let want: Vec<(usize, &str)> = t.lines().enumerate().collect();
            assert_eq!(got, want, "{t:?}");
        }
    }
}

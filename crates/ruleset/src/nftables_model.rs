//! What the nftables readers share: the ruleset as nftables states it
//! (tables, chains, named sets and maps, rules as lists of statements),
//! which the text reader (`nft -f` input, `nft list ruleset` output) and the
//! JSON reader (`nft -j list ruleset`) both build, and its meaning in the
//! model.
//!
//! Semantics (nft(8); wiki.nftables.org "Netfilter hooks", "Configuring
//! chains", "Verdict Maps (vmaps)", "Sets", "Concatenations"):
//! - a base chain hangs on a hook with a priority; every base chain on the
//!   hooks a packet passes sees it, lowest priority first. `accept` ends the
//!   packet's walk through that base chain only: later base chains still
//!   judge it; `drop` is final. So each base chain is a filter of its own,
//!   and all of them must accept.
//! - families: `inet` sees IPv4 and IPv6, `ip` IPv4, `ip6` IPv6, `netdev`
//!   the frames of one device (ingress: before the IP hooks). `bridge` and
//!   `arp` judge frames this audit does not model: a note says so.
//! - hooks: input judges traffic to this host, output traffic from it,
//!   forward what it routes; prerouting sees what arrives (to this host and
//!   routed), postrouting what leaves (from this host and routed).
//! - `jump` enters a chain and comes back at its end or on `return`;
//!   `goto` does not come back (the end of the chain is the end of the
//!   calling base chain: its policy). `continue` goes on with the next rule.
//! - a verdict map (`vmap`) picks the verdict of the element the key
//!   matches, or goes on with the next rule: one rule per element.
//! - `ct state`: audits ask about the first packet of a new connection,
//!   which is in state `new`; a rule that matches only other states never
//!   matches it.

use crate::model::*;
use crate::space::{self, Addrs, Ranges};
use std::collections::HashMap;

// ---------------------------------------------------------------------
// The ruleset as nftables states it.

#[derive(Debug, Clone, Default)]
pub(crate) struct Doc {
    pub tables: Vec<Table>,
    /// (line, text, message) the parsers found along the way.
    pub issues: Vec<(usize, String, String)>,
    pub notes: Vec<(usize, String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub family: String,
    pub name: String,
    pub line: usize,
    pub dormant: bool,
    pub chains: Vec<ChainDecl>,
    pub sets: Vec<SetDecl>,
}

impl Table {
    pub fn new(family: &str, name: &str, line: usize) -> Self {
        Table {
            family: family.to_string(),
            name: name.to_string(),
            line,
            dormant: false,
            chains: Vec::new(),
            sets: Vec::new(),
        }
    }
    pub fn chain_mut(&mut self, name: &str, line: usize) -> &mut ChainDecl {
        let i = match self.chains.iter().position(|c| c.name == name) {
            Some(i) => i,
            None => {
                self.chains.push(ChainDecl {
                    name: name.to_string(),
                    line,
                    base: None,
                    rules: Vec::new(),
                });
                self.chains.len() - 1
            }
        };
        &mut self.chains[i]
    }
    pub fn set_mut(&mut self, name: &str, line: usize, map: bool) -> &mut SetDecl {
        let i = match self.sets.iter().position(|c| c.name == name) {
            Some(i) => i,
            None => {
                self.sets.push(SetDecl {
                    name: name.to_string(),
                    line,
                    map,
                    data: None,
                    elems: Vec::new(),
                    comment: None,
                });
                self.sets.len() - 1
            }
        };
        &mut self.sets[i]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ChainDecl {
    pub name: String,
    pub line: usize,
    pub base: Option<Base>,
    pub rules: Vec<RuleDecl>,
}

/// A base chain's hook.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    /// `filter`, `nat`, `route`.
    pub kind: String,
    pub hook: String,
    /// Priority; `None` where it could not be read (a note says so).
    pub prio: Option<i64>,
    pub devices: Vec<String>,
    /// `policy accept|drop`: (accept, line, text); none written: accept.
    pub policy: Option<(bool, usize, String)>,
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleDecl {
    pub line: usize,
    pub text: String,
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone)]
pub(crate) struct SetDecl {
    pub name: String,
    pub line: usize,
    pub map: bool,
    /// A map's data type (`verdict`, `ipv4_addr`...).
    pub data: Option<String>,
    pub elems: Vec<(Elem, Option<Data>)>,
    pub comment: Option<String>,
}

/// A map element's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Data {
    Verdict(Verdict),
    Other(String),
}

/// One set element: its components (more than one for a concatenation).
pub(crate) type Elem = Vec<Atom>;

/// A value as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Atom {
    /// A word or a string: `10.0.0.0/8`, `22`, `ssh`, `80-90`, `eth0`,
    /// `established`.
    Val(String),
    Range(String, String),
    Prefix(String, u8),
    /// An expression this reader does not read as a value (`syn | ack`).
    Other(String),
}

impl Atom {
    pub fn text(&self) -> String {
        match self {
            Atom::Val(s) | Atom::Other(s) => s.clone(),
            Atom::Range(a, b) => format!("{a}-{b}"),
            Atom::Prefix(a, l) => format!("{a}/{l}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    Accept,
    Drop,
    Reject,
    Jump(String),
    Goto(String),
    Return,
    Continue,
    Queue,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fam {
    V4,
    V6,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum L4 {
    Tcp,
    Udp,
    Udplite,
    Sctp,
    Dccp,
    /// `th`: any transport header with ports.
    Th,
}

impl L4 {
    pub fn of(w: &str) -> Option<L4> {
        Some(match w {
            "tcp" => L4::Tcp,
            "udp" => L4::Udp,
            "udplite" => L4::Udplite,
            "sctp" => L4::Sctp,
            "dccp" => L4::Dccp,
            "th" => L4::Th,
            _ => return None,
        })
    }
    fn protos(self) -> Ranges<u8> {
        match self {
            L4::Tcp => Ranges::one(6),
            L4::Udp => Ranges::one(17),
            L4::Udplite => Ranges::one(136),
            L4::Sctp => Ranges::one(132),
            L4::Dccp => Ranges::one(33),
            L4::Th => Ranges::from_iter([(6, 6), (17, 17), (33, 33), (132, 132), (136, 136)]),
        }
    }
}

/// What a match looks at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Key {
    Saddr(Fam),
    Daddr(Fam),
    /// `meta l4proto` (no family), `ip protocol`, `ip6 nexthdr`.
    Proto(Option<Fam>),
    Dport(L4),
    Sport(L4),
    /// `icmp type` (false), `icmpv6 type` (true).
    IcmpType(bool),
    CtState,
    /// `iifname`/`iif` (false), `oifname`/`oif` (true).
    Iface(bool),
    Nfproto,
    /// `tcp flags`, with the mask of `tcp flags & MASK` / `VALUE / MASK`.
    TcpFlags(Option<Vec<String>>),
    /// Anything else, as written (`meta mark`, `fib daddr type`).
    Other(String),
}

impl Key {
    pub fn text(&self) -> String {
        let f = |x: &Fam| if *x == Fam::V4 { "ip" } else { "ip6" };
        let l = |x: &L4| match x {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
            L4::Udplite => "udplite",
            L4::Sctp => "sctp",
            L4::Dccp => "dccp",
            L4::Th => "th",
        };
        match self {
            Key::Saddr(x) => format!("{} saddr", f(x)),
            Key::Daddr(x) => format!("{} daddr", f(x)),
            Key::Proto(None) => "meta l4proto".into(),
            Key::Proto(Some(Fam::V4)) => "ip protocol".into(),
            Key::Proto(Some(Fam::V6)) => "ip6 nexthdr".into(),
            Key::Dport(x) => format!("{} dport", l(x)),
            Key::Sport(x) => format!("{} sport", l(x)),
            Key::IcmpType(false) => "icmp type".into(),
            Key::IcmpType(true) => "icmpv6 type".into(),
            Key::CtState => "ct state".into(),
            Key::Iface(false) => "iifname".into(),
            Key::Iface(true) => "oifname".into(),
            Key::Nfproto => "meta nfproto".into(),
            Key::TcpFlags(_) => "tcp flags".into(),
            Key::Other(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    /// `in`: a flag test (`ct state established,related`).
    In,
}

impl Op {
    pub fn of(w: &str) -> Option<Op> {
        Some(match w {
            "==" | "eq" => Op::Eq,
            "!=" | "ne" => Op::Ne,
            "<" | "lt" => Op::Lt,
            ">" | "gt" => Op::Gt,
            "<=" | "le" => Op::Le,
            ">=" | "ge" => Op::Ge,
            "in" => Op::In,
            _ => return None,
        })
    }
}

/// The right side of a match or a verdict map.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rhs {
    /// One value, a comma list or an anonymous set.
    Elems(Vec<Elem>),
    /// A named set or map (`@name`).
    Named(String),
}

/// One statement of a rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stmt {
    Match {
        keys: Vec<Key>,
        op: Op,
        rhs: Rhs,
    },
    /// A verdict map: inline elements or a named map.
    Vmap {
        keys: Vec<Key>,
        map: VmapData,
    },
    Verdict(Verdict),
    /// NAT: `dest` rewrites the destination (dnat, redirect, tproxy).
    Nat {
        dest: bool,
        what: String,
    },
    /// Matches only part of the time (limit, quota, ct count, meter).
    Limited(String),
    /// A verdict this reader cannot tell (queue to userspace, fwd, xt).
    UnknownVerdict(String),
    /// A condition not understood: why.
    Unknown(String),
    /// A statement not understood at all: it may be one that decides the
    /// packet, so a rule without a known verdict gets an unknown one.
    NotUnderstood(String),
    Comment(String),
    /// Counting, logging, marking: no effect on the verdict.
    Harmless,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum VmapData {
    Inline(Vec<(Elem, Verdict)>),
    Named(String),
}

/// An iptables target inside an nftables rule (iptables-nft's `xt target`):
/// what it does, as iptables-extensions(8) says.
pub(crate) fn xt_target(name: &str) -> Stmt {
    match name {
        "ACCEPT" => Stmt::Verdict(Verdict::Accept),
        "DROP" => Stmt::Verdict(Verdict::Drop),
        "REJECT" => Stmt::Verdict(Verdict::Reject),
        "RETURN" => Stmt::Verdict(Verdict::Return),
        // Logging, marking, tuning: no verdict.
        "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "CT" | "TRACE" | "AUDIT" | "NOTRACK"
        | "CLASSIFY" | "DSCP" | "TOS" | "TCPMSS" | "CHECKSUM" | "SECMARK" | "CONNSECMARK" => {
            Stmt::Harmless
        }
        "SNAT" | "MASQUERADE" => Stmt::Nat {
            dest: false,
            what: format!("xt target {name}"),
        },
        "DNAT" | "REDIRECT" | "NETMAP" | "TPROXY" => Stmt::Nat {
            dest: true,
            what: format!("xt target {name}"),
        },
        _ => Stmt::UnknownVerdict(format!(
            "iptables extension target `{name}` (iptables-nft) is not understood"
        )),
    }
}

// ---------------------------------------------------------------------
// Value tables.

/// Ports by the names /etc/services gives them (nft resolves these).
pub(crate) fn service_port(name: &str) -> Option<u16> {
    Some(match name {
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "time" => 37,
        "whois" | "nicname" => 43,
        "tacacs" => 49,
        "domain" => 53,
        "bootps" => 67,
        "bootpc" => 68,
        "tftp" => 69,
        "gopher" => 70,
        "finger" => 79,
        "http" | "www" => 80,
        "kerberos" | "kerberos5" => 88,
        "pop3" | "pop-3" => 110,
        "sunrpc" | "portmapper" => 111,
        "auth" | "ident" => 113,
        "nntp" => 119,
        "ntp" => 123,
        "epmap" | "loc-srv" => 135,
        "netbios-ns" => 137,
        "netbios-dgm" => 138,
        "netbios-ssn" => 139,
        "imap" | "imap2" => 143,
        "snmp" => 161,
        "snmp-trap" | "snmptrap" => 162,
        "bgp" => 179,
        "irc" => 194,
        "ldap" => 389,
        "https" => 443,
        "microsoft-ds" => 445,
        "kpasswd" => 464,
        "isakmp" => 500,
        "submissions" | "smtps" | "urd" => 465,
        "exec" => 512,
        "login" => 513,
        "syslog" | "shell" => 514,
        "printer" => 515,
        "submission" => 587,
        "ipp" => 631,
        "ldaps" => 636,
        "rsync" => 873,
        "ftps-data" => 989,
        "ftps" => 990,
        "telnets" => 992,
        "imaps" => 993,
        "pop3s" => 995,
        "socks" => 1080,
        "openvpn" => 1194,
        "ms-sql-s" => 1433,
        "ms-sql-m" => 1434,
        "ingreslock" => 1524,
        "l2tp" => 1701,
        "pptp" => 1723,
        "radius" => 1812,
        "radius-acct" => 1813,
        "nfs" => 2049,
        "iscsi-target" => 3260,
        "mysql" => 3306,
        "ms-wbt-server" => 3389,
        "svn" => 3690,
        "sip" => 5060,
        "sip-tls" => 5061,
        "xmpp-client" => 5222,
        "xmpp-server" => 5269,
        "postgresql" => 5432,
        "amqp" => 5672,
        "x11" => 6000,
        "ircd" => 6667,
        "http-alt" | "webcache" => 8080,
        "zabbix-agent" => 10050,
        "zabbix-trapper" => 10051,
        "ipsec-nat-t" => 4500,
        "nut" => 3493,
        "memcache" => 11211,
        "mdns" => 5353,
        "llmnr" => 5355,
        "git" => 9418,
        "kerberos-adm" => 749,
        "ssh-alt" => 2222,
        "redis" => 6379,
        "mongodb" => 27017,
        _ => return None,
    })
}

/// ICMP type numbers as nft names them (icmp_type, icmpv6_type).
pub(crate) fn icmp_type(name: &str, v6: bool) -> Option<u8> {
    if let Ok(n) = name.parse::<u8>() {
        return Some(n);
    }
    let n = if v6 {
        match name {
            "destination-unreachable" => 1,
            "packet-too-big" => 2,
            "time-exceeded" => 3,
            "parameter-problem" => 4,
            "echo-request" => 128,
            "echo-reply" => 129,
            "mld-listener-query" => 130,
            "mld-listener-report" => 131,
            "mld-listener-done" | "mld-listener-reduction" => 132,
            "nd-router-solicit" => 133,
            "nd-router-advert" => 134,
            "nd-neighbor-solicit" => 135,
            "nd-neighbor-advert" => 136,
            "nd-redirect" => 137,
            "router-renumbering" => 138,
            "ind-neighbor-solicit" => 141,
            "ind-neighbor-advert" => 142,
            "mld2-listener-report" => 143,
            _ => return None,
        }
    } else {
        match name {
            "echo-reply" => 0,
            "destination-unreachable" => 3,
            "source-quench" => 4,
            "redirect" => 5,
            "echo-request" => 8,
            "router-advertisement" => 9,
            "router-solicitation" => 10,
            "time-exceeded" => 11,
            "parameter-problem" => 12,
            "timestamp-request" => 13,
            "timestamp-reply" => 14,
            "info-request" => 15,
            "info-reply" => 16,
            "address-mask-request" => 17,
            "address-mask-reply" => 18,
            _ => return None,
        }
    };
    Some(n)
}

/// A standard priority name's value (nft(8), "Standard priority names").
pub(crate) fn priority_name(family: &str, name: &str) -> Option<i64> {
    if family == "bridge" {
        return Some(match name {
            "dstnat" => -300,
            "filter" => -200,
            "out" => 100,
            "srcnat" => 300,
            _ => return None,
        });
    }
    Some(match name {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        _ => return None,
    })
}

/// `filter + 10`, `-150`, `mangle`, `dstnat - 5` as words.
pub(crate) fn priority(family: &str, words: &[String]) -> Option<i64> {
    let mut it = words.iter();
    let first = it.next()?;
    let mut v = match first.parse::<i64>() {
        Ok(n) => n,
        Err(_) => priority_name(family, first)?,
    };
    let mut rest: Vec<&String> = it.collect();
    // `filter+10` written without spaces arrives as one word.
    if rest.is_empty() {
        for sep in ['+', '-'] {
            if let Some((a, b)) = first.split_once(sep) {
                if a.is_empty() {
                    continue;
                }
                let base = priority_name(family, a)?;
                let n: i64 = b.trim().parse().ok()?;
                return Some(if sep == '+' { base + n } else { base - n });
            }
        }
        return Some(v);
    }
    while !rest.is_empty() {
        let op = rest.remove(0);
        let n: i64 = rest.first()?.parse().ok()?;
        rest.remove(0);
        match op.as_str() {
            "+" => v += n,
            "-" => v -= n,
            _ => return None,
        }
    }
    Some(v)
}

const TCP_FLAGS: &[(&str, u8)] = &[
    ("fin", 0x01),
    ("syn", 0x02),
    ("rst", 0x04),
    ("psh", 0x08),
    ("ack", 0x10),
    ("urg", 0x20),
    ("ecn", 0x40),
    ("cwr", 0x80),
];

/// A TCP flag combination (`syn`, `syn|ack`, `fin,syn`, `0x12`).
fn tcp_flag_bits(s: &str) -> Option<u8> {
    let s = s.trim().trim_start_matches('(').trim_end_matches(')');
    if let Some(h) = s.strip_prefix("0x") {
        return u8::from_str_radix(h, 16).ok();
    }
    if let Ok(n) = s.parse::<u8>() {
        return Some(n);
    }
    let mut v = 0u8;
    for part in s.split(['|', ',']) {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        v |= TCP_FLAGS.iter().find(|(n, _)| *n == p)?.1;
    }
    Some(v)
}

// ---------------------------------------------------------------------
// From statements to the model.

/// A part of a match: the dimensions one condition narrows.
#[derive(Debug, Clone, Default)]
struct Part {
    proto: Option<Ranges<u8>>,
    src: Option<AddrMatch>,
    dst: Option<AddrMatch>,
    sport: Option<Ranges<u16>>,
    dport: Option<Ranges<u16>>,
}

impl Part {
    fn and(mut self, o: Part) -> Part {
        self.proto = match (self.proto, o.proto) {
            (Some(a), Some(b)) => Some(a.intersect(&b)),
            (a, b) => a.or(b),
        };
        self.src = match (self.src, o.src) {
            (Some(a), Some(b)) => Some(a.and(b)),
            (a, b) => a.or(b),
        };
        self.dst = match (self.dst, o.dst) {
            (Some(a), Some(b)) => Some(a.and(b)),
            (a, b) => a.or(b),
        };
        self.sport = match (self.sport, o.sport) {
            (Some(a), Some(b)) => Some(a.intersect(&b)),
            (a, b) => a.or(b),
        };
        self.dport = match (self.dport, o.dport) {
            (Some(a), Some(b)) => Some(a.intersect(&b)),
            (a, b) => a.or(b),
        };
        self
    }
    fn apply(&self, m: &Match) -> Match {
        let mut m = m.clone();
        if let Some(p) = &self.proto {
            m.proto = m.proto.intersect(p);
        }
        if let Some(s) = &self.src {
            m.src = m.src.clone().and(s.clone());
        }
        if let Some(d) = &self.dst {
            m.dst = m.dst.clone().and(d.clone());
        }
        if let Some(s) = &self.sport {
            m.sport = m.sport.intersect(s);
        }
        if let Some(d) = &self.dport {
            m.dport = m.dport.intersect(d);
        }
        m
    }
}

/// What one condition does to a rule.
enum C {
    /// The union of these parts.
    Parts(Vec<Part>),
    /// Never true for a new connection's first packet: why.
    Never(String),
    /// True only for some packets of a connection: the first, the later.
    States {
        new: bool,
        later: bool,
    },
    Unknown(String),
}

/// Every address of a family (names are not addresses of a family).
fn fam_all(f: Fam) -> Addrs {
    match f {
        Fam::V4 => Addrs::all_v4(),
        Fam::V6 => Addrs::all_v6(),
    }
}

fn fam_name(f: Fam) -> &'static str {
    match f {
        Fam::V4 => "IPv4",
        Fam::V6 => "IPv6",
    }
}

/// The addresses of one atom in family `f`.
fn atom_addrs(a: &Atom, f: Fam) -> Result<Addrs, String> {
    let one = |s: &str| -> Option<Addrs> {
        let x = crate::words::addr(s)?;
        let ok = match f {
            Fam::V4 => x.v6.is_empty(),
            Fam::V6 => x.v4.is_empty(),
        };
        ok.then_some(x)
    };
    let bad = || format!("`{}` is not an {} address", a.text(), fam_name(f));
    match a {
        Atom::Val(s) => {
            if let Some(x) = one(s) {
                return Ok(x);
            }
            if let Some(x) = crate::words::addr_range(s) {
                let ok = match f {
                    Fam::V4 => x.v6.is_empty(),
                    Fam::V6 => x.v4.is_empty(),
                };
                if ok {
                    return Ok(x);
                }
            }
            // A host name nft resolved when the rules were loaded.
            let is_name = s.contains('.')
                && s.chars().any(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if is_name {
                return Ok(Addrs::name(s));
            }
            Err(bad())
        }
        Atom::Prefix(s, l) => one(&format!("{s}/{l}")).ok_or_else(bad),
        Atom::Range(a, b) => crate::words::addr_range(&format!("{a}-{b}"))
            .filter(|x| match f {
                Fam::V4 => x.v6.is_empty(),
                Fam::V6 => x.v4.is_empty(),
            })
            .ok_or_else(bad),
        Atom::Other(_) => Err(bad()),
    }
}

fn port_of(s: &str) -> Option<u16> {
    s.trim()
        .parse::<u16>()
        .ok()
        .or_else(|| service_port(s.trim()))
}

/// Ports of one atom.
fn atom_ports(a: &Atom) -> Result<Ranges<u16>, String> {
    let bad = || format!("`{}` is not a port", a.text());
    match a {
        Atom::Val(s) => {
            if let Some(p) = port_of(s) {
                return Ok(Ranges::one(p));
            }
            let (x, y) = s.split_once('-').ok_or_else(bad)?;
            let (x, y) = (port_of(x).ok_or_else(bad)?, port_of(y).ok_or_else(bad)?);
            if x > y {
                return Err(bad());
            }
            Ok(Ranges::range(x, y))
        }
        Atom::Range(x, y) => {
            let (x, y) = (port_of(x).ok_or_else(bad)?, port_of(y).ok_or_else(bad)?);
            if x > y {
                return Err(bad());
            }
            Ok(Ranges::range(x, y))
        }
        _ => Err(bad()),
    }
}

fn proto_of(s: &str) -> Option<u8> {
    space::proto_number(s).or(match s {
        "dccp" => Some(33),
        "ipv6-icmp" => Some(58),
        _ => None,
    })
}

fn atom_protos(a: &Atom) -> Result<Ranges<u8>, String> {
    let bad = || format!("`{}` is not an IP protocol", a.text());
    match a {
        Atom::Val(s) => {
            if let Some(p) = proto_of(s) {
                return Ok(Ranges::one(p));
            }
            let (x, y) = s.split_once('-').ok_or_else(bad)?;
            Ok(Ranges::range(
                proto_of(x).ok_or_else(bad)?,
                proto_of(y).ok_or_else(bad)?,
            ))
        }
        Atom::Range(x, y) => Ok(Ranges::range(
            proto_of(x).ok_or_else(bad)?,
            proto_of(y).ok_or_else(bad)?,
        )),
        _ => Err(bad()),
    }
}

fn atom_icmp(a: &Atom, v6: bool) -> Result<Ranges<u16>, String> {
    let bad = || {
        format!(
            "`{}` is not an {} type",
            a.text(),
            if v6 { "ICMPv6" } else { "ICMP" }
        )
    };
    let one = |s: &str| icmp_type(s.trim(), v6).map(u16::from);
    match a {
        Atom::Val(s) => {
            if let Some(t) = one(s) {
                return Ok(Ranges::one(t));
            }
            let (x, y) = s.split_once('-').ok_or_else(bad)?;
            Ok(Ranges::range(
                one(x).ok_or_else(bad)?,
                one(y).ok_or_else(bad)?,
            ))
        }
        Atom::Range(x, y) => Ok(Ranges::range(
            one(x).ok_or_else(bad)?,
            one(y).ok_or_else(bad)?,
        )),
        _ => Err(bad()),
    }
}

/// Numbers for `<`, `>`, `<=`, `>=`: the range they leave.
fn compare<T: crate::space::Bound>(op: Op, v: T) -> Ranges<T> {
    let full = Ranges::<T>::full();
    match op {
        Op::Lt => {
            if v == T::MIN {
                Ranges::empty()
            } else {
                Ranges::range(T::MIN, v.pred())
            }
        }
        Op::Le => Ranges::range(T::MIN, v),
        Op::Gt => {
            if v == T::MAX {
                Ranges::empty()
            } else {
                Ranges::range(v.succ(), T::MAX)
            }
        }
        Op::Ge => Ranges::range(v, T::MAX),
        _ => full,
    }
}

/// What `key OP atoms` narrows (atoms: the values, their union).
fn key_cond(key: &Key, op: Op, atoms: &[&Atom]) -> C {
    let eqne = matches!(op, Op::Eq | Op::Ne | Op::In);
    let neg = op == Op::Ne;
    let unsupported = || {
        C::Unknown(format!(
            "`{} {}` compares in a way this reader does not read",
            key.text(),
            match op {
                Op::Lt => "<",
                Op::Gt => ">",
                Op::Le => "<=",
                Op::Ge => ">=",
                Op::In => "in",
                Op::Eq => "==",
                Op::Ne => "!=",
            }
        ))
    };
    macro_rules! union {
        ($f:expr, $empty:expr) => {{
            let mut acc = $empty;
            for a in atoms {
                match $f(a) {
                    Ok(x) => acc = acc.union(&x),
                    Err(e) => return C::Unknown(e),
                }
            }
            acc
        }};
    }
    match key {
        Key::Saddr(f) | Key::Daddr(f) => {
            if !eqne {
                return unsupported();
            }
            let a = union!(|x: &Atom| atom_addrs(x, *f), Addrs::none());
            let a = if neg {
                if !a.names.is_empty() {
                    return C::Unknown(format!(
                        "`{} != NAME`: the name's addresses are not in the ruleset",
                        key.text()
                    ));
                }
                fam_all(*f).subtract(&a)
            } else {
                a
            };
            let side = Some(AddrMatch::of(a));
            let part = if matches!(key, Key::Saddr(_)) {
                Part {
                    src: side,
                    ..Part::default()
                }
            } else {
                Part {
                    dst: side,
                    ..Part::default()
                }
            };
            C::Parts(vec![part])
        }
        Key::Proto(f) => {
            let p = if eqne {
                let p = union!(atom_protos, Ranges::empty());
                if neg {
                    p.complement()
                } else {
                    p
                }
            } else {
                match atoms {
                    [a] => match atom_protos(a) {
                        Ok(r) => match r.spans() {
                            [(a, b)] if a == b => compare(op, *a),
                            _ => return unsupported(),
                        },
                        _ => return unsupported(),
                    },
                    _ => return unsupported(),
                }
            };
            C::Parts(vec![Part {
                proto: Some(p),
                src: f.map(|f| AddrMatch::of(fam_all(f))),
                ..Part::default()
            }])
        }
        Key::Dport(l4) | Key::Sport(l4) => {
            let p = if eqne {
                let p = union!(atom_ports, Ranges::empty());
                if neg {
                    p.complement()
                } else {
                    p
                }
            } else {
                match atoms {
                    [a] => match atom_ports(a) {
                        Ok(r) => match r.spans() {
                            [(a, b)] if a == b => compare(op, *a),
                            _ => return unsupported(),
                        },
                        _ => return unsupported(),
                    },
                    _ => return unsupported(),
                }
            };
            let mut part = Part {
                proto: Some(l4.protos()),
                ..Part::default()
            };
            if matches!(key, Key::Dport(_)) {
                part.dport = Some(p);
            } else {
                part.sport = Some(p);
            }
            C::Parts(vec![part])
        }
        Key::IcmpType(v6) => {
            if !eqne {
                return unsupported();
            }
            let t = union!(|x: &Atom| atom_icmp(x, *v6), Ranges::empty());
            let t = if neg {
                Ranges::range(0, 255).subtract(&t)
            } else {
                t
            };
            // `icmp type` implies IPv4, `icmpv6 type` IPv6 (nft adds a
            // `meta nfproto` check in inet tables).
            let fam = if *v6 { Fam::V6 } else { Fam::V4 };
            C::Parts(vec![Part {
                proto: Some(Ranges::one(if *v6 { space::ICMPV6 } else { space::ICMP })),
                src: Some(AddrMatch::of(fam_all(fam))),
                dport: Some(t),
                ..Part::default()
            }])
        }
        Key::CtState => {
            if !eqne {
                return unsupported();
            }
            let mut names = Vec::new();
            for a in atoms {
                let t = a.text();
                for s in t.split(',') {
                    let s = s.trim();
                    if !matches!(
                        s,
                        "new" | "established" | "related" | "invalid" | "untracked"
                    ) {
                        return C::Unknown(format!("`{s}` is not a connection state"));
                    }
                    names.push(s.to_string());
                }
            }
            // A connection's first packet is `new`; the rest, both ways,
            // `established` (`related`: ICMP errors, expected connections).
            let new = names.iter().any(|n| n == "new") != neg;
            let later = names.iter().any(|n| n == "established" || n == "related") != neg;
            if new && later {
                C::Parts(vec![Part::default()])
            } else {
                C::States { new, later }
            }
        }
        Key::Iface(out) => {
            if !eqne {
                return unsupported();
            }
            let mut syms = Vec::new();
            for a in atoms {
                match a {
                    Atom::Val(s) => syms.push(format!("interface:{s}")),
                    _ => return C::Unknown(format!("`{}` is not an interface", a.text())),
                }
            }
            let side = AddrMatch {
                symbols: syms,
                negated: neg,
                ..AddrMatch::of(Addrs::none())
            };
            // Arriving on an interface: from what lies behind it; leaving
            // by one: to what lies behind it.
            C::Parts(vec![if *out {
                Part {
                    dst: Some(side),
                    ..Part::default()
                }
            } else {
                Part {
                    src: Some(side),
                    ..Part::default()
                }
            }])
        }
        Key::Nfproto => {
            if !eqne {
                return unsupported();
            }
            let mut a = Addrs::none();
            for x in atoms {
                match x.text().as_str() {
                    "ipv4" => a = a.union(&Addrs::all_v4()),
                    "ipv6" => a = a.union(&Addrs::all_v6()),
                    t => return C::Unknown(format!("`meta nfproto {t}`")),
                }
            }
            let a = if neg {
                Addrs {
                    v4: a.v4.complement(),
                    v6: a.v6.complement(),
                    names: space::Names::none(),
                }
            } else {
                a
            };
            C::Parts(vec![Part {
                src: Some(AddrMatch::of(a)),
                ..Part::default()
            }])
        }
        Key::TcpFlags(mask) => {
            // A new connection's first packet is a bare SYN.
            const SYN: u8 = 0x02;
            let mut vals = Vec::new();
            for a in atoms {
                match tcp_flag_bits(&a.text()) {
                    Some(v) => vals.push(v),
                    None => return C::Unknown(format!("`{}` is not a TCP flag", a.text())),
                }
            }
            let m = match mask {
                Some(ms) => {
                    let mut m = 0u8;
                    for x in ms {
                        match tcp_flag_bits(x) {
                            Some(v) => m |= v,
                            None => return C::Unknown(format!("`{x}` is not a TCP flag")),
                        }
                    }
                    Some(m)
                }
                None => None,
            };
            let hit = match (op, m) {
                (Op::Eq | Op::Ne, Some(m)) => Some(vals.contains(&(SYN & m))),
                (Op::Eq | Op::Ne, None) => Some(vals.contains(&SYN)),
                (Op::In, None) => {
                    // Any of the flags set: certain only where SYN alone
                    // decides it.
                    let all = vals.iter().fold(0u8, |a, v| a | v);
                    if all & SYN == 0 {
                        Some(false)
                    } else if all == SYN {
                        Some(true)
                    } else {
                        None
                    }
                }
                _ => None,
            };
            match hit {
                None => unsupported(),
                Some(h) if h != neg => C::Parts(vec![Part {
                    proto: Some(Ranges::one(space::TCP)),
                    ..Part::default()
                }]),
                Some(_) => C::Never(
                    "matches only TCP packets whose flags are not a new connection's SYN".into(),
                ),
            }
        }
        Key::Other(what) => C::Unknown(format!(
            "`{what}` matches something this audit does not model: the rule may or may not match"
        )),
    }
}

/// The sets and maps of a table, by name.
struct Ctx<'a> {
    sets: HashMap<&'a str, &'a SetDecl>,
    chains: HashMap<&'a str, usize>,
    /// Some rule of the ruleset rewrites destinations (dnat, redirect).
    dnat: bool,
}

/// `keys OP rhs`.
fn cond(ctx: &Ctx, set: &mut Ruleset, line: usize, keys: &[Key], op: Op, rhs: &Rhs) -> C {
    let elems: Vec<Elem> = match rhs {
        Rhs::Elems(e) => e.clone(),
        Rhs::Named(n) => match ctx.sets.get(n.as_str()) {
            Some(s) if s.map => {
                return C::Unknown(format!("`@{n}` is a map, matched as a set"));
            }
            Some(s) => {
                if s.elems.is_empty() {
                    empty_set_note(set, line, s);
                }
                s.elems.iter().map(|(e, _)| e.clone()).collect()
            }
            None => return C::Unknown(format!("set `@{n}` is not declared in this table")),
        },
    };
    if keys.len() == 1 {
        let mut atoms = Vec::new();
        for e in &elems {
            match e.as_slice() {
                [a] => atoms.push(a),
                _ => {
                    return C::Unknown(format!(
                        "`{}` is matched against a concatenation",
                        keys[0].text()
                    ))
                }
            }
        }
        if keys[0] == Key::Other("ct status".into()) {
            return ct_status(ctx, set, line, op, &atoms);
        }
        // An empty set holds nothing: `==` matches nothing, `!=` every
        // packet the selector applies to.
        return key_cond(&keys[0], op, &atoms);
    }
    // A concatenation: each element is one box, the union of them.
    if op != Op::Eq {
        return C::Unknown("a negated or compared concatenation".into());
    }
    let mut parts = Vec::new();
    for e in &elems {
        if e.len() != keys.len() {
            return C::Unknown(format!(
                "element `{}` does not have {} parts",
                e.iter().map(Atom::text).collect::<Vec<_>>().join(" . "),
                keys.len()
            ));
        }
        let mut part = Part::default();
        let mut never = false;
        for (k, a) in keys.iter().zip(e) {
            match key_cond(k, Op::Eq, &[a]) {
                C::Parts(ps) => match ps.as_slice() {
                    [p] => part = part.and(p.clone()),
                    _ => never = true,
                },
                C::Never(_) => never = true,
                // A state in a concatenation (`ct state . tcp dport`):
                // read for the first packet, as before.
                C::States { new, .. } => never |= !new,
                C::Unknown(m) => return C::Unknown(m),
            }
        }
        if !never {
            parts.push(part);
        }
    }
    C::Parts(parts)
}

/// `ct status dnat`: a new connection has that status only if something
/// rewrote its destination. Where no rule of the ruleset does, it never
/// matches (firewalld writes `ct status dnat accept` on every host).
fn ct_status(ctx: &Ctx, set: &mut Ruleset, line: usize, op: Op, atoms: &[&Atom]) -> C {
    let only_dnat = !atoms.is_empty() && atoms.iter().all(|a| a.text() == "dnat");
    if !only_dnat || ctx.dnat || !matches!(op, Op::Eq | Op::Ne | Op::In) {
        return C::Unknown(
            "`ct status` matches something this audit does not model: the rule may or may not match"
                .into(),
        );
    }
    let text = "ct status dnat";
    if !set.notes.iter().any(|n| n.text == text) {
        set.note(
            line,
            text,
            "no rule of this ruleset rewrites destinations (dnat, redirect): `ct status dnat` is \
             read as never true for a new connection (assumed: nothing outside this ruleset, \
             such as iptables-legacy, does destination NAT)",
        );
    }
    if op == Op::Ne {
        C::Parts(vec![Part::default()])
    } else {
        C::Never("matches only connections whose destination was rewritten (dnat), which no rule here does".into())
    }
}

fn empty_set_note(set: &mut Ruleset, line: usize, s: &SetDecl) {
    let text = format!("set {}", s.name);
    if set.notes.iter().any(|n| n.text == text) {
        return;
    }
    let what = s
        .comment
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    set.note(
        if s.line > 0 { s.line } else { line },
        &text,
        format!(
            "set `{}`{what} lists no elements: read as empty, so rules using it match nothing \
             until it is filled (a listing made with `nft -t` leaves elements out: list without -t)",
            s.name
        ),
    );
}

/// The alternatives of a rule narrowed by a condition.
fn narrow(alts: &[Match], parts: &[Part]) -> Option<Vec<Match>> {
    if alts.len().saturating_mul(parts.len()) > 16384 {
        return None;
    }
    let mut out = Vec::with_capacity(alts.len() * parts.len());
    for a in alts {
        for p in parts {
            out.push(p.apply(a));
        }
    }
    Some(out)
}

/// One element of a verdict map: what it matches, its conditions, its verdict.
type Branch = (Vec<Match>, Vec<Cond>, Verdict);

/// The rules of one rule statement list (a verdict map makes one per element).
fn rules_of(ctx: &Ctx, set: &mut Ruleset, table: &Table, rd: &RuleDecl) -> Vec<Rule> {
    let line = rd.line;
    let mut alts = vec![Match::every()];
    let mut when: Vec<Cond> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut label = None;
    let mut verdict: Option<Verdict> = None;
    let mut fixed: Option<Action> = None;
    let mut branches: Option<Vec<Branch>> = None;
    let mut opaque = false;
    for st in &rd.stmts {
        if verdict.is_some() || fixed.is_some() || branches.is_some() {
            // A terminal statement ends the rule; only a comment follows.
            if let Stmt::Comment(c) = st {
                label = Some(c.clone());
            }
            continue;
        }
        match st {
            Stmt::Match { keys, op, rhs } => match cond(ctx, set, line, keys, *op, rhs) {
                C::Parts(ps) => match narrow(&alts, &ps) {
                    Some(a) => alts = a,
                    None => unknown.push("too many combinations of sets to follow".into()),
                },
                C::Never(why) => when.push(Cond::Never(why)),
                C::States { new, later } => when.push(Cond::States { new, later }),
                C::Unknown(m) => unknown.push(m),
            },
            Stmt::Vmap { keys, map } => {
                let elems: Vec<(Elem, Verdict)> = match map {
                    VmapData::Inline(v) => v.clone(),
                    VmapData::Named(n) => match ctx.sets.get(n.as_str()) {
                        Some(s) if s.map => {
                            let mut v = Vec::new();
                            for (e, d) in &s.elems {
                                match d {
                                    Some(Data::Verdict(x)) => v.push((e.clone(), x.clone())),
                                    _ => {
                                        fixed = Some(unknown_action(
                                            set,
                                            line,
                                            &rd.text,
                                            format!("map `@{n}` does not map to verdicts"),
                                        ));
                                        break;
                                    }
                                }
                            }
                            if s.elems.is_empty() {
                                empty_set_note(set, line, s);
                            }
                            v
                        }
                        _ => {
                            fixed = Some(unknown_action(
                                set,
                                line,
                                &rd.text,
                                format!("verdict map `@{n}` is not declared in this table"),
                            ));
                            Vec::new()
                        }
                    },
                };
                if fixed.is_some() {
                    continue;
                }
                let mut b = Vec::new();
                for (e, v) in elems {
                    let mut w = when.clone();
                    let a = match cond(ctx, set, line, keys, Op::Eq, &Rhs::Elems(vec![e])) {
                        C::Parts(ps) => match narrow(&alts, &ps) {
                            Some(a) => a,
                            None => {
                                unknown.push("too many combinations of sets to follow".into());
                                alts.clone()
                            }
                        },
                        C::Never(why) => {
                            w.push(Cond::Never(why));
                            alts.clone()
                        }
                        C::States { new, later } => {
                            w.push(Cond::States { new, later });
                            alts.clone()
                        }
                        C::Unknown(m) => {
                            unknown.push(m);
                            alts.clone()
                        }
                    };
                    b.push((a, w, v));
                }
                branches = Some(b);
            }
            Stmt::Verdict(v) => verdict = Some(v.clone()),
            Stmt::Nat { dest: true, what } => {
                fixed = Some(unknown_action(
                    set,
                    line,
                    &rd.text,
                    format!(
                        "`{what}` rewrites the destination: later chains see the new address \
                         and port, which this audit does not follow"
                    ),
                ));
            }
            Stmt::Nat { dest: false, .. } => {
                // Source NAT ends the NAT chain with accept; it does not
                // change how the first packet is filtered.
                verdict = Some(Verdict::Accept);
            }
            Stmt::Limited(m) => unknown.push(m.clone()),
            Stmt::UnknownVerdict(m) => {
                fixed = Some(unknown_action(set, line, &rd.text, m.clone()));
            }
            Stmt::Unknown(m) => unknown.push(m.clone()),
            Stmt::NotUnderstood(m) => {
                unknown.push(m.clone());
                opaque = true;
            }
            Stmt::Comment(c) => label = Some(c.clone()),
            Stmt::Harmless => {}
        }
    }
    if opaque && verdict.is_none() && fixed.is_none() && branches.is_none() {
        let mut u = unknown.clone();
        u.dedup();
        fixed = Some(unknown_action(
            set,
            line,
            &rd.text,
            format!(
                "{}: the rule has no verdict this reader knows, and what it does not understand may decide the packet",
                u.join("; ")
            ),
        ));
        unknown.clear();
    }
    let both = matches!(table.family.as_str(), "inet" | "netdev" | "bridge");
    let mut out = Vec::new();
    let mut issued: Option<usize> = None;
    let mut push = |set: &mut Ruleset, matches: Vec<Match>, mut when: Vec<Cond>, action: Action| {
        let mut r = Rule::new(line, &rd.text, action);
        r.label = label.clone();
        r.matches = if both {
            matches.into_iter().flat_map(one_family).collect()
        } else {
            matches
        };
        if !unknown.is_empty() && !matches!(r.action, Action::Next) {
            // One issue per rule, however many verdict map elements it has.
            let k = *issued.get_or_insert_with(|| {
                let mut u = unknown.clone();
                u.dedup();
                set.issue(line, &rd.text, u.join("; "))
            });
            when.push(Cond::Unknown(k));
        }
        r.when = when;
        out.push(r);
    };
    if let Some(b) = branches {
        for (a, w, v) in b {
            let act = action_of(ctx, set, table, line, &rd.text, &v);
            push(set, a, w, act);
        }
        return out;
    }
    let act = match (fixed, verdict) {
        (Some(a), _) => a,
        (None, Some(v)) => action_of(ctx, set, table, line, &rd.text, &v),
        (None, None) => Action::Next,
    };
    push(set, alts, when, act);
    out
}

/// The family a side surely belongs to (all its terms must hold, so one
/// plain single-family term decides).
fn side_family(a: &AddrMatch) -> Option<Fam> {
    let plain = !a.negated && a.symbols.is_empty();
    if plain && a.addrs.names.is_empty() {
        if a.addrs.v6.is_empty() && !a.addrs.v4.is_empty() {
            return Some(Fam::V4);
        }
        if a.addrs.v4.is_empty() && !a.addrs.v6.is_empty() {
            return Some(Fam::V6);
        }
    }
    a.also.iter().find_map(side_family)
}

/// Every address of a family and every name (a name may be of either).
fn fam_and_names(f: Fam) -> AddrMatch {
    let mut a = fam_all(f);
    a.names = space::Names::every();
    AddrMatch::of(a)
}

/// A packet is IPv4 or IPv6: an alternative of an inet rule is split so
/// that its source and destination are of one family (no box mixes an
/// IPv4 source with an IPv6 destination).
fn one_family(m: Match) -> Vec<Match> {
    match (side_family(&m.src), side_family(&m.dst)) {
        (Some(f), _) => {
            let mut m = m;
            m.dst = m.dst.and(fam_and_names(f));
            vec![m]
        }
        (None, Some(f)) => {
            let mut m = m;
            m.src = m.src.and(fam_and_names(f));
            vec![m]
        }
        (None, None) => [Fam::V4, Fam::V6]
            .into_iter()
            .map(|f| {
                let mut x = m.clone();
                x.src = x.src.and(fam_and_names(f));
                x.dst = x.dst.and(fam_and_names(f));
                x
            })
            .collect(),
    }
}

fn unknown_action(set: &mut Ruleset, line: usize, text: &str, m: String) -> Action {
    Action::Unknown(set.issue(line, text, m))
}

fn action_of(
    ctx: &Ctx,
    set: &mut Ruleset,
    table: &Table,
    line: usize,
    text: &str,
    v: &Verdict,
) -> Action {
    match v {
        Verdict::Accept => Action::Accept,
        Verdict::Drop | Verdict::Reject => Action::Block,
        Verdict::Return => Action::Return,
        Verdict::Continue => Action::Next,
        Verdict::Queue => unknown_action(
            set,
            line,
            text,
            "`queue` hands the packet to a userspace program, which decides".into(),
        ),
        Verdict::Jump(c) | Verdict::Goto(c) => match ctx.chains.get(c.as_str()) {
            Some(&i) if matches!(v, Verdict::Jump(_)) => Action::Jump(i),
            Some(&i) => Action::Goto(i),
            None => unknown_action(
                set,
                line,
                text,
                format!(
                    "chain `{c}` is not a chain of table {} {}",
                    table.family, table.name
                ),
            ),
        },
    }
}

/// Hooks in the order a packet meets them, and the directions each judges.
fn hook_place(hook: &str) -> Option<(u8, &'static [Direction])> {
    Some(match hook {
        "ingress" => (0, &[Direction::In, Direction::Through]),
        "prerouting" => (1, &[Direction::In, Direction::Through]),
        "input" => (2, &[Direction::In]),
        "forward" => (3, &[Direction::Through]),
        "output" => (4, &[Direction::Out]),
        "postrouting" => (5, &[Direction::Out, Direction::Through]),
        "egress" => (6, &[Direction::Out, Direction::Through]),
        _ => return None,
    })
}

/// Marks every rule of a chain, and of the chains it jumps to, as seeing
/// only a connection's first packet.
fn first_packet_only(set: &mut Ruleset, chain: usize) {
    for c in set.reachable(chain) {
        for r in &mut set.chains[c].rules {
            r.when.push(Cond::States {
                new: true,
                later: false,
            });
        }
    }
}

/// The model of a document.
pub(crate) fn build(doc: &Doc, format: &str, file: &str) -> Ruleset {
    let mut set = Ruleset::new(format, file);
    // One host's (or router's) hooks: they see replies and judge them by
    // connection state.
    set.tracks_connections = true;
    for (l, t, m) in &doc.issues {
        set.issue(*l, t, m.clone());
    }
    for (l, t, m) in &doc.notes {
        set.note(*l, t, m.clone());
    }
    // Chains first (jumps may point forward), by table. Tables that are
    // not judged get no chains: their rules are not read.
    let mut ids: Vec<Vec<usize>> = Vec::new();
    let mut judged: Vec<bool> = Vec::new();
    for t in &doc.tables {
        let ok = matches!(t.family.as_str(), "ip" | "ip6" | "inet" | "netdev") && !t.dormant;
        if !ok {
            let why = if t.dormant {
                "is dormant (`flags dormant`): its chains judge nothing".to_string()
            } else {
                format!(
                    "filters {} frames, which this audit does not judge",
                    if t.family == "arp" { "ARP" } else { "bridged" }
                )
            };
            set.note(
                t.line,
                &format!("table {} {}", t.family, t.name),
                format!("table {} {} {why}", t.family, t.name),
            );
        }
        judged.push(ok);
        let mut v = Vec::new();
        for c in t.chains.iter().filter(|_| ok) {
            let end = match &c.base {
                Some(b) => match &b.policy {
                    Some((accept, line, text)) => End::Policy {
                        accept: *accept,
                        line: *line,
                        text: text.clone(),
                    },
                    None => End::Policy {
                        accept: true,
                        line: b.line,
                        text: format!("{} (no policy: accept)", b.text),
                    },
                },
                None => End::Return,
            };
            v.push(set.chain(format!("{} {} {}", t.family, t.name, c.name), c.line, end));
        }
        ids.push(v);
    }
    // Rules.
    let dnat = doc
        .tables
        .iter()
        .zip(&judged)
        .filter(|(_, j)| **j)
        .flat_map(|(t, _)| t.chains.iter())
        .flat_map(|c| c.rules.iter())
        .flat_map(|r| r.stmts.iter())
        .any(|s| matches!(s, Stmt::Nat { dest: true, .. }));
    for (ti, t) in doc.tables.iter().enumerate() {
        if !judged[ti] {
            continue;
        }
        let ctx = Ctx {
            dnat,
            sets: t.sets.iter().map(|s| (s.name.as_str(), s)).collect(),
            chains: t
                .chains
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.as_str(), ids[ti][i]))
                .collect(),
        };
        for (ci, c) in t.chains.iter().enumerate() {
            for rd in &c.rules {
                let rules = rules_of(&ctx, &mut set, t, rd);
                set.chains[ids[ti][ci]].rules.extend(rules);
            }
        }
    }
    // Filters: one per base chain and direction, in the order a packet
    // meets them (hook, then priority, then as listed).
    let mut filters: Vec<((u8, i64, usize), Filter)> = Vec::new();
    let mut n = 0usize;
    for (ti, t) in doc.tables.iter().enumerate() {
        if !judged[ti] {
            continue;
        }
        let fams = match t.family.as_str() {
            "ip" => Families::V4,
            "ip6" => Families::V6,
            _ => Families::BOTH,
        };
        for (ci, c) in t.chains.iter().enumerate() {
            let Some(b) = &c.base else { continue };
            let entry = ids[ti][ci];
            let name = format!("{} {} {}", t.family, t.name, c.name);
            let Some((order, dirs)) = hook_place(&b.hook) else {
                set.issue(
                    b.line,
                    &b.text,
                    format!(
                        "hook `{}` of chain {name} is not one this reader knows",
                        b.hook
                    ),
                );
                continue;
            };
            let device_bound = matches!(b.hook.as_str(), "ingress" | "egress");
            if device_bound {
                // Drops traffic? Then it is judged, bound to its devices.
                let drops = !matches!(b.policy, None | Some((true, _, _)))
                    || ids[ti]
                        .iter()
                        .filter_map(|&i| set.chains.get(i))
                        .flat_map(|ch| ch.rules.iter())
                        .any(|r| matches!(r.action, Action::Block | Action::Unknown(_)));
                let devs = if b.devices.is_empty() {
                    "its device (not given)".to_string()
                } else {
                    b.devices.join(", ")
                };
                if !drops {
                    set.note(
                        b.line,
                        &b.text,
                        format!(
                            "{} chain {name} on {devs} accepts what it sees: it changes no verdict",
                            b.hook
                        ),
                    );
                    continue;
                }
                set.issue(
                    b.line,
                    &b.text,
                    format!(
                        "{} chain {name} on {devs} drops traffic before the IP hooks: \
                         it is judged for what {} {devs}{}",
                        b.hook,
                        if b.hook == "ingress" {
                            "arrives on"
                        } else {
                            "leaves by"
                        },
                        if b.devices.is_empty() {
                            " (here: all traffic)"
                        } else {
                            ": give the addresses behind it with --member interface:NAME=..."
                        }
                    ),
                );
            }
            let prio = match b.prio {
                Some(p) => p,
                None => {
                    set.note(
                        b.line,
                        &b.text,
                        format!("the priority of chain {name} is not read: taken as 0"),
                    );
                    0
                }
            };
            if b.kind == "nat" {
                // Netfilter passes only a connection's first packet through
                // nat chains: their rules never see the later ones.
                first_packet_only(&mut set, entry);
            }
            // A chain bound to devices judges only what arrives on (leaves
            // by) them: it is entered from a chain that matches the
            // devices, so that where their members are not known, verdicts
            // stay known wherever the chain would accept anyway.
            let entry = if device_bound && !b.devices.is_empty() {
                let side = AddrMatch {
                    symbols: b.devices.iter().map(|x| format!("interface:{x}")).collect(),
                    ..AddrMatch::of(Addrs::none())
                };
                let w = set.chain(
                    format!("{name} (device {})", b.devices.join(", ")),
                    b.line,
                    End::Policy {
                        accept: true,
                        // Not written in the file: the wrapper's own.
                        line: 0,
                        text: format!("{} (other devices: not judged)", b.text),
                    },
                );
                let mut r = Rule::new(b.line, &b.text, Action::Jump(entry));
                if b.hook == "ingress" {
                    r.matches[0].src = side;
                } else {
                    r.matches[0].dst = side;
                }
                set.chains[w].rules.push(r);
                w
            } else {
                entry
            };
            for d in dirs {
                let f = Filter::new(name.clone(), *d, fams, entry);
                filters.push(((order, prio, n), f));
                n += 1;
            }
        }
    }
    filters.sort_by_key(|(k, _)| *k);
    set.filters = filters.into_iter().map(|(_, f)| f).collect();
    set
}

//! The port/protocol grammar of one item of text: `TCP/389, 3268, UDP/389`,
//! `443 (TCP)`, `TCP or UDP port 53`, `25/465/587 TCP`, `Port 5000`,
//! `host:443`, `(default port is TCP/8443)`. Only numbers a port cue stands
//! next to are taken: `Release 2.1`, `OS 12` and `Gigabit Ethernet 0` are not.

use crate::knowledge::protocol_word;
use portplan_model::Protocol;

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    /// Digits only; a number with a decimal point is a `Word`.
    Num(&'a str),
    P(char),
}

fn lex(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            // 2.1, 10.0.0.1, 1.1.1.1: versions and addresses, not ports.
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push(Tok::Word(&s[st..i]));
            } else if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(Tok::Word(&s[st..i]));
            } else {
                out.push(Tok::Num(&s[st..i]));
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || b[i] == b'_'
                    || b[i] == b'+'
                    || ((b[i] == b'.' || b[i] == b'-')
                        && i + 1 < b.len()
                        && b[i + 1].is_ascii_alphanumeric()))
            {
                i += 1;
            }
            out.push(Tok::Word(&s[st..i]));
        } else if c.is_ascii_whitespace() || c == b'`' {
            // Backticks mark code in Markdown (`` `8500` ``): they say how
            // a value is printed, not what it is.
            i += 1;
        } else {
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(Tok::P(ch));
            i += ch.len_utf8();
        }
    }
    out
}

/// One number as printed, maybe out of range or glued to a footnote.
#[derive(Debug, Clone, PartialEq)]
pub struct Num {
    pub low: u64,
    pub high: u64,
    /// The digits as printed (`3891`, `8000-8999`).
    pub text: String,
}

impl Num {
    pub fn valid(&self) -> bool {
        (1..=65535).contains(&self.low) && (1..=65535).contains(&self.high) && self.low <= self.high
    }
}

/// What the grammar found in an item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mention {
    /// Protocols printed with the ports; empty when the text gives none.
    pub protocols: Vec<Protocol>,
    /// Protocol words that were typos (`UPD`), as printed.
    pub typos: Vec<String>,
    pub ports: Vec<Num>,
    /// Written as alternatives (`25/465/587`, `80 or 8080`).
    pub alternatives: bool,
    /// Introduced by "default": the default of the item's other ports.
    pub is_default: bool,
    /// `host:port`.
    pub host: Option<String>,
    /// A listener written as bind address and port (`localhost:9879`,
    /// `*:4244`, `0.0.0.0:80`, `[::]:443`): where the socket listens.
    pub bind: Option<Bind>,
}

/// The address a listener is bound to, as a socket listing prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    /// `localhost`, `127.x.x.x`, `[::1]`: reached only from the host itself.
    Loopback,
    /// `*`, `0.0.0.0`, `[::]`, `::`: every address of the host.
    Any,
}

/// A bind address at `i` followed by `:` and a port: the bind and the
/// index of the port token. Socket listings (`ss -ltn`, `netstat`) and
/// config files write listeners this way.
fn bind_at(t: &[Tok], i: usize) -> Option<(Bind, usize)> {
    let colon_num = |k: usize| {
        matches!(t.get(k), Some(Tok::P(':'))) && matches!(t.get(k + 1), Some(Tok::Num(_)))
    };
    match t.get(i)? {
        Tok::Word(w) if colon_num(i + 1) => {
            let w = w.to_ascii_lowercase();
            if w == "localhost" || (w.starts_with("127.") && w.split('.').count() == 4) {
                Some((Bind::Loopback, i + 2))
            } else if w == "0.0.0.0" {
                Some((Bind::Any, i + 2))
            } else {
                None
            }
        }
        Tok::P('*') if colon_num(i + 1) => Some((Bind::Any, i + 2)),
        Tok::P('[') => {
            // `[::]:443` or `[::1]:443`
            let mut k = i + 1;
            while matches!(t.get(k), Some(Tok::P(':'))) {
                k += 1;
            }
            if k - i - 1 != 2 {
                return None;
            }
            let bind = match t.get(k) {
                Some(Tok::Num("1")) => {
                    k += 1;
                    Bind::Loopback
                }
                _ => Bind::Any,
            };
            (matches!(t.get(k), Some(Tok::P(']'))) && colon_num(k + 1)).then_some((bind, k + 2))
        }
        _ => None,
    }
}

/// Everything the grammar sees in one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub mentions: Vec<Mention>,
    /// Protocols named without any port (`TCP, outbound`, `(UDP)`, `ICMP`).
    pub bare_protocols: Vec<Protocol>,
    pub bare_typos: Vec<String>,
    /// The item names a port without a number (`Custom`, `ephemeral ports`,
    /// `BMC_AR_Port`, `high port`): the words that name it.
    pub unnumbered: Option<String>,
    /// Digits next to a port word that did not parse as ports.
    pub stray_port_words: bool,
}

fn is_word(t: Option<&Tok>, words: &[&str]) -> bool {
    matches!(t, Some(Tok::Word(w)) if words.iter().any(|x| w.eq_ignore_ascii_case(x)))
}

/// Protocols at `i`: `TCP`, `TCP/UDP`, `TCP or UDP`, `ICMP and UDP`.
fn protocols(t: &[Tok], i: usize) -> Option<(Vec<Protocol>, Vec<String>, usize)> {
    let Some(Tok::Word(w)) = t.get(i) else {
        return None;
    };
    let (p, typo) = protocol_word(w)?;
    let mut ps = vec![p];
    let mut typos = if typo { vec![w.to_string()] } else { vec![] };
    let mut j = i + 1;
    loop {
        let sep =
            matches!(t.get(j), Some(Tok::P('/' | '&' | ','))) || is_word(t.get(j), &["or", "and"]);
        if !sep {
            break;
        }
        match t.get(j + 1) {
            Some(Tok::Word(w2)) => match protocol_word(w2) {
                Some((p2, typo2)) => {
                    if !ps.contains(&p2) {
                        ps.push(p2);
                    }
                    if typo2 {
                        typos.push(w2.to_string());
                    }
                    j += 2;
                }
                None => break,
            },
            _ => break,
        }
    }
    Some((ps, typos, j))
}

fn num_at(t: &[Tok], i: usize) -> Option<(Num, usize)> {
    let Some(Tok::Num(a)) = t.get(i) else {
        return None;
    };
    let lo = parse_u64(a);
    if matches!(t.get(i + 1), Some(Tok::P('-' | '–'))) {
        if let Some(Tok::Num(b)) = t.get(i + 2) {
            return Some((
                Num {
                    low: lo,
                    high: parse_u64(b),
                    text: format!("{a}-{b}"),
                },
                i + 3,
            ));
        }
    }
    Some((
        Num {
            low: lo,
            high: lo,
            text: (*a).to_string(),
        },
        i + 1,
    ))
}

fn parse_u64(s: &str) -> u64 {
    // Anything longer than 9 digits is out of range anyway; cap to stay in u64.
    s.get(..s.len().min(9))
        .and_then(|d| d.parse().ok())
        .unwrap_or(u64::MAX)
}

/// `389, 3268`, `25/465/587`, `1645 and 1812`: (ports, alternatives, next).
fn numlist(t: &[Tok], i: usize) -> Option<(Vec<Num>, bool, usize)> {
    let (first, mut j) = num_at(t, i)?;
    let mut out = vec![first];
    let mut alt = false;
    loop {
        let (sep_len, is_alt) = match (t.get(j), t.get(j + 1)) {
            (Some(Tok::P('/')), _) => (1, true),
            (Some(Tok::Word(w)), _) if w.eq_ignore_ascii_case("or") => (1, true),
            (Some(Tok::P(',')), Some(Tok::Word(w)))
                if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") =>
            {
                (2, w.eq_ignore_ascii_case("or"))
            }
            (Some(Tok::P(',' | '&')), _) => (1, false),
            (Some(Tok::Word(w)), _) if w.eq_ignore_ascii_case("and") => (1, false),
            _ => break,
        };
        match num_at(t, j + sep_len) {
            Some((n, k)) => {
                alt |= is_alt;
                out.push(n);
                j = k;
            }
            None => break,
        }
    }
    Some((out, alt, j))
}

fn port_word(t: Option<&Tok>) -> bool {
    is_word(t, &["port", "ports"])
}

/// Whether a text says `port`/`ports` in a word of its own, or names a
/// setting for a port (`http_port`).
pub fn says_port(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| {
            let l = w.to_ascii_lowercase();
            l == "port" || l == "ports" || (l.len() > 4 && l.ends_with("port"))
        })
}

/// Whether the word(s) just before `i` say "default".
fn after_default(t: &[Tok], i: usize) -> bool {
    (i.saturating_sub(4)..i).any(|k| is_word(t.get(k), &["default"]))
}

/// Reads every port mention of `text`.
pub fn parse(text: &str) -> Parsed {
    let t = lex(text);
    let mut out = Parsed::default();
    let mut used = vec![false; t.len()];
    let mut i = 0;
    while i < t.len() {
        // PROTO ...
        if let Some((ps, typos, j)) = protocols(&t, i) {
            let mut k = j;
            let mut list = None;
            if matches!(t.get(k), Some(Tok::P('/'))) {
                list = numlist(&t, k + 1);
            } else {
                if is_word(t.get(k), &["on", "over", "via", "using"]) {
                    k += 1;
                }
                if port_word(t.get(k)) {
                    k += 1;
                    if is_word(t.get(k), &["number", "numbers"]) {
                        k += 1;
                    }
                }
                list = list.or_else(|| numlist(&t, k));
            }
            match list {
                Some((ports, alt, end)) => {
                    let is_default = after_default(&t, i);
                    push_ports(&mut out, ps, typos, ports, alt, is_default);
                    used[i..end].iter_mut().for_each(|u| *u = true);
                    i = end;
                }
                None if !typos.is_empty() => {
                    // A near miss of TCP/UDP with no port beside it is a word
                    // (`RDP`), not a typo.
                    i += 1;
                }
                None => {
                    for p in ps {
                        if !out.bare_protocols.contains(&p) {
                            out.bare_protocols.push(p);
                        }
                    }
                    out.bare_typos.extend(typos);
                    used[i..j].iter_mut().for_each(|u| *u = true);
                    i = j;
                }
            }
            continue;
        }
        // port(s) N ...   /   default N
        let cue = port_word(t.get(i)) || is_word(t.get(i), &["default"]);
        let cue_skip = if cue && is_word(t.get(i + 1), &["number", "numbers", "is", "are", "of"]) {
            2
        } else {
            1
        };
        if cue {
            if let Some((ports, alt, end)) = numlist(&t, i + cue_skip) {
                let is_default = is_word(t.get(i), &["default"]) || after_default(&t, i);
                let (ps, typos, end) = trailing_protocols(&t, end);
                push_ports(&mut out, ps, typos, ports, alt, is_default);
                used[i..end].iter_mut().for_each(|u| *u = true);
                i = end;
                continue;
            }
        }
        // localhost:9879, *:4244, [::]:443: a listener and where it is bound.
        if let Some((bind, k)) = bind_at(&t, i) {
            if let Some((ports, alt, end)) = numlist(&t, k) {
                let (ps, typos, end) = trailing_protocols(&t, end);
                out.mentions.push(Mention {
                    protocols: ps,
                    typos,
                    ports,
                    alternatives: alt,
                    bind: Some(bind),
                    ..Mention::default()
                });
                used[i..end].iter_mut().for_each(|u| *u = true);
                i = end;
                continue;
            }
        }
        // http_port = 3000, ListenPort=10051: a setting named for a port.
        if let (Some(Tok::Word(w)), Some(Tok::P('=' | ':')), Some(Tok::Num(_))) =
            (t.get(i), t.get(i + 1), t.get(i + 2))
        {
            if setting_names_port(w) && !used[i] {
                if let Some((ports, alt, end)) = numlist(&t, i + 2) {
                    let (ps, typos, end) = trailing_protocols(&t, end);
                    push_ports(&mut out, ps, typos, ports, alt, false);
                    used[i..end].iter_mut().for_each(|u| *u = true);
                    i = end;
                    continue;
                }
            }
        }
        // host:port
        if let (Some(Tok::Word(h)), Some(Tok::P(':')), Some(Tok::Num(_))) =
            (t.get(i), t.get(i + 1), t.get(i + 2))
        {
            if h.contains('.') && !matches!(t.get(i + 3), Some(Tok::P(':' | '.'))) {
                if let Some((ports, alt, end)) = numlist(&t, i + 2) {
                    out.mentions.push(Mention {
                        ports,
                        alternatives: alt,
                        host: Some((*h).to_string()),
                        ..Mention::default()
                    });
                    used[i..end].iter_mut().for_each(|u| *u = true);
                    i = end;
                    continue;
                }
            }
        }
        // `listens on 443`, `443 (HTTPS)`: a listening verb or a service name
        // in parentheses makes a bare number a port.
        if let Some(Tok::Num(_)) = t.get(i) {
            let listens = i >= 2
                && is_word(t.get(i - 1), &["on", "at"])
                && matches!(t.get(i - 2), Some(Tok::Word(w)) if w.to_ascii_lowercase().starts_with("listen"));
            let service_paren = matches!(t.get(i + 1), Some(Tok::P('(')))
                && matches!(t.get(i + 2), Some(Tok::Word(w)) if !crate::knowledge::services_in(w).is_empty())
                && matches!(t.get(i + 3), Some(Tok::P(')')));
            if (listens || service_paren) && !used[i] {
                if let Some((ports, alt, end)) = numlist(&t, i) {
                    push_ports(&mut out, vec![], vec![], ports, alt, false);
                    used[i..end].iter_mut().for_each(|u| *u = true);
                    i = end;
                    continue;
                }
            }
        }
        // N ... PROTO  (`443 (TCP)`, `22 TCP`, `25/465/587 TCP`, `443/tcp`)
        if matches!(t.get(i), Some(Tok::Num(_))) && !used[i] {
            if let Some((ports, alt, end)) = numlist(&t, i) {
                let (ps, typos, end2) = trailing_protocols(&t, end);
                // `2 cores`, `512 MB`, `4 GB`: a leading number with a unit is
                // a quantity, not a port.
                let unit = matches!(t.get(end), Some(Tok::Word(w)) if is_unit(w));
                let lead = (i == 0 || (i == 1 && port_word(t.first()))) && !unit;
                let label_value = i >= 2
                    && matches!(t.get(i - 1), Some(Tok::P(':')))
                    && matches!(t.get(i - 2), Some(Tok::Word(_)))
                    && (end == t.len() || matches!(t.get(end), Some(Tok::P('(' | '.' | ';'))))
                    && !(i >= 3 && matches!(t.get(i - 3), Some(Tok::P(':'))));
                if !ps.is_empty() || lead || label_value {
                    let is_default = after_default(&t, i);
                    push_ports(&mut out, ps, typos, ports, alt, is_default);
                    used[i..end2].iter_mut().for_each(|u| *u = true);
                    i = end2;
                    continue;
                }
            }
        }
        i += 1;
    }
    // Ports without a number.
    let unnumbered = unnumbered_word(text).map(str::to_string).or_else(|| {
        t.iter().find_map(|x| match x {
            Tok::Word(w)
                if w.len() > 5 && w.contains('_') && w.to_ascii_lowercase().ends_with("port") =>
            {
                Some((*w).to_string())
            }
            _ => None,
        })
    });
    out.unnumbered = unnumbered;
    out.stray_port_words = t.iter().enumerate().any(|(k, x)| {
        port_word(Some(x))
            && !used[k]
            && (k + 1..(k + 5).min(t.len())).any(|m| matches!(t[m], Tok::Num(_)) && !used[m])
    });
    join_min_max(&t, &mut out);
    out
}

/// A configuration key that names a port: `http_port`, `ListenPort`,
/// `grpc-port`, `port` itself excluded (the plain cue is read elsewhere).
fn setting_names_port(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    l.len() > 4
        && l.ends_with("port")
        && !l.ends_with("report")
        && !l.ends_with("support")
        && !l.ends_with("import")
        && !l.ends_with("export")
        && !l.ends_with("transport")
        && !l.ends_with("passport")
        && !l.ends_with("airport")
}

/// Words that name the low and the high end of a range; `rtp_min` and
/// `port-max` count by their last part.
fn bound_of(w: &str) -> Option<bool> {
    let w = w.to_ascii_lowercase();
    let last = w.rsplit(['_', '-']).next().unwrap_or(&w);
    match last {
        "min" | "minimum" | "lowest" | "first" | "start" => Some(true),
        "max" | "maximum" | "highest" | "last" | "end" => Some(false),
        _ => None,
    }
}

/// Units of quantities that a sizing table or a sentence puts after a
/// number (`2 cores`, `64 GB`, `500 nodes`, `30 seconds`).
fn is_unit(w: &str) -> bool {
    const UNITS: &[&str] = &[
        "core",
        "cores",
        "cpu",
        "cpus",
        "vcpu",
        "vcpus",
        "kb",
        "mb",
        "gb",
        "tb",
        "kib",
        "mib",
        "gib",
        "tib",
        "kbps",
        "mbps",
        "gbps",
        "ghz",
        "mhz",
        "node",
        "nodes",
        "server",
        "servers",
        "host",
        "hosts",
        "agent",
        "agents",
        "user",
        "users",
        "ms",
        "s",
        "sec",
        "secs",
        "second",
        "seconds",
        "min",
        "mins",
        "minute",
        "minutes",
        "hour",
        "hours",
        "day",
        "days",
        "year",
        "years",
        "percent",
        "times",
        "x",
        "bit",
        "bits",
        "byte",
        "bytes",
        "disk",
        "disks",
        "instance",
        "instances",
        "replica",
        "replicas",
        "member",
        "members",
        "thread",
        "threads",
    ];
    UNITS.iter().any(|u| w.eq_ignore_ascii_case(u))
}

/// "Minimum port 30000 and maximum port 39999", "port range: min 30000,
/// max 32767": a low and a high bound are one range, not two ports. Taken
/// when the text says port (a `min 2 GB, max 8 GB` is not a range of
/// ports) and the low bound is below the high one.
fn join_min_max(t: &[Tok], out: &mut Parsed) {
    let says_port = t.iter().any(|x| port_word(Some(x)))
        || t.iter()
            .any(|x| matches!(x, Tok::Word(w) if w.to_ascii_lowercase().contains("port")));
    if !says_port {
        return;
    }
    // The number within a few tokens after a bound word.
    let num_after = |i: usize| {
        (i + 1..(i + 4).min(t.len())).find_map(|k| match t[k] {
            Tok::Num(n) => n.parse::<u64>().ok().map(|v| (k, v, n)),
            _ => None,
        })
    };
    let mut i = 0;
    while i < t.len() {
        let Some((lo_at, lo, lo_text)) = (match t[i] {
            Tok::Word(w) if bound_of(w) == Some(true) => num_after(i),
            _ => None,
        }) else {
            i += 1;
            continue;
        };
        let high = (lo_at + 1..(lo_at + 6).min(t.len())).find_map(|k| match t[k] {
            Tok::Word(w) if bound_of(w) == Some(false) => num_after(k),
            _ => None,
        });
        let Some((hi_at, hi, hi_text)) = high else {
            i = lo_at + 1;
            continue;
        };
        if !(1..=65535).contains(&lo) || !(lo..=65535).contains(&hi) || lo == hi {
            i = hi_at + 1;
            continue;
        }
        // The two ends as single-port mentions become one range mention,
        // with the protocols either printed.
        let single =
            |m: &Mention, v: u64| m.ports.len() == 1 && m.ports[0].low == v && m.ports[0].high == v;
        let mut protocols: Vec<Protocol> = Vec::new();
        out.mentions.retain(|m| {
            if single(m, lo) || single(m, hi) {
                for p in &m.protocols {
                    if !protocols.contains(p) {
                        protocols.push(*p);
                    }
                }
                false
            } else {
                true
            }
        });
        out.mentions.push(Mention {
            protocols,
            ports: vec![Num {
                low: lo,
                high: hi,
                text: format!("{lo_text}-{hi_text}"),
            }],
            ..Mention::default()
        });
        i = hi_at + 1;
    }
}

/// Words that name a port without a number, in order of preference.
const UNNUMBERED: [&str; 5] = [
    "ephemeral port",
    "dynamic port",
    "high port",
    "random port",
    "custom",
];

/// The first of `UNNUMBERED` that `text` contains, ignoring ASCII case. One
/// pass over the text: this runs on every item of a page.
fn unnumbered_word(text: &str) -> Option<&'static str> {
    let h = text.as_bytes();
    let mut found = [false; UNNUMBERED.len()];
    for i in 0..h.len() {
        let c = h[i].to_ascii_lowercase();
        for (k, w) in UNNUMBERED.iter().enumerate() {
            let n = w.as_bytes();
            if !found[k]
                && n[0] == c
                && h.len() - i >= n.len()
                && h[i..i + n.len()].eq_ignore_ascii_case(n)
            {
                found[k] = true;
            }
        }
    }
    UNNUMBERED
        .iter()
        .zip(found)
        .find(|(_, f)| *f)
        .map(|(w, _)| *w)
}

/// Protocols just after a port list: `(TCP)`, ` TCP`, `, TCP`, `(TCP/UDP)`.
fn trailing_protocols(t: &[Tok], end: usize) -> (Vec<Protocol>, Vec<String>, usize) {
    let mut k = end;
    let paren = matches!(t.get(k), Some(Tok::P('(')));
    // `443/tcp`: the protocol after a slash.
    let slash = matches!(t.get(k), Some(Tok::P('/')));
    if paren || slash {
        k += 1;
    }
    match protocols(t, k) {
        Some((ps, typos, j)) => {
            let j = if paren && matches!(t.get(j), Some(Tok::P(')'))) {
                j + 1
            } else {
                j
            };
            (ps, typos, j)
        }
        None => (vec![], vec![], end),
    }
}

fn push_ports(
    out: &mut Parsed,
    protocols: Vec<Protocol>,
    typos: Vec<String>,
    ports: Vec<Num>,
    alternatives: bool,
    is_default: bool,
) {
    // ICMP and ESP have no ports: `ICMP and UDP port 51824` is ICMP plus
    // UDP/51824.
    let (portless, rest): (Vec<Protocol>, Vec<Protocol>) =
        protocols.into_iter().partition(|p| !p.has_ports());
    for p in portless {
        if !out.bare_protocols.contains(&p) {
            out.bare_protocols.push(p);
        }
    }
    out.mentions.push(Mention {
        protocols: rest,
        typos,
        ports,
        alternatives,
        is_default,
        host: None,
        bind: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use Protocol::*;

    fn flat(text: &str) -> Vec<(Vec<Protocol>, Vec<String>)> {
        parse(text)
            .mentions
            .into_iter()
            .map(|m| (m.protocols, m.ports.into_iter().map(|n| n.text).collect()))
            .collect()
    }

    #[test]
    fn slash_lists_switch_protocol() {
        assert_eq!(
            flat("LDAP: TCP/389, 3268, UDP/389"),
            vec![
                (vec![Tcp], vec!["389".into(), "3268".into()]),
                (vec![Udp], vec!["389".into()])
            ]
        );
    }

    #[test]
    fn leading_ports_with_trailing_protocols() {
        assert_eq!(flat("443 (TCP)"), vec![(vec![Tcp], vec!["443".into()])]);
        assert_eq!(
            flat("88 (TCP/UDP)"),
            vec![(vec![Tcp, Udp], vec!["88".into()])]
        );
        let p = parse("25/465/587 TCP, outbound, SMTP");
        assert!(p.mentions[0].alternatives);
        assert_eq!(p.mentions[0].ports.len(), 3);
        assert_eq!(
            flat("Port 5000 TCP, outbound"),
            vec![(vec![Tcp], vec!["5000".into()])]
        );
    }

    #[test]
    fn prose_forms() {
        assert_eq!(
            flat("on TCP or UDP port 53 to resolve"),
            vec![(vec![Tcp, Udp], vec!["53".into()])]
        );
        assert_eq!(
            flat("communicates over TCP on port 443."),
            vec![(vec![Tcp], vec!["443".into()])]
        );
        assert_eq!(
            flat("devices over port 9063."),
            vec![(vec![], vec!["9063".into()])]
        );
        let p = parse("NMAP uses ICMP and UDP port 51824.");
        assert_eq!(p.bare_protocols, vec![Icmp]);
        assert_eq!(p.mentions[0].protocols, vec![Udp]);
    }

    #[test]
    fn numbers_without_a_cue_are_not_ports() {
        assert!(
            parse("Cisco ISE Release 3.0 Patch 6 and Gigabit Ethernet 0")
                .mentions
                .is_empty()
        );
        assert!(parse("IGEL OS 12 device").mentions.is_empty());
    }

    #[test]
    fn defaults_ranges_hosts_and_typos() {
        let p = parse("TCP/8000-8999 (default port is TCP/8443)");
        assert_eq!(p.mentions.len(), 2);
        assert_eq!(
            (p.mentions[0].ports[0].low, p.mentions[0].ports[0].high),
            (8000, 8999)
        );
        assert!(p.mentions[1].is_default);
        let p = parse("login.example.com:443 *.login.example.com:443");
        assert_eq!(p.mentions.len(), 2);
        assert_eq!(p.mentions[0].host.as_deref(), Some("login.example.com"));
        let p = parse("REST Web Service (HTTP) – UPD on port 801");
        assert_eq!(p.mentions[0].protocols, vec![Udp]);
        assert_eq!(p.mentions[0].typos, vec!["UPD".to_string()]);
        let p = parse("Clients egress to gateways (default 5000)");
        assert!(p.mentions[0].is_default);
    }

    #[test]
    fn unnumbered_ports() {
        assert_eq!(
            parse("TCP/UDP, outbound, BMC_AR_Port")
                .unnumbered
                .as_deref(),
            Some("BMC_AR_Port")
        );
        assert_eq!(
            parse("135 & Ephemeral ports TCP/UDP").unnumbered.as_deref(),
            Some("ephemeral port")
        );
    }
}

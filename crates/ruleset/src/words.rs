//! Small text helpers every line-based reader needs: shell-like words with
//! quotes, addresses and port lists as rulesets write them.

use crate::space::{Addrs, Ranges};
use ipnet::IpNet;
use std::net::IpAddr;

/// Splits a line into words; `"..."` and `'...'` group (quotes removed,
/// `\"` inside double quotes kept as `"`). An unclosed quote runs to the end.
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                has = true;
                while let Some(d) = chars.next() {
                    if d == c {
                        break;
                    }
                    if d == '\\' && c == '"' {
                        if let Some(&e) = chars.peek() {
                            if e == '"' || e == '\\' {
                                cur.push(e);
                                chars.next();
                                continue;
                            }
                        }
                    }
                    cur.push(d);
                }
            }
            c if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// An address, a CIDR or `address/netmask` (`10.0.0.0/255.255.255.0`).
pub fn addr(s: &str) -> Option<Addrs> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(Addrs::net(&n.trunc()));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(Addrs::net(&IpNet::from(ip)));
    }
    let (a, m) = s.split_once('/')?;
    let a: IpAddr = a.parse().ok()?;
    let m: IpAddr = m.parse().ok()?;
    let prefix = ipnet::ipv4_mask_to_prefix(match m {
        IpAddr::V4(m) => m,
        IpAddr::V6(_) => return None,
    })
    .ok()?;
    IpNet::new(a, prefix).ok().map(|n| Addrs::net(&n.trunc()))
}

/// `a-b` address ranges (`10.0.0.1-10.0.0.9`).
pub fn addr_range(s: &str) -> Option<Addrs> {
    let (a, b) = s.split_once('-')?;
    let a: IpAddr = a.trim().parse().ok()?;
    let b: IpAddr = b.trim().parse().ok()?;
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => Some(Addrs {
            v4: Ranges::range(u32::from(a), u32::from(b)),
            ..Addrs::none()
        }),
        (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => Some(Addrs {
            v6: Ranges::range(u128::from(a), u128::from(b)),
            ..Addrs::none()
        }),
        _ => None,
    }
}

/// A port or range with the given separator (`8000:8999`, `8000-8999`).
pub fn port_span(s: &str, sep: char) -> Option<(u16, u16)> {
    let s = s.trim();
    match s.split_once(sep) {
        Some((a, b)) => {
            let a: u16 = if a.is_empty() { 0 } else { a.parse().ok()? };
            let b: u16 = if b.is_empty() { 65535 } else { b.parse().ok()? };
            (a <= b).then_some((a, b))
        }
        None => {
            let p: u16 = s.parse().ok()?;
            Some((p, p))
        }
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_with_quotes() {
        assert_eq!(
            words(r#"-A INPUT -m comment --comment "a \"b\" c" -j ACCEPT"#),
            [
                "-A",
                "INPUT",
                "-m",
                "comment",
                "--comment",
                "a \"b\" c",
                "-j",
                "ACCEPT"
            ]
        );
        assert_eq!(words("x ''  y"), ["x", "", "y"]);
    }

    #[test]
    fn addresses() {
        assert_eq!(addr("10.0.0.0/255.255.255.0"), addr("10.0.0.0/24"));
        assert!(addr("10.0.0.0/255.0.255.0").is_none());
        assert!(addr_range("10.0.0.9-10.0.0.1").is_none());
        assert_eq!(port_span("8000:8999", ':'), Some((8000, 8999)));
        assert_eq!(port_span(":1023", ':'), Some((0, 1023)));
    }
}

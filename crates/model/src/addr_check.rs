//! What a user-written address means beyond its value: a CIDR whose host
//! bits are set (it is read as its network, which deserves a warning), and
//! why a string that looks like an address is not one (a help line).

use ipnet::IpNet;
use std::net::IpAddr;

/// The network `s` becomes when it is a CIDR with host bits set
/// (`10.30.0.1/24` -> `10.30.0.0/24`); None for anything else.
pub fn host_bits(s: &str) -> Option<IpNet> {
    let n: IpNet = s.trim().parse().ok()?;
    (n.trunc() != n).then(|| n.trunc())
}

/// A message and a help line for an address-shaped string that does not
/// parse: a prefix longer than the family allows, a part out of range, a
/// prefix that is not a number. None when `s` does not look like an address.
pub fn explain(s: &str) -> Option<(String, String)> {
    let s = s.trim();
    let (ip, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if let Ok(addr) = ip.parse::<IpAddr>() {
        let (family, max) = match addr {
            IpAddr::V4(_) => ("IPv4", 32),
            IpAddr::V6(_) => ("IPv6", 128),
        };
        let p = prefix?;
        return match p.parse::<u32>() {
            Ok(n) if n <= max => None,
            Ok(n) => Some((
                format!("`{s}`: the prefix /{n} is longer than {family} allows"),
                format!("{family} prefixes go up to /{max}; write `{ip}/{max}` (or `{ip}`) for one host, or a shorter prefix for a network"),
            )),
            Err(_) => Some((
                format!("`{s}`: `/{p}` is not a prefix length"),
                format!("write the prefix as a number from 0 to {max}, e.g. `{ip}/24`"),
            )),
        };
    }
    // Four dotted numbers that are not an IPv4 address: a part above 255.
    let parts: Vec<&str> = ip.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit()))
    {
        let bad: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|x| x.parse::<u32>().map_or(true, |n| n > 255))
            .collect();
        if !bad.is_empty() {
            return Some((
                format!(
                    "`{s}` is not an IPv4 address: {} is above 255",
                    bad.join(", ")
                ),
                "each of the four parts of an IPv4 address is a number from 0 to 255".to_string(),
            ));
        }
    }
    let digits_and_dots = !ip.is_empty() && ip.chars().all(|c| c.is_ascii_digit() || c == '.');
    digits_and_dots.then(|| {
        (
            format!(
                "`{s}` is not an IPv4 address: it has {} parts, not 4",
                parts.len()
            ),
            "write four numbers from 0 to 255 separated by dots, e.g. `10.0.0.1` or `10.0.0.0/24`"
                .to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_names_the_network() {
        assert_eq!(
            host_bits("10.30.0.1/24").map(|n| n.to_string()),
            Some("10.30.0.0/24".to_string())
        );
        assert_eq!(host_bits("10.30.0.0/24"), None);
        assert_eq!(host_bits("10.30.0.1"), None);
        assert_eq!(
            host_bits("2001:db8::1/64").map(|n| n.to_string()),
            Some("2001:db8::/64".into())
        );
    }

    #[test]
    fn explains_prefixes_and_parts() {
        let (m, h) = explain("10.0.0.0/33").unwrap();
        assert!(m.contains("/33 is longer than IPv4 allows"), "{m}");
        assert!(h.contains("IPv4 prefixes go up to /32"), "{h}");
        let (_, h) = explain("2001:db8::/129").unwrap();
        assert!(h.contains("IPv6 prefixes go up to /128"), "{h}");
        assert!(explain("10.0.0.0/x")
            .unwrap()
            .0
            .contains("not a prefix length"));
        assert!(explain("10.0.0.256")
            .unwrap()
            .0
            .contains("256 is above 255"));
        assert!(explain("10.0.0").unwrap().0.contains("3 parts"));
        assert_eq!(explain("app.example.com"), None);
        assert_eq!(explain("10.0.0.0/24"), None);
        assert_eq!(explain("10.0.0.5"), None);
    }
}

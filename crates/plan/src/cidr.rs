//! Address-list arithmetic: the fewest CIDRs for a set of addresses, and a
//! network with a hole cut out (for per-target overrides inside a CIDR).

use ipnet::IpNet;
use portplan_model::Addr;

/// Sorted, deduplicated, with networks aggregated into the fewest CIDRs
/// (`ipnet`'s aggregate) and everything absorbed by `any`.
pub fn normalise(addrs: &[Addr]) -> Vec<Addr> {
    if addrs.iter().any(|a| matches!(a, Addr::Any)) {
        return vec![Addr::Any];
    }
    let nets: Vec<IpNet> = addrs
        .iter()
        .filter_map(|a| match a {
            Addr::Net(n) => Some(*n),
            _ => None,
        })
        .collect();
    let mut out: Vec<Addr> = IpNet::aggregate(&nets).into_iter().map(Addr::Net).collect();
    let mut names: Vec<Addr> = addrs
        .iter()
        .filter(|a| matches!(a, Addr::Name(_)))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    out.extend(names);
    out
}

/// `net` without `hole`: the CIDRs covering exactly the addresses of `net`
/// that are not in `hole`. Splits `net` in halves down to the hole.
pub fn subtract(net: IpNet, hole: IpNet) -> Vec<IpNet> {
    if !net.contains(&hole) {
        return if hole.contains(&net) {
            Vec::new()
        } else {
            vec![net]
        };
    }
    let mut out = Vec::new();
    let mut cur = net;
    while cur.prefix_len() < hole.prefix_len() {
        let Ok(mut halves) = cur.subnets(cur.prefix_len() + 1) else {
            break;
        };
        let (Some(a), Some(b)) = (halves.next(), halves.next()) else {
            break;
        };
        if a.contains(&hole) {
            out.push(b);
            cur = a;
        } else {
            out.push(a);
            cur = b;
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn subtract_leaves_everything_but_the_hole() {
        let parts = subtract(n("10.0.0.0/24"), n("10.0.0.7/32"));
        assert_eq!(parts.len(), 8);
        for i in 0u8..=255 {
            let ip: std::net::IpAddr = format!("10.0.0.{i}").parse().unwrap();
            let inside = parts.iter().any(|p| p.contains(&ip));
            assert_eq!(inside, i != 7, "10.0.0.{i}");
        }
        assert!(subtract(n("10.0.0.5/32"), n("10.0.0.0/24")).is_empty());
        assert_eq!(
            subtract(n("10.1.0.0/24"), n("10.0.0.0/24")),
            vec![n("10.1.0.0/24")]
        );
    }

    #[test]
    fn normalise_aggregates_and_any_absorbs() {
        let a = vec![
            Addr::Net(n("10.0.0.0/25")),
            Addr::Net(n("10.0.0.128/25")),
            Addr::Name("b.example.com".into()),
            Addr::Name("a.example.com".into()),
            Addr::Name("a.example.com".into()),
        ];
        let out = normalise(&a);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Addr::Net(n("10.0.0.0/24")));
        assert_eq!(
            normalise(&[Addr::Any, Addr::Net(n("10.0.0.0/8"))]),
            vec![Addr::Any]
        );
    }
}

//! Names to addresses: a role entry in a deployment is a named host, a named
//! network, an address, a CIDR, a DNS name or `any`. Resolution keeps the name
//! people gave (the label) next to the addresses firewalls match.

use portplan_model::catalog::OneOrMany;
use portplan_model::diag::{unknown, Diagnostic};
use portplan_model::load::Parsed;
use portplan_model::{addr_check, Addr, Deployment};
use std::collections::BTreeMap;

/// Where an entry came from: that decides colocation and which overlaps are meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A name under `hosts:` (one machine, reusable across products).
    Host(String),
    /// A name under `networks:` (a population or an outside party).
    Network(String),
    /// Written in place: an address, CIDR, DNS name or `any`.
    Inline,
    /// A catalog role's fixed `endpoints`.
    Endpoint,
}

/// One resolved role entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name for people: the host or network name, else `product/role`.
    pub label: String,
    /// What the user wrote (for override targets and messages).
    pub raw: String,
    pub addrs: Vec<Addr>,
    pub origin: Origin,
    /// Location path of the entry in the deployment file.
    pub path: String,
}

impl Entry {
    /// One machine (a named host, or one address or DNS name)?
    pub fn is_single_host(&self) -> bool {
        match self.origin {
            Origin::Host(_) => true,
            Origin::Network(_) => false,
            Origin::Inline | Origin::Endpoint => {
                self.addrs.len() == 1
                    && match &self.addrs[0] {
                        Addr::Net(n) => n.prefix_len() == n.max_prefix_len(),
                        Addr::Name(n) => !n.starts_with('*'),
                        Addr::Any => false,
                    }
            }
        }
    }

    /// Whether two entries are (or include) the same machine: the same named
    /// host, or a shared single address or DNS name.
    pub fn shares_host(&self, other: &Entry) -> bool {
        if let (Origin::Host(a), Origin::Host(b)) = (&self.origin, &other.origin) {
            if a == b {
                return true;
            }
        }
        self.is_single_host()
            && other.is_single_host()
            && self.addrs.iter().any(|a| other.addrs.contains(a))
    }
}

/// Paths of the items of a one-or-many value: `base` for one, `base/i` for many.
pub fn item_paths<'a>(base: &str, v: &'a OneOrMany<String>) -> Vec<(String, &'a String)> {
    match v {
        OneOrMany::One(s) => vec![(base.to_string(), s)],
        OneOrMany::Many(list) => list
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{base}/{i}"), s))
            .collect(),
    }
}

/// Key of a map entry in a path (`/` in a key would break the path).
pub fn key(k: &str) -> String {
    k.replace('/', "~1")
}

/// Parses the addresses of a named host or network, reporting bad ones.
fn parse_named(
    dep: &Parsed<Deployment>,
    section: &str,
    name: &str,
    v: &OneOrMany<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Addr> {
    let mut out = Vec::new();
    for (path, s) in item_paths(&format!("/{section}/{}", key(name)), v) {
        if let Some(a) = parse_addr(dep, &path, &format!("{section} `{name}`"), s, diags) {
            out.push(a);
        }
    }
    out
}

/// Parses one address the user wrote at `path` (`what` names it in
/// messages). A bad one is a located error with a help line; a CIDR with host
/// bits set is read as its network, with a warning saying so.
pub fn parse_addr(
    dep: &Parsed<Deployment>,
    path: &str,
    what: &str,
    s: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Addr> {
    match s.parse::<Addr>() {
        Ok(a) => {
            if let Some(net) = addr_check::host_bits(s) {
                let host = s.trim().split('/').next().unwrap_or_default();
                let full = if net.addr().is_ipv4() { 32 } else { 128 };
                diags.push(
                    dep.warning_at(
                        path,
                        format!("{what}: `{}` has host bits set; it is read as the network `{net}`", s.trim()),
                    )
                    .hint(format!(
                        "write `{net}` for the network, or `{host}/{full}` (or `{host}`) for the one host"
                    )),
                );
            }
            Some(a)
        }
        Err(e) => {
            let d = match addr_check::explain(s) {
                Some((m, h)) => dep.error_at(path, format!("{what}: {m}")).hint(h),
                None => dep.error_at(path, format!("{what}: {e}")).hint(
                    "write an address (`10.0.0.5`), a CIDR (`10.0.0.0/24`), a DNS name (`app.example.com`) or `any`",
                ),
            };
            diags.push(d);
            None
        }
    }
}

/// Resolves the named hosts and networks once, reporting entries that do not parse.
pub struct Names {
    pub hosts: BTreeMap<String, Vec<Addr>>,
    pub networks: BTreeMap<String, Vec<Addr>>,
}

impl Names {
    pub fn build(dep: &Parsed<Deployment>, diags: &mut Vec<Diagnostic>) -> Names {
        let d = &dep.value;
        let hosts = d
            .hosts
            .iter()
            .map(|(n, v)| (n.clone(), parse_named(dep, "hosts", n, v, diags)))
            .collect();
        let networks = d
            .networks
            .iter()
            .map(|(n, v)| (n.clone(), parse_named(dep, "networks", n, v, diags)))
            .collect();
        for n in d.hosts.keys().filter(|n| d.networks.contains_key(*n)) {
            diags.push(
                dep.error_at(
                    &format!("/networks/{}", key(n)),
                    format!("`{n}` is both a host and a network"),
                )
                .hint("give the network another name"),
            );
        }
        Names { hosts, networks }
    }

    fn host(&self, name: &str) -> Option<&Vec<Addr>> {
        self.hosts.get(name)
    }
    fn network(&self, name: &str) -> Option<&Vec<Addr>> {
        self.networks.get(name)
    }
    /// A named host's or network's addresses.
    pub fn named(&self, name: &str) -> Option<&Vec<Addr>> {
        self.host(name).or_else(|| self.network(name))
    }

    /// Resolves one role entry; `label` names it when it is written in place.
    pub fn resolve(
        &self,
        dep: &Parsed<Deployment>,
        raw: &str,
        label: &str,
        path: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Entry> {
        let raw_t = raw.trim();
        let entry = |addrs: Vec<Addr>, origin: Origin, label: String| Entry {
            label,
            raw: raw_t.to_string(),
            addrs,
            origin,
            path: path.to_string(),
        };
        if let Some(a) = self.host(raw_t) {
            return Some(entry(a.clone(), Origin::Host(raw_t.into()), raw_t.into()));
        }
        if let Some(a) = self.network(raw_t) {
            return Some(entry(
                a.clone(),
                Origin::Network(raw_t.into()),
                raw_t.into(),
            ));
        }
        // A bare word is a host or network name, never a DNS name: a typo
        // of a host name must not turn into a lookup of an unknown machine.
        let bare_word = !raw_t.contains(['.', ':', '/']) && !raw_t.eq_ignore_ascii_case("any");
        if bare_word {
            let names = self
                .hosts
                .keys()
                .chain(self.networks.keys())
                .map(String::as_str);
            let (msg, hint) = unknown("host or network", raw_t, names);
            diags.push(dep.error_at(path, msg).hint(format!(
                "{hint} (a role entry is a name from `hosts:`/`networks:`, an address, a CIDR, a DNS name or `any`)"
            )));
            return None;
        }
        let what = format!("role entry of {label}");
        parse_addr(dep, path, &what, raw_t, diags)
            .map(|a| entry(vec![a], Origin::Inline, label.to_string()))
    }
}

/// The host a host-firewall format is written for: a named host or network,
/// or an address that the deployment places somewhere.
pub fn host_view(dep: &Deployment, name_or_addr: &str) -> Option<(String, Vec<Addr>)> {
    let parse = |v: &OneOrMany<String>| -> Vec<Addr> {
        v.iter().filter_map(|s| s.parse::<Addr>().ok()).collect()
    };
    if let Some(v) = dep.hosts.get(name_or_addr) {
        return Some((name_or_addr.to_string(), parse(v)));
    }
    if let Some(v) = dep.networks.get(name_or_addr) {
        return Some((name_or_addr.to_string(), parse(v)));
    }
    let ip: std::net::IpAddr = name_or_addr.trim().parse().ok()?;
    let inside = |a: &Addr| match a {
        Addr::Net(n) => n.contains(&ip),
        _ => false,
    };
    let placed = dep
        .hosts
        .values()
        .chain(dep.networks.values())
        .chain(dep.products.iter().flat_map(|p| p.roles.values()))
        .flat_map(parse)
        .any(|a| inside(&a));
    placed.then(|| (ip.to_string(), vec![Addr::Net(ipnet::IpNet::from(ip))]))
}

/// Every host and network the deployment names, with its addresses, in
/// the file's order of sections (hosts, then networks), names sorted.
pub fn directory(dep: &Deployment) -> Vec<(String, Vec<Addr>)> {
    dep.hosts
        .keys()
        .chain(dep.networks.keys())
        .filter_map(|n| host_view(dep, n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use portplan_model::load::parse_yaml;

    fn dep(src: &str) -> Parsed<Deployment> {
        parse_yaml("d.yaml", src).unwrap()
    }

    #[test]
    fn resolves_names_addresses_and_rejects_unknown_words() {
        let d =
            dep("name: x\nhosts: {ise-1: 10.0.0.5}\nnetworks: {lan: 10.1.0.0/16}\nproducts: []\n");
        let mut diags = Vec::new();
        let names = Names::build(&d, &mut diags);
        assert!(diags.is_empty());
        let mut w = Vec::new();
        let e = names.resolve(&d, "ise-1", "p/r", "/x", &mut w).unwrap();
        assert_eq!(e.label, "ise-1");
        assert_eq!(e.origin, Origin::Host("ise-1".into()));
        let e = names
            .resolve(&d, "10.2.0.0/24", "p/r", "/x", &mut w)
            .unwrap();
        assert_eq!(e.label, "p/r");
        assert!(!e.is_single_host());
        let e = names
            .resolve(&d, "app.example.com", "p/r", "/x", &mut w)
            .unwrap();
        assert_eq!(e.addrs, vec![Addr::Name("app.example.com".into())]);
        assert!(w.is_empty());
        assert!(names.resolve(&d, "ise-2", "p/r", "/x", &mut w).is_none());
        let err = w.pop().unwrap();
        assert!(err.message.contains("unknown host or network `ise-2`"));
        assert_eq!(err.hint.as_deref().map(|h| h.contains("ise-1")), Some(true));
        assert!(names
            .resolve(&d, "10.0.0.300", "p/r", "/x", &mut w)
            .is_none());
        assert!(w.pop().unwrap().message.contains("300 is above 255"));
        let e = names
            .resolve(&d, "10.2.0.1/24", "p/r", "/x", &mut w)
            .unwrap();
        assert_eq!(e.addrs[0].to_string(), "10.2.0.0/24");
        let warn = w.pop().unwrap();
        assert!(!warn.is_error() && warn.message.contains("network `10.2.0.0/24`"));
    }

    #[test]
    fn host_view_finds_names_and_placed_addresses() {
        let d = dep("name: x\nhosts: {ise-1: [10.0.0.5, 10.0.0.6]}\nproducts:\n  - product: p\n    roles: {r: [192.0.2.0/24]}\n");
        let (n, a) = host_view(&d.value, "ise-1").unwrap();
        assert_eq!((n.as_str(), a.len()), ("ise-1", 2));
        assert_eq!(host_view(&d.value, "192.0.2.7").unwrap().0, "192.0.2.7");
        assert!(host_view(&d.value, "198.51.100.1").is_none());
        assert!(host_view(&d.value, "nope").is_none());
    }
}

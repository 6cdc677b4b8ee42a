//! The deployment's management path (`management: { from: [...], ports: [...] }`):
//! where administrators reach the hosts from. Host firewalls open it before
//! anything else so that applying them cannot cut remote access.

use crate::resolve::{item_paths, Names};
use portplan_model::diag::Diagnostic;
use portplan_model::load::Parsed;
use portplan_model::{Addr, Deployment, PortRange};

/// The resolved management path: its sources' addresses, the names they
/// were given by, and the ports the user chose (empty: the format's default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagementPath {
    pub from: Vec<Addr>,
    pub labels: Vec<String>,
    pub ports: Vec<PortRange>,
}

/// The management path of a deployment, `None` when it names none; every
/// entry that is not a host or network name, an address or a CIDR is a
/// located error (a DNS name or `any` is no management network).
pub fn management(
    dep: &Parsed<Deployment>,
    names: &Names,
) -> (Option<ManagementPath>, Vec<Diagnostic>) {
    let Some(m) = &dep.value.management else {
        return (None, Vec::new());
    };
    let mut diags = Vec::new();
    let mut path = ManagementPath {
        ports: m.ports.clone(),
        ..ManagementPath::default()
    };
    let items = item_paths("/management/from", &m.from);
    if items.is_empty() {
        diags.push(
            dep.error_at("/management/from", "`management: from:` lists no source")
                .hint("name the admin network (a name under `networks:`), a host, an address or a CIDR"),
        );
    }
    for (p, raw) in items {
        let mut found = Vec::new();
        let resolved = names.resolve(dep, raw, raw, &p, &mut found);
        for mut d in found {
            // The resolver speaks of role entries; say what this one is.
            d.hint = d.hint.map(|h| {
                h.replace(
                    "(a role entry is a name from `hosts:`/`networks:`, an address, a CIDR, a DNS name or `any`)",
                    "(a management source is a name from `hosts:`/`networks:`, an address or a CIDR)",
                )
            });
            diags.push(d);
        }
        if let Some(e) = resolved {
            if let Some(bad) = e
                .addrs
                .iter()
                .find(|a| matches!(a, Addr::Any | Addr::Name(_)))
            {
                diags.push(
                    dep.error_at(
                        &p,
                        format!(
                            "management source `{raw}` is {}, not an address",
                            match bad {
                                Addr::Any => "`any` (the whole Internet)".to_string(),
                                other => format!("the DNS name `{other}`"),
                            }
                        ),
                    )
                    .hint("give the addresses or CIDRs administrators connect from"),
                );
                continue;
            }
            path.labels.push(e.label);
            path.from.extend(e.addrs);
        }
    }
    (Some(path), diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use portplan_model::load::parse_yaml;

    fn run(src: &str) -> (Option<ManagementPath>, Vec<Diagnostic>) {
        let d: Parsed<Deployment> = parse_yaml("d.yaml", src).unwrap();
        let mut diags = Vec::new();
        let names = Names::build(&d, &mut diags);
        management(&d, &names)
    }

    #[test]
    fn names_addresses_and_cidrs_resolve() {
        let (m, d) = run(
            "name: x\nnetworks: {admins: 10.9.0.0/24}\nmanagement: {from: [admins, 192.0.2.7], ports: [2222]}\nproducts: []\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let m = m.unwrap();
        assert_eq!(m.labels, vec!["admins", "192.0.2.7"]);
        assert_eq!(m.from.len(), 2);
        assert_eq!(m.ports, vec![PortRange::single(2222)]);
    }

    #[test]
    fn unknown_names_and_dns_names_are_located_errors() {
        let (_, d) = run(
            "name: x\nnetworks: {admins: 10.9.0.0/24}\nmanagement:\n  from: [admns, jump.example.com]\nproducts: []\n",
        );
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(Diagnostic::is_error));
        let text = format!("{d:?}");
        assert!(text.contains("admns") && text.contains("admins"), "{text}");
        assert!(text.contains("jump.example.com"), "{text}");
        assert!(d.iter().all(|x| x.line == Some(4)), "{d:?}");
    }

    #[test]
    fn no_field_no_path() {
        let (m, d) = run("name: x\nproducts: []\n");
        assert!(m.is_none() && d.is_empty());
    }
}

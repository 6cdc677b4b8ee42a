//! Azure: Terraform for one network security group per host that receives
//! traffic (`cloud_groups`), holding an inbound rule per flow and address
//! family (NSG rules cannot mix IPv4 and IPv6) and a final deny that
//! overrides Azure's AllowVnetInBound, with the association to the host's
//! network interface (or a network's subnet) behind a variable. Outbound is
//! left to Azure's default rules (allow), so flows to the Internet need no
//! rule. DNS names: NSGs match addresses only; Azure's default outbound
//! allows them (wider than planned, listed as not expressed), and an Azure
//! Firewall application rule collection that allows only the names is
//! written behind a variable (Terraform azurerm provider, resource
//! azurerm_firewall_policy_rule_collection_group: application_rule_collection,
//! rule, protocols, destination_fqdns; application rules take `*.` wildcards).

use crate::cloud_groups::{Cloud, End};
use crate::common::{self, why_lines, Gaps, Split};
use crate::prepare::{prepare, Can};
use crate::tf::{self, Labels};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{Addr, FlowSet, Protocol};
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct AzureTerraform;

const FIRST: u32 = 100;
const LAST: u32 = 4095;

impl Renderer for AzureTerraform {
    fn name(&self) -> &'static str {
        "azure-terraform"
    }
    fn extension(&self) -> &'static str {
        "tf"
    }
    fn render(&self, set: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String> {
        let set = &common::split_outside(set);
        let flows = common::sorted(set);
        let cloud = Cloud::new(&flows, opts);
        let mut gaps = Gaps::default();
        let can = Can {
            fqdn: true,
            wildcard: true,
            broadcast: false,
        };
        let base = common::sanitize(
            &format!("portplan-{}", set.deployment),
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.',
            '-',
            60,
        );
        let mut t = String::new();
        common::header(
            &mut t,
            "#",
            &format!(
                "Azure network security groups for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "One network security group per host: associate each with that host's network",
                "interface (var.network_interface_ids) or a network's subnet (var.subnet_ids).",
                "Rules are inbound, at each destination; each group's last rule denies all other",
                "inbound traffic, including AllowVnetInBound and load balancer probes.",
                "DNS names: allowed by Azure's default outbound (any address, wider than planned);",
                "the Azure Firewall application rules at the end allow only the names.",
                "Outbound stays at Azure's defaults (allow). NSGs are stateful.",
            ],
        );
        let _ = writeln!(t);
        for v in ["resource_group_name", "location"] {
            let _ = writeln!(t, "variable \"{v}\" {{");
            let _ = writeln!(t, "  type = string");
            let _ = writeln!(t, "}}");
            let _ = writeln!(t);
        }
        for (v, what) in [
            (
                "network_interface_ids",
                "Network interface id per host name",
            ),
            ("subnet_ids", "Subnet id per network name"),
        ] {
            let _ = writeln!(t, "variable \"{v}\" {{");
            let _ = writeln!(t, "  type        = map(string)");
            let _ = writeln!(t, "  default     = {{}}");
            let _ = writeln!(
                t,
                "  description = \"{what}: the NSG of each one given is associated with it.\""
            );
            let _ = writeln!(t, "}}");
            let _ = writeln!(t);
        }
        let mut labels = Labels::default();
        // Rule text and next priority per group.
        let mut nsgs: BTreeMap<usize, (String, u32)> = BTreeMap::new();
        let mut notes = String::new();
        let mut apps: Vec<AppRule> = Vec::new();
        for (fi, f) in flows.iter().enumerate() {
            let mut why = why_lines(f);
            let p = prepare(f, can, &mut gaps, "NSG rules");
            why.extend(p.comments.iter().cloned());
            for n in &p.src.names {
                why.push(gaps.add(
                    f,
                    &format!("DNS name {n}"),
                    "NSG rules: a source given by DNS name cannot be matched; use the addresses it resolves to",
                ));
            }
            if f.scope == Scope::Network && common::outside_side(&f.dst) {
                why.push("destination is outside the virtual network: allowed by Azure's default outbound rules, no inbound rule applies".into());
                if !p.dst.any && !p.dst.names.is_empty() {
                    let service = common::service_phrase(f);
                    for n in &p.dst.names {
                        why.push(gaps.add(
                            f,
                            &format!("DNS name {n}"),
                            &format!(
                                "NSG rules cannot match DNS names: Azure's default outbound rule AllowInternetOutBound allows {service} to it, and to any other Internet address (more than planned); to allow only the name, use the Azure Firewall application rule at the end (var.firewall_policy_id)"
                            ),
                        ));
                    }
                    if f.protocol == Protocol::Tcp && !p.src.any {
                        apps.push(AppRule {
                            reasons: common::reasons(f),
                            sources: p.src.cidrs(),
                            names: p.dst.names.clone(),
                            ports: f.ports.ranges().iter().map(|r| r.low).collect(),
                        });
                    }
                }
                let _ = writeln!(notes);
                tf::comments(&why, &mut notes);
                continue;
            }
            if p.dst.any && !p.src.is_empty() {
                why.push(
                    "destination is the Internet: allowed by Azure's default outbound rules, no inbound rule applies".into(),
                );
            }
            let (proto, ports) = match f.protocol {
                Protocol::Tcp => ("Tcp", ranges(f)),
                Protocol::Udp => ("Udp", ranges(f)),
                Protocol::Icmp => ("Icmp", Vec::new()),
                // NSG rules name ESP (and AH) as protocols of their own.
                Protocol::Esp => ("Esp", Vec::new()),
            };
            let mut wrote = false;
            let mut icmp_noted = false;
            for (party, addrs) in targets(&cloud, &cloud.ends[fi].1) {
                if p.dst.any || !p.writable() {
                    break;
                }
                let ds = Split::of(&addrs);
                let mut fams: Vec<(Vec<String>, Vec<String>, &str)> = Vec::new();
                let src4: Vec<String> = if p.src.any {
                    vec!["*".into()]
                } else {
                    p.src.v4.iter().map(ToString::to_string).collect()
                };
                let src6: Vec<String> = if p.src.any {
                    vec!["*".into()]
                } else {
                    p.src.v6.iter().map(ToString::to_string).collect()
                };
                if !src4.is_empty() && !ds.v4.is_empty() {
                    fams.push((
                        src4,
                        ds.v4.iter().map(ToString::to_string).collect(),
                        "ipv4",
                    ));
                }
                if !src6.is_empty() && !ds.v6.is_empty() {
                    fams.push((
                        src6,
                        ds.v6.iter().map(ToString::to_string).collect(),
                        "ipv6",
                    ));
                }
                let nsg = &cloud.parties[party].ident;
                let entry = nsgs.entry(party).or_insert_with(|| (String::new(), FIRST));
                if f.protocol == Protocol::Icmp && !fams.is_empty() && !icmp_noted {
                    icmp_noted = true;
                    if let Some(ty) = &f.icmp_type {
                        why.push(gaps.add(
                            f,
                            &format!("ICMP type {ty}"),
                            "NSG rules cannot match ICMP types: the rule allows every ICMP type, more than planned",
                        ));
                    }
                }
                let _ = writeln!(entry.0);
                tf::comments(&why, &mut entry.0);
                for (src, dst, fam) in fams {
                    let prio = entry.1;
                    if prio > LAST {
                        let c = gaps.add(
                            f,
                            "rule count",
                            &format!(
                                "the NSG of {} is full (priorities 100-4095 used)",
                                cloud.parties[party].title
                            ),
                        );
                        tf::comments(&[c], &mut entry.0);
                        continue;
                    }
                    let label = labels.unique(&format!("{nsg}_{prio}_{fam}"));
                    let name = format!("pp-{prio}-{}-{fam}", f.protocol);
                    let t = &mut entry.0;
                    let _ = writeln!(
                        t,
                        "resource \"azurerm_network_security_rule\" \"{label}\" {{"
                    );
                    let _ = writeln!(t, "  name                        = {}", tf::s(&name));
                    let _ = writeln!(t, "  priority                    = {prio}");
                    let _ = writeln!(t, "  direction                   = \"Inbound\"");
                    let _ = writeln!(t, "  access                      = \"Allow\"");
                    let _ = writeln!(t, "  protocol                    = \"{proto}\"");
                    let _ = writeln!(t, "  source_port_range           = \"*\"");
                    if ports.is_empty() {
                        let _ = writeln!(t, "  destination_port_range      = \"*\"");
                    } else {
                        let _ = writeln!(t, "  destination_port_ranges     = {}", tf::list(&ports));
                    }
                    prefixes(t, "source", &src);
                    prefixes(t, "destination", &dst);
                    let _ = writeln!(t, "  resource_group_name         = var.resource_group_name");
                    let _ = writeln!(
                        t,
                        "  network_security_group_name = azurerm_network_security_group.{nsg}.name"
                    );
                    let _ = writeln!(
                        t,
                        "  description                 = {}",
                        tf::s(&common::cut(&common::reasons(f), 140))
                    );
                    let _ = writeln!(t, "}}");
                    entry.1 += 1;
                    wrote = true;
                }
            }
            if !wrote {
                let _ = writeln!(notes);
                tf::comments(&why, &mut notes);
            }
        }
        let grouped: Vec<usize> = cloud
            .grouped()
            .into_iter()
            .filter(|g| nsgs.contains_key(g))
            .collect();
        for &g in &grouped {
            let party = &cloud.parties[g];
            let id = &party.ident;
            let host = party
                .cidrs()
                .iter()
                .all(|c| c.ends_with("/32") || c.ends_with("/128"));
            let (var, res, arg) = if host {
                (
                    "network_interface_ids",
                    "azurerm_network_interface_security_group_association",
                    "network_interface_id",
                )
            } else {
                (
                    "subnet_ids",
                    "azurerm_subnet_network_security_group_association",
                    "subnet_id",
                )
            };
            let title = tf::s(&party.title);
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# {} ({}): associate by setting {var}[{title}]",
                party.title,
                party.cidrs().join(" ")
            );
            let _ = writeln!(t, "resource \"azurerm_network_security_group\" \"{id}\" {{");
            let _ = writeln!(
                t,
                "  name                = {}",
                tf::s(&common::cut(
                    &format!("{base}-{}", id.replace('_', "-")),
                    80
                ))
            );
            let _ = writeln!(t, "  location            = var.location");
            let _ = writeln!(t, "  resource_group_name = var.resource_group_name");
            let _ = writeln!(t, "}}");
            let _ = writeln!(t);
            let _ = writeln!(t, "resource \"{res}\" \"{id}\" {{");
            let _ = writeln!(
                t,
                "  count                     = contains(keys(var.{var}), {title}) ? 1 : 0"
            );
            let _ = writeln!(t, "  {arg:<25} = var.{var}[{title}]");
            let _ = writeln!(
                t,
                "  network_security_group_id = azurerm_network_security_group.{id}.id"
            );
            let _ = writeln!(t, "}}");
            if let Some((rules, _)) = nsgs.get(&g) {
                t.push_str(rules);
            }
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# Everything the plan does not list for {}.",
                party.title
            );
            let _ = writeln!(
                t,
                "resource \"azurerm_network_security_rule\" \"{id}_deny_inbound\" {{"
            );
            let _ = writeln!(
                t,
                "  name                        = \"pp-4096-deny-inbound\""
            );
            let _ = writeln!(t, "  priority                    = 4096");
            let _ = writeln!(t, "  direction                   = \"Inbound\"");
            let _ = writeln!(t, "  access                      = \"Deny\"");
            let _ = writeln!(t, "  protocol                    = \"*\"");
            let _ = writeln!(t, "  source_port_range           = \"*\"");
            let _ = writeln!(t, "  destination_port_range      = \"*\"");
            let _ = writeln!(t, "  source_address_prefix       = \"*\"");
            let _ = writeln!(t, "  destination_address_prefix  = \"*\"");
            let _ = writeln!(t, "  resource_group_name         = var.resource_group_name");
            let _ = writeln!(
                t,
                "  network_security_group_name = azurerm_network_security_group.{id}.name"
            );
            let _ = writeln!(
                t,
                "  description                 = \"portplan: deny what the plan does not list\""
            );
            let _ = writeln!(t, "}}");
        }
        if !notes.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(t, "# Flows without an NSG rule here:");
            t.push_str(&notes);
        }
        if !grouped.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(t, "output \"network_security_group_ids\" {{");
            let _ = writeln!(
                t,
                "  description = \"The network security group of each host, to associate with it.\""
            );
            let _ = writeln!(t, "  value = {{");
            for &g in &grouped {
                let p = &cloud.parties[g];
                let _ = writeln!(
                    t,
                    "    {} = azurerm_network_security_group.{}.id",
                    tf::s(&p.title),
                    p.ident
                );
            }
            let _ = writeln!(t, "  }}");
            let _ = writeln!(t, "}}");
        }
        app_rules(&mut t, &base, &apps);
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

/// A flow to DNS names over TCP, for the Azure Firewall application rules.
struct AppRule {
    reasons: String,
    sources: Vec<String>,
    names: Vec<String>,
    ports: Vec<u16>,
}

/// Azure Firewall application rules allowing only the plan's DNS names
/// (HTTP on port 80, HTTPS on the others), created when the variable names
/// a firewall policy.
fn app_rules(t: &mut String, base: &str, apps: &[AppRule]) {
    if apps.is_empty() {
        return;
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "# Allowing only the DNS names: Azure Firewall application rules (by TLS SNI or"
    );
    let _ = writeln!(
        t,
        "# HTTP Host; `*.` wildcards allowed). Route the hosts' outbound traffic through"
    );
    let _ = writeln!(t, "# the firewall whose policy you name here.");
    let _ = writeln!(t, "variable \"firewall_policy_id\" {{");
    let _ = writeln!(t, "  type        = string");
    let _ = writeln!(t, "  default     = \"\"");
    let _ = writeln!(
        t,
        "  description = \"An Azure Firewall policy to add the DNS-name rules to (empty: none).\""
    );
    let _ = writeln!(t, "}}");
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "resource \"azurerm_firewall_policy_rule_collection_group\" \"dns_names\" {{"
    );
    let _ = writeln!(
        t,
        "  count              = var.firewall_policy_id == \"\" ? 0 : 1"
    );
    let _ = writeln!(
        t,
        "  name               = {}",
        tf::s(&format!("{base}-dns-names"))
    );
    let _ = writeln!(t, "  firewall_policy_id = var.firewall_policy_id");
    let _ = writeln!(t, "  priority           = 500");
    let _ = writeln!(t, "  application_rule_collection {{");
    let _ = writeln!(t, "    name     = \"portplan-dns-names\"");
    let _ = writeln!(t, "    priority = 500");
    let _ = writeln!(t, "    action   = \"Allow\"");
    for (i, a) in apps.iter().enumerate() {
        let _ = writeln!(t, "    rule {{");
        let _ = writeln!(t, "      name              = \"pp-{}\"", i + 1);
        let _ = writeln!(
            t,
            "      description       = {}",
            tf::s(&common::cut(&a.reasons, 140))
        );
        for p in &a.ports {
            let kind = if *p == 80 { "Http" } else { "Https" };
            let _ = writeln!(t, "      protocols {{");
            let _ = writeln!(t, "        type = \"{kind}\"");
            let _ = writeln!(t, "        port = {p}");
            let _ = writeln!(t, "      }}");
        }
        let _ = writeln!(t, "      source_addresses  = {}", tf::list(&a.sources));
        let _ = writeln!(t, "      destination_fqdns = {}", tf::list(&a.names));
        let _ = writeln!(t, "    }}");
    }
    let _ = writeln!(t, "  }}");
    let _ = writeln!(t, "}}");
}

/// The NSGs a flow's rule goes into, each with the destination addresses
/// it admits: every grouped destination, and every other group whose
/// addresses overlap a destination. Azure applies a subnet's NSG and then
/// the NIC's NSG to traffic arriving at a NIC (Microsoft Learn, "How
/// network security groups filter network traffic", section Inbound
/// traffic: https://learn.microsoft.com/en-us/azure/virtual-network/network-security-group-how-it-works),
/// and each ends in a deny of all inbound: a flow to a host inside a
/// network with an NSG of its own must be allowed by both, scoped to the
/// addresses both cover.
fn targets(cloud: &Cloud, dsts: &[End]) -> Vec<(usize, Vec<Addr>)> {
    let mut out: Vec<(usize, Vec<Addr>)> = Vec::new();
    let mut put = |party: usize, addrs: Vec<Addr>| {
        let at = match out.iter().position(|(p, _)| *p == party) {
            Some(i) => i,
            None => {
                out.push((party, Vec::new()));
                out.len() - 1
            }
        };
        for a in addrs {
            if !out[at].1.contains(&a) {
                out[at].1.push(a);
            }
        }
    };
    for d in dsts {
        if cloud.parties[d.party].grouped {
            put(d.party, d.addrs.clone());
        }
    }
    for d in dsts {
        for (g, both) in cloud.overlapping(d) {
            put(g, both);
        }
    }
    out
}

fn ranges(f: &portplan_model::Flow) -> Vec<String> {
    f.ports.ranges().iter().map(ToString::to_string).collect()
}

fn prefixes(t: &mut String, which: &str, v: &[String]) {
    if v.len() == 1 {
        let _ = writeln!(
            t,
            "  {:<27} = {}",
            format!("{which}_address_prefix"),
            tf::s(&v[0])
        );
    } else {
        let _ = writeln!(
            t,
            "  {:<27} = {}",
            format!("{which}_address_prefixes"),
            tf::list(v)
        );
    }
}

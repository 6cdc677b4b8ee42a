//! Azure: Terraform for one network security group holding an inbound rule
//! per flow and address family (NSG rules cannot mix IPv4 and IPv6), and a
//! final deny that overrides Azure's AllowVnetInBound. Outbound is left to
//! Azure's default rules (allow), so flows to the Internet need no rule.

use crate::common::{self, why_lines, Gaps};
use crate::prepare::{prepare, Can};
use crate::tf::{self, Labels};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{FlowSet, Protocol};
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
    fn render(&self, set: &FlowSet, _opts: &RenderOptions) -> Result<Rendered, String> {
        let set = &common::split_outside(set);
        let flows = common::sorted(set);
        let mut gaps = Gaps::default();
        let can = Can {
            fqdn: false,
            wildcard: false,
            broadcast: false,
        };
        let nsg = common::sanitize(
            &format!("portplan-{}", set.deployment),
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.',
            '-',
            80,
        );
        let mut t = String::new();
        common::header(
            &mut t,
            "#",
            &format!(
                "Azure network security group for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Associate the group with the subnets (or NICs) of every party. Rules are",
                "inbound, at each destination; the last rule denies all other inbound traffic,",
                "including AllowVnetInBound and load balancer probes (add a rule for those).",
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
        let _ = writeln!(
            t,
            "resource \"azurerm_network_security_group\" \"portplan\" {{"
        );
        let _ = writeln!(t, "  name                = {}", tf::s(&nsg));
        let _ = writeln!(t, "  location            = var.location");
        let _ = writeln!(t, "  resource_group_name = var.resource_group_name");
        let _ = writeln!(t, "}}");
        let mut labels = Labels::default();
        let mut prio = FIRST;
        for f in &flows {
            let mut why = why_lines(f);
            if f.scope == Scope::Network && common::outside_side(&f.dst) {
                why.push("destination is outside the virtual network: allowed by Azure's default outbound rules, no inbound rule applies".into());
                let _ = writeln!(t);
                tf::comments(&why, &mut t);
                continue;
            }
            let p = prepare(f, can, &mut gaps, "NSG rules");
            why.extend(p.comments.iter().cloned());
            let mut fams: Vec<(Vec<String>, Vec<String>, &str)> = Vec::new();
            if p.dst.any && !p.src.is_empty() {
                why.push(
                    "destination is the Internet: allowed by Azure's default outbound rules, no inbound rule applies".into(),
                );
            } else {
                let cidrs4 = |s: &crate::common::Split| -> Vec<String> {
                    if s.any {
                        vec!["*".into()]
                    } else {
                        s.v4.iter().map(|n| n.to_string()).collect()
                    }
                };
                let cidrs6 = |s: &crate::common::Split| -> Vec<String> {
                    if s.any {
                        vec!["*".into()]
                    } else {
                        s.v6.iter().map(|n| n.to_string()).collect()
                    }
                };
                if !p.pairs4().is_empty() {
                    fams.push((cidrs4(&p.src), cidrs4(&p.dst), "ipv4"));
                }
                // `any` to `any` is one rule: `*` covers both families.
                let has6 = !p.pairs6().is_empty();
                let covered = p.src.any && p.dst.any && !p.pairs4().is_empty();
                if has6 && !covered {
                    fams.push((cidrs6(&p.src), cidrs6(&p.dst), "ipv6"));
                }
            }
            let (proto, ports) = match f.protocol {
                Protocol::Tcp => ("Tcp", ranges(f)),
                Protocol::Udp => ("Udp", ranges(f)),
                Protocol::Icmp => {
                    if let Some(ty) = &f.icmp_type {
                        if !fams.is_empty() {
                            why.push(gaps.add(
                                f,
                                &format!("ICMP type {ty}"),
                                "NSG rules cannot match ICMP types: the rule allows every ICMP type, more than planned",
                            ));
                        }
                    }
                    ("Icmp", Vec::new())
                }
                // NSG rules name ESP (and AH) as protocols of their own.
                Protocol::Esp => ("Esp", Vec::new()),
            };
            let _ = writeln!(t);
            tf::comments(&why, &mut t);
            for (src, dst, fam) in fams {
                if prio > LAST {
                    let c = gaps.add(
                        f,
                        "rule count",
                        "the NSG is full (priorities 100-4095 used)",
                    );
                    tf::comments(&[c], &mut t);
                    continue;
                }
                let label = labels.unique(&format!("pp_{prio}_{fam}"));
                let name = format!("pp-{prio}-{}-{fam}", f.protocol);
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
                prefixes(&mut t, "source", &src);
                prefixes(&mut t, "destination", &dst);
                let _ = writeln!(t, "  resource_group_name         = var.resource_group_name");
                let _ = writeln!(
                    t,
                    "  network_security_group_name = azurerm_network_security_group.portplan.name"
                );
                let _ = writeln!(
                    t,
                    "  description                 = {}",
                    tf::s(&common::cut(&common::reasons(f), 140))
                );
                let _ = writeln!(t, "}}");
                prio += 1;
            }
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "# Everything the plan does not list.");
        let _ = writeln!(
            t,
            "resource \"azurerm_network_security_rule\" \"pp_deny_inbound\" {{"
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
            "  network_security_group_name = azurerm_network_security_group.portplan.name"
        );
        let _ = writeln!(
            t,
            "  description                 = \"portplan: deny what the plan does not list\""
        );
        let _ = writeln!(t, "}}");
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
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

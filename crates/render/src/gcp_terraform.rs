//! Google Cloud: Terraform `google_compute_firewall` ingress rules, one per
//! flow, destination host and address family (a rule cannot mix IPv4 and
//! IPv6 ranges). Each host that receives traffic has a network tag of its
//! own (`cloud_groups`: merged sides split into the deployment's hosts);
//! sources are address ranges. Egress stays at GCP's implied allow.
//!
//! DNS names: allowed by the implied egress rule (any address, wider than
//! planned, listed as not expressed); Cloud NGFW network firewall policy
//! rules with `match { dest_fqdns }` that allow only the names are written
//! behind a variable (Terraform google provider, resource
//! google_compute_network_firewall_policy_rule; FQDN objects take no
//! wildcards: cloud.google.com/firewall/docs/fqdn-objects-overview).

use crate::cloud_groups::Cloud;
use crate::common::{self, why_lines, Gaps, Split};
use crate::prepare::{prepare, Can};
use crate::tf::{self, Labels};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{FlowSet, Protocol};
use std::collections::BTreeSet;
use std::fmt::Write;

pub struct GcpTerraform;

/// GCP names and tags: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
fn gname(s: &str) -> String {
    let t = common::sanitize(
        &s.to_ascii_lowercase(),
        |c| c.is_ascii_alphanumeric(),
        '-',
        70,
    )
    .replace("...", "");
    let mut t: String = t.chars().take(63).collect();
    while t.ends_with('-') {
        t.pop();
    }
    if !t.starts_with(|c: char| c.is_ascii_lowercase()) {
        t = format!("pp-{t}");
        t.truncate(63);
    }
    t
}

impl Renderer for GcpTerraform {
    fn name(&self) -> &'static str {
        "gcp-terraform"
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
        let tag_of = |i: usize| gname(&format!("pp-{}", cloud.parties[i].ident.replace('_', "-")));
        let mut rules = String::new();
        let mut labels = Labels::default();
        let mut targets: BTreeSet<usize> = BTreeSet::new();
        let mut fqdns: Vec<FqdnRule> = Vec::new();
        for (i, f) in flows.iter().enumerate() {
            let mut why = why_lines(f);
            let p = prepare(f, can, &mut gaps, "VPC firewall rules");
            why.extend(p.comments.iter().cloned());
            for n in &p.src.names {
                why.push(gaps.add(
                    f,
                    &format!("DNS name {n}"),
                    "VPC firewall rules: a source given by DNS name cannot be matched; use the addresses it resolves to",
                ));
            }
            if f.scope == Scope::Network && common::outside_side(&f.dst) {
                why.push("destination is outside the VPC: allowed by GCP's implied egress rule, no ingress rule applies".into());
                if !p.dst.any && !p.dst.names.is_empty() {
                    let service = common::service_phrase(f);
                    let exact: Vec<String> = p
                        .dst
                        .names
                        .iter()
                        .filter(|n| !common::is_wildcard(n))
                        .cloned()
                        .collect();
                    for n in &p.dst.names {
                        let how = if common::is_wildcard(n) {
                            "Cloud NGFW FQDN objects take no wildcards, so no rule below allows only it (a Secure Web Proxy can)"
                        } else {
                            "to allow only the name, use the Cloud NGFW rule at the end (var.firewall_policy)"
                        };
                        why.push(gaps.add(
                            f,
                            &format!("DNS name {n}"),
                            &format!(
                                "VPC firewall rules cannot match DNS names: GCP's implied egress rule allows {service} to it, and to any other address (more than planned); {how}"
                            ),
                        ));
                    }
                    if !exact.is_empty() && f.protocol.has_ports() && !p.src.any {
                        fqdns.push(FqdnRule {
                            reasons: common::reasons(f),
                            names: exact,
                            proto: f.protocol.to_string(),
                            ports: f.ports.ranges().iter().map(ToString::to_string).collect(),
                        });
                    }
                }
                let _ = writeln!(rules);
                tf::comments(&why, &mut rules);
                continue;
            }
            let mut per_dst: Vec<(usize, Families)> = Vec::new();
            if p.dst.any && !p.src.is_empty() {
                why.push(
                    "destination is the Internet: allowed by GCP's implied egress rule".into(),
                );
            } else if p.writable() {
                for d in cloud.ends[i]
                    .1
                    .iter()
                    .filter(|d| cloud.parties[d.party].grouped)
                {
                    let ds = Split::of(&d.addrs);
                    let mut fams: Families = Vec::new();
                    if p.src.any {
                        if !ds.v4.is_empty() {
                            fams.push((vec!["0.0.0.0/0".into()], "v4"));
                        }
                        if !ds.v6.is_empty() {
                            fams.push((vec!["::/0".into()], "v6"));
                        }
                    } else {
                        if !p.src.v4.is_empty() && !ds.v4.is_empty() {
                            fams.push((p.src.v4.iter().map(|n| n.to_string()).collect(), "v4"));
                        }
                        if !p.src.v6.is_empty() && !ds.v6.is_empty() {
                            fams.push((p.src.v6.iter().map(|n| n.to_string()).collect(), "v6"));
                        }
                    }
                    if !fams.is_empty() {
                        per_dst.push((d.party, fams));
                    }
                }
            }
            if f.protocol == Protocol::Icmp && !per_dst.is_empty() {
                if let Some(ty) = &f.icmp_type {
                    why.push(gaps.add(
                        f,
                        &format!("ICMP type {ty}"),
                        "VPC firewall rules cannot match ICMP types: the rule allows every ICMP type, more than planned",
                    ));
                }
            }
            let _ = writeln!(rules);
            tf::comments(&why, &mut rules);
            for (d, fams) in per_dst {
                targets.insert(d);
                let tag = tag_of(d);
                let ident = cloud.parties[d].ident.replace('_', "-");
                for (ranges, fam) in fams {
                    let name = gname(&format!("pp-{}-{:03}-{ident}-{fam}", set.deployment, i + 1,));
                    let label = labels.unique(&name.replace('-', "_"));
                    let (proto, ports): (String, Vec<String>) = match f.protocol {
                        Protocol::Icmp if fam == "v6" => ("58".into(), Vec::new()),
                        Protocol::Icmp => ("icmp".into(), Vec::new()),
                        p => (
                            p.to_string(),
                            f.ports.ranges().iter().map(ToString::to_string).collect(),
                        ),
                    };
                    let t = &mut rules;
                    let _ = writeln!(t, "resource \"google_compute_firewall\" \"{label}\" {{");
                    let _ = writeln!(t, "  name          = {}", tf::s(&name));
                    let _ = writeln!(t, "  network       = var.network");
                    let _ = writeln!(t, "  direction     = \"INGRESS\"");
                    let _ = writeln!(t, "  priority      = 1000");
                    let _ = writeln!(t, "  description   = {}", tf::s(&common::reasons(f)));
                    let _ = writeln!(t, "  source_ranges = {}", tf::list(&ranges));
                    let _ = writeln!(
                        t,
                        "  target_tags   = {}",
                        tf::list(std::slice::from_ref(&tag))
                    );
                    let _ = writeln!(t, "  allow {{");
                    let _ = writeln!(t, "    protocol = {}", tf::s(&proto));
                    if !ports.is_empty() {
                        let _ = writeln!(t, "    ports    = {}", tf::list(&ports));
                    }
                    let _ = writeln!(t, "  }}");
                    let _ = writeln!(t, "}}");
                }
            }
        }
        let mut t = String::new();
        common::header(
            &mut t,
            "#",
            &format!(
                "Google Cloud VPC firewall rules for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Ingress rules at each destination host, which is selected by a network tag of",
                "its own: add the tag to that host's instance (listed below, and in output",
                "network_tags). GCP denies other ingress (implied rule) unless the network has",
                "broader rules such as default-allow-internal. Egress stays open (implied allow);",
                "DNS names: optional Cloud NGFW rules by FQDN at the end (var.firewall_policy).",
            ],
        );
        let _ = writeln!(t);
        let _ = writeln!(t, "variable \"network\" {{");
        let _ = writeln!(t, "  type        = string");
        let _ = writeln!(
            t,
            "  description = \"The VPC network the rules belong to.\""
        );
        let _ = writeln!(t, "}}");
        if !targets.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# Network tags, one per host: tag each instance (google_compute_instance tags)."
            );
            for &d in &targets {
                let p = &cloud.parties[d];
                let _ = writeln!(t, "# target tag {}: {}", tag_of(d), p.cidrs().join(" "));
                let _ = writeln!(
                    t,
                    "#   the instance of {} ({}): tags = [\"{}\"]",
                    p.title,
                    p.cidrs().join(" "),
                    tag_of(d)
                );
            }
        }
        t.push_str(&rules);
        if !targets.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(t, "output \"network_tags\" {{");
            let _ = writeln!(
                t,
                "  description = \"The network tag of each host, to add to its instance.\""
            );
            let _ = writeln!(t, "  value = {{");
            for &d in &targets {
                let _ = writeln!(
                    t,
                    "    {} = {}",
                    tf::s(&cloud.parties[d].title),
                    tf::s(&tag_of(d))
                );
            }
            let _ = writeln!(t, "  }}");
            let _ = writeln!(t, "}}");
        }
        fqdn_rules(&mut t, &fqdns);
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

/// Source ranges per address family (`v4`, `v6`) of one destination's rules.
type Families = Vec<(Vec<String>, &'static str)>;

/// A flow to DNS names, for the Cloud NGFW rules.
struct FqdnRule {
    reasons: String,
    names: Vec<String>,
    proto: String,
    ports: Vec<String>,
}

/// Cloud NGFW egress rules allowing the plan's DNS names (FQDN objects),
/// created when the variable names a network firewall policy.
fn fqdn_rules(t: &mut String, rules: &[FqdnRule]) {
    if rules.is_empty() {
        return;
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "# Allowing only the DNS names: Cloud NGFW egress rules by FQDN in a global network"
    );
    let _ = writeln!(
        t,
        "# firewall policy associated with the network (evaluated before the VPC rules)."
    );
    let _ = writeln!(
        t,
        "# They only matter with an egress deny after them (the implied egress allows all)."
    );
    let _ = writeln!(t, "variable \"firewall_policy\" {{");
    let _ = writeln!(t, "  type        = string");
    let _ = writeln!(t, "  default     = \"\"");
    let _ = writeln!(
        t,
        "  description = \"A global network firewall policy to add the DNS-name rules to (empty: none).\""
    );
    let _ = writeln!(t, "}}");
    for (i, r) in rules.iter().enumerate() {
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "resource \"google_compute_network_firewall_policy_rule\" \"dns_{}\" {{",
            i + 1
        );
        let _ = writeln!(t, "  count           = var.firewall_policy == \"\" ? 0 : 1");
        let _ = writeln!(t, "  firewall_policy = var.firewall_policy");
        let _ = writeln!(t, "  priority        = {}", 1000 + i);
        let _ = writeln!(t, "  direction       = \"EGRESS\"");
        let _ = writeln!(t, "  action          = \"allow\"");
        let _ = writeln!(t, "  description     = {}", tf::s(&r.reasons));
        let _ = writeln!(t, "  match {{");
        let _ = writeln!(t, "    dest_fqdns = {}", tf::list(&r.names));
        let _ = writeln!(t, "    layer4_configs {{");
        let _ = writeln!(t, "      ip_protocol = {}", tf::s(&r.proto));
        let _ = writeln!(t, "      ports       = {}", tf::list(&r.ports));
        let _ = writeln!(t, "    }}");
        let _ = writeln!(t, "  }}");
        let _ = writeln!(t, "}}");
    }
}

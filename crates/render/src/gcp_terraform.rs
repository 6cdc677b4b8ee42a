//! Google Cloud: Terraform `google_compute_firewall` ingress rules, one per
//! flow and address family (a rule cannot mix IPv4 and IPv6 ranges). The
//! destination party is selected by a network tag (tag its instances);
//! sources are address ranges. Egress stays at GCP's implied allow.

use crate::common::{self, why_lines, Gaps, Parties};
use crate::prepare::{prepare, Can};
use crate::tf::{self, Labels};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{FlowSet, Protocol};
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
    fn render(&self, set: &FlowSet, _opts: &RenderOptions) -> Result<Rendered, String> {
        let set = &common::split_outside(set);
        let flows = common::sorted(set);
        let parties = Parties::new(&flows);
        let mut gaps = Gaps::default();
        let can = Can {
            fqdn: false,
            wildcard: false,
            broadcast: false,
        };
        let mut t = String::new();
        common::header(
            &mut t,
            "#",
            &format!(
                "Google Cloud VPC firewall rules for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Ingress rules at each destination, which is selected by its network tag:",
                "add the tag to the instances of that party (listed with each rule).",
                "GCP denies other ingress (implied rule) unless the network has broader",
                "rules such as default-allow-internal. Egress stays open (implied allow).",
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
        let mut labels = Labels::default();
        for (i, f) in flows.iter().enumerate() {
            let mut why = why_lines(f);
            if f.scope == Scope::Network && common::outside_side(&f.dst) {
                why.push("destination is outside the VPC: allowed by GCP's implied egress rule, no ingress rule applies".into());
                let _ = writeln!(t);
                tf::comments(&why, &mut t);
                continue;
            }
            let p = prepare(f, can, &mut gaps, "VPC firewall rules");
            why.extend(p.comments.iter().cloned());
            let dst_party = parties.get(&f.dst);
            let tag = gname(&format!("pp-{}", dst_party.ident.replace('_', "-")));
            let mut fams: Vec<(Vec<String>, &str)> = Vec::new();
            if p.dst.any && !p.src.is_empty() {
                why.push(
                    "destination is the Internet: allowed by GCP's implied egress rule".into(),
                );
            } else if p.writable() {
                why.push(format!("target tag {tag}: {}", p.dst.cidrs().join(" ")));
                if p.src.any {
                    if !p.dst.v4.is_empty() {
                        fams.push((vec!["0.0.0.0/0".into()], "v4"));
                    }
                    if !p.dst.v6.is_empty() {
                        fams.push((vec!["::/0".into()], "v6"));
                    }
                } else {
                    if !p.pairs4().is_empty() {
                        fams.push((p.src.v4.iter().map(|n| n.to_string()).collect(), "v4"));
                    }
                    if !p.pairs6().is_empty() {
                        fams.push((p.src.v6.iter().map(|n| n.to_string()).collect(), "v6"));
                    }
                }
            }
            if f.protocol == Protocol::Icmp && !fams.is_empty() {
                if let Some(ty) = &f.icmp_type {
                    why.push(gaps.add(
                        f,
                        &format!("ICMP type {ty}"),
                        "VPC firewall rules cannot match ICMP types: the rule allows every ICMP type, more than planned",
                    ));
                }
            }
            let _ = writeln!(t);
            tf::comments(&why, &mut t);
            for (ranges, fam) in fams {
                let name = gname(&format!(
                    "pp-{}-{:03}-{}-{fam}",
                    set.deployment,
                    i + 1,
                    dst_party.ident.replace('_', "-")
                ));
                let label = labels.unique(&name.replace('-', "_"));
                let (proto, ports): (String, Vec<String>) = match f.protocol {
                    Protocol::Icmp if fam == "v6" => ("58".into(), Vec::new()),
                    Protocol::Icmp => ("icmp".into(), Vec::new()),
                    p => (
                        p.to_string(),
                        f.ports.ranges().iter().map(ToString::to_string).collect(),
                    ),
                };
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
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

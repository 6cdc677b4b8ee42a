//! AWS: Terraform with one security group per party and one
//! `aws_vpc_security_group_ingress_rule`/`egress_rule` per flow and port
//! range. Groups reference each other, so rules follow instances rather
//! than addresses; the Internet (`any`) is written as CIDRs. Terraform
//! removes AWS's default allow-all egress, so egress rules are written too.

use crate::common::{self, why_lines, Gaps, Parties, Split};
use crate::prepare::{prepare, Can, Prepared};
use crate::tf::{self, Labels};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::{Flow, FlowSet, Protocol, Side};
use std::collections::HashMap;
use std::fmt::Write;

pub struct AwsTerraform;

/// AWS allows these characters (and letters/digits) in group and rule descriptions.
fn aws_text(s: &str, max: usize) -> String {
    common::sanitize(
        &common::one_line(s),
        |c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c),
        '_',
        max,
    )
}

/// A party gets a security group when it is named, only has addresses
/// (`any` and DNS names cannot be members), and is one of the deployment's
/// own (a gateway on a public address is an instance too): only an outside
/// party the catalog gives by public address (a resolver, a SaaS endpoint)
/// is not an instance of this VPC, so rules name it by CIDR.
fn member(side: &Side) -> bool {
    let s = Split::of(&side.addrs);
    !side.labels.is_empty() && s.names.is_empty() && !common::outside_side(side)
}

/// One end of a rule: another group, or a CIDR of one family.
enum Peer {
    Group(String),
    V4(String),
    V6(String),
}

impl Renderer for AwsTerraform {
    fn name(&self) -> &'static str {
        "aws-terraform"
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
                "AWS security groups for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "One security group per party of the deployment: attach each to the",
                "instances at the addresses its description lists. Rules between such",
                "parties reference each other's group. `any` and outside parties given by",
                "public address are written as CIDRs; DNS names are listed as not expressed.",
                "A party outside this VPC (on premises) cannot carry a group: swap its",
                "referenced_security_group_id for cidr_ipv4/cidr_ipv6 of its addresses.",
                "Security groups are stateful: replies need no rule.",
            ],
        );
        let _ = writeln!(t);
        let _ = writeln!(t, "variable \"vpc_id\" {{");
        let _ = writeln!(t, "  type        = string");
        let _ = writeln!(
            t,
            "  description = \"The VPC the security groups belong to.\""
        );
        let _ = writeln!(t, "}}");
        let mut groups: HashMap<Side, String> = HashMap::new();
        for (side, party) in parties.iter() {
            if !member(side) {
                continue;
            }
            let cidrs = Split::of(&side.addrs).cidrs();
            let _ = writeln!(t);
            let _ = writeln!(t, "resource \"aws_security_group\" \"{}\" {{", party.ident);
            let _ = writeln!(
                t,
                "  name        = {}",
                tf::s(&aws_text(
                    &format!("portplan-{}-{}", set.deployment, party.ident),
                    255
                ))
            );
            let _ = writeln!(
                t,
                "  description = {}",
                tf::s(&aws_text(
                    &format!("{}: {}", party.title, cidrs.join(" ")),
                    255
                ))
            );
            let _ = writeln!(t, "  vpc_id      = var.vpc_id");
            let _ = writeln!(t, "}}");
            groups.insert(side.clone(), party.ident.clone());
        }
        let mut labels = Labels::default();
        for f in &flows {
            let p = prepare(f, can, &mut gaps, "Security groups");
            let mut why = why_lines(f);
            why.extend(p.comments.iter().cloned());
            let src_g = groups.get(&f.src);
            let dst_g = groups.get(&f.dst);
            let writable = p.writable() && !p.src.is_empty() && !p.dst.is_empty();
            if writable && src_g.is_none() && dst_g.is_none() {
                why.push(gaps.add(
                    f,
                    "no group",
                    "neither end can hold a security group (each is `any`, a DNS name or only public addresses)",
                ));
            }
            let _ = writeln!(t);
            tf::comments(&why, &mut t);
            if !writable {
                continue;
            }
            let icmp = if f.protocol == Protocol::Icmp {
                match common::icmp_of(f) {
                    Ok(i) => Some(i),
                    Err(e) => {
                        let c = gaps.add(f, "ICMP type", &e);
                        tf::comments(&[c], &mut t);
                        continue;
                    }
                }
            } else {
                None
            };
            if let Some(g) = dst_g {
                for peer in peers(&p, &f.src, src_g, true) {
                    rules(&mut t, &mut labels, "ingress", g, &peer, f, icmp, &p);
                }
            }
            if let Some(g) = src_g {
                for peer in peers(&p, &f.dst, dst_g, false) {
                    rules(&mut t, &mut labels, "egress", g, &peer, f, icmp, &p);
                }
            }
        }
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

fn peers(p: &Prepared, side: &Side, group: Option<&String>, is_src: bool) -> Vec<Peer> {
    if let Some(g) = group {
        return vec![Peer::Group(g.clone())];
    }
    let s = if is_src { &p.src } else { &p.dst };
    if s.any {
        return vec![Peer::V4("0.0.0.0/0".into()), Peer::V6("::/0".into())];
    }
    let _ = side;
    s.v4.iter()
        .map(|n| Peer::V4(n.to_string()))
        .chain(s.v6.iter().map(|n| Peer::V6(n.to_string())))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn rules(
    t: &mut String,
    labels: &mut Labels,
    kind: &str,
    group: &str,
    peer: &Peer,
    f: &Flow,
    icmp: Option<Option<common::IcmpPair>>,
    p: &Prepared,
) {
    let (peer_attr, peer_val, peer_id, fam4, fam6) = match peer {
        Peer::Group(g) => (
            "referenced_security_group_id",
            format!("aws_security_group.{g}.id"),
            g.clone(),
            !p.src.v4.is_empty() && !p.dst.v4.is_empty(),
            !p.src.v6.is_empty() && !p.dst.v6.is_empty(),
        ),
        Peer::V4(c) => ("cidr_ipv4", tf::s(c), c.clone(), true, false),
        Peer::V6(c) => ("cidr_ipv6", tf::s(c), c.clone(), false, true),
    };
    // (ip_protocol, from_port, to_port) per rule; no ports for a protocol
    // that has none (ESP is `ip_protocol = "50"` alone).
    let mut specs: Vec<(String, Option<(i32, i32)>)> = Vec::new();
    match icmp {
        None if !f.protocol.has_ports() => {
            specs.push((f.protocol.number().to_string(), None));
        }
        None => {
            for r in f.ports.ranges() {
                specs.push((f.protocol.to_string(), Some((r.low.into(), r.high.into()))));
            }
        }
        Some(icmp) => {
            let (t4, t6) = match icmp {
                None => (Some(-1), Some(-1)),
                Some((a, b)) => (a.map(i32::from), b.map(i32::from)),
            };
            if let (true, Some(ty)) = (fam4, t4) {
                specs.push(("icmp".into(), Some((ty, -1))));
            }
            if let (true, Some(ty)) = (fam6, t6) {
                specs.push(("icmpv6".into(), Some((ty, -1))));
            }
        }
    }
    let dir = if kind == "ingress" { "from" } else { "to" };
    for (proto, ports) in specs {
        let from = ports.map_or_else(|| "all".to_string(), |(f, _)| f.to_string());
        let label = labels.unique(&format!("{group}_{kind}_{dir}_{peer_id}_{proto}_{from}"));
        let _ = writeln!(
            t,
            "resource \"aws_vpc_security_group_{kind}_rule\" \"{label}\" {{"
        );
        let _ = writeln!(t, "  security_group_id = aws_security_group.{group}.id");
        let _ = writeln!(t, "  {peer_attr} = {peer_val}");
        let _ = writeln!(t, "  ip_protocol = {}", tf::s(&proto));
        if let Some((from, to)) = ports {
            let _ = writeln!(t, "  from_port   = {from}");
            let _ = writeln!(t, "  to_port     = {to}");
        }
        let _ = writeln!(
            t,
            "  description = {}",
            tf::s(&aws_text(&common::reasons(f), 255))
        );
        let _ = writeln!(t, "}}");
    }
}

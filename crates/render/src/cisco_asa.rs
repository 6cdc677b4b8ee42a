//! Cisco ASA: object-groups for every party and service, FQDN objects for
//! DNS names (the ASA resolves them; it needs `dns domain-lookup`), and one
//! extended access-list with remarks naming each rule's requirements.

use crate::cisco_ios::{acl_name, remarks};
use crate::common::{self, why_lines, Gaps, Parties, Split};
use crate::prepare::{prepare, Can, Prepared};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::{FlowSet, PortSet, Protocol};
use std::collections::HashMap;
use std::fmt::Write;

pub struct CiscoAsa;

impl Renderer for CiscoAsa {
    fn name(&self) -> &'static str {
        "cisco-asa"
    }
    fn extension(&self) -> &'static str {
        "cfg"
    }
    fn render(&self, set: &FlowSet, _opts: &RenderOptions) -> Result<Rendered, String> {
        let flows = common::sorted(set);
        let parties = Parties::new(&flows);
        let mut gaps = Gaps::default();
        let can = Can {
            fqdn: true,
            wildcard: false,
            broadcast: true,
        };
        let acl = acl_name(&set.deployment);
        let mut objs = Objects::default();
        let mut rules = String::new();
        for f in &flows {
            let p = prepare(f, can, &mut gaps, "the ASA");
            let src = objs.group(&parties.get(&f.src).ident, &p.src);
            let dst = objs.group(&parties.get(&f.dst).ident, &p.dst);
            entries(&p, &acl, &src, &dst, &mut objs, &mut gaps, &mut rules);
        }
        let mut t = String::new();
        // How an ASA applies access rules (Cisco ASA Series CLI Configuration
        // Guide, "Configuring Access Rules": "Implicit Deny" gives the order
        // interface rule, global rule, implicit deny; "Implicit Permits": an
        // interface without an access group lets traffic from a higher to a
        // lower security level through, which binding an ACL ends. Command
        // reference `access-group` and `access-list extended ... line N`.)
        // So the list carries no deny of its own: merged into the ACL
        // already on an interface, above its final deny, it adds only its
        // permits; bound alone, the implicit deny closes it.
        common::header(
            &mut t,
            "!",
            &format!(
                "Cisco ASA access-list for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Permits only, no final deny: traffic not listed falls to the ACL's implicit deny.",
                "Apply on the interface the sources enter (find its inbound ACL with",
                "`show running-config access-group`):",
                &format!("- it has one (EXISTING): rename {acl} to EXISTING below and insert each"),
                "  entry above EXISTING's final deny with `access-list EXISTING line N extended",
                "  ...` (an entry without `line` lands after that deny and never matches).",
                &format!(
                    "- it has none: `access-group {acl} in interface <nameif>`. This ends the"
                ),
                "  security-level permits of that interface (higher to lower level): add to this",
                "  ACL first the permits for everything else that enters it, or that is cut.",
                &format!(
                    "Do not use `access-group {acl} global`: a global ACL's implicit deny ends the"
                ),
                "security-level permits on every interface.",
                "The ASA is stateful: replies need no rule. FQDN objects need `dns domain-lookup`",
                "and a DNS server.",
            ],
        );
        t.push_str(&objs.text);
        t.push_str(&rules);
        // A remark, not a comment: it also creates the list when the plan
        // gives it no entry, so binding it never names a missing ACL.
        let _ = writeln!(
            t,
            "access-list {acl} remark end of the permits: the implicit deny takes the rest"
        );
        let _ = writeln!(
            t,
            "! Bound alone, add `access-list {acl} extended deny ip any any log` to log what it drops."
        );
        common::gaps_footer(&mut t, &gaps, "!");
        Ok(gaps.finish(t))
    }
}

#[derive(Default)]
struct Objects {
    text: String,
    groups: HashMap<(String, Split), String>,
    used: HashMap<String, usize>,
    fqdn: HashMap<String, String>,
    services: HashMap<(Protocol, PortSet), String>,
}

impl Objects {
    fn unique(&mut self, base: String) -> String {
        let n = self.used.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}_{n}")
        }
    }

    /// The object-group for a party's addresses (`any` needs none).
    fn group(&mut self, ident: &str, s: &Split) -> String {
        if s.any {
            return "any".into();
        }
        if s.is_empty() {
            return String::new();
        }
        let key = (ident.to_string(), s.clone());
        if let Some(n) = self.groups.get(&key) {
            return format!("object-group {n}");
        }
        let mut body = String::new();
        for n in &s.names {
            let obj = self.fqdn_object(n);
            let _ = writeln!(body, " network-object object {obj}");
        }
        for n in &s.v4 {
            if n.prefix_len() == 32 {
                let _ = writeln!(body, " network-object host {}", n.addr());
            } else {
                let _ = writeln!(body, " network-object {} {}", n.network(), n.netmask());
            }
        }
        for n in &s.v6 {
            if n.prefix_len() == 128 {
                let _ = writeln!(body, " network-object host {}", n.addr());
            } else {
                let _ = writeln!(body, " network-object {n}");
            }
        }
        let name = self.unique(ident.to_ascii_uppercase());
        let _ = writeln!(self.text, "object-group network {name}");
        self.text.push_str(&body);
        self.groups.insert(key, name.clone());
        format!("object-group {name}")
    }

    fn fqdn_object(&mut self, name: &str) -> String {
        if let Some(o) = self.fqdn.get(name) {
            return o.clone();
        }
        let obj = self.unique(format!("DNS_{}", common::ident(name).to_ascii_uppercase()));
        let _ = writeln!(self.text, "object network {obj}");
        let _ = writeln!(self.text, " fqdn {name}");
        self.fqdn.insert(name.to_string(), obj.clone());
        obj
    }

    fn service(&mut self, proto: Protocol, ports: &PortSet) -> String {
        if let Some(s) = self.services.get(&(proto, ports.clone())) {
            return s.clone();
        }
        let base = common::sanitize(
            &format!("{}_{}", proto.as_str().to_ascii_uppercase(), ports).replace(',', "_"),
            |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
            '_',
            60,
        )
        .replace("...", "");
        let name = self.unique(base);
        let _ = writeln!(self.text, "object-group service {name} {proto}");
        for op in crate::cisco_ios::port_ops(ports.ranges()) {
            let _ = writeln!(self.text, " port-object {op}");
        }
        self.services.insert((proto, ports.clone()), name.clone());
        name
    }
}

fn entries(
    p: &Prepared,
    acl: &str,
    src: &str,
    dst: &str,
    objs: &mut Objects,
    gaps: &mut Gaps,
    out: &mut String,
) {
    let f = p.flow;
    let mut why = why_lines(f);
    why.extend(p.comments.iter().cloned());
    let writable = !src.is_empty() && !dst.is_empty() && p.writable();
    let has4 = !p.pairs4().is_empty() || (writable && has_names(p));
    let has6 = !p.pairs6().is_empty() || (writable && has_names(p));
    let icmp = if f.protocol == Protocol::Icmp {
        match common::icmp_of(f) {
            Ok(i) => Some(i),
            Err(e) => {
                why.push(gaps.add(f, "ICMP type", &e));
                None
            }
        }
    } else {
        None
    };
    if f.protocol == Protocol::Icmp {
        why.extend(common::icmp_family_gaps(f, icmp, has4, has6, gaps));
    }
    let mut lines = String::new();
    remarks(&why, &format!("access-list {acl} "), &mut lines);
    out.push_str(&lines);
    if !writable {
        return;
    }
    match f.protocol {
        Protocol::Tcp | Protocol::Udp => {
            let svc = objs.service(f.protocol, &f.ports);
            let _ = writeln!(
                out,
                "access-list {acl} extended permit {} {src} {dst} object-group {svc}",
                f.protocol
            );
        }
        Protocol::Esp => {
            let _ = writeln!(out, "access-list {acl} extended permit esp {src} {dst}");
        }
        Protocol::Icmp => {
            let Some(icmp) = icmp else { return };
            let (t4, t6) = match icmp {
                None => (Some(String::new()), Some(String::new())),
                Some((a, b)) => (a.map(|t| format!(" {t}")), b.map(|t| format!(" {t}"))),
            };
            if let (true, Some(t)) = (has4, t4) {
                let _ = writeln!(out, "access-list {acl} extended permit icmp {src} {dst}{t}");
            }
            if let (true, Some(t)) = (has6, t6) {
                let _ = writeln!(
                    out,
                    "access-list {acl} extended permit icmp6 {src} {dst}{t}"
                );
            }
        }
    }
}

fn has_names(p: &Prepared) -> bool {
    !p.src.names.is_empty() || !p.dst.names.is_empty()
}

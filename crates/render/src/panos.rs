//! PAN-OS: `set` commands for a firewall (single vsys): address objects
//! (FQDN objects for DNS names), address groups per party, service objects
//! with numeric ports, and security rules whose description names the
//! requirements. ICMP is matched by App-ID (`ping`, `icmp`, `ipv6-icmp`).

use crate::common::{self, why_lines, Gaps, Parties, Split};
use crate::prepare::{prepare, Can};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::{FlowSet, PortSet, Protocol};
use std::collections::HashMap;
use std::fmt::Write;

pub struct Panos;

impl Renderer for Panos {
    fn name(&self) -> &'static str {
        "panos"
    }
    fn extension(&self) -> &'static str {
        "txt"
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
        let mut o = Objects::default();
        let mut rules = String::new();
        let mut names: Vec<String> = Vec::new();
        for (i, f) in flows.iter().enumerate() {
            let p = prepare(f, can, &mut gaps, "PAN-OS address objects");
            let mut why = why_lines(f);
            why.extend(p.comments.iter().cloned());
            let mut app_svc = None;
            if p.writable() {
                app_svc = match f.protocol {
                    Protocol::Tcp | Protocol::Udp => {
                        Some(("any".to_string(), o.service(f.protocol, &f.ports)))
                    }
                    // App-ID names ESP; it has no ports to give a service.
                    Protocol::Esp => {
                        Some(("ipsec-esp".to_string(), "application-default".to_string()))
                    }
                    Protocol::Icmp => match common::icmp_of(f) {
                        Err(e) => {
                            why.push(gaps.add(f, "ICMP type", &e));
                            None
                        }
                        Ok(Some((Some(8), _))) => {
                            Some(("ping".to_string(), "application-default".to_string()))
                        }
                        Ok(None) => Some((
                            "[ icmp ipv6-icmp ping ]".to_string(),
                            "application-default".to_string(),
                        )),
                        Ok(Some(_)) => {
                            why.push(gaps.add(
                                f,
                                &format!("ICMP type {}", f.icmp_type.clone().unwrap_or_default()),
                                "PAN-OS rules match ICMP by application; the rule allows every ICMP type (icmp, ipv6-icmp, ping), more than planned",
                            ));
                            Some((
                                "[ icmp ipv6-icmp ping ]".to_string(),
                                "application-default".to_string(),
                            ))
                        }
                    },
                };
            }
            let _ = writeln!(rules);
            for l in &why {
                let _ = writeln!(rules, "# {}", common::one_line(l));
            }
            let Some((app, svc)) = app_svc else { continue };
            let src = o.address(&parties.get(&f.src).ident, &p.src);
            let dst = o.address(&parties.get(&f.dst).ident, &p.dst);
            let name = common::cut(
                &format!(
                    "pp-{:03}-{}-to-{}",
                    i + 1,
                    parties.get(&f.src).ident,
                    parties.get(&f.dst).ident
                ),
                63,
            )
            .replace("...", "");
            names.push(name.clone());
            let _ = writeln!(
                rules,
                "set rulebase security rules {name} from any to any source {src} destination {dst} application {app} service {svc} action allow description \"{}\"",
                common::cut(&common::one_line(&common::reasons(f)).replace(['"', '\\'], "'"), 1024)
            );
        }
        let mut t = String::new();
        // `set` appends a rule at the bottom of the rulebase; `move rulebase
        // security rules NAME before OTHER|top|bottom` places it (PAN-OS CLI
        // configure mode; the XML API's "Move Configuration", where=before).
        // Traffic no rule matches meets the default rules, and with zones
        // left `any` intrazone-default would allow what stays in one zone:
        // only an explicit last rule closes the plan, so the rules end in
        // pp-deny-rest, and the header says when to drop it.
        common::header(
            &mut t,
            "#",
            &format!(
                "PAN-OS security rules for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Paste in configure mode (single-vsys firewall; on Panorama prefix with",
                "`set device-group DG pre-rulebase` instead of `set rulebase`), then commit.",
                "Lines starting with # are comments. Zones are `any`: narrow them to yours.",
                "The firewall is stateful. The LAST rule, pp-deny-rest, denies the rest,",
                "including what stays within one zone (intrazone-default would allow it).",
                "`set` appends rules at the bottom, below the rules already there:",
                "- a firewall for this deployment only (empty rulebase): paste as is.",
                "- a rulebase that ends in your own cleanup rule (CLEANUP): the pp-* rules land",
                "  below it and never match. Leave out the pp-deny-rest line (your cleanup",
                "  closes the rulebase) and move each rule above CLEANUP with the `move`",
                "  commands at the bottom of this file (commented: name your cleanup rule).",
                "- a rulebase that relies on intrazone-default for other traffic: leave out",
                "  pp-deny-rest, or that traffic is denied.",
            ],
        );
        t.push_str(&o.text);
        t.push_str(&rules);
        // PAN-OS's intrazone-default allows whatever stays within one zone:
        // with zones left `any`, only an explicit last rule denies the rest.
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "# Everything the plan does not list (leave out on a rulebase with its own cleanup rule)."
        );
        let _ = writeln!(
            t,
            "set rulebase security rules pp-deny-rest from any to any source any destination any application any service any action deny description \"portplan: the plan allows nothing else\""
        );
        if !names.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# On a rulebase that ends in a cleanup rule (CLEANUP), place these above it, in order:"
            );
            for n in &names {
                let _ = writeln!(t, "#   move rulebase security rules {n} before CLEANUP");
            }
        }
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

#[derive(Default)]
struct Objects {
    text: String,
    addrs: HashMap<String, String>,
    groups: HashMap<(String, Split), String>,
    services: HashMap<(Protocol, PortSet), String>,
    used: HashMap<String, usize>,
}

impl Objects {
    fn unique(&mut self, base: String) -> String {
        let base = common::cut(&base, 63).replace("...", "");
        let n = self.used.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}_{n}")
        }
    }

    fn object(&mut self, key: String, kind: &str, value: String) -> String {
        if let Some(n) = self.addrs.get(&key) {
            return n.clone();
        }
        let name = self.unique(common::ident(&key));
        let _ = writeln!(self.text, "set address {name} {kind} {value}");
        self.addrs.insert(key, name.clone());
        name
    }

    fn address(&mut self, ident: &str, s: &Split) -> String {
        if s.any {
            return "any".into();
        }
        let key = (ident.to_string(), s.clone());
        if let Some(n) = self.groups.get(&key) {
            return n.clone();
        }
        let mut members = Vec::new();
        for n in &s.v4 {
            members.push(self.object(format!("net {n}"), "ip-netmask", n.to_string()));
        }
        for n in &s.v6 {
            members.push(self.object(format!("net {n}"), "ip-netmask", n.to_string()));
        }
        for n in &s.names {
            members.push(self.object(format!("dns {n}"), "fqdn", n.clone()));
        }
        let name = self.unique(format!("grp_{ident}"));
        let _ = writeln!(
            self.text,
            "set address-group {name} static [ {} ]",
            members.join(" ")
        );
        self.groups.insert(key, name.clone());
        name
    }

    fn service(&mut self, proto: Protocol, ports: &PortSet) -> String {
        if let Some(s) = self.services.get(&(proto, ports.clone())) {
            return s.clone();
        }
        let name = self.unique(format!(
            "pp-{proto}-{}",
            ports.to_string().replace(',', "_")
        ));
        let _ = writeln!(
            self.text,
            "set service {name} protocol {proto} port {ports}"
        );
        self.services.insert((proto, ports.clone()), name.clone());
        name
    }
}

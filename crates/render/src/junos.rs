//! Junos: SRX global security policies in `set` form (load with
//! `load set terminal`). Global policies need no zones, which a plan does
//! not know; the SRX is stateful, so replies need no policy. Addresses go in
//! the global address book, DNS names as `dns-name` entries.

use crate::common::{self, why_lines, Gaps, Parties, Split};
use crate::prepare::{prepare, Can};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::{FlowSet, PortSet, Protocol};
use std::collections::HashMap;
use std::fmt::Write;

pub struct Junos;

const AB: &str = "set security address-book global";

impl Renderer for Junos {
    fn name(&self) -> &'static str {
        "junos"
    }
    fn extension(&self) -> &'static str {
        "conf"
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
        let mut book = Book::default();
        let mut rules = String::new();
        let mut policies: Vec<String> = Vec::new();
        for (i, f) in flows.iter().enumerate() {
            let p = prepare(f, can, &mut gaps, "Junos address books");
            let mut why = why_lines(f);
            why.extend(p.comments.iter().cloned());
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
            // A DNS name may resolve to either family.
            let names = !p.src.names.is_empty() || !p.dst.names.is_empty();
            let has4 = !p.pairs4().is_empty() || names;
            let has6 = !p.pairs6().is_empty() || names;
            if f.protocol == Protocol::Icmp {
                why.extend(common::icmp_family_gaps(f, icmp, has4, has6, &mut gaps));
            }
            let _ = writeln!(rules);
            for l in &why {
                let _ = writeln!(rules, "# {}", common::one_line(l));
            }
            if !p.writable() || (f.protocol == Protocol::Icmp && icmp.is_none()) {
                continue;
            }
            let src = book.address(&parties.get(&f.src).ident, &p.src);
            let dst = book.address(&parties.get(&f.dst).ident, &p.dst);
            let app = match icmp {
                Some(icmp) => book.icmp_app(icmp, has4, has6),
                None => book.app(f.protocol, &f.ports),
            };
            let Some(app) = app else { continue };
            let pol = common::cut(
                &format!(
                    "pp-{:03}-{}-to-{}",
                    i + 1,
                    parties.get(&f.src).ident,
                    parties.get(&f.dst).ident
                ),
                63,
            )
            .replace("...", "");
            let base = format!("set security policies global policy {pol}");
            policies.push(pol.clone());
            let _ = writeln!(rules, "{base} match source-address {src}");
            let _ = writeln!(rules, "{base} match destination-address {dst}");
            let _ = writeln!(rules, "{base} match application {app}");
            let _ = writeln!(rules, "{base} then permit");
            let _ = writeln!(
                rules,
                "{base} description \"{}\"",
                desc(&common::reasons(f))
            );
        }
        let mut t = String::new();
        // Junos appends a new policy at the end of its list; `insert ...
        // before` places it (Juniper, "Reordering Security Policies"; CLI
        // User Guide, "insert"). Global policies are looked up after the
        // zone-pair policies and before the default policy (Juniper,
        // "Global Security Policies"). So the policies carry no deny of
        // their own: the default policy (deny-all) or the device's own
        // cleanup policy closes the list, and they go above that cleanup.
        common::header(
            &mut t,
            "#",
            &format!(
                "Junos SRX global security policies for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Permits only, no final deny: traffic not listed falls to the default policy",
                "(deny-all) or to your own cleanup policy. Load with `load set terminal` (or",
                "`load set FILE`), then `commit check`. New policies go to the END of the global",
                "list: if it ends in a cleanup policy (`show security policies global`), place",
                "each pp-* policy above it: the `insert` commands at the bottom of this file",
                "(commented: write your cleanup policy's name for CLEANUP).",
                "Global policies are looked up only when no zone-pair policy matched: where a",
                "zone pair ends in its own deny-all, write these policies into that pair",
                "instead (`global` -> `from-zone X to-zone Y`) and insert them before its deny.",
                "dns-name entries need `system name-server`. For a stateless router (MX/EX)",
                "the same flows need a `firewall family inet filter` instead.",
            ],
        );
        t.push_str(&book.text);
        t.push_str(&book.apps);
        t.push_str(&rules);
        if !policies.is_empty() {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "# End of the policies; the default policy (deny-all) takes the rest. If the global"
            );
            let _ = writeln!(
                t,
                "# list ends in a cleanup policy (CLEANUP), place these above it (one by one, in order):"
            );
            for pol in &policies {
                let _ = writeln!(
                    t,
                    "#   insert security policies global policy {pol} before policy CLEANUP"
                );
            }
        }
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

fn desc(s: &str) -> String {
    common::cut(&common::one_line(s).replace(['"', '\\'], "'"), 900)
}

#[derive(Default)]
struct Book {
    text: String,
    apps: String,
    addrs: HashMap<String, String>,
    sets: HashMap<(String, Split), String>,
    used: HashMap<String, usize>,
    app_names: HashMap<String, String>,
}

impl Book {
    fn unique(&mut self, base: String) -> String {
        let n = self.used.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}_{n}")
        }
    }

    fn entry(&mut self, key: String, value: String) -> String {
        if let Some(n) = self.addrs.get(&key) {
            return n.clone();
        }
        let name = self.unique(common::cut(&common::ident(&key), 63).replace("...", ""));
        let _ = writeln!(self.text, "{AB} address {name} {value}");
        self.addrs.insert(key, name.clone());
        name
    }

    /// An address-set for a party (`any` needs none).
    fn address(&mut self, ident: &str, s: &Split) -> String {
        if s.any {
            return "any".into();
        }
        let key = (ident.to_string(), s.clone());
        if let Some(n) = self.sets.get(&key) {
            return n.clone();
        }
        let mut members = Vec::new();
        for n in &s.v4 {
            members.push(self.entry(format!("net {n}"), n.to_string()));
        }
        for n in &s.v6 {
            members.push(self.entry(format!("net {n}"), n.to_string()));
        }
        for n in &s.names {
            members.push(self.entry(format!("dns {n}"), format!("dns-name {n}")));
        }
        let name = self.unique(format!("set_{ident}"));
        for m in members {
            let _ = writeln!(self.text, "{AB} address-set {name} address {m}");
        }
        self.sets.insert(key, name.clone());
        name
    }

    fn app(&mut self, proto: Protocol, ports: &PortSet) -> Option<String> {
        let key = if proto.has_ports() {
            format!("{proto}_{ports}")
        } else {
            proto.to_string()
        };
        if let Some(a) = self.app_names.get(&key) {
            return Some(a.clone());
        }
        let name = self
            .unique(common::cut(&format!("pp-{}", key.replace(',', "_")), 63).replace("...", ""));
        if !proto.has_ports() {
            // ESP: the protocol alone.
            let _ = writeln!(
                self.apps,
                "set applications application {name} term t1 protocol {proto}"
            );
        }
        for (i, r) in ports.ranges().iter().enumerate() {
            let _ = writeln!(
                self.apps,
                "set applications application {name} term t{} protocol {proto} destination-port {r}",
                i + 1
            );
        }
        self.app_names.insert(key, name.clone());
        Some(name)
    }

    fn icmp_app(
        &mut self,
        icmp: Option<(Option<u8>, Option<u8>)>,
        has4: bool,
        has6: bool,
    ) -> Option<String> {
        let mut terms = Vec::new();
        match icmp {
            None => {
                if has4 {
                    terms.push("protocol icmp".to_string());
                }
                if has6 {
                    terms.push("protocol icmp6".to_string());
                }
            }
            Some((t4, t6)) => {
                if let (true, Some(t)) = (has4, t4) {
                    terms.push(format!("protocol icmp icmp-type {t}"));
                }
                if let (true, Some(t)) = (has6, t6) {
                    terms.push(format!("protocol icmp6 icmp6-type {t}"));
                }
            }
        }
        if terms.is_empty() {
            return None;
        }
        let key = terms.join("_");
        if let Some(a) = self.app_names.get(&key) {
            return Some(a.clone());
        }
        let name = self.unique(
            common::cut(
                &format!("pp-{}", common::ident(&key.replace("protocol ", ""))),
                63,
            )
            .replace("...", ""),
        );
        for (i, term) in terms.iter().enumerate() {
            let _ = writeln!(
                self.apps,
                "set applications application {name} term t{} {term}",
                i + 1
            );
        }
        self.app_names.insert(key, name.clone());
        Some(name)
    }
}

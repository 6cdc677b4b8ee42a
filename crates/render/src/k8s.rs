//! Kubernetes: a NetworkPolicy per destination party (YAML stream). Pods of
//! a party carry the label `party.portplan.dev/<name>: member`, one key per
//! party, since a pod (a host) can be in several parties; sources are both
//! pods with their party label and the party's address blocks, so the rule
//! holds whether the source runs in the cluster or outside it. Policies
//! govern ingress only; egress is left open.

use crate::common::{self, why_lines, Gaps, Parties};
use crate::prepare::{prepare, Can, Prepared};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::{FlowSet, Side};
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct K8s;

/// The prefix of the party label keys; the value is always `member`.
const LABEL: &str = "party.portplan.dev";

/// A label key's name part: at most 63 of `[A-Za-z0-9_.-]`, alphanumeric
/// at both ends.
fn label_value(ident: &str) -> String {
    let mut v = ident.replace('_', "-");
    v.truncate(63);
    v.trim_matches('-').to_string()
}

/// `party.portplan.dev/<name>: member`.
fn party_label(ident: &str) -> String {
    format!("{LABEL}/{}: member", label_value(ident))
}

fn q(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::Value::String(common::one_line(s)).to_string()
}

impl Renderer for K8s {
    fn name(&self) -> &'static str {
        "k8s"
    }
    fn extension(&self) -> &'static str {
        "yaml"
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
                "Kubernetes NetworkPolicies for deployment {}",
                common::one_line(&set.deployment)
            ),
            &[
                "Apply with `kubectl apply -n NAMESPACE -f FILE`. Label each party's pods",
                &format!("`{LABEL}/<name>: member` (the names are in each policy's podSelector);"),
                "a pod in several parties carries each of their labels.",
                "Ingress only: selected pods accept just what is listed; egress is not restricted.",
                "Labelling a pod isolates its ingress: what no NetworkPolicy (these or yours)",
                "allows is dropped, so cover its other clients (ingress controller, monitoring)",
                "before labelling it. Policies add up: nothing here removes what others allow.",
                "Pod selectors match pods in the policy's own namespace.",
            ],
        );
        // Destination party -> its ingress rules (comment lines, YAML rule).
        let mut by_dst: BTreeMap<&Side, Vec<(Vec<String>, String)>> = BTreeMap::new();
        let mut loose: Vec<String> = Vec::new();
        for f in &flows {
            let mut why = why_lines(f);
            if f.scope != Scope::Loopback && f.scope != Scope::Broadcast && !f.protocol.has_ports()
            {
                // ICMP, ESP: a policy without ports would admit every protocol.
                let what = f.protocol.as_str().to_ascii_uppercase();
                why.push(gaps.add(f, &what, "NetworkPolicy matches TCP, UDP and SCTP only"));
                loose.extend(why);
                continue;
            }
            if f.scope == Scope::Network && common::outside_side(&f.dst) {
                why.push(
                    "destination is outside the cluster: egress is not restricted, no rule needed"
                        .into(),
                );
                loose.extend(why);
                continue;
            }
            let p = prepare(f, can, &mut gaps, "NetworkPolicy");
            why.extend(p.comments.iter().cloned());
            if p.dst.any && !p.src.is_empty() {
                why.push("destination is outside the cluster (any): egress is not restricted, no rule needed".into());
                loose.extend(why);
                continue;
            }
            if !p.writable() || p.dst.is_empty() {
                loose.extend(why);
                continue;
            }
            let rule = ingress_rule(&p, &parties);
            by_dst.entry(&f.dst).or_default().push((why, rule));
        }
        for (dst, rules) in &by_dst {
            let party = parties.get(dst);
            let v = label_value(&party.ident);
            let _ = writeln!(t, "---");
            let _ = writeln!(t, "# {} ({})", common::one_line(&party.title), Split(dst));
            let _ = writeln!(t, "apiVersion: networking.k8s.io/v1");
            let _ = writeln!(t, "kind: NetworkPolicy");
            let _ = writeln!(t, "metadata:");
            let _ = writeln!(
                t,
                "  name: portplan-{}",
                v.to_ascii_lowercase().replace(['_', '.'], "-")
            );
            let _ = writeln!(t, "  labels:");
            let _ = writeln!(t, "    app.kubernetes.io/managed-by: portplan");
            let _ = writeln!(t, "  annotations:");
            let _ = writeln!(t, "    portplan.dev/deployment: {}", q(&set.deployment));
            let _ = writeln!(t, "spec:");
            let _ = writeln!(t, "  podSelector:");
            let _ = writeln!(t, "    matchLabels:");
            let _ = writeln!(t, "      {}", party_label(&party.ident));
            let _ = writeln!(t, "  policyTypes:");
            let _ = writeln!(t, "    - Ingress");
            let _ = writeln!(t, "  ingress:");
            for (why, rule) in rules {
                for l in why {
                    let _ = writeln!(t, "    # {}", common::one_line(l));
                }
                t.push_str(rule);
            }
        }
        if !loose.is_empty() {
            let _ = writeln!(t, "---");
            let _ = writeln!(t, "# Flows without a policy:");
            for l in &loose {
                let _ = writeln!(t, "# {}", common::one_line(l));
            }
        }
        common::gaps_footer(&mut t, &gaps, "#");
        Ok(gaps.finish(t))
    }
}

struct Split<'a>(&'a Side);

impl std::fmt::Display for Split<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a: Vec<String> = self.0.addrs.iter().map(ToString::to_string).collect();
        f.write_str(&common::one_line(&a.join(", ")))
    }
}

fn ingress_rule(p: &Prepared, parties: &Parties) -> String {
    let f = p.flow;
    let mut r = String::new();
    let reason = q(&common::reasons(f));
    if p.src.any {
        let _ = writeln!(r, "    - ports:  # {}", reason.trim_matches('"'));
    } else {
        let _ = writeln!(r, "    - from:  # {}", reason.trim_matches('"'));
        if !f.src.labels.is_empty() {
            let _ = writeln!(r, "        - podSelector:");
            let _ = writeln!(r, "            matchLabels:");
            let _ = writeln!(
                r,
                "              {}",
                party_label(&parties.get(&f.src).ident)
            );
        }
        for c in p.src.cidrs() {
            let _ = writeln!(r, "        - ipBlock:");
            let _ = writeln!(r, "            cidr: {c}");
        }
        let _ = writeln!(r, "      ports:");
    }
    let proto = f.protocol.as_str().to_ascii_uppercase();
    for range in f.ports.ranges() {
        let _ = writeln!(r, "        - protocol: {proto}");
        let _ = writeln!(r, "          port: {}", range.low);
        if !range.is_single() {
            let _ = writeln!(r, "          endPort: {}", range.high);
        }
    }
    r
}

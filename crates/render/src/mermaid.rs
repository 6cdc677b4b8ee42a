//! Mermaid: a flowchart of who talks to whom, one node per party and one
//! edge per flow labelled with protocol and ports. Broadcast edges are
//! thick, loopback edges dotted; `%%` comments name each edge's requirements.

use crate::common::{self, Parties};
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::FlowSet;
use std::fmt::Write;

pub struct Mermaid;

/// Text inside a quoted Mermaid label: quotes and angle brackets become
/// entity codes so they cannot end the label or open HTML.
fn label(s: &str) -> String {
    common::one_line(s)
        .replace('#', "#35;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

impl Renderer for Mermaid {
    fn name(&self) -> &'static str {
        "mermaid"
    }
    fn extension(&self) -> &'static str {
        "mmd"
    }
    fn render(&self, set: &FlowSet, _opts: &RenderOptions) -> Result<Rendered, String> {
        let flows = common::sorted(set);
        let parties = Parties::new(&flows);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "%% portplan: who talks to whom in deployment {}",
            common::one_line(&set.deployment)
        );
        let _ = writeln!(t, "flowchart LR");
        for (side, party) in parties.iter() {
            let addrs: Vec<String> = side.addrs.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                t,
                "    n_{}[\"{}<br/>{}\"]",
                party.ident,
                label(&party.title),
                label(&addrs.join(", "))
            );
        }
        for f in &flows {
            let _ = writeln!(t, "    %% {}", common::one_line(&common::reasons(f)));
            let mut text = common::service_phrase(f);
            let arrow = match f.scope {
                Scope::Network => "-->",
                Scope::Broadcast => {
                    text.push_str(" broadcast");
                    "==>"
                }
                Scope::Loopback => {
                    text.push_str(" loopback");
                    "-.->"
                }
            };
            if !f.required {
                text.push_str(" (optional)");
            }
            let _ = writeln!(
                t,
                "    n_{} {arrow}|\"{}\"| n_{}",
                parties.get(&f.src).ident,
                label(&text),
                parties.get(&f.dst).ident
            );
        }
        Ok(Rendered {
            text: t,
            unexpressed: Vec::new(),
        })
    }
}

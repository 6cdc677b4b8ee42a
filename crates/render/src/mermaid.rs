//! Mermaid: a flowchart of who talks to whom, one node per host, network or
//! outside party (see `picture`) and one edge per pair labelled with every
//! protocol and port between them. Broadcast edges are thick, loopback edges
//! dotted; `%%` comments name each edge's requirements.

use crate::common;
use crate::picture::Picture;
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
    fn render(&self, set: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String> {
        let pic = Picture::new(set, opts);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "%% portplan: who talks to whom in deployment {}",
            common::one_line(&set.deployment)
        );
        let _ = writeln!(t, "flowchart LR");
        for n in &pic.nodes {
            let text = if n.addrs.is_empty() {
                label(&n.name)
            } else {
                format!("{}<br/>{}", label(&n.name), label(&n.addrs.join(", ")))
            };
            let _ = writeln!(t, "    n_{}[\"{text}\"]", n.ident);
        }
        for e in &pic.edges {
            let _ = writeln!(t, "    %% {}", common::one_line(&e.reasons.join(", ")));
            let mut text = e.label();
            let arrow = match e.scope {
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
            let _ = writeln!(
                t,
                "    n_{} {arrow}|\"{}\"| n_{}",
                pic.nodes[e.src].ident,
                label(&text),
                pic.nodes[e.dst].ident
            );
        }
        Ok(Rendered {
            text: t,
            unexpressed: Vec::new(),
        })
    }
}

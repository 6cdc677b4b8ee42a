//! Graphviz DOT: the same picture as Mermaid (one node per host, see
//! `picture`) for `dot -Tsvg`. Each edge's
//! tooltip and the comment above it name its requirements. Node ids are
//! quoted, so a party called `node` or `edge` is no keyword.

use crate::common;
use crate::picture::Picture;
use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::catalog::Scope;
use portplan_model::FlowSet;
use std::fmt::Write;

pub struct Dot;

/// A DOT double-quoted string's content.
fn q(s: &str) -> String {
    common::one_line(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

impl Renderer for Dot {
    fn name(&self) -> &'static str {
        "dot"
    }
    fn extension(&self) -> &'static str {
        "dot"
    }
    fn render(&self, set: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String> {
        let pic = Picture::new(set, opts);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "// portplan: who talks to whom in deployment {}",
            common::one_line(&set.deployment)
        );
        let _ = writeln!(t, "digraph portplan {{");
        let _ = writeln!(t, "  rankdir=LR;");
        let _ = writeln!(t, "  label=\"{}\";", q(&set.deployment));
        let _ = writeln!(t, "  node [shape=box, fontname=\"Helvetica\"];");
        let _ = writeln!(t, "  edge [fontname=\"Helvetica\", fontsize=10];");
        for n in &pic.nodes {
            let text = if n.addrs.is_empty() {
                q(&n.name)
            } else {
                format!("{}\\n{}", q(&n.name), q(&n.addrs.join(", ")))
            };
            let _ = writeln!(t, "  \"{}\" [label=\"{text}\"];", n.ident);
        }
        for e in &pic.edges {
            let reasons = e.reasons.join(", ");
            let _ = writeln!(t, "  // {}", common::one_line(&reasons));
            let mut attrs = vec![
                format!("label=\"{}\"", q(&e.label())),
                format!("tooltip=\"{}\"", q(&reasons)),
            ];
            match e.scope {
                Scope::Network => {}
                Scope::Broadcast => attrs.push("style=bold, xlabel=\"broadcast\"".into()),
                Scope::Loopback => attrs.push("style=dotted, xlabel=\"loopback\"".into()),
            }
            if !e.required {
                attrs.push("color=gray40".into());
            }
            let _ = writeln!(
                t,
                "  \"{}\" -> \"{}\" [{}];",
                pic.nodes[e.src].ident,
                pic.nodes[e.dst].ident,
                attrs.join(", ")
            );
        }
        let _ = writeln!(t, "}}");
        Ok(Rendered {
            text: t,
            unexpressed: Vec::new(),
        })
    }
}

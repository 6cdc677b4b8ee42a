//! Graphviz DOT: the same picture as Mermaid for `dot -Tsvg`. Each edge's
//! tooltip and the comment above it name its requirements. Node ids are
//! quoted, so a party called `node` or `edge` is no keyword.

use crate::common::{self, Parties};
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
    fn render(&self, set: &FlowSet, _opts: &RenderOptions) -> Result<Rendered, String> {
        let flows = common::sorted(set);
        let parties = Parties::new(&flows);
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
        for (side, party) in parties.iter() {
            let addrs: Vec<String> = side.addrs.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                t,
                "  \"{}\" [label=\"{}\\n{}\"];",
                party.ident,
                q(&party.title),
                q(&addrs.join(", "))
            );
        }
        for f in &flows {
            let reasons = common::reasons(f);
            let _ = writeln!(t, "  // {}", common::one_line(&reasons));
            let mut attrs = vec![
                format!("label=\"{}\"", q(&common::service_phrase(f))),
                format!("tooltip=\"{}\"", q(&reasons)),
            ];
            match f.scope {
                Scope::Network => {}
                Scope::Broadcast => attrs.push("style=bold, xlabel=\"broadcast\"".into()),
                Scope::Loopback => attrs.push("style=dotted, xlabel=\"loopback\"".into()),
            }
            if !f.required {
                attrs.push("color=gray40".into());
            }
            let _ = writeln!(
                t,
                "  \"{}\" -> \"{}\" [{}];",
                parties.get(&f.src).ident,
                parties.get(&f.dst).ident,
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

//! Terraform files as the cloud readers need them: top-level blocks with
//! their line, attributes as values, references as their text
//! (`aws_security_group.web.id`). Parsed by hcl-edit, which keeps spans.

use crate::words::line_of;
use hcl::edit::structure::{Body as EditBody, Structure};
use hcl::edit::Span;
use hcl::{Body, Expression};
use portplan_model::{Diagnostic, Location};

/// One top-level block: `resource "aws_security_group" "web" { ... }`.
#[derive(Debug, Clone)]
pub struct TfBlock {
    /// `resource`, `variable`, `data`, ...
    pub kind: String,
    pub labels: Vec<String>,
    /// 1-based line of the block's first line.
    pub line: usize,
    pub body: Body,
    /// 1-based lines of the body's attributes and nested blocks, in order.
    pub lines: Vec<(String, usize)>,
}

impl TfBlock {
    /// The line of an attribute or nested block (the block's own line if absent).
    pub fn line_of(&self, key: &str) -> usize {
        self.lines
            .iter()
            .find(|(k, _)| k == key)
            .map_or(self.line, |(_, l)| *l)
    }
    pub fn attr(&self, key: &str) -> Option<&Expression> {
        attr(&self.body, key)
    }
}

/// Every top-level block of a Terraform file.
pub fn blocks(text: &str, file: &str) -> Result<Vec<TfBlock>, Diagnostic> {
    let body: EditBody = text.parse().map_err(|e: hcl::edit::parser::Error| {
        let loc = e.location();
        Diagnostic::error(file, format!("not valid HCL: {}", e.message())).at(Some(Location {
            line: loc.line(),
            column: loc.column(),
        }))
    })?;
    let mut out = Vec::new();
    for s in body.iter() {
        let Structure::Block(b) = s else { continue };
        let line = b.span().map_or(1, |r| line_of(text, r.start));
        let lines = b
            .body
            .iter()
            .map(|x| match x {
                Structure::Attribute(a) => (
                    a.key.as_str().to_string(),
                    a.span().map_or(line, |r| line_of(text, r.start)),
                ),
                Structure::Block(inner) => (
                    inner.ident.as_str().to_string(),
                    inner.span().map_or(line, |r| line_of(text, r.start)),
                ),
            })
            .collect();
        let labels = b
            .labels
            .iter()
            .map(|l| match l {
                hcl::edit::structure::BlockLabel::String(s) => s.as_str().to_string(),
                hcl::edit::structure::BlockLabel::Ident(i) => i.as_str().to_string(),
            })
            .collect();
        let block: hcl::Block = b.clone().into();
        out.push(TfBlock {
            kind: b.ident.as_str().to_string(),
            labels,
            line,
            body: block.body,
            lines,
        });
    }
    Ok(out)
}

/// An attribute of a body.
pub fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

/// Nested blocks of a body by name (`ingress`, `allow`).
pub fn nested<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a hcl::Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == ident)
}

/// A string, number or boolean as text; a reference or other expression
/// as the text Terraform would show (`var.vpc_id`).
pub fn text(e: &Expression) -> String {
    match e {
        Expression::String(s) => s.clone(),
        Expression::Number(n) => n.to_string(),
        Expression::Bool(b) => b.to_string(),
        Expression::Null => String::new(),
        other => hcl::format::to_string(other).unwrap_or_default(),
    }
}

/// Whether the expression is a literal (not a reference, function call or
/// template with interpolation): only literals can be read for certain.
pub fn is_literal(e: &Expression) -> bool {
    match e {
        Expression::String(_) | Expression::Number(_) | Expression::Bool(_) | Expression::Null => {
            true
        }
        Expression::Array(v) => v.iter().all(is_literal),
        _ => false,
    }
}

/// A list of strings (`["10.0.0.0/8", "192.168.0.0/16"]`); a single string
/// as a one-element list.
pub fn list(e: &Expression) -> Vec<String> {
    match e {
        Expression::Array(v) => v.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_with_lines_and_references() {
        let t = "variable \"x\" {}\n\nresource \"aws_security_group\" \"web\" {\n  name = \"w\"\n  vpc_id = var.vpc_id\n  ports = [\"1\", \"2\"]\n}\n";
        let b = blocks(t, "f.tf").unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].labels, ["aws_security_group", "web"]);
        assert_eq!(b[1].line, 3);
        assert_eq!(b[1].line_of("vpc_id"), 5);
        assert_eq!(text(b[1].attr("vpc_id").unwrap()), "var.vpc_id");
        assert_eq!(list(b[1].attr("ports").unwrap()), ["1", "2"]);
        let e = blocks("resource \"a\" {\n  x = \n}", "f.tf").unwrap_err();
        assert!(matches!(e.line, Some(2 | 3)), "{e}");
    }
}

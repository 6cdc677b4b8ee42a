//! YAML as a tree whose every node keeps its line, built from yaml-rust2's
//! marked event stream (the Kubernetes reader needs the line of each peer
//! and port, which a deserialised value no longer has).
//!
//! The tree is built with an explicit stack (yaml-rust2's own `load`
//! recurses once per nesting level, which a hostile file could use to
//! overflow the stack), nesting is capped, and aliases are expanded within
//! a node budget (an alias bomb is an error, not an out-of-memory).

use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Deeper nesting than any Kubernetes object has.
const MAX_DEPTH: usize = 128;
/// Nodes a file may expand to (aliases included).
const MAX_NODES: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `~`, `null`, an empty value.
    Null,
    /// A scalar; `plain` when unquoted (a plain `80` is a number, `"80"` a string).
    Str {
        s: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    /// 1-based line and column where the node starts.
    pub line: usize,
    pub col: usize,
}

impl Node {
    fn null(line: usize, col: usize) -> Node {
        Node {
            value: Value::Null,
            line,
            col,
        }
    }
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(m) => m.iter().find(|e| e.key == key),
            _ => None,
        }
    }
    /// The value of `key` in a mapping, unless it is null.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value).filter(|n| !n.is_null())
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    pub fn str(&self) -> Option<&str> {
        match &self.value {
            Value::Str { s, .. } => Some(s),
            _ => None,
        }
    }
    pub fn seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(v) => Some(v),
            _ => None,
        }
    }
    pub fn map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// What the node is, for messages.
    pub fn what(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing",
            Value::Str { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
    fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(v) => v.iter().map(Node::size).sum(),
            Value::Map(m) => m.iter().map(|e| 1 + e.value.size()).sum(),
            _ => 0,
        }
    }
}

/// A YAML syntax error with its place (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        line: usize,
        col: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        key: Option<(String, usize)>,
        line: usize,
        col: usize,
        anchor: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
}

impl Builder {
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            let size = node.size();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    // A complex key (a mapping as a key) has no name.
                    let k = node.str().map(str::to_string).unwrap_or_default();
                    *key = Some((k, node.line));
                }
                Some((k, line)) => entries.push(Entry {
                    key: k,
                    line,
                    value: node,
                }),
            },
        }
    }
}

/// Every document of a YAML stream, in order (an empty document is a
/// `Null` node).
pub(crate) fn documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
    };
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| YamlError {
            line: e.marker().line().max(1),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
        let (line, col) = (mark.line().max(1), mark.col() + 1);
        b.nodes += 1;
        if b.nodes > MAX_NODES {
            return Err(YamlError {
                line,
                column: col,
                message: format!("the file expands to more than {MAX_NODES} YAML nodes"),
            });
        }
        match ev {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart => b.anchors.clear(),
            Event::Alias(id) => {
                let node = match b.anchors.get(&id) {
                    Some((n, size)) => {
                        b.nodes += size;
                        if b.nodes > MAX_NODES {
                            return Err(YamlError {
                                line,
                                column: col,
                                message: format!(
                                    "aliases expand the file to more than {MAX_NODES} YAML nodes"
                                ),
                            });
                        }
                        Node {
                            line,
                            col,
                            ..n.clone()
                        }
                    }
                    None => Node::null(line, col),
                };
                b.complete(node, 0);
            }
            Event::Scalar(s, style, anchor, tag) => {
                let plain = style == TScalarStyle::Plain;
                let null_tag = tag.as_ref().is_some_and(|t| t.suffix == "null");
                let value = if null_tag
                    || (plain && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
                {
                    Value::Null
                } else {
                    Value::Str { s, plain }
                };
                b.complete(Node { value, line, col }, anchor);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        line,
                        column: col,
                        message: format!(
                            "nesting deeper than {MAX_DEPTH} levels: not a Kubernetes object"
                        ),
                    });
                }
                b.stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        line,
                        col,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        line,
                        col,
                        anchor,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match b.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        line,
                        col,
                        anchor,
                    }) => (
                        Node {
                            value: Value::Seq(items),
                            line,
                            col,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        entries,
                        line,
                        col,
                        anchor,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(entries),
                            line,
                            col,
                        },
                        anchor,
                    ),
                    None => continue,
                };
                b.complete(node, anchor);
            }
        }
    }
    Ok(b.docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_their_lines() {
        let src =
            "# c\n---\na: 1\nlist:\n  - id: x\n    to: [r1, r2]\n  - {}\n---\n---\nb: \"2\"\n";
        let d = documents(src).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].line, 3);
        let list = d[0].get("list").unwrap().seq().unwrap();
        assert_eq!(list[0].line, 5);
        assert_eq!(list[0].entry("to").unwrap().line, 6);
        assert_eq!(list[0].get("to").unwrap().seq().unwrap()[1].line, 6);
        assert_eq!(list[1].line, 7);
        assert!(d[1].is_null());
        assert_eq!(
            d[2].get("b").unwrap().value,
            Value::Str {
                s: "2".into(),
                plain: false
            }
        );
    }

    #[test]
    fn errors_are_located_and_bombs_refused() {
        let e = documents("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
        let deep = "[".repeat(100_000);
        assert!(documents(&deep).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let p = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            ));
        }
        assert!(documents(&bomb).is_err());
    }
}

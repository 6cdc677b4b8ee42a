//! Maps a value's path in a YAML document (`/requirements/3/to`) to its
//! line and column, so semantic errors found after deserialisation can still
//! point at the exact place in the user's file.

use crate::diag::Location;
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

#[derive(Debug, Default, Clone)]
pub struct LocationIndex {
    values: HashMap<String, Location>,
    keys: HashMap<String, Location>,
    duplicates: Vec<Duplicate>,
}

/// A key given twice in one mapping: the deserialiser keeps one silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Path of the key (`/hosts/pg-1`).
    pub path: String,
    pub key: String,
    pub first: Location,
    pub again: Location,
}

impl LocationIndex {
    /// Builds the index; a document that does not parse yields an empty index
    /// (the deserialiser reports the syntax error with its own location).
    pub fn build(src: &str) -> Self {
        let mut b = Builder::default();
        let mut parser = Parser::new_from_str(src);
        if parser.load(&mut b, false).is_err() {
            return LocationIndex::default();
        }
        b.index
    }

    /// Location of the value at `path`, or of its closest ancestor.
    pub fn value(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(l) = self.values.get(p) {
                return Some(*l);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return self.values.get("").copied(),
            }
        }
    }

    /// Keys given twice in one mapping, in file order.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// Location of the key that introduces `path` (falls back to the value).
    pub fn key(&self, path: &str) -> Option<Location> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }
}

/// Keys given twice in one mapping, found without building the index: a
/// clean plan needs no index, and building one for every run cost as much
/// as the plan itself on a large deployment.
pub fn duplicate_keys(src: &str) -> Vec<Duplicate> {
    let mut d = Dups::default();
    let mut parser = Parser::new_from_str(src);
    if parser.load(&mut d, false).is_err() {
        return Vec::new();
    }
    d.found
}

/// One open node: a mapping's keys so far (and whether a key comes next),
/// or a sequence.
enum Open {
    Map {
        seen: HashMap<String, Location>,
        want_key: bool,
    },
    Seq,
}

#[derive(Default)]
struct Dups {
    stack: Vec<Open>,
    found: Vec<Duplicate>,
}

impl Dups {
    /// A node is complete in the enclosing mapping: a key or a value.
    fn done(&mut self) {
        if let Some(Open::Map { want_key, .. }) = self.stack.last_mut() {
            *want_key = !*want_key;
        }
    }
}

impl MarkedEventReceiver for Dups {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Open::Map {
                    seen,
                    want_key: true,
                }) = self.stack.last_mut()
                {
                    match seen.get(&value) {
                        Some(first) => self.found.push(Duplicate {
                            path: String::new(),
                            key: value,
                            first: *first,
                            again: loc(&mark),
                        }),
                        None => {
                            seen.insert(value, loc(&mark));
                        }
                    }
                }
                self.done();
            }
            Event::Alias(_) => self.done(),
            Event::MappingStart(..) => self.stack.push(Open::Map {
                seen: HashMap::new(),
                want_key: true,
            }),
            Event::SequenceStart(..) => self.stack.push(Open::Seq),
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.done();
            }
            _ => {}
        }
    }
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        seen: HashMap<String, Location>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    index: LocationIndex,
}

impl Builder {
    /// Path of the node that starts now, or None when it is a mapping key.
    fn node_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}/{next}");
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, key, .. }) => key.as_ref().map(|k| format!("{path}/{k}")),
        }
    }
    /// A value of the enclosing mapping is complete: expect a key next.
    fn value_done(&mut self) {
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            *key = None;
        }
    }
}

fn loc(m: &Marker) -> Location {
    Location {
        line: m.line(),
        column: m.col() + 1,
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => match self.node_path() {
                Some(p) => {
                    self.index.values.insert(p, loc(&mark));
                    self.value_done();
                }
                None => {
                    if let Some(Frame::Map { path, key, seen }) = self.stack.last_mut() {
                        let kpath = format!("{path}/{value}");
                        match seen.get(&value) {
                            Some(first) => self.index.duplicates.push(Duplicate {
                                path: kpath.clone(),
                                key: value.clone(),
                                first: *first,
                                again: loc(&mark),
                            }),
                            None => {
                                seen.insert(value.clone(), loc(&mark));
                            }
                        }
                        self.index.keys.insert(kpath, loc(&mark));
                        *key = Some(value);
                    }
                }
            },
            Event::Alias(_) => {
                if let Some(p) = self.node_path() {
                    self.index.values.insert(p, loc(&mark));
                }
                self.value_done();
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                // A complex (non-scalar) mapping key gets a placeholder path.
                let p = self.node_path().unwrap_or_else(|| "/?".to_string());
                self.index.values.insert(p.clone(), loc(&mark));
                self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map {
                        path: p,
                        key: None,
                        seen: HashMap::new(),
                    }
                } else {
                    Frame::Seq { path: p, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values_and_keys() {
        let src = "a: 1\nlist:\n  - id: x\n    to: [r1, r2]\n  - id: y\n";
        let ix = LocationIndex::build(src);
        assert_eq!(ix.value("/a"), Some(Location { line: 1, column: 4 }));
        assert_eq!(ix.value("/list/0/to/1").map(|l| l.line), Some(4));
        assert_eq!(ix.value("/list/1/id").map(|l| l.line), Some(5));
        assert_eq!(ix.key("/list/1/id"), Some(Location { line: 5, column: 5 }));
        // Unknown paths fall back to the closest ancestor.
        assert_eq!(ix.value("/list/1/missing").map(|l| l.line), Some(5));
        assert!(ix.duplicates().is_empty());
    }

    #[test]
    fn finds_keys_given_twice() {
        let ix = LocationIndex::build("a: 1\nm:\n  x: 1\n  y: 2\n  x: 3\n");
        let d = ix.duplicates();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].path.as_str(), d[0].first.line, d[0].again.line),
            ("/m/x", 3, 5)
        );
    }
}

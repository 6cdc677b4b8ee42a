//! JSON with the place of every value, for the readers of JSON exports
//! (`aws ec2 describe-security-groups`, `gcloud compute firewall-rules
//! list`, `az network nsg show`, `nft -j list ruleset`): every rule they
//! build keeps the line it was written on, and a syntax error says where it
//! is. serde_json's `Value` keeps no places, so the text is parsed by
//! jsonc-parser (dprint's), whose syntax tree has byte ranges, and turned
//! into [`Node`]s with 1-based lines and columns.
//!
//! Strict RFC 8259 JSON only: every JSON5/JSONC extension of jsonc-parser
//! is switched off (comments, trailing commas, missing commas, unquoted or
//! single-quoted names, hexadecimal, `+1`, `.5`, `Infinity`, extended
//! escapes). Two things it still lets through even so, white space other
//! than JSON's four (`\v`, `\f`, Unicode spaces) and raw control characters
//! inside strings, are refused here by one pass over its tokens. A leading
//! byte order mark is skipped, as editors write one. Unpaired surrogate
//! escapes (`"\ud800"`) are refused, as serde_json refuses them.
//!
//! Nesting deeper than [`MAX_DEPTH`] is refused; jsonc-parser itself stops
//! at 512 levels, so no input can exhaust the stack.

use jsonc_parser::ast;
use jsonc_parser::common::Ranged;
use jsonc_parser::errors::ParseErrorKind;
use jsonc_parser::tokens::Token;
use jsonc_parser::{CollectOptions, ParseOptions};
use portplan_model::{Diagnostic, Location};

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line and column (in characters) of the value's first character.
    pub line: usize,
    pub column: usize,
    pub v: Json,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number as written (`443`, `-1`, `1e3`).
    Num(String),
    Str(String),
    Arr(Vec<Node>),
    /// Members in file order (a repeated name keeps both; `get` finds the
    /// last, as JSON parsers that keep one do).
    Obj(Vec<(String, Node)>),
}

impl Node {
    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.members()
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
    /// A member whose name matches `key` ignoring ASCII case.
    pub fn get_ci(&self, key: &str) -> Option<&Node> {
        self.members()
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }
    /// The members of an object (none for other values).
    pub fn members(&self) -> &[(String, Node)] {
        match &self.v {
            Json::Obj(m) => m,
            _ => &[],
        }
    }
    /// The items of an array (none for other values, and for `null`).
    pub fn items(&self) -> &[Node] {
        match &self.v {
            Json::Arr(v) => v,
            _ => &[],
        }
    }
    pub fn is_obj(&self) -> bool {
        matches!(self.v, Json::Obj(_))
    }
    pub fn is_arr(&self) -> bool {
        matches!(self.v, Json::Arr(_))
    }
    pub fn is_null(&self) -> bool {
        matches!(self.v, Json::Null)
    }
    pub fn str(&self) -> Option<&str> {
        match &self.v {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    /// A string, number or boolean as text.
    pub fn scalar(&self) -> Option<String> {
        match &self.v {
            Json::Str(s) | Json::Num(s) => Some(s.clone()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    /// An integer, written as a number or as a string of one.
    pub fn int(&self) -> Option<i64> {
        match &self.v {
            Json::Num(n) | Json::Str(n) => n.trim().parse().ok(),
            _ => None,
        }
    }
    /// A boolean, written as one or as the string `true` or `false` (any case).
    pub fn bool(&self) -> Option<bool> {
        match &self.v {
            Json::Bool(b) => Some(*b),
            Json::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Json::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
    /// The value as compact JSON on one line (for a rule's or an issue's text).
    pub fn compact(&self) -> String {
        let mut s = String::new();
        write(self, &mut s);
        s
    }
    /// The value as serde_json's, for readers that walk it without places.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            // Every number the parser accepted is one serde_json reads.
            Json::Num(n) => n.parse().map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.clone()),
            Json::Arr(v) => Value::Array(v.iter().map(Node::to_value).collect()),
            Json::Obj(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
            }
        }
    }
}

/// The text from its first object or array on (after a byte order mark
/// and white space), if it starts with one: for the readers' `sniff`.
pub fn document(text: &str) -> Option<&str> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    (t.starts_with('{') || t.starts_with('[')).then_some(t)
}

/// An error at `n`'s place.
pub fn at(file: &str, n: &Node, msg: impl Into<String>) -> Diagnostic {
    located(file, (n.line, n.column), msg)
}

fn located(file: &str, (line, column): (usize, usize), msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(file, msg).at(Some(Location { line, column }))
}

fn write(n: &Node, out: &mut String) {
    match &n.v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(x) => out.push_str(x),
        Json::Str(s) => quote(s, out),
        Json::Arr(v) => {
            out.push('[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        Json::Obj(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                quote(k, out);
                out.push(':');
                write(x, out);
            }
            out.push('}');
        }
    }
}

fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Nesting deeper than this is refused (no export nests past a dozen).
pub const MAX_DEPTH: usize = 200;

/// Turns byte offsets, asked in increasing order, into 1-based lines and
/// columns (characters since the last `\n`) in one pass over the text.
struct Places<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    column: usize,
}

impl Places<'_> {
    fn new(text: &str) -> Places<'_> {
        Places {
            text,
            at: 0,
            line: 1,
            column: 1,
        }
    }
    fn of(&mut self, offset: usize) -> (usize, usize) {
        if offset < self.at {
            (self.at, self.line, self.column) = (0, 1, 1);
        }
        let offset = offset.min(self.text.len());
        for c in self.text.get(self.at..offset).unwrap_or("").chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.at = offset;
        (self.line, self.column)
    }
}

const STRICT: ParseOptions = ParseOptions {
    allow_comments: false,
    allow_loose_object_property_names: false,
    allow_trailing_commas: false,
    allow_missing_commas: false,
    allow_single_quoted_strings: false,
    allow_hexadecimal_numbers: false,
    allow_unary_plus_numbers: false,
    allow_bare_decimal_point_numbers: false,
    allow_non_finite_numbers: false,
    allow_extended_string_escapes: false,
};

/// Parses `text` as one JSON value; an error has the place it was found.
pub fn parse(text: &str, file: &str) -> Result<Node, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let err = |offset: usize, msg: &str| {
        located(
            file,
            Places::new(text).of(offset),
            format!("not valid JSON: {msg}"),
        )
    };
    let collect = CollectOptions {
        tokens: true,
        ..CollectOptions::default()
    };
    let parsed = jsonc_parser::parse_to_ast(text, &collect, &STRICT).map_err(|e| {
        // Errors are placed where serde_json places them: a missing or
        // extra comma at what stands there instead, an unclosed object or
        // array at the end of the text.
        let start = e.range().start;
        let (offset, msg) = match e.kind() {
            ParseErrorKind::ExpectedComma | ParseErrorKind::TrailingCommasNotAllowed => {
                let end = e.range().end;
                let gap = text.get(end..).unwrap_or("");
                let next = end + (gap.len() - gap.trim_start_matches([' ', '\t', '\n', '\r']).len());
                (next, lower_first(&e.kind().to_string()))
            }
            ParseErrorKind::UnterminatedObject | ParseErrorKind::UnterminatedArray => {
                let what = match e.kind() {
                    ParseErrorKind::UnterminatedObject => "object",
                    _ => "array",
                };
                let (line, column) = Places::new(text).of(start);
                let msg = format!(
                    "the JSON ends too early: the {what} at line {line}, column {column} is not closed"
                );
                (text.len(), msg)
            }
            ParseErrorKind::NestingDepthExceeded => {
                (start, format!("nested deeper than {MAX_DEPTH} levels"))
            }
            k => (start, lower_first(&k.to_string())),
        };
        err(offset, &msg)
    })?;
    strict_tokens(text, parsed.tokens.as_deref().unwrap_or(&[])).map_err(|(o, m)| err(o, m))?;
    let Some(root) = parsed.value else {
        return Err(err(
            text.len(),
            "the file is empty: expected JSON (`{` or `[`)",
        ));
    };
    node(&root, &mut Places::new(text), 0)
        .map_err(|o| err(o, &format!("nested deeper than {MAX_DEPTH} levels")))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// What jsonc-parser allows beyond JSON even in its strict options: white
/// space other than JSON's between tokens, raw control characters in strings.
fn strict_tokens(
    text: &str,
    tokens: &[jsonc_parser::tokens::TokenAndRange],
) -> Result<(), (usize, &'static str)> {
    let mut prev = 0;
    for t in tokens
        .iter()
        .map(|t| {
            (
                t.range.start,
                t.range.end,
                matches!(t.token, Token::String(_)),
            )
        })
        .chain([(text.len(), text.len(), false)])
    {
        let (start, end, string) = t;
        let gap = text.get(prev..start).unwrap_or("");
        if let Some(i) = gap.find(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')) {
            return Err((prev + i, "white space JSON does not allow"));
        }
        if string {
            let raw = text.get(start..end).unwrap_or("");
            if let Some(i) = raw.find(|c: char| (c as u32) < 0x20) {
                return Err((start + i, "a control character inside a string"));
            }
        }
        prev = end;
    }
    Ok(())
}

/// The tree with places; an error is the offset of a value nested too deep.
fn node(v: &ast::Value, places: &mut Places, depth: usize) -> Result<Node, usize> {
    if depth > MAX_DEPTH {
        return Err(v.start());
    }
    let (line, column) = places.of(v.start());
    let v = match v {
        ast::Value::NullKeyword(_) => Json::Null,
        ast::Value::BooleanLit(b) => Json::Bool(b.value),
        ast::Value::NumberLit(n) => Json::Num(n.value.to_string()),
        ast::Value::StringLit(s) => Json::Str(s.value.to_string()),
        ast::Value::Array(a) => Json::Arr(
            a.elements
                .iter()
                .map(|x| node(x, places, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        ast::Value::Object(o) => Json::Obj(
            o.properties
                .iter()
                .map(|p| {
                    Ok((
                        p.name.as_str().to_string(),
                        node(&p.value, places, depth + 1)?,
                    ))
                })
                .collect::<Result<_, usize>>()?,
        ),
    };
    Ok(Node { line, column, v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_lines() {
        let t = "{\n  \"a\": [1, -2.5e3,\n    {\"b\": \"x\\u00e9\\\"\"}],\n  \"c\": null\n}";
        let v = parse(t, "f.json").unwrap();
        let a = v.get("a").unwrap();
        assert_eq!((a.line, a.column), (2, 8));
        assert_eq!(a.items()[2].line, 3);
        assert_eq!(a.items()[2].get("b").unwrap().str(), Some("xé\""));
        assert_eq!(a.items()[0].int(), Some(1));
        assert!(v.get("c").unwrap().is_null());
        assert_eq!(
            parse("[1,{\"k\":true}]", "f").unwrap().compact(),
            "[1,{\"k\":true}]"
        );
        // Columns count characters, after a byte order mark.
        let v = parse("\u{feff}{\"é\": [\"ü\", 2]}", "f").unwrap();
        assert_eq!(v.column, 1);
        assert_eq!(v.get_ci("É").map(|x| x.column), None);
        assert_eq!(v.get("é").unwrap().items()[1].column, 13);
        let v = parse("{\"Key\": 1, \"key\": 2}", "f").unwrap();
        assert_eq!(v.get("key").and_then(Node::int), Some(2));
        assert_eq!(v.get_ci("KEY").and_then(Node::int), Some(2));
        assert_eq!(v.members().len(), 2);
        assert_eq!(
            parse("{\"a\": [1.5, \"x\", null, {}]}", "f")
                .unwrap()
                .to_value(),
            serde_json::json!({"a": [1.5, "x", null, {}]})
        );
    }

    #[test]
    fn errors_are_located() {
        for (t, line, col) in [
            // Where the comma is missing or in excess: at what stands there.
            ("{\n  \"a\": 1,\n}", 3, 1),
            ("[1, 2\n  3]", 2, 3),
            // An unclosed object or array: at the end.
            ("{\n  \"a\": [1,\n  {}", 3, 5),
            ("{\"a\" 1}", 1, 6),
            ("\n\n  x", 3, 3),
            ("[\"ab\ncd\"]", 1, 5),
            ("", 1, 1),
            ("  \n ", 2, 2),
            ("[1] [2]", 1, 5),
            ("[01]", 1, 3),
            ("[\u{b}1]", 1, 2),
            ("[1,\u{a0}2]", 1, 4),
            ("// c\n[]", 1, 1),
            ("[1,]", 1, 4),
            ("{a: 1}", 1, 2),
            ("['a']", 1, 2),
            ("[0x1f]", 1, 2),
            ("[+1]", 1, 2),
            ("[.5]", 1, 2),
            ("[NaN]", 1, 2),
            ("[\"\\x41\"]", 1, 3),
            ("[\"\\ud800\"]", 1, 3),
            ("[1e]", 1, 4),
        ] {
            let e = parse(t, "f.json").unwrap_err();
            assert_eq!((e.line, e.column), (Some(line), Some(col)), "{t:?}: {e}");
            assert!(e.message.starts_with("not valid JSON: "), "{e}");
        }
        // No input exhausts the stack.
        for deep in ["[".repeat(100_000), "{\"a\":".repeat(100_000)] {
            let e = parse(&deep, "f").unwrap_err();
            assert!(e.message.contains("nested deeper"), "{e}");
        }
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&ok, "f").is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        let e = parse(&deep, "f").unwrap_err();
        assert_eq!(e.column, Some(MAX_DEPTH + 2), "{e}");
    }
}

//! JSON with the line of every value, for the cloud exports (`aws ec2
//! describe-security-groups`, `gcloud compute firewall-rules list
//! --format=json`): every rule the readers build keeps the line it was
//! written on, and a syntax error says where it is. serde_json's `Value`
//! keeps no places, so this is a small parser of RFC 8259 JSON of its own.

use portplan_model::{Diagnostic, Location};

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line and column of the value's first character.
    pub line: usize,
    pub column: usize,
    pub v: J,
}

#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    /// A number as written (`443`, `-1`, `1e3`).
    Num(String),
    Str(String),
    Arr(Vec<Node>),
    /// Members in file order (a repeated key keeps both; `get` finds the first).
    Obj(Vec<(String, Node)>),
}

impl Node {
    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.v {
            J::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// The members of an object (none for other values).
    pub fn members(&self) -> &[(String, Node)] {
        match &self.v {
            J::Obj(m) => m,
            _ => &[],
        }
    }
    /// The items of an array (none for other values, and for `null`).
    pub fn items(&self) -> &[Node] {
        match &self.v {
            J::Arr(v) => v,
            _ => &[],
        }
    }
    pub fn is_obj(&self) -> bool {
        matches!(self.v, J::Obj(_))
    }
    pub fn is_arr(&self) -> bool {
        matches!(self.v, J::Arr(_))
    }
    pub fn is_null(&self) -> bool {
        matches!(self.v, J::Null)
    }
    pub fn str(&self) -> Option<&str> {
        match &self.v {
            J::Str(s) => Some(s),
            _ => None,
        }
    }
    /// An integer, written as a number or as a string of one.
    pub fn int(&self) -> Option<i64> {
        match &self.v {
            J::Num(n) | J::Str(n) => n.trim().parse().ok(),
            _ => None,
        }
    }
    pub fn bool(&self) -> Option<bool> {
        match &self.v {
            J::Bool(b) => Some(*b),
            J::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            J::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
    /// The value as compact JSON (for a rule's text).
    pub fn compact(&self) -> String {
        let mut s = String::new();
        write(self, &mut s);
        s
    }
}

fn write(n: &Node, out: &mut String) {
    match &n.v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(x) => out.push_str(x),
        J::Str(s) => quote(s, out),
        J::Arr(v) => {
            out.push('[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        J::Obj(m) => {
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
const MAX_DEPTH: usize = 200;

struct P<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
    line: usize,
    /// Byte offset where the current line starts.
    line_start: usize,
    file: &'a str,
}

/// Parses `text` as one JSON value (a leading byte order mark is skipped).
pub fn parse(text: &str, file: &str) -> Result<Node, Diagnostic> {
    let mut p = P {
        b: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        line_start: 0,
        file,
    };
    if text.starts_with('\u{feff}') {
        p.i = 3;
        p.line_start = 3;
    }
    p.ws();
    if p.i >= p.b.len() {
        return Err(p.err("the file is empty: expected JSON (`{` or `[`)"));
    }
    let v = p.value(0)?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

impl P<'_> {
    fn column(&self) -> usize {
        let end = self.i.min(self.b.len());
        let start = self.line_start.min(end);
        self.text
            .get(start..end)
            .map_or(end - start, |s| s.chars().count())
            + 1
    }
    fn err(&self, msg: &str) -> Diagnostic {
        Diagnostic::error(self.file, format!("not valid JSON: {msg}")).at(Some(Location {
            line: self.line,
            column: self.column(),
        }))
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.line_start = self.i;
                }
                _ => break,
            }
        }
    }
    fn value(&mut self, depth: usize) -> Result<Node, Diagnostic> {
        if depth > MAX_DEPTH {
            return Err(self.err("values nest too deeply"));
        }
        let (line, column) = (self.line, self.column());
        let node = |v| Node { line, column, v };
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(node(J::Obj(m)));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("expected a member name in double quotes"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected `:` after the member name"));
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(node(J::Obj(m)));
                        }
                        _ => return Err(self.err("expected `,` or `}` after a member")),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(node(J::Arr(v)));
                }
                loop {
                    self.ws();
                    v.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(node(J::Arr(v)));
                        }
                        _ => return Err(self.err("expected `,` or `]` after an item")),
                    }
                }
            }
            Some(b'"') => Ok(node(J::Str(self.string()?))),
            Some(b't') => self.word("true").map(|_| node(J::Bool(true))),
            Some(b'f') => self.word("false").map(|_| node(J::Bool(false))),
            Some(b'n') => self.word("null").map(|_| node(J::Null)),
            Some(c) if c == b'-' || c.is_ascii_digit() => Ok(node(J::Num(self.number()?))),
            Some(_) => {
                Err(self
                    .err("expected a value (object, array, string, number, true, false or null)"))
            }
            None => Err(self.err("the JSON ends too early")),
        }
    }
    fn word(&mut self, w: &str) -> Result<(), Diagnostic> {
        if self.b.get(self.i..self.i + w.len()) == Some(w.as_bytes()) {
            self.i += w.len();
            Ok(())
        } else {
            Err(self.err(&format!("expected `{w}`")))
        }
    }
    fn number(&mut self) -> Result<String, Diagnostic> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            p.i > s
        };
        if !digits(self) {
            return Err(self.err("expected digits in the number"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(self.err("expected digits after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(self.err("expected digits in the exponent"));
            }
        }
        Ok(self.text.get(start..self.i).unwrap_or("").to_string())
    }
    fn hex4(&mut self) -> Result<u32, Diagnostic> {
        let h = self
            .b
            .get(self.i..self.i + 4)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .ok_or_else(|| self.err("expected four hex digits after `\\u`"))?;
        self.i += 4;
        Ok(h)
    }
    fn string(&mut self) -> Result<String, Diagnostic> {
        // At the opening quote.
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self
                .peek()
                .is_some_and(|c| c != b'"' && c != b'\\' && c >= 0x20)
            {
                self.i += 1;
            }
            if let Some(s) = self.text.get(start..self.i) {
                out.push_str(s);
            }
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err("the string is not closed"));
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let h = self.hex4()?;
                            let c = if (0xd800..0xdc00).contains(&h)
                                && self.b.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                self.i += 2;
                                let l = self.hex4()?;
                                if (0xdc00..0xe000).contains(&l) {
                                    char::from_u32(0x10000 + ((h - 0xd800) << 10) + (l - 0xdc00))
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(h)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err("unknown escape in the string"));
                        }
                    }
                }
                Some(b'\n') | None => return Err(self.err("the string is not closed")),
                Some(_) => return Err(self.err("a control character inside a string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_lines() {
        let t = "{\n  \"a\": [1, -2.5e3,\n    {\"b\": \"x\\u00e9\\\"\"}],\n  \"c\": null\n}";
        let v = parse(t, "f.json").unwrap();
        let a = v.get("a").unwrap();
        assert_eq!(a.line, 2);
        assert_eq!(a.items()[2].line, 3);
        assert_eq!(a.items()[2].get("b").unwrap().str(), Some("xé\""));
        assert_eq!(a.items()[0].int(), Some(1));
        assert!(v.get("c").unwrap().is_null());
        assert_eq!(
            parse("[1,{\"k\":true}]", "f").unwrap().compact(),
            "[1,{\"k\":true}]"
        );
    }

    #[test]
    fn errors_are_located() {
        for (t, line, col) in [
            ("{\n  \"a\": 1,\n}", 3, 1),
            ("[1, 2", 1, 6),
            ("{\"a\" 1}", 1, 6),
            ("\n\n  x", 3, 3),
            ("[\"ab\ncd\"]", 1, 5),
            ("", 1, 1),
        ] {
            let e = parse(t, "f.json").unwrap_err();
            assert_eq!(e.line, Some(line), "{t:?}: {e}");
            assert_eq!(e.column, Some(col), "{t:?}: {e}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse(&deep, "f").is_err());
    }
}

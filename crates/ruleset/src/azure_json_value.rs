//! JSON with places: every value keeps the line and column it starts on, so
//! the Azure JSON reader can name each rule's line. A small parser of RFC
//! 8259 JSON (no comments, no trailing commas), depth-limited so that no
//! input can exhaust the stack.

use std::fmt;

/// One JSON value and where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct J {
    pub line: usize,
    pub column: usize,
    pub v: V,
}

#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Bool(bool),
    /// A number as written (`100`, `1e3`).
    Num(String),
    Str(String),
    Arr(Vec<J>),
    /// Members in file order (a repeated key keeps both).
    Obj(Vec<(String, J)>),
}

impl J {
    /// A member of an object (the last one of that name, as JSON parsers
    /// that keep one do).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn get(&self, key: &str) -> Option<&J> {
        match &self.v {
            V::Obj(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// A member whose name matches `key` ignoring ASCII case.
    pub fn get_ci(&self, key: &str) -> Option<&J> {
        match &self.v {
            V::Obj(m) => m
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_arr(&self) -> Option<&[J]> {
        match &self.v {
            V::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub fn is_obj(&self) -> bool {
        matches!(self.v, V::Obj(_))
    }
    pub fn is_null(&self) -> bool {
        matches!(self.v, V::Null)
    }
    /// A string, number or boolean as text.
    pub fn scalar(&self) -> Option<String> {
        match &self.v {
            V::Str(s) => Some(s.clone()),
            V::Num(n) => Some(n.clone()),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    /// The value as JSON text on one line (for reports).
    pub fn text(&self) -> String {
        let mut s = String::new();
        write_json(self, &mut s);
        s
    }
}

fn write_json(j: &J, out: &mut String) {
    match &j.v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Num(n) => out.push_str(n),
        V::Str(s) => {
            out.push_str(&serde_json::Value::String(s.clone()).to_string());
        }
        V::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(x, out);
            }
            out.push(']');
        }
        V::Obj(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_json(x, out);
            }
            out.push('}');
        }
    }
}

/// Why the text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

const MAX_DEPTH: usize = 200;

struct P<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    line: usize,
    /// Byte offset where the current line starts.
    line_start: usize,
}

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<J, JsonError> {
    let mut p = P {
        s: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        line_start: 0,
    };
    // A byte order mark is not JSON but editors write it.
    if text.starts_with('\u{feff}') {
        p.i = 3;
        p.line_start = 3;
    }
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("text after the end of the JSON document"));
    }
    Ok(v)
}

impl P<'_> {
    fn column(&self) -> usize {
        // Characters, not bytes, since the line start.
        let end = self.i.min(self.s.len());
        let start = self.line_start.min(end);
        self.text
            .get(start..end)
            .map_or(end - start, |t| t.chars().count())
            + 1
    }
    fn err(&self, m: impl Into<String>) -> JsonError {
        JsonError {
            line: self.line,
            column: self.column(),
            message: m.into(),
        }
    }
    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
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
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn value(&mut self, depth: usize) -> Result<J, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let (line, column) = (self.line, self.column());
        let mk = |v| J { line, column, v };
        match self.peek() {
            None => Err(self.err("the JSON ends where a value was expected")),
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(mk(V::Obj(m)));
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
                            return Ok(mk(V::Obj(m)));
                        }
                        _ => return Err(self.err("expected `,` or `}` in an object")),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(mk(V::Arr(a)));
                }
                loop {
                    self.ws();
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(mk(V::Arr(a)));
                        }
                        _ => return Err(self.err("expected `,` or `]` in an array")),
                    }
                }
            }
            Some(b'"') => Ok(mk(V::Str(self.string()?))),
            Some(b't') => self.word("true", mk(V::Bool(true))),
            Some(b'f') => self.word("false", mk(V::Bool(false))),
            Some(b'n') => self.word("null", mk(V::Null)),
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                let n = self.text.get(start..self.i).unwrap_or("").to_string();
                if n.parse::<f64>().is_err() {
                    return Err(JsonError {
                        line,
                        column,
                        message: format!("`{n}` is not a number"),
                    });
                }
                Ok(mk(V::Num(n)))
            }
            Some(_) => {
                let c = self.text.get(self.i..).and_then(|t| t.chars().next());
                Err(self.err(format!(
                    "expected a JSON value, found `{}`",
                    c.unwrap_or('?')
                )))
            }
        }
    }
    fn word(&mut self, w: &str, v: J) -> Result<J, JsonError> {
        if self.s.get(self.i..self.i + w.len()) == Some(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(self.err(format!("expected `{w}`")))
        }
    }
    /// A string at `"`; the position moves past its closing quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&c) = self.s.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            if let Some(t) = self.text.get(start..self.i) {
                out.push_str(t);
            }
            match self.peek() {
                None => return Err(self.err("a string is not closed")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err("a string is not closed"));
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
                            let hex = |p: &mut Self| -> Result<u32, JsonError> {
                                let h = p
                                    .text
                                    .get(p.i..p.i + 4)
                                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                                    .ok_or_else(|| p.err("`\\u` needs four hex digits"))?;
                                p.i += 4;
                                Ok(h)
                            };
                            let hi = hex(self)?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                self.i += 2;
                                let lo = hex(self)?;
                                char::from_u32(
                                    0x10000
                                        + ((hi - 0xD800) << 10)
                                        + (lo.wrapping_sub(0xDC00) & 0x3ff),
                                )
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(self.err("unknown escape in a string")),
                    }
                }
                Some(_) => return Err(self.err("a control character inside a string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_lines() {
        let j = parse("{\n  \"a\": [1,\n    {\"b\": \"x\\u00e9\"}],\n  \"c\": null\n}").unwrap();
        let a = j.get("a").unwrap();
        assert_eq!((a.line, a.column), (2, 8));
        let b = &a.as_arr().unwrap()[1];
        assert_eq!(b.line, 3);
        assert_eq!(b.get("b").unwrap().as_str(), Some("xé"));
        assert!(j.get("c").unwrap().is_null());
        let e = parse("{\n  \"a\": [1,\n  }").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(parse(&"[".repeat(100_000)).is_err());
        assert!(parse("[1] x").is_err());
    }
}

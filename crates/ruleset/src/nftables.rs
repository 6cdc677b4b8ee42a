//! Reads nftables text: what `render/src/nftables.rs` writes (an `nft -f`
//! script), `nft -f` input in general (`add rule ...`, `delete table`,
//! `flush ruleset`, `define`) and `nft list ruleset` output from a live
//! host. The text is parsed into the statements nftables states
//! (`nftables_model::Doc`); their meaning in the model is shared with the
//! JSON reader.
//!
//! Syntax (nft(8)): statements end at a newline or `;`; blocks are in
//! braces; an anonymous set or map in braces may span lines; `#` starts a
//! comment; `\` at the end of a line continues it. Commands run in order as
//! one transaction: `table inet x` then `delete table inet x` then
//! `table inet x { ... }` leaves only the last block's contents.

use crate::model::Ruleset;
use crate::nftables_model::*;
use crate::Reader;
use portplan_model::{Diagnostic, Location};
use std::collections::HashMap;

pub struct NftablesText;

impl Reader for NftablesText {
    fn name(&self) -> &'static str {
        "nftables"
    }
    fn about(&self) -> &'static str {
        "`nft -f` input and `nft list ruleset` output"
    }
    fn sniff(&self, text: &str) -> u8 {
        if text.trim_start().starts_with('{') || text.trim_start().starts_with('[') {
            return 0;
        }
        let mut score = 0;
        for l in text.lines().take(400) {
            let l = l.trim();
            if l.starts_with("#!/usr/sbin/nft") || l.starts_with("#!/sbin/nft") {
                score = score.max(95);
            }
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.first() == Some(&"table")
                && w.get(1).is_some_and(|f| FAMILIES.contains(f))
                && w.get(2).is_some()
            {
                score = score.max(85);
            }
            if l.starts_with("type ") && l.contains(" hook ") {
                score = score.max(90);
            }
            if (l.starts_with("add rule ") || l.starts_with("insert rule "))
                || l.starts_with("flush ruleset")
            {
                score = score.max(80);
            }
        }
        score
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        let doc = parse(text, file)?;
        Ok(build(&doc, "nftables", file))
    }
}

const FAMILIES: &[&str] = &["ip", "ip6", "inet", "arp", "bridge", "netdev"];

// ---------------------------------------------------------------------
// Tokens.

#[derive(Debug, Clone, PartialEq)]
enum T {
    /// A word (`tcp`, `10.0.0.0/8`, `!=`, `@set`, `:`).
    W(String),
    /// A quoted string.
    S(String),
    Open,
    Close,
    Semi,
    Nl,
    Comma,
}

#[derive(Debug, Clone)]
struct Tok {
    t: T,
    line: usize,
    col: usize,
    start: usize,
    end: usize,
}

impl Tok {
    fn word(&self) -> Option<&str> {
        match &self.t {
            T::W(w) => Some(w),
            _ => None,
        }
    }
    /// A word or a string's text.
    fn value(&self) -> Option<&str> {
        match &self.t {
            T::W(w) | T::S(w) => Some(w),
            _ => None,
        }
    }
    fn is(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
}

fn located(file: &str, line: usize, column: usize, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(file, msg).at(Some(Location { line, column }))
}

fn lex(text: &str, file: &str) -> Result<Vec<Tok>, Diagnostic> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0usize;
    let mut line = 1usize;
    let mut line_start = 0usize;
    let col = |i: usize, ls: usize| text.get(ls..i).map_or(1, |x| x.chars().count() + 1);
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                out.push(Tok {
                    t: T::Nl,
                    line,
                    col: col(i, line_start),
                    start: i,
                    end: i + 1,
                });
                i += 1;
                line += 1;
                line_start = i;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'\\' => {
                // A line continuation: `\` then the end of the line.
                let mut j = i + 1;
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t' || b[j] == b'\r') {
                    j += 1;
                }
                if j < b.len() && b[j] == b'\n' {
                    i = j + 1;
                    line += 1;
                    line_start = i;
                } else {
                    return Err(located(
                        file,
                        line,
                        col(i, line_start),
                        "a `\\` continues a line only at its end",
                    ));
                }
            }
            b'#' => {
                // nft without libxtables prints an iptables-nft extension it
                // cannot show as `# xt_NAME` in the middle of a rule: that is
                // a statement (targets are upper case), not a comment.
                let rest = text.get(i + 1..).unwrap_or("");
                let xt = rest.trim_start_matches(' ').strip_prefix("xt_");
                if let Some(x) = xt.filter(|x| x.starts_with(|c: char| c.is_ascii_alphanumeric())) {
                    let name: String = x
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect();
                    let kind = if name.chars().all(|c| !c.is_ascii_lowercase()) {
                        "target"
                    } else {
                        "match"
                    };
                    let c0 = col(i, line_start);
                    let end = i + 1 + (rest.len() - x.len()) + name.len();
                    for t in [T::W("xt".into()), T::W(kind.into()), T::S(name)] {
                        out.push(Tok {
                            t,
                            line,
                            col: c0,
                            start: i,
                            end,
                        });
                    }
                    i = end;
                    continue;
                }
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' | b'}' | b';' | b',' => {
                let t = match c {
                    b'{' => T::Open,
                    b'}' => T::Close,
                    b';' => T::Semi,
                    _ => T::Comma,
                };
                out.push(Tok {
                    t,
                    line,
                    col: col(i, line_start),
                    start: i,
                    end: i + 1,
                });
                i += 1;
            }
            b'"' => {
                let start = i;
                let mut s = String::new();
                let mut j = i + 1;
                let mut closed = false;
                while j < b.len() {
                    match b[j] {
                        b'"' => {
                            closed = true;
                            j += 1;
                            break;
                        }
                        b'\n' => break,
                        b'\\' if j + 1 < b.len() && (b[j + 1] == b'"' || b[j + 1] == b'\\') => {
                            s.push(b[j + 1] as char);
                            j += 2;
                        }
                        _ => {
                            // Copy one UTF-8 character.
                            let ch = text[j..].chars().next().unwrap_or('?');
                            s.push(ch);
                            j += ch.len_utf8().max(1);
                        }
                    }
                }
                if !closed {
                    return Err(located(
                        file,
                        line,
                        col(start, line_start),
                        "a quoted string is not closed on its line: add the closing `\"`",
                    ));
                }
                out.push(Tok {
                    t: T::S(s),
                    line,
                    col: col(start, line_start),
                    start,
                    end: j,
                });
                i = j;
            }
            _ => {
                let start = i;
                let mut j = i;
                while j < b.len() {
                    let d = b[j];
                    if matches!(
                        d,
                        b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'}' | b';' | b',' | b'"' | b'#'
                    ) {
                        break;
                    }
                    j += 1;
                }
                // Stop on a character boundary (the delimiters are ASCII).
                let w = text.get(start..j).unwrap_or("").to_string();
                out.push(Tok {
                    t: T::W(w),
                    line,
                    col: col(start, line_start),
                    start,
                    end: j,
                });
                i = j.max(i + 1);
            }
        }
    }
    Ok(out)
}

/// `define NAME = VALUE` and `$NAME`: variables replaced by their tokens.
fn expand(toks: Vec<Tok>, file: &str) -> Result<Vec<Tok>, Diagnostic> {
    let mut vars: HashMap<String, Vec<Tok>> = HashMap::new();
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    let at_start = |out: &Vec<Tok>| {
        matches!(
            out.last().map(|t| &t.t),
            None | Some(T::Nl) | Some(T::Semi) | Some(T::Open) | Some(T::Close)
        )
    };
    while i < toks.len() {
        let t = &toks[i];
        let w = t.word().unwrap_or("");
        if at_start(&out) && matches!(w, "define" | "redefine") {
            let name = toks.get(i + 1).and_then(|x| x.word()).unwrap_or("");
            if name.is_empty() || !toks.get(i + 2).is_some_and(|x| x.is("=")) {
                return Err(located(
                    file,
                    t.line,
                    t.col,
                    "write a variable as `define NAME = VALUE`",
                ));
            }
            let mut j = i + 3;
            let mut depth = 0usize;
            let mut val = Vec::new();
            while j < toks.len() {
                match toks[j].t {
                    T::Open => depth += 1,
                    T::Close if depth == 0 => break,
                    T::Close => depth -= 1,
                    T::Nl | T::Semi if depth == 0 => break,
                    T::Nl => {
                        j += 1;
                        continue;
                    }
                    _ => {}
                }
                let x = &toks[j];
                match x.word().and_then(|w| w.strip_prefix('$')) {
                    Some(v) => match vars.get(v) {
                        Some(ts) => val.extend(ts.iter().cloned()),
                        None => {
                            return Err(located(
                                file,
                                x.line,
                                x.col,
                                format!("variable `${v}` is used before it is defined"),
                            ))
                        }
                    },
                    None => val.push(x.clone()),
                }
                j += 1;
            }
            vars.insert(name.to_string(), val);
            i = j;
            continue;
        }
        if at_start(&out) && w == "undefine" {
            if let Some(n) = toks.get(i + 1).and_then(|x| x.word()) {
                vars.remove(n);
            }
            i += 2;
            continue;
        }
        if let Some(v) = w.strip_prefix('$') {
            match vars.get(v) {
                Some(ts) => {
                    // The value's tokens, placed where the variable is used.
                    for x in ts {
                        out.push(Tok {
                            line: t.line,
                            col: t.col,
                            start: t.start,
                            end: t.end,
                            ..x.clone()
                        });
                    }
                }
                None => {
                    return Err(located(
                        file,
                        t.line,
                        t.col,
                        format!("variable `${v}` is not defined: add `define {v} = ...`"),
                    ))
                }
            }
            i += 1;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    Ok(out)
}

// ---------------------------------------------------------------------
// Statements and blocks.

struct P<'a> {
    toks: Vec<Tok>,
    i: usize,
    text: &'a str,
    file: &'a str,
    doc: Doc,
}

fn parse(text: &str, file: &str) -> Result<Doc, Diagnostic> {
    let toks = expand(lex(text, file)?, file)?;
    let mut p = P {
        toks,
        i: 0,
        text,
        file,
        doc: Doc::default(),
    };
    p.top()?;
    if p.doc.tables.is_empty() {
        let (line, column) = p.toks.first().map_or((1, 1), |t| (t.line, t.col));
        return Err(located(
            file,
            line,
            column,
            "no table found: nftables rules are written `table inet NAME { chain ... }` (or `add rule ...` after `add table`)",
        ));
    }
    Ok(p.doc)
}

impl<'a> P<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn err_at(&self, t: Option<&Tok>, msg: impl Into<String>) -> Diagnostic {
        let (line, col) = match t {
            Some(t) => (t.line, t.col),
            None => self
                .toks
                .last()
                .map_or((1, 1), |t| (t.line, t.col + (t.end - t.start))),
        };
        located(self.file, line, col, msg)
    }
    fn skip_seps(&mut self) {
        while matches!(self.peek().map(|t| &t.t), Some(T::Nl) | Some(T::Semi)) {
            self.i += 1;
        }
    }
    /// The tokens of one statement: up to a newline or `;` outside braces,
    /// or before the `}` that closes the enclosing block. Newlines inside
    /// braces are dropped.
    fn stmt(&mut self) -> Result<Vec<Tok>, Diagnostic> {
        let mut out: Vec<Tok> = Vec::new();
        let mut opens: Vec<usize> = Vec::new();
        while let Some(t) = self.toks.get(self.i) {
            match t.t {
                T::Nl | T::Semi if opens.is_empty() => {
                    self.i += 1;
                    break;
                }
                T::Nl => {
                    self.i += 1;
                    continue;
                }
                T::Close if opens.is_empty() => break,
                T::Open => opens.push(self.i),
                T::Close => {
                    opens.pop();
                }
                _ => {}
            }
            out.push(t.clone());
            self.i += 1;
        }
        if let Some(&o) = opens.last() {
            return Err(self.err_at(
                self.toks.get(o),
                "this `{` is never closed: add the matching `}`",
            ));
        }
        Ok(out)
    }
    /// The source text of tokens, on one line.
    fn text_of(&self, ts: &[Tok]) -> String {
        match (ts.first(), ts.last()) {
            (Some(a), Some(b)) => self
                .text
                .get(a.start..b.end.max(a.start))
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        }
    }
    /// The whole source line of a token (for policies: `type ...; policy drop;`).
    fn line_text(&self, line: usize) -> String {
        self.text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .trim()
            .to_string()
    }
    fn expect_open(&mut self, what: &str) -> Result<(), Diagnostic> {
        match self.peek() {
            Some(t) if t.t == T::Open => {
                self.i += 1;
                Ok(())
            }
            t => {
                let t = t.cloned();
                Err(self.err_at(t.as_ref(), format!("expected `{{` to open {what}")))
            }
        }
    }

    fn top(&mut self) -> Result<(), Diagnostic> {
        loop {
            self.skip_seps();
            let Some(t) = self.peek().cloned() else {
                return Ok(());
            };
            let w = match &t.t {
                T::W(w) => w.clone(),
                T::Close => return Err(self.err_at(Some(&t), "`}` closes no block")),
                _ => {
                    return Err(self.err_at(
                        Some(&t),
                        "expected a command (`table`, `add`, `flush`, `delete`, `define`)",
                    ))
                }
            };
            match w.as_str() {
                "table" => {
                    self.i += 1;
                    self.table_cmd(&t)?;
                }
                "add" | "create" | "insert" | "delete" | "destroy" | "flush" | "replace"
                | "rename" => {
                    self.i += 1;
                    self.command(&w, &t)?;
                }
                "chain" | "rule" | "set" | "map" | "element" => self.command("add", &t)?,
                "include" => {
                    let ts = self.stmt()?;
                    let text = self.text_of(&ts);
                    self.doc.issues.push((
                        t.line,
                        text,
                        "an included file is not read: its rules are missing from this audit \
                         (read `nft list ruleset` instead)"
                            .into(),
                    ));
                }
                "list" | "reset" | "monitor" | "describe" | "export" | "import" | "get" => {
                    // Commands that show or reset state change no rule.
                    let _ = self.stmt()?;
                }
                _ => {
                    return Err(self.err_at(
                        Some(&t),
                        format!(
                            "`{w}` is not an nftables command: expected `table FAMILY NAME {{ ... }}`, `add`, `flush`, `delete` or `define`"
                        ),
                    ))
                }
            }
        }
    }

    /// `[FAMILY] NAME` after `table`/`chain`/...: (family, name).
    fn family_name(&mut self, what: &str, at: &Tok) -> Result<(String, String), Diagnostic> {
        let a = self.peek().and_then(|t| t.value().map(str::to_string));
        let Some(a) = a else {
            let t = self.peek().cloned();
            return Err(self.err_at(
                t.as_ref().or(Some(at)),
                format!("{what} needs a name (`{what} inet NAME`)"),
            ));
        };
        self.i += 1;
        if FAMILIES.contains(&a.as_str()) {
            if let Some(b) = self.peek().and_then(|t| t.value().map(str::to_string)) {
                self.i += 1;
                return Ok((a, b));
            }
        }
        Ok(("ip".into(), a))
    }

    fn table_idx(&mut self, family: &str, name: &str, line: usize) -> usize {
        match self
            .doc
            .tables
            .iter()
            .position(|t| t.family == family && t.name == name)
        {
            Some(i) => i,
            None => {
                self.doc.tables.push(Table::new(family, name, line));
                self.doc.tables.len() - 1
            }
        }
    }

    fn find_table(&self, family: &str, name: &str) -> Option<usize> {
        self.doc
            .tables
            .iter()
            .position(|t| t.family == family && t.name == name)
    }

    /// `table [FAMILY] NAME [{ ... }]`.
    fn table_cmd(&mut self, at: &Tok) -> Result<(), Diagnostic> {
        let (family, name) = self.family_name("table", at)?;
        let ti = self.table_idx(&family, &name, at.line);
        if matches!(self.peek().map(|t| &t.t), Some(T::Open)) {
            self.i += 1;
            self.table_block(ti, at)?;
        } else {
            self.end_of_command()?;
        }
        Ok(())
    }

    /// The rest of a one-line command must be empty.
    fn end_of_command(&mut self) -> Result<(), Diagnostic> {
        match self.peek() {
            None => Ok(()),
            Some(t) if matches!(t.t, T::Nl | T::Semi) => Ok(()),
            Some(t) => {
                let t = t.clone();
                Err(self.err_at(
                    Some(&t),
                    format!(
                        "unexpected `{}`: expected the end of the command",
                        t.value().unwrap_or("{")
                    ),
                ))
            }
        }
    }

    fn table_block(&mut self, ti: usize, open: &Tok) -> Result<(), Diagnostic> {
        loop {
            self.skip_seps();
            let Some(t) = self.peek().cloned() else {
                return Err(self.err_at(
                    Some(open),
                    format!(
                        "table {} is never closed: add `}}` at its end",
                        self.doc.tables.get(ti).map_or("", |t| t.name.as_str())
                    ),
                ));
            };
            match &t.t {
                T::Close => {
                    self.i += 1;
                    return Ok(());
                }
                T::W(w) if w == "chain" => {
                    self.i += 1;
                    let name = self.name_word("chain", &t)?;
                    let table = &mut self.doc.tables[ti];
                    table.chain_mut(&name, t.line);
                    if matches!(self.peek().map(|t| &t.t), Some(T::Open)) {
                        self.i += 1;
                        self.chain_block(ti, &name, &t)?;
                    }
                }
                T::W(w) if w == "set" || w == "map" => {
                    let map = w == "map";
                    self.i += 1;
                    let name = self.name_word(w, &t)?;
                    self.doc.tables[ti].set_mut(&name, t.line, map);
                    self.expect_open(&format!("{w} {name}"))?;
                    self.set_block(ti, &name, &t)?;
                }
                T::W(w) if w == "flags" => {
                    let ts = self.stmt()?;
                    if ts.iter().any(|x| x.is("dormant")) {
                        self.doc.tables[ti].dormant = true;
                    }
                }
                T::W(_) => {
                    // Comments and stateful objects (counter, quota, limit,
                    // ct helper, flowtable...): named for rules to use; they
                    // change no verdict by being declared.
                    let _ = self.stmt()?;
                }
                _ => {
                    return Err(
                        self.err_at(Some(&t), "expected `chain`, `set`, `map` or `}` in a table")
                    )
                }
            }
        }
    }

    fn name_word(&mut self, what: &str, at: &Tok) -> Result<String, Diagnostic> {
        match self.peek().and_then(|t| t.value().map(str::to_string)) {
            Some(n) => {
                self.i += 1;
                Ok(n)
            }
            None => {
                let t = self.peek().cloned();
                Err(self.err_at(t.as_ref().or(Some(at)), format!("{what} needs a name")))
            }
        }
    }

    fn chain_block(&mut self, ti: usize, name: &str, open: &Tok) -> Result<(), Diagnostic> {
        let family = self.doc.tables[ti].family.clone();
        loop {
            self.skip_seps();
            let Some(t) = self.peek().cloned() else {
                return Err(self.err_at(
                    Some(open),
                    format!("chain {name} is never closed: add `}}` at its end"),
                ));
            };
            if t.t == T::Close {
                self.i += 1;
                return Ok(());
            }
            let first = t.word().unwrap_or("").to_string();
            let ts = self.stmt()?;
            if ts.is_empty() {
                continue;
            }
            match first.as_str() {
                "type" => {
                    let mut b = base_of(&family, &ts);
                    b.line = t.line;
                    b.text = self.text_of(&ts);
                    let pol = b
                        .policy
                        .take()
                        .map(|(a, _, _)| (a, t.line, self.line_text(t.line)));
                    let chain = self.doc.tables[ti].chain_mut(name, t.line);
                    let old = chain.base.take();
                    b.policy = pol.or(old.and_then(|o| o.policy));
                    chain.base = Some(b);
                }
                "policy" => {
                    let accept = match ts.get(1).and_then(|x| x.value()) {
                        Some("accept") => true,
                        Some("drop") => false,
                        _ => {
                            return Err(self.err_at(
                                ts.get(1).or(Some(&t)),
                                "a chain's policy is `accept` or `drop`",
                            ))
                        }
                    };
                    let text = self.line_text(t.line);
                    let chain = self.doc.tables[ti].chain_mut(name, t.line);
                    match &mut chain.base {
                        Some(b) => b.policy = Some((accept, t.line, text)),
                        None => self.doc.issues.push((
                            t.line,
                            text,
                            format!(
                                "chain {name} has a policy but no hook (`type filter hook ...`)"
                            ),
                        )),
                    }
                }
                "devices" => {
                    let devs: Vec<String> = ts
                        .iter()
                        .skip(1)
                        .filter_map(|x| x.value())
                        .filter(|v| *v != "=")
                        .map(str::to_string)
                        .collect();
                    if let Some(b) = &mut self.doc.tables[ti].chain_mut(name, t.line).base {
                        b.devices.extend(devs);
                    }
                }
                "comment" | "flags" => {}
                _ => {
                    let rd = self.rule_decl(&ts);
                    self.doc.tables[ti].chain_mut(name, t.line).rules.push(rd);
                }
            }
        }
    }

    fn rule_decl(&self, ts: &[Tok]) -> RuleDecl {
        let line = ts.first().map_or(0, |t| t.line);
        RuleDecl {
            line,
            text: self.text_of(ts),
            stmts: rule_stmts(ts),
        }
    }

    fn set_block(&mut self, ti: usize, name: &str, open: &Tok) -> Result<(), Diagnostic> {
        loop {
            self.skip_seps();
            let Some(t) = self.peek().cloned() else {
                return Err(self.err_at(
                    Some(open),
                    format!("set {name} is never closed: add `}}` at its end"),
                ));
            };
            if t.t == T::Close {
                self.i += 1;
                return Ok(());
            }
            let first = t.word().unwrap_or("").to_string();
            let ts = self.stmt()?;
            let set = self.doc.tables[ti].set_mut(name, t.line, false);
            match first.as_str() {
                "type" | "typeof" => {
                    // `type K : V` / `typeof EXPR : EXPR`: a map's data.
                    if let Some(c) = ts.iter().position(|x| x.is(":")) {
                        set.map = true;
                        set.data = Some(
                            ts[c + 1..]
                                .iter()
                                .filter_map(|x| x.value())
                                .collect::<Vec<_>>()
                                .join(" "),
                        );
                    }
                }
                "elements" => {
                    let body = group_inside(&ts);
                    set.elems.extend(elements(body));
                }
                "comment" => {
                    set.comment = ts.get(1).and_then(|x| x.value()).map(str::to_string);
                }
                // flags, timeout, size, policy, counter, auto-merge...
                _ => {}
            }
        }
    }

    /// `add|create|insert|delete|destroy|flush|replace|rename OBJECT ...`.
    fn command(&mut self, verb: &str, at: &Tok) -> Result<(), Diagnostic> {
        let obj = match self.peek().and_then(|t| t.word().map(str::to_string)) {
            Some(o) => o,
            None => {
                let t = self.peek().cloned();
                return Err(self.err_at(
                    t.as_ref().or(Some(at)),
                    format!("`{verb}` needs what to act on (`table`, `chain`, `rule`, `set`, `element`)"),
                ));
            }
        };
        self.i += 1;
        match (verb, obj.as_str()) {
            (_, "ruleset") => {
                let ts = self.stmt()?;
                if verb == "flush" {
                    match ts.first().and_then(|x| x.value()) {
                        Some(f) => self.doc.tables.retain(|t| t.family != f),
                        None => self.doc.tables.clear(),
                    }
                }
                Ok(())
            }
            ("add" | "create", "table") => self.table_cmd(at),
            ("delete" | "destroy", "table") => {
                let ts = self.stmt()?;
                let (f, n) = fam_name_of(&ts);
                if ts.iter().any(|x| x.is("handle")) {
                    self.doc.issues.push((
                        at.line,
                        self.text_of(&ts),
                        "a table deleted by handle is not followed".into(),
                    ));
                }
                self.doc.tables.retain(|t| !(t.family == f && t.name == n));
                Ok(())
            }
            ("flush", "table") => {
                let ts = self.stmt()?;
                let (f, n) = fam_name_of(&ts);
                if let Some(ti) = self.find_table(&f, &n) {
                    for c in &mut self.doc.tables[ti].chains {
                        c.rules.clear();
                    }
                }
                Ok(())
            }
            ("add" | "create", "chain") => {
                let (f, tname) = self.family_name("chain", at)?;
                let name = self.name_word("chain", at)?;
                let ti = self.existing_table(&f, &tname, at)?;
                self.doc.tables[ti].chain_mut(&name, at.line);
                if matches!(self.peek().map(|t| &t.t), Some(T::Open)) {
                    self.i += 1;
                    self.chain_block(ti, &name, at)?;
                }
                Ok(())
            }
            ("delete" | "destroy" | "flush", "chain") => {
                let ts = self.stmt()?;
                let (f, tname, cname, _) = path3(&ts);
                if let Some(ti) = self.find_table(&f, &tname) {
                    let t = &mut self.doc.tables[ti];
                    if verb == "flush" {
                        if let Some(c) = t.chains.iter_mut().find(|c| c.name == cname) {
                            c.rules.clear();
                        }
                    } else {
                        t.chains.retain(|c| c.name != cname);
                    }
                }
                Ok(())
            }
            ("rename", "chain") => {
                let ts = self.stmt()?;
                let (f, tname, cname, rest) = path3(&ts);
                if let (Some(ti), Some(new)) = (
                    self.find_table(&f, &tname),
                    rest.first().and_then(|x| x.value()),
                ) {
                    let new = new.to_string();
                    if let Some(c) = self.doc.tables[ti]
                        .chains
                        .iter_mut()
                        .find(|c| c.name == cname)
                    {
                        c.name = new;
                    }
                }
                Ok(())
            }
            ("add" | "create" | "insert", "rule") => {
                let ts = self.stmt()?;
                let (f, tname, cname, rest) = path3(&ts);
                let ti = self.existing_table(&f, &tname, at)?;
                if !self.doc.tables[ti].chains.iter().any(|c| c.name == cname) {
                    return Err(self.err_at(
                        ts.get(2).or(Some(at)),
                        format!("chain `{cname}` is not declared in table {f} {tname}: add it first (`add chain {f} {tname} {cname}`)"),
                    ));
                }
                let mut body: &[Tok] = rest;
                let mut placed = false;
                while let Some(w) = body.first().and_then(|x| x.word()) {
                    if matches!(w, "position" | "index" | "handle") && body.len() > 1 {
                        placed = true;
                        body = &body[2..];
                    } else {
                        break;
                    }
                }
                let mut rd = self.rule_decl(body);
                rd.line = at.line;
                rd.text = self.text_of(&ts);
                rd.text = format!("{verb} rule {}", rd.text);
                if placed {
                    rd.stmts.push(Stmt::Unknown(
                        "the rule is placed next to a rule by its handle or index, which this \
                         reader does not follow"
                            .into(),
                    ));
                }
                let chain = self.doc.tables[ti].chain_mut(&cname, at.line);
                if verb == "insert" {
                    chain.rules.insert(0, rd);
                } else {
                    chain.rules.push(rd);
                }
                Ok(())
            }
            ("add" | "create", "set" | "map") => {
                let (f, tname) = self.family_name(&obj, at)?;
                let name = self.name_word(&obj, at)?;
                let ti = self.existing_table(&f, &tname, at)?;
                self.doc.tables[ti].set_mut(&name, at.line, obj == "map");
                if matches!(self.peek().map(|t| &t.t), Some(T::Open)) {
                    self.i += 1;
                    self.set_block(ti, &name, at)?;
                }
                Ok(())
            }
            ("add" | "create" | "delete" | "destroy", "element") | ("flush", "set" | "map") => {
                let ts = self.stmt()?;
                let (f, tname, sname, rest) = path3(&ts);
                let ti = self.existing_table(&f, &tname, at)?;
                let new = elements(group_inside(rest));
                let s = self.doc.tables[ti].set_mut(&sname, at.line, false);
                match verb {
                    "flush" => s.elems.clear(),
                    "add" | "create" => s.elems.extend(new),
                    _ => s.elems.retain(|(e, _)| !new.iter().any(|(n, _)| n == e)),
                }
                Ok(())
            }
            _ => {
                // Commands on rules by handle, and on other objects
                // (counters, quotas, flowtables): not followed.
                let ts = self.stmt()?;
                let text = format!("{verb} {obj} {}", self.text_of(&ts));
                if obj == "rule" {
                    self.doc.issues.push((
                        at.line,
                        text,
                        format!("`{verb} rule` by handle is not followed: read `nft list ruleset` output instead"),
                    ));
                }
                Ok(())
            }
        }
    }

    fn existing_table(&self, f: &str, n: &str, at: &Tok) -> Result<usize, Diagnostic> {
        self.find_table(f, n).ok_or_else(|| {
            self.err_at(
                Some(at),
                format!("table {f} {n} is not declared: add `table {f} {n}` first"),
            )
        })
    }
}

/// `[FAMILY] TABLE` of a command's tokens.
fn fam_name_of(ts: &[Tok]) -> (String, String) {
    let v: Vec<&str> = ts.iter().filter_map(|t| t.value()).collect();
    match v.as_slice() {
        [f, n, ..] if FAMILIES.contains(f) => (f.to_string(), n.to_string()),
        [n, ..] => ("ip".into(), n.to_string()),
        [] => ("ip".into(), String::new()),
    }
}

/// `[FAMILY] TABLE NAME REST...`.
fn path3(ts: &[Tok]) -> (String, String, String, &[Tok]) {
    let val = |i: usize| ts.get(i).and_then(|t| t.value()).unwrap_or("").to_string();
    let has_family = ts
        .first()
        .and_then(|t| t.value())
        .is_some_and(|f| FAMILIES.contains(&f))
        && ts.len() >= 3
        && ts.get(2).and_then(|t| t.value()).is_some();
    if has_family {
        (val(0), val(1), val(2), ts.get(3..).unwrap_or(&[]))
    } else {
        ("ip".into(), val(0), val(1), ts.get(2..).unwrap_or(&[]))
    }
}

/// `type filter hook input [device X] priority P [; policy P]`.
fn base_of(family: &str, ts: &[Tok]) -> Base {
    let mut b = Base {
        kind: String::new(),
        hook: String::new(),
        prio: None,
        devices: Vec::new(),
        policy: None,
        line: 0,
        text: String::new(),
    };
    let mut prio_words: Vec<String> = Vec::new();
    let mut i = 0;
    let mut policy: Option<bool> = None;
    while i < ts.len() {
        let w = ts[i].value().unwrap_or("");
        let next = ts.get(i + 1).and_then(|t| t.value()).unwrap_or("");
        match w {
            "type" => {
                b.kind = next.to_string();
                i += 2;
            }
            "hook" => {
                b.hook = next.to_string();
                i += 2;
            }
            "device" => {
                b.devices.push(next.to_string());
                i += 2;
            }
            "devices" => {
                i += 1;
                while i < ts.len() {
                    match &ts[i].t {
                        T::W(x) | T::S(x) if x != "=" => b.devices.push(x.clone()),
                        T::Close => {
                            i += 1;
                            break;
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            "priority" => {
                i += 1;
                while i < ts.len() && !matches!(ts[i].value(), Some("policy") | Some("device")) {
                    if let Some(v) = ts[i].value() {
                        prio_words.push(v.to_string());
                    }
                    i += 1;
                }
            }
            "policy" => {
                policy = Some(next == "accept");
                i += 2;
            }
            _ => i += 1,
        }
    }
    b.prio = priority(family, &prio_words);
    // A policy in the same statement (no `;` between): the caller places it.
    b.policy = policy.map(|a| (a, 0, String::new()));
    b
}

/// The tokens between the first `{` and its `}`.
fn group_inside(ts: &[Tok]) -> &[Tok] {
    let Some(o) = ts.iter().position(|t| t.t == T::Open) else {
        return &[];
    };
    let mut depth = 0usize;
    for (j, t) in ts.iter().enumerate().skip(o) {
        match t.t {
            T::Open => depth += 1,
            T::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return ts.get(o + 1..j).unwrap_or(&[]);
                }
            }
            _ => {}
        }
    }
    ts.get(o + 1..).unwrap_or(&[])
}

/// Words that annotate an element (`10.0.0.1 timeout 1h expires 59m`).
const ELEM_ANNOTATIONS: &[&str] = &[
    "timeout", "expires", "counter", "comment", "packets", "bytes",
];

/// Set or map elements inside braces.
fn elements(body: &[Tok]) -> Vec<(Elem, Option<Data>)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut item: Vec<&Tok> = Vec::new();
    let mut items: Vec<Vec<&Tok>> = Vec::new();
    for t in body {
        match t.t {
            T::Open => depth += 1,
            T::Close => depth = depth.saturating_sub(1),
            T::Comma if depth == 0 => {
                items.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        item.push(t);
    }
    items.push(item);
    for it in items {
        if it.is_empty() {
            continue;
        }
        let (key, data) = match it.iter().position(|t| t.is(":")) {
            Some(c) => (&it[..c], Some(&it[c + 1..])),
            None => {
                // `22:accept` written without spaces.
                (&it[..], None)
            }
        };
        let mut key: Vec<&Tok> = key.to_vec();
        if let Some(c) = key
            .iter()
            .position(|t| t.word().is_some_and(|w| ELEM_ANNOTATIONS.contains(&w)))
        {
            key.truncate(c);
        }
        let mut elem: Elem = Vec::new();
        let mut cur = String::new();
        for t in &key {
            if t.is(".") {
                if !cur.is_empty() {
                    elem.push(Atom::Val(std::mem::take(&mut cur)));
                }
                continue;
            }
            if let Some(v) = t.value() {
                cur.push_str(v);
            }
        }
        if !cur.is_empty() {
            elem.push(Atom::Val(cur));
        }
        let data = data.map(|d| {
            let words: Vec<&str> = d.iter().filter_map(|t| t.value()).collect();
            match verdict_words(&words) {
                Some(v) => Data::Verdict(v),
                None => Data::Other(words.join(" ")),
            }
        });
        if !elem.is_empty() {
            out.push((elem, data));
        }
    }
    out
}

fn verdict_words(w: &[&str]) -> Option<Verdict> {
    Some(match w {
        ["accept", ..] => Verdict::Accept,
        ["drop", ..] => Verdict::Drop,
        ["reject", ..] => Verdict::Reject,
        ["return", ..] => Verdict::Return,
        ["continue", ..] => Verdict::Continue,
        ["queue", ..] => Verdict::Queue,
        ["jump", c, ..] => Verdict::Jump(c.to_string()),
        ["goto", c, ..] => Verdict::Goto(c.to_string()),
        _ => return None,
    })
}

// ---------------------------------------------------------------------
// Rules.

/// Words a rule may start a statement with after one it did not
/// understand: verdicts and statements that are never values.
const RESYNC: &[&str] = &[
    "accept",
    "drop",
    "reject",
    "jump",
    "goto",
    "return",
    "continue",
    "queue",
    "counter",
    "log",
    "comment",
    "dnat",
    "snat",
    "masquerade",
    "redirect",
];

const BINOPS: &[&str] = &["&", "|", "^", "<<", ">>", "and", "or", "xor"];

/// Meta keys that may be written without `meta`.
const BARE_META: &[&str] = &[
    "mark",
    "skuid",
    "skgid",
    "pkttype",
    "cpu",
    "iifgroup",
    "oifgroup",
    "cgroup",
    "iiftype",
    "oiftype",
    "nftrace",
    "rtclassid",
    "priority",
    "secmark",
    "day",
    "hour",
    "time",
    "ibrname",
    "obrname",
    "ibriport",
    "obriport",
    "ipsec",
    "random",
    "sdif",
    "sdifname",
    "l4proto",
];

/// Fields of TCP and IP options (`tcp option maxseg size`).
const OPTION_FIELDS: &[&str] = &[
    "kind", "length", "size", "value", "left", "right", "type", "addr", "ptr", "count", "tsval",
    "tsecr", "subtype", "shift",
];

/// Expressions this reader knows the shape of but does not model.
const OTHER_PREFIXES: &[&str] = &[
    "ether", "vlan", "arp", "ah", "esp", "comp", "gre", "igmp", "hbh", "frag", "rt", "rt0", "rt2",
    "srh", "mh", "dst", "vxlan", "geneve", "gretap", "osf", "socket", "ipsec", "exthdr", "numgen",
    "jhash", "symhash", "tunnel", "cgroupv2",
];

struct R<'a> {
    ts: &'a [Tok],
    i: usize,
}

impl<'a> R<'a> {
    fn w(&self, k: usize) -> Option<&'a str> {
        self.ts.get(self.i + k).and_then(|t| t.word())
    }
    fn v(&self, k: usize) -> Option<&'a str> {
        self.ts.get(self.i + k).and_then(|t| t.value())
    }
    fn at_end(&self) -> bool {
        self.i >= self.ts.len()
    }
    /// Skips a brace group starting here, if any.
    fn skip_group(&mut self) -> &'a [Tok] {
        if self.ts.get(self.i).map(|t| &t.t) != Some(&T::Open) {
            return &[];
        }
        let start = self.i;
        let mut depth = 0usize;
        while let Some(t) = self.ts.get(self.i) {
            match t.t {
                T::Open => depth += 1,
                T::Close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.i += 1;
                        return self.ts.get(start + 1..self.i - 1).unwrap_or(&[]);
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        self.ts.get(start + 1..).unwrap_or(&[])
    }
    /// Skips to the next word that surely starts a statement.
    fn resync(&mut self) {
        while let Some(t) = self.ts.get(self.i) {
            if t.t == T::Open {
                self.skip_group();
                continue;
            }
            if t.word().is_some_and(|w| RESYNC.contains(&w)) {
                return;
            }
            self.i += 1;
        }
    }
    /// A selector at the cursor, consumed; `None` (nothing consumed) if
    /// the cursor is not on one.
    fn key(&mut self) -> Option<Key> {
        let w = self.w(0)?;
        let f = self.w(1).unwrap_or("");
        let take = |r: &mut R, n: usize, k: Key| {
            r.i += n;
            Some(k)
        };
        match w {
            "tcp" | "ip" | "ip6" if f == "option" => {
                // `tcp option maxseg size`, `ip option rr ptr`.
                let mut n = 2;
                let mut t = format!("{w} option");
                if let Some(name) = self.w(n).filter(|x| Op::of(x).is_none() && *x != "set") {
                    t.push(' ');
                    t.push_str(name);
                    n += 1;
                    if let Some(field) = self.w(n).filter(|x| OPTION_FIELDS.contains(x)) {
                        t.push(' ');
                        t.push_str(field);
                        n += 1;
                    }
                }
                take(self, n, Key::Other(t))
            }
            "ip" | "ip6" => {
                let fam = if w == "ip" { Fam::V4 } else { Fam::V6 };
                match f {
                    "saddr" => take(self, 2, Key::Saddr(fam)),
                    "daddr" => take(self, 2, Key::Daddr(fam)),
                    "protocol" if w == "ip" => take(self, 2, Key::Proto(Some(fam))),
                    "nexthdr" if w == "ip6" => take(self, 2, Key::Proto(Some(fam))),
                    "" => take(self, 1, Key::Other(w.into())),
                    _ => take(self, 2, Key::Other(format!("{w} {f}"))),
                }
            }
            "tcp" | "udp" | "udplite" | "sctp" | "dccp" | "th" => {
                let l4 = L4::of(w)?;
                match f {
                    "dport" => take(self, 2, Key::Dport(l4)),
                    "sport" => take(self, 2, Key::Sport(l4)),
                    "flags" if w == "tcp" => take(self, 2, Key::TcpFlags(None)),
                    "" => take(self, 1, Key::Other(w.into())),
                    _ => take(self, 2, Key::Other(format!("{w} {f}"))),
                }
            }
            "icmp" | "icmpv6" => match f {
                "type" => take(self, 2, Key::IcmpType(w == "icmpv6")),
                "" => take(self, 1, Key::Other(w.into())),
                _ => take(self, 2, Key::Other(format!("{w} {f}"))),
            },
            "meta" => match f {
                "l4proto" => take(self, 2, Key::Proto(None)),
                "nfproto" => take(self, 2, Key::Nfproto),
                "iifname" | "iif" => take(self, 2, Key::Iface(false)),
                "oifname" | "oif" => take(self, 2, Key::Iface(true)),
                "" => take(self, 1, Key::Other(w.into())),
                _ => take(self, 2, Key::Other(format!("meta {f}"))),
            },
            "iifname" | "iif" => take(self, 1, Key::Iface(false)),
            "oifname" | "oif" => take(self, 1, Key::Iface(true)),
            "l4proto" => take(self, 1, Key::Proto(None)),
            x if BARE_META.contains(&x) => take(self, 1, Key::Other(format!("meta {x}"))),
            "ct" => match f {
                "state" => take(self, 2, Key::CtState),
                "original" | "reply" => {
                    let mut n = 2;
                    let mut t = format!("ct {f}");
                    for _ in 0..2 {
                        match self.w(n) {
                            Some(x)
                                if matches!(
                                    x,
                                    "ip" | "ip6"
                                        | "saddr"
                                        | "daddr"
                                        | "proto-src"
                                        | "proto-dst"
                                        | "l3proto"
                                        | "protocol"
                                        | "bytes"
                                        | "packets"
                                        | "avgpkt"
                                        | "zone"
                                ) =>
                            {
                                t.push(' ');
                                t.push_str(x);
                                n += 1;
                            }
                            _ => break,
                        }
                    }
                    take(self, n, Key::Other(t))
                }
                "" => take(self, 1, Key::Other(w.into())),
                _ => take(self, 2, Key::Other(format!("ct {f}"))),
            },
            "fib" => {
                let mut n = 1;
                let mut t = String::from("fib");
                while let Some(x) = self.w(n) {
                    if matches!(x, "saddr" | "daddr" | "mark" | "iif" | "oif" | ".") {
                        t.push(' ');
                        t.push_str(x);
                        n += 1;
                    } else {
                        break;
                    }
                }
                if let Some(x) = self.w(n) {
                    if matches!(x, "oif" | "oifname" | "type") {
                        t.push(' ');
                        t.push_str(x);
                        n += 1;
                    }
                }
                take(self, n, Key::Other(t))
            }
            x if OTHER_PREFIXES.contains(&x) => {
                if f.is_empty() || Op::of(f).is_some() {
                    take(self, 1, Key::Other(x.into()))
                } else {
                    take(self, 2, Key::Other(format!("{x} {f}")))
                }
            }
            // A raw payload expression: `@th,16,16`, `@nh,8,8`.
            x if x.starts_with('@') && x.contains(',') => take(self, 1, Key::Other(x.into())),
            _ => None,
        }
    }
    /// A value expression to skip (after `set`, `to`): a selector or a
    /// word, with operators and maps.
    fn skip_value(&mut self) {
        loop {
            if self.key().is_none() {
                match self.ts.get(self.i).map(|t| &t.t) {
                    Some(T::Open) => {
                        self.skip_group();
                    }
                    Some(T::W(_)) | Some(T::S(_)) => self.i += 1,
                    _ => return,
                }
            }
            match self.w(0) {
                Some(op) if BINOPS.contains(&op) || op == "." || op == "map" => {
                    self.i += 1;
                    if self.ts.get(self.i).map(|t| &t.t) == Some(&T::Open) {
                        self.skip_group();
                        if self.w(0).is_none_or(|x| !BINOPS.contains(&x)) {
                            return;
                        }
                    }
                }
                _ => return,
            }
        }
    }
    /// The right side of a match: an anonymous set, a named set, or a
    /// value with comma-joined flags.
    fn rhs(&mut self) -> Option<Rhs> {
        let t = self.ts.get(self.i)?;
        match &t.t {
            T::Open => {
                let body = self.skip_group();
                Some(Rhs::Elems(
                    elements(body).into_iter().map(|(e, _)| e).collect(),
                ))
            }
            T::W(w) if w.starts_with('@') => {
                self.i += 1;
                Some(Rhs::Named(w[1..].to_string()))
            }
            T::W(_) | T::S(_) => {
                let mut out = Vec::new();
                out.push(vec![Atom::Val(t.value().unwrap_or("").to_string())]);
                self.i += 1;
                while self.ts.get(self.i).map(|t| &t.t) == Some(&T::Comma) {
                    match self.v(1) {
                        Some(v) => {
                            out.push(vec![Atom::Val(v.to_string())]);
                            self.i += 2;
                        }
                        None => break,
                    }
                }
                Some(Rhs::Elems(out))
            }
            _ => None,
        }
    }
}

/// The statements of a rule's tokens.
fn rule_stmts(ts: &[Tok]) -> Vec<Stmt> {
    let mut r = R { ts, i: 0 };
    let mut out = Vec::new();
    while !r.at_end() {
        let Some(w) = r.w(0) else {
            let t = &ts[r.i];
            let what = match &t.t {
                T::S(s) => format!("\"{s}\""),
                T::Open => "{".into(),
                T::Close => "}".into(),
                _ => ",".into(),
            };
            out.push(Stmt::NotUnderstood(format!(
                "`{what}` is not understood here"
            )));
            r.i += 1;
            r.resync();
            continue;
        };
        let next = r.w(1).unwrap_or("");
        match w {
            "accept" | "drop" | "return" | "continue" => {
                r.i += 1;
                out.push(Stmt::Verdict(match w {
                    "accept" => Verdict::Accept,
                    "drop" => Verdict::Drop,
                    "return" => Verdict::Return,
                    _ => Verdict::Continue,
                }));
            }
            "reject" => {
                r.i += 1;
                if r.w(0) == Some("with") {
                    r.i += 1;
                    // `with tcp reset`, `with icmp[x|v6] [type] NAME`.
                    let fam = r.w(0).unwrap_or("");
                    r.i += 1;
                    if fam == "tcp" && r.w(0) == Some("reset") {
                        r.i += 1;
                    } else {
                        if r.w(0) == Some("type") {
                            r.i += 1;
                        }
                        r.i += 1;
                    }
                }
                out.push(Stmt::Verdict(Verdict::Reject));
            }
            "jump" | "goto" => {
                let target = r.v(1).unwrap_or("").to_string();
                r.i += 2;
                if target.is_empty() {
                    out.push(Stmt::UnknownVerdict(format!("`{w}` without a chain")));
                } else if w == "jump" {
                    out.push(Stmt::Verdict(Verdict::Jump(target)));
                } else {
                    out.push(Stmt::Verdict(Verdict::Goto(target)));
                }
            }
            "queue" => {
                r.i += 1;
                while let Some(x) = r.v(0) {
                    if RESYNC.contains(&x) && x != "queue" {
                        break;
                    }
                    r.i += 1;
                }
                out.push(Stmt::Verdict(Verdict::Queue));
            }
            "counter" => {
                r.i += 1;
                while let Some("packets" | "bytes" | "name") = r.w(0) {
                    r.i += 2;
                }
                out.push(Stmt::Harmless);
            }
            "log" => {
                r.i += 1;
                loop {
                    match r.w(0) {
                        Some("prefix" | "level" | "group" | "snaplen" | "queue-threshold") => {
                            r.i += 2
                        }
                        Some("flags") => {
                            r.i += 1;
                            while let Some(x) = r.w(0) {
                                if matches!(
                                    x,
                                    "tcp"
                                        | "ip"
                                        | "skuid"
                                        | "ether"
                                        | "sequence"
                                        | "options"
                                        | "all"
                                ) {
                                    r.i += 1;
                                } else {
                                    break;
                                }
                                if r.ts.get(r.i).map(|t| &t.t) == Some(&T::Comma) {
                                    r.i += 1;
                                }
                            }
                        }
                        _ => break,
                    }
                }
                out.push(Stmt::Harmless);
            }
            "limit" | "quota" => {
                let start = r.i;
                r.i += 1;
                while let Some(x) = r.v(0) {
                    let arg = x.starts_with(|c: char| c.is_ascii_digit())
                        || x.contains('/')
                        || matches!(
                            x,
                            "rate"
                                | "over"
                                | "until"
                                | "burst"
                                | "used"
                                | "packets"
                                | "bytes"
                                | "kbytes"
                                | "mbytes"
                                | "gbytes"
                                | "second"
                                | "minute"
                                | "hour"
                                | "day"
                                | "week"
                                | "name"
                        );
                    if !arg {
                        break;
                    }
                    r.i += 1;
                    if matches!(r.ts.get(r.i - 1).and_then(|t| t.word()), Some("name")) {
                        r.i += 1;
                    }
                }
                let text: Vec<&str> = ts[start..r.i.min(ts.len())]
                    .iter()
                    .filter_map(|t| t.value())
                    .collect();
                out.push(Stmt::Limited(format!(
                    "`{}` matches only part of the time: the verdict holds while the rate or quota allows",
                    text.join(" ")
                )));
            }
            "meter" => {
                r.i += 1;
                while r.ts.get(r.i).is_some_and(|t| t.t != T::Open) {
                    r.i += 1;
                }
                r.skip_group();
                out.push(Stmt::Limited(
                    "`meter` rate-limits per key: the verdict holds only part of the time".into(),
                ));
            }
            "ct" if next == "count" => {
                r.i += 2;
                if r.w(0) == Some("over") {
                    r.i += 1;
                }
                r.i += 1;
                out.push(Stmt::Limited(
                    "`ct count` depends on how many connections are open: the verdict holds only part of the time".into(),
                ));
            }
            "comment" => {
                out.push(Stmt::Comment(r.v(1).unwrap_or("").to_string()));
                r.i += 2;
            }
            "dnat" | "snat" | "masquerade" | "redirect" | "tproxy" => {
                let start = r.i;
                r.i += 1;
                while let Some(t) = r.ts.get(r.i) {
                    if t.is("comment") {
                        break;
                    }
                    r.i += 1;
                }
                let text: Vec<String> = ts[start..r.i]
                    .iter()
                    .map(|t| match &t.t {
                        T::W(w) | T::S(w) => w.clone(),
                        T::Open => "{".into(),
                        T::Close => "}".into(),
                        _ => ",".into(),
                    })
                    .collect();
                out.push(Stmt::Nat {
                    dest: matches!(w, "dnat" | "redirect" | "tproxy"),
                    what: text.join(" "),
                });
            }
            "notrack" => {
                r.i += 1;
                out.push(Stmt::Harmless);
            }
            "flow" => {
                // `flow add @ft`: established packets bypass later hooks;
                // the first packet is judged as before.
                r.i += 1;
                while r
                    .w(0)
                    .is_some_and(|x| matches!(x, "add" | "offload") || x.starts_with('@'))
                {
                    r.i += 1;
                }
                out.push(Stmt::Harmless);
            }
            "dup" => {
                r.i += 1;
                while r.w(0).is_some_and(|x| !RESYNC.contains(&x))
                    || r.ts.get(r.i).is_some_and(|t| matches!(t.t, T::S(_)))
                {
                    r.i += 1;
                }
                out.push(Stmt::Harmless);
            }
            "fwd" | "synproxy" => {
                r.i += 1;
                while r
                    .ts
                    .get(r.i)
                    .is_some_and(|t| t.word().is_none_or(|x| !RESYNC.contains(&x)))
                {
                    r.i += 1;
                }
                out.push(Stmt::UnknownVerdict(format!(
                    "`{w}` decides the packet's fate outside the rules (this reader cannot tell)"
                )));
            }
            "xt" => {
                let name = r.v(2).unwrap_or("").to_string();
                r.i += 3;
                if next == "target" {
                    out.push(xt_target(&name));
                } else {
                    out.push(Stmt::Unknown(format!(
                        "iptables extension `{next} {name}` (iptables-nft) is not understood"
                    )));
                }
            }
            "add" | "update" | "delete" if next.starts_with('@') => {
                r.i += 2;
                r.skip_group();
                out.push(Stmt::Harmless);
            }
            "set" if matches!(next, "add" | "update") => {
                // Old syntax: `set add ip saddr @x`.
                r.i += 2;
                r.skip_value();
                if r.w(0).is_some_and(|x| x.starts_with('@')) {
                    r.i += 1;
                }
                out.push(Stmt::Harmless);
            }
            _ => {
                let Some(k) = r.key() else {
                    out.push(Stmt::NotUnderstood(format!("`{w}` is not understood")));
                    r.i += 1;
                    r.resync();
                    continue;
                };
                let mut keys = vec![k];
                while r.w(0) == Some(".") {
                    r.i += 1;
                    match r.key() {
                        Some(k) => keys.push(k),
                        None => {
                            keys.push(Key::Other(format!(
                                "{} . {}",
                                keys.iter().map(Key::text).collect::<Vec<_>>().join(" . "),
                                r.v(0).unwrap_or("")
                            )));
                            r.i += 1;
                        }
                    }
                }
                match r.w(0) {
                    Some("set") => {
                        r.i += 1;
                        r.skip_value();
                        out.push(Stmt::Harmless);
                        continue;
                    }
                    Some("vmap") => {
                        r.i += 1;
                        match r.ts.get(r.i).map(|t| &t.t) {
                            Some(T::Open) => {
                                let body = r.skip_group();
                                let mut v = Vec::new();
                                let mut bad = false;
                                for (e, d) in elements(body) {
                                    match d {
                                        Some(Data::Verdict(x)) => v.push((e, x)),
                                        _ => bad = true,
                                    }
                                }
                                if bad {
                                    out.push(Stmt::UnknownVerdict(
                                        "a verdict map element without a verdict".into(),
                                    ));
                                } else {
                                    out.push(Stmt::Vmap {
                                        keys,
                                        map: VmapData::Inline(v),
                                    });
                                }
                            }
                            Some(T::W(n)) if n.starts_with('@') => {
                                r.i += 1;
                                out.push(Stmt::Vmap {
                                    keys,
                                    map: VmapData::Named(n[1..].to_string()),
                                });
                            }
                            _ => out.push(Stmt::UnknownVerdict("`vmap` without a map".into())),
                        }
                        continue;
                    }
                    Some("map") => {
                        // A data map outside a statement: not a match.
                        r.i += 1;
                        r.skip_group();
                        out.push(Stmt::Unknown("a data map used as a match".into()));
                        continue;
                    }
                    _ => {}
                }
                let mut mask: Option<Vec<String>> = None;
                if let Some(op) = r.w(0).filter(|x| BINOPS.contains(x)) {
                    if op == "&" && keys == [Key::TcpFlags(None)] {
                        r.i += 1;
                        let mut m = String::new();
                        while let Some(x) = r.v(0) {
                            if Op::of(x).is_some() {
                                break;
                            }
                            m.push_str(x);
                            r.i += 1;
                            if r.ts.get(r.i).map(|t| &t.t) == Some(&T::Comma) {
                                m.push(',');
                                r.i += 1;
                            }
                        }
                        mask = Some(vec![m]);
                    } else {
                        // `meta mark & 0xff == 1`: not modelled.
                        r.i += 1;
                        r.skip_value();
                        let t = keys.iter().map(Key::text).collect::<Vec<_>>().join(" . ");
                        keys = vec![Key::Other(format!("{t} {op} ..."))];
                    }
                }
                let mut explicit = None;
                if let Some(o) = r.w(0).and_then(Op::of) {
                    explicit = Some(o);
                    r.i += 1;
                }
                let mut op = explicit.unwrap_or(Op::Eq);
                let braced = r.ts.get(r.i).map(|t| &t.t) == Some(&T::Open);
                let Some(rhs) = r.rhs() else {
                    out.push(Stmt::Unknown(format!(
                        "`{}` without a value",
                        keys.iter().map(Key::text).collect::<Vec<_>>().join(" . ")
                    )));
                    r.resync();
                    continue;
                };
                // `tcp flags syn / fin,syn,rst,ack`.
                if keys == [Key::TcpFlags(None)] && r.w(0) == Some("/") {
                    r.i += 1;
                    let mut m = Vec::new();
                    while let Some(x) = r.w(0) {
                        m.push(x.to_string());
                        r.i += 1;
                        if r.ts.get(r.i).map(|t| &t.t) == Some(&T::Comma) {
                            r.i += 1;
                        } else {
                            break;
                        }
                    }
                    mask = Some(m);
                }
                if let Some(m) = mask {
                    keys = vec![Key::TcpFlags(Some(m))];
                } else if keys == [Key::TcpFlags(None)] && explicit.is_none() {
                    // A bare `tcp flags syn` tests the flags given (`in`);
                    // a set lists exact combinations.
                    if !braced {
                        op = Op::In;
                    }
                }
                out.push(Stmt::Match { keys, op, rhs });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_words_strings_and_groups() {
        let t = lex(
            "ip saddr { 10.0.0.1, 10.0.0.2 } iifname \"eth0\" # c\n",
            "f",
        )
        .unwrap();
        let k: Vec<T> = t.into_iter().map(|t| t.t).collect();
        assert_eq!(k[0], T::W("ip".into()));
        assert_eq!(k[2], T::Open);
        assert_eq!(k[4], T::Comma);
        assert!(k.contains(&T::S("eth0".into())));
        assert_eq!(k.last(), Some(&T::Nl));
    }

    #[test]
    fn priorities() {
        let w = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(priority("inet", &w("filter + 10")), Some(10));
        assert_eq!(priority("ip", &w("mangle")), Some(-150));
        assert_eq!(priority("ip", &w("-500")), Some(-500));
        assert_eq!(priority("bridge", &w("filter")), Some(-200));
        assert_eq!(priority("ip", &w("dstnat - 5")), Some(-105));
        assert_eq!(priority("ip", &w("bogus")), None);
    }
}

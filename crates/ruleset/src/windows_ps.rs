//! Just enough PowerShell for firewall scripts: statements (with backtick
//! continuations, `;`, lines ending in `|` or `,`, multi-line parentheses
//! and hashtables), comments (`#`, `<# #>`), quoting ('...' literal,
//! "..." expanding, here-strings), script blocks (`if`, `foreach`,
//! `function` ... whose statements may or may not run), and a command's
//! words, commas, pipes and parentheses.
//!
//! Syntax from about_Parsing, about_Quoting_Rules, about_Special_Characters
//! and about_Comments (learn.microsoft.com/powershell/module/microsoft.powershell.core/about/).

/// One statement as written, joined onto one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// 1-based line it starts on.
    pub line: usize,
    pub text: String,
    /// The script blocks it sits in, outermost first: line and header
    /// (`foreach ($p in $ports)`).
    pub blocks: Vec<(usize, String)>,
}

/// Where the text cannot be read as PowerShell, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Keywords whose `{ }` is a script block of the script itself.
const BLOCK_KEYWORDS: &[&str] = &[
    "if",
    "elseif",
    "else",
    "foreach",
    "for",
    "while",
    "do",
    "until",
    "switch",
    "function",
    "filter",
    "workflow",
    "try",
    "catch",
    "finally",
    "trap",
    "begin",
    "process",
    "end",
    "configuration",
    "node",
    "parallel",
    "sequence",
    "inlinescript",
];

fn first_word(s: &str) -> String {
    s.trim_start()
        .split(|c: char| c.is_whitespace() || c == '(' || c == '{')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The statements of a script.
#[allow(unused_assignments)]
pub fn statements(text: &str) -> Result<Vec<Stmt>, PsError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_line: Option<usize> = None;
    // Open `(`, `@(`, inline `{` and hashtable `@{`: kind, line, column.
    let mut nest: Vec<(char, usize, usize)> = Vec::new();
    let mut blocks: Vec<(usize, String, usize)> = Vec::new();
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut i = 0usize;
    let col = |i: usize, ls: usize| i.saturating_sub(ls) + 1;
    macro_rules! emit {
        () => {{
            let t = cur.trim().to_string();
            if !t.is_empty() {
                out.push(Stmt {
                    line: cur_line.unwrap_or(line),
                    text: t,
                    blocks: blocks.iter().map(|(l, h, _)| (*l, h.clone())).collect(),
                });
            }
            cur.clear();
            cur_line = None;
        }};
    }
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let at_token_start = cur
            .chars()
            .last()
            .is_none_or(|l| l.is_whitespace() || matches!(l, '(' | ';' | '{' | '|' | ','));
        if c != '\n'
            && !c.is_whitespace()
            && cur_line.is_none()
            && !(c == '#' && at_token_start)
            && !(c == '<' && next == Some('#'))
        {
            cur_line = Some(line);
        }
        match c {
            '\n' => {
                line += 1;
                i += 1;
                line_start = i;
                match nest.last() {
                    Some(('h', _, _)) => cur.push(';'),
                    Some(_) => cur.push(' '),
                    None => {
                        let t = cur.trim_end();
                        if t.ends_with('|') || t.ends_with(',') {
                            cur.push(' ');
                        } else {
                            emit!();
                        }
                    }
                }
            }
            '<' if next == Some('#') => {
                let (l0, c0) = (line, col(i, line_start));
                i += 2;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(PsError {
                                line: l0,
                                column: c0,
                                message: "a `<#` block comment is never closed with `#>`".into(),
                            })
                        }
                        Some('#') if chars.get(i + 1) == Some(&'>') => {
                            i += 2;
                            break;
                        }
                        Some('\n') => {
                            line += 1;
                            i += 1;
                            line_start = i;
                        }
                        Some(_) => i += 1,
                    }
                }
                cur.push(' ');
            }
            '#' if at_token_start => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '`' => {
                // An escape; before a line break, a continuation.
                match next {
                    Some('\n') => {
                        cur.push(' ');
                        i += 2;
                        line += 1;
                        line_start = i;
                    }
                    Some('\r') if chars.get(i + 2) == Some(&'\n') => {
                        cur.push(' ');
                        i += 3;
                        line += 1;
                        line_start = i;
                    }
                    Some(n) => {
                        cur.push('`');
                        cur.push(n);
                        i += 2;
                    }
                    None => i += 1,
                }
            }
            '@' if matches!(next, Some('\'') | Some('"'))
                && matches!(chars.get(i + 2), Some('\n') | Some('\r')) =>
            {
                // A here-string: up to a line starting with `'@` / `"@`.
                let q = next.unwrap_or('\'');
                let (l0, c0) = (line, col(i, line_start));
                i += 2;
                let mut body = String::new();
                let mut first = true;
                loop {
                    let Some(&d) = chars.get(i) else {
                        return Err(PsError {
                            line: l0,
                            column: c0,
                            message: format!("a here-string opened with `@{q}` is never closed with `{q}@` at the start of a line"),
                        });
                    };
                    if d == '\n' {
                        line += 1;
                        i += 1;
                        line_start = i;
                        if chars.get(i) == Some(&q) && chars.get(i + 1) == Some(&'@') {
                            i += 2;
                            break;
                        }
                        if !first {
                            body.push('\n');
                        }
                        first = false;
                        continue;
                    }
                    if d != '\r' && !first {
                        body.push(d);
                    }
                    i += 1;
                }
                // Kept as an ordinary single-quoted string.
                cur.push('\'');
                cur.push_str(&body.replace('\'', "''").replace('\n', " "));
                cur.push('\'');
            }
            '\'' | '"' | '\u{2018}' | '\u{2019}' | '\u{201C}' | '\u{201D}' => {
                let double = matches!(c, '"' | '\u{201C}' | '\u{201D}');
                let (l0, c0) = (line, col(i, line_start));
                cur.push(if double { '"' } else { '\'' });
                i += 1;
                loop {
                    let Some(&d) = chars.get(i) else {
                        return Err(PsError {
                            line: l0,
                            column: c0,
                            message: format!(
                                "a {} string opened here is never closed",
                                if double {
                                    "double-quoted"
                                } else {
                                    "single-quoted"
                                }
                            ),
                        });
                    };
                    let closes = if double {
                        matches!(d, '"' | '\u{201C}' | '\u{201D}')
                    } else {
                        matches!(d, '\'' | '\u{2018}' | '\u{2019}')
                    };
                    if d == '\n' {
                        line += 1;
                        line_start = i + 1;
                        cur.push(' ');
                        i += 1;
                        continue;
                    }
                    if double && d == '`' {
                        if let Some(&e) = chars.get(i + 1) {
                            cur.push('`');
                            cur.push(e);
                            i += 2;
                            continue;
                        }
                    }
                    if closes {
                        // A doubled quote is one quote.
                        let again = chars.get(i + 1).is_some_and(|&e| {
                            if double {
                                matches!(e, '"' | '\u{201C}' | '\u{201D}')
                            } else {
                                matches!(e, '\'' | '\u{2018}' | '\u{2019}')
                            }
                        });
                        if again {
                            cur.push(if double { '"' } else { '\'' });
                            cur.push(if double { '"' } else { '\'' });
                            i += 2;
                            continue;
                        }
                        cur.push(if double { '"' } else { '\'' });
                        i += 1;
                        break;
                    }
                    cur.push(d);
                    i += 1;
                }
            }
            '(' => {
                nest.push(('(', line, col(i, line_start)));
                cur.push(c);
                i += 1;
            }
            '@' if next == Some('(') => {
                nest.push(('(', line, col(i, line_start)));
                cur.push_str("@(");
                i += 2;
            }
            '@' if next == Some('{') => {
                nest.push(('h', line, col(i, line_start)));
                cur.push_str("@{");
                i += 2;
            }
            ')' => {
                match nest.last() {
                    Some(('(', _, _)) => {
                        nest.pop();
                    }
                    _ => {
                        return Err(PsError {
                            line,
                            column: col(i, line_start),
                            message: "`)` closes no `(`".into(),
                        })
                    }
                }
                cur.push(c);
                i += 1;
            }
            '{' => {
                let w = first_word(&cur);
                if nest.is_empty()
                    && (cur.trim().is_empty() || BLOCK_KEYWORDS.contains(&w.as_str()))
                {
                    let header = cur.trim().to_string();
                    blocks.push((cur_line.unwrap_or(line), header, col(i, line_start)));
                    cur.clear();
                    cur_line = None;
                } else {
                    nest.push(('{', line, col(i, line_start)));
                    cur.push(c);
                }
                i += 1;
            }
            '}' => {
                match nest.last() {
                    Some(('{', _, _)) | Some(('h', _, _)) => {
                        nest.pop();
                        cur.push(c);
                    }
                    Some(_) => {
                        return Err(PsError {
                            line,
                            column: col(i, line_start),
                            message: "`}` inside parentheses that are not closed".into(),
                        })
                    }
                    None => {
                        if blocks.is_empty() {
                            return Err(PsError {
                                line,
                                column: col(i, line_start),
                                message: "`}` closes no `{`".into(),
                            });
                        }
                        emit!();
                        blocks.pop();
                    }
                }
                i += 1;
            }
            ';' => {
                if nest.is_empty() {
                    emit!();
                } else {
                    cur.push(c);
                }
                i += 1;
            }
            '\r' => i += 1,
            _ => {
                cur.push(c);
                i += 1;
            }
        }
    }
    if let Some((k, l, c)) = nest.last() {
        return Err(PsError {
            line: *l,
            column: *c,
            message: format!(
                "`{}` opened here is never closed",
                match k {
                    'h' => "@{",
                    '{' => "{",
                    _ => "(",
                }
            ),
        });
    }
    if let Some((l, _, c)) = blocks.last() {
        return Err(PsError {
            line: *l,
            column: *c,
            message: "`{` opened here is never closed".into(),
        });
    }
    emit!();
    Ok(out)
}

/// A word of a command, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// Text with quotes removed; `expand` when it may hold `$variables`
    /// (bare or double-quoted), `bare` when no part was quoted.
    Word {
        text: String,
        expand: bool,
        bare: bool,
    },
    Comma,
    Pipe,
    Open,
    Close,
    HashOpen,
    HashClose,
    Eq,
    Semi,
}

/// The words of one statement.
#[allow(unused_assignments)]
pub fn tokens(s: &str) -> Vec<Tok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut expand = true;
    let mut bare = true;
    let mut in_hash = 0usize;
    let mut i = 0;
    macro_rules! flush {
        () => {
            if has {
                out.push(Tok::Word {
                    text: std::mem::take(&mut cur),
                    expand,
                    bare,
                });
            }
            has = false;
            expand = true;
            bare = true;
        };
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => {
                flush!();
                i += 1;
            }
            ',' => {
                flush!();
                out.push(Tok::Comma);
                i += 1;
            }
            '|' => {
                flush!();
                out.push(Tok::Pipe);
                i += 1;
            }
            ';' => {
                flush!();
                out.push(Tok::Semi);
                i += 1;
            }
            '@' if chars.get(i + 1) == Some(&'(') && !has => {
                out.push(Tok::Open);
                i += 2;
            }
            '@' if chars.get(i + 1) == Some(&'{') && !has => {
                out.push(Tok::HashOpen);
                in_hash += 1;
                i += 2;
            }
            '(' => {
                flush!();
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                flush!();
                out.push(Tok::Close);
                i += 1;
            }
            '}' if in_hash > 0 => {
                flush!();
                out.push(Tok::HashClose);
                in_hash -= 1;
                i += 1;
            }
            '=' if !has || cur.starts_with('$') || in_hash > 0 => {
                flush!();
                out.push(Tok::Eq);
                i += 1;
            }
            '\'' => {
                has = true;
                bare = false;
                expand = false;
                i += 1;
                while i < chars.len() {
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            cur.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    cur.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                has = true;
                bare = false;
                i += 1;
                while i < chars.len() {
                    match chars[i] {
                        '"' if chars.get(i + 1) == Some(&'"') => {
                            cur.push('"');
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        '`' => {
                            if let Some(&e) = chars.get(i + 1) {
                                cur.push(escape(e));
                            }
                            i += 2;
                        }
                        d => {
                            cur.push(d);
                            i += 1;
                        }
                    }
                }
            }
            '`' => {
                has = true;
                if let Some(&e) = chars.get(i + 1) {
                    cur.push(escape(e));
                }
                i += 2;
            }
            _ => {
                has = true;
                cur.push(c);
                i += 1;
            }
        }
    }
    flush!();
    out
}

/// Stands for an escaped `` `$ `` in a word until variables are expanded.
pub const ESCAPED_DOLLAR: char = '\u{e000}';

fn escape(e: char) -> char {
    match e {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '0' => '\0',
        // An escaped `$` is not a variable: kept apart until expansion.
        '$' => ESCAPED_DOLLAR,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_join_and_split() {
        let t = "# c\n$a = 'x'; $b = \"y\" # tail\nNew-X -A 1 `\n  -B 2,\n  3\nif ($a) {\n  New-Y -C ('p',\n 'q')\n}\n<# block\n #>Get-Z | Out-Null\n";
        let s = statements(t).unwrap();
        let texts: Vec<&str> = s.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "$a = 'x'",
                "$b = \"y\"",
                "New-X -A 1    -B 2,   3",
                "New-Y -C ('p',  'q')",
                "Get-Z | Out-Null"
            ]
        );
        assert_eq!(s[2].line, 3);
        assert_eq!(s[3].blocks.len(), 1);
        assert_eq!(s[4].line, 11);
        let e = statements("a\nb 'c\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(statements("}").is_err());
        assert!(statements("if ($x) {\n").is_err());
    }

    #[test]
    fn words() {
        let t = tokens("New-X -Name 'it''s' -P:$v -L 80,'443' @('a', \"b`$\") | Out-Null");
        assert_eq!(
            t[2],
            Tok::Word {
                text: "it's".into(),
                expand: false,
                bare: false
            }
        );
        assert!(matches!(&t[3], Tok::Word { text, .. } if text == "-P:$v"));
        assert!(t.contains(&Tok::Pipe));
        assert!(t.contains(&Tok::Open));
        assert!(t
            .iter()
            .any(|x| matches!(x, Tok::Word { text, .. } if text == "b\u{e000}")));
    }
}

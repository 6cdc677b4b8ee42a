//! Turns the YAML parser's syntax messages into what the user did: a `[`
//! or `{` never closed (pointed at where it opened, not where the parser
//! gave up), a line indented unlike its siblings, a tab in the indentation.

use crate::diag::Location;

/// A clearer account of a syntax error: where, what, and how to fix it.
pub struct Explained {
    pub at: Location,
    pub message: String,
    pub hint: String,
}

/// Explains the parser's `msg` at `at` in `src`, when the text shows the
/// cause; `full` is the parser's whole message, with its context.
pub fn explain(src: &str, msg: &str, full: &str, at: Location) -> Option<Explained> {
    let lines: Vec<&str> = src.lines().collect();
    if let Some(opened) = context(full, "while scanning a quoted scalar") {
        return Some(Explained {
            at: opened,
            message: "this quote is never closed".to_string(),
            hint: format!(
                "end the value with the same quote on line {} (the parser read on to line {})",
                opened.line, at.line
            ),
        });
    }
    if let Some(e) = tab(&lines, at) {
        return Some(e);
    }
    let flow = msg.contains("flow") || msg.contains("expected ',' or");
    if flow {
        if let Some(e) = unclosed(src, msg, at) {
            return Some(e);
        }
    }
    let indentation = [
        "did not find expected key",
        "mapping values are not allowed",
        "block sequence entries are not allowed",
        "did not find expected '-' indicator",
        "could not find expected ':'",
        "block mapping",
    ]
    .iter()
    .any(|m| msg.contains(m));
    if indentation {
        // The parser names the line where it gave up: the misplaced line or
        // the one after it.
        let here = at.line.saturating_sub(1);
        for l in [Some(here), previous_content(&lines, here)]
            .into_iter()
            .flatten()
        {
            if let Some(e) = misindented(&lines, l, msg) {
                return Some(e);
            }
        }
    }
    None
}

/// The place libyaml names after `what` in its message's context
/// (`..., while scanning a quoted scalar at line 3 column 11`).
fn context(full: &str, what: &str) -> Option<Location> {
    let rest = &full[full.find(what)? + what.len()..];
    let rest = rest.trim_start().strip_prefix("at line ")?;
    let (line, rest) = rest.split_once(" column ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(Location {
        line: line.trim().parse().ok()?,
        column: column.parse().ok()?,
    })
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && t != "---"
}

/// Index of the closest content line before `i`.
fn previous_content(lines: &[&str], i: usize) -> Option<usize> {
    (0..i.min(lines.len()))
        .rev()
        .find(|&j| is_content(lines[j]))
}

/// What a line defines, for messages: its key, or its text.
fn label(line: &str) -> String {
    let t = line.trim().trim_start_matches("- ").trim();
    if t.starts_with(['{', '[']) {
        // A flow mapping or list item: show its start.
        let shown: String = line.trim().chars().take(40).collect();
        return if shown.len() < line.trim().len() {
            format!("{shown}...")
        } else {
            shown
        };
    }
    match t.find(':') {
        Some(i) if i > 0 => t[..i].trim().to_string(),
        _ => t.chars().take(30).collect(),
    }
}

/// A block parent (`roles:`), whose children are indented deeper.
fn opens_block(line: &str) -> bool {
    let t = line.split(" #").next().unwrap_or(line).trim_end();
    t.ends_with(':') || t.ends_with(": |") || t.ends_with(": >") || t.trim() == "-"
}

fn tab(lines: &[&str], at: Location) -> Option<Explained> {
    let i = at.line.checked_sub(1)?;
    let line = lines.get(i)?;
    let lead = &line[..line.len() - line.trim_start().len()];
    let col = lead.find('\t')?;
    Some(Explained {
        at: Location {
            line: at.line,
            column: col + 1,
        },
        message: format!("line {}: a tab in the indentation", at.line),
        hint: "YAML indents with spaces only: replace the tab with spaces, as many as the line's siblings have".to_string(),
    })
}

/// The innermost `[` or `{` still open where the parser stopped.
fn unclosed(src: &str, msg: &str, at: Location) -> Option<Explained> {
    let mut open: Vec<(char, Location)> = Vec::new();
    let mut quote: Option<char> = None;
    for (li, line) in src.lines().enumerate() {
        let line_no = li + 1;
        if line_no > at.line {
            break;
        }
        let mut prev = ' ';
        for (ci, c) in line.chars().enumerate() {
            if line_no == at.line && ci + 1 >= at.column {
                break;
            }
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '#' if prev.is_whitespace() => break,
                    '"' | '\'' if matches!(prev, ' ' | '[' | '{' | ',' | ':') => quote = Some(c),
                    '[' | '{' => open.push((
                        c,
                        Location {
                            line: line_no,
                            column: ci + 1,
                        },
                    )),
                    ']' | '}' => {
                        open.pop();
                    }
                    _ => {}
                },
            }
            prev = c;
        }
    }
    let (c, opened) = open.pop()?;
    let close = if c == '[' { ']' } else { '}' };
    Some(Explained {
        at: opened,
        message: format!("this `{c}` is never closed"),
        hint: format!(
            "close it with `{close}` on line {} (the parser noticed only at line {}, column {}: {msg})",
            opened.line, at.line, at.column
        ),
    })
}

/// For a key the schema does not know: when its line is indented less than
/// the line above (which opens no block), it most likely belongs with that
/// line's siblings.
pub fn dedented(src: &str, at: Location) -> Option<String> {
    let lines: Vec<&str> = src.lines().collect();
    let i = at.line.checked_sub(1)?;
    let line = lines.get(i)?;
    let above = lines[previous_content(&lines, i)?];
    let (me, them) = (indent(line), indent(above));
    (me < them && !opens_block(above)).then(|| {
        format!(
            "this looks like an indentation problem: `{}` (line {}) is indented by {me} spaces, `{}` above it by {them}; indent it like the key it belongs with",
            label(line),
            at.line,
            label(above)
        )
    })
}

/// Line `i` indented unlike its siblings (more than the line above, which
/// opens no block; or at a depth no enclosing block has).
fn misindented(lines: &[&str], i: usize, msg: &str) -> Option<Explained> {
    let line = lines.get(i)?;
    if !is_content(line) {
        return None;
    }
    let me = indent(line);
    let item = is_item(line);
    // Where a sibling's own text starts, compared with this line: the keys
    // of a list item (`- product: x`) start after its dash.
    let sib_indent = |l: &str| {
        if is_item(l) && !item {
            indent(l) + 2
        } else {
            indent(l)
        }
    };
    let p = previous_content(lines, i)?;
    let above = lines[p];
    let at = Location {
        line: i + 1,
        column: me + 1,
    };
    let say = |sib_line: usize, sib: &str, n: usize| {
        Explained {
        at,
        message: format!(
            "indentation: `{}` is indented by {me} space{} but its sibling `{}` (line {}) by {n}",
            label(line),
            if me == 1 { "" } else { "s" },
            label(sib),
            sib_line + 1
        ),
        hint: format!(
            "indent line {} by {n} spaces like its siblings, or by more under a key that ends with `:` (the parser said: {msg})",
            i + 1
        ),
    }
    };
    if me > sib_indent(above) && !opens_block(above) {
        return Some(say(p, above, sib_indent(above)));
    }
    if me < sib_indent(above) {
        // The block this line falls back into: its parent is the closest
        // line indented no deeper; its children start right after it.
        let parent = (0..i)
            .rev()
            .find(|&j| is_content(lines[j]) && indent(lines[j]) <= me);
        let first_child = match parent {
            Some(q) => (q + 1..i).find(|&j| is_content(lines[j]))?,
            None => (0..i).find(|&j| is_content(lines[j]))?,
        };
        // A key and the next key at its depth are siblings (nothing to
        // say), unless this line is a list item under that key, whose
        // earlier items sit deeper.
        if let Some(q) = parent.filter(|&q| indent(lines[q]) == me) {
            if !(item && !is_item(lines[q]) && opens_block(lines[q])) {
                return None;
            }
        }
        let want = sib_indent(lines[first_child]);
        if want != me {
            return Some(say(first_child, lines[first_child], want));
        }
    }
    None
}

fn is_item(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("- ") || t == "-"
}

/// For a mapping that lacks a required key which the file does write
/// elsewhere at another depth: that line is most likely mis-indented.
pub fn misplaced_key(src: &str, key: &str, at: Location) -> Option<String> {
    let lines: Vec<&str> = src.lines().collect();
    let want = at.column.checked_sub(1)?;
    let (n, line) = lines
        .iter()
        .enumerate()
        .skip(at.line.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            is_content(l) && (t.starts_with(&format!("{key}:")))
        })?;
    let col = line.len() - line.trim_start().trim_start_matches("- ").len();
    (col != want).then(|| {
        format!(
            "this looks like an indentation problem: `{key}:` is on line {} indented by {col} spaces, the keys of this entry (line {}) by {want}: indent it like them",
            n + 1,
            at.line
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Location {
        Location { line, column }
    }

    const ROLES: &str = "products:\n  - product: p\n    roles:\n      a: [x, y]\n      b: [z]\n";

    #[test]
    fn an_unclosed_bracket_points_where_it_opened() {
        let src = ROLES.replace("[x, y]", "[x, y");
        let e = explain(&src, "did not find expected ',' or ']'", "", at(5, 8)).unwrap();
        assert_eq!(e.at, at(4, 10));
        assert!(e.hint.contains("close it with `]` on line 4"), "{}", e.hint);
    }

    #[test]
    fn indentation_is_named_with_the_siblings() {
        let more = ROLES.replace("      b:", "        b:");
        let e = explain(&more, "did not find expected key", "", at(5, 9)).unwrap();
        assert_eq!(e.at.line, 5);
        assert!(
            e.message
                .contains("`b` is indented by 8 spaces but its sibling `a` (line 4) by 6"),
            "{}",
            e.message
        );
        let less = ROLES.replace("      b:", "     b:");
        let e = explain(&less, "did not find expected key", "", at(5, 6)).unwrap();
        assert!(
            e.message
                .contains("`b` is indented by 5 spaces but its sibling `a` (line 4) by 6"),
            "{}",
            e.message
        );
    }

    #[test]
    fn an_unclosed_quote_points_where_it_opened() {
        let full = "found unexpected end of stream at line 6 column 1, while scanning a quoted scalar at line 4 column 10";
        let e = explain(ROLES, "found unexpected end of stream", full, at(6, 1)).unwrap();
        assert_eq!(e.at, at(4, 10));
        assert_eq!(e.message, "this quote is never closed");
    }

    #[test]
    fn list_items_and_their_keys_are_compared_where_their_text_starts() {
        let src = "products:\n - product: p\n    roles: {}\n";
        let e = explain(
            src,
            "mapping values are not allowed in this context",
            "",
            at(3, 10),
        )
        .unwrap();
        assert!(
            e.message.contains(
                "`roles` is indented by 4 spaces but its sibling `product` (line 2) by 3"
            ),
            "{}",
            e.message
        );
        let src = "o:\n  list:\n    - a: 1\n  - a: 2\n";
        let e = explain(src, "did not find expected key", "", at(4, 3)).unwrap();
        assert!(
            e.message
                .contains("indented by 2 spaces but its sibling `a` (line 3) by 4"),
            "{}",
            e.message
        );
        let src = "products:\n  - product: p\n  roles:\n";
        let h = misplaced_key(src, "roles", at(2, 5)).unwrap();
        assert!(
            h.contains(
                "`roles:` is on line 3 indented by 2 spaces, the keys of this entry (line 2) by 4"
            ),
            "{h}"
        );
    }

    #[test]
    fn a_tab_is_named() {
        let src = ROLES.replace("      b:", "\t    b:");
        let e = explain(
            &src,
            "found character that cannot start any token",
            "",
            at(5, 1),
        )
        .unwrap();
        assert!(e.message.contains("a tab in the indentation"));
    }
}

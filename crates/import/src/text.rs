//! From a page's bytes to rows: plain text, Markdown and HTML all become
//! lines of cells of items, each with the 1-based line it started on.
//! HTML tags are dropped, but their structure is kept: `<tr>`/`<p>`/`<li>`/
//! `<br>` end a line or an item, `<td>`/`<th>` end a cell.

use rayon::prelude::*;

/// What the page was written in (reported; the pipeline after this is shared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Html,
}

/// One line of the page, split into cells (tab or pipe tables, HTML cells)
/// and each cell into items (bullets, paragraphs, line breaks inside a cell).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub line: u32,
    pub cells: Vec<Vec<String>>,
    /// Starts with a bullet or a number marker (`-`, `•`, `1.`).
    pub bullet: bool,
    /// The number of a numbered item (`1.`), for footnotes.
    pub number: Option<u32>,
    /// A Markdown heading (`#`) or an HTML `<hN>`.
    pub heading: bool,
    /// A Markdown table's `---|---` line.
    pub separator: bool,
    /// The line each cell starts on, when a row spans lines (HTML).
    pub cell_lines: Vec<u32>,
    /// Inside a code block (a Markdown fence, an AsciiDoc `----` block, an
    /// indented reStructuredText literal block after `::`): an example.
    pub code: bool,
}

impl Row {
    /// The line cell `i` starts on.
    pub fn cell_line(&self, i: usize) -> u32 {
        self.cell_lines.get(i).copied().unwrap_or(self.line)
    }
}

impl Row {
    /// All the row's text, cells joined by ` | `.
    pub fn text(&self) -> String {
        self.text_ref().into_owned()
    }
    /// `text`, borrowed when the row is one item (most lines are).
    pub fn text_ref(&self) -> std::borrow::Cow<'_, str> {
        match self.cells.as_slice() {
            [] => "".into(),
            [one] if one.len() == 1 => one[0].as_str().into(),
            _ => self
                .cells
                .iter()
                .map(|c| c.join(" "))
                .collect::<Vec<_>>()
                .join(" | ")
                .into(),
        }
    }
    pub fn is_blank(&self) -> bool {
        self.cells
            .iter()
            .all(|c| c.iter().all(|i| i.trim().is_empty()))
    }
}

/// Marks an item boundary inside a cell while tags are being removed.
const ITEM: char = '\u{1}';

pub fn detect(src: &str) -> Format {
    let lower_head: String = src
        .chars()
        .take(200_000)
        .collect::<String>()
        .to_ascii_lowercase();
    // A document, not a text with a few tags in it: it opens with a tag, or
    // says it is HTML. (A text page quoting `<td>` keeps its line structure.)
    // Comments before the content (a licence header in a Markdown file)
    // say nothing of the format.
    let mut start = lower_head.trim_start();
    while let Some(rest) = start.strip_prefix("<!--") {
        match rest.find("-->") {
            Some(end) => start = rest[end + 3..].trim_start(),
            None => break,
        }
    }
    let opens_with_tag = start.starts_with('<');
    if opens_with_tag
        || ["<html", "<body", "<!doctype"]
            .iter()
            .any(|t| lower_head.contains(t))
    {
        Format::Html
    } else if lower_head.lines().any(|l| {
        let t = l.trim_start();
        t.starts_with("# ") || t.starts_with("## ") || is_separator(t)
    }) {
        Format::Markdown
    } else {
        Format::Text
    }
}

/// The page as rows.
pub fn rows(src: &str) -> (Format, Vec<Row>) {
    let format = detect(src);
    // Lines are cut into cells independently: on every core for a large page.
    let rows: Vec<Row> = match format {
        Format::Html => html_lines(src)
            .into_par_iter()
            .with_min_len(crate::ROWS_PER_TASK)
            .map(|(n, l, cell_lines)| {
                let mut r = row(n, &l);
                if cell_lines.len() == r.cells.len() {
                    r.cell_lines = cell_lines;
                }
                r
            })
            .collect(),
        _ => src
            .lines()
            .collect::<Vec<&str>>()
            .into_par_iter()
            .with_min_len(crate::ROWS_PER_TASK)
            .enumerate()
            .map(|(i, l)| row(u32::try_from(i + 1).unwrap_or(u32::MAX), l))
            .collect(),
    };
    let mut rows = rows;
    if format != Format::Html {
        blank_front_matter(&mut rows);
        mark_code(src, &mut rows);
    }
    (format, rows)
}

/// Marks the rows of code blocks: fenced (```` ``` ````, `~~~`), AsciiDoc
/// listings (`----`), and reStructuredText literal blocks (a paragraph
/// ending in `::` or a `.. code-block::` directive, then indented lines).
/// One pass over the page's lines, which match the rows one to one.
fn mark_code(src: &str, rows: &mut [Row]) {
    let mut fence: Option<&str> = None;
    // The indentation of the paragraph that opened a literal block.
    let mut literal: Option<usize> = None;
    let mut prev = "";
    for (line, r) in src.lines().zip(rows.iter_mut()) {
        let t = line.trim();
        // `----` under a line of text underlines a heading (Markdown's
        // setext style); it opens a listing only after a blank line or a
        // block attribute (`[source,yaml]`).
        let after_break = prev.is_empty() || prev.starts_with('[');
        prev = t;
        let indent = line.len() - line.trim_start().len();
        if let Some(f) = fence {
            r.code = true;
            if t.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if let Some(f) = ["```", "~~~", "----"].into_iter().find(|f| {
            t.starts_with(f) && (*f != "----" || (after_break && t.chars().all(|c| c == '-')))
        }) {
            fence = Some(f);
            r.code = true;
            literal = None;
            continue;
        }
        if let Some(base) = literal {
            if t.is_empty() {
                continue;
            }
            if indent > base {
                r.code = true;
                continue;
            }
            literal = None;
        }
        if (t.ends_with("::") && !t.starts_with("..")) || t.starts_with(".. code") {
            literal = Some(indent);
        }
    }
}

/// Page metadata is not content: YAML/TOML front matter between `---` (or
/// `+++`) lines at the top (`weight: 40`, `title: ...`), and AsciiDoc
/// attribute lines (`:page-layout: ...`). Their rows are blanked, keeping
/// every other row's line number.
fn blank_front_matter(rows: &mut [Row]) {
    let fence = |r: &Row| {
        let t = r.text_ref();
        let t = t.trim();
        t == "---" || t == "+++"
    };
    // Front matter is `key: value` lines: a page that opens with a rule
    // and has another one further down is not blanked in between.
    let yaml_key = |r: &Row| {
        let t = r.text_ref();
        t.split_once(':').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.starts_with(|c: char| c.is_ascii_alphabetic())
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) || t
            .split_once('=')
            .is_some_and(|(k, _)| is_setting(&format!("{}=", k.trim())))
    };
    let first = rows.iter().position(|r| !r.is_blank());
    let opens = first.filter(|&i| {
        fence(&rows[i])
            && rows[i + 1..]
                .iter()
                .find(|r| !r.is_blank())
                .is_some_and(yaml_key)
    });
    if let Some(start) = opens {
        // A closing fence close to the top; a page that opens with a
        // horizontal rule and no closing one keeps its rows.
        if let Some(end) = rows
            .iter()
            .enumerate()
            .skip(start + 1)
            .take(200)
            .find(|(_, r)| fence(r))
            .map(|(i, _)| i)
        {
            for r in &mut rows[start..=end] {
                r.cells.clear();
                r.heading = false;
                r.bullet = false;
            }
        }
    }
    for r in rows.iter_mut() {
        if r.cells.len() == 1 && r.cells[0].len() == 1 && is_attribute_line(&r.cells[0][0]) {
            r.cells.clear();
            r.heading = false;
        }
    }
}

/// `:toc: left`, `:page-aliases: a.adoc`: an AsciiDoc document attribute.
fn is_attribute_line(t: &str) -> bool {
    let Some(rest) = t.strip_prefix(':') else {
        return false;
    };
    let Some((name, _)) = rest.split_once(':') else {
        return false;
    };
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '!')
}

/// `ListenPort=10051`, `http_port = 3000`: a configuration setting, which a
/// `#` before it comments out (its default), not a heading.
fn is_setting(t: &str) -> bool {
    let Some((key, _)) = t.split_once('=') else {
        return false;
    };
    let key = key.trim();
    !key.is_empty()
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `Worker node(s) {#node}`: a heading's anchor is not part of its name.
fn strip_anchor(h: &str) -> &str {
    let t = h.trim_end();
    match t.rfind("{#") {
        Some(i) if t.ends_with('}') => t[..i].trim_end(),
        _ => h,
    }
}

/// `[Node exporter](https://github.com/...)` reads as `Node exporter`: a
/// link's address is where the page points, not a party or a port.
fn unlink(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("](") {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let image = open > 0 && rest.as_bytes()[open - 1] == b'!';
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else {
            break;
        };
        let target = &after[close + 2..];
        let Some(end) = target.find(')') else {
            break;
        };
        if after[..close].contains('[') {
            // `[[` or a nested bracket: keep the first `[` and go on.
            out.push_str(&rest[..=open]);
            rest = after;
            continue;
        }
        if image {
            // `![diagram of the ports](ports.png)`: a picture's alt text is
            // not a statement of the page.
            out.push_str(&rest[..open - 1]);
        } else {
            out.push_str(&rest[..open]);
            out.push_str(&after[..close]);
        }
        rest = &target[end + 1..];
    }
    out.push_str(rest);
    out.into()
}

fn is_separator(t: &str) -> bool {
    let t = t.trim();
    t.contains("---")
        && t.contains('|')
        && t.chars().all(|c| matches!(c, '-' | '|' | ':' | ' ' | '\t'))
}

fn row(line: u32, raw: &str) -> Row {
    let mut r = Row {
        line,
        ..Row::default()
    };
    let trimmed = raw.trim();
    if is_separator(trimmed) {
        r.separator = true;
        return r;
    }
    let unlinked = unlink(raw);
    let mut body = unlinked.trim_end();
    let start = body.trim_start();
    let asciidoc = start
        .strip_prefix("==")
        .map(|h| h.trim_start_matches('='))
        .filter(|h| h.starts_with(' '));
    if let Some(h) = start.strip_prefix('#') {
        let h = h.trim_start_matches('#');
        if is_setting(h.trim()) {
            // `# ListenPort=10051`: a commented default, read as the setting.
            body = h;
        } else {
            r.heading = true;
            body = strip_anchor(h);
        }
    } else if let Some(h) = asciidoc {
        // AsciiDoc section titles (`== Ports`); a lone `=` is the document
        // title, kept as text.
        r.heading = true;
        body = strip_anchor(h);
    } else if let Some(rest) = strip_bullet(start) {
        r.bullet = true;
        body = rest;
    } else if let Some((n, rest)) = strip_number(start) {
        r.bullet = true;
        r.number = Some(n);
        body = rest;
    }
    let cells: Vec<&str> = if body.contains('\t') {
        body.split('\t').collect()
    } else if body.matches('|').count() >= 2 {
        let mut v: Vec<&str> = body.split('|').collect();
        if v.first().is_some_and(|c| c.trim().is_empty()) {
            v.remove(0);
        }
        if v.last().is_some_and(|c| c.trim().is_empty()) {
            v.pop();
        }
        v
    } else {
        vec![body]
    };
    r.cells = cells.into_iter().map(items).collect();
    r
}

fn strip_bullet(s: &str) -> Option<&str> {
    for m in ["- ", "* ", "+ ", "• ", "· ", "◦ ", "▪ "] {
        if let Some(rest) = s.strip_prefix(m) {
            return Some(rest);
        }
    }
    None
}

fn strip_number(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let rest = &s[digits..];
    let rest = rest
        .strip_prefix(". ")
        .or_else(|| rest.strip_prefix(") "))?;
    Some((s[..digits].parse().ok()?, rest))
}

/// One cell's items: inline tags removed (block tags and bullets split items).
fn items(cell: &str) -> Vec<String> {
    // Most cells of a text page hold no tag and no entity: no copy then.
    let text: std::borrow::Cow<'_, str> = if cell.contains(['<', '&']) {
        strip_tags(cell, TagMode::Inline).into()
    } else {
        cell.into()
    };
    text.split([ITEM, '•'])
        .map(collapse)
        .filter(|s| !s.is_empty())
        .collect()
}

fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum TagMode {
    /// Inside one line of text: block tags become item breaks.
    Inline,
    /// A whole HTML document: rows become lines, cells tabs.
    Document,
}

/// Removes tags, decoding entities; what a tag becomes depends on `mode`.
/// Linear: once a `<` has no `>` after it, no later `<` is a tag either.
fn strip_tags(src: &str, mode: TagMode) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    let mut closers_left = true;
    let mut skip_until: Option<&'static str> = None;
    while let Some(i) = rest.find(['<', '&']) {
        if skip_until.is_none() {
            out.push_str(&rest[..i]);
        }
        rest = &rest[i..];
        if rest.starts_with('&') {
            let (ch, used) = entity(rest);
            if skip_until.is_none() {
                out.push_str(&ch);
            }
            rest = &rest[used..];
            continue;
        }
        let looks_tag = rest[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        let end = if looks_tag && closers_left {
            rest.find('>')
        } else {
            None
        };
        let Some(end) = end else {
            if looks_tag {
                closers_left = false;
            }
            if skip_until.is_none() {
                out.push('<');
            }
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[1..end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        rest = &rest[end + 1..];
        if let Some(stop) = skip_until {
            if closing && name == stop {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "script" if !closing => skip_until = Some("script"),
            "style" if !closing => skip_until = Some("style"),
            _ => out.push_str(tag_text(&name, closing, mode)),
        }
    }
    if skip_until.is_none() {
        out.push_str(rest);
    }
    out
}

fn tag_text(name: &str, closing: bool, mode: TagMode) -> &'static str {
    match (mode, name, closing) {
        (TagMode::Inline, "li" | "p" | "br" | "ul" | "ol" | "div" | "tr", _) => "\u{1}",
        (TagMode::Inline, "td" | "th", false) => " ",
        (TagMode::Document, "tr", _) => "\n",
        (TagMode::Document, "td" | "th", false) => "\t",
        (TagMode::Document, "li", false) => "\n• ",
        (TagMode::Document, "h1" | "h2" | "h3" | "h4" | "h5" | "h6", false) => "\n# ",
        (
            TagMode::Document,
            "p" | "br" | "div" | "ul" | "ol" | "li" | "table" | "h1" | "h2" | "h3" | "h4" | "h5"
            | "h6" | "caption" | "section" | "dt" | "dd",
            _,
        ) => "\n",
        _ => "",
    }
}

/// `&amp;` and friends: (text, bytes used). Unknown ones stay as written.
fn entity(s: &str) -> (String, usize) {
    let end = s
        .char_indices()
        .take(10)
        .find(|(_, c)| *c == ';')
        .map(|(i, _)| i);
    let Some(end) = end else {
        return ("&".into(), 1);
    };
    let name = &s[1..end];
    let ch = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" | "#39" => Some('\''),
        "nbsp" | "#160" => Some(' '),
        "ndash" => Some('–'),
        "mdash" => Some('—'),
        "bull" => Some('•'),
        _ => name
            .strip_prefix('#')
            .and_then(|n| {
                n.strip_prefix(['x', 'X'])
                    .map_or_else(|| n.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
            })
            .and_then(char::from_u32),
    };
    match ch {
        Some(c) => (c.to_string(), end + 1),
        None => ("&".into(), 1),
    }
}

/// An HTML document as text lines, each with the source line it began on
/// and the line each of its cells began on. Newlines in the source are
/// spaces; rows, paragraphs and items are lines.
fn html_lines(src: &str) -> Vec<(u32, String, Vec<u32>)> {
    // Converted source line by source line so every cell knows where it
    // started; a tag split across source lines is rare and only loses that tag.
    let mut out: Vec<(u32, String, Vec<u32>)> = Vec::new();
    let mut current = String::new();
    let mut cell_lines: Vec<u32> = Vec::new();
    let mut start_line = 1u32;
    for (i, raw) in src.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let text = strip_tags(raw, TagMode::Document);
        for (k, part) in text.split('\n').enumerate() {
            if k > 0 {
                out.push((
                    start_line,
                    std::mem::take(&mut current),
                    std::mem::take(&mut cell_lines),
                ));
            }
            if current.trim().is_empty() && !part.trim().is_empty() && !current.contains('\t') {
                start_line = n;
            }
            if k > 0 && current.is_empty() {
                start_line = n;
            }
            for _ in part.matches('\t') {
                cell_lines.push(n);
            }
            current.push(' ');
            current.push_str(part);
        }
    }
    out.push((start_line, current, cell_lines));
    out.into_iter()
        .filter(|(_, l, _)| !l.trim().is_empty())
        .map(|(n, l, tabs)| {
            // Cell 0 is whatever precedes the first tab; cell k starts at tab k-1.
            let cells: Vec<String> = l.split('\t').map(collapse).collect();
            let mut lines: Vec<u32> = std::iter::once(n).chain(tabs).collect();
            lines.resize(cells.len(), n);
            let first = cells.iter().position(|c| !c.is_empty()).unwrap_or(0);
            let line = lines.get(first).copied().unwrap_or(n);
            (line, cells[first..].join("\t"), lines[first..].to_vec())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_html_splits_items_and_keeps_cells() {
        let (f, rs) = rows("A\t<p>HTTPS: TCP/443</p> • SSH: TCP/22 <p>Note x</p>\t—");
        assert_eq!(f, Format::Text);
        assert_eq!(rs[0].cells.len(), 3);
        assert_eq!(
            rs[0].cells[1],
            vec!["HTTPS: TCP/443", "SSH: TCP/22", "Note x"]
        );
    }

    #[test]
    fn html_document_rows_become_lines_with_cells() {
        let src = "<html><body>\n<table>\n<tr><th>Port</th><th>Use</th></tr>\n<tr><td>443 &amp; 80</td>\n<td>web</td></tr>\n</table>";
        let (f, rs) = rows(src);
        assert_eq!(f, Format::Html);
        let cells: Vec<_> = rs.iter().map(|r| (r.line, r.cells.len())).collect();
        assert_eq!(cells, vec![(3, 2), (4, 2)]);
        assert_eq!(rs[1].cells[0], vec!["443 & 80"]);
    }

    #[test]
    fn pipe_tables_and_bullets() {
        let (_, rs) = rows("| 443 (TCP) | a | |\n---|---|\n- item one\n  1. note");
        assert_eq!(rs[0].cells.len(), 3);
        assert!(rs[1].separator);
        assert!(rs[2].bullet);
        assert_eq!(rs[3].number, Some(1));
    }

    #[test]
    fn unclosed_tags_stay_text() {
        let (_, rs) = rows("a <b c <d e");
        assert_eq!(rs[0].cells[0], vec!["a <b c <d e"]);
    }
}

//! The merged report as one self-contained HTML file: inline style, no
//! script, no external asset, so it can be mailed or attached to a change
//! ticket and opened anywhere. Every text from the inputs is escaped: host
//! names and evidence come from files an attacker may have touched.

use crate::merge::Merged;
use crate::report::esc_xml as esc;
use std::fmt::Write;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.ok{background:#d9f2d9}.fail{background:#f8d0d0}.gap{background:#fff1c2}\
.verdict{font-size:1.3em;font-weight:bold}.mono{font-family:ui-monospace,monospace}";

impl Merged {
    pub fn html(&self) -> String {
        let title = self
            .deployment
            .as_ref()
            .map(|d| format!("Flow proof: {}", d.name))
            .unwrap_or_else(|| "Flow proof".into());
        let mut s =
            String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        let _ = writeln!(
            s,
            "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
            esc(&title)
        );
        let _ = writeln!(s, "<h1>{}</h1>", esc(&title));
        let (class, verdict) = if self.proven() {
            ("ok", "PROVEN")
        } else {
            ("fail", "NOT PROVEN")
        };
        let _ = writeln!(
            s,
            "<p class=\"verdict {class}\">{verdict}</p>\n<p>{}</p>",
            esc(&self.summary())
        );
        if let Some(d) = &self.deployment {
            let _ = writeln!(
                s,
                "<p>Deployment file <span class=\"mono\">{}</span>, sha256 <span class=\"mono\">{}</span></p>",
                esc(&d.file),
                esc(&d.sha256)
            );
        }
        for w in &self.warnings {
            let _ = writeln!(s, "<p class=\"gap\">warning: {}</p>", esc(w));
        }
        self.html_matrix(&mut s);
        let hosts = self.hosts_table();
        if !hosts.1.is_empty() {
            s.push_str("<h2>Host problems</h2>\n");
            html_table(&mut s, &hosts.0, &hosts.1, |_| "fail");
        }
        if !self.not_verified.is_empty() {
            s.push_str("<h2>Not verified</h2>\n");
            let (h, rows) = self.gaps_table();
            html_table(&mut s, &h, &rows, |_| "gap");
        }
        s.push_str("<h2>Paths</h2>\n");
        let (h, rows) = self.paths_table();
        html_table(&mut s, &h, &rows, |r| {
            if r.get(5).map(String::as_str) == Some("pass") {
                "ok"
            } else {
                "fail"
            }
        });
        s.push_str("</body>\n</html>\n");
        s
    }

    fn html_matrix(&self, s: &mut String) {
        let m = self.matrix();
        s.push_str("<h2>Sources × destinations</h2>\n<table>\n<tr><th>from \\ to</th>");
        for d in &m.destinations {
            let _ = write!(s, "<th>{}</th>", esc(d));
        }
        s.push_str("</tr>\n");
        for src in &m.sources {
            let _ = write!(s, "<tr><th>{}</th>", esc(src));
            for d in &m.destinations {
                match m.cells.get(&(src.clone(), d.clone())) {
                    Some(c) => {
                        let class = if c.failed > 0 {
                            "fail"
                        } else if c.not_verified > 0 {
                            "gap"
                        } else {
                            "ok"
                        };
                        let _ = write!(s, "<td class=\"{class}\">{}</td>", esc(&c.text()));
                    }
                    None => s.push_str("<td></td>"),
                }
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</table>\n<p>ok N: N paths proven. FAIL f/n (state k): f of n paths failed, by state. ? n: n flows not verified (see below).</p>\n");
    }
}

fn html_table(
    s: &mut String,
    header: &[&str],
    rows: &[Vec<String>],
    class: impl Fn(&[String]) -> &'static str,
) {
    s.push_str("<table>\n<tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>\n");
    for r in rows {
        let _ = write!(s, "<tr class=\"{}\">", class(r));
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
}

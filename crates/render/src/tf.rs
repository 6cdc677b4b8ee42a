//! Terraform (HCL) text shared by the cloud formats: quoted strings that
//! cannot interpolate, resource names, unique labels.

use crate::common;
use std::collections::HashMap;

/// A quoted HCL string: escapes `\` and `"`, and doubles `${`/`%{` so the
/// text can never start an interpolation or directive.
pub fn s(text: &str) -> String {
    let t = common::one_line(text)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{t}\"")
}

/// `["a", "b"]`.
pub fn list(items: &[String]) -> String {
    let v: Vec<String> = items.iter().map(|i| s(i)).collect();
    format!("[{}]", v.join(", "))
}

/// Resource labels: unique, letters/digits/underscores, starting with a letter.
#[derive(Default)]
pub struct Labels {
    used: HashMap<String, usize>,
}

impl Labels {
    pub fn unique(&mut self, base: &str) -> String {
        let mut base = common::sanitize(
            &base.to_ascii_lowercase(),
            |c| c.is_ascii_alphanumeric(),
            '_',
            200,
        )
        .replace("...", "");
        if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            base = format!("r_{base}");
        }
        let n = self.used.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}_{n}")
        }
    }
}

/// `# ` comment lines.
pub fn comments(lines: &[String], out: &mut String) {
    for l in lines {
        out.push_str("# ");
        out.push_str(&common::one_line(l));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_cannot_interpolate() {
        assert_eq!(super::s("a\"b ${x} %{y} \\"), r#""a\"b $${x} %%{y} \\""#);
    }
}

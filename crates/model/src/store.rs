//! The catalog as a whole: built-in products plus any the user adds.

use crate::catalog::Product;
use crate::diag::{Diagnostic, Severity};
use crate::load::{parse_yaml, Parsed};
use crate::validate::check_product;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// Products by id, each with the file it came from.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub products: BTreeMap<String, Product>,
    pub origin: BTreeMap<String, String>,
}

/// One catalog file's outcome: the product if it parsed, and what was found.
pub struct Checked {
    pub file: String,
    pub product: Option<Product>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and validates one catalog file's text.
pub fn check_file(file: &str, src: &str) -> Checked {
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    match parse_yaml::<Product>(file, src) {
        Err(d) => Checked {
            file: file.to_string(),
            product: None,
            diagnostics: vec![d],
        },
        Ok(parsed) => {
            let diagnostics = check_product(&parsed, stem.as_deref());
            let Parsed { value, .. } = parsed;
            Checked {
                file: file.to_string(),
                product: Some(value),
                diagnostics,
            }
        }
    }
}

/// The catalog files shipped in the binary: (file name, text).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    builtin::BUILTIN
}

/// Reads every `*.yaml` file of a folder, sorted by name.
pub fn read_dir_files(dir: &Path) -> Result<Vec<(String, String)>, Diagnostic> {
    let rd = fs::read_dir(dir).map_err(|e| {
        Diagnostic::error(
            dir.display().to_string(),
            format!("cannot read the folder: {e}"),
        )
    })?;
    let mut paths: Vec<_> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        let text = fs::read_to_string(&p)
            .map_err(|e| Diagnostic::error(&name, format!("cannot read the file: {e}")))?;
        out.push((name, text));
    }
    Ok(out)
}

impl Catalog {
    /// The built-in catalog, plus products from `extra` (which override
    /// built-in ones of the same id). Any error in any file fails the load:
    /// planning on a half-read catalog would drop requirements silently.
    pub fn load(extra: Option<&Path>) -> Result<Catalog, Vec<Diagnostic>> {
        let mut files: Vec<(String, String)> = builtin_files()
            .iter()
            .map(|(n, t)| (format!("catalog/{n}"), (*t).to_string()))
            .collect();
        if let Some(dir) = extra {
            files.extend(read_dir_files(dir).map_err(|d| vec![d])?);
        }
        let mut cat = Catalog::default();
        let mut errors = Vec::new();
        for (name, text) in files {
            let c = check_file(&name, &text);
            let bad = c.diagnostics.iter().any(|d| d.severity == Severity::Error);
            errors.extend(c.diagnostics.into_iter().filter(Diagnostic::is_error));
            if let (false, Some(p)) = (bad, c.product) {
                cat.origin.insert(p.product.clone(), name);
                cat.products.insert(p.product.clone(), p);
            }
        }
        if errors.is_empty() {
            Ok(cat)
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, id: &str) -> Option<&Product> {
        self.products.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> + Clone {
        self.products.keys().map(String::as_str)
    }
}

//! Reading a deployment file (or stdin) with located errors.

use portplan_model::load::{parse_yaml, Parsed};
use portplan_model::{Deployment, Diagnostic};
use std::io::Read;
use std::path::Path;

/// Reads and parses a deployment; `-` reads stdin. Syntax errors, unknown
/// keys and bad ports come back as one located diagnostic.
pub fn load_deployment(path: &Path) -> Result<Parsed<Deployment>, Diagnostic> {
    let (name, text) = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Diagnostic::error("<stdin>", format!("cannot read stdin: {e}")))?;
        ("<stdin>".to_string(), s)
    } else {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            let d = Diagnostic::error(&name, format!("cannot read the file: {e}"));
            match e.kind() {
                std::io::ErrorKind::NotFound => {
                    d.hint("check the path (relative to the current folder); `-` reads stdin")
                }
                std::io::ErrorKind::InvalidData => {
                    d.hint("a deployment is UTF-8 text; save it as UTF-8")
                }
                _ => d,
            }
        })?;
        (name, text)
    };
    parse_yaml::<Deployment>(&name, &text).map_err(|d| match d.hint {
        // The model's hint names the catalog schema; point at the deployment's.
        Some(h) if h.contains("catalog schema") => Diagnostic {
            hint: Some(h.replace("catalog schema", "catalog schema --deployment")),
            ..d
        },
        _ => d,
    })
}

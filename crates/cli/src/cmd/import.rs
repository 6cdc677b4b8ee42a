//! `portplan import FILE`: a vendor ports page becomes a draft catalog entry
//! (YAML, CSV or JSON), with the page's anomalies on stderr and in the draft;
//! `--against PRODUCT` compares the page with a catalog entry instead.

// Same writers as `catalog export`, so the columns are the same.
use super::catalog::{pretty_json as json, product_csv_parts};
use super::{Failure, Global, Outcome};
use crate::out;
use clap::ValueEnum;
use portplan_import::diff::{diff, Diff, Entry};
use portplan_import::{import, Import, Options};
use portplan_model::Diagnostic;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The page: plain text, Markdown or HTML (`-` reads stdin).
    pub file: PathBuf,
    /// Product id of the draft (default: from the file name).
    #[arg(long, value_name = "ID")]
    pub product: Option<String>,
    /// Write the draft to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// yaml: a catalog file; csv: the columns of `catalog export`; json: draft, findings and anomalies.
    #[arg(long, short = 'f', value_enum, default_value_t = ImportFormat::Yaml)]
    pub format: ImportFormat,
    /// Exit 2 when the page has any anomaly, or no port statement at all.
    #[arg(long)]
    pub strict: bool,
    /// Compare the page with this catalog product instead of writing a draft.
    #[arg(long, value_name = "PRODUCT")]
    pub against: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    Yaml,
    Csv,
    Json,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let (name, src) = read_page(&a.file)?;
    let file_name = std::path::Path::new(&name)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .filter(|_| name != "<stdin>");
    let mut imp = import(
        &src,
        &Options {
            product: a.product.clone(),
            file: file_name,
            // The findings themselves are written only as JSON or compared
            // with --against.
            draft_only: a.against.is_none() && a.format != ImportFormat::Json,
        },
    );
    // One write for all of them: stderr is unbuffered, and a large page
    // has thousands.
    let mut said = String::new();
    for an in &imp.anomalies {
        let d = Diagnostic::warning(
            &name,
            format!("{} ({}): {}", an.message, kind_word(an.kind), an.text),
        )
        .at(Some(portplan_model::Location {
            line: an.line as usize,
            column: 1,
        }));
        said.push_str(&out::diagnostic(&d, g.color));
        said.push('\n');
    }
    eprint!("{said}");
    if !imp.anomalies.is_empty() {
        eprintln!(
            "portplan: {} anomal{} on the page; each is marked REVIEW in the draft",
            imp.anomalies.len(),
            if imp.anomalies.len() == 1 { "y" } else { "ies" }
        );
    }
    let empty = imp.draft.requirements.is_empty();
    if empty {
        eprintln!(
            "portplan: warning: {name}: no port statement found; the draft has no requirement \
             (is it the ports page? `--format json` shows what was read)"
        );
    }
    let parts: Vec<String> = match &a.against {
        Some(id) => {
            let cat = g.catalog()?;
            let product = super::catalog::product(&cat, id)?;
            let d = diff(product, &imp.findings);
            vec![match a.format {
                ImportFormat::Json => json(&d)?,
                _ => diff_text(id, &name, &d),
            }]
        }
        None => match a.format {
            ImportFormat::Yaml => yaml(&mut imp)?,
            ImportFormat::Csv => product_csv_parts(&imp.draft)?,
            ImportFormat::Json => vec![json(&serde_json::json!({
                "format": imp.format,
                "draft": imp.draft,
                "provenance": imp.provenance,
                "findings": imp.findings,
                "anomalies": imp.anomalies,
            }))?],
        },
    };
    out::emit_parts(&parts, a.output.as_deref())?;
    std::mem::forget(parts);
    let failed = a.strict && (empty || !imp.anomalies.is_empty());
    // The process ends here: freeing a large draft piece by piece would only
    // cost time (a tenth of a 10 MB import).
    std::mem::forget(imp);
    if failed {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn kind_word(k: portplan_import::AnomalyKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn read_page(path: &std::path::Path) -> Result<(String, String), Failure> {
    let (name, bytes) = if path == std::path::Path::new("-") {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| Failure::Message(format!("cannot read stdin: {e}")))?;
        ("<stdin>".to_string(), b)
    } else {
        let b = std::fs::read(path)
            .map_err(|e| Failure::Message(format!("cannot read {}: {e}", path.display())))?;
        (path.display().to_string(), b)
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "portplan: warning: {name} is not valid UTF-8; undecodable bytes are replaced"
            );
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    Ok((name, text))
}

/// The draft as a catalog file, each requirement's line and confidence as a comment.
/// The draft as YAML, each requirement's `- id:` line annotated with its page
/// line and confidence. Requirements are written in chunks on every core
/// (a large draft's YAML took longer than reading the page) and spliced into
/// the rest, which a top-level list allows: the writer puts a mapping's list
/// items at column 0 either way.
fn yaml(imp: &mut Import) -> Result<Vec<String>, Failure> {
    let requirements = std::mem::take(&mut imp.draft.requirements);
    let shell = to_yaml(&imp.draft);
    imp.draft.requirements = requirements;
    let shell = shell?;
    let by_id: std::collections::HashMap<&str, &portplan_import::draft::Provenance> = imp
        .provenance
        .iter()
        .map(|p| (p.requirement.as_str(), p))
        .collect();
    let parts: Vec<Result<String, Failure>> = imp
        .draft
        .requirements
        .par_chunks(1024)
        .map(|chunk| Ok(annotate(&to_yaml(&chunk)?, &by_id)))
        .collect();
    let mut head = String::from(
        "# Draft written by `portplan import`: review every REVIEW note, then check with\n\
         # `portplan catalog check FILE`. Comments give each requirement's page line and confidence.\n",
    );
    const EMPTY: &str = "\nrequirements: []\n";
    let mut out = Vec::with_capacity(parts.len() + 2);
    match shell.find(EMPTY).filter(|_| !parts.is_empty()) {
        Some(at) => {
            head.push_str(&shell[..at]);
            head.push_str("\nrequirements:\n");
            out.push(head);
            for part in parts {
                out.push(part?);
            }
            out.push(shell[at + EMPTY.len()..].to_string());
        }
        None => {
            head.push_str(&shell);
            out.push(head);
        }
    }
    Ok(out)
}

fn to_yaml<T: serde::Serialize>(v: &T) -> Result<String, Failure> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    // One line per value, as a reviewer edits it (no `>` folding).
    opts.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(v, opts)
        .map_err(|e| Failure::Message(format!("cannot write yaml: {e}")))
}

/// Adds `# line N, confidence C (protocol: B)` to each `- id:` line.
fn annotate(
    yaml: &str,
    by_id: &std::collections::HashMap<&str, &portplan_import::draft::Provenance>,
) -> String {
    let mut out = String::with_capacity(yaml.len() + yaml.len() / 8);
    for line in yaml.lines() {
        out.push_str(line);
        if let Some(id) = line.strip_prefix("- id: ") {
            if let Some(p) = by_id.get(id.trim()) {
                let _ = write!(
                    out,
                    "  # line {}, confidence {:.2} (protocol: {})",
                    p.line,
                    p.confidence,
                    p.basis.as_str()
                );
            }
        }
        out.push('\n');
    }
    out
}

fn entry_text(e: &Entry) -> String {
    format!(
        "{}/{}  {}  [{}{}]  ({})",
        e.protocol,
        e.port,
        e.service,
        e.direction,
        if e.required { "" } else { ", optional" },
        e.at
    )
}

fn diff_text(id: &str, page: &str, d: &Diff) -> String {
    let mut s = format!("--- catalog {id}\n+++ page {page}\n");
    for e in &d.added {
        s.push_str(&format!("+ {}\n", entry_text(e)));
    }
    for e in &d.removed {
        s.push_str(&format!("- {}\n", entry_text(e)));
    }
    for (c, p) in &d.changed {
        s.push_str(&format!("~ {}\n    was {}\n", entry_text(p), entry_text(c)));
    }
    s.push_str(&format!(
        "{} added, {} removed, {} changed, {} unchanged (protocol, port) statements\n",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged
    ));
    s
}

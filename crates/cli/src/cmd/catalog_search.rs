//! `portplan catalog search WORDS`: products, roles and requirements across
//! the whole catalog, by name, service, id or port (`443`, `udp/53`).

use super::{Failure, Global, Outcome};
use crate::out;
use portplan_model::search::{search, Hit, HitKind};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Words and ports; every one must match (`radius`, `ise 1812`, `udp/53`).
    #[arg(required = true, value_name = "WORDS")]
    pub words: Vec<String>,
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

fn kind(k: HitKind) -> &'static str {
    match k {
        HitKind::Product => "product",
        HitKind::Role => "role",
        HitKind::Requirement => "requirement",
    }
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let cat = g.catalog()?;
    let query = args.words.join(" ");
    let hits = search(&cat, &query);
    let text = match args.format {
        Format::Json => super::catalog::pretty_json(&hits)?,
        Format::Csv => csv(&hits)?,
        Format::Table if hits.is_empty() => {
            eprintln!(
                "nothing in the catalog matches `{query}` (every word must match; try fewer words, or `portplan port N` for a port's IANA name)"
            );
            return Ok(ExitCode::from(1));
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = hits
                .iter()
                .map(|h| {
                    vec![
                        kind(h.kind).to_string(),
                        h.product.clone(),
                        h.id.clone(),
                        h.title.clone(),
                        h.detail.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let mut t = out::table(&["KIND", "PRODUCT", "ID", "NAME", "FLOW"], &rows, g.color);
            t.push_str(&format!(
                "\n{} match{}. `portplan catalog show PRODUCT` for a product; --format json says which words matched where.\n",
                hits.len(),
                if hits.len() == 1 { "" } else { "es" }
            ));
            t
        }
    };
    out::emit(&text, None)?;
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn csv(hits: &[Hit]) -> Result<String, Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::Message(format!("cannot write CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["kind", "product", "id", "name", "flow", "matched"])
        .map_err(|e| fail(&e))?;
    for h in hits {
        w.write_record([
            kind(h.kind),
            &h.product,
            &h.id,
            &h.title,
            h.detail.as_deref().unwrap_or(""),
            &h.matched.join("; "),
        ])
        .map_err(|e| fail(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

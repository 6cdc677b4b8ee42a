//! `portplan catalog list|show|export|check|schema`.

use super::{Failure, Global, Outcome};
use crate::out;
use clap::ValueEnum;
use portplan_model::diag::{sort, unknown};
use portplan_model::export::{self, ExportRow};
use portplan_model::store::{builtin_files, check_file, read_dir_files};
use portplan_model::{Catalog, PortSpec, Product, Requirement};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum CatalogCmd {
    /// Products with counts of roles and requirements.
    List {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = out::TableOrJson::Table)]
        format: out::TableOrJson,
    },
    /// Find products, roles and requirements by name, service, id or port.
    Search(super::catalog_search::Args),
    /// One product's requirements, readable in a terminal or complete in json.
    Show {
        /// Product id (see `portplan catalog list`).
        product: String,
        /// Only requirements this role takes part in (as source or destination).
        #[arg(long)]
        role: Option<String>,
        /// Only requirements of this feature.
        #[arg(long)]
        feature: Option<String>,
        /// Output format (json and csv hold every port of a long list).
        #[arg(long, short = 'f', value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
    },
    /// The flat table for spreadsheets and tickets: one row per (requirement, protocol, port range).
    Export {
        /// Only this product (default: all).
        #[arg(long)]
        product: Option<String>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Validate catalog files (default: the built-in catalog). Exit 0 when clean, 2 when not.
    Check {
        /// A folder of `*.yaml` catalog files, or one file.
        dir: Option<PathBuf>,
        /// Output format: a summary line (findings on stderr), or JSON with the findings.
        #[arg(long, short = 'f', value_enum, default_value_t = out::TableOrJson::Table)]
        format: out::TableOrJson,
    },
    /// Print the JSON Schema of catalog files (or deployment files), for editors.
    Schema {
        /// The schema of deployment files instead.
        #[arg(long)]
        deployment: bool,
        /// Output format (a schema is JSON; the flag is here so every command takes it).
        #[arg(long, short = 'f', value_enum, default_value_t = JsonOnly::Json)]
        format: JsonOnly,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ShowFormat {
    Table,
    Json,
    Csv,
    Md,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum JsonOnly {
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

pub fn run(c: CatalogCmd, g: &Global) -> Outcome {
    match c {
        CatalogCmd::List { format } => list(g, format),
        CatalogCmd::Search(a) => super::catalog_search::run(a, g),
        CatalogCmd::Show {
            product,
            role,
            feature,
            format,
        } => show(g, &product, role.as_deref(), feature.as_deref(), format),
        CatalogCmd::Export {
            product,
            format,
            output,
        } => export_cmd(g, product.as_deref(), format, output),
        CatalogCmd::Check { dir, format } => check(g, dir, format),
        CatalogCmd::Schema {
            deployment,
            format: JsonOnly::Json,
        } => {
            let schema = if deployment {
                portplan_model::deployment_schema()
            } else {
                portplan_model::catalog_schema()
            };
            out::emit(&pretty_json(&schema)?, None)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn pretty_json<T: serde::Serialize>(v: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| Failure::Message(format!("cannot write json: {e}")))
}

/// A product by id, or an error that names the closest one.
pub fn product<'a>(cat: &'a Catalog, id: &str) -> Result<&'a Product, Failure> {
    cat.get(id).ok_or_else(|| {
        let (m, h) = unknown("product", id, cat.ids());
        Failure::Message(format!("{m}\n  help: {h}"))
    })
}

fn list(g: &Global, format: out::TableOrJson) -> Outcome {
    let cat = g.catalog()?;
    if format == out::TableOrJson::Json {
        let v: Vec<serde_json::Value> = cat
            .products
            .values()
            .map(|p| {
                serde_json::json!({
                    "product": p.product,
                    "name": p.name,
                    "vendor": p.vendor,
                    "roles": p.roles.len(),
                    "own_roles": p.roles.iter().filter(|r| r.kind == portplan_model::RoleKind::Component).count(),
                    "requirements": p.requirements.len(),
                    "features": p.features.len(),
                    "export_rows": export::rows(p).len(),
                    "file": cat.origin.get(&p.product),
                    "reviewed": reviewed(p),
                    "sources": p.sources,
                })
            })
            .collect();
        out::emit(&pretty_json(&v)?, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = cat
        .products
        .values()
        .map(|p| {
            let components = p
                .roles
                .iter()
                .filter(|r| r.kind == portplan_model::RoleKind::Component)
                .count();
            vec![
                p.product.clone(),
                p.name.clone(),
                format!("{} ({components} own)", p.roles.len()),
                p.requirements.len().to_string(),
                p.features.len().to_string(),
                source_title(p),
                reviewed(p),
            ]
        })
        .collect();
    let text = out::table(
        &[
            "PRODUCT", "NAME", "ROLES", "REQS", "FEATURES", "SOURCE", "REVIEWED",
        ],
        &rows,
        g.color,
    );
    let text = format!("{text}\n{LIST_LEGEND}");
    out::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

/// What each column of `catalog list` counts.
const LIST_LEGEND: &str = "\
PRODUCT       id for `catalog show`, `port` and a deployment's `product:`
NAME          the product's name as its vendor writes it
ROLES         parts and outside parties; (N own): the product's own components
REQS          requirements: flows the vendor's pages ask for
FEATURES      optional parts a deployment switches on or off
SOURCE        the vendor document the requirements cite (+N: more documents)
REVIEWED      date read; `copy kept`: the page is kept in catalog/sources
(--format json adds each product's catalog file and every source's link.)
";

/// The first document a product cites, and how many more.
fn source_title(p: &Product) -> String {
    match p.sources.as_slice() {
        [] => String::new(),
        [one] => one.title.clone(),
        [first, rest @ ..] => format!("{} (+{})", first.title, rest.len()),
    }
}

/// The latest date a product's documents were read; `copy kept` when every
/// document is a stored copy (the seeds), whose text the tests check.
fn reviewed(p: &Product) -> String {
    let dates: Vec<&str> = p.sources.iter().filter_map(|s| s.read.as_deref()).collect();
    match dates.iter().max() {
        Some(d) => (*d).to_string(),
        None if p.sources.iter().all(|s| s.file.is_some()) => "copy kept".into(),
        None => "unknown".into(),
    }
}

/// Ports for a terminal column: a long list (an OS-scan table) is cut, and
/// says where the whole list is.
fn short_ports(p: &Product, r: &Requirement) -> String {
    const WIDTH: usize = 48;
    let full = p.ports_text(r);
    if full.chars().count() <= WIDTH {
        return full;
    }
    let cut: String = full.chars().take(WIDTH).collect();
    let head = cut.rsplit_once(',').map_or(cut.as_str(), |(h, _)| h);
    format!(
        "{head},… ({} entries; all in --format json/csv)",
        r.ports.len()
    )
}

fn protocols_text(r: &Requirement) -> String {
    r.protocols()
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join("+")
}

fn filter<'a>(
    p: &'a Product,
    role: Option<&str>,
    feature: Option<&str>,
) -> Result<Vec<&'a Requirement>, Failure> {
    if let Some(r) = role {
        if p.role(r).is_none() {
            let (m, h) = unknown("role", r, p.roles.iter().map(|x| x.id.as_str()));
            return Err(Failure::Message(format!(
                "{m} in {}\n  help: {h}",
                p.product
            )));
        }
    }
    if let Some(f) = feature {
        if p.feature(f).is_none() {
            let (m, h) = unknown("feature", f, p.features.iter().map(|x| x.id.as_str()));
            return Err(Failure::Message(format!(
                "{m} in {}\n  help: {h}",
                p.product
            )));
        }
    }
    Ok(p.requirements
        .iter()
        .filter(|r| role.is_none_or(|x| r.from.iter().chain(r.to.iter()).any(|y| y == x)))
        .filter(|r| feature.is_none_or(|f| r.feature.as_deref() == Some(f)))
        .collect())
}

fn show(
    g: &Global,
    id: &str,
    role: Option<&str>,
    feature: Option<&str>,
    format: ShowFormat,
) -> Outcome {
    let cat = g.catalog()?;
    let p = product(&cat, id)?;
    let reqs = filter(p, role, feature)?;
    let text = match format {
        ShowFormat::Json => {
            let mut shown = p.clone();
            shown.requirements = reqs.into_iter().cloned().collect();
            pretty_json(&shown)?
        }
        ShowFormat::Csv => {
            let mut shown = p.clone();
            shown.requirements = reqs.into_iter().cloned().collect();
            product_csv(&shown)?
        }
        ShowFormat::Table => show_table(p, &reqs, g.color),
        ShowFormat::Md => show_md(p, &reqs),
    };
    out::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

fn need(r: &Requirement) -> String {
    let mut s = if r.required { "required" } else { "optional" }.to_string();
    if let Some(f) = &r.feature {
        s = format!("{s} if {f}");
    }
    let cond = export::condition_text(r);
    if !cond.is_empty() {
        s = format!("{s} when {cond}");
    }
    s
}

fn show_table(p: &Product, reqs: &[&Requirement], color: bool) -> String {
    let mut s = format!("{} ({}) — {}\n", p.name, p.product, p.vendor);
    for d in &p.sources {
        s.push_str(&format!(
            "source {}: {}{}\n",
            d.id,
            d.title,
            d.file
                .as_ref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default()
        ));
    }
    s.push('\n');
    let rows: Vec<Vec<String>> = reqs
        .iter()
        .map(|r| {
            let mut scope = r.scope.as_str().to_string();
            if let Some(i) = &r.interface {
                scope = format!("{scope} ({i})");
            }
            let mut svc = r.service.clone();
            if r.page_said.is_some() {
                svc.push_str(" [page corrected]");
            }
            vec![
                r.id.clone(),
                format!("{} -> {}", r.from_roles().join(","), r.to_roles().join(",")),
                protocols_text(r),
                short_ports(p, r),
                need(r),
                scope,
                p.cite(&r.source),
                svc,
            ]
        })
        .collect();
    s.push_str(&out::table(
        &[
            "REQUIREMENT",
            "FROM -> TO",
            "PROTO",
            "PORTS",
            "NEEDED",
            "SCOPE",
            "SOURCE",
            "SERVICE",
        ],
        &rows,
        color,
    ));
    if !p.parameters.is_empty() {
        s.push_str("\nParameters:\n");
        for x in &p.parameters {
            let d = x
                .default
                .map(|d| format!("default {d}"))
                .unwrap_or_else(|| "no default: a deployment must set it".into());
            let a = x
                .allowed
                .map(|a| format!(", allowed {a}"))
                .unwrap_or_default();
            s.push_str(&format!("  {}: {} ({d}{a})\n", x.id, x.name));
        }
    }
    if !p.features.is_empty() {
        s.push_str("\nFeatures:\n");
        for f in &p.features {
            let on = if f.default { " [on by default]" } else { "" };
            s.push_str(&format!("  {}: {}{on}\n", f.id, f.name));
        }
    }
    for c in &p.choices {
        let opts: Vec<&str> = c.options.iter().map(|o| o.id.as_str()).collect();
        s.push_str(&format!(
            "\nChoice {}: {} — one of {}{}\n",
            c.id,
            c.name,
            opts.join(", "),
            c.default
                .as_ref()
                .map(|d| format!(" (default {d})"))
                .unwrap_or_default()
        ));
    }
    if !p.notes.is_empty() {
        s.push_str("\nNotes:\n");
        for n in &p.notes {
            let cite = n
                .source
                .as_ref()
                .map(|c| format!(" [{}]", p.cite(c)))
                .unwrap_or_default();
            s.push_str(&format!("  - {}{cite}\n", n.text));
        }
    }
    let corrected: Vec<&&Requirement> = reqs.iter().filter(|r| r.page_said.is_some()).collect();
    if !corrected.is_empty() || !p.errata.is_empty() {
        s.push_str("\nWhere the page is wrong or incomplete:\n");
        for r in corrected {
            if let Some(ps) = &r.page_said {
                s.push_str(&format!(
                    "  - {} [{}]: page said \"{}\": {}\n",
                    r.id,
                    p.cite(&r.source),
                    ps.text,
                    ps.correction
                ));
            }
        }
        for e in &p.errata {
            s.push_str(&format!(
                "  - [{}] \"{}\": {}\n",
                p.cite(&e.source),
                e.text,
                e.note
            ));
        }
    }
    s
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Entries of a port list shown whole in Markdown; a longer list (an OS
/// scan's thousand ports) is folded into a summary line.
const MD_PORTS: usize = 16;

/// `877 entries, 1-65389: 1, 3, 4, 6, 7, 9, 13, 17, … (all in --format json or csv)`.
fn folded_ports(p: &Product, r: &Requirement) -> String {
    if r.ports.len() <= MD_PORTS {
        return p.ports_text(r);
    }
    let fixed = r.ports.iter().filter_map(|ps| match ps {
        PortSpec::Fixed(range) => Some(range),
        PortSpec::Param(_) => None,
    });
    let (lo, hi) = fixed.fold((u16::MAX, 0u16), |(lo, hi), x| {
        (lo.min(x.low), hi.max(x.high))
    });
    let first: Vec<String> = r
        .ports
        .iter()
        .take(8)
        .map(|ps| match ps {
            PortSpec::Fixed(range) => range.to_string(),
            PortSpec::Param(name) => name.clone(),
        })
        .collect();
    let span = if lo <= hi {
        format!(", {lo}-{hi}")
    } else {
        String::new()
    };
    format!(
        "{} entries{span}: {}, … (all in --format json or csv)",
        r.ports.len(),
        first.join(", ")
    )
}

fn show_md(p: &Product, reqs: &[&Requirement]) -> String {
    let mut s = format!("# {} (`{}`)\n\nVendor: {}\n\n", p.name, p.product, p.vendor);
    s.push_str(
        "| Requirement | From | To | Protocol | Ports | Needed | Scope | Source | Service |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in reqs {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.id,
            r.from_roles().join(", "),
            r.to_roles().join(", "),
            protocols_text(r),
            md_cell(&folded_ports(p, r)),
            md_cell(&need(r)),
            r.scope.as_str(),
            p.cite(&r.source),
            md_cell(&r.service)
        ));
    }
    if !p.parameters.is_empty() {
        s.push_str(
            "\n## Parameters\n\n| Parameter | Name | Default | Allowed |\n|---|---|---|---|\n",
        );
        for x in &p.parameters {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                x.id,
                md_cell(&x.name),
                x.default
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "none (must be set)".into()),
                x.allowed.map(|d| d.to_string()).unwrap_or_default()
            ));
        }
    }
    if !p.notes.is_empty() {
        s.push_str("\n## Notes\n\n");
        for n in &p.notes {
            s.push_str(&format!("- {}\n", md_cell(&n.text)));
        }
    }
    s
}

/// The flat export as CSV; `import --format csv` writes the same columns.
pub(crate) fn csv_text(rows: &[ExportRow]) -> Result<String, Failure> {
    let mut out = Vec::with_capacity(rows.len() * 256);
    out.extend(csv_header()?);
    out.extend(csv_rows(rows)?);
    csv_string(out)
}

/// One product's rows as CSV.
pub(crate) fn product_csv(p: &Product) -> Result<String, Failure> {
    Ok(product_csv_parts(p)?.concat())
}

/// `product_csv` in parts, in order: a large draft is written on every core,
/// a chunk of requirements each.
pub(crate) fn product_csv_parts(p: &Product) -> Result<Vec<String>, Failure> {
    let rows: Vec<Result<String, Failure>> = p
        .requirements
        .par_chunks(2048)
        .map(|reqs| {
            let mut rows = Vec::new();
            for r in reqs {
                export::requirement_rows(p, r, &mut rows);
            }
            csv_string(csv_rows(&rows)?)
        })
        .collect();
    let mut parts = vec![csv_string(csv_header()?)?];
    for part in rows {
        parts.push(part?);
    }
    Ok(parts)
}

fn csv_fail(e: impl std::fmt::Display) -> Failure {
    Failure::Message(format!("cannot write csv: {e}"))
}

fn csv_header() -> Result<Vec<u8>, Failure> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(export::COLUMNS).map_err(csv_fail)?;
    w.into_inner().map_err(csv_fail)
}

/// Rows without a header line (`csv_header` writes it once).
fn csv_rows(rows: &[ExportRow]) -> Result<Vec<u8>, Failure> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(rows.len() * 256));
    for r in rows {
        w.serialize(r).map_err(csv_fail)?;
    }
    w.into_inner().map_err(csv_fail)
}

/// Every field came from a `str`: no copy is needed to make it text again.
fn csv_string(bytes: Vec<u8>) -> Result<String, Failure> {
    String::from_utf8(bytes).map_err(csv_fail)
}

fn export_cmd(
    g: &Global,
    product_id: Option<&str>,
    format: ExportFormat,
    output: Option<PathBuf>,
) -> Outcome {
    let cat = g.catalog()?;
    let products: Vec<&Product> = match product_id {
        Some(id) => vec![product(&cat, id)?],
        None => cat.products.values().collect(),
    };
    let rows: Vec<ExportRow> = products.iter().flat_map(|p| export::rows(p)).collect();
    let text = match format {
        ExportFormat::Csv => csv_text(&rows)?,
        ExportFormat::Json => pretty_json(&rows)?,
    };
    out::emit(&text, output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

fn check(g: &Global, dir: Option<PathBuf>, format: out::TableOrJson) -> Outcome {
    let files: Vec<(String, String)> = match &dir {
        None => builtin_files()
            .iter()
            .map(|(n, t)| (format!("catalog/{n}"), (*t).to_string()))
            .collect(),
        Some(p) if p.is_file() => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::Message(format!("cannot read {}: {e}", p.display())))?;
            vec![(p.display().to_string(), text)]
        }
        Some(p) => read_dir_files(p)?,
    };
    if files.is_empty() {
        return Err(Failure::Message(format!(
            "no *.yaml catalog file in {}",
            dir.map(|d| d.display().to_string()).unwrap_or_default()
        )));
    }
    let mut diags = Vec::new();
    let mut reqs = 0;
    for (name, text) in &files {
        let c = check_file(name, text);
        reqs += c.product.as_ref().map_or(0, |p| p.requirements.len());
        diags.extend(c.diagnostics);
    }
    sort(&mut diags);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if format == out::TableOrJson::Json {
        let v = serde_json::json!({
            "files": files.len(),
            "requirements": reqs,
            "errors": errors,
            "diagnostics": diags,
        });
        out::emit(&pretty_json(&v)?, None)?;
        return Ok(ExitCode::from(if errors > 0 { 2 } else { 0 }));
    }
    for d in &diags {
        eprintln!("{}", out::diagnostic(d, g.color));
    }
    if errors > 0 {
        eprintln!(
            "portplan: {errors} error{} in {} file(s)",
            if errors == 1 { "" } else { "s" },
            files.len()
        );
        return Ok(ExitCode::from(2));
    }
    out::emit(
        &format!(
            "ok: {} file(s), {reqs} requirements, no errors\n",
            files.len()
        ),
        None,
    )?;
    Ok(ExitCode::SUCCESS)
}

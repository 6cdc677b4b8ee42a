//! `portplan check DEPLOYMENT`: every finding about a deployment file,
//! located at file:line:column. Exit 2 on errors, 0 when only warnings.

use super::{Failure, Global, Outcome};
use crate::out;
use portplan_plan::{check, load_deployment, plan};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The deployment file (YAML); `-` reads stdin. Start one with
    /// `portplan new PRODUCT`; the format: README, "The deployment file".
    #[arg(value_name = "DEPLOYMENT")]
    pub deployment: PathBuf,
    /// Output format: a summary line (findings on stderr), or JSON with the findings.
    #[arg(long, short = 'f', value_enum, default_value_t = out::TableOrJson::Table)]
    pub format: out::TableOrJson,
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let cat = g.catalog()?;
    let dep = load_deployment(&args.deployment)?;
    let diags = check(&cat, &dep);
    if args.format == out::TableOrJson::Json {
        let errors = diags.iter().filter(|d| d.is_error()).count();
        let rules = if errors == 0 {
            plan(&cat, &dep).map(|s| s.flows.len()).unwrap_or(0)
        } else {
            0
        };
        let v = serde_json::json!({
            "file": dep.file,
            "ok": errors == 0,
            "products": dep.value.products.len(),
            "rules": rules,
            "diagnostics": diags,
        });
        out::emit(&super::catalog::pretty_json(&v)?, None)?;
        return Ok(ExitCode::from(if errors > 0 { 2 } else { 0 }));
    }
    if diags.iter().any(|d| d.is_error()) {
        return Err(Failure::Diagnostics(diags));
    }
    for d in &diags {
        eprintln!("{}", out::diagnostic(d, g.color));
    }
    let flows = plan(&cat, &dep).map(|s| s.flows.len()).unwrap_or(0);
    let warnings = diags.len();
    let products = dep.value.products.len();
    println!(
        "{}: ok: {products} product{}, {flows} rule{}{}",
        dep.file,
        plural(products),
        plural(flows),
        match warnings {
            0 => String::new(),
            n => format!(", {n} warning{}", plural(n)),
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

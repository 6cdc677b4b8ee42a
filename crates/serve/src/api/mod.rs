//! The API's handlers, one file per page of the site.

pub mod audits;
pub mod cache;
pub mod catalog;
pub mod deployments;
pub mod plan;
pub mod reports;

use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;
use portplan_model::load::Parsed;
use portplan_model::Deployment;

/// A saved deployment's text at a version (the latest when None), parsed.
pub(crate) async fn saved(
    st: &AppState,
    name: &str,
    version: Option<i64>,
) -> ApiResult<(i64, String, Result<Parsed<Deployment>, ApiError>)> {
    let row = st.store.version(name, version).await?.ok_or_else(|| {
        ApiError::not_found(match version {
            Some(v) => format!("deployment `{name}` has no version {v}"),
            None => format!("no deployment named `{name}`"),
        })
    })?;
    let parsed = parse(&file_name(name), &row.yaml);
    Ok((row.version, row.yaml, parsed))
}

/// The name findings are reported at: the deployment's name as a file.
pub(crate) fn file_name(name: &str) -> String {
    format!("{name}.yaml")
}

pub(crate) fn parse(file: &str, yaml: &str) -> Result<Parsed<Deployment>, ApiError> {
    portplan_model::load::parse_yaml::<Deployment>(file, yaml).map_err(|d| {
        ApiError::unprocessable(format!("the deployment does not parse: {}", d.message))
            .with_diagnostics(vec![d])
    })
}

/// Runs a job that needs no input file; what it printed when it exited 0,
/// else its message as an error with `status`.
pub(crate) async fn job(
    st: &AppState,
    args: &[&str],
    status: axum::http::StatusCode,
) -> ApiResult<String> {
    let ran = st.engine.run(args, &[]).await?;
    if ran.code != 0 {
        return Err(engine_error(status, &ran.stderr));
    }
    Ok(ran.stdout)
}

/// `no product X in the catalog (did you mean Y?)`.
pub(crate) fn unknown_product(st: &AppState, id: &str) -> String {
    let meant = portplan_model::diag::suggest(id, st.catalog.ids());
    let mut msg = format!("no product `{id}` in the catalog");
    if !meant.is_empty() {
        msg.push_str(&format!(" (did you mean {}?)", meant.join(" or ")));
    }
    msg
}

/// The engine's answer as an API error: its message (the command's stderr)
/// and where it points.
pub(crate) fn engine_error(status: axum::http::StatusCode, stderr: &str) -> ApiError {
    let lines: Vec<&str> = stderr
        .lines()
        .map(|l| l.trim_start_matches("portplan: error: ").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let text = if lines.is_empty() {
        "the job failed without a message".to_string()
    } else {
        lines.join("\n")
    };
    // `file:line:col: error: ...` or `file:line: ...` leads the message.
    let place = lines.iter().find_map(|l| {
        let (head, _) = l.split_once(": ")?;
        let mut parts = head.split(':');
        let _file = parts.next()?;
        parts.next()?.parse::<usize>().ok()?;
        Some(head.to_string())
    });
    let e = ApiError::new(status, text);
    match place {
        Some(p) => e.at(p),
        None => e,
    }
}

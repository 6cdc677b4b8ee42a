//! Audits: an exported ruleset judged against a saved deployment's plan by
//! `portplan audit` (run as a child: the command owns the readers'
//! orchestration), kept with who ran it against which version.

use super::{engine_error, file_name, saved};
use crate::engine::Input;
use crate::http::error::{ApiError, ApiResult};
use crate::http::{AppState, User};
use crate::store::NewAudit;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct AuditQuery {
    rules_format: Option<String>,
    #[serde(rename = "as")]
    as_host: Option<String>,
    file: Option<String>,
    version: Option<i64>,
}

pub async fn create(
    State(st): State<AppState>,
    Extension(user): Extension<User>,
    Path(name): Path<String>,
    Query(q): Query<AuditQuery>,
    rules: String,
) -> ApiResult<Response> {
    let (version, yaml, parsed) = saved(&st, &name, q.version).await?;
    parsed?;
    if rules.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "the ruleset is empty: upload or paste a ruleset export",
        )
        .at("rules"));
    }
    let format = q
        .rules_format
        .as_deref()
        .filter(|f| !f.is_empty())
        .unwrap_or("auto");
    if format != "auto" && !portplan_ruleset::formats().contains(&format) {
        return Err(ApiError::bad(format!(
            "no ruleset format `{format}`: auto or one of {}",
            portplan_ruleset::formats().join(", ")
        ))
        .at("rules_format"));
    }
    let file = q
        .file
        .as_deref()
        .filter(|f| !f.is_empty())
        .unwrap_or("rules.txt")
        .to_string();
    let as_host = q.as_host.clone().filter(|h| !h.is_empty());
    let mut args = vec![
        "audit",
        "{0}",
        "--rules",
        "{1}",
        "--rules-format",
        format,
        "-f",
        "json",
    ];
    if let Some(h) = &as_host {
        args.extend(["--as", h.as_str()]);
    }
    let dep_file = file_name(&name);
    let ran = st
        .engine
        .run(
            &args,
            &[
                Input {
                    name: &dep_file,
                    text: &yaml,
                },
                Input {
                    name: &file,
                    text: &rules,
                },
            ],
        )
        .await?;
    // 0: every required flow allowed; 1: some blocked (an answer); 2: bad input.
    if ran.code != 0 && ran.code != 1 {
        // Unlocated, it is about `--as` or the ruleset as a whole (a format
        // not recognised): say which, as the contract promises a `where`.
        let e = engine_error(StatusCode::UNPROCESSABLE_ENTITY, &ran.stderr);
        let place = if e.error.starts_with("--as ") {
            "as"
        } else {
            file.as_str()
        };
        return Err(e.or_at(place));
    }
    let mut result: Value = serde_json::from_str(&ran.stdout).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("`portplan audit` wrote no JSON: {e}"),
        )
    })?;
    ran.names_in(&mut result);
    let mut summary = result["summary"].clone();
    summary["format"] = result["rules"]["format"].clone();
    summary["not_understood"] = json!(result["rules"]["not_understood"]
        .as_array()
        .map_or(0, Vec::len));
    let row = st
        .store
        .add_audit(NewAudit {
            deployment: &name,
            version,
            author: &user.name,
            file: &file,
            rules_format: format,
            as_host: as_host.as_deref().unwrap_or(""),
            summary: &summary,
            result: &result,
        })
        .await?;
    let mut body = serde_json::to_value(&row).unwrap_or_default();
    body["messages"] = json!(ran
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>());
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list(State(st): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    if st.store.deployment(&name).await?.is_none() {
        return Err(ApiError::not_found(format!("no deployment named `{name}`")));
    }
    Ok(Json(json!({ "audits": st.store.audits(&name).await? })))
}

pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = st
        .store
        .audit(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no audit `{id}`")))?;
    Ok(Json(serde_json::to_value(a).unwrap_or_default()))
}

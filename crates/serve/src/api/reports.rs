//! Verification reports: `portplan report -f json` (or one host's
//! `verify -f json`, merged here by `portplan report`), kept per
//! deployment with what changed since the report before.

use super::{engine_error, file_name, saved};
use crate::engine::Input;
use crate::http::error::{ApiError, ApiResult};
use crate::http::{AppState, User};
use crate::store::NewReport;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub struct ReportQuery {
    source: Option<String>,
}

pub async fn create(
    State(st): State<AppState>,
    Extension(user): Extension<User>,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
    body: String,
) -> ApiResult<Response> {
    let (_, yaml, _) = saved(&st, &name, None).await?;
    let sent: Value = serde_json::from_str(&body).map_err(|e| {
        ApiError::unprocessable(format!("the report is not JSON: {e}")).at(format!(
            "report:{}:{}",
            e.line(),
            e.column()
        ))
    })?;
    let report = if sent["kind"] == "portplan-report" {
        if !sent["results"].is_array() || !sent["summary"].is_object() {
            return Err(ApiError::unprocessable(
                "a portplan-report needs `results` (a list) and `summary`: send what `portplan report -f json` writes",
            )
            .at("report"));
        }
        sent
    } else {
        // One host's `verify -f json` (or a fleet host record): merged by
        // the command, which knows and checks every shape it takes.
        let dep_file = file_name(&name);
        let ran = st
            .engine
            .run(
                &["report", "{0}", "--deployment", "{1}", "-f", "json"],
                &[
                    Input {
                        name: "report.json",
                        text: &body,
                    },
                    Input {
                        name: &dep_file,
                        text: &yaml,
                    },
                ],
            )
            .await?;
        if ran.code != 0 && ran.code != 1 {
            // Not a shape the command knows: the upload as a whole.
            return Err(engine_error(StatusCode::UNPROCESSABLE_ENTITY, &ran.stderr).or_at("report"));
        }
        let mut merged: Value = serde_json::from_str(&ran.stdout).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("`portplan report` wrote no JSON: {e}"),
            )
        })?;
        ran.names_in(&mut merged);
        merged
    };
    let mut summary = report["summary"].clone();
    summary["proven"] = report["proven"].clone();
    let source = q
        .source
        .as_deref()
        .map(|s| {
            s.chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "upload".into());
    let row = st
        .store
        .add_report(
            NewReport {
                deployment: &name,
                author: &user.name,
                source: &source,
                summary: &summary,
                body: &report,
            },
            |previous| changes(previous, &report),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

/// A path's identity across runs: who to whom, protocol, port, address.
fn key(p: &Value) -> String {
    let s = |k: &str| match &p[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    format!(
        "{} -> {} {}/{}{}",
        s("src"),
        s("dst"),
        s("protocol"),
        s("port"),
        match s("address") {
            a if a.is_empty() => String::new(),
            a => format!(" at {a}"),
        }
    )
}

fn states(report: &Value) -> BTreeMap<String, String> {
    report["results"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|p| {
                    let state = p["state"].as_str().unwrap_or("?").to_string();
                    (key(p), state)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Paths whose state differs from the report before (or that are new, or
/// gone). Empty for the first report.
fn changes(before: Option<&Value>, after: &Value) -> Value {
    let Some(before) = before else {
        return json!([]);
    };
    let (old, new) = (states(before), states(after));
    let mut out = Vec::new();
    for (k, s) in &new {
        match old.get(k) {
            Some(o) if o == s => {}
            o => out.push(json!({"path": k, "before": o, "after": s})),
        }
    }
    for (k, o) in &old {
        if !new.contains_key(k) {
            out.push(json!({"path": k, "before": o, "after": null}));
        }
    }
    Value::Array(out)
}

pub async fn list(State(st): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    if st.store.deployment(&name).await?.is_none() {
        return Err(ApiError::not_found(format!("no deployment named `{name}`")));
    }
    Ok(Json(json!({ "reports": st.store.reports(&name).await? })))
}

pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let r = st
        .store
        .report(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report `{id}`")))?;
    // Compared with the report before it in the history as it stands (the
    // same as stored: reports are compared one at a time).
    let before = st
        .store
        .report_before(&r.deployment, &r.received_at, &r.id)
        .await?;
    let mut r = r;
    if let Some(body) = &r.report {
        r.changes = Some(changes(before.as_ref(), body));
    }
    Ok(Json(serde_json::to_value(r).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_new_changed_and_gone_paths() {
        let a = json!({"results": [
            {"src": "a", "dst": "b", "protocol": "tcp", "port": 443, "state": "open"},
            {"src": "a", "dst": "c", "protocol": "udp", "port": 53, "state": "open"},
        ]});
        let b = json!({"results": [
            {"src": "a", "dst": "b", "protocol": "tcp", "port": 443, "state": "filtered"},
            {"src": "a", "dst": "d", "protocol": "tcp", "port": 22, "state": "open"},
        ]});
        assert_eq!(changes(None, &b), json!([]));
        let c = changes(Some(&a), &b);
        assert_eq!(
            c,
            json!([
                {"path": "a -> b tcp/443", "before": "open", "after": "filtered"},
                {"path": "a -> d tcp/22", "before": null, "after": "open"},
                {"path": "a -> c udp/53", "before": "open", "after": null},
            ])
        );
    }
}

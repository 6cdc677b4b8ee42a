//! The catalog pages: the product list, search, one product, its export,
//! the port lookup, and the formats the other pages offer.

use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn list(State(st): State<AppState>) -> Json<Value> {
    let products: Vec<Value> = st
        .catalog
        .products
        .values()
        .map(|p| {
            json!({
                "id": p.product,
                "name": p.name,
                "vendor": p.vendor,
                "version": p.version,
                "roles": p.roles.len(),
                "requirements": p.requirements.len(),
                "features": p.features.len(),
                "corrections": p.errata.len() + p.requirements.iter().filter(|r| r.page_said.is_some()).count(),
            })
        })
        .collect();
    Json(json!({ "products": products }))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
}

pub async fn search(
    State(st): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let query = q.q.trim().to_string();
    if query.is_empty() {
        return Err(ApiError::bad("give words, ids or ports to search for (q=...)").at("q"));
    }
    let limit = q.limit.unwrap_or(200).clamp(1, 5000);
    // Search is CPU work over the whole catalog: off the async threads.
    let (cat, hay) = (st.catalog.clone(), st.haystacks.clone());
    let (total, hits) = st
        .cpu
        .run(move || portplan_model::search::search_top(&cat, &hay, &query, limit))
        .await?;
    Ok(Json(
        json!({ "query": q.q.trim(), "total": total, "hits": hits }),
    ))
}

pub async fn product(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let p = st.catalog.get(&id).ok_or_else(|| unknown(&st, &id))?;
    let body = st.products.get_or_make(&id, || {
        let mut v = serde_json::to_value(p)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        v["origin"] = json!(st.catalog.origin.get(&id));
        serde_json::to_vec(&v)
            .map(axum::body::Bytes::from)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn unknown(st: &AppState, id: &str) -> ApiError {
    ApiError::not_found(super::unknown_product(st, id))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    role: Option<String>,
}

pub async fn export(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    if st.catalog.get(&id).is_none() {
        return Err(unknown(&st, &id));
    }
    let format = q.format.as_deref().unwrap_or("csv");
    if !matches!(format, "csv" | "json") {
        return Err(ApiError::bad(format!("export as csv or json, not `{format}`")).at("format"));
    }
    let mut args = vec!["catalog", "show", id.as_str(), "-f", format];
    if let Some(r) = q.role.as_deref().filter(|r| !r.is_empty()) {
        args.extend(["--role", r]);
    }
    let text = super::job(&st, &args, StatusCode::UNPROCESSABLE_ENTITY).await?;
    let suffix = q
        .role
        .as_deref()
        .map(|r| format!("-{r}"))
        .unwrap_or_default();
    Ok(download(
        text,
        if format == "csv" {
            "text/csv; charset=utf-8"
        } else {
            "application/json"
        },
        &format!("{id}{suffix}.{format}"),
    ))
}

/// A file for the browser to save.
pub(crate) fn download(text: String, media: &str, file: &str) -> Response {
    let safe: String = file
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    (
        [
            (header::CONTENT_TYPE, media.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        text,
    )
        .into_response()
}

/// `/api/ports/1812/udp`: the same as `/api/ports/1812%2Fudp`.
pub async fn port_protocol(
    st: State<AppState>,
    Path((port, protocol)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    lookup(st, format!("{port}/{protocol}")).await
}

pub async fn port(st: State<AppState>, Path(spec): Path<String>) -> ApiResult<Json<Value>> {
    lookup(st, spec).await
}

async fn lookup(State(st): State<AppState>, spec: String) -> ApiResult<Json<Value>> {
    let out = super::job(
        &st,
        &["port", spec.as_str(), "-f", "json"],
        StatusCode::BAD_REQUEST,
    )
    .await
    .map_err(|e| e.at("port"))?;
    let v: Value = serde_json::from_str(&out).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("`portplan port` wrote no JSON: {e}"),
        )
    })?;
    Ok(Json(v))
}

pub async fn formats() -> Json<Value> {
    let render: Vec<Value> = portplan_render::formats()
        .into_iter()
        .filter_map(portplan_render::renderer)
        .map(|r| json!({"name": r.name(), "extension": r.extension(), "per_host": r.per_host()}))
        .collect();
    let mut rules = vec!["auto"];
    rules.extend(portplan_ruleset::formats());
    let mut plan = vec!["json".to_string(), "csv".to_string(), "md".to_string()];
    plan.extend(portplan_render::formats().into_iter().map(String::from));
    Json(json!({
        "plan": plan,
        "render": render,
        "rules": rules,
    }))
}

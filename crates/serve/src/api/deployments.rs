//! Deployments: the `new` skeleton, `check` as you type, and saved,
//! versioned deployment files.

use super::{file_name, parse};
use crate::http::error::{ApiError, ApiResult};
use crate::http::{AppState, User};
use crate::store::Conflict;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize)]
pub struct SkeletonQuery {
    #[serde(default)]
    products: String,
    #[serde(default)]
    with: String,
}

pub async fn skeleton(
    State(st): State<AppState>,
    Query(q): Query<SkeletonQuery>,
) -> ApiResult<Response> {
    let products: Vec<&str> = comma_list(&q.products);
    if products.is_empty() {
        return Err(ApiError::bad("name at least one product (products=ID,ID)").at("products"));
    }
    if let Some(p) = products.iter().find(|p| st.catalog.get(p).is_none()) {
        return Err(ApiError::bad(super::unknown_product(&st, p)).at("products"));
    }
    let mut args = vec!["new"];
    args.extend(products.iter().copied());
    for f in comma_list(&q.with) {
        args.extend(["--with", f]);
    }
    let yaml = super::job(&st, &args, StatusCode::BAD_REQUEST).await?;
    Ok(([(header::CONTENT_TYPE, "text/yaml; charset=utf-8")], yaml).into_response())
}

fn comma_list(s: &str) -> Vec<&str> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect()
}

#[derive(Deserialize)]
pub struct CheckQuery {
    name: Option<String>,
}

/// `check`'s findings about a text: the answer even when it has errors.
pub async fn check(
    State(st): State<AppState>,
    Query(q): Query<CheckQuery>,
    body: String,
) -> ApiResult<Json<Value>> {
    let file = q.name.unwrap_or_else(|| "deployment.yaml".into());
    let cat = st.catalog.clone();
    let v = st.cpu.run(move || findings(&cat, &file, &body)).await?;
    Ok(Json(v))
}

pub(crate) fn findings(cat: &portplan_model::Catalog, file: &str, yaml: &str) -> Value {
    let (diags, flows, products) = match portplan_model::load::parse_yaml(file, yaml) {
        Err(d) => (vec![d], 0, 0),
        Ok(dep) => {
            let diags = portplan_plan::check(cat, &dep);
            let errors = diags.iter().any(|d| d.is_error());
            let flows = if errors {
                0
            } else {
                portplan_plan::plan(cat, &dep).map_or(0, |s| s.flows.len())
            };
            (diags, flows, dep.value.products.len())
        }
    };
    let errors = diags.iter().filter(|d| d.is_error()).count();
    json!({
        "ok": errors == 0,
        "errors": errors,
        "warnings": diags.len() - errors,
        "products": products,
        "flows": flows,
        "diagnostics": diags,
    })
}

pub async fn list_all(st: &AppState) -> ApiResult<Vec<Value>> {
    let rows = st.store.list_deployments().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            json!({
                "name": r.name,
                "version": r.version,
                "created_at": r.created_at,
                "created_by": r.created_by,
                "updated_at": r.updated_at,
                "updated_by": r.updated_by,
            })
        })
        .collect())
}

pub async fn list(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "deployments": list_all(&st).await? })))
}

/// A name that is safe in a URL, a file name and a firewall comment.
fn check_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "`{name}` cannot name a deployment: use letters, digits, `.`, `-`, `_` (at most 100, not starting with `.`)"
        ))
        .at("name"))
    }
}

#[derive(Deserialize)]
pub struct NewDeployment {
    name: String,
    yaml: String,
    #[serde(default)]
    message: String,
}

pub async fn create(
    State(st): State<AppState>,
    Extension(user): Extension<User>,
    Json(d): Json<NewDeployment>,
) -> ApiResult<Response> {
    check_name(&d.name)?;
    // Work in progress may have plan errors (check shows them); text that
    // is not a deployment at all is refused.
    parse(&file_name(&d.name), &d.yaml)?;
    let message = if d.message.trim().is_empty() {
        "created".to_string()
    } else {
        d.message
    };
    match st
        .store
        .create_deployment(&d.name, &d.yaml, &user.name, &message)
        .await
    {
        Ok(row) => Ok((StatusCode::CREATED, Json(row)).into_response()),
        Err(Conflict::Exists) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "a deployment named `{}` exists: open it, or pick another name",
                d.name
            ),
        )
        .at("name")),
        Err(Conflict::Db(e)) => Err(e.into()),
        Err(Conflict::Missing | Conflict::Stale { .. }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "the deployment changed while it was being created",
        )),
    }
}

#[derive(Deserialize)]
pub struct VersionQuery {
    pub version: Option<i64>,
}

pub async fn get_one(
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<Value>> {
    let d = st
        .store
        .deployment(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no deployment named `{name}`")))?;
    let v =
        st.store.version(&name, q.version).await?.ok_or_else(|| {
            ApiError::not_found(format!("deployment `{name}` has no such version"))
        })?;
    Ok(Json(json!({
        "name": d.name,
        "version": v.version,
        "latest": d.version,
        "yaml": v.yaml,
        "sha256": v.sha256,
        "author": v.author,
        "message": v.message,
        "saved_at": v.created_at,
        "created_at": d.created_at,
        "created_by": d.created_by,
        "updated_at": d.updated_at,
        "updated_by": d.updated_by,
    })))
}

#[derive(Deserialize)]
pub struct Update {
    yaml: String,
    base_version: i64,
    #[serde(default)]
    message: String,
}

pub async fn update(
    State(st): State<AppState>,
    Extension(user): Extension<User>,
    Path(name): Path<String>,
    Json(u): Json<Update>,
) -> ApiResult<Json<Value>> {
    parse(&file_name(&name), &u.yaml)?;
    let message = if u.message.trim().is_empty() {
        "edited".to_string()
    } else {
        u.message
    };
    match st
        .store
        .update_deployment(&name, u.base_version, &u.yaml, &user.name, &message)
        .await
    {
        Ok(row) => Ok(Json(serde_json::to_value(row).unwrap_or_default())),
        Err(Conflict::Missing) => Err(ApiError::not_found(format!("no deployment named `{name}`"))),
        Err(Conflict::Stale { current }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            // A base past the latest is not someone else's save.
            if u.base_version > current {
                format!(
                    "there is no version {} to save on: the latest is {current}; reload it, then apply your change again",
                    u.base_version
                )
            } else {
                format!(
                    "someone saved version {current} after the version {} this edit started from: reload it, then apply your change again",
                    u.base_version
                )
            },
        )
        .at("base_version")
        .with(json!({ "current_version": current }))),
        Err(Conflict::Exists) => Err(ApiError::new(StatusCode::CONFLICT, "conflict")),
        Err(Conflict::Db(e)) => Err(e.into()),
    }
}

pub async fn delete(
    State(st): State<AppState>,
    Extension(user): Extension<User>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if st.store.delete_deployment(&name).await? {
        eprintln!("portplan serve: {} deleted deployment `{name}`", user.name);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no deployment named `{name}`")))
    }
}

pub async fn versions(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let rows = st.store.versions(&name).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(format!("no deployment named `{name}`")));
    }
    let list: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| {
            // Newest first: the version before this one is the next row.
            let (added, removed) = match rows.get(i + 1) {
                Some(prev) => line_changes(&prev.yaml, &v.yaml),
                None => (v.yaml.lines().count(), 0),
            };
            json!({
                "version": v.version,
                "author": v.author,
                "message": v.message,
                "created_at": v.created_at,
                "sha256": v.sha256,
                "lines_added": added,
                "lines_removed": removed,
            })
        })
        .collect();
    Ok(Json(json!({ "name": name, "versions": list })))
}

/// Lines added and removed from `old` to `new`, counted as multisets of
/// lines (a moved line counts as neither).
fn line_changes(old: &str, new: &str) -> (usize, usize) {
    let mut count: HashMap<&str, i64> = HashMap::new();
    for l in old.lines() {
        *count.entry(l).or_default() += 1;
    }
    for l in new.lines() {
        *count.entry(l).or_default() -= 1;
    }
    let removed = count
        .values()
        .filter(|c| **c > 0)
        .map(|c| *c as usize)
        .sum();
    let added = count
        .values()
        .filter(|c| **c < 0)
        .map(|c| (-*c) as usize)
        .sum();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_changes() {
        assert!(check_name("campus-1.prod").is_ok());
        assert!(check_name("../x").is_err());
        assert!(check_name(".hidden").is_err());
        assert!(check_name("a b").is_err());
        assert_eq!(line_changes("a\nb\nc\n", "a\nc\nd\ne\n"), (2, 1));
    }
}

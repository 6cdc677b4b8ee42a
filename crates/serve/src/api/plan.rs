//! A saved deployment's plan: rows for the table, hosts and arrows for the
//! diagram, and the plan written in any render format for download.

use super::deployments::VersionQuery;
use super::saved;
use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::Json;
use portplan_model::load::Parsed;
use portplan_model::{Deployment, FlowSet};
use portplan_plan::report;
use portplan_render::{HostView, Management, RenderOptions};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn health(State(st): State<AppState>) -> Json<Value> {
    Json(json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "database": st.store.backend.as_str(),
        "auth": !st.opts.tokens.is_empty(),
        "products": st.catalog.products.len(),
    }))
}

/// Plans as a CPU job (planning is CPU work): merged, or as planned (one
/// flow per requirement) for pictures.
async fn planned(st: &AppState, dep: Arc<Parsed<Deployment>>, merge: bool) -> ApiResult<FlowSet> {
    let cat = st.catalog.clone();
    st.cpu
        .run(move || {
            portplan_plan::plan_set(&cat, &dep, &portplan_plan::PlanOptions::default(), merge)
        })
        .await?
        .map_err(|ds| {
            let n = ds.iter().filter(|d| d.is_error()).count();
            ApiError::unprocessable(format!(
                "the deployment has {n} error{}: fix {} to plan it",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" }
            ))
            .with_diagnostics(ds)
        })
}

async fn load(
    st: &AppState,
    name: &str,
    version: Option<i64>,
) -> ApiResult<(i64, Arc<Parsed<Deployment>>)> {
    let (v, _, parsed) = saved(st, name, version).await?;
    Ok((v, Arc::new(parsed?)))
}

/// A version's answer from the cache, or made by `make` and kept.
async fn cached<F, Fut>(
    st: &AppState,
    what: &'static str,
    name: &str,
    version: Option<i64>,
    make: F,
) -> ApiResult<Response>
where
    F: FnOnce(i64, Arc<Parsed<Deployment>>) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Value>>,
{
    let (v, yaml, parsed) = saved(st, name, version).await?;
    let body = match st.answers.get(what, name, v, &yaml) {
        Some(b) => b,
        None => {
            let value = make(v, Arc::new(parsed?)).await?;
            let b =
                Bytes::from(serde_json::to_vec(&value).map_err(|e| {
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
                })?);
            st.answers.put(what, name, v, &yaml, b.clone());
            b
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub async fn plan(
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Response> {
    cached(&st, "plan", &name, q.version, |version, dep| {
        plan_rows(&st, name.clone(), version, dep)
    })
    .await
}

async fn plan_rows(
    st: &AppState,
    name: String,
    version: i64,
    dep: Arc<Parsed<Deployment>>,
) -> ApiResult<Value> {
    let set = planned(st, dep.clone(), true).await?;
    let legend = report::legend(&dep.value, &set);
    let flows: Vec<Value> = set
        .flows
        .iter()
        .map(|f| {
            let r = report::row(f);
            json!({
                "from": report::side_names(&f.src, &legend),
                "to": report::side_names(&f.dst, &legend),
                "protocol": r.protocol,
                "ports": r.ports,
                "scope": r.scope,
                "required": r.required,
                "because": report::reasons_short(f),
                "reasons": f.because.iter().map(|b| json!({
                    "product": b.product,
                    "requirement": b.requirement,
                    "service": b.service,
                    "feature": b.feature,
                    "source": b.source,
                })).collect::<Vec<_>>(),
                "notes": f.notes,
            })
        })
        .collect();
    let legend: Vec<Value> = legend
        .iter()
        .map(|(n, a)| json!({"name": n, "addresses": a.iter().map(ToString::to_string).collect::<Vec<_>>()}))
        .collect();
    Ok(json!({
        "deployment": name,
        "version": version,
        "flows": flows,
        "legend": legend,
        "diagnostics": set.diagnostics,
    }))
}

fn directory(dep: &Deployment) -> Vec<HostView> {
    portplan_plan::directory(dep)
        .into_iter()
        .map(|(name, addrs)| HostView { name, addrs })
        .collect()
}

pub async fn graph(
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Response> {
    cached(&st, "graph", &name, q.version, |version, dep| {
        picture(&st, name.clone(), version, dep)
    })
    .await
}

async fn picture(
    st: &AppState,
    name: String,
    version: i64,
    dep: Arc<Parsed<Deployment>>,
) -> ApiResult<Value> {
    // As `-f mermaid` draws it: from the plan before merging, so each arrow
    // names only its own pair's requirements.
    let set = planned(st, dep.clone(), false).await?;
    let opts = RenderOptions {
        directory: directory(&dep.value),
        ..RenderOptions::default()
    };
    let pic = portplan_render::picture::Picture::new(&set, &opts);
    let nodes: Vec<Value> = pic
        .nodes
        .iter()
        .map(|n| json!({"id": n.ident, "name": n.name, "addresses": n.addrs}))
        .collect();
    let edges: Vec<Value> = pic
        .edges
        .iter()
        .filter_map(|e| {
            Some(json!({
                "from": pic.nodes.get(e.src)?.ident,
                "to": pic.nodes.get(e.dst)?.ident,
                "label": e.label(),
                "services": e.services,
                "required": e.required,
                "scope": e.scope.as_str(),
                "reasons": e.reasons,
            }))
        })
        .collect();
    Ok(json!({
        "deployment": name,
        "version": version,
        "nodes": nodes,
        "edges": edges,
    }))
}

#[derive(Deserialize)]
pub struct FileQuery {
    version: Option<i64>,
    for_host: Option<String>,
}

pub async fn file(
    State(st): State<AppState>,
    Path((name, format)): Path<(String, String)>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Response> {
    // A renderer is not Send: keep only what is needed across awaits.
    let (per_host, ext) = portplan_render::renderer(&format)
        .map(|r| (r.per_host(), r.extension()))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no format `{format}`: one of {}",
                portplan_render::formats().join(", ")
            ))
        })?;
    let (version, dep) = load(&st, &name, q.version).await?;
    let host = match q.for_host.as_deref().filter(|h| !h.is_empty()) {
        None => None,
        Some(h) => Some(portplan_plan::host_view(&dep.value, h).ok_or_else(|| {
            ApiError::unprocessable(format!("`{h}` is not a host of {name}")).at("for_host")
        })?),
    };
    if per_host && host.is_none() {
        return Err(ApiError::unprocessable(format!(
            "`{format}` is a host firewall: pick the host it is for (for_host)"
        ))
        .at("for_host"));
    }
    if let Some((h, addrs)) = &host {
        if per_host && addrs.contains(&portplan_model::Addr::Any) {
            return Err(ApiError::unprocessable(format!(
                "`{h}` is `any`, the parties outside the deployment: a host firewall is written for a host"
            ))
            .at("for_host"));
        }
    }
    // Pictures are drawn from the plan as planned; the rest from the merged one.
    let picture = matches!(format.as_str(), "mermaid" | "dot");
    let set = planned(&st, dep.clone(), !picture).await?;
    let set = match (&host, per_host, picture) {
        (Some((h, addrs)), false, false) => report::for_host(&set, h, addrs),
        _ => set,
    };
    let management = portplan_plan::management_path(&dep).map(|p| Management {
        from: p.from,
        labels: p.labels,
        ports: p.ports,
    });
    let opts = RenderOptions {
        for_host: host.map(|(name, addrs)| HostView { name, addrs }),
        directory: directory(&dep.value),
        egress: false,
        management,
    };
    let fmt = format.clone();
    let done = st
        .cpu
        .run(move || match portplan_render::renderer(&fmt) {
            Some(r) => r.render(&set, &opts),
            None => Err(format!("no format `{fmt}`")),
        })
        .await?
        .map_err(|e| ApiError::unprocessable(format!("cannot write {format}: {e}")))?;
    let host_part = q
        .for_host
        .as_deref()
        .filter(|h| !h.is_empty())
        .map(|h| format!("-{h}"))
        .unwrap_or_default();
    let mut resp = super::catalog::download(
        done.text,
        "text/plain; charset=utf-8",
        &format!("{name}-v{version}{host_part}-{format}.{ext}"),
    );
    let h = resp.headers_mut();
    h.insert(
        "x-portplan-not-expressed",
        HeaderValue::from(done.unexpressed.len()),
    );
    // What the format cannot say is in the file's comments; the page shows
    // it too (as a header: reasons are plain text, one per line, escaped).
    let said: Vec<String> = done
        .unexpressed
        .iter()
        .map(|u| {
            if u.requirements.is_empty() {
                u.reason.clone()
            } else {
                format!("{} [{}]", u.reason, u.requirements.join(", "))
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&escape_header(&said.join(" | "))) {
        h.insert("x-portplan-not-expressed-items", v);
    }
    Ok(resp)
}

/// Visible ASCII only (a header cannot carry newlines or other bytes).
fn escape_header(s: &str) -> String {
    s.chars()
        .take(4000)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

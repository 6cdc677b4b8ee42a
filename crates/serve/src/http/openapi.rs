//! The OpenAPI 3.1 document, made from the route table (routes.rs): every
//! path the router serves is described, and nothing else. The deployment's
//! and product's schemas are the model's own JSON Schemas (schemars).

use super::routes::table;
use axum::Json;
use serde_json::{json, Map, Value};

pub fn document() -> Value {
    let mut paths = Map::new();
    for r in table() {
        let d = r.doc;
        let mut params: Vec<Value> = path_params(d.path)
            .into_iter()
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(d.query.iter().map(|(n, desc)| {
            json!({"name": n, "in": "query", "required": false, "description": desc, "schema": {"type": "string"}})
        }));
        let mut op = json!({
            "tags": [d.tag],
            "summary": d.summary,
            "operationId": operation_id(d.method, d.path),
            "parameters": params,
            "responses": responses(d.responses, d.produces),
        });
        if let Some((media, what)) = d.body {
            op["requestBody"] = json!({
                "required": true,
                "description": what,
                "content": { media: { "schema": body_schema(media) } },
            });
        }
        let entry = paths.entry(d.path.to_string()).or_insert_with(|| json!({}));
        entry[d.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "portplan",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The catalog, plans, audits and verification reports of portplan serve. Changes from a browser carry X-CSRF-Token (GET /api/session); scripts send Authorization: Bearer TOKEN.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "where": {"type": "string"},
                        "diagnostics": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Deployment": portplan_model::deployment_schema(),
                "Product": portplan_model::catalog_schema(),
            },
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
    })
}

fn body_schema(media: &str) -> Value {
    if media == "application/json" {
        json!({"type": "object"})
    } else {
        json!({"type": "string"})
    }
}

fn responses(list: &[(u16, &str)], produces: &str) -> Value {
    let mut m = Map::new();
    for (code, what) in list {
        let schema = if *code >= 400 {
            json!({"$ref": "#/components/schemas/Error"})
        } else if produces == "application/json" {
            json!({"type": "object"})
        } else {
            json!({"type": "string"})
        };
        let media = if *code >= 400 {
            "application/json"
        } else {
            produces
        };
        let mut r = json!({"description": what});
        if *code != 204 {
            r["content"] = json!({ media: { "schema": schema } });
        }
        m.insert(code.to_string(), r);
    }
    m.entry("401".to_string()).or_insert_with(|| {
        json!({"description": "sign-in needed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    });
    // Any request may meet a full queue or a database that does not answer.
    m.entry("503".to_string()).or_insert_with(|| {
        json!({
            "description": "busy (too many requests waiting; come back after Retry-After seconds) or the database did not answer; nothing was changed",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        })
    });
    Value::Object(m)
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for part in path.trim_start_matches("/api/").split('/') {
        let word = part.trim_matches(|c| c == '{' || c == '}');
        id.push('_');
        id.push_str(&word.replace(['.', '-'], "_"));
    }
    id
}

pub async fn serve_document() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once() {
        let doc = document();
        let mut n = 0;
        for r in table() {
            assert!(
                doc["paths"][r.doc.path][r.doc.method].is_object(),
                "{} {}",
                r.doc.method,
                r.doc.path
            );
            n += 1;
        }
        let documented: usize = doc["paths"]
            .as_object()
            .map(|m| {
                m.values()
                    .map(|v| v.as_object().map_or(0, |o| o.len()))
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(n, documented);
        let ids: std::collections::HashSet<String> = table()
            .iter()
            .map(|r| operation_id(r.doc.method, r.doc.path))
            .collect();
        assert_eq!(ids.len(), n, "operation ids are unique");
    }
}

//! The API's route table: one list drives both the router and the OpenAPI
//! document, so neither can name a path the other does not have.

use super::session;
use super::AppState;
use crate::api::{audits, catalog, deployments, plan, reports};
use axum::routing::{delete, get, post, MethodRouter};

/// What the OpenAPI document says of a route.
pub struct Doc {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// (name, description) of query parameters.
    pub query: &'static [(&'static str, &'static str)],
    /// The request body's media type and what it holds.
    pub body: Option<(&'static str, &'static str)>,
    /// Status codes and what they mean.
    pub responses: &'static [(u16, &'static str)],
    /// The success response's media type.
    pub produces: &'static str,
}

pub struct Route {
    pub doc: Doc,
    pub handler: MethodRouter<AppState>,
}

const JSON: &str = "application/json";
const OK: &[(u16, &str)] = &[(200, "done")];
const FOUND: &[(u16, &str)] = &[(200, "found"), (404, "no such thing")];

macro_rules! route {
    ($m:ident $method:literal $path:literal, $tag:literal, $summary:literal,
     query: $q:expr, body: $b:expr, responses: $r:expr, produces: $p:expr, $h:expr) => {
        Route {
            doc: Doc {
                method: $method,
                path: $path,
                tag: $tag,
                summary: $summary,
                query: $q,
                body: $b,
                responses: $r,
                produces: $p,
            },
            handler: $m($h),
        }
    };
}

pub fn table() -> Vec<Route> {
    use axum::routing::put;
    vec![
        route!(get "get" "/api/health", "session", "Server, version and database",
            query: &[], body: None, responses: OK, produces: JSON, plan::health),
        route!(get "get" "/api/session", "session", "Who the page is, whether sign-in is needed, the CSRF token (also set as the pp_csrf cookie)",
            query: &[], body: None, responses: OK, produces: JSON, session::get_session),
        route!(post "post" "/api/login", "session", "Trade an access token for a session cookie",
            query: &[], body: Some((JSON, "{\"token\": \"...\"}")), responses: &[(200, "signed in"), (401, "unknown token")], produces: JSON, session::login),
        route!(post "post" "/api/logout", "session", "End the session",
            query: &[], body: None, responses: &[(204, "signed out")], produces: JSON, session::logout),
        route!(get "get" "/api/openapi.json", "session", "This document",
            query: &[], body: None, responses: OK, produces: JSON, super::openapi::serve_document),
        route!(get "get" "/api/formats", "catalog", "Plan, render and ruleset formats",
            query: &[], body: None, responses: OK, produces: JSON, catalog::formats),
        route!(get "get" "/api/catalog", "catalog", "Every product with counts",
            query: &[], body: None, responses: OK, produces: JSON, catalog::list),
        route!(get "get" "/api/catalog/search", "catalog", "Search products, roles and requirements by word, id or port",
            query: &[("q", "words, ids or ports (`radius 1812`, `1812/udp`)"), ("limit", "at most this many hits (default 200)")],
            body: None, responses: &[(200, "hits, best first"), (400, "empty query")], produces: JSON, catalog::search),
        route!(get "get" "/api/catalog/products/{id}", "catalog", "One product as `catalog show ID -f json` prints it",
            query: &[], body: None, responses: FOUND, produces: JSON, catalog::product),
        route!(get "get" "/api/catalog/products/{id}/export", "catalog", "One product's requirements as a file",
            query: &[("format", "csv or json"), ("role", "only this role's requirements")],
            body: None, responses: FOUND, produces: "text/csv", catalog::export),
        route!(get "get" "/api/ports/{port}", "catalog", "Which products use a port (`443`, `1812/udp`), and its IANA name",
            query: &[], body: None, responses: &[(200, "uses"), (400, "not a port")], produces: JSON, catalog::port),
        route!(get "get" "/api/ports/{port}/{protocol}", "catalog", "Which products use a port over a protocol (`1812/udp`)",
            query: &[], body: None, responses: &[(200, "uses"), (400, "not a port")], produces: JSON, catalog::port_protocol),
        route!(get "get" "/api/skeleton", "deployments", "A new deployment file for products (what `portplan new` prints)",
            query: &[("products", "product ids, comma separated"), ("with", "features to switch on, comma separated")],
            body: None, responses: &[(200, "YAML"), (400, "unknown product")], produces: "text/yaml", deployments::skeleton),
        route!(post "post" "/api/check", "deployments", "Every finding about a deployment text, located",
            query: &[("name", "the file name to report findings at")],
            body: Some(("text/yaml", "a deployment file")), responses: OK, produces: JSON, deployments::check),
        route!(get "get" "/api/deployments", "deployments", "Every saved deployment",
            query: &[], body: None, responses: OK, produces: JSON, deployments::list),
        route!(post "post" "/api/deployments", "deployments", "Save a new deployment (version 1)",
            query: &[], body: Some((JSON, "{\"name\", \"yaml\", \"message\"?}")),
            responses: &[(201, "saved"), (409, "the name is taken"), (422, "the YAML does not parse")], produces: JSON, deployments::create),
        route!(get "get" "/api/deployments/{name}", "deployments", "A deployment's latest (or a given) version",
            query: &[("version", "an older version")], body: None, responses: FOUND, produces: JSON, deployments::get_one),
        route!(put "put" "/api/deployments/{name}", "deployments", "Save a new version on top of base_version",
            query: &[], body: Some((JSON, "{\"yaml\", \"base_version\", \"message\"?}")),
            responses: &[(200, "saved"), (404, "no such deployment"), (409, "someone saved after base_version"), (422, "the YAML does not parse")], produces: JSON, deployments::update),
        route!(delete "delete" "/api/deployments/{name}", "deployments", "Remove a deployment with its versions, audits and reports",
            query: &[], body: None, responses: &[(204, "removed"), (404, "no such deployment")], produces: JSON, deployments::delete),
        route!(get "get" "/api/deployments/{name}/versions", "deployments", "Who changed what, when (newest first)",
            query: &[], body: None, responses: FOUND, produces: JSON, deployments::versions),
        route!(get "get" "/api/deployments/{name}/plan", "plans", "The planned flows as rows, with the address legend",
            query: &[("version", "an older version")], body: None,
            responses: &[(200, "the plan"), (404, "no such deployment"), (422, "the deployment has errors")], produces: JSON, plan::plan),
        route!(get "get" "/api/deployments/{name}/graph", "plans", "Hosts and arrows, one per pair, to draw",
            query: &[("version", "an older version")], body: None,
            responses: &[(200, "the picture"), (404, "no such deployment"), (422, "the deployment has errors")], produces: JSON, plan::graph),
        route!(get "get" "/api/deployments/{name}/files/{format}", "plans", "The plan written in a format (a download)",
            query: &[("version", "an older version"), ("for_host", "the host a host firewall is for")], body: None,
            responses: &[(200, "the file; X-Portplan-Not-Expressed counts what the format cannot say"), (404, "no such deployment or format"), (422, "errors, or a host firewall without for_host")], produces: "text/plain", plan::file),
        route!(post "post" "/api/deployments/{name}/audits", "audits", "Audit an exported ruleset against the plan",
            query: &[("rules_format", "auto or a ruleset format"), ("as", "the host a host firewall protects"), ("file", "the ruleset's file name"), ("version", "audit against an older version of the deployment")],
            body: Some(("text/plain", "the ruleset")), responses: &[(201, "audited and saved"), (404, "no such deployment"), (422, "the ruleset cannot be read")], produces: JSON, audits::create),
        route!(get "get" "/api/deployments/{name}/audits", "audits", "A deployment's audits (newest first)",
            query: &[], body: None, responses: FOUND, produces: JSON, audits::list),
        route!(get "get" "/api/audits/{id}", "audits", "One audit with its verdicts",
            query: &[], body: None, responses: FOUND, produces: JSON, audits::get_one),
        route!(post "post" "/api/deployments/{name}/reports", "reports", "Receive a verification report (`portplan report -f json`, or one `verify -f json`)",
            query: &[("source", "who sent it (a CI job, a fleet run)")],
            body: Some((JSON, "the report")), responses: &[(201, "saved, with what changed since the last one"), (404, "no such deployment"), (422, "not such a report")], produces: JSON, reports::create),
        route!(get "get" "/api/deployments/{name}/reports", "reports", "A deployment's reports (newest first)",
            query: &[], body: None, responses: FOUND, produces: JSON, reports::list),
        route!(get "get" "/api/reports/{id}", "reports", "One report with what changed since the one before",
            query: &[], body: None, responses: FOUND, produces: JSON, reports::get_one),
    ]
}

//! Every failure of the API as JSON: what went wrong, where, and the
//! located diagnostics when there are any.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portplan_model::Diagnostic;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub place: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// More fields for the body (`current_version` of a conflict).
    pub extra: Option<serde_json::Value>,
    /// Seconds to wait before asking again (the `Retry-After` header).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            place: None,
            diagnostics: Vec::new(),
            extra: None,
            retry_after: None,
        }
    }
    pub fn bad(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error)
    }
    pub fn unprocessable(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error)
    }
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, what)
    }
    pub fn at(mut self, place: impl Into<String>) -> ApiError {
        self.place = Some(place.into());
        self
    }
    /// `at`, unless the message located itself already.
    pub fn or_at(mut self, place: impl Into<String>) -> ApiError {
        if self.place.is_none() {
            self.place = Some(place.into());
        }
        self
    }
    pub fn with_diagnostics(mut self, ds: Vec<Diagnostic>) -> ApiError {
        if self.place.is_none() {
            self.place = ds.iter().find(|d| d.is_error()).map(place_of);
        }
        self.diagnostics = ds;
        self
    }
    pub fn retry_after(mut self, secs: u32) -> ApiError {
        self.retry_after = Some(secs);
        self
    }
    pub fn with(mut self, extra: serde_json::Value) -> ApiError {
        self.extra = Some(extra);
        self
    }
}

/// `file:line:col` of a diagnostic, as far as it is known.
pub fn place_of(d: &Diagnostic) -> String {
    match (d.line, d.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", d.file),
        (Some(l), None) => format!("{}:{l}", d.file),
        _ => d.file.clone(),
    }
}

impl From<crate::store::DbError> for ApiError {
    fn from(e: crate::store::DbError) -> Self {
        eprintln!("portplan serve: database: {}", e.0);
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database did not answer; nothing was changed (the server's log has the cause)",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.error });
        if let Some(p) = self.place {
            body["where"] = p.into();
        }
        if !self.diagnostics.is_empty() {
            body["diagnostics"] = serde_json::to_value(&self.diagnostics).unwrap_or_default();
        }
        if let Some(serde_json::Value::Object(m)) = self.extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

//! What every request passes before a handler: the Host check (a page on
//! another site must not reach a server on localhost through DNS
//! rebinding), sign-in when the server has tokens, CSRF on every change
//! made with a cookie, who is making the change, and safe headers.

use super::error::ApiError;
use super::session;
use super::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Who is asking: the token's or session's name, or (no tokens) the name
/// the page sends, or the server's user.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    /// Signed in with a token or a session (not just named).
    pub proven: bool,
}

/// Paths open without sign-in: the pages themselves ask for it.
fn open_path(path: &str) -> bool {
    !path.starts_with("/api/")
        || matches!(
            path,
            "/api/health" | "/api/session" | "/api/login" | "/api/logout" | "/api/openapi.json"
        )
}

pub async fn guard(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    if let Err(e) = host_allowed(&st, &headers) {
        return secure(e.into_response());
    }
    let path = req.uri().path().to_string();
    let bearer = session::bearer(&headers);
    let by_token = bearer.and_then(|t| session::token_user(&st, t));
    if bearer.is_some() && by_token.is_none() {
        return secure(
            ApiError::new(StatusCode::UNAUTHORIZED, "the access token is not valid")
                .into_response(),
        );
    }
    let by_session = session::cookie(&headers, session::SESSION_COOKIE)
        .and_then(|c| session::session_user(&st, &c));
    let needs_sign_in = !st.opts.tokens.is_empty();
    if needs_sign_in && by_token.is_none() && by_session.is_none() && !open_path(&path) {
        return secure(
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: this server needs an access token (Authorization: Bearer TOKEN, or the sign-in page)",
            )
            .into_response(),
        );
    }
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && by_token.is_none() {
        // A browser sends cookies (and, without tokens, reaches a server on
        // localhost) by itself; only a page of this server can read the
        // CSRF token and send it back as a header.
        if let Err(e) = csrf_ok(&headers).and_then(|()| origin_ok(&headers)) {
            return secure(e.into_response());
        }
    }
    // Refused before the body is read: a client that waits for 100-continue
    // (curl does for big bodies) hears why instead of uploading, and none is
    // cut off mid-send by a server that stopped reading.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > st.opts.max_upload) {
        let over = StatusCode::PAYLOAD_TOO_LARGE.into_response();
        return secure(json_limit(over, st.opts.max_upload));
    }
    let user = match (by_token, by_session) {
        (Some(n), _) | (None, Some(n)) => User {
            name: n,
            proven: true,
        },
        _ => User {
            name: named(&headers).unwrap_or_else(|| st.opts.local_user.clone()),
            proven: false,
        },
    };
    req.extensions_mut().insert(user);
    let resp = next.run(req).await;
    let resp = json_limit(resp, st.opts.max_upload);
    secure(json_rejection(&path, resp).await)
}

/// The Host header names this server: a loopback server answers only to
/// loopback names, so a rebinding DNS name cannot reach it.
fn host_allowed(st: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if !st.addr.ip().is_loopback() {
        // Beyond loopback every data request needs a token anyway.
        return Ok(());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) => n,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if host.is_empty() || loopback {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this server listens on loopback and answers only to localhost, not to `{host}`"
            ),
        ))
    }
}

fn csrf_ok(headers: &HeaderMap) -> Result<(), ApiError> {
    let cookie = session::cookie(headers, session::CSRF_COOKIE);
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    match (cookie, sent) {
        (Some(c), Some(s)) if !c.is_empty() && session::same(c.as_bytes(), s.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token: a change from a browser needs the X-CSRF-Token header the page sends (GET /api/session gives it); scripts use Authorization: Bearer TOKEN",
        )),
    }
}

/// A browser says which page sent a change; it must be this server's.
fn origin_ok(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let bare = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or(origin);
    if bare == host {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("a change sent from another site ({origin}) is refused"),
        ))
    }
}

/// `X-Portplan-User`: printable, at most 64 characters.
fn named(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("x-portplan-user")?.to_str().ok()?.trim();
    let clean: String = v.chars().filter(|c| !c.is_control()).take(64).collect();
    (!clean.is_empty()).then_some(clean)
}

/// axum says "length limit exceeded" in plain text; the API speaks JSON.
fn json_limit(resp: Response, limit: usize) -> Response {
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is larger than this server takes ({} MB; `portplan serve --max-upload MB` raises it); nothing was changed",
                limit / (1024 * 1024)
            ),
        )
        .into_response();
    }
    resp
}

/// axum refuses a body that is not the JSON a handler takes, a wrong
/// content type, a bad query or method in plain text; the API's errors are
/// JSON (`{"error"}`), so clients can show them the same way.
async fn json_rejection(path: &str, resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !path.starts_with("/api/")
        || is_json
        || !(status.is_client_error() || status.is_server_error())
    {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // Rejection texts are a line; past the cap the status's name stands in.
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let text = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text
    };
    let mut out = ApiError::new(status, text).into_response();
    // Keep what the refusal said in headers (Allow of a 405).
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().append(k.clone(), v.clone());
        }
    }
    out
}

/// Headers that keep a page from being framed, sniffed, or running scripts
/// from anywhere but this server.
fn secure(mut resp: Response<Body>) -> Response<Body> {
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    resp
}

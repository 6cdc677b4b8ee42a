//! Tokens, sessions and the CSRF cookie. A session cookie is
//! `NAME.EXPIRY.MAC` signed with the server's key: nothing to store, and it
//! ends when the server restarts.

use super::error::{ApiError, ApiResult};
use super::guard::User;
use super::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SESSION_COOKIE: &str = "pp_session";
pub const CSRF_COOKIE: &str = "pp_csrf";
const SESSION_SECS: i64 = 12 * 3600;

/// Equal bytes, in time that does not depend on where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub fn token_user(st: &AppState, token: &str) -> Option<String> {
    st.opts
        .tokens
        .iter()
        .find(|(_, t)| same(t.as_bytes(), token.as_bytes()))
        .map(|(n, _)| n.clone())
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn mac(st: &AppState, msg: &str) -> String {
    // HMAC takes a key of any length; the error branch cannot happen.
    match Hmac::<Sha256>::new_from_slice(&st.key) {
        Ok(mut m) => {
            m.update(msg.as_bytes());
            hex(&m.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The user a session cookie names, if it is ours and not expired.
pub fn session_user(st: &AppState, value: &str) -> Option<String> {
    if st.key == [0u8; 32] {
        return None;
    }
    let mut parts = value.rsplitn(3, '.');
    let (sig, exp, name) = (parts.next()?, parts.next()?, parts.next()?);
    let expiry: i64 = exp.parse().ok()?;
    if expiry < time::OffsetDateTime::now_utc().unix_timestamp() {
        return None;
    }
    let want = mac(st, &format!("{name}.{exp}"));
    same(want.as_bytes(), sig.as_bytes()).then(|| name.to_string())
}

/// Whether the browser reached us over HTTPS: a TLS proxy in front says so
/// (`X-Forwarded-Proto`, `Forwarded: proto=https`), or the page's origin
/// does. Then cookies get `Secure`, so they never travel in clear text;
/// a forged header only makes the sender's own cookies stricter.
fn over_https(headers: &HeaderMap) -> bool {
    let value = |name: header::HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
    };
    value(header::HeaderName::from_static("x-forwarded-proto"))
        .iter()
        .any(|v| v.split(',').next().is_some_and(|p| p.trim() == "https"))
        || value(header::FORWARDED).iter().any(|v| {
            v.split([';', ','])
                .any(|kv| kv.trim().replace(' ', "") == "proto=https")
        })
        || value(header::ORIGIN)
            .iter()
            .any(|o| o.starts_with("https://"))
}

/// A `Set-Cookie` value: the page's own, never sent by scripts of other
/// sites, `Secure` when the browser came over HTTPS.
fn set_cookie(headers: &HeaderMap, name_value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name_value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    if over_https(headers) {
        c.push_str("; Secure");
    }
    c
}

fn random_hex() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    hex(&b)
}

/// `GET /api/session`: who the page is, whether sign-in is needed, and
/// the CSRF token (set as a cookie when missing).
pub async fn get_session(
    State(st): State<AppState>,
    Extension(user): Extension<User>,
    headers: HeaderMap,
) -> Response {
    let csrf = cookie(&headers, CSRF_COOKIE)
        .filter(|c| c.len() == 32 && c.chars().all(|x| x.is_ascii_hexdigit()))
        .unwrap_or_else(random_hex);
    let auth = !st.opts.tokens.is_empty();
    let body = serde_json::json!({
        "user": if auth && !user.proven { None } else { Some(user.name) },
        "auth": auth,
        "signed_in": user.proven,
        "csrf": csrf,
    });
    let mut resp = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        &headers,
        &format!("{CSRF_COOKIE}={csrf}"),
        None,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(serde::Deserialize)]
pub struct Login {
    token: String,
}

/// `POST /api/login`: a token for a session cookie.
pub async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(l): Json<Login>,
) -> ApiResult<Response> {
    let Some(name) = token_user(&st, l.token.trim()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "that token is not one this server knows",
        ));
    };
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + SESSION_SECS;
    let value = format!("{name}.{exp}.{}", mac(&st, &format!("{name}.{exp}")));
    let mut resp = Json(serde_json::json!({ "user": name })).into_response();
    let v = HeaderValue::from_str(&set_cookie(
        &headers,
        &format!("{SESSION_COOKIE}={value}"),
        Some(SESSION_SECS),
    ))
    .map_err(|_| ApiError::bad("a token's user name must be plain text"))?;
    resp.headers_mut().append(header::SET_COOKIE, v);
    Ok(resp)
}

/// `POST /api/logout`: the session cookie cleared.
pub async fn logout(headers: HeaderMap) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let gone = set_cookie(&headers, &format!("{SESSION_COOKIE}="), Some(0));
    if let Ok(v) = HeaderValue::from_str(&gone) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cookies_are_secure_when_the_browser_came_over_https() {
        let plain = set_cookie(&with(&[]), "a=1", None);
        assert_eq!(plain, "a=1; Path=/; HttpOnly; SameSite=Strict");
        for h in [
            with(&[("x-forwarded-proto", "https")]),
            with(&[("x-forwarded-proto", "HTTPS, http")]),
            with(&[("forwarded", "for=192.0.2.1;proto=https;by=proxy")]),
            with(&[("origin", "https://portplan.example")]),
        ] {
            let c = set_cookie(&h, "a=1", Some(5));
            assert_eq!(
                c, "a=1; Path=/; HttpOnly; SameSite=Strict; Max-Age=5; Secure",
                "{h:?}"
            );
        }
        for h in [
            with(&[("x-forwarded-proto", "http")]),
            with(&[("forwarded", "proto=http")]),
            with(&[("origin", "http://127.0.0.1:8080")]),
        ] {
            assert!(!set_cookie(&h, "a=1", None).contains("Secure"), "{h:?}");
        }
    }
}

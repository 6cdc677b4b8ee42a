//! `report --push URL`: the merged report sent to a `portplan serve`, where
//! it joins the deployment's history (what changed since the run before).
//! A CI job or the fleet playbook's last step pushes with it.

use super::Failure;
use std::time::Duration;

/// Where to send: the server's base URL and the deployment's name there,
/// from the page's address (`http://h:8080/#/deployments/NAME`), or
/// `http://h:8080/deployments/NAME`, or the API path itself.
pub fn target(url: &str) -> Result<(String, String), Failure> {
    let bad = || {
        Failure::Message(format!(
            "--push {url}: give the deployment's page on the server, as in http://portplan.example:8080/#/deployments/NAME"
        ))
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(bad());
    }
    let at = url.find("/deployments/").ok_or_else(bad)?;
    let name: String = url[at + "/deployments/".len()..]
        .chars()
        .take_while(|c| !matches!(c, '/' | '?' | '#'))
        .collect();
    if name.is_empty() {
        return Err(bad());
    }
    let base = url[..at]
        .trim_end_matches("/api")
        .trim_end_matches("/#")
        .trim_end_matches('/')
        .to_string();
    Ok((base, name))
}

/// Sends the report; the server's answer (its id and what changed) in words.
pub fn push(url: &str, report_json: &str, source: &str) -> Result<String, Failure> {
    let (base, name) = target(url)?;
    let fail = |what: String| Failure::Message(format!("--push {url}: {what}"));
    let tls = ureq::tls::TlsConfig::builder()
        // The system's CA store: where an enterprise's own CA is trusted.
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .tls_config(tls)
        .build()
        .into();
    let endpoint = format!(
        "{base}/api/deployments/{}/reports?source={}",
        encode(&name),
        encode(source)
    );
    let mut req = agent
        .post(&endpoint)
        .header("Content-Type", "application/json");
    match std::env::var("PORTPLAN_SERVE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        Some(t) => req = req.header("Authorization", format!("Bearer {}", t.trim())),
        None => {
            // A server on loopback without tokens still wants the CSRF
            // token a page would send: ask for it as a page does.
            let mut r = agent
                .get(format!("{base}/api/session"))
                .call()
                .map_err(|e| fail(format!("cannot reach the server: {e}")))?;
            if r.status() == 401 {
                return Err(fail(
                    "the server needs a token: set PORTPLAN_SERVE_TOKEN".into(),
                ));
            }
            let text = r
                .body_mut()
                .read_to_string()
                .map_err(|e| fail(format!("cannot read the server's answer: {e}")))?;
            let session: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| fail(format!("the server's /api/session is not portplan's: {e}")))?;
            if session["auth"] == true {
                return Err(fail(
                    "the server needs a token: set PORTPLAN_SERVE_TOKEN".into(),
                ));
            }
            let csrf = session["csrf"].as_str().unwrap_or_default().to_string();
            req = req
                .header("Cookie", format!("pp_csrf={csrf}"))
                .header("X-CSRF-Token", csrf);
        }
    }
    let mut resp = req
        .send(report_json)
        .map_err(|e| fail(format!("cannot reach the server: {e}")))?;
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp
        .body_mut()
        .read_to_string()
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    if status == 401 {
        let said = body["error"].as_str().unwrap_or("no explanation");
        return Err(fail(format!(
            "the server did not take the token in PORTPLAN_SERVE_TOKEN ({said})"
        )));
    }
    if status != 201 {
        let said = body["error"].as_str().unwrap_or("no explanation");
        return Err(fail(format!(
            "the server refused the report ({status}): {said}"
        )));
    }
    let changes = body["changes"].as_array().map_or(0, Vec::len);
    Ok(format!(
        "pushed to {base}/#/reports/{} ({changes} path{} changed since the report before)",
        body["id"].as_str().unwrap_or("?"),
        if changes == 1 { "" } else { "s" }
    ))
}

/// Percent-encoding of a query or path part (letters, digits, `-._~` kept).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_and_api_addresses_name_the_same_target() {
        let want = ("http://h:8080".to_string(), "lab-1".to_string());
        for u in [
            "http://h:8080/#/deployments/lab-1",
            "http://h:8080/#/deployments/lab-1/reports",
            "http://h:8080/deployments/lab-1",
            "http://h:8080/api/deployments/lab-1/reports",
        ] {
            assert_eq!(target(u).ok(), Some(want.clone()), "{u}");
        }
        assert!(target("h:8080/deployments/x").is_err());
        assert!(target("http://h:8080/").is_err());
        assert_eq!(encode("ci job #4"), "ci%20job%20%234");
    }
}

//! `portplan serve` attacked through its own OpenAPI document: schemathesis
//! generates requests for every operation (odd names, huge and empty
//! values, wrong types, every method) and fails on any server error (5xx),
//! with the CSRF token so that changes are tried too. It also proves the
//! document is a valid OpenAPI 3.1 that a tool can drive.
//!
//! schemathesis comes from the CI's virtual environment (`.ci/run` installs
//! it beside ansible-core) or PORTPLAN_SCHEMATHESIS; without it the test
//! says it is skipped, except under CI=true, where it must run.

#[allow(dead_code)]
#[path = "common/serve.rs"]
mod harness;

use harness::{in_ci, Db, Launch};
use std::path::PathBuf;
use std::process::Command;

fn schemathesis() -> Option<PathBuf> {
    let p = std::env::var("PORTPLAN_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/opt/portplan-ci-venv/bin/schemathesis"));
    if p.exists() {
        return Some(p);
    }
    assert!(
        !in_ci(),
        "CI=true: schemathesis must be installed (.ci/run puts it in /opt/portplan-ci-venv)"
    );
    eprintln!("serve_fuzz: skipped: no {}", p.display());
    None
}

#[test]
fn no_generated_request_makes_a_server_error() {
    let Some(st) = schemathesis() else {
        return;
    };
    let s = Launch::new(&Db::Sqlite).start();
    // Something to find: generated names mostly miss, but `sdm` is there.
    s.create("sdm", &harness::repo_file("examples/strongdm.yaml"))
        .expect(201);
    let csrf = s.get("/api/session").json()["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    // schemathesis keeps a cache folder where it runs: not in the checkout.
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(st)
        .current_dir(scratch.path())
        .args(["run", &format!("{}/api/openapi.json", s.base)])
        .args(["--checks", "not_a_server_error"])
        .args([
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--workers",
            "1",
            "--no-color",
        ])
        .args(["-H", &format!("X-CSRF-Token: {csrf}")])
        .args(["-H", &format!("Cookie: pp_csrf={csrf}")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found server errors:\n{text}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        s.stderr()
    );
    assert!(text.contains("passed"), "{text}");
}

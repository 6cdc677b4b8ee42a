//! `portplan serve`'s JSON API, black box: the real binary on loopback,
//! each test on a fresh SQLite file and (when PORTPLAN_TEST_POSTGRES names
//! a server; CI always does) a fresh PostgreSQL database. The checks read
//! the bodies: what the pages and scripts would show, not just statuses.

// Shared with serve_browser.rs and serve_fuzz.rs, which use other parts.
#[allow(dead_code)]
#[path = "common/serve.rs"]
mod harness;

use harness::{each_db, in_ci, repo_file, Launch, Server, CSRF};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const STRONGDM: &str = "examples/strongdm.yaml";
const TOKEN: &str = "serve-api-test-token-0123456789";

fn portplan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portplan"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .env("NO_COLOR", "1");
    c
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v}"))
}

/// How many items the list at `path` holds under `key`.
fn listed(s: &Server, path: &str, key: &str) -> usize {
    arr(&s.get(path).expect(200).json()[key]).len()
}

/// The nftables file the server writes for sdm-gw-1 of a saved deployment.
fn gw1_rules(s: &Server, name: &str) -> String {
    let path = format!("/api/deployments/{name}/files/nftables?for_host=sdm-gw-1");
    s.get(&path).expect(200).body.clone()
}

/// A server with examples/strongdm.yaml saved as `sdm`.
fn with_strongdm(db: &harness::Db) -> Server {
    let s = Launch::new(db).start();
    s.create("sdm", &repo_file(STRONGDM)).expect(201);
    s
}

#[test]
fn health_catalog_search_product_port_and_skeleton() {
    each_db(|db| {
        let s = Launch::new(db).start();
        let h = s.get("/api/health");
        let h = h.expect(200).json();
        assert_eq!(h["ok"], true);
        assert_eq!(h["database"], db.name(), "health names the database in use");
        assert_eq!(h["auth"], false);

        let cat = s.get("/api/catalog").json();
        let products = arr(&cat["products"]);
        assert_eq!(products.len(), 35, "every reviewed product is listed");
        let ise = products
            .iter()
            .find(|p| p["id"] == "cisco-ise")
            .expect("cisco-ise listed");
        assert!(ise["requirements"].as_u64().unwrap() > 10, "{ise}");
        assert!(ise["name"].as_str().unwrap().contains("ISE"), "{ise}");

        // Search by port: ISE's RADIUS authentication requirement.
        let r = s.get("/api/catalog/search?q=1812").json();
        assert_eq!(r["query"], "1812");
        let radius = arr(&r["hits"])
            .iter()
            .find(|x| x["product"] == "cisco-ise" && x["id"] == "psn-radius-auth")
            .unwrap_or_else(|| panic!("no psn-radius-auth among the hits: {r}"));
        assert_eq!(radius["kind"], "requirement");
        assert!(radius["detail"].as_str().unwrap().contains("udp 1645,1812"));
        assert!(arr(&radius["matched"])
            .iter()
            .any(|m| m.as_str().unwrap().contains("1812")));

        // The product page: the requirement, cited to a source document.
        let p = s.get("/api/catalog/products/cisco-ise").expect(200).json();
        assert_eq!(p["product"], "cisco-ise");
        let req = arr(&p["requirements"])
            .iter()
            .find(|x| x["id"] == "psn-radius-auth")
            .unwrap();
        assert_eq!(
            (req["from"].as_str(), req["to"].as_str()),
            (Some("nad"), Some("psn"))
        );
        assert_eq!(req["protocol"], "udp");
        assert!(arr(&req["ports"]).contains(&json!(1812)));
        let doc = req["source"]["doc"].as_str().expect("a cited document");
        assert!(
            req["source"]["line"].as_u64().unwrap() > 0,
            "cited at a line: {req}"
        );
        assert!(
            arr(&p["sources"])
                .iter()
                .any(|d| d["id"] == doc && d["title"].is_string()),
            "the cited document `{doc}` is among the product's sources"
        );
        let unknown = s.get("/api/catalog/products/cisco-iss");
        assert!(
            unknown.expect(404).json()["error"]
                .as_str()
                .unwrap()
                .contains("cisco-ise"),
            "a near miss names what was meant"
        );

        // Port lookup: `1812/udp` (the slash encoded: one path segment).
        let port = s.get("/api/ports/1812%2Fudp").expect(200).json();
        assert_eq!(port["port"], 1812);
        // Only UDP: the IANA name and the uses of that protocol.
        assert!(arr(&port["iana"]).iter().all(|i| i["protocol"] == "udp"));
        assert!(arr(&port["iana"]).iter().any(|i| i["name"] == "radius"));
        assert!(
            arr(&port["uses"]).iter().all(|u| u["protocol"] == "udp"),
            "{port}"
        );
        let use_ = arr(&port["uses"])
            .iter()
            .find(|u| u["product"] == "cisco-ise")
            .unwrap_or_else(|| panic!("cisco-ise not among the uses: {port}"));
        assert_eq!(use_["requirement"], "psn-radius-auth");
        assert_eq!(use_["match"], "exact");
        assert_eq!(s.get("/api/ports/http%2Fudp").status, 400);

        // The skeleton is what `portplan new` prints; check names what is missing.
        let sk = s.get("/api/skeleton?products=strongdm");
        sk.expect(200);
        assert!(sk.header("content-type").unwrap().starts_with("text/yaml"));
        let cli = portplan().args(["new", "strongdm"]).output().unwrap();
        assert_eq!(sk.body, String::from_utf8_lossy(&cli.stdout));
        let c = s.change("POST", "/api/check", &sk.body).expect(200).json();
        assert_eq!(c["ok"], false);
        assert!(arr(&c["diagnostics"]).iter().any(|d| d["message"]
            .as_str()
            .unwrap()
            .contains("resource_port")
            && d["line"].as_u64().is_some()));
        let bad = s.get("/api/skeleton?products=strongdmm").expect(400).json();
        assert!(bad["error"].as_str().unwrap().contains("strongdm"), "{bad}");
    });
}

#[test]
fn check_locates_every_finding() {
    each_db(|db| {
        let s = Launch::new(db).start();
        let bad = "name: bad\nhosts:\n  a: 10.0.0.300\nproducts:\n  - product: nosuchproduct\n    roles:\n      x: [a]\n";
        let c = s
            .change("POST", "/api/check?name=bad.yaml", bad)
            .expect(200)
            .json();
        assert_eq!(c["ok"], false);
        assert_eq!(c["errors"], 2, "{c}");
        let ds = arr(&c["diagnostics"]);
        let at = |line: u64| {
            ds.iter()
                .find(|d| d["line"] == line)
                .unwrap_or_else(|| panic!("nothing at line {line}: {c}"))
        };
        let addr = at(3);
        assert_eq!(addr["file"], "bad.yaml");
        assert_eq!(addr["severity"], "error");
        assert!(addr["column"].as_u64().unwrap() >= 1);
        assert!(addr["message"].as_str().unwrap().contains("10.0.0.300"));
        let product = at(5);
        assert!(product["message"]
            .as_str()
            .unwrap()
            .contains("unknown product `nosuchproduct`"));
        assert!(product["column"].as_u64().unwrap() >= 1);

        let good = s
            .change("POST", "/api/check", &repo_file(STRONGDM))
            .expect(200)
            .json();
        assert_eq!(good["ok"], true, "{good}");
        assert_eq!(good["errors"], 0);
        assert_eq!(good["flows"].as_u64().unwrap() as usize, cli_flows());
    });
}

/// How many flows `portplan plan examples/strongdm.yaml -f json` prints.
fn cli_flows() -> usize {
    let out = portplan()
        .args(["plan", STRONGDM, "-f", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    arr(&v["flows"]).len()
}

#[test]
fn deployments_are_versioned_and_stale_saves_refused() {
    each_db(|db| {
        let s = Launch::new(db).start();
        let v1 = repo_file(STRONGDM);
        let made = s.create("sdm", &v1).expect(201).json();
        assert_eq!(
            (made["name"].as_str(), made["version"].as_i64()),
            (Some("sdm"), Some(1))
        );
        assert_eq!(made["created_by"], "alice");
        let again = s.create("sdm", &v1).expect(409).json();
        assert_eq!(again["where"], "name");

        let got = s.get("/api/deployments/sdm").expect(200).json();
        assert_eq!(got["version"], 1);
        assert_eq!(got["yaml"], v1.as_str());
        assert_eq!(got["author"], "alice");
        assert_eq!(got["message"], "first");

        // bob saves version 2 on top of 1.
        let v2 = v1.replace("sdm-relay-1: 10.20.0.10", "sdm-relay-1: 10.20.0.11");
        assert_ne!(v1, v2);
        let put = json!({"yaml": v2, "base_version": 1, "message": "relay moved"});
        let saved = s.change_as("PUT", "/api/deployments/sdm", &put.to_string(), "bob");
        let saved = saved.expect(200).json();
        assert_eq!(saved["version"], 2);
        assert_eq!(saved["updated_by"], "bob");
        assert_eq!(saved["created_by"], "alice");

        // carol started from version 1 too: refused, nothing changes.
        let v2b = v1.replace("pg-1: 10.30.0.21", "pg-1: 10.30.0.99");
        let stale = json!({"yaml": v2b, "base_version": 1, "message": "db moved"});
        let r = s.change_as("PUT", "/api/deployments/sdm", &stale.to_string(), "carol");
        let conflict = r.expect(409).json();
        assert_eq!(conflict["current_version"], 2);
        assert!(
            conflict["error"].as_str().unwrap().contains("version 2"),
            "{conflict}"
        );
        let now = s.get("/api/deployments/sdm").json();
        assert_eq!(now["version"], 2);
        assert_eq!(now["yaml"], v2.as_str(), "the stale save changed nothing");
        assert_eq!(now["updated_by"], "bob");
        let old = s.get("/api/deployments/sdm?version=1").expect(200).json();
        assert_eq!(old["yaml"], v1.as_str());
        assert_eq!(old["latest"], 2);
        s.get("/api/deployments/sdm?version=3").expect(404);

        let vs = s.get("/api/deployments/sdm/versions").expect(200).json();
        let vs = arr(&vs["versions"]);
        let who: Vec<(i64, &str, &str)> = vs
            .iter()
            .map(|v| {
                (
                    v["version"].as_i64().unwrap(),
                    v["author"].as_str().unwrap(),
                    v["message"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(who, vec![(2, "bob", "relay moved"), (1, "alice", "first")]);
        assert_eq!(
            (
                vs[0]["lines_added"].as_u64(),
                vs[0]["lines_removed"].as_u64()
            ),
            (Some(1), Some(1))
        );

        // A base past the latest is refused as such, not as someone's save.
        let ahead = json!({"yaml": v2b, "base_version": 7});
        let r = s.change("PUT", "/api/deployments/sdm", &ahead.to_string());
        let e = r.expect(409).json();
        assert_eq!(e["current_version"], 2);
        assert!(e["error"].as_str().unwrap().contains("no version 7"), "{e}");

        // A missing deployment, and a YAML that is not a deployment.
        let missing = json!({"yaml": v1, "base_version": 1});
        s.change("PUT", "/api/deployments/nope", &missing.to_string())
            .expect(404);
        let junk = json!({"name": "junk", "yaml": "hosts: [unclosed"});
        let e = s.post_json("/api/deployments", &junk).expect(422).json();
        assert!(
            e["where"].as_str().unwrap().starts_with("junk.yaml:"),
            "{e}"
        );
        assert!(!arr(&e["diagnostics"]).is_empty());

        let list = s.get("/api/deployments").json();
        let names: Vec<&str> = arr(&list["deployments"])
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["sdm"]);
        assert_eq!(arr(&list["deployments"])[0]["version"], 2);

        // Deleting takes the versions along: the name starts again at 1.
        s.change("DELETE", "/api/deployments/sdm", "").expect(204);
        s.get("/api/deployments/sdm").expect(404);
        s.change("DELETE", "/api/deployments/sdm", "").expect(404);
        assert_eq!(s.create("sdm", &v2).expect(201).json()["version"], 1);
        let vs = s.get("/api/deployments/sdm/versions").json();
        assert_eq!(arr(&vs["versions"]).len(), 1);
    });
}

#[test]
fn refusals_are_json_with_the_reason() {
    each_db(|db| {
        let s = with_strongdm(db);
        let is_json = |r: &harness::Resp| {
            assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
            r.json()["error"].as_str().unwrap().to_string()
        };
        // A body without a field the handler needs.
        let r = s.post_json("/api/deployments", &json!({"name": "x"}));
        assert!(is_json(r.expect(422)).contains("missing field `yaml`"));
        // JSON sent as text.
        let cookie = format!("pp_csrf={CSRF}");
        let r = s.send(
            "POST",
            "/api/deployments",
            &[
                ("Cookie", &cookie),
                ("X-CSRF-Token", CSRF),
                ("Content-Type", "text/plain"),
            ],
            Some(&json!({"name": "x", "yaml": "name: x"}).to_string()),
        );
        assert!(is_json(r.expect(415)).contains("application/json"));
        // A query that is not a number, a method a path does not take.
        assert!(is_json(s.get("/api/deployments/sdm?version=two").expect(400)).contains("version"));
        let r = s.change("PATCH", "/api/deployments/sdm", "{}");
        is_json(r.expect(405));
        assert!(r.header("allow").unwrap().contains("PUT"), "{r:?}");
        assert_eq!(listed(&s, "/api/deployments", "deployments"), 1);
    });
}

#[test]
fn plan_graph_and_files() {
    each_db(|db| {
        let s = with_strongdm(db);
        let p = s.get("/api/deployments/sdm/plan").expect(200).json();
        assert_eq!(p["version"], 1);
        let flows = arr(&p["flows"]);
        assert_eq!(
            flows.len(),
            cli_flows(),
            "the rows are `portplan plan`'s flows"
        );
        assert!(flows.iter().all(|f| arr(&f["reasons"])
            .iter()
            .all(|r| r["product"] == "strongdm")));
        let into_gw = flows
            .iter()
            .find(|f| f["to"].as_str().unwrap().contains("sdm-gw-1") && f["ports"] == "5000")
            .unwrap_or_else(|| panic!("no flow into the gateways on 5000: {p}"));
        assert_eq!(into_gw["protocol"], "tcp");
        assert_eq!(into_gw["required"], true);
        let legend = arr(&p["legend"]);
        assert!(legend
            .iter()
            .any(|l| l["name"] == "sdm-gw-1"
                && arr(&l["addresses"]).contains(&json!("203.0.113.10"))));

        let g = s.get("/api/deployments/sdm/graph").expect(200).json();
        let nodes = arr(&g["nodes"]);
        let edges = arr(&g["edges"]);
        assert!(!edges.is_empty());
        let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
        for e in edges {
            assert!(
                ids.contains(&e["from"].as_str().unwrap()),
                "edge from an unknown node: {e}"
            );
            assert!(
                ids.contains(&e["to"].as_str().unwrap()),
                "edge to an unknown node: {e}"
            );
        }
        let gw = nodes
            .iter()
            .find(|n| n["name"] == "sdm-gw-1")
            .expect("a sdm-gw-1 box");
        assert!(edges
            .iter()
            .any(|e| e["to"] == gw["id"] && e["label"].as_str().unwrap().contains("5000")));

        let f = s.get("/api/deployments/sdm/files/nftables?for_host=sdm-gw-1");
        f.expect(200);
        assert!(f
            .header("content-disposition")
            .unwrap()
            .contains("sdm-gw-1"));
        assert!(f.header("content-type").unwrap().starts_with("text/plain"));
        assert!(f.body.contains("table inet portplan"));
        assert!(f.body.contains("tcp dport 5000 accept"), "{}", f.body);
        // No management network in the example: the file says it cuts SSH.
        assert_eq!(f.header("x-portplan-not-expressed"), Some("1"));
        nft_check(&f.body);

        let e = s
            .get("/api/deployments/sdm/files/nftables")
            .expect(422)
            .json();
        assert_eq!(e["where"], "for_host");
        let e = s
            .get("/api/deployments/sdm/files/nftables?for_host=nobody")
            .expect(422)
            .json();
        assert_eq!(e["where"], "for_host");
        s.get("/api/deployments/sdm/files/no-such-format")
            .expect(404);
        let asa = s
            .get("/api/deployments/sdm/files/cisco-asa")
            .expect(200)
            .body
            .clone();
        assert!(asa.contains("access-list"), "{asa}");
    });
}

/// `nft -c -f` reads the file as the kernel's tool would (root and
/// nftables; CI has both).
fn nft_check(text: &str) {
    let root = unsafe { libc::geteuid() } == 0;
    let nft = Command::new("nft").arg("--version").output().is_ok();
    if !(root && nft) {
        assert!(!in_ci(), "CI=true: nft -c must check the served file");
        eprintln!("serve_api: nft -c skipped (needs root and nftables)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gw.nft");
    std::fs::write(&file, text).unwrap();
    let out = Command::new("nft")
        .arg("-c")
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nft -c refused the served file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn audits_judge_an_uploaded_ruleset() {
    each_db(|db| {
        let s = with_strongdm(db);
        let rules = gw1_rules(&s, "sdm");
        let a = s.change(
            "POST",
            "/api/deployments/sdm/audits?as=sdm-gw-1&file=gw1.nft",
            &rules,
        );
        let a = a.expect(201).json();
        assert_eq!(a["author"], "alice");
        assert_eq!(a["file"], "gw1.nft");
        assert_eq!(a["as"], "sdm-gw-1");
        assert_eq!(a["version"], 1);
        let sum = &a["summary"];
        assert_eq!(sum["format"], "nftables");
        assert_eq!(
            sum["blocked"], 0,
            "the host's own rules block nothing: {sum}"
        );
        assert!(sum["allowed"].as_u64().unwrap() > 0);
        let flows = arr(&a["result"]["flows"]);
        let inbound: Vec<&Value> = flows
            .iter()
            .filter(|f| f["dst"].as_str().unwrap().contains("sdm-gw-1"))
            .collect();
        assert!(
            !inbound.is_empty(),
            "sdm-gw-1's inbound flows are judged: {flows:?}"
        );
        for f in &inbound {
            assert_eq!(f["verdict"], "allowed", "{f}");
        }
        let id = a["id"].as_str().unwrap();
        let stored = s.get(&format!("/api/audits/{id}")).expect(200).json();
        assert_eq!(stored["summary"], *sum);
        assert_eq!(stored["result"], a["result"]);

        // Garbage: refused where it went wrong, and nothing is stored.
        let junk = "this is { not a ruleset\nfoo bar\n";
        let e = s
            .change(
                "POST",
                "/api/deployments/sdm/audits?as=sdm-gw-1&file=junk.nft&rules_format=nftables",
                junk,
            )
            .expect(422)
            .json();
        assert_eq!(e["where"], "junk.nft:1:1", "{e}");
        let e = s
            .change(
                "POST",
                "/api/deployments/sdm/audits?as=sdm-gw-1&file=junk.nft",
                junk,
            )
            .expect(422)
            .json();
        assert!(
            e["error"].as_str().unwrap().contains("not recognised"),
            "{e}"
        );
        assert_eq!(e["where"], "junk.nft", "{e}");
        let e = s
            .change(
                "POST",
                "/api/deployments/sdm/audits?as=nobody&file=gw1.nft",
                &rules,
            )
            .expect(422)
            .json();
        assert_eq!(e["where"], "as", "{e}");
        let list = s.get("/api/deployments/sdm/audits").expect(200).json();
        let list = arr(&list["audits"]);
        assert_eq!(list.len(), 1, "only the good audit is kept");
        assert_eq!(list[0]["id"], id);
        assert!(
            list[0].get("result").is_none(),
            "the list leaves the verdicts out"
        );
        s.get("/api/audits/nope").expect(404);
    });
}

/// One host's `verify -f json` for the StrongDM example saved as `sdm`:
/// the relay's two resource paths, the database's in `db_state`.
fn verify_json(s: &Server, db_state: &str) -> Value {
    let sha = s.get("/api/deployments/sdm").json()["sha256"].clone();
    harness::verify_result(
        "sdm-relay-1",
        &sha,
        &[
            ("pg-1", "10.30.0.21", 5432, db_state),
            ("bastion-1", "10.30.0.40", 22, "verified"),
        ],
    )
}

/// `portplan report -f json` over one verify result.
fn report_of(verify: &Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("relay.verify.json");
    std::fs::write(&f, verify.to_string()).unwrap();
    let out = portplan()
        .arg("report")
        .arg(&f)
        .args(["--deployment", STRONGDM, "-f", "json"])
        .output()
        .unwrap();
    // 1: the report says a required path is not proven (an answer).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn reports_say_what_changed_since_the_last_one() {
    each_db(|db| {
        let s = with_strongdm(db);
        let first = s
            .change(
                "POST",
                "/api/deployments/sdm/reports?source=ci-job-1",
                &report_of(&verify_json(&s, "verified")),
            )
            .expect(201)
            .json();
        assert_eq!(first["source"], "ci-job-1");
        assert_eq!(first["author"], "alice");
        assert_eq!(first["summary"]["passed"], 2);
        assert_eq!(
            first["changes"],
            json!([]),
            "nothing to compare the first with"
        );

        let second = s
            .change(
                "POST",
                "/api/deployments/sdm/reports",
                &report_of(&verify_json(&s, "filtered")),
            )
            .expect(201)
            .json();
        assert_eq!(second["summary"]["required_failed"], 1);
        let db_path = "sdm-relay-1 -> pg-1 tcp/5432 at 10.30.0.21";
        assert_eq!(
            second["changes"],
            json!([{"path": db_path, "before": "verified", "after": "filtered"}])
        );
        let id = second["id"].as_str().unwrap();
        let stored = s.get(&format!("/api/reports/{id}")).expect(200).json();
        assert_eq!(stored["report"]["kind"], "portplan-report");
        assert_eq!(stored["changes"], second["changes"]);
        assert_eq!(stored["source"], "upload");

        // One host's raw verify result is merged by the server.
        let third = s
            .change(
                "POST",
                "/api/deployments/sdm/reports",
                &verify_json(&s, "verified").to_string(),
            )
            .expect(201)
            .json();
        assert_eq!(
            third["changes"],
            json!([{"path": db_path, "before": "filtered", "after": "verified"}])
        );

        // Not JSON, and JSON that is no report: refused, located, not kept.
        let e = s
            .change(
                "POST",
                "/api/deployments/sdm/reports",
                "all paths fine, trust me",
            )
            .expect(422)
            .json();
        assert!(e["where"].as_str().unwrap().starts_with("report:1:"), "{e}");
        let e = s
            .change("POST", "/api/deployments/sdm/reports", "{\"a\": 1}")
            .expect(422)
            .json();
        assert!(e["where"].is_string(), "{e}");
        let list = s.get("/api/deployments/sdm/reports").expect(200).json();
        let ids: Vec<&str> = arr(&list["reports"])
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 3, "only the three reports are kept");
        assert_eq!(ids[1], id, "newest first");
        assert_eq!(ids[0], third["id"].as_str().unwrap());
    });
}

#[test]
fn changes_need_csrf_a_local_origin_and_host_and_fit_the_limit() {
    each_db(|db| {
        let s = Launch::new(db).start();
        let body = json!({"name": "sdm", "yaml": repo_file(STRONGDM)}).to_string();
        let ct = ("Content-Type", "application/json");
        let cookie = format!("pp_csrf={CSRF}");

        // The page's session hands out the CSRF token and sets the cookie.
        let sess = s.get("/api/session");
        let csrf = sess.json()["csrf"].as_str().unwrap().to_string();
        assert_eq!(sess.cookie("pp_csrf"), Some(format!("pp_csrf={csrf}")));

        let e = s
            .send("POST", "/api/deployments", &[ct], Some(&body))
            .expect(403)
            .json();
        assert!(e["error"].as_str().unwrap().contains("CSRF"), "{e}");
        let e = s.send(
            "POST",
            "/api/deployments",
            &[ct, ("Cookie", &cookie)],
            Some(&body),
        );
        e.expect(403);
        let wrong = s.send(
            "POST",
            "/api/deployments",
            &[
                ct,
                ("Cookie", &cookie),
                ("X-CSRF-Token", "ffffffffffffffffffffffffffffffff"),
            ],
            Some(&body),
        );
        wrong.expect(403);
        let foreign = s.send(
            "POST",
            "/api/deployments",
            &[
                ct,
                ("Cookie", &cookie),
                ("X-CSRF-Token", CSRF),
                ("Origin", "http://evil.example"),
            ],
            Some(&body),
        );
        assert!(foreign.expect(403).json()["error"]
            .as_str()
            .unwrap()
            .contains("evil.example"));
        assert_eq!(
            listed(&s, "/api/deployments", "deployments"),
            0,
            "nothing stored"
        );
        // The server's own page may.
        let own = s.send(
            "POST",
            "/api/deployments",
            &[
                ct,
                ("Cookie", &cookie),
                ("X-CSRF-Token", CSRF),
                ("Origin", &s.base),
            ],
            Some(&body),
        );
        own.expect(201);

        // DNS rebinding: a foreign Host is refused before anything runs.
        let port = s.base.rsplit(':').next().unwrap();
        let (code, text) = s.raw(
            "GET /api/deployments HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(code, 421, "{text}");
        assert!(text.contains("evil.example"));
        let (code, _) = s.raw(&format!(
            "GET /api/health HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
        ));
        assert_eq!(code, 200);
        drop(s);

        // --max-upload 1: a 2 MB ruleset or deployment is refused before it
        // is sent (the client waits for 100-continue, as curl does; a
        // client that sends anyway may see the connection closed first).
        let s = Launch::new(db).arg("--max-upload").arg("1").start();
        s.create("sdm", &repo_file(STRONGDM)).expect(201);
        let over = |path: &str| {
            s.raw(&format!(
                "POST {path} HTTP/1.1\r\nHost: localhost\r\nCookie: pp_csrf={CSRF}\r\n\
                 X-CSRF-Token: {CSRF}\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
                2 * 1024 * 1024
            ))
        };
        let (code, body) = over("/api/deployments/sdm/audits?as=sdm-gw-1");
        assert_eq!(code, 413, "{body}");
        let e: Value = serde_json::from_str(&body).unwrap();
        assert!(e["error"].as_str().unwrap().contains("--max-upload"), "{e}");
        let audits = s.get("/api/deployments/sdm/audits").json();
        assert_eq!(arr(&audits["audits"]).len(), 0, "nothing stored");
        let (code, _) = over("/api/deployments");
        assert_eq!(code, 413);
        assert_eq!(listed(&s, "/api/deployments", "deployments"), 1);
        // Under the limit the same server takes a ruleset.
        let rules = gw1_rules(&s, "sdm");
        s.change("POST", "/api/deployments/sdm/audits?as=sdm-gw-1", &rules)
            .expect(201);
    });
}

#[test]
fn tokens_sign_in_scripts_and_pages() {
    each_db(|db| {
        let s = Launch::new(db).env("PORTPLAN_SERVE_TOKEN", TOKEN).start();
        assert_eq!(s.get("/api/health").expect(200).json()["auth"], true);
        let e = s.get("/api/catalog").expect(401).json();
        assert!(e["error"].as_str().unwrap().contains("sign in"));
        s.get("/api/deployments").expect(401);
        let bearer = format!("Bearer {TOKEN}");
        let auth = ("Authorization", bearer.as_str());
        let cat = s
            .send("GET", "/api/catalog", &[auth], None)
            .expect(200)
            .json();
        assert_eq!(arr(&cat["products"]).len(), 35);
        s.send(
            "GET",
            "/api/catalog",
            &[("Authorization", "Bearer not-the-token-at-all")],
            None,
        )
        .expect(401);

        // A script: the token, no CSRF; recorded as the token's user even
        // when it claims another name.
        let body = json!({"name": "sdm", "yaml": repo_file(STRONGDM)}).to_string();
        let made = s.send(
            "POST",
            "/api/deployments",
            &[
                auth,
                ("Content-Type", "application/json"),
                ("X-Portplan-User", "mallory"),
            ],
            Some(&body),
        );
        assert_eq!(made.expect(201).json()["created_by"], "token");

        // A page: sign in with the token, then the cookie.
        let no = s.change(
            "POST",
            "/api/login",
            &json!({"token": "wrong-token-0123456789"}).to_string(),
        );
        no.expect(401);
        let login = s.change("POST", "/api/login", &json!({"token": TOKEN}).to_string());
        assert_eq!(login.expect(200).json()["user"], "token");
        let session = login.cookie("pp_session").expect("a session cookie");
        let cookies = format!("{session}; pp_csrf={CSRF}");
        let who = s
            .send("GET", "/api/session", &[("Cookie", &cookies)], None)
            .json();
        assert_eq!(
            (who["user"].as_str(), who["signed_in"].as_bool()),
            (Some("token"), Some(true))
        );
        let list = s
            .send("GET", "/api/deployments", &[("Cookie", &cookies)], None)
            .expect(200)
            .json();
        assert_eq!(arr(&list["deployments"])[0]["name"], "sdm");
        let v2 = json!({"yaml": repo_file(STRONGDM) + "# edited\n", "base_version": 1}).to_string();
        let ct = ("Content-Type", "application/json");
        s.send(
            "PUT",
            "/api/deployments/sdm",
            &[("Cookie", &cookies), ct],
            Some(&v2),
        )
        .expect(403);
        let put = s.send(
            "PUT",
            "/api/deployments/sdm",
            &[
                ("Cookie", &cookies),
                ct,
                ("X-CSRF-Token", CSRF),
                ("X-Portplan-User", "mallory"),
            ],
            Some(&v2),
        );
        assert_eq!(put.expect(200).json()["updated_by"], "token");
        let vs = s
            .send("GET", "/api/deployments/sdm/versions", &[auth], None)
            .json();
        let authors: Vec<&str> = arr(&vs["versions"])
            .iter()
            .map(|v| v["author"].as_str().unwrap())
            .collect();
        assert_eq!(authors, vec!["token", "token"]);
        // A POST from the page too: a new deployment, recorded as `token`.
        let body = json!({"name": "sdm2", "yaml": repo_file(STRONGDM)}).to_string();
        let made = s.send(
            "POST",
            "/api/deployments",
            &[("Cookie", &cookies), ct, ("X-CSRF-Token", CSRF)],
            Some(&body),
        );
        assert_eq!(made.expect(201).json()["created_by"], "token");
        // A forged session (another name, the same shape) is no session.
        let forged = session.replacen("pp_session=token", "pp_session=admin", 1);
        s.send("GET", "/api/deployments", &[("Cookie", &forged)], None)
            .expect(401);

        let out = s.send(
            "POST",
            "/api/logout",
            &[("Cookie", &cookies), ("X-CSRF-Token", CSRF)],
            None,
        );
        out.expect(204);
        assert_eq!(out.cookie("pp_session"), Some("pp_session=".into()));
    });
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    each_db(|db| {
        let (code, err) = Launch::new(db).arg("--listen").arg("0.0.0.0:0").refused();
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("refusing to listen on 0.0.0.0"), "{err}");
        assert!(err.contains("PORTPLAN_SERVE_TOKEN"), "it says how: {err}");
    });
}

#[test]
fn markup_is_refused_as_a_name_and_returned_as_data() {
    each_db(|db| {
        let s = Launch::new(db).start();
        let name = "<script>alert(1)</script>";
        let r = s.create(name, &repo_file(STRONGDM));
        assert!(matches!(r.status, 400 | 422), "{r:?}");
        let e = r.json();
        assert_eq!(e["where"], "name");
        assert_eq!(listed(&s, "/api/deployments", "deployments"), 0);

        let r = s.get("/api/catalog/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        r.expect(200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r
            .header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'"));
        assert_eq!(r.json()["query"], name, "the text comes back as JSON data");
        let r = s.get("/api/catalog/products/%3Cscript%3E");
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.json()["error"].as_str().unwrap().contains("<script>"));
    });
}

#[test]
fn of_concurrent_saves_from_one_base_exactly_one_wins() {
    each_db(|db| {
        let s = with_strongdm(db);
        let base = repo_file(STRONGDM);
        let gate = std::sync::Barrier::new(8);
        let statuses: Vec<(u16, Value)> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..8)
                .map(|i| {
                    let (s, gate, base) = (&s, &gate, &base);
                    sc.spawn(move || {
                        let body = json!({"yaml": format!("{base}# edit {i}\n"), "base_version": 1, "message": format!("edit {i}")});
                        gate.wait();
                        let r = s.change_as("PUT", "/api/deployments/sdm", &body.to_string(), &format!("user{i}"));
                        let v = r.json();
                        (r.status, v)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<&Value> = statuses
            .iter()
            .filter(|(c, _)| *c == 200)
            .map(|(_, v)| v)
            .collect();
        let lost: Vec<&Value> = statuses
            .iter()
            .filter(|(c, _)| *c == 409)
            .map(|(_, v)| v)
            .collect();
        assert_eq!((won.len(), lost.len()), (1, 7), "{statuses:?}");
        assert!(lost.iter().all(|v| v["current_version"] == 2), "{lost:?}");
        let vs = s.get("/api/deployments/sdm/versions").json();
        let vs = arr(&vs["versions"]);
        assert_eq!(vs.len(), 2);
        let winner = won[0]["updated_by"].as_str().unwrap();
        assert_eq!(vs[0]["author"], winner);
        let now = s.get("/api/deployments/sdm").json();
        let n = winner.trim_start_matches("user");
        assert!(now["yaml"]
            .as_str()
            .unwrap()
            .ends_with(&format!("# edit {n}\n")));
    });
}

/// Eight requests at once, released together; their statuses and bodies.
fn at_once(s: &Server, make: impl Fn(usize) -> (String, String) + Sync) -> Vec<(u16, Value)> {
    let gate = std::sync::Barrier::new(8);
    std::thread::scope(|sc| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let (gate, make) = (&gate, &make);
                sc.spawn(move || {
                    let (path, body) = make(i);
                    gate.wait();
                    let r = s.change("POST", &path, &body);
                    (r.status, r.json())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn concurrent_creates_are_saved_or_refused_as_taken() {
    each_db(|db| {
        let s = Launch::new(db).start();
        let yaml = repo_file(STRONGDM);
        let new = |name: String| json!({"name": name, "yaml": yaml}).to_string();
        // Different names: every one is saved (none told the database is busy).
        let r = at_once(&s, |i| ("/api/deployments".into(), new(format!("d{i}"))));
        assert!(r.iter().all(|(c, _)| *c == 201), "{r:?}");
        assert_eq!(listed(&s, "/api/deployments", "deployments"), 8);
        // One name: one is saved, the others hear it is taken.
        let r = at_once(&s, |_| ("/api/deployments".into(), new("same".into())));
        let codes: Vec<u16> = r.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{r:?}");
        assert_eq!(codes.iter().filter(|c| **c == 409).count(), 7, "{r:?}");
        let vs = s.get("/api/deployments/same/versions").json();
        assert_eq!(arr(&vs["versions"]).len(), 1);
        // Audits of one deployment at once are all kept (reports at once:
        // reports_received_at_once_are_compared_one_after_another).
        let rules = gw1_rules(&s, "d0");
        let r = at_once(&s, |i| {
            (
                format!("/api/deployments/d0/audits?as=sdm-gw-1&file=gw{i}.nft"),
                rules.clone(),
            )
        });
        assert!(r.iter().all(|(c, _)| *c == 201), "{r:?}");
        assert_eq!(listed(&s, "/api/deployments/d0/audits", "audits"), 8);
    });
}

#[test]
fn reports_received_at_once_are_compared_one_after_another() {
    each_db(|db| {
        let s = with_strongdm(db);
        let up = report_of(&verify_json(&s, "verified"));
        let down = report_of(&verify_json(&s, "filtered"));
        // Alternating states: each report changes the database's path, so
        // a report compared with the wrong previous one shows it.
        let r = at_once(&s, |i| {
            let body = if i % 2 == 0 { &up } else { &down };
            ("/api/deployments/sdm/reports".into(), body.clone())
        });
        assert!(r.iter().all(|(c, _)| *c == 201), "{r:?}");
        let list = s.get("/api/deployments/sdm/reports").expect(200).json();
        let rows = arr(&list["reports"]);
        assert_eq!(rows.len(), 8);
        // What the history lists (stored when each came) is what comparing
        // each with the one before it in the history gives.
        for row in rows {
            let id = row["id"].as_str().unwrap();
            let again = s.get(&format!("/api/reports/{id}")).expect(200).json();
            assert_eq!(row["changes"], again["changes"], "report {id}");
        }
        assert_eq!(rows[7]["changes"], json!([]), "nothing before the first");
        // Newest first: a report names the database's path when its state
        // differs from the one received just before it, and nothing else.
        let db_path = "sdm-relay-1 -> pg-1 tcp/5432 at 10.30.0.21";
        for pair in rows.windows(2) {
            let (newer, older) = (&pair[0], &pair[1]);
            let older_state = older["summary"]["required_failed"] == 1;
            let newer_state = newer["summary"]["required_failed"] == 1;
            if older_state != newer_state {
                assert_eq!(newer["changes"][0]["path"], db_path, "{newer}");
            } else {
                assert_eq!(newer["changes"], json!([]), "{newer}");
            }
        }
    });
}

#[test]
fn every_path_in_the_openapi_document_answers() {
    each_db(|db| {
        let s = with_strongdm(db);
        let rules = gw1_rules(&s, "sdm");
        let audit = s
            .change("POST", "/api/deployments/sdm/audits?as=sdm-gw-1", &rules)
            .expect(201)
            .json();
        let report = s
            .change(
                "POST",
                "/api/deployments/sdm/reports",
                &report_of(&verify_json(&s, "verified")),
            )
            .expect(201)
            .json();
        let doc = s.get("/api/openapi.json").expect(200).json();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 20, "{paths:?}");
        let sample = |path: &str| {
            let p = path
                .replace("{name}", "sdm")
                .replace("{format}", "cisco-asa")
                .replace("{port}", "443")
                .replace("{protocol}", "tcp")
                .replace(
                    "/api/audits/{id}",
                    &format!("/api/audits/{}", audit["id"].as_str().unwrap()),
                )
                .replace(
                    "/api/reports/{id}",
                    &format!("/api/reports/{}", report["id"].as_str().unwrap()),
                )
                .replace("{id}", "cisco-ise");
            assert!(!p.contains('{'), "no sample for {path}");
            match path {
                "/api/catalog/search" => format!("{p}?q=radius"),
                "/api/skeleton" => format!("{p}?products=strongdm"),
                _ => p,
            }
        };
        for (path, ops) in paths {
            let ops = ops.as_object().unwrap();
            assert!(!ops.is_empty());
            let url = sample(path);
            if ops.contains_key("get") {
                let r = s.get(&url);
                assert_eq!(r.status, 200, "GET {url}: {}", r.body);
            }
            for m in ["post", "put", "delete"] {
                if ops.contains_key(m) && !(m == "delete" || path == "/api/logout") {
                    // An empty change: refused by the handler, not the fallback.
                    let r = s.change(&m.to_uppercase(), &url, "");
                    assert!(
                        !r.body.contains("no such API path") && r.status != 405,
                        "{m} {url}: {} {}",
                        r.status,
                        r.body
                    );
                }
            }
        }
        let r = s.get("/api/no-such-thing").expect(404).json();
        assert!(r["error"].as_str().unwrap().contains("no such API path"));
    });
}

/// `report --push`: the merged report lands in the deployment's history,
/// through the CSRF handshake on a token-less loopback server, and with
/// PORTPLAN_SERVE_TOKEN (only) on a server that has tokens.
#[test]
fn report_push_adds_to_the_history() {
    each_db(|db| {
        let dir = tempfile::tempdir().unwrap();
        let push = |s: &Server, state: &str, token: Option<&str>| {
            let f = dir.path().join(format!("relay-{state}.json"));
            let sha = json!("0");
            let v =
                harness::verify_result("sdm-relay-1", &sha, &[("pg-1", "10.30.0.21", 5432, state)]);
            std::fs::write(&f, v.to_string()).unwrap();
            let mut c = portplan();
            c.arg("report")
                .arg(&f)
                .args(["--deployment", STRONGDM, "-f", "json", "-o"])
                .arg(dir.path().join("out.json"))
                .args(["--push", &format!("{}/#/deployments/sdm", s.base)])
                .args(["--push-source", "ci job 7"])
                .env_remove("PORTPLAN_SERVE_TOKEN");
            if let Some(t) = token {
                c.env("PORTPLAN_SERVE_TOKEN", t);
            }
            c.output().unwrap()
        };

        let s = with_strongdm(db);
        for state in ["verified", "filtered"] {
            let out = push(&s, state, None);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
            assert!(err.contains("pushed to"), "{err}");
        }
        let list = s.get("/api/deployments/sdm/reports").expect(200).json();
        let reports = arr(&list["reports"]);
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0]["source"], "ci job 7");
        let id = reports[0]["id"].as_str().unwrap();
        let newest = s.get(&format!("/api/reports/{id}")).expect(200).json();
        let changes = arr(&newest["changes"]);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0]["before"], "verified");
        assert_eq!(changes[0]["after"], "filtered");

        // A server with tokens: refused without one, recorded under it with it.
        let t = Launch::new(db).env("PORTPLAN_SERVE_TOKEN", TOKEN).start();
        let body = json!({"name": "sdm", "yaml": repo_file(STRONGDM)}).to_string();
        let bearer = format!("Bearer {TOKEN}");
        t.send(
            "POST",
            "/api/deployments",
            &[
                ("Authorization", bearer.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some(&body),
        )
        .expect(201);
        let out = push(&t, "verified", None);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("PORTPLAN_SERVE_TOKEN"));
        let out = push(&t, "verified", Some(TOKEN));
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list = t
            .send(
                "GET",
                "/api/deployments/sdm/reports",
                &[("Authorization", bearer.as_str())],
                None,
            )
            .expect(200)
            .json();
        assert_eq!(arr(&list["reports"])[0]["author"], "token");
    });
}

/// Plans and pictures are kept per saved version: a new version, or a
/// deployment deleted and made again under the same name (version 1 again),
/// is planned from its own text, never answered with the old plan.
#[test]
fn a_kept_plan_belongs_to_its_version_text() {
    each_db(|db| {
        let s = with_strongdm(db);
        let flows =
            |s: &Server| arr(&s.get("/api/deployments/sdm/plan").expect(200).json()["flows"]).len();
        let nodes = |s: &Server| {
            arr(&s.get("/api/deployments/sdm/graph").expect(200).json()["nodes"]).len()
        };
        let (f1, n1) = (flows(&s), nodes(&s));
        assert_eq!(
            (flows(&s), nodes(&s)),
            (f1, n1),
            "asked again: the same answer"
        );
        // The bastion's overrides gone: port 22 flows are planned no more.
        let yaml = repo_file(STRONGDM);
        let fewer: String = yaml
            .lines()
            .filter(|l| !l.contains("target: bastion-1") && !l.contains("bastion-1: 10.30.0.40"))
            .map(|l| l.replace("resource: [pg-1, bastion-1]", "resource: [pg-1]") + "\n")
            .collect();
        let body = json!({"yaml": fewer, "base_version": 1}).to_string();
        s.change("PUT", "/api/deployments/sdm", &body).expect(200);
        let (f2, n2) = (flows(&s), nodes(&s));
        assert!(n2 < n1, "the bastion's box is gone ({n1} -> {n2})");
        let v1 = arr(&s
            .get("/api/deployments/sdm/plan?version=1")
            .expect(200)
            .json()["flows"])
        .len();
        assert_eq!(v1, f1, "version 1 keeps its own plan");
        // Deleted, then made again from the smaller text: version 1 again.
        s.change("DELETE", "/api/deployments/sdm", "").expect(204);
        s.create("sdm", &fewer).expect(201);
        assert_eq!((flows(&s), nodes(&s)), (f2, n2));
    });
}

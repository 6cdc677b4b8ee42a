//! `portplan serve` in a real browser: Debian's chromium, headless, driven
//! through chromedriver (WebDriver), walking a user's path on SQLite and,
//! when PORTPLAN_TEST_POSTGRES names a server, on PostgreSQL: find which
//! products use a port, open one, create a deployment, see an error shown
//! inline and fix it, see the plan and its diagram, download the nftables
//! file (and `nft -c` it), upload two verification reports and see what
//! changed. Screenshots of every step go to target/tmp/serve-browser/.
//!
//! Without chromium/chromedriver the test says it is skipped, except under
//! `CI=true` (`.ci/run` installs them), where it must run.

// Shared with serve_api.rs, which uses all of it.
#[allow(dead_code)]
#[path = "common/serve.rs"]
mod harness;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use harness::{databases, in_ci, verify_result, Db, Launch};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(30);

/// A child process killed when the test ends, pass or fail.
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have_browser() -> bool {
    let ok = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !ok {
        assert!(
            !in_ci(),
            "CI=true: chromium and chromium-driver must be installed (.ci/run does)"
        );
        eprintln!("serve_browser: skipped: no {CHROMIUM} or {CHROMEDRIVER}");
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start_driver() -> (Kill, u16) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let kill = Kill(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < WAIT, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (kill, port)
}

async fn browser(port: u16, profile: &Path, downloads: &Path) -> Client {
    // The flags keep chromium from reaching out to Google's services, which
    // this closed network refuses (and which would slow every start).
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1366,900",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session")
}

fn shots_dir(db: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("serve-browser")
        .join(db);
    // Only this run's pictures (a `failed.png` of an earlier run misleads).
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("screenshot folder");
    d
}

async fn shot(c: &Client, dir: &Path, name: &str) {
    let png = c.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot saved");
}

fn css(s: &str) -> Locator<'_> {
    Locator::Css(s)
}

async fn find(c: &Client, sel: &str) -> Element {
    c.wait()
        .at_most(WAIT)
        .for_element(css(sel))
        .await
        .unwrap_or_else(|e| panic!("no `{sel}` on the page: {e}"))
}

/// Waits until the element's text satisfies `ok`; its text.
async fn text_until(c: &Client, sel: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < WAIT {
        if let Ok(e) = c.find(css(sel)).await {
            if let Ok(t) = e.text().await {
                if ok(&t) {
                    return t;
                }
                last = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!("`{sel}` never showed {what}; last text: {last:?}");
}

/// Sets a textarea's text as a paste would, firing the input event the
/// page listens to (typing 2 KB key by key only slows the test).
async fn paste(c: &Client, sel: &str, text: &str) {
    let e = find(c, sel).await;
    c.execute(
        "arguments[0].focus(); arguments[0].value = arguments[1]; \
         arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        vec![serde_json::to_value(&e).expect("element"), json!(text)],
    )
    .await
    .expect("text pasted");
}

fn example(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The walk, on one database's server.
async fn walk(db: &Db, url: &str) {
    let (_driver, port) = start_driver();
    let tmp = tempfile::tempdir().expect("temp folder");
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir_all(&downloads).expect("downloads folder");
    let c = browser(port, &tmp.path().join("profile"), &downloads).await;
    let shots = shots_dir(db.name());
    let result = steps(&c, url, &shots, &downloads, tmp.path()).await;
    // A failing step leaves its page in a screenshot for whoever reads CI.
    if result.is_err() {
        shot(&c, &shots, "failed").await;
    }
    let _ = c.close().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

async fn steps(
    c: &Client,
    url: &str,
    shots: &Path,
    downloads: &Path,
    tmp: &Path,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    use futures_like::catch;
    catch(async {
        // 1. Which products use UDP 1812?
        c.goto(&format!("{url}#/catalog"))
            .await
            .expect("catalog page");
        let search = find(c, "[data-test=search-input]").await;
        search.send_keys("1812").await.expect("typed");
        let hits = text_until(c, "[data-test=search-results]", "RADIUS hits", |t| {
            t.contains("cisco-ise") || t.contains("Cisco ISE")
        })
        .await;
        assert!(hits.to_lowercase().contains("radius"), "{hits}");
        shot(c, shots, "01-search-1812").await;

        // 2. Open the product.
        find(c, "a[data-test=product-link][href='#/products/cisco-ise']")
            .await
            .click()
            .await
            .expect("product opens");
        let title = text_until(c, "[data-test=product-title]", "the product", |t| {
            t.contains("ISE")
        })
        .await;
        assert!(title.contains("ISE"));
        let reqs = text_until(c, "[data-test=requirements]", "requirements", |t| {
            t.contains("1812")
        })
        .await;
        assert!(reqs.contains("1812"), "the RADIUS requirement is listed");
        shot(c, shots, "02-product").await;

        // 3. A new deployment from the skeleton, an error shown inline, fixed.
        c.goto(&format!("{url}#/deployments"))
            .await
            .expect("deployments page");
        find(c, "[data-test=new-deployment]")
            .await
            .click()
            .await
            .expect("new");
        find(c, "[data-test=deployment-name]")
            .await
            .send_keys("lab-1")
            .await
            .expect("name typed");
        find(c, "input[data-test=pick-product][value=strongdm]")
            .await
            .click()
            .await
            .expect("product picked");
        find(c, "[data-test=skeleton]")
            .await
            .click()
            .await
            .expect("skeleton");
        let start = Instant::now();
        loop {
            let v = find(c, "[data-test=yaml-editor]")
                .await
                .prop("value")
                .await
                .expect("editor value")
                .unwrap_or_default();
            if v.contains("strongdm") {
                break;
            }
            assert!(
                start.elapsed() < WAIT,
                "the skeleton never filled the editor"
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let good = example("strongdm.yaml");
        assert!(
            good.contains("10.20.0.10"),
            "the example names the relay's address"
        );
        let bad = good.replacen("10.20.0.10", "10.20.0.310", 1);
        let bad_line = bad
            .lines()
            .position(|l| l.contains("10.20.0.310"))
            .expect("the bad line")
            + 1;
        paste(c, "[data-test=yaml-editor]", &bad).await;
        let diag = text_until(c, "[data-test=diagnostics]", "the bad address", |t| {
            t.contains("10.20.0.310")
        })
        .await;
        let marked = find(c, "[data-test=diagnostic]")
            .await
            .attr("data-line")
            .await
            .expect("data-line")
            .unwrap_or_default();
        assert_eq!(
            marked,
            bad_line.to_string(),
            "the diagnostic points at its line: {diag}"
        );
        shot(c, shots, "03-error-inline").await;
        paste(c, "[data-test=yaml-editor]", &good).await;
        text_until(c, "[data-test=check-status]", "ok after the fix", |t| {
            let t = t.to_lowercase();
            t.contains("ok") || t.contains("no error")
        })
        .await;
        find(c, "[data-test=save]")
            .await
            .click()
            .await
            .expect("saved");

        // 4. The plan as a table and a diagram.
        let start = Instant::now();
        while !c
            .current_url()
            .await
            .expect("url")
            .as_str()
            .contains("#/deployments/lab-1")
        {
            assert!(start.elapsed() < WAIT, "saving did not open the deployment");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let plan = text_until(c, "[data-test=plan-table]", "the planned flows", |t| {
            t.contains("sdm-gw-1") && t.contains("5000")
        })
        .await;
        assert!(plan.contains("443"), "{plan}");
        let svg = find(c, "[data-test=diagram-svg]").await;
        let boxes = svg
            .find_all(css("rect"))
            .await
            .expect("boxes in the diagram")
            .len();
        assert!(boxes >= 4, "the diagram draws the hosts ({boxes} boxes)");
        shot(c, shots, "04-plan-and-diagram").await;

        // 5. Download the gateway's nftables file.
        find(c, "[data-test=download-format] option[value=nftables]")
            .await
            .click()
            .await
            .expect("format chosen");
        find(c, "[data-test=for-host] option[value='sdm-gw-1']")
            .await
            .click()
            .await
            .expect("host chosen");
        find(c, "[data-test=download]")
            .await
            .click()
            .await
            .expect("download");
        let file = wait_for_download(downloads).await;
        let text = std::fs::read_to_string(&file).expect("downloaded file");
        assert!(
            text.starts_with("#!/usr/sbin/nft -f"),
            "{}",
            &text[..text.len().min(200)]
        );
        assert!(
            text.contains("5000"),
            "the gateway's ingress is in the file"
        );
        nft_check(&file);
        shot(c, shots, "05-downloaded").await;

        // 6. The downloaded file audited back as the gateway's ruleset:
        // every flow it must accept is allowed, by a rule at a line.
        c.goto(&format!("{url}#/deployments/lab-1/audit"))
            .await
            .expect("audit page");
        find(c, "[data-test=audit-upload]")
            .await
            .send_keys(&file.display().to_string())
            .await
            .expect("ruleset chosen");
        find(c, "[data-test=audit-as] option[value='sdm-gw-1']")
            .await
            .click()
            .await
            .expect("host chosen");
        find(c, "[data-test=audit-submit]")
            .await
            .click()
            .await
            .expect("audit");
        let summary = text_until(c, "[data-test=audit-summary]", "the verdicts' count", |t| {
            t.contains("allowed")
        })
        .await;
        assert!(
            !summary.contains("blocked") || summary.contains("0 blocked"),
            "{summary}"
        );
        let verdicts = text_until(c, "[data-test=verdicts]", "a rule's line", |t| {
            t.contains("allowed") && t.contains(".nft:")
        })
        .await;
        assert!(
            verdicts.contains("5000"),
            "the relay's flow is judged: {verdicts}"
        );
        shot(c, shots, "06-audit").await;

        // 7. Two verification reports; what changed between them.
        let first = tmp.join("verify-1.json");
        let second = tmp.join("verify-2.json");
        let relay = |state| {
            verify_result(
                "sdm-relay-1",
                &json!("0"),
                &[
                    ("sdm-gw-1", "203.0.113.10", 5000, state),
                    ("pg-1", "10.30.0.21", 5432, "verified"),
                ],
            )
            .to_string()
        };
        std::fs::write(&first, relay("verified")).expect("report 1");
        std::fs::write(&second, relay("filtered")).expect("report 2");
        c.goto(&format!("{url}#/deployments/lab-1/reports"))
            .await
            .expect("reports page");
        for (n, f) in [(1, &first), (2, &second)] {
            find(c, "[data-test=report-upload]")
                .await
                .send_keys(&f.display().to_string())
                .await
                .expect("file chosen");
            find(c, "[data-test=report-submit]")
                .await
                .click()
                .await
                .expect("upload");
            text_until(c, "[data-test=report-history]", "the new report", |t| {
                t.matches("verify-").count() >= n
            })
            .await;
        }
        let changes = text_until(c, "[data-test=changes]", "the changed path", |t| {
            t.contains("filtered")
        })
        .await;
        assert!(
            changes.contains("5000") && changes.contains("verified"),
            "{changes}"
        );
        shot(c, shots, "07-reports-changes").await;
    })
    .await
}

async fn wait_for_download(dir: &Path) -> PathBuf {
    let start = Instant::now();
    loop {
        let done: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("downloads folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "nft"))
            .collect();
        if let Some(p) = done.into_iter().next() {
            return p;
        }
        assert!(start.elapsed() < WAIT, "no .nft file was downloaded");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// `nft -c` reads the file as the kernel's tool would (root only).
fn nft_check(file: &Path) {
    let root = unsafe { libc::geteuid() } == 0;
    let nft = Path::new("/usr/sbin/nft").exists();
    if !(root && nft) {
        assert!(!in_ci(), "CI=true: nft -c must check the downloaded file");
        eprintln!("serve_browser: nft -c skipped (needs root and nftables)");
        return;
    }
    let out = Command::new("nft")
        .arg("-c")
        .arg("-f")
        .arg(file)
        .output()
        .expect("nft runs");
    assert!(
        out.status.success(),
        "nft -c refused the downloaded file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a step future and turns a panic into an error, so the test can
/// take a screenshot of the page that failed before it fails.
mod futures_like {
    use std::any::Any;
    use std::future::Future;
    use std::panic::AssertUnwindSafe;

    pub async fn catch<F: Future<Output = ()>>(f: F) -> Result<(), Box<dyn Any + Send>> {
        let f = AssertUnwindSafe(f);
        let mut f = std::pin::pin!(f);
        std::future::poll_fn(move |cx| {
            match std::panic::catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(cx))) {
                Ok(std::task::Poll::Ready(())) => std::task::Poll::Ready(Ok(())),
                Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
                Err(e) => std::task::Poll::Ready(Err(e)),
            }
        })
        .await
    }
}

#[test]
fn a_user_walks_from_a_port_to_a_proven_deployment() {
    if !have_browser() {
        return;
    }
    // SQLite, and PostgreSQL when PORTPLAN_TEST_POSTGRES names a server
    // (required under CI=true). The server (and its database) is made and
    // dropped outside the async runtime the browser is driven from.
    for db in databases() {
        eprintln!("serve_browser: on {}", db.name());
        let server = Launch::new(&db).start();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(walk(&db, &format!("{}/", server.base)));
        drop(rt);
        drop(server);
    }
}

//! `portplan check` on bad deployment files: each error class gives its
//! message at file:line:column and exit 2; warnings alone exit 0; nothing panics.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Writes `text` to a temporary `dep.yaml` and runs `portplan check` on it.
fn check(text: &str) -> (i32, String, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dep.yaml");
    std::fs::write(&path, text).unwrap();
    let out = portplan().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Keep the folder alive until the command ran; return the path for messages.
    let keep = path.clone();
    drop(dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
        keep,
    )
}

/// Asserts exit 2 and a diagnostic `dep.yaml:LINE:COL: error: MSG`.
fn expect_error(text: &str, line_col: &str, msg: &str) -> String {
    let (code, _, err, path) = check(text);
    assert_eq!(code, 2, "{err}");
    let want = format!("{}:{line_col}: error: {msg}", path.display());
    assert!(err.contains(&want), "want `{want}` in:\n{err}");
    err
}

const IGEL: &str = "name: t
hosts:
  ums-1: 10.1.10.20
products:
  - product: igel-ums
    roles:
      ums-server: [ums-1]
      ums-console: [10.1.50.0/24]
      ums-web-app: [10.1.50.0/24]
      os11-device: [10.64.0.0/16]
      os12-device: [10.65.0.0/16]
";

#[test]
fn a_clean_file_exits_zero_and_says_so() {
    let (code, out, err, _) = check(IGEL);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok: 1 product"), "{out}");
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn unknown_product_role_feature_parameter_choice_and_requirement() {
    let err = expect_error(
        &IGEL.replace("product: igel-ums", "product: igel-um"),
        "5:14",
        "unknown product `igel-um`",
    );
    assert!(err.contains("did you mean `igel-ums`?"), "{err}");

    let err = expect_error(
        &IGEL.replace("ums-console:", "ums-consol:"),
        "8:7",
        "unknown role of igel-ums `ums-consol`",
    );
    assert!(err.contains("did you mean `ums-console`?"), "{err}");

    let with = |extra: &str| format!("{IGEL}{extra}");
    let err = expect_error(
        &with("    features: [high-availabilty]\n"),
        "12:16",
        "unknown feature of igel-ums `high-availabilty`",
    );
    assert!(err.contains("did you mean `high-availability`?"), "{err}");
    let err = expect_error(
        &with("    parameters: {web_prot: 8444}\n"),
        "12:18",
        "unknown parameter of igel-ums `web_prot`",
    );
    assert!(err.contains("did you mean `web_port`?"), "{err}");
    let err = expect_error(
        &with("    choices: {database: postgres}\n"),
        "12:25",
        "unknown option of choice `database` `postgres`",
    );
    assert!(err.contains("did you mean `postgresql`?"), "{err}");
    expect_error(
        &with("    choices: {db: mssql}\n"),
        "12:15",
        "unknown choice of igel-ums `db`",
    );
    let err = expect_error(
        &with("    overrides:\n      - {requirement: clients-ums-servr, target: ums-1, ports: [9443]}\n"),
        "13:23",
        "unknown requirement of igel-ums `clients-ums-servr`",
    );
    assert!(err.contains("did you mean `clients-ums-server`?"), "{err}");
}

#[test]
fn a_feature_whose_parameter_has_no_value_names_it() {
    let text = "name: t
products:
  - product: privileged-identity
    features: [bmc-remedy]
    roles:
      pi-server: [10.5.0.10]
      user-workstation: [10.5.100.0/24]
      api-client: [10.5.101.0/28]
      sql-datastore: [10.5.0.11]
      bmc-remedy: [10.5.2.10]
";
    let err = expect_error(
        text,
        "4:16",
        "privileged-identity feature `bmc-remedy` needs parameter `bmc_ar_port`",
    );
    assert!(err.contains("no default and no value"), "{err}");
    assert!(err.contains("parameters: {bmc_ar_port: PORT}"), "{err}");
    let fixed = text.replace(
        "features: [bmc-remedy]",
        "features: [bmc-remedy]\n    parameters: {bmc_ar_port: 46262}",
    );
    assert_eq!(check(&fixed).0, 0);
}

#[test]
fn parameter_outside_allowed_and_role_without_addresses() {
    let text = "name: t
products:
  - product: privileged-identity
    features: [windows-targets]
    parameters: {rpc_dynamic_ports: 100-2000}
    roles:
      pi-server: [10.5.0.10]
      user-workstation: []
      windows-target: [10.6.0.0/23]
";
    let (code, _, err, _) = check(text);
    assert_eq!(code, 2);
    assert!(
        err.contains(":5:37: error: parameter `rpc_dynamic_ports` = 100-2000 is outside the allowed 1025-65535"),
        "{err}"
    );
    assert!(
        err.contains(
            ":8:25: error: role `user-workstation` of privileged-identity has no addresses"
        ),
        "{err}"
    );
}

#[test]
fn unresolvable_entries_are_located() {
    let err = expect_error(
        &IGEL.replace("ums-server: [ums-1]", "ums-server: [ums-2]"),
        "7:20",
        "unknown host or network `ums-2`",
    );
    assert!(err.contains("did you mean `ums-1`?"), "{err}");
    expect_error(
        &IGEL.replace("10.64.0.0/16", "10.64.0.0/33"),
        "10:21",
        "cannot resolve the entry: `10.64.0.0/33` is not an address",
    );
}

#[test]
fn unplaced_roles_warn_and_name_what_they_disable() {
    let text = IGEL.replace("      os12-device: [10.65.0.0/16]\n", "");
    let (code, out, err, _) = check(&text);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(":6:5: warning: role `os12-device` of igel-ums is not placed"),
        "{err}"
    );
    assert!(err.contains("os12-device-unified-protocol"), "{err}");
    assert!(out.contains("1 warning"), "{out}");
}

#[test]
fn colocated_load_balancer_moves_the_server_port() {
    // The IGEL rule: on one host with the HA load balancer the UMS Server
    // leaves 30001 to it and listens on 30002, so OS 11 traffic does not clash.
    let ha = IGEL.replace(
        "      os12-device: [10.65.0.0/16]\n",
        "      ha-lb: [ums-1]\n",
    ) + "    features: [high-availability]\n";
    let (code, _, err, _) = check(&ha);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("conflict"), "{err}");
    let out = portplan()
        .args(["plan", "--format", "csv", "-"])
        .write_stdin(ha.clone())
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        !csv.contains("os11-device-ums-server"),
        "separate-only requirement left out:\n{csv}"
    );
    assert!(csv.contains("igel-ums/os11-device-ha-lb"), "{csv}");

    // OS 12 registration still targets the server's device port: a real clash
    // the catalog notes, reported with both requirements.
    let both = ha.replace(
        "      ha-lb: [ums-1]\n",
        "      ha-lb: [ums-1]\n      os12-device: [10.65.0.0/16]\n",
    );
    let err = expect_error(
        &both,
        "7:20",
        "port conflict on `ums-1`: tcp/30001 is a listener of igel-ums/ha-lb (os11-device-ha-lb) and of igel-ums/ums-server (os12-device-registration)",
    );
    assert!(
        err.contains("help: put the roles on different hosts"),
        "{err}"
    );
}

#[test]
fn two_products_listening_on_one_host_and_port_conflict() {
    let text = "name: t
hosts:
  mgmt-1: 10.8.0.10
products:
  - product: xclarity-orchestrator
    roles:
      lxco: [mgmt-1]
      browser: [10.8.100.0/24]
      lxca: [10.8.1.10]
      dns-server: [10.8.0.2]
  - product: privileged-identity
    roles:
      pi-server: [mgmt-1]
      user-workstation: [10.8.100.0/24]
      api-client: [10.8.101.0/28]
      sql-datastore: [10.8.0.11]
";
    expect_error(
        text,
        "13:19",
        "port conflict on `mgmt-1`: tcp/443 is a listener of xclarity-orchestrator/lxco (browser-lxco-https, lxca-lxco-https) and of privileged-identity/pi-server (web-access)",
    );
}

#[test]
fn overlapping_claims_warn() {
    let text = IGEL.replace("ums-console: [10.1.50.0/24]", "ums-console: [10.1.0.0/16]");
    let (code, _, err, _) = check(&text);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(":7:20: warning: `10.1.10.20` (igel-ums/ums-server) lies inside `10.1.0.0/16` (igel-ums/ums-console)"),
        "{err}"
    );
}

#[test]
fn malformed_files_give_located_errors() {
    let (code, _, err, _) =
        check("name: t\nproducts:\n  - product: igel-ums\n    roles: {ums-server: [10.0.0.1]\n");
    assert_eq!(code, 2);
    assert!(err.contains("dep.yaml:"), "{err}");
    assert!(err.contains("error:"), "{err}");

    let err = expect_error(
        "name: t\nproducts:\n  - product: igel-ums\n    rolez: {}\n",
        "4:5",
        "products[0]: unknown field `rolez`",
    );
    assert!(err.contains("expected one of"), "{err}");
    let (code, _, err, _) = check("name: t\nproducts:\n  - product: igel-ums\n    parameters: {web_port: 70000}\n    roles: {}\n");
    assert_eq!(code, 2);
    assert!(err.contains("70000") && err.contains("1..=65535"), "{err}");
    let (code, _, err, _) = check("");
    assert_eq!(code, 2);
    assert!(err.contains("the file is empty"), "{err}");
    let out = portplan()
        .args(["check", "/nonexistent/dep.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("/nonexistent/dep.yaml: error: cannot read the file"));
}

#[test]
fn stdin_is_read_with_a_dash() {
    let out = portplan()
        .args(["check", "-"])
        .write_stdin(IGEL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<stdin>: ok"));
}

#[test]
fn mangled_files_never_panic() {
    // Every prefix and a few byte-level mutations of a real example: the
    // answer is always exit 0 or 2 with a message, never a crash.
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/igel-ums.yaml"),
    )
    .unwrap();
    let mut cases: Vec<String> = (0..src.len())
        .step_by(37)
        .map(|i| src[..i].to_string())
        .collect();
    for (i, c) in [(120, ':'), (200, '['), (260, '-'), (330, '\t'), (400, '{')] {
        let mut s = src.clone().into_bytes();
        if i < s.len() {
            s[i] = c as u8;
        }
        cases.push(String::from_utf8_lossy(&s).into_owned());
    }
    for case in cases {
        let (code, _, err, _) = check(&case);
        assert!(code == 0 || code == 2, "exit {code}: {err}");
        if code == 2 {
            assert!(err.contains("error"), "{err}");
        }
    }
}

#[test]
fn a_choice_whose_role_is_not_placed_warns_with_the_requirement() {
    let text = format!("{IGEL}    choices: {{database: oracle}}\n");
    let (code, _, err, _) = check(&text);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: role `database-server` of igel-ums is not placed: its flows of ums-server-oracle are left out"),
        "{err}"
    );
}

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
        "role entry of igel-ums/os11-device: `10.64.0.0/33`: the prefix /33 is longer than IPv4 allows",
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

// ---- Issue 10: every error in one run, no cascades, actionable warnings,
// ---- and bad input (addresses, YAML syntax, flags) explained where it is.

const SDM: &str = include_str!("../../../examples/strongdm.yaml");

/// Lines of stderr that are diagnostics of `severity` ("error"/"warning").
fn count(err: &str, severity: &str) -> usize {
    err.lines()
        .filter(|l| l.contains(&format!(": {severity}: ")))
        .count()
}

#[test]
fn several_independent_errors_are_all_reported_in_one_run_and_a_typo_once() {
    let text = "name: t
hosts:
  pg-1: 10.30.0.21
  gw-1: 203.0.113.10
  relay-1: 10.20.0.10
  bad-1: 10.30.0.0/33
products:
  - product: strongdm
    roles:
      client: [10.50.0.0/16]
      gatway: [gw-1]
      relay: [relay-1]
      api-script: [10.60.4.0/24]
      resource: [pg-1]
  - product: privileged-identity
    features: [bmc-remedy]
    roles:
      pi-server: [10.5.0.10]
      user-workstation: [10.5.100.0/24]
      api-client: [10.5.101.0/28]
      sql-datastore: [10.5.0.11]
      bmc-remedy: [10.5.2.10]
";
    let (code, _, err, path) = check(text);
    assert_eq!(code, 2, "{err}");
    let at = |lc: &str| format!("{}:{lc}: error: ", path.display());
    // The bad address, with its help line.
    assert!(err.contains(&at("6:10")), "{err}");
    assert!(err.contains("IPv4 prefixes go up to /32"), "{err}");
    // The role typo: once, with the suggestion, and nothing that follows
    // from `gateway` being unplaced.
    assert!(
        err.contains(&format!("{}unknown role of strongdm `gatway`", at("11:7"))),
        "{err}"
    );
    assert!(err.contains("did you mean `gateway`?"), "{err}");
    assert_eq!(err.matches("gatway").count(), 1, "{err}");
    assert!(
        !err.contains("role `gateway` of strongdm is not placed"),
        "{err}"
    );
    // Both missing parameters, in both products; StrongDM's names both
    // requirements that need it (gateway-resource only because the typo
    // was checked as `gateway`).
    assert!(err.contains("strongdm requirements `relay-resource`, `gateway-resource` need parameter `resource_port`"), "{err}");
    assert!(
        err.contains("privileged-identity feature `bmc-remedy` needs parameter `bmc_ar_port`"),
        "{err}"
    );
    assert_eq!(count(&err, "error"), 4, "{err}");
    assert!(err.contains("portplan: 4 errors"), "{err}");
}

#[test]
fn a_missing_port_names_every_requirement_and_destination_and_the_yaml() {
    let text = SDM
        .replace("    parameters:\n", "")
        .replace("      resource_port: 5432       # the database resource; the bastion is overridden below\n", "");
    let text = &text[..text.find("    overrides:").unwrap()];
    let err = expect_error(
        text,
        "16:14",
        "strongdm requirements `relay-resource`, `gateway-resource` need parameter `resource_port`",
    );
    assert!(err.contains("no port for bastion-1, pg-1"), "{err}");
    assert!(err.contains("`parameters: {resource_port: PORT}`"), "{err}");
    for (r, t) in [
        ("relay-resource", "pg-1"),
        ("relay-resource", "bastion-1"),
        ("gateway-resource", "pg-1"),
        ("gateway-resource", "bastion-1"),
    ] {
        let entry = format!("{{requirement: {r}, target: {t}, ports: [PORT]}}");
        assert!(err.contains(&entry), "{entry} in {err}");
    }
    assert_eq!(count(&err, "error"), 1, "{err}");
}

#[test]
fn typos_of_a_role_parameter_or_feature_are_one_error_each() {
    for (from, to, line_col, msg, meant) in [
        (
            "      gateway: [",
            "      gatway: [",
            "21:7",
            "unknown role of strongdm `gatway`",
            "gateway",
        ),
        (
            "resource_port: 5432",
            "resorce_port: 5432",
            "18:7",
            "unknown parameter of strongdm `resorce_port`",
            "resource_port",
        ),
    ] {
        let err = expect_error(&SDM.replace(from, to), line_col, msg);
        assert!(err.contains(&format!("did you mean `{meant}`? (the rest of the file was checked as if it said `{meant}`)")), "{err}");
        assert_eq!(count(&err, "error"), 1, "{err}");
        assert_eq!(count(&err, "warning"), 0, "{err}");
    }
    let text = SDM.replace(
        "    parameters:\n",
        "    features: [secret-stor]\n    parameters:\n      secret_store_port: 8200\n",
    );
    let err = expect_error(&text, "17:16", "unknown feature of strongdm `secret-stor`");
    assert!(err.contains("did you mean `secret-store`?"), "{err}");
    // Checked as `secret-store`: the one thing left is its unplaced role
    // (which also covers the parameter its flows would use).
    assert!(
        err.contains("role `secret-store` of strongdm is not placed"),
        "{err}"
    );
    assert!(!err.contains("is set but no planned flow uses it"), "{err}");
    assert_eq!(count(&err, "error"), 1, "{err}");
    assert_eq!(count(&err, "warning"), 1, "{err}");
}

#[test]
fn an_unplaced_role_says_which_switch_silences_it() {
    // Needed by a core requirement: no feature can; say so.
    let (code, _, err, _) = check(&SDM.replace("      api-script: [ci-runners]\n", ""));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: role `api-script` of strongdm is not placed"),
        "{err}"
    );
    assert!(
        err.contains("place it: `roles: {api-script: [HOST or CIDR]}`"),
        "{err}"
    );
    assert!(
        err.contains("no feature switches off `api-script-app`"),
        "{err}"
    );
    // Needed by a feature the file enables: name it.
    let text = SDM.replace(
        "    parameters:\n",
        "    features: [secret-store]\n    parameters:\n      secret_store_port: 8200\n",
    );
    let (code, _, err, _) = check(&text);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("role `secret-store` of strongdm is not placed"),
        "{err}"
    );
    assert!(
        err.contains("or remove `secret-store` from `features:`"),
        "{err}"
    );
    // Needed by one option of a choice: name the others.
    let (_, _, err, _) = check(&format!("{IGEL}    choices: {{database: oracle}}\n"));
    assert!(
        err.contains("choose another option: `choices: {database: OPTION}` with OPTION one of"),
        "{err}"
    );
}

#[test]
fn a_prefix_longer_than_the_family_allows_gets_a_help_line() {
    let err = expect_error(
        &SDM.replace("pg-1: 10.30.0.21", "pg-1: 10.30.0.0/33"),
        "10:9",
        "hosts `pg-1`: `10.30.0.0/33`: the prefix /33 is longer than IPv4 allows",
    );
    assert!(err.contains("help: IPv4 prefixes go up to /32"), "{err}");
    let err = expect_error(
        &SDM.replace("client: [staff-laptops]", "client: [2001:db8::/129]"),
        "20:16",
        "role entry of strongdm/client: `2001:db8::/129`: the prefix /129 is longer than IPv6 allows",
    );
    assert!(err.contains("IPv6 prefixes go up to /128"), "{err}");
    expect_error(
        &SDM.replace("pg-1: 10.30.0.21", "pg-1: 10.30.0.256"),
        "10:9",
        "hosts `pg-1`: `10.30.0.256` is not an IPv4 address: 256 is above 255",
    );
}

#[test]
fn host_bits_under_a_prefix_warn_and_name_the_network() {
    let (code, out, err, path) =
        check(&SDM.replace("ci-runners: 10.60.4.0/24", "ci-runners: 10.60.4.1/24"));
    assert_eq!(code, 0, "{err}");
    let want = format!(
        "{}:14:15: warning: networks `ci-runners`: `10.60.4.1/24` has host bits set; it is read as the network `10.60.4.0/24`",
        path.display()
    );
    assert!(err.contains(&want), "want `{want}` in:\n{err}");
    assert!(err.contains("help: write `10.60.4.0/24` for the network, or `10.60.4.1/32` (or `10.60.4.1`) for the one host"), "{err}");
    assert!(out.contains("1 warning"), "{out}");
    // In a role entry and an override target too.
    let (_, _, err, _) = check(&SDM.replace("client: [staff-laptops]", "client: [10.50.0.1/16]"));
    assert!(
        err.contains(
            ":20:16: warning: role entry of strongdm/client: `10.50.0.1/16` has host bits set"
        ),
        "{err}"
    );
}

#[test]
fn yaml_syntax_errors_point_at_the_cause() {
    // An unclosed `[`: where it opened, not where the parser gave up.
    let err = expect_error(
        &SDM.replace(
            "gateway: [sdm-gw-1, sdm-gw-2]",
            "gateway: [sdm-gw-1, sdm-gw-2",
        ),
        "21:16",
        "this `[` is never closed",
    );
    assert!(err.contains("close it with `]` on line 21"), "{err}");
    // Indentation, more and less than the siblings.
    expect_error(
        &SDM.replace("      relay: ", "        relay: "),
        "22:9",
        "indentation: `relay` is indented by 8 spaces but its sibling `gateway` (line 21) by 6",
    );
    expect_error(
        &SDM.replace("      relay: ", "     relay: "),
        "22:6",
        "indentation: `relay` is indented by 5 spaces but its sibling `client` (line 20) by 6",
    );
    let err = expect_error(
        &SDM.replace("      relay: ", "    relay: "),
        "22:5",
        "products[0]: unknown field `relay`",
    );
    assert!(err.contains("this looks like an indentation problem: `relay` (line 22) is indented by 4 spaces, `gateway` above it by 6"), "{err}");
    // A tab.
    let err = expect_error(
        &SDM.replace("      relay: ", "\t    relay: "),
        "22:1",
        "line 22: a tab in the indentation",
    );
    assert!(err.contains("YAML indents with spaces only"), "{err}");
    // A key given twice keeps one silently in YAML readers: an error here.
    let err = expect_error(
        &SDM.replace(
            "      relay: [sdm-relay-1]\n",
            "      relay: [sdm-relay-1]\n      relay: [10.20.0.11]\n",
        ),
        "23:7",
        "`relay` is given twice in the same mapping (first on line 22)",
    );
    assert!(err.contains("keep one `relay:`"), "{err}");
    // An unclosed quote: where it opened.
    let err = expect_error(
        &SDM.replace("relay: [sdm-relay-1]", "relay: \"sdm-relay-1"),
        "22:14",
        "this quote is never closed",
    );
    assert!(
        err.contains("end the value with the same quote on line 22"),
        "{err}"
    );
    // A byte-order mark is no error.
    assert_eq!(check(&format!("\u{feff}{SDM}")).0, 0);
}

#[test]
fn out_of_range_values_and_empty_lists_are_located_errors() {
    expect_error(
        &SDM.replace("resource_port: 5432", "resource_port: 70000"),
        "18:22",
        "products[0].parameters.resource_port: port 70000 is outside 1..=65535: a TCP/UDP port is a number from 1 to 65535",
    );
    expect_error(
        &SDM.replace(
            "target: bastion-1, ports: [22] }\n      - { requirement: gateway",
            "target: bastion-1, ports: [30-20] }\n      - { requirement: gateway",
        ),
        "26:67",
        "products[0].overrides[0].ports[0]: port range 30-20 runs backwards: write 20-30",
    );
    let err = expect_error(
        &SDM.replace("relay: [sdm-relay-1]", "relay: []"),
        "22:14",
        "role `relay` of strongdm has no addresses",
    );
    assert!(
        !err.contains("role `relay` of strongdm is not placed"),
        "{err}"
    );
    let err = expect_error(
        &SDM.replace("product: strongdm", "product: strongdn"),
        "16:14",
        "unknown product `strongdn`",
    );
    assert!(
        err.contains(
            "did you mean `strongdm`? (the rest of the file was checked as if it said `strongdm`)"
        ),
        "{err}"
    );
    assert_eq!(count(&err, "error"), 1, "{err}");
    // Checked as `strongdm`, so a second mistake in that entry shows too.
    let err = expect_error(
        &SDM.replace("product: strongdm", "product: strongdn")
            .replace("relay: [sdm-relay-1]", "relay: [sdm-relay-9]"),
        "22:15",
        "unknown host or network `sdm-relay-9`",
    );
    assert_eq!(count(&err, "error"), 2, "{err}");
    // A feature listed twice.
    let (code, _, err, _) = check(&SDM.replace(
        "    parameters:\n",
        "    without: [port-overrides, port-overrides]\n    parameters:\n",
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(":17:31: warning: `port-overrides` is listed twice in `without:`"),
        "{err}"
    );
    let err = expect_error(
        &SDM.replace(
            "target: bastion-1, ports: [22] }\n      - { requirement: gateway",
            "target: 10.30.0.400, ports: [22] }\n      - { requirement: gateway",
        ),
        "26:48",
        "override target: `10.30.0.400` is not an IPv4 address: 400 is above 255",
    );
    assert_eq!(count(&err, "error"), 1, "{err}");
}

#[test]
fn a_format_or_host_name_close_to_a_real_one_is_suggested() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/strongdm.yaml");
    let run = |args: &[&str]| {
        let out = portplan().args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, err) = run(&["plan", example, "-f", "asa"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invalid value 'asa' for '--format <FORMAT>'"),
        "{err}"
    );
    assert!(err.contains("did you mean `cisco-asa`?"), "{err}");
    assert!(err.contains("[possible values: table,"), "{err}");
    let (_, err) = run(&["plan", example, "-f", "cisco-ios,terraform"]);
    assert!(
        err.contains("did you mean one of `aws-terraform`, `azure-terraform`, `gcp-terraform`?"),
        "{err}"
    );
    let (code, err) = run(&["audit", example, "--rules", example, "-f", "asa"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `cisco-asa`?"), "{err}");
    // An address on the command line gets the same help as in the file.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("asa.cfg");
    let rules = rules.to_str().unwrap();
    assert_eq!(run(&["plan", example, "-f", "cisco-asa", "-o", rules]).0, 0);
    let (code, err) = run(&["audit", example, "--rules", rules, "--as", "10.0.0.1/40"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("IPv4 prefixes go up to /32"), "{err}");
    let (code, err) = run(&["plan", example, "--for-host", "sdm-gw1"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("did you mean `sdm-gw-1`?"), "{err}");
    // The --help list of values stays.
    let out = portplan().args(["plan", "--help"]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("cisco-asa"));
}

#[test]
fn an_override_of_a_requirement_left_out_says_why_and_how() {
    let text = SDM.replace(
        "      resource: [pg-1, bastion-1]\n",
        "      resource: [pg-1, bastion-1]\n      secret-store: [10.30.0.50]\n",
    )
        + "      - { requirement: relay-secret-store, target: 10.30.0.50, ports: [8200] }\n";
    let (code, _, err, path) = check(&text);
    assert_eq!(code, 0, "{err}");
    let want = format!(
        "{}:29:52: warning: override of `relay-secret-store` changes nothing: its feature `secret-store` is off",
        path.display()
    );
    assert!(err.contains(&want), "want `{want}` in:\n{err}");
    assert!(
        err.contains("help: enable it: `features: [secret-store]`, or remove the override"),
        "{err}"
    );
}

#[test]
fn more_indentation_mistakes_are_named_as_such() {
    // A key of a list item, compared with the item's first key (after `- `).
    expect_error(
        &SDM.replace("  - product: strongdm", " - product: strongdm"),
        "17:5",
        "indentation: `parameters` is indented by 4 spaces but its sibling `product` (line 16) by 3",
    );
    // A list item less indented than the items before it.
    expect_error(
        &SDM.replace("      - { requirement: gateway-resource", "    - { requirement: gateway-resource"),
        "27:5",
        "indentation: `- { requirement: gateway-resource, targe...` is indented by 4 spaces but its sibling",
    );
    // A required key pushed out of its entry.
    let err = expect_error(
        &SDM.replace("    roles:", "  roles:"),
        "16:5",
        "products[0]: missing field `roles`",
    );
    assert!(err.contains("this looks like an indentation problem: `roles:` is on line 19 indented by 2 spaces, the keys of this entry (line 16) by 4"), "{err}");
    // A section pulled under the one before: it has no value of its own.
    let err = expect_error(
        &SDM.replace("\nnetworks:", "\n  networks:"),
        "12:12",
        "hosts.networks: invalid type: unit value",
    );
    assert!(err.contains("`networks:` has no value: write one after it, or indent the lines that belong to it deeper"), "{err}");
}

//! `portplan plan` as a user runs it: the four built-in formats (snapshots
//! of a reviewed example), every render format on every example, host
//! formats, --for-host, --strict, -o.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env("NO_COLOR", "1");
    c.current_dir(root());
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = portplan().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        err,
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// A deployment file `dep.yaml` in `dir`.
fn write_dep(dir: &Path, text: &str) -> PathBuf {
    let dep = dir.join("dep.yaml");
    std::fs::write(&dep, text).unwrap();
    dep
}

fn examples() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| format!("examples/{}", e.file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_checks_clean_and_plans() {
    let ex = examples();
    assert!(ex.len() >= 5, "{ex:?}");
    for e in &ex {
        let (code, out, err) = run(&["check", e]);
        assert_eq!(code, 0, "{e}: {err}");
        assert!(!err.contains("warning"), "{e} should check clean:\n{err}");
        assert!(out.contains(": ok:"), "{out}");
        let table = ok(&["plan", e]);
        assert!(table.starts_with("FROM"), "{table}");
    }
}

#[test]
fn strongdm_example_in_the_four_plan_formats() {
    let e = "examples/strongdm.yaml";
    insta::assert_snapshot!("plan_strongdm_table", ok(&["plan", e]));
    insta::assert_snapshot!("plan_strongdm_csv", ok(&["plan", e, "--format", "csv"]));
    insta::assert_snapshot!("plan_strongdm_md", ok(&["plan", e, "--format", "md"]));
    let json = ok(&["plan", e, "--format", "json"]);
    insta::assert_snapshot!("plan_strongdm_json", json);
}

#[test]
fn json_is_complete_and_every_flow_has_a_reason() {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["plan", "examples/strongdm.yaml", "-f", "json"])).unwrap();
    assert_eq!(v["deployment"], "strongdm-datacenter");
    let flows = v["flows"].as_array().unwrap();
    assert!(!flows.is_empty());
    for f in flows {
        let because = f["because"].as_array().unwrap();
        assert!(!because.is_empty());
        for b in because {
            assert!(b["source"].as_str().unwrap().contains(".txt:"), "{b}");
        }
    }
    // The per-target override gives the bastion its own flow on 22.
    assert!(flows
        .iter()
        .any(|f| f["dst"]["labels"][0] == "bastion-1" && f["ports"][0] == 22));
}

#[test]
fn csv_has_the_documented_columns() {
    let csv = ok(&["plan", "examples/igel-ums.yaml", "--format", "csv"]);
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "src_name,src_address,dst_name,dst_address,protocol,ports,service,required,scope,requirements,features,page_citation,notes"
    );
    assert!(
        csv.contains(",broadcast,"),
        "the scan broadcast is kept:\n{csv}"
    );
}

#[test]
fn for_host_filters_and_rejects_unknown_hosts() {
    let all = ok(&["plan", "examples/strongdm.yaml"]);
    let one = ok(&["plan", "examples/strongdm.yaml", "--for-host", "pg-1"]);
    assert!(one.lines().count() < all.lines().count());
    assert!(one.contains("pg-1") && one.contains("5432"), "{one}");
    assert!(!one.contains("login.strongdm.com"), "{one}");
    let (code, _, err) = run(&["plan", "examples/strongdm.yaml", "--for-host", "pg-9"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`pg-9` is not a host of examples/strongdm.yaml"),
        "{err}"
    );
    assert!(err.contains("bastion-1, pg-1"), "{err}");
}

#[test]
fn for_host_filters_device_formats_too() {
    // A router ACL for one host's flows: every rule names the host.
    let all = ok(&["plan", "examples/strongdm.yaml", "-f", "cisco-ios"]);
    let one = ok(&[
        "plan",
        "examples/strongdm.yaml",
        "-f",
        "cisco-ios",
        "--for-host",
        "pg-1",
    ]);
    let aces = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with(" permit "))
            .map(str::to_string)
            .collect()
    };
    let (all, one) = (aces(&all), aces(&one));
    assert!(!one.is_empty() && one.len() < all.len(), "{one:?}");
    let pg = "10.30.0.21";
    // ... or `any` (the Internet's flows, ICMP for every host, include it).
    assert!(
        one.iter().all(|l| l.contains(pg) || l.contains(" any ")),
        "{one:?}"
    );
    assert!(
        one.iter().filter(|l| l.contains(pg)).count() >= 2,
        "{one:?}"
    );
}

#[test]
fn several_formats_plan_once_and_write_one_file_each() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules");
    let o = out.to_str().unwrap();
    let e = "examples/campus.yaml";
    let (code, _, err) = run(&[
        "plan",
        e,
        "-f",
        "cisco-ios,junos",
        "-f",
        "nftables,csv,junos",
        "--for-host",
        "dc-1",
        "-o",
        o,
    ]);
    assert_eq!(code, 0, "{err}");
    for (format, file) in [
        ("cisco-ios", "cisco-ios.cfg"),
        ("junos", "junos.conf"),
        ("nftables", "nftables.nft"),
        ("csv", "csv.csv"),
    ] {
        let path = out.join(file);
        assert!(err.contains(&format!("wrote {}", path.display())), "{err}");
        let written = std::fs::read_to_string(&path).unwrap();
        let alone = ok(&["plan", e, "-f", format, "--for-host", "dc-1"]);
        assert_eq!(written, alone, "{format}");
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 4, "junos once");
    // Several formats need a folder: never several files glued on stdout.
    let (code, stdout, err) = run(&["plan", e, "-f", "cisco-ios,junos"]);
    assert_eq!(code, 2, "{err}");
    assert!(stdout.is_empty());
    assert!(
        err.contains("2 formats need a folder to write into: add `-o DIR`"),
        "{err}"
    );
}

#[test]
fn unknown_format_lists_the_formats() {
    let (code, _, err) = run(&["plan", "examples/strongdm.yaml", "--format", "pdf"]);
    assert_eq!(code, 2);
    assert!(err.contains("table") && err.contains("csv"), "{err}");
    for f in portplan_render::formats() {
        assert!(err.contains(f), "{f} missing in {err}");
    }
    let help = ok(&["plan", "--help"]);
    for f in portplan_render::formats() {
        assert!(help.contains(f), "{f} missing in --help");
    }
}

#[test]
fn every_render_format_renders_every_example() {
    for e in examples() {
        let hosts = host_of(&e);
        for f in portplan_render::formats() {
            let per_host = portplan_render::renderer(f).unwrap().per_host();
            let (code, out, err) = if per_host {
                let (code, _, err) = run(&["plan", &e, "--format", f]);
                assert_eq!(code, 2, "{e} {f} without --for-host");
                assert!(err.contains("--for-host") && err.contains(&hosts), "{err}");
                run(&["plan", &e, "--format", f, "--for-host", &hosts])
            } else {
                run(&["plan", &e, "--format", f])
            };
            assert_eq!(code, 0, "{e} {f}: {err}");
            assert!(!out.trim().is_empty(), "{e} {f}");
        }
    }
}

/// The first named host of an example.
fn host_of(example: &str) -> String {
    let text = std::fs::read_to_string(root().join(example)).unwrap();
    let v: serde_json::Value = serde_norway::from_str(&text).unwrap();
    v["hosts"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .unwrap()
}

#[test]
fn strict_fails_on_warnings_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dep = write_dep(
        dir.path(),
        "name: t
products:
  - product: privileged-identity
    features: [email-notifications]
    roles:
      pi-server: [10.5.0.10]
      user-workstation: [10.5.100.0/24]
      api-client: [10.5.101.0/28]
      sql-datastore: [10.5.0.11]
      smtp-server: [10.5.1.25]
",
    );
    let out_file = dir.path().join("rules.csv");
    let d = dep.to_str().unwrap();
    let o = out_file.to_str().unwrap();
    let (code, _, err) = run(&["plan", d, "-f", "csv", "-o", o]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: privileged-identity/pi-smtp (SMTP"),
        "{err}"
    );
    assert!(err.contains("25,465,587 are alternatives"), "{err}");
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(written.contains("25,465,587"), "{written}");
    std::fs::remove_file(&out_file).unwrap();
    let (code, _, err) = run(&["plan", d, "-f", "csv", "-o", o, "--strict"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--strict"), "{err}");
    assert!(!out_file.exists());
    // Several formats: none is written either.
    let folder = dir.path().join("rules");
    let f = folder.to_str().unwrap();
    let (code, _, err) = run(&["plan", d, "-f", "csv,cisco-ios", "-o", f, "--strict"]);
    assert_eq!(code, 2, "{err}");
    assert!(!folder.exists());
}

#[test]
fn no_optional_leaves_optional_flows_out() {
    let all = ok(&["plan", "examples/strongdm.yaml", "-f", "csv"]);
    let lean = ok(&[
        "plan",
        "examples/strongdm.yaml",
        "-f",
        "csv",
        "--no-optional",
    ]);
    assert!(all.contains(",false,"));
    assert!(!lean.contains(",false,"), "{lean}");
    assert!(lean.lines().count() < all.lines().count());
}

#[test]
fn plan_refuses_a_deployment_with_errors() {
    let out = portplan()
        .args(["plan", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    let (code, out, err) = (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.contains("<stdin>: error: the file is empty"), "{err}");
}

#[test]
fn no_merge_lists_one_rule_per_requirement_and_pair() {
    let merged: serde_json::Value =
        serde_json::from_str(&ok(&["plan", "examples/campus.yaml", "-f", "json"])).unwrap();
    let raw: serde_json::Value = serde_json::from_str(&ok(&[
        "plan",
        "examples/campus.yaml",
        "-f",
        "json",
        "--no-merge",
    ]))
    .unwrap();
    let (m, r) = (
        merged["flows"].as_array().unwrap(),
        raw["flows"].as_array().unwrap(),
    );
    assert!(r.len() > m.len(), "{} vs {}", r.len(), m.len());
    for f in r {
        assert_eq!(f["because"].as_array().unwrap().len(), 1, "{f}");
        assert_eq!(f["src"]["labels"].as_array().unwrap().len(), 1, "{f}");
    }
}

#[test]
fn the_readme_command_plans_the_campus() {
    let table = ok(&["plan", "examples/campus.yaml"]);
    for product in [
        "cisco-ise",
        "igel-ums",
        "privileged-identity",
        "strongdm",
        "xclarity-orchestrator",
    ] {
        assert!(table.contains(&format!("{product}: ")), "{product}");
    }
    // Shared hosts serve several products in one rule.
    assert!(table.contains("pi-1, ums-1"), "{table}");
    assert!(table.contains("NAME") && table.contains("ise-1"));
}

#[test]
fn an_override_can_change_the_protocol_on_its_target() {
    // The syslog collector takes TLS syslog (TCP 6514) instead of the
    // catalog's UDP 514; the other collector keeps UDP 514.
    let dir = tempfile::tempdir().unwrap();
    let dep = write_dep(
        dir.path(),
        "name: t
products:
  - product: xclarity-orchestrator
    features: [event-forwarding-syslog]
    roles:
      lxco: [10.9.0.5]
      syslog-server: [10.9.1.10, 10.9.1.11]
    overrides:
      - { requirement: lxco-syslog, target: 10.9.1.11, ports: [6514], protocol: tcp }
",
    );
    let d = dep.to_str().unwrap();
    let (code, _, err) = run(&["check", d]);
    assert_eq!(code, 0, "{err}");
    let csv = ok(&["plan", d, "-f", "csv"]);
    let syslog: Vec<&str> = csv.lines().filter(|l| l.contains("lxco-syslog")).collect();
    assert!(
        syslog
            .iter()
            .any(|l| l.contains("10.9.1.10") && l.contains(",udp,514,")),
        "{syslog:?}"
    );
    assert!(
        syslog
            .iter()
            .any(|l| l.contains("10.9.1.11") && l.contains(",tcp,6514,")),
        "{syslog:?}"
    );
    assert!(!syslog.iter().any(|l| l.contains("udp,6514")), "{syslog:?}");
    // A protocol that is not one reads as an error at its place.
    std::fs::write(
        &dep,
        std::fs::read_to_string(&dep)
            .unwrap()
            .replace("protocol: tcp", "protocol: tpc"),
    )
    .unwrap();
    let (code, _, err) = run(&["check", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("dep.yaml:9:"), "{err}");
    assert!(
        err.contains("unknown variant `tpc`, expected one of `tcp`, `udp`, `icmp`"),
        "{err}"
    );
}

#[test]
fn ipsec_opens_esp_and_nat_traversal_not_only_ike() {
    // The page lists only UDP/500; the tunnel's data is ESP, and NAT moves
    // both to UDP/4500. A plan that opened only 500 would bring the tunnel
    // up and drop everything in it.
    let csv = ok(&["plan", "examples/cisco-ise.yaml", "-f", "csv"]);
    let ipsec: Vec<&str> = csv.lines().filter(|l| l.contains("psn-ipsec")).collect();
    assert!(ipsec.iter().any(|l| l.contains(",udp,500,")), "{ipsec:?}");
    assert!(ipsec.iter().any(|l| l.contains(",esp,")), "{ipsec:?}");
    assert!(ipsec.iter().any(|l| l.contains(",udp,4500,")), "{ipsec:?}");
    let ios = ok(&["plan", "examples/cisco-ise.yaml", "-f", "cisco-ios"]);
    assert!(
        ios.contains(" permit esp 10.10.0.0 0.0.255.255 10.0.1.0 0.0.0.15"),
        "{ios}"
    );
    let aws = ok(&["plan", "examples/cisco-ise.yaml", "-f", "aws-terraform"]);
    assert!(aws.contains("ip_protocol = \"50\""), "{aws}");
}

/// The CSV is a change ticket: one source and one destination per row, each
/// name next to the addresses the deployment gives it, the service and the
/// cited page by title; loopback flows are left out and said so.
#[test]
fn csv_is_a_change_ticket_with_one_host_pair_per_row() {
    let (code, csv, err) = run(&["plan", "examples/strongdm.yaml", "-f", "csv"]);
    assert_eq!(code, 0, "{err}");
    let dep: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(root().join("examples/strongdm.yaml")).unwrap(),
    )
    .unwrap();
    let named = |name: &str| -> Option<String> {
        ["hosts", "networks"]
            .iter()
            .find_map(|k| dep[*k][name].as_str().map(str::to_string))
    };
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| h == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    assert!(header.iter().any(|h| h.contains("citation")), "{header:?}");
    let (sn, sa, dn, da, svc, cite, scope) = (
        col("src_name"),
        col("src_address"),
        col("dst_name"),
        col("dst_address"),
        col("service"),
        col("page_citation"),
        col("scope"),
    );
    let mut seen_hosts = std::collections::BTreeSet::new();
    let mut rows = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        rows += 1;
        for (n, a) in [(sn, sa), (dn, da)] {
            let (name, addr) = (&rec[n], &rec[a]);
            assert!(
                !name.contains(',') && !name.contains(" + "),
                "one party: {rec:?}"
            );
            assert!(!addr.is_empty() && !addr.contains(','), "{rec:?}");
            if let Some(want) = named(name) {
                assert_eq!(addr, want, "{name} has the address the deployment gives it");
                seen_hosts.insert(name.to_string());
            }
        }
        assert!(!rec[svc].is_empty(), "{rec:?}");
        assert!(
            rec[cite].contains("StrongDM Ports Guide"),
            "page by title: {rec:?}"
        );
        assert_ne!(&rec[scope], "loopback", "{rec:?}");
    }
    // Every host and network of the deployment is in the ticket.
    assert_eq!(seen_hosts.len(), 7, "{seen_hosts:?}");
    assert!(rows > 10, "merged flows are split into host pairs: {rows}");
    assert!(
        err.contains("loopback") && err.contains("client-status-loopback"),
        "{err}"
    );
    // --no-merge writes the same pairs.
    let raw = ok(&["plan", "examples/strongdm.yaml", "-f", "csv", "--no-merge"]);
    let pairs = |t: &str| -> std::collections::BTreeSet<String> {
        t.lines()
            .skip(1)
            .map(|l| l.split(',').take(6).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(pairs(&csv), pairs(&raw));
    // Each row names only its own pair's requirements: every requirement of
    // a row has an unplanned-merge flow from that source to that destination.
    let raw: serde_json::Value = serde_json::from_str(&ok(&[
        "plan",
        "examples/strongdm.yaml",
        "-f",
        "json",
        "--no-merge",
    ]))
    .unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    for rec in r.records() {
        let rec = rec.unwrap();
        for id in rec[col("requirements")].split("; ") {
            assert!(
                raw["flows"].as_array().unwrap().iter().any(|f| {
                    f["src"]["labels"][0] == rec[sn]
                        && f["dst"]["labels"][0] == rec[dn]
                        && f["because"].as_array().unwrap().iter().any(|b| {
                            format!(
                                "{}/{}",
                                b["product"].as_str().unwrap(),
                                b["requirement"].as_str().unwrap()
                            ) == id
                        })
                }),
                "{id} is not a requirement of {} -> {}",
                &rec[sn],
                &rec[dn]
            );
        }
    }
    // --for-host: only the host's own rows, not those of the hosts merged with it.
    let pg = ok(&[
        "plan",
        "examples/strongdm.yaml",
        "-f",
        "csv",
        "--for-host",
        "pg-1",
    ]);
    let rows: Vec<&str> = pg.lines().skip(1).collect();
    assert!(!rows.is_empty());
    for l in rows {
        let cells: Vec<&str> = l.split(',').collect();
        assert!(cells[0] == "pg-1" || cells[2] == "pg-1", "{l}");
    }
}

#[test]
fn plan_table_shows_scope_in_its_own_column() {
    let t = ok(&["plan", "examples/strongdm.yaml"]);
    let header = t.lines().next().unwrap();
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        cols,
        ["FROM", "TO", "PROTO", "PORTS", "SCOPE", "REQUIRED", "BECAUSE"]
    );
    let loop_line = t
        .lines()
        .find(|l| l.contains("client-status-loopback"))
        .unwrap();
    let ports_at = header.find("PORTS").unwrap();
    let scope_at = header.find("SCOPE").unwrap();
    assert_eq!(loop_line[ports_at..scope_at].trim(), "65220,65230");
    assert!(loop_line[scope_at..].starts_with("loopback"), "{loop_line}");
}

/// The picture's arrows name only their own pair's requirements (it is made
/// from the unmerged plan): each id in the comment above an arrow has an
/// unmerged flow from that arrow's source host to its destination.
#[test]
fn mermaid_arrows_name_only_their_pair_s_requirements() {
    let mm = ok(&["plan", "examples/strongdm.yaml", "-f", "mermaid"]);
    let raw: serde_json::Value = serde_json::from_str(&ok(&[
        "plan",
        "examples/strongdm.yaml",
        "-f",
        "json",
        "--no-merge",
    ]))
    .unwrap();
    let mut names = std::collections::HashMap::new();
    for l in mm.lines().map(str::trim) {
        if let Some((id, rest)) = l.split_once("[\"") {
            let name = rest.split("<br/>").next().unwrap().trim_end_matches("\"]");
            names.insert(id.to_string(), name.to_string());
        }
    }
    let lines: Vec<&str> = mm.lines().map(str::trim).collect();
    let mut arrows = 0;
    for w in lines.windows(2) {
        let (Some(ids), true) = (w[0].strip_prefix("%% "), w[1].contains("|\"")) else {
            continue;
        };
        arrows += 1;
        let from = &names[w[1].split_whitespace().next().unwrap()];
        let to = &names[w[1].rsplit(' ').next().unwrap()];
        for id in ids.split(", ") {
            assert!(
                raw["flows"].as_array().unwrap().iter().any(|f| {
                    f["src"]["labels"][0] == from.as_str()
                        && f["dst"]["labels"][0] == to.as_str()
                        && f["because"].as_array().unwrap().iter().any(|b| {
                            format!(
                                "{}/{}",
                                b["product"].as_str().unwrap(),
                                b["requirement"].as_str().unwrap()
                            ) == id
                        })
                }),
                "{id} on {from} -> {to}"
            );
        }
    }
    assert!(arrows > 10, "{mm}");
}

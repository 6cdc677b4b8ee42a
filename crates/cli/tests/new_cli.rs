//! `portplan new`: the skeleton of every catalog product says everything a
//! user must decide (every role, feature, choice and parameter), parses,
//! and `check` on it asks only for what the skeleton marks REQUIRED; then a
//! skeleton filled in as a user would plans with the user's values.

use assert_cmd::Command;
use std::path::Path;

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = portplan().args(args).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

fn catalog() -> Vec<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalog");
    let mut v = Vec::new();
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            v.push(serde_norway::from_str(&text).unwrap());
        }
    }
    assert!(v.len() >= 5, "catalog not found");
    v
}

fn ids(product: &serde_json::Value, key: &str) -> Vec<String> {
    product[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `check` of a skeleton, written to a temporary file.
fn check_text(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dep.yaml");
    std::fs::write(&path, text).unwrap();
    run(&["check", path.to_str().unwrap()])
}

#[test]
fn every_product_skeleton_names_every_decision_and_checks() {
    for product in catalog() {
        let id = product["product"].as_str().unwrap();
        let (code, yaml, err) = run(&["new", id]);
        assert_eq!(code, 0, "{id}: {err}");
        // Valid YAML with the sections a deployment has.
        let parsed: serde_norway::Value =
            serde_norway::from_str(&yaml).unwrap_or_else(|e| panic!("{id}: {e}\n{yaml}"));
        for key in ["name", "hosts", "networks", "products"] {
            assert!(parsed.get(key).is_some(), "{id}: no `{key}:`\n{yaml}");
        }
        // Every role, feature, choice and parameter is named (live or in a comment).
        for key in ["roles", "features", "choices", "parameters"] {
            for x in ids(&product, key) {
                let as_key = format!("{x}:");
                let as_item = format!("{x} (");
                assert!(
                    yaml.contains(&as_key) || yaml.contains(&as_item),
                    "{id}: {key} `{x}` not in the skeleton\n{yaml}"
                );
            }
        }
        // Placeholders are documentation addresses only (RFC 5737).
        for (k, v) in parsed["hosts"].as_mapping().into_iter().flatten() {
            let a = v.as_str().unwrap();
            assert!(a.starts_with("192.0.2."), "{id}: host {k:?} at {a}");
        }
        for (k, v) in parsed["networks"].as_mapping().into_iter().flatten() {
            let a = v.as_str().unwrap();
            assert!(
                a.starts_with("198.51.100.") || a.starts_with("203.0.113."),
                "{id}: network {k:?} at {a}"
            );
        }
        // `check` asks only for what the skeleton marks REQUIRED.
        let required: Vec<String> = yaml
            .lines()
            .filter(|l| l.contains("# REQUIRED:"))
            .filter_map(|l| {
                l.trim_start_matches([' ', '#'])
                    .split(':')
                    .next()
                    .map(String::from)
            })
            .collect();
        let (code, out, err) = check_text(&yaml);
        if required.is_empty() {
            assert_eq!(code, 0, "{id}: the skeleton does not check:\n{err}\n{yaml}");
            assert!(out.contains("ok:"), "{id}: {out}");
        } else {
            assert_eq!(code, 2, "{id}: {err}");
            for line in err.lines().filter(|l| l.contains(": error: ")) {
                assert!(
                    required.iter().any(|r| line.contains(&format!("`{r}`"))),
                    "{id}: error about something not marked REQUIRED: {line}\n{yaml}"
                );
            }
        }
    }
}

#[test]
fn with_switches_features_on_and_places_their_roles() {
    // A feature with a role of its own: the skeleton without it leaves the
    // role commented out; with it, the role is placed and the plan has the
    // feature's flows.
    let (_, plain, _) = run(&["new", "cisco-ise"]);
    assert!(plain.contains("# sxp-peer: [HOST-OR-NETWORK]"), "{plain}");
    let (code, yaml, err) = run(&["new", "cisco-ise", "--with", "sxp,posture"]);
    assert_eq!(code, 0, "{err}");
    assert!(yaml.contains("features: [posture, sxp]"), "{yaml}");
    assert!(yaml.contains("      sxp-peer: [sxp-peer-net]"), "{yaml}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ise.yaml");
    std::fs::write(&path, &yaml).unwrap();
    let (code, csv, err) = run(&["plan", path.to_str().unwrap(), "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(csv.contains("\"feature\": \"sxp\""), "no sxp flow: {csv}");
    assert!(csv.contains("\"feature\": \"posture\""), "no posture flow");
}

#[test]
fn bad_products_and_features_are_named_with_a_suggestion() {
    let (code, _, err) = run(&["new", "cisco-is"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown product `cisco-is`"), "{err}");
    assert!(err.contains("did you mean `cisco-ise`?"), "{err}");
    let (code, _, err) = run(&["new", "cisco-ise", "--with", "postur"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `posture`?"), "{err}");
    let (code, _, err) = run(&["new", "strongdm", "--name", "a b"]);
    assert_eq!(code, 2);
    assert!(err.contains("--name"), "{err}");
    let (code, _, err) = run(&["new"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn output_file_is_written_once_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.yaml");
    let p = path.to_str().unwrap();
    let (code, out, err) = run(&["new", "strongdm", "-o", p]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("portplan check"), "{err}");
    let first = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, "mine").unwrap();
    let (code, _, err) = run(&["new", "igel-ums", "-o", p]);
    assert_eq!(code, 2);
    assert!(err.contains("not overwritten"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
    assert!(first.contains("product: strongdm"));
}

/// The walk of a user: skeleton, fill in, check, plan.
#[test]
fn a_filled_skeleton_plans_with_the_users_values() {
    let (_, yaml, _) = run(&["new", "strongdm", "--name", "sdm-lab"]);
    // check names what is missing, at its line, with the fix.
    let (code, _, err) = check_text(&yaml);
    assert_eq!(code, 2);
    assert!(err.contains("resource_port"), "{err}");
    // The user uncomments `parameters:` with the required value, puts real
    // addresses in, and overrides one resource's port.
    let filled = yaml
        .replace("    # parameters:\n", "    parameters:\n")
        .replace("    #   resource_port: PORT", "      resource_port: 5432")
        .replace("192.0.2.12", "203.0.113.10")
        .replace("resource-1: 192.0.2.13", "resource-1: 10.30.0.21\n  bastion-1: 10.30.0.40")
        .replace("resource: [resource-1]", "resource: [resource-1, bastion-1]")
        .replace(
            "    # overrides:\n",
            "    overrides:\n      - { requirement: gateway-resource, target: bastion-1, ports: [22] }\n      - { requirement: relay-resource, target: bastion-1, ports: [22] }\n",
        );
    // Other lines of the comment block stay comments.
    let filled: String = filled
        .lines()
        .map(|l| {
            if l.starts_with("    #   ")
                && filled.contains("    parameters:\n")
                && l.contains("PORT")
            {
                l.replacen("    #   ", "    #     ", 1)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (code, out, err) = check_text(&filled);
    assert_eq!(code, 0, "{err}\n{filled}");
    assert!(out.contains("ok:"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sdm.yaml");
    std::fs::write(&path, &filled).unwrap();
    let (code, json, err) = run(&["plan", path.to_str().unwrap(), "-f", "json", "--no-merge"]);
    assert_eq!(code, 0, "{err}");
    let set: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(set["deployment"], "sdm-lab");
    let flows = set["flows"].as_array().unwrap();
    let to = |addr: &str, port: u16| {
        flows.iter().any(|f| {
            f["dst"]["addrs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == addr)
                && f["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p.as_u64() == Some(u64::from(port)))
        })
    };
    assert!(to("10.30.0.21", 5432), "database port missing: {json}");
    assert!(to("10.30.0.40", 22), "bastion override missing");
    assert!(!to("10.30.0.40", 5432), "bastion kept the catalog port");
    assert!(to("203.0.113.10", 5000), "gateway ingress missing");
}

/// The README's deployment example is a file that checks.
#[test]
fn readme_deployment_example_checks() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("## The deployment file")
        .nth(1)
        .expect("README has a deployment file section");
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("the section has a YAML example");
    let (code, out, err) = check_text(yaml);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok:"), "{out}");
}

/// The first hour, as issue 10 walked it: a StrongDM deployment written from
/// `new`, filled in, checked, then every output an engineer would paste,
/// each read for what it means rather than compared with a snapshot.
#[test]
fn first_hour_walk_gives_outputs_to_paste() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sdm.yaml");
    let p = path.to_str().unwrap();
    let (code, _, err) = run(&["new", "strongdm", "--name", "sdm-lab", "-o", p]);
    assert_eq!(code, 0, "{err}");
    let yaml = std::fs::read_to_string(&path).unwrap();
    let mgmt_line = yaml
        .lines()
        .find(|l| l.starts_with("  management-net:"))
        .expect("a management network")
        .to_string();
    let filled = yaml
        .replace("    # parameters:\n", "    parameters:\n")
        .replace("    #   resource_port: PORT", "      resource_port: 5432")
        .replace("gateway-1: 192.0.2.12", "gateway-1: 203.0.113.10")
        .replace("resource-1: 192.0.2.13", "resource-1: 10.30.0.21")
        .replace(&mgmt_line, "  management-net: 10.99.0.0/24");
    std::fs::write(&path, &filled).unwrap();
    let (code, out, err) = run(&["check", p]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok:"), "{out}");

    // The table: scope in its own column.
    let (_, table, _) = run(&["plan", p, "--wide"]);
    let header = table.lines().next().unwrap();
    assert!(
        header.contains("SCOPE") && header.contains("PORTS"),
        "{header}"
    );

    // The change ticket: one pair per row, names and addresses apart, a
    // citation column, no loopback rows.
    let (code, csv, _) = run(&["plan", p, "-f", "csv"]);
    assert_eq!(code, 0);
    let mut lines = csv.lines();
    let cols: Vec<&str> = lines.next().unwrap().split(',').collect();
    for c in [
        "src_name",
        "src_address",
        "dst_name",
        "dst_address",
        "service",
    ] {
        assert!(cols.contains(&c), "{cols:?}");
    }
    assert!(cols.iter().any(|c| c.contains("citation")), "{cols:?}");
    assert!(
        csv.contains("gateway-1,203.0.113.10,") || csv.contains(",gateway-1,203.0.113.10,"),
        "{csv}"
    );
    assert!(!csv.contains(",loopback,"), "{csv}");

    // The gateway's own firewall: management first, no lock-out, outbound
    // left open, the gateway port open.
    let (code, nft, err) = run(&["plan", p, "-f", "nftables", "--for-host", "gateway-1"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("cut remote access"), "{err}");
    assert!(!nft.contains("cut remote access"), "{nft}");
    let input = nft.split("chain input").nth(1).unwrap();
    let first_rule = input
        .lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty() && !l.starts_with('{') && !l.starts_with("type ") && !l.starts_with('#')
        })
        .unwrap();
    assert!(
        first_rule.contains("10.99.0.0/24") && first_rule.contains("22"),
        "management is not first: {first_rule}"
    );
    assert!(
        nft.contains("dport 5000") || nft.contains("5000 accept"),
        "{nft}"
    );
    let output = nft.split("chain output").nth(1).unwrap_or("");
    assert!(
        output.is_empty() || output.contains("policy accept"),
        "{nft}"
    );
    // And it means what the plan says: audited against the deployment.
    let rules = dir.path().join("gw.nft");
    std::fs::write(&rules, &nft).unwrap();
    let (code, audit, err) = run(&[
        "audit",
        p,
        "--rules",
        rules.to_str().unwrap(),
        "--as",
        "gateway-1",
    ]);
    assert_eq!(code, 0, "{audit}\n{err}");

    // The ASA: never the global apply, no final deny-all of its own.
    let (_, asa, _) = run(&["plan", p, "-f", "cisco-asa"]);
    for l in asa.lines().filter(|l| l.contains(" global")) {
        assert!(l.starts_with('!') && l.contains("not"), "{l}");
    }
    assert!(
        !asa.lines()
            .any(|l| !l.starts_with('!') && l.contains("deny ip any any")),
        "{asa}"
    );

    // AWS: one group for the gateway, attachable, holding its tcp/5000 ingress.
    let (_, tf, _) = run(&["plan", p, "-f", "aws-terraform"]);
    assert_eq!(
        tf.matches("resource \"aws_security_group\" \"gateway_1\"")
            .count(),
        1,
        "{tf}"
    );
    assert!(tf.contains("attach to the instance of gateway-1"), "{tf}");
    assert!(
        tf.split("resource \"aws_vpc_security_group_ingress_rule\"")
            .any(|r| r.contains("aws_security_group.gateway_1.id")
                && r.contains("from_port")
                && r.contains("5000")),
        "{tf}"
    );

    // The picture: each host in one box.
    let (_, mmd, _) = run(&["plan", p, "-f", "mermaid"]);
    for h in ["gateway-1", "relay-1", "resource-1"] {
        let boxes = mmd
            .lines()
            .filter(|l| l.contains(&format!("[\"{h}")) || l.contains(&format!("[{h}")))
            .count();
        assert_eq!(boxes, 1, "{h} in {boxes} boxes:\n{mmd}");
    }
}

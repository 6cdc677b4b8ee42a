//! `portplan fleet`: the Ansible project it writes, read back as YAML. The
//! namespace test (fleet_netns.rs) runs it with ansible-playbook; these
//! check what must hold for any deployment: every host with its part, the
//! secret never on a command line, responders stopped in `always`, the
//! user's inventory honoured.

use assert_cmd::Command;
use serde_norway::Value;
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fleet")
        .join(p)
}

fn fleet(dep: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::cargo_bin("portplan")
        .unwrap()
        .arg("--catalog")
        .arg(fixture("catalog"))
        .arg("fleet")
        .arg(dep)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn yaml(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", p.display()))
}

/// The inventory's hosts: name -> (ansible_host, portplan_from, portplan_as).
fn hosts(dir: &Path) -> Vec<(String, Value)> {
    let inv = yaml(&dir.join("inventory.yml"));
    inv["all"]["children"]["portplan"]["hosts"]
        .as_mapping()
        .expect("all.children.portplan.hosts")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

fn get<'a>(hosts: &'a [(String, Value)], name: &str) -> &'a Value {
    &hosts
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no host {name} in {hosts:?}"))
        .1
}

/// Every task of the playbook, blocks and `always` sections opened.
fn tasks(v: &Value, out: &mut Vec<Value>) {
    if let Some(list) = v.as_sequence() {
        for t in list {
            tasks(t, out);
        }
        return;
    }
    if v.as_mapping().is_none() {
        return;
    }
    let mut nested = false;
    for key in ["tasks", "block", "rescue", "always"] {
        if let Some(x) = v.get(key) {
            nested = true;
            tasks(x, out);
        }
    }
    if !nested {
        out.push(v.clone());
    }
}

/// Writes `text` to `dir/name`; the path.
fn put(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn text(v: &Value) -> String {
    serde_norway::to_string(v).unwrap()
}

#[test]
fn every_host_gets_its_part_and_the_project_parses() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("proj");
    let (code, out, err) = fleet(&fixture("fleet.yaml"), &dir, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ansible-playbook -i"), "{out}");
    let h = hosts(&dir);
    assert_eq!(h.len(), 4, "{h:?}");
    // fl-1 only sends, fl-3 only accepts, fl-2 does both, fl-4 only sends.
    let part = |n: &str| {
        let v = get(&h, n);
        (
            v["ansible_host"].as_str().unwrap().to_string(),
            v.get("portplan_from")
                .and_then(|x| x.as_str())
                .map(String::from),
            v.get("portplan_as")
                .and_then(|x| x.as_str())
                .map(String::from),
        )
    };
    let s = |x: &str| Some(x.to_string());
    assert_eq!(part("fl-1"), ("10.214.0.11".into(), s("fl-1"), None));
    assert_eq!(part("fl-2"), ("10.214.0.12".into(), s("fl-2"), s("fl-2")));
    assert_eq!(part("fl-3"), ("10.214.0.13".into(), None, s("fl-3")));
    assert_eq!(part("fl-4"), ("10.214.0.14".into(), s("fl-4"), None));

    let plays = yaml(&dir.join("verify.yml"));
    let plays = plays.as_sequence().unwrap();
    assert_eq!(plays.len(), 3);
    assert_eq!(plays[1]["hosts"].as_str(), Some("portplan"));
    assert_eq!(plays[1]["ignore_unreachable"].as_bool(), Some(true));
    let vars = yaml(&dir.join("group_vars/all/portplan.yml"));
    assert_eq!(vars["portplan_installed"].as_bool(), Some(false));
    assert_eq!(vars["portplan_catalog"].as_bool(), Some(true));
    assert!(Path::new(vars["portplan_binary"].as_str().unwrap()).is_absolute());
    yaml(&dir.join("group_vars/all/secret.yml"));
    assert_eq!(
        std::fs::read_to_string(dir.join("files/deployment.yaml")).unwrap(),
        std::fs::read_to_string(fixture("fleet.yaml")).unwrap()
    );
    assert!(dir.join("files/catalog/fleetcheck.yaml").is_file());
}

#[test]
fn the_secret_never_reaches_a_command_line_and_responders_always_stop() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = fleet(&fixture("fleet.yaml"), d.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    let plays = yaml(&d.path().join("verify.yml"));
    let mut all = Vec::new();
    tasks(&plays, &mut all);
    assert!(all.len() > 10, "{} tasks", all.len());
    let runs = |t: &Value| {
        [
            "ansible.builtin.command",
            "ansible.builtin.shell",
            "command",
            "shell",
            "raw",
        ]
        .iter()
        .any(|m| t.get(*m).is_some())
    };
    for t in &all {
        let s = text(t);
        if runs(t) {
            assert!(
                !s.contains("portplan_secret"),
                "a command carries the secret: {s}"
            );
        }
        assert!(
            t.get("environment").is_none(),
            "environment is put on the remote command line: {s}"
        );
        if s.contains("portplan_secret") {
            assert_eq!(
                t["no_log"].as_bool(),
                Some(true),
                "the secret is logged by: {s}"
            );
        }
    }
    let writes_secret = all
        .iter()
        .find(|t| t.get("ansible.builtin.copy").is_some() && text(t).contains("portplan_secret"))
        .expect("a task writes the secret file");
    assert_eq!(
        writes_secret["ansible.builtin.copy"]["mode"].as_str(),
        Some("0600")
    );
    // The responder starts inside the block and is killed in its `always`.
    let work = &plays[1]["tasks"][0];
    let mut inside = Vec::new();
    tasks(&work["block"], &mut inside);
    let mut always = Vec::new();
    tasks(&work["always"], &mut always);
    assert!(inside
        .iter()
        .any(|t| text(t).contains("respond deployment.yaml")));
    assert!(always
        .iter()
        .any(|t| text(t).contains("kill") && text(t).contains("respond.pid")));
    assert!(
        always.iter().any(|t| text(t).contains("state: absent")),
        "the working folder (and secret) is removed"
    );
    assert!(
        always
            .iter()
            .any(|t| text(t).contains("portplan-fleet-host")),
        "each host's record is written"
    );
    // Responders have a time to live.
    assert!(inside.iter().any(|t| text(t).contains("--ttl")));
}

#[test]
fn the_users_inventory_gives_connection_settings_and_must_hold_every_host() {
    let d = tempfile::tempdir().unwrap();
    let inv = put(
        d.path(),
        "inv.yml",
        "all:\n  vars:\n    ansible_user: ops\n  children:\n    dc1:\n      vars:\n        ansible_port: 2222\n      hosts:\n        fl-1: { ansible_host: web1.dc1.example }\n        fl-2:\n        fl-3: { ansible_user: root }\n        fl-4:\n        unrelated:\n",
    );
    let dir = d.path().join("proj");
    let with_inventory = || {
        fleet(
            &fixture("fleet.yaml"),
            &dir,
            &["--inventory", inv.to_str().unwrap()],
        )
    };
    let (code, _, err) = with_inventory();
    assert_eq!(code, Some(0), "{err}");
    let h = hosts(&dir);
    assert_eq!(h.len(), 4, "only the deployment's hosts: {h:?}");
    assert_eq!(
        get(&h, "fl-1")["ansible_host"].as_str(),
        Some("web1.dc1.example")
    );
    assert_eq!(get(&h, "fl-1")["ansible_user"].as_str(), Some("ops"));
    assert_eq!(get(&h, "fl-1")["ansible_port"].as_u64(), Some(2222));
    assert_eq!(
        get(&h, "fl-3")["ansible_user"].as_str(),
        Some("root"),
        "host vars win over group vars"
    );
    // Reached by its inventory name, not the deployment's address.
    assert!(get(&h, "fl-2").get("ansible_host").is_none());

    std::fs::write(&inv, "all:\n  hosts:\n    fl-1:\n    fl-3:\n").unwrap();
    let (code, _, err) = with_inventory();
    assert_eq!(code, Some(2));
    assert!(
        err.contains("the inventory lacks hosts fl-2, fl-4"),
        "{err}"
    );

    std::fs::write(&inv, "[web]\nfl-1\n").unwrap();
    let (code, _, err) = with_inventory();
    assert_eq!(code, Some(2));
    assert!(
        err.contains("inv.yml") && err.contains("ansible-inventory"),
        "{err}"
    );
}

#[test]
fn a_network_is_verified_from_its_representative_or_said_to_need_one() {
    let d = tempfile::tempdir().unwrap();
    let dep = put(
        d.path(),
        "net.yaml",
        "name: net\nhosts:\n  fl-3: 10.214.0.13\n  fl-2: 10.214.0.12\nnetworks:\n  staff: 10.50.0.0/24\nproducts:\n  - product: fleetcheck\n    roles:\n      client: [staff, fl-2]\n      service: [fl-3]\n",
    );
    let dir = d.path().join("a");
    let (code, _, err) = fleet(&dep, &dir, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("staff is a network") && err.contains("--representative staff=HOST"),
        "{err}"
    );
    assert_eq!(hosts(&dir).len(), 2);

    let (code, _, err) = fleet(
        &dep,
        &dir,
        &[
            "--representative",
            "staff=pc-17",
            "--representative",
            "fl-2=fl-2",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let h = hosts(&dir);
    assert_eq!(get(&h, "pc-17")["portplan_from"].as_str(), Some("staff"));
    assert_eq!(get(&h, "pc-17")["ansible_host"].as_str(), Some("pc-17"));
    // A host standing for something besides itself gets a second name.
    assert_eq!(
        get(&h, "fl-2-for-fl-2")["ansible_host"].as_str(),
        Some("10.214.0.12")
    );

    let (code, _, err) = fleet(&dep, &dir, &["--representative", "guests=pc-1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no network or host `guests`"), "{err}");
    let (code, _, err) = fleet(&dep, &dir, &["--representative", "staff"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("NETWORK=HOST"), "{err}");
}

#[test]
fn installed_means_no_responders_and_no_secret_needed() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, err) = fleet(&fixture("fleet.yaml"), d.path(), &["--installed"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("PORTPLAN_SECRET"), "{out}");
    let h = hosts(d.path());
    assert!(
        h.iter().all(|(_, v)| v.get("portplan_as").is_none()),
        "{h:?}"
    );
    assert_eq!(h.len(), 3, "fl-3 only accepts: nothing to run there");
    let vars = yaml(&d.path().join("group_vars/all/portplan.yml"));
    assert_eq!(vars["portplan_installed"].as_bool(), Some(true));
}

#[test]
fn a_hostile_deployment_name_stays_in_its_comment() {
    let d = tempfile::tempdir().unwrap();
    let dep = d.path().join("evil.yaml");
    let text = std::fs::read_to_string(fixture("fleet.yaml"))
        .unwrap()
        .replace(
            "name: fleet-bed",
            "name: \"x\\nportplan_installed: true\\nall: 1\"",
        );
    std::fs::write(&dep, text).unwrap();
    let dir = d.path().join("p");
    let (code, _, err) = fleet(&dep, &dir, &[]);
    assert_eq!(code, Some(0), "{err}");
    let vars = yaml(&dir.join("group_vars/all/portplan.yml"));
    assert_eq!(vars["portplan_installed"].as_bool(), Some(false));
    assert_eq!(hosts(&dir).len(), 4);
}

#[test]
fn json_says_each_hosts_part_and_the_command() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, err) = fleet(&fixture("fleet.yaml"), d.path(), &["-f", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hosts"].as_array().unwrap().len(), 4);
    assert_eq!(v["hosts"][2]["as"], "fl-3");
    assert_eq!(v["secret_needed"], true);
    assert!(v["command"].as_str().unwrap().ends_with("/verify.yml"));
}

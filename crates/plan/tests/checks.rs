//! Each check of `portplan_plan::check` on a small made-up product, so the
//! tests say what the planner does from the shapes of data alone.

use portplan_model::load::{parse_yaml, Parsed};
use portplan_model::{Catalog, Deployment, Diagnostic, Product, Protocol, Severity};
use portplan_plan::{check, plan, plan_unmerged, PlanOptions};

const ACME: &str = r#"
product: acme
name: Acme Server
vendor: Acme
sources: [{id: ports, title: Ports, file: acme.txt}]
roles:
  - {id: server, name: Server, kind: component}
  - {id: balancer, name: Balancer, kind: component}
  - {id: agent, name: Agent, kind: device}
  - {id: admin, name: Admin, kind: client}
  - {id: db, name: Database, kind: service}
  - {id: cloud, name: Cloud, kind: internet, endpoints: [api.acme.example]}
  - {id: mail, name: Mail, kind: service}
  - {id: worker, name: Worker, kind: component}
features:
  - {id: web, name: Web, default: true}
  - {id: custom, name: Custom port}
  - {id: mailer, name: Mail}
choices:
  - id: database
    name: Database
    options: [{id: none, name: None}, {id: pg, name: PostgreSQL}]
    default: none
parameters:
  - {id: web_port, name: Web port, default: 8443, allowed: "8000-8999"}
  - {id: custom_port, name: Custom port}
  - {id: agent_port, name: Agent port, default: 7001}
requirements:
  - {id: admin-web, service: HTTPS, from: admin, to: server, protocol: tcp, ports: [{param: web_port}], feature: web, source: {doc: ports, line: 1}}
  - {id: agent-server, service: Agent, from: agent, to: server, protocol: tcp, ports: [{param: agent_port}], when: {separate: [server, balancer]}, source: {doc: ports, line: 2}}
  - {id: agent-balancer, service: Agent LB, from: agent, to: balancer, protocol: tcp, ports: [{param: agent_port}], source: {doc: ports, line: 3}}
  - {id: balancer-server-shared, service: Agent moved, from: balancer, to: server, protocol: tcp, ports: [7002], when: {colocated: [server, balancer]}, source: {doc: ports, line: 4}}
  - {id: server-db, service: PostgreSQL, from: server, to: db, protocol: tcp, ports: [5432], when: {choice: {database: pg}}, source: {doc: ports, line: 5}}
  - {id: server-cloud, service: Cloud, from: server, to: cloud, protocol: tcp, ports: [443], required: false, source: {doc: ports, line: 6}}
  - {id: custom, service: Custom, from: admin, to: server, protocol: [tcp, udp], ports: [{param: custom_port}], feature: custom, source: {doc: ports, line: 7}}
  - {id: mail, service: SMTP, from: server, to: mail, protocol: tcp, ports: [25, 465, 587], alternatives: true, per_target: true, feature: mailer, source: {doc: ports, line: 8}}
  - {id: status, service: Status, from: server, to: server, protocol: tcp, ports: [9000], scope: loopback, source: {doc: ports, line: 9}}
  - {id: admin-worker, service: HTTPS, from: admin, to: worker, protocol: tcp, ports: [{param: web_port}], source: {doc: ports, line: 10}}
"#;

const OTHER: &str = r#"
product: other
name: Other
vendor: Other
sources: [{id: ports, title: Ports, file: other.txt}]
roles:
  - {id: node, name: Node, kind: component}
  - {id: user, name: User, kind: client}
  - {id: store, name: Store, kind: service}
requirements:
  - {id: node-store, service: PostgreSQL, from: node, to: store, protocol: tcp, ports: [5432], source: {doc: ports, line: 3}}
  - {id: user-node, service: HTTPS, from: user, to: node, protocol: tcp, ports: [8443], source: {doc: ports, line: 1}}
  - {id: node-status, service: Status, from: node, to: node, protocol: tcp, ports: [9000], scope: loopback, source: {doc: ports, line: 2}}
"#;

fn catalog() -> Catalog {
    let mut cat = Catalog::default();
    for src in [ACME, OTHER] {
        let p: Parsed<Product> = parse_yaml("test.yaml", src).unwrap();
        cat.products.insert(p.value.product.clone(), p.value);
    }
    cat
}

fn dep(src: &str) -> Parsed<Deployment> {
    parse_yaml("dep.yaml", src).unwrap()
}

fn diags(src: &str) -> Vec<Diagnostic> {
    check(&catalog(), &dep(src))
}

/// The one diagnostic whose message contains `needle`.
fn find<'a>(ds: &'a [Diagnostic], needle: &str) -> &'a Diagnostic {
    let hits: Vec<&Diagnostic> = ds.iter().filter(|d| d.message.contains(needle)).collect();
    assert_eq!(hits.len(), 1, "want one `{needle}` in {ds:#?}");
    hits[0]
}

const BASE: &str = "name: t
hosts:
  srv1: 10.0.0.5
  lb1: 10.0.0.6
products:
  - product: acme
    roles:
      server: [srv1]
      admin: [192.0.2.0/24]
      agent: [10.8.0.0/16]
";

#[test]
fn a_clean_deployment_has_no_findings() {
    let ds = diags(BASE);
    assert!(
        ds.iter().all(|d| d.severity == Severity::Warning),
        "{ds:#?}"
    );
    // The balancer is not placed: agent-balancer is left out, and said so.
    let d = find(&ds, "role `balancer` of acme is not placed");
    assert!(d.message.contains("agent-balancer"));
}

#[test]
fn unknown_ids_are_located_with_did_you_mean() {
    let ds = diags(
        "name: t
products:
  - product: acme
    features: [mailr]
    without: [webs]
    choices: {databse: pg}
    parameters: {web_prot: 8444}
    roles:
      servr: [10.0.0.5]
      admin: [10.1.0.0/24]
    overrides:
      - {requirement: mial, target: 10.0.0.9, ports: [587]}
  - product: acm
    roles: {}
",
    );
    let cases = [
        ("unknown feature of acme `mailr`", 4, "mailer"),
        ("unknown feature of acme `webs`", 5, "web"),
        ("unknown choice of acme `databse`", 6, "database"),
        ("unknown parameter of acme `web_prot`", 7, "web_port"),
        ("unknown role of acme `servr`", 9, "server"),
        ("unknown requirement of acme `mial`", 12, "mail"),
        ("unknown product `acm`", 13, "acme"),
    ];
    for (msg, line, hint) in cases {
        let d = find(&ds, msg);
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.line, Some(line), "{msg}");
        assert!(
            d.hint
                .as_deref()
                .unwrap_or("")
                .contains(&format!("`{hint}`")),
            "{d:?}"
        );
    }
}

#[test]
fn unknown_choice_option_and_parameter_outside_allowed() {
    let ds = diags(&format!(
        "{BASE}    choices: {{database: oracle}}\n    parameters: {{web_port: 9443}}\n"
    ));
    let d = find(&ds, "unknown option of choice `database` `oracle`");
    assert_eq!(d.line, Some(11));
    assert!(d.hint.as_deref().unwrap().contains("none, pg"));
    let d = find(&ds, "`web_port` = 9443 is outside the allowed 8000-8999");
    assert_eq!((d.line, d.column), (Some(12), Some(28)));
}

#[test]
fn enabled_feature_without_parameter_value_names_the_parameter() {
    let ds = diags(&format!("{BASE}    features: [custom]\n"));
    let d = find(&ds, "parameter `custom_port`");
    assert!(d.message.contains("feature `custom` needs"));
    assert!(d.message.contains("no default and no value"));
    assert_eq!(d.line, Some(11));
    // Giving the value clears it.
    let ds = diags(&format!(
        "{BASE}    features: [custom]\n    parameters: {{custom_port: 6000}}\n"
    ));
    assert!(ds.iter().all(|d| !d.is_error()), "{ds:#?}");
}

#[test]
fn role_with_no_addresses_and_unresolvable_entries() {
    let ds = diags(
        "name: t
hosts: {srv1: 10.0.0.5}
products:
  - product: acme
    roles:
      server: [srv2]
      admin: []
      agent: [10.0.0.300]
",
    );
    let d = find(&ds, "role `admin` of acme has no addresses");
    assert_eq!(d.line, Some(7));
    let d = find(&ds, "unknown host or network `srv2`");
    assert_eq!((d.line, d.column), (Some(6), Some(16)));
    assert!(d.hint.as_deref().unwrap().contains("`srv1`"));
    let d = find(&ds, "`10.0.0.300` is not an IPv4 address: 300 is above 255");
    assert_eq!(d.line, Some(8));
}

#[test]
fn colocated_roles_move_the_port_and_do_not_conflict() {
    // Separate hosts: agents reach the server directly and the balancer.
    let sep = format!("{BASE}      balancer: [lb1]\n");
    let ds = diags(&sep);
    assert!(ds.iter().all(|d| !d.is_error()), "{ds:#?}");
    let flows = plan_unmerged(&catalog(), &dep(&sep), &PlanOptions::default()).unwrap();
    let ids: Vec<String> = flows.iter().flat_map(|f| f.reason_ids()).collect();
    assert!(ids.contains(&"acme/agent-server".to_string()));
    assert!(!ids.contains(&"acme/balancer-server-shared".to_string()));

    // One host: the condition flips, the server takes 7002, no conflict.
    let shared = format!("{BASE}      balancer: [srv1]\n");
    let ds = diags(&shared);
    assert!(ds.iter().all(|d| !d.is_error()), "{ds:#?}");
    let flows = plan_unmerged(&catalog(), &dep(&shared), &PlanOptions::default()).unwrap();
    let ids: Vec<String> = flows.iter().flat_map(|f| f.reason_ids()).collect();
    assert!(!ids.contains(&"acme/agent-server".to_string()));
    assert!(
        !ids.contains(&"acme/balancer-server-shared".to_string()),
        "same host: no network flow"
    );

    // Shared by address rather than by name counts as colocated too; moving
    // the agent port onto 7002 makes the two roles collide.
    let clash = "name: t
products:
  - product: acme
    parameters: {agent_port: 7002}
    roles:
      server: [10.0.0.5]
      balancer: [10.0.0.5]
      admin: [192.0.2.0/24]
      agent: [10.8.0.0/16]
";
    let ds = diags(clash);
    let d = find(&ds, "port conflict on `10.0.0.5`");
    assert!(d.message.contains("tcp/7002"), "{d:?}");
    assert!(d.message.contains("acme/balancer (agent-balancer)"));
    assert!(d.message.contains("acme/server (balancer-server-shared)"));
    assert_eq!(d.severity, Severity::Error);
}

#[test]
fn listeners_of_two_products_on_one_host_conflict_loopback_included() {
    let ds = diags(&format!(
        "{BASE}  - product: other\n    roles:\n      node: [srv1]\n      user: [192.0.2.0/24]\n"
    ));
    let d = find(&ds, "port conflict on `srv1`");
    assert_eq!(
        d.message,
        "port conflict on `srv1`: tcp/8443,9000 is a listener of acme/server (admin-web, status) \
         and of other/node (node-status, user-node)"
    );
    assert_eq!(d.line, Some(13));
}

#[test]
fn overlapping_claims_warn_but_named_networks_do_not() {
    let ds = diags(
        "name: t
networks: {lan: 10.9.0.0/16}
products:
  - product: acme
    roles:
      server: [10.0.0.5]
      admin: [10.0.0.0/24, lan]
      agent: [10.9.1.0/24]
",
    );
    let d = find(&ds, "lies inside");
    assert_eq!(d.severity, Severity::Warning);
    assert!(d
        .message
        .contains("`10.0.0.5` (acme/server) lies inside `10.0.0.0/24` (acme/admin)"));
    assert_eq!(d.line, Some(6));
    assert_eq!(
        ds.iter()
            .filter(|d| d.message.contains("lies inside"))
            .count(),
        1
    );
}

#[test]
fn alternatives_warn_unless_an_override_narrows_them() {
    let on = format!("{BASE}      mail: [10.0.3.25]\n    features: [mailer]\n");
    let ds = diags(&on);
    let d = find(&ds, "are alternatives");
    assert!(d.message.contains("25,465,587"));
    let narrowed = format!(
        "{on}    overrides:\n      - {{requirement: mail, target: 10.0.3.25, ports: [587]}}\n"
    );
    let ds = diags(&narrowed);
    assert!(
        ds.iter().all(|d| !d.message.contains("alternatives")),
        "{ds:#?}"
    );
    let set = plan(&catalog(), &dep(&narrowed)).unwrap();
    let mail: Vec<_> = set
        .flows
        .iter()
        .filter(|f| f.reason_ids().contains(&"acme/mail".into()))
        .collect();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].ports.to_string(), "587");
}

#[test]
fn an_override_inside_a_cidr_splits_the_destination() {
    let d = format!(
        "{BASE}      mail: [10.0.3.0/24]\n    features: [mailer]\n    overrides:\n      - {{requirement: mail, target: 10.0.3.7, ports: [2525]}}\n"
    );
    let flows = plan_unmerged(&catalog(), &dep(&d), &PlanOptions::default()).unwrap();
    let mail: Vec<_> = flows
        .iter()
        .filter(|f| f.reason_ids().contains(&"acme/mail".into()))
        .collect();
    let special = mail.iter().find(|f| f.ports.to_string() == "2525").unwrap();
    assert_eq!(special.dst.addrs, vec!["10.0.3.7".parse().unwrap()]);
    let general = mail
        .iter()
        .find(|f| f.ports.to_string() == "25,465,587")
        .unwrap();
    let ip: std::net::IpAddr = "10.0.3.7".parse().unwrap();
    assert!(general
        .dst
        .addrs
        .iter()
        .all(|a| !matches!(a, portplan_model::Addr::Net(n) if n.contains(&ip))));
    assert_eq!(general.dst.addrs.len(), 8);
    // A target outside every destination is an error.
    let bad = d.replace("10.0.3.7", "10.0.4.7");
    let ds = diags(&bad);
    let e = find(
        &ds,
        "override target `10.0.4.7` is not a destination of `mail`",
    );
    assert_eq!(e.line, Some(14));
}

#[test]
fn choices_optional_requirements_endpoints_and_loopback() {
    let d = format!("{BASE}      db: [10.0.4.10]\n    choices: {{database: pg}}\n");
    let flows = plan_unmerged(&catalog(), &dep(&d), &PlanOptions::default()).unwrap();
    let by = |id: &str| {
        flows
            .iter()
            .filter(|f| f.reason_ids().contains(&format!("acme/{id}")))
            .count()
    };
    assert_eq!(by("server-db"), 1);
    assert_eq!(
        by("server-cloud"),
        1,
        "optional requirements are planned by default"
    );
    let cloud = flows
        .iter()
        .find(|f| f.reason_ids() == ["acme/server-cloud"])
        .unwrap();
    assert_eq!(cloud.dst.addrs, vec!["api.acme.example".parse().unwrap()]);
    let status = flows
        .iter()
        .find(|f| f.reason_ids() == ["acme/status"])
        .unwrap();
    assert_eq!(status.scope, portplan_model::Scope::Loopback);
    assert_eq!(status.src, status.dst);
    assert_eq!(status.protocol, Protocol::Tcp);
    let lean = plan_unmerged(&catalog(), &dep(&d), &PlanOptions { no_optional: true }).unwrap();
    assert!(lean.iter().all(|f| f.required));
    let off = format!("{d}    optional: false\n");
    let lean = plan_unmerged(&catalog(), &dep(&off), &PlanOptions::default()).unwrap();
    assert!(lean.iter().all(|f| f.required));
    // Without the choice, no database flow.
    let flows = plan_unmerged(&catalog(), &dep(BASE), &PlanOptions::default()).unwrap();
    assert!(flows
        .iter()
        .all(|f| !f.reason_ids().contains(&"acme/server-db".into())));
}

#[test]
fn every_flow_carries_its_reason_and_citation() {
    let set = plan(&catalog(), &dep(BASE)).unwrap();
    assert!(!set.flows.is_empty());
    for f in &set.flows {
        assert!(!f.because.is_empty());
        assert!(f.because.iter().all(|b| b.source.starts_with("acme.txt:")));
        assert!(!f.src.labels.is_empty() && !f.dst.labels.is_empty());
    }
    let web = set
        .flows
        .iter()
        .find(|f| f.reason_ids() == ["acme/admin-web"])
        .unwrap();
    assert_eq!(web.dst.labels, vec!["srv1"]);
    assert_eq!(web.src.labels, vec!["acme/admin"]);
    assert_eq!(web.ports.to_string(), "8443");
    assert_eq!(web.because[0].source, "acme.txt:1");
}

#[test]
fn products_sharing_an_outside_service_do_not_conflict() {
    let shared = "name: t
hosts: {pg: 10.0.9.9, srv1: 10.0.0.5, node1: 10.0.0.6}
products:
  - product: acme
    choices: {database: pg}
    roles:
      server: [srv1]
      admin: [192.0.2.0/24]
      agent: [10.8.0.0/16]
      db: [pg]
  - product: other
    roles:
      node: [node1]
      user: [192.0.2.0/24]
      store: [pg]
";
    let ds = diags(shared);
    assert!(ds.iter().all(|d| !d.is_error()), "{ds:#?}");
    // Two outside services on one host (one server for both databases)
    // neither, nor a product's component and another product's target.
    let ds = diags(
        &shared
            .replace("store: [pg]", "store: [node1]")
            .replace("db: [pg]", "db: [node1]"),
    );
    assert!(
        ds.iter().all(|d| !d.is_error()),
        "two outside services: {ds:#?}"
    );
}

#[test]
fn roles_of_one_product_on_one_node_share_listeners_unless_paired() {
    // Server and worker both serve the web port; the catalog never says
    // their sharing a host matters, so one node may play both (personas).
    let ds = diags(&format!("{BASE}      worker: [srv1]\n"));
    assert!(ds.iter().all(|d| !d.is_error()), "{ds:#?}");
    // Server and balancer are named in a `colocated` condition: on one host
    // with the same port they collide (see the colocated test).
}

#[test]
fn a_parameter_nothing_planned_uses_warns() {
    let ds = diags(&format!("{BASE}    parameters: {{custom_port: 6000}}\n"));
    let d = find(
        &ds,
        "parameter `custom_port` is set but no planned flow uses it",
    );
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line, Some(11));
    assert!(d
        .hint
        .as_deref()
        .unwrap()
        .contains("custom (feature custom)"));
    let ds = diags(&format!(
        "{BASE}    features: [custom]\n    parameters: {{custom_port: 6000}}\n"
    ));
    assert!(
        ds.iter().all(|d| !d.message.contains("no planned flow")),
        "{ds:#?}"
    );
}

#[test]
fn an_unplaced_role_says_which_switch_silences_it() {
    let hint = |ds: &[Diagnostic], role: &str| {
        find(ds, &format!("role `{role}` of acme is not placed"))
            .hint
            .clone()
            .unwrap()
    };
    let base = "name: t\nproducts:\n  - product: acme\n    roles:\n      server: [10.0.0.5]\n      agent: [10.0.1.0/24]\n      balancer: [10.0.0.6]\n";
    // `admin` is needed by a core requirement too: only placing it helps.
    let ds = diags(base);
    let h = hint(&ds, "admin");
    assert!(
        h.contains("place it: `roles: {admin: [HOST or CIDR]}`"),
        "{h}"
    );
    assert!(h.contains("no feature switches off `admin-worker`"), "{h}");
    // `mail` is needed only by a feature the file enables.
    let ds = diags(&format!("{base}    features: [mailer]\n"));
    let h = hint(&ds, "mail");
    assert!(h.contains("or remove `mailer` from `features:`"), "{h}");
    // `db` is needed only by one option of a choice.
    let ds = diags(&format!("{base}    choices: {{database: pg}}\n"));
    let h = hint(&ds, "db");
    assert!(
        h.contains("choose another option: `choices: {database: OPTION}` with OPTION one of none"),
        "{h}"
    );
}

#[test]
fn an_unplaced_role_of_a_default_feature_names_the_without_line() {
    let solo: Parsed<Product> = parse_yaml(
        "solo.yaml",
        r#"
product: solo
name: Solo
vendor: Solo
sources: [{id: ports, title: Ports, file: solo.txt}]
roles:
  - {id: server, name: Server, kind: component}
  - {id: viewer, name: Viewer, kind: client}
features:
  - {id: dashboard, name: Dashboard, default: true}
requirements:
  - {id: viewer-dashboard, service: HTTPS, from: viewer, to: server, protocol: tcp, ports: [443], feature: dashboard, source: {doc: ports, line: 1}}
"#,
    )
    .unwrap();
    let mut cat = catalog();
    cat.products.insert("solo".into(), solo.value);
    let text = "name: t\nproducts:\n  - product: solo\n    roles:\n      server: [10.0.0.5]\n";
    let ds = check(&cat, &dep(text));
    let d = find(&ds, "role `viewer` of solo is not placed");
    let h = d.hint.as_deref().unwrap();
    assert!(
        h.contains("switch off the feature that needs it: `without: [dashboard]`"),
        "{h}"
    );
    // And doing what it says silences it.
    let ds = check(&cat, &dep(&format!("{text}    without: [dashboard]\n")));
    assert!(ds.is_empty(), "{ds:#?}");
}

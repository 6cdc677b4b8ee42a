//! The Kubernetes NetworkPolicy reader: what verdicts mean, on a cluster
//! export (`kubectl get networkpolicy -A -o yaml`), a multi-document file
//! and our own output; the symbols pods are named by; issues and errors
//! with their lines; no panic on mangled input.

mod common;

use common::members;
use portplan_ruleset::{Judged, Members, Ruleset, Verdict};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    common::fixture("k8s", name)
}

fn read(text: &str) -> Ruleset {
    match portplan_ruleset::read(text, "test.yaml", Some("k8s")) {
        Ok(r) => r,
        Err(e) => panic!("not read: {e}"),
    }
}

fn ask(rs: &Ruleset, m: &Members, q: &str) -> Judged {
    common::judged(rs, m, q, None)
}

/// The verdict and the lines of the rules that decided it (0: a policy).
fn decided(rs: &Ruleset, m: &Members, q: &str) -> (Verdict, Vec<usize>) {
    common::decided(rs, m, q, None)
}

/// The line of the first line holding `needle` after the first one
/// holding `after`.
fn line(text: &str, after: &str, needle: &str) -> usize {
    let start = text
        .lines()
        .position(|l| l.contains(after))
        .unwrap_or_else(|| panic!("no `{after}`"));
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("no `{needle}` after `{after}`"))
}

/// The line that is exactly `whole` after the first one holding `after`.
fn exact(text: &str, after: &str, whole: &str) -> usize {
    let start = line(text, after, after);
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| *l == whole)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("no line `{whole}` after `{after}`"))
}

// ---- a cluster export: kind List ----

fn cluster_members() -> Members {
    members(&[
        ("pods:payments/*", "10.1.0.0/16"),
        ("pods:payments/app=api", "10.1.1.0/28"),
        ("pods:payments/app=db", "10.1.2.0/28"),
        ("namespace:team=web/app=frontend", "10.2.0.0/24"),
        ("pods:monitoring/*", "10.3.0.0/24"),
        ("namespace:*/k8s-app=kube-dns", "10.96.0.10"),
        (
            "pods:shop/env notin (dev),tier in (cache),tls",
            "10.5.1.0/28",
        ),
        ("pods:shop/!canary,tier in (checkout,web)", "10.5.2.0/24"),
    ])
}

#[test]
fn symbols_are_spelled_as_documented() {
    let rs = read(&fixture("cluster-list.yaml"));
    assert_eq!(
        rs.symbols(),
        [
            "namespace:*/k8s-app=kube-dns",
            "namespace:team=web/app=frontend",
            "pods:monitoring/*",
            "pods:payments/*",
            "pods:payments/app=api",
            "pods:payments/app=db",
            "pods:shop/!canary,tier in (checkout,web)",
            "pods:shop/env notin (dev),tier in (cache),tls",
        ]
    );
    // Without a namespace the pods are `pods:*/...`; a namespace selector
    // that names a namespace is that namespace.
    let rs = read(&fixture("multi-document.yaml"));
    assert_eq!(
        rs.symbols(),
        [
            "pods:*/*",
            "pods:*/app=batch",
            "pods:*/app=gateway",
            "pods:*/app=ledger",
            "pods:*/app=ledger,role=api",
            "pods:kube-system/k8s-app=kube-dns",
        ]
    );
}

#[test]
fn a_pod_a_policy_selects_is_isolated_and_the_policies_add_up() {
    let t = fixture("cluster-list.yaml");
    let rs = read(&t);
    let m = cluster_members();
    let deny = line(&t, "name: default-deny-ingress", "podSelector: {}");
    // Default deny: any payments pod, from anywhere.
    assert_eq!(
        decided(&rs, &m, "tcp 10.9.9.9 -> 10.1.7.7:80"),
        (Verdict::Blocked, vec![deny])
    );
    // The api pods are selected by the default deny and by their own
    // policy: what that one allows gets in.
    let https = line(&t, "name: api-allow-frontend", "port: 8443");
    let (v, lines) = decided(&rs, &m, "tcp 10.2.0.5 -> 10.1.1.3:8443");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&https), "{lines:?}");
    // Another port, or another source: the isolation blocks it.
    assert_eq!(
        decided(&rs, &m, "tcp 10.2.0.5 -> 10.1.1.3:8080"),
        (Verdict::Blocked, vec![deny])
    );
    assert_eq!(
        decided(&rs, &m, "tcp 10.2.1.5 -> 10.1.1.3:8443"),
        (Verdict::Blocked, vec![deny])
    );
    // The shop's cache: matchExpressions on both sides.
    let redis = line(&t, "name: cache-from-shop", "port: 6379");
    let (v, lines) = decided(&rs, &m, "tcp 10.5.2.9 -> 10.5.1.2:6379");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&redis));
    let shop = exact(&t, "name: cache-from-shop", "    podSelector:");
    assert_eq!(
        decided(&rs, &m, "tcp 10.5.2.9 -> 10.5.1.2:6380"),
        (Verdict::Blocked, vec![shop])
    );
}

#[test]
fn pods_no_policy_selects_accept_everything() {
    let rs = read(&fixture("cluster-list.yaml"));
    let m = cluster_members();
    // 10.7.0.1 is no pod any policy selects: both policies (ends) accept.
    assert_eq!(
        decided(&rs, &m, "udp 10.9.9.9 -> 10.7.0.1:5000"),
        (Verdict::Allowed, vec![0])
    );
}

#[test]
fn ip_block_except_is_left_out() {
    let t = fixture("cluster-list.yaml");
    let rs = read(&t);
    let m = cluster_members();
    let pg = line(&t, "name: db-allow-api-and-backup", "port: 5432");
    let deny = line(&t, "name: default-deny-ingress", "podSelector: {}");
    let (v, lines) = decided(&rs, &m, "tcp 10.40.1.1 -> 10.1.2.3:5432");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&pg));
    assert_eq!(
        decided(&rs, &m, "tcp 10.40.9.5 -> 10.1.2.3:5432"),
        (Verdict::Blocked, vec![deny])
    );
    // From an api pod: allowed in at the db and out at the api.
    let out = line(&t, "name: api-egress", "port: 5432");
    let (v, lines) = decided(&rs, &m, "tcp 10.1.1.2 -> 10.1.2.3:5432");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&pg) && lines.contains(&out), "{lines:?}");
}

#[test]
fn a_named_port_is_unknown() {
    let t = fixture("cluster-list.yaml");
    let rs = read(&t);
    let m = cluster_members();
    let named = line(&t, "name: api-allow-frontend", "port: metrics");
    let issue = rs
        .issues
        .iter()
        .find(|i| i.message.contains("named port"))
        .expect("the named port is an issue");
    assert_eq!(issue.line, named);
    assert_eq!(rs.issues.len(), 1, "{:?}", rs.issues);
    let j = ask(&rs, &m, "tcp 10.3.0.9 -> 10.1.1.3:9090");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert_eq!(j.parts[0].by[0].line, named);
    assert!(j.parts[0].why.as_deref().unwrap_or("").contains("metrics"));
    // From elsewhere the named port does not matter: the rule only admits
    // the monitoring namespace.
    let deny = line(&t, "name: default-deny-ingress", "podSelector: {}");
    assert_eq!(
        decided(&rs, &m, "tcp 10.9.0.9 -> 10.1.1.3:9090"),
        (Verdict::Blocked, vec![deny])
    );
}

#[test]
fn egress_rules_isolate_their_pods() {
    let t = fixture("cluster-list.yaml");
    let rs = read(&t);
    let m = cluster_members();
    let egress = exact(&t, "name: api-egress", "    podSelector:");
    assert_eq!(
        decided(&rs, &m, "tcp 10.1.1.2 -> 8.8.8.8:443"),
        (Verdict::Blocked, vec![egress])
    );
    let dns = line(&t, "name: api-egress", "port: 53");
    let (v, lines) = decided(&rs, &m, "udp 10.1.1.2 -> 10.96.0.10:53");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&dns));
    // endPort: a range.
    let range = line(&t, "endPort: 30100", "port: 30000");
    let (v, lines) = decided(&rs, &m, "tcp 10.1.1.2 -> 192.168.100.7:30000-30100");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&range));
    assert_eq!(
        decided(&rs, &m, "tcp 10.1.1.2 -> 192.168.100.7:30101").0,
        Verdict::Blocked
    );
    // Only Egress in policyTypes: the api pods' ingress is the other
    // policies' business (the default deny), not this one's.
    assert_eq!(
        decided(&rs, &m, "tcp 10.9.9.9 -> 10.1.1.3:30000").1,
        vec![line(&t, "name: default-deny-ingress", "podSelector: {}")]
    );
}

#[test]
fn selectors_are_unknown_until_their_members_are_given() {
    let rs = read(&fixture("cluster-list.yaml"));
    let j = ask(&rs, &Members::default(), "tcp 10.2.0.5 -> 10.1.1.3:8443");
    assert_eq!(j.verdict, Verdict::Unknown);
    let why = j.parts[0].why.clone().unwrap_or_default();
    assert!(why.contains("--member"), "{why}");
    assert_eq!(
        decided(&rs, &cluster_members(), "tcp 10.2.0.5 -> 10.1.1.3:8443").0,
        Verdict::Allowed
    );
}

// ---- several documents, no namespace ----

fn ledger_members() -> Members {
    members(&[
        ("pods:*/*", "10.8.0.0/16"),
        ("pods:*/app=ledger,role=api", "10.8.1.0/28"),
        ("pods:*/app=ledger", "10.8.1.0/27"),
        ("pods:*/app=gateway", "10.8.2.0/28"),
        ("pods:*/app=batch", "10.8.3.0/28"),
        ("pods:kube-system/k8s-app=kube-dns", "10.96.0.10"),
    ])
}

#[test]
fn documents_without_a_namespace() {
    let t = fixture("multi-document.yaml");
    let rs = read(&t);
    let m = ledger_members();
    // Notes: the namespace is not said (four policies), the Service is skipped.
    let no_ns = rs
        .notes
        .iter()
        .filter(|n| n.message.contains("no metadata.namespace"))
        .count();
    assert_eq!(no_ns, 4);
    let svc = line(&t, "kind: Service", "kind: Service");
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("not a NetworkPolicy") && n.line + 1 == svc));
    assert!(rs.issues.is_empty(), "{:?}", rs.issues);
    let deny = line(&t, "name: default-deny-all", "podSelector: {}");
    let https = line(&t, "name: ledger-api", "port: 443");
    let grpc = line(&t, "name: ledger-api", "port: 9443");
    // From the office network: in at the port's line; the port's protocol
    // is TCP when not said.
    let (v, lines) = decided(&rs, &m, "tcp 172.16.3.4 -> 10.8.1.3:443");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&https));
    assert!(decided(&rs, &m, "tcp 172.16.3.4 -> 10.8.1.3:9443")
        .1
        .contains(&grpc));
    assert_eq!(
        decided(&rs, &m, "udp 172.16.3.4 -> 10.8.1.3:443"),
        (Verdict::Blocked, vec![deny])
    );
    // From the gateway pods: allowed in, but the default deny isolates
    // their egress too.
    assert_eq!(
        decided(&rs, &m, "tcp 10.8.2.5 -> 10.8.1.3:443"),
        (Verdict::Blocked, vec![deny])
    );
    // A rule without peers: from anywhere.
    let health = line(&t, "name: ledger-health", "port: 8081");
    assert!(decided(&rs, &m, "tcp 198.51.100.1 -> 10.8.1.20:8081")
        .1
        .contains(&health));
    // `ingress: [{}]`: everything.
    let all = line(&t, "name: batch-allow-all", "- {}");
    assert_eq!(
        decided(&rs, &m, "udp 198.51.100.1 -> 10.8.3.5:9999"),
        (Verdict::Allowed, vec![all])
    );
    // Egress: SCTP to the Diameter peers, DNS in kube-system; nothing else.
    let sctp = line(&t, "name: ledger-api", "port: 3868");
    assert!(decided(&rs, &m, "sctp 10.8.1.3 -> 10.60.1.1:3868")
        .1
        .contains(&sctp));
    assert_eq!(
        decided(&rs, &m, "udp 10.8.1.3 -> 10.96.0.10:53").0,
        Verdict::Allowed
    );
    assert_eq!(
        decided(&rs, &m, "tcp 10.8.1.3 -> 10.60.1.1:443"),
        (Verdict::Blocked, vec![deny])
    );
}

// ---- our own output ----

#[test]
fn our_output_names_the_party_addresses() {
    let (set, _) = common::plan("strongdm");
    let text = common::render("k8s", &set, None).text;
    let rs = read(&text);
    assert!(rs.issues.is_empty(), "{:?}", rs.issues);
    let m = Members::default();
    let ssh = line(&text, "# bastion-1 (10.30.0.40)", "port: 22");
    let (v, lines) = decided(&rs, &m, "tcp 10.20.0.10 -> 10.30.0.40:22");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&ssh), "{lines:?}");
    let sel = line(&text, "# bastion-1 (10.30.0.40)", "podSelector:");
    assert_eq!(
        decided(&rs, &m, "tcp 10.20.0.10 -> 10.30.0.40:23"),
        (Verdict::Blocked, vec![sel])
    );
    // A pod reaches itself whatever the policies say.
    assert_eq!(
        decided(&rs, &m, "tcp 10.30.0.40 -> 10.30.0.40:23"),
        (Verdict::Allowed, vec![0])
    );
    // Elsewhere (a DNS name, a host without a policy) is not a pod of ours.
    assert_eq!(
        decided(&rs, &m, "tcp 10.30.0.40 -> app.strongdm.com:443").0,
        Verdict::Allowed
    );
    let comment = line(&text, "# bastion-1 (10.30.0.40)", "# bastion-1");
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == comment && n.message.contains("10.30.0.40")));
}

const OVERLAP: &str = "\
---
# web (10.0.0.1, 10.0.0.2)
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: portplan-web
  labels:
    app.kubernetes.io/managed-by: portplan
spec:
  podSelector:
    matchLabels:
      portplan.dev/party: web
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              portplan.dev/party: web-1
        - ipBlock:
            cidr: 10.0.0.1/32
      ports:
        - protocol: TCP
          port: 443
---
# web-1 (10.0.0.1)
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: portplan-web-1
  labels:
    app.kubernetes.io/managed-by: portplan
spec:
  podSelector:
    matchLabels:
      portplan.dev/party: web-1
  policyTypes:
    - Ingress
  ingress:
    - ports:
        - protocol: TCP
          port: 22
";

#[test]
fn one_address_in_two_parties_is_an_issue() {
    let rs = read(OVERLAP);
    // A pod carries one value of the party label: 10.0.0.1 cannot be both.
    let lines: Vec<usize> = rs
        .issues
        .iter()
        .filter(|i| i.message.contains("one value of label"))
        .map(|i| i.line)
        .collect();
    assert_eq!(lines, [2, 26]);
    let m = Members::default();
    // 10.0.0.2 is web's alone: decided.
    assert_eq!(
        decided(&rs, &m, "tcp 10.9.9.9 -> 10.0.0.2:443"),
        (Verdict::Blocked, vec![10])
    );
    assert_eq!(
        decided(&rs, &m, "tcp 10.0.0.1 -> 10.0.0.2:443").0,
        Verdict::Allowed
    );
    // 10.0.0.1: which policy selects it is unknown until said.
    assert_eq!(
        decided(&rs, &m, "tcp 10.9.9.9 -> 10.0.0.1:22").0,
        Verdict::Unknown
    );
    let m = members(&[
        ("pods:*/portplan.dev/party=web-1", "10.0.0.1"),
        ("pods:*/portplan.dev/party=web", "10.0.0.2"),
    ]);
    assert_eq!(
        decided(&rs, &m, "tcp 10.9.9.9 -> 10.0.0.1:22"),
        (Verdict::Allowed, vec![42])
    );
    assert_eq!(
        decided(&rs, &m, "tcp 10.9.9.9 -> 10.0.0.1:443"),
        (Verdict::Blocked, vec![34])
    );
}

// ---- issues ----

#[test]
fn constructs_not_understood_are_issues_with_lines() {
    let text = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: odd
  namespace: prod
spec:
  podSelector:
    matchExpressions:
      - key: tier
        operator: Gt
        values: [\"3\"]
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/33
      ports:
        - protocol: ICMP
        - port: 9000
          endPort: 8000
";
    let rs = read(text);
    let at = |needle: &str| -> usize {
        rs.issues
            .iter()
            .find(|i| i.message.contains(needle))
            .unwrap_or_else(|| panic!("no issue about {needle}: {:?}", rs.issues))
            .line
    };
    assert_eq!(at("operator `Gt`"), 9);
    assert_eq!(at("not a CIDR"), 15);
    assert_eq!(at("protocol `ICMP`"), 17);
    assert_eq!(at("endPort"), 19);
    // What they touch is unknown, never guessed.
    let j = ask(&rs, &Members::default(), "tcp 10.0.0.1 -> 10.1.0.1:9000");
    assert_eq!(j.verdict, Verdict::Unknown);
}

#[test]
fn a_policy_of_another_api_makes_verdicts_unknown() {
    let text = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: prod
spec:
  podSelector: {}
  ingress:
    - {}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: l7
  namespace: prod
spec:
  endpointSelector: {}
  ingressDeny:
    - fromEntities: [world]
";
    let rs = read(text);
    assert_eq!(rs.issues.len(), 1);
    assert_eq!(rs.issues[0].line, 11);
    assert!(rs.issues[0].message.contains("another API"));
    let j = ask(&rs, &Members::default(), "tcp 1.2.3.4 -> 10.0.0.1:80");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert_eq!(j.parts[0].by[0].line, 11);
}

#[test]
fn policy_types_and_empty_rules() {
    // Ingress listed, no ingress rules: deny all. Egress rules without
    // Egress in policyTypes do not apply (noted).
    let text = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: quiet
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: quiet
  policyTypes: [Ingress]
  egress:
    - to:
        - ipBlock: {cidr: 10.0.0.0/8}
";
    let rs = read(text);
    assert!(rs.issues.is_empty());
    assert!(rs.notes.iter().any(|n| n.line == 11));
    let m = members(&[("pods:prod/app=quiet", "10.5.0.0/24")]);
    assert_eq!(
        decided(&rs, &m, "tcp 10.0.0.1 -> 10.5.0.9:80"),
        (Verdict::Blocked, vec![7])
    );
    assert_eq!(
        decided(&rs, &m, "tcp 10.5.0.9 -> 8.8.8.8:53"),
        (Verdict::Allowed, vec![0])
    );
    // Without policyTypes, egress rules make it an egress policy too.
    let rs = read(&text.replace("  policyTypes: [Ingress]\n", ""));
    assert_eq!(
        decided(&rs, &m, "tcp 10.5.0.9 -> 8.8.8.8:53"),
        (Verdict::Blocked, vec![7])
    );
    assert_eq!(
        decided(&rs, &m, "tcp 10.5.0.9 -> 10.1.2.3:53"),
        (Verdict::Allowed, vec![12])
    );
}

// ---- errors ----

#[test]
fn broken_input_is_a_located_error() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "apiVersion: v1\nkind: List\nitems:\n- kind: NetworkPolicy\n  spec: {podSelector: [\n",
            6,
            "YAML",
        ),
        ("just some words\n", 1, "scalar"),
        (
            "---\napiVersion: networking.k8s.io/v1\nmetadata:\n  name: x\n",
            2,
            "no `kind`",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
            1,
            "no NetworkPolicy",
        ),
        ("a:\n\t- b\n", 2, "YAML"),
    ];
    for (text, want, says) in cases {
        let e = portplan_ruleset::read(text, "x.yaml", Some("k8s"))
            .expect_err(&format!("read: {text}"));
        assert!(
            e.line.is_some_and(|l| l >= 1 && l <= *want),
            "{text}: {e:?}"
        );
        assert!(e.column.is_some());
        assert!(e.message.contains(says), "{text}: {}", e.message);
    }
    // An empty file, or our output for a plan without a rule: nothing isolated.
    let rs = read("# nothing here\n---\n");
    assert_eq!(
        decided(&rs, &Members::default(), "tcp 1.2.3.4 -> 10.0.0.1:80"),
        (Verdict::Allowed, vec![0])
    );
}

#[test]
fn files_are_recognised() {
    for f in ["cluster-list.yaml", "multi-document.yaml"] {
        assert_eq!(portplan_ruleset::detect(&fixture(f)), Ok("k8s"), "{f}");
    }
    // `kubectl get -o json` is YAML too.
    let json = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "db", "namespace": "prod"},
            "spec": {
                "ingress": [{"ports": [{"port": 5432, "protocol": "TCP"}]}],
                "podSelector": {"matchLabels": {"app": "db"}},
                "policyTypes": ["Ingress"]
            }
        }
    ],
    "kind": "List"
}"#;
    assert_eq!(portplan_ruleset::detect(json), Ok("k8s"));
    let rs = read(json);
    let m = members(&[("pods:prod/app=db", "10.0.0.0/24")]);
    assert_eq!(
        decided(&rs, &m, "tcp 10.1.0.1 -> 10.0.0.5:5432"),
        (Verdict::Allowed, vec![9])
    );
    assert_eq!(
        decided(&rs, &m, "tcp 10.1.0.1 -> 10.0.0.5:5433"),
        (Verdict::Blocked, vec![10])
    );
}

// ---- robustness ----

fn mangle(text: &str, op: u8, at: usize, len: usize, junk: &str) -> String {
    let n = text.len();
    let at = at % (n + 1);
    let end = (at + len).min(n);
    match op % 5 {
        0 => text[..at].to_string(),
        1 => format!("{}{}", &text[..at], &text[end..]),
        2 => format!("{}{junk}{}", &text[..at], &text[at..]),
        3 => {
            // A line repeated or moved out by its indentation.
            let lines: Vec<&str> = text.lines().collect();
            let i = at % lines.len().max(1);
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if let Some(l) = lines.get(i) {
                out.insert(i, format!("{junk}{l}"));
            }
            out.join("\n")
        }
        _ => format!("{}{junk}{}", &text[..at], &text[end..]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn mangled_input_never_panics(
        which in 0usize..3,
        op in 0u8..5,
        at in 0usize..6000,
        len in 0usize..40,
        junk in "[ \\-:#&*!|>{}\\[\\],'\"\\n\\ta-z0-9./]{0,12}",
    ) {
        let base = match which {
            0 => fixture("cluster-list.yaml"),
            1 => fixture("multi-document.yaml"),
            _ => OVERLAP.to_string(),
        };
        let text = mangle(&base, op, at, len, &junk);
        if let Ok(rs) = portplan_ruleset::read(&text, "m.yaml", Some("k8s")) {
            for q in ["tcp 10.1.1.2 -> 10.1.2.3:5432", "udp 10.0.0.1 -> 10.8.1.3:53"] {
                let _ = ask(&rs, &cluster_members(), q);
                let _ = ask(&rs, &Members::default(), q);
            }
        }
    }
}

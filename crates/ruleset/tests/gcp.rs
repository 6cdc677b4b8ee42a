//! The Google Cloud readers (`gcp-json`, `gcp-terraform`) prove meaning:
//! priority order, deny before allow at equal priority, the implied rules,
//! disabled rules, tags and service accounts, networks kept apart; verdicts
//! with the rules that decide them, on fixtures written from Google's and
//! Terraform's documented syntax (tests/fixtures/gcp/README.md).

mod common;

use common::{check, damage, inbound, lines, members};
use portplan_ruleset::{Judged, Members, Ruleset, Verdict};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    common::fixture("gcp", name)
}

fn read(format: &str, name: &str) -> Ruleset {
    common::read_fixture("gcp", name, format)
}

fn ask(rs: &Ruleset, m: &Members, q: &str) -> Judged {
    common::judged(rs, m, q, None)
}

// ---- gcloud compute firewall-rules list ----

const APP_SA: &str = "sa:app@shop-prod-4711.iam.gserviceaccount.com";
const DB_SA: &str = "sa:db@shop-prod-4711.iam.gserviceaccount.com";

fn json_members() -> Members {
    members(&[
        ("network:default", "10.128.0.0/20,2001:db8:100::/64"),
        ("network:prod-vpc", "10.10.0.0/16"),
        ("tag:bastion", "10.128.0.10,2001:db8:100::10"),
        ("tag:http-server", "10.128.0.20"),
        ("tag:https-server", "10.128.0.21"),
        ("tag:web", "10.128.0.20/31"),
        ("tag:app", "10.128.0.30/31"),
        ("tag:vpn-gw", "10.128.0.40"),
        (APP_SA, "10.128.0.30/31"),
        (DB_SA, "10.128.0.50"),
    ])
}

#[test]
fn json_deny_wins_at_equal_priority() {
    let rs = read("gcp-json", "firewall-rules-list.json");
    let m = json_members();
    // allow-ssh-office (line 155) and deny-ssh-guest-wifi (line 377) are
    // both priority 900; the list has the allow first, the deny decides.
    check(
        &rs,
        &m,
        "tcp 203.0.113.200 -> 10.128.0.10:22",
        Verdict::Blocked,
        &[377],
    );
    // The other half of the office range is allowed (and its egress, from
    // outside the network, meets only the implied allow, line 0).
    check(
        &rs,
        &m,
        "tcp 203.0.113.10 -> 10.128.0.10:22",
        Verdict::Allowed,
        &[155],
    );
}

#[test]
fn json_priority_order_and_implied_rules() {
    let rs = read("gcp-json", "firewall-rules-list.json");
    let m = json_members();
    // deny-rdp (1000) comes before default-allow-rdp (65534).
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.128.0.99:3389",
        Verdict::Blocked,
        &[324],
    );
    // default-allow-ssh applies to untagged instances.
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.128.0.99:22",
        Verdict::Allowed,
        &[298],
    );
    // Nothing allows 8080: the implied deny-ingress rule (no line).
    let j = ask(&rs, &m, "tcp 198.51.100.1 -> 10.128.0.99:8080");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert_eq!(lines(&j), [0]);
    assert!(j.parts[0].by[0]
        .text
        .contains("implied rule: deny all ingress"));
    // The implied allow-egress rule, and an egress deny above it.
    let j = ask(&rs, &m, "tcp 10.128.0.99 -> 198.51.100.1:443");
    assert_eq!(j.verdict, Verdict::Allowed);
    assert!(j.parts[0].by[0]
        .text
        .contains("implied rule: allow all egress"));
    check(
        &rs,
        &m,
        "tcp 10.128.0.99 -> 198.51.100.1:587",
        Verdict::Blocked,
        &[350],
    );
    // default-allow-internal lets the network's instances in.
    check(
        &rs,
        &m,
        "udp 10.128.0.5 -> 10.128.0.99:161",
        Verdict::Allowed,
        &[237],
    );
    check(
        &rs,
        &m,
        "icmp 198.51.100.1 -> 10.128.0.99 echo-request",
        Verdict::Allowed,
        &[214],
    );
}

#[test]
fn json_disabled_rules_never_decide() {
    let rs = read("gcp-json", "firewall-rules-list.json");
    let m = json_members();
    // temp-allow-all-debug (priority 100, line 453) would allow everything.
    let j = ask(&rs, &m, "tcp 198.51.100.1 -> 10.128.0.99:8080");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert!(!lines(&j).contains(&453));
    let r = rs.rules().find(|(_, r)| r.line == 453).unwrap().1;
    assert!(matches!(r.when[..], [portplan_ruleset::Cond::Never(_)]));
}

#[test]
fn json_tags_and_service_accounts() {
    let rs = read("gcp-json", "firewall-rules-list.json");
    let m = json_members();
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.128.0.21:443",
        Verdict::Allowed,
        &[184],
    );
    check(
        &rs,
        &m,
        "tcp 10.128.0.30 -> 10.128.0.50:5432",
        Verdict::Allowed,
        &[36],
    );
    // Source tags: web instances to app instances.
    check(
        &rs,
        &m,
        "udp 10.128.0.20 -> 10.128.0.30:8125",
        Verdict::Allowed,
        &[2],
    );
    check(
        &rs,
        &m,
        "esp 198.51.100.7 -> 10.128.0.40",
        Verdict::Allowed,
        &[64],
    );
    check(
        &rs,
        &m,
        "tcp [2001:db8:1::5] -> [2001:db8:100::10]:22",
        Verdict::Allowed,
        &[127],
    );
    // Whether 10.128.0.21 carries the tags is not known without them.
    let mut m2 = json_members();
    m2.map.remove("tag:http-server");
    m2.map.remove("tag:https-server");
    let j = ask(&rs, &m2, "tcp 198.51.100.1 -> 10.128.0.21:443");
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    assert_eq!(lines(&j), [184]);
    // The symbols are named as --member takes them.
    let syms = rs.symbols();
    for s in [
        "tag:bastion",
        "tag:web",
        APP_SA,
        DB_SA,
        "network:default",
        "network:prod-vpc",
    ] {
        assert!(syms.contains(&s.to_string()), "{s} in {syms:?}");
    }
}

#[test]
fn json_networks_are_kept_apart() {
    let rs = read("gcp-json", "firewall-rules-list.json");
    let m = json_members();
    check(
        &rs,
        &m,
        "tcp 10.10.1.1 -> 10.10.2.2:8080",
        Verdict::Allowed,
        &[431],
    );
    // default-allow-internal is the default network's: not prod-vpc's.
    check(
        &rs,
        &m,
        "tcp 10.128.0.5 -> 10.10.2.2:8080",
        Verdict::Blocked,
        &[0],
    );
    // default-allow-ssh does not open SSH to prod-vpc's instances either.
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.10.2.2:22",
        Verdict::Blocked,
        &[0],
    );
    assert!(rs.notes.iter().any(|n| n.message.contains("2 networks")));
    // Without the networks' instances, ingress to an address is unknown.
    let mut m2 = json_members();
    m2.map.remove("network:default");
    let j = ask(&rs, &m2, "tcp 198.51.100.1 -> 10.128.0.99:8080");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert!(rs.issues.is_empty(), "{:#?}", rs.issues);
}

#[test]
fn json_issues_are_located_and_unknown() {
    let r = portplan_ruleset::reader("gcp-json").unwrap();
    let text = r#"[
  {
    "name": "odd",
    "network": "global/networks/default",
    "allowed": [{"IPProtocol": "gre"}],
    "sourceRanges": ["10.0.0.0/8"],
    "sourceSecureTags": [{"name": "tagValues/123"}]
  },
  {
    "name": "ok",
    "network": "global/networks/default",
    "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
    "sourceRanges": ["10.0.0.0/8"]
  }
]"#;
    let rs = r.read(text, "x.json").unwrap();
    assert_eq!(rs.issues.len(), 1, "{:#?}", rs.issues);
    assert_eq!(rs.issues[0].line, 2);
    assert!(rs.issues[0].message.contains("gre"));
    assert!(rs.issues[0].message.contains("sourceSecureTags"));
    let m = members(&[("network:default", "10.128.0.0/20")]);
    // Port 23: only the rule not understood may allow it.
    let j = ask(&rs, &m, "tcp 10.1.1.1 -> 10.128.0.5:23");
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    assert_eq!(lines(&j), [2]);
    // Port 22: allowed by the next rule whether or not the first matches.
    let j = ask(&rs, &m, "tcp 10.1.1.1 -> 10.128.0.5:22");
    assert_eq!(j.verdict, Verdict::Allowed, "{:#?}", j.parts);
}

#[test]
fn json_bad_input_is_located() {
    let r = portplan_ruleset::reader("gcp-json").unwrap();
    let e = r
        .read("[\n  {\"name\": \"a\"\n  \"network\": \"x\"}\n]", "x.json")
        .unwrap_err();
    assert_eq!((e.line, e.column), (Some(3), Some(3)), "{e}");
    let e = r.read("{\"SecurityGroups\": []}", "x.json").unwrap_err();
    assert!(e.message.contains("firewall-rules list"), "{e}");
    assert!(r.read("[]", "x.json").is_err());
    let e = r
        .read(
            "[\n {\"name\": \"a\", \"network\": \"n\",\n  \"direction\": \"SIDEWAYS\", \"allowed\": []}]",
            "x.json",
        )
        .unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
}

// ---- Terraform ----

fn tf_members() -> Members {
    members(&[
        ("network:prod-vpc", "10.10.0.0/16"),
        ("tag:ssh", "10.10.1.10"),
        ("tag:web", "10.10.2.0/24"),
        ("tag:app", "10.10.3.0/24"),
    ])
}

#[test]
fn terraform_priorities_and_implied_rules() {
    let rs = read("gcp-terraform", "hand-written.tf");
    let m = tf_members();
    check(
        &rs,
        &m,
        "tcp 35.235.240.5 -> 10.10.1.10:22",
        Verdict::Allowed,
        &[24],
    );
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.10.2.5:443",
        Verdict::Allowed,
        &[71],
    );
    // deny_telnet (500) before allow_internal (default 1000).
    let rin = inbound(&rs);
    check(
        &rin,
        &m,
        "tcp 10.10.5.5 -> 10.10.1.10:23",
        Verdict::Blocked,
        &[58],
    );
    check(
        &rin,
        &m,
        "tcp 10.10.5.5 -> 10.10.1.10:8080",
        Verdict::Allowed,
        &[39],
    );
    // The egress deny-all (65000) blocks even traffic inside the network.
    check(
        &rs,
        &m,
        "tcp 10.10.5.5 -> 10.10.1.10:8080",
        Verdict::Blocked,
        &[138],
    );
    check(
        &rs,
        &m,
        "tcp 10.10.2.5 -> 199.36.153.9:443",
        Verdict::Allowed,
        &[125],
    );
    check(
        &rs,
        &m,
        "tcp 10.10.2.5 -> 198.51.100.1:443",
        Verdict::Blocked,
        &[138],
    );
    // old_debug is disabled: the implied deny decides.
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.10.1.10:8080",
        Verdict::Blocked,
        &[0],
    );
    // The network is named through google_compute_network.prod.
    assert!(rs.symbols().contains(&"network:prod-vpc".to_string()));
}

#[test]
fn terraform_unknown_values_are_issues() {
    let rs = read("gcp-terraform", "hand-written.tf");
    let m = tf_members();
    assert_eq!(rs.issues.len(), 1, "{:#?}", rs.issues);
    assert_eq!(rs.issues[0].line, 88);
    assert!(rs.issues[0].message.contains("var.office_ranges"));
    let j = ask(&rs, &m, "tcp 198.51.100.1 -> 10.10.2.5:8443");
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    assert_eq!(lines(&j), [88]);
    // What the rule cannot match (another port) is decided.
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.10.2.5:8444",
        Verdict::Blocked,
        &[0],
    );
}

#[test]
fn terraform_rendered_comments_list_tag_members() {
    let r = portplan_ruleset::reader("gcp-terraform").unwrap();
    let text = "# portplan: Google Cloud VPC firewall rules for deployment t

variable \"network\" {
  type = string
}

# t/https: HTTPS
# target tag pp-web-1: 10.0.0.5/32 2001:db8::5/128
resource \"google_compute_firewall\" \"pp_t_001_web_1_v4\" {
  name          = \"pp-t-001-web-1-v4\"
  network       = var.network
  direction     = \"INGRESS\"
  priority      = 1000
  source_ranges = [\"10.1.0.0/24\"]
  target_tags   = [\"pp-web-1\"]
  allow {
    protocol = \"tcp\"
    ports    = [\"443\"]
  }
}
";
    let rs = r.read(text, "out.tf").unwrap();
    assert!(rs.issues.is_empty(), "{:#?}", rs.issues);
    assert!(rs.symbols().is_empty(), "{:?}", rs.symbols());
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == 8 && n.message.contains("tag:pp-web-1")));
    let m = Members::default();
    check(
        &rs,
        &m,
        "tcp 10.1.0.9 -> 10.0.0.5:443",
        Verdict::Allowed,
        &[9],
    );
    check(
        &rs,
        &m,
        "tcp 10.1.0.9 -> 10.0.0.5:80",
        Verdict::Blocked,
        &[0],
    );
    // The IPv4 rule does not let IPv6 in.
    check(
        &rs,
        &m,
        "tcp [2001:db8::9] -> [2001:db8::5]:443",
        Verdict::Blocked,
        &[0],
    );
    // Egress to a DNS name: the implied allow; no ingress filter applies.
    check(
        &rs,
        &m,
        "tcp 10.0.0.5 -> app.example.com:443",
        Verdict::Allowed,
        &[0],
    );
}

#[test]
fn terraform_bad_input_is_located() {
    let r = portplan_ruleset::reader("gcp-terraform").unwrap();
    let e = r
        .read(
            "resource \"google_compute_firewall\" \"x\" {\n  allow {\n}\n",
            "x.tf",
        )
        .unwrap_err();
    assert!(e.line.is_some() && e.column.is_some(), "{e}");
    let e = r
        .read("resource \"aws_security_group\" \"x\" {}\n", "x.tf")
        .unwrap_err();
    assert!(e.message.contains("google_compute_firewall"), "{e}");
}

#[test]
fn formats_are_detected() {
    assert_eq!(
        portplan_ruleset::detect(&fixture("firewall-rules-list.json")),
        Ok("gcp-json")
    );
    assert_eq!(
        portplan_ruleset::detect(&fixture("hand-written.tf")),
        Ok("gcp-terraform")
    );
}

// ---- robustness ----

fn exercise(format: &str, text: &str) {
    let flows = [
        "tcp 198.51.100.1 -> 10.128.0.10:22",
        "icmp 10.128.0.5 -> 10.10.2.2 echo-request",
        "udp [2001:db8::1] -> [2001:db8:100::10]:53",
    ];
    common::exercise(format, text, &json_members(), None, &flows);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn mutated_input_never_panics(
        cut in 0usize..100_000,
        del in (0usize..100_000, 0usize..100),
        ins in (0usize..100_000, prop::sample::select(vec!['{', '}', '[', ']', '"', ',', ':', '\n', '=', '-', '1', 'x', '$', '\\', 'é'])),
    ) {
        exercise("gcp-json", &damage(&fixture("firewall-rules-list.json"), cut, del, ins));
        exercise("gcp-terraform", &damage(&fixture("hand-written.tf"), cut, del, ins));
    }

    #[test]
    fn arbitrary_text_never_panics(
        any in "\\PC{0,300}",
        jsonish in "[\\[\\]{}\",:0-9a-zA-Z \n.-]{0,300}",
        hclish in "(resource|\"google_compute_network\"|\"aws_security_group\"|\"google_compute_firewall\"|[{}=\\[\\]\", \n]|ingress|allow|egress|protocol|ports|-1|22|var\\.x|\\$\\{|\\}){0,60}",
    ) {
        for t in [&any, &jsonish, &hclish] {
            exercise("gcp-json", t);
            exercise("gcp-terraform", t);
        }
    }
}

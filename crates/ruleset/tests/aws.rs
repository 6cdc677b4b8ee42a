//! The AWS readers (`aws-json`, `aws-terraform`) prove meaning: verdicts
//! with the rules that decide them, on the fixtures written from AWS's and
//! Terraform's documented syntax (tests/fixtures/aws/README.md).

mod common;

use common::{check, damage, inbound, lines, members};
use portplan_ruleset::{Judged, Members, Ruleset, Verdict};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    common::fixture("aws", name)
}

fn read(format: &str, name: &str) -> Ruleset {
    common::read_fixture("aws", name, format)
}

fn ask(rs: &Ruleset, m: &Members, q: &str) -> Judged {
    common::judged(rs, m, q, None)
}

// ---- describe-security-groups ----

const ALB: &str = "sg:sg-0a1b2c3d4e5f60002";
const APP: &str = "sg:sg-0a1b2c3d4e5f60003";
const DB: &str = "sg:sg-0a1b2c3d4e5f60004";
const BASTION: &str = "sg:sg-0a1b2c3d4e5f60005";
const DEFAULT: &str = "sg:sg-0d1e2f3a4b5c60001";
const PEER: &str = "sg:sg-0f9e8d7c6b5a40321";

fn json_members() -> Members {
    members(&[
        (ALB, "10.20.1.0/24"),
        (APP, "10.20.2.0/24"),
        (DB, "10.20.3.0/24"),
        (BASTION, "10.20.0.10/32,2001:db8:20::10/128"),
        (DEFAULT, "10.20.9.0/24"),
        (PEER, "10.50.0.0/24"),
        ("pl:pl-63a5400a", "52.218.0.0/17"),
    ])
}

/// Every group's members but the peered group's (not in the export).
fn json_members_but_peer() -> Members {
    let mut m = json_members();
    m.map.remove(PEER);
    m
}

#[test]
fn json_allows_with_the_deciding_rules() {
    let rs = read("aws-json", "describe-security-groups.json");
    let m = json_members();
    // HTTPS from the Internet to the load balancer: its ingress rule only
    // (the source is no member, so no egress filter applies).
    check(
        &rs,
        &m,
        "tcp 203.0.113.50 -> 10.20.1.5:443",
        Verdict::Allowed,
        &[49],
    );
    check(
        &rs,
        &m,
        "tcp [2001:db8:1234::7] -> [2001:db8:20::10]:22",
        Verdict::Allowed,
        &[273],
    );
    check(
        &rs,
        &m,
        "tcp [2001:db8:5::1] -> [2001:db8:20::10]:22",
        Verdict::Blocked,
        &[0],
    );
    // Load balancer to application: the ALB's egress and the app's ingress,
    // both naming the other group.
    check(
        &rs,
        &m,
        "tcp 10.20.1.5 -> 10.20.2.7:8080",
        Verdict::Allowed,
        &[90, 118],
    );
    // ICMP echo from the VPC; ESP (protocol 50) from the branch office.
    check(
        &rs,
        &m,
        "icmp 10.20.7.7 -> 10.20.2.7 echo-request",
        Verdict::Allowed,
        &[144],
    );
    check(
        &rs,
        &m,
        "esp 203.0.113.5 -> 10.20.0.10",
        Verdict::Allowed,
        &[298],
    );
    check(
        &rs,
        &m,
        "esp 203.0.113.6 -> 10.20.0.10",
        Verdict::Blocked,
        &[0],
    );
    // All ICMPv6 to the bastion.
    check(
        &rs,
        &m,
        "icmpv6 [2001:db8:ffff::1] -> [2001:db8:20::10] echo-request",
        Verdict::Allowed,
        &[287],
    );
    // The default group allows its members everything from each other.
    check(
        &rs,
        &m,
        "tcp 10.20.9.5 -> 10.20.9.6:1234",
        Verdict::Allowed,
        &[13, 26],
    );
    // Egress to the VPC resolver.
    check(
        &rs,
        &m,
        "udp 10.20.2.7 -> 10.20.0.2:53",
        Verdict::Allowed,
        &[204],
    );
}

#[test]
fn json_blocks_what_no_group_allows() {
    let rs = read("aws-json", "describe-security-groups.json");
    let m = json_members();
    // The database allows only the app group (and a peer's group).
    let j = ask(&rs, &m, "tcp 198.51.100.7 -> 10.20.3.4:5432");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert_eq!(j.parts[0].by[0].chain, "security groups ingress");
    // The database group has no egress rule at all.
    let j = ask(&rs, &m, "tcp 10.20.3.4 -> 192.0.2.1:443");
    assert_eq!(j.verdict, Verdict::Blocked, "{:#?}", j.parts);
    assert_eq!(j.parts[0].by[0].chain, "security groups egress");
    // ICMP echo from outside the VPC.
    check(
        &rs,
        &m,
        "icmp 8.8.8.8 -> 10.20.2.7 echo-request",
        Verdict::Blocked,
        &[0],
    );
}

#[test]
fn json_groups_are_a_union() {
    let rs = read("aws-json", "describe-security-groups.json");
    // 10.20.2.5 in the app group only: SSH from the office is not allowed.
    let m = json_members();
    check(
        &rs,
        &m,
        "tcp 198.51.100.7 -> 10.20.2.5:22",
        Verdict::Blocked,
        &[0],
    );
    // Also in the bastion group: the bastion's rule allows it.
    let mut m = json_members();
    m.map
        .extend(members(&[(BASTION, "10.20.0.10/32,10.20.2.5/32")]).map);
    check(
        &rs,
        &m,
        "tcp 198.51.100.7 -> 10.20.2.5:22",
        Verdict::Allowed,
        &[267],
    );
}

#[test]
fn json_unknown_members_make_unknown_verdicts() {
    let rs = read("aws-json", "describe-security-groups.json");
    // No members given: whether the groups apply is not known.
    let j = ask(&rs, &Members::default(), "tcp 10.20.1.5 -> 10.20.2.7:8080");
    assert_eq!(j.verdict, Verdict::Unknown);
    let why = j.parts[0].why.clone().unwrap_or_default();
    assert!(why.contains("--member sg:"), "{why}");
    // Given the groups' members, decided.
    check(
        &rs,
        &json_members(),
        "tcp 10.20.1.5 -> 10.20.2.7:8080",
        Verdict::Allowed,
        &[90, 118],
    );
    // A group referenced over peering, not in the export: unknown until its
    // members are given; then the database's ingress allows it by the
    // pair's line, while the peer group's own egress rules (not in the
    // export) leave the whole flow unknown.
    let m = json_members_but_peer();
    let j = ask(&rs, &m, "tcp 10.50.0.9 -> 10.20.3.4:5432");
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    assert!(j
        .parts
        .iter()
        .any(|p| p.why.as_deref().unwrap_or("").contains(PEER)));
    // Any address could be one of its members: even HTTPS to the load
    // balancer from the Internet is unknown until they are given.
    let j = ask(&rs, &m, "tcp 203.0.113.50 -> 10.20.1.5:443");
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    let m2 = json_members();
    check(
        &inbound(&rs),
        &m2,
        "tcp 10.50.0.9 -> 10.20.3.4:5432",
        Verdict::Allowed,
        &[243],
    );
    let j = ask(&rs, &m2, "tcp 10.50.0.9 -> 10.20.3.4:5432");
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    // A prefix list: unknown, then decided with its members.
    let mut no_pl = json_members();
    no_pl.map.remove("pl:pl-63a5400a");
    let j = ask(&rs, &no_pl, "tcp 10.20.2.7 -> 52.218.0.10:443");
    assert_eq!(j.verdict, Verdict::Unknown);
    check(
        &rs,
        &json_members(),
        "tcp 10.20.2.7 -> 52.218.0.10:443",
        Verdict::Allowed,
        &[192],
    );
    // The symbols are named as --member takes them.
    let syms = rs.symbols();
    for s in [ALB, APP, DB, BASTION, DEFAULT, PEER, "pl:pl-63a5400a"] {
        assert!(syms.contains(&s.to_string()), "{s} in {syms:?}");
    }
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == 243 && n.message.contains("not in this export")));
}

#[test]
fn json_portplan_groups_list_their_members() {
    let rs = read("aws-json", "describe-security-groups.json");
    // The monitor group's members are in its description: only the app
    // group's members need giving.
    check(
        &inbound(&rs),
        &json_members(),
        "tcp 10.20.2.7 -> 10.20.5.10:9100",
        Verdict::Allowed,
        &[337],
    );
    // The app group's egress does not allow 9100.
    let j = ask(&rs, &json_members(), "tcp 10.20.2.7 -> 10.20.5.10:9100");
    assert_eq!(j.verdict, Verdict::Blocked, "{:#?}", j.parts);
    assert_eq!(j.parts[0].by[0].chain, "security groups egress");
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("read from its description")));
    assert!(!rs
        .symbols()
        .contains(&"sg:sg-0a1b2c3d4e5f60006".to_string()));
}

#[test]
fn json_issues_have_lines() {
    let rs = read("aws-json", "describe-security-groups.json");
    // ICMP type 3 code 4 only: codes are not told apart.
    let i = rs
        .issues
        .iter()
        .find(|i| i.message.contains("code 4"))
        .expect("an issue for the ICMP code");
    assert_eq!(i.line, 154);
    let m = json_members();
    let j = ask(
        &rs,
        &m,
        "icmp 192.0.2.1 -> 10.20.2.7 destination-unreachable",
    );
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    assert_eq!(lines(&j), [158]);
    // And the peer group whose rules are not in the export.
    let mut l: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    l.sort();
    assert_eq!(l, [154, 243], "{:#?}", rs.issues);
}

#[test]
fn json_bad_input_is_located() {
    let r = portplan_ruleset::reader("aws-json").unwrap();
    let e = r
        .read(
            "{\n  \"SecurityGroups\": [\n    {\"GroupId\": \"sg-1\",}\n  ]\n}",
            "x.json",
        )
        .unwrap_err();
    assert_eq!((e.line, e.column), (Some(3), Some(24)), "{e}");
    let e = r.read("{\"Vpcs\": []}", "x.json").unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("describe-security-groups"), "{e}");
    let e = r
        .read("{\"SecurityGroups\": [{\"GroupName\": \"x\"}]}", "x.json")
        .unwrap_err();
    assert!(e.message.contains("GroupId"), "{e}");
    let text = fixture("describe-security-groups.json");
    let cut = &text[..text.len() / 2];
    let e = r.read(cut, "x.json").unwrap_err();
    assert!(e.line.is_some() && e.column.is_some(), "{e}");
}

#[test]
fn json_odd_permissions_are_issues_not_guesses() {
    let r = portplan_ruleset::reader("aws-json").unwrap();
    let text = r#"[{"GroupId": "sg-1", "GroupName": "g",
  "IpPermissions": [
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Frobnicate": true,
     "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    {"IpProtocol": "gre", "IpRanges": [{"CidrIp": "not-a-cidr"}]}
  ]}]"#;
    let rs = r.read(text, "x.json").unwrap();
    assert_eq!(rs.issues.len(), 3, "{:#?}", rs.issues);
    assert!(rs.issues.iter().all(|i| i.line >= 3));
    let m = members(&[("sg:sg-1", "10.9.0.1/32")]);
    let j = ask(&rs, &m, "tcp 10.1.1.1 -> 10.9.0.1:22");
    assert_eq!(j.verdict, Verdict::Unknown);
    let j = ask(&rs, &m, "esp 10.1.1.1 -> 10.9.0.1");
    assert_eq!(j.verdict, Verdict::Unknown);
}

// ---- Terraform ----

fn tf_members() -> Members {
    members(&[
        ("sg:web-alb", "10.20.1.0/24,2001:db8:20:1::/64"),
        ("sg:app", "10.20.2.0/24"),
        ("sg:db", "10.20.3.0/24"),
        ("sg:shared-services", "10.30.0.0/24"),
        ("sg:aws_security_group.legacy", "10.20.4.0/24"),
    ])
}

#[test]
fn terraform_inline_and_separate_rules() {
    let rs = read("aws-terraform", "hand-written.tf");
    let m = tf_members();
    check(
        &rs,
        &m,
        "tcp 203.0.113.9 -> 10.20.1.5:443",
        Verdict::Allowed,
        &[43],
    );
    check(
        &rs,
        &m,
        "tcp [2001:db8::9] -> [2001:db8:20:1::5]:443",
        Verdict::Allowed,
        &[43],
    );
    check(
        &rs,
        &m,
        "tcp [2001:db8::9] -> [2001:db8:20:1::5]:80",
        Verdict::Blocked,
        &[0],
    );
    check(
        &rs,
        &m,
        "tcp 203.0.113.9 -> 10.20.1.5:80",
        Verdict::Allowed,
        &[52],
    );
    // security_groups references both ways.
    check(
        &rs,
        &m,
        "tcp 10.20.1.5 -> 10.20.2.7:8080",
        Verdict::Allowed,
        &[60, 78],
    );
    // aws_security_group_rule with source_security_group_id.
    check(
        &rs,
        &m,
        "tcp 10.20.2.7 -> 10.20.3.4:5432",
        Verdict::Allowed,
        &[102, 124],
    );
    // A data source's group, named by its literal name: the database lets
    // it in; its own egress rules are not in this file.
    check(
        &inbound(&rs),
        &m,
        "tcp 10.30.0.5 -> 10.20.3.4:5432",
        Verdict::Allowed,
        &[133],
    );
    check(
        &rs,
        &m,
        "tcp 10.30.0.5 -> 10.20.3.4:5432",
        Verdict::Unknown,
        &[133],
    );
    // A CIDR from an aws_vpc of the file; egress by the newer resource.
    check(
        &rs,
        &m,
        "icmp 10.20.7.7 -> 10.20.2.7 echo-request",
        Verdict::Allowed,
        &[153],
    );
    check(
        &rs,
        &m,
        "udp 10.20.2.7 -> 10.20.0.2:53",
        Verdict::Allowed,
        &[162],
    );
}

#[test]
fn terraform_egress_is_only_what_is_written() {
    let rs = read("aws-terraform", "hand-written.tf");
    let m = tf_members();
    // `self = true` lets app members in, but Terraform removed the default
    // egress: app members cannot send it.
    let j = ask(&rs, &m, "tcp 10.20.2.7 -> 10.20.2.8:9999");
    assert_eq!(j.verdict, Verdict::Blocked, "{:#?}", j.parts);
    assert_eq!(j.parts[0].by[0].chain, "security groups egress");
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("default allow-all egress")));
    // Inbound alone is allowed by the self rule.
    check(
        &inbound(&rs),
        &m,
        "tcp 10.20.2.7 -> 10.20.2.8:9999",
        Verdict::Allowed,
        &[94],
    );
    // The database has no egress at all.
    let j = ask(&rs, &m, "tcp 10.20.3.4 -> 10.20.0.2:53");
    assert_eq!(j.verdict, Verdict::Blocked);
}

#[test]
fn terraform_unknowns_are_symbols_or_issues() {
    let rs = read("aws-terraform", "hand-written.tf");
    let m = tf_members();
    // cidr_blocks = var.admin_cidrs: an issue on its block's line.
    let j = ask(&rs, &m, "tcp 198.51.100.1 -> 10.20.2.7:22");
    assert_eq!(j.verdict, Verdict::Unknown, "{:#?}", j.parts);
    assert_eq!(lines(&j), [86]);
    // count = var.debug_enabled ? 1 : 0: the rule may not exist.
    let j = ask(&rs, &m, "tcp 10.20.7.7 -> 10.20.3.4:22");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert_eq!(lines(&j), [143]);
    // A dynamic block.
    let j = ask(&rs, &m, "tcp 10.1.1.1 -> 10.20.4.5:7001");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert_eq!(lines(&j), [175]);
    let mut issue_lines: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    issue_lines.sort();
    // ... and the data source's group, whose rules are elsewhere.
    assert_eq!(issue_lines, [86, 133, 143, 175], "{:#?}", rs.issues);
    // A prefix list of a VPC endpoint: a symbol named as written.
    let j = ask(&rs, &m, "tcp 10.20.2.7 -> 52.218.0.10:443");
    assert_eq!(j.verdict, Verdict::Unknown);
    let mut m2 = tf_members();
    m2.map
        .extend(members(&[("pl:aws_vpc_endpoint.s3.prefix_list_id", "52.218.0.0/17")]).map);
    check(
        &rs,
        &m2,
        "tcp 10.20.2.7 -> 52.218.0.10:443",
        Verdict::Allowed,
        &[109],
    );
    // Without the shared group's members, its rule is unknown.
    let j = ask(
        &rs,
        &members(&[("sg:db", "10.20.3.0/24")]),
        "tcp 10.30.0.5 -> 10.20.3.4:5432",
    );
    assert_eq!(j.verdict, Verdict::Unknown);
}

#[test]
fn terraform_rendered_descriptions_are_members() {
    let r = portplan_ruleset::reader("aws-terraform").unwrap();
    let text = "# portplan: AWS security groups for deployment t
resource \"aws_security_group\" \"web\" {
  name        = \"portplan-t-web\"
  description = \"web-1 + web-2: 10.0.0.1/32 10.0.0.2/32\"
  vpc_id      = var.vpc_id
}
resource \"aws_vpc_security_group_ingress_rule\" \"web_https\" {
  security_group_id = aws_security_group.web.id
  cidr_ipv4   = \"0.0.0.0/0\"
  ip_protocol = \"tcp\"
  from_port   = 443
  to_port     = 443
}
";
    let rs = r.read(text, "out.tf").unwrap();
    assert!(rs.issues.is_empty(), "{:#?}", rs.issues);
    let m = Members::default();
    // No member needs giving: the description lists them.
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.0.0.2:443",
        Verdict::Allowed,
        &[7],
    );
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.0.0.2:80",
        Verdict::Blocked,
        &[0],
    );
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.0.0.3:443",
        Verdict::NotCarried,
        &[],
    );
    // A DNS name is not one of the listed instances.
    check(
        &rs,
        &m,
        "tcp 10.0.0.1 -> app.example.com:443",
        Verdict::Blocked,
        &[0],
    );
    assert!(rs.symbols().is_empty(), "{:?}", rs.symbols());

    // A description cut at AWS's 255 characters: the members it lists are
    // known, the rest are the group's symbol.
    let cut = format!("big: 10.0.0.1/32 10.0.0.2/32 {}...", "10.0.9.".repeat(30));
    let text = format!(
        "# portplan: AWS security groups for deployment t
resource \"aws_security_group\" \"big\" {{
  name        = \"portplan-t-big\"
  description = \"{cut}\"
}}
resource \"aws_vpc_security_group_ingress_rule\" \"big_https\" {{
  security_group_id = aws_security_group.big.id
  cidr_ipv4   = \"0.0.0.0/0\"
  ip_protocol = \"tcp\"
  from_port   = 443
  to_port     = 443
}}
"
    );
    let rs = r.read(&text, "out.tf").unwrap();
    assert!(rs.notes.iter().any(|n| n.message.contains("cut at 255")));
    assert_eq!(rs.symbols(), ["sg:portplan-t-big"]);
    let rin = inbound(&rs);
    check(
        &rin,
        &m,
        "tcp 198.51.100.1 -> 10.0.0.2:443",
        Verdict::Allowed,
        &[6],
    );
    check(
        &rin,
        &m,
        "tcp 198.51.100.1 -> 10.0.0.2:80",
        Verdict::Blocked,
        &[0],
    );
    assert_eq!(
        ask(&rin, &m, "tcp 198.51.100.1 -> 10.0.9.9:443").verdict,
        Verdict::Unknown
    );
    // Whether 198.51.100.1 is one of the unlisted members (whose egress
    // nothing allows) is not known.
    check(
        &rs,
        &m,
        "tcp 198.51.100.1 -> 10.0.0.2:443",
        Verdict::Unknown,
        &[],
    );
}

#[test]
fn terraform_bad_input_is_located() {
    let r = portplan_ruleset::reader("aws-terraform").unwrap();
    let e = r
        .read(
            "resource \"aws_security_group\" \"x\" {\n  name = \n}\n",
            "x.tf",
        )
        .unwrap_err();
    assert!(matches!(e.line, Some(2 | 3)), "{e}");
    assert!(e.column.is_some());
    let e = r
        .read(
            "resource \"google_compute_firewall\" \"x\" {\n  name = \"a\"\n}\n",
            "x.tf",
        )
        .unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("aws_security_group"), "{e}");
}

#[test]
fn formats_are_detected() {
    assert_eq!(
        portplan_ruleset::detect(&fixture("describe-security-groups.json")),
        Ok("aws-json")
    );
    assert_eq!(
        portplan_ruleset::detect(&fixture("hand-written.tf")),
        Ok("aws-terraform")
    );
}

// ---- robustness ----

fn exercise(format: &str, text: &str) {
    let flows = [
        "tcp 10.20.1.5 -> 10.20.2.7:8080",
        "icmp 8.8.8.8 -> 10.20.2.7 echo-request",
        "udp [2001:db8::1] -> [2001:db8:20::10]:53",
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
        exercise("aws-json", &damage(&fixture("describe-security-groups.json"), cut, del, ins));
        exercise("aws-terraform", &damage(&fixture("hand-written.tf"), cut, del, ins));
    }

    #[test]
    fn arbitrary_text_never_panics(
        any in "\\PC{0,300}",
        jsonish in "[\\[\\]{}\",:0-9a-zA-Z \n.-]{0,300}",
        hclish in "(resource|\"aws_security_group_rule\"|\"aws_security_group\"|\"google_compute_firewall\"|[{}=\\[\\]\", \n]|ingress|allow|egress|protocol|ports|-1|22|var\\.x|\\$\\{|\\}){0,60}",
    ) {
        for t in [&any, &jsonish, &hclish] {
            exercise("aws-json", t);
            exercise("aws-terraform", t);
        }
    }
}

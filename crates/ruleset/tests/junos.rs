//! The Junos reader: what a live SRX's `show configuration | display set`
//! means, flow by flow, with the line that decides.

mod common;

use common::members;
use portplan_ruleset::{Judged, Members, Ruleset, Verdict};
use proptest::prelude::*;

fn fixture() -> String {
    common::fixture("junos", "srx-display-set.conf")
}

fn read(text: &str) -> Ruleset {
    portplan_ruleset::read(text, "srx.conf", Some("junos")).unwrap()
}

/// The 1-based line of the first line containing `needle`.
fn line(text: &str, needle: &str) -> usize {
    common::line_of(text, needle)
}

fn zones() -> Members {
    members(&[
        ("zone:trust", "10.10.0.0/16"),
        ("zone:dmz", "172.16.10.0/24"),
        ("zone:mgmt", "10.99.0.0/24"),
        (
            "zone:untrust",
            "8.8.0.0/16,192.0.2.0/24,198.51.100.0/24,203.0.113.0/24,10.77.0.0/16",
        ),
        ("interface:ge-0/0/3.0", "10.99.0.0/24"),
        ("zone:junos-host", "10.255.0.1/32"),
    ])
}

fn ask(rs: &Ruleset, m: &Members, q: &str) -> Judged {
    common::judged(rs, m, q, None)
}

/// The verdict and the lines of the rules that decided it.
fn verdict(rs: &Ruleset, m: &Members, q: &str) -> (Verdict, Vec<usize>) {
    common::decided(rs, m, q, None)
}

#[test]
fn zone_policies_match_in_order_with_address_and_application_sets() {
    let t = fixture();
    let rs = read(&t);
    let m = zones();
    let allow_web = line(&t, "policy allow-web match source-address");
    let block_bad = line(&t, "policy block-bad match source-address");
    let allow_dns = line(&t, "policy allow-dns match source-address");
    // junos-https, a custom application in an application-set.
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 8.8.8.8:443"),
        (Verdict::Allowed, vec![allow_web])
    );
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 8.8.8.8:8080"),
        (Verdict::Allowed, vec![allow_web])
    );
    // An earlier deny of a range-address wins over the later permit.
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 203.0.113.70:443"),
        (Verdict::Blocked, vec![block_bad])
    );
    // A wildcard-address in a nested address-set: 10.*.0.1.
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 10.77.0.1:443"),
        (Verdict::Blocked, vec![block_bad])
    );
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 10.77.0.2:443"),
        (Verdict::Allowed, vec![allow_web])
    );
    // junos-dns-udp and junos-dns-tcp through an application-set.
    assert_eq!(
        verdict(&rs, &m, "udp 10.10.1.5 -> 192.0.2.54:53"),
        (Verdict::Allowed, vec![allow_dns])
    );
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 192.0.2.53:53"),
        (Verdict::Allowed, vec![allow_dns])
    );
    // Not port 54.
    assert_eq!(
        verdict(&rs, &m, "udp 10.10.1.5 -> 192.0.2.54:54").0,
        Verdict::Blocked
    );
}

#[test]
fn zone_pair_policies_then_global_then_the_default_policy() {
    let t = fixture();
    let rs = read(&t);
    let m = zones();
    let global_ping = line(&t, "global policy global-ping match");
    let block_bad = line(&t, "policy block-bad match source-address");
    let no_telnet = line(&t, "global policy global-no-telnet match");
    // No trust-to-untrust policy takes pings: the global one does.
    assert_eq!(
        verdict(&rs, &m, "icmp 10.10.1.5 -> 8.8.8.8 echo-request"),
        (Verdict::Allowed, vec![global_ping])
    );
    // A zone-pair deny comes before the global permit.
    assert_eq!(
        verdict(&rs, &m, "icmp 10.10.1.5 -> 203.0.113.70 echo-request"),
        (Verdict::Blocked, vec![block_bad])
    );
    // Only echo requests: junos-icmp-ping.
    assert_eq!(
        verdict(&rs, &m, "icmp 10.10.1.5 -> 8.8.8.8 echo-reply"),
        (Verdict::Blocked, vec![0])
    );
    // A global policy with a from-zone condition.
    assert_eq!(
        verdict(&rs, &m, "tcp 8.8.4.4 -> 10.10.1.5:23"),
        (Verdict::Blocked, vec![no_telnet])
    );
    // From trust, telnet is not from untrust: the default policy.
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 8.8.8.8:23"),
        (Verdict::Blocked, vec![0])
    );
    // Nothing matches: deny-all, the implicit default (line 0).
    assert_eq!(
        verdict(&rs, &m, "tcp 8.8.4.4 -> 10.10.1.5:22"),
        (Verdict::Blocked, vec![0])
    );
    let j = ask(&rs, &m, "tcp 8.8.4.4 -> 10.10.1.5:22");
    assert!(j.parts[0].by[0].text.contains("deny-all"));
}

#[test]
fn a_deactivated_policy_never_matches() {
    let t = fixture();
    let rs = read(&t);
    let m = zones();
    // legacy-ftp (any to any, junos-ftp, permit) is deactivated.
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 8.8.8.8:21"),
        (Verdict::Blocked, vec![0])
    );
    // partner-ftp is active: the control connection is decided.
    let partner = line(&t, "policy partner-ftp match source-address");
    assert_eq!(
        verdict(&rs, &m, "tcp 10.10.1.5 -> 198.51.100.15:21"),
        (Verdict::Allowed, vec![partner])
    );
    // What the FTP ALG may open besides is not.
    let j = ask(&rs, &m, "tcp 10.10.1.5 -> 198.51.100.15:40000");
    assert_eq!(j.verdict, Verdict::Unknown);
    let why = j.parts[0].why.clone().unwrap_or_default();
    assert!(why.contains("ALG"), "{why}");
}

#[test]
fn excluded_source_addresses_and_terms_of_an_application() {
    let t = fixture();
    let rs = read(&t);
    let m = zones();
    let to_db = line(&t, "policy dmz-to-db match source-address");
    let deny_others = line(&t, "policy deny-others match source-address dmz-web");
    assert_eq!(
        verdict(&rs, &m, "tcp 172.16.10.10 -> 10.10.20.5:5432"),
        (Verdict::Allowed, vec![to_db])
    );
    // Term t2's range.
    assert_eq!(
        verdict(&rs, &m, "tcp 172.16.10.10 -> 10.10.20.5:6435"),
        (Verdict::Allowed, vec![to_db])
    );
    // Every DMZ host but dmz-web is rejected...
    assert_eq!(
        verdict(&rs, &m, "tcp 172.16.10.99 -> 10.10.1.5:22"),
        (Verdict::Blocked, vec![deny_others])
    );
    // ...dmz-web falls through to the default policy.
    assert_eq!(
        verdict(&rs, &m, "tcp 172.16.10.10 -> 10.10.1.5:22"),
        (Verdict::Blocked, vec![0])
    );
}

#[test]
fn zones_are_unknown_without_members_and_decided_with_them() {
    let t = fixture();
    let rs = read(&t);
    let mut no_zones = zones();
    no_zones
        .map
        .retain(|k, _| !k.starts_with("zone:") || k == "zone:junos-host");
    let j = ask(&rs, &no_zones, "tcp 10.10.1.5 -> 8.8.8.8:443");
    assert_eq!(j.verdict, Verdict::Unknown);
    let why = j
        .parts
        .iter()
        .filter_map(|p| p.why.clone())
        .collect::<String>();
    // (The reason names the first unresolved condition of the side; the
    // evaluator may name the DNS-name one before the zone's.)
    assert!(why.contains("--member "), "{why}");
    assert_eq!(
        ask(&rs, &zones(), "tcp 10.10.1.5 -> 8.8.8.8:443").verdict,
        Verdict::Allowed
    );
    assert!(rs.symbols().contains(&"zone:trust".to_string()));
}

#[test]
fn what_the_reader_cannot_decide_is_unknown_with_its_line() {
    let t = fixture();
    let rs = read(&t);
    let m = zones();
    let issue_at = |needle: &str, word: &str| {
        let l = line(&t, needle);
        assert!(
            rs.issues
                .iter()
                .any(|i| i.line == l && i.message.contains(word)),
            "no issue at line {l} ({needle}) saying {word}: {:#?}",
            rs.issues
        );
    };
    issue_at("policy partner-sftp description", "scheduler");
    issue_at(
        "policy dmz-no-social match source-address",
        "dynamic-application",
    );
    issue_at("policy old-crm match source-address", "crm-app");
    issue_at("policy partner-ftp match source-address", "ALG");
    issue_at("address odd-mask wildcard-address", "wildcard");
    issue_at("destination rule-set dnat-web from zone", "NAT");
    issue_at("filter PROTECT-RE term ttl from ttl", "ttl");
    // Their verdicts.
    for q in [
        // scheduler-name
        "tcp 198.51.100.15 -> 172.16.10.20:2222",
        // dynamic-application
        "tcp 172.16.10.10 -> 8.8.8.8:443",
        // an application the configuration does not define
        "tcp 8.8.4.4 -> 172.16.10.10:9999",
    ] {
        assert_eq!(ask(&rs, &m, q).verdict, Verdict::Unknown, "{q}");
    }
    // A filter no interface binds is noted, not evaluated.
    assert!(rs.notes.iter().any(|n| n.message.contains("UNUSED-EDGE")));
}

#[test]
fn firewall_filters_on_an_interface_with_next_term_and_implicit_discard() {
    let t = fixture();
    let rs = read(&t);
    let m = zones();
    let filter_start = line(&t, "filter MGMT-IN term established from protocol tcp");
    let ssh_term = line(&t, "filter MGMT-IN term ssh from");
    let icmp_term = line(&t, "filter MGMT-IN term icmp from");
    let no_snmp = line(&t, "filter MGMT-IN term no-snmp from");
    let syslog_term = line(&t, "filter MGMT-IN term syslog-in from");
    let mgmt_ssh = line(&t, "policy mgmt-ssh match source-address");
    let mgmt_udp = line(&t, "policy mgmt-udp match source-address");
    let global_ping = line(&t, "global policy global-ping match");
    // The filter (prefix-list, named port) and the policy both accept.
    assert_eq!(
        verdict(&rs, &m, "tcp 10.99.0.5 -> 10.10.1.5:22"),
        (Verdict::Allowed, vec![ssh_term, mgmt_ssh])
    );
    // Not in the prefix-list: the implicit discard at the filter's end.
    assert_eq!(
        verdict(&rs, &m, "tcp 10.99.0.200 -> 10.10.1.5:22"),
        (Verdict::Blocked, vec![filter_start])
    );
    // `next term` logs and goes on; the next term discards.
    assert_eq!(
        verdict(&rs, &m, "udp 10.99.0.5 -> 10.10.1.5:161"),
        (Verdict::Blocked, vec![no_snmp])
    );
    // A term with only `count` accepts.
    assert_eq!(
        verdict(&rs, &m, "icmp 10.99.0.5 -> 10.10.1.5 echo-request"),
        (Verdict::Allowed, vec![icmp_term, global_ping])
    );
    // `except`: the longest prefix decides.
    assert_eq!(
        verdict(&rs, &m, "udp 10.99.0.5 -> 10.10.1.5:514"),
        (Verdict::Allowed, vec![syslog_term, mgmt_udp])
    );
    assert_eq!(
        verdict(&rs, &m, "udp 10.99.0.200 -> 10.10.1.5:514"),
        (Verdict::Blocked, vec![filter_start])
    );
    // A deactivated term, and tcp-established (never a new connection).
    assert_eq!(
        verdict(&rs, &m, "tcp 10.99.0.5 -> 10.10.1.5:23"),
        (Verdict::Blocked, vec![filter_start])
    );
    assert_eq!(
        verdict(&rs, &m, "tcp 10.99.0.5 -> 10.10.1.5:80"),
        (Verdict::Blocked, vec![filter_start])
    );
    // Traffic from elsewhere never meets the filter.
    let j = ask(&rs, &m, "tcp 10.10.1.5 -> 8.8.8.8:443");
    assert_eq!(j.parts[0].by.len(), 1);
    // Without the interface's members, the filter may or may not apply.
    let mut no_if = zones();
    no_if.map.remove("interface:ge-0/0/3.0");
    assert_eq!(
        ask(&rs, &no_if, "tcp 10.99.0.200 -> 10.10.1.5:22").verdict,
        Verdict::Unknown
    );
    // lo0's filter protects the device itself.
    assert!(rs
        .filters
        .iter()
        .any(|f| f.name.starts_with("lo0.0") && f.members.is_some()));
}

#[test]
fn our_own_rendered_output_reads_back() {
    // What render/src/junos.rs writes: global policies, no zones.
    let t = "\
# portplan: Junos SRX global security policies
set security address-book global address net_10_1_0_0_24 10.1.0.0/24
set security address-book global address dns_app_example_com dns-name app.example.com
set security address-book global address-set set_a address net_10_1_0_0_24
set security address-book global address-set set_b address dns_app_example_com
set applications application pp-tcp_443 term t1 protocol tcp destination-port 443
set applications application pp-icmp term t1 protocol icmp icmp-type 8
set applications application pp-icmp term t2 protocol icmp6 icmp6-type 128

# a comment
set security policies global policy pp-001-a-to-b match source-address set_a
set security policies global policy pp-001-a-to-b match destination-address set_b
set security policies global policy pp-001-a-to-b match application pp-tcp_443
set security policies global policy pp-001-a-to-b then permit
set security policies global policy pp-001-a-to-b description \"x/y, z\"
";
    let rs = read(t);
    assert!(rs.issues.is_empty(), "{:#?}", rs.issues);
    let m = Members::default();
    assert_eq!(
        verdict(&rs, &m, "tcp 10.1.0.7 -> app.example.com:443"),
        (
            Verdict::Allowed,
            vec![line(t, "pp-001-a-to-b match source")]
        )
    );
    assert_eq!(
        verdict(&rs, &m, "tcp 10.1.0.7 -> app.example.com:80"),
        (Verdict::Blocked, vec![0])
    );
    assert_eq!(portplan_ruleset::detect(t), Ok("junos"));
    assert_eq!(portplan_ruleset::detect(&fixture()), Ok("junos"));
}

#[test]
fn inactive_groups_and_logical_systems() {
    let t = "\
set security zones security-zone a interfaces ge-0/0/1.0
set security zones security-zone b interfaces ge-0/0/2.0
set security policies from-zone a to-zone b inactive: policy p1 match source-address any
set security policies from-zone a to-zone b policy p1 match destination-address any
set security policies from-zone a to-zone b policy p1 match application any
set security policies from-zone a to-zone b policy p1 then permit
set security policies from-zone a to-zone b policy p2 match source-address any
set security policies from-zone a to-zone b policy p2 match destination-address any
set security policies from-zone a to-zone b policy p2 match application any-app
set security policies from-zone a to-zone b policy p2 then permit
set groups extra security policies global policy g1 match source-address any
set apply-groups extra
set logical-systems LS1 security policies default-policy permit-all
";
    let rs = read(t);
    let m = members(&[("zone:a", "10.1.0.0/16"), ("zone:b", "10.2.0.0/16")]);
    // p1 is inactive; p2 names an application that does not exist.
    let j = ask(&rs, &m, "tcp 10.1.0.1 -> 10.2.0.1:80");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert_eq!(j.parts[0].by[0].line, line(t, "policy p2 match source"));
    assert!(rs
        .issues
        .iter()
        .any(|i| i.message.contains("group `extra`")));
    assert!(rs.issues.iter().any(|i| i.message.contains("`LS1`")));
    assert!(rs
        .rules()
        .any(|(_, r)| r.line == line(t, "inactive: policy p1") && !r.when.is_empty()));
}

#[test]
fn broken_input_gives_a_located_error() {
    let cases: &[(&str, usize)] = &[
        ("security {\n    policies {\n", 1),
        ("hello world\nset system host-name x\n", 1),
        ("set system host-name x\nset security policies from-zone trust\n", 2),
        (
            "set system host-name x\nset security policies from-zone a to-zone b policy p match source-address\n",
            2,
        ),
        ("set system host-name x\n\nset system login message \"unclosed\n", 3),
        (
            "set interfaces ge-0/0/0 unit 0 family inet filter input\n",
            1,
        ),
        ("set firewall family inet filter F term t from\n", 1),
    ];
    for (text, want) in cases {
        let e = portplan_ruleset::read(text, "x.conf", Some("junos")).unwrap_err();
        assert_eq!(e.line, Some(*want), "{text:?}: {e}");
        assert!(!e.message.is_empty());
    }
    assert!(portplan_ruleset::read("", "x.conf", Some("junos")).is_err());
}

fn mutate(text: &str, ops: &[(u8, usize, usize)]) -> String {
    let junk = [
        "[",
        "]",
        "\"",
        "inactive:",
        "any",
        "except",
        "deactivate",
        "term",
        "999999",
        "-",
        "/",
    ];
    common::damage_lines(text, ops, &junk)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn mutated_input_never_panics(ops in proptest::collection::vec((0u8..7, 0usize..400, 0usize..400), 1..12)) {
        let t = mutate(&fixture(), &ops);
        common::exercise("junos", &t, &zones(), None, &["tcp 10.10.1.5 -> 8.8.8.8:443"]);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = portplan_ruleset::read(&s, "a.conf", Some("junos"));
        let _ = portplan_ruleset::read(&format!("set {s}"), "a.conf", Some("junos"));
    }
}

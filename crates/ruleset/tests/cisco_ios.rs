//! The cisco-ios reader on a running-config excerpt (fixtures/cisco-ios):
//! verdicts with the line that decides them, what the reader could not
//! understand, located errors, and no panic on damaged input.

mod common;

use common::addrs;
use portplan_ruleset::space::{Ranges, Space};
use portplan_ruleset::{judge, parse_query, read, Compiled, Members, Ruleset, Verdict};
use proptest::prelude::*;

const FILE: &str = "edge-router.cfg";

fn fixture() -> String {
    common::fixture("cisco-ios", FILE)
}

fn load() -> Ruleset {
    common::read_fixture("cisco-ios", FILE, "cisco-ios")
}

/// The 1-based line of the first line of the fixture containing `needle`.
fn line(needle: &str) -> usize {
    common::line_of(&fixture(), needle)
}

/// What lies behind each interface of the router.
fn members() -> Members {
    let mut m = Members::default();
    // The Internet (a sample of it), with a spoofed inside range.
    m.map.insert(
        "interface:GigabitEthernet0/0/0".into(),
        addrs("198.51.100.0/24, 192.0.2.0/24, 10.66.0.0/16, 2001:db8:5100::/48"),
    );
    m.map.insert(
        "interface:GigabitEthernet0/0/1".into(),
        addrs("10.10.0.0/24"),
    );
    m.map.insert(
        "interface:GigabitEthernet0/0/2".into(),
        addrs("10.20.0.0/24, 2001:db8:20::/64"),
    );
    m
}

/// Only the filters whose name contains `part` (one ACL alone).
fn only(rs: &Ruleset, part: &str) -> Ruleset {
    let mut r = rs.clone();
    r.filters.retain(|f| f.name.contains(part));
    assert!(!r.filters.is_empty());
    r
}

/// The verdict of a flow and the lines of the rules that decide it.
fn ask(rs: &Ruleset, m: &Members, q: &str) -> (Verdict, Vec<usize>, Vec<String>) {
    let q = parse_query(q, m).unwrap();
    verdict(rs, m, &q.spaces)
}

fn verdict(rs: &Ruleset, m: &Members, spaces: &[Space]) -> (Verdict, Vec<usize>, Vec<String>) {
    let c = Compiled::new(rs, m);
    let j = judge(&c, spaces, None);
    let lines = common::lines(&j);
    let texts = j
        .parts
        .iter()
        .flat_map(|p| {
            p.by.iter()
                .map(|r| r.text.clone())
                .chain(p.why.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    (j.verdict, lines, texts)
}

#[test]
fn the_fixture_is_recognised_and_its_interfaces_bind_the_acls() {
    assert_eq!(portplan_ruleset::detect(&fixture()), Ok("cisco-ios"));
    let rs = load();
    let names: Vec<&str> = rs.filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "GigabitEthernet0/0/0 ip access-group OUTSIDE-IN in",
            "GigabitEthernet0/0/0 ip access-group OUTSIDE-OUT out",
            "GigabitEthernet0/0/0 ipv6 traffic-filter OUTSIDE-V6-IN in",
            "GigabitEthernet0/0/1 ip access-group 101 in",
            "GigabitEthernet0/0/2 ip access-group DMZ-OUT out",
        ]
    );
    // ACLs that serve NAT, QoS and vty access are not filters: said so.
    for acl in [
        "ip access-list standard NAT-INSIDE",
        "ip access-list extended QOS-VOICE",
        "access-list 10",
    ] {
        assert!(
            rs.notes
                .iter()
                .any(|n| n.text == acl && n.message.contains("not audited as a filter")),
            "{acl}: {:?}",
            rs.notes
        );
    }
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == line("access-class 10 in")));
}

#[test]
fn an_interface_bound_acl_is_unknown_until_members_say_what_is_behind_it() {
    let rs = load();
    let (v, _, why) = ask(
        &rs,
        &Members::default(),
        "tcp 198.51.100.9 -> 10.20.0.10:80",
    );
    assert_eq!(v, Verdict::Unknown);
    assert!(
        why.iter().any(|w| w.contains("--member interface:")),
        "{why:?}"
    );
    // With the members, the inbound WAN list and the DMZ's outbound list
    // both permit it, each by its object-group line.
    let (v, lines, _) = ask(&rs, &members(), "tcp 198.51.100.9 -> 10.20.0.10:80");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(
        lines,
        [
            line("10 permit object-group WEB-PORTS any object-group WEB-SERVERS"),
            line("30 permit object-group WEB-PORTS any object-group WEB-SERVERS"),
        ]
    );
}

#[test]
fn object_group_members_and_named_ports() {
    let rs = load();
    let m = members();
    // 10.20.0.100 is in the group's 10.20.0.64 255.255.255.192; 8081 in
    // its `tcp range 8080 8081`.
    let (v, lines, _) = ask(&rs, &m, "tcp 198.51.100.9 -> 10.20.0.100:8081");
    assert_eq!(v, Verdict::Allowed);
    assert!(lines.contains(&line("30 permit object-group WEB-PORTS")));
    // `eq smtp` is port 25.
    let (v, lines, _) = ask(&rs, &m, "tcp 198.51.100.9 -> 10.20.0.25:25");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(
        lines,
        [
            line("20 permit tcp any host 10.20.0.25 eq smtp"),
            line("40 permit tcp any host 10.20.0.25 eq smtp")
        ]
    );
    // `eq domain` as a source port, `gt 1023` as the destination port.
    let (v, lines, _) = ask(&rs, &m, "udp 198.51.100.53:53 -> 10.10.0.7:40000");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(lines, [line("70 permit udp host 198.51.100.53 eq domain")]);
    let (v, _, _) = ask(&rs, &m, "udp 198.51.100.53:53 -> 10.10.0.7:1023");
    assert_eq!(v, Verdict::Blocked);
    // A host outside the group meets the implicit deny.
    let (v, lines, texts) = ask(&rs, &m, "tcp 198.51.100.9 -> 10.20.0.12:80");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [0]);
    assert!(texts.iter().any(|t| t == "implicit deny"));
    // Nested groups: MGMT-HOSTS holds NOC's 10.99.0.5; INFRA-SVC's
    // `tcp-udp eq domain` and `icmp echo`.
    let (v, lines, _) = ask(&rs, &m, "tcp 10.99.0.5 -> 10.20.0.53:53");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(lines, [line("30 permit object-group INFRA-SVC")]);
    let (v, _, _) = ask(&rs, &m, "icmp 10.10.0.205 -> 10.20.0.9 echo-request");
    assert_eq!(v, Verdict::Allowed);
}

#[test]
fn first_match_wins_over_a_later_rule() {
    let rs = load();
    let m = members();
    // A spoofed inside source from the WAN: the deny at 10 comes before
    // the web permit at 30.
    let (v, lines, _) = ask(&rs, &m, "tcp 10.66.0.1 -> 10.20.0.10:80");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [line("10 deny ip 10.0.0.0 0.255.255.255 any log")]);
    // FTP to the mail host: the deny at 50 decides.
    let (v, lines, _) = ask(&rs, &m, "tcp 198.51.100.9 -> 10.20.0.25:21");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [line("50 deny tcp any host 10.20.0.25 range 20 21")]);
    // The LAN's telnet deny comes after its web permits.
    let (v, lines, _) = ask(&rs, &m, "tcp 10.10.0.5 -> 198.51.100.80:23");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [line("access-list 101 deny   tcp")]);
    let (v, lines, _) = ask(&rs, &m, "tcp 10.10.0.5 -> 198.51.100.80:443");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(
        lines,
        [
            line("20 permit ip 10.10.0.0 0.0.0.255 any"),
            line("access-list 101 permit tcp 10.10.0.0 0.0.0.255 any eq 443"),
        ]
    );
}

#[test]
fn established_and_tcp_flags_never_match_a_new_connection() {
    let rs = load();
    let m = members();
    // `permit tcp any any established` (line 110) does not open the LAN.
    let (v, lines, _) = ask(&rs, &m, "tcp 198.51.100.9 -> 10.10.0.5:5000");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [0]);
    // The evaluate entry matches replies only.
    assert!(!lines.contains(&line("100 evaluate DMZ-SESSIONS")));
}

#[test]
fn constructs_that_decide_at_run_time_make_the_verdict_unknown() {
    let rs = load();
    let m = members();
    // A time-range. (Each list alone: the DMZ's outbound list denies
    // port 22 from these sources whatever the first list decides.)
    let (v, lines, why) = ask(
        &only(&rs, "OUTSIDE-IN"),
        &m,
        "tcp 198.51.100.7 -> 10.20.0.30:22",
    );
    assert_eq!(v, Verdict::Unknown);
    assert!(
        lines.contains(&line("eq 22 time-range BUSINESS-HOURS")),
        "{lines:?}"
    );
    assert!(why.iter().any(|w| w.contains("time-range")));
    // A lock-and-key entry (the `ack` rule before it never matches a SYN).
    let (v, lines, _) = ask(&only(&rs, "101"), &m, "tcp 10.10.0.5 -> 10.20.0.30:22");
    assert_eq!(v, Verdict::Unknown);
    assert!(lines.contains(&line("access-list 101 dynamic TEMP-ADMIN")));
    // Every construct not understood is an issue at its line.
    let issues: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    for needle in [
        "eq 22 time-range BUSINESS-HOURS",
        "port-unreachable",
        "precedence internet",
        "172.16.0.1 0.15.255.0",
        "dynamic TEMP-ADMIN",
    ] {
        assert!(issues.contains(&line(needle)), "{needle}: {:?}", rs.issues);
    }
    assert_eq!(rs.issues.len(), 5, "{:?}", rs.issues);
}

#[test]
fn wildcards_that_are_not_contiguous() {
    let rs = load();
    let m = members();
    // 10.50.0.1 0.0.255.0: host .1 of every 10.50.x.0/24, read exactly.
    let (v, lines, _) = ask(&rs, &m, "tcp 10.50.7.1 -> 198.51.100.80:443");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(lines, [line("30 permit ip 10.50.0.1 0.0.255.0 any")]);
    let (v, lines, _) = ask(&rs, &m, "tcp 10.50.7.2 -> 198.51.100.80:443");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [line("50 deny ip any any log")]);
}

#[test]
fn ipv6_acl_with_its_implicit_neighbour_discovery_permits() {
    let rs = load();
    let m = members();
    let (v, lines, _) = ask(&rs, &m, "tcp [2001:db8:5100::1] -> [2001:db8:20::10]:443");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(lines, [line("permit tcp any host 2001:DB8:20::10 eq 443")]);
    let (v, lines, _) = ask(&rs, &m, "tcp [2001:db8:5100::1] -> [2001:db8:20::10]:22");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(
        lines,
        [line("sequence 35 deny tcp any 2001:DB8:20::/64 eq 22 log")]
    );
    let (v, lines, texts) = ask(&rs, &m, "tcp [2001:db8:5100::1] -> [2001:db8:20::10]:25");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [0]);
    assert!(texts.iter().any(|t| t == "implicit deny"));
    // Neighbour solicitation passes by the implicit permit.
    let nd = Space {
        proto: Ranges::one(58),
        src: addrs("2001:db8:5100::1/128"),
        dst: addrs("2001:db8:20::10/128"),
        sport: Ranges::full(),
        dport: Ranges::one(135),
    };
    let (v, lines, texts) = verdict(&rs, &m, &[nd]);
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(lines, [0]);
    assert!(texts.iter().any(|t| t.contains("nd-ns")), "{texts:?}");
}

#[test]
fn our_own_output_is_audited_as_applied_to_all_traffic() {
    let text = "! portplan: Cisco IOS ACLs for deployment demo\n\
                ip access-list extended PORTPLAN-DEMO\n \
                remark demo/web: HTTPS (page.txt:3)\n \
                permit tcp host 10.0.0.1 host 10.0.1.5 eq 443\n \
                deny ip any any log\n!\n\
                ipv6 access-list PORTPLAN-DEMO-V6\n \
                permit icmp any any nd-na\n \
                permit icmp any any nd-ns\n \
                deny ipv6 any any log\n!\n";
    assert_eq!(portplan_ruleset::detect(text), Ok("cisco-ios"));
    let rs = read(text, "own.cfg", None).unwrap();
    assert_eq!(rs.filters.len(), 2);
    assert!(rs
        .filters
        .iter()
        .all(|f| f.src_in.is_none() && f.dst_in.is_none()));
    assert_eq!(rs.notes.len(), 2);
    assert!(rs.notes[0]
        .message
        .contains("audited as applied to all traffic"));
    let m = Members::default();
    let (v, lines, _) = ask(&rs, &m, "tcp 10.0.0.1 -> 10.0.1.5:443");
    assert_eq!((v, lines), (Verdict::Allowed, vec![4]));
    let (v, lines, _) = ask(&rs, &m, "tcp 10.0.0.1 -> 10.0.1.5:80");
    assert_eq!((v, lines), (Verdict::Blocked, vec![5]));
    // The explicit deny makes the implicit ND permits unreachable: none added.
    assert!(rs.chains[1].rules.iter().all(|r| r.line != 0));
    assert!(rs.issues.is_empty());
    assert_eq!(
        rs.chains[0].rules[0].label.as_deref(),
        Some("demo/web: HTTPS (page.txt:3)")
    );
}

#[test]
fn an_acl_applied_but_not_defined_passes_everything_and_says_so() {
    let text = "interface Gi1\n ip access-group MISSING in\n!\nip access-list extended OTHER\n permit ip any any\n";
    let rs = read(text, "x.cfg", Some("cisco-ios")).unwrap();
    assert!(rs.filters.is_empty());
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == 2 && n.message.contains("not defined")));
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == 4 && n.message.contains("not audited as a filter")));
}

#[test]
fn broken_input_gives_a_located_error() {
    let cases: &[(&str, usize, usize)] = &[
        // The destination is missing.
        ("ip access-list extended A\n permit tcp any\n", 2, 17),
        // An extended entry's address needs its wildcard.
        ("access-list 101 permit tcp 10.0.0.0 any eq 22\n", 1, 37),
        // Not an address.
        (
            "ip access-list extended A\n permit tcp any host 300.1.1.1 eq 80\n",
            2,
            22,
        ),
        // No direction on the interface.
        (
            "interface Gi1\n ip access-group A\nip access-list extended A\n permit ip any any\n",
            2,
            19,
        ),
        // No ACL at all.
        ("hostname r1\ninterface Gi1\n description x\n", 1, 1),
        // An ACL header without a name.
        ("ip access-list extended\n permit ip any any\n", 1, 24),
    ];
    for (text, l, c) in cases {
        let e = read(text, "bad.cfg", Some("cisco-ios")).unwrap_err();
        assert_eq!(
            (e.line, e.column),
            (Some(*l), Some(*c)),
            "{text:?}: {}",
            e.message
        );
        assert_eq!(e.file, "bad.cfg");
    }
}

#[test]
fn unknown_words_are_issues_not_guesses() {
    let text = "ip access-list extended A\n \
                permit tcp any any eq foo-port\n \
                permit frobnicate any any\n \
                permit tcp any any eq 22 some-new-option\n \
                permit tcp any object-group NOPE eq 80\n";
    let rs = read(text, "x.cfg", Some("cisco-ios")).unwrap();
    let lines: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [2, 3, 4, 5], "{:?}", rs.issues);
    let m = Members::default();
    let (v, _, _) = ask(&rs, &m, "tcp 10.0.0.1 -> 10.0.0.2:80");
    assert_eq!(v, Verdict::Unknown);
}

fn mutate(text: &str, ops: &[(u8, usize, usize)]) -> String {
    let junk = [
        "eq",
        "range 9",
        "host",
        "object-group",
        "0.0.0.255",
        "\u{e9}",
        "sequence",
        "-1",
        "65536",
        "log",
    ];
    common::damage_lines(text, ops, &junk)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn damaged_input_never_panics(ops in proptest::collection::vec((0u8..7, 0usize..400, 0usize..400), 1..12)) {
        let text = mutate(&fixture(), &ops);
        let flows = ["tcp 198.51.100.9 -> 10.20.0.10:80", "udp 10.10.0.5 -> 10.20.0.53:53", "tcp [2001:db8:5100::1] -> [2001:db8:20::10]:443"];
        common::exercise("cisco-ios", &text, &members(), None, &flows);
        let _ = portplan_ruleset::detect(&text);
    }
}

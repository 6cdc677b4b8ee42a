//! The cisco-asa reader on a running-config excerpt (fixtures/cisco-asa):
//! verdicts with the line that decides them (interface rules, then global
//! rules, then the implicit deny), what the reader could not understand,
//! located errors, and no panic on damaged input.

mod common;

use common::addrs;
use portplan_ruleset::{read, Members, Ruleset, Verdict};
use proptest::prelude::*;

const FILE: &str = "dc-firewall.cfg";

fn fixture() -> String {
    common::fixture("cisco-asa", FILE)
}

fn load() -> Ruleset {
    common::read_fixture("cisco-asa", FILE, "cisco-asa")
}

/// The 1-based line of the first line of the fixture containing `needle`.
fn line(needle: &str) -> usize {
    common::line_of(&fixture(), needle)
}

fn members() -> Members {
    let mut m = Members::default();
    for (k, v) in [
        (
            "interface:outside",
            "198.51.100.0/24, 192.0.2.0/24, 2001:db8:5100::/48",
        ),
        ("interface:inside", "10.1.0.0/16"),
        ("interface:dmz", "172.16.10.0/24, 2001:db8:10::/64"),
        ("interface:guest", "192.168.50.0/24"),
    ] {
        m.map.insert(k.into(), addrs(v));
    }
    m
}

/// Only the filters whose name contains `part` (one ACL alone).
fn only(rs: &Ruleset, part: &str) -> Ruleset {
    let mut r = rs.clone();
    r.filters.retain(|f| f.name.contains(part));
    assert!(!r.filters.is_empty());
    r
}

/// The verdict of a flow, the lines of the rules that decide it, and the
/// texts and reasons shown with them.
fn ask(rs: &Ruleset, m: &Members, q: &str) -> (Verdict, Vec<usize>, Vec<String>) {
    let j = common::judged(rs, m, q, None);
    let lines = common::lines(&j);
    let texts = j
        .parts
        .iter()
        .flat_map(|p| {
            p.by.iter()
                .map(|r| format!("{}: {}", r.chain, r.text))
                .chain(p.why.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    (j.verdict, lines, texts)
}

#[test]
fn the_fixture_is_recognised_with_its_access_groups() {
    assert_eq!(portplan_ruleset::detect(&fixture()), Ok("cisco-asa"));
    let rs = load();
    let names: Vec<&str> = rs.filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "access-group OUTSIDE-IN in interface outside",
            "access-group INSIDE-IN in interface inside",
            "access-group DMZ-OUT out interface dmz",
            "access-group GLOBAL-ACL global",
        ]
    );
    // The global rules see what arrives on interfaces without their own
    // inbound list.
    let g = &rs.filters[3];
    let s = g.src_in.as_ref().unwrap();
    assert!(s.negated);
    assert_eq!(s.symbols, ["interface:outside", "interface:inside"]);
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == line("access-list VPN-NO-NAT")));
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == line("access-list SPLIT-TUNNEL standard")));
}

#[test]
fn an_interface_acl_is_unknown_until_members_say_what_is_behind_it() {
    let rs = load();
    let (v, _, why) = ask(
        &rs,
        &Members::default(),
        "tcp 192.0.2.5 -> 172.16.10.10:443",
    );
    assert_eq!(v, Verdict::Unknown);
    assert!(
        why.iter().any(|w| w.contains("--member interface:")),
        "{why:?}"
    );
    let (v, lines, _) = ask(&rs, &members(), "tcp 192.0.2.5 -> 172.16.10.10:443");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(
        lines,
        [
            line("permit tcp any object-group WEB-SERVERS object-group WEB-PORTS"),
            line("permit tcp any object WEB-01 eq https"),
        ]
    );
}

#[test]
fn first_match_and_the_outbound_lists_own_implicit_deny() {
    let rs = load();
    let m = members();
    // 8005 is in WEB-PORTS' `range 8000 8010`: the permit comes before the
    // deny of 8005-8006, which never decides for WEB-01.
    let (v, lines, _) = ask(
        &only(&rs, "OUTSIDE-IN"),
        &m,
        "tcp 192.0.2.5 -> 172.16.10.10:8005",
    );
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(
        lines,
        [line(
            "permit tcp any object-group WEB-SERVERS object-group WEB-PORTS"
        )]
    );
    // The dmz's outbound list does not let it out: its implicit deny.
    let (v, lines, texts) = ask(&rs, &m, "tcp 192.0.2.5 -> 172.16.10.10:8005");
    assert_eq!(v, Verdict::Blocked);
    assert_eq!(lines, [0]);
    assert!(
        texts
            .iter()
            .any(|t| t == "access-group DMZ-OUT out interface dmz: implicit deny"),
        "{texts:?}"
    );
    // Over IPv6 too (WEB-V6 is in WEB-SERVERS); the dmz's outbound list
    // names WEB-01's IPv4 address only.
    let q = "tcp [2001:db8:5100::1] -> [2001:db8:10::10]:80";
    let (v, lines, _) = ask(&only(&rs, "OUTSIDE-IN"), &m, q);
    assert_eq!(
        (v, lines),
        (
            Verdict::Allowed,
            vec![line("permit tcp any object-group WEB-SERVERS")]
        )
    );
    let (v, lines, _) = ask(&rs, &m, q);
    assert_eq!((v, lines), (Verdict::Blocked, vec![0]));
}

#[test]
fn named_ports_service_objects_and_groups() {
    let rs = load();
    let m = members();
    // `eq smtp` on both lists.
    let (v, lines, _) = ask(&rs, &m, "tcp 192.0.2.5 -> 172.16.10.25:25");
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(
        lines,
        [
            line("permit tcp any4 object DMZ-NET eq smtp"),
            line("DMZ-OUT extended permit tcp any4 object DMZ-NET eq smtp"),
        ]
    );
    // A service-object group (`tcp destination eq ssh`) from a network
    // group holding a `name` (jumphost = 10.1.2.50) and a subnet.
    for src in ["10.1.2.50", "10.1.3.7"] {
        let (v, lines, _) = ask(&rs, &m, &format!("tcp {src} -> 172.16.10.5:22"));
        assert_eq!(v, Verdict::Allowed, "{src}");
        assert_eq!(
            lines,
            [
                line("permit object-group MGMT-SVC object-group ADMINS object DMZ-NET"),
                line("permit tcp object-group ADMINS object DMZ-NET eq ssh"),
            ]
        );
    }
    // `service-object object HTTPS-ALT` (8443): the inside list permits
    // it, the dmz's outbound list does not.
    let (v, lines, _) = ask(
        &only(&rs, "INSIDE-IN"),
        &m,
        "tcp 10.1.2.50 -> 172.16.10.5:8443",
    );
    assert_eq!(
        (v, lines),
        (Verdict::Allowed, vec![line("permit object-group MGMT-SVC")])
    );
    let (v, _, _) = ask(&rs, &m, "tcp 10.1.2.50 -> 172.16.10.5:8443");
    assert_eq!(v, Verdict::Blocked);
    // An object service with a source port range: from the dmz (no
    // inbound list of its own) the global list decides.
    let (v, lines, _) = ask(&rs, &m, "tcp 172.16.10.10:2000 -> 10.1.0.60:6514");
    assert_eq!(
        (v, lines),
        (Verdict::Allowed, vec![line("permit object SYSLOG-TLS")])
    );
    let (v, lines, _) = ask(&rs, &m, "tcp 172.16.10.10:514 -> 10.1.0.60:6514");
    assert_eq!(
        (v, lines),
        (
            Verdict::Blocked,
            vec![line("GLOBAL-ACL extended deny ip any any log")]
        )
    );
    // An ICMP type group.
    let (v, lines, _) = ask(
        &only(&rs, "OUTSIDE-IN"),
        &m,
        "icmp 192.0.2.5 -> 172.16.10.10 echo-request",
    );
    assert_eq!(
        (v, lines),
        (
            Verdict::Allowed,
            vec![line("permit icmp any any object-group PING")]
        )
    );
    // A protocol group to the ASA's own outside address (`interface outside`).
    let (v, lines, _) = ask(&rs, &m, "esp 198.51.100.1 -> 203.0.113.10");
    assert_eq!(
        (v, lines),
        (Verdict::Allowed, vec![line("permit object-group TUNNELS")])
    );
    let (v, _, _) = ask(&rs, &m, "gre 198.51.100.1 -> 203.0.113.10");
    assert_eq!(v, Verdict::Blocked);
}

#[test]
fn interface_rules_fall_through_to_the_global_rules() {
    let rs = load();
    let m = members();
    // Nothing in INSIDE-IN matches DNS: the global list permits it.
    let (v, lines, _) = ask(&rs, &m, "udp 10.1.5.5 -> 10.1.0.53:53");
    assert_eq!(
        (v, lines),
        (
            Verdict::Allowed,
            vec![line("permit udp any host 10.1.0.53 eq domain")]
        )
    );
    // The interface list decides first.
    let (v, lines, _) = ask(&rs, &m, "tcp 10.1.5.5 -> 198.51.100.80:23");
    assert_eq!(
        (v, lines),
        (
            Verdict::Blocked,
            vec![line("INSIDE-IN extended deny tcp any any eq telnet")]
        )
    );
    let (v, lines, _) = ask(&rs, &m, "tcp 10.1.5.5 -> 198.51.100.80:443");
    assert_eq!(
        (v, lines),
        (
            Verdict::Allowed,
            vec![line("permit tcp object INSIDE-NET any eq https")]
        )
    );
    // What neither list permits ends at the global list's deny.
    let (v, lines, _) = ask(&rs, &m, "udp 10.1.5.5 -> 198.51.100.1:5000");
    assert_eq!(
        (v, lines),
        (
            Verdict::Blocked,
            vec![line("GLOBAL-ACL extended deny ip any any log")]
        )
    );
    // The guest interface has no list of its own: only the global one.
    let (v, lines, _) = ask(&rs, &m, "udp 192.168.50.5 -> 10.1.0.53:53");
    assert_eq!(
        (v, lines),
        (
            Verdict::Allowed,
            vec![line("permit udp any host 10.1.0.53 eq domain")]
        )
    );
    let (v, lines, _) = ask(&rs, &m, "tcp 192.168.50.5 -> 10.1.0.9:443");
    assert_eq!(
        (v, lines),
        (
            Verdict::Blocked,
            vec![line("GLOBAL-ACL extended deny ip any any log")]
        )
    );
}

#[test]
fn fqdn_objects_match_by_name() {
    let rs = load();
    let m = members();
    let (v, lines, _) = ask(
        &only(&rs, "INSIDE-IN"),
        &m,
        "tcp 10.1.5.5 -> updates.example.com:80",
    );
    assert_eq!(
        (v, lines),
        (
            Verdict::Allowed,
            vec![line("permit tcp object INSIDE-NET object UPDATES eq www")]
        )
    );
    // With every list, the name may resolve into the dmz, whose outbound
    // list would then decide: unknown, and said why.
    let (v, _, why) = ask(&rs, &m, "tcp 10.1.5.5 -> updates.example.com:80");
    assert_eq!(v, Verdict::Unknown);
    assert!(why.iter().any(|w| w.contains("DNS name")), "{why:?}");
}

#[test]
fn inactive_time_range_and_identity_entries() {
    let rs = load();
    let m = members();
    // The inactive ssh permit never matches: the explicit deny decides.
    let (v, lines, _) = ask(&rs, &m, "tcp 198.51.100.20 -> 172.16.10.10:22");
    assert_eq!(
        (v, lines),
        (
            Verdict::Blocked,
            vec![line("OUTSIDE-IN extended deny ip any any log")]
        )
    );
    // A time-range: unknown at its line. (Each list alone: the dmz's
    // outbound list denies 3389 whatever the first list decides.)
    let (v, lines, why) = ask(
        &only(&rs, "OUTSIDE-IN"),
        &m,
        "tcp 198.51.100.9 -> 172.16.10.20:3389",
    );
    assert_eq!(v, Verdict::Unknown);
    assert_eq!(lines, [line("time-range WEEKDAYS")]);
    assert!(why.iter().any(|w| w.contains("time-range WEEKDAYS")));
    // Identity criteria.
    let (v, lines, _) = ask(
        &only(&rs, "INSIDE-IN"),
        &m,
        "tcp 10.1.5.5 -> 172.16.10.20:3389",
    );
    assert_eq!(v, Verdict::Unknown);
    assert_eq!(lines, [line("user LOCAL\\alice")]);
    let issues: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    assert_eq!(
        issues,
        [line("time-range WEEKDAYS"), line("user LOCAL\\alice")],
        "{:?}",
        rs.issues
    );
}

const LEVELS: &str = "\
interface GigabitEthernet0/0
 nameif outside
 security-level 0
!
interface GigabitEthernet0/1
 nameif inside
 security-level 100
!
interface GigabitEthernet0/2
 nameif dmz
 security-level 50
!
interface GigabitEthernet0/3
 nameif dmz2
 security-level 50
!
access-list OUT-IN extended permit tcp any host 172.16.0.10 eq https
access-group OUT-IN in interface outside
";

fn level_members() -> Members {
    let mut m = Members::default();
    for (k, v) in [
        ("interface:outside", "198.51.100.0/24"),
        ("interface:inside", "10.1.0.0/16"),
        ("interface:dmz", "172.16.0.0/24"),
        ("interface:dmz2", "172.16.1.0/24"),
    ] {
        m.map.insert(k.into(), addrs(v));
    }
    m
}

#[test]
fn without_an_inbound_list_security_levels_decide() {
    let rs = read(LEVELS, "levels.cfg", Some("cisco-asa")).unwrap();
    let m = level_members();
    // inside (100) to dmz (50): the implicit permit, at inside's level.
    let (v, lines, _) = ask(&rs, &m, "tcp 10.1.0.5 -> 172.16.0.10:22");
    assert_eq!((v, lines), (Verdict::Allowed, vec![7]));
    // dmz (50) to inside (100): denied, at dmz's level.
    let (v, lines, _) = ask(&rs, &m, "tcp 172.16.0.10 -> 10.1.0.5:22");
    assert_eq!((v, lines), (Verdict::Blocked, vec![11]));
    // Equal levels: denied unless same-security-traffic permits it.
    let (v, _, _) = ask(&rs, &m, "tcp 172.16.0.10 -> 172.16.1.5:22");
    assert_eq!(v, Verdict::Blocked);
    let rs2 = read(
        &format!("{LEVELS}same-security-traffic permit inter-interface\n"),
        "levels.cfg",
        Some("cisco-asa"),
    )
    .unwrap();
    let (v, _, _) = ask(&rs2, &m, "tcp 172.16.0.10 -> 172.16.1.5:22");
    assert_eq!(v, Verdict::Allowed);
    // The outside interface has its list: it decides, then its implicit deny.
    let (v, lines, _) = ask(&rs, &m, "tcp 198.51.100.5 -> 172.16.0.10:443");
    assert_eq!((v, lines), (Verdict::Allowed, vec![17]));
    let (v, lines, _) = ask(&rs, &m, "tcp 198.51.100.5 -> 172.16.0.10:22");
    assert_eq!((v, lines), (Verdict::Blocked, vec![0]));
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("security levels decide")));
}

#[test]
fn our_own_output_is_one_filter_with_a_note() {
    let text = "! portplan: Cisco ASA access-list for deployment demo\n\
                object network DNS_APP_EXAMPLE_COM\n fqdn app.example.com\n\
                object-group network APP\n network-object object DNS_APP_EXAMPLE_COM\n\
                object-group network ADMINS\n network-object host 10.0.0.1\n network-object 2001:db8::/64\n\
                object-group service TCP_443 tcp\n port-object eq 443\n\
                access-list PORTPLAN-DEMO remark demo/web: HTTPS (page.txt:3)\n\
                access-list PORTPLAN-DEMO extended permit tcp object-group ADMINS object-group APP object-group TCP_443\n\
                access-list PORTPLAN-DEMO extended deny ip any any log\n";
    assert_eq!(portplan_ruleset::detect(text), Ok("cisco-asa"));
    let rs = read(text, "own.cfg", None).unwrap();
    assert_eq!(rs.filters.len(), 1);
    assert_eq!(rs.filters[0].name, "access-list PORTPLAN-DEMO");
    assert!(rs.notes[0]
        .message
        .contains("audited as applied to all traffic"));
    assert!(rs.issues.is_empty());
    let m = Members::default();
    let (v, lines, _) = ask(&rs, &m, "tcp 10.0.0.1 -> app.example.com:443");
    assert_eq!((v, lines), (Verdict::Allowed, vec![12]));
    let (v, lines, _) = ask(&rs, &m, "tcp [2001:db8::5] -> app.example.com:443");
    assert_eq!((v, lines), (Verdict::Allowed, vec![12]));
    let (v, lines, _) = ask(&rs, &m, "tcp 10.0.0.1 -> other.example.com:443");
    assert_eq!((v, lines), (Verdict::Blocked, vec![13]));
    assert_eq!(
        rs.chains[0].rules[0].label.as_deref(),
        Some("demo/web: HTTPS (page.txt:3)")
    );
}

#[test]
fn unsupported_constructs_are_issues_at_their_line() {
    let text = "object network WILD\n fqdn *.example.org\n\
                access-list A extended permit tcp any object WILD eq 443\n\
                access-list A extended permit tcp any any eq no-such-port\n\
                access-list A extended permit tcp any object-group NOPE eq 80\n\
                access-list A extended permit frob any any\n\
                access-list A extended permit tcp any any eq 22 some-new-option\n";
    let rs = read(text, "x.cfg", Some("cisco-asa")).unwrap();
    let lines: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [2, 4, 5, 6, 7], "{:?}", rs.issues);
    let m = Members::default();
    let (v, _, _) = ask(&rs, &m, "tcp 10.0.0.1 -> 10.0.0.2:443");
    assert_eq!(v, Verdict::Unknown);
}

#[test]
fn broken_input_gives_a_located_error() {
    let cases: &[(&str, usize, usize)] = &[
        ("access-list A extended permit tcp any\n", 1, 39),
        ("access-list A extended permit tcp host 999.1.1.1 any\n", 1, 40),
        ("access-list A extended permit tcp 10.0.0.0 255.0.255.0 any\n", 1, 35),
        ("access-list A extended permit tcp any any\naccess-group A sideways interface x\n", 2, 16),
        ("access-list A bogus permit\n", 1, 15),
        ("interface G0\n nameif x\n security-level 200\naccess-list A extended permit ip any any\n", 3, 17),
        ("hostname fw\n", 1, 1),
    ];
    for (text, l, c) in cases {
        let e = read(text, "bad.cfg", Some("cisco-asa")).unwrap_err();
        assert_eq!(
            (e.line, e.column),
            (Some(*l), Some(*c)),
            "{text:?}: {}",
            e.message
        );
    }
}

fn mutate(text: &str, ops: &[(u8, usize, usize)]) -> String {
    let junk = [
        "eq",
        "range 9",
        "host",
        "object-group",
        "object",
        "255.255.0.0",
        "\u{e9}",
        "line 1",
        "log",
        "interface",
    ];
    common::damage_lines(text, ops, &junk)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn damaged_input_never_panics(ops in proptest::collection::vec((0u8..7, 0usize..400, 0usize..400), 1..12)) {
        let text = mutate(&fixture(), &ops);
        let flows = ["tcp 192.0.2.5 -> 172.16.10.10:443", "udp 10.1.5.5 -> 10.1.0.53:53", "tcp 10.1.5.5 -> updates.example.com:80"];
        common::exercise("cisco-asa", &text, &members(), None, &flows);
        let _ = portplan_ruleset::detect(&text);
    }
}

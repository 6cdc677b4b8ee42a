//! The nftables readers (`nft list ruleset` text, `nft -f` input, and
//! `nft -j list ruleset` JSON) prove meaning: flows asked of a live host's
//! ruleset get the verdicts nftables gives them, decided where nftables
//! decides them.

mod common;

use common::{lines, members};
use portplan_ruleset::space::Addrs;
use portplan_ruleset::*;
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    common::fixture("nftables", name)
}

fn text() -> Ruleset {
    read(&fixture("host.nft"), "host.nft", Some("nftables")).unwrap()
}

fn json() -> Ruleset {
    read(&fixture("host.json"), "host.json", Some("nftables-json")).unwrap()
}

/// The host the fixture was listed on.
fn host() -> Addrs {
    common::addrs("10.0.1.10, 2001:db8:1::10")
}

fn ask_with(rs: &Ruleset, m: &Members, q: &str) -> Judged {
    common::judged(rs, m, q, Some(&host()))
}

fn ask(rs: &Ruleset, q: &str) -> Judged {
    ask_with(rs, &Members::default(), q)
}

#[track_caller]
fn allowed_by(rs: &Ruleset, q: &str, line: usize) {
    let j = ask(rs, q);
    assert_eq!(j.verdict, Verdict::Allowed, "{q}: {:?}", j.parts);
    assert!(lines(&j).contains(&line), "{q}: decided by {:?}", j.parts);
}

#[track_caller]
fn blocked_by(rs: &Ruleset, q: &str, line: usize) {
    let j = ask(rs, q);
    assert_eq!(j.verdict, Verdict::Blocked, "{q}: {:?}", j.parts);
    assert_eq!(lines(&j), vec![line], "{q}: {:?}", j.parts);
}

#[test]
fn named_sets_decide() {
    let rs = text();
    // `ip saddr @blocklist drop`: an address and a prefix.
    blocked_by(&rs, "tcp 192.0.2.66 -> 10.0.1.10:443", 43);
    blocked_by(&rs, "tcp 203.0.113.9 -> 10.0.1.10:80", 43);
    // `tcp dport @web_ports accept`: a port and a range.
    allowed_by(&rs, "tcp 10.0.7.7 -> 10.0.1.10:443", 46);
    allowed_by(&rs, "tcp 10.0.7.7 -> 10.0.1.10:8085", 46);
    // A concatenation `ip saddr . tcp dport @monitoring`.
    allowed_by(&rs, "tcp 10.0.5.6 -> 10.0.1.10:9100", 47);
    let j = ask(&rs, "tcp 10.0.5.7 -> 10.0.1.10:9100");
    assert_eq!(j.verdict, Verdict::Blocked, "{:?}", j.parts);
}

#[test]
fn jump_return_and_goto() {
    let rs = text();
    // 22 jumps to ssh_in (verdict map `@svc`): an admin address (a range
    // element of @admin_v4) is accepted there.
    allowed_by(&rs, "tcp 198.51.100.25 -> 10.0.1.10:22", 58);
    allowed_by(&rs, "tcp [2001:db8:9::5] -> [2001:db8:1::10]:22", 59);
    // A privileged source port from 10/8 is dropped inside ssh_in.
    blocked_by(&rs, "tcp 10.1.2.3:1000 -> 10.0.1.10:22", 60);
    // Otherwise ssh_in returns, and input goes on after the verdict map:
    // nothing else accepts 22, so the flow is dropped in input (by its
    // last drop rule or its policy), not accepted by anything in ssh_in.
    let j = ask(&rs, "tcp 10.1.2.3:40000 -> 10.0.1.10:22");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert!(
        lines(&j).iter().all(|l| [39, 53].contains(l)),
        "{:?}",
        j.parts
    );
    // 5432 goes to db_in: its end is the end of input (the policy), not
    // the rules after the verdict map.
    allowed_by(&rs, "tcp 10.0.2.21 -> 10.0.1.10:5432", 70);
    blocked_by(&rs, "tcp 10.0.2.99 -> 10.0.1.10:5432", 39);
}

#[test]
fn verdict_maps_one_verdict_per_element() {
    let rs = text();
    allowed_by(&rs, "udp 10.9.9.9 -> 10.0.1.10:53", 49);
    blocked_by(&rs, "udp 10.9.9.9 -> 10.0.1.10:161", 49);
    // 123 jumps to ntp_in, which accepts 10/8.
    allowed_by(&rs, "udp 10.9.9.9 -> 10.0.1.10:123", 65);
    // Named map `@svc`: 25 drops.
    blocked_by(&rs, "tcp 10.9.9.9 -> 10.0.1.10:25", 48);
    // A verdict map over `ct state` has no element for new connections.
    let fwd = rs
        .chains
        .iter()
        .find(|c| c.name == "inet filter forward")
        .unwrap();
    assert!(fwd.rules.iter().filter(|r| r.line == 76).all(|r| r
        .when
        .iter()
        .any(|w| matches!(w, Cond::States { new: false, .. }))));
}

#[test]
fn every_base_chain_on_a_hook_must_accept() {
    let rs = text();
    // inet filter input accepts 8081 (@web_ports), but the ip guard chain
    // (priority mangle, before it) drops it.
    blocked_by(&rs, "tcp 10.0.7.7 -> 10.0.1.10:8081", 90);
    blocked_by(&rs, "tcp 10.0.66.5 -> 10.0.1.10:443", 91);
    // An accept in inet filter input does not skip ip6 filter6 input
    // (priority filter + 10): a drop there is final.
    blocked_by(&rs, "tcp [2001:db8:dead::1] -> [2001:db8:1::10]:443", 97);
    let j = ask(&rs, "tcp [2001:db8:1::99] -> [2001:db8:1::10]:443");
    assert_eq!(j.verdict, Verdict::Allowed);
    // Both input filters (and the guard only for IPv4) accepted it.
    let l = lines(&j);
    assert!(l.contains(&46) && l.contains(&96), "{l:?}");
    // The guard table is IPv4 only: it does not judge IPv6.
    assert!(!l.contains(&89));
    // Filters are in the order a packet meets them.
    let names: Vec<&str> = rs
        .filters
        .iter()
        .filter(|f| f.direction == Direction::In)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "netdev edge ingress",
            "ip nat prerouting",
            "ip guard early_in",
            "inet filter input",
            "ip6 filter6 input"
        ]
    );
}

#[test]
fn connection_state_rules_never_match_a_new_flow() {
    let rs = text();
    // `ct state established,related accept` would accept anything; a new
    // connection to 7777 is dropped instead.
    let j = ask(&rs, "tcp 10.0.7.7 -> 10.0.1.10:7777");
    assert_eq!(j.verdict, Verdict::Blocked, "{:?}", j.parts);
    assert!(!lines(&j).contains(&41));
    // They match the connection's later packets only.
    let r = rs.rules().find(|(_, r)| r.line == 41).unwrap().1;
    assert!(matches!(
        r.when.as_slice(),
        [Cond::States {
            new: false,
            later: true
        }]
    ));
    let r = rs.rules().find(|(_, r)| r.line == 42).unwrap().1;
    assert!(matches!(
        r.when.as_slice(),
        [Cond::States {
            new: false,
            later: false
        }]
    ));
}

#[test]
fn interface_rules_need_members() {
    let rs = text();
    // `iifname "eth1" tcp dport 3306 accept`: who is behind eth1?
    let j = ask(&rs, "tcp 10.0.3.5 -> 10.0.1.10:3306");
    assert_eq!(j.verdict, Verdict::Unknown, "{:?}", j.parts);
    assert!(
        j.parts.iter().any(|p| p
            .why
            .as_deref()
            .is_some_and(|w| w.contains("interface:eth1"))),
        "{:?}",
        j.parts
    );
    let m = members(&[("interface:eth1", "10.0.3.0/24")]);
    let j = ask_with(&rs, &m, "tcp 10.0.3.5 -> 10.0.1.10:3306");
    assert_eq!(j.verdict, Verdict::Allowed, "{:?}", j.parts);
    assert!(lines(&j).contains(&50));
    let j = ask_with(&rs, &m, "tcp 10.0.4.5 -> 10.0.1.10:3306");
    assert_eq!(j.verdict, Verdict::Blocked, "{:?}", j.parts);
    // `iif "lo"` is known: loopback addresses.
    let r = rs.rules().find(|(_, r)| r.line == 40).unwrap().1;
    assert_eq!(r.matches[0].src.symbols, ["interface:lo"]);
}

#[test]
fn what_is_not_understood_is_unknown_with_its_line() {
    let rs = text();
    // `meta mark 0x00000010`: the mark is set elsewhere.
    let j = ask(&rs, "tcp 10.0.7.7 -> 10.0.1.10:9090");
    assert_eq!(j.verdict, Verdict::Unknown, "{:?}", j.parts);
    assert!(lines(&j).contains(&52));
    // `limit rate ... accept` accepts only part of the time.
    let j = ask(&rs, "tcp 10.0.7.7 -> 10.0.1.10:8000");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert!(lines(&j).contains(&51));
    // dnat in the nat prerouting chain rewrites the destination.
    let j = ask(&rs, "tcp 10.0.7.7 -> 10.0.1.10:2222");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert!(lines(&j).contains(&104));
    let issue_lines: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    for l in [44, 51, 52, 53, 84, 104, 114] {
        assert!(
            issue_lines.contains(&l),
            "no issue at line {l}: {:?}",
            rs.issues
        );
    }
    // The fib rule is reported with its text.
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 53 && i.text.starts_with("fib daddr")));
}

#[test]
fn netdev_ingress_that_drops_is_judged_and_reported() {
    let rs = text();
    let j = ask(&rs, "tcp 198.18.0.5 -> 10.0.1.10:443");
    assert_eq!(j.verdict, Verdict::Unknown, "{:?}", j.parts);
    let m = members(&[("interface:eth0", "198.18.0.0/15")]);
    let j = ask_with(&rs, &m, "tcp 198.18.0.5 -> 10.0.1.10:443");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert_eq!(lines(&j), vec![115]);
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 114 && i.message.contains("eth0")));
    // Other traffic is not affected by not knowing eth0.
    allowed_by(&rs, "tcp 10.0.7.7 -> 10.0.1.10:80", 46);
    // The bridge table is not judged: a note says so.
    assert!(rs.notes.iter().any(|n| n.line == 118));
    assert!(!rs.chains.iter().any(|c| c.name.starts_with("bridge")));
}

#[test]
fn outbound_filters() {
    let rs = text();
    let m = members(&[("interface:eth0", "0.0.0.0/0")]);
    let j = ask_with(&rs, &m, "tcp 10.0.1.10 -> 198.51.100.5:25");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert_eq!(lines(&j), vec![83]);
    let j = ask_with(&rs, &m, "tcp 10.0.1.10 -> 10.2.0.5:25");
    assert_eq!(j.verdict, Verdict::Allowed);
    let j = ask_with(&rs, &m, "tcp 10.0.1.10 -> 169.254.169.254:80");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert!(lines(&j).contains(&84));
}

/// Flows the text and the JSON fixture must agree on (all but the netdev
/// chain's device, which `nft -j` 1.0.6 does not print).
const QUERIES: &[&str] = &[
    "tcp 192.0.2.66 -> 10.0.1.10:443",
    "tcp 10.0.7.7 -> 10.0.1.10:443",
    "tcp 10.0.7.7 -> 10.0.1.10:8081",
    "tcp 10.0.66.5 -> 10.0.1.10:443",
    "tcp 10.0.5.6 -> 10.0.1.10:9100",
    "tcp 10.0.5.7 -> 10.0.1.10:9100",
    "tcp 198.51.100.25 -> 10.0.1.10:22",
    "tcp 10.1.2.3:1000 -> 10.0.1.10:22",
    "tcp 10.1.2.3:40000 -> 10.0.1.10:22",
    "tcp [2001:db8:9::5] -> [2001:db8:1::10]:22",
    "tcp 10.0.2.21 -> 10.0.1.10:5432",
    "tcp 10.0.2.99 -> 10.0.1.10:5432",
    "udp 10.9.9.9 -> 10.0.1.10:53",
    "udp 10.9.9.9 -> 10.0.1.10:123",
    "udp 10.9.9.9 -> 10.0.1.10:161",
    "tcp 10.9.9.9 -> 10.0.1.10:25",
    "tcp [2001:db8:dead::1] -> [2001:db8:1::10]:443",
    "tcp [2001:db8:1::99] -> [2001:db8:1::10]:443",
    "tcp [2001:db8:1::99] -> [2001:db8:1::10]:8443",
    "tcp [3fff::1] -> [2001:db8:1::10]:8443",
    "tcp 10.0.7.7 -> 10.0.1.10:7777",
    "tcp 10.0.3.5 -> 10.0.1.10:3306",
    "tcp 10.0.7.7 -> 10.0.1.10:9090",
    "tcp 10.0.7.7 -> 10.0.1.10:8000",
    "tcp 10.0.7.7 -> 10.0.1.10:2222",
    "icmp 10.0.7.7 -> 10.0.1.10 echo-request",
    "icmpv6 [2001:db8:1::99] -> [2001:db8:1::10] echo-request",
    "tcp 10.0.1.10 -> 169.254.169.254:80",
    "tcp 10.0.1.10 -> 10.2.0.5:25",
];

/// A judged flow's verdict and the chains that decided it.
fn shape(j: &Judged) -> (Verdict, Vec<String>) {
    let mut v: Vec<String> = j
        .parts
        .iter()
        .flat_map(|p| p.by.iter())
        .map(|r| r.chain.clone())
        .collect();
    v.sort();
    v.dedup();
    (j.verdict, v)
}

#[test]
fn json_means_what_text_means() {
    let t = text();
    let js = json();
    let handles = handle_lines();
    for q in QUERIES {
        let a = ask(&t, q);
        let b = ask(&js, q);
        assert_eq!(shape(&a), shape(&b), "{q}:\n{:?}\n{:?}", a.parts, b.parts);
        // The same rules decide: the JSON rule's handle is the text rule's.
        let mut by_text: Vec<usize> = a
            .parts
            .iter()
            .flat_map(|p| p.by.iter().map(|r| r.line))
            .collect();
        let mut by_json: Vec<usize> = b
            .parts
            .iter()
            .flat_map(|p| p.by.iter())
            .map(|r| {
                let h: u64 = r
                    .text
                    .strip_prefix("rule handle ")
                    .and_then(|x| x.split(':').next())
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(0);
                if h == 0 {
                    // A policy: the chain's `type ...` line.
                    t.chains
                        .iter()
                        .find(|c| c.name == r.chain)
                        .map_or(0, |c| match &c.end {
                            End::Policy { line, .. } => *line,
                            End::Return => 0,
                        })
                } else {
                    *handles.get(&(r.chain.clone(), h)).unwrap_or(&0)
                }
            })
            .collect();
        by_text.sort();
        by_text.dedup();
        by_json.sort();
        by_json.dedup();
        assert_eq!(by_text, by_json, "{q}:\n{:?}\n{:?}", a.parts, b.parts);
    }
    // `nft -j` prints one line: every rule is on line 1 and names its handle.
    assert!(js
        .rules()
        .all(|(_, r)| r.line == 1 && r.text.starts_with("rule handle ")));
    assert_eq!(js.issues.len(), t.issues.len());
}

/// (chain name, rule handle) -> line in host.nft, from `nft -a` output.
fn handle_lines() -> std::collections::HashMap<(String, u64), usize> {
    // `nft -a list ruleset` of the fixture prints each rule's handle; the
    // handles below are those, with the text fixture's lines.
    let pairs: &[(&str, u64, usize)] = &[
        ("inet filter input", 13, 40),
        ("inet filter input", 14, 41),
        ("inet filter input", 15, 42),
        ("inet filter input", 16, 43),
        ("inet filter input", 17, 44),
        ("inet filter input", 19, 45),
        ("inet filter input", 20, 46),
        ("inet filter input", 21, 47),
        ("inet filter input", 22, 48),
        ("inet filter input", 24, 49),
        ("inet filter input", 25, 50),
        ("inet filter input", 26, 51),
        ("inet filter input", 27, 52),
        ("inet filter input", 29, 53),
        ("inet filter input", 30, 54),
        ("inet filter ssh_in", 31, 58),
        ("inet filter ssh_in", 32, 59),
        ("inet filter ssh_in", 33, 60),
        ("inet filter ssh_in", 34, 61),
        ("inet filter ntp_in", 35, 65),
        ("inet filter ntp_in", 36, 66),
        ("inet filter db_in", 38, 70),
        ("inet filter db_in", 39, 71),
        ("inet filter output", 44, 82),
        ("inet filter output", 45, 83),
        ("inet filter output", 46, 84),
        ("ip guard early_in", 2, 90),
        ("ip guard early_in", 3, 91),
        ("ip6 filter6 input", 2, 97),
        ("ip6 filter6 input", 4, 98),
        ("ip nat prerouting", 3, 104),
        ("ip nat postrouting", 4, 109),
    ];
    pairs
        .iter()
        .map(|(c, h, l)| ((c.to_string(), *h), *l))
        .collect()
}

#[test]
fn pretty_json_gives_each_rule_its_line() {
    let v: serde_json::Value = serde_json::from_str(&fixture("host.json")).unwrap();
    let pretty = serde_json::to_string_pretty(&v).unwrap();
    let rs = read(&pretty, "pretty.json", Some("nftables-json")).unwrap();
    let lines: Vec<&str> = pretty.lines().collect();
    let mut n = 0;
    for (_, r) in rs.rules() {
        assert!(r.line > 1);
        assert!(
            lines[r.line - 1].trim_start().starts_with("\"rule\""),
            "{}",
            lines[r.line - 1]
        );
        n += 1;
    }
    assert!(n > 20);
    // The verdicts do not depend on the layout.
    let j = ask(&rs, "tcp 10.0.2.99 -> 10.0.1.10:5432");
    assert_eq!(j.verdict, Verdict::Blocked);
}

#[test]
fn formats_are_told_apart() {
    assert_eq!(detect(&fixture("host.nft")), Ok("nftables"));
    assert_eq!(detect(&fixture("host.json")), Ok("nftables-json"));
    let ipt = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
    assert_eq!(detect(ipt), Ok("iptables"));
    let ours = "#!/usr/sbin/nft -f\ntable inet portplan\ndelete table inet portplan\n";
    assert_eq!(detect(ours), Ok("nftables"));
}

#[test]
fn nft_f_commands_run_in_order() {
    // What our renderer writes: create, delete, then the table's block.
    let t = "table inet portplan\ndelete table inet portplan\n\ntable inet portplan {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\n";
    let rs = read(t, "f.nft", Some("nftables")).unwrap();
    assert_eq!(rs.chains.len(), 1);
    assert_eq!(rs.chains[0].rules[0].line, 7);
    // `add`/`insert` commands, variables, a rule over several lines, flush.
    let t = r#"#!/usr/sbin/nft -f
flush ruleset
define admins = { 10.0.9.0/24, 192.0.2.10 }
define web = 443
add table ip filter
add chain ip filter input { type filter hook input priority 0 ; policy drop ; }
add rule ip filter input tcp dport $web accept
add rule ip filter input ip saddr $admins tcp dport {
	22,
	2222
} accept
insert rule ip filter input ct state established,related accept
add chain ip filter old
add rule ip filter old tcp dport 23 accept
flush chain ip filter old
"#;
    let rs = read(t, "cmds.nft", Some("nftables")).unwrap();
    assert!(rs.issues.is_empty(), "{:?}", rs.issues);
    let input = &rs.chains[0];
    let ls: Vec<usize> = input.rules.iter().map(|r| r.line).collect();
    assert_eq!(ls, [12, 7, 8]);
    assert!(input.rules[2].text.contains("2222"));
    let m = Members::default();
    let c = Compiled::new(&rs, &m);
    let j = judge(
        &c,
        &parse_query("tcp 192.0.2.10 -> 10.0.1.10:2222", &m)
            .unwrap()
            .spaces,
        None,
    );
    assert_eq!(j.verdict, Verdict::Allowed);
    assert_eq!(j.parts[0].by[0].line, 8);
    let j = judge(
        &c,
        &parse_query("tcp 192.0.2.11 -> 10.0.1.10:22", &m)
            .unwrap()
            .spaces,
        None,
    );
    assert_eq!(j.verdict, Verdict::Blocked);
    assert!(rs.chains[1].rules.is_empty());
    // `flush ruleset` forgets what came before it.
    let t = "table ip a {\n chain c { type filter hook input priority 0; policy drop; }\n}\nflush ruleset\ntable ip b {\n chain c { type filter hook input priority 0; }\n}\n";
    let rs = read(t, "f.nft", Some("nftables")).unwrap();
    assert_eq!(rs.chains.len(), 1);
    assert_eq!(rs.chains[0].name, "ip b c");
    assert!(matches!(rs.chains[0].end, End::Policy { accept: true, .. }));
}

#[test]
fn tcp_flags_and_other_matches() {
    let t = "table inet t {\n\tchain i {\n\t\ttype filter hook input priority 0; policy accept;\n\t\ttcp flags syn / fin,syn,rst,ack tcp dport 1 drop\n\t\ttcp flags != syn tcp dport 2 drop\n\t\ttcp flags & (syn|ack) == syn|ack tcp dport 3 drop\n\t\tmeta l4proto { tcp, udp } th dport 53 drop\n\t\ttcp dport < 1024 ip saddr 10.0.0.0/8 drop\n\t\tiifname != \"lo\" udp dport 5 drop\n\t\tmeta nfproto ipv6 tcp dport 6 drop\n\t\tqueue num 1\n\t}\n}\n";
    let rs = read(t, "t.nft", Some("nftables")).unwrap();
    let m = Members::default();
    let c = Compiled::new(&rs, &m);
    let v = |q: &str| judge(&c, &parse_query(q, &m).unwrap().spaces, None);
    assert_eq!(v("tcp 1.1.1.1 -> 2.2.2.2:1").verdict, Verdict::Blocked);
    // Only packets that are not a bare SYN: never a new connection.
    assert_eq!(v("tcp 1.1.1.1 -> 2.2.2.2:2").verdict, Verdict::Unknown); // reaches queue
    assert_eq!(v("tcp 1.1.1.1 -> 2.2.2.2:3").verdict, Verdict::Unknown);
    assert_eq!(v("udp 1.1.1.1 -> 2.2.2.2:53").verdict, Verdict::Blocked);
    assert_eq!(v("tcp 10.1.1.1 -> 2.2.2.2:80").verdict, Verdict::Blocked);
    assert_eq!(v("tcp 11.1.1.1 -> 2.2.2.2:80").verdict, Verdict::Unknown);
    assert_eq!(v("udp 1.1.1.1 -> 2.2.2.2:5").verdict, Verdict::Blocked);
    assert_eq!(
        v("tcp [2001:db8::1] -> [2001:db8::2]:6").verdict,
        Verdict::Blocked
    );
    assert_eq!(v("tcp 1.1.1.1 -> 2.2.2.2:6").verdict, Verdict::Unknown);
    let never: Vec<usize> = rs
        .rules()
        .filter(|(_, r)| r.when.iter().any(|w| matches!(w, Cond::Never(_))))
        .map(|(_, r)| r.line)
        .collect();
    assert_eq!(never, [5, 6]);
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 11 && i.message.contains("queue")));
}

#[test]
fn broken_input_is_a_located_error() {
    let cases: &[(&str, usize)] = &[
        ("table inet t {\n\tchain c {\n\t\ttcp dport 22 accept\n", 2),
        ("table inet t {\n}\n}\n", 3),
        ("*filter\n:INPUT DROP [0:0]\nCOMMIT\n", 1),
        ("table inet t {\n\tchain c {\n\t\tcomment \"x\n\t}\n}\n", 3),
        ("add rule inet t c tcp dport 22 accept\n", 1),
        (
            "table inet t {\n\tchain c {\n\t\ttcp dport $nope accept\n\t}\n}\n",
            3,
        ),
        (
            "table inet t {\n\tchain c {\n\t\tpolicy maybe;\n\t}\n}\n",
            3,
        ),
        ("", 1),
    ];
    for (t, line) in cases {
        let e = read(t, "bad.nft", Some("nftables")).unwrap_err();
        assert_eq!(e.line, Some(*line), "{t:?}: {e}");
    }
    let cases: &[(&str, usize)] = &[
        ("{\"nftables\": [\n{\"table\": {\"family\": \"inet\"", 2),
        ("{\"rules\": []}", 1),
        ("{\"nftables\": [\n {\"table\": {\"family\": \"inet\", \"name\": \"t\"}},\n {\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"nope\", \"expr\": []}}\n]}", 3),
        ("{\"nftables\": [{\"metainfo\": {}}]}", 1),
    ];
    for (t, line) in cases {
        let e = read(t, "bad.json", Some("nftables-json")).unwrap_err();
        assert_eq!(e.line, Some(*line), "{t:?}: {e}");
    }
}

#[test]
fn our_own_output_reads_without_issues() {
    let t = fixture("host.nft");
    assert!(!t.is_empty());
    let rendered = r#"#!/usr/sbin/nft -f
table inet portplan
delete table inet portplan

table inet portplan {
	set dns_app_example_com_v4 {
		type ipv4_addr
		flags interval
		comment "addresses of app.example.com"
	}

	chain output {
		type filter hook output priority filter; policy drop;
		oifname "lo" accept
		ct state established,related accept
		ct state invalid drop
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept
		ip daddr @dns_app_example_com_v4 tcp dport 443 accept comment "x"
		ip daddr { 10.0.0.1, 10.0.1.0/24 } udp dport { 53, 123 } accept comment "y"
		meta l4proto esp accept comment "z"
	}
}
"#;
    let rs = read(rendered, "r.nft", Some("nftables")).unwrap();
    assert!(rs.issues.is_empty(), "{:?}", rs.issues);
    // The empty DNS set: read as empty, with a note.
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("dns_app_example_com_v4")));
    let m = Members::default();
    let c = Compiled::new(&rs, &m);
    let j = judge(
        &c,
        &parse_query("udp 10.0.0.9 -> 10.0.1.7:123", &m)
            .unwrap()
            .spaces,
        None,
    );
    assert_eq!(j.verdict, Verdict::Allowed);
    assert_eq!(j.parts[0].by[0].line, 19);
}

fn mutate(s: &str, ops: &[(u8, usize, usize)]) -> String {
    const BITS: &[&str] = &[
        "{",
        "}",
        ";",
        ",",
        "\n",
        "\"",
        "@",
        "$",
        ":",
        ".",
        "!=",
        "vmap",
        "jump",
        "goto",
        "table",
        "chain",
        "set",
        "-",
        "/",
        "ip saddr",
        "tcp dport",
        "ct state",
        "type filter hook input priority",
        "elements = {",
        "\\\n",
        "#",
        "é",
        "0x",
        "999999999999",
        "::",
        "[",
        "]",
        "null",
    ];
    let mut c: Vec<char> = s.chars().collect();
    for &(op, at, k) in ops {
        let n = c.len();
        let at = if n == 0 { 0 } else { at % n };
        match op % 4 {
            0 => {
                let end = (at + k % 40).min(n);
                c.drain(at..end);
            }
            1 => {
                let ins: Vec<char> = BITS[k % BITS.len()].chars().collect();
                for (i, ch) in ins.into_iter().enumerate() {
                    c.insert(at + i, ch);
                }
            }
            2 => c.truncate(at),
            _ => {
                if at < n {
                    c[at] = BITS[k % BITS.len()].chars().next().unwrap_or('x');
                }
            }
        }
    }
    c.into_iter().collect()
}

/// A JSON value with one leaf (chosen by `pick`) replaced.
fn mutate_json(v: &mut serde_json::Value, pick: &mut usize, with: &serde_json::Value) {
    match v {
        serde_json::Value::Array(a) => {
            for x in a {
                mutate_json(x, pick, with);
            }
        }
        serde_json::Value::Object(o) => {
            for (_, x) in o.iter_mut() {
                mutate_json(x, pick, with);
            }
        }
        leaf => {
            if *pick == 0 {
                *leaf = with.clone();
            }
            *pick = pick.wrapping_sub(1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn mutated_input_never_panics(ops in proptest::collection::vec((0u8..4, 0usize..20000, 0usize..1000), 1..6)) {
        for f in ["host.nft", "host.json"] {
            let t = mutate(&fixture(f), &ops);
            for fmt in ["nftables", "nftables-json"] {
                if let Ok(rs) = read(&t, f, Some(fmt)) {
                    let _ = common::judged(&rs, &Members::default(), "tcp 10.0.7.7 -> 10.0.1.10:443", None);
                }
            }
        }
    }

    #[test]
    fn mutated_json_values_never_panic(picks in proptest::collection::vec((0usize..600, 0usize..8), 1..5)) {
        let mut v: serde_json::Value = serde_json::from_str(&fixture("host.json")).unwrap();
        let withs = [
            serde_json::json!(null),
            serde_json::json!(0),
            serde_json::json!("@nope"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!({"set": [1, {"range": ["a"]}]}),
            serde_json::json!(-1),
            serde_json::json!("10.0.0.0/99"),
        ];
        for (p, w) in picks {
            let mut p = p;
            mutate_json(&mut v, &mut p, &withs[w]);
        }
        let t = serde_json::to_string(&v).unwrap();
        if let Ok(rs) = read(&t, "m.json", Some("nftables-json")) {
            let m = Members::default();
            let c = Compiled::new(&rs, &m);
            let q = parse_query("udp 10.0.7.7 -> 10.0.1.10:53", &m).unwrap();
            let _ = judge(&c, &q.spaces, Some(&host()));
        }
    }
}

#[test]
fn iptables_nft_extensions_are_issues() {
    // What `nft list ruleset` prints for iptables-nft rules it cannot
    // translate: `xt match "NAME"`, or `# xt_NAME` from nft without
    // libxtables (not a comment: the rule goes on after it).
    let t = "# Warning: table ip filter is managed by iptables-nft, do not touch!\ntable ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tmeta l4proto tcp # xt_conntrack counter packets 0 bytes 0 drop\n\t\tudp dport 99 xt match \"osf\" counter packets 0 bytes 0 drop\n\t\tip saddr 1.2.3.4 # xt_LOG\n\t\tip saddr 1.2.3.5 # xt_NFQUEUE\n\t}\n}\n";
    let rs = read(t, "ipt.nft", Some("nftables")).unwrap();
    let lines: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [5, 6, 8], "{:?}", rs.issues);
    let m = Members::default();
    let c = Compiled::new(&rs, &m);
    let j = judge(
        &c,
        &parse_query("tcp 1.1.1.1 -> 2.2.2.2:22", &m).unwrap().spaces,
        None,
    );
    assert_eq!(j.verdict, Verdict::Unknown);
    let j = judge(
        &c,
        &parse_query("udp 1.2.3.5 -> 2.2.2.2:22", &m).unwrap().spaces,
        None,
    );
    assert_eq!(j.verdict, Verdict::Unknown);
    // `LOG` decides nothing.
    let j = judge(
        &c,
        &parse_query("udp 1.2.3.4 -> 2.2.2.2:22", &m).unwrap().spaces,
        None,
    );
    assert_eq!(j.verdict, Verdict::Allowed);
}

#[test]
fn firewalld_ruleset() {
    // What firewalld writes on a RHEL/Fedora host: zones as chains entered
    // by `goto`, `ct status dnat accept`, a reject at the end.
    let rs = read(&fixture("firewalld.nft"), "firewalld.nft", None).unwrap();
    assert_eq!(rs.format, "nftables");
    // No rule here rewrites destinations: `ct status dnat` is never true for
    // a new connection, and a note says what that assumes.
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == 5 && n.text == "ct status dnat"));
    let m = Members::default();
    let c = Compiled::new(&rs, &m);
    let v = |q: &str| judge(&c, &parse_query(q, &m).unwrap().spaces, None);
    let j = v("tcp 192.0.2.1 -> 10.0.0.1:22");
    assert_eq!(j.verdict, Verdict::Allowed);
    assert!(lines(&j).contains(&28));
    let j = v("tcp 192.0.2.1 -> 10.0.0.1:23");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert_eq!(lines(&j), vec![9]);
    // IPv6 meets the reverse-path check (`fib ... oif missing drop`), which
    // this audit does not model.
    let j = v("tcp [2001:db8::1] -> [2001:db8::2]:22");
    assert_eq!(j.verdict, Verdict::Unknown);
    assert!(rs.issues.iter().any(|i| i.line == 39));
}

#[test]
fn json_commands_run_in_order() {
    // libnftables-json(5), "COMMAND OBJECTS": the example there, and more.
    let t = r#"{ "nftables": [
        { "flush": { "ruleset": null }},
        { "add": { "table": { "family": "inet", "name": "mytable" }}},
        { "add": { "chain": { "family": "inet", "table": "mytable", "name": "mychain",
                              "type": "filter", "hook": "input", "prio": 0, "policy": "drop" }}},
        { "add": { "rule": { "family": "inet", "table": "mytable", "chain": "mychain",
            "expr": [ { "match": { "op": "==", "left": { "payload": { "protocol": "tcp", "field": "dport" }}, "right": 22 }},
                      { "accept": null } ] }}},
        { "insert": { "rule": { "family": "inet", "table": "mytable", "chain": "mychain",
            "expr": [ { "match": { "op": "==", "left": { "payload": { "protocol": "ip", "field": "saddr" }},
                                   "right": { "prefix": { "addr": "10.66.0.0", "len": 16 }}}},
                      { "drop": null } ] }}}
    ]}"#;
    let rs = read(t, "cmds.json", None).unwrap();
    assert_eq!(rs.format, "nftables-json");
    let m = Members::default();
    let c = Compiled::new(&rs, &m);
    let v = |q: &str| judge(&c, &parse_query(q, &m).unwrap().spaces, None);
    let j = v("tcp 10.1.0.1 -> 10.0.0.1:22");
    assert_eq!(j.verdict, Verdict::Allowed);
    assert_eq!(j.parts[0].by[0].line, 6);
    let j = v("tcp 10.66.0.1 -> 10.0.0.1:22");
    assert_eq!(j.verdict, Verdict::Blocked);
    assert_eq!(j.parts[0].by[0].line, 9);
    assert!(j.parts[0].by[0]
        .text
        .starts_with("rule: ip saddr 10.66.0.0/16 drop"));
    assert_eq!(v("tcp 10.1.0.1 -> 10.0.0.1:23").verdict, Verdict::Blocked);
}

#[test]
fn statements_not_understood_without_a_verdict_are_unknown() {
    let t = "table inet t {\n\tchain f {\n\t\ttype filter hook forward priority 0; policy accept;\n\t\ttcp flags syn tcp option maxseg size set rt mtu\n\t\tmeta mark set 0x1 counter\n\t\tudp dport 9 frobnicate 7\n\t\tmeta mark 3 tcp dport vmap { 1 : accept, 2 : drop }\n\t}\n}\n";
    let rs = read(t, "t.nft", Some("nftables")).unwrap();
    // Setting the MSS and a mark decide nothing; `frobnicate` may.
    let lines: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [6, 7], "{:?}", rs.issues);
    let m = Members::default();
    let c = Compiled::new(&rs, &m);
    let v = |q: &str| judge(&c, &parse_query(q, &m).unwrap().spaces, None).verdict;
    assert_eq!(v("tcp 1.1.1.1 -> 2.2.2.2:443"), Verdict::Allowed);
    assert_eq!(v("udp 1.1.1.1 -> 2.2.2.2:9"), Verdict::Unknown);
    assert_eq!(v("tcp 1.1.1.1 -> 2.2.2.2:2"), Verdict::Unknown);
}

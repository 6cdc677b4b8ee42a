//! The iptables reader on real `iptables-save` / `ip6tables-save` output
//! (fixtures made by iptables v1.8.9 itself in a throwaway namespace; see
//! fixtures/iptables/README.md): verdicts with the deciding line through
//! user chains, RETURN, negation, ipsets, rate limits and NAT.

mod common;

use common::{addrs, members};
use portplan_ruleset::{Members, Ruleset, Verdict};

fn fixture(name: &str) -> Ruleset {
    let text = common::fixture("iptables", name);
    assert_eq!(portplan_ruleset::detect(&text), Ok("iptables"), "{name}");
    portplan_ruleset::read(&text, name, None).unwrap()
}

/// (verdict, lines of the deciding rules, why) for a flow to the host.
fn ask(rs: &Ruleset, m: &Members, host: &str, flow: &str) -> (Verdict, Vec<usize>, String) {
    let j = common::judged(rs, m, flow, Some(&addrs(host)));
    let lines = common::lines(&j);
    let why = j
        .parts
        .iter()
        .filter_map(|p| p.why.clone())
        .collect::<Vec<_>>()
        .join("; ");
    (j.verdict, lines, why)
}

const H: &str = "10.0.0.5";

#[test]
fn user_chains_jumps_returns_and_negation() {
    let rs = fixture("host-iptables-save.rules");
    let m = Members::default();
    // SSH through the SSH-GUARD chain.
    assert_eq!(
        ask(&rs, &m, H, "tcp 10.10.1.1 -> 10.0.0.5:22").0,
        Verdict::Allowed
    );
    assert_eq!(ask(&rs, &m, H, "tcp 10.10.1.1 -> 10.0.0.5:22").1, vec![25]);
    assert_eq!(ask(&rs, &m, H, "tcp 192.0.2.66 -> 10.0.0.5:22").1, vec![24]);
    assert_eq!(
        ask(&rs, &m, H, "tcp 192.0.2.66 -> 10.0.0.5:22").0,
        Verdict::Blocked
    );
    // Anyone else gets a TCP reset from the last rule of SSH-GUARD.
    let (v, lines, _) = ask(&rs, &m, H, "tcp 203.0.113.9 -> 10.0.0.5:22");
    assert_eq!((v, lines), (Verdict::Blocked, vec![27]));
    // WEB: `! -s 10.0.0.0/8` for 443 from outside, everything from inside.
    assert_eq!(
        ask(&rs, &m, H, "tcp 203.0.113.9 -> 10.0.0.5:443").1,
        vec![28]
    );
    assert_eq!(ask(&rs, &m, H, "tcp 10.99.1.1 -> 10.0.0.5:443").1, vec![29]);
    assert_eq!(ask(&rs, &m, H, "udp 10.20.5.5 -> 10.0.0.5:161").1, vec![15]);
    // Outbound is open by policy.
    let (v, lines, _) = ask(&rs, &m, H, "tcp 10.0.0.5 -> 198.51.100.1:25");
    assert_eq!((v, lines), (Verdict::Allowed, vec![5]));
}

#[test]
fn returned_traffic_goes_on_in_the_calling_chain() {
    let rs = fixture("host-iptables-save.rules");
    // 10.99/16 returns from SSH-GUARD and meets the policy (or the
    // blocklist first, which blocks too): blocked either way.
    let (v, _, _) = ask(&rs, &Members::default(), H, "tcp 10.99.1.1 -> 10.0.0.5:22");
    assert_eq!(v, Verdict::Blocked);
}

#[test]
fn an_ipset_without_members_is_unknown_until_given() {
    let rs = fixture("host-iptables-save.rules");
    let (v, lines, why) = ask(
        &rs,
        &Members::default(),
        H,
        "tcp 10.30.0.7 -> 10.0.0.5:5432",
    );
    assert_eq!(v, Verdict::Unknown);
    assert!(lines.contains(&16), "{lines:?}");
    assert!(why.contains("--member ipset:blocklist="), "{why}");
    let m = members(&[("ipset:blocklist", "192.0.2.0/24")]);
    assert_eq!(
        ask(&rs, &m, H, "tcp 10.30.0.7 -> 10.0.0.5:5432").1,
        vec![17]
    );
    assert_eq!(
        ask(&rs, &m, H, "tcp 10.40.0.15 -> 10.0.0.5:9100").1,
        vec![18]
    );
    assert_eq!(
        ask(&rs, &m, H, "tcp 10.40.0.21 -> 10.0.0.5:9100").0,
        Verdict::Blocked
    );
    // In the blocklist: dropped by it.
    assert_eq!(
        ask(&rs, &m, H, "tcp 192.0.2.7 -> 10.0.0.5:5432").1,
        vec![16]
    );
}

#[test]
fn rate_limits_recent_lists_and_dnat_are_said_and_unknown() {
    let rs = fixture("host-iptables-save.rules");
    let lines: Vec<usize> = rs.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, vec![12, 19, 38], "{:?}", rs.issues);
    let m = members(&[("ipset:blocklist", "192.0.2.0/24")]);
    assert_eq!(
        ask(&rs, &m, H, "icmp 10.1.1.1 -> 10.0.0.5 echo-request").0,
        Verdict::Unknown
    );
    let (v, lines, why) = ask(&rs, &m, H, "tcp 10.1.1.1 -> 10.0.0.5:8080");
    assert_eq!(v, Verdict::Unknown);
    assert_eq!(lines, vec![19], "{why}");
    // DNAT in nat PREROUTING rewrites what the filter table sees.
    let (v, lines, _) = ask(&rs, &m, H, "tcp 203.0.113.9 -> 10.0.0.5:8443");
    assert_eq!((v, lines), (Verdict::Unknown, vec![38]));
}

#[test]
fn ip6tables_save_is_read_as_ipv6() {
    let rs = fixture("host-ip6tables-save.rules");
    assert!(rs.issues.is_empty(), "{:?}", rs.issues);
    let m = Members::default();
    let h = "2001:db8::1";
    assert_eq!(
        ask(&rs, &m, h, "tcp [2001:db8:10::5] -> [2001:db8::1]:22").1,
        vec![11]
    );
    assert_eq!(
        ask(&rs, &m, h, "tcp [2001:db8:99::5] -> [2001:db8::1]:22").0,
        Verdict::Blocked
    );
    assert_eq!(
        ask(
            &rs,
            &m,
            h,
            "icmpv6 [2001:db8:99::5] -> [2001:db8::1] echo-request"
        )
        .1,
        vec![10]
    );
    // An IPv4 flow is not this file's to judge (ip6tables sees IPv6 only).
    assert_eq!(
        ask(&rs, &m, h, "tcp 10.0.0.1 -> 10.0.0.2:22").0,
        Verdict::NotCarried
    );
}

#[test]
fn broken_files_get_a_located_error() {
    let cases = [
        ("-A INPUT -j ACCEPT\n", 1, "outside a table"),
        (
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\n",
            1,
            "never committed",
        ),
        (
            "*filter\n:INPUT DROP [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n",
            3,
            "not declared",
        ),
        ("*filter\n:INPUT MAYBE [0:0]\nCOMMIT\n", 2, "policy"),
        ("*filter\n*nat\nCOMMIT\n", 2, "before the previous"),
    ];
    for (text, line, what) in cases {
        let e = portplan_ruleset::read(text, "t.rules", Some("iptables")).unwrap_err();
        assert_eq!(e.line, Some(line), "{text}: {e}");
        assert!(e.message.contains(what), "{text}: {e}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]
    #[test]
    fn mutated_input_never_panics(cut in 0usize..2000, junk in "[ -~\n]{0,40}", at in 0usize..2000) {
        let text = common::fixture("iptables", "host-iptables-save.rules");
        let cut = cut.min(text.len());
        let mut t: String = text.chars().take(cut).collect();
        let at = at.min(t.len());
        if t.is_char_boundary(at) {
            t.insert_str(at, &junk);
        }
        if let Ok(rs) = portplan_ruleset::read(&t, "m.rules", Some("iptables")) {
            let _ = common::judged(&rs, &Members::default(), "tcp 10.1.1.1 -> 10.0.0.5:22", None);
        }
    }
}

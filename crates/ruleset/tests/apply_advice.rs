//! Device outputs are safe to apply as their headers say: the closing rule
//! each writes is the one its apply advice promises, read back by the
//! format's own reader (not by matching snapshots).
//!
//! - Cisco ASA, Cisco IOS, Junos: "permits only, no final deny", to merge
//!   above the device's existing deny or cleanup, or bound alone where the
//!   implicit deny (ACL) or default policy (SRX) closes them. So every rule
//!   read back permits, and the list ends in the format's implicit deny.
//! - PAN-OS: zones are unknown (`any`), so only an explicit last rule
//!   closes the plan: "The LAST rule, pp-deny-rest", with the advice to
//!   leave it out where the rulebase has its own cleanup and `move`
//!   commands for every other rule.

mod common;

use common::*;
use portplan_ruleset::{Action, End, Ruleset};

fn rendered(format: &str) -> Vec<(String, String, Ruleset)> {
    examples()
        .into_iter()
        .map(|ex| {
            let (set, _) = plan(&ex);
            let text = render(format, &set, None).text;
            let rs = read(format, &text);
            (ex, text, rs)
        })
        .collect()
}

/// Every rule permits; every chain a filter enters ends in an implicit
/// deny (written nowhere: line 0).
fn permits_only_then_implicit_deny(format: &str, ex: &str, text: &str, rs: &Ruleset) {
    assert!(!rs.filters.is_empty(), "{format} {ex}: no filter read back");
    for (_, r) in rs.rules() {
        assert_eq!(
            r.action,
            Action::Accept,
            "{format} {ex}: line {} `{}` is not a permit, but the header promises permits only",
            r.line,
            r.text
        );
    }
    for f in &rs.filters {
        match &rs.chains[f.entry].end {
            End::Policy {
                accept: false,
                line: 0,
                ..
            } => {}
            other => panic!(
                "{format} {ex}: {} ends in {other:?}, not the implicit deny\n{text}",
                f.name
            ),
        }
    }
    assert!(
        text.contains("Permits only, no final deny"),
        "{format} {ex}: header does not say how the list ends"
    );
}

#[test]
fn cisco_asa_is_bound_to_an_interface_and_ends_in_the_implicit_deny() {
    for (ex, text, rs) in rendered("cisco-asa") {
        permits_only_then_implicit_deny("cisco-asa", &ex, &text, &rs);
        let acl = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("access-list ")
                    .and_then(|r| r.split(' ').next())
            })
            .unwrap_or_else(|| panic!("{ex}: no access-list\n{text}"));
        assert!(
            text.contains(&format!("`access-group {acl} in interface <nameif>`")),
            "{ex}: no interface binding advice"
        );
        assert!(text.contains("`access-list EXISTING line N"), "{ex}");
        // `global` is named only to advise against it.
        for l in text
            .lines()
            .filter(|l| l.contains("global") && l.contains("access-group"))
        {
            assert!(l.contains("Do not use"), "{ex}: `{l}`");
        }
    }
}

#[test]
fn cisco_ios_is_merged_or_bound_and_ends_in_the_implicit_deny() {
    for (ex, text, rs) in rendered("cisco-ios") {
        permits_only_then_implicit_deny("cisco-ios", &ex, &text, &rs);
        let acl = text
            .lines()
            .find_map(|l| l.strip_prefix("ip access-list extended "))
            .unwrap_or_else(|| panic!("{ex}: no ACL\n{text}"));
        assert!(
            text.contains(&format!("`ip access-group {acl} in`")),
            "{ex}"
        );
        assert!(
            text.contains(&format!("`ipv6 traffic-filter {acl}-V6 in`")),
            "{ex}"
        );
        assert!(text.contains("resequence EXISTING 10000 10"), "{ex}");
    }
}

#[test]
fn junos_policies_are_inserted_before_the_cleanup_and_end_in_the_default_policy() {
    for (ex, text, rs) in rendered("junos") {
        permits_only_then_implicit_deny("junos", &ex, &text, &rs);
        let policies: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("set security policies global policy "))
            .filter_map(|r| r.split(' ').next())
            .collect();
        for p in &policies {
            assert!(
                text.contains(&format!(
                    "#   insert security policies global policy {p} before policy CLEANUP"
                )),
                "{ex}: no insert command for {p}"
            );
        }
    }
}

#[test]
fn panos_ends_in_pp_deny_rest_and_says_when_to_leave_it_out() {
    for (ex, text, rs) in rendered("panos") {
        let chain = &rs.chains[rs.filters[0].entry];
        let last = chain
            .rules
            .last()
            .unwrap_or_else(|| panic!("{ex}: no rule"));
        assert_eq!(last.action, Action::Block, "{ex}: `{}`", last.text);
        assert!(last.text.contains("pp-deny-rest"), "{ex}: `{}`", last.text);
        // It matches everything: the default rules are never reached.
        assert!(
            rs.notes.iter().any(|n| n.message.contains("never reached")),
            "{ex}: pp-deny-rest does not close the rulebase: {:?}",
            rs.notes
        );
        // Every other written rule permits and can be moved above a cleanup rule.
        for r in &chain.rules[..chain.rules.len() - 1] {
            assert_eq!(r.action, Action::Accept, "{ex}: `{}`", r.text);
        }
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("set rulebase security rules "))
            .filter_map(|r| r.split(' ').next())
            .filter(|n| *n != "pp-deny-rest")
            .collect();
        for n in &names {
            assert!(
                text.contains(&format!(
                    "#   move rulebase security rules {n} before CLEANUP"
                )),
                "{ex}: no move command for {n}"
            );
        }
        assert!(
            text.contains("The LAST rule, pp-deny-rest, denies the rest"),
            "{ex}"
        );
        assert!(text.contains("Leave out the pp-deny-rest line"), "{ex}");
    }
}

//! The Windows reader reads what a PowerShell firewall script means: block
//! rules win over allow rules whatever their order, what no rule matches
//! gets the profile's default (set by the script, or Windows' defaults),
//! disabled rules never match, rules bound to a program or a profile are
//! unknown to a port audit.

mod common;

use common::{addrs, members};
use portplan_ruleset::{read, End, Ruleset, Verdict};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    common::fixture("windows", name)
}

/// The verdict for `q` on the host `host`, and the deciding lines.
fn ask(rs: &Ruleset, m: &[(&str, &str)], host: &str, q: &str) -> (Verdict, Vec<usize>) {
    common::decided(rs, &members(m), q, Some(&addrs(host)))
}

fn script(t: &str) -> Ruleset {
    read(t, "s.ps1", Some("windows")).unwrap_or_else(|e| panic!("{e}"))
}

const APP: &str = "app-server.ps1";
const HOST: &str = "10.50.3.10/32";

fn app() -> Ruleset {
    script(&fixture(APP))
}

#[test]
fn allow_rules_with_continuations_lists_ranges_and_variables() {
    let rs = app();
    assert!(rs.is_host_firewall());
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.20.0.1 -> 10.50.3.10:443"),
        (Verdict::Allowed, vec![21])
    );
    // `$appPorts = '8080', '8443'`; an address range.
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.2.15 -> 10.50.3.10:8443"),
        (Verdict::Allowed, vec![25])
    );
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.2.21 -> 10.50.3.10:8443"),
        (Verdict::Blocked, vec![12])
    );
    // `$mgmtNet` bare and inside a double-quoted string; a port range.
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.9.5 -> 10.50.3.10:3389"),
        (Verdict::Allowed, vec![30])
    );
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.9.5 -> 10.50.3.10:5986"),
        (Verdict::Allowed, vec![32])
    );
}

#[test]
fn block_rules_win_over_allow_rules_whatever_their_order() {
    let rs = app();
    // The allow for the admin network (line 30) comes first in the file.
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.9.77 -> 10.50.3.10:3389"),
        (Verdict::Blocked, vec![36])
    );
    // Outbound: web is allowed (line 59) but the paste sites are blocked.
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.3.10 -> 192.0.2.10:443"),
        (Verdict::Blocked, vec![61])
    );
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.3.10 -> 198.51.100.10:443"),
        (Verdict::Allowed, vec![59])
    );
}

#[test]
fn the_profile_defaults_the_script_sets() {
    let rs = app();
    // Set-NetFirewallProfile -DefaultOutboundAction Block (line 12).
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.3.10 -> 10.50.4.20:1433"),
        (Verdict::Allowed, vec![55])
    );
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.3.10 -> 10.50.4.20:22"),
        (Verdict::Blocked, vec![12])
    );
    assert_eq!(
        ask(&rs, &[], HOST, "udp 10.50.3.10 -> 10.50.0.11:53"),
        (Verdict::Allowed, vec![57])
    );
    assert!(rs
        .notes
        .iter()
        .all(|n| !n.message.contains("defaults are assumed")));
}

#[test]
fn disabled_rules_never_match() {
    let rs = app();
    assert_eq!(
        ask(&rs, &[], HOST, "udp 10.50.8.9 -> 10.50.3.10:161"),
        (Verdict::Blocked, vec![12])
    );
}

#[test]
fn program_rules_and_port_keywords_are_unknown() {
    let rs = app();
    let i = rs
        .issues
        .iter()
        .find(|i| i.line == 47)
        .expect("issue at 47");
    assert!(i.message.contains("program"), "{}", i.message);
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.8.5 -> 10.50.3.10:9182"),
        (Verdict::Unknown, vec![47])
    );
    let i = rs
        .issues
        .iter()
        .find(|i| i.line == 51)
        .expect("issue at 51");
    assert!(i.message.contains("RPC"), "{}", i.message);
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.3.7 -> 10.50.3.10:49700"),
        (Verdict::Unknown, vec![51])
    );
    // The exporter's source on another port: neither rule matches.
    assert_eq!(
        ask(&rs, &[], HOST, "tcp 10.50.8.5 -> 10.50.3.10:9183"),
        (Verdict::Blocked, vec![12])
    );
    assert_eq!(
        ask(&rs, &[], HOST, "udp 10.50.8.5 -> 10.50.3.10:9183"),
        (Verdict::Blocked, vec![12])
    );
}

#[test]
fn address_keywords_are_symbols() {
    let rs = app();
    assert!(rs.symbols().contains(&"keyword:LocalSubnet".to_string()));
    assert_eq!(
        ask(&rs, &[], HOST, "icmp 10.50.3.7 -> 10.50.3.10 echo-request"),
        (Verdict::Unknown, vec![39])
    );
    let m = [("keyword:LocalSubnet", "10.50.3.0/24")];
    assert_eq!(
        ask(&rs, &m, HOST, "icmp 10.50.3.7 -> 10.50.3.10 echo-request"),
        (Verdict::Allowed, vec![39])
    );
    assert_eq!(
        ask(&rs, &m, HOST, "icmp 10.50.3.7 -> 10.50.3.10 echo-reply"),
        (Verdict::Blocked, vec![12])
    );
    assert_eq!(
        ask(&rs, &m, HOST, "icmp 10.60.0.1 -> 10.50.3.10 echo-request"),
        (Verdict::Blocked, vec![12])
    );
}

#[test]
fn windows_defaults_when_the_script_sets_none() {
    let rs = script(
        "New-NetFirewallRule -DisplayName 'SSH' -Direction Inbound -Protocol TCP -LocalPort 22 -Action Allow\n",
    );
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("defaults are assumed")));
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.9 -> 10.0.0.4:22"),
        (Verdict::Allowed, vec![1])
    );
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.9 -> 10.0.0.4:23"),
        (Verdict::Blocked, vec![0])
    );
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.4 -> 10.0.0.9:23"),
        (Verdict::Allowed, vec![0])
    );
}

#[test]
fn defaults_that_differ_between_profiles_are_unknown() {
    let rs = script(
        "Set-NetFirewallProfile -Profile Domain -DefaultOutboundAction Block\n\
         New-NetFirewallRule -DisplayName 'DNS' -Direction Outbound -Protocol UDP -RemotePort 53\n",
    );
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "udp 10.0.0.4 -> 10.0.0.53:53"),
        (Verdict::Allowed, vec![2])
    );
    let (v, _) = ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.4 -> 10.0.0.53:443");
    assert_eq!(v, Verdict::Unknown);
    assert!(rs
        .issues
        .iter()
        .any(|i| i.message.contains("differs between profiles")));
}

#[test]
fn shields_up_and_firewall_off() {
    // -AllowInboundRules False: every inbound rule is ignored.
    let rs = script(
        "Set-NetFirewallProfile -All -AllowInboundRules False\n\
         New-NetFirewallRule -DisplayName 'SSH' -Protocol TCP -LocalPort 22\n",
    );
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.9 -> 10.0.0.4:22"),
        (Verdict::Blocked, vec![0])
    );
    // The firewall off in every profile: everything passes.
    let rs = script(
        "Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled False\n\
         New-NetFirewallRule -DisplayName 'No telnet' -Protocol TCP -LocalPort 23 -Action Block\n",
    );
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.9 -> 10.0.0.4:23"),
        (Verdict::Allowed, vec![1])
    );
}

#[test]
fn rules_for_some_profiles_only_are_unknown() {
    let rs = script(
        "New-NetFirewallRule -DisplayName 'RDP at the office' -Profile Domain -Protocol TCP -LocalPort 3389\n",
    );
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 1 && i.message.contains("Domain")));
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.9 -> 10.0.0.4:3389"),
        (Verdict::Unknown, vec![1])
    );
}

#[test]
fn authenticated_bypass_is_noted_and_unknown() {
    let rs = script(
        "New-NetFirewallRule -DisplayName 'Block SMB' -Protocol TCP -LocalPort 445 -Action Block\n\
         New-NetFirewallRule -DisplayName 'SMB for admins' -Protocol TCP -LocalPort 445 -Authentication Required -OverrideBlockRules $true -RemoteMachine 'D:(A;;CC;;;S-1-5-21-1)'\n",
    );
    assert!(rs.notes.iter().any(|n| n.message.contains("bypass")));
    // Authenticated traffic passes, other traffic is blocked: unknown.
    assert_eq!(
        ask(&rs, &[], "10.0.0.4/32", "tcp 10.0.0.9 -> 10.0.0.4:445"),
        (Verdict::Unknown, vec![2])
    );
}

#[test]
fn later_commands_change_earlier_rules() {
    let rs = script(
        "$g = 'Baseline'\n\
         New-NetFirewallRule -Name web -DisplayName 'Web' -Group $g -Protocol TCP -LocalPort 80\n\
         New-NetFirewallRule -Name ssh -DisplayName 'SSH' -Group $g -Protocol TCP -LocalPort 22\n\
         New-NetFirewallRule -Name old -DisplayName 'Old' -Group $g -Protocol TCP -LocalPort 8080\n\
         Disable-NetFirewallRule -Name web\n\
         Get-NetFirewallRule -DisplayName 'Old' | Remove-NetFirewallRule\n\
         Set-NetFirewallRule -Name ssh -Action Block\n",
    );
    let h = "10.0.0.4/32";
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:80"),
        (Verdict::Blocked, vec![0])
    );
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:8080"),
        (Verdict::Blocked, vec![0])
    );
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:22"),
        (Verdict::Blocked, vec![3])
    );
}

#[test]
fn enabling_rules_not_in_the_file_is_unknown() {
    let rs = script(
        "New-NetFirewallRule -DisplayName 'Web' -Protocol TCP -LocalPort 443\n\
         Enable-NetFirewallRule -DisplayGroup 'Remote Desktop'\n",
    );
    assert!(rs.issues.iter().any(|i| i.line == 2));
    let h = "10.0.0.4/32";
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:443"),
        (Verdict::Allowed, vec![1])
    );
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:3389"),
        (Verdict::Unknown, vec![2])
    );
}

#[test]
fn splatting_blocks_and_captured_output() {
    let rs = script(
        "$p = @{\n\
           DisplayName = 'API'\n\
           Direction   = 'Inbound'\n\
           Protocol    = 'TCP'\n\
           LocalPort   = 8443, 9443\n\
         }\n\
         $rule = New-NetFirewallRule @p\n\
         foreach ($port in $ports) {\n\
           New-NetFirewallRule -DisplayName \"Port $port\" -Protocol TCP -LocalPort $port\n\
         }\n",
    );
    let h = "10.0.0.4/32";
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:9443"),
        (Verdict::Allowed, vec![7])
    );
    // Inside a loop over values the file does not give: unknown.
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 9 && i.message.contains("foreach")));
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:22"),
        (Verdict::Unknown, vec![9])
    );
}

#[test]
fn interfaces_are_symbols_and_unknown_words_are_issues() {
    let rs = script(
        "New-NetFirewallRule -DisplayName 'Mgmt' -Protocol TCP -LocalPort 22 -InterfaceAlias 'Ethernet 2'\n\
         New-NetFirewallRule -DisplayName 'X' -Protocol TCP -LocalPort 23 -Frobnicate 1\n\
         netsh advfirewall firewall add rule name=x dir=in action=allow protocol=TCP localport=24\n",
    );
    assert!(rs.symbols().contains(&"interface:Ethernet 2".to_string()));
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 2 && i.message.contains("Frobnicate")));
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 3 && i.message.contains("netsh")));
    let h = "10.0.0.4/32";
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:22").0,
        Verdict::Unknown
    );
    assert_eq!(
        ask(
            &rs,
            &[("interface:Ethernet 2", "10.9.0.0/16")],
            h,
            "tcp 10.9.0.9 -> 10.0.0.4:22"
        ),
        (Verdict::Allowed, vec![1])
    );
    assert_eq!(
        ask(&rs, &[], h, "tcp 10.0.0.9 -> 10.0.0.4:23"),
        (Verdict::Unknown, vec![2])
    );
}

#[test]
fn our_own_output_reads_without_issues() {
    let (set, dep) = common::plan("strongdm");
    for name in common::hosts(&dep) {
        let hv = common::host_view(&dep, &name);
        let text = common::render("windows", &set, Some(&hv)).text;
        let rs = read(&text, "w.ps1", Some("windows")).unwrap();
        assert!(rs.issues.is_empty(), "{name}: {:?}", rs.issues);
        let ends: Vec<bool> = rs
            .filters
            .iter()
            .map(|f| matches!(rs.chains[f.entry].end, End::Policy { accept: true, .. }))
            .collect();
        // Windows' defaults, as the header says: inbound block, outbound allow.
        assert_eq!(ends, vec![false, true], "{name}");
    }
}

// ---- errors ----

#[test]
fn broken_scripts_are_located_errors() {
    let t = fixture(APP);
    // The last quote of the file opened and never closed.
    let broken = t.replacen("'No paste sites'", "'No paste sites", 1);
    let e = read(&broken, "app.ps1", Some("windows")).unwrap_err();
    assert_eq!(e.line, Some(61), "{e}");
    assert!(e.message.contains("never closed"), "{e}");
    let e = read(
        "if ($x) {\n  New-NetFirewallRule -DisplayName a\n",
        "x.ps1",
        Some("windows"),
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (Some(1), Some(9)), "{e}");
    let e = read("Write-Host 'hello'\n", "x.ps1", Some("windows")).unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("New-NetFirewallRule"), "{e}");
}

#[test]
fn detected_as_windows() {
    assert_eq!(portplan_ruleset::detect(&fixture(APP)), Ok("windows"));
}

// ---- robustness ----

fn mutate(t: &str, cut: usize, at: usize, what: u8) -> String {
    let junk = ['`', '\'', '"', '{', '}', '(', ')', '@', '$', '#', '<', '\n'];
    common::scramble(t, cut, at, what, &junk)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn mutated_scripts_never_panic(cut in 0usize..10_000, at in 0usize..10_000, what in 0u8..5) {
        let t = mutate(&fixture(APP), cut, at, what);
        if let Ok(rs) = read(&t, "m.ps1", Some("windows")) {
            let _ = ask(&rs, &[], HOST, "tcp 10.0.0.1 -> 10.50.3.10:443");
        }
        let _ = portplan_ruleset::detect(&t);
    }

    #[test]
    fn any_text_never_panics(t in "[-a-zA-Z0-9 $'\"`@(){};,|=:#<>\\n.*/]{0,200}") {
        let _ = read(&t, "r.ps1", Some("windows"));
    }
}

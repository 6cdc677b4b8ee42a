//! The Azure readers (`azure-json`, `azure-terraform`) read what the rules
//! mean: priority order, Azure's default rules, service tags and
//! application security groups as sets the user names, issues with lines
//! for what is not understood, located errors for what is not an NSG.

mod common;

use common::{addrs, members};
use portplan_ruleset::{read, Ruleset, Verdict};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    common::fixture("azure", name)
}

fn load(name: &str, format: &str) -> Ruleset {
    common::read_fixture("azure", name, format)
}

/// The verdict for `q` as `host` (the NSG protects it) and the lines of
/// the rules that decided it.
fn ask(rs: &Ruleset, m: &[(&str, &str)], host: Option<&str>, q: &str) -> (Verdict, Vec<usize>) {
    common::decided(rs, &members(m), q, host.map(addrs).as_ref())
}

// ---- az network nsg show ----

const SHOW: &str = "nsg-show.json";
const WEB: Option<&str> = Some("10.10.3.4/32");

#[test]
fn show_allows_by_the_first_matching_rule() {
    let rs = load(SHOW, "azure-json");
    assert_eq!(
        ask(&rs, &[], WEB, "tcp 10.10.1.5 -> 10.10.3.4:443"),
        (Verdict::Allowed, vec![139])
    );
    // A list of destination prefixes.
    assert_eq!(
        ask(&rs, &[], WEB, "udp 10.10.7.7 -> 10.10.3.4:53"),
        (Verdict::Allowed, vec![258])
    );
    assert_eq!(
        ask(&rs, &[], WEB, "tcp 10.10.2.9 -> 10.10.3.4:445"),
        (Verdict::Blocked, vec![203])
    );
}

#[test]
fn service_tags_are_unknown_without_members_and_decided_with_them() {
    let rs = load(SHOW, "azure-json");
    // Deny-RDP-Internet (110) comes before Allow-RDP-JumpHosts (120):
    // whether the jump host is in `Internet` is not in the file.
    let (v, lines) = ask(&rs, &[], WEB, "tcp 10.10.5.10 -> 10.10.3.4:3389");
    assert_eq!(v, Verdict::Unknown);
    assert_eq!(lines, vec![160]);
    let internet = [("service-tag:Internet", "198.51.100.0/24")];
    assert_eq!(
        ask(&rs, &internet, WEB, "tcp 10.10.5.10 -> 10.10.3.4:3389"),
        (Verdict::Allowed, vec![180])
    );
    assert_eq!(
        ask(&rs, &internet, WEB, "tcp 198.51.100.20 -> 10.10.3.4:3389"),
        (Verdict::Blocked, vec![160])
    );
}

#[test]
fn application_security_groups_are_symbols() {
    let rs = load(SHOW, "azure-json");
    assert!(rs.symbols().contains(&"asg:asg-web".to_string()));
    assert_eq!(
        ask(&rs, &[], WEB, "tcp 10.10.7.7 -> 10.10.3.4:8080").0,
        Verdict::Unknown
    );
    let m = [
        ("asg:asg-web", "10.10.7.0/24"),
        ("asg:asg-app", "10.10.3.0/24"),
    ];
    assert_eq!(
        ask(&rs, &m, WEB, "tcp 10.10.7.7 -> 10.10.3.4:8085"),
        (Verdict::Allowed, vec![223])
    );
}

#[test]
fn listed_default_rules_decide_last() {
    let rs = load(SHOW, "azure-json");
    assert!(
        rs.notes
            .iter()
            .all(|n| !n.message.contains("does not list Azure's default rules")),
        "{:?}",
        rs.notes
    );
    let m = [
        ("service-tag:VirtualNetwork", "10.10.0.0/16"),
        ("service-tag:AzureLoadBalancer", "168.63.129.16/32"),
        ("service-tag:Internet", "198.51.100.0/24"),
        ("asg:asg-web", "10.10.7.0/24"),
        ("asg:asg-app", "10.10.3.0/24"),
    ];
    // AllowVnetInBound, as the file lists it.
    assert_eq!(
        ask(&rs, &m, WEB, "tcp 10.10.8.8 -> 10.10.3.4:22"),
        (Verdict::Allowed, vec![3])
    );
    // DenyAllInBound.
    assert_eq!(
        ask(&rs, &m, WEB, "tcp 192.0.2.1 -> 10.10.3.4:22"),
        (Verdict::Blocked, vec![45])
    );
    // Without the members, AllowVnetInBound may or may not match.
    assert_eq!(
        ask(&rs, &[], WEB, "tcp 192.0.2.1 -> 10.10.3.4:22").0,
        Verdict::Unknown
    );
}

#[test]
fn any_protocol_with_ports_is_unknown_for_protocols_without_ports() {
    let rs = load(SHOW, "azure-json");
    let i = rs
        .issues
        .iter()
        .find(|i| i.line == 203)
        .expect("issue at 203");
    assert!(i.message.contains("not documented"), "{}", i.message);
    assert_eq!(
        ask(&rs, &[], WEB, "icmp 10.10.5.9 -> 10.10.3.4 echo-request"),
        (Verdict::Unknown, vec![203])
    );
}

#[test]
fn outbound_rules_with_service_tags() {
    let rs = load(SHOW, "azure-json");
    // Allow-Storage-Out may match any destination while Storage.WestEurope
    // is not given; syslog is decided without it.
    assert_eq!(
        ask(&rs, &[], WEB, "tcp 10.10.3.4 -> 20.38.1.1:443").0,
        Verdict::Unknown
    );
    assert_eq!(
        ask(&rs, &[], WEB, "udp 10.10.3.4 -> 10.20.0.50:514"),
        (Verdict::Allowed, vec![341])
    );
    let m = [
        ("service-tag:VirtualNetwork", "10.10.0.0/16"),
        ("service-tag:Storage.WestEurope", "20.38.0.0/16"),
        ("service-tag:Internet", "8.0.0.0/8, 20.38.0.0/16"),
    ];
    assert_eq!(
        ask(&rs, &m, WEB, "udp 10.10.3.4 -> 10.20.0.50:514"),
        (Verdict::Allowed, vec![341])
    );
    assert_eq!(
        ask(&rs, &m, WEB, "tcp 10.10.3.4 -> 20.38.1.1:443"),
        (Verdict::Allowed, vec![321])
    );
    assert_eq!(
        ask(&rs, &m, WEB, "tcp 10.10.3.4 -> 8.8.8.8:443"),
        (Verdict::Blocked, vec![361])
    );
}

#[test]
fn the_association_is_a_note() {
    let rs = load(SHOW, "azure-json");
    assert!(rs.is_host_firewall());
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("subnet vnet-prod-weu/snet-app")));
}

// ---- the ARM shape ----

const ARM: &str = "nsg-arm.json";
const DB: Option<&str> = Some("10.30.4.10/32");

#[test]
fn arm_template_rules_under_properties() {
    let rs = load(ARM, "azure-json");
    assert_eq!(
        ask(&rs, &[], DB, "tcp 10.30.2.5 -> 10.30.4.10:1433"),
        (Verdict::Allowed, vec![18])
    );
    assert_eq!(
        ask(&rs, &[], DB, "tcp 10.30.4.11 -> 10.30.4.10:5022"),
        (Verdict::Allowed, vec![35])
    );
    // A rule resource of its own, placed by its priority (140 < 4096).
    assert_eq!(
        ask(&rs, &[], DB, "tcp 10.30.8.15 -> 10.30.4.10:9100"),
        (Verdict::Allowed, vec![119])
    );
    assert_eq!(
        ask(&rs, &[], DB, "tcp 10.99.0.1 -> 10.30.4.10:80"),
        (Verdict::Blocked, vec![77])
    );
}

#[test]
fn arm_template_expressions_are_issues() {
    let rs = load(ARM, "azure-json");
    let i = rs
        .issues
        .iter()
        .find(|i| i.line == 51)
        .expect("issue at 51");
    assert!(i.message.contains("template expression"), "{}", i.message);
    assert_eq!(
        ask(&rs, &[], DB, "tcp 10.30.9.5 -> 10.30.4.10:22"),
        (Verdict::Unknown, vec![51])
    );
}

#[test]
fn default_rules_are_added_when_not_listed() {
    let rs = load(ARM, "azure-json");
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("does not list Azure's default rules")));
    // Inbound, Deny-All-Inbound (4096) comes first: the defaults are noted
    // as never deciding.
    assert!(rs
        .notes
        .iter()
        .any(|n| n.line == 77 && n.message.contains("never decide")));
    let m = [
        ("service-tag:VirtualNetwork", "10.30.0.0/16"),
        ("service-tag:AzureBackup", "52.0.0.0/8"),
        ("service-tag:Internet", "52.0.0.0/8, 8.0.0.0/8"),
    ];
    // AllowVnetOutBound, added as Azure does (line 0: not in the file).
    assert_eq!(
        ask(&rs, &m, DB, "tcp 10.30.4.10 -> 10.30.5.5:8443"),
        (Verdict::Allowed, vec![0])
    );
    assert_eq!(
        ask(&rs, &m, DB, "tcp 10.30.4.10 -> 8.8.8.8:443"),
        (Verdict::Blocked, vec![103])
    );
    assert_eq!(
        ask(&rs, &m, DB, "tcp 10.30.4.10 -> 52.1.1.1:443"),
        (Verdict::Allowed, vec![90])
    );
}

// ---- list shapes ----

#[test]
fn nsg_list_gives_each_group_its_members() {
    let one = fixture(SHOW);
    let arm_rest = r#"{"name": "nsg-b", "properties": {"securityRules": [
        {"name": "ssh", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow",
         "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
         "sourceAddressPrefix": "10.0.0.0/8", "destinationAddressPrefix": "*"}}]}}"#;
    let list = format!("[{}, {}]", one.trim(), arm_rest);
    let rs = read(&list, "list.json", Some("azure-json")).unwrap();
    assert_eq!(rs.filters.len(), 4);
    assert!(!rs.is_host_firewall());
    assert!(rs.symbols().contains(&"nsg:nsg-b".to_string()));
    // Which NSG protects 10.40.0.5 is not known: the verdict is unknown.
    assert_eq!(
        ask(&rs, &[], None, "tcp 10.1.1.1 -> 10.40.0.5:22").0,
        Verdict::Unknown
    );
    let m = [
        ("nsg:nsg-b", "10.40.0.0/24"),
        ("nsg:nsg-app-prod", "10.10.3.0/24"),
        ("service-tag:VirtualNetwork", "10.0.0.0/8"),
        ("service-tag:Internet", "8.0.0.0/8"),
        ("service-tag:Storage.WestEurope", "20.38.0.0/16"),
    ];
    // Out of nsg-app-prod's subnet: only nsg-b's inbound rules apply, and
    // nsg-app-prod's outbound rules (with its own members).
    let ssh_line = one.trim().lines().count() + 1;
    assert_eq!(
        ask(&rs, &m, None, "tcp 10.1.1.1 -> 10.40.0.5:22"),
        (Verdict::Allowed, vec![ssh_line])
    );
}

#[test]
fn rule_list_is_one_group() {
    let rules = r#"[
  {"name": "web", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
   "sourcePortRange": "*", "destinationPortRanges": ["80", "443"],
   "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"},
  {"name": "block-rdp", "priority": 90, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
   "sourcePortRange": "*", "destinationPortRange": "3389",
   "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"}
]"#;
    let rs = read(rules, "rules.json", None).unwrap();
    assert_eq!(rs.format, "azure-json");
    assert_eq!(
        ask(
            &rs,
            &[],
            Some("10.0.0.4/32"),
            "tcp 192.0.2.1 -> 10.0.0.4:443"
        ),
        (Verdict::Allowed, vec![2])
    );
    assert_eq!(
        ask(
            &rs,
            &[],
            Some("10.0.0.4/32"),
            "tcp 192.0.2.1 -> 10.0.0.4:3389"
        ),
        (Verdict::Blocked, vec![5])
    );
    assert!(rs.notes.iter().any(|n| n.message.contains("default rules")));
}

// ---- hand-written Terraform ----

const TF: &str = "nsg-inline.tf";
const PAY: Option<&str> = Some("10.0.1.4/32");

#[test]
fn terraform_inline_rules_in_priority_order_not_file_order() {
    let rs = load(TF, "azure-terraform");
    // deny-bad-range (priority 90, line 38) is written after
    // allow-https-internet (priority 100, line 26) but decides first.
    let m = [("service-tag:Internet", "198.51.100.0/24, 192.0.2.0/24")];
    assert_eq!(
        ask(&rs, &m, PAY, "tcp 198.51.100.7 -> 10.0.1.4:443"),
        (Verdict::Blocked, vec![38])
    );
    assert_eq!(
        ask(&rs, &m, PAY, "tcp 192.0.2.200 -> 10.0.1.4:443"),
        (Verdict::Allowed, vec![26])
    );
    assert_eq!(
        ask(&rs, &[], PAY, "tcp 192.0.2.200 -> 10.0.1.4:443"),
        (Verdict::Unknown, vec![26])
    );
}

#[test]
fn terraform_application_security_groups_by_name() {
    let rs = load(TF, "azure-terraform");
    let syms = rs.symbols();
    assert!(syms.contains(&"asg:asg-pay-web".to_string()), "{syms:?}");
    let m = [
        ("asg:asg-pay-web", "10.0.2.0/24"),
        ("asg:asg-pay-api", "10.0.1.0/24"),
        ("service-tag:Internet", "192.0.2.0/24"),
    ];
    assert_eq!(
        ask(&rs, &m, PAY, "tcp 10.0.2.5 -> 10.0.1.4:9005"),
        (Verdict::Allowed, vec![50])
    );
}

#[test]
fn terraform_references_are_issues_with_lines() {
    let rs = load(TF, "azure-terraform");
    let i = rs
        .issues
        .iter()
        .find(|i| i.line == 62)
        .expect("issue at 62");
    assert!(i.message.contains("var.admin_cidr"), "{}", i.message);
    let m = [
        ("service-tag:Internet", "192.0.2.0/24"),
        ("service-tag:VirtualNetwork", "10.0.0.0/16"),
        ("asg:asg-pay-web", "10.0.2.0/24"),
        ("asg:asg-pay-api", "10.0.1.0/24"),
    ];
    assert_eq!(
        ask(&rs, &m, PAY, "tcp 10.0.9.9 -> 10.0.1.4:22"),
        (Verdict::Unknown, vec![62])
    );
}

#[test]
fn terraform_icmp_catch_all_and_outbound() {
    let rs = load(TF, "azure-terraform");
    let m = [
        ("service-tag:Internet", "192.0.2.0/24, 203.0.113.0/24"),
        ("service-tag:VirtualNetwork", "10.0.0.0/16"),
        ("service-tag:Sql.WestEurope", "51.0.0.0/8"),
        ("asg:asg-pay-web", "10.0.2.0/24"),
        ("asg:asg-pay-api", "10.0.1.0/24"),
    ];
    assert_eq!(
        ask(&rs, &m, PAY, "icmp 10.0.5.5 -> 10.0.1.4 echo-request"),
        (Verdict::Allowed, vec![74])
    );
    assert_eq!(
        ask(&rs, &m, PAY, "udp 10.0.5.5 -> 10.0.1.4:161"),
        (Verdict::Blocked, vec![86])
    );
    // Decided without any member: only the SMTP deny matches port 25.
    assert_eq!(
        ask(&rs, &[], PAY, "tcp 10.0.1.4 -> 203.0.113.5:25"),
        (Verdict::Blocked, vec![110])
    );
    assert_eq!(
        ask(&rs, &m, PAY, "tcp 10.0.1.4 -> 51.1.2.3:1433"),
        (Verdict::Allowed, vec![98])
    );
    // Azure's AllowVnetOutBound, which the file does not list.
    assert_eq!(
        ask(&rs, &m, PAY, "tcp 10.0.1.4 -> 10.0.3.3:1433"),
        (Verdict::Allowed, vec![0])
    );
    assert!(rs
        .notes
        .iter()
        .any(|n| n.message.contains("subnet azurerm_subnet.web")));
}

#[test]
fn terraform_standalone_rules_and_generated_blocks() {
    let t = r#"
resource "azurerm_network_security_group" "g" {
  name = "nsg-g"
  location = "westeurope"
  resource_group_name = "rg"

  dynamic "security_rule" {
    for_each = var.rules
    content {
      name = security_rule.value.name
    }
  }
}

resource "azurerm_network_security_rule" "ssh" {
  name                        = "ssh"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "22"
  source_address_prefix       = "10.0.0.0/8"
  destination_address_prefix  = "*"
  resource_group_name         = "rg"
  network_security_group_name = azurerm_network_security_group.g.name
}
"#;
    let rs = read(t, "g.tf", None).unwrap();
    assert_eq!(rs.format, "azure-terraform");
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 7 && i.message.contains("dynamic")));
    // The generated rules may come first: nothing is decided.
    let (v, lines) = ask(&rs, &[], Some("10.1.0.4/32"), "tcp 10.2.0.1 -> 10.1.0.4:22");
    assert_eq!((v, lines), (Verdict::Unknown, vec![7]));
}

#[test]
fn our_own_output_reads_as_the_renderer_documents() {
    let (set, _) = common::plan("strongdm");
    let text = common::render("azure-terraform", &set, None).text;
    let rs = read(&text, "strongdm.tf", Some("azure-terraform")).unwrap();
    assert!(rs.issues.is_empty(), "{:?}", rs.issues);
    // Inbound: protects the destinations the rules name, ends in the
    // file's own deny; outbound: allowed, as the header states.
    let inbound = &rs.filters[0];
    assert!(inbound.members.is_some());
    let out = &rs.chains[rs.filters[1].entry];
    let stated = common::line_of(&text, "Outbound stays at Azure's defaults (allow)");
    assert!(matches!(
        out.end,
        portplan_ruleset::End::Policy {
            accept: true,
            line,
            ..
        } if line == stated
    ));
    assert!(rs.notes.iter().any(|n| n.message.contains("never decide")));
    assert_eq!(
        ask(&rs, &[], None, "tcp 10.20.0.10 -> 10.30.0.40:22").0,
        Verdict::Allowed
    );
    let (v, lines) = ask(&rs, &[], None, "tcp 10.20.0.10 -> 10.30.0.40:23");
    assert_eq!(v, Verdict::Blocked);
    let deny = text
        .lines()
        .position(|l| l.contains("\"bastion_1_deny_inbound\""))
        .unwrap()
        + 1;
    assert_eq!(lines, vec![deny]);
}

// ---- errors ----

#[test]
fn broken_json_is_a_located_error() {
    let t = fixture(SHOW);
    let broken = t.replacen("\"priority\": 120,", "\"priority\": 120", 1);
    let e = read(&broken, "show.json", Some("azure-json")).unwrap_err();
    assert_eq!(e.line, Some(191), "{e}");
    assert!(e.column.is_some());
    assert!(e.message.contains("not valid JSON"), "{e}");
    let e = read("{\"name\": \"x\"}", "x.json", Some("azure-json")).unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("no network security group"), "{e}");
    let e = read("\"text\"", "x.json", Some("azure-json")).unwrap_err();
    assert!(e.message.contains("expected a JSON object"), "{e}");
}

#[test]
fn broken_terraform_is_a_located_error() {
    let t = fixture(TF);
    let broken = t.replacen(
        "priority                   = 310",
        "priority                   = ",
        1,
    );
    let e = read(&broken, "nsg.tf", Some("azure-terraform")).unwrap_err();
    assert!(matches!(e.line, Some(76 | 77)), "{e}");
    let e = read(
        "resource \"aws_instance\" \"x\" {}\n",
        "x.tf",
        Some("azure-terraform"),
    )
    .unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("azurerm_network_security_group"), "{e}");
}

#[test]
fn rules_missing_fields_are_unknown_not_guessed() {
    let t = r#"{"name": "n", "securityRules": [
      {"name": "half", "priority": 100, "direction": "Inbound", "protocol": "Tcp",
       "sourcePortRange": "*", "destinationPortRange": "443",
       "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"}]}"#;
    let rs = read(t, "n.json", Some("azure-json")).unwrap();
    assert!(rs
        .issues
        .iter()
        .any(|i| i.line == 2 && i.message.contains("no access")));
    assert_eq!(
        ask(
            &rs,
            &[],
            Some("10.0.0.4/32"),
            "tcp 192.0.2.1 -> 10.0.0.4:443"
        ),
        (Verdict::Unknown, vec![2])
    );
}

#[test]
fn formats_are_told_apart() {
    assert_eq!(portplan_ruleset::detect(&fixture(SHOW)), Ok("azure-json"));
    assert_eq!(portplan_ruleset::detect(&fixture(ARM)), Ok("azure-json"));
    assert_eq!(
        portplan_ruleset::detect(&fixture(TF)),
        Ok("azure-terraform")
    );
}

// ---- robustness ----

fn mutate(t: &str, cut: usize, at: usize, what: u8) -> String {
    let junk = ['{', '}', '[', ']', '"', ',', ':', '\n', '\\', '$'];
    common::scramble(t, cut, at, what, &junk)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn mutated_input_never_panics(f in 0usize..3, cut in 0usize..100_000, at in 0usize..100_000, what in 0u8..5) {
        let (name, format) = [(SHOW, "azure-json"), (ARM, "azure-json"), (TF, "azure-terraform")][f];
        let t = mutate(&fixture(name), cut, at, what);
        for fmt in [format, "azure-json", "azure-terraform"] {
            if let Ok(rs) = read(&t, name, Some(fmt)) {
                let _ = ask(&rs, &[], Some("10.0.0.2/32"), "tcp 10.0.0.1 -> 10.0.0.2:443");
            }
        }
        let _ = portplan_ruleset::detect(&t);
    }
}

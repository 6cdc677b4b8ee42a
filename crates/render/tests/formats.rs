//! Behaviour every format owes: each requirement named in the output, the
//! same output for the same plan in any order, host formats refusing to run
//! without a host, gaps both returned and written; and parsers of the
//! structured outputs (Kubernetes YAML, Terraform HCL, DOT, Mermaid).

mod support;

use portplan_model::{FlowSet, Protocol};
use portplan_render::{formats, renderer, RenderOptions};
use serde::Deserialize;
use std::process::Command;

fn render(name: &str, fx: &str, set: &FlowSet) -> portplan_render::Rendered {
    render_with(name, set, &support::opts(fx))
}

/// Formats for a whole network get the whole plan; a cloud format honours
/// --for-host (one host's group), tested in ruleset/tests/cloud_groups.rs.
fn render_with(name: &str, set: &FlowSet, opts: &RenderOptions) -> portplan_render::Rendered {
    let r = renderer(name).unwrap();
    let mut opts = opts.clone();
    if !r.per_host() {
        opts.for_host = None;
    }
    r.render(set, &opts).unwrap()
}

#[test]
fn every_requirement_is_named_in_every_format() {
    for (fx, set, opts) in support::all() {
        for name in formats() {
            let r = renderer(name).unwrap();
            let text = render_with(name, &set, &opts).text;
            let Some(host) = opts.for_host.clone() else {
                continue;
            };
            for f in &set.flows {
                // Host formats only speak of the host's own flows; so do the
                // pictures drawn for a host (its own arrows).
                let host_view = r.per_host() || ["mermaid", "dot"].contains(&name);
                if host_view
                    && !(support::touches(&f.src, &host) || support::touches(&f.dst, &host))
                {
                    continue;
                }
                for id in f.reason_ids() {
                    assert!(text.contains(&id), "{name}/{fx} never names {id}");
                }
            }
        }
    }
}

#[test]
fn output_does_not_depend_on_flow_order() {
    for (fx, set, opts) in support::all() {
        let mut rev = set.clone();
        rev.flows.reverse();
        for name in formats() {
            assert_eq!(
                render_with(name, &set, &opts).text,
                render_with(name, &rev, &opts).text,
                "{name}/{fx} changed with the order of the flows"
            );
        }
    }
}

#[test]
fn host_formats_need_a_host() {
    let set = support::campus();
    for name in formats() {
        let r = renderer(name).unwrap();
        let res = r.render(&set, &RenderOptions::default());
        if r.per_host() {
            let e = res.err().unwrap_or_default();
            assert!(e.contains("--for-host"), "{name}: {e}");
        } else {
            assert!(res.is_ok(), "{name} needs no host");
        }
    }
    let mut per: Vec<&str> = formats()
        .into_iter()
        .filter(|n| renderer(n).unwrap().per_host())
        .collect();
    per.sort();
    assert_eq!(per, ["iptables", "nftables", "windows"]);
}

#[test]
fn gaps_are_returned_and_written() {
    for (fx, set) in support::fixtures() {
        for name in formats() {
            let out = render(name, fx, &set);
            for u in &out.unexpressed {
                // The one item of no requirement: a host firewall's lock-out
                // warning, written as a block at the top of the file.
                if u.requirements.is_empty() {
                    assert!(u.reason.contains("cut remote access"), "{name}/{fx}: {u:?}");
                    assert!(
                        out.text
                            .contains("# WARNING: applying this file will cut remote access"),
                        "{name}/{fx}: lock-out warning not in output"
                    );
                    continue;
                }
                assert!(
                    out.text.contains(&u.reason),
                    "{name}/{fx}: gap not in output: {}",
                    u.reason
                );
            }
        }
    }
    // The shapes each format is known to lack.
    // (With --egress, so host firewalls write their outbound flows too.)
    let gap = |name: &str, needle: &str| {
        let opts = RenderOptions {
            egress: true,
            ..support::opts("campus")
        };
        let out = render_with(name, &support::campus(), &opts);
        assert!(
            out.unexpressed.iter().any(|u| u.reason.contains(needle)),
            "{name} should report `{needle}`: {:?}",
            out.unexpressed
        );
    };
    gap("k8s", "ICMP");
    gap("k8s", "broadcast");
    gap("aws-terraform", "broadcast");
    gap("azure-terraform", "ICMP type");
    gap("gcp-terraform", "ICMP type");
    gap("iptables", "DNS name tools.cisco.com");
    gap("cisco-ios", "DNS name tools.cisco.com");
    gap("cisco-asa", "DNS name *.walkme.com");
    gap("panos", "DNS name *.walkme.com");
    // FQDN objects exist on ASA, SRX and PAN-OS: a plain name is no gap there.
    for name in ["cisco-asa", "junos", "panos"] {
        let out = render(name, "campus", &support::campus());
        assert!(!out
            .unexpressed
            .iter()
            .any(|u| u.reason.contains("tools.cisco.com")));
        assert!(out.text.contains("tools.cisco.com"));
    }
    // IPv6 sources reach pan-1 over ip6 in nftables, and are a gap in iptables.
    let nft = render("nftables", "campus", &support::campus()).text;
    assert!(nft.contains("ip6 saddr 2001:db8:10::/48 tcp dport 443 accept"));
    let ipt = render("iptables", "campus", &support::campus());
    assert!(ipt
        .unexpressed
        .iter()
        .any(|u| u.reason.contains("2001:db8:10::/48")));
}

#[test]
fn broadcast_goes_to_each_subnet_broadcast_address() {
    // Two adjacent /16s: their union's broadcast (10.21.255.255 only) would
    // miss the first subnet, so each keeps its own.
    let set = support::campus();
    for name in ["cisco-ios", "junos", "panos", "cisco-asa"] {
        let text = render(name, "campus", &set).text;
        assert!(
            text.contains("10.20.255.255") && text.contains("10.21.255.255"),
            "{name}"
        );
    }
    let ums = portplan_render::HostView {
        name: "ums".into(),
        addrs: vec!["10.0.3.5".parse().unwrap()],
    };
    // Outbound rules are written with --egress only.
    let opts = RenderOptions {
        for_host: Some(ums),
        egress: true,
        ..Default::default()
    };
    let nft = renderer("nftables")
        .unwrap()
        .render(&set, &opts)
        .unwrap()
        .text;
    assert!(
        nft.contains("ip daddr { 10.20.255.255, 10.21.255.255 } udp dport 30005 accept"),
        "{nft}"
    );
    let ipt = renderer("iptables")
        .unwrap()
        .render(&set, &opts)
        .unwrap()
        .text;
    assert!(
        ipt.contains("-A OUTPUT -d 10.20.255.255/32 -p udp --dport 30005"),
        "{ipt}"
    );
    assert!(
        ipt.contains("-A OUTPUT -d 10.21.255.255/32 -p udp --dport 30005"),
        "{ipt}"
    );
}

#[test]
fn ports_are_numbers_never_names() {
    for (fx, set, opts) in support::all() {
        for name in [
            "cisco-ios",
            "cisco-asa",
            "junos",
            "panos",
            "iptables",
            "nftables",
        ] {
            let text = render_with(name, &set, &opts).text;
            for svc in [
                " eq https",
                " eq ssh",
                " eq domain",
                "dport https",
                "port https",
                "ntp accept",
            ] {
                assert!(
                    !text.contains(svc),
                    "{name}/{fx} uses a service name: {svc}"
                );
            }
        }
    }
}

#[test]
fn k8s_is_valid_network_policy_yaml() {
    for (fx, set, opts) in support::all() {
        let text = render_with("k8s", &set, &opts).text;
        let mut policies = 0;
        let mut tcp_udp_ports: Vec<(String, u64, u64)> = Vec::new();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v = serde_norway::Value::deserialize(doc).unwrap();
            if v.is_null() {
                continue;
            }
            policies += 1;
            assert_eq!(v["apiVersion"].as_str(), Some("networking.k8s.io/v1"));
            assert_eq!(v["kind"].as_str(), Some("NetworkPolicy"));
            let name = v["metadata"]["name"].as_str().unwrap();
            assert!(
                name.len() <= 253
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
            // One label per party: `party.portplan.dev/NAME: member`, NAME
            // a valid label name (at most 63 characters, alphanumeric at
            // both ends, `-`, `_`, `.` inside).
            let sel = v["spec"]["podSelector"]["matchLabels"]
                .as_mapping()
                .unwrap();
            assert_eq!(sel.len(), 1, "{sel:?}");
            for (k, val) in sel {
                let name = k
                    .as_str()
                    .and_then(|k| k.strip_prefix("party.portplan.dev/"))
                    .unwrap();
                assert!(!name.is_empty() && name.len() <= 63, "{name}");
                assert!(name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
                assert!(name.starts_with(|c: char| c.is_ascii_alphanumeric()));
                assert!(name.ends_with(|c: char| c.is_ascii_alphanumeric()));
                assert_eq!(val.as_str(), Some("member"));
            }
            for rule in v["spec"]["ingress"].as_sequence().unwrap() {
                for p in rule["ports"].as_sequence().unwrap() {
                    let proto = p["protocol"].as_str().unwrap().to_string();
                    assert!(proto == "TCP" || proto == "UDP");
                    let lo = p["port"].as_u64().unwrap();
                    let hi = p.get("endPort").and_then(|e| e.as_u64()).unwrap_or(lo);
                    assert!((1..=65535).contains(&lo) && lo <= hi && hi <= 65535);
                    tcp_udp_ports.push((proto, lo, hi));
                }
                if let Some(from) = rule.get("from") {
                    for peer in from.as_sequence().unwrap() {
                        if let Some(c) = peer.get("ipBlock") {
                            let cidr = c["cidr"].as_str().unwrap();
                            assert!(cidr.parse::<ipnet::IpNet>().is_ok(), "{cidr}");
                        }
                    }
                }
            }
        }
        assert!(policies > 0, "{fx}: no policy");
        // Every TCP/UDP flow between private parties is admitted by some rule.
        for f in &set.flows {
            if f.protocol == Protocol::Icmp
                || f.scope != portplan_model::catalog::Scope::Network
                || portplan_render_outside(&f.dst)
                || f.src
                    .addrs
                    .iter()
                    .any(|a| matches!(a, portplan_model::Addr::Name(_)))
            {
                continue;
            }
            let proto = f.protocol.as_str().to_ascii_uppercase();
            for r in f.ports.ranges() {
                assert!(
                    tcp_udp_ports.iter().any(|(p, lo, hi)| *p == proto
                        && *lo == u64::from(r.low)
                        && *hi == u64::from(r.high)),
                    "{fx}: no k8s rule for {proto} {r}"
                );
            }
        }
    }
}

/// The k8s format's notion of "outside the cluster", restated for the test.
fn portplan_render_outside(side: &portplan_model::Side) -> bool {
    use portplan_model::Addr;
    let nets: Vec<&ipnet::IpNet> = side
        .addrs
        .iter()
        .filter_map(|a| match a {
            Addr::Net(n) => Some(n),
            _ => None,
        })
        .collect();
    side.addrs.contains(&Addr::Any)
        || nets.is_empty()
        || nets.iter().all(|n| match n {
            ipnet::IpNet::V4(n) => !n.addr().is_private(),
            ipnet::IpNet::V6(_) => false,
        })
}

#[test]
fn terraform_parses_as_hcl() {
    for (fx, set, opts) in support::all() {
        for (name, kinds) in [
            (
                "aws-terraform",
                vec![
                    "aws_security_group",
                    "aws_vpc_security_group_ingress_rule",
                    "aws_vpc_security_group_egress_rule",
                    "aws_networkfirewall_rule_group",
                ],
            ),
            (
                "azure-terraform",
                vec![
                    "azurerm_network_security_group",
                    "azurerm_network_security_rule",
                    "azurerm_network_interface_security_group_association",
                    "azurerm_subnet_network_security_group_association",
                    "azurerm_firewall_policy_rule_collection_group",
                ],
            ),
            (
                "gcp-terraform",
                vec![
                    "google_compute_firewall",
                    "google_compute_network_firewall_policy_rule",
                ],
            ),
        ] {
            let text = render_with(name, &set, &opts).text;
            let body: hcl::Body = hcl::from_str(&text)
                .unwrap_or_else(|e| panic!("{name}/{fx} is not HCL: {e}\n{text}"));
            let mut seen = std::collections::BTreeSet::new();
            let mut labels = std::collections::BTreeSet::new();
            for block in body.blocks() {
                if block.identifier() != "resource" {
                    assert!(
                        matches!(block.identifier(), "variable" | "output"),
                        "{name}: unexpected {}",
                        block.identifier()
                    );
                    continue;
                }
                let labs: Vec<String> = block
                    .labels()
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect();
                assert!(
                    kinds.contains(&labs[0].as_str()),
                    "{name}: unexpected {}",
                    labs[0]
                );
                assert!(
                    labels.insert(labs.clone()),
                    "{name}/{fx}: duplicate resource {labs:?}"
                );
                seen.insert(labs[0].clone());
                let attr = |k: &str| {
                    block
                        .body()
                        .attributes()
                        .find(|a| a.key() == k)
                        .map(|a| a.expr().clone())
                };
                // Rules carry a description naming a requirement; ports are numbers.
                let deny = attr("access").is_some_and(|a| format!("{a:?}").contains("Deny"));
                // (A firewall's rule group or collection holds rules of its own.)
                let group = labs[0].contains("rule_group") || labs[0].contains("collection");
                if !deny
                    && !group
                    && (labs[0].contains("rule") || labs[0] == "google_compute_firewall")
                {
                    let d = attr("description").unwrap();
                    let d = format!("{d:?}");
                    assert!(
                        d.contains('/'),
                        "{name}: description names no requirement: {d}"
                    );
                }
                for k in ["from_port", "to_port"] {
                    if let Some(e) = attr(k) {
                        assert!(
                            matches!(e, hcl::Expression::Number(_)),
                            "{name}: {k} is {e:?}"
                        );
                    }
                }
            }
            assert!(
                seen.len() >= 2 || name == "gcp-terraform",
                "{name}/{fx}: {seen:?}"
            );
        }
    }
}

#[test]
fn dot_renders_with_graphviz_or_parses() {
    for (fx, set, opts) in support::all() {
        let text = render_with("dot", &set, &opts).text;
        let have_dot = Command::new("sh")
            .args(["-c", "command -v dot"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if have_dot {
            let p = std::env::temp_dir()
                .join(format!("portplan-render-{}-{fx}.dot", std::process::id()));
            std::fs::write(&p, &text).unwrap();
            let o = Command::new("dot").arg("-Tsvg").arg(&p).output().unwrap();
            let _ = std::fs::remove_file(&p);
            assert!(
                o.status.success(),
                "dot rejected {fx}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let svg = String::from_utf8_lossy(&o.stdout);
            let drawn = text.lines().filter(|l| l.contains(" -> ")).count();
            assert_eq!(svg.matches("class=\"edge\"").count(), drawn);
        } else {
            eprintln!("graphviz not installed: checking DOT structure only");
        }
        // Structure: one digraph, balanced quotes on every line, every
        // flow's service on an edge (parallel flows share one edge).
        assert!(text.contains("digraph portplan {") && text.trim_end().ends_with('}'));
        let edges: Vec<&str> = text.lines().filter(|l| l.contains(" -> ")).collect();
        for f in drawn(&set, &opts) {
            let service = service_of(f);
            assert!(
                edges.iter().any(|e| e.contains(&service)),
                "{fx}: no edge with {service}"
            );
        }
        for l in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let unescaped = l.replace("\\\\", "").replace("\\\"", "");
            assert_eq!(
                unescaped.matches('"').count() % 2,
                0,
                "unbalanced quotes: {l}"
            );
        }
    }
}

#[test]
fn mermaid_edges_join_declared_nodes() {
    for (fx, set, opts) in support::all() {
        let text = render_with("mermaid", &set, &opts).text;
        let mut lines = text.lines().filter(|l| !l.trim_start().starts_with("%%"));
        assert_eq!(lines.next(), Some("flowchart LR"));
        let nodes: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().split_once("[\"").map(|(id, _)| id))
            .collect();
        let mut edges = Vec::new();
        for l in text.lines().filter(|l| l.contains("|\"")) {
            edges.push(l);
            let t = l.trim();
            let from = t.split_whitespace().next().unwrap();
            let to = t.rsplit(' ').next().unwrap();
            assert!(nodes.contains(&from) && nodes.contains(&to), "{fx}: {l}");
            let label = t.split("|\"").nth(1).unwrap().split("\"|").next().unwrap();
            assert!(!label.contains('"'), "{l}");
        }
        for f in drawn(&set, &opts) {
            let service = service_of(f);
            assert!(
                edges.iter().any(|e| e.contains(&service)),
                "{fx}: no edge with {service}"
            );
        }
    }
}

/// The flows a picture draws: with `for_host`, those the host is at an end of.
fn drawn<'a>(
    set: &'a portplan_model::FlowSet,
    opts: &portplan_render::RenderOptions,
) -> Vec<&'a portplan_model::Flow> {
    set.flows
        .iter()
        .filter(|f| {
            opts.for_host
                .as_ref()
                .is_none_or(|h| support::touches(&f.src, h) || support::touches(&f.dst, h))
        })
        .collect()
}

/// `tcp 443` / `icmp`: how a picture's edge label names a flow's service.
fn service_of(f: &portplan_model::Flow) -> String {
    if f.protocol.has_ports() {
        format!("{} {}", f.protocol, f.ports)
    } else {
        f.protocol.to_string()
    }
}

#[test]
fn pictures_survive_keyword_names() {
    // Parties called like DOT and Mermaid keywords.
    let mut set = support::access();
    for f in &mut set.flows {
        f.src.labels = vec!["node".into()];
        f.dst.labels = vec!["end".into()];
    }
    let dot = render("dot", "access", &set).text;
    assert!(
        dot.contains("  \"node") && dot.contains("-> \"end"),
        "{dot}"
    );
    let have_dot = Command::new("sh")
        .args(["-c", "command -v dot"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if have_dot {
        let p = std::env::temp_dir().join(format!("portplan-render-{}-kw.dot", std::process::id()));
        std::fs::write(&p, &dot).unwrap();
        let o = Command::new("dot").arg("-Tsvg").arg(&p).output().unwrap();
        let _ = std::fs::remove_file(&p);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mm = render("mermaid", "access", &set).text;
    assert!(mm.contains("n_node") && mm.contains("n_end") && !mm.contains(" end "));
}

/// One `-A` line of iptables output, as far as this check needs it.
#[derive(Debug, PartialEq)]
struct IptRule {
    chain: String,
    addr: Option<String>,
    proto: String,
    ports: Vec<(u16, u16)>,
}

fn ipt_rules(text: &str) -> Vec<IptRule> {
    let mut out = Vec::new();
    for l in text.lines().filter(|l| l.starts_with("-A ")) {
        let t: Vec<&str> = l.split_whitespace().collect();
        let get = |flag: &str| {
            t.iter()
                .position(|x| *x == flag)
                .map(|i| t[i + 1].to_string())
        };
        let Some(proto) = get("-p") else { continue };
        let ports = get("--dport")
            .or_else(|| get("--dports"))
            .map(|p| {
                p.split(',')
                    .map(|r| match r.split_once(':') {
                        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                        None => (r.parse().unwrap(), r.parse().unwrap()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(IptRule {
            chain: t[1].to_string(),
            addr: get("-s").or_else(|| get("-d")),
            proto,
            ports,
        });
    }
    out
}

/// iptables admits exactly the host's IPv4 TCP/UDP flows: every planned
/// (peer network, port range) has its rule, and every rule is planned.
#[test]
fn iptables_rules_match_the_host_flows_exactly() {
    use portplan_model::catalog::Scope;
    use portplan_model::Addr;
    let mut checked = 0;
    for (fx, set, opts) in support::all() {
        let Some(host) = opts.for_host.clone() else {
            continue;
        };
        // Both chains: outbound rules are written with --egress only.
        let opts = RenderOptions {
            egress: true,
            ..opts
        };
        let rules = ipt_rules(&render_with("iptables", &set, &opts).text);
        let mut expected: Vec<IptRule> = Vec::new();
        for f in &set.flows {
            if f.protocol == Protocol::Icmp || f.scope != Scope::Network {
                continue;
            }
            for (chain, peer, me) in [("INPUT", &f.src, &f.dst), ("OUTPUT", &f.dst, &f.src)] {
                if !support::touches(me, &host) {
                    continue;
                }
                let mut addrs: Vec<Option<String>> = Vec::new();
                if peer.addrs.contains(&Addr::Any) {
                    addrs.push(None);
                } else {
                    let v4: Vec<ipnet::Ipv4Net> = peer
                        .addrs
                        .iter()
                        .filter_map(|a| match a {
                            Addr::Net(ipnet::IpNet::V4(n)) => Some(*n),
                            _ => None,
                        })
                        .collect();
                    addrs.extend(
                        ipnet::Ipv4Net::aggregate(&v4)
                            .iter()
                            .map(|n| Some(n.to_string())),
                    );
                }
                for a in addrs {
                    let ports: Vec<(u16, u16)> =
                        f.ports.ranges().iter().map(|r| (r.low, r.high)).collect();
                    // Each expected rule's ports are spread over one or more lines.
                    let mut covered: Vec<(u16, u16)> = rules
                        .iter()
                        .filter(|r| {
                            r.chain == chain && r.addr == a && r.proto == f.protocol.as_str()
                        })
                        .flat_map(|r| r.ports.clone())
                        .collect();
                    covered.sort();
                    for p in &ports {
                        assert!(
                            covered.contains(p),
                            "{fx}: {chain} {a:?} {} {p:?} missing",
                            f.protocol
                        );
                    }
                    expected.push(IptRule {
                        chain: chain.into(),
                        addr: a,
                        proto: f.protocol.to_string(),
                        ports,
                    });
                }
            }
        }
        // No more: every TCP/UDP rule line serves a planned flow.
        for r in rules
            .iter()
            .filter(|r| r.proto != "icmp" && !r.ports.is_empty())
        {
            let is_broadcast = r.addr.as_deref().is_some_and(|a| a.ends_with(".255/32"));
            assert!(
                is_broadcast
                    || expected.iter().any(|e| e.chain == r.chain
                        && e.addr == r.addr
                        && e.proto == r.proto
                        && r.ports.iter().all(|p| e.ports.contains(p))),
                "{fx}: unplanned rule {r:?}"
            );
        }
        checked += expected.len();
    }
    assert!(checked > 10, "only {checked} planned rules checked");
}

#[test]
fn an_empty_plan_renders_everywhere() {
    let set = FlowSet::default();
    for name in formats() {
        let out = render(name, "campus", &set);
        // Host firewalls without a management network warn that they cut
        // remote access, even with nothing planned; nothing else is left out.
        assert!(
            out.unexpressed
                .iter()
                .all(|u| u.requirements.is_empty() && u.reason.contains("cut remote access")),
            "{name}"
        );
        assert!(!out.text.is_empty(), "{name}");
    }
    let hcl_ok = hcl::from_str::<hcl::Body>(&render("aws-terraform", "campus", &set).text);
    assert!(hcl_ok.is_ok());
}

//! Azure network security groups in the model, shared by the Terraform
//! (`azure_terraform.rs`) and JSON (`azure_json.rs`) readers, which only
//! collect each rule's fields as written.
//!
//! Semantics (learn.microsoft.com/azure/virtual-network/network-security-groups-overview,
//! "Security rules", "Default security rules"): per direction, rules are
//! processed in priority order, lower numbers first, and processing stops
//! at the first rule the traffic matches. Every NSG holds the default rules
//! AllowVnetInBound (65000), AllowAzureLoadBalancerInBound (65001),
//! DenyAllInBound (65500), AllowVnetOutBound (65000), AllowInternetOutBound
//! (65001) and DenyAllOutBound (65500), which cannot be removed. NSGs are
//! stateful: only the first packet of a connection is judged, which is what
//! an audit asks about. Service tags and application security groups are
//! sets the file does not list: they become symbols
//! (`service-tag:VirtualNetwork`, `asg:NAME`).

use crate::model::*;
use crate::space::{self, Addrs, Ranges};
use crate::words;

/// One security rule's fields as the file writes them (values as text).
#[derive(Debug, Clone, Default)]
pub(crate) struct RawRule {
    pub line: usize,
    pub text: String,
    pub name: Option<String>,
    pub priority: Option<String>,
    pub direction: Option<String>,
    pub access: Option<String>,
    pub protocol: Option<String>,
    pub sport: Vec<String>,
    pub dport: Vec<String>,
    pub src: Vec<String>,
    pub dst: Vec<String>,
    /// Application security groups by name.
    pub src_asg: Vec<String>,
    pub dst_asg: Vec<String>,
    /// What the format reader could not read for certain (a reference, a
    /// generated block): the rule's verdicts become unknown.
    pub unknown: Vec<String>,
    /// Listed among the NSG's default rules.
    pub default_rule: bool,
}

impl RawRule {
    /// The rule's text: its fields on one line, as both readers show it
    /// (`NAME priority P DIRECTION ACCESS PROTOCOL SRC:SPORT -> DST:DPORT`,
    /// `?` for what is missing).
    pub fn with_summary(mut self) -> Self {
        let or_unknown = |v: Vec<String>| {
            if v.is_empty() {
                "?".to_string()
            } else {
                v.join(",")
            }
        };
        let side = |p: &[String], a: &[String]| {
            or_unknown(
                p.iter()
                    .cloned()
                    .chain(a.iter().map(|x| format!("asg:{x}")))
                    .collect(),
            )
        };
        self.text = format!(
            "{} priority {} {} {} {} {}:{} -> {}:{}",
            self.name.as_deref().unwrap_or("(unnamed)"),
            self.priority.as_deref().unwrap_or("?"),
            self.direction.as_deref().unwrap_or("?"),
            self.access.as_deref().unwrap_or("?"),
            self.protocol.as_deref().unwrap_or("?"),
            side(&self.src, &self.src_asg),
            or_unknown(self.sport.clone()),
            side(&self.dst, &self.dst_asg),
            or_unknown(self.dport.clone()),
        );
        self
    }
}

/// One network security group as the file has it.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawNsg {
    pub name: String,
    pub line: usize,
    pub rules: Vec<RawRule>,
    /// Where the subnets and network interfaces it is associated with are
    /// named (ids or references), for the note.
    pub associations: Vec<String>,
    /// The file states that outbound traffic is left to Azure's default
    /// rules and allowed (our own renderer's header): line and text.
    pub outbound_allowed_by_header: Option<(usize, String)>,
    /// Rules the file generates in a way not read (a `dynamic` block):
    /// line, text and why. They may sit at any priority.
    pub generated: Vec<(usize, String, String)>,
    /// The file states what its inbound rules protect (our renderer: each
    /// rule's destination, the parties inside the virtual network): the
    /// inbound filter's members, with the line and text that say so.
    pub protects: Option<(usize, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    In,
    Out,
}

/// The six rules Azure puts in every NSG.
struct DefaultRule {
    name: &'static str,
    dir: Dir,
    priority: u32,
    src: &'static str,
    dst: &'static str,
    allow: bool,
}

const DEFAULTS: &[DefaultRule] = &[
    DefaultRule {
        name: "AllowVnetInBound",
        dir: Dir::In,
        priority: 65000,
        src: "VirtualNetwork",
        dst: "VirtualNetwork",
        allow: true,
    },
    DefaultRule {
        name: "AllowAzureLoadBalancerInBound",
        dir: Dir::In,
        priority: 65001,
        src: "AzureLoadBalancer",
        dst: "*",
        allow: true,
    },
    DefaultRule {
        name: "DenyAllInBound",
        dir: Dir::In,
        priority: 65500,
        src: "*",
        dst: "*",
        allow: false,
    },
    DefaultRule {
        name: "AllowVnetOutBound",
        dir: Dir::Out,
        priority: 65000,
        src: "VirtualNetwork",
        dst: "VirtualNetwork",
        allow: true,
    },
    DefaultRule {
        name: "AllowInternetOutBound",
        dir: Dir::Out,
        priority: 65001,
        src: "*",
        dst: "Internet",
        allow: true,
    },
    DefaultRule {
        name: "DenyAllOutBound",
        dir: Dir::Out,
        priority: 65500,
        src: "*",
        dst: "*",
        allow: false,
    },
];

/// A rule read into the model, with its place in priority order.
struct Placed {
    dir: Option<Dir>,
    /// `None`: not known (its place, hence its effect, is unknown).
    priority: Option<u32>,
    rule: Rule,
    /// Matches every packet with no condition: later rules never decide.
    catch_all: bool,
    /// A default rule the file does not list, added here.
    added: bool,
    name: String,
}

/// Service tags Azure writes in one spelling but accepts in others
/// (the classic names among them).
fn canonical_tag(s: &str) -> Option<&'static str> {
    Some(match s.to_ascii_lowercase().as_str() {
        "virtualnetwork" | "virtual_network" => "VirtualNetwork",
        "internet" => "Internet",
        "azureloadbalancer" | "azure_loadbalancer" => "AzureLoadBalancer",
        _ => return None,
    })
}

/// Whether `s` is written as a service tag (`Storage`, `Sql.WestEurope`,
/// `AzureCloud.northeurope`).
fn looks_like_tag(s: &str) -> bool {
    let mut parts = s.split('.');
    let first = parts.next().unwrap_or("");
    let word = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    first
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && word(first)
        && parts.all(word)
        && s.split('.').count() <= 3
}

/// One side of a rule: prefixes (addresses, `*`, service tags) and
/// application security groups.
fn side(prefixes: &[String], asgs: &[String], what: &str, bad: &mut Vec<String>) -> AddrMatch {
    let mut m = AddrMatch::of(Addrs::none());
    let mut any_value = false;
    let before = bad.len();
    for p in prefixes {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        any_value = true;
        if p == "*" || p.eq_ignore_ascii_case("any") {
            m.addrs = Addrs::every();
        } else if let Some(a) = words::addr(p) {
            m.addrs = m.addrs.union(&a);
        } else if let Some(t) = canonical_tag(p) {
            m.symbols.push(format!("service-tag:{t}"));
        } else if looks_like_tag(p) {
            m.symbols.push(format!("service-tag:{p}"));
        } else {
            bad.push(format!(
                "{what} `{p}` is neither an address, `*` nor a service tag"
            ));
        }
    }
    for a in asgs {
        let a = a.trim();
        if a.is_empty() {
            continue;
        }
        any_value = true;
        m.symbols.push(format!("asg:{a}"));
    }
    if !any_value {
        bad.push(format!(
            "no {what} (address prefix or application security group)"
        ));
        return AddrMatch::every();
    }
    if bad.len() > before {
        // A value not read may stand for any address.
        return AddrMatch::every();
    }
    m.symbols.sort();
    m.symbols.dedup();
    m
}

fn ports(v: &[String], what: &str, bad: &mut Vec<String>) -> Ranges<u16> {
    let mut spans = Vec::new();
    let mut any_value = false;
    let before = bad.len();
    for p in v {
        // The portal and the CLI also write several ports in one string.
        for part in p.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            any_value = true;
            if part == "*" || part.eq_ignore_ascii_case("any") {
                return Ranges::full();
            }
            match words::port_span(part, '-') {
                Some(s) => spans.push(s),
                None => bad.push(format!("{what} `{part}` is not a port or range")),
            }
        }
    }
    if !any_value {
        bad.push(format!("no {what}"));
        return Ranges::full();
    }
    if bad.len() > before {
        // A value not read may stand for any port.
        return Ranges::full();
    }
    Ranges::from_iter(spans)
}

/// Protocol numbers of an NSG protocol name.
fn protocol(p: &str) -> Option<Ranges<u8>> {
    Some(match p.trim().to_ascii_lowercase().as_str() {
        "*" | "any" | "asterisk" => Ranges::full(),
        "tcp" => Ranges::one(space::TCP),
        "udp" => Ranges::one(space::UDP),
        // One name for both families: an IPv6 rule's ICMP is ICMPv6.
        "icmp" => Ranges::from_iter([(space::ICMP, space::ICMP), (space::ICMPV6, space::ICMPV6)]),
        "esp" => Ranges::one(space::ESP),
        "ah" => Ranges::one(51),
        _ => return None,
    })
}

/// Protocols that carry ports (what a rule's port ranges apply to).
fn port_protocols() -> Ranges<u8> {
    Ranges::from_iter([(6, 6), (17, 17), (33, 33), (132, 132), (136, 136)])
}

fn place(set: &mut Ruleset, r: &RawRule) -> Vec<Placed> {
    let name = r.name.clone().unwrap_or_default();
    let mut bad: Vec<String> = r.unknown.clone();
    let dir = match r
        .direction
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("inbound") => Some(Dir::In),
        Some("outbound") => Some(Dir::Out),
        Some(d) => {
            bad.push(format!("direction `{d}` is neither Inbound nor Outbound"));
            None
        }
        None => {
            bad.push("no direction".into());
            None
        }
    };
    let priority = match r.priority.as_deref() {
        Some(p) => match p.trim().parse::<f64>() {
            Ok(n) if n.fract() == 0.0 && (0.0..=4_294_967_295.0).contains(&n) => {
                if !r.default_rule && !(100.0..=4096.0).contains(&n) {
                    set.note(
                        r.line,
                        &r.text,
                        format!("rule `{name}`: priority {p} is outside 100-4096, which Azure refuses for rules of your own; read at its place"),
                    );
                }
                Some(n as u32)
            }
            _ => {
                bad.push(format!("priority `{p}` is not a number"));
                None
            }
        },
        None => {
            bad.push("no priority".into());
            None
        }
    };
    let action = match r.access.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("allow") => Some(Action::Accept),
        Some("deny") => Some(Action::Block),
        Some(a) => {
            bad.push(format!("access `{a}` is neither Allow nor Deny"));
            None
        }
        None => {
            bad.push("no access (Allow or Deny)".into());
            None
        }
    };
    let proto = match r.protocol.as_deref() {
        Some(p) => protocol(p).unwrap_or_else(|| {
            bad.push(format!(
                "protocol `{p}` is not one NSGs know (Tcp, Udp, Icmp, Esp, Ah, *)"
            ));
            Ranges::full()
        }),
        None => {
            bad.push("no protocol".into());
            Ranges::full()
        }
    };
    let src = side(&r.src, &r.src_asg, "source", &mut bad);
    let dst = side(&r.dst, &r.dst_asg, "destination", &mut bad);
    let sport = ports(&r.sport, "source port range", &mut bad);
    let dport = ports(&r.dport, "destination port range", &mut bad);
    let mut rule = Rule::new(r.line, &r.text, action.clone().unwrap_or(Action::Next));
    rule.label = r.name.clone();
    let restricted = !sport.is_full() || !dport.is_full();
    let with_ports = proto.intersect(&port_protocols());
    let without_ports = proto.subtract(&port_protocols());
    let mut out = Vec::new();
    let mut m = Match {
        proto: if restricted {
            with_ports.clone()
        } else {
            proto.clone()
        },
        src: src.clone(),
        dst: dst.clone(),
        sport: sport.clone(),
        dport: dport.clone(),
    };
    if !restricted {
        // Ports do not narrow what has none (ICMP's types live in dport).
        m.sport = Ranges::full();
        m.dport = Ranges::full();
    }
    rule.matches = vec![m];
    if !bad.is_empty() {
        let k = set.issue(
            r.line,
            &r.text,
            format!("rule `{name}`: not understood: {}", bad.join("; ")),
        );
        match action {
            Some(_) => rule.when.push(Cond::Unknown(k)),
            None => rule.action = Action::Unknown(k),
        }
    } else if action.is_none() {
        let k = set.issue(r.line, &r.text, format!("rule `{name}`: no action"));
        rule.action = Action::Unknown(k);
    }
    let catch_all = rule.when.is_empty()
        && matches!(rule.action, Action::Accept | Action::Block)
        && rule.matches.iter().any(|m| {
            m.proto.is_full()
                && m.src.is_every()
                && m.dst.is_every()
                && m.sport.is_full()
                && m.dport.is_full()
        });
    let has_portless = restricted && !without_ports.is_empty() && !with_ports.is_empty();
    let only_portless = restricted && with_ports.is_empty();
    if only_portless {
        // `Icmp` with ports: the ports cannot apply; Azure ignores them
        // for protocols without ports.
        for m in &mut rule.matches {
            m.proto = proto.clone();
            m.sport = Ranges::full();
            m.dport = Ranges::full();
        }
    }
    if proto == protocol("icmp").unwrap_or_default() {
        rule.matches = rule.matches.into_iter().flat_map(icmp_families).collect();
    } else {
        rule.matches = rule
            .matches
            .into_iter()
            .flat_map(Match::same_family)
            .collect();
    }
    out.push(Placed {
        dir,
        priority,
        rule: rule.clone(),
        catch_all,
        added: r.default_rule && r.line == 0,
        name: name.clone(),
    });
    if has_portless {
        // `*` with ports: whether protocols without ports (ICMP, ESP) match
        // is not documented. Read as a second rule at the same place whose
        // verdict is unknown for them.
        let k = set.issue(
            r.line,
            &r.text,
            format!(
                "rule `{name}`: protocol `*` with port ranges; whether it matches {} (no ports) is not documented",
                describe_protos(&without_ports)
            ),
        );
        let mut extra = rule.clone();
        extra.matches = Match {
            proto: without_ports,
            src,
            dst,
            sport: Ranges::full(),
            dport: Ranges::full(),
        }
        .same_family();
        extra.when.push(Cond::Unknown(k));
        out.push(Placed {
            dir,
            priority,
            rule: extra,
            catch_all: false,
            added: r.default_rule && r.line == 0,
            name,
        });
    }
    out
}

/// `Icmp` is ICMP for IPv4 addresses and ICMPv6 for IPv6 ones.
fn icmp_families(m: Match) -> Vec<Match> {
    [(space::ICMP, false), (space::ICMPV6, true)]
        .into_iter()
        .filter_map(|(p, v6)| {
            m.in_family(v6).map(|x| Match {
                proto: Ranges::one(p),
                ..x
            })
        })
        .collect()
}

fn describe_protos(p: &Ranges<u8>) -> String {
    if p.count() > 6 {
        return "protocols without ports (ICMP, ESP, AH, ...)".into();
    }
    let mut v = Vec::new();
    for &(a, b) in p.spans() {
        for x in a..=b {
            v.push(space::proto_name(x));
        }
    }
    v.join(", ")
}

/// Adds the NSGs' chains and filters to `set`.
pub(crate) fn build(set: &mut Ruleset, nsgs: &[RawNsg]) {
    if nsgs.is_empty() {
        return;
    }
    let several = nsgs.len() > 1;
    for nsg in nsgs {
        let mut placed: Vec<Placed> = Vec::new();
        for r in &nsg.rules {
            placed.extend(place(set, r));
        }
        // Generated rules: anything, anywhere in the order.
        for (line, text, why) in &nsg.generated {
            let k = set.issue(*line, text, why.clone());
            for dir in [Dir::In, Dir::Out] {
                let mut rule = Rule::new(*line, text, Action::Unknown(k));
                rule.label = Some("generated rules".into());
                placed.push(Placed {
                    dir: Some(dir),
                    priority: None,
                    rule,
                    catch_all: false,
                    added: false,
                    name: String::new(),
                });
            }
        }
        // Default rules the file does not list, as Azure adds them.
        let have: Vec<(String, Option<u32>)> = placed
            .iter()
            .map(|p| (p.name.to_ascii_lowercase(), p.priority))
            .collect();
        let listed = |d: &DefaultRule| {
            have.iter()
                .any(|(n, pr)| *n == d.name.to_ascii_lowercase() && *pr == Some(d.priority))
        };
        let mut added = Vec::new();
        let open_out = nsg.outbound_allowed_by_header.clone();
        for d in DEFAULTS {
            if listed(d) || (d.dir == Dir::Out && open_out.is_some()) {
                continue;
            }
            added.push(d.name);
            let raw = RawRule {
                line: 0,
                text: format!(
                    "{} {} {} {} -> {} (Azure default rule)",
                    d.priority,
                    d.name,
                    if d.allow { "Allow" } else { "Deny" },
                    d.src,
                    d.dst
                ),
                name: Some(d.name.into()),
                priority: Some(d.priority.to_string()),
                direction: Some(
                    if d.dir == Dir::In {
                        "Inbound"
                    } else {
                        "Outbound"
                    }
                    .into(),
                ),
                access: Some(if d.allow { "Allow" } else { "Deny" }.into()),
                protocol: Some("*".into()),
                sport: vec!["*".into()],
                dport: vec!["*".into()],
                src: vec![d.src.into()],
                dst: vec![d.dst.into()],
                default_rule: true,
                ..RawRule::default()
            };
            placed.extend(place(set, &raw));
        }
        if !added.is_empty() {
            set.note(
                nsg.line,
                &nsg.name,
                format!(
                    "NSG `{}`: the file does not list Azure's default rules {}; they are read as Azure adds them to every NSG",
                    nsg.name,
                    added.join(", ")
                ),
            );
        }
        if let Some((line, text)) = &open_out {
            set.note(
                *line,
                text,
                format!(
                    "NSG `{}`: the file states that outbound traffic is left to Azure's default rules and allowed; outbound is read as allowed (Azure's AllowVnetOutBound and AllowInternetOutBound allow traffic to VirtualNetwork and Internet destinations, DenyAllOutBound the rest)",
                    nsg.name
                ),
            );
        }
        if let Some((line, text)) = &nsg.protects {
            set.note(
                *line,
                text,
                format!(
                    "NSG `{}`: the file states that its rules are inbound at each destination and that other destinations are outside the virtual network; its inbound rules are read as protecting the addresses they name as destinations",
                    nsg.name
                ),
            );
        }
        let assoc = if nsg.protects.is_some() {
            "the file states it is associated with the subnets of the parties its rules name as destinations".to_string()
        } else if nsg.associations.is_empty() {
            "the file does not say which subnets or network interfaces it is associated with"
                .to_string()
        } else {
            format!(
                "it is associated with {}, whose addresses the file does not list",
                nsg.associations.join(", ")
            )
        };
        if several && nsg.protects.is_none() {
            set.note(
                nsg.line,
                &nsg.name,
                format!(
                    "NSG `{}` protects what it is associated with: {assoc}; give the addresses it protects with --member nsg:{}=ADDRESS,...",
                    nsg.name, nsg.name
                ),
            );
        } else if nsg.protects.is_none() {
            set.note(
                nsg.line,
                &nsg.name,
                format!(
                    "NSG `{}` protects what it is associated with: {assoc}; it is audited as protecting the host named with --as (all traffic without --as)",
                    nsg.name
                ),
            );
        }
        for dir in [Dir::In, Dir::Out] {
            // Rules whose direction is unknown go to both, as unknown.
            let mut rules: Vec<&Placed> = placed
                .iter()
                .filter(|p| p.dir.is_none_or(|d| d == dir))
                .collect();
            // Unknown priority first: it may come before anything.
            rules.sort_by_key(|p| p.priority.map_or(0, |x| u64::from(x) + 1));
            let word = if dir == Dir::In {
                "inbound"
            } else {
                "outbound"
            };
            let mut seen: Vec<(u32, usize)> = Vec::new();
            for p in &rules {
                if let Some(pr) = p.priority {
                    if let Some((_, l)) = seen.iter().find(|(x, l)| *x == pr && *l != p.rule.line) {
                        set.note(
                            p.rule.line,
                            &p.rule.text,
                            format!(
                                "priority {pr} is used twice in the {word} rules (also at line {l}): Azure refuses that; read in file order"
                            ),
                        );
                    }
                    seen.push((pr, p.rule.line));
                }
            }
            let (end_line, end_text) = if dir == Dir::Out && open_out.is_some() {
                let (l, t) = open_out.clone().unwrap_or_default();
                (
                    l,
                    format!("Azure default outbound rules (allow), as the file states: {t}"),
                )
            } else {
                (
                    0,
                    format!(
                        "{} (Azure default rule, 65500): deny what no rule allows",
                        if dir == Dir::In {
                            "DenyAllInBound"
                        } else {
                            "DenyAllOutBound"
                        }
                    ),
                )
            };
            let end = End::Policy {
                accept: dir == Dir::Out && open_out.is_some(),
                line: end_line,
                text: end_text,
            };
            let c = set.chain(format!("nsg {} {word}", nsg.name), nsg.line, end);
            let mut closed: Option<(usize, String)> = None;
            let mut skipped: Vec<String> = Vec::new();
            for p in rules {
                // Default rules the file does not list, after a rule that
                // matches everything: they never decide anything here.
                if closed.is_some() && p.added {
                    skipped.push(p.name.clone());
                    continue;
                }
                if p.catch_all && closed.is_none() {
                    closed = Some((p.rule.line, p.name.clone()));
                }
                set.chains[c].rules.push(p.rule.clone());
            }
            if let (Some((l, n)), false) = (&closed, skipped.is_empty()) {
                set.note(
                    *l,
                    n,
                    format!(
                        "NSG `{}`: rule `{n}` (line {l}) matches all {word} traffic, so Azure's default rules {} never decide anything",
                        nsg.name,
                        skipped.join(", ")
                    ),
                );
            }
            let mut f = Filter::new(
                format!("nsg {} {word}", nsg.name),
                if dir == Dir::In {
                    Direction::In
                } else {
                    Direction::Out
                },
                Families::BOTH,
                c,
            );
            // An NSG the file says protects its rules' destinations (one per
            // host in portplan's output) is scoped to them, however many.
            if let (Some(_), Dir::In) = (&nsg.protects, dir) {
                f.members = Some(AddrMatch::of(inbound_destinations(set, c)));
            } else if several && nsg.protects.is_none() {
                f.members = Some(AddrMatch::symbol(format!("nsg:{}", nsg.name)));
            }
            set.filters.push(f);
        }
    }
}

/// The addresses the rules of chain `c` name as destinations.
fn inbound_destinations(set: &Ruleset, c: usize) -> Addrs {
    let mut a = Addrs::none();
    for r in &set.chains[c].rules {
        if r.action != Action::Accept {
            continue;
        }
        for m in &r.matches {
            let d = &m.dst.addrs;
            if !m.dst.negated && !d.v4.is_full() && !d.v6.is_full() {
                a.v4 = a.v4.union(&d.v4);
                a.v6 = a.v6.union(&d.v6);
            }
        }
    }
    a
}

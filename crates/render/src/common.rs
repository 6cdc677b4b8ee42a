//! What every format needs: flows in a stable order, addresses split by kind,
//! the "why" of a rule as comment text, names made safe, and the list of
//! things a format could not say.

use crate::{Rendered, Unexpressed};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use portplan_model::catalog::Scope;
use portplan_model::{Addr, Flow, FlowSet, Side};
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The flows in a stable order (by source, destination, protocol, ports), so
/// the same plan always renders byte for byte the same.
pub fn sorted(flows: &FlowSet) -> Vec<&Flow> {
    let cmp = |a: &&Flow, b: &&Flow| {
        (&a.src, &a.dst, a.protocol, &a.ports, &a.icmp_type, a.scope).cmp(&(
            &b.src,
            &b.dst,
            b.protocol,
            &b.ports,
            &b.icmp_type,
            b.scope,
        ))
    };
    let mut v: Vec<&Flow> = flows.flows.iter().collect();
    // The planner usually hands them over sorted already: check before sorting.
    if !v.is_sorted_by(|a, b| cmp(a, b).is_le()) {
        v.sort_by(cmp);
    }
    v
}

/// A side's addresses by kind. Networks are aggregated (no overlaps), which
/// formats with interval sets (nftables) require.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Split {
    pub any: bool,
    pub v4: Vec<Ipv4Net>,
    pub v6: Vec<Ipv6Net>,
    /// DNS names and wildcards (`*.example.com`).
    pub names: Vec<String>,
}

impl Split {
    pub fn of(addrs: &[Addr]) -> Split {
        let mut s = Split::default();
        for a in addrs {
            match a {
                Addr::Any => s.any = true,
                Addr::Net(IpNet::V4(n)) => s.v4.push(*n),
                Addr::Net(IpNet::V6(n)) => s.v6.push(*n),
                Addr::Name(n) => s.names.push(n.clone()),
            }
        }
        s.v4 = Ipv4Net::aggregate(&s.v4);
        s.v6 = Ipv6Net::aggregate(&s.v6);
        s.names.sort();
        s.names.dedup();
        s
    }
    pub fn is_empty(&self) -> bool {
        !self.any && self.v4.is_empty() && self.v6.is_empty() && self.names.is_empty()
    }
    /// Every network as text, IPv4 first (CIDR form, `/32` kept).
    pub fn cidrs(&self) -> Vec<String> {
        self.v4
            .iter()
            .map(ToString::to_string)
            .chain(self.v6.iter().map(ToString::to_string))
            .collect()
    }
}

/// Private IPv4 space (RFC 1918 and the shared 100.64.0.0/10): what a VPC
/// or cluster holds. A public address is a party outside it.
pub fn is_private4(n: &Ipv4Net) -> bool {
    let a = n.network();
    a.is_private() || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64)
}

/// A side that cannot be inside a VPC or cluster: `any`, only DNS names, or
/// only public IPv4 addresses.
pub fn outside(addrs: &[Addr]) -> bool {
    let s = Split::of(addrs);
    s.any
        || (s.v4.is_empty() && s.v6.is_empty() && !s.names.is_empty())
        || (!s.v4.is_empty() && s.v6.is_empty() && !s.v4.iter().any(is_private4))
}

/// Whether the deployment names this side as its own (a host, network or
/// role), rather than the side being an outside address the catalog gives
/// (a resolver at 1.1.1.1): its labels are names, not its address.
pub fn deployment_named(side: &Side) -> bool {
    side.labels
        .iter()
        .any(|l| !side.addrs.iter().any(|a| a.to_string() == *l))
}

/// A side outside the VPC or cluster: `any`, only DNS names, or only public
/// addresses that the deployment does not name as its own hosts (a gateway
/// on a public address is still an instance the cloud firewall protects).
pub fn outside_side(side: &Side) -> bool {
    let s = Split::of(&side.addrs);
    if s.any || (s.v4.is_empty() && s.v6.is_empty()) {
        return true;
    }
    outside(&side.addrs) && !deployment_named(side)
}

/// Whether one address of a side is inside the VPC or cluster: a network
/// (not `any`, not a DNS name) that is private, or that the deployment
/// names as its own (no label of the side is just that address).
fn inside_addr(side: &Side, a: &Addr) -> bool {
    match a {
        Addr::Any | Addr::Name(_) => false,
        Addr::Net(IpNet::V4(n)) if is_private4(n) => true,
        Addr::Net(IpNet::V6(_)) => true,
        Addr::Net(_) => !side.labels.iter().any(|l| *l == a.to_string()),
    }
}

/// The plan with every flow whose source or destination mixes parties
/// inside a VPC or cluster with outside ones (`any`, DNS names, outside
/// public addresses) split in two, so the inside part gets its rules at
/// its own end. Cloud formats decide per side, and a merged side such as
/// `h1 + any` would otherwise hide h1.
pub fn split_outside(set: &FlowSet) -> FlowSet {
    let part = |side: &Side, inside: bool| -> Option<Side> {
        let addrs: Vec<Addr> = side
            .addrs
            .iter()
            .filter(|a| inside_addr(side, a) == inside)
            .cloned()
            .collect();
        if addrs.is_empty() {
            return None;
        }
        let texts: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        let mut labels: Vec<String> = side
            .labels
            .iter()
            .filter(|l| texts.contains(l) != inside)
            .cloned()
            .collect();
        if labels.is_empty() {
            labels = texts;
        }
        Some(Side { labels, addrs })
    };
    let mut flows = Vec::with_capacity(set.flows.len());
    for f in &set.flows {
        let mixed = |s: &Side| {
            let n = s.addrs.iter().filter(|a| inside_addr(s, a)).count();
            n > 0 && n < s.addrs.len()
        };
        if !mixed(&f.src) && !mixed(&f.dst) {
            flows.push(f.clone());
            continue;
        }
        let srcs: Vec<Side> = if mixed(&f.src) {
            [true, false]
                .iter()
                .filter_map(|i| part(&f.src, *i))
                .collect()
        } else {
            vec![f.src.clone()]
        };
        let dsts: Vec<Side> = if mixed(&f.dst) {
            [true, false]
                .iter()
                .filter_map(|i| part(&f.dst, *i))
                .collect()
        } else {
            vec![f.dst.clone()]
        };
        for s in &srcs {
            for d in &dsts {
                let mut g = f.clone();
                g.src = s.clone();
                g.dst = d.clone();
                flows.push(g);
            }
        }
    }
    FlowSet {
        deployment: set.deployment.clone(),
        flows,
        diagnostics: set.diagnostics.clone(),
    }
}

pub fn is_wildcard(name: &str) -> bool {
    name.starts_with("*.")
}

/// A network as people write it: bare address for a single host.
pub fn short4(n: &Ipv4Net) -> String {
    if n.prefix_len() == 32 {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

pub fn short6(n: &Ipv6Net) -> String {
    if n.prefix_len() == 128 {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// Where a broadcast to these networks goes: each network's directed
/// broadcast address, and the limited broadcast (255.255.255.255) when the
/// side is `any` and `limited` allows it. Works on the side's own networks,
/// not aggregated ones: two /16 subnets have two broadcast addresses, their
/// /15 union has one that reaches neither.
pub fn broadcast_addrs(addrs: &[Addr], limited: bool) -> Vec<Ipv4Addr> {
    let mut v: Vec<Ipv4Addr> = Vec::new();
    for a in addrs {
        match a {
            Addr::Net(IpNet::V4(n)) => v.push(n.broadcast()),
            Addr::Any if limited => v.push(Ipv4Addr::BROADCAST),
            _ => {}
        }
    }
    v.sort();
    v.dedup();
    v
}

/// An ICMP type as (ICMPv4 number, ICMPv6 number); either may not exist.
pub type IcmpPair = (Option<u8>, Option<u8>);

/// ICMP type numbers for the names catalogs use: (ICMPv4, ICMPv6).
/// A bare number is taken as ICMPv4's.
pub fn icmp_types(name: &str) -> Option<(Option<u8>, Option<u8>)> {
    portplan_model::ports::icmp_type_numbers(name)
}

/// The ICMP type a flow asks for, resolved: `Ok(None)` is every type.
pub fn icmp_of(flow: &Flow) -> Result<Option<IcmpPair>, String> {
    match &flow.icmp_type {
        None => Ok(None),
        Some(t) => icmp_types(t)
            .map(Some)
            .ok_or_else(|| format!("ICMP type `{t}` is not one portplan knows the number of")),
    }
}

/// Gaps for an ICMP type that one address family lacks (echo has both;
/// source-quench is ICMPv4 only, packet-too-big ICMPv6 only).
pub fn icmp_family_gaps(
    flow: &Flow,
    icmp: Option<Option<IcmpPair>>,
    has4: bool,
    has6: bool,
    gaps: &mut Gaps,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Some((t4, t6))) = icmp {
        if t4.is_none() && has4 {
            out.push(gaps.add(flow, "ICMPv4", "this ICMP type exists only in ICMPv6"));
        }
        if t6.is_none() && has6 {
            out.push(gaps.add(flow, "ICMPv6", "this ICMP type has no ICMPv6 equivalent"));
        }
    }
    out
}

/// `tcp 443,8000-8999` / `icmp echo-request`: a flow's service in one phrase.
pub fn service_phrase(flow: &Flow) -> String {
    if flow.protocol.has_ports() {
        format!("{} {}", flow.protocol, flow.ports)
    } else {
        match &flow.icmp_type {
            Some(t) => format!("{} {t}", flow.protocol),
            None => flow.protocol.to_string(),
        }
    }
}

/// Requirement ids of a flow, comma-separated: the short "why" that fits in
/// a rule's own comment/description field.
pub fn reasons(flow: &Flow) -> String {
    let mut ids = flow.reason_ids();
    ids.dedup();
    ids.join(", ")
}

/// The long "why": one line per requirement with its service, feature and
/// citation, then the flow's conditions and notes. Formats prefix these with
/// their comment marker.
/// Each line is already `one_line`: ready for a single-line comment.
pub fn why_lines(flow: &Flow) -> Vec<String> {
    let mut out = Vec::new();
    for b in &flow.because {
        let mut line = format!("{}/{}: {}", b.product, b.requirement, b.service);
        if let Some(f) = &b.feature {
            line.push_str(&format!(" [feature {f}]"));
        }
        line.push_str(&format!(" ({})", b.source));
        out.push(line);
    }
    if !flow.required {
        out.push("optional: may stay closed at the cost of the function above".into());
    }
    match flow.scope {
        Scope::Network => {}
        Scope::Loopback => out.push("scope: loopback (the host talks to itself)".into()),
        Scope::Broadcast => out.push("scope: broadcast".into()),
    }
    if let Some(i) = &flow.interface {
        out.push(format!("interface: {i} (the product's name for it)"));
    }
    for n in &flow.notes {
        out.push(format!("note: {n}"));
    }
    out.into_iter().map(|l| one_line(&l)).collect()
}

/// The comment block an output starts with: what it is (`title`), then how
/// to apply it, one line each, behind the format's comment `marker`.
pub fn header(t: &mut String, marker: &str, title: &str, how: &[&str]) {
    use std::fmt::Write as _;
    let _ = writeln!(t, "{marker} portplan: {title}");
    for line in how {
        let _ = writeln!(t, "{marker} {line}");
    }
}

/// Text for a single-line comment: control characters and line breaks
/// become spaces, so a note can never end the comment and start a command.
pub fn one_line(s: &str) -> String {
    if is_one_line(s) {
        // Most notes are clean already; checking is cheaper than rebuilding.
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_control() || c.is_whitespace() {
            gap = !out.is_empty();
        } else {
            if gap {
                out.push(' ');
                gap = false;
            }
            out.push(c);
        }
    }
    out
}

/// No control characters, no whitespace but single spaces between words.
fn is_one_line(s: &str) -> bool {
    let mut after_gap = true;
    for c in s.chars() {
        let gap = c.is_control() || c.is_whitespace();
        if gap && (after_gap || c != ' ') {
            return false;
        }
        after_gap = gap;
    }
    !after_gap || s.is_empty()
}

/// Keeps only the characters a format allows; others become `repl`.
/// Runs of `repl` collapse, and the result is cut to `max` bytes (ASCII).
pub fn sanitize(s: &str, allowed: impl Fn(char) -> bool, repl: char, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii() && allowed(c) { c } else { repl };
        if c == repl && out.ends_with(repl) {
            continue;
        }
        out.push(c);
    }
    let t = out.trim_matches(repl).to_string();
    cut(&t, max)
}

/// Cuts text to `max` bytes on a character boundary, marking the cut with `...`.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Splits text into pieces of at most `width` bytes at spaces where it can
/// (IOS and ASA remarks are 100 characters at most).
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let mut word = word.to_string();
        while word.len() > width {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            let mut end = width;
            while !word.is_char_boundary(end) {
                end -= 1;
            }
            out.push(word[..end].to_string());
            word = word[end..].to_string();
        }
        if cur.is_empty() {
            cur = word;
        } else if cur.len() + 1 + word.len() <= width {
            cur.push(' ');
            cur.push_str(&word);
        } else {
            out.push(std::mem::replace(&mut cur, word));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// One party of the plan (a side of some flow) with the names a format uses.
#[derive(Debug, Clone)]
pub struct Party {
    /// What people call it: labels, or the addresses when it has none.
    pub title: String,
    /// A safe, unique identifier (letters, digits, `_`), lowercase.
    pub ident: String,
}

/// Names for every side of the plan, unique and stable: the same side gets
/// the same identifier in every rule and object of one output.
pub struct Parties {
    /// Sides in order, for formats that list every party.
    order: Vec<(Side, Party)>,
    /// Side -> index in `order`; hashed, since every rule looks up two sides.
    index: HashMap<Side, usize>,
}

impl Parties {
    pub fn new(flows: &[&Flow]) -> Parties {
        let mut sides: Vec<&Side> = flows.iter().flat_map(|f| [&f.src, &f.dst]).collect();
        sides.sort();
        sides.dedup();
        let mut used: HashMap<String, usize> = HashMap::new();
        let mut order = Vec::with_capacity(sides.len());
        let mut index = HashMap::with_capacity(sides.len());
        for side in sides {
            let title = title(side);
            let base = ident(&title);
            let n = used.entry(base.clone()).or_insert(0);
            *n += 1;
            let ident = if *n == 1 { base } else { format!("{base}_{n}") };
            index.insert(side.clone(), order.len());
            order.push((side.clone(), Party { title, ident }));
        }
        Parties { order, index }
    }
    pub fn get(&self, side: &Side) -> &Party {
        // Every side of every flow was named in `new`.
        &self.order[self.index[side]].1
    }
}

/// A side's title: its labels, else its addresses.
pub fn title(side: &Side) -> String {
    if side.labels.is_empty() {
        let a: Vec<String> = side.addrs.iter().map(ToString::to_string).collect();
        if a.is_empty() {
            "nowhere".into()
        } else {
            a.join(" ")
        }
    } else {
        side.labels.join(" + ")
    }
}

/// Lowercase letters, digits and `_`, starting with a letter: valid in every
/// format's identifiers (Terraform, Junos, PAN-OS, ASA, DOT, Mermaid).
pub fn ident(s: &str) -> String {
    let mut t = sanitize(
        &s.to_ascii_lowercase(),
        |c| c.is_ascii_alphanumeric(),
        '_',
        48,
    );
    t = t.replace("...", "");
    if t.is_empty() {
        t = "party".into();
    }
    if !t.starts_with(|c: char| c.is_ascii_alphabetic()) {
        t = format!("p_{t}");
    }
    t
}

/// Collects what a format cannot express: each one goes to
/// `Rendered::unexpressed` and, by the caller, into the output as a comment.
#[derive(Default)]
pub struct Gaps {
    pub items: Vec<Unexpressed>,
}

impl Gaps {
    /// Records a gap and returns the comment text for the output.
    pub fn add(&mut self, flow: &Flow, what: &str, reason: &str) -> String {
        let reason = one_line(&format!("{what}: {reason}"));
        self.items.push(Unexpressed {
            requirements: flow.reason_ids(),
            reason: reason.clone(),
        });
        format!("NOT EXPRESSED ({}): {reason}", reasons(flow))
    }
    pub fn finish(self, text: String) -> Rendered {
        Rendered {
            text,
            unexpressed: self.items,
        }
    }
}

/// The closing list of gaps, each on a comment line starting with `marker`.
pub fn gaps_footer(t: &mut String, gaps: &Gaps, marker: &str) {
    use std::fmt::Write;
    if gaps.items.is_empty() {
        return;
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "{marker} Not expressed in this format ({}):",
        gaps.items.len()
    );
    for g in &gaps.items {
        let _ = writeln!(
            t,
            "{marker}   {}: {}",
            one_line(&g.requirements.join(", ")),
            one_line(&g.reason)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_width_and_words() {
        let w = wrap("aaa bbb ccc dddddddddd", 7);
        assert_eq!(w, ["aaa bbb", "ccc", "ddddddd", "ddd"]);
        assert!(w.iter().all(|l| l.len() <= 7));
    }

    #[test]
    fn sanitize_collapses_and_cuts() {
        assert_eq!(ident("cisco-ise/pan"), "cisco_ise_pan");
        assert_eq!(ident("10.0.0.5"), "p_10_0_0_5");
        assert_eq!(cut("abcdefgh", 6), "abc...");
    }

    #[test]
    fn one_line_removes_breaks() {
        assert_eq!(one_line("a\nb\r\n  c"), "a b c");
        assert_eq!(one_line("\u{2003} a\u{0}\u{85}b\t "), "a b");
        for s in ["", "a b", "a  b", " a", "a ", "a\tb", "é — ü"] {
            let slow: Vec<&str> = s.split_whitespace().collect();
            assert_eq!(one_line(s), slow.join(" "), "{s:?}");
        }
    }

    #[test]
    fn icmp_names_map_to_numbers() {
        assert_eq!(icmp_types("echo-request"), Some((Some(8), Some(128))));
        assert_eq!(icmp_types("3"), Some((Some(3), None)));
        assert_eq!(icmp_types("bogus"), None);
    }
}

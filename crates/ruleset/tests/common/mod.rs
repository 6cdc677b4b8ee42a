//! What the ruleset tests share: real plans of the examples, rendered by the
//! render stage, read back by this crate; and for the format tests,
//! fixtures, `--member` sets, flows asked with their deciding lines, and
//! damaged input for the no-panic loops.
#![allow(dead_code)]

use ipnet::IpNet;
use portplan_model::catalog::Scope;
use portplan_model::{Catalog, Deployment, Flow, FlowSet};
use portplan_render::{HostView, RenderOptions, Rendered};
use portplan_ruleset::space::Addrs;
use portplan_ruleset::{
    judge, parse_query, query, Compiled, Direction, Judged, Members, Ruleset, Verdict,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example deployment's file stem.
pub fn examples() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// An example planned (merged, as `portplan plan` does).
pub fn plan(example: &str) -> (FlowSet, Deployment) {
    let cat = Catalog::load(None).unwrap();
    let path = root().join("examples").join(format!("{example}.yaml"));
    let dep = portplan_plan::load_deployment(&path).unwrap();
    let set = portplan_plan::plan(&cat, &dep).unwrap();
    (set, dep.value)
}

/// Every host and network of the deployment with its addresses.
pub fn directory(dep: &Deployment) -> Vec<HostView> {
    portplan_plan::directory(dep)
        .into_iter()
        .map(|(name, addrs)| HostView { name, addrs })
        .collect()
}

/// The deployment's host and network names.
pub fn hosts(dep: &Deployment) -> Vec<String> {
    dep.hosts
        .keys()
        .chain(dep.networks.keys())
        .cloned()
        .collect()
}

/// The names a host firewall can be written for: every host and network
/// but one whose address is `any` (the parties outside the deployment,
/// which `plan` refuses as a host: no machine applies such a file).
pub fn firewall_hosts(dep: &Deployment) -> Vec<String> {
    hosts(dep)
        .into_iter()
        .filter(|n| !host_view(dep, n).addrs.contains(&portplan_model::Addr::Any))
        .collect()
}

pub fn host_view(dep: &Deployment, name: &str) -> HostView {
    let (name, addrs) = portplan_plan::host_view(dep, name).unwrap();
    HostView { name, addrs }
}

pub fn render(format: &str, set: &FlowSet, host: Option<&HostView>) -> Rendered {
    render_with(format, set, host, &RenderOptions::default())
}

/// `render` with options (`egress`, `management`); `host` overrides `for_host`.
/// As `render`, with the deployment's hosts and networks (what `plan`
/// passes), so formats that write one object per host can split sides.
pub fn render_dir(
    format: &str,
    set: &FlowSet,
    host: Option<&HostView>,
    directory: &[HostView],
) -> Rendered {
    let base = RenderOptions {
        directory: directory.to_vec(),
        ..RenderOptions::default()
    };
    render_with(format, set, host, &base)
}

pub fn render_with(
    format: &str,
    set: &FlowSet,
    host: Option<&HostView>,
    base: &RenderOptions,
) -> Rendered {
    let opts = RenderOptions {
        for_host: host.cloned(),
        ..base.clone()
    };
    portplan_render::renderer(format)
        .unwrap()
        .render(set, &opts)
        .unwrap()
}

pub fn read(format: &str, text: &str) -> Ruleset {
    match portplan_ruleset::read(text, "rendered", Some(format)) {
        Ok(r) => r,
        Err(e) => panic!("{format}: cannot read back our own output: {e}\n{text}"),
    }
}

/// The addresses of a host view as a set.
pub fn host_addrs(h: &HostView) -> portplan_ruleset::space::Addrs {
    query::side_addrs(&h.addrs, &Members::default())
}

/// Whether a side is (or contains) the host, as the render stage decides.
pub fn touches(side: &portplan_model::Side, host: &HostView) -> bool {
    side.touches(&host.name, &host.addrs)
}

/// The flows a ruleset rendered for `host` (or for all) should carry.
pub fn in_scope<'a>(set: &'a FlowSet, host: Option<&HostView>) -> Vec<&'a Flow> {
    set.flows
        .iter()
        .filter(|f| f.scope != Scope::Loopback)
        .filter(|f| host.is_none_or(|h| touches(&f.src, h) || touches(&f.dst, h)))
        .collect()
}

// ---- what the format tests share ----

/// A fixture: `tests/fixtures/DIR/NAME`.
pub fn fixture(dir: &str, name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A fixture read as `format`.
pub fn read_fixture(dir: &str, name: &str, format: &str) -> Ruleset {
    portplan_ruleset::read(&fixture(dir, name), name, Some(format))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Comma-separated addresses and networks (`10.0.0.0/8, 2001:db8::1`) as one set.
pub fn addrs(list: &str) -> Addrs {
    list.split(',')
        .map(|x| {
            let x = x.trim();
            let n: IpNet = x
                .parse()
                .or_else(|_| x.parse::<IpAddr>().map(IpNet::from))
                .unwrap_or_else(|_| panic!("`{x}` is not an address or network"));
            Addrs::net(&n)
        })
        .fold(Addrs::none(), |a, b| a.union(&b))
}

/// `--member` pairs: symbol and comma-separated addresses.
pub fn members(pairs: &[(&str, &str)]) -> Members {
    let mut m = Members::default();
    for (k, v) in pairs {
        m.map.insert(k.to_string(), addrs(v));
    }
    m
}

/// A flow asked of a ruleset, as `host` (which the ruleset protects) if given.
pub fn judged(rs: &Ruleset, m: &Members, q: &str, host: Option<&Addrs>) -> Judged {
    let q = parse_query(q, m).unwrap();
    let c = Compiled::new(rs, m);
    judge(&c, &q.spaces, host)
}

/// The lines of the rules that decided a judged flow, sorted, once each.
pub fn lines(j: &Judged) -> Vec<usize> {
    let mut v: Vec<usize> = j
        .parts
        .iter()
        .flat_map(|p| p.by.iter().map(|r| r.line))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A flow's verdict and the lines of the rules that decided it.
pub fn decided(rs: &Ruleset, m: &Members, q: &str, host: Option<&Addrs>) -> (Verdict, Vec<usize>) {
    let j = judged(rs, m, q, host);
    let l = lines(&j);
    (j.verdict, l)
}

/// Asserts a flow's verdict and the lines of the rules that decided it.
#[track_caller]
pub fn check(rs: &Ruleset, m: &Members, q: &str, verdict: Verdict, by: &[usize]) {
    let j = judged(rs, m, q, None);
    assert_eq!(j.verdict, verdict, "{q}: {:#?}", j.parts);
    assert_eq!(lines(&j), by, "{q}: {:#?}", j.parts);
}

/// Only the inbound filters (what protects the destination).
pub fn inbound(rs: &Ruleset) -> Ruleset {
    let mut r = rs.clone();
    r.filters.retain(|f| f.direction == Direction::In);
    r
}

/// The 1-based line of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line contains `{needle}`"))
        + 1
}

/// Damage to a line-based configuration, for no-panic loops. Each op
/// `(what, a, b)` acts on line `a`: 0 removes it, 1 cuts it at character
/// `b`, 2 swaps it with line `b`, 3 drops a word (not the first), 4 adds
/// the junk word `b`, 5 copies it to line `b`, 6 swaps its last word with
/// line `b`'s.
pub fn damage_lines(text: &str, ops: &[(u8, usize, usize)], junk: &[&str]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for &(op, a, b) in ops {
        if lines.is_empty() {
            break;
        }
        let i = a % lines.len();
        match op % 7 {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = &lines[i];
                let cut = l
                    .char_indices()
                    .nth(b % (l.chars().count() + 1))
                    .map_or(l.len(), |x| x.0);
                lines[i] = l[..cut].to_string();
            }
            2 => {
                let j = b % lines.len();
                lines.swap(i, j);
            }
            3 => {
                let mut w: Vec<&str> = lines[i].split(' ').collect();
                if w.len() > 2 {
                    let k = 1 + b % (w.len() - 1);
                    w.remove(k);
                }
                lines[i] = w.join(" ");
            }
            4 => {
                let extra = junk[b % junk.len()];
                lines[i] = format!("{} {extra}", lines[i]);
            }
            5 => {
                let dup = lines[i].clone();
                lines.insert(b % (lines.len() + 1), dup);
            }
            _ => {
                let j = b % lines.len();
                let wi: Vec<String> = lines[i].split(' ').map(str::to_string).collect();
                let wj: Vec<String> = lines[j].split(' ').map(str::to_string).collect();
                if let (Some(x), Some(y)) = (wi.last(), wj.last()) {
                    let (x, y) = (x.clone(), y.clone());
                    lines[i] = format!("{} {y}", lines[i].trim_end_matches(&x));
                    lines[j] = format!("{} {x}", lines[j].trim_end_matches(&y));
                }
            }
        }
    }
    lines.join("\n")
}

/// Damage to a text, for no-panic loops: `del.1 % 40` characters removed
/// at `del.0`, the character `ins.1` inserted at `ins.0`, up to a quarter
/// cut from the end (`cut`).
pub fn damage(text: &str, cut: usize, del: (usize, usize), ins: (usize, char)) -> String {
    let mut c: Vec<char> = text.chars().collect();
    let n = c.len();
    if n == 0 {
        return String::new();
    }
    let (a, l) = (del.0 % n, del.1 % 40);
    c.drain(a..(a + l).min(n));
    let p = ins.0 % (c.len() + 1);
    c.insert(p, ins.1);
    let keep = c.len() - (cut % (c.len() / 4 + 1));
    c.truncate(keep);
    c.into_iter().collect()
}

/// One of five kinds of damage to a text (`what`), for no-panic loops: cut
/// at `cut`, a character removed at `at`, one of `junk` inserted at `at`,
/// a line dropped, or the text rotated around `cut` and `at`.
pub fn scramble(t: &str, cut: usize, at: usize, what: u8, junk: &[char]) -> String {
    let chars: Vec<char> = t.chars().collect();
    let n = chars.len().max(1);
    let (cut, at) = (cut % n, at % n);
    match what % 5 {
        0 => chars[..cut].iter().collect(),
        1 => {
            let mut v = chars.clone();
            v.remove(at.min(v.len().saturating_sub(1)));
            v.into_iter().collect()
        }
        2 => {
            let mut v = chars.clone();
            v.insert(at, junk[cut % junk.len()]);
            v.into_iter().collect()
        }
        3 => {
            // Drop a line.
            let lines: Vec<&str> = t.lines().collect();
            let k = at % lines.len().max(1);
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => {
            // Swap two slices.
            let (a, b) = (cut.min(at), cut.max(at));
            let mut s: String = chars[b..].iter().collect();
            s.extend(chars[a..b].iter());
            s.extend(chars[..a].iter());
            s
        }
    }
}

/// For no-panic loops: reads `text` as `format` and, if it reads, asks it
/// each flow (as `host`, if given).
pub fn exercise(format: &str, text: &str, m: &Members, host: Option<&Addrs>, flows: &[&str]) {
    if let Ok(rs) = portplan_ruleset::read(text, "m", Some(format)) {
        for q in flows {
            let _ = judged(&rs, m, q, host);
        }
    }
}

/// One planned TCP flow from `src` to `dst` on `port`, explained by
/// requirement `test/ID`: for tests that build a plan by hand.
pub fn tcp_flow(src: portplan_model::Side, dst: portplan_model::Side, port: u16, id: &str) -> Flow {
    Flow {
        src,
        dst,
        protocol: portplan_model::Protocol::Tcp,
        ports: portplan_model::PortSet::from_ranges([portplan_model::PortRange::single(port)]),
        icmp_type: None,
        scope: Scope::Network,
        required: true,
        interface: None,
        because: vec![std::sync::Arc::new(portplan_model::Because {
            product: "test".into(),
            requirement: id.into(),
            service: "test".into(),
            feature: None,
            source: "test:1".into(),
        })],
        notes: vec![],
    }
}

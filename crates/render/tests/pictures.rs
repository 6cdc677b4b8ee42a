//! The pictures (Mermaid, DOT) draw hosts, not merged sets: every named host
//! or network is one node, no label repeats an address, node ids are unique,
//! and every planned flow is an edge between the nodes of its hosts.

mod support;

use portplan_render::{renderer, RenderOptions};
use std::collections::{BTreeMap, BTreeSet};

/// A picture read back: node id -> label lines, and edges (src, dst, label).
struct Read {
    nodes: BTreeMap<String, Vec<String>>,
    edges: Vec<(String, String, String)>,
}

/// `    n_x["name<br/>10.0.0.1, 10.0.0.2"]` and `    n_a -->|"tcp 22"| n_b`.
fn read_mermaid(text: &str) -> Read {
    let mut r = Read {
        nodes: BTreeMap::new(),
        edges: Vec::new(),
    };
    for line in text.lines().map(str::trim) {
        if line.starts_with("%%") || line.starts_with("flowchart") {
            continue;
        }
        if let Some((id, rest)) = line.split_once("[\"") {
            let label = rest.strip_suffix("\"]").expect("node label closes");
            let lines = label.split("<br/>").map(str::to_string).collect();
            assert!(
                r.nodes.insert(id.to_string(), lines).is_none(),
                "duplicate node id {id}"
            );
            continue;
        }
        let (src, rest) = line.split_once(' ').expect("edge");
        let (_, rest) = rest.split_once("|\"").expect("edge label");
        let (label, dst) = rest.split_once("\"| ").expect("edge end");
        r.edges.push((src.into(), dst.into(), label.into()));
    }
    r
}

/// `  "id" [label="name\n10.0.0.1"];` and `  "a" -> "b" [label="tcp 22", ...];`.
fn read_dot(text: &str) -> Read {
    let mut r = Read {
        nodes: BTreeMap::new(),
        edges: Vec::new(),
    };
    let label_of = |attrs: &str| -> String {
        let (_, rest) = attrs.split_once("label=\"").expect("label");
        rest.split_once('"').expect("label closes").0.to_string()
    };
    for line in text.lines().map(str::trim) {
        if !line.starts_with('"') {
            continue;
        }
        if let Some((ends, attrs)) = line.split_once(" [") {
            if let Some((a, b)) = ends.split_once(" -> ") {
                r.edges.push((
                    a.trim_matches('"').into(),
                    b.trim_matches('"').into(),
                    label_of(attrs),
                ));
            } else {
                let lines = label_of(attrs).split("\\n").map(str::to_string).collect();
                let id = ends.trim_matches('"').to_string();
                assert!(
                    r.nodes.insert(id.clone(), lines).is_none(),
                    "duplicate node id {id}"
                );
            }
        }
    }
    r
}

fn render(format: &str, p: &support::Planned) -> String {
    let opts = RenderOptions {
        for_host: None,
        directory: p.directory.clone(),
        ..Default::default()
    };
    renderer(format)
        .unwrap()
        .render(&p.set, &opts)
        .unwrap()
        .text
}

fn check(format: &str, p: &support::Planned, r: &Read) {
    let ctx = format!("{format}/{}", p.stem);
    // No label repeats an address, and a name is not written twice.
    for (id, lines) in &r.nodes {
        let mut seen = BTreeSet::new();
        for word in lines.iter().flat_map(|l| l.split(", ")) {
            assert!(
                seen.insert(word),
                "{ctx}: node {id} repeats `{word}`: {lines:?}"
            );
        }
    }
    // Each named host or network the flows use is exactly one node, whose
    // label gives the directory's addresses.
    let by_name: BTreeMap<&str, &String> = r
        .nodes
        .iter()
        .map(|(id, lines)| (lines[0].as_str(), id))
        .collect();
    assert_eq!(
        by_name.len(),
        r.nodes.len(),
        "{ctx}: two nodes share a name"
    );
    let used: BTreeSet<&str> = p
        .set
        .flows
        .iter()
        .flat_map(|f| f.src.labels.iter().chain(&f.dst.labels))
        .map(String::as_str)
        .collect();
    for h in &p.directory {
        let holders: Vec<&String> = r
            .nodes
            .iter()
            .filter(|(_, l)| l[0].split(" + ").any(|n| n == h.name))
            .map(|(id, _)| id)
            .collect();
        if !used.contains(h.name.as_str()) {
            continue;
        }
        assert_eq!(
            holders.len(),
            1,
            "{ctx}: {} is in nodes {holders:?}",
            h.name
        );
    }
    // Every flow is drawn: an edge from each named source host to each
    // named destination host carrying the flow's service.
    for f in &p.set.flows {
        let service = if f.protocol.has_ports() {
            format!("{} {}", f.protocol, f.ports)
        } else {
            f.protocol.to_string()
        };
        let named = |labels: &[String]| -> Vec<String> {
            labels
                .iter()
                .filter(|l| p.directory.iter().any(|h| &h.name == *l))
                .cloned()
                .collect()
        };
        for s in named(&f.src.labels) {
            for d in named(&f.dst.labels) {
                let (si, di) = (by_name[s.as_str()], by_name[d.as_str()]);
                assert!(
                    r.edges
                        .iter()
                        .any(|(a, b, l)| a == si && b == di && l.contains(&service)),
                    "{ctx}: no edge {s} -> {d} with `{service}`"
                );
            }
        }
    }
}

#[test]
fn pictures_draw_each_host_once_and_every_flow_between_hosts() {
    for p in support::planned() {
        check("mermaid", &p, &read_mermaid(&render("mermaid", &p)));
        check("dot", &p, &read_dot(&render("dot", &p)));
    }
}

#[test]
fn strongdm_hosts_each_one_node_with_their_own_address() {
    let p = support::planned()
        .into_iter()
        .find(|p| p.stem == "strongdm")
        .expect("examples/strongdm.yaml");
    for (format, r) in [
        ("mermaid", read_mermaid(&render("mermaid", &p))),
        ("dot", read_dot(&render("dot", &p))),
    ] {
        for h in &p.directory {
            let nodes: Vec<&Vec<String>> = r.nodes.values().filter(|l| l[0] == h.name).collect();
            assert_eq!(
                nodes.len(),
                1,
                "{format}: {} in {} nodes",
                h.name,
                nodes.len()
            );
            let addrs: Vec<String> = h.addrs.iter().map(ToString::to_string).collect();
            assert_eq!(nodes[0][1], addrs.join(", "), "{format}: {}", h.name);
        }
        // Parallel flows between two hosts share one edge.
        let mut pairs = BTreeSet::new();
        for (a, b, _) in &r.edges {
            assert!(pairs.insert((a, b)), "{format}: two edges {a} -> {b}");
        }
    }
}

#[test]
fn for_host_pictures_only_the_host_s_own_arrows() {
    let p = support::planned()
        .into_iter()
        .find(|p| p.stem == "strongdm")
        .expect("examples/strongdm.yaml");
    for h in &p.hosts {
        let opts = RenderOptions {
            for_host: Some(h.clone()),
            directory: p.directory.clone(),
            ..Default::default()
        };
        for (format, read) in [
            ("mermaid", read_mermaid as fn(&str) -> Read),
            ("dot", read_dot as fn(&str) -> Read),
        ] {
            let r = read(
                &renderer(format)
                    .unwrap()
                    .render(&p.set, &opts)
                    .unwrap()
                    .text,
            );
            let me = r
                .nodes
                .iter()
                .find(|(_, l)| l[0] == h.name)
                .map(|(id, _)| id.clone())
                .unwrap_or_else(|| panic!("{format}: no node for {}", h.name));
            assert!(!r.edges.is_empty(), "{format}/{}", h.name);
            for (a, b, l) in &r.edges {
                assert!(
                    *a == me || *b == me,
                    "{format}/{}: {a} -> {b} ({l})",
                    h.name
                );
            }
            // Every node is at the end of an arrow.
            for id in r.nodes.keys() {
                assert!(
                    r.edges.iter().any(|(a, b, _)| a == id || b == id),
                    "{format}: {id}"
                );
            }
        }
    }
}

//! What the ruleset tests share: real plans of the examples, rendered by the
//! render stage, read back by this crate.
#![allow(dead_code)]

use portplan_model::catalog::Scope;
use portplan_model::{Catalog, Deployment, Flow, FlowSet};
use portplan_render::{HostView, RenderOptions, Rendered};
use portplan_ruleset::{query, Members, Ruleset};
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

/// The deployment's host and network names.
pub fn hosts(dep: &Deployment) -> Vec<String> {
    dep.hosts
        .keys()
        .chain(dep.networks.keys())
        .cloned()
        .collect()
}

pub fn host_view(dep: &Deployment, name: &str) -> HostView {
    let (name, addrs) = portplan_plan::host_view(dep, name).unwrap();
    HostView { name, addrs }
}

pub fn render(format: &str, set: &FlowSet, host: Option<&HostView>) -> Rendered {
    let opts = RenderOptions {
        for_host: host.cloned(),
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

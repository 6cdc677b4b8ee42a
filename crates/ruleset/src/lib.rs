//! The way back from render: a firewall ruleset (ours, or exported from a
//! live system) read into one model with its format's semantics, then
//! asked about flows and audited against a plan.
//!
//! One reader file per format, named as the renderer that writes it
//! (`render/src/junos.rs` writes what `ruleset/src/junos.rs` reads), plus
//! readers for the exports engineers take from live systems.

pub mod audit;
pub mod eval;
pub mod fast_hash;
mod find;
mod index;
pub mod model;
pub mod query;
pub mod space;
pub mod tf;
mod words;

mod aws_json;
mod aws_json_sg;
mod aws_terraform;
mod azure_json;
mod azure_nsg;
mod azure_terraform;
mod cisco_asa;
mod cisco_ios;
mod cisco_ios_names;
mod gcp_json;
mod gcp_json_fw;
mod gcp_terraform;
mod iptables;
mod json_tree;
mod junos;
mod junos_apps;
mod k8s;
mod k8s_yaml;
mod nftables;
mod nftables_json;
mod nftables_model;
mod panos;
mod set_config;
mod windows;
mod windows_ps;

pub use audit::{judge, reverse, Judged, Part, Reverse, RuleRef, Verdict};
pub use eval::{Compiled, Hit, Members, Outcome};
pub use model::{
    Action, AddrMatch, Chain, Cond, Direction, End, Families, Filter, Issue, Match, Rule, RuleAt,
    Ruleset,
};
pub use query::{
    flow_spaces, flow_spaces_any, host_flow_spaces, host_flow_spaces_any, parse_query, Query,
};

use portplan_model::Diagnostic;
use rayon::prelude::*;

/// One ruleset format.
pub trait Reader: Sync {
    /// The format's name, as `--rules-format` takes it.
    fn name(&self) -> &'static str;
    /// What the format is, for `--help`.
    fn about(&self) -> &'static str;
    /// How sure the reader is that `text` is its format: 0 not at all, up
    /// to 100. `--rules-format auto` takes the surest reader.
    fn sniff(&self, text: &str) -> u8;
    /// Reads the ruleset. Constructs it does not understand go to
    /// `Ruleset::issues` (with their line); an error is for text that is
    /// not this format at all or cannot be read further, with its place.
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic>;
}

fn registry() -> Vec<Box<dyn Reader>> {
    vec![
        Box::new(nftables::NftablesText),
        Box::new(nftables_json::NftablesJson),
        Box::new(iptables::Iptables),
        Box::new(cisco_ios::CiscoIos),
        Box::new(cisco_asa::CiscoAsa),
        Box::new(junos::Junos),
        Box::new(panos::Panos),
        Box::new(aws_terraform::AwsTerraform),
        Box::new(aws_json::AwsJson),
        Box::new(azure_terraform::AzureTerraform),
        Box::new(azure_json::AzureJson),
        Box::new(gcp_terraform::GcpTerraform),
        Box::new(gcp_json::GcpJson),
        Box::new(k8s::K8s),
        Box::new(windows::Windows),
    ]
}

/// Every format's name.
pub fn formats() -> Vec<&'static str> {
    registry().iter().map(|r| r.name()).collect()
}

/// Every format with its description.
pub fn described() -> Vec<(&'static str, &'static str)> {
    registry().iter().map(|r| (r.name(), r.about())).collect()
}

pub fn reader(name: &str) -> Option<Box<dyn Reader>> {
    registry().into_iter().find(|r| r.name() == name)
}

/// The format of `text`, or why it cannot be told.
pub fn detect(text: &str) -> Result<&'static str, String> {
    // Some readers look through the whole text (a Terraform resource may
    // be anywhere): a large file's sniffs run on every core.
    let mut scores: Vec<(u8, &'static str)> = registry()
        .par_iter()
        .map(|r| (r.sniff(text), r.name()))
        .filter(|(s, _)| *s > 0)
        .collect();
    scores.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    match scores.as_slice() {
        [] => Err(format!(
            "the format of the rules is not recognised: name it with --rules-format ({})",
            formats().join(", ")
        )),
        [(a, x), (b, y), ..] if a == b => Err(format!(
            "the rules could be {x} or {y}: name the format with --rules-format"
        )),
        [(_, x), ..] => Ok(x),
    }
}

/// Reads `text` as `format` (`None` or `auto`: detected).
pub fn read(text: &str, file: &str, format: Option<&str>) -> Result<Ruleset, Diagnostic> {
    let name = match format {
        None | Some("auto") => detect(text).map_err(|m| Diagnostic::error(file, m))?,
        Some(f) => f,
    };
    let r = reader(name).ok_or_else(|| {
        let (m, h) = portplan_model::diag::unknown("rules format", name, formats());
        Diagnostic::error(file, m).hint(h)
    })?;
    let mut set = r.read(text, file)?;
    // Readers push a rule's alternatives one by one, and a vector filled so
    // keeps room for four: 100,000 rules of one alternative each would
    // hold 150 MB of empty room.
    for ch in &mut set.chains {
        ch.rules.shrink_to_fit();
        for rule in &mut ch.rules {
            rule.matches.shrink_to_fit();
        }
    }
    Ok(set)
}

//! The plan stage: a deployment and the catalog in, the exact flow set out.
//!
//! `load_deployment` reads the user's file, `check` says everything wrong with
//! it (located), `plan` computes the flows and merges them into the fewest
//! rules. The modules follow the order of the work: resolve names to
//! addresses, expand requirements into flows, find conflicts, merge.

mod cidr;
mod conflicts;
mod expand;
mod load;
mod management;
mod merge;
mod notes;
pub mod parties;
pub mod report;
mod resolve;
mod settings;
pub mod ticket;

pub use expand::PlanOptions;
pub use load::load_deployment;
pub use management::ManagementPath;
pub use merge::{admits, merge};
pub use resolve::{directory, host_view};

use portplan_model::diag::{self, Diagnostic};
use portplan_model::load::Parsed;
use portplan_model::{Catalog, Deployment, Flow, FlowSet};

/// Every finding about a deployment: unknown ids, missing values, unplaced
/// roles, port conflicts, overlapping address claims. Errors first.
pub fn check(cat: &Catalog, dep: &Parsed<Deployment>) -> Vec<Diagnostic> {
    analyse(cat, dep, &PlanOptions::default()).1
}

/// The deployment's flows, merged into the fewest rules; warnings ride along
/// in `FlowSet::diagnostics`. Any error fails the plan with every finding.
pub fn plan(cat: &Catalog, dep: &Parsed<Deployment>) -> Result<FlowSet, Vec<Diagnostic>> {
    plan_with(cat, dep, &PlanOptions::default())
}

/// `plan` with options (`--no-optional`).
pub fn plan_with(
    cat: &Catalog,
    dep: &Parsed<Deployment>,
    opts: &PlanOptions,
) -> Result<FlowSet, Vec<Diagnostic>> {
    plan_set(cat, dep, opts, true)
}

/// The plan with its diagnostics, its flows merged or, with `merge` false,
/// as planned (one per requirement, protocol and pair of role entries).
pub fn plan_set(
    cat: &Catalog,
    dep: &Parsed<Deployment>,
    opts: &PlanOptions,
    merge_flows: bool,
) -> Result<FlowSet, Vec<Diagnostic>> {
    let (flows, diags) = analyse(cat, dep, opts);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    let mut flows = if merge_flows { merge(flows) } else { flows };
    notes::attach(cat, &mut flows);
    Ok(FlowSet {
        deployment: dep.value.name.clone(),
        flows,
        diagnostics: diags,
    })
}

/// The planned flows before merging: one per requirement, protocol and pair
/// of role entries. Merging must admit exactly these.
pub fn plan_unmerged(
    cat: &Catalog,
    dep: &Parsed<Deployment>,
    opts: &PlanOptions,
) -> Result<Vec<Flow>, Vec<Diagnostic>> {
    let (mut flows, diags) = analyse(cat, dep, opts);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    notes::attach(cat, &mut flows);
    Ok(flows)
}

/// Where the deployment says its hosts are administered from (`management:`),
/// resolved to addresses; `None` when it names no management path. Entries
/// that do not resolve are left out here: `check` and `plan` report them.
pub fn management_path(dep: &Parsed<Deployment>) -> Option<ManagementPath> {
    let names = resolve::Names::build(dep, &mut Vec::new());
    management::management(dep, &names).0
}

fn analyse(
    cat: &Catalog,
    dep: &Parsed<Deployment>,
    opts: &PlanOptions,
) -> (Vec<Flow>, Vec<Diagnostic>) {
    let out = expand::expand(cat, dep, opts);
    let mut diags = out.diagnostics;
    // The three checks read what expanding found, not one another: side by
    // side, their findings added in the same order.
    let ((listening, claimed), managed) = rayon::join(
        || {
            rayon::join(
                || conflicts::listener_conflicts(dep, &out.listeners),
                || conflicts::overlapping_claims(dep, &out.claims),
            )
        },
        || management::management(dep, &out.names).1,
    );
    diags.extend(listening);
    diags.extend(claimed);
    diags.extend(managed);
    diag::sort(&mut diags);
    diags.dedup();
    (out.flows, diags)
}

//! One product's settings in a deployment, checked against its catalog entry:
//! features on, choices made, parameter values. Unknown ids get a located
//! error with "did you mean".

use crate::resolve::key;
use portplan_model::catalog::{ParameterKind, Product};
use portplan_model::diag::{did_you_mean, unknown, Diagnostic};
use portplan_model::load::Parsed;
use portplan_model::{Deployment, PortRange, ProductUse};
use std::collections::{BTreeMap, BTreeSet};

/// What holds for one product use after defaults are applied.
pub struct Settings {
    pub features: BTreeSet<String>,
    /// Where each enabled feature was switched on (for messages).
    pub feature_paths: BTreeMap<String, String>,
    pub choices: BTreeMap<String, String>,
    pub params: BTreeMap<String, PortRange>,
}

/// The id a typo most likely meant, among those the file does not already
/// use: the check goes on as if the file said it, so one typo is one error
/// instead of one plus every finding that follows from the id being missing.
pub fn meant<'a>(
    word: &str,
    known: impl IntoIterator<Item = &'a str>,
    used: impl Fn(&str) -> bool,
) -> Option<String> {
    did_you_mean(word, known.into_iter().filter(|k| !used(k)))
}

/// The hint of a folded typo says the rest was checked with the correction.
pub fn folded(hint: String, meant: &Option<String>) -> String {
    match meant {
        Some(m) => format!("{hint} (the rest of the file was checked as if it said `{m}`)"),
        None => hint,
    }
}

/// A located error at the key that introduces `path` (a map key).
pub fn key_error(dep: &Parsed<Deployment>, path: &str, msg: String, hint: String) -> Diagnostic {
    Diagnostic::error(&dep.file, msg)
        .at(dep.index().key(path))
        .hint(hint)
}

pub fn settings(
    dep: &Parsed<Deployment>,
    base: &str,
    p: &Product,
    u: &ProductUse,
    diags: &mut Vec<Diagnostic>,
) -> Settings {
    let feature_ids = || p.features.iter().map(|f| f.id.as_str());
    let mut features: BTreeSet<String> = p
        .features
        .iter()
        .filter(|f| f.default)
        .map(|f| f.id.clone())
        .collect();
    let mut feature_paths = BTreeMap::new();
    for (list, items) in [("features", &u.features), ("without", &u.without)] {
        for (i, f) in items.iter().enumerate() {
            if items[..i].contains(f) {
                diags.push(
                    dep.warning_at(
                        &format!("{base}/{list}/{i}"),
                        format!("`{f}` is listed twice in `{list}:`"),
                    )
                    .hint("remove one"),
                );
            }
        }
    }
    for (i, f) in u.features.iter().enumerate() {
        let path = format!("{base}/features/{i}");
        if p.feature(f).is_some() {
            features.insert(f.clone());
            feature_paths.insert(f.clone(), path);
        } else {
            let (m, h) = unknown(&format!("feature of {}", p.product), f, feature_ids());
            let fix = meant(f, feature_ids(), |k| u.features.iter().any(|x| x == k));
            if let Some(fix) = &fix {
                features.insert(fix.clone());
                feature_paths.insert(fix.clone(), path.clone());
            }
            diags.push(dep.error_at(&path, m).hint(folded(h, &fix)));
        }
    }
    for (i, f) in u.without.iter().enumerate() {
        let path = format!("{base}/without/{i}");
        match p.feature(f) {
            Some(_) if u.features.contains(f) => diags.push(
                dep.error_at(
                    &path,
                    format!("feature `{f}` is both enabled and switched off"),
                )
                .hint("keep it in `features` or in `without`, not both"),
            ),
            Some(feat) => {
                if !feat.default {
                    diags.push(
                        dep.warning_at(
                            &path,
                            format!(
                                "feature `{f}` is off unless enabled; `without` changes nothing"
                            ),
                        )
                        .hint(format!("remove `{f}` from `without:`")),
                    );
                }
                features.remove(f);
            }
            None => {
                let (m, h) = unknown(&format!("feature of {}", p.product), f, feature_ids());
                let fix = meant(f, feature_ids(), |k| u.without.iter().any(|x| x == k));
                if let Some(fix) = &fix {
                    features.remove(fix);
                }
                diags.push(dep.error_at(&path, m).hint(folded(h, &fix)));
            }
        }
    }

    let mut choices = BTreeMap::new();
    for c in &p.choices {
        if let Some(d) = &c.default {
            choices.insert(c.id.clone(), d.clone());
        }
    }
    for (c, o) in &u.choices {
        let path = format!("{base}/choices/{}", key(c));
        let choice_ids = || p.choices.iter().map(|c| c.id.as_str());
        let (id, ch) = match p.choice(c) {
            Some(ch) => (c.clone(), ch),
            None => {
                let (m, h) = unknown(&format!("choice of {}", p.product), c, choice_ids());
                let fix = meant(c, choice_ids(), |k| u.choices.contains_key(k));
                diags.push(key_error(dep, &path, m, folded(h, &fix)));
                match fix.as_deref().and_then(|f| p.choice(f)) {
                    Some(ch) => (ch.id.clone(), ch),
                    None => continue,
                }
            }
        };
        let option_ids = || ch.options.iter().map(|x| x.id.as_str());
        if ch.options.iter().any(|x| &x.id == o) {
            choices.insert(id, o.clone());
        } else {
            let (m, h) = unknown(&format!("option of choice `{id}`"), o, option_ids());
            let fix = meant(o, option_ids(), |_| false);
            if let Some(fix) = &fix {
                choices.insert(id, fix.clone());
            }
            diags.push(dep.error_at(&path, m).hint(folded(h, &fix)));
        }
    }

    let mut params = BTreeMap::new();
    for prm in &p.parameters {
        if let Some(d) = prm.default {
            params.insert(prm.id.clone(), d);
        }
    }
    for (written, v) in &u.parameters {
        let path = format!("{base}/parameters/{}", key(written));
        let param_ids = || p.parameters.iter().map(|x| x.id.as_str());
        let prm = match p.parameter(written) {
            Some(prm) => prm,
            None => {
                let (m, h) = unknown(&format!("parameter of {}", p.product), written, param_ids());
                let fix = meant(written, param_ids(), |k| u.parameters.contains_key(k));
                diags.push(key_error(dep, &path, m, folded(h, &fix)));
                match fix.as_deref().and_then(|f| p.parameter(f)) {
                    Some(prm) => prm,
                    None => continue,
                }
            }
        };
        let id = &prm.id;
        if prm.kind == ParameterKind::Port && !v.is_single() {
            diags.push(
                dep.error_at(
                    &path,
                    format!("parameter `{id}` is one port, not the range {v}"),
                )
                .hint("give a single port number"),
            );
            continue;
        }
        if let Some(allowed) = prm.allowed {
            if !allowed.contains_range(v) {
                diags.push(
                    dep.error_at(
                        &path,
                        format!("parameter `{id}` = {v} is outside the allowed {allowed}"),
                    )
                    .hint(format!("{} accepts {allowed} for {}", p.product, prm.name)),
                );
                continue;
            }
        }
        params.insert(id.clone(), *v);
    }
    Settings {
        features,
        feature_paths,
        choices,
        params,
    }
}

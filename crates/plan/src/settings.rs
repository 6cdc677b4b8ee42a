//! One product's settings in a deployment, checked against its catalog entry:
//! features on, choices made, parameter values. Unknown ids get a located
//! error with "did you mean".

use crate::resolve::key;
use portplan_model::catalog::{ParameterKind, Product};
use portplan_model::diag::{unknown, Diagnostic};
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
    for (i, f) in u.features.iter().enumerate() {
        let path = format!("{base}/features/{i}");
        if p.feature(f).is_some() {
            features.insert(f.clone());
            feature_paths.insert(f.clone(), path);
        } else {
            let (m, h) = unknown(&format!("feature of {}", p.product), f, feature_ids());
            diags.push(dep.error_at(&path, m).hint(h));
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
                    diags.push(dep.warning_at(
                        &path,
                        format!("feature `{f}` is off unless enabled; `without` changes nothing"),
                    ));
                }
                features.remove(f);
            }
            None => {
                let (m, h) = unknown(&format!("feature of {}", p.product), f, feature_ids());
                diags.push(dep.error_at(&path, m).hint(h));
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
        match p.choice(c) {
            None => {
                let (m, h) = unknown(
                    &format!("choice of {}", p.product),
                    c,
                    p.choices.iter().map(|c| c.id.as_str()),
                );
                diags.push(key_error(dep, &path, m, h));
            }
            Some(ch) => {
                if ch.options.iter().any(|x| &x.id == o) {
                    choices.insert(c.clone(), o.clone());
                } else {
                    let (m, h) = unknown(
                        &format!("option of choice `{c}`"),
                        o,
                        ch.options.iter().map(|x| x.id.as_str()),
                    );
                    diags.push(dep.error_at(&path, m).hint(h));
                }
            }
        }
    }

    let mut params = BTreeMap::new();
    for prm in &p.parameters {
        if let Some(d) = prm.default {
            params.insert(prm.id.clone(), d);
        }
    }
    for (id, v) in &u.parameters {
        let path = format!("{base}/parameters/{}", key(id));
        let Some(prm) = p.parameter(id) else {
            let (m, h) = unknown(
                &format!("parameter of {}", p.product),
                id,
                p.parameters.iter().map(|x| x.id.as_str()),
            );
            diags.push(key_error(dep, &path, m, h));
            continue;
        };
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

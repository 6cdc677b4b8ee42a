//! Semantic checks of a catalog entry: references, uniqueness, ranges.

use crate::catalog::{PortSpec, Product, Scope};
use crate::diag::{unknown, Diagnostic};
use crate::load::Parsed;
use crate::ports::Protocol;
use std::collections::HashSet;

/// Checks everything the schema cannot: every reference defined, ids unique,
/// defaults inside their allowed range, ICMP without ports.
pub fn check_product(p: &Parsed<Product>, expected_id: Option<&str>) -> Vec<Diagnostic> {
    let prod = &p.value;
    let mut out = linked_sources(p);
    let mut err = |path: String, msg: String, hint: Option<String>| {
        let d = p.error_at(&path, msg);
        out.push(match hint {
            Some(h) => d.hint(h),
            None => d,
        });
    };

    if !is_id(&prod.product) {
        err(
            "/product".into(),
            format!(
                "product id `{}` is not lowercase letters, digits and dashes",
                prod.product
            ),
            Some("write it like `cisco-ise`".into()),
        );
    }
    if let Some(want) = expected_id {
        if want != prod.product {
            err(
                "/product".into(),
                format!(
                    "product id `{}` does not match the file name `{want}.yaml`",
                    prod.product
                ),
                Some(format!(
                    "rename the file to `{}.yaml` or the id to `{want}`",
                    prod.product
                )),
            );
        }
    }

    let dup = |what: &str,
               list: &str,
               ids: Vec<&str>,
               err: &mut dyn FnMut(String, String, Option<String>)| {
        let mut seen = HashSet::new();
        for (i, id) in ids.iter().enumerate() {
            if !is_id(id) {
                err(
                    format!("/{list}/{i}/id"),
                    format!(
                        "{what} id `{id}` is not lowercase letters, digits, dashes and underscores"
                    ),
                    Some("write it in lowercase letters, digits, `-` and `_`, starting with a letter or digit, like `admin-web`".into()),
                );
            }
            if !seen.insert(*id) {
                err(
                    format!("/{list}/{i}/id"),
                    format!("{what} id `{id}` is defined twice"),
                    Some("ids must be unique within a product; rename one".into()),
                );
            }
        }
    };
    dup(
        "source",
        "sources",
        prod.sources.iter().map(|x| x.id.as_str()).collect(),
        &mut err,
    );
    dup(
        "role",
        "roles",
        prod.roles.iter().map(|x| x.id.as_str()).collect(),
        &mut err,
    );
    dup(
        "feature",
        "features",
        prod.features.iter().map(|x| x.id.as_str()).collect(),
        &mut err,
    );
    dup(
        "choice",
        "choices",
        prod.choices.iter().map(|x| x.id.as_str()).collect(),
        &mut err,
    );
    dup(
        "parameter",
        "parameters",
        prod.parameters.iter().map(|x| x.id.as_str()).collect(),
        &mut err,
    );
    dup(
        "requirement",
        "requirements",
        prod.requirements.iter().map(|x| x.id.as_str()).collect(),
        &mut err,
    );

    let roles: Vec<&str> = prod.roles.iter().map(|r| r.id.as_str()).collect();
    let features: Vec<&str> = prod.features.iter().map(|r| r.id.as_str()).collect();
    let params: Vec<&str> = prod.parameters.iter().map(|r| r.id.as_str()).collect();
    let choices: Vec<&str> = prod.choices.iter().map(|r| r.id.as_str()).collect();
    let docs: Vec<&str> = prod.sources.iter().map(|r| r.id.as_str()).collect();
    let reqs: Vec<&str> = prod.requirements.iter().map(|r| r.id.as_str()).collect();

    let check_ref = |path: String,
                     what: &str,
                     word: &str,
                     known: &[&str],
                     err: &mut dyn FnMut(String, String, Option<String>)| {
        if !known.contains(&word) {
            let (m, h) = unknown(what, word, known.iter().copied());
            err(path, m, Some(h));
        }
    };

    for (i, c) in prod.choices.iter().enumerate() {
        let opts: Vec<&str> = c.options.iter().map(|o| o.id.as_str()).collect();
        if opts.len() < 2 {
            err(
                format!("/choices/{i}/options"),
                format!("choice `{}` needs at least two options", c.id),
                Some(
                    "add the other option(s); a thing that is on or off is a feature, not a choice"
                        .into(),
                ),
            );
        }
        if let Some(d) = &c.default {
            check_ref(
                format!("/choices/{i}/default"),
                "option",
                d,
                &opts,
                &mut err,
            );
        }
    }

    for (i, prm) in prod.parameters.iter().enumerate() {
        if let (Some(d), Some(a)) = (prm.default, prm.allowed) {
            if !a.contains_range(&d) {
                err(
                    format!("/parameters/{i}/default"),
                    format!(
                        "default {d} of parameter `{}` is outside its allowed range {a}",
                        prm.id
                    ),
                    Some(format!("pick a default within {a}, or widen `allowed`")),
                );
            }
        }
        if prm.kind == crate::catalog::ParameterKind::Port {
            if let Some(d) = prm.default.filter(|d| !d.is_single()) {
                err(
                    format!("/parameters/{i}/default"),
                    format!(
                        "parameter `{}` is one port but its default is the range {d}",
                        prm.id
                    ),
                    Some("write `kind: range` for a range of ports".into()),
                );
            }
        }
    }

    for (i, r) in prod.requirements.iter().enumerate() {
        let base = format!("/requirements/{i}");
        for (side, list) in [("from", &r.from), ("to", &r.to)] {
            for (j, role) in list.iter().enumerate() {
                let path = match list {
                    crate::catalog::OneOrMany::One(_) => format!("{base}/{side}"),
                    crate::catalog::OneOrMany::Many(_) => format!("{base}/{side}/{j}"),
                };
                check_ref(path, "role", role, &roles, &mut err);
            }
        }
        if let Some(f) = &r.feature {
            check_ref(format!("{base}/feature"), "feature", f, &features, &mut err);
        }
        if let Some(w) = &r.when {
            for (c, o) in &w.choice {
                match prod.choice(c) {
                    None => check_ref(
                        format!("{base}/when/choice/{c}"),
                        "choice",
                        c,
                        &choices,
                        &mut err,
                    ),
                    Some(ch) => {
                        let opts: Vec<&str> = ch.options.iter().map(|x| x.id.as_str()).collect();
                        check_ref(
                            format!("{base}/when/choice/{c}"),
                            "option",
                            o,
                            &opts,
                            &mut err,
                        );
                    }
                }
            }
            for (k, list) in [("colocated", &w.colocated), ("separate", &w.separate)] {
                for (j, role) in list.iter().enumerate() {
                    check_ref(
                        format!("{base}/when/{k}/{j}"),
                        "role",
                        role,
                        &roles,
                        &mut err,
                    );
                }
            }
        }
        for (j, ps) in r.ports.iter().enumerate() {
            if let PortSpec::Param(name) = ps {
                check_ref(
                    format!("{base}/ports/{j}"),
                    "parameter",
                    name,
                    &params,
                    &mut err,
                );
            }
        }
        let protos = r.protocols();
        if protos.is_empty() {
            err(
                format!("{base}/protocol"),
                format!("requirement `{}` names no protocol", r.id),
                Some("write tcp, udp, icmp or esp".into()),
            );
        }
        let has_icmp = protos.contains(&Protocol::Icmp);
        if let Some(p) = protos.iter().find(|p| !p.has_ports()) {
            if !r.ports.is_empty() {
                let name = p.as_str().to_ascii_uppercase();
                err(
                    format!("{base}/ports"),
                    format!("requirement `{}` is {name} but lists ports", r.id),
                    Some(format!(
                        "{name} has no ports: split TCP/UDP into their own requirement"
                    )),
                );
            }
        }
        if protos.iter().any(|p| p.has_ports()) && r.ports.is_empty() {
            err(
                format!("{base}/protocol"),
                format!("requirement `{}` is TCP/UDP but lists no port", r.id),
                Some("add `ports:`; a port with no fixed number is a parameter: `ports: [{param: NAME}]`".into()),
            );
        }
        if !has_icmp && r.icmp_type.is_some() {
            err(
                format!("{base}/icmp_type"),
                format!("requirement `{}` has an ICMP type but is not ICMP", r.id),
                Some("remove `icmp_type`, or make the protocol `icmp`".into()),
            );
        }
        if r.scope == Scope::Loopback && r.from_roles() != r.to_roles() {
            err(
                format!("{base}/scope"),
                format!(
                    "loopback requirement `{}` must have the same `from` and `to` role",
                    r.id
                ),
                Some("a loopback listener is reached only from its own host".into()),
            );
        }
        check_ref(
            format!("{base}/source/doc"),
            "source document",
            &r.source.doc,
            &docs,
            &mut err,
        );
        if r.source.line == 0 {
            err(
                format!("{base}/source/line"),
                "line numbers start at 1".into(),
                Some(
                    "cite the line of the source page that states the port (the first line is 1)"
                        .into(),
                ),
            );
        }
        if r.source.end_line.is_some_and(|e| e < r.source.line) {
            err(
                format!("{base}/source/end_line"),
                "`end_line` is before `line`".into(),
                Some("`end_line` is the last line of the cited passage: at or after `line`".into()),
            );
        }
    }

    for (i, e) in prod.errata.iter().enumerate() {
        check_ref(
            format!("/errata/{i}/source/doc"),
            "source document",
            &e.source.doc,
            &docs,
            &mut err,
        );
        for (j, s) in e.see.iter().enumerate() {
            check_ref(
                format!("/errata/{i}/see/{j}"),
                "requirement",
                s,
                &reqs,
                &mut err,
            );
        }
    }
    for (i, n) in prod.notes.iter().enumerate() {
        if let Some(s) = &n.source {
            check_ref(
                format!("/notes/{i}/source/doc"),
                "source document",
                &s.doc,
                &docs,
                &mut err,
            );
        }
    }
    out
}

/// Ids are lowercase ASCII letters, digits, `-` and `_`, starting with a letter or digit.
/// A document with no stored copy is found by its link, the date it was
/// read and the section each statement stands under: a bare line number
/// would not do. Warnings, so an importer draft or a quick local entry still
/// loads; the built-in catalog is held to them by a test.
fn linked_sources(p: &Parsed<Product>) -> Vec<Diagnostic> {
    let prod = &p.value;
    let mut out = Vec::new();
    let mut warn = |path: String, msg: String, hint: &str| {
        out.push(p.warning_at(&path, msg).hint(hint.to_string()));
    };
    for (i, d) in prod.sources.iter().enumerate() {
        if d.file.is_some() {
            continue;
        }
        if d.url.is_none() {
            warn(
                format!("/sources/{i}"),
                format!("source `{}` has neither `file` nor `url`", d.id),
                "give the stored copy (`file:` under catalog/sources) or the published page (`url:` pinned to the version read, and `read: YYYY-MM-DD`)",
            );
        }
        match d.read.as_deref() {
            None => warn(
                format!("/sources/{i}"),
                format!("source `{}` has no stored copy and no `read:` date", d.id),
                "add `read: YYYY-MM-DD`, the day the page was read",
            ),
            Some(date) if !is_date(date) => warn(
                format!("/sources/{i}/read"),
                format!("`{date}` is not a date"),
                "write it as YYYY-MM-DD",
            ),
            Some(_) => {}
        }
    }
    let linked: Vec<&str> = prod
        .sources
        .iter()
        .filter(|d| d.file.is_none())
        .map(|d| d.id.as_str())
        .collect();
    for (i, r) in prod.requirements.iter().enumerate() {
        if linked.contains(&r.source.doc.as_str()) && r.source.section.is_none() {
            warn(
                format!("/requirements/{i}/source"),
                format!(
                    "requirement `{}` cites `{}`, which has no stored copy, without a `section`",
                    r.id, r.source.doc
                ),
                "add `section: HEADING`, the heading the statement stands under",
            );
        }
    }
    out
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize| p.len() == len && p.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [y, m, d] if num(y, 4) && num(m, 2) && num(d, 2) => {
            let (m, d): (u32, u32) = (m.parse().unwrap_or(0), d.parse().unwrap_or(0));
            (1..=12).contains(&m) && (1..=31).contains(&d)
        }
        _ => false,
    }
}

pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

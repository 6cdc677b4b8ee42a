//! One-of decisions a page states row by row: `Core (if Oracle is used)` →
//! Oracle database, `Core (if PostgreSQL is used)` → PostgreSQL database, …
//! Rows whose conditions differ only in what "is used", that the same party
//! opens to parties of the same kind (`… database`), are the options of one
//! choice, not independent features: a deployment picks one of them.

use crate::slug;
use portplan_model::{Choice, ChoiceOption, Condition, Product};
use std::collections::{BTreeMap, BTreeSet};

/// What a condition says is used: `if Oracle is used` → `Oracle`.
fn used(condition: &str) -> Option<&str> {
    let c = condition.trim().trim_end_matches('.');
    let lower = c.to_ascii_lowercase();
    let start = [
        "only if using ",
        "if using ",
        "when using ",
        "only if ",
        "if ",
        "when ",
    ]
    .iter()
    .find(|p| lower.starts_with(*p))?
    .len();
    let end = [
        " is used",
        " are used",
        " is in use",
        " is selected",
        " is chosen",
    ]
    .iter()
    .find_map(|s| lower.ends_with(s).then(|| c.len() - s.len()))
    .or_else(|| lower[..start].contains("using").then_some(c.len()))?;
    let what = c.get(start..end)?.trim();
    (!what.is_empty() && what.split_whitespace().count() <= 5).then_some(what)
}

/// Finds the choices and rewrites their requirements to name an option
/// (`when: {choice: {database: oracle}}`) instead of a feature each.
pub(crate) fn infer(p: &mut Product) {
    let feature_names: BTreeMap<&str, &str> = p
        .features
        .iter()
        .map(|f| (f.id.as_str(), f.name.as_str()))
        .collect();
    // (opening party, kind of the other party) -> requirement index, option.
    let mut groups: BTreeMap<(String, String), Vec<(usize, String)>> = BTreeMap::new();
    for (i, r) in p.requirements.iter().enumerate() {
        let Some(name) = r.feature.as_deref().and_then(|f| feature_names.get(f)) else {
            continue;
        };
        let to = r.to_roles();
        let (Some(what), [to]) = (used(name), to.as_slice()) else {
            continue;
        };
        let kind = to.rsplit('-').next().unwrap_or(to).to_string();
        groups
            .entry((r.from_roles().join("+"), kind))
            .or_default()
            .push((i, what.to_string()));
    }
    let mut taken: BTreeSet<String> = p
        .choices
        .iter()
        .map(|c| c.id.clone())
        .chain(p.features.iter().map(|f| f.id.clone()))
        .collect();
    for ((_, kind), members) in groups {
        let options: BTreeSet<&str> = members.iter().map(|(_, w)| w.as_str()).collect();
        // The kind is a word (`database`), not a number left of an id.
        let word = kind.len() >= 3 && kind.chars().all(|c| c.is_ascii_alphabetic());
        if options.len() < 2 || !word {
            continue;
        }
        let mut id = slug(&kind);
        let mut n = 1;
        while taken.contains(&id) {
            n += 1;
            id = format!("{}-{n}", slug(&kind));
        }
        taken.insert(id.clone());
        let mut choice = Choice {
            id: id.clone(),
            name: format!("REVIEW: which {kind} (the page gives the ports of each)"),
            options: Vec::new(),
            default: None,
        };
        for (i, what) in &members {
            let option = slug(what);
            if !choice.options.iter().any(|o| o.id == option) {
                choice.options.push(ChoiceOption {
                    id: option.clone(),
                    name: what.clone(),
                });
            }
            let r = &mut p.requirements[*i];
            r.feature = None;
            r.when = Some(Condition {
                choice: BTreeMap::from([(id.clone(), option.clone())]),
                ..Condition::default()
            });
            r.notes.push(format!(
                "REVIEW: read as option `{option}` of the choice `{id}`: rows of the same shape name other {kind}s"
            ));
        }
        p.choices.push(choice);
    }
    // Features that became options are no longer used.
    let used_features: BTreeSet<String> = p
        .requirements
        .iter()
        .filter_map(|r| r.feature.clone())
        .collect();
    p.features.retain(|f| used_features.contains(&f.id));
}

#[cfg(test)]
mod tests {
    use super::used;

    #[test]
    fn what_a_condition_says_is_used() {
        assert_eq!(used("if Oracle is used"), Some("Oracle"));
        assert_eq!(used("if MS SQL Server is used"), Some("MS SQL Server"));
        assert_eq!(used("when using PostgreSQL"), Some("PostgreSQL"));
        assert_eq!(
            used("Only if Active Directory is in use."),
            Some("Active Directory")
        );
        assert_eq!(used("if the device is online"), None);
        assert_eq!(used("if LDAP sign-in is configured"), None);
    }
}

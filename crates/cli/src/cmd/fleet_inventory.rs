//! The inventory of a fleet run: one entry per host that responds and/or
//! verifies, reached at its deployment address or, with `--inventory`, with
//! the connection settings of the user's own inventory (matched by name).

use super::Failure;
use serde_norway::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// One inventory host of the fleet run.
pub struct Entry {
    /// Its inventory name (a representative of a network that is also a
    /// deployment host gets a second name).
    pub name: String,
    /// The host it is: a deployment host name or the representative named.
    pub machine: String,
    /// Where to reach it without a user inventory.
    pub address: Option<String>,
    /// `verify --from` this deployment host or network.
    pub from: Option<String>,
    /// `respond --as` this deployment host.
    pub as_host: Option<String>,
}

/// Every host of a YAML inventory with its variables: those of the groups
/// it is in (outer groups first, inner ones override), then its own. This
/// is the precedence Ansible gives group and host variables in an
/// inventory file (docs.ansible.com, "How to build your inventory",
/// section "How variables are merged"), except that sibling groups are
/// merged in file order rather than by name or priority.
pub type HostVars = BTreeMap<String, Mapping>;

pub fn read(path: &Path) -> Result<HostVars, Failure> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Message(format!("cannot read the inventory {shown}: {e}")))?;
    let root: Value = serde_norway::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        Failure::Message(format!(
            "{shown}{at}: not a YAML inventory ({e}); an INI inventory can be converted with `ansible-inventory -i {shown} --list --yaml`"
        ))
    })?;
    let Value::Mapping(groups) = root else {
        return Err(Failure::Message(format!(
            "{shown}: a YAML inventory is a mapping of groups (`all:` with `hosts:` and `children:`)"
        )));
    };
    let mut out = HostVars::new();
    for (name, group) in &groups {
        walk(
            group,
            &Mapping::new(),
            &mut out,
            &format!("{shown}: {}", key_text(name)),
        )?;
    }
    Ok(out)
}

fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_norway::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn walk(group: &Value, inherited: &Mapping, out: &mut HostVars, at: &str) -> Result<(), Failure> {
    let group = match group {
        Value::Mapping(m) => m,
        Value::Null => return Ok(()),
        _ => {
            return Err(Failure::Message(format!(
                "{at}: a group must be a mapping with hosts/children/vars"
            )))
        }
    };
    let mut vars = inherited.clone();
    if let Some(Value::Mapping(v)) = group.get("vars") {
        for (k, x) in v {
            vars.insert(k.clone(), x.clone());
        }
    }
    match group.get("hosts") {
        Some(Value::Mapping(hosts)) => {
            for (h, hv) in hosts {
                let entry = out.entry(key_text(h)).or_default();
                for (k, x) in &vars {
                    entry.insert(k.clone(), x.clone());
                }
                if let Value::Mapping(own) = hv {
                    for (k, x) in own {
                        entry.insert(k.clone(), x.clone());
                    }
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(Failure::Message(format!(
                "{at}: `hosts` must be a mapping of host names to their variables"
            )))
        }
    }
    match group.get("children") {
        Some(Value::Mapping(children)) => {
            for (c, cg) in children {
                walk(cg, &vars, out, &format!("{at} > {}", key_text(c)))?;
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(Failure::Message(format!(
                "{at}: `children` must be a mapping of group names"
            )))
        }
    }
    Ok(())
}

/// The inventory file's text.
pub fn render(
    entries: &[Entry],
    user: Option<&HostVars>,
    deployment: &str,
) -> Result<String, Failure> {
    if let Some(u) = user {
        let mut missing: Vec<&str> = entries
            .iter()
            .map(|e| e.machine.as_str())
            .filter(|m| !u.contains_key(*m))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            return Err(Failure::Message(format!(
                "the inventory lacks host{} {} that the deployment needs (matched by name): add {}, or leave out --inventory to reach hosts at their deployment addresses",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            )));
        }
    }
    let mut hosts = Mapping::new();
    for e in entries {
        let mut vars = Mapping::new();
        match user.and_then(|u| u.get(&e.machine)) {
            Some(uv) => {
                vars = uv.clone();
                // A second name for the same host: Ansible would otherwise
                // connect to the alias.
                if e.name != e.machine && !vars.contains_key("ansible_host") {
                    vars.insert("ansible_host".into(), e.machine.clone().into());
                }
            }
            None => match &e.address {
                Some(a) => {
                    vars.insert("ansible_host".into(), a.clone().into());
                }
                None => {
                    return Err(Failure::Message(format!(
                    "{} has no single address to reach it at: give --inventory with a host `{}`",
                    e.machine, e.machine
                )))
                }
            },
        }
        if let Some(f) = &e.from {
            vars.insert("portplan_from".into(), f.clone().into());
        }
        if let Some(a) = &e.as_host {
            vars.insert("portplan_as".into(), a.clone().into());
        }
        hosts.insert(e.name.clone().into(), Value::Mapping(vars));
    }
    let mut group = Mapping::new();
    group.insert("hosts".into(), Value::Mapping(hosts));
    let mut children = Mapping::new();
    children.insert("portplan".into(), Value::Mapping(group));
    let mut all = Mapping::new();
    all.insert("children".into(), Value::Mapping(children));
    let mut root = Mapping::new();
    root.insert("all".into(), Value::Mapping(all));
    let body = serde_norway::to_string(&Value::Mapping(root))
        .map_err(|e| Failure::Message(format!("cannot write the inventory: {e}")))?;
    Ok(format!(
        "# Written by `portplan fleet` for the deployment {deployment}.\n\
         # portplan_as: the deployment host this host answers probes for (a responder);\n\
         # portplan_from: the deployment host or network it verifies the flows of.\n\
         {body}"
    ))
}

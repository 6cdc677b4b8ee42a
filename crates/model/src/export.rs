//! The flat table users paste into spreadsheets and tickets: one row per
//! (requirement, protocol, port range). Shared by `catalog export` and the
//! importer's CSV output so both speak the same columns.

use crate::catalog::{PortSpec, Product, Requirement};
use serde::Serialize;
use std::borrow::Cow;

/// Column order is part of the interface: the first fifteen are fixed.
pub const COLUMNS: &[&str] = &[
    "product",
    "requirement",
    "service",
    "from",
    "to",
    "protocol",
    "port_low",
    "port_high",
    "required",
    "feature",
    "configurable",
    "default_port",
    "scope",
    "source",
    "line",
    "condition",
    "interface",
    "parameter",
    "alternatives",
    "per_target",
    "page_said",
    "notes",
];

/// Text borrowed from the product where it can be: a large draft has
/// hundreds of thousands of rows, and copying every field of each was a
/// fifth of `portplan import --format csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportRow<'a> {
    pub product: Cow<'a, str>,
    pub requirement: Cow<'a, str>,
    pub service: Cow<'a, str>,
    pub from: Cow<'a, str>,
    pub to: Cow<'a, str>,
    pub protocol: &'static str,
    pub port_low: Option<u16>,
    pub port_high: Option<u16>,
    pub required: bool,
    pub feature: Cow<'a, str>,
    pub configurable: bool,
    pub default_port: String,
    pub scope: &'static str,
    pub source: Cow<'a, str>,
    pub line: u32,
    pub condition: Cow<'a, str>,
    pub interface: Cow<'a, str>,
    pub parameter: Cow<'a, str>,
    pub alternatives: bool,
    pub per_target: bool,
    pub page_said: Cow<'a, str>,
    pub notes: Cow<'a, str>,
}

/// Text of a requirement's `when`, e.g. `database=oracle; colocated ums-server+ha-lb`.
pub fn condition_text(r: &Requirement) -> String {
    let Some(w) = &r.when else {
        return String::new();
    };
    let mut parts: Vec<String> = w.choice.iter().map(|(c, o)| format!("{c}={o}")).collect();
    if !w.colocated.is_empty() {
        parts.push(format!("colocated {}", w.colocated.join("+")));
    }
    if !w.separate.is_empty() {
        parts.push(format!("separate {}", w.separate.join("+")));
    }
    parts.join("; ")
}

/// Every row of a product, in catalog order.
pub fn rows(p: &Product) -> Vec<ExportRow<'_>> {
    let mut out = Vec::new();
    for r in &p.requirements {
        requirement_rows(p, r, &mut out);
    }
    out
}

/// The rows of one requirement of `p`, appended to `out`.
pub fn requirement_rows<'a>(p: &'a Product, r: &'a Requirement, out: &mut Vec<ExportRow<'a>>) {
    let file: Cow<'_, str> = match p.source(&r.source.doc).and_then(|s| s.file.as_deref()) {
        Some(f) => Cow::Borrowed(f),
        None => Cow::Borrowed(&r.source.doc),
    };
    let roles = |v: Vec<String>| -> Cow<'_, str> { Cow::Owned(v.join(";")) };
    let base = ExportRow {
        product: Cow::Borrowed(&p.product),
        requirement: Cow::Borrowed(&r.id),
        service: Cow::Borrowed(&r.service),
        from: roles(r.from_roles()),
        to: roles(r.to_roles()),
        protocol: "",
        port_low: None,
        port_high: None,
        required: r.required,
        feature: Cow::Borrowed(r.feature.as_deref().unwrap_or_default()),
        configurable: false,
        default_port: String::new(),
        scope: r.scope.as_str(),
        source: file,
        line: r.source.line,
        condition: Cow::Owned(condition_text(r)),
        interface: Cow::Borrowed(r.interface.as_deref().unwrap_or_default()),
        parameter: Cow::Borrowed(""),
        alternatives: r.alternatives,
        per_target: r.per_target,
        page_said: Cow::Borrowed(r.page_said.as_ref().map_or("", |s| s.text.as_str())),
        notes: match r.notes.as_slice() {
            [] => Cow::Borrowed(""),
            [one] => Cow::Borrowed(one),
            many => Cow::Owned(many.join(" | ")),
        },
    };
    for proto in r.protocols() {
        if !proto.has_ports() {
            out.push(ExportRow {
                protocol: proto.as_str(),
                ..base.clone()
            });
            continue;
        }
        for ps in &r.ports {
            let mut row = ExportRow {
                protocol: proto.as_str(),
                ..base.clone()
            };
            match ps {
                PortSpec::Fixed(range) => {
                    row.port_low = Some(range.low);
                    row.port_high = Some(range.high);
                }
                PortSpec::Param(name) => {
                    row.configurable = true;
                    row.parameter = Cow::Borrowed(name);
                    if let Some(d) = p.parameter(name).and_then(|x| x.default) {
                        row.port_low = Some(d.low);
                        row.port_high = Some(d.high);
                        row.default_port = d.to_string();
                    }
                }
            }
            out.push(row);
        }
    }
}

//! The flat table users paste into spreadsheets and tickets: one row per
//! (requirement, protocol, port range). Shared by `catalog export` and the
//! importer's CSV output so both speak the same columns.

use crate::catalog::{PortSpec, Product, Requirement};
use serde::Serialize;

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportRow {
    pub product: String,
    pub requirement: String,
    pub service: String,
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port_low: Option<u16>,
    pub port_high: Option<u16>,
    pub required: bool,
    pub feature: String,
    pub configurable: bool,
    pub default_port: String,
    pub scope: String,
    pub source: String,
    pub line: u32,
    pub condition: String,
    pub interface: String,
    pub parameter: String,
    pub alternatives: bool,
    pub per_target: bool,
    pub page_said: String,
    pub notes: String,
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
pub fn rows(p: &Product) -> Vec<ExportRow> {
    let mut out = Vec::new();
    for r in &p.requirements {
        let file = p
            .source(&r.source.doc)
            .and_then(|s| s.file.clone())
            .unwrap_or_else(|| r.source.doc.clone());
        let base = ExportRow {
            product: p.product.clone(),
            requirement: r.id.clone(),
            service: r.service.clone(),
            from: r.from_roles().join(";"),
            to: r.to_roles().join(";"),
            protocol: String::new(),
            port_low: None,
            port_high: None,
            required: r.required,
            feature: r.feature.clone().unwrap_or_default(),
            configurable: false,
            default_port: String::new(),
            scope: r.scope.as_str().to_string(),
            source: file,
            line: r.source.line,
            condition: condition_text(r),
            interface: r.interface.clone().unwrap_or_default(),
            parameter: String::new(),
            alternatives: r.alternatives,
            per_target: r.per_target,
            page_said: r
                .page_said
                .as_ref()
                .map(|s| s.text.clone())
                .unwrap_or_default(),
            notes: r.notes.join(" | "),
        };
        for proto in r.protocols() {
            if !proto.has_ports() {
                out.push(ExportRow {
                    protocol: proto.to_string(),
                    ..base.clone()
                });
                continue;
            }
            for ps in &r.ports {
                let mut row = ExportRow {
                    protocol: proto.to_string(),
                    ..base.clone()
                };
                match ps {
                    PortSpec::Fixed(range) => {
                        row.port_low = Some(range.low);
                        row.port_high = Some(range.high);
                    }
                    PortSpec::Param(name) => {
                        row.configurable = true;
                        row.parameter = name.clone();
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
    out
}

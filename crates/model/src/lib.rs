//! portplan's hub: the catalog and deployment types, loading with located
//! diagnostics, validation, and the flow set every later stage consumes.
//! Depends on no other portplan crate.

pub mod addr_check;
pub mod catalog;
pub mod deployment;
pub mod diag;
pub mod export;
pub mod flow;
pub mod iana;
pub mod load;
pub mod locate;
pub mod ports;
pub mod search;
pub mod store;
pub mod unique;
pub mod validate;
pub mod yaml_hints;

pub use catalog::*;
pub use deployment::{Deployment, Management, Override, ProductUse};
pub use diag::{Diagnostic, Location, Severity};
pub use flow::{Addr, Because, Flow, FlowSet, Side};
pub use ports::{PortRange, PortSet, Protocol};
pub use store::Catalog;

/// The JSON Schema of a catalog file, for editors (`portplan catalog schema`).
pub fn catalog_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(catalog::Product)).unwrap_or_default()
}

/// The JSON Schema of a deployment file.
pub fn deployment_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(deployment::Deployment)).unwrap_or_default()
}

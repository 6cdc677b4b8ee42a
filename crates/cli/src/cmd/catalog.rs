//! `portplan catalog …` (being built).

use super::{Failure, Global, Outcome};

#[derive(clap::Subcommand)]
pub enum CatalogCmd {
    /// Products with counts of roles and requirements.
    List,
}

pub fn run(_c: CatalogCmd, _g: &Global) -> Outcome {
    Err(Failure::Message("not built yet".into()))
}

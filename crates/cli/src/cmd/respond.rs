//! `portplan respond` (not built yet).

use super::{Failure, Global, Outcome};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _g: &Global) -> Outcome {
    Err(Failure::Message("`portplan respond` is not built yet".into()))
}

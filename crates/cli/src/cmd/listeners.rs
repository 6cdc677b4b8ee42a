//! `portplan listeners` (not built yet).

use super::{Failure, Global, Outcome};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _g: &Global) -> Outcome {
    Err(Failure::Message("`portplan listeners` is not built yet".into()))
}

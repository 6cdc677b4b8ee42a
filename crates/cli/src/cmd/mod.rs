//! One module per subcommand; each exposes `Args` (clap) and `run`.

pub mod audit;
mod audit_out;
pub mod catalog;
pub mod catalog_search;
pub mod check;
pub mod fleet;
mod fleet_inventory;
mod fleet_playbook;
pub mod import;
pub mod listeners;
pub mod new;
pub mod plan;
pub mod port;
pub mod probe;
pub mod report;
mod report_push;
pub mod respond;
pub mod respond_log;
pub mod serve;
pub mod verify;

use portplan_model::{Catalog, Diagnostic};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options every subcommand sees.
pub struct Global {
    pub catalog_dir: Option<PathBuf>,
    pub color: bool,
}

impl Global {
    /// The built-in catalog plus `--catalog DIR`.
    pub fn catalog(&self) -> Result<Catalog, Failure> {
        Catalog::load(self.catalog_dir.as_deref()).map_err(Failure::Diagnostics)
    }
}

/// Why a command could not do its job: bad input (exit 2).
#[derive(Debug)]
pub enum Failure {
    Diagnostics(Vec<Diagnostic>),
    Message(String),
}

impl Failure {
    /// Prints to stderr and gives exit code 2.
    pub fn report(self, g: &Global) -> ExitCode {
        match self {
            Failure::Diagnostics(ds) => {
                for d in &ds {
                    eprintln!("{}", crate::out::diagnostic(d, g.color));
                }
                let n = ds.iter().filter(|d| d.is_error()).count();
                if n > 0 {
                    eprintln!("portplan: {n} error{}", if n == 1 { "" } else { "s" });
                }
            }
            Failure::Message(m) => eprintln!("portplan: error: {m}"),
        }
        ExitCode::from(2)
    }
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Self {
        Failure::Diagnostics(vec![d])
    }
}

pub type Outcome = Result<ExitCode, Failure>;

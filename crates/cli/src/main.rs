//! The `portplan` binary: parses flags, runs one stage, prints, exits.
//! Exit codes: 0 done, 1 a check found failing flows, 2 bad input.

mod cmd;
mod one_of;
mod out;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

// See the note on tikv-jemallocator in Cargo.toml (not built for MSVC).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "portplan",
    version,
    about = "Turn vendor ports pages into a reviewed catalog, plan the exact flows a deployment needs, \
             write them as firewall rules, and prove the paths are open.",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Add or override catalog products from YAML files in this folder.
    #[arg(long, global = true, value_name = "DIR")]
    catalog: Option<PathBuf>,
    /// When to colour terminal output.
    #[arg(long, global = true, value_enum, default_value_t = out::ColorWhen::Auto)]
    color: out::ColorWhen,
    /// Print every table cell whole instead of fitting the terminal width.
    #[arg(long, global = true)]
    wide: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Browse, export and validate the product catalog.
    #[command(subcommand)]
    Catalog(cmd::catalog::CatalogCmd),
    /// Which requirements of which products use a port, and its IANA name.
    Port(cmd::port::Args),
    /// Start a deployment file: a commented skeleton for the chosen products.
    New(cmd::new::Args),
    /// Validate a deployment file against the catalog.
    Check(cmd::check::Args),
    /// Compute a deployment's flows and write them as rules, tables or pictures.
    Plan(cmd::plan::Args),
    /// What a firewall's rules (ours or a live export) do with the planned flows.
    Audit(cmd::audit::Args),
    /// Probe a deployment's flows from this host.
    Verify(cmd::verify::Args),
    /// Write an Ansible project that proves a deployment's flows on every host.
    Fleet(cmd::fleet::Args),
    /// Merge many hosts' `verify --format json` results into one report.
    Report(cmd::report::Args),
    /// The catalog, plans, audits and verification reports in a browser, kept in SQLite or PostgreSQL.
    Serve(cmd::serve::Args),
    /// Answer probes on every port this host must accept, before the product is installed.
    Respond(cmd::respond::Args),
    /// Ports bound on this host and their processes; conflicts with a deployment.
    Listeners(cmd::listeners::Args),
    /// Probe ports of one address without a deployment.
    Probe(cmd::probe::Args),
    /// Turn a vendor ports page into a draft catalog entry, flagging what the page gets wrong.
    Import(cmd::import::Args),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    out::set_width(cli.wide);
    let global = cmd::Global {
        catalog_dir: cli.catalog,
        color: cli.color.enabled(),
    };
    let result = match cli.command {
        Command::Catalog(c) => cmd::catalog::run(c, &global),
        Command::Port(a) => cmd::port::run(a, &global),
        Command::New(a) => cmd::new::run(a, &global),
        Command::Check(a) => cmd::check::run(a, &global),
        Command::Plan(a) => cmd::plan::run(a, &global),
        Command::Audit(a) => cmd::audit::run(a, &global),
        Command::Verify(a) => cmd::verify::run(a, &global),
        Command::Fleet(a) => cmd::fleet::run(a, &global),
        Command::Report(a) => cmd::report::run(a, &global),
        Command::Serve(a) => cmd::serve::run(a, &global),
        Command::Respond(a) => cmd::respond::run(a, &global),
        Command::Listeners(a) => cmd::listeners::run(a, &global),
        Command::Probe(a) => cmd::probe::run(a, &global),
        Command::Import(a) => cmd::import::run(a, &global),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "portplan",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let man = clap_mangen::Man::new(Cli::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(cmd::Failure::Message(format!(
                    "cannot write the man page: {e}"
                ))),
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(f) => f.report(&global),
    }
}

//! `medida`: run a two-layer QG model, and (to come) find the missing or wrong terms of a model
//! from data. Thin: parse, configure, report, call the crates.

mod config;
mod progress;
mod simulate;

use clap::{Parser, Subcommand};
use config::{InputError, RunConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "medida", version, about = "Two-layer QG models, model-error discovery and closures", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the model and write snapshots and diagnostics to HDF5 (xarray-readable).
    Simulate {
        /// A preset shipped in the binary: pyqg-eddy (default) or pyqg-jet.
        #[arg(long)]
        preset: Option<String>,
        /// A TOML config file (see `medida config show`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override a setting, e.g. --set model.dt=3600 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Total number of steps (overrides run.steps / run.tmax).
        #[arg(long)]
        steps: Option<u64>,
        /// Model time to reach, in seconds (overrides run.steps / run.tmax).
        #[arg(long)]
        tmax: Option<f64>,
        /// Initial PV: a .npy array (2, ny, nx) or an HDF5 file with a `q` dataset (lev, y, x).
        #[arg(long, value_name = "FILE")]
        init: Option<PathBuf>,
        /// Output file; its checkpoint goes beside it as NAME.ckpt.h5.
        #[arg(long, default_value = "run.h5")]
        out: PathBuf,
        /// Continue the run whose output (or checkpoint) this is, bit for bit.
        #[arg(long, value_name = "OUT.h5")]
        restart: Option<PathBuf>,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Inspect configurations.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the complete resolved config as TOML, ready to edit and pass to --config.
    Show {
        /// Preset to start from (default pyqg-eddy).
        #[arg(long)]
        preset: Option<String>,
        /// Config file to start from.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override a setting (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Simulate {
            preset,
            config,
            set,
            steps,
            tmax,
            init,
            out,
            restart,
            quiet,
        } => simulate::simulate(simulate::SimulateArgs {
            preset,
            config,
            set,
            steps,
            tmax,
            init,
            out,
            restart,
            quiet,
        }),
        Command::Config {
            command:
                ConfigCommand::Show {
                    preset,
                    config,
                    set,
                },
        } => {
            print!(
                "{}",
                RunConfig::resolve(preset.as_deref(), config.as_deref(), &set)?.to_toml()
            );
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Bad input exits 2, like a usage error; a failure during the run exits 1.
            if e.chain().any(|c| c.is::<InputError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

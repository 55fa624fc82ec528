//! `medida`: run a two-layer QG model (`simulate`), discover the error of an imperfect model from
//! analysis increments (`increments`, `discover`, `demo`), and find which terms explain any data
//! (`fit`). Thin: parse, configure, report, call the crates.

mod config;
mod discover;
mod fit;
mod observe;
mod plot;
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
    Simulate(simulate::SimulateArgs),
    /// Run spin-up, truth, increments and discovery for a model-error case, and print the table.
    Demo(discover::DemoArgs),
    /// Analysis increments of an imperfect model against a truth run.
    Increments(discover::IncrementsArgs),
    /// Discover the model error from increments, as an equation per layer.
    Discover(discover::DiscoverArgs),
    /// Sparse regression on your own data: which library terms explain the targets.
    Fit(fit::FitArgs),
    /// Draw the figures of a run, increments or discovery results as PNG.
    Plot(plot::PlotArgs),
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
        /// A model-error case: the truth with some coefficients changed (case1001 ... case1009).
        #[arg(long, value_name = "CASE")]
        model_error: Option<String>,
        /// Override a setting (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Simulate(args) => simulate::simulate(args),
        Command::Fit(args) => fit::fit(args),
        Command::Demo(args) => discover::demo(args),
        Command::Plot(args) => plot::plot(args),
        Command::Increments(args) => discover::increments(args),
        Command::Discover(args) => discover::discover(args),
        Command::Config {
            command:
                ConfigCommand::Show {
                    preset,
                    config,
                    model_error,
                    set,
                },
        } => {
            print!(
                "{}",
                RunConfig::resolve(
                    preset.as_deref(),
                    config.as_deref(),
                    model_error.as_deref(),
                    &set
                )?
                .to_toml()
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

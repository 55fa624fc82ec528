//! `medida`: run a two-layer QG model, and (to come) find the missing or wrong terms of a model
//! from data. Thin: parse, configure, report, call the crates.

mod config;
mod fit;
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
    /// Sparse regression on your own data: which library terms explain the targets.
    Fit {
        /// Library matrix (rows x terms): a float64 .npy file, or FILE.h5:DATASET.
        #[arg(long)]
        library: String,
        /// Targets (rows, or rows x targets): .npy or FILE.h5:DATASET.
        #[arg(long)]
        target: String,
        /// Term names, one per line (default x0, x1, ...).
        #[arg(long)]
        names: Option<PathBuf>,
        /// Target names, comma-separated (default y or y0, y1, ...).
        #[arg(long)]
        target_names: Option<String>,
        /// stlsq or rvm.
        #[arg(long, default_value = "stlsq")]
        optimizer: String,
        /// Model selection: bic, aic, cv (k-fold over row blocks) or threshold=NUMBER.
        #[arg(long, default_value = "bic")]
        select: String,
        /// Thresholds to sweep, comma-separated (default: a log grid for the optimizer).
        #[arg(long, value_delimiter = ',')]
        thresholds: Option<Vec<f64>>,
        /// Cross-validation folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Column scaling: rms (columns and targets by RMS; default), l2 (PySINDy normalize_columns) or none.
        #[arg(long, default_value = "rms")]
        scaling: String,
        /// STLSQ ridge parameter (default 0, or 0.05 with --pysindy).
        #[arg(long, default_value_t = f64::NAN, hide_default_value = true)]
        alpha: f64,
        /// STLSQ iterations.
        #[arg(long, default_value_t = 20)]
        max_iter: usize,
        /// PySINDy 2.1 STLSQ semantics: no scaling (unless --scaling l2), alpha 0.05.
        #[arg(long)]
        pysindy: bool,
        /// Rows per block, the unit of CV folds and bootstrap samples (default rows/100).
        #[arg(long)]
        block_rows: Option<usize>,
        /// Bagging ensemble of this many models (inclusion probabilities, quantiles).
        #[arg(long, default_value_t = 0)]
        ensemble: usize,
        /// Seed of the bagging.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Final refit on the selected terms: cholesky (from the statistics) or qr (a second pass
        /// over the rows; accurate when selected terms are nearly collinear).
        #[arg(long, default_value = "cholesky")]
        refit: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
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
        Command::Fit {
            library,
            target,
            names,
            target_names,
            optimizer,
            select,
            thresholds,
            folds,
            scaling,
            alpha,
            max_iter,
            pysindy,
            block_rows,
            ensemble,
            seed,
            refit,
            json,
        } => fit::fit(fit::FitArgs {
            library,
            target,
            names,
            target_names,
            optimizer,
            select,
            thresholds,
            folds,
            scaling,
            alpha,
            max_iter,
            pysindy,
            block_rows,
            ensemble,
            seed,
            refit,
            json,
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

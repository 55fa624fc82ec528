//! `medida closure data`, `discover`, `evaluate`, `score`, `calibrate`, `train-rl` and `list`.

use crate::progress::Reporter;
use medida_discovery::closure::BASELINES;
use medida_workflow::calibrate::{ClosureCalibrateArgs, closure_calibrate};
use medida_workflow::closure::{
    ClosureDataArgs, ClosureDiscoverArgs, closure_data, closure_discover,
};
use medida_workflow::evaluate::{ClosureEvaluateArgs, closure_evaluate};
use medida_workflow::score::{ClosureScoreArgs, closure_score};
use medida_workflow::train_rl::{ClosureTrainRlArgs, closure_train_rl};

/// Closures for coarse models: datasets of coarse-grained runs and subgrid forcing, and their
/// discovery as equations.
#[derive(clap::Subcommand)]
pub enum Closure {
    /// High-resolution runs coarse-grained into a dataset of states and subgrid forcing.
    Data {
        #[command(flatten)]
        args: ClosureDataArgs,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Discover a closure from a dataset: per-layer sparse regression, scored on held-out runs.
    Discover {
        #[command(flatten)]
        args: Box<ClosureDiscoverArgs>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Test closures online: coarse runs with and without each, Ross et al.'s 18 similarity
    /// scores against the dataset's high-resolution runs.
    Evaluate {
        #[command(flatten)]
        args: Box<ClosureEvaluateArgs>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Ross et al.'s 18 similarity scores of existing run files: sets of runs against a
    /// target set (a score of 1) and a baseline set (0).
    Score {
        #[command(flatten)]
        args: ClosureScoreArgs,
        /// Print the report as JSON (with the distances behind each score).
        #[arg(long)]
        json: bool,
    },
    /// Calibrate a built-in closure's constants so the coarse model's time-mean enstrophy
    /// spectrum matches the dataset's (ensemble Kalman inversion, or --sweep of one constant).
    Calibrate {
        #[command(flatten)]
        args: Box<ClosureCalibrateArgs>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Learn an eddy-viscosity coefficient field by multi-agent reinforcement learning from the
    /// enstrophy spectrum alone (agents on blocks of each layer, one shared policy, PPO), then
    /// assess the frozen policy on held-out starts against constant closures.
    TrainRl {
        #[command(flatten)]
        args: Box<ClosureTrainRlArgs>,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// The built-in closures, their constants and what they are.
    List,
}

pub fn run(c: Closure) -> anyhow::Result<()> {
    match c {
        Closure::Data { mut args, quiet } => {
            // Under mpirun the ranks share the runs; rank 0 alone reports.
            let world = crate::ranks::world()?;
            args.ranks = world.ranks.clone();
            let root = world.is_root();
            let progress = &mut Reporter::new(quiet || !root);
            let m = world.or_abort(closure_data(&args, progress).map_err(Into::into))?;
            world.note_exchanges(quiet);
            if !quiet && root {
                eprintln!(
                    "closure data: {} runs of {} at {} -> {} (operator {}) in {}",
                    m.runs,
                    m.config,
                    m.hr,
                    m.lr,
                    m.operator,
                    args.out.display()
                );
            }
            Ok(())
        }
        Closure::Discover { args, json } => {
            let report = closure_discover(&args)?;
            if json {
                return crate::print(&format!("{}\n", serde_json::to_string_pretty(&report)?));
            }
            crate::print(&report.summary())?;
            for w in report.layers.iter().flat_map(|l| &l.fit.warnings) {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        Closure::Evaluate { args, json, quiet } => {
            let report = closure_evaluate(&args, &mut Reporter::new(quiet))?;
            if json {
                return crate::print(&format!("{}\n", serde_json::to_string_pretty(&report)?));
            }
            crate::print(&format!("{}\n", report.table()))
        }
        Closure::Score { args, json } => {
            let report = closure_score(&args)?;
            if json {
                return crate::print(&format!("{}\n", serde_json::to_string_pretty(&report)?));
            }
            crate::print(&report.table())
        }
        Closure::Calibrate {
            mut args,
            json,
            quiet,
        } => {
            // Under mpirun the ranks share the members' runs; rank 0 alone writes and prints.
            let world = crate::ranks::world()?;
            args.ranks = world.ranks.clone();
            let progress = &mut Reporter::new(quiet || !world.is_root());
            let report = world.or_abort(closure_calibrate(&args, progress).map_err(Into::into))?;
            world.note_exchanges(quiet);
            if !world.is_root() {
                return Ok(());
            }
            if json {
                return crate::print(&format!("{}\n", serde_json::to_string_pretty(&report)?));
            }
            crate::print(&report.summary())
        }
        Closure::TrainRl { args, quiet } => {
            let f = closure_train_rl(&args, &mut Reporter::new(quiet))?;
            let mut out = format!(
                "policy of {} agents ({} field) trained for {} episodes -> {}\nheld-out assessment:\n",
                f.agents.count(),
                f.agents.closure.name(),
                f.settings.episodes,
                args.out.display()
            );
            for x in &f.assessment {
                out.push_str(&format!(
                    "{:<32} stable {}/{}  log-spectrum RMSE {:.4}  weighted misfit {:.3}  PDF-tail distance {:.3}  W1 {:.4}\n",
                    x.name, x.stable.0, x.stable.1, x.log_spectrum_rmse, x.weighted_misfit, x.tail_distance, x.wasserstein
                ));
                if let Some(c) = &x.coefficients {
                    out.push_str(&format!(
                        "{:<32} its coefficient: median {:.3e}, 90th/10th percentile across blocks {:.2}x, blocks' median over time {:.3e}..{:.3e}\n",
                        "", c.median, c.spatial_ratio, c.median_over_time[0], c.median_over_time[2]
                    ));
                }
            }
            crate::print(&out)
        }
        Closure::List => {
            let mut out = String::new();
            for b in BASELINES {
                let constants: Vec<String> = b
                    .constants
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let spec = if constants.is_empty() {
                    b.name.to_string()
                } else {
                    format!("{}:{}", b.name, constants.join(","))
                };
                out.push_str(&format!("{spec:<44} {}\n", b.about));
            }
            out.push_str(
                "FILE.json                                    a `medida closure discover --out FILE.json` result, or a `medida closure train-rl` policy\n",
            );
            crate::print(&out)
        }
    }
}

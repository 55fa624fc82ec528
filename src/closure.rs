//! `medida closure data` and `medida closure discover`.

use crate::progress::Reporter;
use medida_workflow::closure::{
    ClosureDataArgs, ClosureDiscoverArgs, closure_data, closure_discover,
};

/// Closures for coarse models: datasets of coarse-grained runs and subgrid forcing, and their
/// discovery as equations.
#[derive(clap::Subcommand)]
pub enum Closure {
    /// High-resolution runs coarse-grained into a dataset of states and subgrid forcing.
    Data {
        #[command(flatten)]
        args: ClosureDataArgs,
        /// No progress output.
        #[arg(long)]
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
}

pub fn run(c: Closure) -> anyhow::Result<()> {
    match c {
        Closure::Data { args, quiet } => {
            let m = closure_data(&args, &mut Reporter::new(quiet))?;
            if !quiet {
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
    }
}

//! `medida simulate`.

use crate::progress::Reporter;
use medida_workflow::simulate::{SimulateArgs, simulate};
use std::path::PathBuf;

/// Run the model and write snapshots and diagnostics to HDF5 (xarray-readable).
#[derive(clap::Args)]
pub struct Simulate {
    #[command(flatten)]
    pub run: SimulateArgs,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the figures (fields, spectrum, diagnostics) of the finished run as PNG into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

pub fn run(a: Simulate) -> anyhow::Result<()> {
    simulate(&a.run, &mut Reporter::new(a.quiet))?;
    crate::plot::figures(&a.run.out, a.plots.as_deref(), a.quiet)
}

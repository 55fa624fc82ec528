//! `medida increments`.

use crate::progress::Reporter;
use medida_workflow::increments::{IncrementsArgs, increments};

/// Analysis increments of an imperfect model against a truth run.
#[derive(clap::Args)]
pub struct Increments {
    #[command(flatten)]
    pub args: IncrementsArgs,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: Increments) -> anyhow::Result<()> {
    Ok(increments(&a.args, &mut Reporter::new(a.quiet))?)
}

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

pub fn run(mut a: Increments) -> anyhow::Result<()> {
    // Under mpirun the ranks share an ensemble filter's members; rank 0 alone writes and reports.
    let world = crate::ranks::world()?;
    a.args.ranks = world.ranks.clone();
    let progress = &mut Reporter::new(a.quiet || !world.is_root());
    world.or_abort(increments(&a.args, progress).map_err(Into::into))?;
    world.note_exchanges(a.quiet);
    Ok(())
}

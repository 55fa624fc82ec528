//! `medida fit`.

use medida_workflow::fit::{FitArgs, fit};

/// Sparse regression on your own data: which library terms explain the targets.
#[derive(clap::Args)]
pub struct Fit {
    #[command(flatten)]
    pub args: FitArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(mut a: Fit) -> anyhow::Result<()> {
    // Under mpirun every rank fits; rank 0 alone prints.
    let world = crate::ranks::world()?;
    a.args.regression.ranks = world.ranks.clone();
    let out = world.or_abort(fit(&a.args).map_err(Into::into))?;
    world.note_exchanges(false);
    if !world.is_root() {
        return Ok(());
    }
    if a.json {
        return crate::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&out.regression)?
        ));
    }
    crate::print(&out.regression.summary())?;
    for w in &out.regression.fit.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

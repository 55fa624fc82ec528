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

pub fn run(a: Fit) -> anyhow::Result<()> {
    let out = fit(&a.args)?;
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

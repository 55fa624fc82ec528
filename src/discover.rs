//! `medida discover`: the report as a table (or JSON), warnings on stderr.

use crate::progress::Reporter;
use medida_discovery::model_error::DiscoveryReport;
use medida_workflow::discover::{DiscoverArgs, discover};
use std::path::PathBuf;

/// Discover the model error from increments, as an equation per layer.
#[derive(clap::Args)]
pub struct Discover {
    #[command(flatten)]
    pub args: DiscoverArgs,
    /// Print the result as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// No notes or progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the figures (coefficients, sweep, increments) as PNG into this directory (needs --out).
    #[arg(long, value_name = "DIR", requires = "out")]
    pub plots: Option<PathBuf>,
}

pub fn run(mut a: Discover) -> anyhow::Result<()> {
    // Under mpirun every rank fits; rank 0 alone runs the corrected forecasts, writes and prints.
    let world = crate::ranks::world()?;
    a.args.regression.ranks = world.ranks.clone();
    let root = world.is_root();
    a.args.correct &= root;
    a.args.out = a.args.out.filter(|_| root);
    let progress = &mut Reporter::new(a.quiet || !root);
    let report = world.or_abort(discover(&a.args, progress).map_err(Into::into))?;
    world.note_exchanges(a.quiet);
    if !root {
        return Ok(());
    }
    if let Some(path) = &a.args.out {
        crate::plot::figures(&path.with_extension("json"), a.plots.as_deref(), true)?;
        crate::plot::figures(&a.args.increments, a.plots.as_deref(), true)?;
    }
    if a.json {
        crate::print(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
        return Ok(());
    }
    show(&report, a.quiet)?;
    if let (Some(path), false) = (&a.args.out, a.quiet) {
        let h5 = path.with_extension("h5");
        eprintln!("results written to {} and {}", path.display(), h5.display());
    }
    Ok(())
}

/// Prints the report's table on stdout and, unless `quiet`, its warnings on stderr.
pub fn show(report: &DiscoveryReport, quiet: bool) -> anyhow::Result<()> {
    crate::print(&report.summary())?;
    if !quiet {
        for w in report.warnings() {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}

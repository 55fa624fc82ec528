//! `medida demo`.

use crate::progress::Reporter;
use medida_workflow::demo::{DemoArgs, demo};
use std::path::PathBuf;

/// Run spin-up, truth, increments and discovery for a model-error case, and print the table.
#[derive(clap::Args)]
pub struct Demo {
    #[command(flatten)]
    pub args: DemoArgs,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write every figure (truth fields, spectrum, diagnostics, increments, coefficients, sweep)
    /// as PNG into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

pub fn run(a: Demo) -> anyhow::Result<()> {
    let mut printed = Ok(());
    let mut tables = 0;
    let files = demo(
        &a.args,
        &mut Reporter::new(a.quiet),
        &mut |report, heading| {
            if printed.is_ok() && !heading.is_empty() {
                let gap = if tables > 0 { "\n" } else { "" };
                printed = crate::print(&format!("{gap}{heading}\n\n"));
            }
            tables += 1;
            if printed.is_ok() {
                printed = crate::discover::show(report, a.quiet);
            }
        },
    )?;
    printed?;
    for file in [&files.truth, &files.increments, &files.discovery] {
        crate::plot::figures(file, a.plots.as_deref(), a.quiet)?;
    }
    Ok(())
}

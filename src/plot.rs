//! `medida plot`, and the figures other subcommands draw with `--plots`.

use std::path::{Path, PathBuf};

/// Draw the figures of a run, increments or discovery results as PNG.
#[derive(clap::Args)]
pub struct Plot {
    /// A run or increments file (.h5), or discovery results (.json).
    pub file: PathBuf,
    /// Directory for the PNG files.
    #[arg(long, default_value = "plots")]
    pub out: PathBuf,
    /// Snapshot index for field plots (negative counts from the end).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub time: i64,
}

pub fn run(a: Plot) -> anyhow::Result<()> {
    for path in medida_plot::figures(&a.file, &a.out, a.time)? {
        crate::print(&format!("{}\n", path.display()))?;
    }
    Ok(())
}

/// The figures of `file` into `dir`, when a directory is given; their names on stderr.
pub fn figures(file: &Path, dir: Option<&Path>, quiet: bool) -> anyhow::Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    for path in medida_plot::figures(file, dir, -1)? {
        if !quiet {
            eprintln!("figure {}", path.display());
        }
    }
    Ok(())
}

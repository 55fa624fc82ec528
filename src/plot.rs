//! `medida plot`, and the figures other subcommands draw with `--plots`.

use std::path::{Path, PathBuf};

/// Draw the figures of a run, increments or discovery results as PNG (or SVG).
#[derive(clap::Args)]
pub struct Plot {
    /// A run or increments file (.h5), or discovery results (.json).
    pub file: PathBuf,
    /// Directory for the figures.
    #[arg(long, default_value = "plots")]
    pub out: PathBuf,
    /// File format: png (bitmap) or svg (vector graphics, text kept as text, for papers).
    #[arg(long, default_value = "png", value_parser = ["png", "svg"])]
    pub format: String,
    /// Snapshot index for field plots (negative counts from the end).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub time: i64,
}

pub fn run(a: Plot) -> anyhow::Result<()> {
    let format = match a.format.as_str() {
        "svg" => medida_plot::Format::Svg,
        _ => medida_plot::Format::Png,
    };
    for path in medida_plot::figures(&a.file, &a.out, a.time, format)? {
        crate::print(&format!("{}\n", path.display()))?;
    }
    Ok(())
}

/// The figures of `file` into `dir`, when a directory is given; their names on stderr.
pub fn figures(file: &Path, dir: Option<&Path>, quiet: bool) -> anyhow::Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    for path in medida_plot::figures(file, dir, -1, medida_plot::Format::Png)? {
        if !quiet {
            eprintln!("figure {}", path.display());
        }
    }
    Ok(())
}

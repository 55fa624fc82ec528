//! `medida fit`: sparse regression on the user's own data. The library X (n x p) and targets Y
//! (n x m, or n) come from float64 `.npy` files or HDF5 datasets (`file.h5:name`) and are read in
//! row chunks into the sufficient statistics: memory holds one chunk, whatever the file size.

use crate::error::{Error, input, input_err};
use crate::regression::RegressionArgs;
use medida_data::{Rows, open_rows};
use medida_discovery::Library;
use medida_discovery::regression::{Regression, RowSink};
use std::path::PathBuf;

/// Rows read per chunk (rounded to whole blocks).
const CHUNK_ROWS: usize = 16_384;

/// What `medida fit` was asked to do.
#[derive(clap::Args)]
pub struct FitArgs {
    /// Library matrix (rows x terms): a float64 .npy file, or FILE.h5:DATASET.
    #[arg(long)]
    pub library: String,
    /// Targets (rows, or rows x targets): .npy or FILE.h5:DATASET.
    #[arg(long)]
    pub target: String,
    /// Term names, one per line (default x0, x1, ...).
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// Target names, comma-separated (default y or y0, y1, ...).
    #[arg(long)]
    pub target_names: Option<String>,
    #[command(flatten)]
    pub regression: RegressionArgs,
}

/// Opens a row source, as an input error naming the flag when it cannot be read.
fn open(spec: &str, flag: &str) -> Result<Box<dyn Rows>, Error> {
    match open_rows(spec) {
        Ok(r) => Ok(r),
        Err(e) => input_err!("{flag}: {e} (give a float64 .npy file or FILE.h5:DATASET)"),
    }
}

/// What `medida fit` found, with the names it fitted under.
pub struct FitOutput {
    /// The regression.
    pub regression: Regression,
    /// Column names.
    pub library: Library,
    /// Target names.
    pub targets: Vec<String>,
}

/// Runs the fit `a` describes, reading the rows in chunks.
pub fn fit(a: &FitArgs) -> Result<FitOutput, Error> {
    let x = open(&a.library, "--library")?;
    let y = open(&a.target, "--target")?;
    let ((n, p), (ny, m)) = (x.shape(), y.shape());
    if n != ny {
        return input_err!("--library has {n} rows but --target has {ny}");
    }
    if n == 0 || p == 0 {
        return input_err!("--library has shape ({n}, {p}): need rows and columns");
    }
    let library = match &a.names {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(input(format!("--names {}", path.display())))?;
            let names: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if names.len() != p {
                return input_err!(
                    "--names {} has {} names, the library has {p} columns",
                    path.display(),
                    names.len()
                );
            }
            Library::new(names)
        }
        None => Library::numbered(p),
    };
    let target_names: Vec<String> = match &a.target_names {
        Some(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
        None if m == 1 => vec!["y".into()],
        None => (0..m).map(|i| format!("y{i}")).collect(),
    };
    if target_names.len() != m {
        return input_err!(
            "--target-names gives {} names for {m} targets",
            target_names.len()
        );
    }
    let targets: Vec<&str> = target_names.iter().map(String::as_str).collect();
    let plan = a.regression.plan()?;
    // Whole blocks per chunk, so rows go from the read buffer to the statistics without a copy.
    let block = plan.block_rows_for(n);
    let chunk = block * (CHUNK_ROWS / block).max(1);
    let pass = |sink: &mut RowSink<Error>| {
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            sink(x.read(start..end)?.view(), y.read(start..end)?.view())?;
        }
        Ok(())
    };
    let regression = plan.run(n, p, m, &library, &targets, pass)?;
    Ok(FitOutput {
        regression,
        library,
        targets: target_names,
    })
}

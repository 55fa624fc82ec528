//! `medida fit`: sparse regression on the user's own data. The library X (n x p) and targets Y
//! (n x m, or n) come from float64 `.npy` files or HDF5 datasets (`file.h5:name`) and are read in
//! row chunks into the sufficient statistics: memory holds one chunk, whatever the file size.

use crate::error::{Error, input, input_err};
use crate::regression::RegressionArgs;
use medida_data::{Rows, open_rows};
use medida_discovery::Library;
use medida_discovery::regression::{Plan, Regression, RowSink};
use ndarray::{ArrayView2, CowArray, Ix2, s};
use std::ops::Range;
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
    let ((n, p), (_, m)) = (x.shape(), y.shape());
    check_shapes(x.shape(), y.shape(), "--library", "--target")?;
    let names_flag = a
        .names
        .as_ref()
        .map(|path| format!("--names {}", path.display()));
    let names = match (&a.names, &names_flag) {
        (Some(path), Some(flag)) => Some(
            std::fs::read_to_string(path)
                .map_err(input(flag))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
        ),
        _ => None,
    };
    let target_names = a
        .target_names
        .as_ref()
        .map(|s| s.split(',').map(|t| t.trim().to_string()).collect());
    let flags = (names_flag.as_deref().unwrap_or("--names"), "--target-names");
    let (library, target_names) = named(names, p, target_names, m, flags)?;
    let plan = a.regression.plan()?;
    let regression = run_chunked(&plan, n, p, &library, &target_names, |rows| {
        Ok((x.read(rows.clone())?.into(), y.read(rows)?.into()))
    })?;
    Ok(FitOutput {
        regression,
        library,
        targets: target_names,
    })
}

/// The fit of `regression` on in-memory rows: library `x` (n x p, terms x0, x1, ...), targets
/// `y` (n x m: y, or y0, y1, ...). The same chunks as [`fit`] reads from files, so the same
/// numbers to the bit (the Python package's path).
pub fn fit_arrays(
    regression: &RegressionArgs,
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
) -> Result<FitOutput, Error> {
    let ((n, p), (_, m)) = (x.dim(), y.dim());
    check_shapes(x.dim(), y.dim(), "x", "y")?;
    let (library, target_names) = named(None, p, None, m, ("", ""))?;
    let plan = regression.plan()?;
    let regression = run_chunked(&plan, n, p, &library, &target_names, |rows| {
        Ok((
            x.slice(s![rows.clone(), ..]).into(),
            y.slice(s![rows, ..]).into(),
        ))
    })?;
    Ok(FitOutput {
        regression,
        library,
        targets: target_names,
    })
}

/// Checks that the library `x` (named `xs`) has rows and columns, and as many rows as `y`.
fn check_shapes(
    (n, p): (usize, usize),
    (ny, _): (usize, usize),
    xs: &str,
    ys: &str,
) -> Result<(), Error> {
    if n != ny {
        return input_err!("{xs} has {n} rows but {ys} has {ny}");
    }
    if n == 0 || p == 0 {
        return input_err!("{xs} has shape ({n}, {p}): need rows and columns");
    }
    Ok(())
}

/// The library (given names or x0, x1, ...) and target names (given, or y for one target, y0,
/// y1, ... for more), checked against `p` and `m`; `flags` name where the names came from.
fn named(
    names: Option<Vec<String>>,
    p: usize,
    target_names: Option<Vec<String>>,
    m: usize,
    (names_flag, targets_flag): (&str, &str),
) -> Result<(Library, Vec<String>), Error> {
    let library = match names {
        Some(names) if names.len() != p => {
            return input_err!(
                "{names_flag} has {} names, the library has {p} columns",
                names.len()
            );
        }
        Some(names) => Library::new(names),
        None => Library::numbered(p),
    };
    let target_names = match target_names {
        Some(t) if t.len() != m => {
            return input_err!("{targets_flag} gives {} names for {m} targets", t.len());
        }
        Some(t) => t,
        None if m == 1 => vec!["y".into()],
        None => (0..m).map(|i| format!("y{i}")).collect(),
    };
    Ok((library, target_names))
}

/// Runs `plan` over `n` rows that `rows` gives (library, targets) in chunks of whole blocks.
fn run_chunked<'a>(
    plan: &Plan,
    n: usize,
    p: usize,
    library: &Library,
    target_names: &[String],
    rows: impl Fn(Range<usize>) -> Result<(CowArray<'a, f64, Ix2>, CowArray<'a, f64, Ix2>), Error>,
) -> Result<Regression, Error> {
    let m = target_names.len();
    let targets: Vec<&str> = target_names.iter().map(String::as_str).collect();
    // Whole blocks per chunk, so rows go from the read buffer to the statistics without a copy.
    let block = plan.block_rows_for(n);
    let chunk = block * (CHUNK_ROWS / block).max(1);
    let pass = |sink: &mut RowSink<Error>| {
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            if !sink.wants(end - start) {
                sink.skip(end - start);
                continue;
            }
            let (x, y) = rows(start..end)?;
            sink.push(x.view(), y.view())?;
        }
        Ok(())
    };
    plan.run(n, p, m, library, &targets, pass)
}

//! `medida fit`: sparse regression on the user's own data. The library X (n x p) and targets Y
//! (n x m, or n) come from float64 `.npy` files or HDF5 datasets (`file.h5:name`) and are read in
//! row chunks into the sufficient statistics: memory holds one chunk, whatever the file size.

use crate::config::{InputError, input_err};
use medida_data::{Rows, open_rows};
use medida_discovery::gram::GramBuilder;
use medida_discovery::{
    Criterion, Ensemble, EnsembleSummary, Library, Optimizer, QrRefit, Rvm, Scaling, Selection,
    SparseFit, Stlsq, Sweep,
};
use ndarray::ArrayView2;
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
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How to regress: the flags `medida fit` and `medida discover` share.
#[derive(clap::Args, Clone, Debug)]
pub struct RegressionArgs {
    /// stlsq or rvm.
    #[arg(long, default_value = "stlsq")]
    pub optimizer: String,
    /// Model selection: bic, aic, cv (k-fold over row blocks) or threshold=NUMBER.
    #[arg(long, default_value = "bic")]
    pub select: String,
    /// Thresholds to sweep, comma-separated (default: a log grid for the optimizer).
    #[arg(long, value_delimiter = ',')]
    pub thresholds: Option<Vec<f64>>,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Column scaling: rms (columns and targets by RMS; default), l2 (PySINDy normalize_columns) or none.
    #[arg(long, default_value = "rms")]
    pub scaling: String,
    /// STLSQ ridge parameter (default 0, or 0.05 with --pysindy).
    #[arg(long, default_value_t = f64::NAN, hide_default_value = true)]
    pub alpha: f64,
    /// STLSQ per-term threshold factors, comma-separated, one per library term: term j is kept
    /// when |w_j| >= threshold * factor_j (e.g. 0 to always keep a term, 10 to demand more).
    #[arg(long, value_delimiter = ',')]
    pub term_factors: Option<Vec<f64>>,
    /// STLSQ iterations.
    #[arg(long, default_value_t = 20)]
    pub max_iter: usize,
    /// PySINDy 2.1 STLSQ semantics: no scaling (unless --scaling l2), alpha 0.05.
    #[arg(long)]
    pub pysindy: bool,
    /// Rows per block, the unit of CV folds and bootstrap samples (default rows/100).
    #[arg(long)]
    pub block_rows: Option<usize>,
    /// Bagging ensemble of this many models (inclusion probabilities, quantiles).
    #[arg(long, default_value_t = 0)]
    pub ensemble: usize,
    /// Seed of the bagging.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Final refit on the selected terms: cholesky (from the statistics) or qr (a second pass
    /// over the rows; accurate when selected terms are nearly collinear).
    #[arg(long, default_value = "cholesky")]
    pub refit: String,
}

/// Opens a row source, as an input error naming the flag when it cannot be read.
fn open(spec: &str, flag: &str) -> anyhow::Result<Box<dyn Rows>> {
    match open_rows(spec) {
        Ok(r) => Ok(r),
        Err(e) => input_err!("{flag}: {e} (give a float64 .npy file or FILE.h5:DATASET)"),
    }
}

pub fn fit(a: FitArgs) -> anyhow::Result<()> {
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
                .map_err(|e| InputError(format!("--names {}: {e}", path.display())))?;
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
    let plan = Plan::new(&a.regression, n)?;
    // Whole blocks per chunk, so rows go from the read buffer to the statistics without a copy.
    let chunk = plan.block_rows * (CHUNK_ROWS / plan.block_rows).max(1);
    let pass = |sink: &mut RowSink| {
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            sink(x.read(start..end)?.view(), y.read(start..end)?.view())?;
        }
        Ok(())
    };
    let out = plan.run(p, m, &library, &targets, pass)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out.to_json()?)?);
        return Ok(());
    }
    println!("{}  ({n} rows, {p} terms)\n", out.fit.method);
    print!("{}", out.fit.equations(4));
    println!();
    for (i, t) in targets.iter().enumerate() {
        println!(
            "{t}: R^2 {:.6}, residual sum of squares {:.4e}, condition number {:.3e}, threshold {:.3e}",
            out.fit.r2[i], out.fit.rss[i], out.fit.condition[i], out.fit.threshold[i]
        );
    }
    out.print_ensemble(&library, &targets);
    for w in &out.fit.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

/// Receives rows of the library and of the targets.
pub type RowSink<'a> = dyn FnMut(ArrayView2<f64>, ArrayView2<f64>) -> anyhow::Result<()> + 'a;

/// A resolved regression: optimizer, how the threshold is chosen, blocks, ensemble, refit.
pub struct Plan {
    optimizer: Optimizer,
    /// `None`: fit at the optimizer's own (given) threshold.
    criterion: Option<Criterion>,
    thresholds: Option<Vec<f64>>,
    /// Rows per block (CV folds and bootstrap samples are made of blocks).
    pub block_rows: usize,
    ensemble: usize,
    seed: u64,
    qr: bool,
}

/// What a regression found.
pub struct Regression {
    pub fit: SparseFit,
    pub selection: Option<Selection>,
    pub ensemble: Option<EnsembleSummary>,
    /// Number of row blocks and rows per block.
    pub blocks: (usize, usize),
    /// Sum of squares of each target.
    pub yty: Vec<f64>,
}

impl Plan {
    /// Checks the flags for a problem of `n` rows.
    pub fn new(r: &RegressionArgs, n: usize) -> anyhow::Result<Self> {
        let optimizer = optimizer(r)?;
        let (optimizer, criterion) = match r.select.as_str() {
            "aic" => (optimizer, Some(Criterion::Aic)),
            "bic" => (optimizer, Some(Criterion::Bic)),
            "cv" => (optimizer, Some(Criterion::Cv { folds: r.folds })),
            s => match s.strip_prefix("threshold=").map(str::parse::<f64>) {
                Some(Ok(t)) if t.is_finite() && t >= 0.0 => (optimizer_at(&optimizer, t), None),
                _ => {
                    return input_err!(
                        "--select {s:?}: allowed aic, bic, cv or threshold=NUMBER (>= 0)"
                    );
                }
            },
        };
        let qr = match r.refit.as_str() {
            "cholesky" => false,
            "qr" => true,
            s => return input_err!("--refit {s:?}: allowed cholesky or qr"),
        };
        Ok(Self {
            optimizer,
            criterion,
            thresholds: r.thresholds.clone(),
            block_rows: r.block_rows.unwrap_or(n.div_ceil(100)).max(1),
            ensemble: r.ensemble,
            seed: r.seed,
            qr,
        })
    }

    /// Runs the regression of `m` targets on `p` library columns. `pass` feeds every row (library,
    /// targets) to its sink, in chunks of whole blocks; it is called once, or twice for a QR refit.
    pub fn run(
        &self,
        p: usize,
        m: usize,
        library: &Library,
        targets: &[&str],
        pass: impl Fn(&mut RowSink) -> anyhow::Result<()>,
    ) -> anyhow::Result<Regression> {
        let mut builder = GramBuilder::new(p, m).block_rows(self.block_rows);
        if matches!(self.criterion, Some(Criterion::Cv { .. })) || self.ensemble > 0 {
            builder = builder.keep_blocks();
        }
        pass(&mut |x, y| Ok(builder.push(x, y)?))?;
        let (gram, blocks) = builder.finish_with_blocks();
        if !gram
            .xtx
            .iter()
            .chain(gram.xty.iter())
            .chain(gram.yty.iter())
            .all(|v| v.is_finite())
        {
            return input_err!(
                "the data contain NaN or Inf (or values so large their squares overflow): remove or fill them first"
            );
        }
        let bad =
            |e: medida_discovery::DiscoveryError| anyhow::Error::new(InputError(e.to_string()));
        let (mut fit, selection) = match self.criterion {
            Some(c) => {
                let sweep = match &self.thresholds {
                    Some(t) => Sweep {
                        optimizer: self.optimizer.clone(),
                        thresholds: t.clone(),
                    },
                    None => Sweep::new(self.optimizer.clone()),
                };
                let sel = sweep
                    .run(&gram, &blocks, library, targets, c)
                    .map_err(bad)?;
                (sel.fit.clone(), Some(sel))
            }
            None => (
                self.optimizer.fit(&gram, library, targets).map_err(bad)?,
                None,
            ),
        };
        if self.qr {
            let mut refit = QrRefit::new(&fit);
            pass(&mut |x, y| Ok(refit.push(x, y)?))?;
            refit.finish(&mut fit).map_err(bad)?;
        }
        let ensemble = if self.ensemble > 0 {
            Some(
                Ensemble {
                    n_models: self.ensemble,
                    seed: self.seed,
                }
                .run(&self.optimizer, &fit.threshold, &blocks, library, targets)
                .map_err(bad)?,
            )
        } else {
            None
        };
        let n_blocks = gram.n.div_ceil(self.block_rows);
        Ok(Regression {
            fit,
            selection,
            ensemble,
            blocks: (n_blocks, self.block_rows),
            yty: gram.yty.to_vec(),
        })
    }
}

impl Regression {
    /// The fit, the path and the ensemble as JSON.
    pub fn to_json(&self) -> anyhow::Result<serde_json::Value> {
        let mut out = serde_json::json!({ "fit": self.fit });
        if let Some(sel) = &self.selection {
            out["path"] = serde_json::to_value(&sel.path)?;
            out["chosen"] = serde_json::to_value(&sel.chosen)?;
        }
        if let Some(e) = &self.ensemble {
            out["ensemble"] = serde_json::to_value(e)?;
        }
        Ok(out)
    }

    /// Prints the ensemble's inclusion probabilities and quantiles, if there is one.
    pub fn print_ensemble(&self, library: &Library, targets: &[&str]) {
        let Some(e) = &self.ensemble else { return };
        let (blocks, rows) = self.blocks;
        println!(
            "\nbagging over {blocks} blocks of {rows} rows, {} models: inclusion probability and 5-50-95% quantiles",
            e.models.shape()[0]
        );
        for (i, t) in targets.iter().enumerate() {
            for (j, name) in library.names().iter().enumerate() {
                if e.inclusion[[i, j]] > 0.0 {
                    let q = |k: usize| e.quantiles[[k, i, j]];
                    println!(
                        "  {t}: {name:>16}  {:>5.2}  [{:.4e}, {:.4e}, {:.4e}]",
                        e.inclusion[[i, j]],
                        q(0),
                        q(1),
                        q(2)
                    );
                }
            }
        }
    }
}

fn optimizer(a: &RegressionArgs) -> anyhow::Result<Optimizer> {
    let scaling = match (a.scaling.as_str(), a.pysindy) {
        ("rms", false) => Scaling::Rms,
        ("rms", true) | ("none", _) => Scaling::None,
        ("l2", _) => Scaling::L2Norm,
        (s, _) => return input_err!("--scaling {s:?}: allowed rms, l2 or none"),
    };
    match a.optimizer.as_str() {
        "stlsq" => {
            let base = if a.pysindy {
                Stlsq::pysindy(0.1, 0.05, a.max_iter, false)
            } else {
                Stlsq::default()
            };
            let alpha = if a.alpha.is_nan() {
                base.alpha
            } else {
                a.alpha
            };
            Ok(Optimizer::Stlsq(Stlsq {
                scaling,
                alpha,
                max_iter: a.max_iter,
                term_factor: a.term_factors.clone(),
                ..base
            }))
        }
        "rvm" if a.term_factors.is_some() => {
            input_err!("--term-factors applies to --optimizer stlsq only")
        }
        "rvm" => Ok(Optimizer::Rvm(Rvm {
            scaling,
            ..Rvm::default()
        })),
        o => input_err!("--optimizer {o:?}: allowed stlsq or rvm"),
    }
}

fn optimizer_at(o: &Optimizer, t: f64) -> Optimizer {
    match o {
        Optimizer::Stlsq(s) => Optimizer::Stlsq(s.with_threshold(t)),
        Optimizer::Rvm(r) => Optimizer::Rvm(r.with_threshold(t)),
    }
}

impl Default for RegressionArgs {
    /// The command line's defaults.
    fn default() -> Self {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            regression: RegressionArgs,
        }
        <Flags as clap::Parser>::parse_from(["medida"]).regression
    }
}

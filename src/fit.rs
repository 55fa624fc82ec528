//! `medida fit`: sparse regression on the user's own data. The library X (n x p) and targets Y
//! (n x m, or n) come from float64 `.npy` files or HDF5 datasets (`file.h5:name`) and are read in
//! row chunks into the sufficient statistics: memory holds one chunk, whatever the file size.

use crate::config::{InputError, input_err};
use medida_data::{Rows, open_rows};
use medida_discovery::Scaling;
use medida_discovery::gram::GramBuilder;
use medida_discovery::{Criterion, Ensemble, Library, Optimizer, QrRefit, Rvm, Stlsq, Sweep};
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
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
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
    let optimizer = optimizer(&a)?;
    let criterion = match a.select.as_str() {
        "aic" => Some(Criterion::Aic),
        "bic" => Some(Criterion::Bic),
        "cv" => Some(Criterion::Cv { folds: a.folds }),
        s => match s.strip_prefix("threshold=").map(str::parse::<f64>) {
            Some(Ok(t)) => {
                return run(
                    &a,
                    x.as_ref(),
                    y.as_ref(),
                    n,
                    p,
                    m,
                    &library,
                    &targets,
                    optimizer_at(&optimizer, t),
                    None,
                );
            }
            _ => return input_err!("--select {s:?}: allowed aic, bic, cv or threshold=NUMBER"),
        },
    };
    run(
        &a,
        x.as_ref(),
        y.as_ref(),
        n,
        p,
        m,
        &library,
        &targets,
        optimizer,
        criterion,
    )
}

fn optimizer(a: &FitArgs) -> anyhow::Result<Optimizer> {
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

#[allow(clippy::too_many_arguments)]
fn run(
    a: &FitArgs,
    x: &dyn Rows,
    y: &dyn Rows,
    n: usize,
    p: usize,
    m: usize,
    library: &Library,
    targets: &[&str],
    optimizer: Optimizer,
    criterion: Option<Criterion>,
) -> anyhow::Result<()> {
    let block_rows = a.block_rows.unwrap_or(n.div_ceil(100)).max(1);
    let mut builder = GramBuilder::new(p, m).block_rows(block_rows);
    let need_blocks = matches!(criterion, Some(Criterion::Cv { .. })) || a.ensemble > 0;
    if need_blocks {
        builder = builder.keep_blocks();
    }
    // Whole blocks per chunk, so rows go from the read buffer to the statistics without a copy.
    let chunk = block_rows * (CHUNK_ROWS / block_rows).max(1);
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        builder.push(x.read(start..end)?.view(), y.read(start..end)?.view())?;
    }
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
    let bad = |e: medida_discovery::DiscoveryError| anyhow::Error::new(InputError(e.to_string()));
    let (mut fit, selection) = match criterion {
        Some(c) => {
            let sweep = match &a.thresholds {
                Some(t) => Sweep {
                    optimizer: optimizer.clone(),
                    thresholds: t.clone(),
                },
                None => Sweep::new(optimizer.clone()),
            };
            let sel = sweep
                .run(&gram, &blocks, library, targets, c)
                .map_err(bad)?;
            (sel.fit.clone(), Some(sel))
        }
        None => (optimizer.fit(&gram, library, targets).map_err(bad)?, None),
    };
    match a.refit.as_str() {
        "cholesky" => {}
        "qr" => {
            let mut refit = QrRefit::new(&fit);
            for start in (0..n).step_by(chunk) {
                let end = (start + chunk).min(n);
                refit.push(x.read(start..end)?.view(), y.read(start..end)?.view())?;
            }
            refit.finish(&mut fit).map_err(bad)?;
        }
        r => return input_err!("--refit {r:?}: allowed cholesky or qr"),
    }
    let ensemble = if a.ensemble > 0 {
        Some(
            Ensemble {
                n_models: a.ensemble,
                seed: a.seed,
            }
            .run(&optimizer, &fit.threshold, &blocks, library, targets)
            .map_err(bad)?,
        )
    } else {
        None
    };
    if a.json {
        let mut out = serde_json::json!({ "fit": fit });
        if let Some(sel) = &selection {
            out["path"] = serde_json::to_value(&sel.path)?;
            out["chosen"] = serde_json::to_value(&sel.chosen)?;
        }
        if let Some(e) = &ensemble {
            out["ensemble"] = serde_json::to_value(e)?;
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("{}  ({n} rows, {p} terms)\n", fit.method);
    print!("{}", fit.equations(4));
    println!();
    for (i, t) in targets.iter().enumerate() {
        println!(
            "{t}: R^2 {:.6}, residual sum of squares {:.4e}, condition number {:.3e}, threshold {:.3e}",
            fit.r2[i], fit.rss[i], fit.condition[i], fit.threshold[i]
        );
    }
    if let Some(e) = &ensemble {
        println!(
            "\nbagging over {} blocks of {block_rows} rows, {} models: inclusion probability and 5-50-95% quantiles",
            blocks.len(),
            a.ensemble
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
    for w in &fit.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

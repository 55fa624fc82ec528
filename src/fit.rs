//! `medida fit`: sparse regression on the user's own data. The library X (n x p) and targets Y
//! (n x m, or n) come from `.npy` files (memory-mapped) or HDF5 datasets (`file.h5:name`) and are
//! streamed in row chunks into the sufficient statistics, so they need not fit in memory.

use crate::config::{InputError, input_err};
use anyhow::Context;
use medida_data::RowReader;
use medida_discovery::gram::GramBuilder;
use medida_discovery::stlsq::Scaling;
use medida_discovery::{Criterion, Ensemble, Library, Optimizer, Rvm, Stlsq, Sweep};
use ndarray::{ArrayView2, ArrayViewD, Axis, CowArray, Ix2};
use ndarray_npy::ViewNpyExt;
use std::path::PathBuf;

/// Rows read per chunk.
const CHUNK_ROWS: usize = 65_536;

/// What `medida fit` was asked to do.
pub struct FitArgs {
    /// Library: `.npy`, or `file.h5:dataset`.
    pub library: String,
    /// Targets: `.npy`, or `file.h5:dataset`.
    pub target: String,
    /// File with one term name per line.
    pub names: Option<PathBuf>,
    /// Comma-separated target names.
    pub target_names: Option<String>,
    /// `stlsq` or `rvm`.
    pub optimizer: String,
    /// `aic`, `bic`, `cv`, or `threshold=X`.
    pub select: String,
    /// Thresholds of the sweep (default: the optimizer's grid).
    pub thresholds: Option<Vec<f64>>,
    /// Cross-validation folds.
    pub folds: usize,
    /// `rms`, `l2` or `none`.
    pub scaling: String,
    /// STLSQ ridge.
    pub alpha: f64,
    /// STLSQ iterations.
    pub max_iter: usize,
    /// PySINDy STLSQ semantics (no scaling unless `--scaling l2`, alpha 0.05 unless given).
    pub pysindy: bool,
    /// Rows per block (CV folds and bootstrap units); default n/100.
    pub block_rows: Option<usize>,
    /// Bagging models (0 = none).
    pub ensemble: usize,
    /// Bagging seed.
    pub seed: u64,
    /// Print JSON instead of text.
    pub json: bool,
}

/// Row source: a memory-mapped `.npy` or an HDF5 dataset.
enum Source {
    Npy { map: memmap2::Mmap, path: String },
    H5(RowReader),
}

impl Source {
    fn open(spec: &str, flag: &str) -> anyhow::Result<Self> {
        if let Some((file, name)) = spec
            .rsplit_once(':')
            .filter(|(f, _)| f.ends_with(".h5") || f.ends_with(".hdf5") || f.ends_with(".nc"))
        {
            return match RowReader::open(file.as_ref(), name) {
                Ok(r) => Ok(Self::H5(r)),
                Err(e) => input_err!("{flag} {spec}: {e}"),
            };
        }
        let file = match std::fs::File::open(spec) {
            Ok(f) => f,
            Err(e) => {
                return input_err!("{flag} {spec}: {e} (give a .npy file or file.h5:dataset)");
            }
        };
        // SAFETY: the file is opened read-only and only read; a concurrent writer could change what
        // is read, as with any reader.
        let map = unsafe { memmap2::Mmap::map(&file) }
            .with_context(|| format!("{flag} {spec}: memory map"))?;
        let src = Self::Npy {
            map,
            path: spec.to_string(),
        };
        if let Err(e) = src.npy_view() {
            return input_err!("{flag} {spec}: not a float64 .npy array: {e}");
        }
        Ok(src)
    }

    fn npy_view(&self) -> anyhow::Result<ArrayViewD<'_, f64>> {
        match self {
            Self::Npy { map, .. } => Ok(ArrayViewD::<f64>::view_npy(map)?),
            Self::H5(_) => unreachable!("only for .npy sources"),
        }
    }

    fn shape(&self) -> anyhow::Result<(usize, usize)> {
        match self {
            Self::H5(r) => Ok(r.shape()),
            Self::Npy { path, .. } => {
                let v = self.npy_view()?;
                match v.shape() {
                    [n] => Ok((*n, 1)),
                    [n, k] => Ok((*n, *k)),
                    s => input_err!("{path}: shape {s:?}; expected (rows,) or (rows, columns)"),
                }
            }
        }
    }

    fn rows(&self, range: std::ops::Range<usize>) -> anyhow::Result<CowArray<'_, f64, Ix2>> {
        match self {
            Self::H5(r) => Ok(CowArray::from(r.read(range)?)),
            Self::Npy { .. } => {
                let v = self.npy_view()?;
                let v: ArrayView2<f64> = if v.ndim() == 1 {
                    v.insert_axis(Axis(1)).into_dimensionality()?
                } else {
                    v.into_dimensionality()?
                };
                Ok(CowArray::from(v.slice_move(ndarray::s![range, ..])))
            }
        }
    }
}

pub fn fit(a: FitArgs) -> anyhow::Result<()> {
    let x = Source::open(&a.library, "--library")?;
    let y = Source::open(&a.target, "--target")?;
    let ((n, p), (ny, m)) = (x.shape()?, y.shape()?);
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
                    &x,
                    &y,
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
        &a, &x, &y, n, p, m, &library, &targets, optimizer, criterion,
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
                ..base
            }))
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
    x: &Source,
    y: &Source,
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
    for start in (0..n).step_by(CHUNK_ROWS) {
        let end = (start + CHUNK_ROWS).min(n);
        let (xc, yc) = (x.rows(start..end)?, y.rows(start..end)?);
        if !xc.iter().chain(yc.iter()).all(|v| v.is_finite()) {
            return input_err!("rows {start}..{end} contain NaN or Inf: remove or fill them first");
        }
        builder.push(xc.view(), yc.view())?;
    }
    let (gram, blocks) = builder.finish_with_blocks();
    let bad = |e: medida_discovery::DiscoveryError| anyhow::Error::new(InputError(e.to_string()));
    let (fit, selection) = match criterion {
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

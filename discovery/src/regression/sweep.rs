//! Threshold sweeps and automatic model selection.
//!
//! A [`Sweep`] fits a [`SparseOptimizer`] at every threshold of a grid and records the path (support,
//! residual, AIC, BIC and, with row blocks, k-fold cross-validation error per target). The chosen
//! model is picked per target by the [`Criterion`]: the smallest AIC or BIC (ties go to the
//! sparser model), or the sparsest model whose cross-validation error is within one standard
//! error of the smallest. Cross-validation folds are contiguous runs of row blocks, each block
//! with its own Gram statistics, so folds cost no extra pass over the data.

use crate::error::{DiscoveryError, invalid};
use crate::library::Library;
use crate::regression::fit::{SparseFit, rss};
use crate::regression::gram::Gram;
use crate::regression::optimizer::SparseOptimizer;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the model is chosen from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// Akaike: `n ln(rss/n) + 2k`.
    Aic,
    /// Bayesian (Schwarz): `n ln(rss/n) + k ln n`. Consistent: recovers the true support as n grows.
    Bic,
    /// k-fold cross-validation over row blocks, one-standard-error rule.
    Cv {
        /// Number of folds (>= 2).
        folds: usize,
    },
}

impl Criterion {
    /// In words: `BIC`, `AIC`, `5-fold cross-validation`.
    pub fn describe(&self) -> String {
        match self {
            Self::Aic => "AIC".into(),
            Self::Bic => "BIC".into(),
            Self::Cv { folds } => {
                format!("{folds}-fold cross-validation (one-standard-error rule)")
            }
        }
    }
}

/// One threshold of the path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathPoint {
    /// The threshold.
    pub threshold: f64,
    /// Terms selected, per target.
    pub complexity: Vec<usize>,
    /// Which terms, per target.
    #[serde(default)]
    pub support: Vec<Vec<usize>>,
    /// Residual sum of squares on all rows, per target.
    #[serde(deserialize_with = "crate::regression::serde_rows::de_vec")]
    pub rss: Vec<f64>,
    /// AIC per target.
    #[serde(deserialize_with = "crate::regression::serde_rows::de_vec")]
    pub aic: Vec<f64>,
    /// BIC per target.
    #[serde(deserialize_with = "crate::regression::serde_rows::de_vec")]
    pub bic: Vec<f64>,
    /// Mean squared cross-validation error per target (with `Criterion::Cv`).
    pub cv: Option<Vec<f64>>,
    /// Its standard error over folds.
    pub cv_se: Option<Vec<f64>>,
}

/// A sweep's path and the model it chose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    /// Every threshold, in the order swept.
    pub path: Vec<PathPoint>,
    /// Index into `path` of the chosen threshold, per target.
    pub chosen: Vec<usize>,
    /// The chosen model of each target, as one fit.
    pub fit: SparseFit,
}

/// A sweep of an optimizer over thresholds.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The optimizer (its own threshold is ignored).
    pub optimizer: Arc<dyn SparseOptimizer>,
    /// Thresholds to try.
    pub thresholds: Vec<f64>,
}

impl Sweep {
    /// A sweep over the optimizer's default grid.
    pub fn new(optimizer: impl SparseOptimizer + 'static) -> Self {
        Self::of(Arc::new(optimizer))
    }

    /// A sweep of a shared optimizer over its default grid.
    pub fn of(optimizer: Arc<dyn SparseOptimizer>) -> Self {
        Self {
            thresholds: optimizer.default_thresholds(),
            optimizer,
        }
    }

    /// Runs the sweep on `gram` (all rows) and chooses by `criterion`. Cross-validation needs
    /// `blocks`, the per-block statistics whose sum is `gram` (see `GramBuilder::keep_blocks`).
    ///
    /// ```
    /// use medida_discovery::GramBuilder;
    /// use medida_discovery::{Criterion, Library, Stlsq, Sweep};
    /// use ndarray::Array2;
    /// let x = Array2::from_shape_fn((1000, 5), |(i, j)| (((i * 7919 + j * 104729) % 1000) as f64 / 500.0 - 1.0));
    /// let noise = Array2::from_shape_fn((1000, 1), |(i, _)| 1e-2 * (((i * 37) % 11) as f64 - 5.0));
    /// let y = &x.column(2).mapv(|v| -1.5 * v).insert_axis(ndarray::Axis(1)) + &noise;
    /// let mut b = GramBuilder::new(5, 1).block_rows(100).keep_blocks();
    /// b.push(x.view(), y.view())?;
    /// let (gram, blocks) = b.finish_with_blocks();
    /// let sweep = Sweep::new(Stlsq::default());
    /// for criterion in [Criterion::Bic, Criterion::Aic, Criterion::Cv { folds: 5 }] {
    ///     let sel = sweep.run(&gram, &blocks, &Library::numbered(5), &["y"], criterion)?;
    ///     assert_eq!(sel.fit.support(0), vec![2]);
    ///     assert_eq!(sel.path.len(), 33);
    /// }
    /// # Ok::<(), medida_discovery::DiscoveryError>(())
    /// ```
    pub fn run(
        &self,
        gram: &Gram,
        blocks: &[Gram],
        library: &Library,
        targets: &[&str],
        criterion: Criterion,
    ) -> Result<Selection, DiscoveryError> {
        if self.thresholds.is_empty() {
            return Err(invalid("thresholds", "[]", "at least one threshold"));
        }
        let folds = match criterion {
            Criterion::Cv { folds } if folds < 2 => {
                return Err(invalid("folds", folds, "at least 2"));
            }
            Criterion::Cv { folds } if blocks.len() < folds => {
                return Err(DiscoveryError::Degenerate(format!(
                    "{folds}-fold cross-validation needs at least {folds} row blocks, the data have {}; use smaller blocks",
                    blocks.len()
                )));
            }
            Criterion::Cv { folds } => Some(fold_grams(blocks, folds)),
            _ => None,
        };
        let fits: Vec<SparseFit> = self
            .thresholds
            .par_iter()
            .map(|&t| self.optimizer.fit_at(t, gram, library, targets))
            .collect::<Result<_, _>>()?;
        let n = gram.n as f64;
        let m = gram.m();
        let mut path = Vec::with_capacity(fits.len());
        for (fit, &threshold) in fits.iter().zip(&self.thresholds) {
            let k = fit.complexity();
            let ll = |i: usize| n * (fit.rss[i] / n).max(1e-300).ln();
            let (cv, cv_se) = match &folds {
                Some(f) => {
                    let (e, se) = cross_validate(&*self.optimizer, threshold, f, library, targets)?;
                    (Some(e), Some(se))
                }
                None => (None, None),
            };
            path.push(PathPoint {
                threshold,
                complexity: k.clone(),
                support: (0..m).map(|i| fit.support(i)).collect(),
                rss: fit.rss.clone(),
                aic: (0..m).map(|i| ll(i) + 2.0 * k[i] as f64).collect(),
                bic: (0..m).map(|i| ll(i) + k[i] as f64 * n.ln()).collect(),
                cv,
                cv_se,
            });
        }
        let chosen: Vec<usize> = (0..m).map(|i| choose(&path, i, criterion)).collect();
        let mut fit = fits[chosen[0]].clone();
        for (i, &c) in chosen.iter().enumerate() {
            let src = &fits[c];
            fit.coef.row_mut(i).assign(&src.coef.row(i));
            if let (Some(dst), Some(s)) = (fit.std.as_mut(), src.std.as_ref()) {
                dst.row_mut(i).assign(&s.row(i));
            }
            fit.rss[i] = src.rss[i];
            fit.r2[i] = src.r2[i];
            fit.condition[i] = src.condition[i];
            fit.threshold[i] = src.threshold[i];
        }
        fit.method = format!(
            "{} selected by {} over {} thresholds",
            fit.method,
            criterion.describe(),
            self.thresholds.len()
        );
        fit.warnings = merged_warnings(&fits, &chosen, targets);
        Ok(Selection { path, chosen, fit })
    }
}

/// The warnings that hold for the chosen fits: one naming a target (`"name: ..."`) from that
/// target's chosen fit only, one naming none from a fit that every target chose (another
/// threshold's "every term eliminated" is no warning about the chosen equation).
fn merged_warnings(fits: &[SparseFit], chosen: &[usize], targets: &[&str]) -> Vec<String> {
    let names = |w: &str, t: &str| w.strip_prefix(t).is_some_and(|r| r.starts_with(':'));
    let mut kept = std::collections::BTreeSet::new();
    for (i, &c) in chosen.iter().enumerate() {
        for w in &fits[c].warnings {
            let named = targets.iter().any(|t| names(w, t));
            if names(w, targets[i]) || (!named && chosen.iter().all(|&d| d == c)) {
                kept.insert(w.clone());
            }
        }
    }
    kept.into_iter().collect()
}

/// The path index chosen for target `i`.
fn choose(path: &[PathPoint], i: usize, criterion: Criterion) -> usize {
    let sparsest_min = |score: &dyn Fn(&PathPoint) -> f64| {
        (0..path.len())
            .min_by(|&a, &b| {
                let (sa, sb) = (score(&path[a]), score(&path[b]));
                sa.total_cmp(&sb)
                    .then(path[a].complexity[i].cmp(&path[b].complexity[i]))
            })
            .expect("non-empty path")
    };
    match criterion {
        Criterion::Aic => sparsest_min(&|p| p.aic[i]),
        Criterion::Bic => sparsest_min(&|p| p.bic[i]),
        Criterion::Cv { .. } => {
            let best = sparsest_min(&|p| p.cv.as_ref().expect("cv")[i]);
            let bound =
                path[best].cv.as_ref().expect("cv")[i] + path[best].cv_se.as_ref().expect("cv")[i];
            (0..path.len())
                .filter(|&j| path[j].cv.as_ref().expect("cv")[i] <= bound)
                .min_by_key(|&j| (path[j].complexity[i], std::cmp::Reverse(j)))
                .unwrap_or(best)
        }
    }
}

/// (train, test) statistics of each fold: contiguous runs of blocks.
fn fold_grams(blocks: &[Gram], folds: usize) -> Vec<(Gram, Gram)> {
    let (p, m) = (blocks[0].p(), blocks[0].m());
    (0..folds)
        .map(|f| {
            let (mut train, mut test) = (Gram::zeros(p, m), Gram::zeros(p, m));
            for (b, g) in blocks.iter().enumerate() {
                if b * folds / blocks.len() == f {
                    test.merge(g)
                } else {
                    train.merge(g)
                }
            }
            (train, test)
        })
        .collect()
}

/// Mean and standard error over folds of the test mean squared error, per target.
fn cross_validate(
    opt: &dyn SparseOptimizer,
    threshold: f64,
    folds: &[(Gram, Gram)],
    library: &Library,
    targets: &[&str],
) -> Result<(Vec<f64>, Vec<f64>), DiscoveryError> {
    let m = targets.len();
    let k = folds.len() as f64;
    let mut errors = vec![Vec::with_capacity(folds.len()); m];
    for (train, test) in folds {
        let fit = opt.fit_at(threshold, train, library, targets)?;
        for (i, e) in errors.iter_mut().enumerate() {
            e.push(rss(test, &fit.coef.row(i).to_vec(), i) / test.n.max(1) as f64);
        }
    }
    let mean: Vec<f64> = errors.iter().map(|e| e.iter().sum::<f64>() / k).collect();
    let se = errors
        .iter()
        .zip(&mean)
        .map(|(e, mu)| {
            (e.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (k - 1.0)).sqrt() / k.sqrt()
        })
        .collect();
    Ok((mean, se))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regression::gram::GramBuilder;
    use crate::{Library, Stlsq};
    use ndarray::{Array2, Axis};

    #[test]
    fn warnings_are_those_of_each_targets_chosen_threshold() {
        // y0 is noise (BIC keeps no term: the high threshold), y1 = x1 (the low one). At the
        // high threshold y1 loses its term too, which must not be reported for y1's equation.
        let x = Array2::from_shape_fn((500, 3), |(i, j)| {
            ((i * 7919 + j * 104_729) % 997) as f64 / 498.0 - 1.0
        });
        let noise = x.column(0).mapv(|v| (v * 1e3).sin() * 1e-3);
        let y = ndarray::stack(Axis(1), &[noise.view(), x.column(1)]).unwrap();
        let mut b = GramBuilder::new(3, 2).block_rows(100).keep_blocks();
        b.push(x.view(), y.view()).unwrap();
        let (gram, blocks) = b.finish_with_blocks();
        let sweep = Sweep {
            thresholds: vec![1e-6, 10.0],
            ..Sweep::new(Stlsq::default())
        };
        let sel = sweep
            .run(
                &gram,
                &blocks,
                &Library::numbered(3),
                &["y0", "y1"],
                Criterion::Bic,
            )
            .unwrap();
        assert_eq!(sel.chosen, vec![1, 0]);
        assert_eq!(sel.fit.support(1), vec![1]);
        assert_eq!(
            sel.fit.warnings,
            vec!["y0: every term eliminated".to_string()]
        );
    }
}

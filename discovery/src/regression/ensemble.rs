//! Bagging ensembles over row blocks: each model is fitted on a bootstrap sample of the blocks
//! (drawn with replacement from a seeded generator), summing their stored statistics, so no pass
//! over the data is repeated and time-correlated rows stay together. Gives each term's inclusion
//! probability and coefficient quantiles. Same seed, same result, at any number of threads.

use crate::error::{DiscoveryError, invalid};
use crate::library::Library;
use crate::regression::gram::Gram;
use crate::regression::optimizer::SparseOptimizer;
use ndarray::{Array2, Array3, Axis};
use rand_mt::Mt64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Bagging settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    /// Number of models.
    pub n_models: usize,
    /// Seed of the block sampling.
    pub seed: u64,
}

impl Default for Ensemble {
    /// 100 models, seed 0.
    fn default() -> Self {
        Self {
            n_models: 100,
            seed: 0,
        }
    }
}

/// What the ensemble says about each (target, term).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleSummary {
    /// Fraction of models that selected the term, `m x p`.
    #[serde(
        serialize_with = "crate::regression::serde_rows::matrix",
        deserialize_with = "crate::regression::serde_rows::de_matrix"
    )]
    pub inclusion: Array2<f64>,
    /// 5%, 50% and 95% quantiles of the coefficient over models (0 where not selected), `3 x m x p`.
    #[serde(
        serialize_with = "crate::regression::serde_rows::cube",
        deserialize_with = "crate::regression::serde_rows::de_cube"
    )]
    pub quantiles: Array3<f64>,
    /// Row blocks sampled from, and rows per block.
    #[serde(default)]
    pub blocks: (usize, usize),
    /// Every model's coefficients, `n_models x m x p`.
    #[serde(skip, default = "empty_cube")]
    pub models: Array3<f64>,
}

fn empty_cube() -> Array3<f64> {
    Array3::zeros((0, 0, 0))
}

impl Ensemble {
    /// Fits `optimizer` on `n_models` bootstrap samples of `blocks`, target `i` at `thresholds[i]`
    /// (one value applies to every target), e.g. the thresholds a [`crate::Sweep`] chose.
    ///
    /// ```
    /// use medida_discovery::GramBuilder;
    /// use medida_discovery::{Ensemble, Library, Stlsq};
    /// use ndarray::Array2;
    /// let x = Array2::from_shape_fn((400, 3), |(i, j)| (((i * 7919 + j * 104729) % 1000) as f64 / 500.0 - 1.0));
    /// let y = x.column(1).mapv(|v| 3.0 * v).insert_axis(ndarray::Axis(1));
    /// let mut b = GramBuilder::new(3, 1).block_rows(20).keep_blocks();
    /// b.push(x.view(), y.view())?;
    /// let (_, blocks) = b.finish_with_blocks();
    /// let s = Ensemble { n_models: 20, seed: 1 }.run(&Stlsq::default(), &[0.05], &blocks, &Library::numbered(3), &["y"])?;
    /// assert_eq!(s.inclusion.row(0).to_vec(), vec![0.0, 1.0, 0.0]);
    /// assert!((s.quantiles[[1, 0, 1]] - 3.0).abs() < 1e-12);
    /// # Ok::<(), medida_discovery::DiscoveryError>(())
    /// ```
    pub fn run(
        &self,
        optimizer: &dyn SparseOptimizer,
        thresholds: &[f64],
        blocks: &[Gram],
        library: &Library,
        targets: &[&str],
    ) -> Result<EnsembleSummary, DiscoveryError> {
        if self.n_models == 0 {
            return Err(invalid("n_models", 0, "at least 1"));
        }
        if blocks.len() < 2 {
            return Err(DiscoveryError::Degenerate(format!(
                "bagging needs at least 2 row blocks, the data have {}; use smaller blocks",
                blocks.len()
            )));
        }
        let (p, m) = (blocks[0].p(), blocks[0].m());
        if thresholds.len() != 1 && thresholds.len() != m {
            return Err(DiscoveryError::Shape(format!(
                "{} thresholds for {m} targets",
                thresholds.len()
            )));
        }
        let coefs: Vec<Array2<f64>> = (0..self.n_models)
            .into_par_iter()
            .map(|b| {
                let mut rng = Mt64::new(
                    self.seed
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        .wrapping_add(b as u64),
                );
                let mut bag = Gram::zeros(p, m);
                for _ in 0..blocks.len() {
                    bag.merge(&blocks[(rng.next_u64() % blocks.len() as u64) as usize]);
                }
                let mut coef = Array2::zeros((m, p));
                for (i, target) in targets.iter().enumerate() {
                    let t = thresholds[if thresholds.len() == 1 { 0 } else { i }];
                    let fit = optimizer.fit_at(t, &bag.target(i), library, &[target])?;
                    coef.row_mut(i).assign(&fit.coef.row(0));
                }
                Ok(coef)
            })
            .collect::<Result<_, DiscoveryError>>()?;
        let views: Vec<_> = coefs.iter().map(|c| c.view()).collect();
        let models = ndarray::stack(Axis(0), &views).expect("models have one shape");
        let inclusion = models.map_axis(Axis(0), |c| {
            c.iter().filter(|v| **v != 0.0).count() as f64 / self.n_models as f64
        });
        let mut quantiles = Array3::zeros((3, m, p));
        for i in 0..m {
            for j in 0..p {
                let mut v: Vec<f64> = models.slice(ndarray::s![.., i, j]).to_vec();
                v.sort_by(f64::total_cmp);
                for (q, level) in [0.05, 0.5, 0.95].iter().enumerate() {
                    quantiles[[q, i, j]] = quantile(&v, *level);
                }
            }
        }
        Ok(EnsembleSummary {
            inclusion,
            quantiles,
            blocks: (blocks.len(), 0),
            models,
        })
    }
}

impl EnsembleSummary {
    /// The inclusion probabilities and quantiles of the included terms, as text.
    pub fn text(&self, terms: &[String], targets: &[String]) -> String {
        let (blocks, rows) = self.blocks;
        let mut out = format!(
            "\nbagging over {blocks} blocks of {rows} rows, {} models: inclusion probability and 5-50-95% quantiles\n",
            self.models.shape()[0]
        );
        for (i, t) in targets.iter().enumerate() {
            for (j, name) in terms.iter().enumerate() {
                if self.inclusion[[i, j]] > 0.0 {
                    let q = |k: usize| self.quantiles[[k, i, j]];
                    out.push_str(&format!(
                        "  {t}: {name:>16}  {:>5.2}  [{:.4e}, {:.4e}, {:.4e}]\n",
                        self.inclusion[[i, j]],
                        q(0),
                        q(1),
                        q(2)
                    ));
                }
            }
        }
        out
    }
}

/// Linear-interpolation quantile of sorted values (NumPy's default).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

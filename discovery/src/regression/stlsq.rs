//! Sequentially thresholded least squares (STLSQ), from the sufficient statistics.
//!
//! Each iteration, for each target: ridge-solve on its current support, then drop the terms with
//! `|w| < threshold`. Stop when no target's support changes (or the first pass removes nothing),
//! or after `max_iter` iterations; then refit ordinary least squares on each support (`unbias`).
//! With [`Stlsq::pysindy`] this is PySINDy 2.1's `STLSQ` (threshold kept when `|w| >= thr`,
//! absolute ridge `alpha`, `normalize_columns` as division by column L2 norms, joint stopping
//! rule), with its warnings but not its bugs (ill-conditioning is reported, not swallowed).

use crate::error::{DiscoveryError, invalid};
use crate::library::Library;
use crate::regression::fit::SparseFit;
use crate::regression::gram::Gram;
use crate::regression::linalg::{condition_sub, solve_sub};
use crate::regression::optimizer::{SparseOptimizer, log_grid};
use crate::regression::problem::{Scaled, Scaling};
use ndarray::Array2;

/// Sequentially thresholded least squares.
#[derive(Debug, Clone, PartialEq)]
pub struct Stlsq {
    /// Threshold per target (one value is used for every target).
    pub threshold: Vec<f64>,
    /// Optional per-term factors: term `j` of target `i` is dropped when
    /// `|w_ij| < threshold_i * term_factor_j`.
    pub term_factor: Option<Vec<f64>>,
    /// Ridge parameter added to the diagonal of the (scaled) `X_S^T X_S` during selection.
    pub alpha: f64,
    /// Maximum number of threshold iterations.
    pub max_iter: usize,
    /// Column (and target) scaling.
    pub scaling: Scaling,
    /// Refit ordinary least squares on the final supports.
    pub unbias: bool,
}

impl Default for Stlsq {
    /// Threshold 0.05 on RMS-scaled data (a term must contribute 5% of the target's size), no
    /// ridge, 20 iterations, OLS refit.
    fn default() -> Self {
        Self {
            threshold: vec![0.05],
            term_factor: None,
            alpha: 0.0,
            max_iter: 20,
            scaling: Scaling::Rms,
            unbias: true,
        }
    }
}

impl Stlsq {
    /// PySINDy 2.1's `STLSQ(threshold, alpha, max_iter, normalize_columns)` with `unbias=True`.
    pub fn pysindy(threshold: f64, alpha: f64, max_iter: usize, normalize_columns: bool) -> Self {
        let scaling = if normalize_columns {
            Scaling::L2Norm
        } else {
            Scaling::None
        };
        Self {
            threshold: vec![threshold],
            term_factor: None,
            alpha,
            max_iter,
            scaling,
            unbias: true,
        }
    }

    /// The same settings with another uniform threshold.
    pub fn with_threshold(&self, threshold: f64) -> Self {
        Self {
            threshold: vec![threshold],
            ..self.clone()
        }
    }

    /// The threshold of target `i`.
    fn target_threshold(&self, i: usize) -> f64 {
        if self.threshold.len() == 1 {
            self.threshold[0]
        } else {
            self.threshold[i]
        }
    }

    fn check(&self, p: usize, m: usize) -> Result<(), DiscoveryError> {
        if self.threshold.len() != 1 && self.threshold.len() != m {
            return Err(DiscoveryError::Shape(format!(
                "{} thresholds for {m} targets",
                self.threshold.len()
            )));
        }
        if let Some(t) = self
            .threshold
            .iter()
            .find(|t| !(t.is_finite() && **t >= 0.0))
        {
            return Err(invalid("threshold", t, "a finite number >= 0"));
        }
        if let Some(f) = &self.term_factor {
            if f.len() != p {
                return Err(DiscoveryError::Shape(format!(
                    "{} term factors for {p} terms",
                    f.len()
                )));
            }
            if let Some(v) = f.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                return Err(invalid("term_factor", v, "finite numbers >= 0"));
            }
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(invalid("alpha", self.alpha, "a finite number >= 0"));
        }
        if self.max_iter == 0 {
            return Err(invalid("max_iter", self.max_iter, "at least 1"));
        }
        Ok(())
    }

    /// Fits every target of `gram` over `library`; `targets` names the targets.
    pub fn fit(
        &self,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        let (p, m) = (gram.p(), gram.m());
        self.check(p, m)?;
        let scaled = Scaled::new(gram, library, targets, self.scaling)?;
        let (g, xty) = (&scaled.g, &scaled.xty);
        let thr = |i: usize, j: usize| {
            self.target_threshold(i) * self.term_factor.as_ref().map_or(1.0, |f| f[j])
        };

        let mut warnings = Vec::new();
        let mut supports: Vec<Vec<usize>> = vec![(0..p).collect(); m];
        let mut w = Array2::<f64>::zeros((m, p));
        let mut iterations = 0;
        let mut converged = false;
        for k in 0..self.max_iter {
            if supports.iter().all(|s| s.is_empty()) {
                warnings.push(format!(
                    "the threshold eliminated every term of every target (iteration {k})"
                ));
                converged = true;
                break;
            }
            let previous = supports.clone();
            w.fill(0.0);
            for i in 0..m {
                if supports[i].is_empty() {
                    continue;
                }
                let b: Vec<f64> = supports[i].iter().map(|&j| xty[[j, i]]).collect();
                let (sol, fallback) = solve_sub(g, &supports[i], &b, self.alpha);
                iterations += 1;
                if fallback {
                    warnings.push(format!(
                        "{}: singular system on {} terms, minimum-norm solution used",
                        targets[i],
                        supports[i].len()
                    ));
                }
                let mut kept = Vec::new();
                for (&j, &c) in supports[i].iter().zip(&sol) {
                    if c.abs() >= thr(i, j) {
                        w[[i, j]] = c;
                        kept.push(j);
                    }
                }
                supports[i] = kept;
            }
            let none_removed = supports.iter().map(Vec::len).sum::<usize>() == p * m;
            if none_removed || supports == previous {
                converged = true;
                break;
            }
        }
        if !converged {
            warnings.push(format!(
                "STLSQ did not converge after {} iterations",
                self.max_iter
            ));
        }
        for (i, s) in supports.iter_mut().enumerate() {
            // PySINDy's support is |w| > 1e-14 before the refit.
            s.retain(|&j| w[[i, j]].abs() > 1e-14);
            if s.is_empty() {
                warnings.push(format!("{}: every term eliminated", targets[i]));
            }
        }
        let mut condition = Vec::with_capacity(m);
        for (i, s) in supports.iter().enumerate() {
            let c = condition_sub(g, s);
            if c > 1e10 {
                warnings.push(format!("{}: ill-conditioned support (condition number {c:.2e}); coefficients of correlated terms are unreliable", targets[i]));
            }
            condition.push(c);
            if self.unbias && !s.is_empty() {
                let b: Vec<f64> = s.iter().map(|&j| xty[[j, i]]).collect();
                let (sol, _) = solve_sub(g, s, &b, 0.0);
                for (&j, c) in s.iter().zip(sol) {
                    w[[i, j]] = c;
                }
            }
        }
        let method = format!(
            "STLSQ (scaling {:?}, alpha {}, max_iter {}, unbias {})",
            self.scaling, self.alpha, self.max_iter, self.unbias
        );
        let mut fit = SparseFit::new(method, library, targets);
        fit.coef = Array2::from_shape_fn((m, p), |(i, j)| scaled.unscale(i, j, w[[i, j]]));
        fit.threshold = (0..m).map(|i| self.target_threshold(i)).collect();
        (fit.condition, fit.iterations, fit.warnings) = (condition, iterations, warnings);
        fit.score(gram);
        Ok(fit)
    }
}

impl SparseOptimizer for Stlsq {
    fn fit_at(
        &self,
        threshold: f64,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        self.with_threshold(threshold).fit(gram, library, targets)
    }

    /// 33 thresholds from 1e-4 to 1 (a term's share of the target under RMS scaling), log-spaced.
    fn default_thresholds(&self) -> Vec<f64> {
        log_grid(-4.0, 0.0, 33)
    }

    fn fit(
        &self,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        Stlsq::fit(self, gram, library, targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn per_term_and_per_target_thresholds() {
        // y0 = 1.0 x0 + 0.2 x1, y1 = 0.2 x2 (RMS-scaled contributions about 1 and 0.2).
        let x = Array2::from_shape_fn((600, 3), |(i, j)| {
            ((i * 7919 + j * 104729) % 1000) as f64 / 500.0 - 1.0
        });
        let y = Array2::from_shape_fn((600, 2), |(i, k)| {
            if k == 0 {
                x[[i, 0]] + 0.2 * x[[i, 1]]
            } else {
                0.2 * x[[i, 2]]
            }
        });
        let gram = Gram::from_rows(x.view(), y.view());
        let lib = Library::numbered(3);
        let base = Stlsq {
            threshold: vec![0.1],
            ..Stlsq::default()
        };
        let fit = base.fit(&gram, &lib, &["a", "b"]).unwrap();
        assert_eq!((fit.support(0), fit.support(1)), (vec![0, 1], vec![2]));
        // Term x1 must be 5x as large to stay: it goes.
        let strict = Stlsq {
            term_factor: Some(vec![1.0, 5.0, 1.0]),
            ..base.clone()
        };
        let fit = strict.fit(&gram, &lib, &["a", "b"]).unwrap();
        assert_eq!(fit.support(0), vec![0]);
        // A threshold per target: b (all of it one term: scaled coefficient 1) is held to 1.5.
        let per_target = Stlsq {
            threshold: vec![0.1, 1.5],
            ..base
        };
        let fit = per_target.fit(&gram, &lib, &["a", "b"]).unwrap();
        assert_eq!((fit.support(0), fit.support(1)), (vec![0, 1], vec![]));
        assert!(
            fit.warnings
                .iter()
                .any(|w| w.contains("b: every term eliminated"))
        );
    }
}

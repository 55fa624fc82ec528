//! Relevance vector machine (Tipping 2001): sparse Bayesian regression by type-II maximum
//! likelihood, from the sufficient statistics. Each coefficient has a Gaussian prior of precision
//! `alpha_i`; the noise has precision `beta`. One iteration, on the active terms A:
//!
//! ```text
//! Sigma = (beta G_AA + diag(alpha_A))^-1,   m = beta Sigma b_A
//! gamma_i = 1 - alpha_i Sigma_ii,           alpha_i <- gamma_i / m_i^2
//! beta <- (n - sum gamma) / |y - X_A m|^2
//! ```
//!
//! then terms with `alpha_i >= threshold_alpha` are pruned, and the loop stops when
//! `max |alpha - alpha_previous| < tol` over the active terms (after the second iteration), as in
//! the `rvm.py` of the MEDIDA study (from scikit-rvm). The result is the posterior mean, with the
//! posterior standard deviation of each coefficient, on the final active set.

use crate::error::{DiscoveryError, invalid};
use crate::library::Library;
use crate::regression::fit::SparseFit;
use crate::regression::gram::Gram;
use crate::regression::linalg::{condition_sub, spd_inverse_sub};
use crate::regression::optimizer::{SparseOptimizer, log_grid};
use crate::regression::problem::{Scaled, Scaling};
use ndarray::Array2;

/// Relevance vector machine settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Rvm {
    /// Terms whose prior precision reaches this value are pruned (the sparsity knob).
    pub threshold_alpha: f64,
    /// Convergence tolerance on the change of the precisions.
    pub tol: f64,
    /// Maximum iterations.
    pub max_iter: usize,
    /// Initial prior precision of every coefficient.
    pub alpha_init: f64,
    /// Initial noise precision.
    pub beta_init: f64,
    /// Column (and target) scaling, as for [`crate::Stlsq`].
    pub scaling: Scaling,
}

impl Default for Rvm {
    /// `threshold_alpha = 1e4`, `tol = 1e-3`, 3000 iterations, initial precisions 1e-6 (the MEDIDA
    /// QG settings), on RMS-scaled data.
    fn default() -> Self {
        Self {
            threshold_alpha: 1e4,
            tol: 1e-3,
            max_iter: 3000,
            alpha_init: 1e-6,
            beta_init: 1e-6,
            scaling: Scaling::Rms,
        }
    }
}

/// One target's posterior: active terms, mean, standard deviation, iterations, convergence.
struct Posterior {
    active: Vec<usize>,
    mean: Vec<f64>,
    std: Vec<f64>,
    iterations: usize,
    converged: bool,
}

impl Rvm {
    /// The same settings with another pruning threshold.
    pub fn with_threshold(&self, threshold_alpha: f64) -> Self {
        Self {
            threshold_alpha,
            ..self.clone()
        }
    }

    fn check(&self) -> Result<(), DiscoveryError> {
        for (name, v) in [
            ("threshold_alpha", self.threshold_alpha),
            ("tol", self.tol),
            ("alpha_init", self.alpha_init),
            ("beta_init", self.beta_init),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(name, v, "a finite number > 0"));
            }
        }
        if self.max_iter == 0 {
            return Err(invalid("max_iter", self.max_iter, "at least 1"));
        }
        Ok(())
    }

    /// Fits every target of `gram` over `library`: posterior means, with standard deviations in
    /// [`SparseFit::std`].
    ///
    /// ```
    /// use medida_discovery::{Gram, Library, Rvm};
    /// use ndarray::Array2;
    /// let x = Array2::from_shape_fn((500, 4), |(i, j)| (((i * 7919 + j * 104729) % 1000) as f64 / 500.0 - 1.0));
    /// let noise = Array2::from_shape_fn((500, 1), |(i, _)| 1e-3 * (((i * 37) % 11) as f64 - 5.0));
    /// let y = &x.column(0).mapv(|v| 0.8 * v).insert_axis(ndarray::Axis(1)) + &noise;
    /// let fit = Rvm::default().fit(&Gram::from_rows(x.view(), y.view()), &Library::numbered(4), &["y"])?;
    /// assert_eq!(fit.support(0), vec![0]);
    /// let sd = fit.std.as_ref().unwrap()[[0, 0]];
    /// assert!((fit.coef[[0, 0]] - 0.8).abs() < 5.0 * sd);
    /// # Ok::<(), medida_discovery::DiscoveryError>(())
    /// ```
    pub fn fit(
        &self,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        self.check()?;
        let (p, m) = (gram.p(), gram.m());
        let scaled = Scaled::new(gram, library, targets, self.scaling)?;
        let mut coef = Array2::zeros((m, p));
        let mut std = Array2::zeros((m, p));
        let mut warnings = Vec::new();
        let mut condition = Vec::new();
        let mut iterations = 0;
        for i in 0..m {
            let b = scaled.xty.column(i).to_vec();
            let post = self.target(&scaled.g, &b, scaled.yty[i], gram.n as f64);
            iterations = iterations.max(post.iterations);
            if !post.converged {
                warnings.push(format!(
                    "{}: RVM did not converge in {} iterations",
                    targets[i], self.max_iter
                ));
            }
            if post.active.is_empty() {
                warnings.push(format!("{}: every term pruned", targets[i]));
            }
            condition.push(condition_sub(&scaled.g, &post.active));
            for ((&j, mu), sd) in post.active.iter().zip(&post.mean).zip(&post.std) {
                coef[[i, j]] = scaled.unscale(i, j, *mu);
                std[[i, j]] = scaled.unscale(i, j, *sd);
            }
        }
        let method = format!(
            "RVM (threshold_alpha {:.3e}, tol {:.1e}, scaling {:?})",
            self.threshold_alpha, self.tol, self.scaling
        );
        let mut fit = SparseFit::new(method, library, targets);
        (fit.coef, fit.std) = (coef, Some(std));
        fit.threshold = vec![self.threshold_alpha; m];
        (fit.condition, fit.iterations, fit.warnings) = (condition, iterations, warnings);
        fit.score(gram);
        Ok(fit)
    }

    /// Type-II maximum likelihood for one target with (scaled) statistics `g`, `b`, `yty`, `n`.
    fn target(&self, g: &Array2<f64>, b: &[f64], yty: f64, n: f64) -> Posterior {
        let p = b.len();
        let mut active: Vec<usize> = (0..p).collect();
        let mut alpha = vec![self.alpha_init; p];
        let mut alpha_old = alpha.clone();
        let mut beta = self.beta_init;
        let (mut iterations, mut converged) = (0, false);
        for it in 0..self.max_iter {
            iterations = it + 1;
            let Some((sigma, mean)) = posterior(g, b, &active, &alpha, beta) else {
                break;
            };
            let gamma: Vec<f64> = (0..active.len())
                .map(|k| 1.0 - alpha[k] * sigma[[k, k]])
                .collect();
            for k in 0..active.len() {
                alpha[k] = gamma[k] / (mean[k] * mean[k]);
            }
            let rss = rss_sub(g, b, yty, &active, &mean);
            // Below round-off of |y|^2 the residual is not noise: exact data would send beta to
            // infinity and the posterior out of range.
            let floor = (yty * f64::EPSILON).max(f64::MIN_POSITIVE);
            beta = (n - gamma.iter().sum::<f64>()) / rss.max(floor);
            // Prune, keeping alpha and alpha_old aligned with the active set.
            let keep: Vec<usize> = (0..active.len())
                .filter(|&k| alpha[k] < self.threshold_alpha)
                .collect();
            active = keep.iter().map(|&k| active[k]).collect();
            alpha = keep.iter().map(|&k| alpha[k]).collect();
            alpha_old = keep.iter().map(|&k| alpha_old[k]).collect();
            if active.is_empty() {
                converged = true;
                break;
            }
            let delta = alpha
                .iter()
                .zip(&alpha_old)
                .map(|(a, o)| (a - o).abs())
                .fold(0.0, f64::max);
            if delta < self.tol && it > 1 {
                converged = true;
                break;
            }
            alpha_old.clone_from(&alpha);
        }
        match posterior(g, b, &active, &alpha, beta) {
            Some((sigma, mean)) if !active.is_empty() => {
                let std = (0..active.len())
                    .map(|k| sigma[[k, k]].max(0.0).sqrt())
                    .collect();
                Posterior {
                    active,
                    mean,
                    std,
                    iterations,
                    converged,
                }
            }
            _ => Posterior {
                active: vec![],
                mean: vec![],
                std: vec![],
                iterations,
                converged,
            },
        }
    }
}

/// Posterior covariance and mean on `active`: `Sigma = (beta G_AA + diag(alpha))^-1`, `m = beta Sigma b_A`.
fn posterior(
    g: &Array2<f64>,
    b: &[f64],
    active: &[usize],
    alpha: &[f64],
    beta: f64,
) -> Option<(Array2<f64>, Vec<f64>)> {
    let k = active.len();
    let a = Array2::from_shape_fn((k, k), |(r, c)| {
        beta * g[[active[r], active[c]]] + if r == c { alpha[r] } else { 0.0 }
    });
    let sigma = spd_inverse_sub(&a)?;
    let mean = (0..k)
        .map(|r| beta * (0..k).map(|c| sigma[[r, c]] * b[active[c]]).sum::<f64>())
        .collect();
    Some((sigma, mean))
}

/// `|y - X_A m|^2` from the statistics.
fn rss_sub(g: &Array2<f64>, b: &[f64], yty: f64, active: &[usize], mean: &[f64]) -> f64 {
    let mut r = yty;
    for (r_idx, &a) in active.iter().enumerate() {
        r -= 2.0 * mean[r_idx] * b[a];
        for (c_idx, &c) in active.iter().enumerate() {
            r += mean[r_idx] * g[[a, c]] * mean[c_idx];
        }
    }
    r.max(0.0)
}

impl SparseOptimizer for Rvm {
    fn fit_at(
        &self,
        threshold: f64,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        self.with_threshold(threshold).fit(gram, library, targets)
    }

    /// 33 values of `threshold_alpha` from 1e8 (permissive) to 1 (strict), log-spaced.
    fn default_thresholds(&self) -> Vec<f64> {
        log_grid(8.0, 0.0, 33)
    }

    fn fit(
        &self,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        Rvm::fit(self, gram, library, targets)
    }
}

//! The result of a sparse fit: coefficients per target and term, quality numbers computed from the
//! sufficient statistics, and the discovered equations in print.

use crate::regression::gram::Gram;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Coefficients of `m` targets on `p` library terms, with how well they fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparseFit {
    /// Optimizer and its settings, in words.
    pub method: String,
    /// Library term names (columns).
    pub terms: Vec<String>,
    /// Target names (rows of `coef`).
    pub targets: Vec<String>,
    /// Coefficients, `m x p`, in the units of the data; 0 for terms not selected.
    #[serde(
        serialize_with = "crate::regression::serde_rows::matrix",
        deserialize_with = "crate::regression::serde_rows::de_matrix"
    )]
    pub coef: Array2<f64>,
    /// Posterior standard deviations of the coefficients (Bayesian fits), `m x p`.
    #[serde(
        serialize_with = "crate::regression::serde_rows::opt_matrix",
        deserialize_with = "crate::regression::serde_rows::de_opt_matrix"
    )]
    pub std: Option<Array2<f64>>,
    /// Rows fitted.
    pub n: usize,
    /// Residual sum of squares per target.
    #[serde(deserialize_with = "crate::regression::serde_rows::de_vec")]
    pub rss: Vec<f64>,
    /// Coefficient of determination `1 - rss / y^T y` per target (uncentred: no intercept).
    #[serde(deserialize_with = "crate::regression::serde_rows::de_vec")]
    pub r2: Vec<f64>,
    /// 2-norm condition number of `X_S^T X_S` on each target's support.
    #[serde(deserialize_with = "crate::regression::serde_rows::de_vec")]
    pub condition: Vec<f64>,
    /// The threshold that produced this fit, per target, in the optimizer's units.
    #[serde(deserialize_with = "crate::regression::serde_rows::de_vec")]
    pub threshold: Vec<f64>,
    /// Iterations the optimizer ran.
    pub iterations: usize,
    /// What the user should know: elimination of all terms, no convergence, ill-conditioning.
    pub warnings: Vec<String>,
}

impl SparseFit {
    /// A fit of `targets` over `library` by `method` with every coefficient zero, for an optimizer
    /// to fill in before [`SparseFit::score`].
    pub(crate) fn new(method: String, library: &crate::Library, targets: &[&str]) -> Self {
        let (m, p) = (targets.len(), library.len());
        Self {
            method,
            terms: library.names().to_vec(),
            targets: targets.iter().map(|s| s.to_string()).collect(),
            coef: Array2::zeros((m, p)),
            std: None,
            n: 0,
            rss: vec![],
            r2: vec![],
            condition: vec![1.0; m],
            threshold: vec![],
            iterations: 0,
            warnings: vec![],
        }
    }

    /// The fit with coefficients `coef` (`targets x terms`, 0 for terms not selected) of
    /// `targets` over `library`, found by `method` at `threshold` (per target, or one for all):
    /// residuals, R^2 and condition numbers are computed from `gram`. How an optimizer written
    /// outside this crate reports its result.
    pub fn from_coef(
        method: impl Into<String>,
        library: &crate::Library,
        targets: &[&str],
        coef: Array2<f64>,
        threshold: &[f64],
        gram: &Gram,
    ) -> Result<Self, crate::DiscoveryError> {
        let (m, p) = (targets.len(), library.len());
        if coef.dim() != (m, p) || gram.p() != p || gram.m() != m {
            return Err(crate::DiscoveryError::Shape(format!(
                "coefficients {:?} for {m} targets, {p} terms and statistics of {} x {}",
                coef.dim(),
                gram.m(),
                gram.p()
            )));
        }
        let mut fit = Self::new(method.into(), library, targets);
        fit.coef = coef;
        fit.threshold = (0..m)
            .map(|i| {
                threshold
                    .get(i)
                    .or(threshold.first())
                    .copied()
                    .unwrap_or(f64::NAN)
            })
            .collect();
        fit.condition = (0..m)
            .map(|i| crate::regression::linalg::condition_sub(&gram.xtx, &fit.support(i)))
            .collect();
        fit.score(gram);
        Ok(fit)
    }

    /// Indices of the terms selected for target `i`.
    pub fn support(&self, i: usize) -> Vec<usize> {
        self.coef
            .row(i)
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != 0.0)
            .map(|(j, _)| j)
            .collect()
    }

    /// Number of selected terms per target.
    pub fn complexity(&self) -> Vec<usize> {
        (0..self.coef.nrows())
            .map(|i| self.support(i).len())
            .collect()
    }

    /// The equations, one line per target: `y = 2.000 x0 - 0.500 x2`, with `+/- sd` when known.
    /// Coefficients print with `precision` decimals, in exponent form when small or large.
    pub fn equations(&self, precision: usize) -> String {
        let mut out = String::new();
        for (i, target) in self.targets.iter().enumerate() {
            let mut line = format!("{target} =");
            let support = self.support(i);
            if support.is_empty() {
                line.push_str(" 0");
            }
            for (k, &j) in support.iter().enumerate() {
                let c = self.coef[[i, j]];
                let sd = self
                    .std
                    .as_ref()
                    .map(|s| format!(" (+/- {})", number(s[[i, j]], precision)))
                    .unwrap_or_default();
                let value = number(c.abs(), precision);
                let sign = match (k, c < 0.0) {
                    (0, true) => "-".to_string(),
                    (0, false) => String::new(),
                    (_, true) => "- ".to_string(),
                    (_, false) => "+ ".to_string(),
                };
                line.push_str(&format!(" {sign}{value}{sd} {}", self.terms[j]));
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// Fills `rss`, `r2` from the statistics.
    pub(crate) fn score(&mut self, gram: &Gram) {
        let m = self.coef.nrows();
        self.rss = (0..m)
            .map(|i| rss(gram, &self.coef.row(i).to_vec(), i))
            .collect();
        self.r2 = (0..m)
            .map(|i| {
                if gram.yty[i] > 0.0 {
                    1.0 - self.rss[i] / gram.yty[i]
                } else {
                    f64::NAN
                }
            })
            .collect();
        self.n = gram.n;
    }
}

/// `|y - X w|^2 = y^T y - 2 w^T X^T y + w^T X^T X w` for target `i`, clamped at 0.
pub(crate) fn rss(gram: &Gram, w: &[f64], i: usize) -> f64 {
    let p = w.len();
    let mut quad = 0.0;
    let mut lin = 0.0;
    for a in 0..p {
        if w[a] == 0.0 {
            continue;
        }
        lin += w[a] * gram.xty[[a, i]];
        for b in 0..p {
            quad += w[a] * gram.xtx[[a, b]] * w[b];
        }
    }
    (gram.yty[i] - 2.0 * lin + quad).max(0.0)
}

/// A number with `precision` decimals between 1e-3 and 1e5, else in exponent form.
fn number(x: f64, precision: usize) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-3..1e5).contains(&a) {
        format!("{x:.precision$}")
    } else {
        format!("{x:.*e}", precision.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_signs_units_and_empty_models() {
        let fit = SparseFit {
            method: "test".into(),
            terms: vec!["psi1".into(), "psi2".into(), "lap(psi1)".into()],
            targets: vec!["dq1/dt error".into(), "dq2/dt error".into()],
            coef: ndarray::array![[-0.1, 0.1, 3.2e-7], [0.0, 0.0, 0.0]],
            std: None,
            n: 0,
            rss: vec![],
            r2: vec![],
            condition: vec![],
            threshold: vec![],
            iterations: 0,
            warnings: vec![],
        };
        assert_eq!(
            fit.equations(3),
            "dq1/dt error = -0.100 psi1 + 0.100 psi2 + 3.20e-7 lap(psi1)\ndq2/dt error = 0\n"
        );
    }
}

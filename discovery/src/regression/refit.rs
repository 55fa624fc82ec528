//! Ordinary least squares on each target's selected terms by a streamed QR (TSQR): for every row
//! chunk, `[R; X_S] = Q R'` and `Q^T [Q^T y; y]`, keeping only the small triangle. The
//! coefficients never pass through `X^T X`, so an ill-conditioned support does not have its
//! condition number squared (the Cholesky refit from the statistics does). Needs a second pass
//! over the rows.

use crate::error::DiscoveryError;
use crate::regression::fit::SparseFit;
use faer::linalg::triangular_solve::solve_upper_triangular_in_place;
use faer::{Mat, Par};
use ndarray::ArrayView2;

/// One target's running factorisation.
#[derive(Debug, Clone)]
struct Target {
    support: Vec<usize>,
    /// Upper-triangular factor, k x k (empty before the first chunk).
    r: Mat<f64>,
    /// First k entries of `Q^T y`.
    qty: Vec<f64>,
    /// `y^T y` so far.
    yty: f64,
}

/// A QR refit of a fit's supports, fed with the same rows the fit saw.
#[derive(Debug, Clone)]
pub struct QrRefit {
    targets: Vec<Target>,
    p: usize,
    n: usize,
}

impl QrRefit {
    /// A refit of `fit`'s supports.
    pub fn new(fit: &SparseFit) -> Self {
        let targets = (0..fit.coef.nrows())
            .map(|i| {
                let support = fit.support(i);
                Target {
                    r: Mat::zeros(0, support.len()),
                    qty: Vec::new(),
                    support,
                    yty: 0.0,
                }
            })
            .collect();
        Self {
            targets,
            p: fit.coef.ncols(),
            n: 0,
        }
    }

    /// Adds a chunk of rows: `x` (rows x p) and `y` (rows x m).
    pub fn push(&mut self, x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<(), DiscoveryError> {
        if x.ncols() != self.p || y.ncols() != self.targets.len() || x.nrows() != y.nrows() {
            return Err(DiscoveryError::Shape(format!(
                "chunk X {:?}, Y {:?}; the fit has {} terms and {} targets",
                x.dim(),
                y.dim(),
                self.p,
                self.targets.len()
            )));
        }
        self.n += x.nrows();
        for (i, t) in self.targets.iter_mut().enumerate() {
            t.yty += y.column(i).iter().map(|v| v * v).sum::<f64>();
            let k = t.support.len();
            if k == 0 {
                continue;
            }
            let top = t.r.nrows();
            let rows = top + x.nrows();
            let a = Mat::from_fn(rows, k, |r, c| {
                if r < top {
                    t.r[(r, c)]
                } else {
                    x[[r - top, t.support[c]]]
                }
            });
            let qr = a.qr();
            let q = qr.compute_thin_Q();
            let b: Vec<f64> = t
                .qty
                .iter()
                .copied()
                .chain(y.column(i).iter().copied())
                .collect();
            let kk = q.ncols();
            t.qty = (0..kk)
                .map(|c| (0..rows).map(|r| q[(r, c)] * b[r]).sum())
                .collect();
            let r = qr.thin_R();
            t.r = Mat::from_fn(kk, k, |a, c| r[(a, c)]);
        }
        Ok(())
    }

    /// Replaces `fit`'s coefficients on each support by the QR solution and updates its residuals.
    pub fn finish(self, fit: &mut SparseFit) -> Result<(), DiscoveryError> {
        if self.n != fit.n {
            return Err(DiscoveryError::Shape(format!(
                "the refit saw {} rows, the fit {}",
                self.n, fit.n
            )));
        }
        for (i, t) in self.targets.into_iter().enumerate() {
            let k = t.support.len();
            if k == 0 {
                continue;
            }
            if t.r.nrows() < k || (0..k).any(|d| t.r[(d, d)] == 0.0) {
                return Err(DiscoveryError::Degenerate(format!(
                    "{}: the selected terms are linearly dependent",
                    fit.targets[i]
                )));
            }
            let mut w = Mat::from_fn(k, 1, |r, _| t.qty[r]);
            solve_upper_triangular_in_place(t.r.as_ref(), w.as_mut(), Par::Seq);
            for (c, &j) in t.support.iter().enumerate() {
                fit.coef[[i, j]] = w[(c, 0)];
            }
            let explained: f64 = t.qty.iter().map(|v| v * v).sum();
            fit.rss[i] = (t.yty - explained).max(0.0);
            fit.r2[i] = if t.yty > 0.0 {
                1.0 - fit.rss[i] / t.yty
            } else {
                f64::NAN
            };
        }
        fit.method.push_str(", QR refit");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Gram, Library, Stlsq};
    use ndarray::{Array2, s};

    #[test]
    fn qr_refit_is_accurate_where_normal_equations_lose_digits() {
        // Two nearly collinear terms (condition number of X^T X about 1e12) and an exact model.
        let n = 3000;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| {
            let t = i as f64 / n as f64;
            match j {
                0 => (7.0 * t).sin(),
                1 => (7.0 * t).sin() + 1e-6 * (31.0 * t).cos(),
                _ => t * t,
            }
        });
        let w = [1.0, -2.0, 0.5];
        let y = Array2::from_shape_fn((n, 1), |(i, _)| (0..3).map(|j| w[j] * x[[i, j]]).sum());
        let gram = Gram::from_rows(x.view(), y.view());
        let mut fit = Stlsq::pysindy(1e-3, 0.0, 20, false)
            .fit(&gram, &Library::numbered(3), &["y"])
            .unwrap();
        assert_eq!(fit.support(0), vec![0, 1, 2]);
        let normal_eq_err = (0..3)
            .map(|j| (fit.coef[[0, j]] - w[j]).abs())
            .fold(0.0, f64::max);
        let mut refit = QrRefit::new(&fit);
        for start in (0..n).step_by(700) {
            let end = (start + 700).min(n);
            refit
                .push(x.slice(s![start..end, ..]), y.slice(s![start..end, ..]))
                .unwrap();
        }
        refit.finish(&mut fit).unwrap();
        let qr_err = (0..3)
            .map(|j| (fit.coef[[0, j]] - w[j]).abs())
            .fold(0.0, f64::max);
        println!("max coefficient error: normal equations {normal_eq_err:.1e}, QR {qr_err:.1e}");
        assert!(qr_err < 1e-8, "QR refit error {qr_err:e}");
        assert!(
            qr_err * 100.0 < normal_eq_err,
            "QR {qr_err:e} should beat the normal equations {normal_eq_err:e}"
        );
        assert!(
            fit.warnings.iter().any(|w| w.contains("ill-conditioned")),
            "{:?}",
            fit.warnings
        );
    }
}

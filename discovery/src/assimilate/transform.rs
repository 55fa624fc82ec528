//! The ensemble transform of the ETKF in its symmetric square-root form (Hunt et al. 2007,
//! DAPPER's `EnKF_analysis(..., "Sqrt")` in its eigendecomposition form), shared by the global
//! ETKF and the LETKF's local analyses.

use crate::error::DiscoveryError;
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};

/// The weights `W = 1 w^T + T` of the analysis `E_a = mean + W A` from the normalised observed
/// anomalies `yn = (Y - mean Y) R^-1/2` `(N, p)` and innovation `dy = (y - mean Y) R^-1/2` `(p,)`:
/// with `G = yn yn^T + (N - 1) I`, `w = G^-1 yn dy` moves the mean and `T = sqrt(N - 1)
/// G^-1/2` the anomalies. With fewer observations than members (an LETKF's local analysis)
/// through the `p x p` eigenproblem of `yn^T yn`, else through the `N x N` one of `G`: the same
/// weights to round-off, at `O(N p^2 + N^2 p)` instead of `O(N^3)`.
pub(crate) fn weights(
    yn: ArrayView2<f64>,
    dy: ArrayView1<f64>,
) -> Result<Array2<f64>, DiscoveryError> {
    let (n, p) = yn.dim();
    let (w, t) = if 0 < p && p < n {
        by_observations(yn, dy)?
    } else {
        by_members(yn, dy)?
    };
    Ok(Array2::from_shape_fn((n, n), |(i, j)| w[j] + t[[i, j]]))
}

/// The eigenvectors (columns) and eigenvalues of the symmetric `a`.
fn eigen(a: &Array2<f64>) -> Result<(Array2<f64>, Array1<f64>), DiscoveryError> {
    let n = a.nrows();
    let evd = Mat::from_fn(n, n, |i, j| a[[i, j]])
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| {
            DiscoveryError::Degenerate(format!("the ensemble transform's eigenproblem: {e:?}"))
        })?;
    let (u, s) = (evd.U(), evd.S().column_vector());
    Ok((
        Array2::from_shape_fn((n, n), |(i, k)| u[(i, k)]),
        Array1::from_shape_fn(n, |k| s[k]),
    ))
}

/// `(w, T)` from `G = V diag(d) V^T`: `w = V diag(1/d) V^T yn dy`, `T = V diag(sqrt((N - 1) /
/// d)) V^T`.
fn by_members(
    yn: ArrayView2<f64>,
    dy: ArrayView1<f64>,
) -> Result<(Array1<f64>, Array2<f64>), DiscoveryError> {
    let n = yn.nrows();
    let n1 = (n - 1) as f64;
    let mut g = yn.dot(&yn.t());
    g.diag_mut().mapv_inplace(|v| v + n1);
    let (v, d) = eigen(&g)?;
    let c = v.t().dot(&yn.dot(&dy)) / &d;
    let vs = &v * &d.mapv(|d| (n1 / d).sqrt());
    Ok((v.dot(&c), vs.dot(&v.t())))
}

/// `(w, T)` from `yn^T yn = V diag(l) V^T` and `M = yn V`: by Woodbury's identity `w = (yn dy -
/// M diag(1/(a + l)) M^T yn dy) / a` with `a = N - 1`, and `T = I + M diag(g(l)) M^T` with
/// `g(l) = (sqrt(a / (a + l)) - 1) / l = -1 / (sqrt(a + l) (sqrt(a) + sqrt(a + l)))`, written
/// so that it stays exact as `l` goes to 0.
fn by_observations(
    yn: ArrayView2<f64>,
    dy: ArrayView1<f64>,
) -> Result<(Array1<f64>, Array2<f64>), DiscoveryError> {
    let n = yn.nrows();
    let a = (n - 1) as f64;
    let (v, l) = eigen(&yn.t().dot(&yn))?;
    // Eigenvalues of a Gram matrix are >= 0; round-off may leave them a little below.
    let l = l.mapv(|l| l.max(0.0));
    let m = yn.dot(&v);
    let yd = yn.dot(&dy);
    let w = (&yd - &m.dot(&(m.t().dot(&yd) / l.mapv(|l| a + l)))) / a;
    let g = l.mapv(|l| -1.0 / ((a + l).sqrt() * (a.sqrt() + (a + l).sqrt())));
    let mut t = (&m * &g).dot(&m.t());
    t.diag_mut().mapv_inplace(|v| v + 1.0);
    Ok((w, t))
}

/// `E <- mean(E) + W (E - mean(E))` on the columns of `e` (a member per row).
pub(crate) fn apply(mut e: ArrayViewMut2<f64>, w: &Array2<f64>) {
    let (mean, a) = super::center(e.view());
    let updated = w.dot(&a) + &mean;
    e.assign(&updated);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::normal;
    use rand_mt::Mt64;

    /// The two eigenproblems give the same weights, with observations far below, just below
    /// and at the member count, and with an observation that no member's anomaly sees.
    #[test]
    fn both_eigenproblems_give_the_same_weights() {
        let mut rng = Mt64::new(3);
        for (n, p) in [(40, 3), (20, 19), (8, 7)] {
            let mut yn = Array2::from_shape_fn((n, p), |_| normal(&mut rng));
            yn.column_mut(0).fill(0.0);
            let dy = Array1::from_shape_fn(p, |_| normal(&mut rng));
            let (w1, t1) = by_members(yn.view(), dy.view()).unwrap();
            let (w2, t2) = by_observations(yn.view(), dy.view()).unwrap();
            // Entries of order 1 from eigenproblems of size <= 40: round-off.
            let diff = (&t1 - &t2)
                .iter()
                .chain((&w1 - &w2).iter())
                .fold(0.0f64, |m, d| m.max(d.abs()));
            assert!(diff < 1e-12, "N = {n}, p = {p}: {diff:e}");
        }
    }
}

//! The ensemble transform of the ETKF in its symmetric square-root form (Hunt et al. 2007,
//! DAPPER's `EnKF_analysis(..., "Sqrt")` in its eigendecomposition form), shared by the global
//! ETKF and the LETKF's local analyses.

use super::eigen::symmetric_eigen;
use crate::error::DiscoveryError;
use medida_solver::simd::dispatched;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2};

/// The weights `W = 1 w^T + T` of the analysis `E_a = mean + W A` from the normalised observed
/// anomalies `yn = (Y - mean Y) R^-1/2` `(N, p)` and innovation `dy = (y - mean Y) R^-1/2` `(p,)`:
/// with `G = yn yn^T + (N - 1) I`, `w = G^-1 yn dy` moves the mean and `T = sqrt(N - 1)
/// G^-1/2` the anomalies. See [`weights_of`].
pub(crate) fn weights(
    yn: ArrayView2<f64>,
    dy: ArrayView1<f64>,
) -> Result<Array2<f64>, DiscoveryError> {
    let yt: Vec<f64> = yn.t().iter().copied().collect();
    weights_of(&yt, &dy.to_vec(), yn.nrows())
}

/// [`weights`] from the transposed anomalies `yt = yn^T` `(p, N)`, row-major (one observation's
/// anomalies per row, as a local analysis gathers them). With fewer observations than members
/// (an LETKF's local analysis) through the `p x p` eigenproblem of `yn^T yn`, else through the
/// `N x N` one of `G`: the same weights to round-off, at `O(N p^2 + N^2 p)` instead of `O(N^3)`.
/// Every product is a sum of scaled rows in a fixed order, so the weights are the same bits
/// wherever they are computed.
pub(crate) fn weights_of(yt: &[f64], dy: &[f64], n: usize) -> Result<Array2<f64>, DiscoveryError> {
    let p = dy.len();
    debug_assert_eq!(yt.len(), p * n);
    let (w, t) = if 0 < p && p < n {
        by_observations(yt, dy, n)?
    } else {
        by_members(yt, dy, n)?
    };
    Ok(Array2::from_shape_fn((n, n), |(i, j)| w[j] + t[i * n + j]))
}

dispatched! {
    /// `x += s y`.
    fn add_scaled<T: Real>(x: &mut [T], s: T, y: &[T]) {
        for (x, &y) in x.iter_mut().zip(y) {
            *x = *x + s * y;
        }
    }
}

/// `a += s x x^T` on the row-major `n x n` `a` (`n = x.len()`).
fn add_outer(a: &mut [f64], s: f64, x: &[f64]) {
    for (row, &xi) in a.chunks_exact_mut(x.len()).zip(x) {
        add_scaled(row, s * xi, x);
    }
}

/// `yn dy = yt^T dy` `(N,)`.
fn anomalies_times(yt: &[f64], dy: &[f64], n: usize) -> Vec<f64> {
    let mut b = vec![0.0; n];
    for (row, &d) in yt.chunks_exact(n).zip(dy) {
        add_scaled(&mut b, d, row);
    }
    b
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(x, y)| x * y).sum()
}

/// `(w, T)` (`T` row-major `N x N`) from `G = V diag(d) V^T`: `w = V diag(1/d) V^T yn dy`, `T =
/// V diag(sqrt((N - 1) / d)) V^T`.
fn by_members(yt: &[f64], dy: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>), DiscoveryError> {
    let n1 = (n - 1) as f64;
    let mut g = vec![0.0; n * n];
    for row in yt.chunks_exact(n) {
        add_outer(&mut g, 1.0, row);
    }
    for i in 0..n {
        g[i * n + i] += n1;
    }
    let (v, d) = symmetric_eigen(&g, n)?;
    let b = anomalies_times(yt, dy, n);
    let (mut w, mut t) = (vec![0.0; n], vec![0.0; n * n]);
    for (vk, &dk) in v.chunks_exact(n).zip(&d) {
        add_scaled(&mut w, dot(vk, &b) / dk, vk);
        add_outer(&mut t, (n1 / dk).sqrt(), vk);
    }
    Ok((w, t))
}

/// `(w, T)` from `yn^T yn = U diag(l) U^T` and `M = yn U` (columns `m_k`): by Woodbury's
/// identity `w = (yn dy - M diag(1/(a + l)) M^T yn dy) / a` with `a = N - 1`, and `T = I + M
/// diag(g(l)) M^T` with `g(l) = (sqrt(a / (a + l)) - 1) / l = -1 / (sqrt(a + l) (sqrt(a) +
/// sqrt(a + l)))`, written so that it stays exact as `l` goes to 0.
fn by_observations(
    yt: &[f64],
    dy: &[f64],
    n: usize,
) -> Result<(Vec<f64>, Vec<f64>), DiscoveryError> {
    let (a, p) = ((n - 1) as f64, dy.len());
    let rows: Vec<&[f64]> = yt.chunks_exact(n).collect();
    let gram: Vec<f64> = (0..p * p).map(|k| dot(rows[k / p], rows[k % p])).collect();
    let (u, l) = symmetric_eigen(&gram, p)?;
    let yd = anomalies_times(yt, dy, n);
    let (mut w, mut t) = (yd.clone(), vec![0.0; n * n]);
    for i in 0..n {
        t[i * n + i] = 1.0;
    }
    for (uk, &lk) in u.chunks_exact(p).zip(&l) {
        // Eigenvalues of a Gram matrix are >= 0; round-off may leave them a little below.
        let lk = lk.max(0.0);
        let mk = anomalies_times(yt, uk, n);
        add_scaled(&mut w, -dot(&mk, &yd) / (a + lk), &mk);
        add_outer(
            &mut t,
            -1.0 / ((a + lk).sqrt() * (a.sqrt() + (a + lk).sqrt())),
            &mk,
        );
    }
    w.iter_mut().for_each(|w| *w /= a);
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
    use ndarray::Array1;
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
            let yt: Vec<f64> = yn.t().iter().copied().collect();
            let (w1, t1) = by_members(&yt, &dy.to_vec(), n).unwrap();
            let (w2, t2) = by_observations(&yt, &dy.to_vec(), n).unwrap();
            // Entries of order 1 from eigenproblems of size <= 40: round-off.
            let diff = t1
                .iter()
                .zip(&t2)
                .chain(w1.iter().zip(&w2))
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff < 1e-12, "N = {n}, p = {p}: {diff:e}");
        }
    }
}

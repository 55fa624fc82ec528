//! The ensemble transform of the ETKF in its symmetric square-root form (Hunt et al. 2007,
//! DAPPER's `EnKF_analysis(..., "Sqrt")` in its eigendecomposition form), shared by the global
//! ETKF and the LETKF's local analyses.

use crate::error::DiscoveryError;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par, Side};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};

/// The weights `W = 1 w^T + T` of the analysis `E_a = mean + W A` from the normalised observed
/// anomalies `yn = (Y - mean Y) R^-1/2` `(N, p)` and innovation `dy = (y - mean Y) R^-1/2` `(p,)`:
/// with `G = yn yn^T + (N - 1) I = V diag(d) V^T`, `w = dy yn^T V diag(1/d) V^T` moves the mean
/// and `T = sqrt(N - 1) V diag(d^-1/2) V^T` the anomalies.
pub(crate) fn weights(
    yn: ArrayView2<f64>,
    dy: ArrayView1<f64>,
) -> Result<Array2<f64>, DiscoveryError> {
    let n = yn.nrows();
    let n1 = (n - 1) as f64;
    let g = yn.dot(&yn.t());
    let g = Mat::from_fn(n, n, |i, j| g[[i, j]] + if i == j { n1 } else { 0.0 });
    let evd = g.self_adjoint_eigen(Side::Lower).map_err(|e| {
        DiscoveryError::Degenerate(format!("the ensemble transform's eigenproblem: {e:?}"))
    })?;
    let (v, d) = (evd.U(), evd.S().column_vector());
    let yd = yn.dot(&dy); // (N,): yn dy
    // c = diag(1/d) V^T (yn dy), then w = V c.
    let c = Mat::from_fn(n, 1, |k, _| {
        (0..n).map(|i| v[(i, k)] * yd[i]).sum::<f64>() / d[k]
    });
    let w = v * &c;
    // T = (V diag(s)) V^T with s = sqrt((N - 1) / d): one matrix product.
    let vs = Mat::from_fn(n, n, |i, k| v[(i, k)] * (n1 / d[k]).sqrt());
    let mut t = Mat::<f64>::zeros(n, n);
    matmul(
        t.as_mut(),
        Accum::Replace,
        vs.as_ref(),
        v.transpose(),
        1.0,
        Par::Seq,
    );
    Ok(Array2::from_shape_fn((n, n), |(i, j)| {
        w[(j, 0)] + t[(i, j)]
    }))
}

/// `E <- mean(E) + W (E - mean(E))` on the columns of `e` (a member per row).
pub(crate) fn apply(mut e: ArrayViewMut2<f64>, w: &Array2<f64>) {
    let mean = e.mean_axis(Axis(0)).expect("at least one member");
    let a = &e - &mean;
    let updated = w.dot(&a) + &mean;
    e.assign(&updated);
}

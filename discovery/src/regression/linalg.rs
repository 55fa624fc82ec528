//! Small symmetric solves on sub-blocks of a Gram matrix, through faer.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::Array2;

/// `(G[S, S] + ridge I) w = b[S]`: by Cholesky; when that fails (singular or not positive
/// definite), the minimum-norm solution from the eigendecomposition. Returns `w` and whether the
/// fallback was needed.
pub(crate) fn solve_sub(g: &Array2<f64>, s: &[usize], b: &[f64], ridge: f64) -> (Vec<f64>, bool) {
    let k = s.len();
    let a = Mat::from_fn(k, k, |i, j| {
        g[[s[i], s[j]]] + if i == j { ridge } else { 0.0 }
    });
    let rhs = Mat::from_fn(k, 1, |i, _| b[i]);
    if let Ok(llt) = a.llt(Side::Lower) {
        let w = llt.solve(&rhs);
        if w.col(0).iter().all(|v| v.is_finite()) {
            return ((0..k).map(|i| w[(i, 0)]).collect(), false);
        }
    }
    (pseudo_solve(&a, &rhs), true)
}

/// Minimum-norm solution of a symmetric system through its eigendecomposition, dropping
/// eigenvalues below `1e-12` of the largest.
fn pseudo_solve(a: &Mat<f64>, rhs: &Mat<f64>) -> Vec<f64> {
    let k = a.nrows();
    let Ok(eig) = a.self_adjoint_eigen(Side::Lower) else {
        return vec![0.0; k];
    };
    let (u, s) = (eig.U(), eig.S());
    let smax = (0..k).map(|i| s[i].abs()).fold(0.0, f64::max);
    let mut w = vec![0.0; k];
    for j in 0..k {
        if s[j].abs() > 1e-12 * smax {
            let proj: f64 = (0..k).map(|i| u[(i, j)] * rhs[(i, 0)]).sum::<f64>() / s[j];
            for (i, wi) in w.iter_mut().enumerate() {
                *wi += proj * u[(i, j)];
            }
        }
    }
    w
}

/// 2-norm condition number of the symmetric block `G[S, S]` (eigenvalue ratio); infinite when
/// singular, 1 for an empty or one-term support with a non-zero diagonal.
pub(crate) fn condition_sub(g: &Array2<f64>, s: &[usize]) -> f64 {
    let k = s.len();
    if k == 0 {
        return 1.0;
    }
    let a = Mat::from_fn(k, k, |i, j| g[[s[i], s[j]]]);
    match a.self_adjoint_eigenvalues(Side::Lower) {
        Ok(ev) => {
            let (lo, hi) = (
                ev[0].abs().min(ev[k - 1].abs()),
                ev[0].abs().max(ev[k - 1].abs()),
            );
            if ev[0] <= 0.0 { f64::INFINITY } else { hi / lo }
        }
        Err(_) => f64::INFINITY,
    }
}

/// Inverse of a symmetric positive definite matrix, by Cholesky; `None` if it is not.
pub(crate) fn spd_inverse_sub(a: &Array2<f64>) -> Option<Array2<f64>> {
    use faer::linalg::solvers::DenseSolveCore;
    let k = a.nrows();
    let m = Mat::from_fn(k, k, |i, j| a[[i, j]]);
    let inv = m.llt(Side::Lower).ok()?.inverse();
    let out = Array2::from_shape_fn((k, k), |(i, j)| inv[(i, j)]);
    out.iter().all(|v| v.is_finite()).then_some(out)
}

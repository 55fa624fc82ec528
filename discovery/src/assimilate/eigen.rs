//! The symmetric eigenproblem of the ensemble transforms: matrices of the member count (20-100),
//! one per local analysis of an LETKF (4,608 per analysis of the 25% demo). Householder
//! tridiagonalization and the implicit QL algorithm with Wilkinson shifts (EISPACK's `tred2` and
//! `tql2`, in the public-domain form of JAMA), with the eigenvectors stored contiguously so that
//! the rotations' updates run in vector registers, compiled for AVX2 where the CPU has it.
//!
//! faer's `self_adjoint_eigen` computes the same decomposition (the tests compare them) but is
//! built for large matrices: back to back in a release build on the Intel Xeon of 2026-12-06, a
//! 20 x 20 `G = Y Y^T + 19 I` took 49-54 us with faer and 23-30 us here, a 40 x 40 one 107-117
//! us and 76-79 us. The QL iteration's scalar recurrence (a square root and two divisions per
//! rotation) is what is left. See docs/benchmarks.md for its share of the demo's cycle.

use crate::error::DiscoveryError;
use medida_solver::Real;
use medida_solver::simd::dispatched;

/// Entries beyond this magnitude are refused: the rotations square them.
const LARGEST: f64 = 1e150;

/// The eigendecomposition `A = V diag(d) V^T` of the symmetric `n x n` matrix `a` (row-major;
/// only its lower triangle is read): `(v, d)` with eigenvector `k` in `v[k n..(k + 1) n]` and
/// its eigenvalue in `d[k]`, in no particular order. The same bits with or without AVX2 (the
/// vector copy does the same operations on each element in the same order).
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>), DiscoveryError> {
    assert_eq!(a.len(), n * n, "symmetric_eigen: a is n x n");
    if let Some(x) = a.iter().find(|x| x.is_nan() || x.abs() > LARGEST) {
        return Err(DiscoveryError::Degenerate(format!(
            "the ensemble transform's eigenproblem: an entry is {x} (allowed: finite, at most {LARGEST:e} in magnitude)"
        )));
    }
    // `z[c n + r]` holds entry `(r, c)`: each column of the transformations is contiguous.
    let mut z: Vec<f64> = (0..n * n)
        .map(|k| {
            let (c, r) = (k / n, k % n);
            a[r.max(c) * n + r.min(c)]
        })
        .collect();
    let (mut d, mut e) = (vec![0.0; n], vec![0.0; n]);
    if n > 0 && !decompose(&mut z, &mut d, &mut e, n) {
        return Err(DiscoveryError::Degenerate(
            "the ensemble transform's eigenproblem: the QL iteration did not converge in 30 iterations per eigenvalue".into(),
        ));
    }
    Ok((z, d))
}

dispatched! {
    /// [`tridiagonalize`] then [`ql`]; false when the QL iteration does not converge.
    fn decompose<T: Real>(z: &mut [T], d: &mut [T], e: &mut [T], n: usize) -> bool {
        tridiagonalize(z, d, e, n);
        ql(z, d, e, n)
    }
}

/// `tred2`: reduces the symmetric matrix in `z` to tridiagonal form, diagonal `d`, sub-diagonal
/// `e[1..]`, and leaves in `z` the orthogonal transformation that does it.
#[inline(always)]
fn tridiagonalize<T: Real>(z: &mut [T], d: &mut [T], e: &mut [T], n: usize) {
    let at = |r: usize, c: usize| c * n + r;
    let (zero, one) = (T::zero(), T::one());
    for j in 0..n {
        d[j] = z[at(n - 1, j)];
    }
    for i in (1..n).rev() {
        let scale: T = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = zero;
        if scale == zero {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = z[at(i - 1, j)];
                z[at(i, j)] = zero;
                z[at(j, i)] = zero;
            }
        } else {
            for x in &mut d[..i] {
                *x = *x / scale;
                h = h + *x * *x;
            }
            let f = d[i - 1];
            let g = if f > zero { -h.sqrt() } else { h.sqrt() };
            e[i] = scale * g;
            h = h - f * g;
            d[i - 1] = f - g;
            e[..i].fill(zero);
            for j in 0..i {
                let f = d[j];
                z[at(j, i)] = f;
                let zj = &z[at(j + 1, j)..at(i, j)];
                let g = zj
                    .iter()
                    .zip(&d[j + 1..i])
                    .fold(e[j] + z[at(j, j)] * f, |g, (&zk, &dk)| g + zk * dk);
                for (ek, &zk) in e[j + 1..i].iter_mut().zip(zj) {
                    *ek = *ek + zk * f;
                }
                e[j] = g;
            }
            let mut f = zero;
            for j in 0..i {
                e[j] = e[j] / h;
                f = f + e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] = e[j] - hh * d[j];
            }
            for j in 0..i {
                let (f, g) = (d[j], e[j]);
                let zj = &mut z[at(j, j)..at(i, j)];
                for ((zk, &ek), &dk) in zj.iter_mut().zip(&e[j..i]).zip(&d[j..i]) {
                    *zk = *zk - (f * ek + g * dk);
                }
                d[j] = z[at(i - 1, j)];
                z[at(i, j)] = zero;
            }
        }
        d[i] = h;
    }
    // Accumulate the transformations.
    for i in 0..n - 1 {
        z[at(n - 1, i)] = z[at(i, i)];
        z[at(i, i)] = one;
        let h = d[i + 1];
        if h != zero {
            let (head, next) = z.split_at_mut(at(0, i + 1));
            let next = &next[..=i];
            for (dk, &zk) in d[..=i].iter_mut().zip(next) {
                *dk = zk / h;
            }
            for zj in head.chunks_exact_mut(n) {
                let zj = &mut zj[..=i];
                let g = zj.iter().zip(next).fold(zero, |g, (&zk, &nk)| g + nk * zk);
                for (zk, &dk) in zj.iter_mut().zip(&d[..=i]) {
                    *zk = *zk - g * dk;
                }
            }
        }
        for k in 0..=i {
            z[at(k, i + 1)] = zero;
        }
    }
    for j in 0..n {
        d[j] = z[at(n - 1, j)];
        z[at(n - 1, j)] = zero;
    }
    z[at(n - 1, n - 1)] = one;
    e[0] = zero;
}

/// `tql2`: the eigenvalues of the tridiagonal matrix (`d`, `e[1..]`) into `d`, and the
/// eigenvectors, the transformation in `z` times the QL rotations, into `z`. False when an
/// eigenvalue takes more than 30 iterations.
#[inline(always)]
fn ql<T: Real>(z: &mut [T], d: &mut [T], e: &mut [T], n: usize) -> bool {
    let (zero, one, two, eps) = (T::zero(), T::one(), T::of(2.0), T::epsilon());
    e.copy_within(1.., 0);
    e[n - 1] = zero;
    let (mut f, mut tst1) = (zero, zero);
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        // The first negligible sub-diagonal element at or after `l` (`e[n - 1]` is 0).
        let m = (l..n).find(|&m| e[m].abs() <= eps * tst1).unwrap_or(n - 1);
        let mut iterations = 0;
        while m > l && e[l].abs() > eps * tst1 {
            iterations += 1;
            if iterations > 30 {
                return false;
            }
            // The implicit shift.
            let g = d[l];
            let p = (d[l + 1] - g) / (two * e[l]);
            let r = (p * p + one).sqrt();
            let r = if p < zero { -r } else { r };
            d[l] = e[l] / (p + r);
            d[l + 1] = e[l] * (p + r);
            let dl1 = d[l + 1];
            let h = g - d[l];
            for x in &mut d[l + 2..n] {
                *x = *x - h;
            }
            f = f + h;
            // The implicit QL transformation.
            let mut p = d[m];
            let (mut c, mut c2, mut c3) = (one, one, one);
            let el1 = e[l + 1];
            let (mut s, mut s2) = (zero, zero);
            for i in (l..m).rev() {
                c3 = c2;
                c2 = c;
                s2 = s;
                let g = c * e[i];
                let h = c * p;
                let r = (p * p + e[i] * e[i]).sqrt();
                e[i + 1] = s * r;
                s = e[i] / r;
                c = p / r;
                p = c * d[i] - s * g;
                d[i + 1] = h + s * (c * g + s * d[i]);
                // Rotate eigenvector columns `i` and `i + 1`.
                let (x, y) = z[i * n..(i + 2) * n].split_at_mut(n);
                for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                    let h = *y;
                    *y = s * *x + c * h;
                    *x = c * *x - s * h;
                }
            }
            let p = -s * s2 * c3 * el1 * e[l] / dl1;
            e[l] = s * p;
            d[l] = c * p;
        }
        d[l] = d[l] + f;
        e[l] = zero;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::normal;
    use faer::{Mat, Side};
    use medida_solver::simd::{Simd, set_simd};
    use rand_mt::Mt64;

    /// Symmetric test matrices: an LETKF's `G = Y Y^T + (N - 1) I` with more and fewer
    /// observations than members, a rank-one matrix (repeated zero eigenvalues), the identity
    /// (one eigenvalue of multiplicity n), a diagonal, a zero matrix and a 1 x 1.
    fn matrices() -> Vec<(usize, Vec<f64>)> {
        let mut rng = Mt64::new(5);
        let mut out = Vec::new();
        for (n, p, scale) in [(20, 30, 30.0), (20, 5, 1.0), (40, 60, 1e3), (7, 1, 1.0)] {
            let y: Vec<f64> = (0..n * p).map(|_| scale * normal(&mut rng)).collect();
            let a = (0..n * n)
                .map(|k| {
                    let (i, j) = (k / n, k % n);
                    let g: f64 = (0..p).map(|q| y[i * p + q] * y[j * p + q]).sum();
                    g + if i == j { (n - 1) as f64 } else { 0.0 }
                })
                .collect();
            out.push((n, a));
        }
        let u: Vec<f64> = (0..9).map(|_| normal(&mut rng)).collect();
        out.push((9, (0..81).map(|k| u[k / 9] * u[k % 9]).collect()));
        out.push((6, (0..36).map(|k| f64::from(k % 7 == 0)).collect()));
        out.push((
            5,
            (0..25)
                .map(|k| if k % 6 == 0 { k as f64 - 7.0 } else { 0.0 })
                .collect(),
        ));
        out.push((4, vec![0.0; 16]));
        out.push((1, vec![-2.5]));
        out
    }

    /// Backward stability: `A V - V D` and `V^T V - I` are within a small multiple of `n eps
    /// ||A||` and `n eps` (the bound of Householder reduction and QL rotations), and the
    /// eigenvalues match faer's (Weyl: both are within that of the exact ones).
    #[test]
    fn decomposes_like_faer_to_round_off() {
        for (n, a) in matrices() {
            let (v, d) = symmetric_eigen(&a, n).unwrap();
            let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt().max(1.0);
            let tol = 10.0 * n as f64 * f64::EPSILON;
            for k in 0..n {
                for i in 0..n {
                    let av: f64 = (0..n).map(|j| a[i * n + j] * v[k * n + j]).sum();
                    let r = (av - d[k] * v[k * n + i]).abs();
                    assert!(r <= tol * norm, "n = {n}: residual {r:e}");
                }
                for l in 0..n {
                    let dot: f64 = (0..n).map(|i| v[k * n + i] * v[l * n + i]).sum();
                    let r = (dot - f64::from(k == l)).abs();
                    assert!(r <= tol, "n = {n}: orthogonality {r:e}");
                }
            }
            let faer = Mat::from_fn(n, n, |i, j| a[i * n + j])
                .self_adjoint_eigen(Side::Lower)
                .unwrap();
            let mut sorted = d.clone();
            sorted.sort_by(f64::total_cmp);
            for (k, x) in sorted.iter().enumerate() {
                let r = (x - faer.S().column_vector()[k]).abs();
                assert!(
                    r <= tol * norm,
                    "n = {n}: eigenvalue {k} off faer's by {r:e}"
                );
            }
        }
    }

    #[test]
    fn the_vector_copy_gives_the_same_bits() {
        for (n, a) in matrices() {
            let auto = symmetric_eigen(&a, n).unwrap();
            set_simd(Simd::Baseline);
            let baseline = symmetric_eigen(&a, n).unwrap();
            set_simd(Simd::Auto);
            assert_eq!(auto, baseline, "n = {n}");
        }
    }

    #[test]
    fn refuses_a_non_finite_matrix() {
        let err = symmetric_eigen(&[1.0, f64::NAN, f64::NAN, 1.0], 2).unwrap_err();
        assert!(err.to_string().contains("NaN"), "{err}");
        let err = symmetric_eigen(&[1e200, 0.0, 0.0, 1.0], 2).unwrap_err();
        assert!(err.to_string().contains("at most 1e150"), "{err}");
    }
}

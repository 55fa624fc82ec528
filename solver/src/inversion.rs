//! PV inversion for two layers: `psi_hat = a q_hat`, with `a` the inverse of
//! `[[-(kappa^2 + F1), F1], [F2, -(kappa^2 + F2)]]` and `a = 0` at `kappa = 0` (zero mean streamfunction).

use crate::grid::Grid;

/// The real 2x2 inversion matrix at each wavenumber (pyqg `a`), k-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Inversion {
    /// `a[i][j]`: multiplier of `q_hat[j]` in `psi_hat[i]`.
    pub a: [[Vec<f64>; 2]; 2],
}

impl Inversion {
    /// The matrix for coupling coefficients `f1`, `f2` [1/m^2], computed as pyqg does.
    pub fn new(grid: &Grid, f1: f64, f2: f64) -> Self {
        let wv2 = grid.wv2();
        let det_inv: Vec<f64> = wv2
            .iter()
            .map(|&w| {
                let det = w * (w + f1 + f2);
                if det == 0.0 { 0.0 } else { det.powi(-1) }
            })
            .collect();
        let entry = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
            wv2.iter().zip(&det_inv).map(|(&w, &d)| f(w) * d).collect()
        };
        Self {
            a: [
                [entry(&|w| -(w + f2)), entry(&|_| -f1)],
                [entry(&|_| -f2), entry(&|w| -(w + f1))],
            ],
        }
    }

    /// `psi_hat[lev] = sum_j a[lev][j] q_hat[j]`.
    pub fn invert_layer(
        &self,
        lev: usize,
        qh: [&[crate::Complex64]; 2],
        out: &mut [crate::Complex64],
    ) {
        let [a0, a1] = &self.a[lev];
        for ((((p, &a0), &a1), q0), q1) in out.iter_mut().zip(a0).zip(a1).zip(qh[0]).zip(qh[1]) {
            *p = q0 * a0 + q1 * a1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Complex64;

    #[test]
    fn inverts_the_pv_operator() {
        let grid = Grid::new(8, 10, 3.0, 5.0).unwrap();
        let (f1, f2) = (0.7, 0.2);
        let inv = Inversion::new(&grid, f1, f2);
        let wv2 = grid.wv2();
        let psi: [Vec<Complex64>; 2] = [
            grid.spectral_map_indexed(|i, j| Complex64::new(i as f64 + 1.0, j as f64)),
            grid.spectral_map_indexed(|i, j| Complex64::new(-(j as f64), 0.5 * i as f64)),
        ];
        // q1 = -kappa^2 psi1 + F1 (psi2 - psi1), q2 = -kappa^2 psi2 + F2 (psi1 - psi2)
        let q: [Vec<Complex64>; 2] = [
            (0..wv2.len())
                .map(|n| -wv2[n] * psi[0][n] + f1 * (psi[1][n] - psi[0][n]))
                .collect(),
            (0..wv2.len())
                .map(|n| -wv2[n] * psi[1][n] + f2 * (psi[0][n] - psi[1][n]))
                .collect(),
        ];
        for (lev, want) in psi.iter().enumerate() {
            let mut out = vec![Complex64::default(); wv2.len()];
            inv.invert_layer(lev, [&q[0], &q[1]], &mut out);
            assert_eq!(out[0], Complex64::default(), "mean mode is zero");
            for (got, want) in out.iter().zip(want).skip(1) {
                assert!((got - want).norm() < 1e-12 * want.norm().max(1.0));
            }
        }
    }
}

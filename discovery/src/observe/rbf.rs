//! Radial-basis-function interpolation, the classical baseline of the MEDIDA study's code
//! (`scipy.interpolate.Rbf`): `f(x) = sum_i w_i phi(|x - x_i|) + a + b x + c y`.

use super::interp::{Interpolator, grid_point};
use crate::error::DiscoveryError;
use faer::Mat;
use faer::linalg::solvers::Solve;
use medida_solver::Grid;

/// The radial function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// `r^2 log r` (thin-plate spline), with a linear polynomial.
    ThinPlate,
    /// `sqrt((r / epsilon)^2 + 1)` (scipy's multiquadric), with a linear polynomial.
    Multiquadric {
        /// Shape parameter, in the units of the coordinates.
        epsilon: f64,
    },
}

/// RBF interpolation in physical coordinates (Euclidean, not periodic, as scipy's), solved densely
/// by LU with partial pivoting.
#[derive(Debug, Clone, PartialEq)]
pub struct Rbf {
    grid: Grid,
    /// The radial function.
    pub kernel: Kernel,
}

impl Rbf {
    /// On `grid` with `kernel`.
    pub fn new(grid: &Grid, kernel: Kernel) -> Self {
        Self {
            grid: grid.clone(),
            kernel,
        }
    }

    fn phi(&self, r: f64) -> f64 {
        match self.kernel {
            Kernel::ThinPlate if r > 0.0 => r * r * r.ln(),
            Kernel::ThinPlate => 0.0,
            Kernel::Multiquadric { epsilon } => ((r / epsilon).powi(2) + 1.0).sqrt(),
        }
    }

    /// The radial function of the distance between `p` and `q`.
    fn between(&self, p: [f64; 2], q: [f64; 2]) -> f64 {
        self.phi(((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
    }
}

impl Interpolator for Rbf {
    fn name(&self) -> String {
        match self.kernel {
            Kernel::ThinPlate => "rbf (thin-plate spline)".into(),
            Kernel::Multiquadric { epsilon } => format!("rbf (multiquadric, epsilon {epsilon})"),
        }
    }

    fn interpolate(&self, stations: &[usize], values: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        let m = stations.len();
        let pos: Vec<[f64; 2]> = stations
            .iter()
            .map(|&i| grid_point(&self.grid, i))
            .collect();
        let n = m + 3;
        let poly = |p: [f64; 2], k: usize| [1.0, p[0], p[1]][k];
        let a = Mat::from_fn(n, n, |r, c| match (r < m, c < m) {
            (true, true) => self.between(pos[r], pos[c]),
            (true, false) => poly(pos[r], c - m),
            (false, true) => poly(pos[c], r - m),
            (false, false) => 0.0,
        });
        let rhs = Mat::from_fn(n, 1, |r, _| if r < m { values[r] } else { 0.0 });
        let w = a.partial_piv_lu().solve(&rhs);
        if !(0..n).all(|i| w[(i, 0)].is_finite()) {
            return Err(DiscoveryError::Degenerate(
                "rbf: the interpolation system is singular".into(),
            ));
        }
        let out = (0..self.grid.n_phys())
            .map(|i| {
                let p = grid_point(&self.grid, i);
                let radial: f64 = pos
                    .iter()
                    .enumerate()
                    .map(|(k, q)| w[(k, 0)] * self.between(p, *q))
                    .sum();
                radial + (0..3).map(|k| w[(m + k, 0)] * poly(p, k)).sum::<f64>()
            })
            .collect();
        Ok(out)
    }
}

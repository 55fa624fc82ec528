//! The Gaussian random-Fourier-feature map shared by `rff-ridge` and `rff-mlp`:
//! `gamma(x) = [cos(2 pi B x), sin(2 pi B x)]` on coordinates scaled to [0, 1) per axis.

use super::spec::normal;
use medida_solver::Grid;
use rand_mt::Mt64;

/// The frequencies `B`: rows drawn from N(0, sigma^2) in cycles per domain and rounded to whole
/// cycles, so that every feature is periodic, as the fields are (the study's are not rounded).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FourierFeatures {
    b: Vec<[f64; 2]>,
}

impl FourierFeatures {
    /// `n` frequencies of standard deviation `sigma`, drawn from `rng`.
    pub(crate) fn draw(rng: &mut Mt64, n: usize, sigma: f64) -> Self {
        let b = (0..n)
            .map(|_| [(sigma * normal(rng)).round(), (sigma * normal(rng)).round()])
            .collect();
        Self { b }
    }

    /// Number of features (two per frequency).
    pub(crate) fn len(&self) -> usize {
        2 * self.b.len()
    }

    /// The features of point `(x, y)` in the unit square: all cosines, then all sines.
    pub(crate) fn row(&self, (x, y): (f64, f64)) -> Vec<f64> {
        let phases: Vec<f64> = self
            .b
            .iter()
            .map(|bj| std::f64::consts::TAU * (bj[0] * x + bj[1] * y))
            .collect();
        phases
            .iter()
            .map(|p| p.cos())
            .chain(phases.iter().map(|p| p.sin()))
            .collect()
    }
}

/// Grid point `p` (flat row-major index) in the unit square: `(i / nx, j / ny)`.
pub(crate) fn unit_coords(grid: &Grid, p: usize) -> (f64, f64) {
    let (nx, ny) = (grid.nx, grid.ny);
    ((p % nx) as f64 / nx as f64, (p / nx) as f64 / ny as f64)
}

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
    /// `n` frequencies drawn from `rng`, frequency `j` with standard deviations `scales[j %
    /// scales.len()]` (cycles per domain along x and y).
    pub(crate) fn draw(rng: &mut Mt64, n: usize, scales: &[[f64; 2]]) -> Self {
        let b = (0..n)
            .map(|j| {
                let [sx, sy] = scales[j % scales.len()];
                [(sx * normal(rng)).round(), (sy * normal(rng)).round()]
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_are_dealt_to_the_scales_in_turn() {
        let scales = [[2.0, 3.0], [8.0, 12.0]];
        let ff = FourierFeatures::draw(&mut Mt64::new(7), 8000, &scales);
        assert_eq!(ff.len(), 16000);
        for (s, [sx, sy]) in scales.iter().enumerate() {
            let rows: Vec<&[f64; 2]> = ff.b.iter().skip(s).step_by(2).collect();
            let rms = |axis: usize| {
                (rows.iter().map(|b| b[axis] * b[axis]).sum::<f64>() / rows.len() as f64).sqrt()
            };
            // 4000 draws: the sample rms is within 3.5% of sigma at 3 standard errors
            // (1 / sqrt(2 x 4000) = 1.1%); rounding to whole cycles adds 1/12 to the variance.
            for (axis, sigma) in [(0, sx), (1, sy)] {
                let expected = (sigma * sigma + 1.0 / 12.0).sqrt();
                assert!(
                    (rms(axis) / expected - 1.0).abs() < 0.035,
                    "scale {s} axis {axis}: {} against {expected}",
                    rms(axis)
                );
            }
        }
    }
}

//! pyqg's exponential spectral filter, applied multiplicatively to the whole updated PV each step.

use crate::grid::Grid;

/// Non-dimensional cutoff `kappa_c = 0.65 pi` below which the filter is exactly 1.
pub const FILTER_CUTOFF: f64 = 0.65 * std::f64::consts::PI;

/// The filter `exp(-filterfac (kappa* - kappa_c)^4)` for `kappa* > kappa_c`, else 1, where
/// `kappa* = sqrt((k dx)^2 + (l dy)^2)` is the grid-scaled wavenumber. k-major.
/// `filterfac = 0` gives all ones (no filter).
pub fn exponential_filter(grid: &Grid, filterfac: f64) -> Vec<f64> {
    let (dx, dy) = (grid.dx(), grid.dy());
    grid.spectral_map(|k, l| {
        let wvx = ((k * dx).powi(2) + (l * dy).powi(2)).sqrt();
        if wvx > FILTER_CUTOFF {
            (-filterfac * (wvx - FILTER_CUTOFF).powi(4)).exp()
        } else {
            1.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_reaches_machine_precision_at_the_axis_nyquist() {
        // pyqg.md 2.8: filtr = 1.042e-15 at kappa* = pi for filterfac 23.6.
        let grid = Grid::new(64, 64, 1e6, 1e6).unwrap();
        let f = exponential_filter(&grid, 23.6);
        let nyq_k = f[32 * grid.nl()]; // k = nx/2, l = 0
        assert!((nyq_k - 1.042e-15).abs() < 1e-18, "{nyq_k}");
        assert_eq!(f[0], 1.0);
        let ones = f.iter().filter(|&&v| v == 1.0).count() as f64 / f.len() as f64;
        assert!((ones - 0.33).abs() < 0.02, "{ones}");
    }
}

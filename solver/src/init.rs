//! Initial conditions: pyqg's random recipe, reproduced bit for bit from a seed.

use crate::grid::Grid;
use ndarray::Array3;
use rand_mt::Mt;

/// NumPy's legacy `RandomState`: MT19937 seeded as `np.random.seed(seed)`, drawing doubles in
/// `[0, 1)` exactly as `np.random.rand` does (53 bits from two 32-bit outputs).
#[derive(Debug, Clone)]
pub struct NumpyLegacyRng(Mt);

impl NumpyLegacyRng {
    /// The generator after `np.random.seed(seed)`.
    pub fn new(seed: u32) -> Self {
        Self(Mt::new(seed))
    }
    /// The next `np.random.rand()` value.
    pub fn rand(&mut self) -> f64 {
        let a = (self.0.next_u32() >> 5) as f64;
        let b = (self.0.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

/// pyqg 0.7.2 `QGModel`'s initial PV after `np.random.seed(seed)`, shape `(2, ny, nx)`:
/// `q1 = 1e-7 rand(ny, nx) + 1e-6 ones(ny, 1) rand(1, nx)`, `q2 = 0` [1/s].
pub fn pyqg_random_q(grid: &Grid, seed: u32) -> Array3<f64> {
    let (nx, ny) = (grid.nx, grid.ny);
    let mut rng = NumpyLegacyRng::new(seed);
    let small: Vec<f64> = (0..nx * ny).map(|_| rng.rand()).collect();
    let row: Vec<f64> = (0..nx).map(|_| rng.rand()).collect();
    let mut q = Array3::zeros((2, ny, nx));
    for j in 0..ny {
        for i in 0..nx {
            q[[0, j, i]] = 1e-7 * small[j * nx + i] + 1e-6 * row[i];
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_random_rand() {
        // np.random.seed(0); np.random.rand(3) and np.random.seed(12345); np.random.rand(2)
        let mut r = NumpyLegacyRng::new(0);
        let want = [0.5488135039273248, 0.7151893663724195, 0.6027633760716439];
        for w in want {
            assert_eq!(r.rand(), w);
        }
        let mut r = NumpyLegacyRng::new(12345);
        assert_eq!(r.rand(), 0.9296160928171479);
        assert_eq!(r.rand(), 0.3163755545817859);
    }
}

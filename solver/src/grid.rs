//! The doubly periodic grid and its wavenumbers, with pyqg's conventions.
//!
//! Physical fields are `(ny, nx)` row-major, cell centred: `x_i = (i + 1/2) L / nx`,
//! `y_j = (j + 1/2) W / ny`. The real FFT runs over x, so spectral fields have `nk = nx/2 + 1`
//! zonal wavenumbers `k = dk [0, 1, ..., nx/2]` and `nl = ny` meridional wavenumbers
//! `l = dl [0, 1, ..., ny/2 - 1, -ny/2, ..., -1]` (the Nyquist row holds `-ny/2`, as in pyqg).
//!
//! Inside the solver, spectral fields are stored **k-major**, `(nk, nl)` row-major: element
//! `ik * nl + il` holds wavenumber `(k[ik], l[il])`. This saves a transpose per FFT. Use
//! [`Grid::to_pyqg_layout`] to get pyqg's `(nl, nk)` order.

use crate::Complex64;
use crate::error::{SolverError, invalid};
use ndarray::{Array2, ArrayView2};

/// Grid sizes, lengths and wavenumbers. Lengths in metres (or the model's length unit).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Points in x.
    pub nx: usize,
    /// Points in y.
    pub ny: usize,
    /// Domain length in x (pyqg `L`).
    pub lx: f64,
    /// Domain length in y (pyqg `W`).
    pub ly: f64,
    /// Zonal wavenumbers `k`, length `nk`.
    pub kk: Vec<f64>,
    /// Meridional wavenumbers `l`, length `nl`, in FFT order.
    pub ll: Vec<f64>,
}

impl Grid {
    /// A grid of `nx` by `ny` points over `lx` by `ly`. Sizes must be even and at least 8.
    pub fn new(nx: usize, ny: usize, lx: f64, ly: f64) -> Result<Self, SolverError> {
        check_size("nx", nx)?;
        check_size("ny", ny)?;
        if !(lx.is_finite() && lx > 0.0) {
            return Err(invalid("L", lx, "a finite length > 0"));
        }
        if !(ly.is_finite() && ly > 0.0) {
            return Err(invalid("W", ly, "a finite length > 0"));
        }
        let dk = 2.0 * std::f64::consts::PI / lx;
        let dl = 2.0 * std::f64::consts::PI / ly;
        let kk = (0..=nx / 2).map(|i| dk * i as f64).collect();
        let ll = (0..ny)
            .map(|j| {
                let m = if j < ny / 2 {
                    j as f64
                } else {
                    j as f64 - ny as f64
                };
                dl * m
            })
            .collect();
        Ok(Self {
            nx,
            ny,
            lx,
            ly,
            kk,
            ll,
        })
    }

    /// Number of zonal wavenumbers, `nx/2 + 1`.
    pub fn nk(&self) -> usize {
        self.nx / 2 + 1
    }
    /// Number of meridional wavenumbers, `ny`.
    pub fn nl(&self) -> usize {
        self.ny
    }
    /// Points per physical field.
    pub fn n_phys(&self) -> usize {
        self.nx * self.ny
    }
    /// Coefficients per spectral field.
    pub fn n_spec(&self) -> usize {
        self.nk() * self.nl()
    }
    /// Grid spacing in x.
    pub fn dx(&self) -> f64 {
        self.lx / self.nx as f64
    }
    /// Grid spacing in y.
    pub fn dy(&self) -> f64 {
        self.ly / self.ny as f64
    }
    /// Cell-centred x coordinates.
    pub fn x(&self) -> Vec<f64> {
        (0..self.nx).map(|i| (i as f64 + 0.5) * self.dx()).collect()
    }
    /// Cell-centred y coordinates.
    pub fn y(&self) -> Vec<f64> {
        (0..self.ny).map(|j| (j as f64 + 0.5) * self.dy()).collect()
    }

    /// A spectral field (k-major) whose value at each wavenumber is `f(k, l)`.
    pub fn spectral_map<T>(&self, mut f: impl FnMut(f64, f64) -> T) -> Vec<T> {
        let mut out = Vec::with_capacity(self.n_spec());
        for &k in &self.kk {
            for &l in &self.ll {
                out.push(f(k, l));
            }
        }
        out
    }

    /// Squared total wavenumber `k^2 + l^2` (pyqg `wv2`), k-major.
    pub fn wv2(&self) -> Vec<f64> {
        self.spectral_map(|k, l| k * k + l * l)
    }

    /// Weights of the rfft Parseval sum: 2 for every zonal wavenumber except `k = 0` and
    /// `k = nx/2`, which count once. `sum(w |f_hat|^2) / M^2` is the spatial mean of `f^2`.
    pub fn parseval_weights(&self) -> Vec<f64> {
        let nk = self.nk();
        self.spectral_map_indexed(|ik, _| if ik == 0 || ik == nk - 1 { 1.0 } else { 2.0 })
    }

    /// A spectral field built from the indices `(ik, il)`, k-major.
    pub fn spectral_map_indexed<T>(&self, mut f: impl FnMut(usize, usize) -> T) -> Vec<T> {
        let mut out = Vec::with_capacity(self.n_spec());
        for ik in 0..self.nk() {
            for il in 0..self.nl() {
                out.push(f(ik, il));
            }
        }
        out
    }

    /// A k-major spectral field in pyqg's `(nl, nk)` layout.
    pub fn to_pyqg_layout(&self, field: &[Complex64]) -> Array2<Complex64> {
        let view =
            ArrayView2::from_shape((self.nk(), self.nl()), field).expect("spectral field size");
        view.t().to_owned()
    }

    /// A pyqg-layout `(nl, nk)` spectral field in the solver's k-major layout.
    pub fn from_pyqg_layout(&self, field: ArrayView2<Complex64>) -> Vec<Complex64> {
        field.t().iter().copied().collect()
    }
}

/// Most grid points along one axis (a 8192 x 8192 two-layer model needs about 20 GiB).
pub const MAX_POINTS: usize = 8192;

fn check_size(name: &'static str, n: usize) -> Result<(), SolverError> {
    if !(8..=MAX_POINTS).contains(&n) || !n.is_multiple_of(2) {
        return Err(invalid(name, n, "an even number of points from 8 to 8192"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wavenumbers_follow_pyqg_order() {
        let g = Grid::new(
            8,
            10,
            2.0 * std::f64::consts::PI,
            4.0 * std::f64::consts::PI,
        )
        .unwrap();
        assert_eq!(g.kk, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        let expect: Vec<f64> = [0, 1, 2, 3, 4, -5, -4, -3, -2, -1]
            .iter()
            .map(|&m| m as f64 * 0.5)
            .collect();
        assert_eq!(g.ll, expect);
    }

    #[test]
    fn bad_sizes_are_named_errors() {
        let e = Grid::new(7, 8, 1.0, 1.0).unwrap_err();
        assert!(e.to_string().contains("`nx` = 7"), "{e}");
        let e = Grid::new(8, 4, 1.0, 1.0).unwrap_err();
        assert!(e.to_string().contains("`ny` = 4"), "{e}");
        let e = Grid::new(8, 8, -1.0, 1.0).unwrap_err();
        assert!(e.to_string().contains("`L`"), "{e}");
    }

    #[test]
    fn layouts_round_trip() {
        let g = Grid::new(8, 12, 1.0, 1.0).unwrap();
        let f: Vec<Complex64> = (0..g.n_spec())
            .map(|i| Complex64::new(i as f64, -(i as f64)))
            .collect();
        let p = g.to_pyqg_layout(&f);
        assert_eq!(p.dim(), (12, 5));
        assert_eq!(p[[3, 2]], f[2 * 12 + 3]);
        assert_eq!(g.from_pyqg_layout(p.view()), f);
    }
}

//! Planned real 2-D FFTs with pyqg's normalisation: the forward transform is unnormalised and the
//! inverse includes `1/(nx ny)`.
//!
//! Rows (x) go through `realfft`, columns (y) through `rustfft`, with one blocked transpose between;
//! the spectrum stays k-major (see [`crate::grid`]). Plans are made once in [`FftPlans`] and shared;
//! each thread that transforms owns an [`Fft2`] with its own scratch. Both are written over the
//! model's [`Real`] type (`f64` unless a single-precision model asks for `f32`).

use crate::grid::Grid;
use crate::real::Real;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// FFT plans for one grid, shareable between threads.
#[derive(Clone)]
pub struct FftPlans<T: Real = f64> {
    nx: usize,
    ny: usize,
    r2c: Arc<dyn RealToComplex<T>>,
    c2r: Arc<dyn ComplexToReal<T>>,
    col_fwd: Arc<dyn Fft<T>>,
    col_inv: Arc<dyn Fft<T>>,
}

impl<T: Real> std::fmt::Debug for FftPlans<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FftPlans({}x{})", self.nx, self.ny)
    }
}

impl<T: Real> FftPlans<T> {
    /// Plans for real fields of `grid.ny` rows by `grid.nx` columns.
    pub fn new(grid: &Grid) -> Self {
        let mut real = RealFftPlanner::<T>::new();
        let mut cplx = FftPlanner::<T>::new();
        Self {
            nx: grid.nx,
            ny: grid.ny,
            r2c: real.plan_fft_forward(grid.nx),
            c2r: real.plan_fft_inverse(grid.nx),
            col_fwd: cplx.plan_fft_forward(grid.ny),
            col_inv: cplx.plan_fft_inverse(grid.ny),
        }
    }
}

/// A 2-D real FFT with its own scratch buffers.
#[derive(Debug, Clone)]
pub struct Fft2<T: Real = f64> {
    plans: FftPlans<T>,
    /// `(ny, nk)` row-transformed field.
    rows: Vec<Complex<T>>,
    /// `(nk, ny)` scratch for the inverse column pass.
    cols: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
}

impl<T: Real> Fft2<T> {
    /// A transformer using `plans`.
    pub fn new(plans: FftPlans<T>) -> Self {
        let nk = plans.nx / 2 + 1;
        let n = nk * plans.ny;
        let scratch_len = [
            plans.r2c.get_scratch_len(),
            plans.c2r.get_scratch_len(),
            plans.col_fwd.get_inplace_scratch_len(),
            plans.col_inv.get_inplace_scratch_len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        Self {
            plans,
            rows: vec![Complex::default(); n],
            cols: vec![Complex::default(); n],
            scratch: vec![Complex::default(); scratch_len],
        }
    }

    /// Forward transform of a `(ny, nx)` field into a k-major `(nk, ny)` spectrum. Unnormalised.
    /// `input` is used as scratch and left undefined.
    pub fn forward(&mut self, input: &mut [T], out: &mut [Complex<T>]) {
        let (nx, ny) = (self.plans.nx, self.plans.ny);
        let nk = nx / 2 + 1;
        debug_assert_eq!(input.len(), nx * ny);
        debug_assert_eq!(out.len(), nk * ny);
        for (row, spec) in input
            .chunks_exact_mut(nx)
            .zip(self.rows.chunks_exact_mut(nk))
        {
            // Lengths are fixed by construction, so the transform cannot fail.
            let _ = self
                .plans
                .r2c
                .process_with_scratch(row, spec, &mut self.scratch);
        }
        transpose::transpose(&self.rows, out, nk, ny);
        self.plans
            .col_fwd
            .process_with_scratch(out, &mut self.scratch);
    }

    /// Inverse transform of a k-major spectrum into a `(ny, nx)` field, scaled by `1/(nx ny)`.
    /// The imaginary parts of the `k = 0` and `k = nx/2` bins are ignored after the column pass,
    /// as FFTW and NumPy do.
    pub fn inverse(&mut self, spec: &[Complex<T>], out: &mut [T]) {
        debug_assert_eq!(spec.len(), self.cols.len());
        let norm = self.inverse_norm();
        self.inverse_with(
            |cols| cols.iter_mut().zip(spec).for_each(|(c, s)| *c = s * norm),
            out,
        );
    }

    /// The inverse transform's normalisation, `1/(nx ny)`.
    pub fn inverse_norm(&self) -> T {
        T::of(1.0 / (self.plans.nx * self.plans.ny) as f64)
    }

    /// Inverse transform of the k-major spectrum that `fill` writes, **already multiplied by
    /// [`Fft2::inverse_norm`]**, into a `(ny, nx)` field. Saves a copy when the spectrum is
    /// computed on the fly (velocities from the streamfunction).
    pub fn inverse_with(&mut self, fill: impl FnOnce(&mut [Complex<T>]), out: &mut [T]) {
        let (nx, ny) = (self.plans.nx, self.plans.ny);
        let nk = nx / 2 + 1;
        debug_assert_eq!(out.len(), nx * ny);
        fill(&mut self.cols);
        self.plans
            .col_inv
            .process_with_scratch(&mut self.cols, &mut self.scratch);
        transpose::transpose(&self.cols, &mut self.rows, ny, nk);
        for (spec_row, row) in self.rows.chunks_exact_mut(nk).zip(out.chunks_exact_mut(nx)) {
            spec_row[0].im = T::zero();
            spec_row[nk - 1].im = T::zero();
            let _ = self
                .plans
                .c2r
                .process_with_scratch(spec_row, row, &mut self.scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Complex64;

    /// Direct (slow) DFT of a real field, k-major, for checking.
    fn dft(nx: usize, ny: usize, f: &[f64]) -> Vec<Complex64> {
        let nk = nx / 2 + 1;
        let mut out = vec![Complex64::default(); nk * ny];
        for ik in 0..nk {
            for il in 0..ny {
                let mut s = Complex64::default();
                for j in 0..ny {
                    for i in 0..nx {
                        let ph = -2.0
                            * std::f64::consts::PI
                            * ((ik * i) as f64 / nx as f64 + (il * j) as f64 / ny as f64);
                        s += f[j * nx + i] * Complex64::from_polar(1.0, ph);
                    }
                }
                out[ik * ny + il] = s;
            }
        }
        out
    }

    #[test]
    fn forward_matches_direct_dft_and_inverse_round_trips() {
        let (nx, ny) = (8, 12);
        let grid = Grid::new(nx, ny, 1.0, 1.0).unwrap();
        let mut fft = Fft2::new(FftPlans::new(&grid));
        let f: Vec<f64> = (0..nx * ny)
            .map(|i| ((i * 7919) % 101) as f64 / 101.0 - 0.3)
            .collect();
        let mut spec = vec![Complex64::default(); grid.n_spec()];
        fft.forward(&mut f.clone(), &mut spec);
        let want = dft(nx, ny, &f);
        for (a, b) in spec.iter().zip(&want) {
            assert!((a - b).norm() < 1e-12, "{a} vs {b}");
        }
        let mut back = vec![0.0; nx * ny];
        fft.inverse(&spec, &mut back);
        for (a, b) in back.iter().zip(&f) {
            assert!((a - b).abs() < 1e-14);
        }
    }
}

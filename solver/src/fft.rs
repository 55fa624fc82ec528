//! Planned real 2-D FFTs with pyqg's normalisation: the forward transform is unnormalised and the
//! inverse includes `1/(nx ny)`.
//!
//! A real row of `nx` points is transformed as a complex row of `nx/2` points (even points the
//! real parts, odd points the imaginary ones) and then split into its `nx/2 + 1` bins, as `realfft`
//! does; here the split runs after the transpose, in k-major order, so that each pair of bins
//! `(k, nx/2 - k)` is one pass over `ny` contiguous values with one twiddle (a loop the compiler
//! vectorizes) instead of a scalar loop per row. Row transforms go through `rustfft` in one batch
//! each way ([`Fft2::round_trip`]: a band of rows at a time), columns (y) through `rustfft`, with
//! one blocked transpose between; on large grids the split (before an inverse, the merge) and
//! the column transforms take the columns a group at a time, so that a group stays in the L1
//! cache between the two (`GROUPS_FROM_BYTES`). The spectrum stays k-major (see
//! [`crate::grid`]). The arithmetic of each bin is `realfft`'s, operation for operation, so the
//! results are its results to the bit. Plans are made once in [`FftPlans`] and shared; each thread that transforms owns an
//! [`Fft2`] with its own scratch. Both are written over the model's [`Real`] type (`f64` unless a
//! single-precision model asks for `f32`).

use crate::grid::Grid;
use crate::real::{Real, complex_mut, each, reals_mut, signs};
use crate::simd::dispatched;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::ops::Range;
use std::sync::Arc;

/// FFT plans for one grid, shareable between threads.
#[derive(Clone)]
pub struct FftPlans<T: Real = f64> {
    nx: usize,
    ny: usize,
    /// Complex transforms of half a row (`nx/2` points), on which the real rows are built.
    row_fwd: Arc<dyn Fft<T>>,
    row_inv: Arc<dyn Fft<T>>,
    col_fwd: Arc<dyn Fft<T>>,
    col_inv: Arc<dyn Fft<T>>,
    /// `exp(-2 pi i k / nx) / 2` for the forward split, `k = 1 ..= (nx/2 - 1)/2` at `k - 1`.
    split: Arc<[Complex<T>]>,
    /// `exp(+2 pi i k / nx)` for the inverse merge, same `k`.
    merge: Arc<[Complex<T>]>,
}

impl<T: Real> std::fmt::Debug for FftPlans<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FftPlans({}x{})", self.nx, self.ny)
    }
}

/// `exp(-2 pi i k / n)` rounded to `T` from double precision, as `realfft` tabulates it.
fn twiddle<T: Real>(k: usize, n: usize) -> Complex<T> {
    let angle = -2.0 * std::f64::consts::PI / n as f64 * k as f64;
    Complex::new(T::of(angle.cos()), T::of(angle.sin()))
}

impl<T: Real> FftPlans<T> {
    /// Plans for real fields of `grid.ny` rows by `grid.nx` columns (`nx` even, as [`Grid`]
    /// guarantees).
    pub fn new(grid: &Grid) -> Self {
        let (nx, ny) = (grid.nx, grid.ny);
        debug_assert!(nx.is_multiple_of(2));
        let mut planner = FftPlanner::<T>::new();
        let pairs = 1..nx.div_ceil(4);
        let half = T::of(0.5);
        Self {
            nx,
            ny,
            row_fwd: planner.plan_fft_forward(nx / 2),
            row_inv: planner.plan_fft_inverse(nx / 2),
            col_fwd: planner.plan_fft_forward(ny),
            col_inv: planner.plan_fft_inverse(ny),
            split: pairs.clone().map(|k| twiddle(k, nx) * half).collect(),
            merge: pairs.map(|k| twiddle(k, nx).conj()).collect(),
        }
    }

    /// The groups of columns of [`FftPlans::columns_forward`] and [`FftPlans::columns_inverse`],
    /// in order: ranges `ks` of the bins `k = 0 ..= n/2` (`n = nx/2`) that, with their partners
    /// `n - k`, make [`GROUP_BYTES`] (one group for a spectrum under [`GROUPS_FROM_BYTES`]);
    /// each with the columns it covers, in one or two contiguous ranges (the last group's
    /// partners continue its bins).
    fn column_groups(&self) -> impl Iterator<Item = (Range<usize>, [Range<usize>; 2])> + use<T> {
        let n = self.nx / 2;
        let lower = n / 2 + 1;
        let column = self.ny * size_of::<Complex<T>>();
        let per_group = if (n + 1) * column < GROUPS_FROM_BYTES {
            lower
        } else {
            (GROUP_BYTES / (2 * column)).max(1)
        };
        (0..lower).step_by(per_group).map(move |first| {
            let end = (first + per_group).min(lower);
            let columns = if end == lower {
                [first..n + 1 - first, 0..0]
            } else {
                [first..end, n + 1 - end..n + 1 - first]
            };
            (first..end, columns)
        })
    }

    /// The transforms by `fft` of the columns `columns` of the k-major `spec` that are below
    /// `band`.
    fn transform_columns(
        &self,
        fft: &dyn Fft<T>,
        spec: &mut [Complex<T>],
        scratch: &mut [Complex<T>],
        columns: Range<usize>,
        band: usize,
    ) {
        let ny = self.ny;
        let columns = columns.start.min(band)..columns.end.min(band);
        if !columns.is_empty() {
            fft.process_with_scratch(&mut spec[columns.start * ny..columns.end * ny], scratch);
        }
    }

    /// The column half of a forward transform, in place in the k-major `spec` of the transposed
    /// rows: the split and the transforms of the columns `k < band` (`band <= nx/2 + 1`; the
    /// others are left undefined), a group of columns at a time.
    fn columns_forward(&self, spec: &mut [Complex<T>], scratch: &mut [Complex<T>], band: usize) {
        for (ks, columns) in self.column_groups() {
            split(spec, self.ny, ks, &self.split);
            for columns in columns {
                self.transform_columns(&*self.col_fwd, spec, scratch, columns, band);
            }
        }
    }

    /// The column half of an inverse transform, in place in the k-major `spec`: the transforms
    /// of the first `band` columns (the others zero) and the merge, a group of columns at a
    /// time.
    fn columns_inverse(&self, spec: &mut [Complex<T>], scratch: &mut [Complex<T>], band: usize) {
        for (ks, columns) in self.column_groups() {
            for columns in columns {
                self.transform_columns(&*self.col_inv, spec, scratch, columns, band);
            }
            merge(spec, self.ny, ks, &self.merge);
        }
    }
}

/// A 2-D real FFT with its own scratch buffers.
#[derive(Debug, Clone)]
pub struct Fft2<T: Real = f64> {
    plans: FftPlans<T>,
    /// `(ny, nx/2)`: the rows viewed as complex, transformed (and the inverse's transpose); one
    /// spectrum more for [`Fft2::round_trip`]'s second input.
    rows: Vec<Complex<T>>,
    /// `(nk, ny)` scratch for the inverse column pass.
    cols: Vec<Complex<T>>,
    /// A band of rows of each of two fields, viewed as complex, for [`Fft2::round_trip`].
    band: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
}

/// The rows `k` and `n - k` (`0 < k < n - k`) of a k-major array of rows of `ny` values.
#[inline(always)]
fn row_pair<T>(spec: &mut [T], ny: usize, k: usize, n: usize) -> (&mut [T], &mut [T]) {
    let (lo, hi) = spec.split_at_mut((n - k) * ny);
    (&mut lo[k * ny..(k + 1) * ny], &mut hi[..ny])
}

/// Bytes of the columns of a group of [`FftPlans::column_groups`] (a group's bins and their
/// partners): the split (or the merge) and the column transforms of a group take it in turn
/// while it is in a core's L1 data cache (48 KiB on the machines of docs/benchmarks.md), where a
/// pass of each over the whole spectrum reads it from L2 or memory and writes it back. 16 and 64
/// KiB measured the same at nx 256.
const GROUP_BYTES: usize = 32 * 1024;

/// Bytes of one spectrum from which [`FftPlans::column_groups`] makes groups of
/// [`GROUP_BYTES`] (on square grids, f64 from nx 182 and f32 from nx 256): a smaller spectrum
/// stays in L2 between the passes, and there one group (the whole split, then one batch of
/// column transforms) measured the same as groups on one thread at f64 nx 128, and 4-11% faster
/// on two (why is not established).
const GROUPS_FROM_BYTES: usize = 256 * 1024;

/// Bytes of one field's band in [`Fft2::round_trip`]: the two fields' bands (32 KiB) stay in a
/// core's L1 data cache (48 KiB on the machines of docs/benchmarks.md) between their inverse
/// and forward row transforms.
const BAND_BYTES: usize = 16 * 1024;

/// Rows of an `nx` by `ny` field of `T` per band of [`Fft2::round_trip`], in `1 ..= ny`.
fn band_rows<T: Real>(nx: usize, ny: usize) -> usize {
    (BAND_BYTES / (nx * size_of::<T>())).clamp(1, ny)
}

/// Reals per block of [`by_pairs`]: eight complex values.
const LANES: usize = 16;

/// The pass [`split`] and [`merge`] share, over pairs `(a[i], b[i])` of two rows with one twiddle
/// `w`: with `sum = a + b` and `diff = a - b`, it forms `lo = (sum.re, diff.im)` and
/// `t = (sum.im w.re + diff.re w.im, sum.im w.im - diff.re w.re)` (`realfft`'s expressions),
/// interleaved, and `finish(lo, t, a, b)` writes the results. It works in blocks of [`LANES`]
/// reals, each step one operation over the whole block, so that the compiler keeps whole vectors
/// of them in flight instead of one complex value per register; a short last block is padded.
#[inline(always)]
fn by_pairs<T: Real>(
    a: &mut [Complex<T>],
    b: &mut [Complex<T>],
    w: Complex<T>,
    finish: impl Fn(&[T; LANES], &[T; LANES], &mut [T; LANES], &mut [T; LANES]),
) {
    let w_sum: [T; LANES] = each(|i| if i.is_multiple_of(2) { w.re } else { w.im });
    let w_diff: [T; LANES] = each(|i| if i.is_multiple_of(2) { w.im } else { -w.re });
    // A function, not a closure: called twice, a closure was left out of line, and so out of
    // the AVX2 copies ([`crate::simd`]).
    #[inline(always)]
    fn block<T: Real>(
        x: &mut [T; LANES],
        y: &mut [T; LANES],
        [w_sum, w_diff]: &[[T; LANES]; 2],
        finish: &impl Fn(&[T; LANES], &[T; LANES], &mut [T; LANES], &mut [T; LANES]),
    ) {
        let sum: [T; LANES] = each(|i| x[i] + y[i]);
        let diff: [T; LANES] = each(|i| x[i] - y[i]);
        let lo = each(|i| if i.is_multiple_of(2) { sum[i] } else { diff[i] });
        let t = each(|i| sum[i | 1] * w_sum[i] + diff[i & !1] * w_diff[i]);
        finish(&lo, &t, x, y);
    }
    let w = [w_sum, w_diff];
    let (a, b) = (reals_mut(a), reals_mut(b));
    let mut a_blocks = a.chunks_exact_mut(LANES);
    let mut b_blocks = b.chunks_exact_mut(LANES);
    for (x, y) in (&mut a_blocks).zip(&mut b_blocks) {
        block(x.try_into().unwrap(), y.try_into().unwrap(), &w, &finish);
    }
    let (a_rest, b_rest) = (a_blocks.into_remainder(), b_blocks.into_remainder());
    if !a_rest.is_empty() {
        let mut x = [T::zero(); LANES];
        let mut y = [T::zero(); LANES];
        x[..a_rest.len()].copy_from_slice(a_rest);
        y[..b_rest.len()].copy_from_slice(b_rest);
        block(&mut x, &mut y, &w, &finish);
        a_rest.copy_from_slice(&x[..a_rest.len()]);
        b_rest.copy_from_slice(&y[..b_rest.len()]);
    }
}

/// The pairs `(k, n - k)`, `0 < k < n - k`, among `ks`, with their twiddles from a table of the
/// pairs `k = 1, 2, ...`.
fn pairs<T: Copy>(ks: &Range<usize>, n: usize, twiddles: &[T]) -> impl Iterator<Item = (usize, T)> {
    let pairs = ks.start.max(1)..ks.end.min(n.div_ceil(2));
    pairs
        .clone()
        .zip(twiddles[pairs.start - 1..pairs.end - 1].iter().copied())
}

dispatched! {
    /// Forward split of the columns `k` in `ks` and their partners `n - k` (`ks` within
    /// `0 ..= n/2`, `n = nx/2`): rows `0..n` of the k-major `spec` (`n + 1` rows of `ny`) hold
    /// the transforms of the real rows viewed as complex; on return those columns hold the real
    /// rows' bins (`k = 0` gives bins `0` and `n`). `realfft`'s post-processing, with
    /// `twiddles` its `exp(-2 pi i k/nx) / 2`.
    fn split<T: Real>(
        spec: &mut [Complex<T>],
        ny: usize,
        ks: Range<usize>,
        twiddles: &[Complex<T>],
    ) {
        let n = spec.len() / ny - 1;
        if ks.start == 0 {
            let (first, rest) = spec.split_at_mut(ny);
            for (z, last) in first.iter_mut().zip(&mut rest[(n - 1) * ny..]) {
                let (re, im) = (z.re, z.im);
                *z = Complex::new(re + im, T::zero());
                *last = Complex::new(re - im, T::zero());
            }
        }
        let (half, signs) = (T::of(0.5), signs::<T, LANES>());
        for (k, w) in pairs(&ks, n, twiddles) {
            let (rows, rows_rev) = row_pair(spec, ny, k, n);
            by_pairs(rows, rows_rev, w, |lo, t, out, out_rev| {
                for i in 0..LANES {
                    let half_lo = half * lo[i];
                    out[i] = half_lo + t[i];
                    // re: half_lo - t; im: t - half_lo (as sums, which is what a subtraction is).
                    out_rev[i] = half_lo * signs[i] + t[i] * -signs[i];
                }
            });
        }
        if n.is_multiple_of(2) && ks.contains(&(n / 2)) {
            for z in &mut spec[n / 2 * ny..(n / 2 + 1) * ny] {
                z.im = -z.im;
            }
        }
    }
}

dispatched! {
    /// Inverse merge, the converse of [`split`], of the columns `k` in `ks` and their partners:
    /// the real rows' bins in the k-major `spec` become, in rows `0..n`, the spectra whose
    /// inverse complex transforms are the real rows viewed as complex (`k = 0` from bins `0`
    /// and `n`). The imaginary parts of bins `0` and `n` are ignored, as FFTW and NumPy do.
    /// `realfft`'s pre-processing, with `twiddles` its `exp(+2 pi i k/nx)`.
    fn merge<T: Real>(
        spec: &mut [Complex<T>],
        ny: usize,
        ks: Range<usize>,
        twiddles: &[Complex<T>],
    ) {
        let n = spec.len() / ny - 1;
        if ks.start == 0 {
            let (first, rest) = spec.split_at_mut(ny);
            for (z, last) in first.iter_mut().zip(&rest[(n - 1) * ny..]) {
                // realfft's `(sum.re - sum.im, diff.re - diff.im)` with both imaginary parts `+0`.
                *z = Complex::new(z.re + last.re, z.re - last.re);
            }
        }
        let signs = signs::<T, LANES>();
        for (k, w) in pairs(&ks, n, twiddles) {
            let (rows, rows_rev) = row_pair(spec, ny, k, n);
            by_pairs(rows, rows_rev, w, |lo, t, z, z_rev| {
                for i in 0..LANES {
                    z[i] = lo[i] - t[i];
                    // re: sum.re + t.re; im: -t.im - diff.im.
                    z_rev[i] = lo[i] * signs[i] + t[i] * signs[i];
                }
            });
        }
        if n.is_multiple_of(2) && ks.contains(&(n / 2)) {
            for z in &mut spec[n / 2 * ny..(n / 2 + 1) * ny] {
                let doubled = *z + *z;
                *z = doubled.conj();
            }
        }
    }
}

dispatched! {
    /// `out = x * norm`.
    fn scale<T: Real>(out: &mut [Complex<T>], x: &[Complex<T>], norm: T) {
        out.iter_mut().zip(x).for_each(|(c, s)| *c = s * norm);
    }
}

impl<T: Real> Fft2<T> {
    /// A transformer using `plans`.
    pub fn new(plans: FftPlans<T>) -> Self {
        let (half, ny) = (plans.nx / 2, plans.ny);
        let scratch_len = [
            plans.row_fwd.get_outofplace_scratch_len(),
            plans.row_inv.get_outofplace_scratch_len(),
            plans.col_fwd.get_inplace_scratch_len(),
            plans.col_inv.get_inplace_scratch_len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        Self {
            rows: vec![Complex::default(); (half + 1) * ny],
            cols: vec![Complex::default(); (half + 1) * ny],
            band: vec![Complex::default(); 2 * band_rows::<T>(2 * half, ny) * half],
            scratch: vec![Complex::default(); scratch_len],
            plans,
        }
    }

    /// Forward transform of a `(ny, nx)` field into a k-major `(nk, ny)` spectrum. Unnormalised.
    /// `input` is used as scratch and left undefined.
    pub fn forward(&mut self, input: &mut [T], out: &mut [Complex<T>]) {
        self.forward_band(input, out, self.plans.nx / 2 + 1);
    }

    /// [`Fft2::forward`] of the columns `k < band` only: the column transforms of the others are
    /// skipped and their values left undefined (a 3/2-rule product keeps only the original
    /// grid's columns).
    pub fn forward_band(&mut self, input: &mut [T], out: &mut [Complex<T>], band: usize) {
        let (nx, ny) = (self.plans.nx, self.plans.ny);
        let half = nx / 2;
        debug_assert_eq!(input.len(), nx * ny);
        debug_assert_eq!(out.len(), (half + 1) * ny);
        let rows = &mut self.rows[..half * ny];
        self.plans.row_fwd.process_outofplace_with_scratch(
            complex_mut(input),
            rows,
            &mut self.scratch,
        );
        transpose::transpose(rows, &mut out[..half * ny], half, ny);
        self.plans
            .columns_forward(out, &mut self.scratch, band.min(half + 1));
    }

    /// Inverse transform of a k-major spectrum into a `(ny, nx)` field, scaled by `1/(nx ny)`.
    /// The imaginary parts of the `k = 0` and `k = nx/2` bins are ignored after the column pass,
    /// as FFTW and NumPy do.
    pub fn inverse(&mut self, spec: &[Complex<T>], out: &mut [T]) {
        debug_assert_eq!(spec.len(), self.cols.len());
        let norm = self.inverse_norm();
        self.inverse_with(|cols| scale(cols, spec, norm), out);
    }

    /// The inverse transform's normalisation, `1/(nx ny)`.
    pub fn inverse_norm(&self) -> T {
        T::of(1.0 / (self.plans.nx * self.plans.ny) as f64)
    }

    /// Inverse transform of the k-major spectrum that `fill` writes, **already multiplied by
    /// [`Fft2::inverse_norm`]**, into a `(ny, nx)` field. Saves a copy when the spectrum is
    /// computed on the fly (velocities from the streamfunction).
    pub fn inverse_with(&mut self, fill: impl FnOnce(&mut [Complex<T>]), out: &mut [T]) {
        self.inverse_band_with(self.plans.nx / 2 + 1, fill, out);
    }

    /// Two spectra to the grid, a pointwise map there, and back, without either field ever held
    /// whole: `fill(a, b)` writes the inputs of the two inverse transforms (each already
    /// multiplied by [`Fft2::inverse_norm`], as for [`Fft2::inverse_with`]) into buffers of the
    /// transform's own, in one pass; `map(points, a, b)` changes the fields'
    /// values at `points` (row-major indices of whole rows) in place, a band of rows at a time
    /// (16 KiB of each field), in order; `out` receives the forward transforms of the results,
    /// unnormalised. The same bits as `inverse_with` twice, `map` over the whole fields and
    /// [`Fft2::forward`] twice: each row and column is transformed by the same plans, only the
    /// order in which rows and fields are visited differs. Between its inverse and forward row
    /// transforms a band stays in the L1 cache, where the fields would each be written and read
    /// back twice (the advection's products); and the two spectra are made in one pass over
    /// what they are made from (the velocities, from one streamfunction).
    pub fn round_trip(
        &mut self,
        fill: impl FnOnce(&mut [Complex<T>], &mut [Complex<T>]),
        map: impl FnMut(Range<usize>, &mut [T], &mut [T]),
        out: [&mut [Complex<T>]; 2],
    ) {
        self.round_trip_band(self.plans.nx / 2 + 1, fill, map, out);
    }

    /// [`Fft2::round_trip`] of spectra whose columns `k >= band` the fill leaves zero (zero-padded
    /// spectra): the column transforms of those columns are skipped both ways, and the columns of
    /// `out` from `band` on are left undefined (as by [`Fft2::forward_band`]).
    pub fn round_trip_band(
        &mut self,
        band: usize,
        fill: impl FnOnce(&mut [Complex<T>], &mut [Complex<T>]),
        mut map: impl FnMut(Range<usize>, &mut [T], &mut [T]),
        [out_a, out_b]: [&mut [Complex<T>]; 2],
    ) {
        let (nx, ny) = (self.plans.nx, self.plans.ny);
        let half = nx / 2;
        let band = band.min(half + 1);
        debug_assert_eq!(out_a.len(), (half + 1) * ny);
        debug_assert_eq!(out_b.len(), (half + 1) * ny);
        // `b`'s spectrum is filled into `self.rows` and its rows wait in `out_a`, which is free
        // until the end: `b`'s forward rows are transposed out of it before `a`'s are transposed
        // into it. Then `a`'s rows wait in `self.rows`.
        fill(&mut self.cols, &mut self.rows);
        self.plans
            .columns_inverse(&mut self.rows, &mut self.scratch, band);
        transpose::transpose(&self.rows[..half * ny], &mut out_a[..half * ny], ny, half);
        self.plans
            .columns_inverse(&mut self.cols, &mut self.scratch, band);
        transpose::transpose(
            &self.cols[..half * ny],
            &mut self.rows[..half * ny],
            ny,
            half,
        );
        let rows_per_band = band_rows::<T>(nx, ny);
        let (field_a, field_b) = self.band.split_at_mut(rows_per_band * half);
        let [row_inv, row_fwd] = [&self.plans.row_inv, &self.plans.row_fwd];
        for start in (0..ny).step_by(rows_per_band) {
            let end = (start + rows_per_band).min(ny);
            let values = start * half..end * half;
            let n = values.len();
            let (a, b) = (&mut self.rows[values.clone()], &mut out_a[values]);
            let (fa, fb) = (&mut field_a[..n], &mut field_b[..n]);
            row_inv.process_outofplace_with_scratch(a, fa, &mut self.scratch);
            row_inv.process_outofplace_with_scratch(b, fb, &mut self.scratch);
            map(start * nx..end * nx, reals_mut(fa), reals_mut(fb));
            row_fwd.process_outofplace_with_scratch(fa, a, &mut self.scratch);
            row_fwd.process_outofplace_with_scratch(fb, b, &mut self.scratch);
        }
        transpose::transpose(&out_a[..half * ny], &mut out_b[..half * ny], half, ny);
        self.plans.columns_forward(out_b, &mut self.scratch, band);
        transpose::transpose(&self.rows[..half * ny], &mut out_a[..half * ny], half, ny);
        self.plans.columns_forward(out_a, &mut self.scratch, band);
    }

    /// [`Fft2::inverse_with`] of a spectrum whose columns `k >= band` `fill` leaves zero (a
    /// zero-padded spectrum): their column transforms, zero, are skipped.
    pub fn inverse_band_with(
        &mut self,
        band: usize,
        fill: impl FnOnce(&mut [Complex<T>]),
        out: &mut [T],
    ) {
        let (nx, ny) = (self.plans.nx, self.plans.ny);
        let half = nx / 2;
        debug_assert_eq!(out.len(), nx * ny);
        fill(&mut self.cols);
        let band = band.min(half + 1);
        debug_assert!(
            self.cols[band * ny..]
                .iter()
                .all(|c| *c == Complex::default())
        );
        self.plans
            .columns_inverse(&mut self.cols, &mut self.scratch, band);
        let rows = &mut self.rows[..half * ny];
        transpose::transpose(&self.cols[..half * ny], rows, ny, half);
        self.plans.row_inv.process_outofplace_with_scratch(
            rows,
            complex_mut(out),
            &mut self.scratch,
        );
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

    /// A deterministic test field of `nx * ny` values in about [-0.3, 0.7].
    fn field(nx: usize, ny: usize) -> Vec<f64> {
        (0..nx * ny)
            .map(|i| ((i * 7919) % 101) as f64 / 101.0 - 0.3)
            .collect()
    }

    /// Forward against the direct DFT and the inverse back, within `tol` (relative to the field's
    /// scale, which is about 1), for an `nx` whose half is even (a centre bin, `nx = 8`, 12) or
    /// odd (`nx = 10`, 14), in `T`.
    fn check_against_dft<T: Real>(tol: f64) {
        for (nx, ny) in [(8, 12), (10, 8), (12, 10), (14, 16)] {
            let grid = Grid::new(nx, ny, 1.0, 1.0).unwrap();
            let mut fft = Fft2::<T>::new(FftPlans::new(&grid));
            let f = field(nx, ny);
            let mut spec = vec![Complex::<T>::default(); grid.n_spec()];
            fft.forward(
                &mut f.iter().map(|&x| T::of(x)).collect::<Vec<_>>(),
                &mut spec,
            );
            for (a, b) in spec.iter().zip(&dft(nx, ny, &f)) {
                let a = Complex64::new(a.re.wide(), a.im.wide());
                assert!(
                    (a - b).norm() < tol * (nx * ny) as f64,
                    "{nx}x{ny}: {a} vs {b}"
                );
            }
            let mut back = vec![T::zero(); nx * ny];
            fft.inverse(&spec, &mut back);
            for (a, b) in back.iter().zip(&f) {
                assert!((a.wide() - b).abs() < tol, "{nx}x{ny}: {a:?} vs {b}");
            }
        }
    }

    #[test]
    fn forward_matches_direct_dft_and_inverse_round_trips() {
        // Round-off of a transform of n points grows like log2(n) eps: 1e-14 for f64 and 1e-5
        // for f32 leave a margin of about 10 over that at these sizes.
        check_against_dft::<f64>(1e-14);
        check_against_dft::<f32>(1e-5);
    }

    /// The transforms the split rows replace: `realfft` row by row, a transpose, the column
    /// FFTs. Same arithmetic, so the same bits.
    fn with_realfft<T: Real>(grid: &Grid, field: &[T]) -> (Vec<Complex<T>>, Vec<T>) {
        let (nx, ny, nk) = (grid.nx, grid.ny, grid.nx / 2 + 1);
        let mut real = realfft::RealFftPlanner::<T>::new();
        let mut cplx = FftPlanner::<T>::new();
        let (r2c, c2r) = (real.plan_fft_forward(nx), real.plan_fft_inverse(nx));
        let mut rows = vec![Complex::default(); nk * ny];
        for (row, spec) in field.chunks_exact(nx).zip(rows.chunks_exact_mut(nk)) {
            r2c.process(&mut row.to_vec(), spec).unwrap();
        }
        let mut spec = vec![Complex::default(); nk * ny];
        transpose::transpose(&rows, &mut spec, nk, ny);
        cplx.plan_fft_forward(ny).process(&mut spec);
        let norm = T::of(1.0 / (nx * ny) as f64);
        let mut cols: Vec<_> = spec.iter().map(|s| s * norm).collect();
        cplx.plan_fft_inverse(ny).process(&mut cols);
        transpose::transpose(&cols, &mut rows, ny, nk);
        let mut back = vec![T::zero(); nx * ny];
        for (spec_row, row) in rows.chunks_exact_mut(nk).zip(back.chunks_exact_mut(nx)) {
            spec_row[0].im = T::zero();
            spec_row[nk - 1].im = T::zero();
            c2r.process(spec_row, row).unwrap();
        }
        (spec, back)
    }

    fn check_bits_of_realfft<T: Real>() {
        // ny = 20: two full blocks of the paired pass and a short one. nx 1028 and 1030 by 64:
        // several groups of columns, with a centre bin and without.
        for (nx, ny) in [
            (8, 20),
            (10, 20),
            (34, 20),
            (64, 20),
            (1028, 64),
            (1030, 64),
        ] {
            let grid = Grid::new(nx, ny, 1.0, 1.0).unwrap();
            let f: Vec<T> = field(nx, ny).into_iter().map(T::of).collect();
            let (want_spec, want_back) = with_realfft(&grid, &f);
            let plans = FftPlans::new(&grid);
            assert_eq!(plans.column_groups().count() > 1, nx > 64, "{nx}: groups");
            let mut fft = Fft2::<T>::new(plans);
            let mut spec = vec![Complex::default(); grid.n_spec()];
            fft.forward(&mut f.clone(), &mut spec);
            let mut back = vec![T::zero(); grid.n_phys()];
            fft.inverse(&spec, &mut back);
            let bits = |x: &T| x.wide().to_bits();
            let spec_bits = |z: &Complex<T>| (bits(&z.re), bits(&z.im));
            assert!(
                spec.iter()
                    .map(spec_bits)
                    .eq(want_spec.iter().map(spec_bits)),
                "{nx}"
            );
            assert!(back.iter().map(bits).eq(want_back.iter().map(bits)), "{nx}");
        }
    }

    #[test]
    fn bit_identical_to_realfft_row_by_row() {
        check_bits_of_realfft::<f64>();
        check_bits_of_realfft::<f32>();
    }

    /// The fused round trip equals its parts to the bit: two inverse transforms, a pointwise
    /// map over the whole fields, two forward transforms. Shapes with a band of rows that does
    /// not divide `ny`, an odd `nx/2`, and with more than one band; and a band of columns.
    fn check_round_trip<T: Real>() {
        for (nx, ny) in [(10, 8), (64, 20), (600, 10), (1030, 8)] {
            let grid = Grid::new(nx, ny, 1.0, 1.0).unwrap();
            let (nk, n) = (nx / 2 + 1, grid.n_spec());
            let mut fft = Fft2::<T>::new(FftPlans::new(&grid));
            let mut spec = [
                vec![Complex::<T>::default(); n],
                vec![Complex::default(); n],
            ];
            for (s, seed) in spec.iter_mut().zip([0, 3]) {
                let f: Vec<T> = field(nx + seed, ny).into_iter().map(T::of).collect();
                fft.forward(&mut f[..nx * ny].to_vec(), s);
            }
            let b: Vec<T> = field(ny, nx).into_iter().map(T::of).collect();
            let norm = fft.inverse_norm();
            for band in [nk, nk / 2] {
                /// `s * norm`, its columns from `band` on zero.
                fn fill<T: Real>(
                    s: &[Complex<T>],
                    norm: T,
                    zero_from: usize,
                ) -> impl FnOnce(&mut [Complex<T>]) + '_ {
                    move |c| {
                        c.iter_mut().zip(s).for_each(|(c, s)| *c = s * norm);
                        c[zero_from..].fill(Complex::default());
                    }
                }
                let fill = |s| fill(s, norm, band * ny);
                let map = |_: usize, x: &mut T, y: &mut T, b: T| {
                    *x = *x * b;
                    *y = *y * b - *x;
                };
                let mut want = [vec![Complex::default(); n], vec![Complex::default(); n]];
                let (mut x, mut y) = (vec![T::zero(); nx * ny], vec![T::zero(); nx * ny]);
                fft.inverse_band_with(band, fill(&spec[0]), &mut x);
                fft.inverse_band_with(band, fill(&spec[1]), &mut y);
                for i in 0..nx * ny {
                    map(i, &mut x[i], &mut y[i], b[i]);
                }
                let [w0, w1] = &mut want;
                fft.forward_band(&mut x, w0, band);
                fft.forward_band(&mut y, w1, band);
                let mut got = [vec![Complex::default(); n], vec![Complex::default(); n]];
                let mut visited = 0;
                let [g0, g1] = &mut got;
                let (fill_a, fill_b) = (fill(&spec[0]), fill(&spec[1]));
                fft.round_trip_band(
                    band,
                    |a, b| {
                        fill_a(a);
                        fill_b(b);
                    },
                    |points, x, y| {
                        assert_eq!(points.start, visited, "bands in order");
                        visited = points.end;
                        for (i, (x, y)) in points.zip(x.iter_mut().zip(y)) {
                            map(i, x, y, b[i]);
                        }
                    },
                    [g0, g1],
                );
                assert_eq!(visited, nx * ny, "{nx}x{ny}: every row");
                let bits = |z: &Complex<T>| (z.re.wide().to_bits(), z.im.wide().to_bits());
                for (g, w) in got.iter().zip(&want) {
                    let kept = ..band * ny;
                    assert!(
                        g[kept].iter().map(bits).eq(w[kept].iter().map(bits)),
                        "{nx}x{ny}, band {band}"
                    );
                }
            }
        }
    }

    #[test]
    fn round_trip_is_bit_identical_to_its_parts() {
        check_round_trip::<f64>();
        check_round_trip::<f32>();
    }

    /// The band-limited transforms skip only work whose result is zero or unused: the kept
    /// columns of a forward transform, and the inverse of a spectrum zero beyond the band, equal
    /// the full transforms' (zeros to the sign of zero), for a band inside and at the edge.
    #[test]
    fn band_limited_transforms_equal_the_full_ones_where_they_are_used() {
        let grid = Grid::new(24, 18, 1.0, 1.0).unwrap();
        let (ny, nk) = (grid.ny, grid.nx / 2 + 1);
        let mut fft = Fft2::<f64>::new(FftPlans::new(&grid));
        let f = field(grid.nx, ny);
        for band in [8, nk] {
            let mut full = vec![Complex64::default(); grid.n_spec()];
            let mut banded = full.clone();
            fft.forward(&mut f.clone(), &mut full);
            fft.forward_band(&mut f.clone(), &mut banded, band);
            assert_eq!(
                full[..band * ny],
                banded[..band * ny],
                "forward, band {band}"
            );
            let zero_beyond = |spec: &mut [Complex64]| {
                spec.copy_from_slice(&full);
                spec[band * ny..].fill(Complex64::default());
            };
            let (mut a, mut b) = (vec![0.0; f.len()], vec![0.0; f.len()]);
            fft.inverse_with(zero_beyond, &mut a);
            fft.inverse_band_with(band, zero_beyond, &mut b);
            assert!(a == b, "inverse, band {band}");
        }
    }
}

//! The floating-point types a model steps in: `f64` (the default, pyqg's precision) and `f32`
//! (`QgParams::precision`). The transforms and the fused kernel are written once over [`Real`];
//! everything else (terms evaluated outside the kernel, diagnostics, checkpoints, output) works in
//! `f64`, and a single-precision state is widened to it where it is read (exactly: every `f32` is
//! an `f64`).

use crate::Complex64;
use rustfft::num_complex::Complex;
use rustfft::num_traits::Float;
use std::borrow::Cow;

/// A real type the model can step in.
pub trait Real: rustfft::FftNum + Float + Default + std::iter::Sum {
    /// `x` rounded to this type (the identity for `f64`).
    fn of(x: f64) -> Self;

    /// `x` in double precision (exact).
    fn wide(self) -> f64;

    /// Spectral values in double precision: borrowed for `f64`, converted (exactly) for `f32`.
    fn widen(x: &[Complex<Self>]) -> Cow<'_, [Complex64]>;

    /// Physical values in double precision, as [`Real::widen`].
    fn widen_real(x: &[Self]) -> Cow<'_, [f64]>;

    /// Update-filter factors below this floor are rounded to zero when the kernel's tables are
    /// made in this type: `eps^2` in single precision (`eps = 2^-23`, so 1.4e-14), zero in
    /// double precision, which keeps pyqg's filter exactly.
    ///
    /// A mode the filter scales by less than `eps^2` in one step keeps less than `eps^2` of its
    /// value, below the round-off (`eps` of the largest mode) of every transform and sum it enters
    /// by a factor `eps`; set to zero, it changes nothing the model's precision can carry. Kept,
    /// in single precision such modes decay through the subnormal range (below 1.2e-38), where
    /// many CPUs (Intel's among them) take a microcode assist of about a hundred cycles for each
    /// operation that reads or makes a subnormal: pyqg's 64 x 64 model held about 190 of them
    /// in `q_hat` and stepped 2.5x slower for it. Double precision reaches the range only at a
    /// few dozen values, at a cost of about 1%.
    const FILTER_FLOOR: f64;
}

impl Real for f64 {
    const FILTER_FLOOR: f64 = 0.0;

    fn of(x: f64) -> Self {
        x
    }
    fn wide(self) -> f64 {
        self
    }
    fn widen(x: &[Complex64]) -> Cow<'_, [Complex64]> {
        Cow::Borrowed(x)
    }
    fn widen_real(x: &[f64]) -> Cow<'_, [f64]> {
        Cow::Borrowed(x)
    }
}

impl Real for f32 {
    const FILTER_FLOOR: f64 = f32::EPSILON as f64 * f32::EPSILON as f64;

    fn of(x: f64) -> Self {
        x as f32
    }
    fn wide(self) -> f64 {
        self.into()
    }
    fn widen(x: &[Complex<f32>]) -> Cow<'_, [Complex64]> {
        Cow::Owned(
            x.iter()
                .map(|z| Complex64::new(z.re.into(), z.im.into()))
                .collect(),
        )
    }
    fn widen_real(x: &[f32]) -> Cow<'_, [f64]> {
        Cow::Owned(x.iter().map(|&v| v.into()).collect())
    }
}

/// `x` rounded to `T`, per value.
pub(crate) fn narrow<T: Real>(x: &[f64]) -> Vec<T> {
    x.iter().map(|&v| T::of(v)).collect()
}

/// Spectral `x` rounded to `T`, per value.
pub(crate) fn narrow_complex<T: Real>(x: &[Complex64]) -> Vec<Complex<T>> {
    x.iter()
        .map(|z| Complex::new(T::of(z.re), T::of(z.im)))
        .collect()
}

/// The reals of complex values, interleaved (`re, im, re, im, ...`), for passes that work on
/// blocks of them (see [`crate::fft`]).
pub(crate) fn reals<T: Real>(values: &[Complex<T>]) -> &[T] {
    // SAFETY: `Complex<T>` is `#[repr(C)] { re: T, im: T }`, two `T`s with `T`'s alignment, so
    // `2 len` `T`s cover exactly the `len` values, which stay borrowed.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), values.len() * 2) }
}

/// [`reals`], mutable.
pub(crate) fn reals_mut<T: Real>(values: &mut [Complex<T>]) -> &mut [T] {
    // SAFETY: as in `reals`.
    unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast(), values.len() * 2) }
}

/// A real field of even length viewed as complex pairs `(x[2m], x[2m + 1])`, the converse of
/// [`reals_mut`].
pub(crate) fn complex_mut<T: Real>(x: &mut [T]) -> &mut [Complex<T>] {
    assert!(x.len().is_multiple_of(2), "a real field of odd length");
    // SAFETY: as in `reals`: `len / 2` complex values cover exactly the `len` reals.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), x.len() / 2) }
}

/// `+1` at the even (real) positions of a block of interleaved reals, `-1` at the odd (imaginary)
/// ones; multiplying by either is exact.
#[inline(always)]
pub(crate) fn signs<T: Real, const N: usize>() -> [T; N] {
    each(|i| {
        if i.is_multiple_of(2) {
            T::one()
        } else {
            -T::one()
        }
    })
}

/// `[f(0), f(1), ..., f(N - 1)]`: `std::array::from_fn` as a plain loop, which is inlined into the
/// AVX2 copies of the dispatched passes ([`crate::simd`]) where `from_fn` was left a call to a
/// baseline function.
#[inline(always)]
pub(crate) fn each<T: Real, const N: usize>(f: impl Fn(usize) -> T) -> [T; N] {
    let mut out = [T::zero(); N];
    for (i, x) in out.iter_mut().enumerate() {
        *x = f(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_precision_widens_exactly_and_double_is_borrowed() {
        let x = [Complex::new(0.1f32, -3.0e-20), Complex::new(f32::MAX, 1.0)];
        let w = f32::widen(&x);
        assert!(matches!(w, Cow::Owned(_)));
        for (a, b) in x.iter().zip(w.iter()) {
            assert_eq!((f32::of(b.re), f32::of(b.im)), (a.re, a.im));
        }
        let d = [Complex64::new(0.1, 0.2)];
        assert!(matches!(f64::widen(&d), Cow::Borrowed(_)));
        assert_eq!(narrow::<f32>(&[0.1]), vec![0.1f32]);
    }
}

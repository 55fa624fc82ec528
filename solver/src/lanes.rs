//! Pointwise passes with a reduction, written over independent partial results ("lanes") so that
//! the compiler vectorizes them: a plain `iter().sum()` or running maximum is one dependent
//! operation after another, bound by its latency (about 4 cycles a point), which made the
//! finiteness check after each update and the speeds of the fluxes a tenth of a step.

use crate::real::Real;
use crate::simd::dispatched;
use std::ops::Range;

/// Independent partial results per pass: four AVX2 registers of them in single precision (eight
/// values a register), eight in double. With eight lanes, one register in single precision, each
/// maximum of [`products_and_speeds`] was one dependent chain, and the pass took as long as in
/// double precision (10% of the f32 step at 64 x 64, against 6% of the f64 one).
const LANES: usize = 32;

dispatched! {
    /// Whether every value of `x` is finite: `x * 0` is zero for a finite `x` and NaN otherwise.
    pub(crate) fn all_finite<T: Real>(x: &[T]) -> bool {
        let zero = T::zero();
        let chunks = x.chunks_exact(LANES);
        let rest = chunks.remainder();
        let mut acc = [zero; LANES];
        for c in chunks {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a = *a + x * zero;
            }
        }
        acc.iter().chain(rest).map(|&x| x * zero).sum::<T>() == zero
    }
}

dispatched! {
    /// `u *= b` and `v *= b` pointwise; returns `(max |u + ubg|, max |v|)` of the velocities `u`,
    /// `v` before the products (the advecting speeds of the CFL number, `ubg` the background
    /// flow). The values must be finite (a NaN is passed over by the maxima).
    pub(crate) fn products_and_speeds<T: Real>(
        u: &mut [T],
        v: &mut [T],
        b: &[T],
        ubg: T,
    ) -> (f64, f64) {
        #[inline(always)]
        fn point<T: Real>(u: &mut T, v: &mut T, b: T, ubg: T, um: &mut T, vm: &mut T) {
            let (su, sv) = ((*u + ubg).abs(), v.abs());
            *um = if su > *um { su } else { *um };
            *vm = if sv > *vm { sv } else { *vm };
            *u = *u * b;
            *v = *v * b;
        }
        let (mut um, mut vm) = ([T::zero(); LANES], [T::zero(); LANES]);
        let n = u.len();
        let (u, v, b) = (&mut u[..n], &mut v[..n], &b[..n]);
        let whole = n - n % LANES;
        for ((u, v), b) in u[..whole]
            .chunks_exact_mut(LANES)
            .zip(v[..whole].chunks_exact_mut(LANES))
            .zip(b[..whole].chunks_exact(LANES))
        {
            for i in 0..LANES {
                point(&mut u[i], &mut v[i], b[i], ubg, &mut um[i], &mut vm[i]);
            }
        }
        for i in whole..n {
            point(&mut u[i], &mut v[i], b[i], ubg, &mut um[0], &mut vm[0]);
        }
        let max = |m: [T; LANES]| m.into_iter().fold(T::zero(), T::max).wide();
        (max(um), max(vm))
    }
}

/// [`products_and_speeds`] band by band, as [`crate::fft::Fft2::round_trip`] maps its two
/// fields: `u *= b` and `v *= b` at the band's `points` of the whole field `b`, and in `speeds`
/// the maxima `(max |u + ubg|, max |v|)` of every band so far.
pub(crate) fn products_by_band<'a, T: Real>(
    b: &'a [T],
    ubg: T,
    speeds: &'a mut (f64, f64),
) -> impl FnMut(Range<usize>, &mut [T], &mut [T]) + 'a {
    move |points, u, v| {
        let (um, vm) = products_and_speeds(u, v, &b[points], ubg);
        *speeds = (um.max(speeds.0), vm.max(speeds.1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_finite_value_is_found_at_any_position() {
        for n in [0, 1, 31, 32, 33, 70] {
            let x: Vec<f64> = (0..n).map(|i| 1e300 * (i as f64 - 3.5)).collect();
            assert!(all_finite(&x), "n = {n}");
            for i in 0..n {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut y = x.clone();
                    y[i] = bad;
                    assert!(!all_finite(&y), "n = {n}, {bad} at {i}");
                }
            }
        }
    }

    #[test]
    fn products_and_speeds_equal_the_plain_loop() {
        for n in [1, 13, 32, 45, 64] {
            let f = |i: usize, a: f64| ((i * 7919 % 97) as f64 / 97.0 - 0.5) * a;
            let (u0, v0, b): (Vec<f64>, Vec<f64>, Vec<f64>) = (
                (0..n).map(|i| f(i, 3.0)).collect(),
                (0..n).map(|i| f(i + 5, -2.0)).collect(),
                (0..n).map(|i| f(i + 11, 1.5)).collect(),
            );
            let ubg = -0.25;
            let (mut u, mut v) = (u0.clone(), v0.clone());
            let (umax, vmax) = products_and_speeds(&mut u, &mut v, &b, ubg);
            let want_u = u0.iter().map(|u| (u + ubg).abs()).fold(0.0, f64::max);
            let want_v = v0.iter().map(|v| v.abs()).fold(0.0, f64::max);
            assert_eq!((umax, vmax), (want_u, want_v), "n = {n}");
            for i in 0..n {
                assert_eq!((u[i], v[i]), (u0[i] * b[i], v0[i] * b[i]));
            }
        }
    }
}

//! Runtime CPU-feature dispatch for the step's pointwise passes (and, through the exported
//! [`dispatched!`], the ensemble transform's eigenproblems and products in `medida-discovery`).
//! Rust compiles for the baseline x86-64 (SSE2, two `f64` or four `f32` per vector) unless told
//! otherwise, and a portable binary cannot be built for AVX2; so each pass written with
//! [`dispatched!`] is compiled twice, once as it is and once for AVX2 (twice the vector width),
//! and the AVX2 copy runs where the CPU has it.
//! rustfft's butterflies choose their own AVX code at run time already.
//!
//! Both copies compute the same bits: only the vector width differs, and Rust never fuses a
//! multiplication and an addition into one rounding (no FMA unless written as `mul_add`), so each
//! value goes through the same IEEE operations in the same order.

use std::sync::atomic::{AtomicU8, Ordering};

/// Which copies run: not decided yet, the AVX2 ones, or the baseline ones.
const UNDECIDED: u8 = 0;
const AVX2: u8 = 1;
const BASELINE: u8 = 2;
static LEVEL: AtomicU8 = AtomicU8::new(UNDECIDED);

/// The instruction sets the dispatched passes may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simd {
    /// AVX2 where the CPU has it (the default).
    Auto,
    /// The baseline copies only (SSE2 on x86-64), for comparison.
    Baseline,
}

impl Simd {
    /// The copies the environment variable `MEDIDA_SIMD` asks for (`auto` or `baseline`; unset
    /// is `auto`), for benchmarks that compare them in one binary.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("MEDIDA_SIMD").as_deref() {
            Err(_) | Ok("auto") => Ok(Simd::Auto),
            Ok("baseline") => Ok(Simd::Baseline),
            Ok(other) => Err(format!("MEDIDA_SIMD `{other}`: allowed auto or baseline")),
        }
    }
}

/// Chooses the copies the dispatched passes run from now on, in every thread; returns whether
/// they are the AVX2 ones. Results are the same bits either way.
pub fn set_simd(simd: Simd) -> bool {
    let avx2 = simd == Simd::Auto && detected();
    LEVEL.store(if avx2 { AVX2 } else { BASELINE }, Ordering::Relaxed);
    avx2
}

/// Whether the dispatched passes run their AVX2 copies.
#[inline(always)]
pub fn avx2() -> bool {
    match LEVEL.load(Ordering::Relaxed) {
        AVX2 => true,
        BASELINE => false,
        _ => set_simd(Simd::Auto),
    }
}

fn detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A function over a `Real` type `T` compiled twice (as it is, and with AVX2 enabled) and
/// dispatched at run time by [`avx2`]. The body is inlined into both copies, and so is whatever
/// it calls that is `#[inline(always)]` (the helpers of a dispatched pass must be). Other crates
/// of the workspace use it as `medida_solver::simd::dispatched!`.
#[macro_export]
macro_rules! dispatched {
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident<$T:ident: Real>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?
        $body:block
    ) => {
        $(#[$attr])*
        $vis fn $name<$T: $crate::Real>($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body<$T: $crate::Real>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn with_avx2<$T: $crate::Real>($($arg: $ty),*) $(-> $ret)? {
                body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::simd::avx2() {
                // SAFETY: `avx2()` is true only on a CPU with AVX2.
                return unsafe { with_avx2($($arg),*) };
            }
            body($($arg),*)
        }
    };
}
pub use crate::dispatched;

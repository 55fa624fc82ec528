//! Ensemble data assimilation, model-agnostic: an ensemble of state vectors and the members'
//! forecasts at the stations in, the analysis ensemble out. The stochastic EnKF with perturbed
//! observations and the global ETKF ([`enkf`]), the LETKF of Hunt et al. (2007) with
//! Gaspari-Cohn localization on a periodic grid ([`letkf`], [`localization`]), and
//! multiplicative and relaxation-to-prior inflation ([`inflation`]).
//!
//! The formulas and conventions are DAPPER's (`dapper.da_methods.ensemble`, version 1.7.1):
//! an ensemble is an `(N, Nx)` array, one member per row; observation errors are independent
//! with variances `R`; the analyses agree with DAPPER's `EnKF('PertObs')`, `EnKF('Sqrt')` and
//! `LETKF` to round-off from the same inputs (`discovery/tests/dapper.rs`). Every analysis is
//! deterministic given its inputs (the EnKF's perturbations come from a seeded generator) and
//! the LETKF's local analyses give the same bits at any thread count.

mod eigen;
pub mod enkf;
pub mod inflation;
pub mod layout;
pub mod letkf;
pub mod localization;
mod transform;

pub use enkf::{etkf, perturbed_observations, perturbed_observations_with};
pub use inflation::{Inflation, Relaxation};
pub use layout::Layout;
pub use letkf::{Letkf, Reach};
pub use localization::{Localization, PeriodicGrid, gaspari_cohn};

use crate::error::{DiscoveryError, invalid};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};

/// What an analysis assimilates: the observations, their error variances, and each member's
/// forecast of them (the observation operator applied to the member).
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// `H(x_i)` for each member, `(N, p)`.
    pub members: ArrayView2<'a, f64>,
    /// The observations `y`, `(p,)`.
    pub y: ArrayView1<'a, f64>,
    /// The observation error variances (the diagonal of `R`), `(p,)`, each finite and > 0.
    pub variance: ArrayView1<'a, f64>,
}

impl Observed<'_> {
    /// Checks the shapes against an ensemble of `n` members and the values.
    pub(crate) fn check(&self, n: usize) -> Result<(), DiscoveryError> {
        let p = self.y.len();
        if n < 2 {
            return Err(invalid("members", n, "at least 2"));
        }
        if self.members.dim() != (n, p) || self.variance.len() != p {
            return Err(DiscoveryError::Shape(format!(
                "observed ensemble {:?}, {} observations and {} variances for {n} members (allowed: ({n}, p), p and p)",
                self.members.dim(),
                p,
                self.variance.len()
            )));
        }
        if let Some(v) = self.variance.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(invalid("observation error variance", v, "finite and > 0"));
        }
        if let Some(v) = self
            .y
            .iter()
            .chain(self.members.iter())
            .find(|v| !v.is_finite())
        {
            return Err(invalid("observation", v, "finite"));
        }
        Ok(())
    }

    /// The observed anomalies and the innovation of the mean, both scaled by `R^-1/2`:
    /// `((H(x_i) - mean H(x)) R^-1/2, (y - mean H(x)) R^-1/2)`, `(N, p)` and `(p,)`.
    pub(crate) fn normalised(&self) -> (Array2<f64>, Array1<f64>) {
        let r_isqrt = self.variance.mapv(|v| 1.0 / v.sqrt());
        let mean_y = mean(self.members);
        let yn = (&self.members - &mean_y) * &r_isqrt;
        let dy = (&self.y - &mean_y) * &r_isqrt;
        (yn, dy)
    }
}

/// `block`'s columns split into consecutive runs of `widths` (each run as wide as the columns
/// left allow).
pub(crate) fn split_columns<'a>(
    block: ArrayViewMut2<'a, f64>,
    widths: impl Iterator<Item = usize>,
) -> Vec<ArrayViewMut2<'a, f64>> {
    let mut runs = Vec::new();
    let mut rest = block;
    for width in widths {
        let width = width.min(rest.ncols());
        let (run, tail) = rest.split_at(Axis(1), width);
        runs.push(run);
        rest = tail;
    }
    runs
}

/// The ensemble mean `(Nx,)`: member after member, whatever the memory layout, so an analysis
/// gives the same bits whichever process holds which columns (ndarray's `mean_axis` sums a
/// contiguous column pairwise and a strided one member after member).
pub fn mean(e: ArrayView2<f64>) -> Array1<f64> {
    let mut sum = Array1::zeros(e.ncols());
    for member in e.rows() {
        sum += &member;
    }
    sum / e.nrows() as f64
}

/// The ensemble mean `(Nx,)` and anomalies `E - mean` `(N, Nx)`.
pub fn center(e: ArrayView2<f64>) -> (Array1<f64>, Array2<f64>) {
    let mean = mean(e);
    let anomalies = &e - &mean;
    (mean, anomalies)
}

/// The ensemble spread: the standard deviation over members (`N - 1` in the denominator) of
/// each state variable, `(Nx,)`.
pub fn spread(e: ArrayView2<f64>) -> Array1<f64> {
    e.std_axis(Axis(0), 1.0)
}

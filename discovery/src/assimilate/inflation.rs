//! Inflation: the analysis spread widened after the update, so an ensemble that its own
//! sampling error and the model's error make overconfident keeps trusting the observations.
//! Multiplicative inflation as DAPPER's `post_process` applies it, and relaxation to the prior
//! (Zhang et al. 2004, perturbations; Whitaker and Hamill 2012, spread).

use super::center;
use crate::error::{DiscoveryError, invalid};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

/// Columns per parallel task of [`Inflation::apply`].
const COLUMNS: usize = 2048;

/// Relaxation of the analysis anomalies back towards the forecast's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Relaxation {
    /// None.
    None,
    /// RTPP: `A_a <- (1 - alpha) A_a + alpha A_f`.
    Perturbations(f64),
    /// RTPS: each variable's analysis anomalies scaled so its spread becomes
    /// `(1 - alpha) sigma_a + alpha sigma_f`.
    Spread(f64),
}

/// The inflation applied after each analysis: relaxation first, then the multiplicative
/// factor on the anomalies (`E <- mean + factor (E - mean)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inflation {
    /// The multiplicative factor on the anomalies (1: none).
    pub factor: f64,
    /// Relaxation to the prior.
    pub relaxation: Relaxation,
}

impl Default for Inflation {
    fn default() -> Self {
        Self {
            factor: 1.0,
            relaxation: Relaxation::None,
        }
    }
}

impl Inflation {
    /// Checks the settings: a factor in [1, 10], a relaxation in [0, 1].
    pub fn check(&self) -> Result<(), DiscoveryError> {
        if !(1.0..=10.0).contains(&self.factor) {
            return Err(invalid("inflation", self.factor, "1 to 10 (1: none)"));
        }
        match self.relaxation {
            Relaxation::Perturbations(a) | Relaxation::Spread(a) if !(0.0..=1.0).contains(&a) => {
                Err(invalid("relaxation to prior", a, "0 to 1"))
            }
            _ => Ok(()),
        }
    }

    /// Applies the inflation to the analysis `e` `(N, Nx)` given the forecast it came from.
    /// Each variable's inflation is its own, so blocks of columns are inflated in parallel (the
    /// same bits at any thread count).
    pub fn apply(&self, e: &mut Array2<f64>, forecast: ArrayView2<f64>) {
        assert_eq!(
            e.dim(),
            forecast.dim(),
            "inflation: analysis and forecast shapes"
        );
        e.axis_chunks_iter_mut(Axis(1), COLUMNS)
            .into_par_iter()
            .zip(forecast.axis_chunks_iter(Axis(1), COLUMNS))
            .for_each(|(e, forecast)| self.apply_columns(e, forecast));
    }

    /// [`Inflation::apply`] to some columns.
    fn apply_columns(&self, mut e: ArrayViewMut2<f64>, forecast: ArrayView2<f64>) {
        let (mean, mut a) = center(e.view());
        match self.relaxation {
            Relaxation::None => {}
            Relaxation::Perturbations(alpha) => {
                let (_, af) = center(forecast);
                a = a * (1.0 - alpha) + af * alpha;
            }
            Relaxation::Spread(alpha) => {
                let sf = forecast.std_axis(Axis(0), 1.0);
                let sa = a.std_axis(Axis(0), 1.0);
                for (mut col, (sa, sf)) in a.columns_mut().into_iter().zip(sa.iter().zip(&sf)) {
                    if *sa > 0.0 {
                        col *= 1.0 + alpha * (sf - sa) / sa;
                    }
                }
            }
        }
        if self.factor != 1.0 {
            a *= self.factor;
        }
        e.assign(&(a + &mean));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::normal;
    use rand_mt::Mt64;

    fn ensembles() -> (Array2<f64>, Array2<f64>) {
        let mut rng = Mt64::new(2);
        let f = Array2::from_shape_fn((12, 5), |(_, j)| j as f64 + 2.0 * normal(&mut rng));
        let a = Array2::from_shape_fn((12, 5), |(_, j)| j as f64 + 0.5 * normal(&mut rng));
        (f, a)
    }

    #[test]
    fn rtps_sets_the_spread_and_keeps_the_mean() {
        let (f, a0) = ensembles();
        let mut a = a0.clone();
        let infl = Inflation {
            factor: 1.0,
            relaxation: Relaxation::Spread(0.7),
        };
        infl.apply(&mut a, f.view());
        let (sf, sa0, sa) = (
            f.std_axis(Axis(0), 1.0),
            a0.std_axis(Axis(0), 1.0),
            a.std_axis(Axis(0), 1.0),
        );
        for j in 0..5 {
            let want = 0.3 * sa0[j] + 0.7 * sf[j];
            assert!(
                (sa[j] - want).abs() < 1e-12 * want,
                "{j}: {} vs {want}",
                sa[j]
            );
        }
        let d = &a.mean_axis(Axis(0)).unwrap() - &a0.mean_axis(Axis(0)).unwrap();
        assert!(d.iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn rtpp_and_the_factor_mix_and_scale_the_anomalies() {
        let (f, a0) = ensembles();
        let mut a = a0.clone();
        Inflation {
            factor: 1.1,
            relaxation: Relaxation::Perturbations(0.5),
        }
        .apply(&mut a, f.view());
        let (m0, an0) = center(a0.view());
        let (_, af) = center(f.view());
        let want = (an0 * 0.5 + af * 0.5) * 1.1 + &m0;
        assert!((&a - &want).iter().all(|d| d.abs() < 1e-12));
        let msg = Inflation {
            factor: 0.9,
            relaxation: Relaxation::None,
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("inflation") && msg.contains("1 to 10"),
            "{msg}"
        );
        let msg = Inflation {
            factor: 1.0,
            relaxation: Relaxation::Spread(1.5),
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("relaxation") && msg.contains("0 to 1"),
            "{msg}"
        );
    }
}

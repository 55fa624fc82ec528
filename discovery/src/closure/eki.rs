//! Ensemble Kalman inversion (Iglesias, Law and Stuart 2013), as CliMA's
//! EnsembleKalmanProcesses.jl runs `Inversion()`: each member `u_j` (unconstrained parameters)
//! moves by
//!
//! `u_j <- u_j + dt C_uG (Gamma + dt C_GG)^-1 (y - G(u_j))`,
//!
//! with `C_uG`, `C_GG` the ensemble's cross- and output covariances, `y` the data and `Gamma`
//! its noise covariance (diagonal here). The forward map of a closure calibration is a chaotic
//! model's time mean, noisy in itself, so the observations are not perturbed; the ensemble
//! collapses onto the misfit's minimum over the iterations. The step `dt` is fixed, or EKP's
//! default `DataMisfitController` ([`Eki::adaptive_step`], Iglesias and Yang 2021): small while
//! the misfit is large, so one update does not collapse the ensemble before it has moved, and
//! the steps add up to 1 (then the inversion is done).
//!
//! Members whose forward run failed (a model that blew up) are EKP's `SampleSuccGauss`: the
//! update uses the successful members only, and each failed member is redrawn from the Gaussian
//! of the updated successful ones. Everything is sequential and seeded: the same seed gives the
//! same ensemble whatever runs the forward maps.

use crate::error::DiscoveryError;
use crate::observe::normal;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rand_mt::Mt64;

/// The data of an inversion: what the forward map should return and its noise variances.
#[derive(Debug, Clone, PartialEq)]
pub struct Eki {
    y: Vec<f64>,
    gamma: Vec<f64>,
}

/// What one update did.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The members after the update (unconstrained).
    pub members: Vec<Vec<f64>>,
    /// How many were redrawn because their forward run failed.
    pub redrawn: usize,
}

impl Eki {
    /// Data `y` with noise variances `gamma` (each finite and > 0).
    pub fn new(y: Vec<f64>, gamma: Vec<f64>) -> Result<Self, DiscoveryError> {
        let bad = |m: String| Err(DiscoveryError::Closure(m));
        if y.is_empty() || y.len() != gamma.len() {
            return bad(format!(
                "calibration data: {} values and {} variances (allowed: as many, at least 1)",
                y.len(),
                gamma.len()
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return bad(format!("calibration data: value {i} is {}", y[i]));
        }
        if let Some(i) = gamma.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return bad(format!(
                "calibration data: variance {i} is {} (allowed: finite and > 0)",
                gamma[i]
            ));
        }
        Ok(Self { y, gamma })
    }

    /// The data.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// The data misfit `(y - g)^T Gamma^-1 (y - g) / d` (1 is a fit within the noise).
    pub fn misfit(&self, g: &[f64]) -> f64 {
        self.y
            .iter()
            .zip(g)
            .zip(&self.gamma)
            .map(|((y, g), s)| (y - g).powi(2) / s)
            .sum::<f64>()
            / self.y.len() as f64
    }

    /// EKP's `DataMisfitController` step after the steps so far add up to `t`: with
    /// `Phi_j = |Gamma^-1/2 (y - G_j)|^2 / 2` over the successful members and `M` data,
    /// `min(max(M / (2 mean Phi), sqrt(M / (2 mean Phi^2))), 1 - t)`; 0 when `t >= 1` (done).
    pub fn adaptive_step(&self, outputs: &[Option<Vec<f64>>], t: f64) -> f64 {
        let m = self.y.len() as f64;
        let phi: Vec<f64> = outputs
            .iter()
            .flatten()
            .map(|g| self.misfit(g) * m / 2.0)
            .collect();
        if phi.is_empty() || t >= 1.0 {
            return 0.0;
        }
        let n = phi.len() as f64;
        let mean = phi.iter().sum::<f64>() / n;
        let mean2 = phi.iter().map(|p| p * p).sum::<f64>() / n;
        (m / (2.0 * mean))
            .max((m / (2.0 * mean2)).sqrt())
            .min(1.0 - t)
    }

    /// One update of `members` from their forward runs `outputs` (`None`: failed) with step
    /// `dt`; `rng` draws the failed members again. At least two members must have succeeded.
    pub fn update(
        &self,
        members: &[Vec<f64>],
        outputs: &[Option<Vec<f64>>],
        dt: f64,
        rng: &mut Mt64,
    ) -> Result<Update, DiscoveryError> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(DiscoveryError::Closure(format!(
                "EKI step {dt}: allowed a finite number > 0"
            )));
        }
        let (d, p) = (self.y.len(), members.first().map_or(0, Vec::len));
        let ok: Vec<usize> = (0..members.len())
            .filter(|&j| outputs[j].as_ref().is_some_and(|g| g.len() == d))
            .collect();
        if ok.len() < 2 {
            return Err(DiscoveryError::Closure(format!(
                "{} of {} members' forward runs succeeded; EKI needs 2 or more (a narrower prior or a shorter time step may keep the model stable)",
                ok.len(),
                members.len()
            )));
        }
        let g = |j: usize| outputs[j].as_deref().expect("a successful member");
        let n = ok.len() as f64;
        let u_mean: Vec<f64> = (0..p)
            .map(|i| ok.iter().map(|&j| members[j][i]).sum::<f64>() / n)
            .collect();
        let g_mean: Vec<f64> = (0..d)
            .map(|k| ok.iter().map(|&j| g(j)[k]).sum::<f64>() / n)
            .collect();
        let cov = |a: &dyn Fn(usize, usize) -> f64, b: &dyn Fn(usize, usize) -> f64, r, c| {
            Mat::from_fn(r, c, |i, k| {
                ok.iter().map(|&j| a(j, i) * b(j, k)).sum::<f64>() / (n - 1.0)
            })
        };
        let du = |j: usize, i: usize| members[j][i] - u_mean[i];
        let dg = |j: usize, k: usize| g(j)[k] - g_mean[k];
        let c_ug = cov(&du, &dg, p, d);
        let mut a = cov(&dg, &dg, d, d) * dt;
        for k in 0..d {
            a[(k, k)] += self.gamma[k];
        }
        let llt = a.llt(Side::Lower).map_err(|_| {
            DiscoveryError::Closure("EKI: Gamma + dt C_GG is not positive definite".into())
        })?;
        let mut out = members.to_vec();
        for &j in &ok {
            let r = Mat::from_fn(d, 1, |k, _| self.y[k] - g(j)[k]);
            let step = &c_ug * llt.solve(&r) * dt;
            for (i, u) in out[j].iter_mut().enumerate() {
                *u += step[(i, 0)];
            }
        }
        let failed: Vec<usize> = (0..members.len()).filter(|j| !ok.contains(j)).collect();
        if !failed.is_empty() {
            let mean: Vec<f64> = (0..p)
                .map(|i| ok.iter().map(|&j| out[j][i]).sum::<f64>() / n)
                .collect();
            let spread = Mat::from_fn(p, p, |a, b| {
                ok.iter()
                    .map(|&j| (out[j][a] - mean[a]) * (out[j][b] - mean[b]))
                    .sum::<f64>()
                    / (n - 1.0)
                    + if a == b { 1e-12 } else { 0.0 }
            });
            let l = spread
                .llt(Side::Lower)
                .map_err(|_| DiscoveryError::Closure("EKI: the ensemble has collapsed".into()))?
                .L()
                .to_owned();
            for &j in &failed {
                let z: Vec<f64> = (0..p).map(|_| normal(rng)).collect();
                out[j] = (0..p)
                    .map(|a| mean[a] + (0..=a).map(|b| l[(a, b)] * z[b]).sum::<f64>())
                    .collect();
            }
        }
        Ok(Update {
            members: out,
            redrawn: failed.len(),
        })
    }
}

/// `members` draws of a Gaussian prior with independent components of means `mean` and
/// standard deviations `sd` (unconstrained).
pub fn prior(mean: &[f64], sd: &[f64], members: usize, rng: &mut Mt64) -> Vec<Vec<f64>> {
    (0..members)
        .map(|_| {
            mean.iter()
                .zip(sd)
                .map(|(m, s)| m + s * normal(rng))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A linear forward map `G(u) = A u`: EKI's ensemble mean converges to the least-squares
    /// solution of `A u = y` weighted by Gamma (the known limit of EKI on linear problems).
    #[test]
    fn linear_problem_converges_to_least_squares() {
        let a = [[1.0, 0.5], [0.2, 2.0], [1.0, -1.0]];
        let truth = [0.3, -0.7];
        let y: Vec<f64> = a
            .iter()
            .map(|r| r[0] * truth[0] + r[1] * truth[1])
            .collect();
        let eki = Eki::new(y, vec![1e-4; 3]).unwrap();
        let mut rng = Mt64::new(1);
        let mut u = prior(&[0.0, 0.0], &[1.0, 1.0], 20, &mut rng);
        let g = |u: &[f64]| Some(a.iter().map(|r| r[0] * u[0] + r[1] * u[1]).collect());
        for _ in 0..30 {
            let out: Vec<_> = u.iter().map(|u| g(u)).collect();
            u = eki.update(&u, &out, 1.0, &mut rng).unwrap().members;
        }
        let mean = [0, 1].map(|i| u.iter().map(|m| m[i]).sum::<f64>() / 20.0);
        // Exact data: the misfit's minimum is the truth; the ensemble collapses onto it.
        assert!((mean[0] - truth[0]).abs() < 1e-3 && (mean[1] - truth[1]).abs() < 1e-3);
    }

    #[test]
    fn failed_members_are_redrawn_and_too_few_is_an_error() {
        let eki = Eki::new(vec![1.0], vec![0.1]).unwrap();
        let mut rng = Mt64::new(2);
        let u = prior(&[0.0], &[1.0], 4, &mut rng);
        let out: Vec<_> = u
            .iter()
            .enumerate()
            .map(|(j, u)| (j != 1).then(|| vec![u[0]]))
            .collect();
        let up = eki.update(&u, &out, 1.0, &mut rng).unwrap();
        assert_eq!(up.redrawn, 1);
        assert!(up.members.iter().all(|m| m[0].is_finite()));
        let none = vec![None, Some(vec![0.0]), None, None];
        let e = eki
            .update(&u, &none, 1.0, &mut rng)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 of 4 members"), "{e}");
        assert!(Eki::new(vec![1.0], vec![0.0]).is_err());
        assert!(Eki::new(vec![f64::NAN], vec![1.0]).is_err());
        assert!(eki.update(&u, &out, 0.0, &mut rng).is_err());
    }

    /// The controller's step: `1 / misfit` while the misfit is large (per datum, `M / 2 Phi`),
    /// never past `t = 1`, and 0 once there.
    #[test]
    fn adaptive_step_follows_the_misfit() {
        let eki = Eki::new(vec![0.0; 4], vec![1.0; 4]).unwrap();
        // Every member's misfit (y - g)^2 / gamma per datum is 9: Phi = 18, M / (2 Phi) = 1/9,
        // sqrt(M / (2 Phi^2)) = sqrt(4 / 648) < 1/9.
        let out = vec![Some(vec![3.0; 4]), Some(vec![-3.0; 4]), None];
        assert!((eki.adaptive_step(&out, 0.0) - 1.0 / 9.0).abs() < 1e-15);
        assert_eq!(eki.adaptive_step(&out, 0.95), 1.0 - 0.95);
        assert_eq!(eki.adaptive_step(&out, 1.0), 0.0);
    }
}

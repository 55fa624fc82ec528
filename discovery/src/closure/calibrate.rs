//! Closure constants calibrated from low-order statistics only: the coarse model's time-mean log
//! enstrophy spectrum ([`SpectrumBins`]) is made to match a reference's by ensemble Kalman
//! inversion ([`Eki`]) over the constants' logarithms (so they stay positive), or over their
//! logits between 0 and an upper bound ([`Transform`]: EKP's `bounded` constraint, for a constant
//! past which the model blows up), or scanned on a grid of one constant ([`sweep`]).
//!
//! The forward map ([`ForwardRun`]) runs the coarse model with a closure from each of its initial
//! states for a spin-up and an averaging window and returns the log of the pooled mean spectrum; a run that
//! blows up returns nothing and is handled by the inversion. Members run in parallel (rayon),
//! each on its own copy of the model, and may be shared among processes ([`Ranks`]: each runs a
//! contiguous share, one all-gather gives every process all results in order), so the result
//! depends neither on the thread count nor on the process count.

use crate::closure::Baseline;
use crate::closure::eki::{Eki, prior};
use crate::closure::spectrum::{SpectrumBins, SpectrumSamples};
use crate::error::DiscoveryError;
use crate::ranks::{Ranks, gather_results, my_share};
use medida_solver::{Model, SolverError};
use ndarray::Array3;
use rand_mt::Mt64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The forward map: coarse runs of the model without closure plus a closure, one from each
/// initial state, with their spectra pooled over the windows (more starts: less noise).
#[derive(Debug, Clone)]
pub struct ForwardRun {
    /// The coarse model without closure.
    pub model: Model,
    /// Initial states `q` `(lev, y, x)`, one run each.
    pub starts: Vec<Array3<f64>>,
    /// Steps before the averaging window.
    pub spinup: u64,
    /// Steps of the averaging window.
    pub steps: u64,
    /// Steps between spectrum samples in the window.
    pub every: u64,
    /// The bins of the spectrum.
    pub bins: SpectrumBins,
    /// The processes sharing the runs of [`run_many`](Self::run_many) (MPI ranks), or `None`
    /// for this one alone.
    pub ranks: Option<Arc<dyn Ranks>>,
}

impl ForwardRun {
    /// The log time-mean spectrum (layers concatenated) of the model with `closure` added,
    /// pooled over the starts; `None` if a run blew up.
    pub fn run(&self, closure: Option<&Baseline>) -> Result<Option<Vec<f64>>, DiscoveryError> {
        let mut with = self.model.clone();
        if let Some(c) = closure {
            for t in c.terms(with.params()) {
                with.add_term(t)?;
            }
        }
        let mut samples = SpectrumSamples::default();
        for q0 in &self.starts {
            let mut m = with.clone();
            m.set_q(q0.view())?;
            for s in 0..self.spinup + self.steps {
                match m.step() {
                    Ok(()) => {}
                    Err(SolverError::Unstable { .. }) => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
                if s >= self.spinup && (s + 1 - self.spinup).is_multiple_of(self.every.max(1)) {
                    samples.add(&self.bins, &m.qh_spectra());
                }
            }
        }
        Ok(samples.log_mean())
    }
}

impl ForwardRun {
    /// [`run`](Self::run) with each of `closures`, in parallel, and over ranks each process
    /// running a contiguous share; every process returns every result, in order.
    pub fn run_many(
        &self,
        closures: &[Option<Baseline>],
    ) -> Result<Vec<Option<Vec<f64>>>, DiscoveryError> {
        let mine: Vec<Option<Vec<f64>>> = closures[my_share(self.ranks.as_deref(), closures.len())]
            .par_iter()
            .map(|c| self.run(c.as_ref()))
            .collect::<Result<_, _>>()?;
        let all = gather_results(self.ranks.as_deref(), mine)?;
        if all.len() != closures.len() {
            return Err(DiscoveryError::Ranks(format!(
                "{} forward runs gathered for {}",
                all.len(),
                closures.len()
            )));
        }
        Ok(all)
    }
}

/// A built-in closure with some constants free: the closure name, the free constants' names and
/// the fixed ones' values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreeConstants {
    /// A built-in closure's name (`smagorinsky`, `leith`, `backscatter`, ...).
    pub closure: String,
    /// The constants calibrated.
    pub free: Vec<String>,
    /// The others, as given.
    pub fixed: Vec<(String, f64)>,
}

impl FreeConstants {
    /// The closure with the free constants set to `values`.
    pub fn closure(&self, values: &[f64]) -> Result<Baseline, DiscoveryError> {
        Baseline::parse(&self.spec(values))
    }

    /// Its specification, `name:key=value,...`.
    pub fn spec(&self, values: &[f64]) -> String {
        let kv: Vec<String> = self
            .free
            .iter()
            .zip(values)
            .map(|(k, v)| format!("{k}={v}"))
            .chain(self.fixed.iter().map(|(k, v)| format!("{k}={v}")))
            .collect();
        format!("{}:{}", self.closure, kv.join(","))
    }
}

/// Settings of an inversion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EkiSettings {
    /// Ensemble members.
    pub members: usize,
    /// Updates.
    pub iterations: usize,
    /// Seed of the prior draws and of redrawn members.
    pub seed: u64,
    /// The prior's medians (the free constants' values).
    pub prior: Vec<f64>,
    /// The prior's standard deviation of each constant's unconstrained parameter (its natural
    /// log, or its logit where it has an upper bound).
    pub prior_log_sd: f64,
    /// Each free constant's upper bound (`None`: unbounded above); empty: none has one.
    #[serde(default)]
    pub upper: Vec<Option<f64>>,
    /// The EKI step: fixed, or `None` for EKP's data-misfit controller (which also ends the
    /// inversion when its steps add up to 1).
    pub step: Option<f64>,
}

impl EkiSettings {
    /// The transform of the prior's constants: bounded above where `upper` says, each prior
    /// median below its bound.
    pub fn transform(&self) -> Result<Transform, DiscoveryError> {
        let p = self.prior.len();
        let upper = if self.upper.is_empty() {
            vec![None; p]
        } else {
            self.upper.clone()
        };
        if upper.len() != p {
            return Err(DiscoveryError::Closure(format!(
                "{p} free constants and {} upper bounds (allowed: as many, or none)",
                upper.len()
            )));
        }
        if let Some((v, u)) = self
            .prior
            .iter()
            .zip(&upper)
            .find_map(|(v, u)| u.filter(|u| v >= u).map(|u| (v, u)))
        {
            return Err(DiscoveryError::Closure(format!(
                "prior {v}: allowed below its upper bound {u}"
            )));
        }
        Transform::new(upper)
    }
}

/// One iteration of an inversion: the members' constants and how their forward runs fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iteration {
    /// Each member's constants.
    pub constants: Vec<Vec<f64>>,
    /// Each member's log-spectrum RMSE against the data (`None`: blew up).
    pub rmse: Vec<Option<f64>>,
    /// Each member's misfit weighted by the data's noise (1: within the noise).
    pub misfit: Vec<Option<f64>>,
    /// The constants at the members' mean unconstrained parameters (for an unbounded constant
    /// the geometric mean: the mean of the logs).
    pub mean: Vec<f64>,
    /// The spread: standard deviation of each constant's unconstrained parameter (log or
    /// logit) over the members.
    pub log_sd: Vec<f64>,
    /// The step of the update that follows (absent for the final ensemble).
    pub step: Option<f64>,
}

/// How each constant maps to the unconstrained parameter EKI updates (EKP's constraints): a
/// constant in `(0, inf)` by its log, `u = ln c`; one in `(0, U)` by its logit,
/// `u = ln(c / (U - c))`, so no update can take it past `U`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transform {
    upper: Vec<Option<f64>>,
}

impl Transform {
    /// `upper[i]`: constant `i`'s upper bound, if any (each finite and > 0).
    pub fn new(upper: Vec<Option<f64>>) -> Result<Self, DiscoveryError> {
        if let Some(u) = upper
            .iter()
            .flatten()
            .find(|u| !(u.is_finite() && **u > 0.0))
        {
            return Err(DiscoveryError::Closure(format!(
                "upper bound {u}: allowed a finite number > 0"
            )));
        }
        Ok(Self { upper })
    }

    /// The unconstrained parameters of constants `c` (each inside its bounds).
    pub fn unconstrained(&self, c: &[f64]) -> Vec<f64> {
        c.iter()
            .zip(&self.upper)
            .map(|(c, u)| match u {
                None => c.ln(),
                Some(u) => (c / (u - c)).ln(),
            })
            .collect()
    }

    /// The constants of unconstrained parameters `u`.
    pub fn constrained(&self, u: &[f64]) -> Vec<f64> {
        u.iter()
            .zip(&self.upper)
            .map(|(v, u)| match u {
                None => v.exp(),
                Some(u) => u / (1.0 + (-v).exp()),
            })
            .collect()
    }
}

/// RMS of `g - y`.
pub fn rmse(g: &[f64], y: &[f64]) -> f64 {
    (g.iter().zip(y).map(|(g, y)| (g - y).powi(2)).sum::<f64>() / y.len() as f64).sqrt()
}

/// Runs `forward` on every member, in order ([`ForwardRun::run_many`]).
fn run_all(
    forward: &ForwardRun,
    free: &FreeConstants,
    constants: &[Vec<f64>],
) -> Result<Vec<Option<Vec<f64>>>, DiscoveryError> {
    let closures: Vec<Option<Baseline>> = constants
        .iter()
        .map(|c| free.closure(c).map(Some))
        .collect::<Result<_, _>>()?;
    forward.run_many(&closures)
}

/// Ensemble Kalman inversion of `free`'s constants against `eki`'s data: up to
/// `settings.iterations` updates from a prior Gaussian in the unconstrained parameters
/// ([`Transform`]; log-normal for an unbounded constant), fewer when the adaptive steps reach
/// 1; `progress` sees each iteration as it ends. The last entry is the final ensemble, whose
/// forward runs are not made (its `rmse`/`misfit` are empty).
pub fn calibrate(
    eki: &Eki,
    forward: &ForwardRun,
    free: &FreeConstants,
    settings: &EkiSettings,
    progress: &mut dyn FnMut(&Iteration),
) -> Result<Vec<Iteration>, DiscoveryError> {
    let p = free.free.len();
    if p == 0 || settings.prior.len() != p {
        return Err(DiscoveryError::Closure(format!(
            "{} free constants and {} prior values (allowed: as many, 1 or more)",
            p,
            settings.prior.len()
        )));
    }
    if let Some(v) = settings
        .prior
        .iter()
        .find(|v| !(v.is_finite() && **v > 0.0))
    {
        return Err(DiscoveryError::Closure(format!(
            "prior {v}: calibrated constants are positive (their logs are inverted)"
        )));
    }
    let transform = settings.transform()?;
    if settings.members < 2 {
        return Err(DiscoveryError::Closure(format!(
            "{} members: allowed 2 or more",
            settings.members
        )));
    }
    let mut rng = Mt64::new(settings.seed);
    let mut u = prior(
        &transform.unconstrained(&settings.prior),
        &vec![settings.prior_log_sd; p],
        settings.members,
        &mut rng,
    );
    let mut out = Vec::new();
    let summary = |u: &[Vec<f64>]| {
        let n = u.len() as f64;
        let mean: Vec<f64> = (0..p)
            .map(|i| u.iter().map(|m| m[i]).sum::<f64>() / n)
            .collect();
        let sd = (0..p)
            .map(|i| (u.iter().map(|m| (m[i] - mean[i]).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
            .collect();
        (transform.constrained(&mean), sd)
    };
    let members =
        |u: &[Vec<f64>]| -> Vec<Vec<f64>> { u.iter().map(|m| transform.constrained(m)).collect() };
    let mut t = 0.0;
    for _ in 0..settings.iterations {
        let constants = members(&u);
        let g = run_all(forward, free, &constants)?;
        let (mean, log_sd) = summary(&u);
        let dt = settings.step.unwrap_or_else(|| eki.adaptive_step(&g, t));
        let it = Iteration {
            rmse: g
                .iter()
                .map(|g| g.as_ref().map(|g| rmse(g, eki.y())))
                .collect(),
            misfit: g
                .iter()
                .map(|g| g.as_ref().map(|g| eki.misfit(g)))
                .collect(),
            constants,
            mean,
            log_sd,
            step: Some(dt),
        };
        progress(&it);
        out.push(it);
        if dt <= 0.0 {
            break;
        }
        t += dt;
        u = eki.update(&u, &g, dt, &mut rng)?.members;
    }
    let (mean, log_sd) = summary(&u);
    out.push(Iteration {
        constants: members(&u),
        rmse: Vec::new(),
        misfit: Vec::new(),
        mean,
        log_sd,
        step: None,
    });
    Ok(out)
}

/// One point of a sweep: a value of the one free constant and how its run fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The constant.
    pub value: f64,
    /// Log-spectrum RMSE against the data (`None`: blew up).
    pub rmse: Option<f64>,
    /// Misfit weighted by the data's noise.
    pub misfit: Option<f64>,
}

/// The forward map at each of `values` of `free`'s single free constant.
pub fn sweep(
    eki: &Eki,
    forward: &ForwardRun,
    free: &FreeConstants,
    values: &[f64],
) -> Result<Vec<SweepPoint>, DiscoveryError> {
    if free.free.len() != 1 {
        return Err(DiscoveryError::Closure(format!(
            "a sweep scans one constant; {} are free ({})",
            free.free.len(),
            free.free.join(", ")
        )));
    }
    let constants: Vec<Vec<f64>> = values.iter().map(|v| vec![*v]).collect();
    let g = run_all(forward, free, &constants)?;
    Ok(values
        .iter()
        .zip(g)
        .map(|(v, g)| SweepPoint {
            value: *v,
            rmse: g.as_ref().map(|g| rmse(g, eki.y())),
            misfit: g.as_ref().map(|g| eki.misfit(g)),
        })
        .collect())
}

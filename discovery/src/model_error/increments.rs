//! Analysis increments: the truth and an imperfect model, both started from the same observed
//! state and run over the same window with the same stepper; their difference per unit time is
//! the model error integrated over the window.
//!
//! With a one-step window and a stepper whose first step is forward Euler (all of medida's: AB3
//! and leapfrog start with Euler, and a restarted model starts again), the increment is
//! `filtr (F_truth(q0) - F_model(q0))` exactly: the model error's tendency at the observed state,
//! times the update filter (pyqg's filter and the implicit hyperviscosity, 1 except near the
//! grid scale). Longer windows average the error along the two trajectories.

use crate::error::DiscoveryError;
use crate::observe::{Interpolator, ObservationSpec, relative_error};
use crate::ranks::{Ranks, gather_results, my_share};
use medida_solver::Model;
use ndarray::{Array3, ArrayView3, Axis};
use rayon::prelude::*;

/// One increment.
#[derive(Debug, Clone, PartialEq)]
pub struct Increment {
    /// `(q_truth(t0 + window) - q_model(t0 + window)) / window`, `(lev, y, x)`, per unit time.
    pub dqdt: Array3<f64>,
    /// The imperfect model's forecast at `t0 + window` (the state the released code evaluates
    /// its library on).
    pub q_forecast: Array3<f64>,
}

/// The truth and the imperfect model, and the window.
#[derive(Debug, Clone)]
pub struct Increments {
    pub(crate) truth: Model,
    model: Model,
    window: u64,
}

impl Increments {
    /// Increments of `model` against `truth` over `window` steps. The two must share grid, time
    /// step and stepper (the imperfect model is the truth with coefficients changed).
    pub fn new(truth: Model, model: Model, window: u64) -> Result<Self, DiscoveryError> {
        if window == 0 {
            return Err(DiscoveryError::InvalidSetting {
                name: "window",
                value: "0".into(),
                allowed: "at least 1 step",
            });
        }
        let (a, b) = (truth.params(), model.params());
        if a.grid() != b.grid() || a.dt != b.dt || a.stepper != b.stepper {
            return Err(DiscoveryError::Shape(
                "the truth and the imperfect model differ in grid, time step or stepper".into(),
            ));
        }
        Ok(Self {
            truth,
            model,
            window,
        })
    }

    /// The window in model time units (steps times `dt`).
    pub fn window_time(&self) -> f64 {
        self.window as f64 * self.truth.params().dt
    }

    /// The truth model.
    pub fn truth(&self) -> &Model {
        &self.truth
    }

    /// The imperfect model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The increment from the observed state `q0` `(2, ny, nx)`.
    pub fn at(&mut self, q0: ArrayView3<f64>) -> Result<Increment, DiscoveryError> {
        let mut finals = Vec::with_capacity(2);
        for m in [&mut self.truth, &mut self.model] {
            m.set_q(q0)?;
            m.run(self.window)?;
            finals.push(m.q());
        }
        let q_forecast = finals.pop().expect("two runs");
        let q_truth = finals.pop().expect("two runs");
        let dqdt = (q_truth - &q_forecast) / self.window_time();
        Ok(Increment { dqdt, q_forecast })
    }
}

/// An increment from sparse, noisy observations.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedIncrement {
    /// `(y(t0 + window) - q_model(t0 + window)) / window` at the stations observed at the end of
    /// the window (noise-free: minus the analysis' misfit `(q_analysis - y)(t0) / window` where
    /// the station was observed at `t0` too), NaN elsewhere.
    pub dqdt: Array3<f64>,
    /// The analysis at `t0` (interpolated or assimilated observations), from which the model
    /// forecast starts (and on which the library is evaluated).
    pub q_analysis: Array3<f64>,
    /// The imperfect model's forecast at `t0 + window`.
    pub q_forecast: Array3<f64>,
    /// Relative L2 error of the analysis against the true state, per layer.
    pub analysis_error: [f64; 2],
}

/// One layer of `q` as a flat row-major vector.
pub(crate) fn layer(q: &Array3<f64>, lev: usize) -> Vec<f64> {
    q.index_axis(Axis(0), lev).iter().copied().collect()
}

/// A state estimated from observations.
pub(crate) struct Analysis {
    /// The estimate, `(lev, y, x)`.
    pub(crate) q: Array3<f64>,
    /// Its misfit to noise-free observations at the stations (zero elsewhere, and with noise).
    pub(crate) misfit: [Vec<f64>; 2],
    /// Relative L2 error against the true state, per layer.
    pub(crate) error: [f64; 2],
}

/// The analysis of the observations of `q` at observation time `obs_time` (noise stream
/// `stream + lev`): `background + K (y - background at the stations)`, the interpolated
/// innovations added to the background (zero when there is none: the interpolated observations).
pub(crate) fn analyse(
    q: &Array3<f64>,
    background: Option<&Array3<f64>>,
    spec: &ObservationSpec,
    obs: (u64, u64),
    interp: [&dyn Interpolator; 2],
) -> Result<Analysis, DiscoveryError> {
    analyse_shared(q, background, spec, obs, interp, None)
}

/// [`analyse`] with its two layers analysed in parallel, and over `ranks` each layer by one
/// rank (rank 0 the upper, rank 1 the lower) and gathered: the same analysis on every rank, bit
/// for bit the one-process one.
pub(crate) fn analyse_shared(
    q: &Array3<f64>,
    background: Option<&Array3<f64>>,
    spec: &ObservationSpec,
    (obs_time, stream): (u64, u64),
    interp: [&dyn Interpolator; 2],
    ranks: Option<&dyn Ranks>,
) -> Result<Analysis, DiscoveryError> {
    let n = q.shape()[1] * q.shape()[2];
    let stations = spec.stations(n, obs_time);
    // Each layer travels as its analysis, its misfit at the stations and its relative error.
    let mine = my_share(ranks, 2)
        .into_par_iter()
        .map(|lev| {
            let truth = layer(q, lev);
            let y = spec.observe(&truth, &stations, obs_time, stream + lev as u64);
            let b = background.map_or_else(|| vec![0.0; n], |b| layer(b, lev));
            let innovation: Vec<f64> = stations.iter().zip(&y).map(|(&i, y)| y - b[i]).collect();
            let mut a = interp[lev].interpolate(&stations, &innovation)?;
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            let mut misfit = vec![0.0; n];
            if spec.noise == 0.0 {
                for (&i, y) in stations.iter().zip(&y) {
                    misfit[i] = a[i] - y;
                }
            }
            let error = relative_error(&truth, &a);
            a.extend(misfit);
            a.push(error);
            Ok(Some(a))
        })
        .collect::<Result<Vec<_>, DiscoveryError>>()?;
    let layers: Vec<Vec<f64>> = gather_results(ranks, mine)?
        .into_iter()
        .flatten()
        .filter(|l| l.len() == 2 * n + 1)
        .collect();
    let [upper, lower] = <[Vec<f64>; 2]>::try_from(layers).map_err(|l| {
        DiscoveryError::Ranks(format!("{} layers' analyses gathered for 2", l.len()))
    })?;
    let mut q_analysis = Array3::zeros(q.raw_dim());
    let (mut misfit, mut error) = ([vec![], vec![]], [0.0; 2]);
    for (lev, l) in [upper, lower].into_iter().enumerate() {
        q_analysis
            .index_axis_mut(Axis(0), lev)
            .iter_mut()
            .zip(&l[..n])
            .for_each(|(d, s)| *d = *s);
        misfit[lev] = l[n..2 * n].to_vec();
        error[lev] = l[2 * n];
    }
    Ok(Analysis {
        q: q_analysis,
        misfit,
        error,
    })
}

impl Increments {
    /// The increment when only `spec`'s stations are observed: the true state `q0` is observed
    /// at observation time `2 time` and interpolated per layer by `interp` (the analysis); the
    /// imperfect model runs from the analysis, the truth from `q0`; the truth at the window's end
    /// is observed (observation time `2 time + 1`) and the increment is formed at those stations
    /// only, so no interpolation enters the target. With noise-free observations, the analysis'
    /// misfit at a station observed at both ends (an interpolator's regularisation) is removed:
    /// the increment is then the observed change minus the model's change from the analysis,
    /// divided by the window (a misfit of 1e-6 would otherwise enter divided by the time step).
    pub fn observed(
        &mut self,
        q0: ArrayView3<f64>,
        spec: &ObservationSpec,
        time: u64,
        interp: [&dyn Interpolator; 2],
    ) -> Result<ObservedIncrement, DiscoveryError> {
        let q0 = q0.to_owned();
        let analysis = analyse(&q0, None, spec, (2 * time, 0), interp)?;
        self.forecast_from(&q0, analysis, spec, time)
    }

    /// Runs the truth from `q_true` and the imperfect model from the analysis over the window and
    /// forms the increment at the stations observed at its end (observation time `2 time + 1`).
    pub(crate) fn forecast_from(
        &mut self,
        q_true: &Array3<f64>,
        analysis: Analysis,
        spec: &ObservationSpec,
        time: u64,
    ) -> Result<ObservedIncrement, DiscoveryError> {
        let n = q_true.shape()[1] * q_true.shape()[2];
        self.truth.set_q(q_true.view())?;
        self.truth.run(self.window)?;
        self.model.set_q(analysis.q.view())?;
        self.model.run(self.window)?;
        let (q_end, q_forecast) = (self.truth.q(), self.model.q());
        let after = spec.stations(n, 2 * time + 1);
        let mut dqdt = Array3::from_elem(q_true.raw_dim(), f64::NAN);
        let t = self.window_time();
        for (lev, misfit) in analysis.misfit.iter().enumerate() {
            let y = spec.observe(&layer(&q_end, lev), &after, 2 * time + 1, lev as u64);
            let forecast = layer(&q_forecast, lev);
            let mut out = dqdt.index_axis_mut(Axis(0), lev);
            let out = out.as_slice_mut().expect("standard layout");
            for (&i, y) in after.iter().zip(&y) {
                out[i] = (y - forecast[i] + misfit[i]) / t;
            }
        }
        Ok(ObservedIncrement {
            dqdt,
            q_analysis: analysis.q,
            q_forecast,
            analysis_error: analysis.error,
        })
    }
}

//! Analyses by data assimilation for sparse observations: a model runs beside the truth and
//! the observations enter it, by direct insertion or by cycled optimal interpolation; the
//! increment is then formed from the analysis as for interpolated observations.

use super::increments::{Increments, analyse, layer};
use crate::closure::calibrate::rmse;
use crate::error::DiscoveryError;
use crate::observe::{Interpolator, ObservationSpec, relative_error};
use medida_solver::Model;
use ndarray::{Array, Array3, ArrayView3, Axis, Dimension};

/// What one analysis did to the state, per layer, against the truth (units of `q`): the
/// forecast before it and the analysis after it. For an ensemble, of its mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CycleError {
    /// Steps since the first observations.
    pub step: u64,
    /// RMS error of the forecast.
    pub forecast_rmse: [f64; 2],
    /// RMS error of the analysis.
    pub analysis_rmse: [f64; 2],
}

/// Per layer RMS difference of two states of two layers, `(lev, y, x)` or flattened so, in
/// standard layout.
pub(crate) fn rms_difference<D: Dimension>(a: &Array<f64, D>, b: &Array<f64, D>) -> [f64; 2] {
    let n = a.len() / 2;
    let (a, b) = [a, b]
        .map(|q| q.as_slice().expect("a state in standard layout"))
        .into();
    [0, 1].map(|lev| rmse(&a[lev * n..(lev + 1) * n], &b[lev * n..(lev + 1) * n]))
}

/// Observation streams: the analysis' and increment's observations use 0 and 1 (per layer), those
/// inserted while assimilating 2 and 3, so no two share their noise.
pub(crate) const ASSIMILATION_STREAM: u64 = 2;

/// The observation time of the observations assimilated `step` steps after snapshot `time`.
pub(crate) fn observation_time(time: u64, step: u64) -> u64 {
    (time << 32) | step
}

/// How observations enter a model that assimilates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Direct insertion: the observed values replace the model's at the stations before every
    /// step (each step restarts the stepper, so it is forward Euler). Cheap, but the model's
    /// values between the stations drift with its error while the stations do not.
    Insert,
    /// Every `every` steps the innovations (observations minus the model at the stations) are
    /// interpolated over the grid and added to the model state: the background is corrected
    /// around the stations too, as optimal interpolation does with a forecast as its prior.
    Interpolate {
        /// Steps between analyses (0 counts as 1).
        every: u64,
    },
}

/// A model that assimilates observations: it runs `steps` steps beside the truth, and the
/// observations enter it as `update` says.
#[derive(Debug, Clone)]
pub struct Assimilator {
    /// The assimilating model (e.g. the imperfect one corrected by an earlier discovery).
    pub model: Model,
    /// Steps from the first observations to the analysis.
    pub steps: u64,
    /// How the observations enter the model.
    pub update: Update,
}

/// Puts the observations of `q_true` at `(obs_time, stream)` into `q` at the stations.
fn insert(q: &mut Array3<f64>, q_true: &Array3<f64>, spec: &ObservationSpec, obs: (u64, u64)) {
    let n = q.shape()[1] * q.shape()[2];
    let (obs_time, stream) = obs;
    let stations = spec.stations(n, obs_time);
    for lev in 0..2 {
        let y = spec.observe(
            &layer(q_true, lev),
            &stations,
            obs_time,
            stream + lev as u64,
        );
        let mut a = q.index_axis_mut(Axis(0), lev);
        let a = a.as_slice_mut().expect("standard layout");
        for (&i, y) in stations.iter().zip(&y) {
            a[i] = *y;
        }
    }
}

impl Increments {
    /// The increment from an analysis by data assimilation: the truth runs `assimilator.steps`
    /// steps from `q0`; the assimilating model runs alongside from the interpolated first
    /// observations, and the observations of the truth enter it as `assimilator.update` says.
    /// Between the stations the analysis comes from the dynamics: advection brings observed
    /// values into the gaps, which interpolation cannot. The increment is then formed as in
    /// [`Increments::observed`] from the truth and the analysis after those steps; returns it
    /// with the true state at its end and, for cycled interpolation, each cycle's forecast and
    /// analysis errors (none for direct insertion, whose every step is a cycle).
    pub fn assimilated(
        &mut self,
        q0: ArrayView3<f64>,
        spec: &ObservationSpec,
        time: u64,
        interp: [&dyn Interpolator; 2],
        assimilator: &mut Assimilator,
    ) -> Result<(Array3<f64>, super::ObservedIncrement, Vec<CycleError>), DiscoveryError> {
        let (steps, update, model) = (
            assimilator.steps,
            assimilator.update,
            &mut assimilator.model,
        );
        let q0 = q0.to_owned();
        let n = q0.shape()[1] * q0.shape()[2];
        let obs = |step: u64| (observation_time(time, step), ASSIMILATION_STREAM);
        let mut analysis = analyse(&q0, None, spec, (2 * time, 0), interp)?;
        self.truth.set_q(q0.view())?;
        let every = match update {
            Update::Insert => 1,
            Update::Interpolate { every } => every.max(1),
        };
        let (mut step, mut cycles) = (0, Vec::new());
        while step < steps {
            let run = every.min(steps - step);
            if update == Update::Insert {
                insert(&mut analysis.q, &self.truth.q(), spec, obs(step));
            }
            model.set_q(analysis.q.view())?;
            model.run(run)?;
            self.truth.run(run)?;
            step += run;
            analysis.q = model.q();
            if let Update::Interpolate { .. } = update {
                let truth = self.truth.q();
                let forecast = analysis.q;
                analysis = analyse(&truth, Some(&forecast), spec, obs(step), interp)?;
                cycles.push(CycleError {
                    step,
                    forecast_rmse: rms_difference(&forecast, &truth),
                    analysis_rmse: rms_difference(&analysis.q, &truth),
                });
            }
        }
        let q_true = self.truth.q();
        if update == Update::Insert {
            insert(&mut analysis.q, &q_true, spec, obs(steps));
            analysis.misfit = [vec![0.0; n], vec![0.0; n]];
            analysis.error =
                [0, 1].map(|lev| relative_error(&layer(&q_true, lev), &layer(&analysis.q, lev)));
        }
        let inc = self.forecast_from(&q_true, analysis, spec, time)?;
        Ok((q_true, inc, cycles))
    }
}

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
use medida_solver::Model;
use ndarray::{Array3, ArrayView3};

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
    truth: Model,
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
    /// The analysis: the interpolated observations at `t0`, from which the model forecast starts
    /// (and on which the library is evaluated).
    pub q_analysis: Array3<f64>,
    /// The imperfect model's forecast at `t0 + window`.
    pub q_forecast: Array3<f64>,
    /// Relative L2 error of the analysis against the true state, per layer.
    pub analysis_error: [f64; 2],
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
        spec: &crate::observe::ObservationSpec,
        time: u64,
        interp: [&dyn crate::observe::Interpolator; 2],
    ) -> Result<ObservedIncrement, DiscoveryError> {
        let n = q0.shape()[1] * q0.shape()[2];
        let layer = |q: &Array3<f64>, lev: usize| -> Vec<f64> {
            q.index_axis(ndarray::Axis(0), lev)
                .iter()
                .copied()
                .collect()
        };
        let q0 = q0.to_owned();
        let before = spec.stations(n, 2 * time);
        let mut q_analysis = Array3::zeros(q0.raw_dim());
        let mut analysis_error = [0.0; 2];
        // the analysis' misfit to noise-free observations at the start, per layer and point
        let mut misfit = vec![vec![0.0; n]; 2];
        for lev in 0..2 {
            let truth = layer(&q0, lev);
            let y = spec.observe(&truth, &before, 2 * time, lev as u64);
            let a = interp[lev].interpolate(&before, &y)?;
            if spec.noise == 0.0 {
                for (&i, y) in before.iter().zip(&y) {
                    misfit[lev][i] = a[i] - y;
                }
            }
            analysis_error[lev] = crate::observe::relative_error(&truth, &a);
            q_analysis
                .index_axis_mut(ndarray::Axis(0), lev)
                .iter_mut()
                .zip(&a)
                .for_each(|(d, s)| *d = *s);
        }
        self.truth.set_q(q0.view())?;
        self.truth.run(self.window)?;
        self.model.set_q(q_analysis.view())?;
        self.model.run(self.window)?;
        let (q_true, q_forecast) = (self.truth.q(), self.model.q());
        let after = spec.stations(n, 2 * time + 1);
        let mut dqdt = Array3::from_elem(q0.raw_dim(), f64::NAN);
        let t = self.window_time();
        for (lev, misfit) in misfit.iter().enumerate() {
            let y = spec.observe(&layer(&q_true, lev), &after, 2 * time + 1, lev as u64);
            let forecast = layer(&q_forecast, lev);
            let mut out = dqdt.index_axis_mut(ndarray::Axis(0), lev);
            let out = out.as_slice_mut().expect("standard layout");
            for (&i, y) in after.iter().zip(&y) {
                out[i] = (y - forecast[i] + misfit[i]) / t;
            }
        }
        Ok(ObservedIncrement {
            dqdt,
            q_analysis,
            q_forecast,
            analysis_error,
        })
    }
}

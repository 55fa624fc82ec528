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

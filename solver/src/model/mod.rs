//! The two-layer QG model: a list of terms compiled into a fused kernel, the state, and its time
//! steppers (pyqg's AB3 by default; leapfrog with a Robert-Asselin filter; classical RK4).
//!
//! One step (pyqg `_step_forward`): invert `psi_hat = a q_hat`; per layer, velocities to physical
//! space, flux-form advection, the fused linear terms, then
//! `q_hat <- filtr (q_hat + dt (c1 N + c2 N_prev + c3 N_prev2))` with Euler, AB2, then AB3
//! coefficients, and `q = irfft2(q_hat)`. Ten single-layer real FFTs per step for pyqg's terms.
//!
//! Threading: after the inversion the two layers are independent, so they run in parallel on the
//! ambient rayon pool. Each layer's arithmetic is the same whatever the thread count, so results
//! are identical byte for byte at any number of threads.
//!
//! Precision: the state, the kernel and the transforms are `f64` (pyqg's) or, with
//! `QgParams::precision = F32`, `f32`; the API reads and writes `f64` either way.
//!
//! Modules: [`compile`] (terms to kernel), `kernel` (one layer's passes), `core` (both layers in
//! the model's real type, and the steppers over them), `stepper`, `state`.

pub mod compile;
mod core;
mod kernel;
mod state;
mod stepper;

pub use state::ModelState;
pub use stepper::in_pool;

use crate::error::{SolverError, invalid};
use crate::eval::Evaluator;
use crate::expr::{Expr, Op};
use crate::grid::Grid;
use crate::params::{Precision, QgParams};
use crate::pyqg::{PyqgPhysics, pyqg_terms};
use crate::spectral::Spectral;
use crate::term::Term;
use compile::Kernel;
use core::Core;
use std::sync::Arc;

/// Number of layers.
pub const NZ: usize = 2;

/// The layers in the model's precision.
#[derive(Debug, Clone)]
enum Prognostic {
    F64(Core<f64>),
    F32(Core<f32>),
}

/// `$body` with `$c` bound to the model's [`Core`], whichever its precision.
macro_rules! with_core {
    ($core:expr, $c:ident => $body:expr) => {
        match $core {
            Prognostic::F64($c) => $body,
            Prognostic::F32($c) => $body,
        }
    };
}
use with_core;

/// The two-layer QG model.
#[derive(Debug, Clone)]
pub struct Model {
    params: QgParams,
    spectral: Arc<Spectral>,
    terms: Vec<Term>,
    kernel: Kernel,
    /// Evaluates the terms the kernel has no fused form for.
    eval: Evaluator,
    /// The layers, in the model's precision.
    core: Prognostic,
    ablevel: u8,
    tc: u64,
    t: f64,
}

impl Model {
    /// pyqg's model for `params` with pyqg's default physics, `q = 0`. Use [`Model::set_q`] or
    /// [`Model::set_pyqg_random_q`] to give it a state.
    pub fn new(params: QgParams) -> Result<Self, SolverError> {
        Self::pyqg(params, &PyqgPhysics::default())
    }

    /// pyqg's model for `params` and `physics` (pyqg's `beta`, `U1`, `U2`, `rek`).
    pub fn pyqg(params: QgParams, physics: &PyqgPhysics) -> Result<Self, SolverError> {
        let terms = pyqg_terms(&params, physics);
        Self::with_terms(params, terms)
    }

    /// A model whose tendency is the sum of `terms`; `params` gives the grid, `dt`, the
    /// inversion (`rd`, `delta`), the de-aliasing and the filter.
    pub fn with_terms(params: QgParams, terms: Vec<Term>) -> Result<Self, SolverError> {
        let spectral = Spectral::new(&params)?;
        Self::on(spectral.into(), params, terms)
    }

    /// A model on an existing toolkit (shared with libraries and other models of the same grid;
    /// one with the jet's fields for terms that read `psi_R` or `s`).
    pub fn on(
        spectral: Arc<Spectral>,
        params: QgParams,
        terms: Vec<Term>,
    ) -> Result<Self, SolverError> {
        params.validate()?;
        if spectral.grid() != &params.grid()? {
            return Err(invalid(
                "spectral",
                "a toolkit of another grid",
                "the toolkit of the parameters' grid",
            ));
        }
        let mut eval = Evaluator::new(spectral.clone());
        let kernel = Kernel::compile(&terms, &spectral, &params, &mut eval)?;
        let eval = eval.with_background(kernel.ubg);
        let core = match params.precision {
            Precision::F64 => Prognostic::F64(Core::new(&kernel, &spectral)),
            Precision::F32 => Prognostic::F32(Core::new(&kernel, &spectral)),
        };
        Ok(Self {
            core,
            params,
            spectral,
            terms,
            kernel,
            eval,
            ablevel: 0,
            tc: 0,
            t: 0.0,
        })
    }

    /// Recompiles the kernel after the term list changed; on error the old terms are kept.
    fn recompile(&mut self, terms: Vec<Term>) -> Result<(), SolverError> {
        self.kernel = Kernel::compile(&terms, &self.spectral, &self.params, &mut self.eval)?;
        self.eval = self.eval.clone().with_background(self.kernel.ubg);
        with_core!(&mut self.core, c => c.recompiled(&self.kernel, &self.spectral));
        self.terms = terms;
        Ok(())
    }

    /// The parameters.
    pub fn params(&self) -> &QgParams {
        &self.params
    }
    /// The grid.
    pub fn grid(&self) -> &Grid {
        self.spectral.grid()
    }
    /// The spectral toolkit, to share with libraries, corrections and other models.
    pub fn spectral(&self) -> &Arc<Spectral> {
        &self.spectral
    }
    /// The terms of the tendency with their coefficients.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }
    /// The coefficient of the term called `name`.
    pub fn coefficient(&self, name: &str) -> Option<f64> {
        self.terms
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.coefficient)
    }
    /// Steps taken (pyqg `tc`).
    pub fn tc(&self) -> u64 {
        self.tc
    }
    /// Model time [s] (pyqg `t`).
    pub fn t(&self) -> f64 {
        self.t
    }

    /// What multiplies a one-step update of layer `lev`, k-major: pyqg's exponential filter and
    /// the implicit terms' damping. A one-step increment carries it, so a library asks for it to
    /// filter its columns the same way.
    pub fn update_filter(&self, lev: usize) -> &[f64] {
        &self.kernel.filtr[lev.min(NZ - 1)]
    }

    /// An evaluator of expressions on this model's toolkit, with its background flow for `adv`
    /// (what libraries, corrections and closures of this model evaluate with).
    pub fn evaluator(&self) -> Evaluator {
        let mut e = Evaluator::new(self.spectral.clone()).with_background(self.kernel.ubg);
        for (lev, c) in self.coefficient_fields().iter().enumerate() {
            e.set_coefficient_field(lev, c.clone());
        }
        e
    }

    /// The layers' coefficient fields as set ([`Model::set_coefficient_field`]; `None`: 1).
    pub fn coefficient_fields(&self) -> &[Option<Arc<Vec<f64>>>; NZ] {
        self.eval.coefficient_fields()
    }

    /// Background zonal flow per layer [m/s]: minus the weight of `dx(q_i)` in layer `i`.
    pub fn background_flow(&self) -> [f64; NZ] {
        self.kernel.ubg
    }

    /// pyqg's background PV gradients `Qy` [1/(m s)]: minus the weight of `dx(psi_i)` in layer
    /// `i` (`beta + F1 (U1 - U2)` and `beta - F2 (U1 - U2)` for pyqg's terms).
    pub fn qy(&self) -> [f64; NZ] {
        std::array::from_fn(|lev| {
            let dx_psi = Expr::psi(lev).apply(Op::Dx);
            -self
                .terms
                .iter()
                .flat_map(|t| {
                    t.shape()[lev]
                        .iter()
                        .filter(|(_, e)| *e == dx_psi)
                        .map(|(f, _)| t.coefficient * f)
                })
                .sum::<f64>()
        })
    }

    /// Sets layer `lev`'s coefficient field `c` (the grammar's `c1`, `c2`, or `c` in a term written
    /// for either layer), read by the terms from the next step on: `(ny, nx)` row-major, finite;
    /// `None` restores 1 everywhere. A checkpoint does not hold it: whoever sets it (a policy)
    /// sets it again after a restart.
    pub fn set_coefficient_field(
        &mut self,
        lev: usize,
        c: Option<Vec<f64>>,
    ) -> Result<(), SolverError> {
        if lev >= NZ {
            return Err(invalid("lev", lev, "0 or 1"));
        }
        if let Some(c) = &c {
            let n = self.grid().n_phys();
            if c.len() != n {
                return Err(invalid(
                    "coefficient field",
                    format!("{} values for {n} grid points", c.len()),
                    "ny * nx values",
                ));
            }
            if let Some(v) = c.iter().find(|v| !v.is_finite()) {
                return Err(invalid("coefficient field", v, "finite values"));
            }
        }
        self.eval
            .set_coefficient_field(lev, c.map(std::sync::Arc::new));
        Ok(())
    }

    /// Adds a term (with its coefficient) to the tendency; its name must be new.
    pub fn add_term(&mut self, term: Term) -> Result<(), SolverError> {
        let mut terms = self.terms.clone();
        terms.push(term);
        self.recompile(terms)
    }

    /// Sets the coefficient of the term called `name` (see [`Term::name`]).
    pub fn set_coefficient(&mut self, name: &str, value: f64) -> Result<(), SolverError> {
        let mut terms = self.terms.clone();
        let Some(term) = terms.iter_mut().find(|t| t.name() == name) else {
            let names: Vec<&str> = self.terms.iter().map(Term::name).collect();
            return Err(SolverError::Term {
                name: name.to_string(),
                reason: format!("not a term of this model (its terms: {})", names.join(", ")),
            });
        };
        term.coefficient = value;
        self.recompile(terms)
    }
}

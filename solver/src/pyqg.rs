//! pyqg's physics as a term family: pyqg 0.7.2's `QGModel` is these terms on [`QgParams`].

use crate::params::QgParams;
use crate::term::Term;
use crate::terms;

/// pyqg's physical coefficients, with pyqg's names, units and defaults.
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq)]
pub struct PyqgPhysics {
    /// Planetary vorticity gradient beta [1/(m s)]: term `beta`.
    pub beta: f64,
    /// Upper-layer background zonal flow [m/s]: term `background_flow1`.
    pub U1: f64,
    /// Lower-layer background zonal flow [m/s]: term `background_flow2`.
    pub U2: f64,
    /// Linear bottom (Ekman) drag on the lower layer [1/s]: term `bottom_drag`.
    pub rek: f64,
}

impl Default for PyqgPhysics {
    /// pyqg 0.7.2 defaults.
    fn default() -> Self {
        Self {
            beta: 1.5e-11,
            U1: 0.025,
            U2: 0.0,
            rek: 5.787e-7,
        }
    }
}

/// pyqg's terms on `params` with `physics`: advection, `background_flow1`, `background_flow2`,
/// `beta`, `bottom_drag`.
pub fn pyqg_terms(params: &QgParams, physics: &PyqgPhysics) -> Vec<Term> {
    let (f1, f2) = (params.f1(), params.f2());
    vec![
        terms::advection(1.0),
        terms::background_flow(0, physics.U1, f1, f2),
        terms::background_flow(1, physics.U2, f1, f2),
        terms::beta(physics.beta),
        terms::bottom_drag(physics.rek),
    ]
}

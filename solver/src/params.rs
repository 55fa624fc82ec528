//! Parameters of the pyqg two-layer model, with pyqg's names, units and defaults.

use crate::error::{SolverError, invalid};
use crate::grid::Grid;

/// Time-stepping scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Stepper {
    /// Adams-Bashforth 3 with forward Euler and AB2 start-up (pyqg's).
    #[default]
    Ab3,
    /// Leapfrog with a Robert-Asselin filter and a forward-Euler first step (the MEDIDA study's).
    Leapfrog,
    /// Classical fourth-order Runge-Kutta.
    Rk4,
}

/// De-aliasing of the advection products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum Dealias {
    /// None: products on the model grid (pyqg's; its filter damps what aliases).
    #[default]
    None,
    /// The 2/3 rule: the products' spectrum is truncated to |k|, |l| <= n/3 modes.
    TwoThirds,
    /// The 3/2 rule (Orszag): products on a grid 3/2 as fine from zero-padded spectra (the MEDIDA
    /// study's). Needs nx and ny divisible by 4.
    ThreeHalves,
}

/// The floating-point precision the model steps in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Precision {
    /// Double: pyqg's, and the parity with it.
    #[default]
    F64,
    /// Single: the state, the fused kernel and the transforms in `f32` (as pyqg-jax offers and
    /// the closure datasets store); terms without a fused form, diagnostics and output stay `f64`.
    F32,
}

/// The grid, time stepping, PV inversion and filter of the two-layer QG model, with pyqg's names
/// (`QGModel`'s keywords other than its physical coefficients, which are the coefficients of the
/// model's terms: see [`crate::pyqg::PyqgPhysics`] and [`crate::terms`]).
///
/// SI units as in pyqg: metres, seconds. Layer 1 is the upper layer.
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct QgParams {
    /// Grid points in x.
    pub nx: usize,
    /// Grid points in y.
    pub ny: usize,
    /// Domain length in x [m].
    pub L: f64,
    /// Domain width in y [m].
    pub W: f64,
    /// Time step [s].
    pub dt: f64,
    /// Deformation radius [m]; sets `F1 = rd^-2 / (1 + delta)` and `F2 = delta F1`. Infinite:
    /// no stretching, two uncoupled layers, each 2-D turbulence with `q` the vorticity (pyqg's
    /// `BTModel` with `rd = 0`, its `kd2 = 0`).
    pub rd: f64,
    /// Layer thickness ratio `H1 / H2`.
    pub delta: f64,
    /// Upper-layer thickness [m].
    pub H1: f64,
    /// Strength of pyqg's exponential filter; 0 turns the filter off.
    pub filterfac: f64,
    /// Time-stepping scheme.
    #[cfg_attr(feature = "serde", serde(default))]
    pub stepper: Stepper,
    /// De-aliasing of the advection products.
    #[cfg_attr(feature = "serde", serde(default))]
    pub dealias: Dealias,
    /// Robert-Asselin filter coefficient of the leapfrog scheme.
    #[cfg_attr(feature = "serde", serde(default = "robert_asselin_default"))]
    pub robert_asselin: f64,
    /// Floating-point precision of the state and the step.
    #[cfg_attr(feature = "serde", serde(default))]
    pub precision: Precision,
}

#[cfg(feature = "serde")]
fn robert_asselin_default() -> f64 {
    0.04
}

impl Default for QgParams {
    /// pyqg 0.7.2 defaults.
    fn default() -> Self {
        Self {
            nx: 64,
            ny: 64,
            L: 1e6,
            W: 1e6,
            dt: 7200.0,
            rd: 15000.0,
            delta: 0.25,
            H1: 500.0,
            filterfac: 23.6,
            stepper: Stepper::Ab3,
            dealias: Dealias::None,
            robert_asselin: 0.04,
            precision: Precision::F64,
        }
    }
}

impl QgParams {
    /// Checks every parameter; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), SolverError> {
        Grid::new(self.nx, self.ny, self.L, self.W)?;
        positive("dt", self.dt)?;
        if self.rd.is_nan() || self.rd <= 0.0 {
            return Err(invalid(
                "rd",
                self.rd,
                "a number > 0, or inf (uncoupled layers)",
            ));
        }
        positive("delta", self.delta)?;
        positive("H1", self.H1)?;
        if self.dealias == Dealias::ThreeHalves
            && !(self.nx.is_multiple_of(4) && self.ny.is_multiple_of(4))
        {
            return Err(invalid(
                "dealias",
                "three-halves",
                "nx and ny divisible by 4 for the 3/2 rule",
            ));
        }
        if !(self.robert_asselin.is_finite() && (0.0..0.5).contains(&self.robert_asselin)) {
            return Err(invalid(
                "robert_asselin",
                self.robert_asselin,
                "a number in [0, 0.5)",
            ));
        }
        if !(self.filterfac.is_finite() && self.filterfac >= 0.0) {
            return Err(invalid(
                "filterfac",
                self.filterfac,
                "a finite number >= 0 (0 = no filter)",
            ));
        }
        Ok(())
    }

    /// The grid these parameters describe.
    pub fn grid(&self) -> Result<Grid, SolverError> {
        Grid::new(self.nx, self.ny, self.L, self.W)
    }
    /// Lower-layer thickness `H1 / delta` [m].
    pub fn h2(&self) -> f64 {
        self.H1 / self.delta
    }
    /// Layer thicknesses `[H1, H2]` [m].
    pub fn hi(&self) -> [f64; 2] {
        [self.H1, self.h2()]
    }
    /// Total depth `H1 + H2` [m].
    pub fn h(&self) -> f64 {
        self.H1 + self.h2()
    }
    /// `F1 = rd^-2 / (1 + delta)` [1/m^2] (pyqg's code; its 0.7.2 docstring's `1 + delta^2` is a typo).
    pub fn f1(&self) -> f64 {
        self.rd.powi(-2) / (1.0 + self.delta)
    }
    /// `F2 = delta F1` [1/m^2].
    pub fn f2(&self) -> f64 {
        self.delta * self.f1()
    }
}

fn positive(name: &'static str, v: f64) -> Result<(), SolverError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "a finite number > 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values_match_pyqg_defaults() {
        // Printed from a pyqg 0.7.2 model instance (shared/reference/pyqg.md, section 2.3).
        let p = QgParams::default();
        assert!((p.f1() - 3.5556e-9).abs() < 1e-13);
        assert!((p.f2() - 8.8889e-10).abs() < 1e-14);
        assert_eq!(p.hi(), [500.0, 2000.0]);
    }

    #[test]
    fn out_of_range_names_the_field() {
        let p = QgParams {
            dt: -1.0,
            ..Default::default()
        };
        assert!(p.validate().unwrap_err().to_string().contains("`dt` = -1"));
    }
}

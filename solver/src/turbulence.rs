//! Forced 2-D turbulence on a beta-plane, the test cases of the SMARL closure study (Mojgani et
//! al. 2023; Guan et al. 2024), in the vorticity-streamfunction form
//!
//! `dq/dt = -J(psi, q) - beta dx(psi) - alpha lap(psi) + nu lap(q) - kf [cos(kf x) + cos(kf y)]`,
//! `q = lap(psi)` (so the drag is `-alpha q` but for the domain mean of `q`, zero in the study),
//!
//! on a doubly periodic `2 pi x 2 pi` domain, non-dimensional (`nu = 1/Re`). It is the two-layer
//! model with no stretching (`rd = inf`): two uncoupled layers, each a 2-D flow of these
//! equations; a run is two independent realizations, and the same terms, closures and
//! diagnostics serve it. The study's cases: 1 (`kf = 4`, `beta = 0`), 2 (`kf = 4`,
//! `beta = 20`), 4 (`kf = 25`, `beta = 0`), all at `Re = 2e4`, `alpha = 0.1`.

use crate::params::{Dealias, QgParams, Stepper};
use crate::term::Term;
use crate::terms;

/// The constants of a 2-D turbulence case.
#[derive(Debug, Clone, PartialEq)]
pub struct TurbulenceConstants {
    /// Forcing wavenumber `kf` (the forcing's shape).
    pub kf: f64,
    /// Forcing amplitude (the study: `kf`).
    pub amplitude: f64,
    /// Planetary vorticity gradient.
    pub beta: f64,
    /// Linear drag rate `alpha`.
    pub alpha: f64,
    /// Viscosity `1/Re`.
    pub nu: f64,
}

impl TurbulenceConstants {
    /// The study's case 1 with forcing wavenumber `kf` (and amplitude `kf`).
    pub fn case1(kf: f64) -> Self {
        Self {
            kf,
            amplitude: kf,
            beta: 0.0,
            alpha: 0.1,
            nu: 1.0 / 2e4,
        }
    }
}

/// The study's domain and time step on `n x n` points: `2 pi x 2 pi`, `dt = 5e-4`, AB3, no
/// filter, products de-aliased by the 2/3 rule (py2d's default), uncoupled layers.
pub fn turbulence_params(n: usize) -> QgParams {
    QgParams {
        nx: n,
        ny: n,
        L: std::f64::consts::TAU,
        W: std::f64::consts::TAU,
        dt: 5e-4,
        rd: f64::INFINITY,
        delta: 1.0,
        H1: 1.0,
        filterfac: 0.0,
        stepper: Stepper::Ab3,
        dealias: Dealias::TwoThirds,
        robert_asselin: 0.0,
        ..QgParams::default()
    }
}

/// The terms with the coefficients of `c`: advection (1), beta, drag (alpha), viscosity (nu,
/// implicit), Kolmogorov forcing (its amplitude).
pub fn turbulence_terms(c: &TurbulenceConstants) -> Vec<Term> {
    vec![
        terms::advection(1.0),
        terms::beta(c.beta),
        terms::drag(c.alpha),
        terms::viscosity(c.nu),
        terms::kolmogorov_forcing(c.amplitude, c.kf),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// From rest the flow is the laminar Kolmogorov flow: the forcing's two modes have the same
    /// `|k|`, so `J(psi, q) = 0`, and with `beta = 0` each mode relaxes as
    /// `q(t) = -A (cos kf x + cos kf y) (1 - exp(-r t)) / r`, `r = alpha + nu kf^2`. After
    /// `20 / r` the state is the steady one to `exp(-20)`; the implicit viscosity keeps the
    /// steady state exact, so the error is round-off and that tail.
    #[test]
    fn laminar_kolmogorov_flow_from_rest() {
        let c = TurbulenceConstants {
            alpha: 1.0,
            nu: 0.01,
            ..TurbulenceConstants::case1(4.0)
        };
        let mut p = turbulence_params(32);
        p.dt = 0.01;
        let mut m = Model::with_terms(p.clone(), turbulence_terms(&c)).unwrap();
        let r = c.alpha + c.nu * c.kf * c.kf;
        m.run((20.0 / r / p.dt).ceil() as u64).unwrap();
        let q = m.q();
        let grid = m.grid().clone();
        let (x, y) = (grid.x(), grid.y());
        let mut err = 0.0f64;
        for lev in 0..2 {
            for (j, yj) in y.iter().enumerate() {
                for (i, xi) in x.iter().enumerate() {
                    let (xc, yc) = (xi - grid.lx / 2.0, yj - grid.ly / 2.0);
                    let want = -c.amplitude * ((c.kf * xc).cos() + (c.kf * yc).cos()) / r;
                    err = err.max((q[[lev, j, i]] - want).abs());
                }
            }
        }
        let scale = 2.0 * c.amplitude / r;
        assert!(err < 1e-8 * scale, "max error {err:e} of {scale}");
    }
}

//! The jet of the MEDIDA forced-jet model (non-dimensional units): the equilibrium vertical shear
//! `u_eq(y) = U1 [sech^2(y/sigma) - sech^2(y_e/sigma)]`, the relaxation streamfunction `psi_R(y)`
//! with `d psi_R/dy = -u_eq` (computed spectrally, mean removed, as the released code does), and the
//! sponge `s(y) = U1 sech^2(y_e/sigma)`. Here `y` is measured from the channel centre and
//! `y_e = Ly/2 - |y|` is the distance to the nearest y-edge; profiles are sampled at the grid's
//! rows (cell centres).

use crate::Complex64;
use crate::error::SolverError;
use crate::fft::{Fft2, FftPlans};
use crate::grid::Grid;
use crate::model::Model;
use crate::params::{Dealias, QgParams, Stepper};
use crate::spectral::Spectral;
use crate::term::Term;
use crate::terms;
use rustfft::FftPlanner;

/// The MEDIDA forced-jet model's constants (non-dimensional; lengths in deformation radii), the
/// truth of the study. `tau_*` are rates.
#[derive(Debug, Clone, PartialEq)]
pub struct JetConstants {
    /// Planetary vorticity gradient.
    pub beta: f64,
    /// Interface relaxation rate (the `psi1 - psi2` part).
    pub tau_d1: f64,
    /// Jet forcing rate (the `psi_R` part).
    pub tau_d2: f64,
    /// Lower-layer drag rate on `lap(psi2)`.
    pub tau_f: f64,
    /// Hyperviscosity on `k^8 + l^8`, implicit.
    pub nu: f64,
    /// Jet width.
    pub sigma: f64,
    /// Jet amplitude.
    pub u1: f64,
    /// Coefficient of the advected PV.
    pub c_j: f64,
}

impl Default for JetConstants {
    /// The released code's truth: beta 0.196, tau_d 0.01, tau_f 0.07, nu 1e-6, sigma 3.5, U1 1, c_J 1.
    fn default() -> Self {
        Self {
            beta: 0.196,
            tau_d1: 0.01,
            tau_d2: 0.01,
            tau_f: 0.07,
            nu: 1e-6,
            sigma: 3.5,
            u1: 1.0,
            c_j: 1.0,
        }
    }
}

/// MEDIDA's domain and time stepping on an `nx` by `ny` grid (the study: 96 x 192): Lx = 46,
/// Ly = 68, dt = 0.025, leapfrog with a Robert-Asselin filter (g = 0.04) and 3/2 de-aliasing as
/// released, equal layers with unit coupling (F1 = F2 = 1: delta = 1, rd = 1/sqrt(2)), no
/// exponential filter.
pub fn jet_params(nx: usize, ny: usize) -> QgParams {
    QgParams {
        nx,
        ny,
        L: 46.0,
        W: 68.0,
        dt: 0.025,
        rd: 0.5f64.sqrt(),
        delta: 1.0,
        H1: 1.0,
        filterfac: 0.0,
        stepper: Stepper::Leapfrog,
        dealias: Dealias::ThreeHalves,
        robert_asselin: 0.04,
        ..QgParams::default()
    }
}

/// The MEDIDA model's terms with the coefficients of `c`: advection (c_J), beta, bottom drag
/// (tau_f), interface relaxation (tau_d1), jet forcing (tau_d2), sponge, hyperviscosity (nu).
/// They read the jet's fields: build the model on [`jet_spectral`].
pub fn jet_terms(c: &JetConstants) -> Vec<Term> {
    vec![
        terms::advection(c.c_j),
        terms::beta(c.beta),
        terms::bottom_drag(c.tau_f),
        terms::interface_relaxation(c.tau_d1),
        terms::jet_forcing(c.tau_d2),
        terms::sponge(1.0),
        terms::hyperviscosity(c.nu),
    ]
}

/// The spectral toolkit of `params` with the jet's fields for `c.u1`, `c.sigma`.
pub fn jet_spectral(params: &QgParams, c: &JetConstants) -> Result<Spectral, SolverError> {
    Ok(Spectral::new(params)?.with_jet(c.u1, c.sigma))
}

/// The MEDIDA forced-jet model on `params` (see [`jet_params`]) with constants `c`, `q = 0`.
pub fn jet_model(params: QgParams, c: &JetConstants) -> Result<Model, SolverError> {
    let spectral = jet_spectral(&params, c)?;
    Model::on(spectral.into(), params, jet_terms(c))
}

/// The jet's profiles, one value per grid row.
#[derive(Debug, Clone, PartialEq)]
pub struct JetProfiles {
    /// Distance of each row from the channel centre.
    pub y: Vec<f64>,
    /// Equilibrium shear `u_eq(y)`.
    pub u_eq: Vec<f64>,
    /// Relaxation streamfunction `psi_R(y)`.
    pub psi_r: Vec<f64>,
    /// Sponge `s(y)`.
    pub sponge: Vec<f64>,
}

fn sech2(x: f64) -> f64 {
    1.0 / x.cosh().powi(2)
}

impl JetProfiles {
    /// Profiles of a jet of amplitude `u1` and width `sigma` on `grid`.
    pub fn new(grid: &Grid, u1: f64, sigma: f64) -> Self {
        let half = grid.ly / 2.0;
        let y: Vec<f64> = grid.y().iter().map(|y| y - half).collect();
        let edge = |y: f64| half - y.abs();
        let u_eq: Vec<f64> = y
            .iter()
            .map(|&y| u1 * (sech2(y / sigma) - sech2(edge(y) / sigma)))
            .collect();
        let sponge = y.iter().map(|&y| u1 * sech2(edge(y) / sigma)).collect();
        // psi_R_hat(l) = -u_eq_hat(l) / (i l), zero mean.
        let ny = grid.ny;
        let mut planner = FftPlanner::new();
        let mut buf: Vec<Complex64> = u_eq.iter().map(|&u| Complex64::new(u, 0.0)).collect();
        planner.plan_fft_forward(ny).process(&mut buf);
        for (b, &l) in buf.iter_mut().zip(&grid.ll) {
            *b = if l == 0.0 {
                Complex64::default()
            } else {
                -*b / Complex64::new(0.0, l)
            };
        }
        planner.plan_fft_inverse(ny).process(&mut buf);
        let psi_r = buf.iter().map(|b| b.re / ny as f64).collect();
        Self {
            y,
            u_eq,
            psi_r,
            sponge,
        }
    }

    /// `psi_R(y)`, constant in x, as a spectral field (k-major).
    pub fn psi_r_hat(&self, grid: &Grid) -> Vec<Complex64> {
        let mut field: Vec<f64> = self
            .psi_r
            .iter()
            .flat_map(|&p| std::iter::repeat_n(p, grid.nx))
            .collect();
        let mut out = vec![Complex64::default(); grid.n_spec()];
        Fft2::new(FftPlans::new(grid)).forward(&mut field, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_r_is_the_integral_of_minus_u_eq() {
        // MEDIDA's grid: Lx = 46, Ly = 68, 96 x 192; U1 = 1, sigma = 3.5.
        let grid = Grid::new(96, 192, 46.0, 68.0).unwrap();
        let (u1, sigma) = (1.0, 3.5);
        let jet = JetProfiles::new(&grid, u1, sigma);
        // Closed form: psi_R = U1 sigma [-tanh(y/sigma) + sign(y) (tanh(Ly/(2 sigma)) - tanh(y_e/sigma))],
        // periodic and continuous; compare after removing the mean.
        let t = (34.0f64 / sigma).tanh();
        let exact: Vec<f64> = jet
            .y
            .iter()
            .map(|&y| {
                u1 * sigma
                    * (-(y / sigma).tanh() + y.signum() * (t - ((34.0 - y.abs()) / sigma).tanh()))
            })
            .collect();
        let mean = exact.iter().sum::<f64>() / exact.len() as f64;
        let scale = exact.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for (got, want) in jet.psi_r.iter().zip(&exact) {
            assert!(
                (got - (want - mean)).abs() < 1e-7 * scale,
                "{got} vs {}",
                want - mean
            );
        }
        // The jet: eastward shear of about U1 at the centre, the sponge about U1 at the edges.
        let mid = grid.ny / 2;
        assert!(
            (jet.u_eq[mid] - u1).abs() < 0.01
                && jet.sponge[mid] < 1e-6
                && (jet.sponge[0] - u1).abs() < 0.01
        );
    }
}

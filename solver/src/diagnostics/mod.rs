//! Diagnostics as pyqg defines them: energies and enstrophy from spectral (Parseval) sums, the CFL
//! number, and the isotropic kinetic-energy spectrum of `pyqg.diagnostic_tools.calc_ispec`.
//!
//! All use a fresh inversion of the current `q` (pyqg's own `ph`, `u`, `v` lag one step behind).
//! pyqg's time-averaged spectral diagnostics (energy and enstrophy spectra, fluxes, generation,
//! friction, filter and parameterization budgets) are in [`averaged`].

pub mod averaged;

pub use averaged::{Averages, Averaging};

use crate::Complex64;
use crate::grid::Grid;
use crate::model::{Model, NZ};

/// Domain-mean diagnostics of one state. Energies per unit mass [m^2/s^2], enstrophy [1/s^2].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagnostics {
    /// Model time [s].
    pub t: f64,
    /// Step count.
    pub tc: u64,
    /// Kinetic energy per layer, `1/2 <|grad psi_i|^2>`.
    pub ke_layer: [f64; NZ],
    /// Depth-weighted kinetic energy `(H1 KE1 + H2 KE2) / H` (pyqg `_calc_ke`).
    pub ke: f64,
    /// Available potential energy `1/2 rd^-2 (H1/H) (H2/H) <(psi1 - psi2)^2>`.
    pub ape: f64,
    /// Total energy `KE + APE`.
    pub energy: f64,
    /// Enstrophy per layer, `1/2 <q_i^2>`.
    pub enstrophy_layer: [f64; NZ],
    /// Depth-weighted enstrophy `(H1 Z1 + H2 Z2) / H`.
    pub enstrophy: f64,
    /// CFL number `max(|u + U| dt/dx, |v| dt/dy)`.
    pub cfl: f64,
}

/// Spatial mean of `f^2` from its rfft `fh` (pyqg `spec_var`): `sum(w |fh|^2) / M^2`.
pub fn spec_var(grid: &Grid, fh: &[Complex64]) -> f64 {
    let m2 = (grid.n_phys() as f64).powi(2);
    grid.parseval_weights()
        .iter()
        .zip(fh)
        .map(|(w, f)| w * f.norm_sqr())
        .sum::<f64>()
        / m2
}

/// An isotropic spectrum: bin centres `kr` [1/m] and spectral density per layer and depth-weighted.
#[derive(Debug, Clone, PartialEq)]
pub struct IsotropicSpectrum {
    /// Bin centres [1/m].
    pub kr: Vec<f64>,
    /// Density per layer, such that `sum(density) dkr` is the layer's domain-mean quantity.
    pub layer: [Vec<f64>; NZ],
    /// `(H1 layer1 + H2 layer2) / H`.
    pub total: Vec<f64>,
}

/// pyqg's `calc_ispec(model, var_dens)` with its defaults (averaging over rings, truncated at the
/// smaller axis Nyquist, dimensional wavenumber). `var_dens` is k-major, `|f_hat|^2 / M^2`.
/// An empty ring gives NaN, as in pyqg.
pub fn calc_ispec(grid: &Grid, var_dens: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (nk, nl) = (grid.nk(), grid.nl());
    let dk = grid.kk[1];
    let dl = grid.ll[1];
    let kmax = grid
        .ll
        .iter()
        .fold(0.0f64, |a, l| a.max(l.abs()))
        .min(grid.kk[nk - 1]);
    let dkr = (dk * dk + dl * dl).sqrt();
    // Left bin edges as np.arange(0, kmax, dkr) computes them.
    let nbins = (kmax / dkr).ceil() as usize;
    let edges: Vec<f64> = (0..nbins).map(|i| i as f64 * dkr).collect();
    let mut sum = vec![0.0; nbins];
    let mut count = vec![0usize; nbins];
    for ik in 0..nk {
        for il in 0..nl {
            let (k, l) = (grid.kk[ik], grid.ll[il]);
            let wv = (k * k + l * l).sqrt();
            // Ring i holds edges[i] <= wv < edges[i+1]; the last ring is closed: wv <= edges[last] + dkr.
            let bin = edges.partition_point(|&e| e <= wv);
            let inside = bin > 0 && (bin < nbins || wv <= edges[nbins - 1] + dkr);
            if inside {
                let half = if ik == 0 || ik == nk - 1 { 0.5 } else { 1.0 };
                sum[bin - 1] += half * var_dens[ik * nl + il];
                count[bin - 1] += 1;
            }
        }
    }
    let kr: Vec<f64> = edges.iter().map(|e| e + dkr / 2.0).collect();
    let phr = (0..nbins)
        .map(|i| {
            sum[i] / count[i] as f64 * (edges[i] + dkr / 2.0) * std::f64::consts::PI / (dk * dl)
                * 2.0
        })
        .collect();
    (kr, phr)
}

impl Model {
    /// Diagnostics of the current state.
    pub fn diagnostics(&self) -> Diagnostics {
        let grid = self.grid();
        let p = self.params();
        let psi = self.invert();
        let wv2 = grid.wv2();
        let ke_layer = [0, 1].map(|lev| {
            let grad: Vec<Complex64> = psi[lev]
                .iter()
                .zip(&wv2)
                .map(|(p, w)| p * w.sqrt())
                .collect();
            0.5 * spec_var(grid, &grad)
        });
        let [h1, h2] = p.hi();
        let h = p.h();
        let ke = (h1 * ke_layer[0] + h2 * ke_layer[1]) / h;
        let dpsi: Vec<Complex64> = psi[0].iter().zip(&psi[1]).map(|(a, b)| a - b).collect();
        let ape = 0.5 * p.rd.powi(-2) * (h1 / h) * (h2 / h) * spec_var(grid, &dpsi);
        let qh = self.qh_spectra();
        let enstrophy_layer = [0, 1].map(|lev| 0.5 * spec_var(grid, &qh[lev]));
        let enstrophy = (h1 * enstrophy_layer[0] + h2 * enstrophy_layer[1]) / h;
        Diagnostics {
            t: self.t(),
            tc: self.tc(),
            ke_layer,
            ke,
            ape,
            energy: ke + ape,
            enstrophy_layer,
            enstrophy,
            cfl: self.cfl(&psi),
        }
    }

    /// CFL number of the velocities of `psi`.
    fn cfl(&self, psi: &[Vec<Complex64>; NZ]) -> f64 {
        let grid = self.grid();
        let (u, v) = self.velocities(psi);
        let ubg = self.background_flow();
        let (dt, dx, dy) = (self.params().dt, grid.dx(), grid.dy());
        let mut cfl = 0.0f64;
        for ((u, v), ubg) in u.outer_iter().zip(v.outer_iter()).zip(ubg) {
            let umax = u.fold(0.0f64, |a, x| a.max((x + ubg).abs()));
            let vmax = v.fold(0.0f64, |a, x| a.max(x.abs()));
            cfl = cfl.max(umax * dt / dx).max(vmax * dt / dy);
        }
        cfl
    }

    /// Isotropic kinetic-energy spectrum of the current state (pyqg `calc_ispec` of `KEspec`).
    pub fn ke_spectrum(&self) -> IsotropicSpectrum {
        let grid = self.grid();
        let m2 = (grid.n_phys() as f64).powi(2);
        let wv2 = grid.wv2();
        let psi = self.invert();
        let mut kr = Vec::new();
        let layer = [0, 1].map(|lev| {
            let dens: Vec<f64> = psi[lev]
                .iter()
                .zip(&wv2)
                .map(|(p, w)| w * p.norm_sqr() / m2)
                .collect();
            let (k, phr) = calc_ispec(grid, &dens);
            kr = k;
            phr
        });
        let [h1, h2] = self.params().hi();
        let h = self.params().h();
        let total = layer[0]
            .iter()
            .zip(&layer[1])
            .map(|(a, b)| (h1 * a + h2 * b) / h)
            .collect();
        IsotropicSpectrum { kr, layer, total }
    }
}

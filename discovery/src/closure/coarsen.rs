//! The three filtering and coarse-graining operators of Ross et al. (2023), mapping a field of a
//! high-resolution grid (nx_hr) to a low-resolution one (nx_lr = nx_hr / r):
//!
//! - [`Operator::Sharp`] (Operator 1): spectral truncation to |k|, |l| < nx_lr / 2 (pyqg's
//!   `vh[:, :nk, :nk+1]` and `vh[:, -nk:, :nk+1]`, `nk = nx_lr/2`), times the low-resolution
//!   model's exponential filter, divided by r^2 (the unnormalised rfft);
//! - [`Operator::Gaussian`] (Operator 2): the same truncation times `exp(-kappa^2 (2 dx_lr)^2 / 24)`;
//! - [`Operator::Diffusion`] (Operator 3): GCM-Filters' diffusion-based Gaussian filter
//!   (`filter_scale = r`, `dx_min = 1`, `GridType.REGULAR`: the periodic 5-point Laplacian, the
//!   default number of steps) in physical space, then the mean over r x r blocks.
//!
//! Fields are `(ny, nx)` row-major, spectra k-major, as in the solver.

use crate::error::{DiscoveryError, invalid};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use medida_solver::fft::{Fft2, FftPlans};
use medida_solver::filter::exponential_filter;
use medida_solver::{Complex64, Grid};

/// Which operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Operator 1: spectral truncation and pyqg's sharp exponential filter.
    Sharp,
    /// Operator 2: spectral truncation and a Gaussian of width 2 dx_lr.
    Gaussian,
    /// Operator 3: GCM-Filters' diffusion-based Gaussian, then block means.
    Diffusion,
}

impl Operator {
    /// Operator 1, 2 or 3 of Ross et al.
    pub fn from_number(n: u8) -> Result<Self, DiscoveryError> {
        match n {
            1 => Ok(Self::Sharp),
            2 => Ok(Self::Gaussian),
            3 => Ok(Self::Diffusion),
            _ => Err(invalid(
                "operator",
                n,
                "1 (sharp), 2 (Gaussian) or 3 (GCM-Filters)",
            )),
        }
    }

    /// Its number in Ross et al.
    pub fn number(self) -> u8 {
        match self {
            Self::Sharp => 1,
            Self::Gaussian => 2,
            Self::Diffusion => 3,
        }
    }

    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Sharp => "Operator 1: spectral truncation and pyqg's sharp exponential filter",
            Self::Gaussian => "Operator 2: spectral truncation and a Gaussian filter of width 2 dx",
            Self::Diffusion => {
                "Operator 3: GCM-Filters diffusion-based Gaussian filter (filter_scale = r, dx_min = 1, REGULAR) and r x r block means"
            }
        }
    }
}

/// An operator between two grids, with its transforms.
#[derive(Debug, Clone)]
pub struct Coarsening {
    operator: Operator,
    hr: Grid,
    lr: Grid,
    ratio: usize,
    hr_fft: Fft2,
    lr_fft: Fft2,
    /// For the spectral operators: the low-resolution multiplier, filter / r^2 (k-major).
    multiplier: Vec<f64>,
    /// For Operator 3: the Chebyshev coefficients of the filter polynomial.
    chebyshev: Vec<f64>,
}

impl Coarsening {
    /// The operator from `hr` to `lr`; `filterfac` is the low-resolution model's (Operator 1).
    /// The grids must share the domain, and nx_lr, ny_lr divide nx_hr, ny_hr by one ratio r >= 2.
    pub fn new(
        operator: Operator,
        hr: &Grid,
        lr: &Grid,
        filterfac: f64,
    ) -> Result<Self, DiscoveryError> {
        let same = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
        let r = hr.nx / lr.nx.max(1);
        if !(same(hr.lx, lr.lx) && same(hr.ly, lr.ly))
            || r < 2
            || lr.nx * r != hr.nx
            || lr.ny * r != hr.ny
        {
            return Err(DiscoveryError::Shape(format!(
                "coarse-graining needs one domain and nx, ny divided by one ratio >= 2: high resolution {} x {}, low resolution {} x {}",
                hr.nx, hr.ny, lr.nx, lr.ny
            )));
        }
        let r2 = (r * r) as f64;
        let multiplier = match operator {
            Operator::Sharp => exponential_filter(lr, filterfac)
                .into_iter()
                .map(|f| f / r2)
                .collect(),
            Operator::Gaussian => {
                let w = (2.0 * lr.dx()).powi(2) / 24.0;
                lr.spectral_map(|k, l| (-(k * k + l * l) * w).exp() / r2)
            }
            Operator::Diffusion => Vec::new(),
        };
        let chebyshev = match operator {
            Operator::Diffusion => gcm_gaussian_coefficients(r as f64)?,
            _ => Vec::new(),
        };
        Ok(Self {
            operator,
            hr: hr.clone(),
            lr: lr.clone(),
            ratio: r,
            hr_fft: Fft2::new(FftPlans::new(hr)),
            lr_fft: Fft2::new(FftPlans::new(lr)),
            multiplier,
            chebyshev,
        })
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }
    /// The ratio r of the grid spacings.
    pub fn ratio(&self) -> usize {
        self.ratio
    }
    /// The low-resolution grid.
    pub fn lr(&self) -> &Grid {
        &self.lr
    }

    /// The coarse-grained field of a high-resolution field.
    pub fn field(&mut self, hr: &[f64]) -> Vec<f64> {
        match self.operator {
            Operator::Diffusion => self.diffuse_and_average(hr),
            _ => {
                let mut buf = hr.to_vec();
                let mut h = vec![Complex64::default(); self.hr.n_spec()];
                self.hr_fft.forward(&mut buf, &mut h);
                self.truncated(&h)
            }
        }
    }

    /// The coarse-grained field of a high-resolution spectrum (k-major).
    pub fn spectrum(&mut self, hr: &[Complex64]) -> Vec<f64> {
        match self.operator {
            Operator::Diffusion => {
                let mut f = vec![0.0; self.hr.n_phys()];
                self.hr_fft.inverse(hr, &mut f);
                self.diffuse_and_average(&f)
            }
            _ => self.truncated(hr),
        }
    }

    /// Truncation to the low-resolution modes, times the multiplier, back to the grid.
    fn truncated(&mut self, hr: &[Complex64]) -> Vec<f64> {
        let (nl_hr, nl) = (self.hr.nl(), self.lr.nl());
        let half = nl / 2;
        let lr = self.lr.spectral_map_indexed(|ik, il| {
            let il_hr = if il < half { il } else { il + nl_hr - nl };
            hr[ik * nl_hr + il_hr] * self.multiplier[ik * nl + il]
        });
        let mut out = vec![0.0; self.lr.n_phys()];
        self.lr_fft.inverse(&lr, &mut out);
        out
    }

    /// GCM-Filters' Chebyshev recurrence with the shifted periodic Laplacian, then block means.
    fn diffuse_and_average(&self, hr: &[f64]) -> Vec<f64> {
        let (nx, ny) = (self.hr.nx, self.hr.ny);
        // -(f + (2 / s_max) lap f), s_max = 2 (2 / dx_min)^2 = 8, dx_min = 1.
        let shifted = |f: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; f.len()];
            for j in 0..ny {
                let (jm, jp) = ((j + ny - 1) % ny, (j + 1) % ny);
                for i in 0..nx {
                    let (im, ip) = ((i + nx - 1) % nx, (i + 1) % nx);
                    let lap = -4.0 * f[j * nx + i]
                        + f[j * nx + ip]
                        + f[j * nx + im]
                        + f[jp * nx + i]
                        + f[jm * nx + i];
                    out[j * nx + i] = -f[j * nx + i] - (2.0 / S_MAX) * lap;
                }
            }
            out
        };
        let p = &self.chebyshev;
        let mut t2 = hr.to_vec();
        let mut t1 = shifted(&t2);
        let mut bar: Vec<f64> = t2
            .iter()
            .zip(&t1)
            .map(|(a, b)| p[0] * a + p[1] * b)
            .collect();
        for pi in &p[2..] {
            let s = shifted(&t1);
            let t0: Vec<f64> = s.iter().zip(&t2).map(|(s, t)| 2.0 * s - t).collect();
            bar.iter_mut().zip(&t0).for_each(|(b, t)| *b += pi * t);
            (t2, t1) = (t1, t0);
        }
        let r = self.ratio;
        let (nxl, nyl) = (self.lr.nx, self.lr.ny);
        let mut out = vec![0.0; nxl * nyl];
        for (jl, row) in out.chunks_exact_mut(nxl).enumerate() {
            for (il, o) in row.iter_mut().enumerate() {
                let mut s = 0.0;
                for j in jl * r..(jl + 1) * r {
                    s += bar[j * nx + il * r..j * nx + (il + 1) * r]
                        .iter()
                        .sum::<f64>();
                }
                *o = s / (r * r) as f64;
            }
        }
        out
    }
}

/// `s_max = ndim (2 / dx_min)^2` of GCM-Filters for a 2-D grid with `dx_min = 1`.
const S_MAX: f64 = 8.0;

/// The Chebyshev coefficients of GCM-Filters 0.5.1's Gaussian filter of scale `filter_scale` (in
/// grid spacings) on a regular 2-D grid with `dx_min = 1` and its default number of steps,
/// `max(ceil(1.1 filter_scale), 3)`: the Galerkin fit of Shen (1995) to
/// `F(t) = exp(-(s_max (t + 1) / 2) filter_scale^2 / 24)` on `[-1, 1]`, as
/// `gcm_filters.filter._compute_filter_spec` computes it.
fn gcm_gaussian_coefficients(filter_scale: f64) -> Result<Vec<f64>, DiscoveryError> {
    let n = ((1.1 * filter_scale).ceil() as usize).max(3);
    let f = |t: f64| (-(S_MAX * (t + 1.0) / 2.0) * filter_scale * filter_scale / 24.0).exp();
    let pi = std::f64::consts::PI;
    // Mass matrix of the Galerkin basis T_i - T_{i+2}.
    let m = Mat::from_fn(n - 1, n - 1, |i, j| {
        let v = if i == j {
            if i == 0 { 3.0 } else { 2.0 }
        } else if i.abs_diff(j) == 2 {
            -1.0
        } else {
            0.0
        };
        pi / 2.0 * v
    });
    // Gauss-Chebyshev quadrature with n + 1 points.
    let deg = n + 1;
    let points: Vec<f64> = (0..deg)
        .map(|j| (pi * (2 * j + 1) as f64 / (2 * deg) as f64).cos())
        .collect();
    let weight = pi / deg as f64;
    let cheb = |k: usize, x: f64| (k as f64 * x.acos()).cos();
    let b = Mat::from_fn(n - 1, 1, |i, _| {
        points
            .iter()
            .map(|&x| {
                let phi = cheb(i, x) - cheb(i + 2, x);
                weight * phi * (f(x) - ((1.0 - x) / 2.0 + f(1.0) * (x + 1.0) / 2.0))
            })
            .sum()
    });
    let c = m
        .llt(Side::Lower)
        .map_err(|_| DiscoveryError::Degenerate("the filter's mass matrix".into()))?
        .solve(&b);
    let c = |i: usize| c[(i, 0)];
    let mut p = vec![0.0; n + 1];
    p[0] = c(0) + (1.0 + f(1.0)) / 2.0;
    p[1] = c(1) - (1.0 - f(1.0)) / 2.0;
    for (i, pi) in p.iter_mut().enumerate().take(n - 1).skip(2) {
        *pi = c(i) - c(i - 2);
    }
    p[n - 1] = -c(n - 3);
    p[n] = -c(n - 2);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_polynomial_approximates_the_gaussian_target() {
        // The filter's response at a Laplacian eigenvalue -s (s in [0, 8]) is P(t), t = s/4 - 1,
        // with P the Chebyshev series p; it must follow exp(-s r^2 / 24) closely for s well
        // inside the range, and the constant field must pass unchanged (P(-1) = 1).
        let r = 4.0;
        let p = gcm_gaussian_coefficients(r).unwrap();
        assert_eq!(p.len(), 6, "n_steps = ceil(1.1 r) = 5");
        let at = |t: f64| -> f64 {
            p.iter()
                .enumerate()
                .map(|(k, c)| c * (k as f64 * t.acos()).cos())
                .sum()
        };
        assert!((at(-1.0) - 1.0).abs() < 1e-14, "{}", at(-1.0));
        for s in [0.1, 0.5, 1.0, 2.0] {
            let want = (-s * r * r / 24.0).exp();
            assert!((at(s / 4.0 - 1.0) - want).abs() < 0.03, "s = {s}");
        }
    }
}

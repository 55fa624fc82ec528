//! Interpolators from observed grid points back to the whole grid, and their error diagnostics.

use super::features::{FourierFeatures, unit_coords};
use crate::error::DiscoveryError;
use faer::linalg::solvers::{Llt, Solve};
use faer::{Mat, Side};
use medida_solver::diagnostics::calc_ispec;
use medida_solver::fft::{Fft2, FftPlans};
use medida_solver::{Complex64, Grid};
use rand_mt::Mt64;
use std::sync::Mutex;

/// Fills a grid from values at some of its points.
pub trait Interpolator: Send + Sync {
    /// The method's name and settings.
    fn name(&self) -> String;
    /// The field at every point of the grid (`(ny, nx)` row-major) from `values` at `stations`
    /// (flat row-major indices).
    fn interpolate(&self, stations: &[usize], values: &[f64]) -> Result<Vec<f64>, DiscoveryError>;
}

/// The physical position `[x, y]` of fractional grid indices `(ix, iy)`, with point 0 at the
/// origin (an interpolator's stations and queries are flat row-major indices of the grid).
pub(super) fn position(grid: &Grid, ix: f64, iy: f64) -> [f64; 2] {
    [ix * grid.dx(), iy * grid.dy()]
}

/// The physical position of grid point `i` (flat row-major).
pub(super) fn grid_point(grid: &Grid, i: usize) -> [f64; 2] {
    position(grid, (i % grid.nx) as f64, (i / grid.nx) as f64)
}

fn degenerate(what: String) -> DiscoveryError {
    DiscoveryError::Degenerate(what)
}

/// Optimal interpolation (Gaussian-process regression) on the periodic grid with a stationary
/// prior: the covariance is the circular autocovariance of sample fields (a model run), i.e. the
/// prior spectrum is their mean power spectrum. The estimate is `C H^T (H C H^T + r I)^-1 y`,
/// solved by a dense Cholesky of the stations' covariance (cached while the stations stay the
/// same) and applied by FFT. Between stations it is the minimum-variance linear estimate under
/// that prior; at stations it honours the data up to the noise `r`.
#[derive(Debug)]
pub struct SpectralOi {
    grid: Grid,
    /// Prior spectrum `mean |f_hat|^2 / N` (k-major).
    spectrum: Vec<f64>,
    /// Circular autocovariance `c(dy, dx)`, `(ny, nx)` row-major.
    cov: Vec<f64>,
    /// Noise variance relative to the prior variance `c(0)` (floored at 1e-10 for conditioning).
    noise: f64,
    cache: Mutex<Option<(Vec<usize>, Llt<f64>)>>,
}

impl SpectralOi {
    /// The prior from `samples` (fields on `grid`, `(ny, nx)` row-major); `noise` is the
    /// observations' noise standard deviation relative to the field's.
    pub fn from_samples(
        grid: &Grid,
        samples: &[Vec<f64>],
        noise: f64,
    ) -> Result<Self, DiscoveryError> {
        if samples.is_empty() {
            return Err(degenerate(
                "spectral-oi needs at least one sample field for its prior".into(),
            ));
        }
        let mut fft = Fft2::new(FftPlans::new(grid));
        let n = grid.n_phys() as f64;
        let mut spectrum = vec![0.0; grid.n_spec()];
        let mut spec = vec![Complex64::default(); grid.n_spec()];
        for s in samples {
            let mut buf = s.clone();
            fft.forward(&mut buf, &mut spec);
            spectrum
                .iter_mut()
                .zip(&spec)
                .for_each(|(p, f)| *p += f.norm_sqr() / n / samples.len() as f64);
        }
        let mut cov = vec![0.0; grid.n_phys()];
        let as_complex: Vec<Complex64> = spectrum.iter().map(|p| Complex64::new(*p, 0.0)).collect();
        fft.inverse(&as_complex, &mut cov);
        Ok(Self {
            grid: grid.clone(),
            spectrum,
            cov,
            noise: (noise * noise).max(1e-10),
            cache: Mutex::new(None),
        })
    }
}

impl Interpolator for SpectralOi {
    fn name(&self) -> String {
        format!(
            "spectral-oi (noise variance {:.1e} of the prior's)",
            self.noise
        )
    }

    fn interpolate(&self, stations: &[usize], values: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        let (nx, ny) = (self.grid.nx, self.grid.ny);
        let m = stations.len();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.as_ref().is_none_or(|(s, _)| s != stations) {
            let r = self.noise * self.cov[0];
            let pos: Vec<(usize, usize)> = stations.iter().map(|&i| (i / nx, i % nx)).collect();
            let c = Mat::from_fn(m, m, |a, b| {
                let (ja, ia) = pos[a];
                let (jb, ib) = pos[b];
                let dj = (ja + ny - jb) % ny;
                let di = (ia + nx - ib) % nx;
                self.cov[dj * nx + di] + if a == b { r } else { 0.0 }
            });
            let llt = c.llt(Side::Lower).map_err(|_| {
                degenerate(
                    "spectral-oi: the stations' prior covariance is not positive definite".into(),
                )
            })?;
            *cache = Some((stations.to_vec(), llt));
        }
        let (_, llt) = cache.as_ref().expect("just filled");
        let rhs = Mat::from_fn(m, 1, |i, _| values[i]);
        let lambda = llt.solve(&rhs);
        let mut v = vec![0.0; self.grid.n_phys()];
        for (k, &i) in stations.iter().enumerate() {
            v[i] = lambda[(k, 0)];
        }
        let mut fft = Fft2::new(FftPlans::new(&self.grid));
        let mut spec = vec![Complex64::default(); self.grid.n_spec()];
        fft.forward(&mut v, &mut spec);
        spec.iter_mut()
            .zip(&self.spectrum)
            .for_each(|(s, p)| *s *= p);
        let mut out = vec![0.0; self.grid.n_phys()];
        fft.inverse(&spec, &mut out);
        Ok(out)
    }
}

/// Random Fourier features and ridge regression: `f(x) = sum_j a_j cos(2 pi b_j . x) + c_j
/// sin(2 pi b_j . x)` with `b_j ~ N(0, sigma^2)` rounded to whole cycles per domain (so every
/// feature is periodic, as the fields are; coordinates scaled to [0, 1) per axis), coefficients
/// from `(Phi^T Phi + ridge tr/p I) w = Phi^T y`. The RFF network's feature map, with a
/// closed-form solve instead of training.
#[derive(Debug, Clone, PartialEq)]
pub struct RffRidge {
    grid: Grid,
    /// Number of frequencies (features = 2 x frequencies).
    pub frequencies: usize,
    /// Standard deviation of the frequencies, in cycles per domain.
    pub sigma: f64,
    /// Ridge, relative to the mean diagonal of `Phi^T Phi`.
    pub ridge: f64,
    /// Seed of the frequencies.
    pub seed: u64,
}

impl RffRidge {
    /// On `grid` with the given settings.
    pub fn new(grid: &Grid, frequencies: usize, sigma: f64, ridge: f64, seed: u64) -> Self {
        Self {
            grid: grid.clone(),
            frequencies,
            sigma,
            ridge,
            seed,
        }
    }

    /// The feature matrix of `points` (flat grid indices), one row per point.
    fn features(&self, ff: &FourierFeatures, points: &[usize]) -> Mat<f64> {
        let rows: Vec<Vec<f64>> = points
            .iter()
            .map(|&p| ff.row(unit_coords(&self.grid, p)))
            .collect();
        Mat::from_fn(points.len(), ff.len(), |r, c| rows[r][c])
    }
}

impl Interpolator for RffRidge {
    fn name(&self) -> String {
        format!(
            "rff-ridge ({} frequencies, sigma {}, ridge {:.0e}, seed {})",
            self.frequencies, self.sigma, self.ridge, self.seed
        )
    }

    fn interpolate(&self, stations: &[usize], values: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        let ff = FourierFeatures::draw(
            &mut Mt64::new(self.seed),
            self.frequencies,
            &[[self.sigma; 2]],
        );
        let phi = self.features(&ff, stations);
        let y = Mat::from_fn(values.len(), 1, |i, _| values[i]);
        let w = ridge_weights(&phi, &y, self.ridge).ok_or_else(|| {
            degenerate("rff-ridge: the feature Gram matrix is singular; raise the ridge".into())
        })?;
        let all: Vec<usize> = (0..self.grid.n_phys()).collect();
        let mut out = vec![0.0; all.len()];
        for chunk in all.chunks(4096) {
            let pred = self.features(&ff, chunk) * &w;
            for (k, &i) in chunk.iter().enumerate() {
                out[i] = pred[(k, 0)];
            }
        }
        Ok(out)
    }
}

/// Ridge regression of `y` on the columns of `a`: `(A^T A + ridge tr(A^T A)/p I) w = A^T y`, the
/// ridge relative to the mean diagonal of the Gram matrix; `None` when it is not positive
/// definite (Cholesky fails).
pub(super) fn ridge_weights(a: &Mat<f64>, y: &Mat<f64>, ridge: f64) -> Option<Mat<f64>> {
    let p = a.ncols();
    let mut g = a.transpose() * a;
    let mean_diag = (0..p).map(|i| g[(i, i)]).sum::<f64>() / p as f64;
    for i in 0..p {
        g[(i, i)] += ridge * mean_diag;
    }
    let rhs = a.transpose() * y;
    Some(g.llt(Side::Lower).ok()?.solve(&rhs))
}

/// `|estimate - truth| / |truth|` (L2 over the grid).
pub fn relative_error(truth: &[f64], estimate: &[f64]) -> f64 {
    let e: f64 = truth
        .iter()
        .zip(estimate)
        .map(|(t, e)| (t - e).powi(2))
        .sum();
    let t: f64 = truth.iter().map(|t| t * t).sum();
    (e / t).sqrt()
}

/// The isotropic spectra (pyqg's `calc_ispec` rings) of the error `estimate - truth` and of the
/// truth: `(k, error, truth)`. Their ratio per ring is the interpolant's relative error by scale.
pub fn error_spectrum(
    grid: &Grid,
    truth: &[f64],
    estimate: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut fft = Fft2::new(FftPlans::new(grid));
    let m2 = (grid.n_phys() as f64).powi(2);
    let mut power = |f: Vec<f64>| {
        let mut f = f;
        let mut spec = vec![Complex64::default(); grid.n_spec()];
        fft.forward(&mut f, &mut spec);
        let dens: Vec<f64> = spec.iter().map(|s| s.norm_sqr() / m2).collect();
        calc_ispec(grid, &dens)
    };
    let err: Vec<f64> = estimate.iter().zip(truth).map(|(e, t)| e - t).collect();
    let (k, e) = power(err);
    let (_, t) = power(truth.to_vec());
    (k, e, t)
}

/// The wavenumber where the error reaches the signal: the first crossing, from the largest
/// scales, of `error` above `truth` (spectra on the rings `k`, as from [`error_spectrum`]),
/// interpolated linearly in `k` on `ln(error / truth)` between the two rings around it (the
/// first ring's `k` when the error is already there). NaN when the error stays below the signal
/// on every ring. The spectral bias of an interpolant shows as a low crossing.
pub fn error_reaches_signal(k: &[f64], error: &[f64], truth: &[f64]) -> f64 {
    let ratio: Vec<f64> = error.iter().zip(truth).map(|(e, t)| (e / t).ln()).collect();
    match ratio.iter().position(|r| *r >= 0.0) {
        None => f64::NAN,
        Some(0) => k[0],
        Some(i) => {
            let (r0, r1) = (ratio[i - 1], ratio[i]);
            if r0.is_finite() && r1.is_finite() {
                k[i - 1] + (k[i] - k[i - 1]) * (0.0 - r0) / (r1 - r0)
            } else {
                k[i]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::ObservationSpec;

    #[test]
    fn the_crossing_is_interpolated_between_rings() {
        let k = [1.0, 2.0, 3.0, 4.0];
        let truth = [1.0, 1.0, 1.0, 1.0];
        // ln ratio -1 at k = 2 and +1 at k = 3: the crossing half way.
        let e = std::f64::consts::E;
        let error = [0.01, 1.0 / e, e, 10.0];
        assert!((error_reaches_signal(&k, &error, &truth) - 2.5).abs() < 1e-12);
        assert_eq!(error_reaches_signal(&k, &[2.0; 4], &truth), 1.0);
        assert!(error_reaches_signal(&k, &[0.5; 4], &truth).is_nan());
    }

    /// A smooth periodic field: a few low modes.
    fn smooth(grid: &Grid) -> Vec<f64> {
        let (x, y) = (grid.x(), grid.y());
        let (lx, ly) = (grid.lx, grid.ly);
        let tau = std::f64::consts::TAU;
        y.iter()
            .flat_map(|&y| {
                x.iter().map(move |&x| {
                    (tau * x / lx).sin() + 0.5 * (tau * (2.0 * x / lx + y / ly)).cos()
                        - 0.3 * (tau * 3.0 * y / ly).sin()
                })
            })
            .collect()
    }

    #[test]
    fn both_reproduce_a_smooth_field_from_a_quarter_of_the_points() {
        let grid = Grid::new(48, 64, 2.0, 3.0).unwrap();
        let f = smooth(&grid);
        let spec = ObservationSpec::parse("fraction=0.25,seed=2").unwrap();
        let st = spec.stations(grid.n_phys(), 0);
        let y = spec.observe(&f, &st, 0, 0);
        // Prior from other fields of the same family (shifted phases).
        let samples: Vec<Vec<f64>> = (1..4)
            .map(|s| {
                let mut g = f.clone();
                g.rotate_left(s * 7 * grid.nx + s * 3);
                g
            })
            .collect();
        let oi = SpectralOi::from_samples(&grid, &samples, 0.0).unwrap();
        let e = relative_error(&f, &oi.interpolate(&st, &y).unwrap());
        assert!(e < 1e-6, "spectral-oi: {e:e}");
        let rff = RffRidge::new(&grid, 400, 3.0, 1e-10, 1);
        let e = relative_error(&f, &rff.interpolate(&st, &y).unwrap());
        assert!(e < 1e-3, "rff-ridge: {e:e}");
    }
}

//! Ross et al.'s (2023) online similarity scores (`online_metrics.py`, closure reference section
//! 1.7): 18 distances between an ensemble of runs and a target ensemble (the high-resolution
//! runs), each turned into `S = 1 - D(model, target) / D(baseline, target)` against the
//! unparameterized coarse runs: 1 is the target's statistics, 0 the baseline's, below 0 worse.
//!
//! - 10 distributional distances: the Wasserstein-1 distance between the pooled values (over
//!   space, the last snapshots of every run) of `q`, `u_full`, `v_full`, `KE = u_full^2 + v_full^2`
//!   and `Ens = (dx(v_full) - dy(u_full))^2`, per layer;
//! - 8 spectral distances: the root-mean-square difference of pyqg's isotropic spectra
//!   (`calc_ispec`) of the time-averaged diagnostics `KEspec` and `Ensspec` per layer,
//!   `KEflux + paramspec_KEflux`, `APEflux + paramspec_APEflux`, `APEgenspec` and
//!   `KEfrictionspec`, averaged over runs, over the wavenumbers below both models' filter cutoff
//!   (pyqg's `0.65 pi / dx`: the first `k` where the filter is below 1).

use crate::error::DiscoveryError;
use medida_solver::diagnostics::calc_ispec;
use medida_solver::filter::exponential_filter;
use medida_solver::{Expr, Grid, Model};
use ndarray::{Array3, ArrayD};
use serde::{Deserialize, Serialize};

/// The 18 scores in Ross et al.'s order.
pub const METRICS: [&str; 18] = [
    "distrib_diff_q1",
    "distrib_diff_q2",
    "distrib_diff_u1",
    "distrib_diff_u2",
    "distrib_diff_v1",
    "distrib_diff_v2",
    "distrib_diff_KE1",
    "distrib_diff_KE2",
    "distrib_diff_Ens1",
    "distrib_diff_Ens2",
    "spectral_diff_KEspec1",
    "spectral_diff_KEspec2",
    "spectral_diff_Ensspec1",
    "spectral_diff_Ensspec2",
    "spectral_diff_KEflux",
    "spectral_diff_APEflux",
    "spectral_diff_APEgenspec",
    "spectral_diff_KEfrictionspec",
];

/// The spectra of the spectral scores: a diagnostic, its layer (`None`: a `(l, k)` one), and
/// the parameterization's part added to it.
const SPECTRA: [(&str, Option<usize>, Option<&str>); 8] = [
    ("KEspec", Some(0), None),
    ("KEspec", Some(1), None),
    ("Ensspec", Some(0), None),
    ("Ensspec", Some(1), None),
    ("KEflux", None, Some("paramspec_KEflux")),
    ("APEflux", None, Some("paramspec_APEflux")),
    ("APEgenspec", None, None),
    ("KEfrictionspec", None, None),
];

/// What the scores need of a set of runs on one grid: the pooled values of the 10 distributed
/// quantities and the 8 spectra averaged over runs (k-major).
#[derive(Debug, Clone)]
pub struct Ensemble {
    grid: Grid,
    filterfac: f64,
    samples: [Vec<f64>; 10],
    spectra: [Vec<f64>; 8],
    runs: usize,
}

impl Ensemble {
    /// An empty ensemble of runs of `model` (its grid, filter, inversion and background flow).
    pub fn new(model: &Model) -> Self {
        let n = model.grid().n_spec();
        Self {
            grid: model.grid().clone(),
            filterfac: model.params().filterfac,
            samples: Default::default(),
            spectra: std::array::from_fn(|_| vec![0.0; n]),
            runs: 0,
        }
    }

    /// Runs added so far.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Adds one run: the `q` of its last snapshots (each `(lev, y, x)`) and its time averages
    /// (`averages(name)` in pyqg's layout, [`AVERAGES`]); `model` evaluates velocities with
    /// the run's inversion and background flow.
    pub fn add_run(
        &mut self,
        model: &mut Model,
        snapshots: &[Array3<f64>],
        averages: &dyn Fn(&str) -> Option<ArrayD<f64>>,
    ) -> Result<(), DiscoveryError> {
        if model.grid() != &self.grid {
            return Err(DiscoveryError::Shape(
                "a run of another grid in an ensemble".into(),
            ));
        }
        let ubg = model.background_flow();
        let parse = |s: &str| Expr::parse(s).expect("a fixed expression");
        for q in snapshots {
            model.set_q(q.view())?;
            let state = model.spectral_state();
            let mut eval = model.evaluator();
            for lev in 0..2 {
                let n = lev + 1;
                let exprs = [
                    parse(&format!("u{n}")),
                    parse(&format!("v{n}")),
                    parse(&format!("dx(v{n}) - dy(u{n})")),
                ];
                let refs: Vec<&Expr> = exprs.iter().collect();
                let f = eval.fields(&refs, &state)?;
                let (u, v, curl) = (&f[0], &f[1], &f[2]);
                let ufull: Vec<f64> = u.iter().map(|u| u + ubg[lev]).collect();
                let s = &mut self.samples;
                s[lev].extend(q.index_axis(ndarray::Axis(0), lev).iter().copied());
                s[2 + lev].extend(ufull.iter().copied());
                s[4 + lev].extend(v.iter().copied());
                s[6 + lev].extend(ufull.iter().zip(v).map(|(u, v)| u * u + v * v));
                s[8 + lev].extend(curl.iter().map(|c| c * c));
            }
        }
        let (nk, nl) = (self.grid.nk(), self.grid.nl());
        let k_major = |a: &ArrayD<f64>, lev: Option<usize>| -> Result<Vec<f64>, DiscoveryError> {
            let a = match lev {
                Some(z) if a.ndim() == 3 => a.index_axis(ndarray::Axis(0), z).to_owned(),
                None if a.ndim() == 2 => a.clone(),
                _ => {
                    return Err(DiscoveryError::Shape(format!(
                        "an average of shape {:?}",
                        a.shape()
                    )));
                }
            };
            if a.shape() != [nl, nk] {
                return Err(DiscoveryError::Shape(format!(
                    "an average of shape {:?} on a grid of {nl} x {nk} wavenumbers",
                    a.shape()
                )));
            }
            Ok((0..nk)
                .flat_map(|ik| (0..nl).map(move |il| (ik, il)))
                .map(|(ik, il)| a[[il, ik]])
                .collect())
        };
        let get = |name: &str| {
            averages(name).ok_or_else(|| {
                DiscoveryError::Shape(format!("a run without the time average {name}"))
            })
        };
        for ((name, lev, param), sum) in SPECTRA.iter().zip(&mut self.spectra) {
            let mut s = k_major(&get(name)?, *lev)?;
            if let Some(p) = param {
                s.iter_mut()
                    .zip(k_major(&get(p)?, *lev)?)
                    .for_each(|(a, b)| *a += b);
            }
            sum.iter_mut().zip(&s).for_each(|(a, b)| *a += b);
        }
        // Sorted once here: every distance to this ensemble reads them in order.
        self.samples
            .iter_mut()
            .for_each(|x| x.sort_unstable_by(f64::total_cmp));
        self.runs += 1;
        Ok(())
    }

    /// The spectra averaged over runs.
    fn mean_spectra(&self) -> Vec<Vec<f64>> {
        let r = self.runs.max(1) as f64;
        self.spectra
            .iter()
            .map(|s| s.iter().map(|v| v / r).collect())
            .collect()
    }

    /// pyqg's `twothirds_nyquist`: the first zonal wavenumber where the filter is below 1.
    fn cutoff(&self) -> f64 {
        let f = exponential_filter(&self.grid, self.filterfac);
        let nl = self.grid.nl();
        (0..self.grid.nk())
            .find(|&ik| f[ik * nl] < 1.0)
            .map_or(f64::INFINITY, |ik| self.grid.kk[ik])
    }

    /// The smallest and largest pooled value of distributed quantity `k` ([`METRICS`]' order).
    pub fn range(&self, k: usize) -> (f64, f64) {
        self.samples[k]
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    }

    /// The probability density of distributed quantity `k` in the bins between `edges`.
    pub fn histogram(&self, k: usize, edges: &[f64]) -> Vec<f64> {
        let x = &self.samples[k];
        let mut counts = vec![0.0; edges.len().saturating_sub(1)];
        for &v in x {
            let i = edges.partition_point(|&e| e <= v);
            if i > 0 && i < edges.len() {
                counts[i - 1] += 1.0;
            }
        }
        counts
            .iter()
            .zip(edges.windows(2))
            .map(|(c, w)| c / (x.len() as f64 * (w[1] - w[0])))
            .collect()
    }

    /// Wavenumbers of the isotropic spectra below this grid's filter cutoff.
    pub fn resolved(&self) -> usize {
        let (kr, _) = self.isotropic();
        let cut = self.cutoff();
        kr.iter().filter(|&&k| k < cut).count()
    }

    /// The isotropic spectra of [`SPECTRA`] averaged over runs: wavenumbers and densities.
    pub fn isotropic(&self) -> (Vec<f64>, Vec<Vec<f64>>) {
        let mut kr = Vec::new();
        let spectra = self
            .mean_spectra()
            .iter()
            .map(|s| {
                let (k, i) = calc_ispec(&self.grid, s);
                kr = k;
                i
            })
            .collect();
        (kr, spectra)
    }
}

/// The exact Wasserstein-1 distance between the empirical distributions of `a` and `b` (scipy's
/// `wasserstein_distance`: the integral of `|F_a - F_b|`).
pub fn wasserstein1(a: &[f64], b: &[f64]) -> f64 {
    let sorted = |x: &[f64]| {
        let mut x = x.to_vec();
        x.sort_by(f64::total_cmp);
        x
    };
    wasserstein1_sorted(&sorted(a), &sorted(b))
}

/// [`wasserstein1`] of samples already sorted in ascending order.
fn wasserstein1_sorted(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = a[0].min(b[0]);
    let mut total = 0.0;
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!("the loop stops first"),
        };
        total += (i as f64 / na - j as f64 / nb).abs() * (next - prev);
        while a.get(i).is_some_and(|&x| x <= next) {
            i += 1;
        }
        while b.get(j).is_some_and(|&y| y <= next) {
            j += 1;
        }
        prev = next;
    }
    total
}

/// The 18 distances between ensembles `a` and `b` (Ross's `diagnostic_differences`; the
/// spectral ones over `a`'s wavenumbers below both cutoffs).
pub fn differences(a: &Ensemble, b: &Ensemble) -> [f64; 18] {
    let mut out = [0.0; 18];
    for (k, (sa, sb)) in a.samples.iter().zip(&b.samples).enumerate() {
        // Ross's order is quantity-major, layer-minor: q1 q2 u1 u2 ...
        out[k] = wasserstein1_sorted(sa, sb);
    }
    let kmax = a.cutoff().min(b.cutoff());
    let ((kr, ia), (_, ib)) = (a.isotropic(), b.isotropic());
    let nk = kr.iter().filter(|&&k| k < kmax).count();
    for (s, (x, y)) in ia.iter().zip(&ib).enumerate() {
        let n = nk.min(x.len()).min(y.len());
        let mse = (0..n).map(|i| (x[i] - y[i]).powi(2)).sum::<f64>() / n as f64;
        out[10 + s] = mse.sqrt();
    }
    out
}

/// The 18 similarity scores of `model` to `target` against `baseline`: `1 - D(model, target) /
/// D(baseline, target)`.
pub fn similarities(model: &Ensemble, target: &Ensemble, baseline: &Ensemble) -> Scores18 {
    let (d1, d2) = (differences(model, target), differences(baseline, target));
    Scores18 {
        scores: (0..18).map(|i| 1.0 - d1[i] / d2[i]).collect(),
        distances: d1.to_vec(),
    }
}

/// The 18 scores of one closure, in [`METRICS`]' order, with the distances they come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores18 {
    /// Similarity per metric.
    pub scores: Vec<f64>,
    /// `D(model, target)` per metric.
    pub distances: Vec<f64>,
}

impl Scores18 {
    /// The mean of the 18 scores.
    pub fn mean(&self) -> f64 {
        self.scores.iter().sum::<f64>() / self.scores.len() as f64
    }
    /// The mean without `spectral_diff_KEfrictionspec`, which repeats `spectral_diff_KEspec2`
    /// (the bottom-drag spectrum is rek times the lower-layer KE spectrum, so the normalised
    /// distances are equal): the 17-score mean the benchmark also reports.
    pub fn mean17(&self) -> f64 {
        let kept: Vec<f64> = METRICS
            .iter()
            .zip(&self.scores)
            .filter(|(m, _)| **m != "spectral_diff_KEfrictionspec")
            .map(|(_, s)| *s)
            .collect();
        kept.iter().sum::<f64>() / kept.len() as f64
    }
    /// The smallest score.
    pub fn min(&self) -> f64 {
        self.scores.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasserstein_is_the_area_between_the_distribution_functions() {
        // Shifting a distribution moves it by the shift.
        let a: Vec<f64> = (0..100).map(|i| i as f64 * 0.37).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 2.5).collect();
        assert!((wasserstein1(&a, &b) - 2.5).abs() < 1e-12);
        // Unequal sizes: {0, 1} against {0.5}: |F| = 1/2 over [0, 0.5] and [0.5, 1].
        assert!((wasserstein1(&[0.0, 1.0], &[0.5]) - 0.5).abs() < 1e-15);
        // scipy's documented example: wasserstein_distance([0, 1, 3], [5, 6, 8]) = 5.
        assert!((wasserstein1(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]) - 5.0).abs() < 1e-15);
        // Ties and repeated values.
        assert!((wasserstein1(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]) - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(wasserstein1(&a, &a), 0.0);
    }
}

//! The low-order statistic closures are calibrated against: each layer's PV-variance
//! (potential-enstrophy) spectrum in log-spaced wavenumber bins, the enstrophy spectrum of the
//! 2-D turbulence studies when `q` is the vorticity.
//!
//! Bin `b` holds the modes with `edge_b <= |k| < edge_{b+1}`, `|k| = sqrt(k^2 + l^2)`; its value
//! is the part of `<q^2>` those modes carry, `sum w |q_hat|^2 / M^2` (the rfft Parseval weights,
//! so the bins of the whole spectrum add up to `<q^2>`). The edges are log-spaced from the
//! fundamental wavenumber to `kmax_fraction` of the Nyquist wavenumber (0.65: below pyqg's
//! filter, the band of the online scores). The high-resolution reference and the coarse model go
//! through the same bins on the coarse grid.

use crate::error::DiscoveryError;
use medida_solver::{Complex64, Grid};

/// Log-spaced wavenumber bins on one grid.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumBins {
    edges: Vec<f64>,
    /// The bin of each spectral coefficient (k-major), if any, and its Parseval weight.
    of_mode: Vec<Option<(usize, f64)>>,
    n_phys: f64,
}

impl SpectrumBins {
    /// `bins` log-spaced bins from the fundamental wavenumber to `kmax_fraction` of the Nyquist
    /// wavenumber of `grid`; every bin must hold a mode.
    pub fn new(grid: &Grid, bins: usize, kmax_fraction: f64) -> Result<Self, DiscoveryError> {
        let bad = |m: String| Err(DiscoveryError::Closure(m));
        if !(kmax_fraction > 0.0 && kmax_fraction <= 1.0) {
            return bad(format!(
                "spectrum kmax fraction {kmax_fraction}: allowed 0 < f <= 1 of the Nyquist wavenumber"
            ));
        }
        let k0 = grid.kk[1].min(grid.ll[1]);
        let nyquist = grid.kk[grid.nk() - 1].min(std::f64::consts::PI / grid.dy());
        let kmax = kmax_fraction * nyquist;
        if bins == 0 || kmax <= k0 {
            return bad(format!(
                "{bins} spectrum bins between {k0:.3e} and {kmax:.3e}: allowed 1 or more bins in a band of width > 0"
            ));
        }
        let edges: Vec<f64> = (0..=bins)
            .map(|b| k0 * (kmax / k0).powf(b as f64 / bins as f64))
            .collect();
        Self::with_edges(grid, edges)
    }

    /// These bins on another grid of the same domain (a finer one: the reference's), so its
    /// spectrum is summed over the same wavenumbers.
    pub fn on(&self, grid: &Grid) -> Result<Self, DiscoveryError> {
        Self::with_edges(grid, self.edges.clone())
    }

    fn with_edges(grid: &Grid, edges: Vec<f64>) -> Result<Self, DiscoveryError> {
        let bins = edges.len() - 1;
        let kmax = edges[bins];
        let weights = grid.parseval_weights();
        let mut of_mode = Vec::with_capacity(grid.n_spec());
        let mut count = vec![0usize; bins];
        let mut i = 0;
        for &k in &grid.kk {
            for &l in &grid.ll {
                let wv = (k * k + l * l).sqrt();
                // Half-open bins; the top edge belongs to the last one (round-off at kmax).
                let b = edges.partition_point(|&e| e <= wv * (1.0 + 1e-12));
                let bin = (b > 0 && b <= bins && wv < kmax * (1.0 + 1e-12)).then(|| b - 1);
                if let Some(b) = bin {
                    count[b] += 1;
                }
                of_mode.push(bin.map(|b| (b, weights[i])));
                i += 1;
            }
        }
        if let Some(b) = count.iter().position(|&c| c == 0) {
            return Err(DiscoveryError::Closure(format!(
                "spectrum bin {b} ({:.3e} to {:.3e}) holds no wavenumber of the {} x {} grid: allowed fewer bins",
                edges[b],
                edges[b + 1],
                grid.nx,
                grid.ny
            )));
        }
        Ok(Self {
            edges,
            of_mode,
            n_phys: grid.n_phys() as f64,
        })
    }

    /// Bins per layer.
    pub fn len(&self) -> usize {
        self.edges.len() - 1
    }

    /// Never: a bin set has at least one bin.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bins' geometric centres [1/m].
    pub fn centres(&self) -> Vec<f64> {
        self.edges
            .windows(2)
            .map(|w| (w[0] * w[1]).sqrt())
            .collect()
    }

    /// The variance `<q^2>` each bin carries, of one layer's k-major spectrum `qh`.
    pub fn variance(&self, qh: &[Complex64]) -> Vec<f64> {
        let mut out = vec![0.0; self.len()];
        for (m, f) in self.of_mode.iter().zip(qh) {
            if let Some((b, w)) = m {
                out[*b] += w * f.norm_sqr();
            }
        }
        let m2 = self.n_phys * self.n_phys;
        out.iter_mut().for_each(|v| *v /= m2);
        out
    }

    /// The bins of every layer of `qh` (one k-major spectrum per layer), concatenated.
    pub fn of_layers(&self, qh: &[impl AsRef<[Complex64]>]) -> Vec<f64> {
        qh.iter().flat_map(|q| self.variance(q.as_ref())).collect()
    }
}

/// Spectra of snapshots, for their time mean and scatter: each sample is the bins of every
/// layer, concatenated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpectrumSamples {
    samples: Vec<Vec<f64>>,
}

impl SpectrumSamples {
    /// Adds the bins of one state's layers `qh` (k-major, one per layer).
    pub fn add(&mut self, bins: &SpectrumBins, qh: &[impl AsRef<[Complex64]>]) {
        self.push(bins.of_layers(qh));
    }

    /// Adds one row (a state's bins of every layer, and whatever else is averaged with them).
    pub fn push(&mut self, row: Vec<f64>) {
        self.samples.push(row);
    }

    /// Adds another collection's samples after these.
    pub fn merge(&mut self, other: SpectrumSamples) {
        self.samples.extend(other.samples);
    }

    /// Samples of these rows (each one state's bins of every layer).
    pub fn from_rows(samples: Vec<Vec<f64>>) -> Self {
        Self { samples }
    }

    /// The samples so far, one row each.
    pub fn rows(&self) -> &[Vec<f64>] {
        &self.samples
    }

    /// Samples so far.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The time-mean spectrum; `None` without samples.
    pub fn mean(&self) -> Option<Vec<f64>> {
        let n = self.samples.len();
        let first = self.samples.first()?;
        Some(
            (0..first.len())
                .map(|k| self.samples.iter().map(|s| s[k]).sum::<f64>() / n as f64)
                .collect(),
        )
    }

    /// The log of the time-mean spectrum; `None` without samples or with an empty or
    /// non-finite bin (a model that blew up).
    pub fn log_mean(&self) -> Option<Vec<f64>> {
        let out: Vec<f64> = self.mean()?.iter().map(|v| v.ln()).collect();
        out.iter().all(|v| v.is_finite()).then_some(out)
    }

    /// The sample variance of each bin's log over the snapshots (the scatter of one snapshot's
    /// log spectrum); `None` with fewer than 2 samples.
    pub fn log_variance(&self) -> Option<Vec<f64>> {
        let n = self.samples.len();
        if n < 2 {
            return None;
        }
        let d = self.samples[0].len();
        Some(
            (0..d)
                .map(|k| {
                    let logs: Vec<f64> = self.samples.iter().map(|s| s[k].ln()).collect();
                    let mean = logs.iter().sum::<f64>() / n as f64;
                    logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_add_up_to_the_band_variance_and_bad_bins_are_named() {
        let grid = Grid::new(32, 32, 1e6, 1e6).unwrap();
        let bins = SpectrumBins::new(&grid, 8, 1.0).unwrap();
        // The same bins on a finer grid hold the same wavenumbers: a mode's variance lands in
        // the same bin.
        let fine = Grid::new(64, 64, 1e6, 1e6).unwrap();
        let on_fine = bins.on(&fine).unwrap();
        let mut fh = vec![Complex64::new(0.0, 0.0); fine.n_spec()];
        fh[2 * fine.nl() + 3] = Complex64::new(3.0, 4.0) * 4.0;
        assert_eq!(
            on_fine.variance(&fh),
            bins.variance(&{
                let mut qh = vec![Complex64::new(0.0, 0.0); grid.n_spec()];
                qh[2 * grid.nl() + 3] = Complex64::new(3.0, 4.0);
                qh
            })
        );
        // A single mode (k, l) = (2, 3) dk of amplitude a: <q^2> = 2 a^2 / M^2 (rfft weight 2).
        let mut qh = vec![Complex64::new(0.0, 0.0); grid.n_spec()];
        qh[2 * grid.nl() + 3] = Complex64::new(3.0, 4.0);
        let v = bins.variance(&qh);
        let total: f64 = v.iter().sum();
        assert!((total - 2.0 * 25.0 / (1024.0f64 * 1024.0)).abs() < 1e-18);
        let wv = 13f64.sqrt() * grid.kk[1];
        let b = v.iter().position(|x| *x > 0.0).unwrap();
        let c = bins.edges[b]..bins.edges[b + 1];
        assert!(c.contains(&wv), "{wv} in {c:?}");
        let e = SpectrumBins::new(&grid, 40, 0.65).unwrap_err().to_string();
        assert!(e.contains("holds no wavenumber"), "{e}");
        assert!(SpectrumBins::new(&grid, 8, 0.0).is_err());
    }
}

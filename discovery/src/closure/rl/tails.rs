//! The PDF tails a reward can weigh beside the spectrum: the fraction of each layer's grid points
//! where `|q|` exceeds a few of the reference's standard deviations.
//!
//! Every eddy viscosity thins the tails of the PDF while it brings the spectrum closer (docs,
//! case 1: the unclosed model has the reference's tails and the worst spectrum), so a reward on
//! the spectrum alone cannot ask for both. With [`Tails`] the interval's misfit gains the tail
//! fractions' errors, each over the reference snapshots' scatter as the spectrum's bins are:
//! `z_t = (ln(f_t + f0) - ln(f_ref,t + f0)) / s_t`, with `f0 = 1 / (nx ny)` (one grid point of one
//! snapshot) so that a fraction of 0 has a finite log.

use crate::closure::spectrum::SpectrumSamples;
use crate::error::DiscoveryError;
use ndarray::{Array3, ArrayView3, Axis};
use serde::{Deserialize, Serialize};

/// The tails of each layer's `q` distribution against the reference's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tails {
    /// Thresholds in units of the layer's reference `sigma(q)` (`|q| > t sigma_ref`).
    pub thresholds: Vec<f64>,
    /// The reference's rms `q` of each layer.
    pub sigma: Vec<f64>,
    /// `ln(f_ref + f0)` for each layer and threshold (the upper layer's thresholds first), `f_ref`
    /// the mean fraction over the reference snapshots.
    pub reference: Vec<f64>,
    /// The reference snapshots' standard deviation of `ln(f + f0)` (at least 1e-3).
    pub scatter: Vec<f64>,
    /// `f0`: one grid point of one layer.
    pub floor: f64,
    /// The tails' weight in the reward: the interval's misfit is `mean_k z_k^2 + weight mean_t
    /// z_t^2`.
    pub weight: f64,
}

impl Tails {
    /// The tails of the reference `states` (`q` as `(lev, y, x)`, at least 2) at `thresholds`
    /// (in units of each layer's `sigma(q)`, each > 0), weighed by `weight` (>= 0).
    pub fn new(
        states: &[Array3<f64>],
        thresholds: &[f64],
        weight: f64,
    ) -> Result<Self, DiscoveryError> {
        let bad = |what: String| Err(DiscoveryError::Closure(what));
        if thresholds.is_empty() || !thresholds.iter().all(|t| t.is_finite() && *t > 0.0) {
            return bad(format!(
                "tail thresholds {thresholds:?}: allowed one or more numbers > 0 (units of sigma(q))"
            ));
        }
        if !(weight.is_finite() && weight >= 0.0) {
            return bad(format!("tail weight {weight}: allowed a number >= 0"));
        }
        if states.len() < 2 {
            return bad("the PDF tails' scatter needs 2 or more reference states".into());
        }
        let (levs, ny, nx) = states[0].dim();
        if states.iter().any(|s| s.dim() != (levs, ny, nx)) {
            return bad("the reference states differ in shape".into());
        }
        let n = (states.len() * ny * nx) as f64;
        let sigma: Vec<f64> = (0..levs)
            .map(|lev| {
                let sum: f64 = (states.iter())
                    .map(|s| {
                        s.index_axis(Axis(0), lev)
                            .iter()
                            .map(|v| v * v)
                            .sum::<f64>()
                    })
                    .sum();
                (sum / n).sqrt()
            })
            .collect();
        if !sigma.iter().all(|s| s.is_finite() && *s > 0.0) {
            return bad(format!(
                "the reference's sigma(q) per layer {sigma:?}: the tails need q != 0 in every layer"
            ));
        }
        let mut tails = Self {
            thresholds: thresholds.to_vec(),
            sigma,
            reference: Vec::new(),
            scatter: Vec::new(),
            floor: 1.0 / (nx * ny) as f64,
            weight,
        };
        // The spectrum's statistics on the rows `f + f0`: the log of their mean and the scatter
        // of their logs.
        let rows = SpectrumSamples::from_rows(
            (states.iter())
                .map(|s| {
                    tails
                        .fractions(s.view())
                        .iter()
                        .map(|f| f + tails.floor)
                        .collect()
                })
                .collect(),
        );
        let (Some(reference), Some(variance)) = (rows.log_mean(), rows.log_variance()) else {
            unreachable!("2 or more rows, each value at least f0 > 0");
        };
        tails.reference = reference;
        tails.scatter = variance.iter().map(|v| v.sqrt().max(1e-3)).collect();
        Ok(tails)
    }

    /// Number of tail fractions (layers x thresholds).
    pub fn len(&self) -> usize {
        self.reference.len()
    }

    /// Whether there are none (never, for tails made by [`Tails::new`]).
    pub fn is_empty(&self) -> bool {
        self.reference.is_empty()
    }

    /// The fraction of each layer's points of `q` `(lev, y, x)` beyond each threshold (the
    /// order of [`Tails::reference`]).
    pub fn fractions(&self, q: ArrayView3<f64>) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.len());
        for (lev, layer) in q.outer_iter().enumerate() {
            let n = layer.len() as f64;
            for t in &self.thresholds {
                let limit = t * self.sigma[lev];
                out.push(layer.iter().filter(|v| v.abs() > limit).count() as f64 / n);
            }
        }
        out
    }

    fn logs(&self, fractions: &[f64]) -> Vec<f64> {
        fractions.iter().map(|f| (f + self.floor).ln()).collect()
    }

    /// `mean_t z_t^2` of the mean fractions `fractions` of an interval (unweighted).
    pub fn misfit(&self, fractions: &[f64]) -> f64 {
        let z2: f64 = self
            .logs(fractions)
            .iter()
            .zip(&self.reference)
            .zip(&self.scatter)
            .map(|((l, r), s)| ((l - r) / s).powi(2))
            .sum();
        z2 / self.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::Tails;
    use ndarray::Array3;

    /// Two layers of 2 x 2 points: the upper layer's values `v`, the lower's `2 v`.
    fn state(v: [f64; 4]) -> Array3<f64> {
        Array3::from_shape_fn((2, 2, 2), |(lev, j, i)| (1.0 + lev as f64) * v[2 * j + i])
    }

    #[test]
    fn the_fractions_are_counted_against_each_layers_sigma() {
        // sigma^2 = (0 + 0 + 1 + 9 + (0 + 1 + 1 + 4)) / 8 = 2 in the upper layer, 8 in the lower.
        let states = [state([0.0, 0.0, 1.0, -3.0]), state([0.0, 1.0, -1.0, 2.0])];
        let t = Tails::new(&states, &[1.0, 2.0], 0.5).unwrap();
        let s = 2f64.sqrt();
        assert!((t.sigma[0] - s).abs() < 1e-15 && (t.sigma[1] - 2.0 * s).abs() < 1e-15);
        // Beyond 1.41: one point of four (the -3); beyond 2.83: the same one. Same in the lower
        // layer, whose values and sigma are both doubled.
        assert_eq!(t.fractions(states[0].view()), vec![0.25, 0.25, 0.25, 0.25]);
        // Beyond 1.41: the 2; beyond 2.83: none.
        assert_eq!(t.fractions(states[1].view()), vec![0.25, 0.0, 0.25, 0.0]);
        // The reference: ln of the mean fraction plus one point (1/4); the scatter of the logs.
        let f0 = 0.25f64;
        assert!((t.reference[0] - (0.25 + f0).ln()).abs() < 1e-15);
        assert!((t.reference[1] - (0.125 + f0).ln()).abs() < 1e-15);
        let d = (0.5f64).ln() - (0.25f64).ln();
        assert!(
            (t.scatter[0] - 1e-3).abs() < 1e-15,
            "equal fractions: the floor"
        );
        assert!((t.scatter[1] - d / 2f64.sqrt()).abs() < 1e-14);
    }

    #[test]
    fn the_misfit_is_zero_at_the_reference_and_counts_scatters() {
        let states = [state([0.0, 0.0, 1.0, -3.0]), state([0.0, 1.0, -1.0, 2.0])];
        let t = Tails::new(&states, &[2.0], 1.0).unwrap();
        let at_reference: Vec<f64> = t.reference.iter().map(|r| r.exp() - t.floor).collect();
        assert!(t.misfit(&at_reference).abs() < 1e-24);
        // One scatter off in each of the two fractions: a misfit of 1.
        let off: Vec<f64> = (t.reference.iter().zip(&t.scatter))
            .map(|(r, s)| (r + s).exp() - t.floor)
            .collect();
        assert!((t.misfit(&off) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_thresholds_weights_and_references_are_named() {
        let states = [state([0.0, 0.0, 1.0, -3.0]), state([0.0, 1.0, -1.0, 2.0])];
        for (th, w, states, what) in [
            (&[][..], 1.0, &states[..], "thresholds"),
            (&[0.0][..], 1.0, &states[..], "thresholds"),
            (&[3.0][..], -1.0, &states[..], "weight"),
            (&[3.0][..], f64::NAN, &states[..], "weight"),
            (&[3.0][..], 1.0, &states[..1], "2 or more"),
            (
                &[3.0][..],
                1.0,
                &[state([0.0; 4]), state([0.0; 4])][..],
                "sigma(q)",
            ),
        ] {
            let e = Tails::new(states, th, w).unwrap_err().to_string();
            assert!(e.contains(what), "{e}");
        }
    }
}

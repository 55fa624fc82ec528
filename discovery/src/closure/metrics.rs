//! Offline skill of a closure, as Ross et al. define it (`Parameterization.test_offline`): per
//! layer over space and time, `R^2 = 1 - MSE / Var(truth)` (the variance about the global mean)
//! and Pearson's correlation; accumulated over snapshots without holding them.

use serde::{Deserialize, Serialize};

/// Sums of a prediction against its truth.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Skill {
    n: f64,
    t: f64,
    p: f64,
    tt: f64,
    pp: f64,
    tp: f64,
    se: f64,
}

/// The scores of a [`Skill`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// `1 - MSE / Var(truth)`.
    pub r2: f64,
    /// Pearson's correlation.
    pub correlation: f64,
    /// Points scored.
    pub points: usize,
}

impl Skill {
    /// Adds points: `truth[i]` predicted by `pred[i]`.
    pub fn add(&mut self, truth: &[f64], pred: &[f64]) {
        for (&t, &p) in truth.iter().zip(pred) {
            self.n += 1.0;
            self.t += t;
            self.p += p;
            self.tt += t * t;
            self.pp += p * p;
            self.tp += t * p;
            self.se += (t - p) * (t - p);
        }
    }

    /// The scores so far (NaN without points or variance).
    pub fn scores(&self) -> Scores {
        let n = self.n;
        let (mt, mp) = (self.t / n, self.p / n);
        let var_t = self.tt / n - mt * mt;
        let var_p = self.pp / n - mp * mp;
        let cov = self.tp / n - mt * mp;
        let mse = self.se / n;
        Scores {
            r2: 1.0 - mse / var_t,
            correlation: cov / (var_t * var_p).sqrt(),
            points: n as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_their_definitions() {
        let truth = [1.0, 2.0, 3.0, 4.0];
        let mut s = Skill::default();
        s.add(&truth, &truth);
        assert_eq!(s.scores().r2, 1.0);
        assert!((s.scores().correlation - 1.0).abs() < 1e-15);
        // Half the truth: correlation 1, MSE = mean(t^2)/4 = 7.5/4, Var = 1.25.
        let mut h = Skill::default();
        h.add(&truth, &truth.map(|t| t / 2.0));
        assert!((h.scores().r2 - (1.0 - 7.5 / 4.0 / 1.25)).abs() < 1e-14);
        assert!((h.scores().correlation - 1.0).abs() < 1e-14);
    }
}

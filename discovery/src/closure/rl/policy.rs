//! The agents' shared policy: each agent's pre-squash action `u_a` has a mean given by a small
//! network of its own observation; the agents explore together, `u_a = mu_a + sigma_g e + sigma_l
//! e_a` with one common and one own standard normal draw per decision (a joint Gaussian with
//! covariance `sigma_l^2 I + sigma_g^2 1 1^T`, both standard deviations learned). The common part
//! is what makes the shared reward informative: with independent draws alone, one agent's
//! exploration moves the global spectrum by 1/32 of the agents' joint effect, and PPO did not
//! move the policy in 300 episodes of the study's case 1 (docs/closures.md). A value network of
//! the agent's observation, the observation normaliser fixed after the first exploration, and
//! the action range: the coefficient `c = exp(ln c_min + (ln c_max - ln c_min) sigmoid(u))`, never
//! negative (an agent cannot turn the eddy viscosity into anti-diffusion).

use crate::closure::rl::mlp::{Mlp, normal};
use crate::error::DiscoveryError;
use rand_mt::Mt64;
use serde::{Deserialize, Serialize};

/// The range of an agent's coefficient, `c_min <= c <= c_max`, both positive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActionRange {
    /// Smallest coefficient.
    pub c_min: f64,
    /// Largest coefficient.
    pub c_max: f64,
}

impl ActionRange {
    /// The range `[c_min, c_max]`; an error unless `0 < c_min < c_max` and both are finite.
    pub fn new(c_min: f64, c_max: f64) -> Result<Self, DiscoveryError> {
        if !(c_min > 0.0 && c_max > c_min && c_max.is_finite()) {
            return Err(DiscoveryError::Closure(format!(
                "action range [{c_min}, {c_max}]: allowed 0 < c_min < c_max, finite"
            )));
        }
        Ok(Self { c_min, c_max })
    }

    /// The coefficient of pre-squash action `u`.
    pub fn coefficient(&self, u: f64) -> f64 {
        let s = 1.0 / (1.0 + (-u).exp());
        (self.c_min.ln() + (self.c_max / self.c_min).ln() * s).exp()
    }

    /// The coefficients of actions `u`.
    pub fn coefficients(&self, u: &[f64]) -> Vec<f64> {
        u.iter().map(|u| self.coefficient(*u)).collect()
    }

    /// The pre-squash action of coefficient `c` (clamped into the open range).
    pub fn action(&self, c: f64) -> f64 {
        let s =
            ((c.ln() - self.c_min.ln()) / (self.c_max / self.c_min).ln()).clamp(1e-6, 1.0 - 1e-6);
        (s / (1.0 - s)).ln()
    }
}

/// Observations standardised by fixed means and standard deviations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// Mean of each raw feature.
    pub mean: Vec<f64>,
    /// Standard deviation of each (1 where a feature does not vary).
    pub sd: Vec<f64>,
}

impl Normalizer {
    /// The identity on `n` features.
    pub fn identity(n: usize) -> Self {
        Self {
            mean: vec![0.0; n],
            sd: vec![1.0; n],
        }
    }

    /// Means and standard deviations of `rows` (raw observations).
    pub fn fit(rows: &[Vec<f64>]) -> Self {
        let n = rows.first().map_or(0, Vec::len);
        let m = rows.len().max(1) as f64;
        let mean: Vec<f64> = (0..n)
            .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / m)
            .collect();
        let sd = (0..n)
            .map(|j| {
                let v = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / m;
                if v > 1e-24 { v.sqrt() } else { 1.0 }
            })
            .collect();
        Self { mean, sd }
    }

    /// The standardised observation, each feature clipped to +-10.
    pub fn apply(&self, raw: &[f64]) -> Vec<f64> {
        raw.iter()
            .zip(&self.mean)
            .zip(&self.sd)
            .map(|((x, m), s)| ((x - m) / s).clamp(-10.0, 10.0))
            .collect()
    }
}

/// The shared policy of the agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Mean of `u` from the normalised observation.
    pub actor: Mlp,
    /// Natural logs of the own and the common standard deviations of `u`.
    pub log_std: [f64; 2],
    /// Value of the normalised observation.
    pub critic: Mlp,
    /// The observation's normaliser.
    pub normalizer: Normalizer,
    /// The coefficient's range.
    pub range: ActionRange,
}

impl Policy {
    /// A new policy on `inputs` features with two hidden layers of `hidden`, exploring with
    /// standard deviations 0.3 (own) and 0.4 (common) in `u` around a mean near the action of
    /// coefficient `initial` (the network's output bias; its weights start small).
    pub fn new(
        inputs: usize,
        hidden: usize,
        range: ActionRange,
        initial: f64,
        rng: &mut Mt64,
    ) -> Self {
        let mut actor = Mlp::new(&[inputs, hidden, hidden, 1], 0.01, rng);
        *actor.params.last_mut().expect("an output bias") = range.action(initial);
        Self {
            actor,
            log_std: [0.3f64.ln(), 0.4f64.ln()],
            critic: Mlp::new(&[inputs, hidden, hidden, 1], 1.0, rng),
            normalizer: Normalizer::identity(inputs),
            range,
        }
    }

    /// The mean pre-squash action and the value of normalised observation `obs`.
    pub fn mean_and_value(&self, obs: &[f64]) -> (f64, f64) {
        (self.actor.forward(obs).0[0], self.critic.forward(obs).0[0])
    }

    /// For the agents' normalised observations `obs`: their actions `u` (drawn with `rng`, or the
    /// means without it), the joint log-probability and the agents' values.
    pub fn act(&self, obs: &[Vec<f64>], rng: Option<&mut Mt64>) -> (Vec<f64>, f64, Vec<f64>) {
        let (mu, value): (Vec<f64>, Vec<f64>) = obs.iter().map(|o| self.mean_and_value(o)).unzip();
        let [own, common] = self.log_std.map(f64::exp);
        let u: Vec<f64> = match rng {
            Some(rng) => {
                let e = normal(rng);
                mu.iter()
                    .map(|m| m + common * e + own * normal(rng))
                    .collect()
            }
            None => mu.clone(),
        };
        let d: Vec<f64> = u.iter().zip(&mu).map(|(u, m)| u - m).collect();
        (u, joint_logp(&d, self.log_std).0, value)
    }
}

/// The log-density of the joint Gaussian at deviations `d = u - mu` with log standard deviations
/// `[own, common]`, its gradient with respect to each `mu_a`, and with respect to the two log
/// standard deviations. Covariance `a I + b 1 1^T` (`a = own^2`, `b = common^2`): its inverse is
/// `(I - b/(a + n b) 1 1^T) / a` and its log-determinant `(n - 1) ln a + ln(a + n b)`.
pub fn joint_logp(d: &[f64], log_std: [f64; 2]) -> (f64, Vec<f64>, [f64; 2]) {
    let n = d.len() as f64;
    let (a, b) = ((2.0 * log_std[0]).exp(), (2.0 * log_std[1]).exp());
    let big = a + n * b;
    let s: f64 = d.iter().sum();
    let ss: f64 = d.iter().map(|x| x * x).sum();
    let q = (ss - b * s * s / big) / a;
    let logdet = (n - 1.0) * a.ln() + big.ln();
    let logp = -0.5 * (q + logdet + n * (2.0 * std::f64::consts::PI).ln());
    let dmu = d.iter().map(|x| (x - b * s / big) / a).collect();
    let dq_da = -ss / (a * a) + b * s * s * (1.0 / (a * a * big) + 1.0 / (a * big * big));
    let dq_db = -s * s / (big * big);
    let dlogdet_da = (n - 1.0) / a + 1.0 / big;
    let dlogdet_db = n / big;
    let da = -0.5 * (dq_da + dlogdet_da);
    let db = -0.5 * (dq_db + dlogdet_db);
    (logp, dmu, [2.0 * a * da, 2.0 * b * db])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The joint log-density equals the dense Gaussian's (Cholesky-free: n = 3, by the explicit
    /// inverse and determinant), and its gradients equal central differences.
    #[test]
    fn joint_logp_and_its_gradients() {
        let d = [0.3, -0.7, 1.1];
        let ls = [0.2f64.ln(), 0.5f64.ln()];
        let (logp, dmu, dls) = joint_logp(&d, ls);
        let (a, b) = (0.04, 0.25);
        // Sigma = a I + b 11^T; det = a^2 (a + 3b); inverse from Sherman-Morrison, checked by hand.
        let sigma = |i: usize, j: usize| if i == j { a + b } else { b };
        let det = a * a * (a + 3.0 * b);
        let inv = |i: usize, j: usize| ((i == j) as u8 as f64 - b / (a + 3.0 * b)) / a;
        for i in 0..3 {
            for j in 0..3 {
                let e: f64 = (0..3).map(|k| sigma(i, k) * inv(k, j)).sum();
                assert!((e - (i == j) as u8 as f64).abs() < 1e-12);
            }
        }
        let q: f64 = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| d[i] * inv(i, j) * d[j])
            .sum();
        let want = -0.5 * (q + det.ln() + 3.0 * (2.0 * std::f64::consts::PI).ln());
        assert!((logp - want).abs() < 1e-12, "{logp} {want}");
        let h = 1e-6;
        for i in 0..3 {
            // mu_a up is d_a down.
            let mut lo = d;
            lo[i] += h;
            let mut hi = d;
            hi[i] -= h;
            let fd = (joint_logp(&hi, ls).0 - joint_logp(&lo, ls).0) / (2.0 * h);
            assert!((fd - dmu[i]).abs() < 1e-7, "mu {i}: {fd} {}", dmu[i]);
        }
        for k in 0..2 {
            let mut hi = ls;
            hi[k] += h;
            let mut lo = ls;
            lo[k] -= h;
            let fd = (joint_logp(&d, hi).0 - joint_logp(&d, lo).0) / (2.0 * h);
            assert!((fd - dls[k]).abs() < 1e-7, "log std {k}: {fd} {}", dls[k]);
        }
    }
}

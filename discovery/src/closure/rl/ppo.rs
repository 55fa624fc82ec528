//! Proximal policy optimisation (Schulman et al. 2017) of the agents' joint Gaussian policy
//! ([`crate::closure::rl::policy`]) with a separate value network: a decision of all agents is
//! one sample (their joint action, its joint log-probability, the shared reward); its value is
//! the mean of the agents' values, and each agent's value is regressed on the decision's return.
//! Advantages by generalised advantage estimation (GAE), then the clipped surrogate loss.

use crate::closure::rl::mlp::{Adam, Trace};
use crate::closure::rl::policy::{Policy, joint_logp};
use rand_mt::Mt64;
use serde::{Deserialize, Serialize};

/// PPO's settings (defaults: Stable-Baselines3's PPO, with a smaller learning rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpoSettings {
    /// Discount per decision.
    pub gamma: f64,
    /// GAE's lambda.
    pub lambda: f64,
    /// Clip range of the probability ratio.
    pub clip: f64,
    /// Passes over each batch.
    pub epochs: usize,
    /// Transitions per gradient step.
    pub minibatch: usize,
    /// Adam's learning rate (actor and critic).
    pub lr: f64,
}

impl Default for PpoSettings {
    fn default() -> Self {
        Self {
            gamma: 0.99,
            lambda: 0.95,
            clip: 0.2,
            epochs: 10,
            minibatch: 64,
            lr: 3e-4,
        }
    }
}

/// One decision of all agents: their (normalised) observations, the sampled pre-squash actions
/// `u`, the joint log-probability and the mean value when taken, and the reward that followed.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Normalised observations, one per agent.
    pub obs: Vec<Vec<f64>>,
    /// Pre-squash actions.
    pub u: Vec<f64>,
    /// Their joint log-probability under the policy that took them.
    pub logp: f64,
    /// The mean of the agents' values then.
    pub value: f64,
    /// The reward that followed.
    pub reward: f64,
}

/// The decisions of an episode; `terminal` when it ended by blowing up (no value after it),
/// otherwise it was cut at the episode's length and `last_value` bootstraps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Decisions in order.
    pub steps: Vec<Transition>,
    /// Whether the episode ended in a blow-up.
    pub terminal: bool,
    /// Value of the state after the last decision (0 when terminal).
    pub last_value: f64,
}

/// What one update did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateStats {
    /// Mean clipped surrogate objective over the last epoch.
    pub surrogate: f64,
    /// Mean squared value error over the last epoch.
    pub value_loss: f64,
    /// Fraction of samples clipped in the last epoch.
    pub clipped: f64,
    /// The policy's own and common standard deviations after the update.
    pub std: [f64; 2],
}

/// The PPO learner: the policy's optimisers.
#[derive(Debug, Clone)]
pub struct Ppo {
    /// Settings.
    pub settings: PpoSettings,
    actor: Adam,
    critic: Adam,
}

impl Ppo {
    /// A learner for `policy`.
    pub fn new(policy: &Policy, settings: PpoSettings) -> Self {
        Self {
            actor: Adam::new(policy.actor.params.len() + 2, settings.lr),
            critic: Adam::new(policy.critic.params.len(), settings.lr),
            settings,
        }
    }

    /// Advantages and returns of each trajectory's decisions (GAE).
    pub fn advantages(&self, t: &Trajectory) -> (Vec<f64>, Vec<f64>) {
        let (g, l) = (self.settings.gamma, self.settings.lambda);
        let n = t.steps.len();
        let mut adv = vec![0.0; n];
        let mut next_value = if t.terminal { 0.0 } else { t.last_value };
        let mut running = 0.0;
        for i in (0..n).rev() {
            let s = &t.steps[i];
            let delta = s.reward + g * next_value - s.value;
            running = delta + g * l * running;
            adv[i] = running;
            next_value = s.value;
        }
        let returns = adv.iter().zip(&t.steps).map(|(a, s)| a + s.value).collect();
        (adv, returns)
    }

    /// Scales the learning rate to `fraction` of the settings' (a schedule: training anneals it
    /// linearly to 0 over its updates, so the last policy is not a late step's excursion).
    pub fn anneal(&mut self, fraction: f64) {
        let lr = self.settings.lr * fraction.clamp(0.0, 1.0);
        self.actor.lr = lr;
        self.critic.lr = lr;
    }

    /// One PPO update of `policy` from `batch`; minibatches drawn in an order shuffled by `rng`.
    pub fn update(
        &mut self,
        policy: &mut Policy,
        batch: &[Trajectory],
        rng: &mut Mt64,
    ) -> UpdateStats {
        let mut samples: Vec<(&Transition, f64, f64)> = Vec::new();
        for t in batch {
            let (adv, ret) = self.advantages(t);
            samples.extend(
                t.steps
                    .iter()
                    .zip(adv)
                    .zip(ret)
                    .map(|((s, a), r)| (s, a, r)),
            );
        }
        if samples.is_empty() {
            return UpdateStats::default();
        }
        // Advantages normalised over the batch.
        let n = samples.len() as f64;
        let mean = samples.iter().map(|s| s.1).sum::<f64>() / n;
        let sd = (samples.iter().map(|s| (s.1 - mean).powi(2)).sum::<f64>() / n).sqrt() + 1e-8;
        samples.iter_mut().for_each(|s| s.1 = (s.1 - mean) / sd);
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut stats = UpdateStats::default();
        let eps = self.settings.clip;
        for _ in 0..self.settings.epochs {
            shuffle(&mut order, rng);
            let (mut surrogate, mut value_loss, mut clipped) = (0.0, 0.0, 0.0);
            for chunk in order.chunks(self.settings.minibatch.max(1)) {
                let m = chunk.len() as f64;
                let mut ga = vec![0.0; policy.actor.params.len() + 2];
                let mut gc = vec![0.0; policy.critic.params.len()];
                let n_actor = policy.actor.params.len();
                for &i in chunk {
                    let (s, adv, ret) = samples[i];
                    let passes: Vec<(Vec<f64>, Trace)> =
                        s.obs.iter().map(|o| policy.actor.forward(o)).collect();
                    let d: Vec<f64> = s.u.iter().zip(&passes).map(|(u, p)| u - p.0[0]).collect();
                    let (logp, dmu, dstd) = joint_logp(&d, policy.log_std);
                    let ratio = (logp - s.logp).exp();
                    let unclipped = ratio * adv;
                    let bounded = ratio.clamp(1.0 - eps, 1.0 + eps) * adv;
                    surrogate += unclipped.min(bounded);
                    // d(-min(...))/d logp: -ratio * adv where the unclipped term is the smaller.
                    let dlogp = if unclipped <= bounded {
                        -unclipped
                    } else {
                        clipped += 1.0;
                        0.0
                    };
                    let (actor, stds) = ga.split_at_mut(n_actor);
                    for ((_, trace), g) in passes.iter().zip(&dmu) {
                        policy.actor.backward(trace, &[dlogp * g / m], actor);
                    }
                    stds.iter_mut()
                        .zip(dstd)
                        .for_each(|(a, g)| *a += dlogp * g / m);
                    let agents = s.obs.len() as f64;
                    for o in &s.obs {
                        let (v, vtrace) = policy.critic.forward(o);
                        value_loss += (v[0] - ret).powi(2) / agents;
                        policy
                            .critic
                            .backward(&vtrace, &[(v[0] - ret) / (m * agents)], &mut gc);
                    }
                }
                let mut params = policy.actor.params.clone();
                params.extend(policy.log_std);
                self.actor.step(&mut params, &ga);
                let common = params.pop().expect("the common log std");
                let own = params.pop().expect("the own log std");
                policy.log_std = [own, common].map(|l| l.clamp(-5.0, 1.0));
                policy.actor.params = params;
                self.critic.step(&mut policy.critic.params, &gc);
            }
            stats = UpdateStats {
                surrogate: surrogate / n,
                value_loss: value_loss / n,
                clipped: clipped / n,
                std: policy.log_std.map(f64::exp),
            };
        }
        stats
    }
}

/// Fisher-Yates with `rng`.
fn shuffle(v: &mut [usize], rng: &mut Mt64) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::closure::rl::policy::ActionRange;

    /// GAE with lambda = 1 is the discounted return minus the value; a blow-up ends it with 0.
    #[test]
    fn gae_with_lambda_one_is_the_discounted_return() {
        let mut rng = Mt64::new(0);
        let range = ActionRange::new(1e-3, 0.1).unwrap();
        let policy = Policy::new(2, 8, range, 0.01, &mut rng);
        let ppo = Ppo::new(
            &policy,
            PpoSettings {
                lambda: 1.0,
                gamma: 0.9,
                ..Default::default()
            },
        );
        let step = |r: f64, v: f64| Transition {
            obs: vec![vec![0.0, 0.0]],
            u: vec![0.0],
            logp: 0.0,
            value: v,
            reward: r,
        };
        let t = Trajectory {
            steps: vec![step(1.0, 0.5), step(2.0, 0.25), step(-1.0, 3.0)],
            terminal: false,
            last_value: 10.0,
        };
        let (adv, ret) = ppo.advantages(&t);
        let g3 = -1.0 + 0.9 * 10.0;
        let g2 = 2.0 + 0.9 * g3;
        let g1 = 1.0 + 0.9 * g2;
        for (a, b) in ret.iter().zip([g1, g2, g3]) {
            assert!((a - b).abs() < 1e-12, "{ret:?}");
        }
        assert!((adv[0] - (g1 - 0.5)).abs() < 1e-12);
        let ended = Trajectory {
            terminal: true,
            ..t
        };
        assert!((ppo.advantages(&ended).1[2] + 1.0).abs() < 1e-12);
    }

    /// A one-step bandit of 4 agents: the reward is `-mean_a (log c_a - log 0.01)^2`; PPO moves the
    /// policy's mean action to c = 0.01 within 5% (the optimum inside the action range) and
    /// narrows its exploration.
    #[test]
    fn ppo_learns_a_bandit() {
        let mut rng = Mt64::new(11);
        let range = ActionRange::new(1e-3, 0.1).unwrap();
        let mut policy = Policy::new(1, 16, range, 0.002, &mut rng);
        let mut ppo = Ppo::new(
            &policy,
            PpoSettings {
                lr: 3e-3,
                ..Default::default()
            },
        );
        let obs = vec![vec![0.0]; 4];
        for _ in 0..60 {
            let batch: Vec<Trajectory> = (0..128)
                .map(|_| {
                    let (u, logp, values) = policy.act(&obs, Some(&mut rng));
                    let reward = -u
                        .iter()
                        .map(|u| (range.coefficient(*u).ln() - 0.01f64.ln()).powi(2))
                        .sum::<f64>()
                        / 4.0;
                    Trajectory {
                        steps: vec![Transition {
                            obs: obs.clone(),
                            u,
                            logp,
                            value: values.iter().sum::<f64>() / 4.0,
                            reward,
                        }],
                        terminal: true,
                        last_value: 0.0,
                    }
                })
                .collect();
            ppo.update(&mut policy, &batch, &mut rng);
        }
        let c = range.coefficient(policy.mean_and_value(&[0.0]).0);
        assert!((c / 0.01 - 1.0).abs() < 0.05, "learned c = {c}");
        assert!(
            policy.log_std.iter().all(|l| l.exp() < 0.3),
            "{:?}",
            policy.log_std
        );
    }
}

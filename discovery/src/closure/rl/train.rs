//! Training: episodes of the coarse model with the agents' closure from randomly drawn
//! reference states, a PPO update after every few episodes, and the frozen policy's assessment
//! on held-out starts against a constant coefficient.
//!
//! Episodes of one update run in parallel (rayon), each with its own model and its own random
//! stream seeded by the run's seed and the episode's number; updates are sequential. So a seed
//! gives the same policy at any thread count.

use crate::closure::rl::agents::{Agents, Controller, Decision};
use crate::closure::rl::mlp::uniform;
use crate::closure::rl::policy::{ActionRange, Normalizer, Policy};
use crate::closure::rl::ppo::{Ppo, PpoSettings, Trajectory, Transition, UpdateStats};
use crate::closure::similarity::wasserstein1;
use crate::closure::spectrum::SpectrumSamples;
use crate::error::DiscoveryError;
use medida_solver::{Model, SolverError};
use ndarray::Array3;
use rand_mt::Mt64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The training environment: the coarse model with the agents' closure, and the states episodes
/// start from.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The coarse model with the closure's field term.
    pub model: Model,
    /// The agents.
    pub agents: Agents,
    /// Initial states `q` `(lev, y, x)` (coarse-grained reference snapshots).
    pub starts: Vec<Array3<f64>>,
    /// Steps per episode.
    pub episode_steps: u64,
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RlSettings {
    /// Episodes in all.
    pub episodes: usize,
    /// Episodes per PPO update.
    pub per_update: usize,
    /// Width of the policy's and value's two hidden layers.
    pub hidden: usize,
    /// The coefficient's range.
    pub range: ActionRange,
    /// The coefficient the policy starts from (everywhere, before training).
    pub initial: f64,
    /// Seed of the networks, starts and exploration.
    pub seed: u64,
    /// PPO.
    pub ppo: PpoSettings,
}

/// One episode's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeLog {
    /// Its number.
    pub episode: usize,
    /// The start drawn.
    pub start: usize,
    /// Mean reward per decision.
    pub mean_reward: f64,
    /// Decisions taken.
    pub decisions: usize,
    /// Whether it blew up.
    pub blew_up: bool,
    /// Median coefficient of the last decision.
    pub median_c: f64,
}

/// One update's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateLog {
    /// Its episodes.
    pub episodes: Vec<EpisodeLog>,
    /// The learner's statistics.
    pub stats: UpdateStats,
}

/// A random stream for episode `n` of the run seeded `seed`.
fn stream(seed: u64, n: usize) -> Mt64 {
    Mt64::new(seed ^ 0x9E37_79B9_7F4A_7C15u64.wrapping_mul((n as u64).wrapping_add(1)))
}

impl Environment {
    /// Runs one episode from start `start` with `policy`, exploring with `rng` (the policy's mean
    /// without); its decisions, its log and every raw observation.
    pub fn episode(
        &self,
        policy: &Policy,
        start: usize,
        mut rng: Option<&mut Mt64>,
        episode: usize,
    ) -> Result<(Trajectory, EpisodeLog, Vec<Vec<f64>>), DiscoveryError> {
        let mut m = self.model.clone();
        m.set_q(self.starts[start].view())?;
        let mut ctl = Controller::new(policy.clone(), self.agents.clone(), &m)?;
        let mut d: Decision = ctl.start(&mut m, rng.as_deref_mut())?;
        let mut trajectory = Trajectory {
            steps: Vec::new(),
            terminal: false,
            last_value: 0.0,
        };
        let mut raw = d.raw.clone();
        let total = (self.episode_steps / self.agents.interval.max(1)) as usize;
        let mut rewards = Vec::new();
        let mut blew_up = false;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let push = |t: &mut Trajectory, d: &Decision, reward: f64| {
            t.steps.push(Transition {
                obs: d.obs.clone(),
                u: d.u.clone(),
                logp: d.logp,
                value: mean(&d.value),
                reward,
            });
        };
        for _ in 0..self.episode_steps {
            match m.step() {
                Ok(()) => {}
                Err(SolverError::Unstable { .. }) => {
                    blew_up = true;
                    break;
                }
                Err(e) => return Err(e.into()),
            }
            if let Some((reward, next)) = ctl.after_step(&mut m, rng.as_deref_mut())? {
                push(&mut trajectory, &d, reward);
                rewards.push(reward);
                raw.extend(next.raw.iter().cloned());
                d = next;
                if rewards.len() == total {
                    break;
                }
            }
        }
        if blew_up {
            let penalty = self
                .agents
                .reward
                .blow_up(total - rewards.len(), self.agents.reward_clip);
            push(&mut trajectory, &d, penalty);
            trajectory.terminal = true;
        } else {
            // The decision after the last interval only bootstraps the value.
            trajectory.last_value = mean(&d.value);
        }
        let mut c = policy.range.coefficients(&d.u);
        c.sort_by(f64::total_cmp);
        let log = EpisodeLog {
            episode,
            start,
            mean_reward: rewards.iter().sum::<f64>() / rewards.len().max(1) as f64,
            decisions: rewards.len(),
            blew_up,
            median_c: c[c.len() / 2],
        };
        Ok((trajectory, log, raw))
    }

    /// Trains a policy; `on_update` sees each update's log as it happens.
    pub fn train(
        &self,
        s: &RlSettings,
        mut on_update: impl FnMut(&UpdateLog),
    ) -> Result<(Policy, Vec<UpdateLog>), DiscoveryError> {
        if self.starts.is_empty() {
            return Err(DiscoveryError::Closure(
                "no start states to train from".into(),
            ));
        }
        let per = s.per_update.max(1);
        let mut init = Mt64::new(s.seed);
        let mut policy = Policy::new(
            self.agents.features(),
            s.hidden,
            s.range,
            s.initial,
            &mut init,
        );
        // The observation normaliser: from a first exploring episode, then fixed.
        let mut first = stream(s.seed, usize::MAX - 1);
        let (_, _, raw) = self.episode(&policy, 0, Some(&mut first), 0)?;
        policy.normalizer = Normalizer::fit(&raw);
        let mut ppo = Ppo::new(&policy, s.ppo.clone());
        let mut shuffle = stream(s.seed, usize::MAX);
        let mut logs = Vec::new();
        for first in (0..s.episodes).step_by(per) {
            let numbers: Vec<usize> = (first..(first + per).min(s.episodes)).collect();
            let results: Vec<_> = numbers
                .par_iter()
                .map(|&n| {
                    let mut rng = stream(s.seed, n);
                    let start = (uniform(&mut rng) * self.starts.len() as f64) as usize;
                    self.episode(&policy, start.min(self.starts.len() - 1), Some(&mut rng), n)
                })
                .collect::<Result<_, _>>()?;
            let mut batch = Vec::new();
            let mut episodes = Vec::new();
            for (t, log, _) in results {
                batch.push(t);
                episodes.push(log);
            }
            // Adam's rate falls linearly from its setting to 0 at the last update.
            ppo.anneal(1.0 - first as f64 / s.episodes as f64);
            let stats = ppo.update(&mut policy, &batch, &mut shuffle);
            let log = UpdateLog { episodes, stats };
            on_update(&log);
            logs.push(log);
        }
        Ok((policy, logs))
    }
}

/// How a closure's long runs compare with the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The closure.
    pub name: String,
    /// Runs that stayed finite to the end, of all.
    pub stable: (usize, usize),
    /// RMS over bins of the log time-mean spectrum's error (both layers).
    pub log_spectrum_rmse: f64,
    /// The same errors over the reference snapshots' scatter, their mean square (what the
    /// `scatter` reward weighs; 1 = one snapshot's scatter).
    pub weighted_misfit: f64,
    /// The log time-mean spectrum (both layers' bins; empty if every run blew up).
    pub log_spectrum: Vec<f64>,
    /// The PDF-tail distance: the mean over the tail bins (`3 <= |q| / sigma_ref <= 6`) of
    /// `|log10 p - log10 p_ref|` (a bin the run never reached counts as `p = 1e-7`).
    pub tail_distance: f64,
    /// The 1-Wasserstein distance of the `q / sigma_ref` distributions (exact, as the online
    /// scores compute it).
    pub wasserstein: f64,
    /// The run's `sigma(q)`.
    pub sigma_q: f64,
    /// Its histogram of `q / sigma_ref` (density per bin of [`TAIL_BINS`]).
    pub pdf: Vec<f64>,
    /// How the policy's coefficient varied over blocks and decisions (`None` for a constant
    /// closure, or when no decision was made).
    #[serde(default)]
    pub coefficients: Option<CoefficientSpread>,
}

/// How much a policy's coefficient varies in space and time over the decisions of its runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoefficientSpread {
    /// Decisions counted (every run's, the first included).
    pub decisions: usize,
    /// The median of every block's coefficient over every decision.
    pub median: f64,
    /// In space: the geometric mean over decisions of the ratio of the 90th to the 10th
    /// percentile of the blocks' coefficients (1 = the same in every block).
    pub spatial_ratio: f64,
    /// In time: the 10th, 50th and 90th percentiles over decisions of the blocks' median.
    pub median_over_time: [f64; 3],
}

impl CoefficientSpread {
    /// The spread of `decisions`, each the blocks' coefficients (`None` if there is none).
    pub fn of(decisions: &[Vec<f64>]) -> Option<Self> {
        use crate::regression::ensemble::quantile;
        let decisions: Vec<Vec<f64>> = decisions
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| {
                let mut c = c.clone();
                c.sort_by(f64::total_cmp);
                c
            })
            .collect();
        if decisions.is_empty() {
            return None;
        }
        let n = decisions.len() as f64;
        let log_ratio = decisions
            .iter()
            .map(|c| (quantile(c, 0.9) / quantile(c, 0.1)).ln())
            .sum::<f64>()
            / n;
        let mut medians: Vec<f64> = decisions.iter().map(|c| quantile(c, 0.5)).collect();
        medians.sort_by(f64::total_cmp);
        let mut all: Vec<f64> = decisions.concat();
        all.sort_by(f64::total_cmp);
        Some(Self {
            decisions: decisions.len(),
            median: quantile(&all, 0.5),
            spatial_ratio: log_ratio.exp(),
            median_over_time: [0.1, 0.5, 0.9].map(|q| quantile(&medians, q)),
        })
    }
}

/// One assessment run that stayed finite: its spectra, its `q` values, each decision's
/// coefficients.
type AssessedRun = (SpectrumSamples, Vec<f64>, Vec<Vec<f64>>);

/// Edges of the PDF's bins in units of the reference's `sigma(q)`: width 0.25 on [-8, 8].
pub const TAIL_BINS: (f64, f64, usize) = (-8.0, 8.0, 64);

/// The density of `values / sigma` in [`TAIL_BINS`] (values outside are dropped from the
/// histogram but counted in the total).
pub fn pdf(values: &[f64], sigma: f64) -> Vec<f64> {
    let (lo, hi, n) = TAIL_BINS;
    let w = (hi - lo) / n as f64;
    let mut h = vec![0.0; n];
    for v in values {
        let x = (v / sigma - lo) / w;
        if x >= 0.0 && (x as usize) < n {
            h[x as usize] += 1.0;
        }
    }
    let total = values.len().max(1) as f64 * w;
    h.iter_mut().for_each(|v| *v /= total);
    h
}

/// The tail distance of densities `p` and `p_ref` (see [`Assessment::tail_distance`]).
pub fn tail_distance(p: &[f64], p_ref: &[f64]) -> f64 {
    let (lo, hi, n) = TAIL_BINS;
    let w = (hi - lo) / n as f64;
    let floor = 1e-7;
    let mut sum = 0.0;
    let mut count = 0;
    for i in 0..n {
        let centre = lo + (i as f64 + 0.5) * w;
        if (3.0..=6.0).contains(&centre.abs()) && p_ref[i] > 0.0 {
            sum += (p[i].max(floor).log10() - p_ref[i].log10()).abs();
            count += 1;
        }
    }
    sum / count.max(1) as f64
}

/// The reference statistics a closure is assessed against.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Log mean spectrum (both layers' bins).
    pub log_spectrum: Vec<f64>,
    /// The snapshots' scatter of each bin's log.
    pub scatter: Vec<f64>,
    /// The reference's `q` values (coarse-grained snapshots, both layers).
    pub q: Vec<f64>,
}

impl Target {
    /// `sigma(q)` of the reference.
    pub fn sigma(&self) -> f64 {
        (self.q.iter().map(|v| v * v).sum::<f64>() / self.q.len().max(1) as f64).sqrt()
    }
}

/// Runs `model` (a closure already added) from each of `starts` for `steps`, with `policy`
/// driving its coefficient field when given (its mean action, frozen), sampling the spectrum and
/// `q` every `every` steps after `skip` steps; scores against `target`.
#[allow(clippy::too_many_arguments)]
pub fn assess(
    name: &str,
    model: &Model,
    policy: Option<(&Policy, &Agents)>,
    starts: &[Array3<f64>],
    steps: u64,
    skip: u64,
    every: u64,
    bins: &crate::closure::SpectrumBins,
    target: &Target,
) -> Result<Assessment, DiscoveryError> {
    let runs: Vec<_> = starts
        .par_iter()
        .map(|q0| -> Result<Option<AssessedRun>, DiscoveryError> {
            let mut m = model.clone();
            m.set_q(q0.view())?;
            let mut coefficients = Vec::new();
            let mut ctl = match policy {
                Some((p, a)) => {
                    let mut c = Controller::new(p.clone(), a.clone(), &m)?;
                    let d = c.start(&mut m, None)?;
                    coefficients.push(c.coefficients(&d));
                    Some(c)
                }
                None => None,
            };
            let mut samples = SpectrumSamples::default();
            let mut q = Vec::new();
            for s in 0..steps {
                match m.step() {
                    Ok(()) => {}
                    Err(SolverError::Unstable { .. }) => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
                if let Some(c) = ctl.as_mut()
                    && let Some((_, d)) = c.after_step(&mut m, None)?
                {
                    coefficients.push(c.coefficients(&d));
                }
                if s + 1 > skip && (s + 1 - skip).is_multiple_of(every.max(1)) {
                    samples.add(bins, &m.qh_spectra());
                    q.extend(m.q().iter().copied());
                }
            }
            Ok(Some((samples, q, coefficients)))
        })
        .collect::<Result<_, _>>()?;
    let stable = runs.iter().filter(|r| r.is_some()).count();
    let mut samples = SpectrumSamples::default();
    let mut q = Vec::new();
    let mut decisions = Vec::new();
    for (s, v, c) in runs.into_iter().flatten() {
        samples.merge(s);
        q.extend(v);
        decisions.extend(c);
    }
    let sigma_ref = target.sigma();
    let p_ref = pdf(&target.q, sigma_ref);
    let (rmse, misfit, log_spectrum, p, w, sigma_q) = match samples.log_mean() {
        Some(l) if !q.is_empty() => {
            let errors: Vec<f64> = l
                .iter()
                .zip(&target.log_spectrum)
                .map(|(a, b)| a - b)
                .collect();
            let n = errors.len() as f64;
            let rmse = (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
            let misfit = errors
                .iter()
                .zip(&target.scatter)
                .map(|(e, s)| (e / s).powi(2))
                .sum::<f64>()
                / n;
            let scaled: Vec<f64> = q.iter().map(|v| v / sigma_ref).collect();
            let reference: Vec<f64> = target.q.iter().map(|v| v / sigma_ref).collect();
            let sigma = (q.iter().map(|v| v * v).sum::<f64>() / q.len() as f64).sqrt();
            let w = wasserstein1(&scaled, &reference);
            (rmse, misfit, l, pdf(&q, sigma_ref), w, sigma)
        }
        _ => (
            f64::NAN,
            f64::NAN,
            Vec::new(),
            vec![0.0; TAIL_BINS.2],
            f64::NAN,
            f64::NAN,
        ),
    };
    Ok(Assessment {
        name: name.to_string(),
        stable: (stable, starts.len()),
        log_spectrum_rmse: rmse,
        weighted_misfit: misfit,
        log_spectrum,
        tail_distance: tail_distance(&p, &p_ref),
        wasserstein: w,
        sigma_q,
        pdf: p,
        coefficients: CoefficientSpread::of(&decisions),
    })
}

#[cfg(test)]
mod tests {
    use super::CoefficientSpread;

    #[test]
    fn coefficient_spread_in_space_and_time() {
        // Uniform in space, two values in time: ratio 1, the medians' percentiles interpolated.
        let s = CoefficientSpread::of(&[vec![1.0; 4], vec![2.0; 4]]).unwrap();
        assert_eq!(s.decisions, 2);
        assert_eq!(s.spatial_ratio, 1.0);
        assert_eq!(s.median, 1.5);
        for (got, want) in s.median_over_time.iter().zip([1.1, 1.5, 1.9]) {
            assert!((got - want).abs() < 1e-15, "{got} {want}");
        }
        // 1..=11 in any order: the 10th percentile is 2, the 90th 10; two such decisions and
        // one of ratio 20 give the geometric mean (5 * 5 * 20)^(1/3) = 500^(1/3).
        let shuffled: Vec<f64> = [7, 3, 11, 1, 9, 5, 2, 10, 4, 8, 6].map(f64::from).to_vec();
        let wide: Vec<f64> = (0..11).map(|i| if i < 2 { 1.0 } else { 20.0 }).collect();
        let s = CoefficientSpread::of(&[shuffled.clone(), shuffled, wide]).unwrap();
        assert!((s.spatial_ratio - 500f64.cbrt()).abs() < 1e-12, "{s:?}");
        assert_eq!(s.median, 8.0);
        assert_eq!(CoefficientSpread::of(&[]), None);
        assert_eq!(CoefficientSpread::of(&[Vec::new()]), None);
    }
}

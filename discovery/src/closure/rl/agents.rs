//! The agents: a `blocks x blocks` grid per layer, each choosing its block's coefficient of a
//! [`FieldClosure`] (an eddy viscosity's, or the backscatter's returned fraction); what each
//! observes, how their choices become the coefficient field, and the reward they share.
//!
//! Agent `(lev, j, i)` observes (raw, before the policy's normaliser):
//! - the block means of `ln |S|^2` (pyqg's `2 (Sxx^2 + Syy^2 + 2 Sxy^2)`), `ln q^2` and
//!   `ln |grad q|^2` of its layer, and its block's mean `q` over the layer's rms `q`;
//! - the global spectrum error of its layer, `(ln Z(k) - ln Z_ref(k)) / s_k` in each bin, `Z` the
//!   enstrophy spectrum averaged over the last control interval and `s_k` the reference
//!   snapshots' scatter;
//! - its previous action and its layer (0 or 1).
//!
//! The coefficients sit at the blocks' centres and are interpolated bilinearly and periodically
//! onto the grid. The shared reward of an interval is `-mean_k ((ln Z(k) - ln Z_ref(k)) / s_k)^2`
//! over both layers' bins (clipped at -10), or the SMARL study's `1 / sum_k (k (Z - Z_ref))^2`.
//! With [`Tails`], the `scatter` reward also weighs the PDF's tails: `-(mean_k z_k^2 + w mean_t
//! z_t^2)`, `z_t` the error of the interval's mean fraction of points beyond each threshold.

use crate::closure::baseline::FieldClosure;
use crate::closure::rl::policy::Policy;
use crate::closure::rl::tails::Tails;
use crate::closure::spectrum::{SpectrumBins, SpectrumSamples};
use crate::error::DiscoveryError;
use medida_solver::{Expr, Model};
use rand_mt::Mt64;
use serde::{Deserialize, Serialize};

/// Local features per agent.
const LOCAL: usize = 4;

/// The reward of a control interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reward {
    /// `-mean_k z_k^2`, `z_k` the log-spectrum error over the snapshot scatter (clipped at
    /// `-reward_clip`).
    Scatter,
    /// The SMARL study's `1 / sum_k (k (Z - Z_ref))^2` on the bins (k in units of the smallest
    /// wavenumber; clipped at 1e6).
    Study,
}

impl Reward {
    /// `scatter` or `study`.
    pub fn parse(s: &str) -> Result<Self, DiscoveryError> {
        match s {
            "scatter" => Ok(Self::Scatter),
            "study" => Ok(Self::Study),
            _ => Err(DiscoveryError::Closure(format!(
                "reward `{s}`: allowed scatter or study"
            ))),
        }
    }

    /// The reward of a run that blew up with `remaining` decisions left: the worst reward
    /// (`-clip` for `scatter`) for each of them.
    pub fn blow_up(&self, remaining: usize, clip: f64) -> f64 {
        match self {
            Self::Scatter => -clip * remaining as f64,
            Self::Study => 0.0,
        }
    }
}

/// The clip of policies trained before it could be set.
fn default_clip() -> f64 {
    10.0
}

/// The agents' geometry, the reference they are rewarded against and the closure they drive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agents {
    /// The closure whose coefficient field they set.
    pub closure: FieldClosure,
    /// Blocks per side in each layer.
    pub blocks: usize,
    /// Steps between decisions.
    pub interval: u64,
    /// Log-spaced spectrum bins per layer and the fraction of the Nyquist wavenumber they reach.
    pub bins: (usize, f64),
    /// The reference's log mean enstrophy spectrum, upper layer's bins then lower's.
    pub reference: Vec<f64>,
    /// The reference snapshots' scatter (standard deviation) of each bin's log.
    pub scatter: Vec<f64>,
    /// The reward.
    pub reward: Reward,
    /// The worst `scatter` reward of an interval (a misfit of `reward_clip` squared scatters per
    /// bin), also a blown-up run's per decision left; above the misfits the closures reach, so
    /// the reward still ranks them.
    #[serde(default = "default_clip")]
    pub reward_clip: f64,
    /// The PDF tails the `scatter` reward weighs beside the spectrum (none: the spectrum alone,
    /// as policies trained before tails could be weighed).
    #[serde(default)]
    pub tails: Option<Tails>,
    /// Grid points per side of the model they were trained on.
    pub nx: usize,
}

impl Agents {
    /// Number of agents (both layers).
    pub fn count(&self) -> usize {
        2 * self.blocks * self.blocks
    }

    /// Features per agent.
    pub fn features(&self) -> usize {
        LOCAL + self.bins.0 + 2
    }

    /// The spectrum bins on `model`'s grid; an error if the model is not the one the agents
    /// were made for.
    pub fn spectrum_bins(&self, model: &Model) -> Result<SpectrumBins, DiscoveryError> {
        let g = model.grid();
        if g.nx != self.nx || g.ny != self.nx {
            return Err(DiscoveryError::Closure(format!(
                "the policy was trained on {n} x {n} points; the model has {} x {}",
                g.nx,
                g.ny,
                n = self.nx
            )));
        }
        if !g.nx.is_multiple_of(self.blocks) {
            return Err(DiscoveryError::Closure(format!(
                "blocks = {}: allowed a divisor of nx = {}",
                self.blocks, g.nx
            )));
        }
        SpectrumBins::new(g, self.bins.0, self.bins.1)
    }

    /// Every agent's raw observation (upper layer's blocks row by row, then the lower's), from
    /// the model's state, the interval's mean spectrum `interval` (bins of both layers) and the
    /// previous actions.
    pub fn observe(
        &self,
        model: &Model,
        interval: &[f64],
        previous: &[f64],
    ) -> Result<Vec<Vec<f64>>, DiscoveryError> {
        let g = model.grid();
        let (nx, ny, b) = (g.nx, g.ny, self.blocks);
        let (bx, by) = (nx / b, ny / b);
        let nb = self.bins.0;
        let mut eval = model.evaluator();
        let state = model.spectral_state();
        let mut out = Vec::with_capacity(self.count());
        for lev in 0..2 {
            let n = lev + 1;
            let exprs = [
                format!(
                    "2*(dx(u{n})*dx(u{n}) + dy(v{n})*dy(v{n}) + 2*(0.5*(dy(u{n}) + dx(v{n})))*(0.5*(dy(u{n}) + dx(v{n}))))"
                ),
                format!("q{n}*q{n}"),
                format!("dx(q{n})*dx(q{n}) + dy(q{n})*dy(q{n})"),
                format!("q{n}"),
            ];
            let exprs: Vec<Expr> = exprs
                .iter()
                .map(|e| Expr::parse(e))
                .collect::<Result<_, _>>()?;
            let refs: Vec<&Expr> = exprs.iter().collect();
            let fields = eval.fields(&refs, &state)?;
            let rms_q = (fields[1].iter().sum::<f64>() / fields[1].len() as f64).sqrt();
            let error: Vec<f64> = (0..nb)
                .map(|k| {
                    let i = lev * nb + k;
                    ((interval[i] + 1e-300).ln() - self.reference[i]) / self.scatter[i]
                })
                .collect();
            for j in 0..b {
                for i in 0..b {
                    let mean = |f: &[f64]| {
                        let mut s = 0.0;
                        for y in j * by..(j + 1) * by {
                            s += f[y * nx + i * bx..y * nx + (i + 1) * bx]
                                .iter()
                                .sum::<f64>();
                        }
                        s / (bx * by) as f64
                    };
                    let mut o = vec![
                        (mean(&fields[0]) + 1e-300).ln(),
                        (mean(&fields[1]) + 1e-300).ln(),
                        (mean(&fields[2]) + 1e-300).ln(),
                        mean(&fields[3]) / (rms_q + 1e-300),
                    ];
                    o.extend(&error);
                    o.push(previous[out.len()]);
                    o.push(lev as f64);
                    out.push(o);
                }
            }
        }
        Ok(out)
    }

    /// Sets the model's coefficient fields from the agents' coefficients `c` (order of
    /// [`Agents::observe`]): each layer's block values interpolated bilinearly, periodically.
    pub fn apply(&self, model: &mut Model, c: &[f64]) -> Result<(), DiscoveryError> {
        let (nx, ny) = (model.grid().nx, model.grid().ny);
        let b = self.blocks;
        // Position in block units of grid index `i` of `n`: block centres at integers.
        let weights = |i: usize, n: usize| {
            let x = (i as f64 + 0.5) * b as f64 / n as f64 - 0.5;
            let f = x.floor();
            let i0 = (f as isize).rem_euclid(b as isize) as usize;
            (i0, (i0 + 1) % b, x - f)
        };
        for lev in 0..2 {
            let block = &c[lev * b * b..(lev + 1) * b * b];
            let mut field = vec![0.0; nx * ny];
            for y in 0..ny {
                let (j0, j1, wy) = weights(y, ny);
                for x in 0..nx {
                    let (i0, i1, wx) = weights(x, nx);
                    field[y * nx + x] = (1.0 - wy)
                        * ((1.0 - wx) * block[j0 * b + i0] + wx * block[j0 * b + i1])
                        + wy * ((1.0 - wx) * block[j1 * b + i0] + wx * block[j1 * b + i1]);
                }
            }
            model.set_coefficient_field(lev, Some(field))?;
        }
        Ok(())
    }

    /// Values recorded per step: the spectrum bins of both layers, then the tail fractions.
    pub fn recorded(&self) -> usize {
        self.reference.len() + self.tails.as_ref().map_or(0, Tails::len)
    }

    /// The reward of an interval whose mean record ([`Agents::recorded`]: the spectrum bins of
    /// both layers, then the tail fractions) is `interval`.
    pub fn reward(&self, interval: &[f64], centres: &[f64]) -> f64 {
        let (interval, fractions) = interval.split_at(self.reference.len());
        match self.reward {
            Reward::Scatter => {
                let z2: f64 = interval
                    .iter()
                    .zip(&self.reference)
                    .zip(&self.scatter)
                    .map(|((z, r), s)| ((z.ln() - r) / s).powi(2))
                    .sum();
                let tails = self
                    .tails
                    .as_ref()
                    .map_or(0.0, |t| t.weight * t.misfit(fractions));
                (-z2 / interval.len() as f64 - tails).max(-self.reward_clip)
            }
            Reward::Study => {
                let k0 = centres[0];
                let e: f64 = interval
                    .iter()
                    .zip(&self.reference)
                    .enumerate()
                    .map(|(i, (z, r))| {
                        let k = centres[i % centres.len()] / k0;
                        (k * (z - r.exp())).powi(2)
                    })
                    .sum();
                (1.0 / e).min(1e6)
            }
        }
    }
}

/// One decision of all agents: raw and normalised observations, pre-squash actions, their joint
/// log-probability and the agents' values.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Normalised observations.
    pub obs: Vec<Vec<f64>>,
    /// Raw observations.
    pub raw: Vec<Vec<f64>>,
    /// Pre-squash actions.
    pub u: Vec<f64>,
    /// Joint log-probability.
    pub logp: f64,
    /// Values.
    pub value: Vec<f64>,
}

/// What a checkpoint holds of a [`Controller`] to continue it exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerState {
    /// The last decision's pre-squash actions, one per agent.
    pub previous: Vec<f64>,
    /// The spectra recorded since (one row per step, both layers' bins).
    pub samples: Vec<Vec<f64>>,
}

/// A policy driving a model's coefficient field: call [`Controller::start`] once, then
/// [`Controller::after_step`] after every step; every `interval` steps the agents decide.
#[derive(Debug, Clone)]
pub struct Controller {
    /// The policy.
    pub policy: Policy,
    /// The agents.
    pub agents: Agents,
    bins: SpectrumBins,
    samples: SpectrumSamples,
    previous: Vec<f64>,
}

impl Controller {
    /// A controller of `policy` and `agents` for `model` (an error if the model's grid is not the
    /// policy's).
    pub fn new(policy: Policy, agents: Agents, model: &Model) -> Result<Self, DiscoveryError> {
        let bins = agents.spectrum_bins(model)?;
        let u0 = policy
            .range
            .action(policy.range.c_min.sqrt() * policy.range.c_max.sqrt());
        Ok(Self {
            previous: vec![u0; agents.count()],
            policy,
            agents,
            bins,
            samples: SpectrumSamples::default(),
        })
    }

    /// What a checkpoint must hold to continue this controller ([`Controller::resume`]).
    pub fn state(&self) -> ControllerState {
        ControllerState {
            previous: self.previous.clone(),
            samples: self.samples.rows().to_vec(),
        }
    }

    /// Continues from `state` (taken of this policy on this model's grid) instead of
    /// [`Controller::start`]: the last decision's coefficient field is set on `model` again, so
    /// the run goes on as if never stopped. An error names what does not fit.
    pub fn resume(
        &mut self,
        model: &mut Model,
        state: ControllerState,
    ) -> Result<(), DiscoveryError> {
        let bad = |what: &str| {
            DiscoveryError::Closure(format!("the policy's saved {what} do not fit this policy"))
        };
        if state.previous.len() != self.agents.count()
            || !state.previous.iter().all(|u| u.is_finite())
        {
            return Err(bad("actions"));
        }
        let width = self.agents.recorded();
        if !state
            .samples
            .iter()
            .all(|r| r.len() == width && r.iter().all(|v| v.is_finite() && *v >= 0.0))
        {
            return Err(bad("spectra"));
        }
        self.agents
            .apply(model, &self.policy.range.coefficients(&state.previous))?;
        self.previous = state.previous;
        self.samples = SpectrumSamples::from_rows(state.samples);
        Ok(())
    }

    /// The blocks' coefficients of a decision.
    pub fn coefficients(&self, d: &Decision) -> Vec<f64> {
        self.policy.range.coefficients(&d.u)
    }

    /// The spectrum bins' centres.
    pub fn centres(&self) -> Vec<f64> {
        self.bins.centres()
    }

    /// The first decision, from the instantaneous spectrum.
    pub fn start(
        &mut self,
        model: &mut Model,
        rng: Option<&mut Mt64>,
    ) -> Result<Decision, DiscoveryError> {
        self.samples = SpectrumSamples::default();
        self.record(model);
        self.decide(model, rng)
    }

    /// Records the state after a step; when a decision is due (the model's step count a multiple
    /// of the interval) returns the interval's reward and the new decision.
    pub fn after_step(
        &mut self,
        model: &mut Model,
        rng: Option<&mut Mt64>,
    ) -> Result<Option<(f64, Decision)>, DiscoveryError> {
        self.record(model);
        if !model.tc().is_multiple_of(self.agents.interval.max(1)) {
            return Ok(None);
        }
        let reward = self.agents.reward(&self.interval_mean(), &self.centres());
        Ok(Some((reward, self.decide(model, rng)?)))
    }

    fn record(&mut self, model: &Model) {
        let mut row = self.bins.of_layers(&model.qh_spectra());
        if let Some(t) = &self.agents.tails {
            row.extend(t.fractions(model.q().view()));
        }
        self.samples.push(row);
    }

    /// The mean record since the last decision (a bin may be 0: pyqg's initial state has no
    /// lower-layer PV).
    fn interval_mean(&self) -> Vec<f64> {
        self.samples
            .mean()
            .expect("a state is recorded before every decision")
    }

    fn decide(
        &mut self,
        model: &mut Model,
        rng: Option<&mut Mt64>,
    ) -> Result<Decision, DiscoveryError> {
        let mean = self.interval_mean();
        self.samples = SpectrumSamples::default();
        let raw = self.agents.observe(model, &mean, &self.previous)?;
        let obs: Vec<Vec<f64>> = raw
            .iter()
            .map(|r| self.policy.normalizer.apply(r))
            .collect();
        let (u, logp, value) = self.policy.act(&obs, rng);
        let d = Decision {
            obs,
            raw,
            u,
            logp,
            value,
        };
        self.agents.apply(model, &self.coefficients(&d))?;
        self.previous = d.u.clone();
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::{Agents, FieldClosure, Reward, Tails};
    use ndarray::Array3;

    /// Smagorinsky agents rewarded by `scatter` against a reference of 0 in 2 bins per layer.
    fn agents(scatter: Vec<f64>, reward_clip: f64) -> Agents {
        Agents {
            closure: FieldClosure::Smagorinsky,
            blocks: 4,
            interval: 10,
            bins: (2, 0.65),
            reference: vec![0.0; 4],
            scatter,
            reward: Reward::Scatter,
            reward_clip,
            tails: None,
            nx: 16,
        }
    }

    #[test]
    fn the_scatter_reward_is_the_weighted_misfit_clipped() {
        let mut a = agents(vec![0.5, 1.0, 2.0, 1.0], 10.0);
        let centres = [1.0, 2.0];
        // ln Z - ln Z_ref = 1 in every bin: z = 2, 1, 0.5, 1, mean z^2 = 6.25 / 4.
        let e1 = vec![1f64.exp(); 4];
        assert!((a.reward(&e1, &centres) + 6.25 / 4.0).abs() < 1e-12);
        // ln Z - ln Z_ref = 4: mean z^2 = 25 clipped at 10, unless the clip is above it.
        let e4 = vec![4f64.exp(); 4];
        assert_eq!(a.reward(&e4, &centres), -10.0);
        a.reward_clip = 100.0;
        assert!((a.reward(&e4, &centres) + 25.0).abs() < 1e-12);
        assert_eq!(a.reward.blow_up(3, a.reward_clip), -300.0);
    }

    #[test]
    fn the_tails_add_their_weighted_misfit_and_old_agents_read_without_them() {
        let states = [
            Array3::from_shape_fn((2, 2, 2), |(_, j, i)| [0.0, 0.0, 1.0, -3.0][2 * j + i]),
            Array3::from_shape_fn((2, 2, 2), |(_, j, i)| [0.0, 1.0, -1.0, 2.0][2 * j + i]),
        ];
        let tails = Tails::new(&states, &[2.0], 0.5).unwrap();
        let mut a = agents(vec![1.0; 4], 100.0);
        // An old policy's agents, without `tails`, read as the spectrum alone.
        let old = serde_json::to_value(&a).unwrap();
        let mut old = old.as_object().unwrap().clone();
        assert!(old.remove("tails").is_some());
        let read: Agents = serde_json::from_value(old.into()).unwrap();
        assert_eq!(read, a);
        assert_eq!(a.recorded(), 4);
        // The spectrum one scatter off in every bin (misfit 1), the tail fractions two scatters
        // off (misfit 4, weighed 0.5): -(1 + 2).
        a.tails = Some(tails.clone());
        assert_eq!(a.recorded(), 6);
        let mut record = vec![1f64.exp(); 4];
        record.extend(
            (tails.reference.iter().zip(&tails.scatter))
                .map(|(r, s)| (r - 2.0 * s).exp() - tails.floor),
        );
        assert!((a.reward(&record, &[1.0, 2.0]) + 3.0).abs() < 1e-12);
        // At the reference's tails only the spectrum's misfit is left.
        let at: Vec<f64> = (tails.reference.iter())
            .map(|r| r.exp() - tails.floor)
            .collect();
        record.splice(4.., at);
        assert!((a.reward(&record, &[1.0, 2.0]) + 1.0).abs() < 1e-12);
    }
}

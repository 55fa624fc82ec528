//! A closure with a space- and time-varying coefficient learned by multi-agent reinforcement
//! learning from the enstrophy spectrum alone (the SMARL study's route, `smarl.md` section 7.2,
//! without its released code's defects): agents on a grid of blocks in each layer set their
//! block's coefficient every few steps ([`agents`]: an eddy viscosity's, or the backscatter's
//! returned fraction `cb`), one shared Gaussian policy on a small network ([`policy`], [`mlp`])
//! trained by PPO ([`ppo`]) on episodes from randomly drawn coarse-grained reference states
//! ([`train`]), rewarded by the log-spectrum error weighted by the reference snapshots' scatter
//! (and optionally by the PDF's tails, [`tails`]).
//! The coefficient is `exp` of a squashed action, so never negative: an eddy viscosity cannot
//! turn anti-diffusive, nor the backscatter take energy from the large scales.
//!
//! A trained policy is saved as a [`PolicyFile`] and drives a model's coefficient field through
//! a [`Controller`] (its mean action: frozen, deterministic).

pub mod agents;
pub mod mlp;
pub mod policy;
pub mod ppo;
pub mod tails;
pub mod train;

pub use agents::{Agents, Controller, ControllerState, Reward};
pub use policy::{ActionRange, Policy};
pub use tails::Tails;
pub use train::{
    Assessment, CoefficientSpread, Environment, RlSettings, Target, UpdateLog, assess,
};

use crate::error::DiscoveryError;
use serde::{Deserialize, Serialize};

/// What `medida closure train-rl` writes: the policy, its agents and how it was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyFile {
    /// Always [`PolicyFile::KIND`]: how a closure file is told apart.
    pub kind: String,
    /// The agents (closure, blocks, interval, reference spectrum, reward).
    pub agents: Agents,
    /// The shared policy.
    pub policy: Policy,
    /// The training settings.
    pub settings: RlSettings,
    /// Steps per training episode.
    pub episode_steps: u64,
    /// The reference it was trained against (a dataset folder or a run file).
    pub reference: String,
    /// Each update's episodes and learner statistics.
    pub training: Vec<UpdateLog>,
    /// The frozen policy and constant closures on held-out starts.
    pub assessment: Vec<Assessment>,
    /// The spectrum bins' centres (one layer's).
    pub kr: Vec<f64>,
    /// The reference's density of `q / sigma_ref` in [`train::TAIL_BINS`].
    pub target_pdf: Vec<f64>,
}

impl PolicyFile {
    /// The `kind` of a policy file.
    pub const KIND: &'static str = "medida closure train-rl policy";

    /// Reads a policy file's JSON text; an error naming what is wrong.
    pub fn from_json(text: &str) -> Result<Self, DiscoveryError> {
        let f: Self = serde_json::from_str(text)
            .map_err(|e| DiscoveryError::Closure(format!("not a train-rl policy: {e}")))?;
        if f.kind != Self::KIND {
            return Err(DiscoveryError::Closure(format!(
                "kind `{}`: not a train-rl policy",
                f.kind
            )));
        }
        Ok(f)
    }
}

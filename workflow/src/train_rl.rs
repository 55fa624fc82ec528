//! `medida closure train-rl`: a closure's coefficient field (an eddy viscosity's, or the
//! backscatter's returned fraction) learned by multi-agent reinforcement learning from the enstrophy spectrum alone
//! ([`medida_discovery::closure::rl`]), then the frozen policy assessed on held-out starts
//! against constant closures.
//!
//! The reference is read as `closure calibrate` reads it (`--data` or `--target --lr`); every
//! reference snapshot, coarse-grained, is a state an episode can start from: the first ones
//! train, the last `--held-out` fraction are kept for the assessment. The reference spectrum and
//! its scatter come from all of them, the PDF from all of them on the coarse grid.

use crate::calibrate::reference::{ReferenceArgs, read_reference, source, steps};
use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use crate::model::build_model;
use crate::progress::Progress;
use medida_discovery::closure::baseline::constants;
use medida_discovery::closure::rl::ppo::PpoSettings;
use medida_discovery::closure::rl::train::pdf;
use medida_discovery::closure::rl::{
    ActionRange, Agents, Assessment, Environment, PolicyFile, Reward, RlSettings, Tails, Target,
    assess,
};
use medida_discovery::closure::{Baseline, FieldClosure, SpectrumBins};
use std::path::PathBuf;

type Result<T> = std::result::Result<T, Error>;

/// What `medida closure train-rl` was asked to do.
#[derive(clap::Args, Clone, Debug)]
pub struct ClosureTrainRlArgs {
    /// The reference snapshots.
    #[command(flatten)]
    pub reference: ReferenceArgs,
    /// The closure whose coefficient the agents set: an eddy viscosity, `smagorinsky` (c =
    /// cs^2), `smagorinsky-mean` (the SMARL study's, c = cs^2) or `leith` (c = cl^3); or
    /// `backscatter[:cs=VALUE]` (pyqg's BackscatterBiharmonic, its dissipation's cs fixed,
    /// default 0.0837, and c = cb, the local fraction of the dissipated energy returned: give
    /// `--range` accordingly, e.g. `0.05,1.5`).
    #[arg(long, default_value = "smagorinsky")]
    pub closure: String,
    /// Smallest and largest coefficient an agent can choose.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1e-4,0.03",
        value_name = "MIN,MAX"
    )]
    pub range: Vec<f64>,
    /// The coefficient the policy starts from everywhere: a constant (`cs=0.103` for
    /// smagorinsky, `cl=0.22` for leith, `cb=0.8` for backscatter: a calibrated one, which
    /// training then refines) or a coefficient `c=...` (default: the range's geometric middle).
    #[arg(long)]
    pub initial: Option<String>,
    /// Agents per side in each layer.
    #[arg(long, default_value_t = 4)]
    pub blocks: usize,
    /// Steps between the agents' decisions (each decision's spectrum is averaged over them; 1000
    /// steps are 0.5 time units of the 2-D turbulence preset, a few grid-scale turnover times).
    #[arg(long, default_value_t = 1000)]
    pub interval: u64,
    /// Length of a training episode in model time (as `closure calibrate --window`: a number in
    /// the model's units, or `y`/`d`/`h` for pyqg's SI runs).
    #[arg(long, default_value = "5", allow_hyphen_values = true)]
    pub episode: String,
    /// Training episodes.
    #[arg(long, default_value_t = 1200)]
    pub episodes: usize,
    /// Episodes per PPO update (run in parallel).
    #[arg(long, default_value_t = 16)]
    pub per_update: usize,
    /// The reward: `scatter` (the log-spectrum error over the snapshots' scatter) or `study`
    /// (the SMARL study's inverse k-weighted spectrum error).
    #[arg(long, default_value = "scatter")]
    pub reward: String,
    /// The worst `scatter` reward of an interval, and a blown-up run's per decision left: keep
    /// it above the misfits the closures reach (`closure calibrate` prints them), or the
    /// reward cannot rank them.
    #[arg(long, default_value_t = 10.0)]
    pub reward_clip: f64,
    /// Weight of the PDF's tails in the `scatter` reward beside the spectrum (0: the spectrum
    /// alone): the interval's misfit becomes `mean_k z_k^2 + W mean_t z_t^2`, `z_t` the log error
    /// of the fraction of each layer's points beyond each of `--tail-thresholds`, over the
    /// reference snapshots' scatter.
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "W",
        allow_negative_numbers = true
    )]
    pub tail_weight: f64,
    /// The tails' thresholds, in units of each layer's reference `sigma(q)` (`|q| > t sigma`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "3,4.5",
        value_name = "T,..."
    )]
    pub tail_thresholds: Vec<f64>,
    /// Log-spaced spectrum bins per layer (observation and reward).
    #[arg(long, default_value_t = 8)]
    pub bins: usize,
    /// Width of the networks' two hidden layers.
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Adam's learning rate at the first update (falling linearly to 0 at the last).
    #[arg(long, default_value_t = 3e-3)]
    pub lr_adam: f64,
    /// PPO epochs per update.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Seed of the networks, the starts drawn and the exploration.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of the reference states kept out of training for the assessment.
    #[arg(long, default_value_t = 0.3)]
    pub held_out: f64,
    /// Length of each assessment run (model time; default ten episodes).
    #[arg(long, allow_hyphen_values = true)]
    pub assess: Option<String>,
    /// Held-out starts assessed (at most the held-out states).
    #[arg(long, default_value_t = 4)]
    pub assess_starts: usize,
    /// A constant closure to assess the policy against (`smagorinsky:cs=0.103`, the calibrated
    /// one). Repeatable; `none` is always assessed.
    #[arg(long)]
    pub against: Vec<String>,
    /// Override a setting of the coarse runs (`model.dt=7200`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The policy (JSON, with the training log and the assessment); an existing file is not
    /// overwritten.
    #[arg(long, default_value = "policy.json")]
    pub out: PathBuf,
    /// Threads: episodes and assessment runs in parallel.
    #[arg(long, default_value_t = 2, value_parser = crate::parse_threads)]
    pub threads: usize,
}

/// Checks what can be checked before reading anything.
fn check(a: &ClosureTrainRlArgs) -> Result<(FieldClosure, ActionRange, Reward, f64)> {
    if a.out.exists() {
        return input_err!(
            "--out {}: exists; train-rl does not overwrite a policy (remove it or choose another name)",
            a.out.display()
        );
    }
    let closure = FieldClosure::parse(&a.closure).map_err(input("--closure"))?;
    let [c_min, c_max] = a.range[..] else {
        return input_err!("--range: allowed two numbers MIN,MAX");
    };
    let range = ActionRange::new(c_min, c_max).map_err(input("--range"))?;
    let reward = Reward::parse(&a.reward).map_err(input("--reward"))?;
    for (flag, v, min) in [
        ("--blocks", a.blocks, 1),
        ("--episodes", a.episodes, 1),
        ("--per-update", a.per_update, 1),
        ("--bins", a.bins, 2),
        ("--hidden", a.hidden, 1),
        ("--epochs", a.epochs, 1),
        ("--assess-starts", a.assess_starts, 1),
        ("--threads", a.threads, 1),
    ] {
        if v < min {
            return input_err!("{flag} {v}: allowed {min} or more");
        }
    }
    if a.interval == 0 {
        return input_err!("--interval 0: allowed 1 or more steps");
    }
    if !(a.held_out > 0.0 && a.held_out < 1.0) {
        return input_err!("--held-out {}: allowed a fraction in (0, 1)", a.held_out);
    }
    if !(a.reward_clip.is_finite() && a.reward_clip > 0.0) {
        return input_err!("--reward-clip {}: allowed a number > 0", a.reward_clip);
    }
    if !(a.tail_weight.is_finite() && a.tail_weight >= 0.0) {
        return input_err!("--tail-weight {}: allowed a number >= 0", a.tail_weight);
    }
    if a.tail_weight > 0.0 && reward != Reward::Scatter {
        return input_err!(
            "--tail-weight {}: the tails are weighed by the scatter reward only (not with --reward {})",
            a.tail_weight,
            a.reward
        );
    }
    if a.tail_thresholds.is_empty() || !a.tail_thresholds.iter().all(|t| t.is_finite() && *t > 0.0)
    {
        return input_err!(
            "--tail-thresholds {:?}: allowed numbers > 0 (units of sigma(q))",
            a.tail_thresholds
        );
    }
    if !(a.lr_adam.is_finite() && a.lr_adam > 0.0) {
        return input_err!("--lr-adam {}: allowed a number > 0", a.lr_adam);
    }
    for s in &a.against {
        Baseline::parse(s).map_err(input("--against"))?;
    }
    let initial = match a.initial.as_deref() {
        None => (c_min * c_max).sqrt(),
        Some(text) => {
            let name = closure.constant();
            let pairs = constants(text).map_err(|e| Error::Input(format!("--initial {e}")))?;
            match pairs[..] {
                [("c", c)] => c,
                [(k, v)] if k == name => closure.coefficient_of(v),
                _ => {
                    return input_err!(
                        "--initial {text}: allowed {name}=VALUE or c=VALUE (the {} coefficient)",
                        closure.name()
                    );
                }
            }
        }
    };
    if !(c_min..=c_max).contains(&initial) {
        return input_err!(
            "--initial: coefficient {initial:e} outside --range [{c_min:e}, {c_max:e}]"
        );
    }
    Ok((closure, range, reward, initial))
}

/// Trains a policy, assesses it and writes it.
pub fn closure_train_rl(a: &ClosureTrainRlArgs, progress: &mut dyn Progress) -> Result<PolicyFile> {
    let (closure, range, reward, initial) = check(a)?;
    let (src, _) = source(&a.reference)?;
    let mut cfg = RunConfig::resolve_text(&src.cfg.to_toml(), None, &a.set)?;
    cfg.run.threads = 1;
    cfg.closure = None;
    cfg.validate()?;
    let episode_steps = steps(&a.episode, &cfg, "--episode", a.interval)?;
    let assess_steps = match &a.assess {
        Some(t) => steps(t, &cfg, "--assess", a.interval)?,
        None => 10 * episode_steps,
    };
    let bare = build_model(&cfg)?;
    let (nx, ny) = (bare.grid().nx, bare.grid().ny);
    if nx != ny || !nx.is_multiple_of(a.blocks) {
        return input_err!(
            "--blocks {}: allowed a divisor of the coarse grid's {nx} x {ny}",
            a.blocks
        );
    }
    let bins = SpectrumBins::new(bare.grid(), a.bins, 0.65).map_err(input("--bins"))?;
    let (samples, states) = read_reference(&src, &bins, &bare, usize::MAX, 1.0)?;
    let (Some(log_mean), Some(var)) = (samples.log_mean(), samples.log_variance()) else {
        return input_err!("{}: fewer than 2 reference snapshots", src.name);
    };
    let held = ((states.len() as f64 * a.held_out).round() as usize).max(1);
    if states.len() < held + 1 {
        return input_err!(
            "{}: {} reference states; training and --held-out {} need at least 2",
            src.name,
            states.len(),
            a.held_out
        );
    }
    let (train_starts, held_starts) = states.split_at(states.len() - held);
    let agents = Agents {
        closure,
        blocks: a.blocks,
        interval: a.interval,
        bins: (a.bins, 0.65),
        reference: log_mean.clone(),
        scatter: var.iter().map(|v| v.sqrt().max(1e-3)).collect(),
        reward,
        reward_clip: a.reward_clip,
        tails: (a.tail_weight > 0.0)
            .then(|| Tails::new(&states, &a.tail_thresholds, a.tail_weight))
            .transpose()
            .map_err(input("--tail-thresholds"))?,
        nx,
    };
    let mut model = bare.clone();
    for t in closure.terms(model.params()) {
        model.add_term(t)?;
    }
    let env = Environment {
        model: model.clone(),
        agents: agents.clone(),
        starts: train_starts.to_vec(),
        episode_steps,
    };
    let settings = RlSettings {
        episodes: a.episodes,
        per_update: a.per_update,
        hidden: a.hidden,
        range,
        initial,
        seed: a.seed,
        ppo: PpoSettings {
            lr: a.lr_adam,
            epochs: a.epochs,
            ..Default::default()
        },
    };
    progress.note(&format!(
        "reference: {} snapshots of {} ({} train, {} held out); {} agents, {} episodes of {episode_steps} steps, a decision every {} steps",
        samples.len(),
        src.name,
        train_starts.len(),
        held_starts.len(),
        agents.count(),
        a.episodes,
        a.interval
    ));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(|e| Error::Input(format!("--threads {}: {e}", a.threads)))?;
    pool.install(|| {
        let mut done = 0;
        let (policy, training) = env.train(&settings, |u| {
            done += u.episodes.len();
            let n = u.episodes.len() as f64;
            let mean = u.episodes.iter().map(|e| e.mean_reward).sum::<f64>() / n;
            let blew = u.episodes.iter().filter(|e| e.blew_up).count();
            let c: Vec<String> = u.episodes.iter().map(|e| format!("{:.2e}", e.median_c)).collect();
            progress.note(&format!(
                "episodes {done}/{}: mean reward {mean:.4}, {blew} blew up, median c {}, exploration sd {:.3} own, {:.3} common",
                a.episodes,
                c.join(" "),
                u.stats.std[0],
                u.stats.std[1]
            ));
        })?;
        // The assessment: the frozen policy against constant closures from held-out starts.
        let starts = &held_starts[..a.assess_starts.min(held_starts.len())];
        let target = Target {
            log_spectrum: log_mean.clone(),
            scatter: agents.scatter.clone(),
            q: states.iter().flat_map(|s| s.iter().copied()).collect(),
        };
        let every = a.interval;
        let skip = assess_steps / 10;
        let mut assessment: Vec<Assessment> = Vec::new();
        let mut note = |x: &Assessment| {
            progress.note(&format!(
                "{:<32} stable {}/{}, log-spectrum RMSE {:.4}, weighted misfit {:.3}, PDF-tail distance {:.3}, W1 {:.4}, sigma(q) {:.4e}",
                x.name, x.stable.0, x.stable.1, x.log_spectrum_rmse, x.weighted_misfit, x.tail_distance, x.wasserstein, x.sigma_q
            ));
            if let Some(c) = &x.coefficients {
                progress.note(&format!(
                    "{:<32} coefficient over {} decisions: median {:.3e}; across blocks 90th/10th percentile {:.2}x; the blocks' median over time {:.3e}..{:.3e} (10th..90th percentile)",
                    "", c.decisions, c.median, c.spatial_ratio, c.median_over_time[0], c.median_over_time[2]
                ));
            }
        };
        let run = |name: &str, m: &medida_solver::Model, with_policy: bool| {
            assess(
                name,
                m,
                with_policy.then_some((&policy, &agents)),
                starts,
                assess_steps,
                skip,
                every,
                &bins,
                &target,
            )
        };
        let x = run("policy", &model, true)?;
        note(&x);
        assessment.push(x);
        let x = run("none", &bare, false)?;
        note(&x);
        assessment.push(x);
        for spec in &a.against {
            let mut m = bare.clone();
            for t in Baseline::parse(spec).map_err(input("--against"))?.terms(m.params()) {
                m.add_term(t)?;
            }
            let x = run(spec, &m, false)?;
            note(&x);
            assessment.push(x);
        }
        let file = PolicyFile {
            kind: PolicyFile::KIND.to_string(),
            agents: agents.clone(),
            policy,
            settings: settings.clone(),
            episode_steps,
            training,
            assessment,
            reference: src.name.clone(),
            kr: bins.centres(),
            target_pdf: pdf(&target.q, target.sigma()),
        };
        let text = serde_json::to_string_pretty(&file).expect("a policy serialises");
        crate::write_atomic(&a.out, text.as_bytes())?;
        Ok(file)
    })
}

//! `medida closure evaluate`: closures tested online, as Ross et al. (2023) test them. For each
//! closure, N coarse runs of the dataset's configuration with the closure, N without (the
//! baseline, shared by every closure), and the dataset's high-resolution runs as the target; the
//! 18 similarity scores ([`medida_discovery::closure::similarity`]) of each closure, their mean and
//! minimum, and the spread of the mean over single runs.
//!
//! Each coarse run is a medida run file (`OUT/<closure>/runN.h5`, with its checkpoint, pyqg's
//! time averages over the second half of the run and a snapshot every 1000 hours), so a second
//! evaluation reuses finished runs and continues interrupted ones. A run whose model blows up is
//! a result, recorded beside it (`runN.unstable.json`: the step and time), not a lost evaluation.

use crate::closure::{Manifest, YEAR, closure_config, complete, lr_model, read_manifest, run_path};
use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use crate::kept::{Kept, written};
use crate::model::build_model;
use crate::progress::{Progress, Silent};
use crate::schema::run_schema;
use crate::simulate::{Run, checkpoint_path, execute, resume};
use medida_data::{Frames, read_array};
use medida_discovery::closure::similarity::{Ensemble, METRICS, Scores18, similarities};
use medida_solver::SolverError;
use ndarray::{Array3, ArrayD};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

type Result<T> = std::result::Result<T, Error>;

/// What `medida closure evaluate` was asked to do.
#[derive(clap::Args, Clone, Debug)]
pub struct ClosureEvaluateArgs {
    /// A dataset written by `medida closure data`: its high-resolution runs are the target.
    #[arg(long)]
    pub data: PathBuf,
    /// A closure to evaluate: a built-in (`medida closure list`) or a `medida closure discover`
    /// result (FILE.json). Repeatable; the unparameterized baseline always runs.
    #[arg(long = "closure", value_name = "SPEC|FILE.json")]
    pub closures: Vec<String>,
    /// The dataset's configuration, eddy or jet (checked against the dataset).
    #[arg(long)]
    pub config: Option<String>,
    /// Coarse runs per closure.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Seed of the first coarse run's random initial state (run N: seed + N).
    #[arg(long, default_value_t = 1000)]
    pub seed: u32,
    /// Length of each coarse run in years of 360 days (default: the dataset's); time averages
    /// over its second half.
    #[arg(long)]
    pub years: Option<f64>,
    /// Snapshots pooled by the distributional scores: the last ones of each run (Ross: 10).
    #[arg(long, default_value_t = 10)]
    pub last: usize,
    /// Override a setting of the coarse runs (`model.dt=7200`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output folder: a folder of runs per closure, and `scores.json`.
    #[arg(long, default_value = "closure-eval")]
    pub out: PathBuf,
    /// Threads: runs go in parallel, one per thread.
    #[arg(long, default_value_t = 2, value_parser = crate::parse_threads)]
    pub threads: usize,
}

/// How one coarse run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// The run's file.
    pub file: String,
    /// `None`: complete; else the model blew up (`step`, `time` [s]) and why.
    pub unstable: Option<Unstable>,
}

/// Where a model blew up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unstable {
    /// The step count at the start of the failing step.
    pub step: u64,
    /// Model time at its start [s].
    pub time: f64,
    /// What went wrong.
    pub reason: String,
}

/// What the figures draw of an ensemble: its isotropic spectra below the coarse grid's cutoff
/// and the densities of the distributed quantities (in [`METRICS`]' order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// Wavenumbers of the spectra [1/m].
    pub kr: Vec<f64>,
    /// The 8 spectra of the spectral scores, averaged over runs.
    pub spectra: Vec<Vec<f64>>,
    /// Bin edges per distributed quantity (the target's range).
    pub edges: Vec<Vec<f64>>,
    /// Probability density per bin.
    pub density: Vec<Vec<f64>>,
}

impl Curves {
    /// `e`'s curves on `n` wavenumbers and the bins `edges`.
    fn of(e: &Ensemble, n: usize, edges: &[Vec<f64>]) -> Self {
        let (kr, spectra) = e.isotropic();
        Self {
            kr: kr[..n.min(kr.len())].to_vec(),
            spectra: spectra
                .iter()
                .map(|s| s[..n.min(s.len())].to_vec())
                .collect(),
            edges: edges.to_vec(),
            density: edges
                .iter()
                .enumerate()
                .map(|(k, ed)| e.histogram(k, ed))
                .collect(),
        }
    }
}

/// One closure's online result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosureScores {
    /// The closure as given (`none` for the baseline).
    pub closure: String,
    /// The folder of its runs.
    pub folder: String,
    /// Each run's outcome.
    pub runs: Vec<RunStatus>,
    /// The 18 scores over all runs (absent when a run blew up).
    pub scores: Option<Scores18>,
    /// The mean of the 18 scores of each single run against the pooled target and baseline.
    pub run_means: Vec<f64>,
    /// Spectra and densities of its runs (absent when a run blew up).
    pub curves: Option<Curves>,
}

/// What `medida closure evaluate` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    /// The dataset (the target).
    pub data: String,
    /// Its configuration, resolutions and operator.
    pub dataset: Manifest,
    /// Runs in the target.
    pub target_runs: usize,
    /// The metric names, in the order of every score list.
    pub metrics: Vec<String>,
    /// One entry per closure, the baseline first.
    pub closures: Vec<ClosureScores>,
    /// The target's spectra and densities.
    pub target: Curves,
}

impl EvaluationReport {
    /// The table: one row per metric, one column per closure; mean, minimum and the spread of
    /// single runs below.
    pub fn table(&self) -> String {
        let cols = &self.closures;
        let width: Vec<usize> = cols.iter().map(|c| column_width(&c.closure)).collect();
        let mut out = format!(
            "online similarity to {} high-resolution {} runs ({} -> {}, operator {}); 1 = high resolution, 0 = no closure\n\n",
            self.target_runs,
            self.dataset.config,
            self.dataset.hr,
            self.dataset.lr,
            self.dataset.operator,
        );
        let named: Vec<(&str, Option<&Scores18>)> = cols
            .iter()
            .map(|c| (c.closure.as_str(), c.scores.as_ref()))
            .collect();
        out.push_str(&score_rows(&named));
        out.push_str(&format!("{:<30}", "single runs' means (min..max)"));
        for (c, w) in cols.iter().zip(&width) {
            let text = if c.run_means.is_empty() {
                "-".to_string()
            } else {
                let lo = c.run_means.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = c
                    .run_means
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                format!("{lo:.2}..{hi:.2}")
            };
            out.push_str(&format!(" {text:>w$}"));
        }
        out.push('\n');
        for c in cols {
            for r in &c.runs {
                if let Some(u) = &r.unstable {
                    out.push_str(&format!(
                        "\n{}: {} blew up at step {} (t = {:.1} d): {}",
                        c.closure,
                        r.file,
                        u.step,
                        u.time / 86400.0,
                        u.reason
                    ));
                }
            }
        }
        out
    }
}

/// A column's width in the score tables: its name's, within 8 to 24 characters.
fn column_width(name: &str) -> usize {
    name.len().clamp(8, 24)
}

/// The score table's rows: a header of the columns' names, one row per metric, then the mean
/// of 18 and of 17 and the minimum; `-` where a column has no scores (a run blew up).
pub(crate) fn score_rows(cols: &[(&str, Option<&Scores18>)]) -> String {
    let width: Vec<usize> = cols.iter().map(|(name, _)| column_width(name)).collect();
    let mut out = format!("{:<30}", "metric");
    for ((name, _), w) in cols.iter().zip(&width) {
        let name: String = name.chars().take(*w).collect();
        out.push_str(&format!(" {name:>w$}"));
    }
    out.push('\n');
    let cell = |v: Option<f64>, w: usize| match v {
        Some(v) => format!(" {v:>w$.2}"),
        None => format!(" {:>w$}", "-"),
    };
    for (i, m) in METRICS.iter().enumerate() {
        out.push_str(&format!("{m:<30}"));
        for ((_, s), w) in cols.iter().zip(&width) {
            out.push_str(&cell(s.map(|s| s.scores[i]), *w));
        }
        out.push('\n');
    }
    for (label, f) in [
        ("mean of 18", Scores18::mean as fn(&Scores18) -> f64),
        ("mean of 17 (no KEfriction)", Scores18::mean17),
        ("min of 18", Scores18::min),
    ] {
        out.push_str(&format!("{label:<30}"));
        for ((_, s), w) in cols.iter().zip(&width) {
            out.push_str(&cell(s.map(f), *w));
        }
        out.push('\n');
    }
    out
}

/// A closure's folder name: its specification without characters a path would mangle.
fn folder_name(spec: &str) -> String {
    let stem = if spec.ends_with(".json") {
        Path::new(spec)
            .file_stem()
            .map_or(spec.into(), |s| s.to_string_lossy().into_owned())
    } else {
        spec.to_string()
    };
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The config of coarse run `i` with closure `spec` (`none`: without).
fn coarse_config(a: &ClosureEvaluateArgs, m: &Manifest, spec: &str, i: usize) -> Result<RunConfig> {
    let hr = RunConfig::from_toml(&m.hr_config)?;
    let (mut cfg, _) = lr_model(&hr, m.lr)?;
    if let Some(years) = a.years {
        if !(years.is_finite() && years > 0.0) {
            return input_err!("--years {years}: allowed a number of years > 0");
        }
        (cfg.run.steps, cfg.run.tmax) = (None, Some(years * YEAR));
        cfg.output.tavestart = Some(years * YEAR / 2.0);
    }
    cfg.init.seed = a.seed.wrapping_add(i as u32);
    cfg.run.threads = 1;
    cfg.closure = if spec == "none" {
        None
    } else {
        Some(closure_config(spec)?)
    };
    let cfg = RunConfig::resolve_text(&cfg.to_toml(), None, &a.set)?;
    if cfg.output.tavestart.is_none() {
        return input_err!("--set: the coarse runs need `output.tavestart` (time averages)");
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Runs (or reuses, or continues) the coarse run of `cfg` whose file is `path`.
fn coarse_run(cfg: &RunConfig, path: &Path) -> Result<RunStatus> {
    let ckpt = checkpoint_path(path);
    let marker = path.with_extension("unstable.json");
    let file = path.display().to_string();
    if let Ok(text) = std::fs::read_to_string(&marker) {
        let unstable: Unstable = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: {e}", marker.display())))?;
        return Ok(RunStatus {
            file,
            unstable: Some(unstable),
        });
    }
    let run = if ckpt.exists() {
        let c = medida_data::Checkpoint::read(&ckpt).map_err(input("cannot read checkpoint"))?;
        let same = c
            .text("config")
            .and_then(|t| RunConfig::from_toml(t).ok())
            .is_some_and(|old| old == *cfg);
        if !same {
            return input_err!(
                "{}: a run of other settings (closure, length or seed); use another --out",
                path.display()
            );
        }
        if c.number("tc")
            .is_some_and(|tc| tc as u64 >= cfg.total_steps())
            && written(path, &["KEspec"])
        {
            return Ok(RunStatus {
                file,
                unstable: None,
            });
        }
        resume(path, &ckpt, None, None, &|cfg, model| {
            Ok((run_schema(cfg, model, ""), Kept::new(cfg, model, "", 0)?))
        })?
    } else {
        if path.exists() {
            return input_err!(
                "{}: exists without its checkpoint (move it away)",
                path.display()
            );
        }
        let mut model = build_model(cfg)?;
        model.set_pyqg_random_q(cfg.init.seed);
        let kept = Kept::new(cfg, &model, "", 0)?;
        let init = format!("pyqg random, seed {}", cfg.init.seed);
        let schema = run_schema(cfg, &model, &init);
        Run::create(cfg, model, path, schema, kept, false)?
    };
    match execute(run, &mut Silent, &mut |m| {
        Ok(crate::simulate::run_fields(m, false))
    }) {
        Ok(()) => Ok(RunStatus {
            file,
            unstable: None,
        }),
        Err(Error::Solver(SolverError::Unstable { step, time, reason })) => {
            let unstable = Unstable { step, time, reason };
            let text = serde_json::to_string_pretty(&unstable).expect("serialises");
            crate::write_atomic(&marker, text.as_bytes())?;
            Ok(RunStatus {
                file,
                unstable: Some(unstable),
            })
        }
        Err(e) => Err(e),
    }
}

/// The last `last` snapshots' `q` of a coarse run file.
pub(crate) fn last_q(path: &Path, last: usize) -> Result<Vec<Array3<f64>>> {
    let frames = Frames::open(path, "q")?;
    let n = frames.shape()[0];
    if n < last {
        return input_err!(
            "{}: {n} snapshots, fewer than the {last} the scores pool (--last)",
            path.display()
        );
    }
    (n - last..n)
        .map(|i| frames.read(i).map_err(Error::from))
        .collect()
}

/// A file's time average `name` (absent: `None`).
pub(crate) fn average(path: &Path, name: &str) -> Option<ArrayD<f64>> {
    read_array(path, name).ok()
}

/// The high-resolution target: the last `--last` snapshots and the averages of dataset runs
/// `runs`.
fn target_ensemble(a: &ClosureEvaluateArgs, m: &Manifest, runs: &[usize]) -> Result<Ensemble> {
    let hr_cfg = RunConfig::from_toml(&m.hr_config)?;
    let mut hr_model = build_model(&hr_cfg)?;
    let mut target = Ensemble::new(&hr_model);
    for r in runs {
        let path = run_path(&a.data, *r);
        let q = read_array(&path, "q_hr").map_err(input("--data"))?;
        let snaps: Vec<Array3<f64>> = q
            .outer_iter()
            .map(|s| s.to_owned().into_dimensionality().expect("(lev, y, x)"))
            .collect();
        let n = snaps.len();
        target.add_run(&mut hr_model, &snaps[n.saturating_sub(a.last)..], &|name| {
            average(&path, name)
        })?;
    }
    Ok(target)
}

/// Evaluates every closure of `a` online against the dataset's high-resolution runs.
pub fn closure_evaluate(
    a: &ClosureEvaluateArgs,
    progress: &mut dyn Progress,
) -> Result<EvaluationReport> {
    let m = read_manifest(&a.data)?;
    if let Some(c) = &a.config
        && *c != m.config
    {
        return input_err!(
            "--config {c}: the dataset {} is of the {} configuration",
            a.data.display(),
            m.config
        );
    }
    if a.closures.is_empty() {
        return input_err!(
            "--closure: give at least one closure to evaluate (see medida closure list)"
        );
    }
    if a.runs == 0 {
        return input_err!("--runs 0: allowed 1 or more");
    }
    if a.last == 0 {
        return input_err!("--last 0: allowed 1 or more snapshots");
    }
    let mut specs = vec!["none".to_string()];
    for c in &a.closures {
        if specs.contains(c) {
            return input_err!("--closure {c}: given twice (the baseline `none` always runs)");
        }
        specs.push(c.clone());
    }
    // Every setting is checked before anything runs.
    let configs = specs
        .iter()
        .map(|s| (0..a.runs).map(|i| coarse_config(a, &m, s, i)).collect())
        .collect::<Result<Vec<Vec<RunConfig>>>>()?;
    let folders: Vec<String> = specs.iter().map(|s| folder_name(s)).collect();
    if let Some(i) = (1..folders.len()).find(|&i| folders[..i].contains(&folders[i])) {
        return input_err!(
            "--closure {}: its folder name {} is another closure's",
            specs[i],
            folders[i]
        );
    }
    // The target: every complete run of the dataset, read while the coarse models run.
    let mut target_runs = Vec::new();
    for r in 0..m.runs {
        let path = run_path(&a.data, r);
        if complete(&path, &m)? {
            target_runs.push(r);
        }
    }
    if target_runs.is_empty() {
        return input_err!(
            "--data {}: no complete run with the high-resolution averages and snapshots (made by this medida's closure data)",
            a.data.display()
        );
    }
    progress.note(&format!(
        "target: {} high-resolution runs of {}",
        target_runs.len(),
        a.data.display()
    ));
    for f in &folders {
        let dir = a.out.join(f);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Io(format!("create {}", dir.display()), e))?;
    }
    // The closures' runs first and the baseline's, the cheapest, last: they fill the gaps.
    let jobs: Vec<(usize, usize)> = (1..specs.len())
        .chain([0])
        .flat_map(|c| (0..a.runs).map(move |i| (c, i)))
        .collect();
    // `--threads` workers take the runs in order, each run on one thread of its own (a rayon
    // pool's workers would start further runs while one waits for its own pool).
    let progress = Mutex::new(progress);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Result<RunStatus>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let target = std::thread::scope(|scope| {
        let target = scope.spawn(|| target_ensemble(a, &m, &target_runs));
        for _ in 0..a.threads.clamp(1, jobs.len()) {
            scope.spawn(|| {
                loop {
                    let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(c, i)) = jobs.get(j) else { break };
                    let path = run_path(&a.out.join(&folders[c]), i);
                    let started = std::time::Instant::now();
                    let status = coarse_run(&configs[c][i], &path);
                    let how = match &status {
                        Ok(RunStatus { unstable: None, .. }) => "done".to_string(),
                        Ok(RunStatus {
                            unstable: Some(u), ..
                        }) => format!("blew up at step {}", u.step),
                        Err(e) => format!("failed: {e}"),
                    };
                    progress.lock().expect("not poisoned").note(&format!(
                        "{} run {i}: {how} ({:.1} s)",
                        specs[c],
                        started.elapsed().as_secs_f64()
                    ));
                    done.lock().expect("not poisoned")[c * a.runs + i] = Some(status);
                }
            });
        }
        target.join().expect("the target's thread does not panic")
    })?;
    let mut statuses = done
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .map(|s| s.expect("every run was taken"));
    // Per closure: its ensemble and each run's own.
    let mut ensembles: Vec<(Option<Ensemble>, Vec<Ensemble>, Vec<RunStatus>)> = Vec::new();
    for (c, cfgs) in configs.iter().enumerate() {
        let mut model = build_model(&cfgs[0])?;
        let mut all = Some(Ensemble::new(&model));
        let mut singles = Vec::new();
        let mut runs = Vec::new();
        for i in 0..a.runs {
            let status = statuses.next().expect("one status per job")?;
            if status.unstable.is_none() {
                let path = run_path(&a.out.join(&folders[c]), i);
                let snaps = last_q(&path, a.last)?;
                let avg = |name: &str| average(&path, name);
                if let Some(e) = all.as_mut() {
                    e.add_run(&mut model, &snaps, &avg)?;
                }
                let mut one = Ensemble::new(&model);
                one.add_run(&mut model, &snaps, &avg)?;
                singles.push(one);
            } else {
                all = None;
            }
            runs.push(status);
        }
        ensembles.push((all, singles, runs));
    }
    let Some(baseline) = ensembles[0].0.clone() else {
        return Err(Error::Input(
            "the unparameterized coarse model blew up: no baseline to score against".into(),
        ));
    };
    // Figures: spectra below the coarse cutoff, densities over the target's range in 60 bins.
    let n = baseline.resolved();
    let edges: Vec<Vec<f64>> = (0..10)
        .map(|k| {
            let (lo, hi) = target.range(k);
            (0..=60).map(|i| lo + (hi - lo) * i as f64 / 60.0).collect()
        })
        .collect();
    let closures = specs
        .iter()
        .zip(&folders)
        .zip(ensembles)
        .map(|((spec, folder), (all, singles, runs))| ClosureScores {
            closure: spec.clone(),
            folder: a.out.join(folder).display().to_string(),
            scores: all.as_ref().map(|e| similarities(e, &target, &baseline)),
            run_means: singles
                .iter()
                .map(|e| similarities(e, &target, &baseline).mean())
                .collect(),
            runs,
            curves: all.as_ref().map(|e| Curves::of(e, n, &edges)),
        })
        .collect();
    let report = EvaluationReport {
        data: a.data.display().to_string(),
        dataset: m,
        target_runs: target.runs(),
        metrics: METRICS.iter().map(|s| s.to_string()).collect(),
        closures,
        target: Curves::of(&target, n, &edges),
    };
    let text = serde_json::to_string_pretty(&report).expect("a report serialises");
    crate::write_atomic(&a.out.join("scores.json"), text.as_bytes())?;
    Ok(report)
}

//! `medida closure data` and `medida closure discover`: closure datasets from high-resolution
//! runs (Ross et al. 2023's protocol) and offline closure discovery over them.
//!
//! A dataset is a folder: `closure.toml` (what every run of it is: configuration, resolutions,
//! operator, seeds) and per run `runN.h5` (the coarse-grained `q`, `p`, `u`, `v` and the forcings
//! `s_q`, `phi_uq`, `phi_vq`, `s_q_total` on `(time, lev, y, x)` of the coarse grid, the
//! high-resolution run's diagnostics) with its checkpoint `runN.ckpt.h5`, so that an interrupted
//! dataset continues where it stopped.

use crate::config::{ClosureConfig, RunConfig};
use crate::error::{Error, input, input_err};
use crate::kept::{Kept, kept_coords, written};
use crate::model::build_model;
use crate::progress::Progress;
use crate::regression::RegressionArgs;
use crate::schema::{diagnostics_series, field_schema};
use crate::simulate::{Run, checkpoint_path, execute, resume, run_id};
use medida_data::{AttrValue, Checkpoint, Frames, OutputFile, Schema, read_array, read_text_attr};
use medida_discovery::DiscoveryError;
use medida_discovery::closure::rl::PolicyFile;
use medida_discovery::closure::{
    Baseline, ClosureDiscovery, ClosureLibrary, ClosureReport, ForcingData, Operator,
    ROSS7_WEIGHTS, SubgridForcing, discovered_terms, predict,
};
use medida_discovery::ranks::{Ranks, position};
use medida_solver::Model;
use ndarray::Array3;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

type Result<T> = std::result::Result<T, Error>;

/// Seconds in Ross et al.'s 360-day year.
pub(crate) const YEAR: f64 = 360.0 * 86400.0;

/// The sign convention, written beside every forcing.
pub const SIGN: &str = "s_q is what must be added to dq/dt of the coarse model: the coarse model's advection J(psi_bar, q_bar) minus the coarse-grained advection bar(J(psi, q)) (J = div(u q), anomaly velocity); s_q = -(dx phi_uq + dy phi_vq), phi_uq = bar(u_full q) - u_full_bar q_bar, phi_vq = bar(v q) - v_bar q_bar; s_q_total = bar(dq/dt) - dq/dt_lr(q_bar)";

/// What `medida closure data` was asked to do.
#[derive(clap::Args, Clone, Debug)]
pub struct ClosureDataArgs {
    /// Ross et al.'s configuration: eddy (pyqg's defaults) or jet (beta 1e-11, delta 0.1, rek 7e-8).
    #[arg(long, default_value = "eddy")]
    pub config: String,
    /// High-resolution grid points per side.
    #[arg(long, default_value_t = 256)]
    pub hr: usize,
    /// Low-resolution grid points per side (a divisor of --hr).
    #[arg(long, default_value_t = 64)]
    pub lr: usize,
    /// Number of runs.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Seed of the first run's random initial state (run N: seed + N).
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// Ross et al.'s operator: 1 (truncation and pyqg's sharp filter), 2 (truncation and a
    /// Gaussian of width 2 dx), 3 (GCM-Filters' Gaussian and block means).
    #[arg(long, default_value_t = 1)]
    pub operator: u8,
    /// Length of each run in years of 360 days.
    #[arg(long, default_value_t = 10.0)]
    pub years: f64,
    /// Hours between snapshots (Ross: 1000, 87 per 10-year run).
    #[arg(long, default_value_t = 1000.0)]
    pub snapshot_hours: f64,
    /// Override a setting of the high-resolution runs (`model.dt=1800`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output folder.
    #[arg(long, default_value = "closure-data")]
    pub out: PathBuf,
    /// Threads.
    #[arg(long, default_value_t = 2, value_parser = crate::parse_threads)]
    pub threads: usize,
    /// The processes sharing the runs (MPI ranks under `mpirun`), or `None` for this one alone:
    /// not a flag, the CLI's `mpi` feature sets it.
    #[arg(skip)]
    pub ranks: Option<Arc<dyn Ranks>>,
}

/// What a dataset is: the same for every run of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// eddy or jet.
    pub config: String,
    /// High-resolution points per side.
    pub hr: usize,
    /// Low-resolution points per side.
    pub lr: usize,
    /// Ross et al.'s operator number.
    pub operator: u8,
    /// Runs.
    pub runs: usize,
    /// Seed of run 0.
    pub seed: u32,
    /// The runs complete when this file was last written (a rerun checks each run itself).
    #[serde(default)]
    pub complete: Vec<usize>,
    /// The high-resolution configuration of run 0 (run N has seed + N).
    pub hr_config: String,
}

impl Manifest {
    /// Whether `other` describes the same dataset (whatever runs each says are complete).
    fn same_dataset(&self, other: &Manifest) -> bool {
        let bare = |m: &Manifest| Manifest {
            complete: Vec::new(),
            ..m.clone()
        };
        bare(self) == bare(other)
    }
}

/// The preset of Ross's configuration `name`, on `hr` points, dt 3600 s, `years` long, a snapshot
/// every `hours`, with `set` applied.
fn hr_config(a: &ClosureDataArgs, seed: u32) -> Result<RunConfig> {
    let preset = match a.config.as_str() {
        "eddy" => "pyqg-eddy",
        "jet" => "pyqg-jet",
        c => return input_err!("--config {c:?}: allowed eddy or jet"),
    };
    if !(a.years.is_finite() && a.years > 0.0) {
        return input_err!("--years {}: allowed a number of years > 0", a.years);
    }
    if !(a.snapshot_hours.is_finite() && a.snapshot_hours > 0.0) {
        return input_err!(
            "--snapshot-hours {}: allowed a number > 0",
            a.snapshot_hours
        );
    }
    let mut set = vec![
        format!("model.nx={}", a.hr),
        format!("model.ny={}", a.hr),
        "model.dt=3600.0".to_string(),
        format!("init.seed={seed}"),
        format!("run.threads={}", a.threads),
        "run.steps=1".to_string(),
    ];
    set.extend(a.set.iter().cloned());
    let mut cfg = RunConfig::resolve(Some(preset), None, None, &set)?;
    let dt = cfg.model.dt;
    (cfg.run.steps, cfg.run.tmax) = (None, Some(a.years * YEAR));
    let every = (a.snapshot_hours * 3600.0 / dt).round() as u64;
    if every == 0 {
        return input_err!(
            "--snapshot-hours {}: shorter than a time step",
            a.snapshot_hours
        );
    }
    cfg.output.snapshot_interval = every;
    cfg.output.diagnostics_interval = every.div_ceil(10).max(1);
    cfg.output.checkpoint_interval = every * 10;
    // pyqg's time averages over the second half of the run (Ross et al.: years 5-10), every day.
    cfg.output.tavestart = Some(a.years * YEAR / 2.0);
    cfg.output.taveint = None;
    cfg.validate()?;
    Ok(cfg)
}

/// Snapshots of each high-resolution run kept at full resolution: the last ones, which the
/// online similarity scores pool (Ross et al.: 10).
pub const FINAL_SNAPSHOTS: usize = 10;

/// The coarse model of a high-resolution config: the same physics on `lr` points.
pub(crate) fn lr_model(hr: &RunConfig, lr: usize) -> Result<(RunConfig, Model)> {
    let mut cfg = hr.clone();
    (cfg.model.nx, cfg.model.ny) = (lr, lr);
    cfg.validate().map_err(input("--lr"))?;
    let model = build_model(&cfg).map_err(input("--lr"))?;
    Ok((cfg, model))
}

/// The layout of a run's file: the forcings on the coarse grid, and the high-resolution run's
/// time averages and last snapshots on its own grid (dimensions `l_hr`, `k_hr`, `time_hr`,
/// `y_hr`, `x_hr`).
fn forcing_schema(
    hr: &RunConfig,
    hr_model: &Model,
    lr_cfg: &RunConfig,
    lr: &Model,
    op: Operator,
) -> Schema {
    let mut schema = field_schema(
        lr_cfg,
        lr,
        "medida closure data: coarse-grained state and subgrid forcing of a high-resolution run",
        &[
            (
                "q",
                "s^-1",
                "coarse-grained potential vorticity anomaly q_bar",
            ),
            (
                "p",
                "m^2 s^-1",
                "streamfunction of q_bar (coarse model's inversion)",
            ),
            ("u", "m s^-1", "zonal velocity anomaly of q_bar"),
            ("v", "m s^-1", "meridional velocity of q_bar"),
            (
                "s_q",
                "s^-2",
                "subgrid PV forcing, added to dq/dt of the coarse model",
            ),
            (
                "phi_uq",
                "m s^-2",
                "zonal subgrid PV flux: s_q = -(dx phi_uq + dy phi_vq)",
            ),
            ("phi_vq", "m s^-2", "meridional subgrid PV flux"),
            (
                "s_q_total",
                "s^-2",
                "total forcing bar(dq/dt) - dq/dt_lr(q_bar)",
            ),
        ],
    );
    schema.series = diagnostics_series(lr_cfg);
    schema
        .coords
        .extend(kept_coords(hr, hr_model.grid(), "_hr", FINAL_SNAPSHOTS));
    schema.attrs.extend([
        ("operator".into(), AttrValue::I64(op.number() as i64)),
        (
            "operator_description".into(),
            AttrValue::Str(op.describe().into()),
        ),
        ("sign_convention".into(), AttrValue::Str(SIGN.into())),
        ("hr_config".into(), AttrValue::Str(hr.to_toml())),
        ("hr_nx".into(), AttrValue::I64(hr.model.nx as i64)),
    ]);
    schema
}

/// Runs (or continues) every run of the dataset `a` describes that is not complete. Over ranks
/// (`a.ranks`), rank 0 checks the folder and lists the runs left, and the ranks take them in
/// turn (rank r: the r-th, the (r + N)-th, ...), each writing its own; a run is the same bytes
/// whichever rank makes it. Rank 0 alone writes `closure.toml`, whose `complete` lists the runs
/// complete when it was last written: after each of rank 0's runs, and every rank's at the end.
pub fn closure_data(a: &ClosureDataArgs, progress: &mut dyn Progress) -> Result<Manifest> {
    let op = Operator::from_number(a.operator).map_err(input("--operator"))?;
    if a.runs == 0 {
        return input_err!("--runs 0: allowed 1 or more");
    }
    let cfg0 = hr_config(a, a.seed)?;
    let (_, lr0) = lr_model(&cfg0, a.lr)?;
    medida_discovery::closure::Coarsening::new(op, build_model(&cfg0)?.grid(), lr0.grid(), 0.0)
        .map_err(input("--hr/--lr"))?;
    let mut manifest = Manifest {
        config: a.config.clone(),
        hr: a.hr,
        lr: a.lr,
        operator: op.number(),
        runs: a.runs,
        seed: a.seed,
        complete: Vec::new(),
        hr_config: cfg0.to_toml(),
    };
    let (rank, size) = position(a.ranks.as_deref());
    // No rank starts a run before rank 0 has checked the folder: the exchange waits for it.
    let left = if rank == 0 {
        prepare(a, &mut manifest, progress)?
    } else {
        Vec::new()
    };
    let left = exchange(a, &left)?;
    if size > 1 && rank == 0 && !left.is_empty() {
        progress.note(&format!(
            "runs {left:?} shared by {size} MPI ranks in turn (rank r: the r-th, (r + {size})-th, ... of them)"
        ));
    }
    let mut done = Vec::new();
    for &i in left.iter().skip(rank).step_by(size) {
        run_one(a, &manifest, op, i, progress)?;
        done.push(i);
        if rank == 0 {
            record(a, &mut manifest, &done)?;
        }
    }
    let done = exchange(a, &done)?;
    if rank == 0 {
        record(a, &mut manifest, &done)?;
    }
    Ok(manifest)
}

/// Rank 0's start: the folder made, its `closure.toml` checked against `m` (or written), the
/// runs already complete noted in `m.complete`; returns the runs left.
fn prepare(
    a: &ClosureDataArgs,
    m: &mut Manifest,
    progress: &mut dyn Progress,
) -> Result<Vec<usize>> {
    std::fs::create_dir_all(&a.out)
        .map_err(|e| Error::Io(format!("create {}", a.out.display()), e))?;
    let path = a.out.join("closure.toml");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let old: Manifest =
            toml::from_str(&text).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        if !old.same_dataset(m) {
            return input_err!(
                "--out {}: holds a dataset of other settings (config {}, {} -> {}, operator {}, {} runs, seed {}); use another folder",
                a.out.display(),
                old.config,
                old.hr,
                old.lr,
                old.operator,
                old.runs,
                old.seed
            );
        }
    }
    let mut left = Vec::new();
    for i in 0..a.runs {
        if complete(&run_path(&a.out, i), m)? {
            progress.note(&format!("run {i}: complete, kept"));
            m.complete.push(i);
        } else {
            left.push(i);
        }
    }
    write_manifest(&path, m)?;
    Ok(left)
}

/// `runs` of this rank, exchanged: every rank's, in rank order, on every rank (this one's
/// alone in one process).
fn exchange(a: &ClosureDataArgs, runs: &[usize]) -> Result<Vec<usize>> {
    let Some(ranks) = &a.ranks else {
        return Ok(runs.to_vec());
    };
    // Run numbers travel as f64: exact below 2^53.
    let mine: Vec<f64> = runs.iter().map(|&i| i as f64).collect();
    Ok(ranks
        .all_gather(&mine)?
        .into_iter()
        .map(|x| x as usize)
        .collect())
}

/// Adds `done` to the complete runs of `m` and rewrites its `closure.toml` (whole or not at all).
fn record(a: &ClosureDataArgs, m: &mut Manifest, done: &[usize]) -> Result<()> {
    m.complete.extend(done);
    m.complete.sort_unstable();
    m.complete.dedup();
    write_manifest(&a.out.join("closure.toml"), m)
}

fn write_manifest(path: &Path, m: &Manifest) -> Result<()> {
    let text = toml::to_string(m).expect("a manifest serialises");
    crate::write_atomic(path, text.as_bytes())
}

/// The output of run `i` of the dataset in `dir`.
pub(crate) fn run_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("run{i}.h5"))
}

/// Runs run `i` of the dataset `a` (manifest `m`): continued from its checkpoint, started over
/// when a kill left its output before the first checkpoint, or started.
fn run_one(
    a: &ClosureDataArgs,
    m: &Manifest,
    op: Operator,
    i: usize,
    progress: &mut dyn Progress,
) -> Result<()> {
    let out = run_path(&a.out, i);
    let ckpt = checkpoint_path(&out);
    let cfg = hr_config(a, a.seed + i as u32)?;
    let (lr_cfg, lr) = lr_model(&cfg, a.lr)?;
    let run = if ckpt.exists() {
        progress.note(&format!("run {i}: continuing from {}", ckpt.display()));
        resume(&out, &ckpt, None, None, &|cfg, model| {
            let (lr_cfg, lr) = lr_model(cfg, a.lr)?;
            Ok((
                forcing_schema(cfg, model, &lr_cfg, &lr, op),
                Kept::new(cfg, model, "_hr", FINAL_SNAPSHOTS)?,
            ))
        })?
    } else {
        let mut model = build_model(&cfg)?;
        model.set_pyqg_random_q(cfg.init.seed);
        let id = run_id(&cfg, &model);
        // A run killed before its first checkpoint: its own output (the same run's identity),
        // holding no more than the steps to be run again.
        let restart = out.exists()
            && {
                let own = read_text_attr(&out, "run_id").is_ok_and(|x| x == id);
                if !own || written(&out, &["KEspec", "q_hr"]) {
                    return input_err!(
                        "{}: exists without its checkpoint; it is not a run of this dataset in progress (move it away)",
                        out.display()
                    );
                }
                true
            };
        progress.note(&format!(
            "run {i} of {}: seed {}{}",
            m.runs,
            cfg.init.seed,
            if restart {
                " (started over: stopped before its first checkpoint)"
            } else {
                ""
            }
        ));
        let kept = Kept::new(&cfg, &model, "_hr", FINAL_SNAPSHOTS)?;
        let schema = forcing_schema(&cfg, &model, &lr_cfg, &lr, op);
        Run::create(&cfg, model, &out, schema, kept, restart)?
    };
    let mut forcing = SubgridForcing::new(op, &run.model, lr)?;
    execute(run, progress, &mut |hr| {
        let f = forcing.of(hr)?;
        let m = forcing.coarse_model();
        let [p, u, v] = m.p_u_v();
        Ok(vec![
            f.q.into_dyn(),
            p.into_dyn(),
            u.into_dyn(),
            v.into_dyn(),
            f.s_q.into_dyn(),
            f.phi_uq.into_dyn(),
            f.phi_vq.into_dyn(),
            f.s_q_total.into_dyn(),
        ])
    })
}

/// What `medida closure discover` was asked to do.
#[derive(clap::Args, Clone, Debug)]
pub struct ClosureDiscoverArgs {
    /// A dataset written by `medida closure data`.
    #[arg(long)]
    pub data: PathBuf,
    /// Library: presets ross7 (Ross et al.'s 7 terms), zb20, ngm, closure (those and 18 more),
    /// and/or terms for either layer, separated by `;` (e.g. "ross7; lap(adv(lap(q)))").
    #[arg(long, default_value = "closure")]
    pub library: String,
    /// Runs to fit on, comma-separated (default: the first half).
    #[arg(long, value_delimiter = ',')]
    pub train: Option<Vec<usize>>,
    /// Runs to score on (default: the rest).
    #[arg(long, value_delimiter = ',')]
    pub test: Option<Vec<usize>>,
    /// The target: s_q (the subgrid forcing) or s_q_total.
    #[arg(long, default_value = "s_q")]
    pub target: String,
    #[command(flatten)]
    pub regression: RegressionArgs,
    /// Write the report to FILE.json.
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// Threads.
    #[arg(long, default_value_t = 2, value_parser = crate::parse_threads)]
    pub threads: usize,
}

/// The runs of a dataset on disk that a discovery uses (`None`: not opened).
struct FileForcing {
    runs: Vec<Option<(Frames, Frames)>>,
}

impl ForcingData for FileForcing {
    fn runs(&self) -> usize {
        self.runs.len()
    }
    fn snapshots(&self, run: usize) -> usize {
        match self.runs.get(run) {
            Some(Some((q, _))) => q.shape()[0],
            _ => 0,
        }
    }
    fn read(
        &self,
        run: usize,
        i: usize,
    ) -> std::result::Result<(Array3<f64>, Array3<f64>), DiscoveryError> {
        let Some(Some((q, target))) = self.runs.get(run) else {
            return Err(DiscoveryError::Shape(format!("run {run} is not open")));
        };
        let bad = |e: medida_data::DataError| DiscoveryError::Shape(format!("run {run}: {e}"));
        Ok((q.read(i).map_err(bad)?, target.read(i).map_err(bad)?))
    }
}

/// Reads a dataset's manifest.
pub(crate) fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("closure.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Input(format!(
            "--data {}: {e} (is it made by medida closure data?)",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| Error::Input(format!("{}: {e}", path.display())))
}

/// Opens the runs `used` of the dataset `m` in `dir`, each checked against the manifest.
fn open_runs(dir: &Path, m: &Manifest, target: &str, used: &[usize]) -> Result<FileForcing> {
    if !matches!(target, "s_q" | "s_q_total") {
        return input_err!("--target {target:?}: allowed s_q or s_q_total");
    }
    let mut runs: Vec<Option<(Frames, Frames)>> = (0..m.runs).map(|_| None).collect();
    for &i in used {
        if i >= m.runs {
            return input_err!(
                "--train/--test: run {i}, the dataset has {} runs (0 to {})",
                m.runs,
                m.runs - 1
            );
        }
        let run = run_path(dir, i);
        let ckpt = checkpoint_path(&run);
        if ckpt.exists() && !complete(&run, m)? {
            return input_err!(
                "--data: run {i} ({}) is not complete: finish it with the same medida closure data command",
                run.display()
            );
        }
        let unreadable = |e: medida_data::DataError| {
            Error::Input(format!(
                "--data: run {i} ({}) is missing or unreadable: {e}",
                run.display()
            ))
        };
        let op = medida_data::read_number_attr(&run, "operator").map_err(unreadable)? as i64;
        let nx = medida_data::read_number_attr(&run, "nx").map_err(unreadable)? as usize;
        if op != m.operator as i64 || nx != m.lr {
            return input_err!(
                "--data: run {i} has operator {op} on {nx} points, the dataset operator {} on {}: mixed datasets",
                m.operator,
                m.lr
            );
        }
        read_text_attr(&run, "sign_convention").map_err(unreadable)?;
        runs[i] = Some((
            Frames::open(&run, "q").map_err(unreadable)?,
            Frames::open(&run, target).map_err(unreadable)?,
        ));
    }
    Ok(FileForcing { runs })
}

/// Whether the run whose output is `run` has run all the steps of the dataset `m` (its
/// checkpoint) and written what it keeps (the high-resolution averages and last snapshots).
pub(crate) fn complete(run: &Path, m: &Manifest) -> Result<bool> {
    let total = RunConfig::from_toml(&m.hr_config)?.total_steps();
    let stepped = Checkpoint::read(&checkpoint_path(run))
        .ok()
        .and_then(|c| c.number("tc"))
        .is_some_and(|tc| tc as u64 >= total);
    Ok(stepped && written(run, &["KEspec", "q_hr"]))
}

/// Discovers a closure over the dataset `a` names and scores it with the published closures.
pub fn closure_discover(a: &ClosureDiscoverArgs) -> Result<ClosureReport> {
    let m = read_manifest(&a.data)?;
    let half = m.runs.div_ceil(2).min(m.runs.saturating_sub(1)).max(1);
    let train = a.train.clone().unwrap_or_else(|| (0..half).collect());
    let test = a.test.clone().unwrap_or_else(|| (half..m.runs).collect());
    if let Some(r) = train.iter().find(|r| test.contains(r)) {
        return input_err!("--train and --test share run {r}: score on runs not fitted");
    }
    let data = open_runs(&a.data, &m, &a.target, &[&train[..], &test[..]].concat())?;
    let hr = RunConfig::from_toml(&m.hr_config)?;
    let (lr_cfg, coarse) = lr_model(&hr, m.lr)?;
    let library = ClosureLibrary::parse(&a.library).map_err(input("--library"))?;
    let ross = ClosureLibrary::parse("ross7").expect("the preset parses");
    let zb = ClosureLibrary::parse("zb20").expect("the preset parses");
    let discovery = ClosureDiscovery {
        library: library.clone(),
        regression: a.regression.plan()?,
        references: vec![
            (
                "published 7-term closure".into(),
                ross.clone(),
                ROSS7_WEIGHTS.map(|w| w.to_vec()),
            ),
            (
                format!("Zanna-Bolton 2020 (kappa {:.4e})", ZB20_KAPPA),
                zb,
                [vec![ZB20_KAPPA], vec![ZB20_KAPPA]],
            ),
        ],
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(input("--threads"))?;
    let report = pool
        .install(|| discovery.run(&data, &coarse, &train, &test))
        .map_err(|e| Error::Input(format!("--data {}: {e}", a.data.display())))?;
    if let Some(path) = &a.out {
        let maps = [
            ("prediction", library, report.coefficients()),
            ("prediction_ross7", ross, ROSS7_WEIGHTS.map(|w| w.to_vec())),
        ];
        pool.install(|| write_maps(a, &lr_cfg, &coarse, &data, &test, &maps))?;
        let text = serde_json::to_string_pretty(&report).expect("a report serialises");
        crate::write_atomic(&path.with_extension("json"), text.as_bytes())?;
    }
    Ok(report)
}

/// Writes `--out`'s `FILE.h5`: the last snapshot of every held-out run, with the target forcing
/// and the `maps` closures' predictions of it, in the dataset's layout (`medida plot` draws them).
fn write_maps(
    a: &ClosureDiscoverArgs,
    lr_cfg: &RunConfig,
    coarse: &Model,
    data: &FileForcing,
    test: &[usize],
    maps: &[(&str, ClosureLibrary, [Vec<f64>; 2])],
) -> Result<()> {
    let path = a
        .out
        .as_ref()
        .expect("called with --out")
        .with_extension("h5");
    let mut fields = vec![
        (
            "q",
            "s^-1",
            "coarse-grained potential vorticity anomaly q_bar",
        ),
        (
            a.target.as_str(),
            "s^-2",
            "target forcing, added to dq/dt of the coarse model",
        ),
    ];
    let described: Vec<String> = maps
        .iter()
        .map(|(_, lib, _)| format!("closure over {} fitted to {}", lib.spec(), a.target))
        .collect();
    for ((name, ..), long) in maps.iter().zip(&described) {
        fields.push((name, "s^-2", long.as_str()));
    }
    let mut schema = field_schema(
        lr_cfg,
        coarse,
        &format!("{MAPS_TITLE}: the last snapshot of each held-out run"),
        &fields,
    );
    schema
        .attrs
        .push(("sign_convention".into(), AttrValue::Str(SIGN.into())));
    schema
        .attrs
        .push(("test_runs".into(), AttrValue::Str(format!("{test:?}"))));
    let tmp = medida_data::tmp_path(&path);
    let mut out = OutputFile::create(&tmp, &schema)?;
    let mut model = coarse.clone();
    for &r in test {
        let i = data.snapshots(r) - 1;
        let (q, target) = data.read(r, i)?;
        let time = read_array(&run_path(&a.data, r), "time").map_err(input("--data"))?[i];
        model.set_q(q.view()).map_err(input("--data"))?;
        let mut arrays = vec![q.into_dyn(), target.into_dyn()];
        for (_, lib, coef) in maps {
            arrays.push(predict(lib, coef, &model)?.into_dyn());
        }
        let views: Vec<_> = arrays.iter().map(|x| x.view()).collect();
        out.append_snapshot(time, &views)?;
    }
    out.flush()?;
    drop(out);
    // Beside res.json, which a rerun replaces too.
    Ok(medida_data::publish(&tmp, &path, true)?)
}

/// The title of `--out`'s `FILE.h5`, by which `medida plot` knows it.
pub const MAPS_TITLE: &str = "medida closure discover: subgrid forcing and closure predictions";

/// The `[closure]` of a config from `--closure`: a built-in closure's specification (checked
/// here), or a `medida closure discover` result (`FILE.json`: its library and coefficients).
pub fn closure_config(spec: &str) -> Result<ClosureConfig> {
    if spec.ends_with(".json") {
        let text = std::fs::read_to_string(spec)
            .map_err(|e| Error::Input(format!("--closure {spec}: {e}")))?;
        if text.contains(PolicyFile::KIND) {
            PolicyFile::from_json(&text).map_err(input(&format!("--closure {spec}")))?;
            return Ok(ClosureConfig {
                builtin: None,
                library: None,
                upper: Vec::new(),
                lower: Vec::new(),
                policy: Some(text),
                source: Some(spec.to_string()),
            });
        }
        let report: ClosureReport = serde_json::from_str(&text).map_err(|e| {
            Error::Input(format!(
                "--closure {spec}: not a `medida closure discover` result: {e}"
            ))
        })?;
        let [upper, lower] = report.coefficients();
        let c = ClosureConfig {
            builtin: None,
            library: Some(report.library),
            upper,
            lower,
            policy: None,
            source: Some(spec.to_string()),
        };
        discovered_terms(
            c.library.as_deref().unwrap_or_default(),
            &[c.upper.clone(), c.lower.clone()],
        )
        .map_err(|e| Error::Input(format!("--closure {spec}: {e}")))?;
        return Ok(c);
    }
    Baseline::parse(spec).map_err(input("--closure"))?;
    Ok(ClosureConfig {
        builtin: Some(spec.trim().to_string()),
        library: None,
        upper: Vec::new(),
        lower: Vec::new(),
        policy: None,
        source: None,
    })
}

/// pyqg's default `ZannaBolton2020` constant [m^2].
pub const ZB20_KAPPA: f64 = -46761284.0;

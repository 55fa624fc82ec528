//! `medida simulate`: run the model from a config, write snapshots and diagnostics to HDF5, and
//! checkpoint so that `--restart` continues bit for bit.

use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use crate::kept::Kept;
use crate::progress::Progress;
use crate::schema::run_schema;
use medida_data::{AttrValue, Checkpoint, OutputFile, Records, Schema};
use medida_solver::Model;
use ndarray::{Array3, ArrayD, Axis};
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Error>;

/// What `medida simulate` was asked to do.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// A preset shipped in the binary: pyqg-eddy (default), pyqg-jet or medida-jet.
    #[arg(long)]
    pub preset: Option<String>,
    /// A TOML config file: complete (as `medida config show` prints it), or only what changes,
    /// layered on `--preset`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a setting, e.g. --set model.dt=3600 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Total number of steps (overrides run.steps / run.tmax).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Model time to reach, in the model's time unit: seconds for pyqg's presets (pyqg-eddy,
    /// pyqg-jet), non-dimensional for medida-jet and 2d-turbulence (overrides run.steps /
    /// run.tmax).
    #[arg(long)]
    pub tmax: Option<f64>,
    /// Initial PV: a .npy array (2, ny, nx) or an HDF5 file with a `q` dataset (lev, y, x), or
    /// (time, lev, y, x) with `--time` choosing the snapshot.
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// The snapshot of `--init` to start from when it holds several: an index, negative from
    /// the end (default -1, the last). The output's `initial_condition` names it.
    #[arg(
        long,
        value_name = "INDEX",
        allow_hyphen_values = true,
        requires = "init"
    )]
    pub time: Option<i64>,
    /// Output file; its checkpoint goes beside it as NAME.ckpt.h5. An existing file is refused
    /// (continue it with --restart, or replace it with --overwrite).
    #[arg(long, default_value = "run.h5")]
    pub out: PathBuf,
    /// Replace an existing --out (and its checkpoint).
    #[arg(long)]
    pub overwrite: bool,
    /// Continue the run whose output (or checkpoint) this is, bit for bit.
    #[arg(long, value_name = "OUT.h5")]
    pub restart: Option<PathBuf>,
    /// Run an imperfect model: a model-error case, the truth with some coefficients changed
    /// (case1001 ... case1009; see `medida config show --model-error CASE`).
    #[arg(long, value_name = "CASE")]
    pub model_error: Option<String>,
    /// Model time to run before the first snapshot or diagnostics record (overrides run.spinup).
    #[arg(long)]
    pub spinup: Option<f64>,
    /// Add a closure: a built-in (`smagorinsky:cs=0.15`, `backscatter`, `zb20`, `ross7`; see
    /// `medida closure list`) or a `medida closure discover` result (FILE.json).
    #[arg(long, value_name = "SPEC|FILE.json")]
    pub closure: Option<String>,
    /// Add a discovered model-error correction: the equations of a `medida discover --out`
    /// result (FILE.json), e.g. to run the imperfect model it corrects.
    #[arg(long, value_name = "FILE.json")]
    pub correction: Option<PathBuf>,
}

/// The checkpoint that belongs to output file `out`: `run.h5` -> `run.ckpt.h5`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    out.with_extension("ckpt.h5")
}

/// A run ready to go: config, model in its starting state, open output.
pub(crate) struct Run {
    pub(crate) cfg: RunConfig,
    pub(crate) model: Model,
    pub(crate) output: OutputFile,
    pub(crate) checkpoint: PathBuf,
    /// Time averages and final snapshots, written at the end.
    pub(crate) kept: Kept,
    /// The run's identity ([`run_id`]), in its output and every checkpoint.
    pub(crate) id: String,
}

impl Run {
    /// A new run of `model` (in its initial state) writing `schema` to `out` (replacing a file
    /// there when `replace`) and checkpoints beside it, its identity in both.
    pub(crate) fn create(
        cfg: &RunConfig,
        model: Model,
        out: &Path,
        mut schema: Schema,
        kept: Kept,
        replace: bool,
    ) -> Result<Self> {
        let id = run_id(cfg, &model);
        schema
            .attrs
            .push(("run_id".into(), AttrValue::Str(id.clone())));
        schema.records = Some(cfg.records());
        let output = if replace {
            OutputFile::create_replacing(out, &schema)?
        } else {
            OutputFile::create(out, &schema)?
        };
        Ok(Self {
            cfg: cfg.clone(),
            model,
            output,
            checkpoint: checkpoint_path(out),
            kept,
            id,
        })
    }
}

/// A run's identity: FNV-1a (64 bits, hex) of its config at creation and its initial `q`. The
/// same for the same run on any machine (outputs stay byte-reproducible), different for runs
/// whose config or start differ; kept when a run is continued, so a checkpoint and an output of
/// two different runs are never spliced.
pub(crate) fn run_id(cfg: &RunConfig, model: &Model) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let q = model.q();
    let bytes = cfg
        .to_toml()
        .into_bytes()
        .into_iter()
        .chain(q.iter().flat_map(|x| x.to_bits().to_le_bytes()));
    for b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A run's file layout and what it keeps, from its config and model (see [`resume`]).
pub(crate) type Layout<'a> = dyn Fn(&RunConfig, &Model) -> Result<(Schema, Kept)> + 'a;

/// The fields a run writes at each snapshot, in its schema's order.
pub(crate) type Snapshot<'a> = dyn FnMut(&mut Model) -> Result<Vec<ArrayD<f64>>> + Send + 'a;

/// Runs the simulation `args` describes (a new run, or the continuation of one), writing its
/// output and checkpoints.
pub fn simulate(args: &SimulateArgs, progress: &mut dyn Progress) -> Result<()> {
    let run = match &args.restart {
        Some(path) => restart(path, args)?,
        None => start(args)?,
    };
    let spectral = run.cfg.output.spectral;
    execute(run, progress, &mut |m| Ok(run_fields(m, spectral)))
}

/// `q`, `p`, `u`, `v`, pyqg's `ufull = u + Ubg` and `vfull = v` (and the complex `qh`, `ph` when
/// `spectral`).
pub(crate) fn run_fields(m: &mut Model, spectral: bool) -> Vec<ArrayD<f64>> {
    let [p, u, v] = m.p_u_v();
    let mut ufull = u.clone();
    for (mut layer, ubg) in ufull.outer_iter_mut().zip(m.background_flow()) {
        layer += ubg;
    }
    let vfull = v.clone();
    let mut fields = vec![
        m.q().into_dyn(),
        p.into_dyn(),
        u.into_dyn(),
        v.into_dyn(),
        ufull.into_dyn(),
        vfull.into_dyn(),
    ];
    if spectral {
        // The output stores complex fields as checkpoints do: a last axis of (real, imaginary).
        fields.extend([m.qh(), m.ph()].map(|z| crate::checkpoint::split_complex(&z)));
    }
    fields
}

/// Sets the run length from `--steps` / `--tmax`.
fn apply_length(cfg: &mut RunConfig, steps: Option<u64>, tmax: Option<f64>) -> Result<()> {
    match (steps, tmax) {
        (Some(_), Some(_)) => return input_err!("give --steps or --tmax, not both"),
        (Some(n), None) => (cfg.run.steps, cfg.run.tmax) = (Some(n), None),
        (None, Some(t)) => (cfg.run.steps, cfg.run.tmax) = (None, Some(t)),
        (None, None) => {}
    }
    cfg.validate()
}

fn start(args: &SimulateArgs) -> Result<Run> {
    crate::check_out(&args.out, args.overwrite, args.init.as_deref())?;
    // A pyqg file as the initial state brings its parameters, unless a preset or config is given.
    let pyqg = match (&args.init, &args.preset, &args.config) {
        (Some(path), None, None) if path.extension().is_none_or(|e| e != "npy") => {
            crate::pyqg_file::pyqg_config(path)?
        }
        _ => None,
    };
    let mut cfg = match pyqg {
        Some(base) => {
            RunConfig::resolve_text(&base.to_toml(), args.model_error.as_deref(), &args.set)?
        }
        None => RunConfig::resolve(
            args.preset.as_deref(),
            args.config.as_deref(),
            args.model_error.as_deref(),
            &args.set,
        )?,
    };
    if let Some(s) = args.spinup {
        cfg.run.spinup = Some(s);
    }
    if let Some(c) = &args.closure {
        cfg.closure = Some(crate::closure::closure_config(c)?);
    }
    if let Some(path) = &args.correction {
        cfg.correction = Some(crate::discover::correction_config(path)?);
    }
    apply_length(&mut cfg, args.steps, args.tmax)?;
    let mut model = crate::model::build_model(&cfg)?;
    let init = match &args.init {
        Some(path) => {
            let (q, which) = read_initial_q(path, args.time)?;
            if let Err(e) = model.set_q(q.view()) {
                return input_err!("--init {}: {e}", path.display());
            }
            format!("q from {}{which}", path.display())
        }
        None => {
            let q = model.random_q(cfg.init.seed) * cfg.init.scale;
            model
                .set_q(q.view())
                .expect("the random field has the model's shape and is finite");
            format!(
                "pyqg random, seed {}, scale {}",
                cfg.init.seed, cfg.init.scale
            )
        }
    };
    // A state the first step cannot take is the config's fault: say which keys, before any file.
    let cfl = model.diagnostics().cfl;
    if cfl.is_nan() || cfl > 1.0 {
        let dt = cfg.model.dt;
        return input_err!(
            "invalid config: `model.dt` = {dt:e}: the initial state ({init}) has CFL number {cfl:.3e} > 1: allowed dt below {:.3e}, or a smaller `init.scale` / initial state",
            dt / cfl
        );
    }
    let kept = Kept::new(&cfg, &model, "", 0)?;
    // Everything is validated: only now touch the disk. A checkpoint beside a new output is
    // another run's (its output gone or being replaced): a restart must never continue it.
    let ckpt = checkpoint_path(&args.out);
    if ckpt.exists() {
        std::fs::remove_file(&ckpt)
            .map_err(|e| Error::Io(format!("remove the stale {}", ckpt.display()), e))?;
    }
    let schema = run_schema(&cfg, &model, &init);
    Run::create(&cfg, model, &args.out, schema, kept, args.overwrite)
}

fn restart(path: &Path, args: &SimulateArgs) -> Result<Run> {
    if args.preset.is_some()
        || args.config.is_some()
        || !args.set.is_empty()
        || args.init.is_some()
        || args.time.is_some()
        || args.model_error.is_some()
        || args.spinup.is_some()
        || args.closure.is_some()
        || args.correction.is_some()
    {
        return input_err!(
            "--restart continues a run with its own config: --preset, --config, --set, --init, --model-error, --spinup, --closure and --correction do not apply (--steps and --tmax do)"
        );
    }
    let (out, ckpt) = match path.to_str().and_then(|s| s.strip_suffix(".ckpt.h5")) {
        Some(stem) => (PathBuf::from(format!("{stem}.h5")), path.to_path_buf()),
        None => (path.to_path_buf(), checkpoint_path(path)),
    };
    // A run still writing it is not to be continued by a second (first, whatever else is wrong).
    medida_data::check_not_written(&out)?;
    resume(&out, &ckpt, args.steps, args.tmax, &|cfg, model| {
        Ok((run_schema(cfg, model, ""), Kept::new(cfg, model, "", 0)?))
    })
}

/// The run whose output is `out` and checkpoint `ckpt`, continued from the checkpoint (with a new
/// length, if given) into an output laid out by `layout` (its schema, and what it keeps).
pub(crate) fn resume(
    out: &Path,
    ckpt: &Path,
    steps: Option<u64>,
    tmax: Option<f64>,
    layout: &Layout<'_>,
) -> Result<Run> {
    let (mut cfg, mut model, c) = crate::checkpoint::load(ckpt, "--restart")?;
    apply_length(&mut cfg, steps, tmax)?;
    if model.tc() > cfg.total_steps() {
        return input_err!(
            "--restart: the run has done {} steps, more than the {} asked for (--steps/--tmax): allowed a length of at least {} steps",
            model.tc(),
            cfg.total_steps(),
            model.tc()
        );
    }
    let count = |name| whole(&c, name, ckpt);
    let (n_snap, n_series) = (count("n_snapshots")?, count("n_series")?);
    // What the run has written before step tc, as its config schedules it: a checkpoint whose
    // counts say otherwise is not this run's (or was tampered with).
    let tc = model.tc();
    let Records { snapshots, series } = cfg.records_before(tc);
    if (n_snap, n_series) != (snapshots, series) {
        return input_err!(
            "--restart: checkpoint {} says {n_snap} snapshots and {n_series} diagnostics records were written before step {tc}; its config writes {snapshots} and {series}: not a checkpoint of this run",
            ckpt.display()
        );
    }
    let id = c.text("run_id").map(str::to_string);
    let out_id = medida_data::read_text_attr(out, "run_id").ok();
    if let (Some(a), Some(b)) = (&id, &out_id)
        && a != b
    {
        return input_err!(
            "--restart: checkpoint {} belongs to run {a}, output {} to run {b}: they are two different runs",
            ckpt.display(),
            out.display()
        );
    }
    let id = id.or(out_id).unwrap_or_default();
    let (mut schema, mut kept) = layout(&cfg, &model)?;
    schema.records = Some(cfg.records());
    if !id.is_empty() {
        schema
            .attrs
            .push(("run_id".into(), AttrValue::Str(id.clone())));
    }
    kept.restore(&c, &mut model)?;
    let output = OutputFile::open(out, &schema, n_snap, n_series)
        .map_err(input("--restart: cannot continue output"))?;
    Ok(Run {
        cfg,
        model,
        output,
        checkpoint: ckpt.to_path_buf(),
        kept,
        id,
    })
}

/// The checkpoint's count `name`: a whole number from 0 to 2^53, or a named error.
fn whole(c: &Checkpoint, name: &str, ckpt: &Path) -> Result<usize> {
    match c.number(name) {
        Some(x) if crate::checkpoint::is_count(x) => Ok(x as usize),
        Some(x) => input_err!(
            "--restart: checkpoint {}: {name} = {x}: allowed a whole number from 0 to 2^53",
            ckpt.display()
        ),
        None => input_err!("--restart: checkpoint {} lacks {name}", ckpt.display()),
    }
}

/// Runs `run` to its end: snapshots of `fields`, diagnostics, checkpoints.
pub(crate) fn execute(
    mut run: Run,
    progress: &mut dyn Progress,
    fields: &mut Snapshot,
) -> Result<()> {
    let total = run.cfg.total_steps();
    let start = run.model.tc();
    let o = run.cfg.output.clone();
    let due = |tc: u64, every: u64| every > 0 && tc.is_multiple_of(every);
    progress.begin(start, total, run.cfg.is_dimensional());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(run.cfg.run.threads)
        .build()
        .map_err(|e| Error::Input(format!("run.threads: {e}")))?;
    if start == 0 {
        run.kept.begin(&mut run.model)?;
    }
    let result = pool.install(|| -> Result<()> {
        loop {
            let tc = run.model.tc();
            // A checkpoint at tc holds the records written before tc: a restart rewrites tc's.
            if tc > start && (due(tc, o.checkpoint_interval) || tc >= total) {
                run.output.sync()?;
                write_checkpoint(&run)?;
            }
            if run.cfg.snapshot_due(tc) {
                run.kept.snapshot(&run.model);
                let fields = fields(&mut run.model)?;
                let views: Vec<_> = fields.iter().map(|f| f.view()).collect();
                run.output.append_snapshot(run.model.t(), &views)?;
                run.output.flush()?;
            }
            if run.cfg.diagnostics_due(tc) {
                let d = run.model.diagnostics();
                let values = [
                    d.ke,
                    d.ke_layer[0],
                    d.ke_layer[1],
                    d.ape,
                    d.energy,
                    d.enstrophy,
                    d.enstrophy_layer[0],
                    d.enstrophy_layer[1],
                    d.cfl,
                ];
                run.output.append_series(d.t, &values)?;
            }
            if tc >= total {
                return Ok(());
            }
            run.kept.step(&mut run.model)?;
            progress.step(run.model.tc(), run.model.t());
            if progress.interrupted() {
                return Err(Error::Interrupted(format!("at step {}", run.model.tc())));
            }
        }
    });
    progress.end();
    let (n_snap, n_series) = run.output.counts();
    if let Err(e) = result {
        run.output.flush()?;
        return Err(e);
    }
    let Run {
        output,
        kept,
        cfg,
        model,
        ..
    } = run;
    output.finish(|out| kept.write(out))?;
    progress.note(&format!(
        "done: {total} steps, t = {}, {n_snap} snapshots, {n_series} diagnostics records",
        crate::progress::model_time(model.t(), cfg.is_dimensional())
    ));
    Ok(())
}

fn write_checkpoint(run: &Run) -> Result<()> {
    let (n_snap, n_series) = run.output.counts();
    let mut c = crate::checkpoint::of_model(&run.cfg, &run.model);
    c.numbers.extend([
        ("n_snapshots".into(), n_snap as f64),
        ("n_series".into(), n_series as f64),
    ]);
    c.texts.push(("run_id".into(), run.id.clone()));
    run.kept.checkpoint(&mut c);
    c.write_atomic(&run.checkpoint)?;
    Ok(())
}

/// q from a NumPy `.npy` of shape `(2, ny, nx)`, or from the `q` dataset of an HDF5 file: `(lev, y, x)`,
/// or `(time, lev, y, x)` (a medida output; the last snapshot is taken).
/// The initial `q` in `path` and, for a file of several snapshots, which one (`time`: an index,
/// negative from the end; default the last), in words.
fn read_initial_q(path: &Path, time: Option<i64>) -> Result<(Array3<f64>, String)> {
    let is_npy = path.extension().is_some_and(|e| e == "npy");
    let a: ArrayD<f64> = if is_npy {
        match ndarray_npy::read_npy(path) {
            Ok(a) => a,
            Err(e) => return input_err!("--init {}: {e}", path.display()),
        }
    } else {
        match medida_data::read_array(path, "q") {
            Ok(a) => a,
            Err(e) => return input_err!("--init: {e}"),
        }
    };
    let (a, which) = match (a.ndim(), time) {
        (4, _) => {
            let n = a.shape()[0];
            if n == 0 {
                return input_err!("--init {}: holds no snapshot", path.display());
            }
            let t = time.unwrap_or(-1);
            let i = if t < 0 { n as i64 + t } else { t };
            if !(0..n as i64).contains(&i) {
                return input_err!(
                    "--time {t}: allowed {} to {} ({} holds {n} snapshots)",
                    -(n as i64),
                    n - 1,
                    path.display()
                );
            }
            let when = medida_data::read_array(path, "time")
                .ok()
                .and_then(|t| t.iter().nth(i as usize).copied())
                .map_or(String::new(), |t| format!(", t = {t}"));
            (
                a.index_axis(Axis(0), i as usize).to_owned(),
                format!(", snapshot {i} of {n}{when}"),
            )
        }
        (_, Some(t)) => {
            return input_err!(
                "--time {t}: {} holds one state (lev, y, x), not snapshots",
                path.display()
            );
        }
        _ => (a, String::new()),
    };
    match a.into_dimensionality() {
        Ok(q) => Ok((q, which)),
        Err(_) => input_err!("--init {}: q must have dims (lev, y, x)", path.display()),
    }
}

//! `medida simulate`: run the model from a config, write snapshots and diagnostics to HDF5, and
//! checkpoint so that `--restart` continues bit for bit.

use crate::config::{InputError, RunConfig, input_err};
use crate::progress::Progress;
use anyhow::Context;
use medida_data::{AttrValue, Checkpoint, Coordinate, OutputFile, Precision, Schema, Variable};
use medida_solver::{Complex64, Model, ModelState};
use ndarray::{Array3, ArrayD, Axis, IxDyn};
use std::path::{Path, PathBuf};

/// Diagnostics series written to the `diagnostics` group: name, units, long name.
const SERIES: [(&str, &str, &str); 9] = [
    ("ke", "m^2 s^-2", "depth-weighted kinetic energy"),
    ("ke1", "m^2 s^-2", "upper-layer kinetic energy"),
    ("ke2", "m^2 s^-2", "lower-layer kinetic energy"),
    ("ape", "m^2 s^-2", "available potential energy"),
    ("energy", "m^2 s^-2", "total energy"),
    ("enstrophy", "s^-2", "depth-weighted enstrophy"),
    ("enstrophy1", "s^-2", "upper-layer enstrophy"),
    ("enstrophy2", "s^-2", "lower-layer enstrophy"),
    ("cfl", "1", "CFL number"),
];

/// What `medida simulate` was asked to do.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// A preset shipped in the binary: pyqg-eddy (default), pyqg-jet or medida-jet.
    #[arg(long)]
    pub preset: Option<String>,
    /// A TOML config file (see `medida config show`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a setting, e.g. --set model.dt=3600 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Total number of steps (overrides run.steps / run.tmax).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Model time to reach, in seconds (overrides run.steps / run.tmax).
    #[arg(long)]
    pub tmax: Option<f64>,
    /// Initial PV: a .npy array (2, ny, nx) or an HDF5 file with a `q` dataset (lev, y, x).
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// Output file; its checkpoint goes beside it as NAME.ckpt.h5.
    #[arg(long, default_value = "run.h5")]
    pub out: PathBuf,
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
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the figures (fields, spectrum, diagnostics) of the finished run as PNG into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

/// The checkpoint that belongs to output file `out`: `run.h5` -> `run.ckpt.h5`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    out.with_extension("ckpt.h5")
}

/// A run ready to go: config, model in its starting state, open output.
struct Run {
    cfg: RunConfig,
    model: Model,
    output: OutputFile,
    checkpoint: PathBuf,
}

pub fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let run = match &args.restart {
        Some(path) => restart(path, &args)?,
        None => start(&args)?,
    };
    execute(run, args.quiet)?;
    if let Some(dir) = &args.plots {
        for path in crate::plot::figures(&args.out, dir, -1)? {
            if !args.quiet {
                eprintln!("figure {}", path.display());
            }
        }
    }
    Ok(())
}

/// Sets the run length from `--steps` / `--tmax`.
fn apply_length(cfg: &mut RunConfig, steps: Option<u64>, tmax: Option<f64>) -> anyhow::Result<()> {
    match (steps, tmax) {
        (Some(_), Some(_)) => return input_err!("give --steps or --tmax, not both"),
        (Some(n), None) => (cfg.run.steps, cfg.run.tmax) = (Some(n), None),
        (None, Some(t)) => (cfg.run.steps, cfg.run.tmax) = (None, Some(t)),
        (None, None) => {}
    }
    cfg.validate()
}

fn start(args: &SimulateArgs) -> anyhow::Result<Run> {
    let mut cfg = RunConfig::resolve(
        args.preset.as_deref(),
        args.config.as_deref(),
        args.model_error.as_deref(),
        &args.set,
    )?;
    if let Some(s) = args.spinup {
        cfg.run.spinup = Some(s);
    }
    apply_length(&mut cfg, args.steps, args.tmax)?;
    let mut model = build_model(&cfg)?;
    let init = match &args.init {
        Some(path) => {
            let q = read_initial_q(path)?;
            if let Err(e) = model.set_q(q.view()) {
                return input_err!("--init {}: {e}", path.display());
            }
            format!("q from {}", path.display())
        }
        None => {
            let q =
                medida_solver::init::pyqg_random_q(model.grid(), cfg.init.seed) * cfg.init.scale;
            model
                .set_q(q.view())
                .expect("the random field has the model's shape and is finite");
            format!(
                "pyqg random, seed {}, scale {}",
                cfg.init.seed, cfg.init.scale
            )
        }
    };
    // Everything is validated: only now touch the disk.
    let output = OutputFile::create(&args.out, &schema(&cfg, &model, &init))?;
    Ok(Run {
        cfg,
        model,
        output,
        checkpoint: checkpoint_path(&args.out),
    })
}

/// The model a config describes: the MEDIDA forced jet when `[jet]` is given, pyqg's model
/// otherwise, with the `[model_error]` coefficient changes applied.
pub fn build_model(cfg: &RunConfig) -> anyhow::Result<Model> {
    let built = match &cfg.jet {
        Some(jet) => medida_solver::jet::jet_model(cfg.model.clone(), jet),
        None => Model::new(cfg.model.clone()),
    };
    let mut model = built.map_err(|e| InputError(format!("invalid config: {e}")))?;
    for (name, value) in &cfg.model_error.coefficients {
        if let Err(e) = model.set_coefficient(name, *value) {
            let names: Vec<String> = model.terms().iter().map(|t| t.name()).collect();
            return input_err!(
                "invalid config: `model_error.{name}`: {e}; this model's terms: {}",
                names.join(", ")
            );
        }
    }
    Ok(model)
}

fn restart(path: &Path, args: &SimulateArgs) -> anyhow::Result<Run> {
    if args.preset.is_some()
        || args.config.is_some()
        || !args.set.is_empty()
        || args.init.is_some()
        || args.model_error.is_some()
        || args.spinup.is_some()
    {
        return input_err!(
            "--restart continues a run with its own config: --preset, --config, --set, --init, --model-error and --spinup do not apply (--steps and --tmax do)"
        );
    }
    let (out, ckpt) = match path.to_str().and_then(|s| s.strip_suffix(".ckpt.h5")) {
        Some(stem) => (PathBuf::from(format!("{stem}.h5")), path.to_path_buf()),
        None => (path.to_path_buf(), checkpoint_path(path)),
    };
    let c = Checkpoint::read(&ckpt)
        .map_err(|e| InputError(format!("--restart: cannot read checkpoint: {e}")))?;
    let bad = |what: &str| {
        InputError(format!(
            "--restart: checkpoint {} lacks {what}",
            ckpt.display()
        ))
    };
    let mut cfg = RunConfig::from_toml(c.text("config").ok_or_else(|| bad("config"))?)?;
    apply_length(&mut cfg, args.steps, args.tmax)?;
    let mut model = build_model(&cfg)?;
    let state = state_from_checkpoint(&c).ok_or_else(|| bad("a complete model state"))?;
    model
        .restore(&state)
        .map_err(|e| InputError(format!("--restart: {e}")))?;
    let count = |name| c.number(name).map(|x| x as usize).ok_or_else(|| bad(name));
    let (n_snap, n_series) = (count("n_snapshots")?, count("n_series")?);
    let init = String::new();
    let output = OutputFile::open(&out, &schema(&cfg, &model, &init), n_snap, n_series)
        .map_err(|e| InputError(format!("--restart: cannot continue output: {e}")))?;
    Ok(Run {
        cfg,
        model,
        output,
        checkpoint: ckpt,
    })
}

fn execute(mut run: Run, quiet: bool) -> anyhow::Result<()> {
    let total = run.cfg.total_steps();
    let start = run.model.tc();
    let o = run.cfg.output.clone();
    let due = |tc: u64, every: u64| every > 0 && tc.is_multiple_of(every);
    // Snapshots and diagnostics start after the spin-up and count from there.
    let first = run.cfg.spinup_steps();
    let record = |tc: u64, every: u64| tc >= first && due(tc - first, every);
    let mut progress = Progress::new(start, total, quiet, run.cfg.jet.is_none());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(run.cfg.run.threads)
        .build()
        .context("thread pool")?;
    let result = pool.install(|| -> anyhow::Result<()> {
        loop {
            let tc = run.model.tc();
            // A checkpoint at tc holds the records written before tc: a restart rewrites tc's.
            if tc > start && (due(tc, o.checkpoint_interval) || tc >= total) {
                run.output.flush()?;
                write_checkpoint(&run)?;
            }
            if record(tc, o.snapshot_interval) {
                let [p, u, v] = run.model.p_u_v();
                let mut fields = vec![
                    run.model.q().into_dyn(),
                    p.into_dyn(),
                    u.into_dyn(),
                    v.into_dyn(),
                ];
                if o.spectral {
                    let qh = run.model.qh();
                    fields.push(qh.mapv(|z| z.re).into_dyn());
                    fields.push(qh.mapv(|z| z.im).into_dyn());
                }
                let views: Vec<_> = fields.iter().map(|f| f.view()).collect();
                run.output.append_snapshot(run.model.t(), &views)?;
                run.output.flush()?;
            }
            if record(tc, o.diagnostics_interval) {
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
            run.model.step()?;
            progress.update(run.model.tc(), run.model.t());
        }
    });
    progress.finish();
    run.output.flush()?;
    result?;
    let (n_snap, n_series) = run.output.counts();
    progress.println(&format!(
        "done: {} steps, t = {}, {n_snap} snapshots, {n_series} diagnostics records",
        total,
        progress.time(run.model.t())
    ));
    Ok(())
}

fn write_checkpoint(run: &Run) -> anyhow::Result<()> {
    let s = run.model.state();
    let (n_snap, n_series) = run.output.counts();
    let c = Checkpoint {
        arrays: vec![
            ("q".into(), s.q.into_dyn()),
            ("qh".into(), split_complex(&s.qh)),
            ("dqhdt_p".into(), split_complex(&s.dqhdt_p)),
            ("dqhdt_pp".into(), split_complex(&s.dqhdt_pp)),
            ("qh_prev".into(), split_complex(&s.qh_prev)),
        ],
        numbers: vec![
            ("tc".into(), s.tc as f64),
            ("t".into(), s.t),
            ("ablevel".into(), s.ablevel as f64),
            ("n_snapshots".into(), n_snap as f64),
            ("n_series".into(), n_series as f64),
        ],
        texts: vec![
            ("config".into(), run.cfg.to_toml()),
            ("medida_version".into(), env!("CARGO_PKG_VERSION").into()),
        ],
    };
    c.write_atomic(&run.checkpoint)?;
    Ok(())
}

/// A complex array as real with a trailing dimension `(re, im)`.
fn split_complex(a: &Array3<Complex64>) -> ArrayD<f64> {
    let mut shape = a.shape().to_vec();
    shape.push(2);
    ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let z = a[[i[0], i[1], i[2]]];
        if i[3] == 0 { z.re } else { z.im }
    })
}

fn join_complex(a: &ArrayD<f64>) -> Option<Array3<Complex64>> {
    let s = a.shape();
    (s.len() == 4 && s[3] == 2).then(|| {
        Array3::from_shape_fn((s[0], s[1], s[2]), |(i, j, k)| {
            Complex64::new(a[[i, j, k, 0]], a[[i, j, k, 1]])
        })
    })
}

fn state_from_checkpoint(c: &Checkpoint) -> Option<ModelState> {
    Some(ModelState {
        q: c.array("q")?.clone().into_dimensionality().ok()?,
        qh: join_complex(c.array("qh")?)?,
        dqhdt_p: join_complex(c.array("dqhdt_p")?)?,
        dqhdt_pp: join_complex(c.array("dqhdt_pp")?)?,
        qh_prev: join_complex(c.array("qh_prev")?)?,
        ablevel: c.number("ablevel")? as u8,
        tc: c.number("tc")? as u64,
        t: c.number("t")?,
    })
}

/// q from a NumPy `.npy` of shape `(2, ny, nx)`, or from the `q` dataset of an HDF5 file: `(lev, y, x)`,
/// or `(time, lev, y, x)` (a medida output; the last snapshot is taken).
fn read_initial_q(path: &Path) -> anyhow::Result<Array3<f64>> {
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
    let a = if a.ndim() == 4 {
        a.index_axis(Axis(0), a.shape()[0].saturating_sub(1))
            .to_owned()
    } else {
        a
    };
    match a.into_dimensionality() {
        Ok(q) => Ok(q),
        Err(_) => input_err!("--init {}: q must have dims (lev, y, x)", path.display()),
    }
}

/// The output layout: pyqg's names, dims (time, lev, y, x), units, every parameter and every
/// term's coefficient as an attribute. The MEDIDA jet is non-dimensional: its units are "1".
fn schema(cfg: &RunConfig, model: &Model, init: &str) -> Schema {
    let title = if cfg.jet.is_none() {
        "medida two-layer quasi-geostrophic run (pyqg physics)"
    } else {
        "medida two-layer quasi-geostrophic run (MEDIDA forced jet, non-dimensional)"
    };
    let mut schema = field_schema(
        cfg,
        model,
        title,
        &[
            ("q", "s^-1", "potential vorticity anomaly"),
            ("p", "m^2 s^-1", "streamfunction"),
            (
                "u",
                "m s^-1",
                "zonal velocity anomaly (without the background flow U)",
            ),
            ("v", "m s^-1", "meridional velocity"),
        ],
    );
    if !init.is_empty() {
        schema
            .attrs
            .push(("initial_condition".into(), AttrValue::Str(init.into())));
    }
    let g = model.grid();
    let unit = units(cfg);
    if cfg.output.spectral {
        let coord = |name: &str, values: Vec<f64>, long_name: &str| Coordinate {
            name: name.into(),
            values,
            units: unit("m^-1"),
            long_name: long_name.into(),
        };
        schema.coords.push(coord(
            "l",
            g.ll.clone(),
            "meridional wavenumber (FFT order)",
        ));
        schema
            .coords
            .push(coord("k", g.kk.clone(), "zonal wavenumber"));
        for part in ["real", "imaginary"] {
            schema.variables.push(Variable {
                name: format!("qh_{}", &part[..2]),
                dims: vec!["lev".into(), "l".into(), "k".into()],
                units: unit("s^-1"),
                long_name: format!(
                    "{part} part of the PV spectrum rfft2(q) (unnormalised, pyqg qh)"
                ),
            });
        }
    }
    schema.series = SERIES
        .iter()
        .map(|(n, u, l)| Variable {
            name: (*n).into(),
            dims: vec![],
            units: (*u).into(),
            long_name: (*l).into(),
        })
        .collect();
    schema
}

/// SI units for pyqg runs, `"1"` for the non-dimensional jet.
pub fn units(cfg: &RunConfig) -> impl Fn(&str) -> String {
    let dimensional = cfg.jet.is_none();
    move |si: &str| {
        if dimensional {
            si.to_string()
        } else {
            "1".to_string()
        }
    }
}

/// A file of `(time, lev, y, x)` fields `(name, SI units, long name)` of the model `cfg`
/// describes: coordinates, the full config and every parameter and term coefficient as attributes,
/// no diagnostics series.
pub fn field_schema(
    cfg: &RunConfig,
    model: &Model,
    title: &str,
    fields: &[(&str, &str, &str)],
) -> Schema {
    let g = model.grid();
    let p = &cfg.model;
    let unit = units(cfg);
    let coord = |name: &str, values: Vec<f64>, units: &str, long_name: &str| Coordinate {
        name: name.into(),
        values,
        units: unit(units),
        long_name: long_name.into(),
    };
    let mut attrs: Vec<(String, AttrValue)> = vec![
        ("title".into(), AttrValue::Str(title.into())),
        (
            "medida_version".into(),
            AttrValue::Str(env!("CARGO_PKG_VERSION").into()),
        ),
        ("config".into(), AttrValue::Str(cfg.to_toml())),
    ];
    let table = toml::Table::try_from(p).expect("parameters serialise");
    for (k, v) in table {
        let value = match v {
            toml::Value::Integer(i) => AttrValue::I64(i),
            toml::Value::Float(x) => AttrValue::F64(x),
            other => AttrValue::Str(other.to_string()),
        };
        attrs.push((k, value));
    }
    let [qy1, qy2] = p.qy();
    for (k, x) in [
        ("H2", p.h2()),
        ("F1", p.f1()),
        ("F2", p.f2()),
        ("Qy1", qy1),
        ("Qy2", qy2),
    ] {
        attrs.push((k.into(), AttrValue::F64(x)));
    }
    for t in model.terms() {
        attrs.push((
            format!("coefficient_{}", t.name()),
            AttrValue::F64(t.coefficient),
        ));
    }
    if let Some(case) = &cfg.model_error.case {
        attrs.push(("model_error_case".into(), AttrValue::Str(case.clone())));
    }
    Schema {
        coords: vec![
            coord("lev", vec![1.0, 2.0], "1", "layer (1 = upper)"),
            coord("y", g.y(), "m", "meridional position (cell centres)"),
            coord("x", g.x(), "m", "zonal position (cell centres)"),
        ],
        variables: fields
            .iter()
            .map(|(name, u, long_name)| Variable {
                name: (*name).into(),
                dims: vec!["lev".into(), "y".into(), "x".into()],
                units: unit(u),
                long_name: (*long_name).into(),
            })
            .collect(),
        series: Vec::new(),
        attrs,
        precision: if cfg.output.precision == "f32" {
            Precision::F32
        } else {
            Precision::F64
        },
        compression: cfg.output.compression,
        time_units: unit("s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_error_case_applies_to_the_jet_model() {
        let cases: toml::Table = include_str!("presets/model-errors.toml").parse().unwrap();
        assert_eq!(cases.len(), 9);
        for case in cases.keys() {
            let set = ["model.nx=16".to_string(), "model.ny=16".to_string()];
            let cfg = RunConfig::resolve(Some("medida-jet"), None, Some(case), &set).unwrap();
            let model = build_model(&cfg).unwrap_or_else(|e| panic!("{case}: {e}"));
            for (name, value) in &cfg.model_error.coefficients {
                let term = model.terms().iter().find(|t| &t.name() == name).unwrap();
                assert_eq!(term.coefficient, *value, "{case}: {name}");
            }
        }
    }
}

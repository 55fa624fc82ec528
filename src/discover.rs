//! `medida increments`, `medida discover` and `medida demo`: the MEDIDA pipeline. A truth run's
//! snapshots start short forecasts of the truth and of an imperfect model; their difference per
//! unit time (the analysis increment) is regressed on a library of QG terms, and the result is
//! printed as an equation beside the error the case planted, then optionally added back to the
//! imperfect model to measure the corrected forecasts.

use crate::config::{InputError, RunConfig, input_err};
use crate::fit::{Plan, RegressionArgs, RowSink};
use crate::observe::{analysis_spectra, interpolators};
use crate::simulate::{SimulateArgs, build_model, field_schema};
use anyhow::Context;
use medida_data::{
    AttrValue, Checkpoint, Frames, OutputFile, read_array, read_number_attr, read_text_attr,
};
use medida_discovery::observe::{ObservationSpec, error_spectrum, observed_neighbours};
use medida_discovery::qg::{
    Assimilator, Correction, Evaluator, Expr, Geometry, Increments, QgLibrary, Update,
    expected_error,
};
use medida_solver::{Stepper, Term};
use ndarray::{Array2, Array3, Axis};
use std::path::{Path, PathBuf};

/// What `medida increments` was asked to do.
#[derive(clap::Args, Clone)]
pub struct IncrementsArgs {
    /// A truth run written by `medida simulate` (its snapshots start the forecasts).
    #[arg(long)]
    pub truth: PathBuf,
    /// The imperfect model: a model-error case (case1001 ... case1009) applied to the truth's config.
    #[arg(long, value_name = "CASE")]
    pub model_error: Option<String>,
    /// Override a setting of both models (`model.stepper=rk4`), or of the imperfect model only
    /// (`model_error.bottom_drag=0.37`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Forecast window in time steps.
    #[arg(long, default_value_t = 1)]
    pub window: u64,
    /// Use every k-th snapshot of the truth run.
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Use at most this many snapshots (default all).
    #[arg(long)]
    pub count: Option<usize>,
    /// Observe only part of the grid: `fraction=F[,noise=N][,seed=S][,vary=true]` (noise relative to
    /// each field's standard deviation; vary: new stations at every time). The forecast starts
    /// from the interpolated observations and the increment is formed at the stations.
    #[arg(long, value_name = "SPEC")]
    pub observe: Option<String>,
    /// Interpolator for --observe: spectral-oi (default), rff-ridge[:frequencies=F,sigma=S,ridge=R,seed=K],
    /// rff-mlp[:frequencies=F,sigma=S,width=W,depth=D,steps=N,lr=L,batch=B,seed=K], mlp[:width=...] or
    /// rbf (thin-plate spline; rbf:epsilon=E for scipy's multiquadric) or cubic[:margin=M]
    /// (Clough-Tocher on a Delaunay triangulation of the stations and their periodic images within
    /// M grid spacings, default 8; scipy's griddata cubic).
    #[arg(long, default_value = "spectral-oi")]
    pub interp: String,
    /// A model run whose snapshots give spectral-oi its prior spectrum (default: the truth run).
    #[arg(long)]
    pub prior: Option<PathBuf>,
    /// With --observe: make the analysis by data assimilation instead of interpolation alone. The
    /// imperfect model (corrected by --correction, if given) runs this many time units from the
    /// interpolated observations of each truth snapshot, and the observations enter it as
    /// --update-every says; the increment is formed at the end, so its time is the snapshot's
    /// plus this. The dynamics fill the gaps between stations far better than interpolation.
    #[arg(long, value_name = "TIME")]
    pub assimilate: Option<f64>,
    /// With --assimilate: a discovery (`medida discover --out FILE.json`) whose equations are
    /// added to the imperfect model that assimilates the observations (not to the one whose
    /// increments are formed: those keep measuring the whole error).
    #[arg(long, value_name = "FILE.json", requires = "assimilate")]
    pub correction: Option<PathBuf>,
    /// With --assimilate: how observations enter the model. N: every N steps the innovations
    /// (observation minus model at the stations) are interpolated with --interp and added to the
    /// model state (optimal interpolation cycled with the model as its background); 0: put in at
    /// the stations before every step (direct insertion).
    #[arg(long, value_name = "N", default_value_t = 10, requires = "assimilate")]
    pub update_every: u64,
    /// Output file.
    #[arg(long, default_value = "increments.h5")]
    pub out: PathBuf,
    /// Threads (default: the truth config's run.threads).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

/// What `medida discover` was asked to do.
#[derive(clap::Args, Clone)]
pub struct DiscoverArgs {
    /// Increments written by `medida increments`.
    #[arg(long)]
    pub increments: PathBuf,
    /// Library: presets medida10 (the released 10 terms) or wide (20), and/or terms, separated by
    /// `;` (e.g. "medida10; lap2(psi1); J(psi1, psi2)").
    #[arg(long, default_value = "medida10")]
    pub library: String,
    /// Grid points removed on each side in x and y before the regression (the released code: 20).
    #[arg(long, default_value_t = 0)]
    pub trim: usize,
    /// The state the library is evaluated on: start (the observed state the forecasts start
    /// from; exact for one-step windows of AB3 or leapfrog, whose first step is Euler), forecast
    /// (the imperfect model's forecast, as the released code), mean (of the two: second order in
    /// the window) or auto (start for one Euler step, else mean).
    #[arg(long, default_value = "auto")]
    pub library_state: String,
    /// Do not multiply the library's columns by the model's update filter (pyqg's filter, implicit
    /// hyperviscosity), which one-step increments carry; the released code does not filter.
    #[arg(long)]
    pub unfiltered_library: bool,
    /// Sparse observations: use only the stations with at least N of their 8 neighbours observed
    /// (0-8; 0 uses every station). Where the neighbours are observed too, the analysis' gradients,
    /// and so the library's Jacobians, are far more accurate: on the turbulent MEDIDA jet at 75%
    /// observed, N = 7 removes the spurious upper-layer Jacobian that all stations give.
    #[arg(long, default_value_t = 0)]
    pub min_neighbours: u8,
    #[command(flatten)]
    pub regression: RegressionArgs,
    /// Add the discovered terms to the imperfect model and compare its forecasts with the truth's.
    #[arg(long)]
    pub correct: bool,
    /// Length of each corrected forecast, in time steps (from every increment's start state).
    #[arg(long, default_value_t = 400)]
    pub correct_steps: u64,
    /// Write the results to FILE.json and FILE.h5 (same stem).
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// No notes on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Write the figures (coefficients, sweep, increments) as PNG into this directory (needs --out).
    #[arg(long, value_name = "DIR", requires = "out")]
    pub plots: Option<PathBuf>,
}

/// What `medida demo` was asked to do.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Model-error case.
    #[arg(long, default_value = "case1002")]
    pub case: String,
    /// Directory for the truth run, the increments and the results.
    #[arg(long, default_value = "medida-demo")]
    pub dir: PathBuf,
    /// Spin-up time (model time units, from the random initial state).
    #[arg(long, default_value_t = 250.0)]
    pub spinup: f64,
    /// Number of truth snapshots (one per time unit after the spin-up) giving increments.
    #[arg(long, default_value_t = 3)]
    pub snapshots: usize,
    /// Library (see `medida discover --library`).
    #[arg(long, default_value = "medida10")]
    pub library: String,
    /// Override a setting of the truth run (`model.nx=48`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Observe only part of the grid (see `medida increments --observe`); a second run from
    /// another random state gives spectral-oi its prior, the analyses assimilate the
    /// observations (--assimilate) and the discovery uses 3-fold cross-validation.
    #[arg(long, value_name = "SPEC")]
    pub observe: Option<String>,
    /// With --observe: make each analysis by assimilating the observations for this many time
    /// units into the imperfect model, with an analysis every --update-every steps (see `medida
    /// increments --assimilate`); 0: the interpolated observations alone, and the discovery on
    /// the stations with at least --min-neighbours observed neighbours.
    #[arg(long, value_name = "TIME", default_value_t = 10.0)]
    pub assimilate: f64,
    /// With --assimilate: steps between analyses, at least 1 (see `medida increments
    /// --update-every`).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub update_every: u64,
    /// With --assimilate: passes in all. The first assimilates into the imperfect model; each
    /// later one into the model corrected by the previous pass's discovery.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// With --observe and --assimilate 0: see `medida discover --min-neighbours`.
    #[arg(long, default_value_t = 7)]
    pub min_neighbours: u8,
    /// Interpolator for --observe (see `medida increments --interp`).
    #[arg(long, default_value = "spectral-oi")]
    pub interp: String,
    /// Threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Write every figure (truth fields, spectrum, diagnostics, increments, coefficients, sweep)
    /// as PNG into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

/// Splits `--set` into overrides of both models and of the imperfect model only.
fn split_sets(set: &[String]) -> (Vec<String>, Vec<String>) {
    set.iter()
        .cloned()
        .partition(|s| !s.trim_start().starts_with("model_error."))
}

/// The truth's config from a medida output's `config` attribute.
fn config_of(path: &Path, attr: &str) -> anyhow::Result<String> {
    read_text_attr(path, attr).map_err(|e| {
        InputError(format!(
            "{}: {e} (is it a file written by medida?)",
            path.display()
        ))
        .into()
    })
}

pub fn increments(a: IncrementsArgs) -> anyhow::Result<()> {
    let text = config_of(&a.truth, "config")?;
    let (both, model_only) = split_sets(&a.set);
    let truth_cfg = RunConfig::resolve_text(&text, None, &both)?;
    let all: Vec<String> = both.iter().chain(&model_only).cloned().collect();
    let model_cfg = RunConfig::resolve_text(&text, a.model_error.as_deref(), &all)?;
    if model_cfg.model_error == truth_cfg.model_error {
        return input_err!(
            "the imperfect model equals the truth: give --model-error CASE or --set model_error.TERM=VALUE"
        );
    }
    if a.every == 0 {
        return input_err!("--every 0: allowed 1 or more");
    }
    let truth = build_model(&truth_cfg)?;
    let model = build_model(&model_cfg)?;
    let mut inc = Increments::new(truth, model, a.window)
        .map_err(|e| InputError(format!("--window: {e}")))?;
    let frames = Frames::open(&a.truth, "q").map_err(|e| InputError(e.to_string()))?;
    let times = read_array(&a.truth, "time").map_err(|e| InputError(e.to_string()))?;
    let picked: Vec<usize> = (0..frames.shape()[0])
        .step_by(a.every)
        .take(a.count.unwrap_or(usize::MAX))
        .collect();
    if picked.is_empty() {
        return input_err!("--truth {}: the run has no snapshots", a.truth.display());
    }
    let title = "medida analysis increments: (truth forecast - imperfect forecast) / window";
    let mut schema = field_schema(
        &truth_cfg,
        inc.truth(),
        title,
        &[
            (
                "dqdt",
                "s^-2",
                "analysis increment per unit time: (q_truth - q_model)(t + window) / window",
            ),
            ("q", "s^-1", "observed PV anomaly at the forecast start"),
            (
                "q_forecast",
                "s^-1",
                "imperfect model's PV anomaly at the end of the window",
            ),
        ],
    );
    schema.attrs.extend([
        ("model_config".into(), AttrValue::Str(model_cfg.to_toml())),
        ("window_steps".into(), AttrValue::I64(a.window as i64)),
        ("window_time".into(), AttrValue::F64(inc.window_time())),
        (
            "truth_file".into(),
            AttrValue::Str(a.truth.display().to_string()),
        ),
        (
            "observations".into(),
            AttrValue::Str("full grid, no noise".into()),
        ),
    ]);
    for t in inc.model().terms() {
        schema.attrs.push((
            format!("model_coefficient_{}", t.name()),
            AttrValue::F64(t.coefficient),
        ));
    }
    if let Some(case) = &model_cfg.model_error.case {
        schema.attrs.retain(|(k, _)| k != "model_error_case");
        schema
            .attrs
            .push(("model_error_case".into(), AttrValue::Str(case.clone())));
    }
    let threads = a.threads.unwrap_or(truth_cfg.run.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("thread pool")?;
    let observation = match &a.observe {
        Some(text) => {
            let spec =
                ObservationSpec::parse(text).map_err(|e| InputError(format!("--observe: {e}")))?;
            let interps = interpolators(&a, &frames, inc.truth(), spec.noise)?;
            schema.attrs.retain(|(k, _)| k != "observations");
            schema.attrs.extend([
                ("observations".into(), AttrValue::Str(format!("{text} (q observed at the stations; increments at the stations only, NaN elsewhere)"))),
                ("interpolator".into(), AttrValue::Str(interps[0].name())),
            ]);
            schema.series = ["analysis_error1", "analysis_error2"]
                .iter()
                .map(|n| medida_data::Variable {
                    name: (*n).into(),
                    dims: vec![],
                    units: "1".into(),
                    long_name: "relative L2 error of the analysis (interpolated observations) against the true state".into(),
                })
                .collect();
            // The analysis error by scale (pyqg's isotropic rings), per time and layer.
            let zeros = vec![0.0; inc.truth().grid().n_phys()];
            let (kr, _, _) = error_spectrum(inc.truth().grid(), &zeros, &zeros);
            schema.coords.push(medida_data::Coordinate {
                name: "kr".into(),
                values: kr,
                units: crate::simulate::units(&truth_cfg)("m^-1"),
                long_name: "isotropic wavenumber (ring centres)".into(),
            });
            for (name, long_name) in [
                (
                    "error_spectrum",
                    "isotropic spectrum of the analysis error (analysis - truth)",
                ),
                (
                    "truth_spectrum",
                    "isotropic spectrum of the true PV anomaly",
                ),
            ] {
                schema.variables.push(medida_data::Variable {
                    name: name.into(),
                    dims: vec!["lev".into(), "kr".into()],
                    units: "1".into(),
                    long_name: long_name.into(),
                });
            }
            Some((spec, interps))
        }
        None => None,
    };
    let mut assimilation = match a.assimilate {
        None => None,
        Some(_) if a.observe.is_none() => {
            return input_err!("--assimilate needs --observe (what is observed is what is put in)");
        }
        Some(t) if !(t >= 0.0 && t.is_finite()) => {
            return input_err!("--assimilate {t}: allowed a time >= 0 (model time units)");
        }
        Some(t) => {
            let mut model = build_model(&model_cfg)?;
            let mut what = String::from("the imperfect model");
            if let Some(path) = &a.correction {
                model.add_term(correction_from(path, &truth_cfg)?)?;
                what = format!("the imperfect model corrected by {}", path.display());
            }
            let steps = (t / truth_cfg.model.dt).round() as u64;
            let update = match a.update_every {
                0 => Update::Insert,
                every => Update::Interpolate { every },
            };
            let how = match update {
                Update::Insert => format!(
                    "direct insertion of the observations into {what} at every step for {steps} steps, from the interpolated observations"
                ),
                Update::Interpolate { every } => format!(
                    "{what} run for {steps} steps from the interpolated observations, with the interpolated innovations (observation minus model at the stations) added every {every} steps"
                ),
            };
            schema.attrs.push(("analysis".into(), AttrValue::Str(how)));
            Some(Assimilator {
                model,
                steps,
                update,
            })
        }
    };
    let tmp = a.out.with_extension("h5.part");
    let mut out = OutputFile::create(&tmp, &schema)?;
    let written = pool.install(|| -> anyhow::Result<()> {
        for (n, &i) in picked.iter().enumerate() {
            let q0 = frames.read(i)?;
            let context = || format!("forecast from snapshot {i} of {}", a.truth.display());
            let mut time = times[i];
            let fields = match &observation {
                None => {
                    let h = inc.at(q0.view()).with_context(context)?;
                    vec![h.dqdt.into_dyn(), q0.into_dyn(), h.q_forecast.into_dyn()]
                }
                Some((spec, interps)) => {
                    let interps = [interps[0].as_ref(), interps[1].as_ref()];
                    let (q_true, h) = match assimilation.as_mut() {
                        None => {
                            let h = inc.observed(q0.view(), spec, i as u64, interps);
                            (q0.clone(), h.with_context(context)?)
                        }
                        Some(assimilator) => {
                            time += assimilator.steps as f64 * truth_cfg.model.dt;
                            inc.assimilated(q0.view(), spec, i as u64, interps, assimilator)
                                .with_context(context)?
                        }
                    };
                    out.append_series(time, &h.analysis_error)?;
                    let (err, tru) = analysis_spectra(inc.truth().grid(), &q_true, &h.q_analysis);
                    vec![
                        h.dqdt.into_dyn(),
                        h.q_analysis.into_dyn(),
                        h.q_forecast.into_dyn(),
                        err,
                        tru,
                    ]
                }
            };
            let views: Vec<_> = fields.iter().map(|f| f.view()).collect();
            out.append_snapshot(time, &views)?;
            if !a.quiet {
                eprint!("\rincrements: {}/{}", n + 1, picked.len());
            }
        }
        out.flush()?;
        Ok(())
    });
    drop(out);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &a.out).with_context(|| format!("rename to {}", a.out.display()))?;
    if !a.quiet {
        eprintln!(
            "\rincrements: {} snapshots, window {} steps ({}), written to {}",
            picked.len(),
            a.window,
            inc.window_time(),
            a.out.display()
        );
    }
    Ok(())
}

/// One row of the comparison table.
#[derive(serde::Serialize)]
struct Row {
    layer: usize,
    term: String,
    expected: f64,
    discovered: f64,
    std: Option<f64>,
    /// `100 |discovered - expected| / |expected|`, when a term is expected.
    error_percent: Option<f64>,
}

/// The forecast errors of the imperfect and the corrected model.
#[derive(serde::Serialize)]
struct CorrectionReport {
    steps: u64,
    time: f64,
    /// Per start state: relative L2 error of q after `steps`, imperfect and corrected.
    imperfect: Vec<f64>,
    corrected: Vec<f64>,
    /// Median of imperfect / corrected.
    improvement: f64,
    /// Why the corrected model could not finish a forecast (its error is then infinite): the
    /// discovered terms do not make a stable model.
    unstable: Option<String>,
}

pub fn discover(a: DiscoverArgs) -> anyhow::Result<()> {
    let truth_cfg = RunConfig::from_toml(&config_of(&a.increments, "config")?)?;
    let model_cfg = RunConfig::from_toml(&config_of(&a.increments, "model_config")?)?;
    let truth = build_model(&truth_cfg)?;
    let model = build_model(&model_cfg)?;
    let geometry = geometry_of(&truth_cfg)?;
    let mut library =
        QgLibrary::parse(&a.library).map_err(|e| InputError(format!("--library: {e}")))?;
    library.trim = a.trim;
    if !a.unfiltered_library {
        // filtr is (l, k); the library wants k-major.
        let f = truth.filtr();
        let (nl, nk) = f.dim();
        library.filter = Some((0..nk * nl).map(|i| f[[i % nl, i / nl]]).collect());
    }
    let eval = Evaluator::new(geometry.clone());
    library
        .check(&eval)
        .map_err(|e| InputError(format!("--library/--trim: {e}")))?;
    if a.min_neighbours > 8 {
        return input_err!("--min-neighbours {}: allowed 0 to 8", a.min_neighbours);
    }
    let window =
        read_number_attr(&a.increments, "window_steps").map_err(|e| InputError(e.to_string()))?;
    // Which snapshots' average the library is evaluated on: q (start), q_forecast, or both.
    let weights: [f64; 2] = match a.library_state.as_str() {
        "auto" if window == 1.0 && truth_cfg.model.stepper != Stepper::Rk4 => [1.0, 0.0],
        "auto" | "mean" => [0.5, 0.5],
        "start" => [1.0, 0.0],
        "forecast" => [0.0, 1.0],
        s => return input_err!("--library-state {s:?}: allowed auto, start, forecast or mean"),
    };
    let open = |name: &str| {
        Frames::open(&a.increments, name).map_err(|e| anyhow::Error::new(InputError(e.to_string())))
    };
    let (starts, forecasts, targets) = (open("q")?, open("q_forecast")?, open("dqdt")?);
    let snapshots = targets.shape()[0];
    if snapshots == 0 {
        return input_err!("--increments {}: no increments", a.increments.display());
    }
    let rows = library.rows(&eval);
    let names = library.library();
    let p = names.len();
    let target_names = ["dq1/dt", "dq2/dt"];
    let nx = geometry.grid.nx;
    // Snapshot i's targets (rows x 2) and the rows that have them (sparse observations:
    // increments exist at the stations only, NaN elsewhere).
    let targets_of = |i: usize| -> anyhow::Result<(Array2<f64>, Vec<usize>)> {
        let mut h = targets.read(i)?;
        if a.min_neighbours > 0 {
            drop_isolated_stations(&mut h, a.min_neighbours);
        }
        let mut y = Array2::zeros((rows, 2));
        for lev in 0..2 {
            let field = h.index_axis(Axis(0), lev);
            let field = field.as_slice().expect("read arrays are contiguous");
            for (dst, src) in y.column_mut(lev).iter_mut().zip(library.trimmed(field, nx)) {
                *dst = src;
            }
        }
        let keep = (0..rows)
            .filter(|&r| y[[r, 0]].is_finite() && y[[r, 1]].is_finite())
            .collect();
        Ok((y, keep))
    };
    // Rows in all (they set the default CV block): every point unless the increments come from
    // sparse observations (written with an interpolator), where the stations must be counted.
    let n = if read_text_attr(&a.increments, "interpolator").is_ok() {
        let mut n = 0;
        for i in 0..snapshots {
            n += targets_of(i)?.1.len();
        }
        n
    } else {
        snapshots * rows
    };
    let pass = |sink: &mut RowSink| {
        let mut eval = Evaluator::new(geometry.clone());
        for i in 0..snapshots {
            let q = match weights {
                [1.0, 0.0] => starts.read(i)?,
                [0.0, 1.0] => forecasts.read(i)?,
                [w0, w1] => starts.read(i)? * w0 + forecasts.read(i)? * w1,
            };
            let state = eval.state(q.view());
            let x = library.columns(&mut eval, &state);
            let (y, keep) = targets_of(i)?;
            if keep.len() == rows {
                sink(x.view(), y.view())?;
            } else {
                sink(
                    x.select(Axis(0), &keep).view(),
                    y.select(Axis(0), &keep).view(),
                )?;
            }
        }
        Ok(())
    };
    if n == 0 {
        return input_err!(
            "--increments {}: no rows to fit (no observed points{})",
            a.increments.display(),
            if a.min_neighbours > 0 {
                format!(" with {} observed neighbours", a.min_neighbours)
            } else {
                String::new()
            }
        );
    }
    let plan = Plan::new(&a.regression, n)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.max(1))
        .build()
        .context("thread pool")?;
    let out = pool.install(|| plan.run(p, 2, &names, &target_names, pass))?;
    let expected = expected_error(truth.terms(), model.terms(), &library);
    let fit = &out.fit;
    let mut table = Vec::new();
    for lev in 0..2 {
        for (j, term) in names.names().iter().enumerate() {
            let (e, d) = (expected.coef[[lev, j]], fit.coef[[lev, j]]);
            if e != 0.0 || d != 0.0 {
                table.push(Row {
                    layer: lev + 1,
                    term: term.clone(),
                    expected: e,
                    discovered: d,
                    std: fit.std.as_ref().map(|s| s[[lev, j]]),
                    error_percent: (e != 0.0).then(|| 100.0 * (d - e).abs() / e.abs()),
                });
            }
        }
    }
    let support_exact = (0..2)
        .all(|lev| (0..p).all(|j| (expected.coef[[lev, j]] != 0.0) == (fit.coef[[lev, j]] != 0.0)));
    let correction = if a.correct {
        Some(pool.install(|| correct(&a, &truth_cfg, &model_cfg, &library, fit, &geometry))?)
    } else {
        None
    };
    let case = model_cfg.model_error.case.clone();
    let mut json = out.to_json()?;
    json["case"] = serde_json::to_value(&case)?;
    json["description"] = serde_json::to_value(&model_cfg.model_error.description)?;
    json["expected"] = serde_json::to_value(
        expected
            .coef
            .outer_iter()
            .map(|r| r.to_vec())
            .collect::<Vec<_>>(),
    )?;
    json["expected_outside_library"] = serde_json::to_value(&expected.outside)?;
    json["table"] = serde_json::to_value(&table)?;
    json["support_exact"] = serde_json::Value::Bool(support_exact);
    json["yty"] = serde_json::to_value(&out.yty)?;
    json["rows"] = serde_json::to_value(fit.n)?;
    json["snapshots"] = serde_json::to_value(snapshots)?;
    json["library_state"] = serde_json::Value::String(
        match weights {
            [1.0, 0.0] => "start",
            [0.0, 1.0] => "forecast",
            _ => "mean",
        }
        .into(),
    );
    json["library_filtered"] = serde_json::Value::Bool(!a.unfiltered_library);
    if let Some(c) = &correction {
        json["correction"] = serde_json::to_value(c)?;
    }
    if let Some(path) = &a.out {
        write_results(path, &json, &expected.coef, fit, &names)?;
        if let Some(dir) = &a.plots {
            crate::plot::figures(&path.with_extension("json"), dir, -1)?;
            crate::plot::figures(&a.increments, dir, -1)?;
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    let what = match (&case, &model_cfg.model_error.description) {
        (Some(c), Some(d)) => format!("{c}: {d}"),
        (Some(c), None) => c.clone(),
        _ => "imperfect model of the [model_error] table".into(),
    };
    println!("model error {what}");
    let points = if fit.n == snapshots * rows {
        format!("{rows} points")
    } else {
        format!("{} observed points on average", fit.n / snapshots)
    };
    println!(
        "{snapshots} increments x {points}, library {} ({p} terms), {}\n",
        a.library, fit.method
    );
    print!("{}", fit.equations(4));
    println!(
        "\n{:<14} {:>5} {:>12} {:>12} {:>10} {:>9}",
        "term", "layer", "expected", "discovered", "+-std", "error %"
    );
    for r in &table {
        println!(
            "{:<14} {:>5} {:>12.5} {:>12.5} {:>10} {:>9}",
            r.term,
            r.layer,
            r.expected,
            r.discovered,
            r.std.map_or("".into(), |s| format!("{s:.1e}")),
            r.error_percent
                .map_or("spurious".into(), |e| format!("{e:.2e}"))
        );
    }
    let worst = table
        .iter()
        .filter_map(|r| r.error_percent)
        .fold(0.0, f64::max);
    println!(
        "\nsupport {}; largest coefficient error {worst:.2e} %",
        if support_exact {
            "exact in both layers"
        } else {
            "NOT the expected one"
        }
    );
    for o in &expected.outside {
        println!("note: the library cannot express part of the expected error: {o}");
    }
    if let Some(c) = &correction {
        match &c.unstable {
            None => println!(
                "\ncorrected model: forecast error after {} steps (t = {}) relative to the truth, median over {} starts: imperfect {:.3e}, corrected {:.3e} ({:.3e} times smaller)",
                c.steps,
                c.time,
                c.imperfect.len(),
                median(&c.imperfect),
                median(&c.corrected),
                c.improvement
            ),
            Some(why) => println!(
                "\ncorrected model: unstable {why}; the discovered terms do not make a stable model (the imperfect model's forecast error after {} steps: {:.3e})",
                c.steps,
                median(&c.imperfect)
            ),
        }
    }
    out.print_ensemble(&names, &target_names);
    for (i, t) in target_names.iter().enumerate() {
        if out.yty[i] == 0.0 {
            println!("{t}: the increments are zero: the two models agree in this layer");
        }
    }
    if a.quiet {
        return Ok(());
    }
    for w in &fit.warnings {
        // A layer whose increments are zero has, rightly, no terms: said above.
        let zero = target_names
            .iter()
            .enumerate()
            .any(|(i, t)| out.yty[i] == 0.0 && w.starts_with(t));
        if !zero {
            eprintln!("warning: {w}");
        }
    }
    if let Some(path) = &a.out {
        eprintln!(
            "results written to {} and {}",
            path.display(),
            path.with_extension("h5").display()
        );
    }
    Ok(())
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// The equations of a discovery (`medida discover --out FILE.json`) as a term of the solver.
fn correction_from(path: &Path, truth_cfg: &RunConfig) -> anyhow::Result<Term> {
    let bad = |what: String| InputError(format!("--correction {}: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let (Some(terms), Some(coef)) = (
        json["fit"]["terms"].as_array(),
        json["fit"]["coef"].as_array(),
    ) else {
        return Err(bad(
            "no fit.terms and fit.coef (is it written by medida discover --out?)".into(),
        )
        .into());
    };
    let mut out = Vec::with_capacity(terms.len());
    for (j, t) in terms.iter().enumerate() {
        let name = t.as_str().unwrap_or_default();
        let expr = Expr::parse(name).map_err(|e| bad(format!("term {name:?}: {e}")))?;
        let c = [0, 1].map(|lev| coef.get(lev).and_then(|r| r[j].as_f64()));
        let [Some(c1), Some(c2)] = c else {
            return Err(bad(format!(
                "fit.coef has no value for term {name:?} in both layers"
            ))
            .into());
        };
        out.push((expr, [c1, c2]));
    }
    Ok(Correction::new(out, Evaluator::new(geometry_of(truth_cfg)?)).into_term())
}

/// The library's geometry (grid, and the jet profile of the relaxation target) for a run.
fn geometry_of(cfg: &RunConfig) -> anyhow::Result<Geometry> {
    Geometry::new(&cfg.model, cfg.jet.as_ref().map(|j| (j.u1, j.sigma)))
        .map_err(|e| InputError(e.to_string()).into())
}

/// Runs the truth, the imperfect and the corrected model from every increment's start state.
fn correct(
    a: &DiscoverArgs,
    truth_cfg: &RunConfig,
    model_cfg: &RunConfig,
    library: &QgLibrary,
    fit: &medida_discovery::SparseFit,
    geometry: &Geometry,
) -> anyhow::Result<CorrectionReport> {
    let terms: Vec<(Expr, [f64; 2])> = library
        .terms()
        .iter()
        .enumerate()
        .map(|(j, e)| (e.clone(), [fit.coef[[0, j]], fit.coef[[1, j]]]))
        .collect();
    let mut corrected = build_model(model_cfg)?;
    corrected.add_term(Correction::new(terms, Evaluator::new(geometry.clone())).into_term())?;
    let mut models = [build_model(truth_cfg)?, build_model(model_cfg)?, corrected];
    let starts = Frames::open(&a.increments, "q")?;
    let (mut imperfect, mut fixed, mut unstable) = (Vec::new(), Vec::new(), None);
    let norm = |x: &Array3<f64>| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    for i in 0..starts.shape()[0] {
        let q0 = starts.read(i)?;
        let forecast =
            |m: &mut medida_solver::Model| -> Result<Array3<f64>, medida_solver::SolverError> {
                m.set_q(q0.view())?;
                m.run(a.correct_steps)?;
                Ok(m.q())
            };
        let [truth, model, corrected] = &mut models;
        let context = |name: &str| format!("--correct: the {name} from increment {i}");
        let q_truth = forecast(truth).with_context(|| context("truth"))?;
        let q_model = forecast(model).with_context(|| context("imperfect model"))?;
        let scale = norm(&q_truth);
        imperfect.push(norm(&(&q_model - &q_truth)) / scale);
        match forecast(corrected) {
            Ok(q) => fixed.push(norm(&(&q - &q_truth)) / scale),
            Err(e) => {
                fixed.push(f64::INFINITY);
                unstable.get_or_insert(format!("from increment {i}: {e}"));
            }
        }
    }
    let ratios: Vec<f64> = imperfect.iter().zip(&fixed).map(|(i, c)| i / c).collect();
    Ok(CorrectionReport {
        steps: a.correct_steps,
        time: a.correct_steps as f64 * truth_cfg.model.dt,
        improvement: median(&ratios),
        imperfect,
        corrected: fixed,
        unstable,
    })
}

/// FILE.json (everything) and FILE.h5 (coefficients, expected, std, names), both atomically.
/// Sets the increments at stations with fewer than `min` observed neighbours to NaN (stations are
/// the points where both layers' increments are finite).
fn drop_isolated_stations(h: &mut Array3<f64>, min: u8) {
    let nx = h.shape()[2];
    let observed: Vec<bool> = h
        .index_axis(Axis(0), 0)
        .iter()
        .zip(h.index_axis(Axis(0), 1).iter())
        .map(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    let count = observed_neighbours(&observed, nx);
    for mut layer in h.outer_iter_mut() {
        for (v, &c) in layer.iter_mut().zip(&count) {
            if c < min {
                *v = f64::NAN;
            }
        }
    }
}

fn write_results(
    path: &Path,
    json: &serde_json::Value,
    expected: &Array2<f64>,
    fit: &medida_discovery::SparseFit,
    names: &medida_discovery::Library,
) -> anyhow::Result<()> {
    let json_path = path.with_extension("json");
    let tmp = json_path.with_extension("json.part");
    std::fs::write(&tmp, serde_json::to_string_pretty(json)?)
        .with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, &json_path)
        .with_context(|| format!("rename to {}", json_path.display()))?;
    let mut h5 = Checkpoint::default();
    h5.arrays.push(("coef".into(), fit.coef.clone().into_dyn()));
    h5.arrays
        .push(("expected".into(), expected.clone().into_dyn()));
    if let Some(s) = &fit.std {
        h5.arrays.push(("std".into(), s.clone().into_dyn()));
    }
    h5.texts.push(("terms".into(), names.names().join("\n")));
    h5.texts.push(("targets".into(), "dq1/dt\ndq2/dt".into()));
    h5.texts.push(("equations".into(), fit.equations(6)));
    h5.texts.push(("method".into(), fit.method.clone()));
    for key in ["library_state", "case"] {
        if let Some(v) = json[key].as_str() {
            h5.texts.push((key.into(), v.into()));
        }
    }
    h5.write_atomic(&path.with_extension("h5"))?;
    Ok(())
}

pub fn demo(a: DemoArgs) -> anyhow::Result<()> {
    if a.snapshots == 0 {
        return input_err!("--snapshots 0: allowed 1 or more");
    }
    if a.update_every == 0 {
        return input_err!("--update-every 0: allowed 1 or more steps between analyses");
    }
    if !(a.assimilate >= 0.0 && a.assimilate.is_finite()) {
        return input_err!(
            "--assimilate {}: allowed a time >= 0 (model time units; 0: interpolation only)",
            a.assimilate
        );
    }
    if let Some(text) = &a.observe {
        ObservationSpec::parse(text).map_err(|e| InputError(format!("--observe: {e}")))?;
    }
    std::fs::create_dir_all(&a.dir).with_context(|| format!("create {}", a.dir.display()))?;
    let started = std::time::Instant::now();
    let truth = a.dir.join("truth.h5");
    if !a.quiet {
        eprintln!(
            "1/3 truth: MEDIDA jet, {} time units of spin-up, then {} snapshots",
            a.spinup, a.snapshots
        );
    }
    let length = a.snapshots as f64 - 1.0;
    jet_run(&a, &truth, length, &[], a.plots.clone())?;
    let prior = match &a.observe {
        Some(_) => {
            let prior = a.dir.join("prior.h5");
            if !a.quiet {
                eprintln!(
                    "1b/3 prior for the interpolator: the same model from another random state"
                );
            }
            let extra = ["output.snapshot_interval=160", "init.seed=5"];
            jet_run(&a, &prior, 40.0, &extra, None)?;
            Some(prior)
        }
        None => None,
    };
    // Without assimilation one pass; with it, passes whose analyses assimilate the observations
    // into the imperfect model, then into the model corrected by the previous pass.
    let assimilate = (a.observe.is_some() && a.assimilate > 0.0).then_some(a.assimilate);
    let passes = if assimilate.is_some() {
        a.passes.max(1)
    } else {
        1
    };
    let mut correction: Option<PathBuf> = None;
    for pass in 0..passes {
        let last = pass + 1 == passes;
        let incr = a.dir.join("increments.h5");
        if !a.quiet {
            let how = match (assimilate, &correction) {
                (None, _) => "one step from every snapshot".to_string(),
                (Some(_), None) => {
                    "analyses assimilating the observations into the imperfect model".to_string()
                }
                (Some(_), Some(c)) => format!(
                    "analyses assimilating the observations into the model corrected by {}",
                    c.display()
                ),
            };
            eprintln!("2/3 increments of {} ({how})", a.case);
        }
        increments(IncrementsArgs {
            truth: truth.clone(),
            model_error: Some(a.case.clone()),
            set: Vec::new(),
            window: 1,
            every: 1,
            count: None,
            observe: a.observe.clone(),
            interp: a.interp.clone(),
            prior: prior.clone(),
            assimilate,
            correction: correction.clone(),
            update_every: a.update_every,
            out: incr.clone(),
            threads: Some(a.threads),
            quiet: a.quiet,
        })
        .with_context(|| match &correction {
            None => format!("pass {}: increments", pass + 1),
            Some(c) => format!(
                "pass {}: assimilating into the model corrected by {} (when that correction is far \
                 from the truth, its analyses are too)",
                pass + 1,
                c.display()
            ),
        })?;
        let out = if last {
            a.dir.join("discovery.json")
        } else {
            a.dir.join(format!("discovery-pass{}.json", pass + 1))
        };
        if !a.quiet {
            eprintln!(
                "3/3 discovery with library {} (pass {} of {passes})\n",
                a.library,
                pass + 1
            );
        }
        discover(DiscoverArgs {
            increments: incr,
            library: a.library.clone(),
            trim: 0,
            library_state: "auto".into(),
            unfiltered_library: false,
            // From interpolated observations the well-observed stations (the truth's
            // advection of the interpolation error next to gaps looks like a Jacobian); from
            // assimilated ones every station.
            min_neighbours: match (&a.observe, assimilate) {
                (Some(_), None) => a.min_neighbours,
                _ => 0,
            },
            regression: match a.observe {
                // Station rows carry correlated analysis errors, which BIC (independent rows)
                // takes for signal; held-out rows do not reward them.
                Some(_) => RegressionArgs {
                    select: "cv".into(),
                    folds: 3,
                    ..RegressionArgs::default()
                },
                None => RegressionArgs::default(),
            },
            correct: last,
            correct_steps: 400,
            out: Some(out.clone()),
            json: false,
            threads: a.threads,
            quiet: a.quiet,
            plots: if last { a.plots.clone() } else { None },
        })?;
        // The next pass assimilates into the model corrected by this pass's discovery. The
        // analyses lean towards the assimilating model, so a discovery falls short of the error
        // left in that model (measured: about 80% of it for the Jacobian of case 1004 at 50%);
        // each pass shrinks what is missed by that factor.
        correction = Some(out);
    }
    if !a.quiet {
        eprintln!("demo done in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// A demo run of the MEDIDA jet into `out`: the demo's spin-up, then `length` time units; the
/// demo's threads, no checkpoints, `extra` settings and then the user's `--set`s.
fn jet_run(
    a: &DemoArgs,
    out: &Path,
    length: f64,
    extra: &[&str],
    plots: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut set = vec![
        format!("run.threads={}", a.threads),
        "output.checkpoint_interval=0".to_string(),
    ];
    set.extend(extra.iter().map(|s| s.to_string()));
    set.extend(a.set.iter().cloned());
    crate::simulate::simulate(SimulateArgs {
        plots,
        preset: Some("medida-jet".into()),
        config: None,
        set,
        steps: None,
        tmax: Some(a.spinup + length),
        init: None,
        out: out.to_path_buf(),
        restart: None,
        model_error: None,
        spinup: Some(a.spinup),
        quiet: a.quiet,
    })
}

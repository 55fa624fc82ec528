//! `medida increments`: the MEDIDA pipeline's data. A truth run's snapshots start short
//! forecasts of the truth and of an imperfect model (the truth's config with a case's
//! coefficients); their difference per unit time, the analysis increment, is written with the
//! start states and forecasts, from full, interpolated or assimilated observations.

use crate::config::RunConfig;
use crate::ensemble::EnsembleArgs;
use crate::error::{Context, Error, input, input_err};
use crate::model::build_model;
use crate::observe::{analysis_spectra, interpolators, stored_analyses};
use crate::progress::Progress;
use crate::schema::field_schema;
use medida_data::{AttrValue, Frames, OutputFile, read_array, read_text_attr};
use medida_discovery::model_error::{
    Assimilator, CycleError, EnsembleAssimilator, EnsembleReport, Increments, Update,
};
use medida_discovery::observe::{ObservationSpec, error_spectrum};
use medida_discovery::ranks::{Ranks, position};
use std::path::{Path, PathBuf};
use std::sync::Arc;

type Result<T> = std::result::Result<T, Error>;

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
    /// Interpolator for --observe: spectral-oi[:noise=E] (default; E: the observation noise it
    /// assumes, relative to each field's standard deviation, default the --observe noise; above it,
    /// cycled analyses weight the observations against a background error much smaller than the
    /// climatological prior), rff-ridge[:frequencies=F,sigma=S,ridge=R,seed=K],
    /// rff-mlp[:frequencies=F,sigma=S,octaves=O,isotropic=0|1,width=W,depth=D,steps=N,lr=L,
    /// cosine=0|1,batch=B,refit=R,warm=N,seed=K] (O scales sigma, 2 sigma, ..; cosine: the learning
    /// rate decays to 0; refit: the output layer refitted by ridge R; warm: later snapshots start
    /// from the previous one's weights and train N steps), mlp[:width=...] or
    /// rbf (thin-plate spline; rbf:epsilon=E for scipy's multiquadric) or cubic[:margin=M]
    /// (Clough-Tocher on a Delaunay triangulation of the stations and their periodic images within
    /// M grid spacings, default 8; scipy's griddata cubic).
    #[arg(long, default_value = "spectral-oi")]
    pub interp: String,
    /// With --observe: the analyses (`q`) of an earlier `medida increments --observe` run with the
    /// same --truth and --observe, instead of interpolating again (--interp unused): several
    /// model errors or windows from one set of analyses (a network's take minutes each).
    #[arg(
        long,
        value_name = "FILE.h5",
        requires = "observe",
        conflicts_with = "assimilate"
    )]
    pub analyses: Option<PathBuf>,
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
    /// The ensemble filter instead of cycled interpolation (--filter and its settings).
    #[command(flatten)]
    pub ensemble: EnsembleArgs,
    /// Output file. An existing file is refused (replace it with --overwrite).
    #[arg(long, default_value = "increments.h5")]
    pub out: PathBuf,
    /// Replace an existing --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Threads (default: the truth config's run.threads).
    #[arg(long, value_parser = crate::parse_threads)]
    pub threads: Option<usize>,
    /// The processes sharing the ensemble's members (MPI ranks under `mpirun`; rank 0 writes
    /// `--out`), or `None` for this one alone: not a flag, the CLI's `mpi` feature sets it.
    #[arg(skip)]
    pub ranks: Option<Arc<dyn Ranks>>,
}

/// How the analyses assimilate.
enum Assimilation {
    /// Cycled interpolation or direct insertion.
    Cycled(Box<Assimilator>),
    /// An ensemble filter.
    Ensemble(Box<EnsembleAssimilator>),
}

/// A per-cycle, per-layer number as an output variable `(lev, cycle)`.
fn per_cycle<C>(cycles: &[C], f: impl Fn(&C) -> [f64; 2]) -> ndarray::ArrayD<f64> {
    ndarray::Array2::from_shape_fn((2, cycles.len()), |(lev, c)| f(&cycles[c])[lev]).into_dyn()
}

/// The steps between the analysis cycles that cycled assimilation `update` over `steps` steps
/// writes, or `None` when it writes none (direct insertion, which analyses at every step, or no
/// step at all).
fn written_cycles(update: Update, steps: u64) -> Option<u64> {
    match update {
        Update::Interpolate { every } if steps > 0 => Some(every),
        _ => None,
    }
}

/// The forecast and analysis errors of every cycle as output variables `(lev, cycle)`.
fn cycle_fields(cycles: &[CycleError]) -> Vec<ndarray::ArrayD<f64>> {
    vec![
        per_cycle(cycles, |c| c.forecast_rmse),
        per_cycle(cycles, |c| c.analysis_rmse),
    ]
}

/// The time means DA users compare filters by: the forecast and analysis RMSE per layer over
/// the second half of each snapshot's cycles (the first half left out as spin-up from the
/// interpolated first observations), averaged over the snapshots.
#[derive(Default)]
struct CycleMeans {
    sums: [[f64; 2]; 2],
    count: usize,
}

impl CycleMeans {
    fn add(&mut self, cycles: &[CycleError]) {
        for c in &cycles[cycles.len() / 2..] {
            for lev in 0..2 {
                self.sums[0][lev] += c.forecast_rmse[lev];
                self.sums[1][lev] += c.analysis_rmse[lev];
            }
            self.count += 1;
        }
    }

    /// The closing note, or `None` without cycles.
    fn note(&self) -> Option<String> {
        (self.count > 0).then(|| {
            let n = self.count as f64;
            let [f, a] = self.sums.map(|s| s.map(|v| v / n));
            format!(
                "cycles: RMSE over the second half of each snapshot's cycles, upper / lower layer: analysis {:.4e} / {:.4e}, forecast {:.4e} / {:.4e}",
                a[0], a[1], f[0], f[1]
            )
        })
    }
}

/// The ensemble's per-cycle diagnostics and rank histogram as output variables `(lev, cycle)`
/// and `(lev, rank)`, after its [`cycle_fields`].
fn ensemble_fields(report: &EnsembleReport) -> Vec<ndarray::ArrayD<f64>> {
    let ranks = report.rank_histogram[0].len();
    vec![
        per_cycle(&report.cycles, |c| c.forecast_spread),
        per_cycle(&report.cycles, |c| c.analysis_spread),
        ndarray::Array2::from_shape_fn((2, ranks), |(lev, r)| report.rank_histogram[lev][r] as f64)
            .into_dyn(),
    ]
}

/// Adds `variables` (name, units, dimension after `lev`, long name) to `schema`.
fn add_variables(schema: &mut medida_data::Schema, variables: &[(&str, &str, &str, &str)]) {
    for (name, units, dim, long_name) in variables {
        schema.variables.push(medida_data::Variable {
            name: (*name).into(),
            dims: vec!["lev".into(), (*dim).into()],
            units: (*units).into(),
            long_name: (*long_name).into(),
            complex: false,
        });
    }
}

/// Adds the analysis cycles' coordinate (`steps` steps, one analysis every `every`) and their
/// forecast and analysis errors to the increments' schema.
fn cycle_schema(schema: &mut medida_data::Schema, steps: u64, every: u64, q_units: &str) {
    schema.coords.push(medida_data::Coordinate {
        name: "cycle".into(),
        values: (1..=steps.div_ceil(every))
            .map(|c| (c * every).min(steps) as f64)
            .collect(),
        units: "steps".into(),
        long_name: "steps from the first observations to each analysis".into(),
        integer: true,
    });
    add_variables(
        schema,
        &[
            (
                "forecast_rmse",
                q_units,
                "cycle",
                "RMS error of the forecast (of an ensemble: its mean) against the truth",
            ),
            (
                "analysis_rmse",
                q_units,
                "cycle",
                "RMS error of the analysis (of an ensemble: its mean) against the truth",
            ),
        ],
    );
}

/// Adds the ensemble's rank coordinate and variables to the increments' schema, after
/// [`cycle_schema`]'s.
fn ensemble_schema(schema: &mut medida_data::Schema, members: usize, q_units: &str) {
    schema.coords.push(medida_data::Coordinate {
        name: "rank".into(),
        values: (0..=members).map(|r| r as f64).collect(),
        units: "1".into(),
        long_name: "number of forecast members below the truth".into(),
        integer: true,
    });
    add_variables(
        schema,
        &[
            (
                "forecast_spread",
                q_units,
                "cycle",
                "RMS over the grid of the forecast ensemble's standard deviation",
            ),
            (
                "analysis_spread",
                q_units,
                "cycle",
                "RMS over the grid of the analysis ensemble's standard deviation (after inflation)",
            ),
            (
                "rank_histogram",
                "1",
                "rank",
                "grid points and cycles where the truth has each rank among the forecast members",
            ),
        ],
    );
}

/// Splits `--set` into overrides of both models and of the imperfect model only.
fn split_sets(set: &[String]) -> (Vec<String>, Vec<String>) {
    set.iter()
        .cloned()
        .partition(|s| !s.trim_start().starts_with("model_error."))
}

/// The truth's config from a medida output's `config` attribute.
pub(crate) fn config_of(path: &Path, attr: &str) -> Result<String> {
    read_text_attr(path, attr).map_err(|e| {
        Error::Input(format!(
            "{}: {e} (is it a file written by medida?)",
            path.display()
        ))
    })
}

/// Writes the increments `a` describes.
pub fn increments(a: &IncrementsArgs, progress: &mut dyn Progress) -> Result<()> {
    crate::check_out(&a.out, a.overwrite, Some(&a.truth))?;
    let text = crate::pyqg_file::config_text(&a.truth)?;
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
    let mut inc = Increments::new(truth, model, a.window).map_err(input("--window"))?;
    let frames = Frames::open(&a.truth, "q").map_err(input("--truth"))?;
    let times = read_array(&a.truth, "time").map_err(input("--truth"))?;
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
        .map_err(input("--threads"))?;
    let observation = match &a.observe {
        Some(text) => {
            let spec = ObservationSpec::parse(text).map_err(input("--observe"))?;
            let interps = match &a.analyses {
                Some(path) => {
                    let picked_times: Vec<f64> = picked.iter().map(|&i| times[i]).collect();
                    stored_analyses(path, text, &picked_times)?
                }
                None => interpolators(a, &frames, inc.truth(), spec.noise)?,
            };
            schema.attrs.retain(|(k, _)| k != "observations");
            schema.attrs.extend([
                ("observations".into(), AttrValue::Str(format!("{text} (q observed at the stations; increments at the stations only, NaN elsewhere)"))),
                ("interpolator".into(), AttrValue::Str(interps[0].name())),
            ]);
            let wavenumber_units = crate::schema::units(&truth_cfg)("m^-1");
            schema.series = [
                ("analysis_error1", "1", "relative L2 error of the analysis (interpolated observations) against the true state"),
                ("analysis_error2", "1", "relative L2 error of the analysis (interpolated observations) against the true state"),
                ("error_reaches_signal1", wavenumber_units.as_str(), "isotropic wavenumber where the analysis error's spectrum first reaches the truth's (NaN: never)"),
                ("error_reaches_signal2", wavenumber_units.as_str(), "isotropic wavenumber where the analysis error's spectrum first reaches the truth's (NaN: never)"),
            ]
            .iter()
            .map(|(n, units, long_name)| medida_data::Variable {
                name: (*n).into(),
                dims: vec![],
                units: (*units).into(),
                long_name: (*long_name).into(),
                complex: false,
            })
            .collect();
            // The analysis error by scale (pyqg's isotropic rings), per time and layer.
            let zeros = vec![0.0; inc.truth().grid().n_phys()];
            let (kr, _, _) = error_spectrum(inc.truth().grid(), &zeros, &zeros);
            schema.coords.push(medida_data::Coordinate {
                name: "kr".into(),
                values: kr,
                units: wavenumber_units.clone(),
                long_name: "isotropic wavenumber (ring centres)".into(),
                integer: false,
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
                    complex: false,
                });
            }
            Some((spec, interps))
        }
        None => None,
    };
    let ensemble = a.ensemble.is_ensemble()?;
    let member_precision = a.ensemble.member_precision()?;
    if ensemble && a.assimilate.is_none() {
        return input_err!("--filter {} needs --assimilate TIME", a.ensemble.filter);
    }
    if let (Some(r), false) = (&a.ranks, ensemble) {
        return input_err!(
            "{} MPI ranks: only an ensemble filter's members (--assimilate TIME --filter enkf|letkf) are shared among ranks; run this without mpirun",
            r.size()
        );
    }
    let mut assimilation = match a.assimilate {
        None => None,
        Some(_) if a.observe.is_none() => {
            return input_err!("--assimilate needs --observe (what is observed is what is put in)");
        }
        Some(t) if !(t >= 0.0 && t.is_finite()) => {
            return input_err!("--assimilate {t}: allowed a time >= 0 (model time units)");
        }
        Some(t) => {
            // The assimilating model: with an ensemble, its members (in --member-precision).
            let mut assimilating = model_cfg.clone();
            if let Some(p) = member_precision {
                assimilating.model.precision = p;
            }
            let mut model = build_model(&assimilating)?;
            let mut what = String::from("the imperfect model");
            if let Some(path) = &a.correction {
                model
                    .add_term(crate::discover::correction_from(path)?)
                    .map_err(input(format!("--correction {}", path.display())))?;
                what = format!("the imperfect model corrected by {}", path.display());
            }
            let steps = (t / truth_cfg.model.dt).round() as u64;
            let q_units = crate::schema::units(&truth_cfg)("s^-1");
            if ensemble {
                if steps == 0 {
                    return input_err!(
                        "--assimilate {t} with --filter {}: allowed at least one time step ({}); an ensemble without an analysis cycle assimilates nothing",
                        a.ensemble.filter,
                        truth_cfg.model.dt
                    );
                }
                if a.update_every == 0 {
                    return input_err!(
                        "--update-every 0 with --filter {}: allowed 1 or more steps between analyses",
                        a.ensemble.filter
                    );
                }
                let spec = &observation.as_ref().expect("--observe was checked").0;
                let prior = crate::observe::prior_frames(a, &frames)?;
                let mut assimilator =
                    a.ensemble
                        .build(&model, &prior, steps, a.update_every, spec.seed)?;
                assimilator.ranks = a.ranks.clone();
                let every = a.update_every;
                cycle_schema(&mut schema, steps, every, &q_units);
                ensemble_schema(&mut schema, a.ensemble.members, &q_units);
                let how = format!(
                    "{what} as an ensemble ({}) run for {steps} steps from the interpolated observations plus perturbations, analysed every {every} steps; the analysis is the ensemble mean",
                    a.ensemble.describe()
                );
                schema.attrs.push(("analysis".into(), AttrValue::Str(how)));
                schema
                    .attrs
                    .push(("filter".into(), AttrValue::Str(a.ensemble.describe())));
                Some(Assimilation::Ensemble(Box::new(assimilator)))
            } else {
                let update = match a.update_every {
                    0 => Update::Insert,
                    every => Update::Interpolate { every },
                };
                if let Some(every) = written_cycles(update, steps) {
                    cycle_schema(&mut schema, steps, every, &q_units);
                }
                let how = match update {
                    Update::Insert => format!(
                        "direct insertion of the observations into {what} at every step for {steps} steps, from the interpolated observations"
                    ),
                    Update::Interpolate { every } => format!(
                        "{what} run for {steps} steps from the interpolated observations, with the interpolated innovations (observation minus model at the stations) added every {every} steps"
                    ),
                };
                schema.attrs.push(("analysis".into(), AttrValue::Str(how)));
                Some(Assimilation::Cycled(Box::new(Assimilator {
                    model,
                    steps,
                    update,
                })))
            }
        }
    };
    progress.begin(0, picked.len() as u64, truth_cfg.is_dimensional());
    // Over ranks every rank makes every analysis; rank 0 alone writes.
    let root = position(a.ranks.as_deref()).0 == 0;
    let tmp = medida_data::tmp_path(&a.out);
    let mut out = if root {
        Some(OutputFile::create(&tmp, &schema)?)
    } else {
        None
    };
    // Each ensemble cycle's wall time and the cycles' time means, for the closing note.
    let (mut cycle_seconds, mut means) = (Vec::new(), CycleMeans::default());
    let written = pool.install(|| -> Result<()> {
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
                    let (q_true, h, cycle_vars) = match assimilation.as_mut() {
                        None => {
                            let h = inc.observed(q0.view(), spec, i as u64, interps);
                            (q0.clone(), h.with_context(context)?, None)
                        }
                        Some(Assimilation::Cycled(assimilator)) => {
                            time += assimilator.steps as f64 * truth_cfg.model.dt;
                            let (q, h, cycles) = inc
                                .assimilated(q0.view(), spec, i as u64, interps, assimilator)
                                .with_context(context)?;
                            means.add(&cycles);
                            let fields = written_cycles(assimilator.update, assimilator.steps)
                                .map(|_| cycle_fields(&cycles));
                            (q, h, fields)
                        }
                        Some(Assimilation::Ensemble(assimilator)) => {
                            time += assimilator.steps as f64 * truth_cfg.model.dt;
                            let (q, h, report) = inc
                                .ensemble_assimilated(
                                    q0.view(),
                                    spec,
                                    i as u64,
                                    interps,
                                    assimilator,
                                )
                                .with_context(context)?;
                            let errors: Vec<_> = report.cycles.iter().map(|c| c.error).collect();
                            means.add(&errors);
                            cycle_seconds.extend(report.cycles.iter().map(|c| c.seconds));
                            let mut fields = cycle_fields(&errors);
                            fields.extend(ensemble_fields(&report));
                            (q, h, Some(fields))
                        }
                    };
                    let (err, tru, crossing) =
                        analysis_spectra(inc.truth().grid(), &q_true, &h.q_analysis);
                    if let Some(out) = out.as_mut() {
                        let [e1, e2] = h.analysis_error;
                        out.append_series(time, &[e1, e2, crossing[0], crossing[1]])?;
                    }
                    let mut fields = vec![
                        h.dqdt.into_dyn(),
                        h.q_analysis.into_dyn(),
                        h.q_forecast.into_dyn(),
                        err,
                        tru,
                    ];
                    fields.extend(cycle_vars.unwrap_or_default());
                    fields
                }
            };
            if let Some(out) = out.as_mut() {
                let views: Vec<_> = fields.iter().map(|f| f.view()).collect();
                out.append_snapshot(time, &views)?;
            }
            progress.step(n as u64 + 1, time);
            if progress.interrupted() {
                return Err(Error::Interrupted(format!("after {} increments", n + 1)));
            }
        }
        if let Some(out) = out.as_mut() {
            out.flush()?;
        }
        Ok(())
    });
    drop(out);
    if let Err(e) = written {
        if root {
            let _ = std::fs::remove_file(&tmp);
        }
        return Err(e);
    }
    progress.end();
    if !root {
        return Ok(());
    }
    medida_data::publish(&tmp, &a.out, a.overwrite)?;
    progress.note(&format!(
        "increments: {} snapshots, window {} steps ({}), written to {}",
        picked.len(),
        a.window,
        inc.window_time(),
        a.out.display()
    ));
    if let Some(text) = means.note() {
        progress.note(&text);
    }
    if !cycle_seconds.is_empty() {
        cycle_seconds.sort_by(f64::total_cmp);
        progress.note(&format!(
            "ensemble: {} cycles, {:.3} s each (median wall time: forecasts, analysis, diagnostics)",
            cycle_seconds.len(),
            cycle_seconds[cycle_seconds.len() / 2]
        ));
    }
    Ok(())
}

//! `medida discover`: the discovery pipeline ([`medida_discovery::model_error::Discovery`]) over
//! an increments file: the truth and the imperfect model rebuilt from the file's configs, the
//! library, the regression, the report written as JSON and HDF5.

use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use crate::increments::config_of;
use crate::model::build_model;
use crate::progress::Progress;
use crate::regression::RegressionArgs;
use medida_data::{Checkpoint, Frames, read_number_attr, read_text_attr};
use medida_discovery::DiscoveryError;
use medida_discovery::QgLibrary;
use medida_discovery::model_error::discovery::Stage;
use medida_discovery::model_error::discovery::{IncrementData, LibraryState};
use medida_discovery::model_error::{Discovery, DiscoveryReport};
use medida_solver::Term;
use ndarray::{Array2, Array3};
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Error>;

/// What `medida discover` was asked to do.
#[derive(clap::Args, Clone)]
pub struct DiscoverArgs {
    /// Increments written by `medida increments`.
    #[arg(long)]
    pub increments: PathBuf,
    /// Library: presets medida10 (the released 10 terms), wide (20) or pyqg (10 terms without the
    /// jet's psi_R, for pyqg's models), and/or terms, separated by `;` (e.g. "medida10;
    /// lap2(psi1); J(psi1, psi2)").
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
    /// Refit with each increment less its window drift under the previous fit (the corrected
    /// model's forecast minus the imperfect model's, less what the library says), at most N
    /// times, until the coefficients settle: for windows of more than one step, whose
    /// increments carry the error along the forecast (second order in the window) where the
    /// library sees it at one state. 0: off. Skipped where the drift is zero: one step of a
    /// stepper that starts with Euler, the filtered library on the start state (the default).
    /// Stops, and says why, when a fit's corrected model goes unstable over the window.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub drift_iterations: usize,
    /// Write the results to FILE.json and FILE.h5 (same stem). Existing files are refused
    /// (replace them with --overwrite), and so is a FILE.h5 that is the --increments file.
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// With --out: replace an earlier result of that name.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
    /// Threads.
    #[arg(long, default_value_t = 2, value_parser = crate::parse_threads)]
    pub threads: usize,
}

/// The increments of a file written by `medida increments`.
struct FileIncrements {
    q: Frames,
    q_forecast: Frames,
    dqdt: Frames,
    window: u64,
    sparse: bool,
}

impl FileIncrements {
    fn open(path: &Path) -> Result<Self> {
        let open = |name: &str| Frames::open(path, name).map_err(input(path.display()));
        let window = read_number_attr(path, "window_steps").map_err(input(path.display()))?;
        if !(window >= 1.0 && window.fract() == 0.0) {
            return input_err!(
                "{}: window_steps = {window}: allowed a whole number >= 1",
                path.display()
            );
        }
        Ok(Self {
            q: open("q")?,
            q_forecast: open("q_forecast")?,
            dqdt: open("dqdt")?,
            window: window as u64,
            sparse: read_text_attr(path, "interpolator").is_ok(),
        })
    }
}

fn read(frames: &Frames, i: usize) -> std::result::Result<Array3<f64>, DiscoveryError> {
    frames
        .read(i)
        .map_err(|e| DiscoveryError::Shape(format!("reading snapshot {i}: {e}")))
}

impl IncrementData for FileIncrements {
    fn len(&self) -> usize {
        self.dqdt.shape()[0]
    }
    fn window_steps(&self) -> u64 {
        self.window
    }
    fn sparse(&self) -> bool {
        self.sparse
    }
    fn start(&self, i: usize) -> std::result::Result<Array3<f64>, DiscoveryError> {
        read(&self.q, i)
    }
    fn forecast(&self, i: usize) -> std::result::Result<Array3<f64>, DiscoveryError> {
        read(&self.q_forecast, i)
    }
    fn increment(&self, i: usize) -> std::result::Result<Array3<f64>, DiscoveryError> {
        read(&self.dqdt, i)
    }
}

/// Runs the discovery `a` describes, noting its stages (the regression, every tenth of the
/// corrected forecasts) to `progress`; writes the report when `--out` is given.
pub fn discover(a: &DiscoverArgs, progress: &mut dyn Progress) -> Result<DiscoveryReport> {
    if let Some(out) = &a.out {
        check_report_out(out, a.overwrite, &a.increments)?;
    }
    let truth_cfg = RunConfig::from_toml(&config_of(&a.increments, "config")?)?;
    let model_cfg = RunConfig::from_toml(&config_of(&a.increments, "model_config")?)?;
    let truth = build_model(&truth_cfg)?;
    let model = build_model(&model_cfg)?;
    let mut library = QgLibrary::parse(&a.library).map_err(input("--library"))?;
    library.trim = a.trim;
    if a.min_neighbours > 8 {
        return input_err!("--min-neighbours {}: allowed 0 to 8", a.min_neighbours);
    }
    let data = FileIncrements::open(&a.increments)?;
    if data.len() == 0 {
        return input_err!("--increments {}: no increments", a.increments.display());
    }
    let mut discovery = Discovery::new(library, a.regression.plan()?);
    discovery.library_state =
        LibraryState::parse(&a.library_state).map_err(input("--library-state"))?;
    discovery.filtered = !a.unfiltered_library;
    discovery.min_neighbours = a.min_neighbours;
    discovery.correct_steps = a.correct.then_some(a.correct_steps);
    discovery.drift_iterations = a.drift_iterations;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(input("--threads"))?;
    let method = match &a.regression.ranks {
        Some(r) => format!("{}, over {} MPI ranks", a.regression.optimizer, r.size()),
        None => a.regression.optimizer.clone(),
    };
    let steps = a.correct_steps;
    let mut stage = |s: Stage| match s {
        Stage::Regression { rows, terms } => progress.note(&format!(
            "discover: fitting {terms} terms to {rows} points per layer ({method})"
        )),
        // Each tenth (and each forecast when there are fewer than ten).
        Stage::Forecasts { done, of } if (10 * done) / of != (10 * (done - 1)) / of => progress
            .note(&format!(
                "discover: corrected forecasts from {done} of {of} increments ({steps} steps each)"
            )),
        Stage::Forecasts { .. } => {}
        Stage::Drift { iteration } => progress.note(&format!(
            "discover: refitting less the window drift (iteration {iteration} of at most {})",
            a.drift_iterations
        )),
    };
    let mut report = pool
        .install(|| discovery.run_reporting(&data, &truth, &model, &mut stage))
        .map_err(|e| match e {
            DiscoveryError::Solver(s @ medida_solver::SolverError::Unstable { .. }) => {
                Error::Solver(s)
            }
            other => Error::Input(format!("--increments {}: {other}", a.increments.display())),
        })?;
    report.case = model_cfg.model_error.case.clone();
    report.description = model_cfg
        .model_error
        .description
        .clone()
        .or_else(|| changed_terms(&truth, &model));
    if let Some(path) = &a.out {
        write_report(path, &report)?;
    }
    Ok(report)
}

/// The imperfect model's coefficients that differ from the truth's, as `name = value (truth
/// value)`, and terms either lacks: the model error of a `[model_error]` table in words.
fn changed_terms(truth: &medida_solver::Model, model: &medida_solver::Model) -> Option<String> {
    let mut names: Vec<&str> = truth.terms().iter().map(|t| t.name()).collect();
    for t in model.terms() {
        if !names.contains(&t.name()) {
            names.push(t.name());
        }
    }
    let changes: Vec<String> = names
        .into_iter()
        .filter_map(|n| match (model.coefficient(n), truth.coefficient(n)) {
            (Some(m), Some(t)) if m != t => Some(format!("{n} = {m:e} (truth {t:e})")),
            (Some(m), None) => Some(format!("{n} = {m:e} (not in the truth)")),
            (None, Some(t)) => Some(format!("{n} missing (truth {t:e})")),
            _ => None,
        })
        .collect();
    (!changes.is_empty()).then(|| changes.join(", "))
}

/// Refuses a report `out` whose FILE.json or FILE.h5 exists (unless `overwrite`) or whose FILE.h5
/// is the `increments` it is made from: a discovery must not replace an earlier one unasked, nor
/// its own input.
fn check_report_out(out: &Path, overwrite: bool, increments: &Path) -> Result<()> {
    for path in [out.with_extension("json"), out.with_extension("h5")] {
        if crate::same_file(&path, increments) {
            return input_err!(
                "--out {}: its {} would replace the --increments file: choose another --out",
                out.display(),
                path.display()
            );
        }
        if path.exists() && !overwrite {
            return input_err!(
                "--out {}: {} exists: choose another --out, or replace it with --overwrite",
                out.display(),
                path.display()
            );
        }
    }
    Ok(())
}

/// A discovery's report read back (`medida discover --out FILE.json`).
pub fn read_report(path: &Path) -> Result<DiscoveryReport> {
    let bad = |what: String| Error::Input(format!("{}: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text)
        .map_err(|e| bad(format!("not a `medida discover --out` result: {e}")))
}

/// The `[correction]` of a config from a `medida discover --out` result.
pub fn correction_config(path: &Path) -> Result<crate::config::CorrectionConfig> {
    let report = read_report(path).map_err(input("--correction"))?;
    let terms = report
        .equation_terms()
        .map_err(input(format!("--correction {}", path.display())))?;
    Ok(crate::config::CorrectionConfig {
        terms: terms.iter().map(|(e, _)| e.to_string()).collect(),
        upper: terms.iter().map(|(_, c)| c[0]).collect(),
        lower: terms.iter().map(|(_, c)| c[1]).collect(),
        source: Some(path.display().to_string()),
    })
}

/// The equations of a discovery as a term of a model.
pub fn correction_from(path: &Path) -> Result<Term> {
    let report = read_report(path).map_err(input("--correction"))?;
    report
        .correction()
        .map_err(input(format!("--correction {}", path.display())))
}

/// FILE.json (the whole report) and FILE.h5 (coefficients, expected, std, the window-drift
/// iterations' changes, names), each written under a temporary name of this process, synced
/// and renamed: both, or (on a failure, a full disk) neither.
pub fn write_report(path: &Path, report: &DiscoveryReport) -> Result<()> {
    let text = serde_json::to_string_pretty(report).expect("a report serialises");
    let fit = &report.fit;
    let expected = Array2::from_shape_fn((report.expected.len(), fit.terms.len()), |(i, j)| {
        report.expected[i][j]
    });
    let mut h5 = Checkpoint::default();
    h5.arrays.push(("coef".into(), fit.coef.clone().into_dyn()));
    h5.arrays.push(("expected".into(), expected.into_dyn()));
    if let Some(s) = &fit.std {
        h5.arrays.push(("std".into(), s.clone().into_dyn()));
    }
    if !report.drift_changes.is_empty() {
        let changes = ndarray::Array1::from(report.drift_changes.clone());
        h5.arrays.push(("drift_changes".into(), changes.into_dyn()));
    }
    h5.texts.push(("terms".into(), fit.terms.join("\n")));
    h5.texts.push(("targets".into(), fit.targets.join("\n")));
    h5.texts.push(("equations".into(), fit.equations(6)));
    h5.texts.push(("method".into(), fit.method.clone()));
    let state = serde_json::to_value(report.library_state).expect("an enum serialises");
    h5.texts.push((
        "library_state".into(),
        state.as_str().unwrap_or_default().into(),
    ));
    if let Some(case) = &report.case {
        h5.texts.push(("case".into(), case.clone()));
    }
    // The arrays first, then the JSON that reports them: a result is both or neither.
    let h5_path = path.with_extension("h5");
    h5.write_atomic(&h5_path)?;
    if let Err(e) = crate::write_atomic(&path.with_extension("json"), text.as_bytes()) {
        let _ = std::fs::remove_file(&h5_path);
        return Err(e);
    }
    Ok(())
}

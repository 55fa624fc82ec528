//! The discovery itself: a library evaluated on the increments' states, both layers' increments
//! regressed on it by a [`Plan`], the result compared with the error the two models' terms
//! predict, and optionally the discovered equation added to the imperfect model to measure its
//! forecasts. The [`DiscoveryReport`] is the JSON schema that `medida discover --out` writes and
//! `medida plot`, `--correction`, the benches and the notebooks read.

use super::correction::{CorrectionReport, correction_term, forecast_skill};
use super::expected::expected_error;
use crate::error::DiscoveryError;
use crate::library::QgLibrary;
use crate::observe::observed_neighbours;
use crate::regression::plan::RowSink;
use crate::regression::{EnsembleSummary, PathPoint, Plan, SparseFit};
use medida_solver::{Model, Stepper};
use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};

/// Increments to discover from: per snapshot the start state `q`, the imperfect model's
/// forecast `q_forecast` and the increment `dqdt` (NaN where unobserved), each `(2, ny, nx)`.
pub trait IncrementData {
    /// Number of increments.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The forecast window in steps.
    fn window_steps(&self) -> u64;
    /// Whether the increments come from sparse observations (NaN off the stations).
    fn sparse(&self) -> bool;
    /// The start state of increment `i`.
    fn start(&self, i: usize) -> Result<Array3<f64>, DiscoveryError>;
    /// The imperfect model's forecast of increment `i`.
    fn forecast(&self, i: usize) -> Result<Array3<f64>, DiscoveryError>;
    /// Increment `i` per unit time.
    fn increment(&self, i: usize) -> Result<Array3<f64>, DiscoveryError>;
}

/// Increments held in memory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncrementSet {
    /// Start states.
    pub q: Vec<Array3<f64>>,
    /// Forecasts of the imperfect model.
    pub q_forecast: Vec<Array3<f64>>,
    /// Increments per unit time.
    pub dqdt: Vec<Array3<f64>>,
    /// The window in steps.
    pub window: u64,
    /// From sparse observations.
    pub sparse: bool,
}

impl IncrementData for IncrementSet {
    fn len(&self) -> usize {
        self.dqdt.len()
    }
    fn window_steps(&self) -> u64 {
        self.window
    }
    fn sparse(&self) -> bool {
        self.sparse
    }
    fn start(&self, i: usize) -> Result<Array3<f64>, DiscoveryError> {
        pick(&self.q, i, "q")
    }
    fn forecast(&self, i: usize) -> Result<Array3<f64>, DiscoveryError> {
        pick(&self.q_forecast, i, "q_forecast")
    }
    fn increment(&self, i: usize) -> Result<Array3<f64>, DiscoveryError> {
        pick(&self.dqdt, i, "dqdt")
    }
}

fn pick(v: &[Array3<f64>], i: usize, name: &str) -> Result<Array3<f64>, DiscoveryError> {
    v.get(i).cloned().ok_or_else(|| {
        DiscoveryError::Shape(format!("{name} has {} snapshots, asked for {i}", v.len()))
    })
}

/// The state the library is evaluated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LibraryState {
    /// `Start` for one step of a stepper whose first step is Euler (exact), else `Mean`.
    #[default]
    Auto,
    /// The observed state the forecasts start from.
    Start,
    /// The imperfect model's forecast (the released code's choice).
    Forecast,
    /// The mean of the two: second order in the window.
    Mean,
}

impl LibraryState {
    /// `auto`, `start`, `forecast` or `mean`.
    pub fn parse(s: &str) -> Result<Self, DiscoveryError> {
        Ok(match s {
            "auto" => Self::Auto,
            "start" => Self::Start,
            "forecast" => Self::Forecast,
            "mean" => Self::Mean,
            _ => {
                return Err(DiscoveryError::InvalidSetting {
                    name: "library_state",
                    value: format!("{s:?}"),
                    allowed: "auto, start, forecast or mean",
                });
            }
        })
    }

    /// `Auto` resolved for a window of `window` steps of `stepper`.
    pub fn resolve(self, window: u64, stepper: Stepper) -> Self {
        match self {
            Self::Auto if window == 1 && stepper != Stepper::Rk4 => Self::Start,
            Self::Auto => Self::Mean,
            s => s,
        }
    }

    /// Weights of the start state and of the forecast.
    fn weights(self) -> [f64; 2] {
        match self {
            Self::Start | Self::Auto => [1.0, 0.0],
            Self::Forecast => [0.0, 1.0],
            Self::Mean => [0.5, 0.5],
        }
    }
}

/// One row of the comparison table: a term expected or discovered in a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Layer, 1 = upper.
    pub layer: usize,
    /// Library term.
    pub term: String,
    /// Expected coefficient (0 when not expected).
    pub expected: f64,
    /// Discovered coefficient (0 when not selected).
    pub discovered: f64,
    /// Posterior standard deviation (RVM).
    pub std: Option<f64>,
    /// `100 |discovered - expected| / |expected|`, when a term is expected.
    pub error_percent: Option<f64>,
}

/// Everything a discovery found and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryReport {
    /// The chosen fit: coefficients `(layer, term)` of `dq1/dt`, `dq2/dt`.
    pub fit: SparseFit,
    /// The threshold sweep's path, when the threshold was selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathPoint>>,
    /// The path index chosen per layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Vec<usize>>,
    /// The bagging ensemble.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleSummary>,
    /// The model-error case, if the imperfect model came from one.
    pub case: Option<String>,
    /// What the case changes, in words.
    pub description: Option<String>,
    /// The library, as specified (`medida10; lap2(psi1)`).
    #[serde(default)]
    pub library: String,
    /// The expected coefficients, `(layer, term)`.
    pub expected: Vec<Vec<f64>>,
    /// Parts of the expected error outside the library.
    pub expected_outside_library: Vec<String>,
    /// Expected and discovered terms side by side.
    pub table: Vec<Row>,
    /// Whether the discovered support is the expected one in both layers.
    pub support_exact: bool,
    /// Sum of squares of each layer's increments.
    pub yty: Vec<f64>,
    /// Rows fitted.
    pub rows: usize,
    /// Increments used.
    pub snapshots: usize,
    /// Whether they came from sparse observations.
    #[serde(default)]
    pub sparse: bool,
    /// The state the library was evaluated on (resolved).
    pub library_state: LibraryState,
    /// Whether the library's columns carry the model's update filter.
    pub library_filtered: bool,
    /// The window-drift iterations ([`Discovery::drift_iterations`]): after each, the largest
    /// change of a coefficient relative to the largest coefficient of its layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift_changes: Vec<f64>,
    /// Why the window-drift refits stopped before settling, when a fit's corrected model went
    /// unstable over the window (the fit reported is then that fit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_stopped: Option<String>,
    /// The corrected model's forecasts, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<CorrectionReport>,
}

impl DiscoveryReport {
    /// The discovered equations as `(expression, [layer 1, layer 2])` coefficients.
    pub fn equation_terms(&self) -> Result<Vec<(medida_solver::Expr, [f64; 2])>, DiscoveryError> {
        let coef = |lev: usize, j: usize| self.fit.coef.get([lev, j]).copied();
        self.fit
            .terms
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let e = medida_solver::Expr::parse(name).map_err(crate::error::library_error)?;
                match (coef(0, j), coef(1, j)) {
                    (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Ok((e, [a, b])),
                    _ => Err(DiscoveryError::Shape(format!(
                        "the fit has no finite coefficient of `{name}` in both layers"
                    ))),
                }
            })
            .collect()
    }

    /// The discovered equations as a term to add to a model ([`correction_term`]).
    pub fn correction(&self) -> Result<medida_solver::Term, DiscoveryError> {
        Ok(correction_term(&self.equation_terms()?))
    }

    /// The report as `medida discover` prints it: the case, the equations, the table of expected
    /// and discovered coefficients, the support, the corrected model's forecasts, the ensemble.
    pub fn summary(&self) -> String {
        let fit = &self.fit;
        let what = match (&self.case, &self.description) {
            (Some(c), Some(d)) => format!("{c}: {d}"),
            (Some(c), None) => c.clone(),
            (None, Some(d)) => format!("of the [model_error] settings: {d}"),
            (None, None) => "of the [model_error] settings".into(),
        };
        let per_snapshot = fit.n / self.snapshots.max(1);
        let points = if self.sparse {
            format!("{per_snapshot} observed points on average")
        } else {
            format!("{per_snapshot} points")
        };
        let mut out = format!(
            "model error {what}\n{} increments x {points}, library {} ({} terms), {}\n\n{}",
            self.snapshots,
            self.library,
            fit.terms.len(),
            fit.method,
            fit.equations(4)
        );
        out.push_str(&format!(
            "\n{:<14} {:>5} {:>12} {:>12} {:>10} {:>9}\n",
            "term", "layer", "expected", "discovered", "+-std", "error %"
        ));
        for r in &self.table {
            out.push_str(&format!(
                "{:<14} {:>5} {:>12} {:>12} {:>10} {:>9}\n",
                r.term,
                r.layer,
                number(r.expected),
                number(r.discovered),
                r.std.map_or("".into(), |s| format!("{s:.1e}")),
                r.error_percent
                    .map_or("spurious".into(), |e| format!("{e:.2e}"))
            ));
        }
        out.push_str(&format!(
            "\nsupport {}; largest coefficient error {:.2e} %\n",
            if self.support_exact {
                "exact in both layers"
            } else {
                "NOT the expected one"
            },
            self.worst_error_percent()
        ));
        for o in &self.expected_outside_library {
            out.push_str(&format!(
                "note: the library cannot express part of the expected error: {o}\n"
            ));
        }
        if let Some(why) = &self.drift_stopped {
            out.push_str(&format!(
                "window drift: refits stopped after {}: {why}; this is that fit, its drift not removed\n",
                self.drift_changes.len()
            ));
        } else if let Some(last) = self.drift_changes.last() {
            out.push_str(&format!(
                "window drift removed: {} refits, the last changed a coefficient by {last:.1e} of its layer's largest{}\n",
                self.drift_changes.len(),
                if *last > DRIFT_TOLERANCE { " (not settled)" } else { "" }
            ));
        }
        if let Some(c) = &self.correction {
            out.push_str(&c.summary());
        }
        if let Some(e) = &self.ensemble {
            out.push_str(&e.text(&fit.terms, &fit.targets));
        }
        for (t, yty) in fit.targets.iter().zip(&self.yty) {
            if *yty == 0.0 {
                out.push_str(&format!(
                    "{t}: the increments are zero: the two models agree in this layer\n"
                ));
            }
        }
        out
    }

    /// The fit's warnings, but for the layers whose increments are zero (which rightly have no
    /// terms, as [`DiscoveryReport::summary`] says).
    pub fn warnings(&self) -> Vec<&str> {
        let zero = |w: &str| {
            self.fit
                .targets
                .iter()
                .zip(&self.yty)
                .any(|(t, y)| *y == 0.0 && w.starts_with(t.as_str()))
        };
        self.fit
            .warnings
            .iter()
            .map(String::as_str)
            .filter(|w| !zero(w))
            .collect()
    }

    /// The largest coefficient error of the expected terms, in percent.
    pub fn worst_error_percent(&self) -> f64 {
        self.table
            .iter()
            .filter_map(|r| r.error_percent)
            .fold(0.0, f64::max)
    }
}

/// A discovery: library, regression and what else to do.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The library (its spec is reported; its filter is set from the model when `filtered`).
    pub library: QgLibrary,
    /// The regression.
    pub regression: Plan,
    /// The state the library is evaluated on.
    pub library_state: LibraryState,
    /// Multiply the columns by the model's update filter, as one-step increments are.
    pub filtered: bool,
    /// Sparse observations: use only stations with at least this many of their 8 neighbours
    /// observed (0: every station).
    pub min_neighbours: u8,
    /// Also run the corrected model this many steps from every start state.
    pub correct_steps: Option<u64>,
    /// Refits with each increment less its window drift under the previous fit, at most this
    /// many times (0: none), stopping once no coefficient changes by more than
    /// [`DRIFT_TOLERANCE`] of its layer's largest. Over a window of more than one step the
    /// increment is not the error's tendency at one state but the error carried along by the
    /// model: the difference of two trajectories drifts apart by the advection of what the
    /// error has already changed, second order in the window, which a library evaluated at one
    /// state cannot follow (on the MEDIDA jet a 20-step window gives a spurious `J(psi2, q2)`
    /// even from full, noise-free observations). The drift of a fit `c` is the forecast of the
    /// imperfect model corrected by `c` minus the imperfect model's, per unit time, less the
    /// library times `c`; with the drift of the true coefficients removed, the increments are
    /// the library times them to first order in the error, whatever the window. Skipped for
    /// one step of a stepper whose first step is Euler with the library on the start state,
    /// filtered: there the drift is zero. When a fit's corrected model goes unstable over the
    /// window the refits stop with that fit ([`DiscoveryReport::drift_stopped`]).
    pub drift_iterations: usize,
}

/// Where the window-drift iterations stop: no coefficient changed by more than this fraction
/// of its layer's largest.
pub const DRIFT_TOLERANCE: f64 = 1e-6;

/// A stage of a discovery, reported as it is reached ([`Discovery::run_reporting`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The regression begins over `rows` rows (points of every increment) and `terms` columns.
    Regression { rows: usize, terms: usize },
    /// The truth's, the imperfect and the corrected model's forecasts from `done` of `of`
    /// start states have run.
    Forecasts { done: usize, of: usize },
    /// Window-drift iteration `iteration` ([`Discovery::drift_iterations`]) refits.
    Drift { iteration: usize },
}

/// The two layers' increments are the targets.
pub const TARGETS: [&str; 2] = ["dq1/dt", "dq2/dt"];

impl Discovery {
    /// A discovery over `library` by `regression`, library state `auto`, filtered columns,
    /// every station, no correction.
    pub fn new(library: QgLibrary, regression: Plan) -> Self {
        Self {
            library,
            regression,
            library_state: LibraryState::Auto,
            filtered: true,
            min_neighbours: 0,
            correct_steps: None,
            drift_iterations: 0,
        }
    }

    /// Discovers the error of `model` with respect to `truth` from `data`.
    pub fn run(
        &self,
        data: &dyn IncrementData,
        truth: &Model,
        model: &Model,
    ) -> Result<DiscoveryReport, DiscoveryError> {
        self.run_reporting(data, truth, model, &mut |_| {})
    }

    /// [`Discovery::run`], calling `stage` as each [`Stage`] is reached.
    pub fn run_reporting(
        &self,
        data: &dyn IncrementData,
        truth: &Model,
        model: &Model,
        stage: &mut (dyn FnMut(Stage) + Send),
    ) -> Result<DiscoveryReport, DiscoveryError> {
        let mut library = self.library.clone();
        if self.filtered {
            let f = truth.update_filter(0);
            if f != truth.update_filter(1) {
                return Err(DiscoveryError::InvalidSetting {
                    name: "filtered",
                    value: "true".into(),
                    allowed: "false when the model's update filter differs between layers",
                });
            }
            library.filter = Some(f.to_vec());
        }
        let eval = truth.evaluator();
        library.check(&eval)?;
        if self.min_neighbours > 8 {
            return Err(crate::error::invalid(
                "min_neighbours",
                self.min_neighbours,
                "0 to 8",
            ));
        }
        let snapshots = data.len();
        if snapshots == 0 {
            return Err(DiscoveryError::Degenerate("there are no increments".into()));
        }
        let state = self
            .library_state
            .resolve(data.window_steps(), truth.params().stepper);
        let rows = library.rows(&eval);
        let names = library.library();
        let p = names.len();
        let nx = truth.grid().nx;
        // Snapshot i's targets (rows x 2) less its window drift, and the rows that have them.
        let targets_of = |i: usize,
                          drift: Option<&[Array2<f64>]>|
         -> Result<(Array2<f64>, Vec<usize>), DiscoveryError> {
            let mut h = data.increment(i)?;
            check_shape(&h, truth)?;
            if self.min_neighbours > 0 {
                drop_isolated_stations(&mut h, self.min_neighbours);
            }
            let mut y = Array2::zeros((rows, 2));
            for lev in 0..2 {
                let field = h.index_axis(Axis(0), lev);
                let field: Vec<f64> = field.iter().copied().collect();
                for (dst, src) in y
                    .column_mut(lev)
                    .iter_mut()
                    .zip(library.trimmed(&field, nx))
                {
                    *dst = src;
                }
            }
            if let Some(d) = drift {
                y -= &d[i];
            }
            let keep = (0..rows)
                .filter(|&r| y[[r, 0]].is_finite() && y[[r, 1]].is_finite())
                .collect();
            Ok((y, keep))
        };
        // Rows per snapshot: all of them, or the observed ones.
        let counts = if data.sparse() {
            (0..snapshots)
                .map(|i| Ok(targets_of(i, None)?.1.len()))
                .collect::<Result<Vec<_>, DiscoveryError>>()?
        } else {
            vec![rows; snapshots]
        };
        let n = counts.iter().sum();
        if n == 0 {
            return Err(DiscoveryError::Degenerate(format!(
                "no rows to fit (no observed points{})",
                if self.min_neighbours > 0 {
                    format!(" with {} observed neighbours", self.min_neighbours)
                } else {
                    String::new()
                }
            )));
        }
        // The state snapshot i's library is evaluated on.
        let library_state = |i: usize| -> Result<Array3<f64>, DiscoveryError> {
            Ok(match state.weights() {
                [1.0, 0.0] => data.start(i)?,
                [0.0, 1.0] => data.forecast(i)?,
                [w0, w1] => data.start(i)? * w0 + data.forecast(i)? * w1,
            })
        };
        let fit = |drift: Option<&[Array2<f64>]>| {
            let pass = |sink: &mut RowSink<DiscoveryError>| {
                let mut eval = truth.evaluator();
                for (i, &count) in counts.iter().enumerate() {
                    // Over MPI ranks, another rank's snapshots are neither read nor evaluated here.
                    if !sink.wants(count) {
                        sink.skip(count);
                        continue;
                    }
                    let (y, keep) = targets_of(i, drift)?;
                    let s = eval.state(library_state(i)?.view())?;
                    let x = library.columns(&mut eval, &s)?;
                    if keep.len() == rows {
                        sink.push(x.view(), y.view())?;
                    } else {
                        sink.push(
                            x.select(Axis(0), &keep).view(),
                            y.select(Axis(0), &keep).view(),
                        )?;
                    }
                }
                Ok(())
            };
            self.regression.run(n, p, 2, &names, &TARGETS, pass)
        };
        stage(Stage::Regression { rows: n, terms: p });
        let mut out = fit(None)?;
        let window = data.window_steps();
        // One filtered Euler step from the start state: the increment is the filtered library
        // times the error exactly, and the drift zero.
        let no_drift = window == 1
            && state == LibraryState::Start
            && self.filtered
            && truth.params().stepper != Stepper::Rk4;
        let iterations = if no_drift { 0 } else { self.drift_iterations };
        let (mut drift_changes, mut drift_stopped) = (Vec::new(), None);
        // What the refits share: the start states, the imperfect model's states after the
        // window from them, and an evaluator for the library's columns.
        let (mut starts, mut imperfect_ends) = (Vec::new(), Vec::new());
        if iterations > 0 {
            let mut imperfect = model.clone();
            for i in 0..snapshots {
                let q0 = data.start(i)?;
                imperfect.set_q(q0.view())?;
                imperfect.run(window).map_err(|e| {
                    DiscoveryError::Degenerate(format!(
                        "removing the window drift: the imperfect model over the window from \
                         increment {i}: {e}"
                    ))
                })?;
                imperfect_ends.push(imperfect.q());
                starts.push(q0);
            }
        }
        let mut eval = truth.evaluator();
        'refits: for iteration in 1..=iterations {
            let coef = &out.fit.coef;
            let mut corrected = model.clone();
            corrected.add_term(fitted_correction(&library, coef))?;
            let mut drift = Vec::with_capacity(snapshots);
            for (i, (q0, end)) in starts.iter().zip(&imperfect_ends).enumerate() {
                let s = eval.state(library_state(i)?.view())?;
                let x = library.columns(&mut eval, &s)?;
                match window_drift(&mut corrected, coef, q0, end, window, x, &library)? {
                    Ok(d) => drift.push(d),
                    Err(why) => {
                        drift_stopped = Some(format!(
                            "the model corrected by {} went unstable over the window from \
                             increment {i} ({why})",
                            match iteration {
                                1 => "the first fit".to_string(),
                                _ => format!("refit {}", iteration - 1),
                            }
                        ));
                        break 'refits;
                    }
                }
            }
            stage(Stage::Drift { iteration });
            let next = fit(Some(&drift))?;
            let change = relative_change(coef, &next.fit.coef);
            out = next;
            drift_changes.push(change);
            if change <= DRIFT_TOLERANCE {
                break;
            }
        }
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
        let support_exact = (0..2).all(|lev| {
            (0..p).all(|j| (expected.coef[[lev, j]] != 0.0) == (fit.coef[[lev, j]] != 0.0))
        });
        let correction = match self.correct_steps {
            Some(steps) => {
                let mut corrected = model.clone();
                corrected.add_term(fitted_correction(&library, &fit.coef))?;
                let starts = (0..snapshots)
                    .map(|i| data.start(i))
                    .collect::<Result<Vec<_>, _>>()?;
                let of = starts.len();
                let mut done = |done| stage(Stage::Forecasts { done, of });
                Some(forecast_skill(
                    truth, model, &corrected, &starts, steps, &mut done,
                )?)
            }
            None => None,
        };
        Ok(DiscoveryReport {
            path: out.selection.as_ref().map(|s| s.path.clone()),
            chosen: out.selection.as_ref().map(|s| s.chosen.clone()),
            ensemble: out.ensemble.clone(),
            case: None,
            description: None,
            library: library.spec().to_string(),
            expected: expected.coef.outer_iter().map(|r| r.to_vec()).collect(),
            expected_outside_library: expected.outside,
            table,
            support_exact,
            yty: out.yty.clone(),
            rows: fit.n,
            snapshots,
            sparse: data.sparse(),
            library_state: state,
            library_filtered: self.filtered,
            drift_changes,
            drift_stopped,
            correction,
            fit: out.fit,
        })
    }
}

/// The fit `coef` (`2 x p`) over `library` as a term to add to the imperfect model.
fn fitted_correction(library: &QgLibrary, coef: &Array2<f64>) -> medida_solver::Term {
    let terms: Vec<_> = library
        .terms()
        .iter()
        .enumerate()
        .map(|(j, e)| (e.clone(), [coef[[0, j]], coef[[1, j]]]))
        .collect();
    correction_term(&terms)
}

/// The window drift of the fit `coef` from the start state `q0` (rows x 2, the library's kept
/// points): `corrected` (the imperfect model corrected by the fit) run `window` steps from `q0`
/// minus the imperfect model's state `imperfect_end` after the same, per unit time, less the
/// library's columns `x` at the snapshot's library state times `coef`
/// ([`Discovery::drift_iterations`]). `Err(why)` when the corrected model goes unstable (a
/// result about the fit).
fn window_drift(
    corrected: &mut Model,
    coef: &Array2<f64>,
    q0: &Array3<f64>,
    imperfect_end: &Array3<f64>,
    window: u64,
    x: Array2<f64>,
    library: &QgLibrary,
) -> Result<Result<Array2<f64>, String>, DiscoveryError> {
    corrected.set_q(q0.view())?;
    if let Err(e) = corrected.run(window) {
        return Ok(Err(e.to_string()));
    }
    let change = (corrected.q() - imperfect_end) / (window as f64 * corrected.params().dt);
    let nx = change.shape()[2];
    let mut drift = -x.dot(&coef.t());
    for (lev, mut column) in drift.columns_mut().into_iter().enumerate() {
        let field: Vec<f64> = change.index_axis(Axis(0), lev).iter().copied().collect();
        for (d, c) in column.iter_mut().zip(library.trimmed(&field, nx)) {
            *d += c;
        }
    }
    Ok(Ok(drift))
}

/// The largest change from `a` to `b` of a coefficient, relative to the largest coefficient of
/// its layer (row) in either (0 where the layer is zero in both).
fn relative_change(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.outer_iter()
        .zip(b.outer_iter())
        .map(|(a, b)| {
            let scale = a.iter().chain(&b).fold(0.0_f64, |m, v| m.max(v.abs()));
            let change = a
                .iter()
                .zip(&b)
                .fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
            if scale > 0.0 { change / scale } else { change }
        })
        .fold(0.0, f64::max)
}

fn check_shape(h: &Array3<f64>, model: &Model) -> Result<(), DiscoveryError> {
    let g = model.grid();
    if h.shape() != [2, g.ny, g.nx] {
        return Err(DiscoveryError::Shape(format!(
            "increments of shape {:?} for a {} x {} model",
            h.shape(),
            g.nx,
            g.ny
        )));
    }
    Ok(())
}

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

/// A coefficient for the table: 5 decimals where that shows 5 significant digits' worth, the
/// exponent form for SI-sized ones (`4.2e-7`, not `0.00000`).
fn number(x: f64) -> String {
    if x == 0.0 || (1e-2..1e6).contains(&x.abs()) {
        format!("{x:.5}")
    } else {
        format!("{x:.4e}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_numbers_keep_their_digits() {
        assert_eq!(super::number(4.2e-7), "4.2000e-7");
        assert_eq!(super::number(-5.787e-7), "-5.7870e-7");
        assert_eq!(super::number(0.37), "0.37000");
        assert_eq!(super::number(0.0), "0.00000");
        assert_eq!(super::number(1.5e-11), "1.5000e-11");
    }
}

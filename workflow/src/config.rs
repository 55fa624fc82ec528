//! Run configuration: a preset shipped in the binary or a TOML file, then `--set key=value`
//! overrides. Unknown keys and out-of-range values are input errors naming the key, the value
//! and the allowed range.
//!
//! Sections: `[model]` (grid, time step, inversion, filter: [`QgParams`]), `[jet]` (when present,
//! the MEDIDA forced jet's terms replace pyqg's; its profile `u1`, `sigma`), `[turbulence]` (when
//! present, forced 2-D turbulence's terms; its forcing wavenumber `kf`), `[terms]` (every
//! term's coefficient by term name, one name per coefficient), `[init]`, `[run]`, `[output]` and
//! `[model_error]` (new coefficients by term name: the imperfect model).

use crate::error::{Error, input_err};
use medida_solver::QgParams;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

type Result<T> = std::result::Result<T, Error>;

/// Presets shipped in the binary: name, TOML.
pub const PRESETS: [(&str, &str); 4] = [
    ("pyqg-eddy", include_str!("../presets/pyqg-eddy.toml")),
    ("pyqg-jet", include_str!("../presets/pyqg-jet.toml")),
    ("medida-jet", include_str!("../presets/medida-jet.toml")),
    (
        "2d-turbulence",
        include_str!("../presets/2d-turbulence.toml"),
    ),
];

/// The model-error cases of the MEDIDA study, as coefficient changes by term name.
const MODEL_ERRORS: &str = include_str!("../presets/model-errors.toml");

/// Everything a run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Grid, time step, inversion and filter (pyqg names and units).
    pub model: QgParams,
    /// The MEDIDA forced jet: when present, its terms replace pyqg's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jet: Option<JetProfile>,
    /// Forced 2-D turbulence (the SMARL study's cases): when present, its terms replace pyqg's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turbulence: Option<Turbulence>,
    /// Every term's coefficient, by term name (missing ones take the family's truth value).
    #[serde(default)]
    pub terms: BTreeMap<String, f64>,
    /// Initial condition.
    pub init: InitConfig,
    /// Length of the run and threads.
    pub run: RunSection,
    /// What is written and how often.
    pub output: OutputConfig,
    /// An imperfect model: coefficients changed from the truth, by term name.
    #[serde(default, skip_serializing_if = "ModelError::is_empty")]
    pub model_error: ModelError,
    /// A closure added to the tendency (a built-in or a discovered one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<ClosureConfig>,
    /// A discovered model-error correction added to the tendency (`medida discover --out`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<CorrectionConfig>,
}

/// The equations of a model-error discovery as a term of the model: `dq_i/dt += sum_j c_ij T_j`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionConfig {
    /// The terms `T_j` (`lap(psi2)`, `psi_R`, ...).
    pub terms: Vec<String>,
    /// Their coefficients in the upper layer.
    pub upper: Vec<f64>,
    /// Their coefficients in the lower layer.
    pub lower: Vec<f64>,
    /// Where it came from (a result file), for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A closure added to the model's tendency: a built-in (`builtin`, as `medida closure list`
/// names them) or the result of `medida closure discover` (`library` and its coefficients per
/// layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureConfig {
    /// A built-in closure: `smagorinsky:cs=0.15`, `backscatter`, `backscatter-jet`, `zb20`,
    /// `ross7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// A discovered closure's library (the `--library` of `medida closure discover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// Its coefficients in the upper layer, in the library's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upper: Vec<f64>,
    /// Its coefficients in the lower layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lower: Vec<f64>,
    /// A `medida closure train-rl` policy (its JSON text, so the run's config holds all of it):
    /// its closure's coefficient field set by the frozen policy as the model runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Where it came from (a result file), for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The MEDIDA jet's profile (non-dimensional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JetProfile {
    /// Jet width.
    pub sigma: f64,
    /// Jet amplitude.
    pub u1: f64,
}

/// Forced 2-D turbulence's forcing shape (non-dimensional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turbulence {
    /// Forcing wavenumber `kf` of `kf [cos(kf x) + cos(kf y)]` (the amplitude is the
    /// `kolmogorov_forcing` term's coefficient, `kf` unless `[terms]` says otherwise).
    pub kf: f64,
}

/// Coefficient changes that turn the configured truth into an imperfect model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelError {
    /// The named case the changes come from (`--model-error case1002`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// What the case changes, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New coefficient by term name (`interface_relaxation = 0.11`).
    #[serde(flatten)]
    pub coefficients: BTreeMap<String, f64>,
}

impl ModelError {
    fn is_empty(&self) -> bool {
        self.case.is_none() && self.coefficients.is_empty()
    }
}

/// The initial condition: pyqg's random recipe from `seed`, unless `--init FILE` gives q.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitConfig {
    /// Seed of pyqg's random initial PV (NumPy's legacy generator, so pyqg gives the same field).
    pub seed: u32,
    /// Factor on that field (1: pyqg's amplitude).
    #[serde(default = "unit")]
    pub scale: f64,
}

fn unit() -> f64 {
    1.0
}

/// Length of the run: `steps`, or `tmax` in the model's time unit (seconds for pyqg's
/// presets, non-dimensional for the jet and 2-D turbulence; then `ceil(tmax / dt)` steps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Number of steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// Model time to reach, in the model's time unit (as `dt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmax: Option<f64>,
    /// Model time run before the first snapshot or diagnostics record (spin-up, not written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spinup: Option<f64>,
    /// Threads (the two layers run in parallel; results are the same at any count).
    pub threads: usize,
}

/// Output intervals (in steps; 0 = never) and storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Steps between snapshots of q, p, u, v (the initial state is the first; 0: the final
    /// state only).
    pub snapshot_interval: u64,
    /// Steps between diagnostics records.
    pub diagnostics_interval: u64,
    /// Steps between checkpoints (one is always written at the end).
    pub checkpoint_interval: u64,
    /// `"f32"` or `"f64"` storage of fields and series.
    pub precision: String,
    /// Deflate level, 0 (none) to 9.
    pub compression: u8,
    /// Also write pyqg's complex `qh` and `ph` (dims `time, lev, l, k`, pyqg's order, unnormalised).
    #[serde(default)]
    pub spectral: bool,
    /// Accumulate pyqg's time-averaged diagnostics (KEspec, KEflux, APEgenspec, ...) from this
    /// model time on [s] (pyqg `tavestart`); written at the end of the run. Unset: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tavestart: Option<f64>,
    /// Interval between accumulations [s] (pyqg `taveint`, 86400 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taveint: Option<f64>,
}

impl OutputConfig {
    /// pyqg's default `taveint` [s].
    pub const TAVEINT: f64 = 86400.0;
}

impl RunConfig {
    /// Whether the model is in SI units (pyqg's family); the jet and 2-D turbulence are
    /// non-dimensional.
    pub fn is_dimensional(&self) -> bool {
        self.jet.is_none() && self.turbulence.is_none()
    }

    /// Resolves a preset or a file (or a partial file layered on a preset: its tables' keys
    /// replace the preset's), then applies `key=value` overrides, and validates.
    pub fn resolve(
        preset: Option<&str>,
        file: Option<&Path>,
        model_error: Option<&str>,
        overrides: &[String],
    ) -> Result<Self> {
        let read = |path: &Path| match std::fs::read_to_string(path) {
            Ok(t) => parse_table(&t)
                .map_err(|e| Error::Input(format!("--config {}: {e}", path.display()))),
            Err(e) => input_err!("--config {}: {e}", path.display()),
        };
        let table = match (preset, file) {
            (Some(name), Some(path)) => {
                let mut base = parse_table(preset_text(name)?).expect("presets are valid TOML");
                merge(&mut base, read(path)?);
                base
            }
            (_, Some(path)) => read(path)?,
            (name, None) => parse_table(preset_text(name.unwrap_or("pyqg-eddy"))?)
                .expect("presets are valid TOML"),
        };
        Self::resolve_table(table, model_error, overrides)
    }

    /// Resolves config TOML `text` (a file's, or one kept in an output's `config` attribute) with
    /// a model-error case and `key=value` overrides, and validates.
    pub fn resolve_text(
        text: &str,
        model_error: Option<&str>,
        overrides: &[String],
    ) -> Result<Self> {
        match parse_table(text) {
            Ok(t) => Self::resolve_table(t, model_error, overrides),
            Err(e) => input_err!("{e}"),
        }
    }

    fn resolve_table(
        mut table: toml::Table,
        model_error: Option<&str>,
        overrides: &[String],
    ) -> Result<Self> {
        if let Some(case) = model_error {
            table.insert(
                "model_error".into(),
                toml::Value::Table(model_error_case(case)?),
            );
        }
        for o in overrides {
            apply_override(&mut table, o)?;
        }
        Self::from_table(table)
    }

    /// Parses and validates a complete config (as printed by `config show`, or kept in a checkpoint).
    pub fn from_toml(text: &str) -> Result<Self> {
        match text.parse() {
            Ok(t) => Self::from_table(t),
            Err(e) => input_err!("config is not valid TOML: {e}"),
        }
    }

    fn from_table(table: toml::Table) -> Result<Self> {
        legacy_keys(&table)?;
        let mut cfg: Self = match table.try_into() {
            Ok(c) => c,
            Err(e) => return input_err!("invalid config: {}", e.to_string().trim()),
        };
        let family = crate::model::family(&cfg);
        for (name, c) in family {
            cfg.terms.entry(name).or_insert(c);
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every range; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if let Err(e) = self.model.validate() {
            return input_err!("invalid config: [model] {e}");
        }
        match (self.run.steps, self.run.tmax) {
            (Some(_), Some(_)) => {
                return input_err!(
                    "invalid config: set one of `run.steps` or `run.tmax`, not both"
                );
            }
            (None, None) => return input_err!("invalid config: set `run.steps` or `run.tmax`"),
            (None, Some(t)) if !(t.is_finite() && t > 0.0) => {
                return input_err!(
                    "invalid config: `run.tmax` = {t}: allowed a finite time > 0 [s]"
                );
            }
            _ => {}
        }
        if self.total_steps() > Self::MAX_STEPS {
            let given = match self.run.tmax {
                Some(t) => format!("`run.tmax` = {t:e} ({:.3e} steps of dt)", t / self.model.dt),
                None => format!("`run.steps` = {}", self.total_steps()),
            };
            return input_err!(
                "invalid config: {given}: allowed 0 to 2^53 steps (step counts are stored exactly as f64)"
            );
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if self.run.threads == 0 || self.run.threads > 256 {
            return input_err!(
                "invalid config: `run.threads` = {}: allowed 1 to 256 (this machine has {cores} cores)",
                self.run.threads
            );
        }
        if let Some(jet) = &self.jet {
            if !(jet.sigma.is_finite() && jet.sigma > 0.0) {
                return input_err!(
                    "invalid config: `jet.sigma` = {}: allowed a finite width > 0",
                    jet.sigma
                );
            }
            if !jet.u1.is_finite() {
                return input_err!(
                    "invalid config: `jet.u1` = {}: allowed a finite number",
                    jet.u1
                );
            }
        }
        if let Some(t) = &self.turbulence {
            if self.jet.is_some() {
                return input_err!(
                    "invalid config: `[jet]` and `[turbulence]` are two model families: give one"
                );
            }
            if !(t.kf.is_finite() && t.kf > 0.0) {
                return input_err!(
                    "invalid config: `turbulence.kf` = {}: allowed a finite wavenumber > 0",
                    t.kf
                );
            }
        }
        let names: Vec<String> = crate::model::family(self)
            .into_iter()
            .map(|t| t.0)
            .collect();
        for (section, table) in [
            ("terms", &self.terms),
            ("model_error", &self.model_error.coefficients),
        ] {
            for (name, &v) in table {
                if let (false, "model_error", Some(case)) =
                    (names.contains(name), section, &self.model_error.case)
                {
                    return input_err!(
                        "--model-error {case}: the MEDIDA study's model-error cases change terms of its forced jet (run them with --preset medida-jet); this model has no term `{name}` (its terms: {})",
                        names.join(", ")
                    );
                }
                if !names.contains(name) {
                    return input_err!(
                        "invalid config: `{section}.{name}`: not a term of this model; its terms: {}",
                        names.join(", ")
                    );
                }
                let damping = DAMPING.contains(&name.as_str());
                if !v.is_finite() || (damping && v < 0.0) {
                    let allowed = if damping {
                        "a finite rate >= 0"
                    } else {
                        "a finite number"
                    };
                    return input_err!(
                        "invalid config: `{section}.{name}` = {v}: allowed {allowed}"
                    );
                }
            }
        }
        if !(self.init.scale.is_finite() && self.init.scale > 0.0) {
            return input_err!(
                "invalid config: `init.scale` = {}: allowed a finite number > 0",
                self.init.scale
            );
        }
        if let Some(s) = self.run.spinup {
            let length = self.total_steps() as f64 * self.model.dt;
            if !(s.is_finite() && s >= 0.0 && s < length) {
                return input_err!(
                    "invalid config: `run.spinup` = {s}: allowed 0 <= spinup < the run's length ({length})"
                );
            }
        }
        if !matches!(self.output.precision.as_str(), "f32" | "f64") {
            return input_err!(
                "invalid config: `output.precision` = {:?}: allowed \"f32\" or \"f64\"",
                self.output.precision
            );
        }
        if self.output.compression > 9 {
            return input_err!(
                "invalid config: `output.compression` = {}: allowed 0 (none) to 9",
                self.output.compression
            );
        }
        if let Some(t) = self.output.tavestart
            && !(t.is_finite() && t >= 0.0)
        {
            return input_err!("invalid config: `output.tavestart` = {t}: allowed a time >= 0 [s]");
        }
        if let Some(t) = self.output.taveint {
            if !(t.is_finite() && t > 0.0) {
                return input_err!(
                    "invalid config: `output.taveint` = {t}: allowed a time > 0 [s]"
                );
            }
            if self.output.tavestart.is_none() {
                return input_err!(
                    "invalid config: `output.taveint` is set but `output.tavestart` is not: set when averaging starts"
                );
            }
        }
        if let Some(c) = &self.closure {
            c.validate()?;
        }
        if let Some(c) = &self.correction {
            let n = c.terms.len();
            if c.upper.len() != n || c.lower.len() != n {
                return input_err!(
                    "invalid config: `correction`: {n} terms with {} upper and {} lower coefficients",
                    c.upper.len(),
                    c.lower.len()
                );
            }
            if let Some(v) = c.upper.iter().chain(&c.lower).find(|v| !v.is_finite()) {
                return input_err!(
                    "invalid config: `correction` coefficient {v}: allowed finite numbers"
                );
            }
        }
        Ok(())
    }

    /// Steps of spin-up (no records written before this step).
    pub fn spinup_steps(&self) -> u64 {
        self.run
            .spinup
            .map_or(0, |s| (s / self.model.dt * (1.0 - 1e-12)).ceil() as u64)
    }

    /// The longest run: 2^53 steps, the largest count an f64 (checkpoints, attributes) holds
    /// exactly.
    pub const MAX_STEPS: u64 = 1 << 53;

    /// Total number of steps of the run.
    pub fn total_steps(&self) -> u64 {
        match (self.run.steps, self.run.tmax) {
            (Some(n), _) => n,
            (None, Some(t)) => (t / self.model.dt * (1.0 - 1e-12)).ceil() as u64,
            (None, None) => 0,
        }
    }

    /// Whether a snapshot is due at step `tc`: every `snapshot_interval` steps from the end of
    /// the spin-up on, or, with an interval of 0, the run's final state only.
    pub fn snapshot_due(&self, tc: u64) -> bool {
        let (first, every) = (self.spinup_steps(), self.output.snapshot_interval);
        tc >= first
            && match every {
                0 => tc == self.total_steps(),
                _ => (tc - first).is_multiple_of(every),
            }
    }

    /// The snapshots and diagnostics records the run writes before step `tc` (by
    /// [`RunConfig::snapshot_due`] and [`RunConfig::diagnostics_due`]).
    pub fn records_before(&self, tc: u64) -> medida_data::Records {
        let first = self.spinup_steps();
        let every_from_first = |every: u64| match tc.checked_sub(first) {
            Some(after) if after > 0 => ((after - 1) / every + 1) as usize,
            _ => 0,
        };
        let snapshots = match self.output.snapshot_interval {
            0 => usize::from((first..tc).contains(&self.total_steps())),
            every => every_from_first(every),
        };
        let series = match self.output.diagnostics_interval {
            0 => 0,
            every => every_from_first(every),
        };
        medida_data::Records { snapshots, series }
    }

    /// The snapshots and diagnostics records of the whole run: the room its output has.
    pub fn records(&self) -> medida_data::Records {
        self.records_before(self.total_steps() + 1)
    }

    /// Whether a diagnostics record is due at step `tc`: every `diagnostics_interval` steps from
    /// the end of the spin-up on (0: never).
    pub fn diagnostics_due(&self, tc: u64) -> bool {
        let (first, every) = (self.spinup_steps(), self.output.diagnostics_interval);
        every > 0 && tc >= first && (tc - first).is_multiple_of(every)
    }

    /// The config as TOML (complete: every key, so it can be edited and passed to `--config`).
    /// Small and large numbers print in exponent form (`beta = 1.5e-11`).
    pub fn to_toml(&self) -> String {
        let table = toml::Table::try_from(self).expect("a config always serialises");
        let mut out = String::new();
        for (section, body) in &table {
            let toml::Value::Table(body) = body else {
                unreachable!("every section is a table")
            };
            out.push_str(&format!(
                "{}[{section}]\n",
                if out.is_empty() { "" } else { "\n" }
            ));
            for (key, value) in body {
                let v = match value {
                    toml::Value::Float(x) => format_float(*x),
                    other => other.to_string(),
                };
                out.push_str(&format!("{key} = {v}\n"));
            }
        }
        out
    }
}

impl ClosureConfig {
    /// A built-in closure, a discovered one or a policy, one of them; coefficients for both
    /// layers.
    fn validate(&self) -> Result<()> {
        if self.policy.is_some() {
            if self.builtin.is_some() || self.library.is_some() {
                return input_err!(
                    "invalid config: `closure`: give `builtin`, `library` or `policy`, one of them"
                );
            }
            return Ok(());
        }
        match (&self.builtin, &self.library) {
            (Some(_), Some(_)) => {
                input_err!("invalid config: `closure`: give `builtin` or `library`, not both")
            }
            (None, None) => input_err!(
                "invalid config: `closure`: give `builtin` (a built-in closure) or `library` with `upper` and `lower` (a discovered one)"
            ),
            (Some(_), None) if !(self.upper.is_empty() && self.lower.is_empty()) => input_err!(
                "invalid config: `closure.upper`/`closure.lower` belong to a discovered closure (`library`), not a built-in"
            ),
            (None, Some(_)) if self.upper.len() != self.lower.len() || self.upper.is_empty() => {
                input_err!(
                    "invalid config: `closure.upper` and `closure.lower` need one coefficient per library term in each layer (have {} and {})",
                    self.upper.len(),
                    self.lower.len()
                )
            }
            _ => match self
                .upper
                .iter()
                .chain(&self.lower)
                .find(|c| !c.is_finite())
            {
                Some(c) => {
                    input_err!("invalid config: `closure` coefficient {c}: allowed finite numbers")
                }
                None => Ok(()),
            },
        }
    }
}

/// Terms whose coefficient is a damping rate, which must not be negative.
const DAMPING: [&str; 4] = [
    "bottom_drag",
    "interface_relaxation",
    "sponge",
    "hyperviscosity",
];

/// Coefficients that had a second name before `[terms]`: the old key and its term.
const MOVED: [(&str, &str, &str); 10] = [
    ("model", "beta", "beta"),
    ("model", "U1", "background_flow1"),
    ("model", "U2", "background_flow2"),
    ("model", "rek", "bottom_drag"),
    ("jet", "beta", "beta"),
    ("jet", "tau_d1", "interface_relaxation"),
    ("jet", "tau_d2", "jet_forcing"),
    ("jet", "tau_f", "bottom_drag"),
    ("jet", "nu", "hyperviscosity"),
    ("jet", "c_j", "advection"),
];

/// A config of medida 0.1 (coefficients in `[model]` and `[jet]`) is refused with what to write.
fn legacy_keys(table: &toml::Table) -> Result<()> {
    for (section, key, term) in MOVED {
        if let Some(v) = table
            .get(section)
            .and_then(|s| s.as_table())
            .and_then(|s| s.get(key))
        {
            let v = match v {
                toml::Value::Float(x) => format_float(*x),
                other => other.to_string(),
            };
            return input_err!(
                "invalid config: `{section}.{key}` is now the coefficient of the term `{term}` (one name per coefficient): write `[terms] {term} = {v}` (or `--set terms.{term}={v}`)"
            );
        }
    }
    Ok(())
}

/// A float as TOML that reads back to the same bits: exponent form outside `[1e-3, 1e7)`.
fn format_float(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e7).contains(&a) {
        format!("{x:e}")
    } else if x.fract() == 0.0 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// The coefficient changes of model-error case `name` (with its name and description).
pub fn model_error_case(name: &str) -> Result<toml::Table> {
    let cases: toml::Table = MODEL_ERRORS
        .parse()
        .expect("the embedded case table is valid TOML");
    match cases.get(name) {
        Some(toml::Value::Table(t)) => {
            let mut t = t.clone();
            t.insert("case".into(), toml::Value::String(name.into()));
            Ok(t)
        }
        _ => {
            let names: Vec<&String> = cases.keys().collect();
            input_err!("unknown model-error case `{name}`: allowed {names:?}")
        }
    }
}

/// The TOML of preset `name`.
pub fn preset_text(name: &str) -> Result<&'static str> {
    match PRESETS.iter().find(|(n, _)| *n == name) {
        Some((_, t)) => Ok(t),
        None => {
            let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
            input_err!("unknown preset `{name}`: allowed {}", names.join(", "))
        }
    }
}

/// TOML text as a table; the error says why it is not valid TOML.
fn parse_table(text: &str) -> std::result::Result<toml::Table, String> {
    text.parse()
        .map_err(|e: toml::de::Error| format!("config is not valid TOML: {e}"))
}

/// Layers `over` on `base`: a table merges key by key, any other value replaces `base`'s.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Applies `section.key=value`; the value is read as TOML (number, string, boolean), or as a
/// bare string when it is not valid TOML.
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<()> {
    let Some((key, raw)) = assignment.split_once('=') else {
        return input_err!("--set {assignment:?}: expected key=value, e.g. model.dt=3600");
    };
    let key = key.trim();
    let Some((section, field)) = key.split_once('.') else {
        let sections: Vec<&String> = table.keys().collect();
        return input_err!("--set {key}: keys are section.name, with section one of {sections:?}");
    };
    let value: toml::Value = match format!("v = {}", raw.trim()).parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").expect("parsed key"),
        Err(_) => toml::Value::String(raw.trim().to_string()),
    };
    // The model-error and terms tables are optional: `--set model_error.TERM=VALUE` starts one.
    if matches!(section, "model_error" | "terms") && !table.contains_key(section) {
        table.insert(section.into(), toml::Value::Table(toml::Table::new()));
    }
    let Some(toml::Value::Table(sec)) = table.get_mut(section) else {
        let sections: Vec<&String> = table.keys().collect();
        return input_err!("--set {key}: unknown section `{section}`: allowed {sections:?}");
    };
    sec.insert(field.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record counts in closed form are the step loop's: every step before `tc` that
    /// `snapshot_due` / `diagnostics_due` schedules, over spin-ups, intervals (0 included) and
    /// lengths around their edges.
    #[test]
    fn records_before_counts_what_the_step_loop_writes() {
        let mut c = RunConfig::resolve(None, None, None, &[]).unwrap();
        for spinup in [0.0, 1.0, 7.0] {
            c.run.spinup = Some(spinup * c.model.dt);
            for every in [0, 1, 3, 5] {
                c.output.snapshot_interval = every;
                c.output.diagnostics_interval = every;
                for total in [0, 1, 6, 7, 8, 20] {
                    c.run.steps = Some(total);
                    for tc in 0..=total + 1 {
                        let r = c.records_before(tc);
                        let snapshots = (0..tc).filter(|&s| c.snapshot_due(s)).count();
                        let series = (0..tc).filter(|&s| c.diagnostics_due(s)).count();
                        assert_eq!(
                            (r.snapshots, r.series),
                            (snapshots, series),
                            "spin-up {spinup}, every {every}, total {total}, before {tc}"
                        );
                    }
                }
            }
        }
    }

    fn err(r: Result<RunConfig>) -> String {
        let e = r.unwrap_err();
        assert!(e.is_input(), "{e}");
        e.to_string()
    }

    #[test]
    fn a_partial_file_layers_on_a_preset_then_set() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("mine.toml");
        std::fs::write(&mine, "[terms]\nbottom_drag = 0.5\n[run]\nsteps = 30000\n").unwrap();
        let jet = RunConfig::resolve(Some("medida-jet"), None, None, &[]).unwrap();
        let c = RunConfig::resolve(
            Some("medida-jet"),
            Some(&mine),
            None,
            &["terms.beta=0.2".into()],
        )
        .unwrap();
        assert_eq!(c.terms["bottom_drag"], 0.5, "the file's key");
        assert_eq!(c.terms["beta"], 0.2, "--set after the file");
        assert_eq!(c.run.steps, Some(30000));
        assert_eq!(c.model, jet.model, "the rest is the preset's");
        assert_eq!(c.jet, jet.jet);
        for (k, v) in &jet.terms {
            if k != "bottom_drag" && k != "beta" {
                assert_eq!(c.terms[k], *v, "{k}");
            }
        }
        // The partial file alone is not a complete config; bad TOML names the file.
        assert!(RunConfig::resolve(None, Some(&mine), None, &[]).is_err());
        std::fs::write(&mine, "[terms\n").unwrap();
        let e = err(RunConfig::resolve(
            Some("medida-jet"),
            Some(&mine),
            None,
            &[],
        ));
        assert!(e.contains("mine.toml: config is not valid TOML"), "{e}");
    }

    #[test]
    fn presets_resolve_and_round_trip() {
        for (name, _) in PRESETS {
            let c = RunConfig::resolve(Some(name), None, None, &[]).unwrap();
            assert_eq!(RunConfig::from_toml(&c.to_toml()).unwrap(), c);
        }
        let eddy = RunConfig::resolve(None, None, None, &[]).unwrap();
        assert_eq!(
            eddy.model,
            QgParams::default(),
            "pyqg-eddy is pyqg's defaults"
        );
        let physics = medida_solver::PyqgPhysics::default();
        assert_eq!(eddy.terms["beta"], physics.beta);
        assert_eq!(eddy.terms["bottom_drag"], physics.rek);
        assert_eq!(eddy.terms["background_flow1"], physics.U1);
    }

    #[test]
    fn coefficients_have_one_name_and_old_keys_say_what_to_write() {
        let c = RunConfig::resolve(None, None, None, &["terms.bottom_drag=1e-7".into()]).unwrap();
        assert_eq!(c.terms["bottom_drag"], 1e-7);
        let e = err(RunConfig::resolve(
            None,
            None,
            None,
            &["model.rek=1e-7".into()],
        ));
        assert!(
            e.contains("`model.rek` is now the coefficient of the term `bottom_drag`"),
            "{e}"
        );
        assert!(e.contains("--set terms.bottom_drag=1e-7"), "{e}");
        let e = err(RunConfig::resolve(
            Some("medida-jet"),
            None,
            None,
            &["jet.tau_f=0.3".into()],
        ));
        assert!(e.contains("`bottom_drag`"), "{e}");
        let e = err(RunConfig::resolve(
            None,
            None,
            None,
            &["terms.sponge=1".into()],
        ));
        assert!(
            e.contains("not a term of this model") && e.contains("background_flow1"),
            "{e}"
        );
        let e = err(RunConfig::resolve(
            None,
            None,
            None,
            &["terms.bottom_drag=-1".into()],
        ));
        assert!(e.contains("allowed a finite rate >= 0"), "{e}");
        let e = err(RunConfig::resolve(
            Some("medida-jet"),
            None,
            None,
            &["jet.sigma=0".into()],
        ));
        assert!(e.contains("`jet.sigma` = 0"), "{e}");
    }

    #[test]
    fn overrides_apply_and_bad_ones_are_named() {
        let c = RunConfig::resolve(
            None,
            None,
            None,
            &["model.dt=3600".into(), "run.steps=10".into()],
        )
        .unwrap();
        assert_eq!((c.model.dt, c.total_steps()), (3600.0, 10));
        assert!(
            err(RunConfig::resolve(
                None,
                None,
                None,
                &["model.dt=-1".into()]
            ))
            .contains("`dt` = -1")
        );
        assert!(
            err(RunConfig::resolve(
                None,
                None,
                None,
                &["model.nx=63".into()]
            ))
            .contains("`nx` = 63")
        );
        assert!(
            err(RunConfig::resolve(
                None,
                None,
                None,
                &["model.viscosity=1".into()]
            ))
            .contains("viscosity")
        );
        assert!(
            err(RunConfig::resolve(
                None,
                None,
                None,
                &["physics.dt=1".into()]
            ))
            .contains("physics")
        );
        assert!(
            err(RunConfig::resolve(
                None,
                None,
                None,
                &["output.compression=12".into()]
            ))
            .contains("output.compression")
        );
        assert!(err(RunConfig::resolve(Some("nope"), None, None, &[])).contains("pyqg-eddy"));
    }

    #[test]
    fn tmax_gives_pyqg_step_count() {
        let c = RunConfig::resolve(None, None, None, &["run.tmax=72000.0".into()]);
        assert!(err(c).contains("not both"));
        let mut c = RunConfig::resolve(None, None, None, &[]).unwrap();
        (c.run.steps, c.run.tmax) = (None, Some(72000.0));
        assert_eq!(c.total_steps(), 10);
        c.run.tmax = Some(72001.0);
        assert_eq!(c.total_steps(), 11);
    }
}

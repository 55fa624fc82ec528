//! [`Model`]: a medida run configuration (a preset with `section.key=value` settings, as `medida
//! simulate --set` takes) and its model; NumPy arrays in are read in place, arrays out are the
//! model's own, handed to NumPy without a copy. The GIL is released while the model steps, and
//! Ctrl-C stops a long run.

use medida_data::Checkpoint;
use medida_solver::{Averages, Averaging, Expr, LayerShape, Term};
use medida_workflow::config::OutputConfig;
use medida_workflow::model::closure_terms;
use medida_workflow::{RunConfig, checkpoint};
use numpy::{Complex64, IntoPyArray, PyArray3, PyArrayDyn, PyReadonlyArray3};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use std::path::PathBuf;

use crate::value_error;

/// A model built from a config: the state, stepped in place.
#[pyclass(module = "medida._medida")]
pub struct Model {
    cfg: RunConfig,
    model: medida_solver::Model,
    /// pyqg's time-averaged diagnostics, once [`Model::average`] asks for them.
    averages: Option<Averages>,
    /// The checkpoint the model was loaded from: its averages continue when averaging starts.
    loaded: Option<Checkpoint>,
}

/// Refuses a config whose closure is a `train-rl` policy (named `what`): its decisions need the
/// run's spectra, which only `medida simulate` keeps.
fn no_policy(cfg: &RunConfig, what: &str) -> PyResult<()> {
    if cfg.closure.as_ref().is_some_and(|c| c.policy.is_some()) {
        return Err(value_error(format!(
            "{what}: a train-rl policy closure runs in `medida simulate --closure` only (its decisions need the run's spectra); give a built-in or a discovered closure"
        )));
    }
    Ok(())
}

/// One of pyqg's time-averaged diagnostics: name, dims, units, description, average.
type AveragedDiagnostic<'py> = (
    &'static str,
    Vec<&'static str>,
    &'static str,
    &'static str,
    Bound<'py, PyArrayDyn<f64>>,
);

/// The name of the term a Python parameterization enters through.
const PARAMETERIZATION: &str = "q_parameterization";

/// Steps at most this many at a time between checks for Ctrl-C.
const STEPS_PER_CHECK: u64 = 100;

#[pymethods]
impl Model {
    /// The model of `preset` (`pyqg-eddy`, `pyqg-jet`, `medida-jet`, `2d-turbulence`) with
    /// `settings` (`"model.nx=128"`, ...), in the preset's initial state (pyqg's random field of
    /// `init.seed`), with the model-error case `model_error` applied. `closure`: a built-in
    /// closure (`smagorinsky:cs=0.15`, as `medida closure list` names them) or a `medida closure
    /// discover` result (FILE.json), added to the tendency as `medida simulate --closure` adds
    /// it; a `train-rl` policy is refused (its decisions need the run's spectra, which only
    /// `medida simulate` keeps).
    #[new]
    #[pyo3(signature = (preset, settings, model_error=None, closure=None))]
    fn new(
        preset: &str,
        settings: Vec<String>,
        model_error: Option<&str>,
        closure: Option<&str>,
    ) -> PyResult<Self> {
        let mut cfg =
            RunConfig::resolve(Some(preset), None, model_error, &settings).map_err(value_error)?;
        if let Some(spec) = closure {
            cfg.closure =
                Some(medida_workflow::closure::closure_config(spec).map_err(value_error)?);
            no_policy(&cfg, spec)?;
        }
        let mut model = medida_workflow::build_model(&cfg).map_err(value_error)?;
        let q = model.random_q(cfg.init.seed) * cfg.init.scale;
        model.set_q(q.view()).map_err(value_error)?;
        Ok(Self {
            cfg,
            model,
            averages: None,
            loaded: None,
        })
    }

    /// The model a checkpoint at `path` holds (written by [`Model::save`] or `medida
    /// simulate`), in its state.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let (cfg, model, c) = checkpoint::load(&path, "load").map_err(value_error)?;
        no_policy(&cfg, &path.display().to_string())?;
        Ok(Self {
            cfg,
            model,
            averages: None,
            loaded: Some(c),
        })
    }

    /// Writes the model's complete state, config and averages so far to `path` atomically (a
    /// file that a kill leaves whole or absent); an existing file is refused unless `overwrite`.
    fn save(&self, py: Python<'_>, path: PathBuf, overwrite: bool) -> PyResult<()> {
        let mut c = checkpoint::of_model(&self.cfg, &self.model);
        if let Some(a) = &self.averages {
            checkpoint::save_averages(a, &mut c);
        }
        py.detach(|| checkpoint::save(&path, &c, overwrite))
            .map_err(value_error)
    }

    /// Starts accumulating pyqg's time-averaged diagnostics from model time `tavestart` every
    /// `taveint` (pyqg's keywords; given, they go into the config, else the config's are used),
    /// with the closure and the Python parameterization as pyqg's parameterization
    /// (`paramspec*`); a loaded model continues its checkpoint's averages.
    #[pyo3(signature = (tavestart=None, taveint=None))]
    fn average(&mut self, tavestart: Option<f64>, taveint: Option<f64>) -> PyResult<()> {
        if tavestart.is_some() {
            self.cfg.output.tavestart = tavestart;
            self.cfg.output.taveint = taveint;
        }
        let Some(tavestart) = self.cfg.output.tavestart else {
            return Ok(());
        };
        let mut parameterization: Vec<String> = closure_terms(&self.cfg)
            .map_err(value_error)?
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        if self.model.coefficient(PARAMETERIZATION).is_some() {
            parameterization.push(PARAMETERIZATION.to_string());
        }
        let settings = Averaging {
            tavestart,
            taveint: self.cfg.output.taveint.unwrap_or(OutputConfig::TAVEINT),
            parameterization,
        };
        let mut averages = Averages::new(&self.model, settings).map_err(value_error)?;
        if let Some(c) = self.loaded.take()
            && c.array("averages").is_some()
        {
            checkpoint::restore_averages(&mut averages, &c).ok_or_else(|| {
                value_error("the checkpoint's averages do not fit this model's diagnostics")
            })?;
        }
        self.averages = Some(averages);
        Ok(())
    }

    /// pyqg's time-averaged diagnostics accumulated so far (none before the first), in pyqg's
    /// layout.
    fn diagnostics<'py>(&self, py: Python<'py>) -> Vec<AveragedDiagnostic<'py>> {
        let Some(a) = &self.averages else {
            return Vec::new();
        };
        a.available()
            .filter_map(|d| {
                let values = a.get(d.name)?;
                Some((
                    d.name,
                    d.layout.dims().to_vec(),
                    d.units,
                    d.description,
                    values.into_pyarray(py),
                ))
            })
            .collect()
    }

    /// The complete config, as `medida config show` prints it.
    fn config(&self) -> String {
        self.cfg.to_toml()
    }

    /// Steps taken.
    #[getter]
    fn tc(&self) -> u64 {
        self.model.tc()
    }

    /// Model time.
    #[getter]
    fn t(&self) -> f64 {
        self.model.t()
    }

    /// Time step.
    #[getter]
    fn dt(&self) -> f64 {
        self.model.params().dt
    }

    /// `(lev, y, x)` of the state.
    fn shape(&self) -> (usize, usize, usize) {
        let p = self.model.params();
        (medida_solver::NZ, p.ny, p.nx)
    }

    /// Domain size `(L, W)` in x and y.
    fn extent(&self) -> (f64, f64) {
        let p = self.model.params();
        (p.L, p.W)
    }

    /// pyqg's parameters of the model's config (nx, ny, L, W, dt, rd, delta, H1, filterfac,
    /// and beta, rek, U1, U2 from the terms' coefficients, 0 where the model has no such term)
    /// and tmax (the run's steps times dt), with tavestart and taveint when the config has them.
    fn pyqg_params(&self) -> Vec<(&'static str, f64)> {
        let (m, terms) = (&self.cfg.model, &self.cfg.terms);
        let term = |name: &str| terms.get(name).copied().unwrap_or(0.0);
        vec![
            ("nx", m.nx as f64),
            ("ny", m.ny as f64),
            ("L", m.L),
            ("W", m.W),
            ("dt", m.dt),
            ("rd", m.rd),
            ("delta", m.delta),
            ("H1", m.H1),
            ("filterfac", m.filterfac),
            ("beta", term("beta")),
            ("rek", term("bottom_drag")),
            ("U1", term("background_flow1")),
            ("U2", term("background_flow2")),
            ("tmax", self.cfg.total_steps() as f64 * m.dt),
        ]
        .into_iter()
        .chain(self.cfg.output.tavestart.map(|t| ("tavestart", t)))
        .chain(self.cfg.output.taveint.map(|t| ("taveint", t)))
        .collect()
    }

    /// Layer thicknesses `(H1, H2)`, `H2 = H1 / delta`.
    fn thicknesses(&self) -> (f64, f64) {
        let p = self.model.params();
        (p.H1, p.H1 / p.delta)
    }

    /// The tendency's terms and their coefficients, in the model's order.
    fn coefficients(&self) -> Vec<(String, f64)> {
        self.model
            .terms()
            .iter()
            .map(|t| (t.name().to_string(), t.coefficient))
            .collect()
    }

    /// Sets the coefficient of the model's own term `name` (not a closure's), in the model and
    /// in its config (so that a saved model keeps it); an unknown name is a `ValueError` listing
    /// the terms.
    fn set_coefficient(&mut self, name: &str, value: f64) -> PyResult<()> {
        if !self.cfg.terms.contains_key(name) {
            let names: Vec<&str> = self.cfg.terms.keys().map(String::as_str).collect();
            return Err(value_error(format!(
                "term `{name}`: not a term of this model (its terms: {})",
                names.join(", ")
            )));
        }
        self.model
            .set_coefficient(name, value)
            .map_err(value_error)?;
        self.cfg.terms.insert(name.to_string(), value);
        if let Some(c) = self.cfg.model_error.coefficients.get_mut(name) {
            *c = value;
        }
        Ok(())
    }

    /// Total steps of the config's run (`run.steps`, or `run.tmax` / `model.dt`).
    #[getter]
    fn total_steps(&self) -> u64 {
        self.cfg.total_steps()
    }

    /// Takes `n` steps without the GIL; a NaN or CFL > 1 state is a `ValueError` naming the
    /// step, Ctrl-C a `KeyboardInterrupt` (the state is that of the last whole step).
    fn step(&mut self, py: Python<'_>, n: u64) -> PyResult<()> {
        let mut left = n;
        while left > 0 {
            let batch = left.min(STEPS_PER_CHECK);
            let (model, averages) = (&mut self.model, &mut self.averages);
            // The batch handed to rayon's pool once, not step by step (`in_pool`).
            py.detach(|| {
                medida_solver::in_pool(|| {
                    (0..batch).try_for_each(|_| match averages {
                        Some(a) => model.step_averaging(a),
                        None => model.step(),
                    })
                })
            })
            .map_err(value_error)?;
            left -= batch;
            if py.check_signals().is_err() {
                return Err(PyKeyboardInterrupt::new_err(format!(
                    "stopped at step {}",
                    self.model.tc()
                )));
            }
        }
        Ok(())
    }

    /// Potential vorticity anomaly `q`, `(lev, y, x)`.
    fn q<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray3<f64>> {
        self.model.q().into_pyarray(py)
    }

    /// Streamfunction `p` and velocities `u`, `v` (anomalies), each `(lev, y, x)`.
    fn p_u_v<'py>(&self, py: Python<'py>) -> [Bound<'py, PyArray3<f64>>; 3] {
        self.model.p_u_v().map(|a| a.into_pyarray(py))
    }

    /// The tendency `dq/dt` of the current state (every term), `(lev, y, x)`.
    fn dqdt<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray3<f64>> {
        self.model.dqdt().into_pyarray(py)
    }

    /// The tendency's transform `dq_hat/dt` of the current state, `(lev, l, k)` as pyqg's
    /// `dqhdt`.
    fn dqhdt<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray3<Complex64>> {
        self.model.dqhdt().into_pyarray(py)
    }

    /// Sets `q`, `(lev, y, x)` of the model's shape, finite; read in place.
    fn set_q(&mut self, q: PyReadonlyArray3<'_, f64>) -> PyResult<()> {
        let q = q.as_array();
        self.model
            .set_q(q)
            .map_err(|e| value_error(format!("q: {e}")))
    }

    /// Adds the term that a Python parameterization's tendency enters through: `dq_i/dt +=
    /// c_i`, layer i's coefficient field (`c1`, `c2`), which [`Model::set_parameterization`]
    /// sets before each step.
    fn add_parameterization_term(&mut self) -> PyResult<()> {
        let layer = |f: &str| -> PyResult<LayerShape> {
            Ok(vec![(1.0, Expr::parse(f).map_err(value_error)?)])
        };
        let term = Term::new(PARAMETERIZATION, 1.0, [layer("c1")?, layer("c2")?]);
        self.model.add_term(term).map_err(value_error)
    }

    /// Sets what the parameterization adds to `dq/dt` over the next step, `(lev, y, x)` [1/s^2].
    fn set_parameterization(&mut self, dq: PyReadonlyArray3<'_, f64>) -> PyResult<()> {
        let dq = dq.as_array();
        let (nz, ny, nx) = self.shape();
        if dq.dim() != (nz, ny, nx) {
            return Err(value_error(format!(
                "q_parameterization: returned shape {:?}, the model's q has shape ({nz}, {ny}, {nx})",
                dq.shape()
            )));
        }
        for (lev, layer) in dq.outer_iter().enumerate() {
            let values = layer.iter().copied().collect();
            self.model
                .set_coefficient_field(lev, Some(values))
                .map_err(|e| value_error(format!("q_parameterization: {e}")))?;
        }
        Ok(())
    }

    /// pyqg's background flow `Ubg` and PV gradient `Qy`, per layer.
    fn background(&self) -> (Vec<f64>, Vec<f64>) {
        (
            self.model.background_flow().to_vec(),
            self.model.qy().to_vec(),
        )
    }
}

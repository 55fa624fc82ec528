//! [`Model`]: a medida run configuration (a preset with `section.key=value` settings, as `medida
//! simulate --set` takes) and its model; arrays cross as raw float64 bytes (native order) with
//! their shape, which the Python half (`medida/model.py`) turns into NumPy arrays. The GIL is
//! released while the model steps, and Ctrl-C stops a long run.

use medida_workflow::RunConfig;
use ndarray::Array3;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::value_error;

/// A model built from a config: the state, stepped in place.
#[pyclass(module = "medida._medida")]
pub struct Model {
    cfg: RunConfig,
    model: medida_solver::Model,
}

/// `(bytes, shape)` of a `(lev, y, x)` array.
fn to_python<'py>(py: Python<'py>, a: &Array3<f64>) -> (Bound<'py, PyBytes>, Vec<usize>) {
    let a = a.as_standard_layout();
    let values = a.as_slice().expect("standard layout is contiguous");
    (
        PyBytes::new(py, bytemuck::cast_slice(values)),
        a.shape().to_vec(),
    )
}

/// Steps at most this many at a time between checks for Ctrl-C.
const STEPS_PER_CHECK: u64 = 100;

#[pymethods]
impl Model {
    /// The model of `preset` (`pyqg-eddy`, `pyqg-jet`, `medida-jet`, `2d-turbulence`) with
    /// `settings` (`"model.nx=128"`, ...), in the preset's initial state (pyqg's random field of
    /// `init.seed`).
    /// `closure`: a built-in closure (`smagorinsky:cs=0.15`, as `medida closure list` names
    /// them) or a `medida closure discover` result (FILE.json), added to the tendency as `medida
    /// simulate --closure` adds it; a `train-rl` policy is refused (its decisions need the run's
    /// spectra, which only `medida simulate` keeps).
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
            let c = medida_workflow::closure::closure_config(spec).map_err(value_error)?;
            if c.policy.is_some() {
                return Err(value_error(format!(
                    "closure = {spec:?}: a train-rl policy runs in `medida simulate --closure` only (its decisions need the run's spectra); give a built-in or a discovered closure"
                )));
            }
            cfg.closure = Some(c);
        }
        let mut model = medida_workflow::build_model(&cfg).map_err(value_error)?;
        let q = model.random_q(cfg.init.seed) * cfg.init.scale;
        model.set_q(q.view()).map_err(value_error)?;
        Ok(Self { cfg, model })
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
        self.model.q().dim()
    }

    /// Domain size `(L, W)` in x and y.
    fn extent(&self) -> (f64, f64) {
        let p = self.model.params();
        (p.L, p.W)
    }

    /// The tendency's terms and their coefficients, in the model's order.
    fn coefficients(&self) -> Vec<(String, f64)> {
        self.model
            .terms()
            .iter()
            .map(|t| (t.name().to_string(), t.coefficient))
            .collect()
    }

    /// Sets the coefficient of term `name`; an unknown name is a `ValueError` listing the terms.
    fn set_coefficient(&mut self, name: &str, value: f64) -> PyResult<()> {
        self.model.set_coefficient(name, value).map_err(value_error)
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
            let model = &mut self.model;
            py.detach(|| (0..batch).try_for_each(|_| model.step()))
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

    /// Potential vorticity anomaly `q` as `(bytes, shape)`, `(lev, y, x)`.
    fn q<'py>(&self, py: Python<'py>) -> (Bound<'py, PyBytes>, Vec<usize>) {
        to_python(py, &self.model.q())
    }

    /// Streamfunction `p` and velocities `u`, `v` (anomalies), each `(bytes, shape)`.
    fn p_u_v<'py>(&self, py: Python<'py>) -> Vec<(Bound<'py, PyBytes>, Vec<usize>)> {
        self.model
            .p_u_v()
            .iter()
            .map(|a| to_python(py, a))
            .collect()
    }

    /// The tendency `dq/dt` of the current state (every term), `(bytes, shape)`, `(lev, y, x)`.
    fn dqdt<'py>(&mut self, py: Python<'py>) -> (Bound<'py, PyBytes>, Vec<usize>) {
        to_python(py, &self.model.dqdt())
    }

    /// The tendency's transform `dq_hat/dt` of the current state, `(lev, l, k)` as pyqg's
    /// `dqhdt`: its real and imaginary parts, each `(bytes, shape)`.
    fn dqhdt<'py>(&mut self, py: Python<'py>) -> [(Bound<'py, PyBytes>, Vec<usize>); 2] {
        let d = self.model.dqhdt();
        [d.mapv(|c| c.re), d.mapv(|c| c.im)].map(|a| to_python(py, &a))
    }

    /// Sets `q` from float64 bytes in C order of the model's `(lev, y, x)` shape.
    fn set_q(&mut self, values: &[u8]) -> PyResult<()> {
        let shape = self.model.q().dim();
        let (nz, ny, nx) = shape;
        if values.len() != nz * ny * nx * 8 {
            return Err(value_error(format!(
                "q: {} values given, the model's q has shape ({nz}, {ny}, {nx})",
                values.len() / 8
            )));
        }
        let q: Vec<f64> = values
            .chunks_exact(8)
            .map(|b| f64::from_ne_bytes(b.try_into().expect("8 bytes")))
            .collect();
        let q = Array3::from_shape_vec(shape, q).expect("length checked");
        self.model
            .set_q(q.view())
            .map_err(|e| value_error(format!("q: {e}")))
    }

    /// pyqg's background flow `Ubg` and PV gradient `Qy`, per layer.
    fn background(&self) -> (Vec<f64>, Vec<f64>) {
        (
            self.model.background_flow().to_vec(),
            self.model.qy().to_vec(),
        )
    }
}

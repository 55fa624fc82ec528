//! The pipeline over files, as the command line runs it: [`simulate`], [`increments`],
//! [`discover`] take the command's flags (`medida/pipeline.py` makes them from keywords) and
//! run on a worker thread without the GIL, while the calling thread watches for Ctrl-C: the run
//! then stops after its current step, leaving what a failure there would leave (no increments
//! file published; a simulation's whole records, to continue with `--restart`), and Python gets
//! `KeyboardInterrupt`.

use medida_workflow::discover::DiscoverArgs;
use medida_workflow::flags::parse;
use medida_workflow::increments::IncrementsArgs;
use medida_workflow::simulate::SimulateArgs;
use medida_workflow::{Error, Progress};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::value_error;

/// Quiet progress that reports the caller's request to stop.
struct Stop(Arc<AtomicBool>);

impl Progress for Stop {
    fn begin(&mut self, _: u64, _: u64, _: bool) {}
    fn step(&mut self, _: u64, _: f64) {}
    fn end(&mut self) {}
    fn note(&mut self, _: &str) {}
    fn interrupted(&mut self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How often the calling thread looks for Ctrl-C while the work runs.
const SIGNAL_POLL: Duration = Duration::from_millis(20);

/// Runs `work` on a worker thread, the GIL released; Ctrl-C asks it to stop and raises
/// `KeyboardInterrupt` once it has. Bad input is a `ValueError`, a failed run a `RuntimeError`,
/// each with the command line's message.
fn interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&mut dyn Progress) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut progress = Stop(stop.clone());
    let result = std::thread::scope(|s| {
        let worker = s.spawn(move || work(&mut progress));
        while !worker.is_finished() {
            py.detach(|| std::thread::sleep(SIGNAL_POLL));
            if py.check_signals().is_err() {
                stop.store(true, Ordering::Relaxed);
            }
        }
        worker.join()
    });
    match result {
        Err(panic) => std::panic::resume_unwind(panic),
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) if stop.load(Ordering::Relaxed) => {
            Err(PyKeyboardInterrupt::new_err(e.to_string()))
        }
        Ok(Err(e)) if e.is_input() => Err(value_error(format!("{e:#}"))),
        Ok(Err(e)) => Err(PyRuntimeError::new_err(format!("{e:#}"))),
    }
}

/// `medida simulate FLAGS`.
#[pyfunction]
pub fn simulate(py: Python<'_>, flags: Vec<String>) -> PyResult<()> {
    let args: SimulateArgs = parse("medida simulate", &flags).map_err(value_error)?;
    interruptible(py, |p| medida_workflow::simulate::simulate(&args, p))
}

/// `medida increments FLAGS`.
#[pyfunction]
pub fn increments(py: Python<'_>, flags: Vec<String>) -> PyResult<()> {
    let args: IncrementsArgs = parse("medida increments", &flags).map_err(value_error)?;
    interruptible(py, |p| medida_workflow::increments::increments(&args, p))
}

/// `medida discover FLAGS`: the report as `medida discover --json` prints it, its table as
/// the command prints it, the equations, and the warnings.
#[pyfunction]
pub fn discover(
    py: Python<'_>,
    flags: Vec<String>,
) -> PyResult<(String, String, String, Vec<String>)> {
    let args: DiscoverArgs = parse("medida discover", &flags).map_err(value_error)?;
    let report = interruptible(py, |p| medida_workflow::discover::discover(&args, p))?;
    let json = serde_json::to_string_pretty(&report).map_err(value_error)?;
    let warnings = report.warnings().into_iter().map(String::from).collect();
    Ok((json, report.summary(), report.fit.equations(4), warnings))
}

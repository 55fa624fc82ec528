//! `medida._medida`: the native half of the Python package ([`model::Model`], the two-layer model
//! behind `medida.QGModel`; [`fit::fit`], the sparse regression behind `medida.STLSQ` and
//! `medida.RVM`; [`commands`], the pipeline over files behind `medida.simulate`,
//! `medida.increments` and `medida.discover`). Errors are `ValueError`s with the CLI's messages; no panic crosses into Python
//! (PyO3 turns one into `PanicException`); the GIL is released during long work.

mod commands;
mod fit;
mod model;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The native module.
#[pymodule]
fn _medida(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_class::<fit::Fit>()?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    for f in [
        wrap_pyfunction!(commands::simulate, m)?,
        wrap_pyfunction!(commands::increments, m)?,
        wrap_pyfunction!(commands::discover, m)?,
    ] {
        m.add_function(f)?;
    }
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

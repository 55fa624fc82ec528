//! [`fit`]: sparse regression of NumPy arrays, borrowed without a copy, exactly as `medida fit`
//! does it on files (the same flags, chunks and numbers); [`Fit`], its result.

use medida_discovery::regression::Regression;
use medida_workflow::fit::fit_arrays;
use medida_workflow::flags::parse;
use medida_workflow::regression::RegressionArgs;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::value_error;

/// A regression's result: coefficients, their posterior standard deviations (RVM), the
/// equations and what the user should know.
#[pyclass(module = "medida._medida", frozen)]
pub struct Fit {
    regression: Regression,
}

/// Regresses targets `y` (n x m) on library columns `x` (n x p) with `medida fit`'s regression
/// `flags` (`["--optimizer", "stlsq", "--pysindy", "--select", "threshold=0.1"]`, ...); the arrays
/// are read in place (any strides) with the GIL released.
#[pyfunction]
pub fn fit(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    flags: Vec<String>,
) -> PyResult<Fit> {
    let args: RegressionArgs = parse("medida fit", &flags).map_err(value_error)?;
    let (x, y) = (x.as_array(), y.as_array());
    let out = py.detach(|| fit_arrays(&args, x, y)).map_err(value_error)?;
    Ok(Fit {
        regression: out.regression,
    })
}

#[pymethods]
impl Fit {
    /// Coefficients, targets x terms, in the units of the data (0 where a term is not selected).
    #[getter]
    fn coef<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.regression.fit.coef.clone().into_pyarray(py)
    }

    /// Posterior standard deviations of the coefficients (RVM), or None.
    #[getter]
    fn std<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray2<f64>>> {
        self.regression.fit.std.clone().map(|s| s.into_pyarray(py))
    }

    /// Optimizer iterations.
    #[getter]
    fn iterations(&self) -> usize {
        self.regression.fit.iterations
    }

    /// Elimination of every term, no convergence, ill-conditioning: in words.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.regression.fit.warnings.clone()
    }

    /// The equations, one line per target (`y = 2.000 x0 - 0.500 x2`), coefficients with
    /// `precision` decimals, the terms renamed by `names` if given.
    #[pyo3(signature = (precision=3, names=None))]
    fn equations(&self, precision: usize, names: Option<Vec<String>>) -> PyResult<String> {
        let mut fit = self.regression.fit.clone();
        if let Some(names) = names {
            if names.len() != fit.terms.len() {
                return Err(value_error(format!(
                    "feature_names: {} given for {} terms",
                    names.len(),
                    fit.terms.len()
                )));
            }
            fit.terms = names;
        }
        Ok(fit.equations(precision))
    }

    /// What `medida fit` prints.
    fn summary(&self) -> String {
        self.regression.summary()
    }

    /// What `medida fit --json` prints.
    fn json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.regression).map_err(value_error)
    }
}

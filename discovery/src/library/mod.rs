//! A library of named candidate terms: the columns of the design matrix.

use serde::{Deserialize, Serialize};

/// Names of the library's columns, as they print in equations (`lap(psi1)`, `J(psi1, q1)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    names: Vec<String>,
}

impl Library {
    /// A library with these column names, in column order.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Self {
            names: names.into_iter().map(Into::into).collect(),
        }
    }
    /// Columns `x0, x1, ...` (PySINDy's default names).
    pub fn numbered(p: usize) -> Self {
        Self::new((0..p).map(|j| format!("x{j}")))
    }
    /// The column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// Whether the library has no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

mod qg;
pub use qg::{MEDIDA10, PYQG, QgLibrary, WIDE};

//! Libraries of QG terms: lists of expressions of the solver's term grammar ([`Expr`]) evaluated
//! by the solver's [`Evaluator`] into the columns of the design matrix, with an optional trim of
//! the domain's edges and the model's update filter.

use crate::error::{DiscoveryError, library_error};
use crate::library::Library;
use medida_solver::{Evaluator, Expr, Field, SpectralState};
use ndarray::Array2;

/// The released MEDIDA QG library (`QGlib_v2.psi_lib`), in column order.
pub const MEDIDA10: [&str; 10] = [
    "lap(psi1)",
    "lap(psi2)",
    "grad(psi1)",
    "grad(psi2)",
    "psi1",
    "psi2",
    "psi_R",
    "J(psi1, q1)",
    "J(psi2, q2)",
    "y",
];

/// `medida10` plus ten more candidates: higher Laplacians, single derivatives, cross-layer and
/// sponge-weighted terms (a harder test of sparsity).
pub const WIDE: [&str; 10] = [
    "lap2(psi1)",
    "lap2(psi2)",
    "dx(psi1)",
    "dx(psi2)",
    "dx(q1)",
    "dx(q2)",
    "s*q1",
    "s*q2",
    "J(psi1, psi2)",
    "psi1*psi2",
];

/// Candidates for pyqg's two-layer model, which has no jet (no `psi_R`, no sponge): the errors
/// its parameters can make (bottom drag `lap(psi2)`, beta `dx(psi)`, background flow `dx(q)` and
/// `dx(psi)`, advection `J`) and a relaxation (`psi1`, `psi2`), 10 terms.
pub const PYQG: [&str; 10] = [
    "lap(psi1)",
    "lap(psi2)",
    "psi1",
    "psi2",
    "dx(psi1)",
    "dx(psi2)",
    "dx(q1)",
    "dx(q2)",
    "J(psi1, q1)",
    "J(psi2, q2)",
];

/// A QG library: terms and the trim of the domain edges.
#[derive(Debug, Clone, PartialEq)]
pub struct QgLibrary {
    spec: String,
    terms: Vec<Expr>,
    /// Grid points removed on each side in x and y before the regression (the released code: 20).
    pub trim: usize,
    /// A spectral multiplier (k-major) applied to every column: the model's update filter
    /// (`Model::update_filter`), so that columns are filtered as one-step increments are (see
    /// [`crate::model_error::Increments`]).
    pub filter: Option<Vec<f64>>,
}

impl QgLibrary {
    /// A library from a specification: `;`-separated items, each a preset (`medida10`, `wide` =
    /// `medida10` and ten more, `pyqg` for models without the jet) or a term (`lap2(psi1)`,
    /// `J(psi1, psi2)`, ...). Repeated terms are an error (their columns would be identical).
    pub fn parse(spec: &str) -> Result<Self, DiscoveryError> {
        let mut terms: Vec<Expr> = Vec::new();
        for item in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let texts: Vec<&str> = match item {
                "medida10" => MEDIDA10.to_vec(),
                "wide" => MEDIDA10.iter().chain(&WIDE).copied().collect(),
                "pyqg" => PYQG.to_vec(),
                t => vec![t],
            };
            for t in texts {
                let e = Expr::parse(t).map_err(library_error)?;
                if terms.contains(&e) {
                    return Err(DiscoveryError::Library(format!(
                        "`{e}` appears twice in the library `{spec}`"
                    )));
                }
                terms.push(e);
            }
        }
        if terms.is_empty() {
            return Err(DiscoveryError::Library(format!(
                "`{spec}`: the library is empty (give medida10, wide, pyqg or terms separated by `;`)"
            )));
        }
        Ok(Self {
            spec: spec.trim().to_string(),
            terms,
            trim: 0,
            filter: None,
        })
    }

    /// The specification the library was parsed from.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The terms.
    pub fn terms(&self) -> &[Expr] {
        &self.terms
    }

    /// The column names, as they print in equations.
    pub fn library(&self) -> Library {
        Library::new(self.terms.iter().map(|e| e.to_string()))
    }

    /// Checks every term against the evaluator's toolkit, the trim against the grid and the
    /// filter's length.
    pub fn check(&self, eval: &Evaluator) -> Result<(), DiscoveryError> {
        let g = eval.spectral().grid();
        if let Some(f) = &self.filter
            && f.len() != g.n_spec()
        {
            return Err(DiscoveryError::Shape(format!(
                "the library's filter has {} values, the grid's spectrum {}",
                f.len(),
                g.n_spec()
            )));
        }
        if 2 * self.trim >= g.nx.min(g.ny) {
            return Err(DiscoveryError::InvalidSetting {
                name: "trim",
                value: self.trim.to_string(),
                allowed: "fewer than half the grid points in x and in y",
            });
        }
        self.terms.iter().try_for_each(|e| {
            eval.check(e).map_err(|err| {
                let jet_only = e.fields().iter().any(|f| matches!(f, Field::PsiR | Field::Sponge));
                match library_error(err) {
                    DiscoveryError::Library(text) if jet_only && eval.spectral().jet().is_none() => {
                        DiscoveryError::Library(format!(
                            "{text}: for pyqg's models use the library `pyqg` (no jet terms) or terms of your own"
                        ))
                    }
                    other => other,
                }
            })
        })
    }

    /// Number of rows per snapshot after the trim.
    pub fn rows(&self, eval: &Evaluator) -> usize {
        let g = eval.spectral().grid();
        (g.nx - 2 * self.trim) * (g.ny - 2 * self.trim)
    }

    /// The design matrix of one state: one row per kept grid point (row-major in `(y, x)`), one
    /// column per term.
    pub fn columns(
        &self,
        eval: &mut Evaluator,
        state: &SpectralState,
    ) -> Result<Array2<f64>, DiscoveryError> {
        let mut x = Array2::zeros((self.rows(eval), self.terms.len()));
        let nx = eval.spectral().grid().nx;
        for (j, e) in self.terms.iter().enumerate() {
            let field = match &self.filter {
                Some(f) => eval.filtered_field(e, state, f)?,
                None => eval.field(e, state)?,
            };
            for (dst, src) in x.column_mut(j).iter_mut().zip(self.trimmed(&field, nx)) {
                *dst = src;
            }
        }
        Ok(x)
    }

    /// The kept points of a `(ny, nx)` row-major field, row-major.
    pub fn trimmed<'a>(&self, field: &'a [f64], nx: usize) -> impl Iterator<Item = f64> + 'a {
        let (t, ny) = (self.trim, field.len() / nx);
        field
            .chunks_exact(nx)
            .skip(t)
            .take(ny - 2 * t)
            .flat_map(move |row| row[t..nx - t].iter().copied())
    }
}

//! The model error a discovery should find, from the two models' terms: the error is
//! `sum_terms (c_truth shape_truth - c_model shape_model)`, and every term's shape is made of
//! expressions of the library grammar ([`medida_solver::Term::shape`]), so the expected
//! coefficients in a library's basis are exact.

use crate::library::QgLibrary;
use medida_solver::{Expr, Term};
use ndarray::Array2;

/// The expected model error in a library's basis.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedError {
    /// `(layer, library term)` coefficients of `dq/dt_truth - dq/dt_model`.
    pub coef: Array2<f64>,
    /// Parts of the error the library cannot express (`"+0.3 lap(psi2) in layer 2"`), empty when
    /// the library spans the error.
    pub outside: Vec<String>,
}

/// The error of `model` with respect to `truth`, both given as their term lists, in `library`.
/// Terms are matched by name; a term only one of them has counts with coefficient 0 in the other.
/// An implicit term's shape is its tendency; its effect on a step differs from that at second
/// order in the time step.
pub fn expected_error(truth: &[Term], model: &[Term], library: &QgLibrary) -> ExpectedError {
    let find = |set: &[Term], name: &str| set.iter().find(|t| t.name() == name).cloned();
    let mut names: Vec<&str> = Vec::new();
    for t in truth.iter().chain(model) {
        if !names.contains(&t.name()) {
            names.push(t.name());
        }
    }
    // (layer, expression, coefficient) of the error, in the order the terms give them.
    let mut parts: Vec<(usize, Expr, f64)> = Vec::new();
    let mut add =
        |lev: usize, e: &Expr, c: f64| match parts.iter_mut().find(|(l, x, _)| *l == lev && x == e)
        {
            Some(p) => p.2 += c,
            None => parts.push((lev, e.clone(), c)),
        };
    for name in names {
        let (t, m) = (find(truth, name), find(model, name));
        match (&t, &m) {
            (Some(t), Some(m)) if t.shape() == m.shape() => {
                let delta = t.coefficient - m.coefficient;
                if delta != 0.0 {
                    for (lev, layer) in t.shape().iter().enumerate() {
                        layer.iter().for_each(|(f, e)| add(lev, e, delta * f));
                    }
                }
            }
            _ => {
                for (term, sign) in [(t, 1.0), (m, -1.0)] {
                    let Some(term) = term else { continue };
                    for (lev, layer) in term.shape().iter().enumerate() {
                        layer
                            .iter()
                            .for_each(|(f, e)| add(lev, e, sign * term.coefficient * f));
                    }
                }
            }
        }
    }
    let mut coef = Array2::zeros((2, library.terms().len()));
    let mut outside = Vec::new();
    for (lev, e, c) in parts.into_iter().filter(|p| p.2 != 0.0) {
        match library.terms().iter().position(|t| *t == e) {
            Some(j) => coef[[lev, j]] += c,
            None => outside.push(format!("{c:+} {e} in layer {}", lev + 1)),
        }
    }
    ExpectedError { coef, outside }
}

//! The model error a discovery should find, from the two models' coefficients: the error is
//! `sum_terms (c_truth - c_model) shape`, and every solver term states its shape in the library
//! grammar ([`medida_solver::Term::layer_shapes`]), so the expected coefficients are exact.

use super::expr::Expr;
use super::library::QgLibrary;
use medida_solver::Term;
use ndarray::Array2;

/// The expected model error in a library's basis.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedError {
    /// `(layer, library term)` coefficients of `dq/dt_truth - dq/dt_model`.
    pub coef: Array2<f64>,
    /// Parts of the error the library cannot express (`"+0.3 lap(psi2) in layer 2"`, or a term
    /// without a library shape), empty when the library spans the error.
    pub outside: Vec<String>,
}

/// The error of `model` with respect to `truth`, both given as their term lists, in `library`.
/// Terms are matched by name; a term only one of them has counts with coefficient 0 in the other.
pub fn expected_error(truth: &[Term], model: &[Term], library: &QgLibrary) -> ExpectedError {
    let coefficient = |set: &[Term], name: &str| {
        set.iter()
            .filter(|t| t.name() == name)
            .map(|t| t.coefficient)
            .sum::<f64>()
    };
    let mut names: Vec<(String, &Term)> = Vec::new();
    for t in truth.iter().chain(model) {
        if !names.iter().any(|(n, _)| *n == t.name()) {
            names.push((t.name(), t));
        }
    }
    let mut coef = Array2::zeros((2, library.terms().len()));
    let mut outside = Vec::new();
    for (name, term) in names {
        let delta = coefficient(truth, &name) - coefficient(model, &name);
        if delta == 0.0 {
            continue;
        }
        let Some(shapes) = term.layer_shapes() else {
            outside.push(format!(
                "`{name}` changed by {delta:+} and has no shape in the library grammar"
            ));
            continue;
        };
        for (lev, shape) in shapes.iter().enumerate() {
            for &(factor, text) in shape {
                let e = Expr::parse(text).expect("solver shapes are valid library terms");
                match library.terms().iter().position(|t| *t == e) {
                    Some(j) => coef[[lev, j]] += delta * factor,
                    None => {
                        outside.push(format!("{:+} {text} in layer {}", delta * factor, lev + 1))
                    }
                }
            }
        }
    }
    ExpectedError { coef, outside }
}

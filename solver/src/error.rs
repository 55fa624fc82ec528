//! Errors of the solver: invalid parameters and unstable steps. Never a panic for bad input.

use thiserror::Error;

/// What can go wrong when building or stepping a model.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SolverError {
    /// A parameter is outside its allowed range.
    #[error("invalid parameter `{name}` = {value}: allowed {allowed}")]
    InvalidParameter {
        /// The parameter's name, as in the config (`nx`, `dt`, ...).
        name: &'static str,
        /// The offending value, printed.
        value: String,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// An array handed to the model has the wrong shape.
    #[error("`{name}` has shape {got:?}, expected {expected:?}")]
    Shape {
        /// Which array.
        name: &'static str,
        /// Its shape.
        got: Vec<usize>,
        /// The shape the model needs.
        expected: Vec<usize>,
    },
    /// An expression of the term grammar is malformed.
    #[error("term {0}")]
    Expression(String),
    /// A term cannot be part of this model (unknown field, duplicate name, a non-damping
    /// implicit part, ...).
    #[error("term `{name}`: {reason}")]
    Term {
        /// The term's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A step produced a non-finite value or violated the CFL condition.
    #[error("model unstable at step {step} (t = {time:e} s): {reason}")]
    Unstable {
        /// The step count at the start of the failing step.
        step: u64,
        /// Model time at the start of the failing step.
        time: f64,
        /// What went wrong.
        reason: String,
    },
}

/// Shorthand for an invalid-parameter error.
pub(crate) fn invalid(
    name: &'static str,
    value: impl ToString,
    allowed: &'static str,
) -> SolverError {
    SolverError::InvalidParameter {
        name,
        value: value.to_string(),
        allowed,
    }
}

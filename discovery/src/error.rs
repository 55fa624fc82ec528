//! Errors of the regression engine.

use thiserror::Error;

/// What can go wrong in a fit.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DiscoveryError {
    /// A setting is out of range.
    #[error("invalid setting `{name}` = {value}: allowed {allowed}")]
    InvalidSetting {
        /// Setting name.
        name: &'static str,
        /// Its value.
        value: String,
        /// The allowed range.
        allowed: &'static str,
    },
    /// Inputs do not fit together (library size vs columns, target names vs targets, ...).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// The data cannot identify the model (no rows, a zero column under scaling, ...).
    #[error("cannot fit: {0}")]
    Degenerate(String),
    /// A library term is malformed or cannot be evaluated on the given model.
    #[error("library term {0}")]
    Library(String),
    /// A closure specification is malformed (unknown name or constant, a bad value).
    #[error("closure {0}")]
    Closure(String),
    /// An ensemble member's model failed (it blew up, or refused its state).
    #[error("ensemble member {member}: {error}")]
    Member {
        /// Which member (from 0).
        member: usize,
        /// What its model said.
        error: medida_solver::SolverError,
    },
    /// The processes sharing a regression could not exchange their statistics.
    #[error("ranks: {0}")]
    Ranks(String),
    /// The solver refused a model or a state.
    #[error(transparent)]
    Solver(#[from] medida_solver::SolverError),
}

pub(crate) fn invalid(
    name: &'static str,
    value: impl ToString,
    allowed: &'static str,
) -> DiscoveryError {
    DiscoveryError::InvalidSetting {
        name,
        value: value.to_string(),
        allowed,
    }
}

/// A term-grammar error of the solver as a library error (without repeating "term").
pub(crate) fn library_error(e: medida_solver::SolverError) -> DiscoveryError {
    match e {
        medida_solver::SolverError::Expression(s) => DiscoveryError::Library(s),
        other => DiscoveryError::Library(other.to_string()),
    }
}

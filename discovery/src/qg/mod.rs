//! Model-error discovery for the two-layer QG model: a grammar of candidate terms ([`Expr`]),
//! their spectral evaluation with the solver's operators ([`Evaluator`]), libraries
//! ([`QgLibrary`], the released `medida10`), analysis increments ([`Increments`]), the error a
//! discovery should find ([`expected_error`]) and the discovered equation as a solver term
//! ([`Correction`]).

pub mod correction;
pub mod eval;
pub mod expected;
pub mod expr;
pub mod increments;
pub mod library;

pub use correction::Correction;
pub use eval::{Evaluator, Geometry, SpectralState};
pub use expected::{ExpectedError, expected_error};
pub use expr::{Expr, Field, Op};
pub use increments::{Assimilator, Increment, Increments, ObservedIncrement, Update};
pub use library::{MEDIDA10, QgLibrary, WIDE};

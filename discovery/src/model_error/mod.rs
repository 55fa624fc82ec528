//! Model-error discovery (the MEDIDA pipeline): analysis increments of an imperfect model against
//! the truth ([`Increments`], from full, interpolated or assimilated observations, by cycled
//! interpolation or an ensemble filter), the error a
//! discovery should find ([`expected_error`]), the discovery itself with its typed report
//! ([`Discovery`], [`DiscoveryReport`]) and the discovered equation as a model term
//! ([`correction_term`]).

mod assimilate;
pub mod correction;
pub mod discovery;
pub mod ensemble;
pub mod expected;
pub mod increments;

pub use assimilate::{Assimilator, CycleError, Update};
pub use correction::{CORRECTION, correction_term};
pub use discovery::{Discovery, DiscoveryReport, IncrementData, IncrementSet, LibraryState, Row};
pub use ensemble::{Cycle, EnsembleAssimilator, EnsembleFilter, EnsembleReport};
pub use expected::{ExpectedError, expected_error};
pub use increments::{Increment, Increments, ObservedIncrement};

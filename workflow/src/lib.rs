//! Runs from configurations, for the command line and the Python package alike: the config
//! schema with its presets and model-error cases ([`config`]), the model a config describes
//! ([`model`]), simulations written to files with checkpoints and restarts ([`simulate`]), and
//! the model-error pipeline over files ([`increments`], [`discover`], [`demo`]). Progress is
//! reported through [`Progress`]; errors say whether they are bad input ([`Error::is_input`]).

pub mod config;
pub mod demo;
pub mod discover;
mod error;
pub mod fit;
pub mod increments;
pub mod model;
pub mod observe;
pub mod progress;
pub mod regression;
pub mod schema;
pub mod simulate;

pub use config::RunConfig;
pub use error::{Context, Error};
pub use model::{build_model, build_truth};
pub use progress::{Progress, Silent};

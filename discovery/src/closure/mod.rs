//! Closures for coarse models (Ross et al. 2023 and the closure reference): the three
//! coarse-graining operators ([`Operator`], [`Coarsening`]), the subgrid forcing with its sign
//! stated once ([`SubgridForcing`]: added to dq/dt), closure libraries written for either layer
//! in the term grammar ([`ClosureLibrary`], with the published 7-term closure and Zanna-Bolton
//! 2020), offline skill ([`Skill`]) and offline discovery ([`ClosureDiscovery`]), and the
//! built-in closures a discovered one is compared with online ([`Baseline`]), and the online
//! similarity scores ([`similarities`]); closure constants calibrated from the enstrophy spectrum
//! alone ([`calibrate`], by ensemble Kalman inversion, [`eki`]); a coefficient field learned by
//! multi-agent reinforcement learning from the same spectrum ([`rl`]).

pub mod baseline;
pub mod calibrate;
pub mod coarsen;
pub mod discover;
pub mod eki;
pub mod forcing;
pub mod library;
pub mod metrics;
pub mod rl;
pub mod similarity;
pub mod spectrum;

pub use baseline::{BASELINES, Baseline, FieldClosure, discovered_terms};
pub use coarsen::{Coarsening, Operator};
pub use discover::{ClosureDiscovery, ClosureReport, ForcingData, ForcingSet, predict};
pub use forcing::{Forcing, SubgridForcing};
pub use library::{ClosureLibrary, ROSS7, ROSS7_WEIGHTS};
pub use metrics::{Scores, Skill};
pub use similarity::{Ensemble, METRICS, Scores18, similarities};
pub use spectrum::{SpectrumBins, SpectrumSamples};

//! Sparse regression from streamed sufficient statistics: [`Gram`] (`X^T X`, `X^T y`, `y^T y`
//! over row chunks, deterministic at any thread count), optimizers behind the
//! [`SparseOptimizer`] trait ([`Stlsq`], [`Rvm`]: one file each), threshold [`Sweep`]s with
//! AIC/BIC/cross-validation selection, bagging [`Ensemble`]s, a QR refit, and the [`Plan`] that
//! chains them for one problem, in one process or shared among several ([`Ranks`](crate::ranks::Ranks)).

pub mod ensemble;
pub mod fit;
pub mod gram;
mod linalg;
pub mod optimizer;
pub mod plan;
mod problem;
mod ranks;
pub mod refit;
pub mod rvm;
pub(crate) mod serde_rows;
pub mod stlsq;
pub mod sweep;

pub use ensemble::{Ensemble, EnsembleSummary};
pub use fit::SparseFit;
pub use gram::{Gram, GramBuilder};
pub use optimizer::{SparseOptimizer, log_grid};
pub use plan::{Choice, Plan, Refit, Regression, RowSink};
pub use problem::Scaling;
pub use refit::QrRefit;
pub use rvm::Rvm;
pub use stlsq::Stlsq;
pub use sweep::{Criterion, PathPoint, Selection, Sweep};

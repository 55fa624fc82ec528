//! Sparse regression for model-error discovery: a [`Library`] of named candidate terms, the
//! streamed sufficient statistics [`Gram`] (`X^T X`, `X^T y`, `y^T y` accumulated over row chunks,
//! deterministic at any thread count), and optimizers that work from them alone:
//! [`Stlsq`] (sequentially thresholded least squares, with a PySINDy-parity mode) and [`Rvm`]
//! (relevance vector machine, with posterior standard deviations); threshold [`Sweep`]s with
//! AIC/BIC/cross-validation selection, and bagging [`Ensemble`]s over row blocks for inclusion
//! probabilities.
//!
//! ```
//! use medida_discovery::{Gram, Library, Stlsq};
//! use ndarray::{Array2, array};
//! // y = 2 x0 - 0.5 x2, with x1 a distractor
//! let x: Array2<f64> = Array2::from_shape_fn((200, 3), |(i, j)| ((i * 7 + j * 13) % 17) as f64 - 8.0 + (j * i % 5) as f64);
//! let y = x.column(0).mapv(|v| 2.0 * v) - x.column(2).mapv(|v| 0.5 * v);
//! let y = y.insert_axis(ndarray::Axis(1));
//! let gram = Gram::from_rows(x.view(), y.view());
//! let lib = Library::new(["x0", "x1", "x2"]);
//! let fit = Stlsq::default().fit(&gram, &lib, &["y"])?;
//! assert_eq!(fit.support(0), vec![0, 2]);
//! assert!((fit.coef[[0, 0]] - 2.0).abs() < 1e-10 && (fit.coef[[0, 2]] + 0.5).abs() < 1e-10);
//! println!("{}", fit.equations(3)); // y = 2.000 x0 - 0.500 x2
//! # Ok::<(), medida_discovery::DiscoveryError>(())
//! ```

pub mod ensemble;
pub mod error;
pub mod fit;
pub mod gram;
pub mod library;
mod linalg;
pub mod observe;
mod problem;
pub mod qg;
pub mod refit;
pub mod rvm;
pub mod select;
mod serde_rows;
pub mod stlsq;

pub use ensemble::{Ensemble, EnsembleSummary};
pub use error::DiscoveryError;
pub use fit::SparseFit;
pub use gram::Gram;
pub use library::Library;
pub use problem::Scaling;
pub use refit::QrRefit;
pub use rvm::Rvm;
pub use select::{Criterion, Optimizer, Selection, Sweep};
pub use stlsq::Stlsq;

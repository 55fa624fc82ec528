//! Discovery of terms from data: sparse regression ([`regression`]: streamed [`Gram`]
//! statistics, the [`SparseOptimizer`] trait with [`Stlsq`] and [`Rvm`], threshold [`Sweep`]s
//! with AIC/BIC/cross-validation selection, bagging [`Ensemble`]s, the regression plan),
//! libraries of candidate terms ([`library`]: names, and QG libraries of the solver's term
//! grammar), model-error discovery ([`model_error`]: increments, assimilation, the expected
//! error, the discovery pipeline and its report, corrections), sparse observations
//! ([`observe`]: stations, noise, interpolators) and ensemble data assimilation ([`assimilate`]:
//! EnKF, ETKF, LETKF, localization, inflation); work shared among processes ([`ranks`]).
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

pub mod assimilate;
pub mod closure;
pub mod error;
pub mod library;
pub mod model_error;
pub mod observe;
pub mod ranks;
pub mod regression;

pub use error::DiscoveryError;
pub use library::{Library, MEDIDA10, QgLibrary, WIDE};
pub use regression::{
    Criterion, Ensemble, EnsembleSummary, Gram, GramBuilder, QrRefit, Rvm, Scaling, Selection,
    SparseFit, SparseOptimizer, Stlsq, Sweep,
};

//! A pseudo-spectral two-layer quasi-geostrophic model on a doubly periodic beta-plane, equal to
//! pyqg 0.7.2's `QGModel` to round-off, built from terms that each carry a coefficient.
//!
//! A term ([`Term`]) is a name, a coefficient and per layer a sum of expressions of one grammar
//! ([`expr`]); the model compiles its terms into a fused kernel ([`model::compile`]), and the
//! same expressions evaluated by the [`Evaluator`] on the model's [`Spectral`] toolkit are the
//! columns of regression libraries, discovered corrections and closures.
//!
//! ```
//! use medida_solver::{Expr, Model, QgParams, Term};
//!
//! let mut m = Model::new(QgParams { nx: 32, ny: 32, ..Default::default() })?; // pyqg defaults otherwise
//! m.set_pyqg_random_q(0); // pyqg's random IC after np.random.seed(0), bit for bit
//! m.run(10)?;
//! let d = m.diagnostics(); // KE per layer and total, APE, energy, enstrophy, CFL
//! assert!(d.energy > 0.0 && d.cfl < 1.0);
//! let spectrum = m.ke_spectrum(); // pyqg's calc_ispec of the KE spectrum
//! assert_eq!(spectrum.kr.len(), spectrum.total.len());
//! m.set_coefficient("beta", 1.2e-11)?; // an imperfect model: same terms, one coefficient changed
//! for t in m.terms() {
//!     println!("{:22} {:>12.4e}  {}", t.name(), t.coefficient, t.symbol());
//! }
//! // Any expression of the grammar is a term: here a PV diffusion of 50 m^2/s in both layers.
//! let lap_q = |lev| Ok::<_, medida_solver::SolverError>(vec![(1.0, Expr::parse(&format!("lap(q{})", lev + 1))?)]);
//! m.add_term(Term::new("diffusion", 50.0, [lap_q(0)?, lap_q(1)?]))?;
//! m.run(5)?;
//! # Ok::<(), medida_solver::SolverError>(())
//! ```

pub mod dealias;
pub mod diagnostics;
pub mod error;
pub mod eval;
pub mod expr;
pub mod fft;
pub mod filter;
pub mod grid;
pub mod init;
pub mod inversion;
pub mod jet;
mod lanes;
pub mod model;
pub mod params;
pub mod plan;
pub mod pyqg;
pub mod real;
pub mod simd;
pub mod spectral;
pub mod term;
pub mod terms;
pub mod turbulence;

/// Complex double, the element type of spectral fields.
pub use rustfft::num_complex::Complex64;

pub use diagnostics::{Averages, Averaging, Diagnostics};
pub use error::SolverError;
pub use eval::{Evaluator, SpectralState};
pub use expr::{Expr, Field, Op};
pub use grid::Grid;
pub use model::{Model, ModelState, NZ, in_pool};
pub use params::{Dealias, Precision, QgParams, Stepper};
pub use plan::Plan;
pub use pyqg::{PyqgPhysics, pyqg_terms};
pub use real::Real;
pub use spectral::Spectral;
pub use term::{LayerShape, Term};

//! A pseudo-spectral two-layer quasi-geostrophic model on a doubly periodic beta-plane, equal to
//! pyqg 0.7.2's `QGModel` to round-off, built from terms that each carry a coefficient.
//!
//! ```
//! use medida_solver::{Model, QgParams};
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
//! # Ok::<(), medida_solver::SolverError>(())
//! ```

pub mod dealias;
pub mod diagnostics;
pub mod error;
pub mod fft;
pub mod filter;
pub mod grid;
pub mod init;
pub mod inversion;
pub mod jet;
pub mod model;
pub mod params;
pub mod term;

/// Complex double, the element type of spectral fields.
pub use rustfft::num_complex::Complex64;

pub use diagnostics::Diagnostics;
pub use error::SolverError;
pub use grid::Grid;
pub use model::{Model, ModelState, NZ, pyqg_terms};
pub use params::{Dealias, QgParams, Stepper};
pub use term::{External, ExternalTendency, Term, TermKind};

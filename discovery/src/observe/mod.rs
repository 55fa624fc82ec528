//! Sparse, noisy observations of a gridded field and interpolation back to the full grid.
//!
//! [`ObservationSpec`] draws a seeded random set of observed grid points (a fraction of the grid,
//! the same for both layers, fixed over time unless `vary` is set) and adds Gaussian noise
//! relative to each field's standard deviation. [`Interpolator`]s map the observed values back to
//! every grid point: [`SpectralOi`] (optimal interpolation with a prior spectrum estimated from a
//! model run), [`RffRidge`] (random Fourier features and a closed-form ridge solve) and
//! [`Network`] (an MLP, with or without a random-Fourier-feature input layer, trained by Adam), and
//! the classical baselines [`Rbf`] (thin-plate spline or multiquadric, as the study's code) and
//! [`Cubic`] (Clough-Tocher on a Delaunay triangulation, scipy's `griddata` cubic).
//! [`error_spectrum`] says at which wavenumbers an interpolant is wrong.

mod cubic;
mod features;
mod interp;
mod network;
mod rbf;
mod spec;

pub use cubic::{CloughTocher2d, Cubic};
pub use interp::{
    Interpolator, RffRidge, SpectralOi, error_reaches_signal, error_spectrum, relative_error,
};
pub use network::Network;
pub use rbf::{Kernel, Rbf};
pub use spec::{ObservationSpec, normal, observed_neighbours};

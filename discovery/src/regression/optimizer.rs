//! What the regression machinery needs of an optimizer: fits from the sufficient statistics at a
//! threshold that sets its sparsity. Threshold sweeps, model selection, cross-validation,
//! ensembles and the regression [`crate::regression::Plan`] work with any [`SparseOptimizer`]; a
//! new optimizer is one type implementing it (in this crate or outside it), as PySINDy's
//! `BaseOptimizer` allows.

use crate::error::DiscoveryError;
use crate::library::Library;
use crate::regression::{Gram, SparseFit};

/// A sparse regression whose sparsity is set by one threshold.
///
/// ```
/// use medida_discovery::regression::{Gram, SparseFit, SparseOptimizer, log_grid};
/// use medida_discovery::{DiscoveryError, Library, Stlsq};
///
/// /// STLSQ that keeps at most `k` terms per target (a best-k variant, for example).
/// #[derive(Debug)]
/// struct AtMost { k: usize }
///
/// impl SparseOptimizer for AtMost {
///     fn fit_at(&self, t: f64, gram: &Gram, library: &Library, targets: &[&str]) -> Result<SparseFit, DiscoveryError> {
///         let mut fit = Stlsq::default().with_threshold(t).fit(gram, library, targets)?;
///         fit.method = format!("at most {} terms, {}", self.k, fit.method);
///         Ok(fit)
///     }
///     fn default_thresholds(&self) -> Vec<f64> { log_grid(-4.0, 0.0, 9) }
/// }
/// let opt = AtMost { k: 2 };
/// assert_eq!(opt.default_thresholds().len(), 9);
/// ```
pub trait SparseOptimizer: Send + Sync + std::fmt::Debug {
    /// Fits every target of `gram` over `library` at `threshold` (one value for every target).
    fn fit_at(
        &self,
        threshold: f64,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError>;

    /// A grid of thresholds for sweeps, from permissive to strict (of equally sparse models, the
    /// selection takes the one latest in the grid).
    fn default_thresholds(&self) -> Vec<f64>;

    /// Fits at the optimizer's own settings; by default at the middle of its default grid.
    fn fit(
        &self,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        let grid = self.default_thresholds();
        let t = grid.get(grid.len() / 2).copied().unwrap_or(0.0);
        self.fit_at(t, gram, library, targets)
    }
}

/// `n` values `10^e`, `e` evenly spaced from `lo` to `hi` (inclusive).
pub fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let steps = n.saturating_sub(1).max(1) as f64;
    (0..n)
        .map(|i| 10f64.powf(lo + (hi - lo) * i as f64 / steps))
        .collect()
}

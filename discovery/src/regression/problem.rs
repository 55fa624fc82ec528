//! The scaled least-squares problem every optimizer starts from: inputs checked, columns (and
//! targets) divided by their scale, statistics rescaled to match.

use crate::error::DiscoveryError;
use crate::library::Library;
use crate::regression::gram::Gram;
use ndarray::Array2;

/// How columns (and targets) are scaled before thresholding; coefficients are always reported in
/// the units of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// None: the threshold is in the units of the coefficients.
    None,
    /// Columns divided by their L2 norm (PySINDy's `normalize_columns=True`).
    L2Norm,
    /// Columns and targets divided by their root-mean-square: the threshold is the size of a term's
    /// contribution relative to the target's, whatever the units. The default: library terms span
    /// many orders of magnitude.
    Rms,
}

/// A problem ready for an optimizer: scaled `X^T X`, `X^T Y`, `y^T y`, and the scales to report
/// coefficients in the units of the data (`w_data[i][j] = w_scaled[i][j] * tgt[i] / col[j]`).
#[derive(Debug, Clone)]
pub(crate) struct Scaled {
    pub col: Vec<f64>,
    pub tgt: Vec<f64>,
    pub g: Array2<f64>,
    pub xty: Array2<f64>,
    pub yty: Vec<f64>,
}

impl Scaled {
    /// Checks that `library` and `targets` name `gram`'s columns and targets and that it has rows,
    /// then scales.
    pub fn new(
        gram: &Gram,
        library: &Library,
        targets: &[&str],
        scaling: Scaling,
    ) -> Result<Self, DiscoveryError> {
        let (p, m) = (gram.p(), gram.m());
        if library.len() != p || targets.len() != m {
            return Err(DiscoveryError::Shape(format!(
                "library has {} terms and {} target names; the data have {p} columns and {m} targets",
                library.len(),
                targets.len()
            )));
        }
        if gram.n == 0 {
            return Err(DiscoveryError::Degenerate("no rows".into()));
        }
        let (col, tgt) = scales(gram, scaling)?;
        let g = Array2::from_shape_fn((p, p), |(a, b)| gram.xtx[[a, b]] / (col[a] * col[b]));
        let xty = Array2::from_shape_fn((p, m), |(a, i)| gram.xty[[a, i]] / (col[a] * tgt[i]));
        let yty = (0..m).map(|i| gram.yty[i] / (tgt[i] * tgt[i])).collect();
        Ok(Self {
            col,
            tgt,
            g,
            xty,
            yty,
        })
    }

    /// A coefficient of target `i`, term `j`, in the units of the data.
    pub fn unscale(&self, i: usize, j: usize, w: f64) -> f64 {
        w * self.tgt[i] / self.col[j]
    }
}

/// Column and target scale factors for `scaling`.
fn scales(gram: &Gram, scaling: Scaling) -> Result<(Vec<f64>, Vec<f64>), DiscoveryError> {
    let (p, m, n) = (gram.p(), gram.m(), gram.n as f64);
    let diag = |j: usize| gram.xtx[[j, j]];
    let (col, tgt): (Vec<f64>, Vec<f64>) = match scaling {
        Scaling::None => (vec![1.0; p], vec![1.0; m]),
        Scaling::L2Norm => ((0..p).map(|j| diag(j).sqrt()).collect(), vec![1.0; m]),
        Scaling::Rms => (
            (0..p).map(|j| (diag(j) / n).sqrt()).collect(),
            (0..m).map(|i| (gram.yty[i] / n).sqrt()).collect(),
        ),
    };
    if let Some(j) = col.iter().position(|c| *c == 0.0 || !c.is_finite()) {
        return Err(DiscoveryError::Degenerate(format!(
            "column {j} is zero (or not finite) and cannot be scaled; remove it or use no scaling"
        )));
    }
    // A zero target keeps scale 1: its model is the zero model.
    Ok((
        col,
        tgt.into_iter()
            .map(|t| if t > 0.0 && t.is_finite() { t } else { 1.0 })
            .collect(),
    ))
}

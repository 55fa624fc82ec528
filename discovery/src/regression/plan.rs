//! A regression plan: one optimizer, how its threshold is chosen, the row blocks, an optional
//! bagging ensemble and the final refit, run over a stream of row chunks. `medida fit`,
//! `medida discover` and the Python package all regress through it.

use crate::error::DiscoveryError;
use crate::library::Library;
use crate::regression::{
    Criterion, Ensemble, EnsembleSummary, GramBuilder, QrRefit, Selection, SparseFit,
    SparseOptimizer, Sweep,
};
use ndarray::ArrayView2;
use serde::Serialize;
use std::sync::Arc;

/// Receives rows of the library and of the targets.
pub type RowSink<'a, E> = dyn FnMut(ArrayView2<f64>, ArrayView2<f64>) -> Result<(), E> + 'a;

/// How the threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    /// A sweep over thresholds, chosen per target by the criterion.
    Select(Criterion),
    /// One given threshold.
    Threshold(f64),
}

/// The final least-squares refit on the selected terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refit {
    /// From the statistics (Cholesky of the selected block of `X^T X`).
    #[default]
    Cholesky,
    /// A streamed QR of the selected columns (a second pass over the rows): accurate when
    /// selected terms are nearly collinear.
    Qr,
}

/// A resolved regression.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The optimizer.
    pub optimizer: Arc<dyn SparseOptimizer>,
    /// How its threshold is chosen.
    pub choice: Choice,
    /// Thresholds of the sweep (default: the optimizer's grid).
    pub thresholds: Option<Vec<f64>>,
    /// Rows per block: the unit of cross-validation folds and bootstrap samples (default: a
    /// hundredth of the rows).
    pub block_rows: Option<usize>,
    /// A bagging ensemble at the chosen thresholds.
    pub ensemble: Option<Ensemble>,
    /// The final refit.
    pub refit: Refit,
}

/// What a regression found. As JSON: `fit`, and `path` and `chosen` (the sweep) and
/// `ensemble` when there are.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    /// The chosen fit.
    pub fit: SparseFit,
    /// The sweep (when the threshold was selected).
    pub selection: Option<Selection>,
    /// The ensemble's summary.
    pub ensemble: Option<EnsembleSummary>,
    /// Number of row blocks and rows per block.
    pub blocks: (usize, usize),
    /// Sum of squares of each target.
    pub yty: Vec<f64>,
}

impl Regression {
    /// The fit as `medida fit` prints it: method, equations, quality per target, the ensemble.
    pub fn summary(&self) -> String {
        let fit = &self.fit;
        let mut out = format!(
            "{}  ({} rows, {} terms)\n\n{}\n",
            fit.method,
            fit.n,
            fit.terms.len(),
            fit.equations(4)
        );
        for (i, t) in fit.targets.iter().enumerate() {
            out.push_str(&format!(
                "{t}: R^2 {:.6}, residual sum of squares {:.4e}, condition number {:.3e}, threshold {:.3e}\n",
                fit.r2[i], fit.rss[i], fit.condition[i], fit.threshold[i]
            ));
        }
        if let Some(e) = &self.ensemble {
            out.push_str(&e.text(&fit.terms, &fit.targets));
        }
        out
    }
}

impl Serialize for Regression {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("fit", &self.fit)?;
        if let Some(sel) = &self.selection {
            map.serialize_entry("path", &sel.path)?;
            map.serialize_entry("chosen", &sel.chosen)?;
        }
        if let Some(e) = &self.ensemble {
            map.serialize_entry("ensemble", e)?;
        }
        map.end()
    }
}

impl Plan {
    /// A plan for `optimizer` chosen by `choice`, default blocks, no ensemble, Cholesky refit.
    pub fn new(optimizer: Arc<dyn SparseOptimizer>, choice: Choice) -> Self {
        Self {
            optimizer,
            choice,
            thresholds: None,
            block_rows: None,
            ensemble: None,
            refit: Refit::Cholesky,
        }
    }

    /// Rows per block for `rows` rows in all.
    pub fn block_rows_for(&self, rows: usize) -> usize {
        self.block_rows.unwrap_or(rows.div_ceil(100)).max(1)
    }

    /// Runs the regression of `m` targets on `p` library columns over `rows` rows. `pass` feeds
    /// every row (library, targets) to its sink, in chunks of whole blocks; it is called once, or
    /// twice for a QR refit.
    pub fn run<E: From<DiscoveryError>>(
        &self,
        rows: usize,
        p: usize,
        m: usize,
        library: &Library,
        targets: &[&str],
        pass: impl Fn(&mut RowSink<E>) -> Result<(), E>,
    ) -> Result<Regression, E> {
        let block_rows = self.block_rows_for(rows);
        let mut builder = GramBuilder::new(p, m).block_rows(block_rows);
        if matches!(self.choice, Choice::Select(Criterion::Cv { .. })) || self.ensemble.is_some() {
            builder = builder.keep_blocks();
        }
        pass(&mut |x, y| Ok(builder.push(x, y)?))?;
        let (gram, blocks) = builder.finish_with_blocks();
        let finite = gram
            .xtx
            .iter()
            .chain(gram.xty.iter())
            .chain(gram.yty.iter());
        if !finite.into_iter().all(|v| v.is_finite()) {
            return Err(DiscoveryError::Degenerate(
                "the data contain NaN or Inf (or values so large their squares overflow): remove or fill them first".into(),
            )
            .into());
        }
        let (mut fit, selection) = match self.choice {
            Choice::Select(c) => {
                let sweep = Sweep {
                    optimizer: self.optimizer.clone(),
                    thresholds: self
                        .thresholds
                        .clone()
                        .unwrap_or_else(|| self.optimizer.default_thresholds()),
                };
                let sel = sweep.run(&gram, &blocks, library, targets, c)?;
                (sel.fit.clone(), Some(sel))
            }
            Choice::Threshold(t) => (self.optimizer.fit_at(t, &gram, library, targets)?, None),
        };
        if self.refit == Refit::Qr {
            let mut refit = QrRefit::new(&fit);
            pass(&mut |x, y| Ok(refit.push(x, y)?))?;
            refit.finish(&mut fit)?;
        }
        let ensemble = match &self.ensemble {
            Some(e) => {
                let mut s = e.run(&*self.optimizer, &fit.threshold, &blocks, library, targets)?;
                s.blocks.1 = block_rows;
                Some(s)
            }
            None => None,
        };
        Ok(Regression {
            fit,
            selection,
            ensemble,
            blocks: (gram.n.div_ceil(block_rows), block_rows),
            yty: gram.yty.to_vec(),
        })
    }
}

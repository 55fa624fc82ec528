//! A regression plan: one optimizer, how its threshold is chosen, the row blocks, an optional
//! bagging ensemble and the final refit, run over a stream of row chunks. `medida fit`,
//! `medida discover` and the Python package all regress through it.

use crate::error::DiscoveryError;
use crate::library::Library;
use crate::ranks::{Ranks, share};
use crate::regression::Gram;
use crate::regression::ranks::gather_blocks;
use crate::regression::{
    Criterion, Ensemble, EnsembleSummary, GramBuilder, QrRefit, Selection, SparseFit,
    SparseOptimizer, Sweep,
};
use ndarray::{ArrayView2, s};
use serde::Serialize;
use std::ops::Range;
use std::sync::Arc;

/// What takes rows in the end: the statistics' builder, or the QR refit.
type PushRows<'a, E> = dyn FnMut(ArrayView2<f64>, ArrayView2<f64>) -> Result<(), E> + 'a;

/// Receives a pass's rows of the library and of the targets, in order. When the regression is
/// shared among processes ([`Plan::ranks`]) this process sums only its share of the rows; a pass
/// asks [`RowSink::wants`] before it computes rows, and [`RowSink::skip`]s those it need not.
pub struct RowSink<'a, E> {
    push: &'a mut PushRows<'a, E>,
    /// The rows this process sums.
    share: Range<usize>,
    /// Rows passed so far.
    at: usize,
}

impl<'a, E> RowSink<'a, E> {
    /// A sink that gives `push` the rows of `share` (row numbers from the pass's start).
    fn new(push: &'a mut PushRows<'a, E>, share: Range<usize>) -> Self {
        Self { push, share, at: 0 }
    }

    /// Whether any of the next `rows` rows are this process's (always, in one process).
    pub fn wants(&self, rows: usize) -> bool {
        self.at < self.share.end && self.at + rows > self.share.start
    }

    /// Passes over the next `rows` rows without them (those [`RowSink::wants`] said no to).
    pub fn skip(&mut self, rows: usize) {
        self.at += rows;
    }

    /// The next rows: library `x` (rows x p) and targets `y` (rows x m).
    pub fn push(&mut self, x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<(), E> {
        let n = x.nrows();
        let (a, b) = (
            self.share.start.clamp(self.at, self.at + n) - self.at,
            self.share.end.clamp(self.at, self.at + n) - self.at,
        );
        self.at += n;
        if a == 0 && b == n {
            (self.push)(x, y)
        } else if a < b {
            (self.push)(x.slice(s![a..b, ..]), y.slice(s![a..b, ..]))
        } else {
            Ok(())
        }
    }
}

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
    /// The processes sharing the regression (each sums its share of the rows), or `None` for
    /// this process alone. The fit is the same, bit for bit.
    pub ranks: Option<Arc<dyn Ranks>>,
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
            ranks: None,
        }
    }

    /// Rows per block for `rows` rows in all.
    pub fn block_rows_for(&self, rows: usize) -> usize {
        self.block_rows.unwrap_or(rows.div_ceil(100)).max(1)
    }

    /// Runs the regression of `m` targets on `p` library columns over `rows` rows. `pass` feeds
    /// every row (library, targets) to its sink, in chunks of whole blocks; it is called once, or
    /// twice for a QR refit. Shared among [`Plan::ranks`], the sink keeps this process's share
    /// and the pass may skip what it does not want.
    pub fn run<E: From<DiscoveryError>>(
        &self,
        rows: usize,
        p: usize,
        m: usize,
        library: &Library,
        targets: &[&str],
        pass: impl Fn(&mut RowSink<E>) -> Result<(), E>,
    ) -> Result<Regression, E> {
        if self.ranks.is_some() && self.refit == Refit::Qr {
            return Err(DiscoveryError::Ranks(
                "the QR refit needs every row in one process: use the Cholesky refit over ranks"
                    .into(),
            )
            .into());
        }
        let block_rows = self.block_rows_for(rows);
        let mut builder = GramBuilder::new(p, m).block_rows(block_rows);
        let keep =
            matches!(self.choice, Choice::Select(Criterion::Cv { .. })) || self.ensemble.is_some();
        if keep || self.ranks.is_some() {
            builder = builder.keep_blocks();
        }
        let mine = match &self.ranks {
            Some(r) => share(rows, block_rows, r.rank(), r.size()),
            None => 0..rows,
        };
        pass(&mut RowSink::new(&mut |x, y| Ok(builder.push(x, y)?), mine))?;
        let (mut gram, mut blocks) = builder.finish_with_blocks();
        if let Some(ranks) = &self.ranks {
            blocks = gather_blocks(&**ranks, &blocks, p, m)?;
            gram = Gram::zeros(p, m);
            blocks.iter().for_each(|b| gram.merge(b));
            if !keep {
                blocks.clear();
            }
        }
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
            pass(&mut RowSink::new(
                &mut |x, y| Ok(refit.push(x, y)?),
                0..rows,
            ))?;
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

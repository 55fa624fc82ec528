//! Sufficient statistics of a least-squares problem, streamed over rows.
//!
//! For a design matrix `X` (n x p) and targets `Y` (n x m): `G = X^T X`, `B = X^T Y`, the target
//! sums of squares `y^T y`, and the row count. Every optimizer works from these alone, so rows are
//! never held all at once.
//!
//! Rows are summed in fixed blocks (of [`BLOCK_ROWS`] unless set), whatever chunk sizes arrive, and blocks are
//! merged in order: the result is the same bit for bit whether the data come whole or in chunks,
//! and at any number of threads. Each block's statistics can be kept ([`GramBuilder::keep_blocks`])
//! so that cross-validation and bagging re-combine blocks without another pass over the data.

use crate::error::DiscoveryError;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

/// Rows per block of the accumulation.
pub const BLOCK_ROWS: usize = 4096;

/// Sufficient statistics `X^T X`, `X^T Y`, `diag(Y^T Y)` and `n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gram {
    /// Rows accumulated.
    pub n: usize,
    /// `X^T X`, p x p.
    pub xtx: Array2<f64>,
    /// `X^T Y`, p x m.
    pub xty: Array2<f64>,
    /// `y_i^T y_i` per target, m.
    pub yty: Array1<f64>,
}

impl Gram {
    /// Empty statistics for `p` columns and `m` targets.
    pub fn zeros(p: usize, m: usize) -> Self {
        Self {
            n: 0,
            xtx: Array2::zeros((p, p)),
            xty: Array2::zeros((p, m)),
            yty: Array1::zeros(m),
        }
    }

    /// Number of library columns.
    pub fn p(&self) -> usize {
        self.xtx.nrows()
    }
    /// Number of targets.
    pub fn m(&self) -> usize {
        self.xty.ncols()
    }

    /// Statistics of a whole in-memory problem (same result as streaming it in any chunks).
    pub fn from_rows(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Self {
        let mut b = GramBuilder::new(x.ncols(), y.ncols());
        b.push(x, y).expect("x and y have matching rows");
        b.finish()
    }

    /// The statistics of target `i` alone.
    pub fn target(&self, i: usize) -> Gram {
        Gram {
            n: self.n,
            xtx: self.xtx.clone(),
            xty: self.xty.slice(ndarray::s![.., i..i + 1]).to_owned(),
            yty: self.yty.slice(ndarray::s![i..i + 1]).to_owned(),
        }
    }

    /// Adds another block's statistics.
    pub fn merge(&mut self, other: &Gram) {
        self.n += other.n;
        self.xtx += &other.xtx;
        self.xty += &other.xty;
        self.yty += &other.yty;
    }

    /// Statistics of one block of rows (any size).
    fn of_block(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Self {
        let (p, m) = (x.ncols(), y.ncols());
        let mut g = Self::zeros(p, m);
        let (x, y) = (x.as_standard_layout(), y.as_standard_layout());
        let xs = x.as_slice().expect("standard layout");
        let ys = y.as_slice().expect("standard layout");
        let xr = MatRef::from_row_major_slice(xs, x.nrows(), p);
        let yr = MatRef::from_row_major_slice(ys, y.nrows(), m);
        let xtx = MatMut::from_row_major_slice_mut(g.xtx.as_slice_mut().expect("owned"), p, p);
        matmul(xtx, Accum::Replace, xr.transpose(), xr, 1.0, Par::Seq);
        let xty = MatMut::from_row_major_slice_mut(g.xty.as_slice_mut().expect("owned"), p, m);
        matmul(xty, Accum::Replace, xr.transpose(), yr, 1.0, Par::Seq);
        for (acc, col) in g.yty.iter_mut().zip(y.axis_iter(Axis(1))) {
            *acc = col.iter().map(|v| v * v).sum();
        }
        g.n = x.nrows();
        g
    }
}

/// Accumulates [`Gram`] statistics from row chunks of any size.
#[derive(Debug, Clone)]
pub struct GramBuilder {
    total: Gram,
    block_rows: usize,
    blocks: Option<Vec<Gram>>,
    /// Rows waiting for a full block.
    pending_x: Vec<f64>,
    pending_y: Vec<f64>,
}

impl GramBuilder {
    /// A builder for `p` columns and `m` targets.
    pub fn new(p: usize, m: usize) -> Self {
        Self {
            total: Gram::zeros(p, m),
            block_rows: BLOCK_ROWS,
            blocks: None,
            pending_x: Vec::new(),
            pending_y: Vec::new(),
        }
    }

    /// Sums rows in blocks of `rows` instead of [`BLOCK_ROWS`] (smaller blocks give more
    /// cross-validation folds and bootstrap units). Totals are bit-identical for a given block size.
    pub fn block_rows(mut self, rows: usize) -> Self {
        self.block_rows = rows.max(1);
        self
    }

    /// Also keep each block's statistics (for cross-validation folds and bagging).
    pub fn keep_blocks(mut self) -> Self {
        self.blocks = Some(Vec::new());
        self
    }

    /// Adds rows. Full blocks are summed in parallel; the rest waits for the next chunk.
    pub fn push(&mut self, x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<(), DiscoveryError> {
        let (p, m) = (self.total.p(), self.total.m());
        if x.ncols() != p || y.ncols() != m || x.nrows() != y.nrows() {
            return Err(DiscoveryError::Shape(format!(
                "chunk X {:?} and Y {:?}, builder expects p = {p}, m = {m}",
                x.dim(),
                y.dim()
            )));
        }
        let mut start = 0;
        if !self.pending_x.is_empty() {
            let have = self.pending_x.len() / p;
            let take = (self.block_rows - have).min(x.nrows());
            self.pending_x.extend(x.slice(s![..take, ..]).iter());
            self.pending_y.extend(y.slice(s![..take, ..]).iter());
            start = take;
            if have + take == self.block_rows {
                let px = std::mem::take(&mut self.pending_x);
                let py = std::mem::take(&mut self.pending_y);
                let bx = ArrayView2::from_shape((self.block_rows, p), &px).expect("block shape");
                let by = ArrayView2::from_shape((self.block_rows, m), &py).expect("block shape");
                self.add_blocks(vec![Gram::of_block(bx, by)]);
            }
        }
        let rows = self.block_rows;
        let full = (x.nrows() - start) / rows;
        let grams: Vec<Gram> = (0..full)
            .into_par_iter()
            .map(|b| {
                let r = start + b * rows..start + (b + 1) * rows;
                Gram::of_block(x.slice(s![r.clone(), ..]), y.slice(s![r, ..]))
            })
            .collect();
        self.add_blocks(grams);
        let rest = start + full * rows;
        self.pending_x.extend(x.slice(s![rest.., ..]).iter());
        self.pending_y.extend(y.slice(s![rest.., ..]).iter());
        Ok(())
    }

    fn add_blocks(&mut self, grams: Vec<Gram>) {
        for g in grams {
            self.total.merge(&g);
            if let Some(blocks) = &mut self.blocks {
                blocks.push(g);
            }
        }
    }

    /// Sums the last, partial block and returns the statistics.
    pub fn finish(self) -> Gram {
        self.finish_with_blocks().0
    }

    /// Like [`GramBuilder::finish`], also returning the kept blocks (empty unless
    /// [`GramBuilder::keep_blocks`] was called).
    pub fn finish_with_blocks(mut self) -> (Gram, Vec<Gram>) {
        let (p, m) = (self.total.p(), self.total.m());
        if !self.pending_x.is_empty() {
            let rows = self.pending_x.len() / p;
            let px = std::mem::take(&mut self.pending_x);
            let py = std::mem::take(&mut self.pending_y);
            let bx = ArrayView2::from_shape((rows, p), &px).expect("block shape");
            let by = ArrayView2::from_shape((rows, m), &py).expect("block shape");
            self.add_blocks(vec![Gram::of_block(bx, by)]);
        }
        (self.total, self.blocks.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(n: usize, p: usize, m: usize) -> (Array2<f64>, Array2<f64>) {
        let x = Array2::from_shape_fn((n, p), |(i, j)| {
            ((i * 31 + j * 17) % 101) as f64 / 50.0 - 1.0
        });
        let y = Array2::from_shape_fn((n, m), |(i, k)| ((i * 7 + k * 3) % 13) as f64 - 6.0);
        (x, y)
    }

    #[test]
    fn matches_direct_products() {
        let (x, y) = problem(5000, 6, 2);
        let g = Gram::from_rows(x.view(), y.view());
        let xtx = x.t().dot(&x);
        let xty = x.t().dot(&y);
        assert_eq!(g.n, 5000);
        assert!((&g.xtx - &xtx).iter().all(|d| d.abs() < 1e-9));
        assert!((&g.xty - &xty).iter().all(|d| d.abs() < 1e-9));
        assert!((g.yty[1] - y.column(1).dot(&y.column(1))).abs() < 1e-9);
    }

    #[test]
    fn chunking_and_threads_do_not_change_a_bit() {
        let (x, y) = problem(3 * BLOCK_ROWS + 777, 5, 3);
        let whole = Gram::from_rows(x.view(), y.view());
        for chunk in [1000, 4096, 5000, 12_000] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1 + chunk % 2)
                .build()
                .unwrap();
            let streamed = pool.install(|| {
                let mut b = GramBuilder::new(5, 3);
                for start in (0..x.nrows()).step_by(chunk) {
                    let end = (start + chunk).min(x.nrows());
                    b.push(x.slice(s![start..end, ..]), y.slice(s![start..end, ..]))
                        .unwrap();
                }
                b.finish()
            });
            assert!(
                streamed == whole,
                "chunks of {chunk} rows differ from the whole matrix"
            );
        }
    }
}

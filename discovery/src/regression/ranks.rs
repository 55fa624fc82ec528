//! A regression shared among processes (MPI ranks): each sums the statistics of its own
//! contiguous run of row blocks, and one exchange gives every process every block, merged in the
//! global order. So the fit is the one-process fit of the same rows, bit for bit, at any number of
//! processes (the blocks are the same blocks; [`GramBuilder`](super::GramBuilder) sums each the
//! same way wherever it is computed, and merges them in order).
//!
//! The exchange itself is the caller's (the CLI's `mpi` feature implements [`Ranks`] over an MPI
//! communicator); this crate knows no MPI.

use super::Gram;
use crate::error::DiscoveryError;
use ndarray::{Array1, Array2};
use std::fmt::Debug;
use std::ops::Range;

/// The processes a regression (or other shared work: the runs of a closure dataset) is shared
/// among, and the one collective it needs.
pub trait Ranks: Debug + Send + Sync {
    /// This process, from 0.
    fn rank(&self) -> usize;
    /// How many processes there are.
    fn size(&self) -> usize;
    /// Every process's `mine` (of any length), concatenated in rank order, on every process.
    /// Every process calls it at the same points (once per regression pass).
    fn all_gather(&self, mine: &[f64]) -> Result<Vec<f64>, DiscoveryError>;
}

/// The rows rank `rank` of `size` sums: a contiguous run of whole blocks of `block_rows`,
/// the blocks spread as evenly as they go (the first ranks take one more).
pub fn share(rows: usize, block_rows: usize, rank: usize, size: usize) -> Range<usize> {
    let blocks = rows.div_ceil(block_rows.max(1));
    let size = size.max(1);
    let first = |r: usize| r * (blocks / size) + r.min(blocks % size);
    let (b0, b1) = (first(rank), first(rank + 1));
    (b0 * block_rows).min(rows)..(b1 * block_rows).min(rows)
}

/// Every rank's blocks, in rank order (each rank passes its own, in order): the blocks of the
/// whole problem in the order one process would sum them.
pub fn gather_blocks(
    ranks: &dyn Ranks,
    mine: &[Gram],
    p: usize,
    m: usize,
) -> Result<Vec<Gram>, DiscoveryError> {
    let width = 1 + p * p + p * m + m;
    let mut flat = Vec::with_capacity(mine.len() * width);
    for g in mine {
        // Row counts travel as f64: exact below 2^53 rows.
        flat.push(g.n as f64);
        flat.extend(g.xtx.iter().chain(&g.xty).chain(&g.yty));
    }
    let all = ranks.all_gather(&flat)?;
    if all.len() % width != 0 {
        return Err(DiscoveryError::Ranks(format!(
            "the gathered statistics hold {} values, not a whole number of blocks of {width}",
            all.len()
        )));
    }
    Ok(all
        .chunks_exact(width)
        .map(|b| {
            let (xtx, rest) = b[1..].split_at(p * p);
            let (xty, yty) = rest.split_at(p * m);
            Gram {
                n: b[0] as usize,
                xtx: Array2::from_shape_vec((p, p), xtx.to_vec()).expect("p x p values"),
                xty: Array2::from_shape_vec((p, m), xty.to_vec()).expect("p x m values"),
                yty: Array1::from(yty.to_vec()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_rows_once_in_whole_blocks() {
        for (rows, block, size) in [(1000, 10, 3), (1001, 10, 4), (7, 10, 2), (100, 1, 7)] {
            let mut next = 0;
            for rank in 0..size {
                let r = share(rows, block, rank, size);
                assert_eq!(r.start, next, "rows {rows}, block {block}, rank {rank}");
                assert!(r.start.is_multiple_of(block) || r.start == rows);
                next = r.end;
            }
            assert_eq!(next, rows);
        }
        // 101 blocks over 4 ranks: 26, 25, 25, 25.
        assert_eq!(share(1001, 10, 0, 4), 0..260);
        assert_eq!(share(1001, 10, 3, 4), 760..1001);
    }
}

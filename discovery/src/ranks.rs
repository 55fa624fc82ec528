//! Work shared among processes (MPI ranks): the [`Ranks`] a job runs on and the one collective
//! medida's shared work needs (an all-gather), how work is shared ([`share`]: contiguous runs of
//! whole blocks) and results gathered in the one-process order ([`gather_results`]). Used by the
//! regression's row pass ([`Plan`](crate::regression::Plan)), the forward runs of a closure
//! calibration and the runs of a closure dataset.
//!
//! The exchange itself is the caller's (the CLI's `mpi` feature implements [`Ranks`] over an MPI
//! communicator); this crate knows no MPI.

use crate::error::DiscoveryError;
use std::fmt::Debug;
use std::ops::Range;

/// The processes a job is shared among, and the one collective it needs.
pub trait Ranks: Debug + Send + Sync {
    /// This process, from 0.
    fn rank(&self) -> usize;
    /// How many processes there are.
    fn size(&self) -> usize;
    /// Every process's `mine` (of any length), concatenated in rank order, on every process.
    /// Every process calls it at the same points (once per regression pass, once per batch of
    /// forward runs).
    fn all_gather(&self, mine: &[f64]) -> Result<Vec<f64>, DiscoveryError>;
}

/// Fills `all` on every rank from the ranks' shares of it: each rank holds its own contiguous
/// share, `all[mine]`, and receives the others' (the rows of an ensemble, each rank a run of
/// members).
pub fn gather_shares(
    ranks: &dyn Ranks,
    all: &mut [f64],
    mine: Range<usize>,
) -> Result<(), DiscoveryError> {
    let received = ranks.all_gather(&all[mine])?;
    if received.len() != all.len() {
        return Err(DiscoveryError::Ranks(format!(
            "{} values gathered for {}",
            received.len(),
            all.len()
        )));
    }
    all.copy_from_slice(&received);
    Ok(())
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

/// This process's rank and the number of processes: 0 of 1 without ranks.
pub fn position(ranks: Option<&dyn Ranks>) -> (usize, usize) {
    ranks.map_or((0, 1), |r| (r.rank(), r.size()))
}

/// The items of `n` this process takes: its contiguous share ([`share`] of blocks of one), all
/// of them without ranks.
pub fn my_share(ranks: Option<&dyn Ranks>, n: usize) -> Range<usize> {
    let (rank, size) = position(ranks);
    share(n, 1, rank, size)
}

/// Every rank's `mine` (results each `None` or numbers of any length), concatenated in rank
/// order, on every rank; `mine` itself without ranks.
pub fn gather_results(
    ranks: Option<&dyn Ranks>,
    mine: Vec<Option<Vec<f64>>>,
) -> Result<Vec<Option<Vec<f64>>>, DiscoveryError> {
    let Some(ranks) = ranks else {
        return Ok(mine);
    };
    // Each result travels as its length (-1: none) then its numbers.
    let mut flat = Vec::new();
    for r in &mine {
        match r {
            Some(v) => {
                flat.push(v.len() as f64);
                flat.extend(v);
            }
            None => flat.push(-1.0),
        }
    }
    let all = ranks.all_gather(&flat)?;
    let mut out = Vec::new();
    let mut rest = &all[..];
    while let Some((&len, tail)) = rest.split_first() {
        if len < 0.0 {
            out.push(None);
            rest = tail;
            continue;
        }
        let len = len as usize;
        if len > tail.len() {
            return Err(DiscoveryError::Ranks(format!(
                "a gathered result of {len} numbers with {} left",
                tail.len()
            )));
        }
        out.push(Some(tail[..len].to_vec()));
        rest = &tail[len..];
    }
    Ok(out)
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

    /// Two ranks in one process: rank 1's results are the given ones, so the all-gather is
    /// rank 0's then those.
    #[derive(Debug)]
    struct Second(Vec<f64>);
    impl Ranks for Second {
        fn rank(&self) -> usize {
            0
        }
        fn size(&self) -> usize {
            2
        }
        fn all_gather(&self, mine: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
            Ok([mine, &self.0].concat())
        }
    }

    #[test]
    fn results_gather_in_rank_order_with_the_ones_that_failed() {
        let a = vec![Some(vec![1.0, 2.0]), None, Some(vec![])];
        assert_eq!(gather_results(None, a.clone()).unwrap(), a);
        let other = Second(vec![3.0, 7.0, 8.0, 9.0, -1.0]);
        let all = gather_results(Some(&other), a.clone()).unwrap();
        assert_eq!(all[..3], a[..]);
        assert_eq!(all[3..], [Some(vec![7.0, 8.0, 9.0]), None]);
        let short = Second(vec![5.0, 1.0]);
        assert!(gather_results(Some(&short), a).is_err());
    }
}

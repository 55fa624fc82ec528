//! Work shared among processes (MPI ranks): the [`Ranks`] a job runs on and the two collectives
//! medida's shared work needs (an all-gather, and an all-to-all that transposes an ensemble),
//! how work is shared ([`share`]: contiguous runs of
//! whole blocks) and results gathered in the one-process order ([`gather_results`]). Used by the
//! regression's row pass ([`Plan`](crate::regression::Plan)), the forward runs of a closure
//! calibration and the runs of a closure dataset.
//!
//! The exchange itself is the caller's (the CLI's `mpi` feature implements [`Ranks`] over an MPI
//! communicator); this crate knows no MPI.

use crate::error::DiscoveryError;
use std::fmt::Debug;
use std::ops::Range;

/// The processes a job is shared among, and the collectives it needs.
pub trait Ranks: Debug + Send + Sync {
    /// This process, from 0.
    fn rank(&self) -> usize;
    /// How many processes there are.
    fn size(&self) -> usize;
    /// Every process's `mine` (of any length), concatenated in rank order, on every process.
    /// Every process calls it at the same points (once per regression pass, once per batch of
    /// forward runs).
    fn all_gather(&self, mine: &[f64]) -> Result<Vec<f64>, DiscoveryError>;

    /// Personalised exchange: `to[s]` (of any length) goes to rank `s`, and the result's entry
    /// `r` is what rank `r` sent here. Every process calls it at the same points (twice per
    /// ensemble analysis). The default goes through [`all_gather`](Self::all_gather), each
    /// process receiving everything and keeping its part; an implementation over MPI moves
    /// only the parts (`MPI_Alltoallv`).
    fn all_to_all(&self, to: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, DiscoveryError> {
        let size = self.size();
        if to.len() != size {
            return Err(DiscoveryError::Ranks(format!(
                "{} parts to send to {size} ranks",
                to.len()
            )));
        }
        // Each rank's message: the lengths of its parts, then the parts.
        let mut flat: Vec<f64> = to.iter().map(|part| part.len() as f64).collect();
        to.iter().for_each(|part| flat.extend(part));
        let all = self.all_gather(&flat)?;
        let (me, mut rest) = (self.rank(), &all[..]);
        let mut from = Vec::with_capacity(size);
        for r in 0..size {
            let bad = || DiscoveryError::Ranks(format!("rank {r}'s parts are cut short"));
            let (lengths, tail) = rest.split_at_checked(size).ok_or_else(bad)?;
            let lengths: Vec<usize> = lengths.iter().map(|&l| l as usize).collect();
            let total = lengths.iter().sum::<usize>();
            let (parts, tail) = tail.split_at_checked(total).ok_or_else(bad)?;
            let start = lengths[..me].iter().sum::<usize>();
            from.push(parts[start..start + lengths[me]].to_vec());
            rest = tail;
        }
        Ok(from)
    }
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
    fn all_to_all_over_the_all_gather_keeps_what_each_rank_sent_here() {
        // Rank 1 sends [9] to rank 0 and [7, 8] to itself.
        let other = Second(vec![1.0, 2.0, 9.0, 7.0, 8.0]);
        let from = other.all_to_all(&[vec![1.0, 2.0], vec![3.0]]).unwrap();
        assert_eq!(from, [vec![1.0, 2.0], vec![9.0]]);
        assert!(
            other.all_to_all(&[vec![1.0]]).is_err(),
            "one part for two ranks"
        );
        let cut = Second(vec![1.0, 2.0, 9.0]);
        assert!(
            cut.all_to_all(&[vec![], vec![]]).is_err(),
            "a part cut short"
        );
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

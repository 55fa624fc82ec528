//! The regression's exchange over ranks ([`Ranks`]): each rank sums the statistics of its own
//! contiguous run of row blocks ([`share`](crate::ranks::share)), and one exchange gives every process every block,
//! merged in the global order. So the fit is the one-process fit of the same rows, bit for bit,
//! at any number of processes (the blocks are the same blocks; [`GramBuilder`](super::GramBuilder)
//! sums each the same way wherever it is computed, and merges them in order).

use super::Gram;
use crate::error::DiscoveryError;
use crate::ranks::Ranks;
use ndarray::{Array1, Array2};

/// Every rank's blocks, in rank order (each rank passes its own, in order): the blocks of the
/// whole problem in the order one process would sum them.
pub(crate) fn gather_blocks(
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

//! An ensemble shared among processes (MPI ranks) two ways: by members for the forecasts (each
//! process steps a contiguous run of members over the whole state) and by columns for the
//! analysis (each process holds every member at the columns of a contiguous run of units: the
//! LETKF's local domains, or rows of the grid). One all-to-all transposes the forecasts to the
//! analysis' layout and one transposes the analyses back; otherwise only the observed ensemble
//! (the members at the stations) and per-column statistics travel. Without ranks one process
//! holds both, the columns in unit order. This is the layout of operational LETKFs (Miyoshi's
//! `scatter_grd_mpi` / `gather_grd_mpi`).

use super::split_columns;
use crate::error::DiscoveryError;
use crate::ranks::{Ranks, position, share};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use std::ops::Range;
use std::sync::Arc;

/// Who holds which part of an ensemble of `members` states of `width` variables.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Every unit's state variables, in unit order.
    units: Vec<Vec<usize>>,
    /// Per rank: its members.
    members: Vec<Range<usize>>,
    /// Per rank: its units.
    shares: Vec<Range<usize>>,
    /// Per rank: the variables of its units, unit after unit.
    columns: Vec<Vec<usize>>,
    /// The variables of a member.
    width: usize,
    ranks: Option<Arc<dyn Ranks>>,
}

impl Layout {
    /// `members` states of `width` variables, the variables grouped in `units` (each variable in
    /// exactly one), members and units each shared in contiguous runs among `ranks` (all with
    /// this process alone).
    pub fn new(
        members: usize,
        width: usize,
        units: Vec<Vec<usize>>,
        ranks: Option<Arc<dyn Ranks>>,
    ) -> Result<Self, DiscoveryError> {
        let mut seen = vec![false; width];
        for &v in units.iter().flatten() {
            match seen.get_mut(v) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(DiscoveryError::Shape(format!(
                        "variable {v} of a state of {width} is outside it or in two units"
                    )));
                }
            }
        }
        if let Some(v) = seen.iter().position(|s| !s) {
            return Err(DiscoveryError::Shape(format!(
                "variable {v} of a state of {width} is in no unit"
            )));
        }
        let size = position(ranks.as_deref()).1;
        let shares: Vec<Range<usize>> = (0..size).map(|r| share(units.len(), 1, r, size)).collect();
        Ok(Self {
            members: (0..size).map(|r| share(members, 1, r, size)).collect(),
            columns: shares.iter().map(|s| units[s.clone()].concat()).collect(),
            shares,
            units,
            width,
            ranks,
        })
    }

    fn rank(&self) -> usize {
        position(self.ranks.as_deref()).0
    }

    /// How many members there are.
    pub fn member_count(&self) -> usize {
        self.members.last().map_or(0, |m| m.end)
    }

    /// The members this process forecasts.
    pub fn my_members(&self) -> Range<usize> {
        self.members[self.rank()].clone()
    }

    /// The units this process analyses.
    pub fn my_units(&self) -> Range<usize> {
        self.shares[self.rank()].clone()
    }

    /// The variables of rank `rank`'s units, unit after unit.
    fn columns_of(&self, rank: usize) -> &[usize] {
        &self.columns[rank]
    }

    /// The variables this process analyses: its units', unit after unit.
    pub fn my_columns(&self) -> &[usize] {
        self.columns_of(self.rank())
    }

    /// This process's `block` (its columns) split unit by unit.
    pub fn split_units<'a>(&self, block: ArrayViewMut2<'a, f64>) -> Vec<ArrayViewMut2<'a, f64>> {
        split_columns(block, self.units[self.my_units()].iter().map(Vec::len))
    }

    /// `to[s]` to rank `s` and what each rank sent here; `to` itself without ranks.
    fn exchange(&self, to: Vec<Vec<f64>>) -> Result<Vec<Vec<f64>>, DiscoveryError> {
        match &self.ranks {
            Some(r) => r.all_to_all(&to),
            None => Ok(to),
        }
    }

    /// Every member at this process's columns, `(members, columns)`, from this process's
    /// members `rows` `(my members, width)`.
    pub fn to_columns(&self, rows: ArrayView2<f64>) -> Result<Array2<f64>, DiscoveryError> {
        self.check_rows(rows.dim())?;
        let to = (0..self.shares.len())
            .map(|s| {
                rows.select(Axis(1), self.columns_of(s))
                    .into_iter()
                    .collect()
            })
            .collect();
        let from = self.exchange(to)?;
        let width = self.my_columns().len();
        let mut block = Vec::with_capacity(self.member_count() * width);
        for (r, part) in from.into_iter().enumerate() {
            if part.len() != self.members[r].len() * width {
                return Err(self.cut_short(r, part.len()));
            }
            block.extend(part);
        }
        Array2::from_shape_vec((self.member_count(), width), block)
            .map_err(|e| DiscoveryError::Shape(e.to_string()))
    }

    /// The inverse of [`to_columns`](Self::to_columns): this process's members `rows` at every
    /// column from every process's `block` of every member at its columns.
    pub fn to_rows(
        &self,
        block: ArrayView2<f64>,
        mut rows: ArrayViewMut2<f64>,
    ) -> Result<(), DiscoveryError> {
        self.check_rows(rows.dim())?;
        let mine = self.my_columns();
        if block.dim() != (self.member_count(), mine.len()) {
            return Err(DiscoveryError::Shape(format!(
                "a block {:?} for {} members at {} columns",
                block.dim(),
                self.member_count(),
                mine.len()
            )));
        }
        let to = self
            .members
            .iter()
            .map(|m| {
                block
                    .slice_axis(Axis(0), m.clone().into())
                    .iter()
                    .copied()
                    .collect()
            })
            .collect();
        let from = self.exchange(to)?;
        for (r, part) in from.into_iter().enumerate() {
            let columns = self.columns_of(r);
            let part = Array2::from_shape_vec((rows.nrows(), columns.len()), part)
                .map_err(|_| self.cut_short(r, 0))?;
            for (c, &col) in columns.iter().enumerate() {
                rows.column_mut(col).assign(&part.column(c));
            }
        }
        Ok(())
    }

    /// Per-column values of this process, `(k, my columns)`, gathered on every process into
    /// `(k, width)` in the state's order.
    pub fn gather_columns(&self, values: ArrayView2<f64>) -> Result<Array2<f64>, DiscoveryError> {
        let k = values.nrows();
        let parts = match &self.ranks {
            Some(r) => {
                let all = r.all_gather(&values.iter().copied().collect::<Vec<_>>())?;
                let mut parts = Vec::with_capacity(self.shares.len());
                let mut rest = &all[..];
                for rank in 0..self.shares.len() {
                    let columns = self.columns_of(rank);
                    let (part, tail) = rest
                        .split_at_checked(k * columns.len())
                        .ok_or_else(|| self.cut_short(rank, rest.len()))?;
                    parts.push((columns, part.to_vec()));
                    rest = tail;
                }
                parts
            }
            None => vec![(self.my_columns(), values.iter().copied().collect())],
        };
        let mut out = Array2::zeros((k, self.width));
        for (columns, part) in parts {
            let part = Array2::from_shape_vec((k, columns.len()), part)
                .map_err(|e| DiscoveryError::Shape(e.to_string()))?;
            for (c, &col) in columns.iter().enumerate() {
                out.column_mut(col).assign(&part.column(c));
            }
        }
        Ok(out)
    }

    /// This process's members' `values` `(my members, k)` (e.g. at the stations) gathered on
    /// every process into `(members, k)`.
    pub fn gather_members(&self, values: ArrayView2<f64>) -> Result<Array2<f64>, DiscoveryError> {
        let k = values.ncols();
        let all = match &self.ranks {
            Some(r) => r.all_gather(&values.iter().copied().collect::<Vec<_>>())?,
            None => values.iter().copied().collect(),
        };
        Array2::from_shape_vec((self.member_count(), k), all).map_err(|_| {
            DiscoveryError::Ranks(format!(
                "members' values gathered for {} members of {k}",
                self.member_count()
            ))
        })
    }

    fn check_rows(&self, dim: (usize, usize)) -> Result<(), DiscoveryError> {
        let want = (self.my_members().len(), self.width);
        if dim != want {
            return Err(DiscoveryError::Shape(format!(
                "members' states {dim:?} where this process holds {want:?}"
            )));
        }
        Ok(())
    }

    fn cut_short(&self, rank: usize, got: usize) -> DiscoveryError {
        DiscoveryError::Ranks(format!(
            "rank {rank}'s part of the ensemble is cut short ({got} values)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two ranks in one process, rank 1's exchanges scripted: rank 0 sees what MPI would give it.
    #[derive(Debug)]
    struct First {
        gathered: Vec<f64>,
        sent_here: Vec<f64>,
    }
    impl Ranks for First {
        fn rank(&self) -> usize {
            0
        }
        fn size(&self) -> usize {
            2
        }
        fn all_gather(&self, mine: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
            Ok([mine, &self.gathered].concat())
        }
        fn all_to_all(&self, to: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, DiscoveryError> {
            Ok(vec![to[0].clone(), self.sent_here.clone()])
        }
    }

    /// 3 members of 4 variables, units {2, 0} and {1} and {3}.
    fn units() -> Vec<Vec<usize>> {
        vec![vec![2, 0], vec![1], vec![3]]
    }

    #[test]
    fn alone_the_columns_are_in_unit_order_and_come_back() {
        let layout = Layout::new(3, 4, units(), None).unwrap();
        let e = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as f64);
        assert_eq!(layout.my_columns(), [2, 0, 1, 3]);
        let block = layout.to_columns(e.view()).unwrap();
        assert_eq!(block.row(1).to_vec(), [12.0, 10.0, 11.0, 13.0]);
        let mut back = Array2::zeros((3, 4));
        layout.to_rows(block.view(), back.view_mut()).unwrap();
        assert_eq!(back, e);
        let stats = layout
            .gather_columns(block.slice(ndarray::s![..1, ..]))
            .unwrap();
        assert_eq!(stats.row(0), e.row(0));
    }

    #[test]
    fn over_two_ranks_each_transposes_its_share() {
        // Rank 0 forecasts members 0 and 1 and analyses units {2, 0} and {1}; rank 1 member 2
        // and unit {3}. Rank 1 sends member 2 at columns 2, 0, 1.
        let ranks = Arc::new(First {
            gathered: vec![],
            sent_here: vec![22.0, 20.0, 21.0],
        });
        let layout = Layout::new(3, 4, units(), Some(ranks)).unwrap();
        assert_eq!((layout.my_members(), layout.my_units()), (0..2, 0..2));
        let rows = Array2::from_shape_fn((2, 4), |(i, j)| (10 * i + j) as f64);
        let block = layout.to_columns(rows.view()).unwrap();
        assert_eq!(
            block,
            ndarray::arr2(&[[2.0, 0.0, 1.0], [12.0, 10.0, 11.0], [22.0, 20.0, 21.0]])
        );
        // Per-column statistics: rank 0's at columns 2, 0, 1, rank 1's at column 3.
        let ranks = Arc::new(First {
            gathered: vec![7.0],
            sent_here: vec![],
        });
        let layout = Layout::new(3, 4, units(), Some(ranks)).unwrap();
        let stats = layout
            .gather_columns(ndarray::arr2(&[[2.0, 0.0, 1.0]]).view())
            .unwrap();
        assert_eq!(stats, ndarray::arr2(&[[0.0, 1.0, 2.0, 7.0]]));
        // Back: rank 1 sends members 0 and 1 at column 3.
        let ranks = Arc::new(First {
            gathered: vec![],
            sent_here: vec![3.5, 13.5],
        });
        let layout = Layout::new(3, 4, units(), Some(ranks)).unwrap();
        let mut back = Array2::zeros((2, 4));
        layout.to_rows(block.view(), back.view_mut()).unwrap();
        assert_eq!(
            back,
            ndarray::arr2(&[[0.0, 1.0, 2.0, 3.5], [10.0, 11.0, 12.0, 13.5]])
        );
        // A part cut short is an error, not a panic.
        let short = Arc::new(First {
            gathered: vec![],
            sent_here: vec![22.0],
        });
        let layout = Layout::new(3, 4, units(), Some(short)).unwrap();
        assert!(layout.to_columns(rows.view()).is_err());
    }

    #[test]
    fn units_must_cover_the_state_once() {
        for bad in [
            vec![vec![0, 1], vec![1, 2, 3]],
            vec![vec![0, 1, 2]],
            vec![vec![0, 1, 2, 4]],
        ] {
            assert!(Layout::new(3, 4, bad, None).is_err());
        }
    }
}

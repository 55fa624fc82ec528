//! MPI ranks (cargo feature `mpi`): under `mpirun -n N`, the regressions of `medida discover`
//! and `medida fit` (each rank evaluates its share of the rows and one all-gather of the
//! blocks' statistics gives every rank the one-process fit, bit for bit) and the runs of
//! `medida closure data` (each rank makes its share of the runs); rank 0 alone prints and
//! writes the results. Without the feature, or run without `mpirun`, a command runs in this
//! process alone.

use medida_discovery::regression::Ranks;
use std::sync::Arc;

/// The processes of this run: MPI, kept initialised while this lives, and the ranks a
/// regression is shared among (`None` in one process).
pub struct World {
    #[cfg(feature = "mpi")]
    _universe: Option<mpi::environment::Universe>,
    pub ranks: Option<Arc<dyn Ranks>>,
}

impl World {
    /// Whether this process prints and writes the results (rank 0, or the only process).
    pub fn is_root(&self) -> bool {
        self.ranks.as_ref().is_none_or(|r| r.rank() == 0)
    }

    /// `result`, or over ranks an error that ends the whole job: the other ranks may be waiting
    /// for this one in the exchange, and a rank leaving normally would leave them waiting (and
    /// `MPI_Finalize` with them), so the error is printed with its rank and `MPI_Abort` stops
    /// every rank; `mpirun` then names the rank and exits non-zero.
    pub fn or_abort<T>(&self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        match (&self.ranks, result) {
            #[cfg(feature = "mpi")]
            (Some(r), Err(e)) => {
                use mpi::topology::Communicator;
                eprintln!("error (rank {} of {}): {e:#}", r.rank(), r.size());
                mpi::topology::SimpleCommunicator::world().abort(1)
            }
            (_, result) => result,
        }
    }
}

/// Joins the MPI job this process was started in (`mpi` feature), or stands alone.
#[cfg(not(feature = "mpi"))]
pub fn world() -> anyhow::Result<World> {
    Ok(World { ranks: None })
}

/// Whether an MPI launcher started this process: OpenMPI's `mpirun`, MPICH's Hydra, or Slurm's
/// `srun` (PMI or PMIx) set one of these.
#[cfg(feature = "mpi")]
fn launched_by_mpi() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// Joins the MPI job this process was started in (`mpi` feature), or stands alone. Started
/// without a launcher it stands alone without initialising MPI (a singleton MPI_Init costs
/// about 0.3 s here).
#[cfg(feature = "mpi")]
pub fn world() -> anyhow::Result<World> {
    use mpi::environment::Threading;
    use mpi::topology::Communicator;
    if !launched_by_mpi() {
        return Ok(World {
            _universe: None,
            ranks: None,
        });
    }
    // The regression's exchange runs on a worker thread of the command's pool: MPI must allow
    // calls from any thread, one at a time.
    let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
        .ok_or_else(|| anyhow::anyhow!("MPI was initialised twice"))?;
    if threading < Threading::Serialized {
        anyhow::bail!(
            "this MPI library gives threading level {threading:?}; medida needs Serialized"
        );
    }
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let ranks: Option<Arc<dyn Ranks>> = (size > 1).then(|| Arc::new(Mpi { rank, size }) as _);
    Ok(World {
        _universe: Some(universe),
        ranks,
    })
}

/// `MPI_COMM_WORLD`'s ranks.
#[cfg(feature = "mpi")]
#[derive(Debug)]
struct Mpi {
    rank: usize,
    size: usize,
}

#[cfg(feature = "mpi")]
impl Ranks for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_gather(&self, mine: &[f64]) -> Result<Vec<f64>, medida_discovery::DiscoveryError> {
        use mpi::datatype::PartitionMut;
        use mpi::traits::*;
        let too_many = |n: usize| {
            medida_discovery::DiscoveryError::Ranks(format!(
                "{n} values to exchange: MPI counts stop at {}",
                i32::MAX
            ))
        };
        let world = mpi::topology::SimpleCommunicator::world();
        let count = i32::try_from(mine.len()).map_err(|_| too_many(mine.len()))?;
        let mut counts = vec![0i32; self.size];
        world.all_gather_into(&count, &mut counts[..]);
        let mut displs = Vec::with_capacity(self.size);
        let mut total = 0usize;
        for &c in &counts {
            displs.push(i32::try_from(total).map_err(|_| too_many(total))?);
            total += c as usize;
        }
        let mut all = vec![0.0; total];
        let mut into = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
        world.all_gather_varcount_into(mine, &mut into);
        Ok(all)
    }
}

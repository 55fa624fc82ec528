//! MPI ranks (cargo feature `mpi`). Under `mpirun -n N`: the regressions of `medida discover`
//! and `medida fit` (each rank evaluates its share of the rows, one all-gather of the blocks'
//! statistics gives every rank the one-process fit, bit for bit), the runs of `medida closure
//! data`, the forward runs of `medida closure calibrate` and the ensemble filters of `medida
//! increments` (each rank makes its share); rank 0 alone prints and writes the results. Without
//! the feature, or run without `mpirun`, a command runs in this process alone.

use medida_discovery::ranks::Ranks;
use std::sync::Arc;

/// The processes of this run: MPI, kept initialised while this lives, and the ranks a
/// regression is shared among (`None` in one process).
pub struct World {
    #[cfg(feature = "mpi")]
    _universe: Option<mpi::environment::Universe>,
    pub ranks: Option<Arc<dyn Ranks>>,
    /// What this rank's exchanges cost.
    #[cfg(feature = "mpi")]
    exchanges: Option<Arc<Exchanges>>,
}

impl World {
    /// Whether this process prints and writes the results (rank 0, or the only process).
    pub fn is_root(&self) -> bool {
        medida_discovery::ranks::position(self.ranks.as_deref()).0 == 0
    }

    /// Over ranks, unless `quiet`, rank 0's account of the exchanges on stderr: how many, how
    /// much they moved, the time moving it and the time waiting for the slowest rank.
    pub fn note_exchanges(&self, quiet: bool) {
        #[cfg(feature = "mpi")]
        if let (Some(x), false, true) = (&self.exchanges, quiet, self.is_root()) {
            use std::sync::atomic::Ordering::Relaxed;
            let ms = |ns: &std::sync::atomic::AtomicU64| ns.load(Relaxed) as f64 * 1e-6;
            let values = x.values.load(Relaxed);
            eprintln!(
                "MPI exchanges: {}, receiving {values} values ({:.1} MB) in all: {:.1} ms moving them, {:.1} ms waiting for the slowest rank (rank 0)",
                x.calls.load(Relaxed),
                values as f64 * 8e-6,
                ms(&x.moving_ns),
                ms(&x.waiting_ns)
            );
        }
        #[cfg(not(feature = "mpi"))]
        let _ = quiet;
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
                use std::io::Write;
                // One write, so mpirun's own report of the abort cannot land inside the line
                // (`eprintln!` writes it piece by piece).
                let line = format!("error (rank {} of {}): {e:#}\n", r.rank(), r.size());
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
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
            exchanges: None,
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
    let exchanges = Arc::new(Exchanges::default());
    let ranks: Option<Arc<dyn Ranks>> = (size > 1).then(|| {
        Arc::new(Mpi {
            rank,
            size,
            exchanges: exchanges.clone(),
        }) as _
    });
    Ok(World {
        _universe: Some(universe),
        exchanges: ranks.is_some().then_some(exchanges),
        ranks,
    })
}

/// The exchanges of one rank (all-gathers and all-to-alls): how many, the values they received,
/// and the time spent.
#[cfg(feature = "mpi")]
#[derive(Debug, Default)]
struct Exchanges {
    calls: std::sync::atomic::AtomicU64,
    values: std::sync::atomic::AtomicU64,
    /// In the barrier before each: the other ranks still working.
    waiting_ns: std::sync::atomic::AtomicU64,
    /// In the exchanges themselves.
    moving_ns: std::sync::atomic::AtomicU64,
}

/// `MPI_COMM_WORLD`'s ranks.
#[cfg(feature = "mpi")]
#[derive(Debug)]
struct Mpi {
    rank: usize,
    size: usize,
    exchanges: Arc<Exchanges>,
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
        self.timed(|world| {
            let count = mpi_count(mine.len())?;
            let mut counts = vec![0i32; self.size];
            world.all_gather_into(&count, &mut counts[..]);
            let (displs, total) = displacements(&counts)?;
            let mut all = vec![0.0; total];
            let mut into = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            world.all_gather_varcount_into(mine, &mut into);
            Ok((all, total))
        })
    }

    fn all_to_all(
        &self,
        to: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, medida_discovery::DiscoveryError> {
        use mpi::datatype::{Partition, PartitionMut};
        use mpi::traits::*;
        if to.len() != self.size {
            return Err(medida_discovery::DiscoveryError::Ranks(format!(
                "{} parts to send to {} ranks",
                to.len(),
                self.size
            )));
        }
        self.timed(|world| {
            let send_counts = to
                .iter()
                .map(|part| mpi_count(part.len()))
                .collect::<Result<Vec<_>, _>>()?;
            let mut counts = vec![0i32; self.size];
            world.all_to_all_into(&send_counts[..], &mut counts[..]);
            let (send_displs, _) = displacements(&send_counts)?;
            let (displs, total) = displacements(&counts)?;
            let sent = to.concat();
            let mut all = vec![0.0; total];
            let from = Partition::new(&sent[..], &send_counts[..], &send_displs[..]);
            let mut into = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            world.all_to_all_varcount_into(&from, &mut into);
            let parts = counts
                .iter()
                .zip(&displs)
                .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
                .collect();
            Ok((parts, total))
        })
    }
}

#[cfg(feature = "mpi")]
impl Mpi {
    /// Runs one collective on `MPI_COMM_WORLD` after a barrier (so the time waiting for the
    /// slowest rank and the time moving the data are told apart) and counts it with the values
    /// it received.
    fn timed<T>(
        &self,
        collective: impl FnOnce(
            &mpi::topology::SimpleCommunicator,
        ) -> Result<(T, usize), medida_discovery::DiscoveryError>,
    ) -> Result<T, medida_discovery::DiscoveryError> {
        use mpi::traits::*;
        use std::sync::atomic::Ordering::Relaxed;
        let world = mpi::topology::SimpleCommunicator::world();
        let start = std::time::Instant::now();
        world.barrier();
        let arrived = std::time::Instant::now();
        let (result, received) = collective(&world)?;
        let x = &self.exchanges;
        x.calls.fetch_add(1, Relaxed);
        x.values.fetch_add(received as u64, Relaxed);
        x.waiting_ns
            .fetch_add((arrived - start).as_nanos() as u64, Relaxed);
        x.moving_ns
            .fetch_add(arrived.elapsed().as_nanos() as u64, Relaxed);
        Ok(result)
    }
}

/// `n` as an MPI count, or an error when MPI's counts cannot hold it.
#[cfg(feature = "mpi")]
fn mpi_count(n: usize) -> Result<i32, medida_discovery::DiscoveryError> {
    i32::try_from(n).map_err(|_| {
        medida_discovery::DiscoveryError::Ranks(format!(
            "{n} values to exchange: MPI counts stop at {}",
            i32::MAX
        ))
    })
}

/// The offsets of consecutive parts of `counts` values, and their total.
#[cfg(feature = "mpi")]
fn displacements(counts: &[i32]) -> Result<(Vec<i32>, usize), medida_discovery::DiscoveryError> {
    let mut displs = Vec::with_capacity(counts.len());
    let mut total = 0usize;
    for &c in counts {
        displs.push(mpi_count(total)?);
        total += c as usize;
    }
    Ok((displs, total))
}

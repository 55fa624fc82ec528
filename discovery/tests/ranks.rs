//! A regression shared among processes gives the one-process fit bit for bit: here the "ranks"
//! are threads exchanging through shared memory (the CLI's `mpi` feature exchanges over MPI;
//! tests/cli_mpi.rs checks that end to end under `mpirun`).

use medida_discovery::regression::{Choice, Plan, Ranks, Regression, RowSink};
use medida_discovery::{Criterion, DiscoveryError, Ensemble, Library, Rvm, SparseOptimizer, Stlsq};
use ndarray::{Array2, Axis};
use rand_mt::Mt64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

/// `size` threads' slots and a barrier: `all_gather` as MPI's, in shared memory.
#[derive(Debug)]
struct Shared {
    slots: Mutex<Vec<Vec<f64>>>,
    barrier: Barrier,
}

#[derive(Debug)]
struct ThreadRank {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
}

impl Ranks for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_gather(&self, mine: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        self.shared.slots.lock().unwrap()[self.rank] = mine.to_vec();
        self.shared.barrier.wait();
        let all = self.shared.slots.lock().unwrap().concat();
        // Nobody refills a slot before everyone has read them all.
        self.shared.barrier.wait();
        Ok(all)
    }
}

const ROWS: usize = 5003;
const P: usize = 8;

/// A sparse problem with noise: y0 = 2 x1 - 0.5 x4, y1 = 3 x2.
fn problem() -> (Array2<f64>, Array2<f64>) {
    let mut rng = Mt64::new(7);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
    let x = Array2::from_shape_fn((ROWS, P), |_| u());
    let mut y = Array2::zeros((ROWS, 2));
    for r in 0..ROWS {
        y[[r, 0]] = 2.0 * x[[r, 1]] - 0.5 * x[[r, 4]] + 0.01 * u();
        y[[r, 1]] = 3.0 * x[[r, 2]] + 0.01 * u();
    }
    (x, y)
}

/// Runs `plan` with chunks of 700 rows, counting the rows the pass had to make.
fn run(plan: &Plan, x: &Array2<f64>, y: &Array2<f64>, made: &AtomicUsize) -> Regression {
    let lib = Library::numbered(P);
    plan.run(
        ROWS,
        P,
        2,
        &lib,
        &["y0", "y1"],
        |sink: &mut RowSink<DiscoveryError>| {
            for start in (0..ROWS).step_by(700) {
                let end = (start + 700).min(ROWS);
                if !sink.wants(end - start) {
                    sink.skip(end - start);
                    continue;
                }
                made.fetch_add(end - start, Ordering::Relaxed);
                let r = ndarray::Slice::from(start..end);
                sink.push(x.slice_axis(Axis(0), r), y.slice_axis(Axis(0), r))?;
            }
            Ok(())
        },
    )
    .unwrap()
}

/// Every rank's result of `plan` shared among `size` threads, and the rows each pass made.
fn shared_among(plan: &Plan, size: usize) -> Vec<(Regression, usize)> {
    let (x, y) = problem();
    let shared = Arc::new(Shared {
        slots: Mutex::new(vec![Vec::new(); size]),
        barrier: Barrier::new(size),
    });
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let mut plan = plan.clone();
                plan.ranks = Some(Arc::new(ThreadRank {
                    rank,
                    size,
                    shared: shared.clone(),
                }));
                let (x, y) = (&x, &y);
                s.spawn(move || {
                    let made = AtomicUsize::new(0);
                    let out = run(&plan, x, y, &made);
                    (out, made.into_inner())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn plans() -> Vec<Plan> {
    let stlsq: Arc<dyn SparseOptimizer> = Arc::new(Stlsq::default());
    let rvm: Arc<dyn SparseOptimizer> = Arc::new(Rvm::default());
    let mut cv = Plan::new(stlsq.clone(), Choice::Select(Criterion::Cv { folds: 5 }));
    cv.ensemble = Some(Ensemble {
        n_models: 10,
        seed: 3,
    });
    let mut small_blocks = Plan::new(rvm, Choice::Select(Criterion::Bic));
    small_blocks.block_rows = Some(97);
    vec![
        Plan::new(stlsq.clone(), Choice::Select(Criterion::Bic)),
        Plan::new(stlsq, Choice::Threshold(0.1)),
        cv,
        small_blocks,
    ]
}

#[test]
fn every_rank_gets_the_one_process_fit_bit_for_bit() {
    let (x, y) = problem();
    for plan in plans() {
        let alone = run(&plan, &x, &y, &AtomicUsize::new(0));
        assert_eq!(alone.fit.support(0), vec![1, 4], "{}", alone.summary());
        for size in [2, 3] {
            let results = shared_among(&plan, size);
            let made: usize = results.iter().map(|(_, m)| m).sum();
            for (rank, (out, _)) in results.into_iter().enumerate() {
                assert_eq!(out, alone, "rank {rank} of {size}, {}", alone.fit.method);
            }
            // Each rank made the chunks overlapping its share, not every row: with 700-row
            // chunks, at most one chunk per rank boundary is made twice.
            assert!(
                made <= ROWS + (size - 1) * 700,
                "{made} rows made over {size} ranks"
            );
        }
    }
}

#[test]
fn the_qr_refit_is_refused_over_ranks() {
    let mut plan = plans().remove(0);
    plan.refit = medida_discovery::regression::Refit::Qr;
    plan.ranks = Some(Arc::new(ThreadRank {
        rank: 0,
        size: 1,
        shared: Arc::new(Shared {
            slots: Mutex::new(vec![Vec::new()]),
            barrier: Barrier::new(1),
        }),
    }));
    let lib = Library::numbered(P);
    let err = plan
        .run(
            ROWS,
            P,
            2,
            &lib,
            &["y0", "y1"],
            |_: &mut RowSink<DiscoveryError>| Ok(()),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("Cholesky refit over ranks"),
        "{err}"
    );
}

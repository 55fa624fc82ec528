//! A regression, or a closure calibration, shared among processes gives the one-process result
//! bit for bit: here the "ranks" are threads exchanging through shared memory (the CLI's `mpi`
//! feature exchanges over MPI; tests/cli_mpi.rs checks that end to end under `mpirun`).

mod common;

use medida_discovery::ranks::Ranks;
use medida_discovery::regression::{Choice, Plan, Regression, RowSink};
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

/// `size` ranks exchanging through one shared memory, one per thread.
fn thread_ranks(size: usize) -> Vec<Arc<dyn Ranks>> {
    let shared = Arc::new(Shared {
        slots: Mutex::new(vec![Vec::new(); size]),
        barrier: Barrier::new(size),
    });
    (0..size)
        .map(|rank| {
            Arc::new(ThreadRank {
                rank,
                size,
                shared: shared.clone(),
            }) as _
        })
        .collect()
}

/// Every rank's result of `plan` shared among `size` threads, and the rows each pass made.
fn shared_among(plan: &Plan, size: usize) -> Vec<(Regression, usize)> {
    let (x, y) = problem();
    std::thread::scope(|s| {
        let handles: Vec<_> = thread_ranks(size)
            .into_iter()
            .map(|ranks| {
                let mut plan = plan.clone();
                plan.ranks = Some(ranks);
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
    plan.ranks = thread_ranks(1).pop();
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

/// An ensemble Kalman inversion of Smagorinsky's constant (5 members, 2 updates) and a sweep of
/// 4 values on a 32 x 32 eddy model, alone and shared among 2 and 3 ranks: every rank's
/// iterations (members' constants, fits, steps, the redrawn members' draws) and sweep are the
/// one-process ones, bit for bit.
#[test]
fn every_rank_gets_the_one_process_calibration_bit_for_bit() {
    use medida_discovery::closure::calibrate::{EkiSettings, ForwardRun, calibrate, sweep};
    use medida_discovery::closure::eki::Eki;
    let (forward, free, y) = common::small_calibration(1000, 20, 60, 4);
    let eki = Eki::new(y.clone(), vec![1e-4; y.len()]).unwrap();
    let settings = EkiSettings {
        members: 5,
        iterations: 2,
        seed: 11,
        prior: vec![0.2],
        prior_log_sd: 0.5,
        upper: Vec::new(),
        step: None,
    };
    let values = [0.05, 0.1, 0.2, 0.4];
    let run = |forward: &ForwardRun| {
        (
            calibrate(&eki, forward, &free, &settings, &mut |_| {}).unwrap(),
            sweep(&eki, forward, &free, &values).unwrap(),
        )
    };
    let alone = run(&forward);
    assert_eq!(alone.0.len(), 3, "two updates and the final ensemble");
    assert_eq!(alone.1.len(), values.len());
    for size in [2, 3] {
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = thread_ranks(size)
                .into_iter()
                .map(|ranks| {
                    let forward = ForwardRun {
                        ranks: Some(ranks),
                        ..forward.clone()
                    };
                    s.spawn(move || run(&forward))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (rank, r) in results.iter().enumerate() {
            assert!(*r == alone, "rank {rank} of {size}");
        }
    }
}

/// The LETKF's local analyses shared among 2 and 3 ranks (2 x 3 domains on a 2-level 24 x 16
/// grid, a third of the first 6 rows observed, so that the domains near row 15 see no station):
/// each rank holds its members, transposes them to every member at its domains' columns,
/// analyses its domains and transposes back; the members gathered are the one-process analysis,
/// bit for bit.
#[test]
fn ensemble_shared_by_members_and_by_domains_gives_the_one_process_letkf_bit_for_bit() {
    use medida_discovery::assimilate::{Layout, Letkf, Localization, Observed, PeriodicGrid};
    let grid = PeriodicGrid {
        levels: 2,
        ny: 24,
        nx: 16,
    };
    let mut rng = Mt64::new(5);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
    let e0 = Array2::from_shape_fn((10, grid.len()), |(_, j)| (j as f64 * 0.3).sin() + u());
    let h: Vec<usize> = (0..6 * grid.nx).step_by(3).collect();
    let stations: Vec<[f64; 2]> = h
        .iter()
        .map(|&s| [(s / grid.nx) as f64, (s % grid.nx) as f64])
        .collect();
    let eo = e0.select(Axis(1), &h);
    let y = ndarray::Array1::from_shape_fn(h.len(), |k| (k as f64 * 0.7).cos());
    let r = ndarray::Array1::from_elem(h.len(), 0.3);
    let obs = Observed {
        members: eo.view(),
        y: y.view(),
        variance: r.view(),
    };
    let loc = Localization {
        batch: (2, 3),
        ..Localization::isotropic(1.5)
    };
    let letkf = Letkf::new(grid, loc).unwrap();
    let mut alone = e0.clone();
    letkf.analyse(&mut alone, &obs, &stations).unwrap();
    assert!(alone != e0, "the analysis moved the ensemble");
    // Row 15 is 9 rows from the nearest station; the taper ends 3.64 radii (5.5 rows) away.
    let far = 15 * grid.nx + 7;
    assert_eq!(alone.column(far), e0.column(far), "no station near");
    for size in [2, 3] {
        let results: Vec<Array2<f64>> = std::thread::scope(|s| {
            let handles: Vec<_> = thread_ranks(size)
                .into_iter()
                .map(|ranks| {
                    let (e0, obs, stations) = (&e0, &obs, &stations);
                    s.spawn(move || {
                        let domains = letkf.domains();
                        let units = domains.iter().map(|d| letkf.columns(d)).collect();
                        let layout =
                            Layout::new(e0.nrows(), grid.len(), units, Some(ranks)).unwrap();
                        let mut rows = e0
                            .slice_axis(Axis(0), layout.my_members().into())
                            .to_owned();
                        let mut block = layout.to_columns(rows.view()).unwrap();
                        let reach = letkf.reach(&domains[layout.my_units()], stations);
                        letkf
                            .analyse_domains(block.view_mut(), obs, &reach)
                            .unwrap();
                        layout.to_rows(block.view(), rows.view_mut()).unwrap();
                        layout.gather_members(rows.view()).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (rank, e) in results.iter().enumerate() {
            assert!(*e == alone, "rank {rank} of {size}");
        }
    }
}

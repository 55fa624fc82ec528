//! One LETKF analysis at the size of the 25%-with-noise demo: the MEDIDA jet's two layers of
//! 96 x 192, 20 members, a quarter of the columns observed in both layers (9,216 observations),
//! radius 1.5 grid points, 2 x 2 columns per local domain (4,608 eigenproblems). The analysis
//! alone (the stations' reach made beforehand, as a cycled filter keeps it) and the reach, on 1
//! and 2 threads.
//!
//!     cargo bench -p medida-discovery --bench letkf
//!
//! docs/benchmarks.md ("Ensemble assimilation: wall time per cycle") records its medians.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use medida_discovery::assimilate::{Letkf, Localization, Observed, PeriodicGrid};
use medida_discovery::observe::normal;
use ndarray::{Array1, Array2, Axis};
use rand_mt::Mt64;
use std::time::Duration;

const MEMBERS: usize = 20;

fn bench(c: &mut Criterion) {
    let grid = PeriodicGrid {
        levels: 2,
        ny: 96,
        nx: 192,
    };
    let n = grid.ny * grid.nx;
    let mut r = Mt64::new(7);
    // A smooth field plus member noise; the cost does not depend on the values.
    let e0 = Array2::from_shape_fn((MEMBERS, grid.len()), |(_, j)| {
        (j as f64 * 0.01).sin() + 0.1 * normal(&mut r)
    });
    let columns: Vec<usize> = (0..n).filter(|_| r.next_u64().is_multiple_of(4)).collect();
    let observed: Vec<usize> = (0..2)
        .flat_map(|lev| columns.iter().map(move |&c| lev * n + c))
        .collect();
    let stations: Vec<[f64; 2]> = (0..2)
        .flat_map(|_| {
            columns
                .iter()
                .map(|&c| [(c / grid.nx) as f64, (c % grid.nx) as f64])
        })
        .collect();
    let eo = e0.select(Axis(1), &observed);
    let y = Array1::from_shape_fn(observed.len(), |k| (k as f64 * 0.3).cos());
    let variance = Array1::from_elem(observed.len(), 1e-4);
    let obs = Observed {
        members: eo.view(),
        y: y.view(),
        variance: variance.view(),
    };
    let letkf = Letkf::new(
        grid,
        Localization {
            batch: (2, 2),
            ..Localization::isotropic(1.5)
        },
    )
    .unwrap();
    let domains = letkf.domains();
    let order: Vec<usize> = domains.iter().flat_map(|d| letkf.columns(d)).collect();
    let block = e0.select(Axis(1), &order);
    let mut g = c.benchmark_group("letkf_jet_96x192_20_members");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let reach = pool.install(|| letkf.reach(&domains, &stations));
        g.bench_with_input(BenchmarkId::new("analysis", threads), &threads, |b, _| {
            b.iter(|| {
                let mut e = block.clone();
                pool.install(|| letkf.analyse_domains(e.view_mut(), &obs, &reach))
                    .unwrap();
                e
            })
        });
        g.bench_with_input(BenchmarkId::new("reach", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| letkf.reach(&domains, &stations)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

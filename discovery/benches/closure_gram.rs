//! The Gram pass of offline closure discovery (issue 15's benchmark): the 27-term `closure`
//! library evaluated on 5 runs x 87 snapshots of a 64 x 64 coarse eddy state, both layers, and
//! accumulated into `X^T X`, `X^T y` (3.6 million rows), as `medida closure discover` streams its
//! training runs; single thread. The states are pyqg's random initial fields (the cost of a column
//! does not depend on the values).
//!
//!     cargo bench -p medida-discovery --bench closure_gram

use criterion::{Criterion, criterion_group, criterion_main};
use medida_discovery::GramBuilder;
use medida_discovery::closure::ClosureLibrary;
use medida_solver::init::pyqg_random_q;
use medida_solver::{Model, QgParams};
use ndarray::{Array2, Array3};
use std::time::Duration;

const SNAPSHOTS: u32 = 5 * 87;

/// One Gram pass over `states`: per snapshot and layer, the library's columns and the target.
fn gram_pass(lib: &ClosureLibrary, model: &mut Model, states: &[Array3<f64>]) -> [f64; 2] {
    let p = lib.columns().len();
    let n = model.grid().n_phys();
    let mut builders = [GramBuilder::new(p, 1), GramBuilder::new(p, 1)];
    for q in states {
        model.set_q(q.view()).unwrap();
        let state = model.spectral_state();
        let mut eval = model.evaluator();
        for (lev, b) in builders.iter_mut().enumerate() {
            let cols = lib.columns_in_layer(lev, &mut eval, &state).unwrap();
            let x = Array2::from_shape_fn((n, p), |(i, j)| cols[j][i]);
            let y = Array2::from_shape_fn((n, 1), |(i, _)| q.as_slice().unwrap()[lev * n + i]);
            b.push(x.view(), y.view()).unwrap();
        }
    }
    builders.map(|b| b.finish().xtx[[0, 0]])
}

fn bench(c: &mut Criterion) {
    let params = QgParams {
        nx: 64,
        ny: 64,
        dt: 3600.0,
        ..Default::default()
    };
    let mut model = Model::new(params).unwrap();
    let states: Vec<Array3<f64>> = (0..SNAPSHOTS)
        .map(|s| pyqg_random_q(model.grid(), s))
        .collect();
    let lib = ClosureLibrary::parse("closure").unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("closure_gram");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("closure library, 5 x 87 snapshots of 64 x 64", |b| {
        b.iter(|| pool.install(|| gram_pass(&lib, &mut model, &states)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

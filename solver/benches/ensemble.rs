//! An ensemble of the MEDIDA jet at the study's 96 x 192 (40 members, as the EnKF and LETKF
//! runs use): one step of every member, the members spread over the threads as the ensemble
//! filters and the calibration run them (`par_iter_mut` over the members, each member its own
//! model, so each is bit-identical to a lone run), against a lone member's step.
//!
//!     cargo bench -p medida-solver --bench ensemble
//!
//! Steps per second per member = members / (time of one ensemble step).
//!
//! The same for pyqg's eddy configuration on 128 x 128 (`eddy_128`), which pyqg 0.7.2 can run too
//! (not the jet, nor a 96 x 192 grid: its inversion assumes ny = nx): `python
//! bench/ensemble_pyqg.py` times pyqg's 40 members beside it.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use medida_solver::jet::{JetConstants, jet_model, jet_params};
use medida_solver::{Model, QgParams};
use rayon::prelude::*;
use std::time::Duration;

const MEMBERS: usize = 40;

/// A member of the MEDIDA jet from pyqg's random IC with `seed`, past the AB start-up.
fn jet_member(seed: u32) -> Model {
    let mut m = jet_model(jet_params(96, 192), &JetConstants::default()).unwrap();
    m.set_pyqg_random_q(seed);
    m.run(3).unwrap();
    m
}

/// A member of pyqg's eddy configuration on 128 x 128 points.
fn eddy_member(seed: u32) -> Model {
    let mut m = Model::new(QgParams {
        nx: 128,
        ny: 128,
        ..Default::default()
    })
    .unwrap();
    m.set_pyqg_random_q(seed);
    m.run(3).unwrap();
    m
}

fn ensembles(c: &mut Criterion) {
    ensemble(c, "jet_96x192", jet_member);
    ensemble(c, "eddy_128", eddy_member);
}

fn ensemble(c: &mut Criterion, group: &str, member: fn(u32) -> Model) {
    let mut g = c.benchmark_group(group);
    g.measurement_time(Duration::from_secs(10));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut lone = member(0);
        g.bench_with_input(BenchmarkId::new("lone", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| lone.step().unwrap()))
        });
        let mut members: Vec<Model> = (0..MEMBERS as u32).map(member).collect();
        g.bench_with_input(
            BenchmarkId::new(format!("members{MEMBERS}"), threads),
            &threads,
            |b, _| {
                b.iter(|| {
                    pool.install(|| members.par_iter_mut().try_for_each(|m| m.step()).unwrap())
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, ensembles);
criterion_main!(benches);

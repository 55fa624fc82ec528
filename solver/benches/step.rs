//! One model step at nx = 64..512 (pyqg defaults, spun past the AB start-up), single thread and two
//! threads, in single precision on one thread (`model.precision = "f32"`), and the floor a
//! double-precision step cannot beat: the 10 single-layer real FFTs (4 forward, 6 inverse), on one
//! field and spectrum in cache (`fft10_1thread`) and on a step's own arrays
//! (`fft10_step_arrays_1thread`).
//!
//!     cargo bench -p medida-solver --bench step
//!     MEDIDA_SIMD=baseline cargo bench -p medida-solver --bench step   # without the AVX2 copies
//!
//! `bench/compare_pyqg.py` runs this and pyqg in one go and writes docs/benchmarks.md.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use medida_solver::fft::{Fft2, FftPlans};
use medida_solver::{Complex64, Model, Precision, QgParams};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [64, 128, 256, 512];

fn model(nx: usize, precision: Precision) -> Model {
    let mut m = Model::new(QgParams {
        nx,
        ny: nx,
        precision,
        ..Default::default()
    })
    .unwrap();
    m.set_pyqg_random_q(0);
    m.run(3).unwrap();
    m
}

/// Time `iters` steps. The default dt is not stable for tens of thousands of steps at high
/// resolution (pyqg issue #326), so the state restarts every 2000 steps, outside the timing.
fn timed_steps(m: &mut Model, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        if m.tc() >= 2000 {
            *m = model(m.params().nx, m.params().precision);
        }
        let n = (iters - done).min(2000 - m.tc());
        let start = Instant::now();
        m.run(n).unwrap();
        total += start.elapsed();
        done += n;
    }
    total
}

fn step(c: &mut Criterion) {
    medida_solver::simd::set_simd(medida_solver::simd::Simd::from_env().unwrap());
    for (threads, precision, group) in [
        (1, Precision::F64, "step_1thread"),
        (2, Precision::F64, "step_2thread"),
        (1, Precision::F32, "step_f32_1thread"),
    ] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut g = c.benchmark_group(group);
        for nx in SIZES {
            g.measurement_time(Duration::from_secs(if nx >= 512 { 8 } else { 4 }));
            let mut m = model(nx, precision);
            g.bench_with_input(BenchmarkId::from_parameter(nx), &nx, |b, _| {
                b.iter_custom(|iters| pool.install(|| timed_steps(&mut m, iters)));
            });
        }
        g.finish();
    }
}

/// A group of one-thread transform timings, one per size: `work(grid, fft)` makes the arrays and
/// returns what is timed.
fn fft_group<W: FnMut()>(
    c: &mut Criterion,
    name: &str,
    mut work: impl FnMut(&medida_solver::Grid, Fft2) -> W,
) {
    let mut g = c.benchmark_group(name);
    for nx in SIZES {
        g.measurement_time(Duration::from_secs(4));
        let grid = medida_solver::Grid::new(nx, nx, 1.0, 1.0).unwrap();
        let mut timed = work(&grid, Fft2::new(FftPlans::new(&grid)));
        g.bench_with_input(BenchmarkId::from_parameter(nx), &nx, |b, _| {
            b.iter(&mut timed)
        });
    }
    g.finish();
}

fn fft_floor(c: &mut Criterion) {
    fft_group(c, "fft10_1thread", |grid, mut fft| {
        let mut phys = vec![0.5; grid.n_phys()];
        let mut spec = vec![Complex64::new(0.1, 0.2); grid.n_spec()];
        move || {
            for _ in 0..4 {
                fft.forward(black_box(&mut phys), &mut spec);
            }
            for _ in 0..6 {
                fft.inverse(black_box(&spec), &mut phys);
            }
        }
    });
}

/// The same 10 transforms in a step's own order and on its own arrays, with no other work: per
/// layer, `q` from `q_hat`, and the round trip of the advection (two spectra to the grid and back,
/// [`Fft2::round_trip`]) from two spectra of its own into two of its own, with a plain scaled copy
/// for the fill and nothing done on the grid. Where `fft10_1thread` transforms one field and one
/// spectrum over and over (they stay in cache), this is what the transforms of a step cost once
/// the step's arrays no longer fit in cache: the rest of a step is its pointwise passes.
fn fft_step_arrays(c: &mut Criterion) {
    fft_group(c, "fft10_step_arrays_1thread", |grid, mut fft| {
        let norm = fft.inverse_norm();
        let spectrum = |x: f64| vec![Complex64::new(0.1 * x, 0.2); grid.n_spec()];
        // Per layer: q_hat, u_hat, v_hat; q; uq_hat, vq_hat.
        let inputs: Vec<[Vec<Complex64>; 3]> = (0..2)
            .map(|l| [0.0, 1.0, 2.0].map(|x| spectrum(x + l as f64)))
            .collect();
        let mut q = vec![vec![0.0; grid.n_phys()]; 2];
        let mut fluxes: Vec<[Vec<Complex64>; 2]> = (0..2).map(|_| [0.0; 2].map(spectrum)).collect();
        move || {
            for ((input, q), [uqh, vqh]) in inputs.iter().zip(&mut q).zip(&mut fluxes) {
                let [qh, uh, vh] = input.each_ref().map(|s| black_box(&s[..]));
                fft.inverse(qh, q);
                let scaled = |to: &mut [Complex64], from: &[Complex64]| {
                    to.iter_mut().zip(from).for_each(|(t, f)| *t = f * norm)
                };
                fft.round_trip(
                    |a, b| {
                        scaled(a, uh);
                        scaled(b, vh);
                    },
                    |_, _, _| {},
                    [uqh, vqh],
                );
            }
        }
    });
}

criterion_group!(benches, step, fft_floor, fft_step_arrays);
criterion_main!(benches);

//! Forming the statistics alone (`X^T X`, `X^T y` over 400,000 rows) against the whole STLSQ fit
//! from the data, single thread, p = 20, 50, 100 (the data of stlsq.md section 5: Toeplitz
//! correlation 0.6^|i-j|, 3-5 true terms, 10% noise).
//!
//!     cargo bench -p medida-discovery --bench stlsq
//!
//! `bench/compare_pysindy.py` runs this beside PySINDy and writes docs/benchmarks.md.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use medida_discovery::{Gram, Library, Stlsq};
use ndarray::Array2;
use rand_mt::Mt64;
use std::time::Duration;

const N: usize = 400_000;

fn normal(r: &mut Mt64) -> f64 {
    let u = ((r.next_u64() >> 11) as f64 / (1u64 << 53) as f64).max(1e-300);
    let v = (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn problem(p: usize) -> (Array2<f64>, Array2<f64>) {
    let mut r = Mt64::new(p as u64);
    let mut x = Array2::zeros((N, p));
    for mut row in x.rows_mut() {
        let mut prev = normal(&mut r);
        row[0] = prev;
        for j in 1..p {
            prev = 0.6 * prev + 0.8 * normal(&mut r);
            row[j] = prev;
        }
    }
    let w = [1.5, -0.8, 0.3, 2.0, -1.2];
    let k = 3 + p / 50;
    let y = x
        .columns()
        .into_iter()
        .take(k)
        .zip(w)
        .fold(ndarray::Array1::zeros(N), |acc, (c, w)| acc + &(&c * w));
    let sd = (y.mapv(|v: f64| v * v).sum() / N as f64).sqrt();
    let y = y.mapv(|v| v + 0.1 * sd * normal(&mut r));
    (x, y.insert_axis(ndarray::Axis(1)))
}

fn bench(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("stlsq_400k");
    g.sample_size(10).measurement_time(Duration::from_secs(6));
    for p in [20, 50, 100] {
        let (x, y) = problem(p);
        let lib = Library::numbered(p);
        g.bench_with_input(BenchmarkId::new("gram_only", p), &p, |b, _| {
            b.iter(|| pool.install(|| Gram::from_rows(x.view(), y.view())))
        });
        g.bench_with_input(BenchmarkId::new("gram_and_fit", p), &p, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    let gram = Gram::from_rows(x.view(), y.view());
                    Stlsq::pysindy(0.1, 0.05, 20, false)
                        .fit(&gram, &lib, &["y"])
                        .unwrap()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

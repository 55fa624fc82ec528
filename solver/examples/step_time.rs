//! The time of one step of pyqg's default model (one thread), as the least of five batches: a
//! figure for comparing two builds, or two precisions, on a machine whose speed drifts, by
//! running them in turn and comparing the least times of each (criterion's medians, over a few
//! seconds, move with the drift).
//!
//!     cargo run --release -p medida-solver --example step_time -- NX STEPS [f64|f32]
//!
//! Prints milliseconds per step, and on stderr whether the AVX2 copies of the dispatched passes
//! ran (`MEDIDA_SIMD=baseline` turns them off: `medida_solver::simd::Simd::from_env`).
//! Start-up (pyqg's random `q` with seed 0, three steps) is not timed; each batch is `STEPS`
//! steps (pyqg's default `dt` is not stable for tens of thousands of steps at nx 512: keep
//! `5 STEPS` below that there). The model runs on rayon's global pool: `taskset -c 0` gives it
//! one thread.

use medida_solver::simd::{Simd, set_simd};
use medida_solver::{Model, Precision, QgParams};
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: step_time NX STEPS [f64|f32] (NX an even grid size, STEPS >= 1)";
    let [nx, steps] = [0, 1].map(|i| args.get(i).and_then(|a| a.parse::<usize>().ok()));
    let (Some(nx), Some(steps @ 1..)) = (nx, steps) else {
        return Err(usage.into());
    };
    let precision = match args.get(2).map(String::as_str) {
        None | Some("f64") => Precision::F64,
        Some("f32") => Precision::F32,
        Some(other) => return Err(format!("precision `{other}`: allowed f64 or f32").into()),
    };
    let params = QgParams {
        nx,
        ny: nx,
        precision,
        ..Default::default()
    };
    let avx2 = set_simd(Simd::from_env()?);
    let mut m = Model::new(params)?;
    m.set_pyqg_random_q(0);
    m.run(3)?;
    let mut least = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        m.run(steps as u64)?;
        least = least.min(start.elapsed().as_secs_f64() / steps as f64);
    }
    println!("{:.4}", least * 1e3);
    eprintln!("AVX2 copies of the dispatched passes: {avx2}");
    Ok(())
}

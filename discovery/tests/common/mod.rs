//! Shared by the tests: open a committed reference file of `tests/data/` and list its cases; the
//! models of the closure tests.
#![allow(dead_code)] // each test file uses a subset

use medida_solver::{Model, QgParams};
use ndarray::Array3;
use ndarray_npy::NpzReader;
use std::fs::File;

/// The npz `tests/data/{file}` and the names of its cases (those with a `case/{key}` entry).
pub fn reference(file: &str, key: &str) -> (NpzReader<File>, Vec<String>) {
    let path = format!("{}/../tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut npz =
        NpzReader::new(File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap();
    let cases = npz
        .names()
        .unwrap()
        .iter()
        .filter_map(|n| {
            n.trim_end_matches(".npy")
                .strip_suffix(&format!("/{key}"))
                .map(str::to_string)
        })
        .collect();
    (npz, cases)
}

/// pyqg's eddy model at dt = 3600 s on 64^2 and the coarse model on 16^2 of the closure tests.
pub fn closure_models() -> (Model, Model) {
    let p = |nx| QgParams {
        nx,
        ny: nx,
        dt: 3600.0,
        ..Default::default()
    };
    (Model::new(p(64)).unwrap(), Model::new(p(16)).unwrap())
}

/// `max |got - want| / max |want|`.
pub fn max_rel_err(got: &Array3<f64>, want: &Array3<f64>) -> f64 {
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    got.iter()
        .zip(want)
        .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()))
        / scale
}

/// A calibration problem on a 32 x 32 eddy model (dt 3600 s): the forward map from a state spun
/// up `spin` steps from pyqg's random state (seed 3), averaging `steps` steps after `spinup`
/// (a spectrum every 10 steps in `bins` bins per layer), with Smagorinsky's `cs` free, and the
/// perfect-model data: the forward map at `cs = 0.1`.
pub fn small_calibration(
    spin: u64,
    spinup: u64,
    steps: u64,
    bins: usize,
) -> (
    medida_discovery::closure::calibrate::ForwardRun,
    medida_discovery::closure::calibrate::FreeConstants,
    Vec<f64>,
) {
    use medida_discovery::closure::SpectrumBins;
    use medida_discovery::closure::calibrate::{ForwardRun, FreeConstants};
    let model = Model::new(QgParams {
        nx: 32,
        ny: 32,
        dt: 3600.0,
        ..Default::default()
    })
    .unwrap();
    let mut spun = model.clone();
    spun.set_pyqg_random_q(3);
    spun.run(spin).unwrap();
    let forward = ForwardRun {
        starts: vec![spun.q()],
        model,
        spinup,
        steps,
        every: 10,
        bins: SpectrumBins::new(spun.grid(), bins, 0.65).unwrap(),
        ranks: None,
    };
    let free = FreeConstants {
        closure: "smagorinsky".into(),
        free: vec!["cs".into()],
        fixed: vec![],
    };
    let y = forward
        .run(Some(&free.closure(&[0.1]).unwrap()))
        .unwrap()
        .unwrap();
    (forward, free, y)
}

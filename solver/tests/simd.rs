//! The dispatched passes' AVX2 copies against their baseline (SSE2) copies
//! (`medida_solver::simd`): the same bits for every part of the step they run in (AB3's fused
//! update, the tendency-only pass of RK4 and leapfrog, the inversion, the velocities and products,
//! the real transforms' split and merge), in both precisions, on grids whose `nx/2` is odd and
//! whose `ny` leaves a partial block. Its own test binary: switching the copies is process-wide.

use medida_solver::jet::{JetConstants, jet_model, jet_params};
use medida_solver::simd::{Simd, set_simd};
use medida_solver::{Dealias, Model, Precision, QgParams, Stepper};

/// pyqg's model on `nx` x `ny` from pyqg's random IC.
fn eddy(nx: usize, ny: usize, precision: Precision, stepper: Stepper, dealias: Dealias) -> Model {
    let mut m = Model::new(QgParams {
        nx,
        ny,
        precision,
        stepper,
        dealias,
        ..Default::default()
    })
    .unwrap();
    m.set_pyqg_random_q(0);
    m
}

/// The MEDIDA jet on 48 x 100 (leapfrog, 3/2 rule, forcing, sponge) from a perturbation.
fn jet(precision: Precision) -> Model {
    let mut m = jet_model(
        QgParams {
            precision,
            ..jet_params(48, 100)
        },
        &JetConstants::default(),
    )
    .unwrap();
    let q = m.random_q(3);
    let scale = 0.1 / q.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    m.set_q((q * scale).view()).unwrap();
    m
}

/// `q` of `make()` after 60 steps with the copies `simd` selects.
fn run(simd: Simd, make: &dyn Fn() -> Model) -> Vec<u64> {
    set_simd(simd);
    let mut m = make();
    m.run(60).unwrap();
    m.q().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn avx2_copies_give_the_baseline_bits() {
    let mut cases: Vec<(String, Box<dyn Fn() -> Model>)> = Vec::new();
    for precision in [Precision::F64, Precision::F32] {
        for (nx, ny, stepper, dealias) in [
            (64, 64, Stepper::Ab3, Dealias::None),
            (34, 20, Stepper::Ab3, Dealias::None),
            (36, 20, Stepper::Rk4, Dealias::TwoThirds),
            (40, 24, Stepper::Leapfrog, Dealias::ThreeHalves),
        ] {
            cases.push((
                format!("{precision:?} {nx}x{ny} {stepper:?} {dealias:?}"),
                Box::new(move || eddy(nx, ny, precision, stepper, dealias)),
            ));
        }
        cases.push((
            format!("{precision:?} jet"),
            Box::new(move || jet(precision)),
        ));
    }
    let avx2 = set_simd(Simd::Auto);
    println!("AVX2 copies on this CPU: {avx2}");
    for (name, make) in &cases {
        let baseline = run(Simd::Baseline, make);
        let auto = run(Simd::Auto, make);
        assert!(baseline == auto, "{name}: the copies differ");
    }
}

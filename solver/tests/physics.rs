//! Physics checks that do not depend on pyqg: conservation by the nonlinear term, the Phillips
//! baroclinic growth rate, bit-for-bit determinism across thread counts, ensemble grouping and
//! the two ways a step forms its tendency, and clear failures.

mod common;

use common::on_threads;
use medida_solver::fft::{Fft2, FftPlans};
use medida_solver::{
    Averages, Averaging, Complex64, Dealias, Model, Precision, PyqgPhysics, QgParams, SolverError,
};
use ndarray::{Array3, Axis};

/// Inviscid, unforced: beta 0, no background flow, no drag, no filter.
fn inviscid(nx: usize) -> Model {
    let p = QgParams {
        nx,
        ny: nx,
        filterfac: 0.0,
        ..Default::default()
    };
    let still = PyqgPhysics {
        beta: 0.0,
        U1: 0.0,
        U2: 0.0,
        rek: 0.0,
    };
    Model::pyqg(p, &still).unwrap()
}

/// A random PV field with Fourier content only at |k|, |l| < nx/4 modes, so products have no aliasing.
fn band_limited_q(model: &Model, seed: u32) -> Array3<f64> {
    let grid = model.grid().clone();
    let mut fft = Fft2::new(FftPlans::new(&grid));
    let mut rng = medida_solver::init::NumpyLegacyRng::new(seed);
    let kmax = (grid.nx / 4) as f64 * grid.kk[1];
    let mut q = Array3::zeros((2, grid.ny, grid.nx));
    for mut layer in q.axis_iter_mut(Axis(0)) {
        let mut buf: Vec<f64> = (0..grid.n_phys()).map(|_| rng.rand() - 0.5).collect();
        let mut spec = vec![Complex64::default(); grid.n_spec()];
        fft.forward(&mut buf, &mut spec);
        let keep = grid.spectral_map(|k, l| k < kmax && l.abs() < kmax);
        spec.iter_mut().zip(&keep).for_each(|(s, &keep)| {
            if !keep {
                *s = Complex64::default()
            }
        });
        fft.inverse(&spec, &mut buf);
        layer.iter_mut().zip(&buf).for_each(|(d, s)| *d = 1e-5 * s);
    }
    q
}

/// `sum_w Re(conj(a) b) / M^2` and the matching sum of `|a||b|`, over the rfft half-plane.
fn inner(model: &Model, a: &Array3<Complex64>, b: &Array3<Complex64>, lev: usize) -> (f64, f64) {
    let nk = model.grid().nk();
    let (mut s, mut scale) = (0.0, 0.0);
    for ((idx, x), y) in a
        .index_axis(Axis(0), lev)
        .indexed_iter()
        .zip(b.index_axis(Axis(0), lev).iter())
    {
        let w = if idx.1 == 0 || idx.1 == nk - 1 {
            1.0
        } else {
            2.0
        };
        s += w * (x.conj() * y).re;
        scale += w * x.norm() * y.norm();
    }
    (s, scale)
}

#[test]
fn nonlinear_term_conserves_energy_and_enstrophy() {
    let mut m = inviscid(64);
    m.set_q(band_limited_q(&m, 3).view()).unwrap();
    let n = m.dqhdt();
    let (ph, qh) = (m.ph(), m.qh());
    let [h1, h2] = m.params().hi();
    // dE/dt = -sum_i (H_i/H) <psi_i dq_i/dt>
    let (e1, s1) = inner(&m, &ph, &n, 0);
    let (e2, s2) = inner(&m, &ph, &n, 1);
    let de = (h1 * e1 + h2 * e2) / (h1 * s1 + h2 * s2);
    println!("relative energy tendency {de:.2e}");
    assert!(de.abs() < 1e-13, "relative energy tendency {de:e}");
    // dZ_i/dt = <q_i dq_i/dt>, layer by layer
    for lev in 0..2 {
        let (z, s) = inner(&m, &qh, &n, lev);
        assert!(
            (z / s).abs() < 1e-13,
            "layer {lev}: relative enstrophy tendency {:e}",
            z / s
        );
    }
    // The check has teeth: beta breaks enstrophy conservation.
    m.set_coefficient("beta", 1.5e-11).unwrap();
    let n = m.dqhdt();
    let (z, s) = inner(&m, &qh, &n, 0);
    assert!(
        (z / s).abs() > 1e-6,
        "beta should change enstrophy, got {:e}",
        z / s
    );
}

/// Phase speed `c = omega / k` of the unstable root of the two-layer dispersion relation
/// `(A1 A2 - F1 F2) c^2 + (P1 A2 + P2 A1 + F1 F2 (U1 + U2)) c + P1 P2 - F1 F2 U1 U2 = 0`,
/// `A_i = K^2 + F_i`, `P_i = Qy_i - A_i U_i` (Phillips, with beta in Qy).
fn unstable_phase_speed(p: &QgParams, ph: &PyqgPhysics, kappa2: f64) -> Complex64 {
    let (f1, f2) = (p.f1(), p.f2());
    let (qy1, qy2) = (
        ph.beta + f1 * (ph.U1 - ph.U2),
        ph.beta - f2 * (ph.U1 - ph.U2),
    );
    let (a1, a2) = (kappa2 + f1, kappa2 + f2);
    let (p1, p2) = (qy1 - a1 * ph.U1, qy2 - a2 * ph.U2);
    let a = a1 * a2 - f1 * f2;
    let b = p1 * a2 + p2 * a1 + f1 * f2 * (ph.U1 + ph.U2);
    let c = p1 * p2 - f1 * f2 * ph.U1 * ph.U2;
    let disc = Complex64::new(b * b - 4.0 * a * c, 0.0).sqrt();
    let roots = [(-b + disc) / (2.0 * a), (-b - disc) / (2.0 * a)];
    if roots[0].im > roots[1].im {
        roots[0]
    } else {
        roots[1]
    }
}

#[test]
fn single_mode_grows_at_the_phillips_rate() {
    // One wave vector: every field is a function of k x + l y only, so J = 0 and the mode is linear.
    let p = QgParams {
        nx: 32,
        ny: 32,
        filterfac: 0.0,
        ..Default::default()
    };
    let ph = PyqgPhysics {
        rek: 0.0,
        beta: 2e-12,
        U1: 0.03,
        U2: 0.005,
    };
    let mut m = Model::pyqg(p.clone(), &ph).unwrap();
    let (mk, ml) = (7usize, 3usize);
    let (k, l) = (m.grid().kk[mk], m.grid().ll[ml]);
    let kappa2 = k * k + l * l;
    let c = unstable_phase_speed(&p, &ph, kappa2);
    let qy1 = ph.beta + p.f1() * (ph.U1 - ph.U2);
    assert!(
        (m.qy()[0] - qy1).abs() <= 1e-14 * qy1.abs(),
        "Qy1 from the terms"
    );
    let growth = k * c.im;
    assert!(growth > 0.0, "the chosen mode must be unstable");
    // Eigenvector: (Qy1 - a1 A1) psi1 + a1 F1 psi2 = 0 with a1 = U1 - c.
    let a1 = Complex64::new(ph.U1, 0.0) - c;
    let psi = [
        Complex64::new(1.0, 0.0),
        -(m.qy()[0] - a1 * (kappa2 + p.f1())) / (a1 * p.f1()),
    ];
    let qhat = [
        -(kappa2 + p.f1()) * psi[0] + p.f1() * psi[1],
        p.f2() * psi[0] - (kappa2 + p.f2()) * psi[1],
    ];
    let (x, y) = (m.grid().x(), m.grid().y());
    let q0 = Array3::from_shape_fn((2, p.ny, p.nx), |(z, j, i)| {
        1e-9 * (qhat[z] * Complex64::from_polar(1.0, k * x[i] + l * y[j])).re
    });
    m.set_q(q0.view()).unwrap();
    let amplitude = |m: &Model| m.qh()[[0, ml, mk]].norm();
    let a0 = amplitude(&m);
    m.run(300).unwrap();
    let measured = (amplitude(&m) / a0).ln() / m.t();
    let err = (measured - growth).abs() / growth;
    println!("growth rate {measured:.6e} /s, Phillips {growth:.6e} /s, rel err {err:.2e}");
    assert!(
        err < 0.01,
        "growth rate {measured:e} /s, Phillips {growth:e} /s, rel err {err:e}"
    );
}

#[test]
fn results_are_identical_at_one_and_two_threads() {
    let steps = || {
        let mut m = Model::new(QgParams::default()).unwrap();
        m.set_pyqg_random_q(1);
        m.run(30).unwrap();
        (0..30).for_each(|_| m.step().unwrap());
        m.q().iter().map(|v| v.to_bits()).collect::<Vec<u64>>()
    };
    let one = on_threads(1, steps);
    assert!(
        one == on_threads(2, steps),
        "q differs between 1 and 2 threads"
    );
    // From a thread outside any pool, `run` and `step` hand themselves to the global pool.
    assert!(one == steps(), "q differs when stepped from outside a pool");
}

/// A plain step of pyqg's model on a grid whose spectral arrays are 96 KiB or more forms each
/// layer's streamfunction and linear tendency where it reads them, from both layers' `q_hat`; a
/// step whose diagnostics are due evaluates the tendency first (the inversion and linear
/// tendency stored, as the diagnostics read them) and updates from it, as a plain step on a
/// smaller grid does. Both are the same bits, with each de-aliasing and in single precision.
#[test]
fn a_step_equals_a_step_with_its_diagnostics_to_the_bit() {
    let bits = |m: &Model| m.q().iter().map(|v| v.to_bits()).collect::<Vec<u64>>();
    // 33 x 196 spectral values of 16 bytes (f64), 33 x 388 of 8 (f32): 101 KiB; columns of 196
    // and 388 values, not whole blocks of 8 (the update's last values are one by one).
    for (dealias, precision, ny) in [
        (Dealias::None, Precision::F64, 196),
        (Dealias::TwoThirds, Precision::F64, 196),
        (Dealias::ThreeHalves, Precision::F64, 196),
        (Dealias::None, Precision::F32, 388),
        (Dealias::None, Precision::F64, 32),
    ] {
        let p = QgParams {
            nx: 64,
            ny,
            dealias,
            precision,
            ..Default::default()
        };
        let start = || {
            let mut m = Model::new(p.clone()).unwrap();
            m.set_pyqg_random_q(3);
            m
        };
        let (mut plain, mut averaged) = (start(), start());
        let every_step = Averaging {
            tavestart: 0.0,
            taveint: p.dt,
            parameterization: vec![],
        };
        let mut averages = Averages::new(&averaged, every_step).unwrap();
        for step in 0..20 {
            plain.step().unwrap();
            averaged.step_averaging(&mut averages).unwrap();
            assert!(
                bits(&plain) == bits(&averaged),
                "{dealias:?}, {precision:?}, ny {ny}: q differs after step {step}"
            );
        }
        // pyqg averages from `t >= dt` on: every step but the first.
        assert_eq!(averages.count(), 19, "every step averaged but the first");
    }
}

/// pyqg's defaults on an `nx` x `nx` grid from pyqg's random `q` of `seed`.
fn pyqg_random(nx: usize, seed: u32) -> Model {
    let mut m = Model::new(QgParams {
        nx,
        ny: nx,
        ..Default::default()
    })
    .unwrap();
    m.set_pyqg_random_q(seed);
    m
}

#[test]
fn ensemble_members_stepped_together_equal_lone_runs() {
    use rayon::prelude::*;
    let member = |seed: u32| pyqg_random(32, seed);
    let bits = |m: &Model| m.q().iter().map(|v| v.to_bits()).collect::<Vec<u64>>();
    let lone: Vec<Vec<u64>> = (0..5)
        .map(|seed| {
            let mut m = member(seed);
            m.run(40).unwrap();
            bits(&m)
        })
        .collect();
    for threads in [1, 2] {
        let mut members: Vec<Model> = (0..5).map(member).collect();
        on_threads(threads, || {
            members.par_iter_mut().try_for_each(|m| m.run(40))
        })
        .unwrap();
        for (seed, m) in members.iter().enumerate() {
            assert!(bits(m) == lone[seed], "member {seed} at {threads} threads");
        }
    }
}

#[test]
fn a_step_that_overflows_is_an_error_naming_non_finite_values() {
    let mut m = pyqg_random(32, 0);
    m.run(3).unwrap();
    m.set_coefficient("bottom_drag", 1e300).unwrap();
    // Every step that returns Ok leaves a finite q; the first that does not is the error.
    for _ in 0..10 {
        let finite = |m: &Model| m.q().iter().all(|v| v.is_finite());
        match m.step() {
            Ok(()) => assert!(finite(&m), "a non-finite q passed at step {}", m.tc()),
            Err(SolverError::Unstable { reason, .. }) => {
                assert!(!finite(&m), "a finite q was refused: {reason}");
                assert!(reason.contains("non-finite"), "{reason}");
                return;
            }
            Err(other) => panic!("expected Unstable, got {other}"),
        }
    }
    panic!("q stayed finite for 10 steps with a drag of 1e300");
}

#[test]
fn cfl_violation_is_an_error_naming_step_and_time() {
    let mut m = Model::new(QgParams {
        dt: 7200.0 * 400.0,
        ..Default::default()
    })
    .unwrap();
    m.set_pyqg_random_q(0);
    let err = m.run(50).unwrap_err();
    match &err {
        SolverError::Unstable { step, time, reason } => {
            assert_eq!(*time, *step as f64 * 7200.0 * 400.0);
            assert!(
                reason.contains("CFL") || reason.contains("non-finite"),
                "{reason}"
            );
        }
        other => panic!("expected Unstable, got {other}"),
    }
    assert!(err.to_string().contains("step"), "{err}");
}

#[test]
fn bad_states_and_coefficients_are_rejected() {
    let mut m = Model::new(QgParams {
        nx: 16,
        ny: 16,
        ..Default::default()
    })
    .unwrap();
    let mut q = Array3::zeros((2, 16, 16));
    q[[1, 2, 3]] = f64::NAN;
    assert!(m.set_q(q.view()).unwrap_err().to_string().contains("`q`"));
    let e = m.set_q(Array3::zeros((2, 16, 8)).view()).unwrap_err();
    assert!(matches!(e, SolverError::Shape { .. }), "{e}");
    let e = m.set_coefficient("viscosity", 1.0).unwrap_err();
    assert!(e.to_string().contains("viscosity"), "{e}");
}

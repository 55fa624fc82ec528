//! The single-precision model (`QgParams::precision = F32`) against the double-precision one:
//! the same model to within f32 round-off over a short run, for every part of the step (AB3,
//! leapfrog, RK4; no de-aliasing, the 2/3 and 3/2 rules; the jet's forcing and sponge; a term
//! evaluated outside the fused kernel); bit-identical at any thread count and across a checkpoint;
//! and a clear error for a state single precision cannot hold.

mod common;

use common::on_threads;
use medida_solver::jet::{JetConstants, jet_model, jet_params};
use medida_solver::{Dealias, Expr, Model, Precision, QgParams, Stepper, Term};
use ndarray::Array3;

/// f32's unit round-off, 2^-24.
const U32: f64 = 5.96e-8;

/// pyqg's model on 64^2 from pyqg's random IC, in `precision`, with `stepper` and `dealias`.
fn eddy(precision: Precision, stepper: Stepper, dealias: Dealias) -> Model {
    let p = QgParams {
        precision,
        stepper,
        dealias,
        ..Default::default()
    };
    let mut m = Model::new(p).unwrap();
    m.set_pyqg_random_q(0);
    m
}

/// The MEDIDA jet on 48 x 96 (leapfrog, 3/2 rule, forcing, sponge, hyperviscosity) from a
/// perturbation of order 0.1.
fn jet(precision: Precision) -> Model {
    let p = QgParams {
        precision,
        ..jet_params(48, 96)
    };
    let mut m = jet_model(p, &JetConstants::default()).unwrap();
    let q = m.random_q(3);
    let scale = 0.1 / q.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    m.set_q((q * scale).view()).unwrap();
    m
}

/// `|a - b| / |b|` in the L2 norm.
fn relative(a: &Array3<f64>, b: &Array3<f64>) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let n: f64 = b.iter().map(|y| y * y).sum();
    (d / n).sqrt()
}

/// Runs both models `steps` steps and checks the single-precision one: its state is made of f32
/// values, it differs from the double one (it really rounds to f32), and by no more than the
/// round-off of `steps` steps. Each step rounds q to f32 (u/2) and its transforms, inversion,
/// products and update add errors of a few u in the rms (an FFT's rms relative error grows like
/// u sqrt(log2 n), Schatzman 1996); over 100 steps of a run this short the flow's own growth of
/// errors (its e-folding time is weeks of model time) adds little, so `steps x 8 u` (4.8e-5 for
/// 100 steps; measured 2e-7 to 5e-7) bounds the difference with room.
fn compare(mut single: Model, mut double: Model, steps: u64) -> f64 {
    single.run(steps).unwrap();
    double.run(steps).unwrap();
    let q = single.q();
    assert!(
        q.iter().all(|&v| (v as f32) as f64 == v),
        "q is not single precision"
    );
    let d = relative(&q, &double.q());
    assert!(
        d > 0.0 && d < steps as f64 * 8.0 * U32,
        "relative difference {d:e}"
    );
    d
}

#[test]
fn single_precision_is_the_double_model_to_within_round_off() {
    for (stepper, dealias) in [
        (Stepper::Ab3, Dealias::None),
        (Stepper::Rk4, Dealias::TwoThirds),
        (Stepper::Leapfrog, Dealias::ThreeHalves),
    ] {
        let [s, d] = [Precision::F32, Precision::F64].map(|p| eddy(p, stepper, dealias));
        compare(s, d, 100);
    }
    compare(jet(Precision::F32), jet(Precision::F64), 100);
}

#[test]
fn a_term_outside_the_fused_kernel_runs_in_single_precision_too() {
    // A Jacobian of psi1 and its vorticity is no fused form: it is evaluated in f64 on the
    // widened state and its spectrum rounded into the f32 tendency.
    let j = Expr::parse("J(psi1, lap(psi1))").unwrap();
    let term = Term::new("extra", 0.1, [vec![(1.0, j)], vec![]]);
    let [s, d] = [Precision::F32, Precision::F64].map(|p| {
        let mut m = eddy(p, Stepper::Ab3, Dealias::None);
        m.add_term(term.clone()).unwrap();
        m
    });
    let with = compare(s, d, 100);
    // The term matters: without it the single model is far from the double one with it.
    let mut without = eddy(Precision::F32, Stepper::Ab3, Dealias::None);
    let mut with_term = eddy(Precision::F64, Stepper::Ab3, Dealias::None);
    with_term.add_term(term).unwrap();
    without.run(100).unwrap();
    with_term.run(100).unwrap();
    assert!(relative(&without.q(), &with_term.q()) > 100.0 * with);
}

#[test]
fn single_precision_is_bit_identical_at_one_and_two_threads_and_across_a_checkpoint() {
    let run = |threads: usize| {
        on_threads(threads, || {
            let mut m = jet(Precision::F32);
            m.run(30).unwrap();
            m.q()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));

    let mut m = jet(Precision::F32);
    m.run(20).unwrap();
    let state = m.state();
    m.run(10).unwrap();
    let mut resumed = jet(Precision::F32);
    resumed.restore(&state).unwrap();
    resumed.run(10).unwrap();
    assert_eq!(m.q(), resumed.q());
    assert_eq!(m.q(), one);
}

/// The values of `q_hat` that are subnormal in `precision`, and those that are zero.
fn subnormal_and_zero(m: &Model, precision: Precision) -> (usize, usize) {
    let smallest = match precision {
        Precision::F32 => f32::MIN_POSITIVE as f64,
        Precision::F64 => f64::MIN_POSITIVE,
    };
    let values: Vec<f64> = m.qh().iter().flat_map(|z| [z.re, z.im]).collect();
    let subnormal = values
        .iter()
        .filter(|v| **v != 0.0 && v.abs() < smallest)
        .count();
    (subnormal, values.iter().filter(|v| **v == 0.0).count())
}

/// pyqg's exponential filter scales the highest modes by less than single precision can carry
/// in one step; the single model sets those modes to zero (`Real::FILTER_FLOOR`) instead of
/// letting them decay through the subnormal range, where each operation costs many CPUs about a
/// hundred cycles. After 300 steps its `q_hat` holds no subnormal value (191 after 500 steps
/// without the floor) and about a fifth of it is zero; the double model keeps pyqg's filter, and
/// its own smallest modes do reach its subnormal range, so the run goes deep enough to find them.
#[test]
fn single_precision_modes_below_its_round_off_are_zero_not_subnormal() {
    let [single, double] = [Precision::F32, Precision::F64].map(|p| {
        let mut m = eddy(p, Stepper::Ab3, Dealias::None);
        m.run(300).unwrap();
        (subnormal_and_zero(&m, p), m.qh().len() * 2)
    });
    let ((sub, zero), n) = single;
    assert_eq!(sub, 0, "subnormal values in the single model's q_hat");
    assert!(zero > n / 10, "{zero} of {n} values zero");
    let ((sub, _), _) = double;
    assert!(sub > 0, "the double model reached no subnormal value");
}

#[test]
fn a_state_beyond_single_precision_is_refused_naming_it() {
    let mut m = eddy(Precision::F32, Stepper::Ab3, Dealias::None);
    let mut q = m.q();
    q[[0, 3, 4]] = 1e39;
    let e = m.set_q(q.view()).unwrap_err().to_string();
    assert!(e.contains("q") && e.contains("3.4e38"), "{e}");
    let mut double = eddy(Precision::F64, Stepper::Ab3, Dealias::None);
    double.set_q(q.view()).unwrap();
    // A checkpoint of the double model with that q is refused by the single one, and leaves it
    // as it was.
    let before = m.state();
    let e = m.restore(&double.state()).unwrap_err().to_string();
    assert!(e.contains("state") && e.contains("3.4e38"), "{e}");
    assert_eq!(m.state(), before);
}

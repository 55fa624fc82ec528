//! The QG library and the model-error pipeline against the solver: a correction made of library
//! terms turns the imperfect model's tendency into the truth's; one-step increments are the
//! filtered error; assimilating every point reproduces the full-observation increment.
//! (That every term compiles to its own expressions is `solver/tests/compile.rs`.)

use medida_discovery::QgLibrary;
use medida_discovery::model_error::{
    Assimilator, CycleError, Increments, Update, correction_term, expected_error,
};
use medida_discovery::observe::{Cubic, ObservationSpec};
use medida_solver::jet::{JetConstants, jet_model, jet_params};
use medida_solver::{Evaluator, Expr, Model, QgParams, SpectralState, terms};
use ndarray::{Array3, Axis};

/// pyqg's random field in both layers (pyqg's own IC leaves the lower layer at rest), times `scale`.
fn random_q(params: &QgParams, scale: f64) -> Array3<f64> {
    let grid = params.grid().unwrap();
    let mut q = medida_solver::init::pyqg_random_q(&grid, 3);
    let lower = medida_solver::init::pyqg_random_q(&grid, 4);
    q.index_axis_mut(ndarray::Axis(0), 1)
        .assign(&lower.index_axis(ndarray::Axis(0), 0));
    q * scale
}

/// A random state with O(1) streamfunction on the jet grid.
fn jet_state(params: &QgParams) -> Array3<f64> {
    random_q(params, 3e4)
}

fn max_abs(a: &Array3<f64>) -> f64 {
    a.iter().fold(0.0, |m: f64, v| m.max(v.abs()))
}

#[test]
fn jet_terms_cannot_be_asked_of_a_pyqg_model() {
    let params = QgParams {
        nx: 16,
        ny: 16,
        ..Default::default()
    };
    let eval = Evaluator::new(Model::new(params).unwrap().spectral().clone());
    let e = Expr::parse("s*q1").unwrap();
    assert!(eval.check(&e).unwrap_err().to_string().contains("jet"));
    let lib = QgLibrary::parse("medida10").unwrap();
    assert!(lib.check(&eval).is_err());
}

/// The truth and the imperfect model of case 1005 (no advection, wrong relaxation and friction).
fn case1005(params: &QgParams) -> (Model, Model) {
    let c = JetConstants::default();
    let truth = jet_model(params.clone(), &c).unwrap();
    let wrong = JetConstants {
        c_j: 0.0,
        tau_d1: 0.11,
        tau_d2: 0.11,
        tau_f: 0.37,
        ..c
    };
    (truth, jet_model(params.clone(), &wrong).unwrap())
}

#[test]
fn the_expected_correction_makes_the_imperfect_model_the_truth() {
    let params = jet_params(48, 96);
    let (mut truth, mut model) = case1005(&params);
    let library = QgLibrary::parse("medida10").unwrap();
    let expected = expected_error(truth.terms(), model.terms(), &library);
    assert!(expected.outside.is_empty(), "{:?}", expected.outside);
    let terms: Vec<(Expr, [f64; 2])> = library
        .terms()
        .iter()
        .enumerate()
        .map(|(j, e)| (e.clone(), [expected.coef[[0, j]], expected.coef[[1, j]]]))
        .collect();
    model.add_term(correction_term(&terms)).unwrap();
    let q = jet_state(&params);
    truth.set_q(q.view()).unwrap();
    model.set_q(q.view()).unwrap();
    let (t, m) = (truth.dqdt(), model.dqdt());
    let err = max_abs(&(&t - &m)) / max_abs(&t);
    assert!(
        err < 1e-12,
        "corrected tendency differs from the truth's by {err:e}"
    );
    // and so do 20 leapfrog steps
    truth.run(20).unwrap();
    model.run(20).unwrap();
    let err = max_abs(&(&truth.q() - &model.q())) / max_abs(&truth.q());
    assert!(err < 1e-11, "after 20 steps: {err:e}");
    // a name that exists is refused
    assert!(model.add_term(terms::bottom_drag(1.0)).is_err());
}

#[test]
fn a_one_step_increment_is_the_filtered_model_error() {
    let params = jet_params(48, 96);
    let (truth, model) = case1005(&params);
    let filtr = truth.update_filter(0).to_vec();
    let spectral = truth.spectral().clone();
    let expected = expected_error(
        truth.terms(),
        model.terms(),
        &QgLibrary::parse("medida10").unwrap(),
    );
    let mut inc = Increments::new(truth, model, 1).unwrap();
    let q = jet_state(&params);
    let h = inc.at(q.view()).unwrap();
    // The error by hand: filtr * sum_j c_ij T_j(q0), spectrally.
    let library = QgLibrary::parse("medida10").unwrap();
    let mut eval = Evaluator::new(spectral);
    let state: SpectralState = eval.state(q.view()).unwrap();
    let mut want = Array3::zeros(h.dqdt.raw_dim());
    for lev in 0..2 {
        let mut field = vec![0.0; q.shape()[1] * q.shape()[2]];
        for (j, e) in library.terms().iter().enumerate() {
            let c = expected.coef[[lev, j]];
            if c != 0.0 {
                let s = eval.filtered_field(e, &state, &filtr).unwrap();
                field.iter_mut().zip(&s).for_each(|(a, s)| *a += s * c);
            }
        }
        want.index_axis_mut(ndarray::Axis(0), lev)
            .iter_mut()
            .zip(&field)
            .for_each(|(w, f)| *w = *f);
    }
    let err = max_abs(&(&h.dqdt - &want)) / max_abs(&want);
    assert!(err < 1e-9, "one-step increment vs filtered error: {err:e}");
    assert!(Increments::new(inc.truth().clone(), inc.model().clone(), 0).is_err());
}

/// The cycles' errors of assimilating every point of the truth from `q0` for 12 steps by
/// `update`: none for direct insertion; for interpolation every 5 steps, analyses at steps 5, 10
/// and 12 equal to the truth up to round-off, and a first forecast whose error is that of the
/// imperfect model run 5 steps from `q0` beside the truth (its start, the interpolated
/// observations, is `q0` to 1e-13 relative; the error it is compared with is of the order of the
/// state itself, the model lacking advection: 1e-9 relative is a wide margin).
fn cycle_errors_are_measured(
    cycles: &[CycleError],
    update: Update,
    truth: &Model,
    model: &Model,
    q0: &Array3<f64>,
) {
    if update == Update::Insert {
        assert!(cycles.is_empty());
        return;
    }
    let steps: Vec<u64> = cycles.iter().map(|c| c.step).collect();
    assert_eq!(steps, [5, 10, 12]);
    let scale = max_abs(q0);
    for c in cycles {
        assert!(c.analysis_rmse.iter().all(|e| *e <= 1e-12 * scale), "{c:?}");
    }
    let (mut t, mut m) = (truth.clone(), model.clone());
    for (run, name) in [(&mut t, "truth"), (&mut m, "model")] {
        run.set_q(q0.view()).unwrap();
        run.run(5).expect(name);
    }
    let (tq, mq) = (t.q(), m.q());
    for lev in 0..2 {
        let (a, b) = (tq.index_axis(Axis(0), lev), mq.index_axis(Axis(0), lev));
        let want =
            (a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
        let got = cycles[0].forecast_rmse[lev];
        assert!(want > 1e-6 * scale, "the model error shows: {want:e}");
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "layer {lev}: {got:e} vs {want:e}"
        );
    }
}

#[test]
fn assimilating_every_point_gives_the_full_observation_increment() {
    // With every point observed the observations are the true state, so the analysis after the
    // window is the truth and the increment equals the one from full observations at that time,
    // whatever the assimilating model, the first interpolation and the way observations enter:
    // inserted at every step, or interpolated innovations added every 5 steps (cubic is exact
    // at its vertices, so up to round-off).
    let params = jet_params(48, 96);
    let (truth, model) = case1005(&params);
    let grid = params.grid().unwrap();
    let spec = ObservationSpec::parse("fraction=1").unwrap();
    let cubic = Cubic::new(&grid, 8);
    let q0 = jet_state(&params);
    for (update, tol) in [
        (Update::Insert, 0.0),
        (Update::Interpolate { every: 5 }, 1e-13),
    ] {
        let mut assimilator = Assimilator {
            model: model.clone(),
            steps: 12,
            update,
        };
        let mut inc = Increments::new(truth.clone(), model.clone(), 1).unwrap();
        let (q_true, h, cycles) = inc
            .assimilated(q0.view(), &spec, 0, [&cubic, &cubic], &mut assimilator)
            .unwrap();
        cycle_errors_are_measured(&cycles, update, &truth, &model, &q0);
        assert!(
            h.analysis_error.iter().all(|e| *e <= tol),
            "{update:?}: {:?}",
            h.analysis_error
        );
        assert!(max_abs(&(&h.q_analysis - &q_true)) <= tol * max_abs(&q_true));
        // the truth moved on 12 steps
        let mut check = inc.truth().clone();
        check.set_q(q0.view()).unwrap();
        check.run(12).unwrap();
        assert_eq!(check.q(), q_true);
        let full = inc.at(q_true.view()).unwrap();
        let err = max_abs(&(&h.dqdt - &full.dqdt)) / max_abs(&full.dqdt);
        assert!(err < 1e-12, "{update:?}: {err:e}");
    }
}

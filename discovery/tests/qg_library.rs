//! The QG library against the solver: every solver term's stated shape, evaluated by the library,
//! equals the term's tendency in the model; a correction made of library terms turns the
//! imperfect model's tendency into the truth's; one-step increments are the filtered error;
//! assimilating every point reproduces the full-observation increment.

use medida_discovery::observe::{Cubic, ObservationSpec};
use medida_discovery::qg::{
    Assimilator, Correction, Evaluator, Expr, Geometry, Increments, QgLibrary, SpectralState,
    Update, expected_error,
};
use medida_solver::jet::{JetConstants, jet_params, jet_terms};
use medida_solver::{Dealias, Model, QgParams, Term, TermKind, pyqg_terms};
use ndarray::Array3;

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

/// `sum factor * term` per layer, from the library, on physical `q`.
fn library_shape(
    geometry: &Geometry,
    shapes: &[Vec<(f64, &str)>; 2],
    q: &Array3<f64>,
) -> Array3<f64> {
    let mut eval = Evaluator::new(geometry.clone());
    let state = eval.state(q.view());
    let (ny, nx) = (q.shape()[1], q.shape()[2]);
    let mut out = Array3::zeros((2, ny, nx));
    for (lev, shape) in shapes.iter().enumerate() {
        for (factor, text) in shape {
            let e = Expr::parse(text).unwrap();
            eval.check(&e).unwrap();
            let field = eval.physical(&e, &state);
            for (o, f) in out
                .index_axis_mut(ndarray::Axis(0), lev)
                .iter_mut()
                .zip(&field)
            {
                *o += factor * f;
            }
        }
    }
    out
}

fn check_terms(params: QgParams, terms: Vec<Term>, jet: Option<(f64, f64)>) {
    let geometry = Geometry::new(&params, jet).unwrap();
    let q = jet_state(&params);
    let mut checked = 0;
    for term in terms {
        let Some(shapes) = term.layer_shapes() else {
            continue;
        };
        let name = term.name();
        let mut model = Model::with_terms(
            params.clone(),
            vec![Term {
                coefficient: 1.0,
                ..term
            }],
        )
        .unwrap();
        model.set_q(q.view()).unwrap();
        let tendency = model.dqdt();
        let from_library = library_shape(&geometry, &shapes, &q);
        let err = max_abs(&(&from_library - &tendency)) / max_abs(&tendency);
        assert!(
            err < 1e-12,
            "{name}: library shape differs from the solver's by {err:e}"
        );
        checked += 1;
    }
    assert!(checked >= 4);
}

#[test]
fn jet_terms_have_the_shapes_they_state() {
    let params = jet_params(48, 96);
    let c = JetConstants::default();
    let terms = jet_terms(&params.grid().unwrap(), &c);
    check_terms(params, terms, Some((c.u1, c.sigma)));
}

#[test]
fn pyqg_terms_have_the_shapes_they_state_with_each_dealiasing() {
    for dealias in [Dealias::None, Dealias::TwoThirds, Dealias::ThreeHalves] {
        let params = QgParams {
            nx: 32,
            ny: 32,
            dealias,
            ..Default::default()
        };
        let terms = pyqg_terms(&params);
        let geometry = Geometry::new(&params, None).unwrap();
        let q = random_q(&params, 1.0);
        for term in terms {
            let Some(shapes) = term.layer_shapes() else {
                continue;
            };
            let mut model = Model::with_terms(
                params.clone(),
                vec![Term {
                    coefficient: 1.0,
                    ..term.clone()
                }],
            )
            .unwrap();
            model.set_q(q.view()).unwrap();
            let tendency = model.dqdt();
            let err =
                max_abs(&(&library_shape(&geometry, &shapes, &q) - &tendency)) / max_abs(&tendency);
            assert!(err < 1e-12, "{} ({dealias:?}): {err:e}", term.name());
        }
    }
}

#[test]
fn jet_terms_cannot_be_asked_of_a_pyqg_model() {
    let params = QgParams {
        nx: 16,
        ny: 16,
        ..Default::default()
    };
    let eval = Evaluator::new(Geometry::new(&params, None).unwrap());
    let e = Expr::parse("s*q1").unwrap();
    assert!(eval.check(&e).unwrap_err().to_string().contains("jet"));
    let lib = QgLibrary::parse("medida10").unwrap();
    assert!(lib.check(&eval).is_err());
}

/// The imperfect model of case 1005 (no advection, wrong relaxation and friction).
fn case1005(params: &QgParams) -> (Model, Model, Geometry) {
    let c = JetConstants::default();
    let grid = params.grid().unwrap();
    let truth = Model::with_terms(params.clone(), jet_terms(&grid, &c)).unwrap();
    let wrong = JetConstants {
        c_j: 0.0,
        tau_d1: 0.11,
        tau_d2: 0.11,
        tau_f: 0.37,
        ..c
    };
    let model = Model::with_terms(params.clone(), jet_terms(&grid, &wrong)).unwrap();
    (
        truth,
        model,
        Geometry::new(params, Some((c.u1, c.sigma))).unwrap(),
    )
}

#[test]
fn the_expected_correction_makes_the_imperfect_model_the_truth() {
    let params = jet_params(48, 96);
    let (mut truth, mut model, geometry) = case1005(&params);
    let library = QgLibrary::parse("medida10").unwrap();
    let expected = expected_error(truth.terms(), model.terms(), &library);
    assert!(expected.outside.is_empty(), "{:?}", expected.outside);
    let terms = library
        .terms()
        .iter()
        .enumerate()
        .map(|(j, e)| (e.clone(), [expected.coef[[0, j]], expected.coef[[1, j]]]))
        .collect();
    model
        .add_term(Correction::new(terms, Evaluator::new(geometry)).into_term())
        .unwrap();
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
    let dup = Term::new(TermKind::BottomDrag, 1.0);
    assert!(model.add_term(dup).is_err());
}

#[test]
fn a_one_step_increment_is_the_filtered_model_error() {
    let params = jet_params(48, 96);
    let (truth, model, geometry) = case1005(&params);
    let filtr = truth.filtr();
    let (nl, nk) = filtr.dim();
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
    let mut eval = Evaluator::new(geometry);
    let state: SpectralState = eval.state(q.view());
    let mut want = Array3::zeros(h.dqdt.raw_dim());
    for lev in 0..2 {
        let mut acc = vec![medida_solver::Complex64::default(); nk * nl];
        for (j, e) in library.terms().iter().enumerate() {
            let c = expected.coef[[lev, j]];
            if c != 0.0 {
                let s = eval.spectral(e, &state);
                acc.iter_mut().zip(&s).for_each(|(a, s)| *a += s * c);
            }
        }
        for (i, a) in acc.iter_mut().enumerate() {
            *a *= filtr[[i % nl, i / nl]];
        }
        let field = eval.field_of(&acc);
        want.index_axis_mut(ndarray::Axis(0), lev)
            .iter_mut()
            .zip(&field)
            .for_each(|(w, f)| *w = *f);
    }
    let err = max_abs(&(&h.dqdt - &want)) / max_abs(&want);
    assert!(err < 1e-9, "one-step increment vs filtered error: {err:e}");
    assert!(Increments::new(inc.truth().clone(), inc.model().clone(), 0).is_err());
}

#[test]
fn assimilating_every_point_gives_the_full_observation_increment() {
    // With every point observed the observations are the true state, so the analysis after the
    // window is the truth and the increment equals the one from full observations at that time,
    // whatever the assimilating model, the first interpolation and the way observations enter:
    // inserted at every step, or interpolated innovations added every 5 steps (cubic is exact
    // at its vertices, so up to round-off).
    let params = jet_params(48, 96);
    let (truth, model, _) = case1005(&params);
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
        let (q_true, h) = inc
            .assimilated(q0.view(), &spec, 0, [&cubic, &cubic], &mut assimilator)
            .unwrap();
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

//! Term compilation against evaluation: every term of the three families, compiled into the model's
//! fused kernel, gives the tendency that the evaluator computes from the term's own expressions
//! (`sum factor * expression`), for each de-aliasing; so a library column, a correction or a
//! closure written in the grammar is the model's own term.

use medida_solver::jet::{JetConstants, jet_params, jet_spectral, jet_terms};
use medida_solver::{Dealias, Evaluator, Model, PyqgPhysics, QgParams, Spectral, Term, pyqg_terms};
use ndarray::{Array3, Axis};
use std::sync::Arc;

/// pyqg's random field in both layers (pyqg's own IC leaves the lower layer at rest), times `scale`.
fn random_q(params: &QgParams, scale: f64) -> Array3<f64> {
    let grid = params.grid().unwrap();
    let mut q = medida_solver::init::pyqg_random_q(&grid, 3);
    let lower = medida_solver::init::pyqg_random_q(&grid, 4);
    q.index_axis_mut(Axis(0), 1)
        .assign(&lower.index_axis(Axis(0), 0));
    q * scale
}

fn max_abs(a: &Array3<f64>) -> f64 {
    a.iter().fold(0.0, |m: f64, v| m.max(v.abs()))
}

/// `sum factor * expression` of `term` per layer, evaluated on `q`.
fn evaluated(spectral: &Arc<Spectral>, term: &Term, q: &Array3<f64>) -> Array3<f64> {
    let mut eval = Evaluator::new(spectral.clone());
    let state = eval.state(q.view()).unwrap();
    let mut out = Array3::zeros(q.raw_dim());
    for (lev, shape) in term.shape().iter().enumerate() {
        for (factor, e) in shape {
            let field = eval.field(e, &state).unwrap();
            for (o, f) in out.index_axis_mut(Axis(0), lev).iter_mut().zip(&field) {
                *o += term.coefficient * factor * f;
            }
        }
    }
    out
}

/// Each explicit term alone at its coefficient (1 where it is 0): the compiled tendency equals
/// the evaluated one.
fn check(spectral: Arc<Spectral>, params: &QgParams, terms: Vec<Term>, q: &Array3<f64>) -> usize {
    let mut checked = 0;
    for mut term in terms.into_iter().filter(|t| !t.is_implicit()) {
        if term.coefficient == 0.0 {
            term.coefficient = 1.0; // pyqg's U2: a term with no tendency checks nothing
        }
        let name = term.name().to_string();
        let mut model = Model::on(spectral.clone(), params.clone(), vec![term.clone()]).unwrap();
        model.set_q(q.view()).unwrap();
        let tendency = model.dqdt();
        let want = evaluated(&spectral, &term, q);
        let err = max_abs(&(&want - &tendency)) / max_abs(&tendency);
        assert!(
            err < 1e-12,
            "{name}: compiled and evaluated differ by {err:e}"
        );
        checked += 1;
    }
    checked
}

#[test]
fn jet_terms_compile_to_their_expressions() {
    let params = jet_params(48, 96);
    let c = JetConstants::default();
    let spectral: Arc<Spectral> = jet_spectral(&params, &c).unwrap().into();
    let n = check(spectral, &params, jet_terms(&c), &random_q(&params, 3e4));
    assert_eq!(n, 6, "every explicit jet term");
}

#[test]
fn turbulence_terms_compile_to_their_expressions() {
    use medida_solver::turbulence::{TurbulenceConstants, turbulence_params, turbulence_terms};
    let params = turbulence_params(32);
    let c = TurbulenceConstants {
        beta: 20.0,
        ..TurbulenceConstants::case1(4.0)
    };
    let spectral: Arc<Spectral> = Spectral::new(&params).unwrap().into();
    let n = check(
        spectral,
        &params,
        turbulence_terms(&c),
        &random_q(&params, 1e6),
    );
    assert_eq!(
        n, 4,
        "advection, beta, drag, forcing (the viscosity is implicit)"
    );
}

#[test]
fn pyqg_terms_compile_to_their_expressions_with_each_dealiasing() {
    for dealias in [Dealias::None, Dealias::TwoThirds, Dealias::ThreeHalves] {
        let params = QgParams {
            nx: 32,
            ny: 32,
            dealias,
            ..Default::default()
        };
        let terms = pyqg_terms(&params, &PyqgPhysics::default());
        let spectral: Arc<Spectral> = Spectral::new(&params).unwrap().into();
        assert_eq!(check(spectral, &params, terms, &random_q(&params, 1.0)), 5);
    }
}

#[test]
fn terms_without_a_fused_form_are_evaluated() {
    // A product, a cross-layer Jacobian and a Jacobian of another layer's fields are evaluated by
    // the evaluator at every tendency evaluation; the model's tendency is still their sum.
    let params = jet_params(48, 96);
    let c = JetConstants::default();
    let spectral: Arc<Spectral> = jet_spectral(&params, &c).unwrap().into();
    let parse = |t: &str| medida_solver::Expr::parse(t).unwrap();
    let term = Term::new(
        "mixed",
        0.3,
        [
            vec![(1.0, parse("psi1*psi2")), (-2.0, parse("J(psi2, q2)"))],
            vec![(0.5, parse("J(psi1, psi2)")), (1.5, parse("y*dx(q2)"))],
        ],
    );
    // Velocities fuse as operators on psi; advection by the full flow is evaluated.
    let flow = Term::new(
        "flow",
        1e-3,
        [
            vec![(1.0, parse("lap(u1)")), (2.0, parse("adv1(q1)"))],
            vec![(-1.0, parse("dy(v2)")), (0.5, parse("u2*v1"))],
        ],
    );
    let q = random_q(&params, 3e4);
    assert_eq!(check(spectral, &params, vec![term, flow], &q), 2);
}

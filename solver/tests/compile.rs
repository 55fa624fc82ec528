//! Term compilation against evaluation: every term of the three families, compiled into the model's
//! fused kernel, gives the tendency that the evaluator computes from the term's own expressions
//! (`sum factor * expression`), for each de-aliasing; so a library column, a correction or a
//! closure written in the grammar is the model's own term.

mod common;

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

#[test]
fn a_coefficient_field_multiplies_its_term_where_it_is_set() {
    // `c1*q1` and `c2*dx(q2)`: 1 until set (the term is then `q1`, `dx(q2)`); once a field is set
    // the tendency is the field times the rest, point by point, at once (a term with `c` is never
    // frozen as a forcing: `c1` alone follows the field too); bad fields are named.
    let params = QgParams {
        nx: 32,
        ny: 32,
        ..Default::default()
    };
    let parse = |t: &str| medida_solver::Expr::parse(t).unwrap();
    assert_eq!(parse("c*q").in_layer(1).to_string(), "c2*q2");
    let term = Term::new(
        "field",
        1e-6,
        [
            vec![(1.0, parse("c1*q1")), (2.0, parse("c1"))],
            vec![(1.0, parse("c2*dx(q2)"))],
        ],
    );
    let q = random_q(&params, 1e-5);
    let mut bare = Model::with_terms(params.clone(), Vec::new()).unwrap();
    let mut with = Model::with_terms(params.clone(), vec![term]).unwrap();
    bare.set_q(q.view()).unwrap();
    with.set_q(q.view()).unwrap();
    let plain = Term::new(
        "plain",
        1e-6,
        [
            vec![(1.0, parse("q1")), (2.0, parse("1"))],
            vec![(1.0, parse("dx(q2)"))],
        ],
    );
    let spectral: Arc<Spectral> = Spectral::new(&params).unwrap().into();
    let unset = with.dqdt() - bare.dqdt();
    let expected = evaluated(&spectral, &plain, &q);
    assert!(max_abs(&(&unset - &expected)) <= 1e-12 * max_abs(&expected));
    let (nx, ny) = (params.nx, params.ny);
    let field = |lev: usize| -> Vec<f64> {
        (0..nx * ny)
            .map(|i| {
                0.5 + ((i % nx) as f64 * 0.3 + (i / nx) as f64 * 0.7 + lev as f64)
                    .sin()
                    .abs()
            })
            .collect()
    };
    with.set_coefficient_field(0, Some(field(0))).unwrap();
    with.set_coefficient_field(1, Some(field(1))).unwrap();
    let set = with.dqdt() - bare.dqdt();
    for lev in 0..2 {
        let c = Array3::from_shape_vec((1, ny, nx), field(lev)).unwrap();
        let want = &expected.index_axis(Axis(0), lev) * &c.index_axis(Axis(0), 0);
        let got = set.index_axis(Axis(0), lev);
        let scale = max_abs(&want.clone().insert_axis(Axis(0)));
        let err = (&got - &want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            err <= 1e-12 * scale,
            "layer {}: {err:e} of {scale:e}",
            lev + 1
        );
    }
    // Back to 1 everywhere.
    with.set_coefficient_field(0, None).unwrap();
    with.set_coefficient_field(1, None).unwrap();
    let reset = with.dqdt() - bare.dqdt();
    assert!(max_abs(&(&reset - &expected)) <= 1e-12 * max_abs(&expected));
    let e = with
        .set_coefficient_field(0, Some(vec![1.0; 10]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("coefficient field") && e.contains("10 values"),
        "{e}"
    );
    let mut nan = field(0);
    nan[5] = f64::NAN;
    let e = with
        .set_coefficient_field(0, Some(nan))
        .unwrap_err()
        .to_string();
    assert!(e.contains("finite"), "{e}");
    assert!(with.set_coefficient_field(2, None).is_err());
}

/// A corrected model's cross-layer Jacobians (`J(psi2, q2)` in the upper layer, `J(psi1, q1)` in
/// the lower, as BIC fits of the MEDIDA jet give them) fuse into the advection: the tendency is
/// their expressions', a step equals the one that evaluates them apart (written `1*J(...)`, which
/// the kernel does not fuse) to round-off, and it is the same bits on one and two threads, with
/// each stepper.
#[test]
fn cross_layer_jacobians_fuse_into_the_advection() {
    let parse = |t: &str| medida_solver::Expr::parse(t).unwrap();
    let cross = |form: &str| {
        Term::new(
            "cross",
            0.026,
            [
                vec![(1.0, parse(&format!("{form}J(psi2, q2)")))],
                vec![(-2.5, parse(&format!("{form}J(psi1, q1)")))],
            ],
        )
    };
    let params = jet_params(48, 96);
    let c = JetConstants::default();
    let spectral: Arc<Spectral> = jet_spectral(&params, &c).unwrap().into();
    let q = random_q(&params, 3e4);
    assert_eq!(check(spectral.clone(), &params, vec![cross("")], &q), 1);
    let pyqg = QgParams {
        nx: 32,
        ny: 32,
        ..Default::default()
    };
    let pyqg_spectral: Arc<Spectral> = Spectral::new(&pyqg).unwrap().into();
    let pyqg_terms = pyqg_terms(&pyqg, &PyqgPhysics::default());
    // The jet steps by leapfrog (the tendency, then the update), pyqg by AB3 (fused).
    for (spectral, params, terms, q) in [
        (spectral, params, jet_terms(&c), q),
        (
            pyqg_spectral,
            pyqg.clone(),
            pyqg_terms,
            random_q(&pyqg, 1.0),
        ),
    ] {
        let run = |form: &str, threads: usize| {
            let mut terms = terms.clone();
            terms.push(cross(form));
            let mut m = Model::on(spectral.clone(), params.clone(), terms).unwrap();
            m.set_q(q.view()).unwrap();
            common::on_threads(threads, || m.run(20)).unwrap();
            m.q()
        };
        let fused = run("", 1);
        let apart = run("1*", 1);
        let err = max_abs(&(&fused - &apart)) / max_abs(&apart);
        println!("fused against apart after 20 steps: {err:.2e}");
        assert!(err < 1e-11, "fused and evaluated apart differ by {err:e}");
        let bits = |q: &Array3<f64>| q.iter().map(|v| v.to_bits()).collect::<Vec<u64>>();
        assert!(bits(&fused) == bits(&run("", 2)), "1 and 2 threads differ");
    }
}

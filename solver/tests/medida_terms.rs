//! The MEDIDA terms, each alone in a model, against analytic fields computed independently.

use medida_solver::jet::{JetProfiles, jet_params};
use medida_solver::{Dealias, Expr, Model, QgParams, Spectral, Stepper, Term, terms};
use ndarray::Array3;
use std::f64::consts::PI;

/// MEDIDA's non-dimensional setting (F1 = F2 = 1: delta = 1, rd = 1/sqrt(2)) on a small grid.
fn params() -> QgParams {
    // AB3 without de-aliasing, so a single term's action is read off one tendency or one step.
    QgParams {
        stepper: Stepper::Ab3,
        dealias: Dealias::None,
        ..jet_params(32, 48)
    }
}

fn max_rel_err(got: &Array3<f64>, want: &Array3<f64>) -> f64 {
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    got.iter()
        .zip(want)
        .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()))
        / scale
}

#[test]
fn interface_relaxation_is_tau_times_psi1_minus_psi2() {
    let p = params();
    let tau = 0.01;
    let mut m = Model::with_terms(p.clone(), vec![terms::interface_relaxation(tau)]).unwrap();
    let (x, y) = (m.grid().x(), m.grid().y());
    // psi1 = sin(2 pi x/L) cos(4 pi y/W), psi2 = 0.3 cos(6 pi x/L); q_i = lap psi_i + F (psi_j - psi_i), F = 1.
    let (k1, l1, k2) = (2.0 * PI / p.L, 4.0 * PI / p.W, 6.0 * PI / p.L);
    let psi1 = |i: usize, j: usize| (k1 * x[i]).sin() * (l1 * y[j]).cos();
    let psi2 = |i: usize, _: usize| 0.3 * (k2 * x[i]).cos();
    let q = Array3::from_shape_fn((2, p.ny, p.nx), |(z, j, i)| match z {
        0 => -(k1 * k1 + l1 * l1) * psi1(i, j) + (psi2(i, j) - psi1(i, j)),
        _ => -k2 * k2 * psi2(i, j) + (psi1(i, j) - psi2(i, j)),
    });
    m.set_q(q.view()).unwrap();
    let want = Array3::from_shape_fn((2, p.ny, p.nx), |(z, j, i)| {
        let d = tau * (psi1(i, j) - psi2(i, j));
        if z == 0 { d } else { -d }
    });
    let e = max_rel_err(&m.dqdt(), &want);
    assert!(e < 1e-12, "relative error {e:e}");
}

#[test]
fn jet_forcing_is_minus_and_plus_tau_psi_r() {
    let p = params();
    let grid = p.grid().unwrap();
    let jet = JetProfiles::new(&grid, 1.0, 3.5);
    let tau = 0.01;
    let mut m = Model::on(with_jet(&p), p.clone(), vec![terms::jet_forcing(tau)]).unwrap();
    // Closed form of psi_R (see jet.rs), mean removed: independent of the spectral construction.
    let (half, sigma) = (p.W / 2.0, 3.5);
    let t = (half / sigma).tanh();
    let exact: Vec<f64> = jet
        .y
        .iter()
        .map(|&y| {
            sigma * (-(y / sigma).tanh() + y.signum() * (t - ((half - y.abs()) / sigma).tanh()))
        })
        .collect();
    let mean = exact.iter().sum::<f64>() / exact.len() as f64;
    let want = Array3::from_shape_fn((2, p.ny, p.nx), |(z, j, _)| {
        let f = tau * (exact[j] - mean);
        if z == 0 { -f } else { f }
    });
    // The spectral psi_R is exact for the trigonometric interpolant of u_eq on 48 rows (dy = 1.4,
    // sigma = 3.5); the closed form is the continuous integral: they differ by the sampling error.
    let e = max_rel_err(&m.dqdt(), &want);
    println!("jet forcing: relative error {e:.1e} on 48 rows");
    assert!(e < 1e-4, "relative error {e:e}");
}

#[test]
fn sponge_damps_the_eddy_pv_only() {
    let p = params();
    let grid = p.grid().unwrap();
    let s = JetProfiles::new(&grid, 1.0, 3.5).sponge;
    let mut m = Model::on(with_jet(&p), p.clone(), vec![terms::sponge(2.0)]).unwrap();
    let (x, y) = (grid.x(), grid.y());
    let eddy = |i: usize, j: usize| (2.0 * PI * x[i] / p.L).cos() * (2.0 * PI * y[j] / p.W).sin();
    let q = Array3::from_shape_fn((2, p.ny, p.nx), |(z, j, i)| {
        if z == 0 {
            eddy(i, j) + 0.5 * (4.0 * PI * y[j] / p.W).sin()
        } else {
            -eddy(i, j)
        }
    });
    m.set_q(q.view()).unwrap();
    let want = Array3::from_shape_fn((2, p.ny, p.nx), |(z, j, i)| {
        -2.0 * s[j] * if z == 0 { eddy(i, j) } else { -eddy(i, j) }
    });
    let e = max_rel_err(&m.dqdt(), &want);
    assert!(e < 1e-12, "relative error {e:e}");
}

#[test]
fn implicit_hyperviscosity_step_has_its_closed_form() {
    let p = QgParams {
        filterfac: 0.0,
        ..params()
    };
    // nu large enough that the coarse test mode is damped visibly (MEDIDA's 1e-6 acts at its grid scale).
    let nu = 1.0;
    let mut m = Model::with_terms(p.clone(), vec![terms::hyperviscosity(nu)]).unwrap();
    let grid = m.grid().clone();
    let (x, y) = (grid.x(), grid.y());
    let (mk, ml) = (9usize, 13usize);
    let (k, l) = (grid.kk[mk], grid.ll[ml]);
    let q = Array3::from_shape_fn((2, p.ny, p.nx), |(_, j, i)| (k * x[i] + l * y[j]).cos());
    m.set_q(q.view()).unwrap();
    let q0 = m.qh()[[0, ml, mk]];
    let factor = 1.0 / (1.0 + p.dt * nu * (k.powi(8) + l.powi(8)));
    assert!(
        factor < 0.95,
        "the test mode must be damped noticeably ({factor})"
    );
    for n in 1..=3 {
        m.step().unwrap();
        let want = q0 * factor.powi(n);
        let got = m.qh()[[0, ml, mk]];
        assert!(
            (got - want).norm() <= 1e-13 * want.norm(),
            "step {n}: {got} vs {want}"
        );
    }
}

#[test]
fn terms_the_model_cannot_have_are_named_errors() {
    let p = params();
    // psi_R and s exist only on a toolkit with the jet's fields.
    let e = Model::with_terms(p.clone(), vec![terms::sponge(1.0)]).unwrap_err();
    assert!(e.to_string().contains("only the MEDIDA jet model"), "{e}");
    // Two terms of one name, a non-finite coefficient, an implicit part that does not damp.
    let e = Model::with_terms(p.clone(), vec![terms::beta(1.0), terms::beta(2.0)]).unwrap_err();
    assert!(e.to_string().contains("two terms have this name"), "{e}");
    let e = Model::with_terms(p.clone(), vec![terms::beta(f64::NAN)]).unwrap_err();
    assert!(e.to_string().contains("`beta`"), "{e}");
    let e = Model::with_terms(p.clone(), vec![terms::hyperviscosity(-1.0)]).unwrap_err();
    assert!(e.to_string().contains("must damp"), "{e}");
    let lap = |lev: usize| vec![(1.0, Expr::q(lev).apply(medida_solver::Op::Lap(1)))];
    let e =
        Model::with_terms(p, vec![Term::new("x", 1.0, [lap(0), lap(0)]).implicit()]).unwrap_err();
    assert!(e.to_string().contains("acts on another layer"), "{e}");
}

/// The toolkit of `p` with the jet's fields (U1 = 1, sigma = 3.5).
fn with_jet(p: &QgParams) -> std::sync::Arc<Spectral> {
    Spectral::new(p).unwrap().with_jet(1.0, 3.5).into()
}

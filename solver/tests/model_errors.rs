//! The MEDIDA model-error cases 1001-1008 (medida-qg.md section 2.1): the truth tendency minus the
//! imperfect model's, on the same state, equals the analytic model error of section 2.2, built here
//! from psi1, psi2, psi_R, lap(psi2) = q2 - (psi1 - psi2) and the Jacobians J_i = -(advection term).

use medida_solver::jet::{JetConstants, JetProfiles, jet_model, jet_params};
use medida_solver::{Model, QgParams, terms};
use ndarray::{Array2, Axis};

/// Coefficient changes of each case, by term name.
const CASES: [(&str, &[(&str, f64)]); 8] = [
    (
        "case1001",
        &[("interface_relaxation", 0.11), ("jet_forcing", 0.11)],
    ),
    (
        "case1002",
        &[
            ("interface_relaxation", 0.11),
            ("jet_forcing", 0.11),
            ("bottom_drag", 0.37),
        ],
    ),
    (
        "case1003",
        &[("interface_relaxation", 0.0), ("jet_forcing", 0.0)],
    ),
    ("case1004", &[("advection", 0.5)]),
    (
        "case1005",
        &[
            ("advection", 0.0),
            ("interface_relaxation", 0.11),
            ("jet_forcing", 0.11),
            ("bottom_drag", 0.37),
        ],
    ),
    ("case1006", &[("bottom_drag", 0.37)]),
    ("case1007", &[("bottom_drag", 0.0)]),
    ("case1008", &[("jet_forcing", 0.0)]),
];

/// The fields the expected errors are made of, per layer, `(y, x)`.
struct Fields {
    psi: [Array2<f64>; 2],
    psi_r: Array2<f64>,
    lap_psi2: Array2<f64>,
    jac: [Array2<f64>; 2],
}

/// The expected error of a case: the table of medida-qg.md section 2.2.
fn expected(case: &str, f: &Fields) -> [Array2<f64>; 2] {
    let [p1, p2] = &f.psi;
    let relax = |d: f64| [(p1 - p2) * d - &f.psi_r * d, (p2 - p1) * d + &f.psi_r * d];
    let zero = Array2::<f64>::zeros(p1.dim());
    match case {
        // tau_d 0.11 instead of 0.01: -0.1 psi1 + 0.1 psi2 + 0.1 psi_R, and the opposite.
        "case1001" => relax(-0.1),
        "case1002" => {
            let [a, b] = relax(-0.1);
            [a, b + &f.lap_psi2 * 0.3]
        }
        "case1003" => relax(0.01),
        "case1004" => [&f.jac[0] * -0.5, &f.jac[1] * -0.5],
        "case1005" => {
            let [a, b] = relax(-0.1);
            [a - &f.jac[0], b + &f.lap_psi2 * 0.3 - &f.jac[1]]
        }
        "case1006" => [zero, &f.lap_psi2 * 0.3],
        "case1007" => [zero, &f.lap_psi2 * -0.07],
        "case1008" => [&f.psi_r * -0.01, &f.psi_r * 0.01],
        _ => unreachable!("a case of the table"),
    }
}

#[test]
fn truth_minus_imperfect_tendency_is_the_analytic_model_error() {
    let params: QgParams = jet_params(96, 192);
    let truth_constants = JetConstants::default();
    let mut truth = jet_model(params.clone(), &truth_constants).unwrap();
    // A smooth random state (pyqg's recipe plus a meridional structure), scaled to O(1) PV.
    let grid = truth.grid().clone();
    let y = grid.y();
    let mut q = medida_solver::init::pyqg_random_q(&grid, 3) * 1e6;
    for ((z, j, _), v) in q.indexed_iter_mut() {
        *v += (1.0 + z as f64) * (2.0 * std::f64::consts::PI * y[j] / params.W).sin();
    }
    truth.set_q(q.view()).unwrap();
    let n_truth = truth.dqdt();

    // The fields of the expected errors, each from its definition.
    let [psi, _, _] = truth.p_u_v();
    let (psi1, psi2) = (
        psi.index_axis(Axis(0), 0).to_owned(),
        psi.index_axis(Axis(0), 1).to_owned(),
    );
    let jet = JetProfiles::new(&grid, truth_constants.u1, truth_constants.sigma);
    let psi_r = Array2::from_shape_fn((grid.ny, grid.nx), |(j, _)| jet.psi_r[j]);
    let lap_psi2 = &q.index_axis(Axis(0), 1) - &(&psi1 - &psi2);
    let mut adv = Model::with_terms(params.clone(), vec![terms::advection(1.0)]).unwrap();
    adv.set_q(q.view()).unwrap();
    let n_adv = adv.dqdt();
    let jac = [
        n_adv.index_axis(Axis(0), 0).mapv(|v| -v),
        n_adv.index_axis(Axis(0), 1).mapv(|v| -v),
    ];
    let fields = Fields {
        psi: [psi1, psi2],
        psi_r,
        lap_psi2,
        jac,
    };

    for (case, changes) in CASES {
        let mut model = jet_model(params.clone(), &truth_constants).unwrap();
        for (name, value) in changes {
            model.set_coefficient(name, *value).unwrap();
        }
        model.set_q(q.view()).unwrap();
        let diff = &n_truth - &model.dqdt();
        for (lev, want) in expected(case, &fields).iter().enumerate() {
            let got = diff.index_axis(Axis(0), lev);
            let scale = want
                .iter()
                .chain(got.iter())
                .fold(0.0f64, |a, v| a.max(v.abs()));
            let err = got
                .iter()
                .zip(want)
                .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()));
            assert!(
                scale > 0.0 || lev == 0,
                "{case} layer {}: no error where one is expected",
                lev + 1
            );
            assert!(
                err <= 1e-12 * scale.max(1e-300) || (scale == 0.0 && err == 0.0),
                "{case} layer {}: |difference - expected| = {err:e}, scale {scale:e}",
                lev + 1
            );
        }
    }
}

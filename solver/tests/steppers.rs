//! Orders of accuracy of the time steppers on a smooth problem with an exact solution: one neutral
//! two-layer Rossby-wave eigenmode (no background flow, beta != 0, one wave vector so J = 0), whose
//! coefficient rotates as exp(-i omega t) with omega from the analytic dispersion relation.

use medida_solver::{Complex64, Model, PyqgPhysics, QgParams, Stepper};
use ndarray::Array3;

const MODE: (usize, usize) = (3, 2);

/// pyqg's beta, no background flow, no drag.
const ROSSBY: PyqgPhysics = PyqgPhysics {
    beta: 1.5e-11,
    U1: 0.0,
    U2: 0.0,
    rek: 0.0,
};

/// Frequency and layer-2/layer-1 streamfunction ratio of the barotropic Rossby mode: from
/// `(Qy_i - a_i A_i) psi_i + a_i F_i psi_j = 0`, `a_i = -c`, `A_i = K^2 + F_i`, `Qy_i = beta`.
fn rossby(p: &QgParams, k: f64, kappa2: f64) -> (f64, f64) {
    let (f1, f2, beta) = (p.f1(), p.f2(), ROSSBY.beta);
    let (a1, a2) = (kappa2 + f1, kappa2 + f2);
    // (beta + c A1)(beta + c A2) - c^2 F1 F2 = 0
    let (a, b, cc) = (a1 * a2 - f1 * f2, beta * (a1 + a2), beta * beta);
    let c = (-b - (b * b - 4.0 * a * cc).sqrt()) / (2.0 * a); // the faster (barotropic) root
    let ratio = (beta + c * a1) / (c * f1); // = 1: the barotropic mode
    (k * c, ratio)
}

/// Relative error of the mode's coefficient after time `t_end` with `steps` steps.
fn error(stepper: Stepper, g: f64, steps: u64, t_end: f64) -> f64 {
    let base = QgParams {
        nx: 16,
        ny: 16,
        filterfac: 0.0,
        ..Default::default()
    };
    let p = QgParams {
        dt: t_end / steps as f64,
        stepper,
        robert_asselin: g,
        ..base
    };
    let mut m = Model::pyqg(p.clone(), &ROSSBY).unwrap();
    let (mk, ml) = MODE;
    let (k, l) = (m.grid().kk[mk], m.grid().ll[ml]);
    let kappa2 = k * k + l * l;
    let (omega, ratio) = rossby(&p, k, kappa2);
    let psi = [1.0, ratio];
    let qhat = [
        -(kappa2 + p.f1()) * psi[0] + p.f1() * psi[1],
        p.f2() * psi[0] - (kappa2 + p.f2()) * psi[1],
    ];
    let (x, y) = (m.grid().x(), m.grid().y());
    let q0 = Array3::from_shape_fn((2, p.ny, p.nx), |(z, j, i)| {
        1e-6 * qhat[z] * (k * x[i] + l * y[j]).cos()
    });
    m.set_q(q0.view()).unwrap();
    let start = m.qh()[[0, ml, mk]];
    m.run(steps).unwrap();
    let exact = start * Complex64::from_polar(1.0, -omega * m.t());
    (m.qh()[[0, ml, mk]] - exact).norm() / exact.norm()
}

/// Errors at `steps`, `2 steps` and `4 steps` over `periods` wave periods, and `omega h` at each.
fn errors(stepper: Stepper, g: f64, periods: f64, steps: u64) -> ([f64; 3], [f64; 3], f64) {
    let base = QgParams {
        nx: 16,
        ny: 16,
        ..Default::default()
    };
    let grid = base.grid().unwrap();
    let (k, l) = (grid.kk[MODE.0], grid.ll[MODE.1]);
    let (omega, _) = rossby(&base, k, k * k + l * l);
    let t_end = periods * 2.0 * std::f64::consts::PI / omega.abs();
    let n = [steps, 2 * steps, 4 * steps];
    (
        n.map(|n| error(stepper, g, n, t_end)),
        n.map(|n| omega.abs() * t_end / n as f64),
        omega.abs() * t_end,
    )
}

fn orders(e: [f64; 3]) -> [f64; 2] {
    [(e[0] / e[1]).log2(), (e[1] / e[2]).log2()]
}

#[test]
fn rk4_is_fourth_order() {
    let (e, _, _) = errors(Stepper::Rk4, 0.0, 20.0, 1000);
    let o = orders(e);
    println!("RK4: errors {e:?}, orders {o:?}");
    assert!(o.iter().all(|o| (3.8..4.2).contains(o)), "{o:?}");
}

#[test]
fn leapfrog_is_second_order_and_first_with_the_robert_asselin_filter() {
    let (e, _, _) = errors(Stepper::Leapfrog, 0.0, 2.0, 400);
    let o = orders(e);
    println!("leapfrog: errors {e:?}, orders {o:?}");
    assert!(o.iter().all(|o| (1.9..2.1).contains(o)), "{o:?}");
    let (e, _, _) = errors(Stepper::Leapfrog, 0.04, 2.0, 400);
    let o = orders(e);
    println!("leapfrog-RA 0.04: errors {e:?}, orders {o:?}");
    assert!(o.iter().all(|o| (0.9..1.1).contains(o)), "{o:?}");
}

/// AB3's own error is third order, `-(3/8) (omega h)^3 omega T` in amplitude (its principal root
/// decays as `1 - (3/8)(omega h)^4` per step), and pyqg's forward-Euler first step adds
/// `+(omega h)^2 / 2`: the measured error is their sum, at every step size.
#[test]
fn ab3_error_is_its_third_order_term_plus_the_euler_start() {
    let (e, wh, wt) = errors(Stepper::Ab3, 0.0, 20.0, 2000);
    for (err, wh) in e.iter().zip(wh) {
        let model = (wh * wh / 2.0 - 3.0 / 8.0 * wh.powi(3) * wt).abs();
        println!("AB3: omega h {wh:.4}: error {err:.3e}, model {model:.3e}");
        assert!(
            (err - model).abs() < 0.05 * model,
            "error {err:e}, model {model:e}"
        );
    }
}

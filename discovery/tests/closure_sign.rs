//! The sign of the subgrid forcing, on a state where it is known in closed form, and the perfect
//! closure: the coarse model plus the exact total forcing steps to the coarse-grained truth.

mod common;

use medida_discovery::closure::{Operator, SubgridForcing};
use ndarray::Array3;
use std::f64::consts::PI;

#[test]
fn a_triad_of_unresolved_modes_forces_its_resolved_difference_with_the_tendency_sign() {
    // q1 = cos(a.x) + cos(b.x), q2 = 0, with a = (10, 1) dk and b = (9, 3) dk beyond the coarse
    // grid's |k|, |l| < 8 dk: the coarse state is zero and so is its advection. psi1 = alpha q1 per
    // mode (alpha = -(K^2 + F2) / (K^2 (K^2 + F1 + F2)), the inversion with q2 = 0), so
    // J(psi1, q1) = (alpha_a - alpha_b) (a x b) (cos((a - b).x) - cos((a + b).x)) / 2, and the
    // coarse grid keeps only a - b = (1, -2) dk, times its filter. What must be added to dq/dt of
    // the coarse model is minus that.
    let (mut hr, lr) = common::closure_models();
    let p = hr.params().clone();
    let (f1, f2) = (p.f1(), p.f2());
    let dk = 2.0 * PI / p.L;
    let (a, b) = ([10.0 * dk, dk], [9.0 * dk, 3.0 * dk]);
    let (x, y) = (hr.grid().x(), hr.grid().y());
    let q = Array3::from_shape_fn((2, 64, 64), |(z, j, i)| {
        if z == 1 {
            0.0
        } else {
            1e-5 * ((a[0] * x[i] + a[1] * y[j]).cos() + (b[0] * x[i] + b[1] * y[j]).cos())
        }
    });
    hr.set_q(q.view()).unwrap();
    let alpha = |k: [f64; 2]| {
        let w = k[0] * k[0] + k[1] * k[1];
        -(w + f2) / (w * (w + f1 + f2))
    };
    let cross = a[0] * b[1] - a[1] * b[0];
    let amp = -0.5 * 1e-10 * (alpha(a) - alpha(b)) * cross;
    let d = [a[0] - b[0], a[1] - b[1]];
    let mut sf = SubgridForcing::new(Operator::Sharp, &hr, lr).unwrap();
    let f = sf.of(&mut hr).unwrap();
    let g = sf.coarse_model().grid().clone();
    // The coarse grid's exponential filter at a - b (1 at this large scale).
    let kd = ((d[0] * g.dx()).powi(2) + (d[1] * g.dy()).powi(2)).sqrt();
    assert!(kd < 0.65 * PI, "a - b is below the filter's cutoff");
    // The spectral coarse-graining keeps the high-resolution grid's origin: coarse point i is at
    // x_hr[0] + i dx_lr, not at the coarse cell centre (i + 1/2) dx_lr (as Ross's operators).
    let xl: Vec<f64> = (0..16).map(|i| x[0] + i as f64 * g.dx()).collect();
    let yl: Vec<f64> = (0..16).map(|j| y[0] + j as f64 * g.dy()).collect();
    let want = Array3::from_shape_fn((2, 16, 16), |(z, j, i)| {
        if z == 1 {
            0.0
        } else {
            amp * (d[0] * xl[i] + d[1] * yl[j]).cos()
        }
    });
    let scale = amp.abs();
    let err = f
        .s_q
        .iter()
        .zip(&want)
        .fold(0.0f64, |m, (g, w)| m.max((g - w).abs()))
        / scale;
    println!("triad: S_q amplitude {amp:e}, rel err {err:.1e}");
    assert!(err < 1e-12, "S_q against the closed form: {err:e}");
    assert!(
        f.q.iter().all(|v| v.abs() < 1e-12 * 1e-5),
        "the coarse state is zero to round-off"
    );
}

#[test]
fn the_coarse_model_plus_the_exact_total_forcing_steps_to_the_coarse_grained_truth() {
    // One forward-Euler step of each model (the first AB3 step): coarsen(q + dt F_hr(q), then
    // the high-resolution filter) equals q_bar + dt (F_lr(q_bar) + S_q,tot), then the coarse
    // filter, on every mode the coarse filter leaves alone (where Operator 1's own filter is 1:
    // elsewhere the coarse step applies it once more than the coarse-graining does).
    let (mut hr, lr) = common::closure_models();
    let q = medida_solver::init::pyqg_random_q(hr.grid(), 3) * 20.0;
    hr.set_q(q.view()).unwrap();
    let mut sf = SubgridForcing::new(Operator::Sharp, &hr, lr).unwrap();
    let f = sf.of(&mut hr).unwrap();
    hr.step().unwrap();
    let truth = {
        let mut c = medida_discovery::closure::Coarsening::new(
            Operator::Sharp,
            hr.grid(),
            sf.coarse_model().grid(),
            23.6,
        )
        .unwrap();
        let q1 = hr.q();
        Array3::from_shape_fn((2, 16, 16), |(z, j, i)| {
            let layer: Vec<f64> = q1.index_axis(ndarray::Axis(0), z).iter().copied().collect();
            c.field(&layer)[j * 16 + i]
        })
    };
    let mut lr = sf.coarse_model().clone();
    lr.set_q(f.q.view()).unwrap();
    let dt = lr.params().dt;
    let stepped = &f.q + &((lr.dqdt() + &f.s_q_total) * dt);
    // Compare spectrally on the modes where the coarse filter is 1.
    let spec = |a: &Array3<f64>| {
        let mut m = lr.clone();
        m.set_q(a.view()).unwrap();
        m.qh()
    };
    let (want, got) = (spec(&truth), spec(&stepped));
    let filtr = lr.update_filter(0).to_vec();
    let nl = lr.grid().nl();
    let (mut err, mut scale) = (0.0f64, 0.0f64);
    for ((z, il, ik), w) in want.indexed_iter() {
        if filtr[ik * nl + il] == 1.0 {
            err = err.max((got[[z, il, ik]] - w).norm());
            scale = scale.max(w.norm());
        }
    }
    println!("perfect closure: rel err {:.1e}", err / scale);
    assert!(err <= 1e-12 * scale, "{:e}", err / scale);
}

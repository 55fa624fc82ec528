//! De-aliased advection against a grid twice as fine, where the same products do not alias: the
//! 3/2 rule reproduces its tendency on every coarse mode, the plain product does not, and the 2/3
//! rule reproduces it on the modes it keeps (for fields within n/3) and zeroes the rest.

use medida_solver::{Complex64, Dealias, Model, QgParams, terms};
use ndarray::Array3;

/// The advection tendency of `modes` (per layer: amplitude, mode numbers (m, n), phase) on an
/// `n x n` grid, normalised by the number of points so grids compare.
fn tendency(
    n: usize,
    dealias: Dealias,
    modes: &[[(f64, i32, i32, f64); 2]; 2],
) -> Array3<Complex64> {
    let p = QgParams {
        nx: n,
        ny: n,
        filterfac: 0.0,
        dealias,
        ..Default::default()
    };
    let mut m = Model::with_terms(p.clone(), vec![terms::advection(1.0)]).unwrap();
    let (x, y) = (m.grid().x(), m.grid().y());
    let (dk, dl) = (
        2.0 * std::f64::consts::PI / p.L,
        2.0 * std::f64::consts::PI / p.W,
    );
    let q = Array3::from_shape_fn((2, n, n), |(z, j, i)| {
        modes[z]
            .iter()
            .map(|&(a, mk, ml, ph)| a * (mk as f64 * dk * x[i] + ml as f64 * dl * y[j] + ph).cos())
            .sum::<f64>()
            * 1e-5
    });
    m.set_q(q.view()).unwrap();
    m.dqhdt() / Complex64::new((n * n) as f64, 0.0)
}

/// Largest difference on the coarse grid's modes (Nyquist row and column excluded), relative to
/// the largest reference coefficient; also the largest coarse coefficient outside `keep` modes.
fn compare(coarse: &Array3<Complex64>, fine: &Array3<Complex64>, keep: i32) -> (f64, f64) {
    let (nl, nk) = (coarse.shape()[1], coarse.shape()[2]);
    let nf = fine.shape()[1];
    let scale = fine.iter().fold(0.0f64, |a, v| a.max(v.norm()));
    let (mut err, mut outside) = (0.0f64, 0.0f64);
    for lev in 0..2 {
        for il in 0..nl {
            if il == nl / 2 {
                continue;
            }
            let ml = if il < nl / 2 {
                il as i32
            } else {
                il as i32 - nl as i32
            };
            let il_fine = if ml >= 0 {
                ml as usize
            } else {
                (nf as i32 + ml) as usize
            };
            for ik in 0..nk - 1 {
                // Cell-centred grids (x_i = (i + 1/2) dx) put a phase exp(i pi (m + n) / N) on
                // each coefficient: refer both to the origin before comparing.
                let at_origin = |n: usize| {
                    Complex64::from_polar(
                        1.0,
                        -std::f64::consts::PI * (ik as f64 + ml as f64) / n as f64,
                    )
                };
                let c = coarse[[lev, il, ik]] * at_origin(nl);
                if ik as i32 > keep || ml.abs() > keep {
                    outside = outside.max(c.norm());
                } else {
                    err = err.max((c - fine[[lev, il_fine, ik]] * at_origin(nf)).norm());
                }
            }
        }
    }
    (err / scale, outside / scale)
}

#[test]
fn three_halves_rule_removes_aliasing() {
    // Modes up to 12 on a 32-point grid (Nyquist 16): products reach 22 and alias on 32 points.
    let modes = [
        [(1.0, 10, 3, 0.0), (0.7, 9, -5, 0.4)],
        [(0.5, 4, 11, 1.0), (0.3, 12, 2, 0.2)],
    ];
    let fine = tendency(64, Dealias::None, &modes);
    let (err, _) = compare(&tendency(32, Dealias::ThreeHalves, &modes), &fine, 15);
    let (aliased, _) = compare(&tendency(32, Dealias::None, &modes), &fine, 15);
    println!("3/2 rule: {err:.1e}; no de-aliasing: {aliased:.1e}");
    assert!(
        err < 1e-12,
        "3/2 rule differs from the alias-free reference by {err:e}"
    );
    assert!(
        aliased > 1e-3,
        "the test must alias without de-aliasing ({aliased:e})"
    );
}

#[test]
fn two_thirds_rule_keeps_exact_modes_and_zeroes_the_rest() {
    // Fields within n/3 = 10 modes: products reach 20; what aliases lands beyond 10 and is masked.
    let modes = [
        [(1.0, 6, 4, 0.0), (0.7, 5, -3, 0.4)],
        [(0.5, 4, 7, 1.0), (0.3, 8, 2, 0.2)],
    ];
    let fine = tendency(64, Dealias::None, &modes);
    let (err, outside) = compare(&tendency(32, Dealias::TwoThirds, &modes), &fine, 10);
    println!("2/3 rule: {err:.1e} on kept modes, {outside:.1e} outside");
    assert!(
        err < 1e-12 && outside == 0.0,
        "kept modes {err:e}, outside {outside:e}"
    );
}

#[test]
fn three_halves_needs_sizes_divisible_by_four() {
    let p = QgParams {
        nx: 30,
        ny: 32,
        dealias: Dealias::ThreeHalves,
        ..Default::default()
    };
    assert!(
        Model::new(p)
            .unwrap_err()
            .to_string()
            .contains("divisible by 4")
    );
}

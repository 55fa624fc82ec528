//! medida's Clough-Tocher interpolant against scipy's `CloughTocher2DInterpolator` on scattered
//! points (tests/data/scipy_clough_tocher.npz, written by tests/scipy/make_reference.py).

mod common;

use medida_discovery::observe::CloughTocher2d;
use ndarray::{Array1, Array2};

#[test]
fn clough_tocher_matches_scipy() {
    let (mut npz, cases) = common::reference("scipy_clough_tocher.npz", "scipy");
    assert_eq!(cases.len(), 2, "{cases:?}");
    for case in cases {
        let pts: Array2<f64> = npz.by_name(&format!("{case}/points")).unwrap();
        let values: Array1<f64> = npz.by_name(&format!("{case}/values")).unwrap();
        let queries: Array2<f64> = npz.by_name(&format!("{case}/queries")).unwrap();
        let scipy: Array1<f64> = npz.by_name(&format!("{case}/scipy")).unwrap();
        let as_points = |a: &Array2<f64>| -> Vec<[f64; 2]> {
            a.rows().into_iter().map(|r| [r[0], r[1]]).collect()
        };
        let ct = CloughTocher2d::new(&as_points(&pts), values.as_slice().unwrap()).unwrap();
        let ours = ct.evaluate(&as_points(&queries));
        let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut worst = 0.0f64;
        for (i, (a, b)) in ours.iter().zip(scipy.iter()).enumerate() {
            // outside the hull both are NaN; inside, the gradient iteration stops at a change of
            // 1e-6, so the two agree to well below that (measured: round-off)
            assert_eq!(a.is_nan(), b.is_nan(), "{case} query {i}: {a} vs scipy {b}");
            if b.is_finite() {
                worst = worst.max((a - b).abs() / scale);
            }
        }
        println!("{case}: largest difference {worst:.2e} of the largest value");
        assert!(worst < 1e-8, "{case}: {worst:e}");
    }
}

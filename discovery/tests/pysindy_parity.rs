//! Parity with PySINDy 2.1 `STLSQ` on the seeded problems of `tests/pysindy/make_reference.py`:
//! the same support and coefficients within 1e-8 relative (PySINDy refits with an SVD least
//! squares on the data, medida with Cholesky on the Gram matrix; they agree to ~1e-13 here).

mod common;

use medida_discovery::{Gram, Library, Stlsq};
use ndarray::{Array1, Array2};

#[test]
fn stlsq_matches_pysindy() {
    let (mut npz, cases) = common::reference("pysindy_stlsq.npz", "coef");
    assert!(cases.len() >= 7, "cases: {cases:?}");
    for case in cases {
        let x: Array2<f64> = npz.by_name(&format!("{case}/x.npy")).unwrap();
        let y: Array2<f64> = npz.by_name(&format!("{case}/y.npy")).unwrap();
        let want: Array2<f64> = npz.by_name(&format!("{case}/coef.npy")).unwrap();
        let s: Array1<f64> = npz.by_name(&format!("{case}/settings.npy")).unwrap();
        let gram = Gram::from_rows(x.view(), y.view());
        let targets: Vec<String> = (0..y.ncols()).map(|i| format!("y{i}")).collect();
        let target_refs: Vec<&str> = targets.iter().map(String::as_str).collect();
        let fit = Stlsq::pysindy(s[0], s[1], 20, s[2] != 0.0)
            .fit(&gram, &Library::numbered(x.ncols()), &target_refs)
            .unwrap();
        let scale = want
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        let mut worst = 0.0f64;
        for ((i, j), w) in want.indexed_iter() {
            let got = fit.coef[[i, j]];
            assert_eq!(
                got != 0.0,
                *w != 0.0,
                "{case}: support differs at target {i}, term {j}: {got} vs PySINDy {w}"
            );
            let err = (got - w).abs() / if *w != 0.0 { w.abs() } else { scale };
            assert!(
                err <= 1e-8,
                "{case}: coef[{i}, {j}] = {got:e}, PySINDy {w:e}, rel err {err:e}"
            );
            worst = worst.max(err);
        }
        println!(
            "{case}: support matches PySINDy, worst rel err {worst:.1e}; warnings {:?}",
            fit.warnings
        );
    }
}

//! The RVM against an independent NumPy implementation on the raw data
//! (`tests/rvm/rvm_reference.py`): the same support, coefficients and posterior standard
//! deviations within 1e-6 relative (widths below 1e-6 of the coefficient count as zero).

mod common;

use medida_discovery::{Gram, Library, Rvm};
use ndarray::{Array1, Array2};

#[test]
fn rvm_matches_numpy_reference() {
    let (mut npz, cases) = common::reference("rvm_reference.npz", "coef");
    assert_eq!(cases.len(), 4, "{cases:?}");
    for case in cases {
        let x: Array2<f64> = npz.by_name(&format!("{case}/x.npy")).unwrap();
        let y: Array2<f64> = npz.by_name(&format!("{case}/y.npy")).unwrap();
        let want: Array1<f64> = npz.by_name(&format!("{case}/coef.npy")).unwrap();
        let want_std: Array1<f64> = npz.by_name(&format!("{case}/std.npy")).unwrap();
        let thr: ndarray::Array0<f64> =
            npz.by_name(&format!("{case}/threshold_alpha.npy")).unwrap();
        let gram = Gram::from_rows(x.view(), y.view());
        let fit = Rvm::default()
            .with_threshold(thr.into_scalar())
            .fit(&gram, &Library::numbered(x.ncols()), &["y"])
            .unwrap();
        let std = fit.std.as_ref().unwrap();
        let mut worst = 0.0f64;
        for j in 0..x.ncols() {
            let (got, w) = (fit.coef[[0, j]], want[j]);
            assert_eq!(
                got != 0.0,
                w != 0.0,
                "{case}: support differs at term {j}: {got} vs NumPy {w}"
            );
            if w != 0.0 {
                // A noise-free fit has a posterior width at round-off level (from the statistics,
                // |y - Xm|^2 cancels to ~1e-13 of y^T y, not to 1e-30): below 1e-6 |w| both
                // widths count as zero; above, they must agree to 1e-6.
                let floor = 1e-6 * w.abs();
                let e_std = if want_std[j] < floor {
                    if std[[0, j]] < floor {
                        0.0
                    } else {
                        f64::INFINITY
                    }
                } else {
                    ((std[[0, j]] - want_std[j]) / want_std[j]).abs()
                };
                let e = ((got - w) / w).abs().max(e_std);
                assert!(
                    e <= 1e-6,
                    "{case}: term {j}: coef {got:e} vs {w:e}, std {:e} vs {:e}",
                    std[[0, j]],
                    want_std[j]
                );
                worst = worst.max(e);
            }
        }
        println!(
            "{case}: support {:?} matches NumPy, worst rel err {worst:.1e}",
            fit.support(0)
        );
    }
}

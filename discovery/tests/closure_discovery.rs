//! Offline closure discovery end to end on forcing known exactly: a different linear closure in
//! each layer is found, its prediction reproduces the forcing, and it scores R^2 = 1 on held-out
//! runs while a closure of the wrong sign scores below zero.

use medida_discovery::Stlsq;
mod common;

use medida_discovery::closure::{ClosureDiscovery, ClosureLibrary, ForcingSet, predict};
use medida_discovery::regression::{Choice, Plan};
use medida_solver::{Model, QgParams};
use ndarray::{Array3, Axis};
use std::sync::Arc;

/// Per-layer coefficients of `q` in the forcing [s^-1].
const C: [f64; 2] = [3e-6, -2e-6];

/// Four runs of two random states each on a 16^2 model; forcing `C[lev] q_lev`, built by hand.
fn dataset(model: &Model) -> ForcingSet {
    let mut m = model.clone();
    ForcingSet(
        (0..4)
            .map(|run| {
                (0..2)
                    .map(|i| {
                        // pyqg's random state in the upper layer (its lower layer is zero),
                        // another one in the lower.
                        let layer = |m: &mut Model, seed| {
                            m.set_pyqg_random_q(seed);
                            m.q().index_axis(Axis(0), 0).to_owned()
                        };
                        let mut q = m.q();
                        let seed = 10 * run + i;
                        q.index_axis_mut(Axis(0), 0).assign(&layer(&mut m, seed));
                        q.index_axis_mut(Axis(0), 1)
                            .assign(&layer(&mut m, seed + 100));
                        let mut f = q.clone();
                        for (lev, mut layer) in f.axis_iter_mut(Axis(0)).enumerate() {
                            layer.mapv_inplace(|v| C[lev] * v);
                        }
                        (q, f)
                    })
                    .collect()
            })
            .collect(),
    )
}

#[test]
fn a_linear_closure_is_found_and_its_prediction_is_the_forcing() {
    let model = Model::new(QgParams {
        nx: 16,
        ny: 16,
        ..Default::default()
    })
    .unwrap();
    let data = dataset(&model);
    let library = ClosureLibrary::parse("q; lap(q); adv(q)").unwrap();
    let wrong = ClosureLibrary::parse("q").unwrap();
    let discovery = ClosureDiscovery {
        library: library.clone(),
        regression: Plan::new(Arc::new(Stlsq::default()), Choice::Threshold(0.05)),
        references: vec![("wrong sign".into(), wrong, [vec![-C[0]], vec![-C[1]]])],
    };
    let report = discovery.run(&data, &model, &[0, 1], &[2, 3]).unwrap();
    let coef = report.coefficients();
    let q = report.terms.iter().position(|t| t == "q").unwrap();
    for lev in 0..2 {
        // Least squares on consistent data: exact up to kappa eps, kappa of the RMS-scaled
        // columns is O(10) here.
        for (j, &c) in coef[lev].iter().enumerate() {
            let want = if j == q { C[lev] } else { 0.0 };
            assert!(
                (c - want).abs() <= 1e-12 * C[lev].abs(),
                "layer {lev} term {j}: {c}"
            );
        }
        assert!(
            1.0 - report.layers[lev].test.r2 < 1e-12,
            "{:?}",
            report.layers[lev].test
        );
        // The wrong sign: R^2 = 1 - |2 S|^2 / Var(S) ~ -3.
        assert!(report.references[0].test[lev].r2 < -2.0);
    }
    // The prediction on a held-out state is the forcing, layer by layer.
    let (state, forcing) = &data.0[3][1];
    let mut m = model.clone();
    m.set_q(state.view()).unwrap();
    let pred: Array3<f64> = predict(&library, &coef, &m).unwrap();
    let err = common::max_rel_err(&pred, forcing);
    assert!(err <= 1e-12, "{err:e}");
    // Coefficients of the wrong length are named.
    let short = [vec![1.0], vec![1.0]];
    assert!(
        predict(&library, &short, &m)
            .unwrap_err()
            .to_string()
            .contains("1 coefficients for 3 terms")
    );
}

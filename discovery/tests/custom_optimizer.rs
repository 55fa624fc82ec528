//! An optimizer written outside the crate, against the public [`SparseOptimizer`] trait only:
//! greedy forward selection (add the term that lowers the residual most while it lowers it by at
//! least `threshold` of the target's sum of squares), run through the threshold sweep with BIC,
//! the regression plan with cross-validation and a bagging ensemble, as STLSQ and the RVM are.

use medida_discovery::regression::{Choice, Plan, RowSink, log_grid};
use medida_discovery::{
    Criterion, DiscoveryError, Ensemble, Gram, GramBuilder, Library, SparseFit, SparseOptimizer,
    Sweep,
};
use ndarray::{Array2, Axis};
use rand_mt::Mt64;
use std::sync::Arc;

#[derive(Debug)]
struct Forward;

/// Least squares on the support `s` from the statistics: solves `X_S^T X_S w = X_S^T y` by
/// Gaussian elimination with partial pivoting; `None` when singular.
fn least_squares(gram: &Gram, s: &[usize], i: usize) -> Option<Vec<f64>> {
    let k = s.len();
    let mut a: Vec<Vec<f64>> = (0..k)
        .map(|r| {
            let mut row: Vec<f64> = s.iter().map(|&c| gram.xtx[[s[r], c]]).collect();
            row.push(gram.xty[[s[r], i]]);
            row
        })
        .collect();
    for c in 0..k {
        let p = (c..k).max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))?;
        a.swap(c, p);
        if a[c][c] == 0.0 {
            return None;
        }
        let (top, rest) = a.split_at_mut(c + 1);
        let pivot = &top[c];
        for row in rest {
            let f = row[c] / pivot[c];
            row[c..]
                .iter_mut()
                .zip(&pivot[c..])
                .for_each(|(x, p)| *x -= f * p);
        }
    }
    let mut w = vec![0.0; k];
    for r in (0..k).rev() {
        let sum: f64 = (r + 1..k).map(|j| a[r][j] * w[j]).sum();
        w[r] = (a[r][k] - sum) / a[r][r];
    }
    Some(w)
}

/// `|y - X_S w|^2` from the statistics.
fn residual(gram: &Gram, s: &[usize], w: &[f64], i: usize) -> f64 {
    let lin: f64 = s.iter().zip(w).map(|(&a, wa)| wa * gram.xty[[a, i]]).sum();
    let quad: f64 = s
        .iter()
        .zip(w)
        .flat_map(|(&a, wa)| {
            s.iter()
                .zip(w)
                .map(move |(&b, wb)| wa * gram.xtx[[a, b]] * wb)
        })
        .sum();
    gram.yty[i] - 2.0 * lin + quad
}

impl SparseOptimizer for Forward {
    fn fit_at(
        &self,
        threshold: f64,
        gram: &Gram,
        library: &Library,
        targets: &[&str],
    ) -> Result<SparseFit, DiscoveryError> {
        let p = library.len();
        let mut coef = Array2::zeros((targets.len(), p));
        for i in 0..targets.len() {
            let (mut support, mut w, mut rss) = (Vec::new(), Vec::new(), gram.yty[i]);
            loop {
                let best = (0..p)
                    .filter(|j| !support.contains(j))
                    .filter_map(|j| {
                        let mut s = support.clone();
                        s.push(j);
                        let wj = least_squares(gram, &s, i)?;
                        Some((residual(gram, &s, &wj, i), s, wj))
                    })
                    .min_by(|a, b| a.0.total_cmp(&b.0));
                match best {
                    Some((r, s, wj)) if rss - r >= threshold * gram.yty[i] => {
                        (rss, support, w) = (r, s, wj);
                    }
                    _ => break,
                }
            }
            for (&j, v) in support.iter().zip(&w) {
                coef[[i, j]] = *v;
            }
        }
        SparseFit::from_coef(
            "forward selection",
            library,
            targets,
            coef,
            &[threshold],
            gram,
        )
    }

    fn default_thresholds(&self) -> Vec<f64> {
        log_grid(-8.0, -1.0, 15)
    }
}

/// `y0 = 2 x1 - 0.5 x4`, `y1 = 3 x2`, with 1% noise, over 6 correlated Gaussian columns.
fn planted() -> (Array2<f64>, Array2<f64>) {
    let mut rng = Mt64::new(5);
    let mut normal = || {
        let u = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let v = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let n = 2000;
    let base = Array2::from_shape_fn((n, 6), |_| normal());
    let x = Array2::from_shape_fn((n, 6), |(i, j)| base[[i, j]] + 0.3 * base[[i, (j + 1) % 6]]);
    let y = Array2::from_shape_fn((n, 2), |(i, k)| match k {
        0 => 2.0 * x[[i, 1]] - 0.5 * x[[i, 4]] + 0.02 * normal(),
        _ => 3.0 * x[[i, 2]] + 0.03 * normal(),
    });
    (x, y)
}

#[test]
fn a_user_optimizer_runs_through_sweep_plan_and_ensemble() {
    let (x, y) = planted();
    let lib = Library::numbered(6);
    let mut b = GramBuilder::new(6, 2).block_rows(100).keep_blocks();
    b.push(x.view(), y.view()).unwrap();
    let (gram, blocks) = b.finish_with_blocks();
    let sel = Sweep::new(Forward)
        .run(&gram, &blocks, &lib, &["y0", "y1"], Criterion::Bic)
        .unwrap();
    assert_eq!(
        (sel.fit.support(0), sel.fit.support(1)),
        (vec![1, 4], vec![2])
    );
    assert_eq!(sel.path.len(), 15);
    assert!((sel.fit.coef[[0, 1]] - 2.0).abs() < 1e-3 && (sel.fit.coef[[1, 2]] - 3.0).abs() < 1e-3);
    assert!(
        sel.fit
            .method
            .starts_with("forward selection selected by BIC")
    );

    // The plan: 5-fold cross-validation and 20 bagged models, rows streamed in two chunks.
    let mut plan = Plan::new(
        Arc::new(Forward),
        Choice::Select(Criterion::Cv { folds: 5 }),
    );
    plan.block_rows = Some(100);
    plan.ensemble = Some(Ensemble {
        n_models: 20,
        seed: 1,
    });
    let out = plan
        .run(
            2000,
            6,
            2,
            &lib,
            &["y0", "y1"],
            |sink: &mut RowSink<DiscoveryError>| {
                for half in [0..1000, 1000..2000] {
                    sink.push(
                        x.slice_axis(Axis(0), half.clone().into()),
                        y.slice_axis(Axis(0), half.into()),
                    )?;
                }
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(out.fit.support(0), vec![1, 4]);
    let e = out.ensemble.unwrap();
    for (i, j) in [(0, 1), (0, 4), (1, 2)] {
        assert_eq!(e.inclusion[[i, j]], 1.0, "target {i}, term {j}");
    }
    assert_eq!(e.inclusion.sum(), 3.0, "no spurious term in any bag");
}

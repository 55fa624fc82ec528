//! Global ensemble Kalman filter analyses: the stochastic EnKF with perturbed observations
//! (Burgers et al. 1998; DAPPER's `EnKF('PertObs')`) and the ETKF (Bishop et al. 2001 in Hunt
//! et al.'s symmetric square-root form; DAPPER's `EnKF('Sqrt')`). Both update every state
//! variable from every observation; [`super::Letkf`] localises the ETKF.

use super::{Observed, center, transform};
use crate::error::DiscoveryError;
use crate::observe::normal;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand_mt::Mt64;

/// The stochastic EnKF analysis of `e` `(N, Nx)` in place: each member is updated with the
/// Kalman gain of the ensemble covariance towards its own perturbed observations
/// `y - D_i`, where `D` `(N, p)` are draws of the observation error, centred over the members
/// and scaled by `sqrt(N / (N - 1))` so their variance is unbiased (DAPPER's `mean0`). `rng`
/// draws them member by member, observation by observation.
pub fn perturbed_observations(
    e: &mut Array2<f64>,
    obs: &Observed,
    rng: &mut Mt64,
) -> Result<(), DiscoveryError> {
    obs.check(e.nrows())?;
    let m = perturbed_observation_weights(obs, rng)?;
    add_weighted_anomalies(e.view_mut(), &m);
    Ok(())
}

/// The weights `M` `(N, N)` of [`perturbed_observations`]' update `E <- E + M A` (`A` the state
/// anomalies), drawn and computed from the observed ensemble alone: the same for every column,
/// so an ensemble shared by columns among processes applies them to its own columns
/// ([`add_weighted_anomalies`]).
pub(crate) fn perturbed_observation_weights(
    obs: &Observed,
    rng: &mut Mt64,
) -> Result<Array2<f64>, DiscoveryError> {
    let (n, p) = obs.members.dim();
    obs.check(n)?;
    let sd = obs.variance.mapv(f64::sqrt);
    let draws = Array2::from_shape_fn((n, p), |(_, k)| sd[k] * normal(rng));
    let (_, mut d) = center(draws.view());
    d *= (n as f64 / (n - 1) as f64).sqrt();
    weights(obs, d.view())
}

/// `E <- E + M (E - mean(E))` on the columns of `e` (a member per row).
pub(crate) fn add_weighted_anomalies(mut e: ArrayViewMut2<f64>, m: &Array2<f64>) {
    let (_, a) = center(e.view());
    e += &m.dot(&a);
}

/// [`perturbed_observations`] with the perturbations `d` `(N, p)` given:
/// `E_i <- E_i + (y - d_i - H(x_i)) C^-1 Y^T A` with `A`, `Y` the state and observed anomalies
/// and `C = Y^T Y + (N - 1) R`, computed in ensemble space by the Woodbury identity
/// (`C^-1 Y^T = R'^-1 Y^T (I + Y R'^-1 Y^T)^-1` with `R' = (N - 1) R`), so its cost is
/// `O(N^2 p)` and not `O(p^3)`.
pub fn perturbed_observations_with(
    e: &mut Array2<f64>,
    obs: &Observed,
    d: ArrayView2<f64>,
) -> Result<(), DiscoveryError> {
    obs.check(e.nrows())?;
    let m = weights(obs, d)?;
    add_weighted_anomalies(e.view_mut(), &m);
    Ok(())
}

/// The perturbed-observation weights `M = (y - D - H(X)) C^-1 Y^T` of
/// [`perturbed_observations_with`], from checked observations.
fn weights(obs: &Observed, d: ArrayView2<f64>) -> Result<Array2<f64>, DiscoveryError> {
    let (n, p) = obs.members.dim();
    if d.dim() != (n, p) {
        return Err(DiscoveryError::Shape(format!(
            "observation perturbations {:?} for {n} members and {p} observations",
            d.dim()
        )));
    }
    let n1 = (n - 1) as f64;
    let (_, y_anom) = center(obs.members);
    // Y R'^-1, (N, p).
    let yr = &y_anom / &obs.variance.mapv(|v| v * n1);
    let s = yr.dot(&y_anom.t()); // Y R'^-1 Y^T, (N, N)
    let i_s = Mat::from_fn(n, n, |i, j| s[[i, j]] + if i == j { 1.0 } else { 0.0 });
    let innovation = &obs.y - &d - obs.members; // (N, p)
    let b = innovation.dot(&yr.t()); // Innov R'^-1 Y^T, (N, N)
    // M = B (I + S)^-1, so M^T = (I + S)^-1 B^T (I + S symmetric).
    let llt = i_s.llt(Side::Lower).map_err(|_| {
        DiscoveryError::Degenerate("the EnKF's I + Y R^-1 Y^T is not positive definite".into())
    })?;
    let mt = llt.solve(Mat::from_fn(n, n, |i, j| b[[j, i]]));
    Ok(Array2::from_shape_fn((n, n), |(i, j)| mt[(j, i)]))
}

/// The ETKF analysis of `e` `(N, Nx)` in place: the mean moves by the Kalman gain of the
/// ensemble covariance and the anomalies are transformed by the symmetric square root, so the
/// analysis covariance is `(I - K H) P` exactly and no observation is perturbed.
pub fn etkf(e: &mut Array2<f64>, obs: &Observed) -> Result<(), DiscoveryError> {
    obs.check(e.nrows())?;
    let (yn, dy) = obs.normalised();
    let w = transform::weights(yn.view(), dy.view())?;
    transform::apply(e.view_mut(), &w);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    /// A small linear-Gaussian problem: `Nx = 6` state, every second variable observed.
    fn problem(n: usize) -> (Array2<f64>, Array2<f64>, Array1<f64>, Array1<f64>) {
        let mut rng = Mt64::new(7);
        let e = Array2::from_shape_fn((n, 6), |(_, j)| j as f64 + normal(&mut rng));
        let h: Vec<usize> = vec![0, 2, 4];
        let eo = Array2::from_shape_fn((n, 3), |(i, k)| e[[i, h[k]]]);
        let y = Array1::from(vec![0.5, 1.5, 4.5]);
        let r = Array1::from(vec![0.3, 0.5, 0.8]);
        (e, eo, y, r)
    }

    /// The Kalman filter's mean and covariance of the ensemble's Gaussian (covariance `P` of
    /// the members, `N - 1`), through `p x p` solves: the reference of both analyses.
    fn kalman(e: &Array2<f64>, r: &Array1<f64>, y: &Array1<f64>) -> (Array1<f64>, Array2<f64>) {
        let h = [0, 2, 4];
        let (mu, a) = center(e.view());
        let pf = a.t().dot(&a) / (e.nrows() - 1) as f64;
        let hp = Array2::from_shape_fn((3, 6), |(k, j)| pf[[h[k], j]]);
        let s = Mat::from_fn(3, 3, |k, l| hp[[k, h[l]]] + if k == l { r[k] } else { 0.0 });
        let llt = s.llt(Side::Lower).unwrap();
        let sinv_hp = llt.solve(Mat::from_fn(3, 6, |k, j| hp[[k, j]]));
        let k = Array2::from_shape_fn((6, 3), |(j, k)| sinv_hp[(k, j)]); // K = P H^T S^-1
        let innov = Array1::from_shape_fn(3, |k| y[k] - mu[h[k]]);
        (&mu + &k.dot(&innov), &pf - &k.dot(&hp))
    }

    #[test]
    fn etkf_is_the_kalman_update_of_the_ensemble() {
        let (mut e, eo, y, r) = problem(8);
        let (mean, cov) = kalman(&e, &r, &y);
        let obs = Observed {
            members: eo.view(),
            y: y.view(),
            variance: r.view(),
        };
        etkf(&mut e, &obs).unwrap();
        let (mu, a) = center(e.view());
        let pa = a.t().dot(&a) / 7.0;
        // Both are O(1) and the problem is well conditioned: round-off only.
        assert!(
            (&mu - &mean).iter().all(|d| d.abs() < 1e-12),
            "{mu} vs {mean}"
        );
        assert!(
            (&pa - &cov).iter().all(|d| d.abs() < 1e-12),
            "{pa} vs {cov}"
        );
    }

    #[test]
    fn perturbed_observations_without_perturbations_moves_the_mean_by_the_kalman_gain() {
        let (mut e, eo, y, r) = problem(8);
        let (mean, _) = kalman(&e, &r, &y);
        let obs = Observed {
            members: eo.view(),
            y: y.view(),
            variance: r.view(),
        };
        perturbed_observations_with(&mut e, &obs, Array2::zeros((8, 3)).view()).unwrap();
        let (mu, _) = center(e.view());
        assert!(
            (&mu - &mean).iter().all(|d| d.abs() < 1e-12),
            "{mu} vs {mean}"
        );
    }

    #[test]
    fn perturbed_observations_are_seeded_and_centred() {
        let (e0, eo, y, r) = problem(8);
        let obs = Observed {
            members: eo.view(),
            y: y.view(),
            variance: r.view(),
        };
        let run = |seed| {
            let mut e = e0.clone();
            perturbed_observations(&mut e, &obs, &mut Mt64::new(seed)).unwrap();
            e
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
        // Centred perturbations leave the mean where the unperturbed update puts it.
        let (mean, _) = kalman(&e0, &r, &y);
        let (mu, _) = center(run(3).view());
        assert!((&mu - &mean).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn bad_observations_are_errors() {
        let (mut e, eo, y, _) = problem(8);
        let r = Array1::from(vec![0.3, 0.0, 0.8]);
        let obs = Observed {
            members: eo.view(),
            y: y.view(),
            variance: r.view(),
        };
        let msg = etkf(&mut e, &obs).unwrap_err().to_string();
        assert!(
            msg.contains("observation error variance") && msg.contains("> 0"),
            "{msg}"
        );
        let short = Array1::from(vec![0.3]);
        let obs = Observed {
            variance: short.view(),
            ..obs
        };
        assert!(matches!(etkf(&mut e, &obs), Err(DiscoveryError::Shape(_))));
    }
}

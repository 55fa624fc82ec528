//! medida's ensemble filters against DAPPER 1.7.1 (tests/data/dapper_enkf.npz, written by
//! tests/dapper/make_reference.py): the same analysis from the same inputs, and the same
//! time-averaged analysis RMSE on DAPPER's standard Lorenz-96 benchmark (Sakov and Oke 2008).
//! The Lorenz-96 model lives here, in the test, not in medida's API.

mod common;

use medida_discovery::assimilate::{
    Inflation, Letkf, Localization, Observed, PeriodicGrid, etkf, perturbed_observations,
    perturbed_observations_with,
};
use medida_discovery::observe::normal;
use ndarray::{Array0, Array1, Array2, Axis};
use rand_mt::Mt64;

fn npz() -> ndarray_npy::NpzReader<std::fs::File> {
    common::reference("dapper_enkf.npz", "rmse").0
}

fn scalar(npz: &mut ndarray_npy::NpzReader<std::fs::File>, name: &str) -> f64 {
    let a: Array0<f64> = npz.by_name(name).unwrap();
    a.into_scalar()
}

/// The observation-space pieces of the reference analysis.
struct Inputs {
    e: Array2<f64>,
    eo: Array2<f64>,
    y: Array1<f64>,
    r: Array1<f64>,
    stations: Vec<[f64; 2]>,
}

fn inputs(npz: &mut ndarray_npy::NpzReader<std::fs::File>) -> Inputs {
    let e: Array2<f64> = npz.by_name("analysis/E").unwrap();
    let inds: Array1<f64> = npz.by_name("analysis/obs_inds").unwrap();
    let inds: Vec<usize> = inds.iter().map(|&i| i as usize).collect();
    Inputs {
        eo: e.select(Axis(1), &inds),
        e,
        y: npz.by_name("analysis/y").unwrap(),
        r: npz.by_name("analysis/R").unwrap(),
        stations: inds.iter().map(|&i| [0.0, i as f64]).collect(),
    }
}

fn assert_close(name: &str, ours: &Array2<f64>, dapper: &Array2<f64>) {
    let scale = dapper.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let diff = (ours - dapper).iter().fold(0.0f64, |m, d| m.max(d.abs())) / scale;
    println!("{name}: largest difference from DAPPER {diff:.1e} of the largest value");
    // 10 x 10 eigenproblems and solves of well-conditioned matrices: round-off.
    assert!(diff < 1e-12, "{name}: {diff:e}");
}

#[test]
fn one_analysis_equals_dappers() {
    let mut npz = npz();
    let inp = inputs(&mut npz);
    let obs = Observed {
        members: inp.eo.view(),
        y: inp.y.view(),
        variance: inp.r.view(),
    };
    let d: Array2<f64> = npz.by_name("analysis/D").unwrap();
    let mut e = inp.e.clone();
    perturbed_observations_with(&mut e, &obs, d.view()).unwrap();
    assert_close(
        "EnKF PertObs",
        &e,
        &npz.by_name("analysis/pertobs").unwrap(),
    );
    let mut e = inp.e.clone();
    etkf(&mut e, &obs).unwrap();
    assert_close(
        "EnKF Sqrt (ETKF)",
        &e,
        &npz.by_name("analysis/sqrt").unwrap(),
    );
    let grid = PeriodicGrid {
        levels: 1,
        ny: 1,
        nx: 40,
    };
    let loc = Localization {
        batch: (1, 2),
        ..Localization::isotropic(4.0)
    };
    let mut e = inp.e.clone();
    Letkf::new(grid, loc)
        .unwrap()
        .analyse(&mut e, &obs, &inp.stations)
        .unwrap();
    assert_close("LETKF", &e, &npz.by_name("analysis/letkf").unwrap());
}

/// Lorenz (1996) with 40 variables and forcing 8 (DAPPER's `mods.Lorenz96`).
fn lorenz96(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|i| (x[(i + 1) % n] - x[(i + n - 2) % n]) * x[(i + n - 1) % n] - x[i] + 8.0)
        .collect()
}

/// One classic RK4 step of `dt`.
fn rk4(x: &mut [f64], dt: f64) {
    let shifted = |x: &[f64], k: &[f64], h: f64| -> Vec<f64> {
        x.iter().zip(k).map(|(x, k)| x + h * k).collect()
    };
    let k1 = lorenz96(x);
    let k2 = lorenz96(&shifted(x, &k1, dt / 2.0));
    let k3 = lorenz96(&shifted(x, &k2, dt / 2.0));
    let k4 = lorenz96(&shifted(x, &k3, dt));
    for i in 0..x.len() {
        x[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
}

#[derive(Clone, Copy, Debug)]
enum Filter {
    PerturbedObservations,
    Etkf,
    Letkf(f64),
}

/// The twin experiment of DAPPER's `sakov2008`: truth and members from `e_0` plus noise of
/// variance 0.001, every variable observed every step (dt = 0.05) with unit noise, the
/// analysis then the multiplicative inflation; the analysis RMSE of the ensemble mean averaged
/// over the analyses after the burn-in. medida's own random draws throughout.
fn benchmark(filter: Filter, members: usize, inflation: f64, cycles: usize, burn_in: f64) -> f64 {
    const NX: usize = 40;
    const DT: f64 = 0.05;
    let mut rng = Mt64::new(2026);
    let start = |rng: &mut Mt64| -> Vec<f64> {
        (0..NX)
            .map(|i| f64::from(u8::from(i == 0)) + 0.001f64.sqrt() * normal(rng))
            .collect()
    };
    let mut truth = start(&mut rng);
    let mut e = Array2::from_shape_fn((members, NX), |_| 0.0);
    for mut row in e.rows_mut() {
        row.assign(&Array1::from(start(&mut rng)));
    }
    let grid = PeriodicGrid {
        levels: 1,
        ny: 1,
        nx: NX,
    };
    let stations: Vec<[f64; 2]> = (0..NX).map(|i| [0.0, i as f64]).collect();
    let infl = Inflation {
        factor: inflation,
        ..Default::default()
    };
    let variance = Array1::ones(NX);
    let (mut sum, mut count) = (0.0, 0);
    for k in 1..=cycles {
        rk4(&mut truth, DT);
        for mut row in e.rows_mut() {
            rk4(row.as_slice_mut().unwrap(), DT);
        }
        let y = Array1::from_iter(truth.iter().map(|x| x + normal(&mut rng)));
        let forecast = e.clone();
        let obs = Observed {
            members: forecast.view(),
            y: y.view(),
            variance: variance.view(),
        };
        match filter {
            Filter::PerturbedObservations => perturbed_observations(&mut e, &obs, &mut rng),
            Filter::Etkf => etkf(&mut e, &obs),
            Filter::Letkf(radius) => Letkf::new(
                grid,
                Localization {
                    batch: (1, 2),
                    ..Localization::isotropic(radius)
                },
            )
            .unwrap()
            .analyse(&mut e, &obs, &stations),
        }
        .unwrap();
        infl.apply(&mut e, forecast.view());
        if k as f64 * DT > burn_in {
            let mean = e.mean_axis(Axis(0)).unwrap();
            let mse = mean
                .iter()
                .zip(&truth)
                .map(|(m, x)| (m - x).powi(2))
                .sum::<f64>()
                / NX as f64;
            sum += mse.sqrt();
            count += 1;
        }
    }
    sum / count as f64
}

#[test]
fn lorenz96_benchmark_scores_equal_dappers() {
    let mut npz = npz();
    let (ko, burn_in) = (scalar(&mut npz, "l96/Ko"), scalar(&mut npz, "l96/burn_in"));
    for (name, filter) in [
        ("pertobs", Filter::PerturbedObservations),
        ("sqrt", Filter::Etkf),
        ("letkf", Filter::Letkf(f64::NAN)),
    ] {
        let settings: Array1<f64> = npz.by_name(&format!("l96/{name}/settings")).unwrap();
        let (members, inflation, radius) = (settings[0] as usize, settings[1], settings[2]);
        let filter = match filter {
            Filter::Letkf(_) => Filter::Letkf(radius),
            f => f,
        };
        let dapper = scalar(&mut npz, &format!("l96/{name}/rmse"));
        let se = scalar(&mut npz, &format!("l96/{name}/se"));
        // DAPPER observes at steps 1..=Ko+1.
        let ours = benchmark(filter, members, inflation, ko as usize + 1, burn_in);
        println!(
            "{filter:?} N={members} infl={inflation}: rmse.a {ours:.4} (DAPPER {dapper:.4} +- {se:.4})"
        );
        // Independent random draws: each time mean has a standard error of about 0.7%, so two
        // runs of the same filter differ by about 1%; 5% is the bar.
        assert!(
            (ours / dapper - 1.0).abs() < 0.05,
            "{name}: {ours} vs DAPPER {dapper}"
        );
    }
}

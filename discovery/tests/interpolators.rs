//! Interpolators on analytic fields: each reaches the accuracy its method should on a smooth
//! field from a quarter of the points (spectral-oi and rff-ridge: round-off, since the prior or the
//! features span the field's modes; the networks: what 3,000 single-precision Adam steps reach),
//! and the plain MLP shows spectral bias where the RFF network does not.

use medida_discovery::observe::{
    Cubic, Interpolator, Kernel, Network, ObservationSpec, Rbf, RffRidge, SpectralOi,
    error_spectrum, relative_error,
};
use medida_solver::Grid;

/// `sum a cos(2 pi (k x / Lx + l y / Ly) + phase)` over the given modes.
fn field(grid: &Grid, modes: &[(f64, f64, f64, f64)]) -> Vec<f64> {
    let tau = std::f64::consts::TAU;
    let (x, y) = (grid.x(), grid.y());
    y.iter()
        .flat_map(|&y| {
            x.iter().map(move |&x| {
                modes
                    .iter()
                    .map(|(k, l, a, ph)| a * (tau * (k * x / grid.lx + l * y / grid.ly) + ph).cos())
                    .sum()
            })
        })
        .collect()
}

/// An `n x n` unit-square grid, the field of `modes` on it, and its stations and observations
/// by the observation `spec`.
struct Observed {
    grid: Grid,
    f: Vec<f64>,
    st: Vec<usize>,
    y: Vec<f64>,
}

fn observed(n: usize, modes: &[(f64, f64, f64, f64)], spec: &str) -> Observed {
    let grid = Grid::new(n, n, 1.0, 1.0).unwrap();
    let f = field(&grid, modes);
    let spec = ObservationSpec::parse(spec).unwrap();
    let st = spec.stations(grid.n_phys(), 0);
    let y = spec.observe(&f, &st, 0, 0);
    Observed { grid, f, st, y }
}

fn smooth_modes() -> Vec<(f64, f64, f64, f64)> {
    vec![
        (1.0, 0.0, 1.0, 0.3),
        (2.0, 1.0, 0.5, 1.1),
        (0.0, 3.0, 0.3, 2.0),
        (3.0, -2.0, 0.2, 0.7),
    ]
}

/// Large scales plus as much energy at 11-12 cycles per domain (the top third of a 32-point
/// grid's wavenumbers).
fn rough_modes() -> Vec<(f64, f64, f64, f64)> {
    vec![
        (1.0, 0.0, 1.0, 0.3),
        (1.0, 2.0, 0.7, 1.3),
        (0.0, 2.0, 0.6, 2.2),
        (11.0, 3.0, 0.6, 0.5),
        (-4.0, 11.0, 0.6, 1.9),
        (12.0, -1.0, 0.6, 2.8),
    ]
}

#[test]
fn each_interpolator_reproduces_a_smooth_field_from_a_quarter_of_the_points() {
    let Observed { grid, f, st, y } = observed(32, &smooth_modes(), "fraction=0.25,seed=5");
    let shifted: Vec<Vec<f64>> = (1..4)
        .map(|s| {
            let modes: Vec<_> = smooth_modes()
                .iter()
                .map(|(k, l, a, p)| (*k, *l, *a, p + s as f64))
                .collect();
            field(&grid, &modes)
        })
        .collect();
    let methods: Vec<(Box<dyn Interpolator>, f64)> = vec![
        (
            Box::new(SpectralOi::from_samples(&grid, &shifted, 0.0).unwrap()),
            1e-6,
        ),
        (Box::new(RffRidge::new(&grid, 200, 3.0, 1e-10, 1)), 1e-6),
        (Box::new(Rbf::new(&grid, Kernel::ThinPlate)), 5e-2),
        (Box::new(Cubic::new(&grid, 8)), 5e-2),
        (
            Box::new(Network::new(&grid, Some((128, 1.5)), 128, 2, 3000, 1e-3, 1)),
            2e-2,
        ),
        (
            // a quarter of the stations per step: measured 1.6e-2
            Box::new(Network::new(&grid, Some((128, 1.5)), 128, 2, 3000, 1e-3, 1).with_batch(64)),
            3e-2,
        ),
        (
            Box::new(Network::new(&grid, None, 128, 2, 3000, 1e-3, 1)),
            1.5e-1,
        ),
    ];
    for (m, tol) in methods {
        let e = relative_error(&f, &m.interpolate(&st, &y).unwrap());
        println!("{}: {e:.2e}", m.name());
        assert!(e < tol, "{}: {e:e} (allowed {tol:e})", m.name());
    }
}

#[test]
fn mini_batch_training_repeats_with_the_seed() {
    let Observed { grid, st, y, .. } = observed(16, &smooth_modes(), "fraction=0.5,seed=3");
    let run = |seed| {
        Network::new(&grid, Some((32, 1.5)), 16, 1, 50, 1e-2, seed)
            .with_batch(20)
            .interpolate(&st, &y)
            .unwrap()
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4), run(5));
}

#[test]
fn the_plain_mlp_misses_small_scales_and_the_rff_network_does_not() {
    let Observed { grid, f, st, y } = observed(32, &rough_modes(), "fraction=0.75,seed=2");
    let top_third = |est: &[f64]| {
        let (k, e, t) = error_spectrum(&grid, &f, est);
        let kmax = k.last().copied().unwrap();
        let sel = |v: &[f64]| -> f64 {
            k.iter()
                .zip(v)
                .filter(|(k, v)| **k > 2.0 * kmax / 3.0 && v.is_finite())
                .map(|(_, v)| v)
                .sum()
        };
        (sel(&e), sel(&t))
    };
    // The same optimiser, width and training for both; only the input layer differs.
    let mlp = Network::new(&grid, None, 128, 2, 3000, 1e-3, 1)
        .interpolate(&st, &y)
        .unwrap();
    let rff = Network::new(&grid, Some((256, 3.0)), 128, 2, 3000, 1e-3, 1)
        .interpolate(&st, &y)
        .unwrap();
    let ((em, t), (er, _)) = (top_third(&mlp), top_third(&rff));
    println!(
        "top third of wavenumbers: truth {t:.3e}, mlp error {em:.3e}, rff-mlp error {er:.3e}; overall mlp {:.2e}, rff {:.2e}",
        relative_error(&f, &mlp),
        relative_error(&f, &rff)
    );
    assert!(em > 10.0 * er, "mlp {em:e} vs rff-mlp {er:e}");
    assert!(
        em > 0.3 * t,
        "the plain MLP should miss most of the small-scale energy: {em:e} of {t:e}"
    );
}

/// Root-mean-square misfit of `est` at the stations.
fn station_misfit(st: &[usize], y: &[f64], est: &[f64]) -> f64 {
    let s: f64 = st.iter().zip(y).map(|(&i, v)| (est[i] - v).powi(2)).sum();
    (s / st.len() as f64).sqrt()
}

#[test]
fn the_refitted_output_layer_fits_the_stations_at_least_as_well_as_adams() {
    let Observed { grid, st, y, .. } = observed(32, &rough_modes(), "fraction=0.5,seed=4");
    let net = |refit| {
        let mut n = Network::new(&grid, Some((64, 3.0)), 32, 2, 300, 3e-3, 2).with_batch(128);
        n.refit = refit;
        n.interpolate(&st, &y).unwrap()
    };
    // The same training (seeded), then the least-squares output layer over the same hidden
    // outputs: its misfit cannot exceed Adam's but for the ridge (1e-12 of the mean diagonal)
    // and the hidden outputs' single-precision rounding (1e-7 relative).
    let (adam, refit) = (
        station_misfit(&st, &y, &net(None)),
        station_misfit(&st, &y, &net(Some(1e-12))),
    );
    println!("station misfit: Adam's output layer {adam:.3e}, refitted {refit:.3e}");
    assert!(refit <= adam * (1.0 + 1e-5), "{refit:e} > {adam:e}");
}

#[test]
fn a_warm_start_begins_where_the_previous_field_left_off() {
    let modes = smooth_modes();
    let Observed { grid, f, st, y } = observed(32, &modes, "fraction=0.5,seed=6");
    // The next snapshot: every phase moved by 0.05 radians.
    let moved: Vec<_> = modes
        .iter()
        .map(|(k, l, a, p)| (*k, *l, *a, p + 0.05))
        .collect();
    let f2 = field(&grid, &moved);
    let y2: Vec<f64> = st.iter().map(|&i| f2[i]).collect();
    let make = |warm| {
        let mut n = Network::new(&grid, Some((64, 1.5)), 64, 2, 1000, 3e-3, 3).with_batch(128);
        (n.cosine, n.warm) = (true, warm);
        n
    };
    let (cold, warm) = (make(None), make(Some(40)));
    let first = warm.interpolate(&st, &y).unwrap();
    // The first field is trained from the seed's weights as without warm starts.
    assert_eq!(first, cold.interpolate(&st, &y).unwrap());
    // A clone keeps the settings, not the trained weights.
    assert_eq!(warm.clone().interpolate(&st, &y).unwrap(), first);
    let short_cold = make(None);
    let e_warm = relative_error(&f2, &warm.interpolate(&st, &y2).unwrap());
    let e_cold = {
        let mut n = short_cold;
        n.steps = 40;
        relative_error(&f2, &n.interpolate(&st, &y2).unwrap())
    };
    let e_stale = relative_error(&f2, &first);
    println!(
        "first field {:.2e}; next field: the first's analysis {e_stale:.2e}, 40 steps warm \
         {e_warm:.2e}, cold {e_cold:.2e}",
        relative_error(&f, &first)
    );
    // 40 steps from random weights do not fit the field; from the previous field's weights
    // they improve on the previous analysis.
    assert!(
        e_warm < 0.7 * e_stale,
        "warm {e_warm:e} vs stale {e_stale:e}"
    );
    assert!(e_cold > 2.0 * e_warm, "cold {e_cold:e} vs warm {e_warm:e}");
}

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

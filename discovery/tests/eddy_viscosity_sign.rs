//! The sign of the eddy-viscosity closures, the defect the SMARL study's released code had (its
//! explicit Smagorinsky term was anti-dissipative for positive coefficients): a positive
//! constant must remove what the closure is built to remove, in every layer, and Leith's negative
//! constant must add it.
//!
//! Per layer, from the closure's own tendency `T` (the model's dq/dt with the closure minus
//! without): the PV-enstrophy tendency `<q T>` and the energy tendency `-<psi T>`. Two are
//! identities, asserted on any state (white noise in both layers and a turbulent 32 x 32 eddy
//! state, `tests/data/closure_baselines.npz`):
//! - Leith and the SMARL study's Smagorinsky, `T = div(nu grad q)`: `<q T> = -<nu |grad q|^2> < 0`;
//! - Smagorinsky, `T = curl(du, dv)` of a viscous stress: `-<psi T> = <u du + v dv> =
//!   -2 <nu (Sxx^2 + 2 Sxy^2 + Syy^2)> < 0` (pyqg's form removes kinetic energy).
//!
//! The rest are facts of a turbulent state, asserted on it: every closure removes PV enstrophy
//! and energy in both layers there (on a random state the stretching part of q need not follow:
//! Smagorinsky raises the lower layer's `<q^2>` of pyqg's random initial state).

mod common;

use medida_discovery::closure::{Baseline, FieldClosure};
use medida_solver::{Expr, Model, QgParams, Term};
use ndarray::{Array3, Axis};

fn params() -> QgParams {
    QgParams {
        nx: 32,
        ny: 32,
        dt: 3600.0,
        ..Default::default()
    }
}

/// Per layer, `<q T>` and `-<psi T>` of the closure's tendency `T` on state `q`.
fn tendencies(spec: &str, q: &Array3<f64>) -> [[f64; 2]; 2] {
    let p = params();
    tendencies_of(Baseline::parse(spec).unwrap().terms(&p), None, q)
}

/// The same for `terms`, with coefficient fields `c` per layer when given.
fn tendencies_of(terms: Vec<Term>, c: Option<[Vec<f64>; 2]>, q: &Array3<f64>) -> [[f64; 2]; 2] {
    let (added, psi) = tendency(params(), terms, c, q);
    let mean = |a: &Array3<f64>, lev: usize, sign: f64| {
        let (t, f) = (added.index_axis(Axis(0), lev), a.index_axis(Axis(0), lev));
        sign * t.iter().zip(f).map(|(t, f)| t * f).sum::<f64>() / f.len() as f64
    };
    [
        [0, 1].map(|lev| mean(q, lev, 1.0)),
        [0, 1].map(|lev| mean(&psi, lev, -1.0)),
    ]
}

/// The tendency `terms` add to dq/dt on state `q` of a model with parameters `p` (coefficient
/// fields `c` when given), and the state's `psi`.
fn tendency(
    p: QgParams,
    terms: Vec<Term>,
    c: Option<[Vec<f64>; 2]>,
    q: &Array3<f64>,
) -> (Array3<f64>, Array3<f64>) {
    let mut bare = Model::new(p).unwrap();
    let mut with = bare.clone();
    for t in terms {
        with.add_term(t).unwrap();
    }
    if let Some(c) = c {
        for (lev, f) in c.into_iter().enumerate() {
            with.set_coefficient_field(lev, Some(f)).unwrap();
        }
    }
    bare.set_q(q.view()).unwrap();
    with.set_q(q.view()).unwrap();
    let [psi, _, _] = bare.p_u_v();
    (with.dqdt() - bare.dqdt(), psi)
}

#[test]
fn positive_constants_remove_enstrophy_and_energy() {
    let (mut npz, _) = common::reference("closure_baselines.npz", "q0");
    let turbulent: Array3<f64> = npz.by_name("q0.npy").unwrap();
    let mut rng = rand_mt::Mt64::new(7);
    let random = Array3::from_shape_fn((2, 32, 32), |_| {
        1e-6 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
    });
    for (state, q) in [("turbulent", &turbulent), ("random", &random)] {
        for spec in [
            "smagorinsky:cs=0.15",
            "smagorinsky-mean:cs=0.15",
            "leith:cl=0.5",
            "backscatter:cs=0.1,cb=0",
        ] {
            let [ens, energy] = tendencies(spec, q);
            println!("{state} {spec}: d<q^2/2>/dt {ens:?}, dE/dt {energy:?}");
            for lev in 0..2 {
                let at = format!("{state} state, {spec}, layer {}", lev + 1);
                if state == "turbulent" || spec.starts_with("leith") || spec.contains("-mean") {
                    assert!(ens[lev] < 0.0, "{at}: enstrophy tendency {}", ens[lev]);
                }
                if state == "turbulent" || spec.starts_with("smagorinsky:") {
                    assert!(energy[lev] < 0.0, "{at}: energy tendency {}", energy[lev]);
                }
            }
        }
        // Leith's coefficient is cubic in cl, odd: its negative adds enstrophy.
        let [ens, _] = tendencies("leith:cl=-0.5", q);
        assert!(
            ens.iter().all(|e| *e > 0.0),
            "{state}: leith:cl=-0.5 {ens:?}"
        );
    }
}

/// The closures with a coefficient field (what the reinforcement-learning agents set): any
/// non-negative field keeps the identities, Smagorinsky's removes energy and Leith's enstrophy in
/// every layer of any state, and their uniform field `cs^2` (`cl^3`) is the built-in closure.
#[test]
fn non_negative_coefficient_fields_keep_the_sign() {
    let (mut npz, _) = common::reference("closure_baselines.npz", "q0");
    let turbulent: Array3<f64> = npz.by_name("q0.npy").unwrap();
    let mut rng = rand_mt::Mt64::new(5);
    let mut uniform = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let random = Array3::from_shape_fn((2, 32, 32), |_| 1e-6 * (uniform() - 0.5));
    // Patchy fields: mostly small, a few large, some exactly 0.
    let field: [Vec<f64>; 2] = std::array::from_fn(|_| {
        (0..32 * 32)
            .map(|_| (0.1 * (uniform() - 0.3)).max(0.0).powi(2))
            .collect()
    });
    let p = params();
    for (state, q) in [("turbulent", &turbulent), ("random", &random)] {
        let [_, energy] =
            tendencies_of(FieldClosure::Smagorinsky.terms(&p), Some(field.clone()), q);
        let [ens, _] = tendencies_of(FieldClosure::Leith.terms(&p), Some(field.clone()), q);
        let [ens_mean, _] = tendencies_of(
            FieldClosure::SmagorinskyMean.terms(&p),
            Some(field.clone()),
            q,
        );
        for lev in 0..2 {
            assert!(
                ens_mean[lev] < 0.0,
                "{state}: smagorinsky-mean field, layer {}: {}",
                lev + 1,
                ens_mean[lev]
            );
            assert!(
                energy[lev] < 0.0,
                "{state}: smagorinsky field, layer {}: {}",
                lev + 1,
                energy[lev]
            );
            assert!(
                ens[lev] < 0.0,
                "{state}: leith field, layer {}: {}",
                lev + 1,
                ens[lev]
            );
        }
        for (closure, constant, spec) in [
            (FieldClosure::Smagorinsky, 0.15, "smagorinsky:cs=0.15"),
            (
                FieldClosure::SmagorinskyMean,
                0.15,
                "smagorinsky-mean:cs=0.15",
            ),
            (FieldClosure::Leith, 0.5, "leith:cl=0.5"),
            (
                FieldClosure::Backscatter { cs: 0.1 },
                0.6,
                "backscatter:cs=0.1,cb=0.6",
            ),
        ] {
            let c = closure.coefficient_of(constant);
            let uniform_field =
                tendencies_of(closure.terms(&p), Some([vec![c; 1024], vec![c; 1024]]), q);
            let builtin = tendencies(spec, q);
            for (a, b) in uniform_field.iter().flatten().zip(builtin.iter().flatten()) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs(),
                    "{state} {spec}: {a} vs {b}"
                );
            }
            assert_eq!(closure.baseline(c), Baseline::parse(spec).unwrap());
        }
    }
}

/// The backscatter with a coefficient field in place of `cb` (what the agents set when the
/// backscatter is what the spectrum asks for): a uniform field `c` returns exactly the fraction
/// `c` of the energy its dissipation removes, summed over the layers by their depths
/// (`sum_n H_n <psi_n B_n> = -c sum_n H_n <psi_n D_n>`), so the closure's net energy tendency is
/// `(1 - c)` times the dissipation's; an identity, to round-off, on any state. Only the
/// dissipation's `cs` may be given.
#[test]
fn a_uniform_backscatter_field_returns_its_fraction_of_the_dissipated_energy() {
    let (mut npz, _) = common::reference("closure_baselines.npz", "q0");
    let turbulent: Array3<f64> = npz.by_name("q0.npy").unwrap();
    let p = params();
    let [h1, h2] = p.hi();
    let closure = FieldClosure::parse("backscatter:cs=0.1").unwrap();
    assert_eq!(closure, FieldClosure::Backscatter { cs: 0.1 });
    let [_, dissipated] = tendencies("backscatter:cs=0.1,cb=0", &turbulent);
    let dissipated = h1 * dissipated[0] + h2 * dissipated[1];
    assert!(
        dissipated < 0.0,
        "the dissipation removes energy: {dissipated}"
    );
    for c in [0.0, 0.6, 1.0, 1.4] {
        let [_, net] = tendencies_of(
            closure.terms(&p),
            Some([vec![c; 1024], vec![c; 1024]]),
            &turbulent,
        );
        let net = h1 * net[0] + h2 * net[1];
        let want = (1.0 - c) * dissipated;
        assert!(
            (net - want).abs() <= 1e-10 * dissipated.abs(),
            "c = {c}: net energy tendency {net}, want {want}"
        );
    }
    for bad in ["backscatter:cb=0.8", "backscatter:cs=-1", "leith:cl=0.2"] {
        let msg = FieldClosure::parse(bad).unwrap_err().to_string();
        assert!(msg.contains(bad), "{bad}: {msg}");
    }
}

/// The SMARL study's Smagorinsky is a uniform viscosity: on 2-D turbulence (`rd` infinite, so
/// `q = zeta = lap(psi)` in each layer) its tendency is `nu lap(q)` with `nu = (cs dx)^2
/// sqrt(<|S|^2>)`, and for a non-divergent periodic flow `<|S|^2> = <zeta^2>`, so `nu = (cs dx)^2
/// q_rms` of the layer: an identity, to round-off.
#[test]
fn the_studys_smagorinsky_is_the_uniform_viscosity_of_the_mean_strain() {
    let p = QgParams {
        nx: 32,
        ny: 32,
        L: std::f64::consts::TAU,
        W: std::f64::consts::TAU,
        rd: f64::INFINITY,
        delta: 1.0,
        H1: 1.0,
        dt: 5e-4,
        ..Default::default()
    };
    // Random waves well inside the grid's resolved band (the Nyquist modes have no derivative).
    let mut rng = rand_mt::Mt64::new(11);
    let mut uniform = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let waves: Vec<[f64; 5]> = (0..24)
        .map(|i| {
            let k = (uniform() * 11.0).floor() - 5.0;
            let l = (uniform() * 11.0).floor() - 5.0;
            [
                (i % 2) as f64,
                k,
                l,
                uniform() - 0.5,
                std::f64::consts::TAU * uniform(),
            ]
        })
        .collect();
    let dx = p.L / p.nx as f64;
    let q = Array3::from_shape_fn((2, 32, 32), |(lev, j, i)| {
        let (x, y) = (i as f64 * dx, j as f64 * dx);
        waves
            .iter()
            .filter(|w| w[0] == lev as f64)
            .map(|[_, k, l, a, phase]| a * (k * x + l * y + phase).cos())
            .sum()
    });
    let cs = 0.17;
    let closure = Baseline::parse(&format!("smagorinsky-mean:cs={cs}"))
        .unwrap()
        .terms(&p);
    let lap = Term::new(
        "lap",
        1.0,
        [0, 1].map(|lev| vec![(1.0, Expr::parse("lap(q)").unwrap().in_layer(lev))]),
    );
    let (t, _) = tendency(p.clone(), closure, None, &q);
    let (lap_q, _) = tendency(p.clone(), vec![lap], None, &q);
    for lev in 0..2 {
        let (t, l, ql) = (
            t.index_axis(Axis(0), lev),
            lap_q.index_axis(Axis(0), lev),
            q.index_axis(Axis(0), lev),
        );
        // q's mean is removed by the inversion (the k = 0 mode): its rms about the mean.
        let mean = ql.mean().unwrap();
        let q_rms = (ql.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / ql.len() as f64).sqrt();
        let nu = (cs * dx).powi(2) * q_rms;
        let scale = t.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in t.iter().zip(l) {
            assert!(
                (a - nu * b).abs() <= 1e-10 * scale,
                "layer {}: {a} vs nu lap q = {}",
                lev + 1,
                nu * b
            );
        }
    }
}

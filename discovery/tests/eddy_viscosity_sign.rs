//! The sign of the eddy-viscosity closures, the defect the SMARL study's released code had (its
//! explicit Smagorinsky term was anti-dissipative for positive coefficients): a positive
//! constant must remove what the closure is built to remove, in every layer, and Leith's negative
//! constant must add it.
//!
//! Per layer, from the closure's own tendency `T` (the model's dq/dt with the closure minus
//! without): the PV-enstrophy tendency `<q T>` and the energy tendency `-<psi T>`. Two are
//! identities, asserted on any state (white noise in both layers and a turbulent 32 x 32 eddy
//! state, `tests/data/closure_baselines.npz`):
//! - Leith, `T = div(nu grad q)`: `<q T> = -<nu |grad q|^2> < 0`;
//! - Smagorinsky, `T = curl(du, dv)` of a viscous stress: `-<psi T> = <u du + v dv> =
//!   -2 <nu (Sxx^2 + 2 Sxy^2 + Syy^2)> < 0` (pyqg's form removes kinetic energy).
//!
//! The rest are facts of a turbulent state, asserted on it: every closure removes PV enstrophy
//! and energy in both layers there (on a random state the stretching part of q need not follow:
//! Smagorinsky raises the lower layer's `<q^2>` of pyqg's random initial state).

mod common;

use medida_discovery::closure::Baseline;
use medida_solver::{Model, QgParams};
use ndarray::{Array3, Axis};

/// Per layer, `<q T>` and `-<psi T>` of the closure's tendency `T` on state `q`.
fn tendencies(spec: &str, q: &Array3<f64>) -> [[f64; 2]; 2] {
    let p = QgParams {
        nx: 32,
        ny: 32,
        dt: 3600.0,
        ..Default::default()
    };
    let mut bare = Model::new(p.clone()).unwrap();
    let mut with = bare.clone();
    for t in Baseline::parse(spec).unwrap().terms(&p) {
        with.add_term(t).unwrap();
    }
    bare.set_q(q.view()).unwrap();
    with.set_q(q.view()).unwrap();
    let added = with.dqdt() - bare.dqdt();
    let [psi, _, _] = bare.p_u_v();
    let mean = |a: &Array3<f64>, lev: usize, sign: f64| {
        let (t, f) = (added.index_axis(Axis(0), lev), a.index_axis(Axis(0), lev));
        sign * t.iter().zip(f).map(|(t, f)| t * f).sum::<f64>() / f.len() as f64
    };
    [
        [0, 1].map(|lev| mean(q, lev, 1.0)),
        [0, 1].map(|lev| mean(&psi, lev, -1.0)),
    ]
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
            "leith:cl=0.5",
            "backscatter:cs=0.1,cb=0",
        ] {
            let [ens, energy] = tendencies(spec, q);
            println!("{state} {spec}: d<q^2/2>/dt {ens:?}, dE/dt {energy:?}");
            for lev in 0..2 {
                let at = format!("{state} state, {spec}, layer {}", lev + 1);
                if state == "turbulent" || spec.starts_with("leith") {
                    assert!(ens[lev] < 0.0, "{at}: enstrophy tendency {}", ens[lev]);
                }
                if state == "turbulent" || spec.starts_with("smagorinsky") {
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

//! The built-in closures and the time-averaged diagnostics against pyqg 0.7.2 itself
//! (`tests/closure/make_baselines.py`: pyqg's `Smagorinsky(0.15)`,
//! `BackscatterBiharmonic(sqrt(0.007), 1.2)`, `ZannaBolton2020(-46761284)`, and Ross et al.'s
//! published closure written as their FeatureExtractor evaluates it), on a turbulent 32 x 32 eddy
//! state:
//!
//! - what each closure adds to dq/dt agrees within 1e-12 of its largest value (a few FFTs and
//!   products of O(1) factors: round-off);
//! - q after 200 steps of the coarse model with the closure within 1e-10 (round-off grown by 200
//!   steps of turbulence; the solver's own parity after 200 steps is 1e-15);
//! - pyqg's 18 time-averaged diagnostics of those runs (every 5th step) within 1e-10 of each
//!   array's largest value, the parameterization's own spectra (`paramspec*`) included.

mod common;

use medida_discovery::closure::{Baseline, FieldClosure};
use medida_solver::{Averages, Averaging, Model, QgParams};
use ndarray::{Array3, ArrayD};

const CLOSURES: [(&str, &str); 5] = [
    ("none", ""),
    ("smagorinsky", "smagorinsky"),
    ("backscatter", "backscatter"),
    ("zb20", "zb20"),
    ("ross7", "ross7"),
];

fn coarse(spec: &str) -> (Model, Vec<String>) {
    let p = QgParams {
        nx: 32,
        ny: 32,
        dt: 3600.0,
        ..Default::default()
    };
    let mut m = Model::new(p.clone()).unwrap();
    let mut names = Vec::new();
    if !spec.is_empty() {
        for t in Baseline::parse(spec).unwrap().terms(&p) {
            names.push(t.name().to_string());
            m.add_term(t).unwrap();
        }
    }
    (m, names)
}

fn rel(got: &ArrayD<f64>, want: &ArrayD<f64>) -> f64 {
    assert_eq!(got.shape(), want.shape());
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let err = got
        .iter()
        .zip(want)
        .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()));
    if scale == 0.0 { err } else { err / scale }
}

#[test]
fn baselines_and_averaged_diagnostics_match_pyqg() {
    let (mut npz, _) = common::reference("closure_baselines.npz", "q0");
    let q0: Array3<f64> = npz.by_name("q0.npy").unwrap();
    let (plain, _) = coarse("");
    for (name, spec) in CLOSURES {
        let (mut m, terms) = coarse(spec);
        m.set_q(q0.view()).unwrap();
        let mut bare = plain.clone();
        bare.set_q(q0.view()).unwrap();
        let added = m.dqdt() - bare.dqdt();
        let want: Array3<f64> = npz.by_name(&format!("dq/{name}.npy")).unwrap();
        let e = rel(&added.into_dyn(), &want.clone().into_dyn());
        println!("{name}: dq/dt added, rel err {e:.1e}");
        assert!(e <= 1e-12 || name == "none", "{name}: dq/dt rel err {e:e}");
        if name == "none" {
            assert_eq!(want.iter().fold(0.0f64, |a, v| a.max(v.abs())), 0.0);
        }

        m.set_q(q0.view()).unwrap();
        let mut avg = Averages::new(
            &m,
            Averaging {
                tavestart: 0.0,
                taveint: 5.0 * 3600.0,
                parameterization: terms,
            },
        )
        .unwrap();
        for _ in 0..200 {
            m.step_averaging(&mut avg).unwrap();
        }
        assert_eq!(avg.count(), 39, "every 5th step from step 5");
        let q: Array3<f64> = npz.by_name(&format!("q/{name}.npy")).unwrap();
        let e = common::max_rel_err(&m.q(), &q);
        println!("{name}: q after 200 steps, rel err {e:.1e}");
        assert!(e <= 1e-10, "{name}: q rel err {e:e}");
        let mut worst = (0.0, "");
        // medida's ENSparamspec: what the closure does to the enstrophy. Smagorinsky's and the
        // backscatter's dissipation remove it in total; without a closure it is zero.
        let ens = avg.get("ENSparamspec").unwrap().sum();
        match name {
            "none" => assert_eq!(ens, 0.0),
            "smagorinsky" => assert!(ens < 0.0, "{name}: {ens}"),
            _ => {}
        }
        for d in avg.available().filter(|d| d.name != "ENSparamspec") {
            let want: ArrayD<f64> = npz.by_name(&format!("{}/{name}.npy", d.name)).unwrap();
            let got = avg.get(d.name).unwrap();
            let e = rel(&got, &want);
            if name != "none" || !d.name.starts_with("paramspec") {
                assert!(e <= 1e-10, "{name}: {} rel err {e:e}", d.name);
            } else {
                assert_eq!(got.iter().fold(0.0f64, |a, v| a.max(v.abs())), 0.0);
            }
            if e > worst.0 {
                worst = (e, d.name);
            }
        }
        assert_eq!(avg.available().count(), 19);
        println!(
            "{name}: 18 averaged diagnostics, largest rel err {:.1e} ({})",
            worst.0, worst.1
        );
    }
}

#[test]
fn averaging_leaves_the_run_unchanged() {
    let (mut npz, _) = common::reference("closure_baselines.npz", "q0");
    let q0: Array3<f64> = npz.by_name("q0.npy").unwrap();
    let (mut a, terms) = coarse("backscatter");
    a.set_q(q0.view()).unwrap();
    let mut b = a.clone();
    let mut avg = Averages::new(
        &a,
        Averaging {
            tavestart: 3.0 * 3600.0,
            taveint: 1.0,
            parameterization: terms,
        },
    )
    .unwrap();
    for _ in 0..20 {
        a.step_averaging(&mut avg).unwrap();
        b.step().unwrap();
    }
    assert_eq!(avg.count(), 17, "every step from t = 3 dt on");
    assert_eq!(
        a.state(),
        b.state(),
        "the same bytes with and without averaging"
    );
}

/// A closure's coefficient field as the averages see it: Smagorinsky with a uniform field
/// `cs^2`, set after the averages were made (as a policy sets it), gives the built-in closure's
/// `paramspec` (to round-off), not the field's default 1.
#[test]
fn averages_read_the_coefficient_field_as_set() {
    let (mut npz, _) = common::reference("closure_baselines.npz", "q0");
    let q0: Array3<f64> = npz.by_name("q0.npy").unwrap();
    let (mut builtin, names) = coarse("smagorinsky:cs=0.15");
    let (mut field, _) = coarse("");
    let terms = FieldClosure::Smagorinsky.terms(field.params());
    let field_names: Vec<String> = terms.iter().map(|t| t.name().to_string()).collect();
    for t in terms {
        field.add_term(t).unwrap();
    }
    builtin.set_q(q0.view()).unwrap();
    field.set_q(q0.view()).unwrap();
    let settings = |parameterization| Averaging {
        tavestart: 0.0,
        taveint: 1.0,
        parameterization,
    };
    let mut a = Averages::new(&builtin, settings(names)).unwrap();
    let mut b = Averages::new(&field, settings(field_names)).unwrap();
    let c = FieldClosure::Smagorinsky.coefficient_of(0.15);
    for lev in 0..2 {
        field
            .set_coefficient_field(lev, Some(vec![c; 32 * 32]))
            .unwrap();
    }
    for _ in 0..3 {
        builtin.step_averaging(&mut a).unwrap();
        field.step_averaging(&mut b).unwrap();
    }
    let (pa, pb) = (a.get("paramspec").unwrap(), b.get("paramspec").unwrap());
    assert!(pa.iter().any(|v| *v != 0.0));
    assert!(rel(&pb, &pa) < 1e-10, "{}", rel(&pb, &pa));
}

#[test]
fn bad_closures_and_averaging_settings_are_named() {
    for (spec, msg) in [
        ("smagorinski", "unknown closure `smagorinski`"),
        (
            "smagorinsky:c=0.1",
            "has no constant `c` (its constants: cs)",
        ),
        (
            "smagorinsky:cs=abc",
            "`cs` = \"abc\": allowed a finite number",
        ),
        ("smagorinsky:cs=inf", "allowed a finite number"),
        ("backscatter:cs=0.1,cs=0.2", "`cs` is given twice"),
        ("ross7:w=1", "its constants: none"),
        ("zb20:kappa", "constants are key=value"),
    ] {
        let e = Baseline::parse(spec).unwrap_err().to_string();
        assert!(e.contains(msg), "{spec}: {e}");
    }
    let (m, _) = coarse("");
    let bad = |tavestart: f64, taveint: f64, p: &str| {
        Averages::new(
            &m,
            Averaging {
                tavestart,
                taveint,
                parameterization: if p.is_empty() { vec![] } else { vec![p.into()] },
            },
        )
        .unwrap_err()
        .to_string()
    };
    assert!(bad(-1.0, 1.0, "").contains("`tavestart` = -1"));
    assert!(bad(0.0, 0.0, "").contains("`taveint` = 0"));
    assert!(bad(0.0, f64::NAN, "").contains("`taveint` = NaN"));
    assert!(bad(0.0, 1.0, "smagorinsky").contains("not a term of the model"));
}

/// Two facts of the similarity scores that no implementation can fake: the target scores 1
/// against itself and the baseline 0, for every metric.
#[test]
fn the_target_scores_one_and_the_baseline_zero() {
    use medida_discovery::closure::{Ensemble, similarities};
    let (mut npz, _) = common::reference("closure_baselines.npz", "q0");
    let q0: Array3<f64> = npz.by_name("q0.npy").unwrap();
    let ensemble = |spec: &str| {
        let (mut m, terms) = coarse(spec);
        m.set_q(q0.view()).unwrap();
        let mut avg = Averages::new(
            &m,
            Averaging {
                tavestart: 0.0,
                taveint: 3600.0,
                parameterization: terms,
            },
        )
        .unwrap();
        let mut snaps = Vec::new();
        for i in 0..40 {
            m.step_averaging(&mut avg).unwrap();
            if i % 4 == 3 {
                snaps.push(m.q());
            }
        }
        let mut e = Ensemble::new(&m);
        e.add_run(&mut m, &snaps, &|n| avg.get(n)).unwrap();
        e
    };
    let (target, baseline) = (ensemble("backscatter"), ensemble(""));
    let s = similarities(&target, &target, &baseline);
    assert!(s.scores.iter().all(|v| *v == 1.0), "{:?}", s.scores);
    let s = similarities(&baseline, &target, &baseline);
    assert!(s.scores.iter().all(|v| *v == 0.0), "{:?}", s.scores);
}

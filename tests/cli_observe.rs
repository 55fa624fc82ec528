//! `medida increments --observe`: stations, noise, interpolators and the increments they give, on a
//! small jet (48 x 96).

mod common;

use common::{check_png, ok};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A 48 x 96 jet after 20 time units, 2 snapshots; made once per test run.
fn truth() -> &'static PathBuf {
    static TRUTH: OnceLock<PathBuf> = OnceLock::new();
    TRUTH.get_or_init(|| common::small_jet_truth("jet-48-truth.h5"))
}

fn increments(_name: &str, extra: &[&str]) -> PathBuf {
    common::increments(truth(), "case1001", extra)
}

fn read(path: &Path, name: &str) -> ndarray::ArrayD<f64> {
    medida_data::read_array(path, name).unwrap()
}

/// The same bytes (NaN included).
fn same(x: &ndarray::ArrayD<f64>, y: &ndarray::ArrayD<f64>) -> bool {
    x.iter()
        .zip(y.iter())
        .all(|(p, q)| p.to_bits() == q.to_bits())
}

#[test]
fn increments_exist_at_the_stations_only_and_repeat_with_the_seed() {
    let a = increments("half", &["--observe", "fraction=0.5,seed=3"]);
    let dqdt = read(&a, "dqdt");
    let finite = dqdt.iter().filter(|v| v.is_finite()).count();
    assert_eq!(
        finite,
        2 * 2 * 48 * 96 / 2,
        "two snapshots, two layers, half the points"
    );
    // the analysis honours the observations at the stations (spectral-oi, no noise)...
    let errors = read(&a, "diagnostics/analysis_error1");
    assert!(errors.iter().all(|e| *e > 0.0 && *e < 0.5), "{errors:?}");
    // ...and the same seed gives the same bytes, another seed other stations
    let b = increments("half-again", &["--observe", "fraction=0.5,seed=3"]);
    assert!(same(&dqdt, &read(&b, "dqdt")));
    let c = increments("half-other", &["--observe", "fraction=0.5,seed=4"]);
    assert!(!same(&dqdt, &read(&c, "dqdt")));
    // the error spectra are there, on their wavenumber coordinate
    let kr = read(&a, "kr");
    assert_eq!(read(&a, "error_spectrum").shape(), &[2, 2, kr.len()]);
    // the error spectra plot (the spectral-bias picture), with the increments drawn NaN-grey
    let figs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("obs-figures");
    let listed = ok(&["plot", a.to_str().unwrap(), "--out", figs.to_str().unwrap()]);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    check_png(&figs.join("interpolation.png"), 900, Some(600));
    check_png(&figs.join("increments_dqdt.png"), 1040, None);
    // discovery runs on the station rows
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "discover",
        "--json",
        "--increments",
        a.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(v["fit"]["n"].as_u64(), Some(2 * 48 * 96 / 2));
}

#[test]
fn assimilated_increments_are_the_same_at_one_and_two_threads() {
    // cycled interpolation (Cholesky, FFTs and model steps on the pool) and insertion
    for update in ["10", "0"] {
        let run = |threads: &str| {
            let args = ["--observe", "fraction=0.5,seed=3", "--assimilate", "1"];
            let extra = ["--update-every", update, "--threads", threads];
            read(
                &increments("threads", &[&args[..], &extra[..]].concat()),
                "dqdt",
            )
        };
        let (one, two) = (run("1"), run("2"));
        assert!(one.iter().any(|v| v.is_finite()));
        assert!(same(&one, &two), "--update-every {update}");
    }
}

#[test]
fn the_networks_give_the_same_bits_at_one_and_two_threads() {
    // Every training choice on: mini-batches, octaves, the cosine decay, the refitted output
    // layer, and a warm start for the second snapshot.
    let interp = "rff-mlp:frequencies=32,sigma=2,octaves=2,width=16,steps=60,batch=256,cosine=1,\
                  refit=1e-8,warm=20";
    let run = |threads: &str| {
        let args = ["--observe", "fraction=0.5,seed=3", "--interp", interp];
        let f = increments(
            "network-threads",
            &[&args[..], &["--threads", threads]].concat(),
        );
        (read(&f, "q"), read(&f, "diagnostics/error_reaches_signal1"))
    };
    let (one, two) = (run("1"), run("2"));
    assert!(same(&one.0, &two.0));
    assert!(same(&one.1, &two.1));
    assert_eq!(one.1.len(), 2, "one crossing per snapshot");
}

#[test]
fn an_unstable_correction_is_a_result_not_an_error() {
    // Noise of half the field's spread and no threshold: every term, with coefficients in the
    // thousands; the corrected model blows up within a few steps, which the discovery reports.
    let inc = increments("noisy", &["--observe", "fraction=0.25,noise=0.5,seed=1"]);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("unstable.json");
    let printed = ok(&[
        "discover",
        "--quiet",
        "--increments",
        inc.to_str().unwrap(),
        "--select",
        "threshold=0",
        "--correct",
        "--out",
        out.to_str().unwrap(),
        // The tests' scratch file, replaced on every run.
        "--overwrite",
    ]);
    assert!(
        printed.contains("corrected model: unstable from increment 0"),
        "{printed}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let c = &v["correction"];
    assert!(c["unstable"].as_str().unwrap().contains("unstable"), "{c}");
    assert!(c["corrected"][0].is_null(), "an infinite error: {c}");
    assert!(c["imperfect"][0].as_f64().unwrap() > 0.0);
}

#[test]
fn full_observation_through_the_interpolator_is_nearly_exact() {
    // Observing every point, spectral-oi returns the field up to its regularisation (a noise
    // variance of 1e-10 of the prior's, which damps the modes whose prior variance is below that),
    // so the increments agree with those without --observe to about 1e-3 (measured 9e-4).
    let full = increments("all", &["--observe", "fraction=1"]);
    let plain = increments("plain", &[]);
    let (a, b) = (read(&full, "dqdt"), read(&plain, "dqdt"));
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    assert!(diff < 1e-2 * scale, "{diff:e} of {scale:e}");
    let e = read(&full, "diagnostics/analysis_error1");
    assert!(e.iter().all(|e| *e < 1e-3), "{e:?}");
}

#[test]
fn cubic_interpolates_the_smooth_jet_and_honours_the_stations() {
    // Clough-Tocher from 75% of a 48 x 96 jet after 20 time units (smooth: spectral-oi reaches
    // 1e-5); a piecewise cubic on this grid gets to about 1e-3 (measured 1.1e-3 upper, 3.3e-4
    // lower layer), the allowed 3e-3 is three times that.
    let c = increments(
        "cubic",
        &["--observe", "fraction=0.75,seed=1", "--interp", "cubic"],
    );
    for lev in [1, 2] {
        let e = read(&c, &format!("diagnostics/analysis_error{lev}"));
        assert!(
            e.iter().all(|e| *e > 0.0 && *e < 3e-3),
            "layer {lev}: {e:?}"
        );
    }
    let q = read(&c, "q");
    let truth = medida_data::read_array(truth(), "q").unwrap();
    let dqdt = read(&c, "dqdt");
    // at the stations (where the increments are) the analysis is the observation
    let (nq, nt) = (
        q.shape()[1..].iter().product::<usize>(),
        truth.shape()[1..].iter().product::<usize>(),
    );
    assert_eq!(nq, nt);
    for (i, (d, (a, t))) in dqdt.iter().zip(q.iter().zip(truth.iter())).enumerate() {
        if d.is_finite() {
            assert!(
                (a - t).abs() <= 1e-12 * t.abs().max(1.0),
                "point {i}: {a} vs {t}"
            );
        }
    }
}

#[test]
fn noise_makes_the_analysis_worse() {
    let clean = increments("clean", &["--observe", "fraction=0.75,seed=1"]);
    let noisy = increments("noisy", &["--observe", "fraction=0.75,seed=1,noise=0.01"]);
    let e = |p: &Path| read(p, "diagnostics/analysis_error1").mean().unwrap();
    assert!(
        e(&noisy) > 1.05 * e(&clean),
        "{} vs {}",
        e(&noisy),
        e(&clean)
    );
}

#[test]
fn spectral_oi_assumes_the_observations_noise_unless_told() {
    let obs = ["--observe", "fraction=0.75,seed=1,noise=0.01"];
    let default = increments("oi-default", &obs);
    let told = |e: &str| {
        let interp = format!("spectral-oi:noise={e}");
        increments(
            "oi-told",
            &[&obs[..], &["--interp", interp.as_str()]].concat(),
        )
    };
    // the observations' own noise is the default...
    for name in ["q", "dqdt"] {
        assert!(
            same(&read(&default, name), &read(&told("0.01"), name)),
            "{name}"
        );
    }
    // ...and another value reaches the interpolator
    assert!(!same(&read(&default, "q"), &read(&told("0.1"), "q")));
}

#[test]
fn bad_observation_settings_are_named() {
    let truth = truth();
    for (args, msg) in [
        (vec!["--observe", "fraction=0"], "observe.fraction"),
        (vec!["--observe", "fraction=0.5,colour=1"], "observe"),
        (
            vec!["--observe", "fraction=0.5", "--interp", "kriging"],
            "--interp",
        ),
        (
            vec!["--observe", "fraction=0.5", "--interp", "rff-mlp:depth=0"],
            "depth",
        ),
        (
            vec!["--observe", "fraction=0.5", "--interp", "rff-ridge:nodes=3"],
            "unknown option",
        ),
        (
            vec!["--observe", "fraction=0.5", "--interp", "rff-mlp:cosine=2"],
            "`cosine` = 2: allowed 0 or 1",
        ),
        (
            vec!["--observe", "fraction=0.5", "--interp", "rff-mlp:refit=-1"],
            "`refit` = -1",
        ),
        (
            vec!["--observe", "fraction=0.5", "--interp", "rff-mlp:warm=0.5"],
            "warm",
        ),
        (
            vec!["--observe", "fraction=0.5", "--interp", "mlp:octaves=2"],
            "unknown option `octaves`",
        ),
        (
            vec!["--observe", "fraction=0.5", "--interp", "cubic:margin=0"],
            "margin",
        ),
        (
            vec![
                "--observe",
                "fraction=0.5",
                "--interp",
                "spectral-oi:noise=-1",
            ],
            "`noise` = -1: allowed 0 or more",
        ),
    ] {
        common::increments_refused(truth, &args, msg);
    }
}

#[test]
fn stored_analyses_give_the_increments_of_the_run_that_made_them() {
    // The first of the truth's two snapshots.
    let observe = [
        "--observe",
        "fraction=0.5,seed=3",
        "--interp",
        "cubic",
        "--count",
        "1",
    ];
    let a = increments("stored-a", &observe);
    let with = |case: &str, observe: &str| {
        let extra = [
            "--observe",
            observe,
            "--analyses",
            a.to_str().unwrap(),
            "--count",
            "1",
        ];
        common::increments(truth(), case, &extra)
    };
    // The same model error from the stored analyses: the same bytes.
    let b = with("case1001", "fraction=0.5,seed=3");
    for name in ["dqdt", "q", "q_forecast", "diagnostics/analysis_error1"] {
        assert!(same(&read(&a, name), &read(&b, name)), "{name}");
    }
    // Another model error from them: the same analyses, other increments, and the same as
    // interpolating afresh for that model error.
    let c = with("case1004", "fraction=0.5,seed=3");
    let fresh = common::increments(truth(), "case1004", &observe);
    assert!(same(&read(&a, "q"), &read(&c, "q")));
    assert!(!same(&read(&a, "dqdt"), &read(&c, "dqdt")));
    assert!(same(&read(&fresh, "dqdt"), &read(&c, "dqdt")));
    // Other observations, an assimilated file, a time not stored: refused, naming the flag.
    let path = a.to_str().unwrap();
    for (args, msg) in [
        (
            vec!["--observe", "fraction=0.5,seed=4", "--analyses", path],
            "not --observe fraction=0.5,seed=4",
        ),
        (
            vec!["--observe", "fraction=0.5,seed=3", "--analyses", path],
            "no analysis at time",
        ),
        (
            vec![
                "--observe",
                "fraction=0.5,seed=3",
                "--analyses",
                path,
                "--assimilate",
                "1",
            ],
            "--assimilate",
        ),
    ] {
        common::increments_refused(truth(), &args, msg);
    }
}

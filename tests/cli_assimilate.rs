//! Discovery from sparse observations of the turbulent jet: `medida increments --assimilate`
//! (analyses by cycled optimal interpolation with the imperfect model, by direct insertion into a
//! corrected one, or by the LETKF) and `medida demo --observe`, whose passes assimilate and
//! discover.

mod common;

use common::ok;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The study's 96 x 192 jet after its 250 time units of spin-up (turbulent), 3 snapshots, and a
/// prior run from another random state.
fn runs() -> &'static (PathBuf, PathBuf) {
    static RUNS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let common = ["--spinup", "250", "--set", "run.threads=2"];
        let truth = common::jet_truth(
            "jet-truth-250.h5",
            &[&common[..], &["--tmax", "252"]].concat(),
        );
        let prior = common::jet_truth(
            "jet-prior-250.h5",
            &[
                &common[..],
                &[
                    "--tmax",
                    "290",
                    "--set",
                    "output.snapshot_interval=160",
                    "--set",
                    "init.seed=5",
                ],
            ]
            .concat(),
        );
        (truth, prior)
    })
}

/// `--observe SPEC --prior PRIOR`: the main job's observations of the truth of [`runs`].
fn observed(spec: &'static str) -> [&'static str; 4] {
    ["--observe", spec, "--prior", runs().1.to_str().unwrap()]
}

fn analysis_error(path: &Path) -> [f64; 2] {
    [1, 2].map(|lev| {
        medida_data::read_array(path, &format!("diagnostics/analysis_error{lev}"))
            .unwrap()
            .mean()
            .unwrap()
    })
}

#[test]
fn inserting_into_the_corrected_model_fills_the_gaps_ten_times_better() {
    let (truth, _) = runs();
    // A correction equal to the true error: discovered from full observations (exact to 1e-6 %).
    let full = common::increments(truth, "case1002", &[]);
    let exact = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("exact-1002.json");
    ok(&[
        "discover",
        "--quiet",
        "--increments",
        full.to_str().unwrap(),
        "--out",
        exact.to_str().unwrap(),
        // The tests' scratch file, replaced on every run.
        "--overwrite",
    ]);
    let observe = observed("fraction=0.5,seed=1");
    let interpolated = common::increments(truth, "case1002", &observe);
    let assimilated = common::increments(
        truth,
        "case1002",
        &[
            &observe[..],
            &[
                "--assimilate",
                "10",
                "--update-every",
                "0",
                "--correction",
                exact.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    // Measured: spectral-oi 3.5e-2 / 1.0e-2; 10 time units of insertion 3.6e-3 / 1.0e-3.
    let (a, b) = (analysis_error(&interpolated), analysis_error(&assimilated));
    for lev in 0..2 {
        assert!(
            b[lev] < a[lev] / 5.0,
            "layer {}: {} vs {}",
            lev + 1,
            b[lev],
            a[lev]
        );
    }
    // the increments are formed 10 time units after each snapshot
    let times = medida_data::read_array(&assimilated, "time").unwrap();
    for (t, want) in times.iter().zip([260.0, 261.0, 262.0]) {
        assert!((t - want).abs() < 1e-9, "{times}");
    }
}

#[test]
fn cycled_interpolation_into_the_imperfect_model_beats_interpolation() {
    // No correction: the model that assimilates is the imperfect one (case 1002: relaxation ten
    // times too strong, friction five times too strong), corrected every 10 steps by the
    // interpolated innovations (the default). Measured (stations seed 1): spectral-oi 3.5e-2 /
    // 1.0e-2, cycled 1.3e-3 / 3.3e-3 (27 and 3.1 times smaller; the lower layer carries the
    // larger error, the friction's).
    let (truth, _) = runs();
    let observe = observed("fraction=0.5,seed=1");
    let interpolated = common::increments(truth, "case1002", &observe);
    let cycled = common::increments(
        truth,
        "case1002",
        &[&observe[..], &["--assimilate", "10"]].concat(),
    );
    let (a, b) = (analysis_error(&interpolated), analysis_error(&cycled));
    for (lev, factor) in [(0, 10.0), (1, 2.0)] {
        assert!(
            b[lev] < a[lev] / factor,
            "layer {}: {} vs {}",
            lev + 1,
            b[lev],
            a[lev]
        );
    }
    let how = medida_data::read_text_attr(&cycled, "analysis").unwrap();
    assert!(how.contains("added every 10 steps"), "{how}");
    // Every cycle's errors against the truth, (time, lev, cycle): each analysis closer to the
    // truth than its forecast (measured: by 1.13 to 5.1 times in the upper layer, 1.37 to 2.7
    // in the lower: the least margin, 13%, is no round-off).
    let cycle = medida_data::read_array(&cycled, "cycle").unwrap();
    // 10 time units of dt 0.025: 400 steps, an analysis every 10.
    let want: Vec<f64> = (1..=40).map(|c| c as f64 * 10.0).collect();
    assert_eq!(cycle.iter().copied().collect::<Vec<_>>(), want);
    let [f, an] =
        ["forecast_rmse", "analysis_rmse"].map(|v| medida_data::read_array(&cycled, v).unwrap());
    assert_eq!(f.shape(), [3, 2, 40]);
    for (fc, ac) in f.iter().zip(an.iter()) {
        assert!(ac < fc, "analysis {ac:e} vs forecast {fc:e}");
    }
}

#[test]
fn the_demo_discovers_case_1002_from_half_the_grid() {
    // `medida demo --observe fraction=0.5` as the user types it (case 1002, three passes of
    // cycled optimal interpolation). Measured: passes 1 and 2, selected by BIC to correct the
    // next pass's model, within 0.34% and 0.11% beside spurious terms of at most 0.0044; pass 3
    // support exact, largest error 0.041%; other cases, fractions and station sets in
    // docs/assimilation.md.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-observe");
    let _ = std::fs::remove_dir_all(&dir);
    let printed = ok(&[
        "demo",
        "--quiet",
        "--observe",
        "fraction=0.5",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    // Each pass's table under a heading naming the pass and its analyses.
    let headings: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("== pass"))
        .collect();
    assert_eq!(headings.len(), 3, "{printed}");
    assert!(headings[0].starts_with(
        "== pass 1 of 3: analyses assimilating the observations into the imperfect model"
    ));
    // The corrections carried to the next pass are selected by BIC, the result by
    // cross-validation.
    assert!(headings[0].ends_with("; selected by bic, carried to the next pass"));
    assert!(headings[2].contains("corrected by") && headings[2].contains("discovery-pass2.json"));
    assert!(!headings[2].contains("carried"));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("discovery.json")).unwrap())
            .unwrap();
    assert_eq!(v["support_exact"], Value::Bool(true), "{}", v["table"]);
    for row in v["table"].as_array().unwrap() {
        let e = row["error_percent"].as_f64().unwrap();
        assert!(e < 5.0, "{row}");
    }
    let method = |v: &Value| v["fit"]["method"].as_str().unwrap().to_string();
    assert!(method(&v).contains("cross-validation"));
    for pass in 1..=2 {
        let carried = std::fs::read_to_string(dir.join(format!("discovery-pass{pass}.json")));
        let carried: Value = serde_json::from_str(&carried.unwrap()).unwrap();
        assert!(method(&carried).contains("selected by BIC"));
    }
    // Noise-free observations: one-step increments, whose drift is zero (no refits).
    let incr = dir.join("increments.h5");
    assert_eq!(
        medida_data::read_number_attr(&incr, "window_steps").unwrap(),
        1.0
    );
    assert!(v.get("drift_changes").is_none());
}

#[test]
fn with_noise_the_demo_takes_a_longer_window_and_removes_its_drift() {
    // A small, short jet (32 x 64, 2 time units): what is checked is the demo's choice, a
    // 20-step window for noisy observations (unless --window is given) and the drift removed
    // until it settles; the 96 x 192 demo's results are in docs/assimilation.md.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-noisy");
    let _ = std::fs::remove_dir_all(&dir);
    let run = |extra: &[&str]| {
        let args = [
            "demo",
            "--quiet",
            "--dir",
            dir.to_str().unwrap(),
            "--observe",
            "fraction=0.5,noise=0.01",
            "--spinup",
            "2",
            "--snapshots",
            "2",
            "--passes",
            "1",
            "--assimilate",
            "0.5",
            "--set",
            "model.nx=32",
            "--set",
            "model.ny=64",
        ];
        let printed = ok(&[&args[..], extra].concat());
        let incr = dir.join("increments.h5");
        let window = medida_data::read_number_attr(&incr, "window_steps").unwrap();
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("discovery.json")).unwrap())
                .unwrap();
        (printed, window, v)
    };
    let (printed, window, v) = run(&[]);
    assert_eq!(window, 20.0);
    let changes = v["drift_changes"].as_array().unwrap();
    let last = changes.last().unwrap().as_f64().unwrap();
    assert!(last <= 1e-6, "{changes:?}");
    assert!(printed.contains("window drift removed"), "{printed}");
    let (printed, window, v) = run(&["--window", "5", "--drift-iterations", "0"]);
    assert_eq!(window, 5.0);
    assert!(v.get("drift_changes").is_none() && !printed.contains("window drift"));
    // The ensemble filter's flags reach the demo's increments (`medida demo --observe
    // fraction=0.25,noise=0.01 --filter letkf` at full size: docs/assimilation.md).
    run(&["--filter", "letkf", "--members", "4"]);
    let incr = dir.join("increments.h5");
    let filter = medida_data::read_text_attr(&incr, "filter").unwrap();
    assert!(filter.starts_with("letkf with 4 members"), "{filter}");
    assert_eq!(
        medida_data::read_array(&incr, "analysis_spread")
            .unwrap()
            .shape(),
        [2, 2, 2]
    );
}

/// One pass of the bench's discoveries from noisy observations: 10 time units of assimilation, a
/// 20-step window.
const ONE_PASS: [&str; 4] = ["--assimilate", "10", "--window", "20"];

/// `medida discover --json --select cv` on `incr` with `extra`: whether the support is exact, the
/// largest coefficient error (%), and the report.
fn discovered(incr: &Path, extra: &[&str]) -> (bool, f64, Value) {
    let args = [
        "discover",
        "--json",
        "--increments",
        incr.to_str().unwrap(),
        "--select",
        "cv",
    ];
    let v: Value = serde_json::from_str(&ok(&[&args[..], extra].concat())).unwrap();
    let worst = v["table"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["error_percent"].as_f64())
        .fold(0.0, f64::max);
    (v["support_exact"].as_bool().unwrap(), worst, v)
}

#[test]
fn discovery_from_the_letkfs_increments_finds_what_the_cycled_interpolations_miss() {
    // The discovery at 25% observed with noise 1%, at the least size it works at (on a
    // 64 x 128 jet the analyses' errors are ten times larger and spurious Jacobians appear): case
    // 1002, the three snapshots, one pass (10 time units of assimilation, a 20-step window, the
    // drift removed), the bench's LETKF with 20 members (docs/assimilation.md, "Removing the
    // window's drift", the row of case 1002 and station set 0: exact, 4.4%). From the cycled
    // interpolation's analyses of the same observations the upper layer's three terms are missed.
    // The study's 5% takes three passes (8 of 9 runs there); one pass gives 3.9-10% over the
    // station sets and ensemble draws measured (14 members 12.7%; 10 members, two snapshots or 5
    // time units miss terms): the bound 15% leaves room for the draw, not for a missed or
    // spurious term.
    let (truth, _) = runs();
    let observe = [&observed("fraction=0.25,noise=0.01,seed=0")[..], &ONE_PASS].concat();
    let letkf = [&common::letkf("20", "1.5")[..], &["--additive", "0.2"]].concat();
    let by_letkf = common::increments(truth, "case1002", &[&observe[..], &letkf[..]].concat());
    let (exact, worst, v) = discovered(&by_letkf, &[]);
    assert!(exact && worst < 15.0, "{}", v["table"]);
    let by_interpolation = common::increments(truth, "case1002", &observe);
    let (exact, _, v) = discovered(&by_interpolation, &[]);
    assert!(!exact, "{}", v["table"]);
}

#[test]
fn half_the_grid_with_little_noise_is_discovered_once_the_windows_drift_is_removed() {
    // The second bar: case 1002 at 50% observed with noise 1e-3 within 2% (8.5% before the
    // drift was removed). One pass of cycled interpolation, 10 time units, a 20-step window.
    // Measured (as in docs/assimilation.md, station set 0): exact, 0.31%; with the drift kept in
    // the target (`--drift-iterations 0`) two spurious Jacobians, the true terms within 4.4% (one
    // or two spurious Jacobians in all six runs there).
    let (truth, _) = runs();
    let incr = common::increments(
        truth,
        "case1002",
        &[&observed("fraction=0.5,noise=0.001,seed=0")[..], &ONE_PASS].concat(),
    );
    let (exact, worst, v) = discovered(&incr, &[]);
    assert!(exact && worst < 2.0, "{}", v["table"]);
    let (exact, _, v) = discovered(&incr, &["--drift-iterations", "0"]);
    assert!(!exact, "{}", v["table"]);
}

#[test]
fn assimilation_settings_are_checked() {
    let (truth, _) = runs();
    for (args, msg) in [
        (vec!["--assimilate", "10"], "--observe"),
        (
            vec!["--observe", "fraction=0.5", "--assimilate=-1"],
            "--assimilate",
        ),
        (
            vec![
                "--observe",
                "fraction=0.5",
                "--assimilate",
                "1",
                "--correction",
                "/nonexistent.json",
            ],
            "--correction",
        ),
    ] {
        common::increments_refused(truth, &args, msg);
    }
    // --update-every belongs to --assimilate; the demo needs an analysis at least every step
    common::increments_refused(
        truth,
        &["--observe", "fraction=0.5", "--update-every", "5"],
        "--assimilate",
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-refused");
    for (args, msg) in [
        (
            ["fraction=0.5", "--update-every=0"],
            "--update-every 0: allowed 1 or more",
        ),
        (
            ["fraction=0.5", "--assimilate=-1"],
            "--assimilate -1: allowed a time >= 0",
        ),
        (
            ["fraction=2", "--passes=3"],
            "--observe: invalid setting `observe.fraction` = 2",
        ),
        (
            ["fraction=0.5", "--correction-select=loo"],
            "--correction-select \"loo\": allowed aic, bic, cv or threshold=NUMBER (>= 0)",
        ),
    ] {
        let d = dir.to_str().unwrap();
        let out =
            common::medida(&[&["demo", "--quiet", "--dir", d, "--observe"], &args[..]].concat());
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{err}");
        assert!(!dir.exists(), "nothing is run or written");
    }
}

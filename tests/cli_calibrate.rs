//! `medida closure calibrate` as a user runs it, at small size (a 32 -> 16 eddy dataset of a
//! tenth of a year): an inversion's report holds every iteration and a result that fits the
//! reference no worse than the unclosed model's misfit allows, the same seed gives the same
//! bytes at 1 and 2 threads, a sweep scans one constant, a result is never overwritten, and bad
//! input is named before anything runs. Perfect-model recovery of a known constant is tested in
//! `medida_discovery::closure::calibrate`.

mod common;

use common::{check_png, medida, medida_with, ok, small_eddy_dataset as dataset};
use std::path::Path;

/// `medida closure calibrate` on `data` with small forward runs (unless `extra` sets them),
/// writing `out`, with `extra`.
fn calibrate(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let args = [
        "closure",
        "calibrate",
        "--quiet",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let defaults = [
        ("--spinup", "3d"),
        ("--window", "10d"),
        ("--sample-every", "24h"),
        ("--bins", "4"),
    ];
    medida_with(&args, &defaults, extra)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn inversion_and_sweep_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    dataset(&data);
    let eki = |out: &str, threads: &str| {
        let out = dir.path().join(out);
        let o = calibrate(
            &data,
            &out,
            &[
                "--closure",
                "smagorinsky",
                "--members",
                "6",
                "--iterations",
                "3",
                "--threads",
                threads,
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (one, two) = (eki("one.json", "1"), eki("two.json", "2"));
    assert_eq!(
        std::fs::read(&one).unwrap(),
        std::fs::read(&two).unwrap(),
        "the same seed gives the same calibration at 1 and 2 threads"
    );
    let r = json(&one);
    let its = r["iterations"].as_array().unwrap();
    // The adaptive steps: at most 3 updates and the final ensemble, the steps adding up to at
    // most 1.
    assert!((2..=4).contains(&its.len()), "{} iterations", its.len());
    let steps: Vec<f64> = its[..its.len() - 1]
        .iter()
        .map(|i| i["step"].as_f64().unwrap())
        .collect();
    assert!(steps.iter().all(|s| (0.0..=1.0).contains(s)), "{steps:?}");
    assert!(steps.iter().sum::<f64>() <= 1.0 + 1e-12, "{steps:?}");
    assert!(its.last().unwrap()["step"].is_null());
    assert_eq!(its[0]["constants"].as_array().unwrap().len(), 6);
    assert_eq!(
        r["reference"]["snapshots"], 18,
        "9 snapshots of each run's second half"
    );
    assert_eq!(r["reference"]["log_spectrum"].as_array().unwrap().len(), 8);
    let result = &r["result"];
    assert!(
        result["closure"]
            .as_str()
            .unwrap()
            .starts_with("smagorinsky:cs=")
    );
    assert!(result["rmse"].as_f64().unwrap().is_finite());

    // Its figures: the spectra per layer and the ensemble per iteration.
    let figs = dir.path().join("figs");
    let listed = ok(&[
        "plot",
        one.to_str().unwrap(),
        "--out",
        figs.to_str().unwrap(),
    ]);
    for name in [
        "calibration_spectrum1.png",
        "calibration_spectrum2.png",
        "calibration_iterations.png",
    ] {
        assert!(listed.contains(name), "{listed}");
        check_png(&figs.join(name), 900, Some(600));
    }

    // A result is not overwritten.
    let o = calibrate(&data, &one, &["--closure", "smagorinsky"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists"));

    // A sweep of Leith's constant: one point per value, the best as the result.
    let out = dir.path().join("sweep.json");
    let o = calibrate(&data, &out, &["--closure", "leith", "--sweep", "0.1,0.3,1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = json(&out);
    let pts = r["sweep"].as_array().unwrap();
    assert_eq!(pts.len(), 3);
    let best = pts
        .iter()
        .min_by(|a, b| {
            a["rmse"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["rmse"].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(
        r["result"]["closure"].as_str().unwrap(),
        format!("leith:cl={}", best["value"])
    );
    let listed = ok(&[
        "plot",
        out.to_str().unwrap(),
        "--out",
        figs.to_str().unwrap(),
    ]);
    assert!(listed.contains("calibration_sweep.png"), "{listed}");
    check_png(&figs.join("calibration_sweep.png"), 900, Some(600));
}

#[test]
fn bad_input_is_named_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    dataset(&data);
    let out = dir.path().join("c.json");
    for (args, msg) in [
        (
            vec!["--closure", "ross7"],
            "--closure ross7: allowed a built-in closure with constants",
        ),
        (
            vec!["--closure", "smagorinsky:cs=0.1"],
            "every constant is fixed",
        ),
        (
            vec!["--closure", "smagorinsky", "--prior", "cb=1"],
            "--prior cb: not a calibrated constant",
        ),
        (
            vec!["--closure", "smagorinsky", "--prior", "cs=-1"],
            "--prior cs=-1: allowed a finite number > 0",
        ),
        (
            vec!["--closure", "smagorinsky", "--upper", "cs=0.1"],
            "--upper cs=0.1: allowed a finite number above the prior median",
        ),
        (
            vec!["--closure", "backscatter", "--upper", "cx=1"],
            "--upper cx: not a calibrated constant of backscatter",
        ),
        (
            vec![
                "--closure",
                "backscatter:cs=0.08",
                "--sweep",
                "0.5",
                "--upper",
                "cb=2",
            ],
            "--upper bounds an inversion's constants",
        ),
        (
            vec!["--closure", "backscatter", "--sweep", "0.1"],
            "--sweep scans one constant; 2 are calibrated",
        ),
        (
            vec!["--closure", "smagorinsky", "--weighting", "flat"],
            "--weighting flat: allowed scatter or uniform",
        ),
        (
            vec!["--closure", "smagorinsky", "--step", "0"],
            "--step 0: allowed adaptive or a number > 0",
        ),
        (
            vec!["--closure", "smagorinsky", "--members", "1"],
            "--members 1: allowed 2 or more",
        ),
        (
            vec!["--closure", "smagorinsky", "--bins", "40"],
            "holds no wavenumber",
        ),
        (
            vec!["--closure", "smagorinsky", "--runs", "5"],
            "--runs 5: the dataset has runs 0..1",
        ),
        (
            vec!["--closure", "smagorinsky", "--sample-every", "1m"],
            "--sample-every 1m: allowed a number of seconds, or y, d or h",
        ),
        (
            vec!["--closure", "smagorinsky", "--sample-every", "20d"],
            "at most the window",
        ),
        (
            vec!["--closure", "smagorinsky", "--window", "-1d"],
            "--window -1d: allowed a model time >= 0",
        ),
    ] {
        let o = calibrate(&data, &out, &args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(msg), "{args:?}: {e}");
        assert!(!out.exists());
    }
}

/// The SMARL study's 2-D turbulence (`--preset 2d-turbulence`) as the reference: a 32 x 32 run
/// of 2 time units, calibrated on 16 x 16 from its second half; times are the model's units.
#[test]
fn a_run_file_of_2d_turbulence_is_a_reference() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("dns.h5");
    ok(&[
        "simulate",
        "--quiet",
        "--preset",
        "2d-turbulence",
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
        "--set",
        "run.steps=4000",
        "--set",
        "output.snapshot_interval=200",
        "--out",
        run.to_str().unwrap(),
    ]);
    let target = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "closure",
            "calibrate",
            "--quiet",
            "--target",
            run.to_str().unwrap(),
            "--lr",
            "16",
            "--closure",
            "leith",
            "--spinup",
            "0.1",
            "--sample-every",
            "0.05",
            "--bins",
            "4",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        medida(&args)
    };
    let out = dir.path().join("sweep.json");
    let o = target(
        &out,
        &[
            "--window",
            "0.5",
            "--sweep",
            "0.1,0.3",
            "--starts",
            "2",
            "--weighting",
            "uniform",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = json(&out);
    // Snapshots at t = 1.0, 1.1, ..., 2.0: the second half.
    assert_eq!(r["reference"]["snapshots"], 11);
    assert_eq!(r["forward_steps"], serde_json::json!([200, 1000, 100]));
    assert_eq!(r["sweep"].as_array().unwrap().len(), 2);
    // Uniform weighting: every bin the same noise, so the misfit is the RMSE squared over it.
    let v = r["reference"]["variance"].as_array().unwrap();
    assert!(v.iter().all(|x| x == &v[0]), "{v:?}");
    let p = &r["sweep"][0];
    let (e, m) = (p["rmse"].as_f64().unwrap(), p["misfit"].as_f64().unwrap());
    assert!((m - e * e / v[0].as_f64().unwrap()).abs() <= 1e-12 * m);
    for (extra, msg) in [
        (
            vec!["--window", "1y"],
            "--window 1y: the model is non-dimensional",
        ),
        (
            vec!["--window", "0.5", "--starts", "4"],
            "--starts 4: the reference has 3 states a window apart",
        ),
    ] {
        let o = target(&dir.path().join("bad.json"), &extra);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {e}");
        assert!(e.contains(msg), "{extra:?}: {e}");
    }
}

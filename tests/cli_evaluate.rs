//! `medida closure evaluate` and `medida simulate --closure` as a user runs them, at small size
//! (a 32 -> 16 eddy dataset of a tenth of a year): the 18 scores equal an independent
//! implementation (`tests/closure/similarity_reference.py`: scipy's `wasserstein_distance`, pyqg's
//! own inversion and `calc_ispec`) to 1e-10, the baseline scores 0 exactly, finished runs are
//! reused, a closure that blows the model up is a reported result, and bad input is named
//! before anything runs. `medida closure score` of `medida simulate` files equals the same
//! implementation.

mod common;

use common::{medida, ok, pyqg_python_ok, python_ok, small_eddy_dataset as dataset};
use std::path::Path;

/// `medida closure evaluate` of `closures` on `data` into `out` (2 runs of 0.1 years), with
/// `extra` flags.
fn evaluate(data: &Path, out: &Path, closures: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "closure",
        "evaluate",
        "--quiet",
        "--data",
        data.to_str().unwrap(),
        "--runs",
        "2",
        "--years",
        "0.1",
        "--set",
        "output.snapshot_interval=50",
        "--out",
        out.to_str().unwrap(),
    ];
    for c in closures {
        args.extend(["--closure", c]);
    }
    args.extend(extra);
    medida(&args)
}

fn json(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn scores_match_an_independent_implementation_and_runs_are_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("eval"));
    dataset(&data);
    let closures = ["smagorinsky", "ross7", "backscatter", "zb20"];
    let report = json(&evaluate(&data, &out, &closures, &["--json"]));
    let reference: serde_json::Value = serde_json::from_str(&pyqg_python_ok(&[
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/closure/similarity_reference.py"
        ),
        data.to_str().unwrap(),
        out.to_str().unwrap(),
    ]))
    .unwrap();
    let entries = report["closures"].as_array().unwrap();
    assert_eq!(entries.len(), 5, "the baseline and the four closures");
    for c in entries {
        let name = c["closure"].as_str().unwrap();
        let got: Vec<f64> = serde_json::from_value(c["scores"]["scores"].clone()).unwrap();
        let want: Vec<f64> = serde_json::from_value(reference[name].clone()).unwrap();
        assert_eq!(got.len(), 18);
        // Scores are ratios of distances; where the baseline is close to the target they are
        // large, so the error is relative to max(1, |score|).
        let err = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
            .fold(0.0f64, f64::max);
        println!("{name}: largest score difference {err:.1e}");
        assert!(err <= 1e-10, "{name}: {err:e}");
        // pyqg's bottom-drag spectrum is rek times the lower-layer KE spectrum: the two score
        // alike to round-off, which is why the 17-score mean leaves one of them out.
        assert!(
            (got[17] - got[11]).abs() <= 1e-10 * got[11].abs().max(1.0),
            "{name}: KEfrictionspec {} against KEspec2 {}",
            got[17],
            got[11]
        );
        if name == "none" {
            assert!(
                got.iter().all(|s| *s == 0.0),
                "the baseline scores 0: {got:?}"
            );
        }
    }
    // Its figures: the scores, two spectra, two densities.
    let figs = tmp.path().join("figs");
    let listed = ok(&[
        "plot",
        out.join("scores.json").to_str().unwrap(),
        "--out",
        figs.to_str().unwrap(),
    ]);
    for (name, width) in [
        ("closure_scores.png", 1500),
        ("closure_kespec1.png", 900),
        ("closure_kespec2.png", 900),
        ("closure_pdf_q1.png", 900),
        ("closure_pdf_ens1.png", 900),
    ] {
        assert!(listed.contains(name), "{listed}");
        common::check_png(&figs.join(name), width, None);
    }
    // A second evaluation reuses every finished run: the same scores, no run rewritten. A run
    // whose averages are missing (killed after its final checkpoint, before they were written)
    // is not finished: it continues from that checkpoint and writes them.
    let run = out.join("ross7").join("run1.h5");
    let before = std::fs::metadata(&run).unwrap().modified().unwrap();
    let torn = out.join("ross7").join("run0.h5");
    python_ok(&[
        "-c",
        "import h5py, sys; f = h5py.File(sys.argv[1], 'a'); del f['KEspec']",
        torn.to_str().unwrap(),
    ]);
    let again = json(&evaluate(&data, &out, &["ross7"], &["--json"]));
    assert_eq!(again["closures"][1]["scores"], entries[2]["scores"]);
    assert_eq!(std::fs::metadata(&run).unwrap().modified().unwrap(), before);
    assert!(medida_data::read_array(&torn, "KEspec").is_ok());
}

#[test]
fn a_closure_that_blows_up_is_a_result() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("eval"));
    dataset(&data);
    // Zanna-Bolton with 1e5 times pyqg's kappa: the model blows up within days.
    let report = json(&evaluate(&data, &out, &["zb20:kappa=-4e12"], &["--json"]));
    let c = &report["closures"][1];
    assert!(c["scores"].is_null(), "no scores from blown-up runs");
    for r in c["runs"].as_array().unwrap() {
        let step = r["unstable"]["step"].as_u64().unwrap();
        assert!(step > 0 && step < 2400, "{r}");
    }
    assert!(
        out.join("zb20_kappa=-4e12")
            .join("run0.unstable.json")
            .exists()
    );
    let printed = evaluate(&data, &out, &["zb20:kappa=-4e12"], &[]);
    assert!(printed.status.success());
    let table = String::from_utf8(printed.stdout).unwrap();
    assert!(table.contains("blew up at step"), "{table}");
}

#[test]
fn bad_input_is_named_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("eval"));
    dataset(&data);
    let d = data.to_str().unwrap();
    let o = out.to_str().unwrap();
    for (args, msg) in [
        (vec!["--closure", "smag"], "unknown closure `smag`"),
        (vec![], "give at least one closure"),
        (
            vec!["--closure", "ross7", "--config", "jet"],
            "is of the eddy configuration",
        ),
        (
            vec!["--closure", "ross7", "--closure", "ross7"],
            "given twice",
        ),
        (vec!["--closure", "ross7", "--runs", "0"], "--runs 0"),
        (vec!["--closure", "none"], "given twice"),
        (vec!["--closure", "nofile.json"], "nofile.json"),
    ] {
        let base = ["closure", "evaluate", "--quiet", "--data", d, "--out", o];
        let r = medida(&[&base[..], &args[..]].concat());
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}

#[test]
fn simulate_with_a_closure_writes_pyqg_averages_and_restarts_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &Path, steps: &str, restart: bool| {
        let mut args = vec!["simulate", "-q", "--out", out.to_str().unwrap()];
        if restart {
            args.extend(["--restart", out.to_str().unwrap(), "--steps", steps]);
        } else {
            args.extend([
                "--closure",
                "backscatter",
                "--steps",
                steps,
                "--set",
                "model.nx=32",
                "--set",
                "model.ny=32",
                "--set",
                "model.dt=3600",
                "--set",
                "output.tavestart=36000",
                "--set",
                "output.taveint=7200",
                "--set",
                "output.checkpoint_interval=100",
            ]);
        }
        ok(&args);
    };
    let (a, b) = (tmp.path().join("a.h5"), tmp.path().join("b.h5"));
    run(&a, "300", false);
    run(&b, "150", false);
    run(&b, "300", true);
    let check = r#"
import sys, numpy as np, xarray as xr
a = xr.open_dataset(sys.argv[1], engine="h5netcdf")
b = xr.open_dataset(sys.argv[2], engine="h5netcdf")
assert a.KEspec.dims == ("lev", "l", "k"), a.KEspec.dims
assert a.KEflux.dims == ("l", "k") and a.EKE.dims == ("lev",)
assert a.KEspec.attrs["count"] == 145, a.KEspec.attrs["count"]   # steps 10, 12, ..., 298
assert abs(float(a.paramspec.sum())) > 0, "the closure's own spectrum"
for v in ["KEspec", "Ensspec", "KEflux", "APEflux", "APEgenspec", "KEfrictionspec", "paramspec_KEflux", "Dissspec", "EKE", "APEgen"]:
    assert np.array_equal(a[v].values, b[v].values), v
assert "backscatter" in a.attrs["config"]
print("ok")
"#;
    let printed = python_ok(&["-c", check, a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(printed.contains("ok"));
}

/// A `medida simulate` eddy run of 0.1 years on `nx`^2 from `seed` into `out`, with time
/// averages over its second half, a snapshot every 25 steps (17) and `extra` flags.
fn eddy_run(out: &Path, nx: usize, seed: u32, extra: &[&str]) {
    let sets = [
        format!("model.nx={nx}"),
        format!("model.ny={nx}"),
        format!("init.seed={seed}"),
        "output.tavestart=1.5552e6".to_string(),
        "output.snapshot_interval=25".to_string(),
    ];
    let mut args = vec!["simulate", "-q", "--tmax", "3.1104e6", "--out"];
    args.push(out.to_str().unwrap());
    for s in &sets {
        args.extend(["--set", s]);
    }
    ok(&[&args[..], extra].concat());
}

#[test]
fn score_of_run_files_matches_an_independent_implementation() {
    let tmp = tempfile::tempdir().unwrap();
    let f = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    // The target: two high-resolution runs; the baseline and the models coarse, one with a
    // closure; the scores pool both target runs and cross resolutions, as Ross's do.
    eddy_run(Path::new(&f("hr0.h5")), 32, 0, &[]);
    eddy_run(Path::new(&f("hr1.h5")), 32, 1, &[]);
    eddy_run(Path::new(&f("lr.h5")), 16, 2, &[]);
    eddy_run(
        Path::new(&f("smag.h5")),
        16,
        3,
        &["--closure", "smagorinsky"],
    );
    let target = format!("{},{}", f("hr0.h5"), f("hr1.h5"));
    let smag = format!("smag={}", f("smag.h5"));
    let itself = format!("itself={target}");
    let none = format!("none={}", f("lr.h5"));
    let args = [
        "closure",
        "score",
        "--json",
        "--last",
        "8",
        "--target",
        &target,
        "--baseline",
        &f("lr.h5"),
        "--model",
        &smag,
        "--model",
        &itself,
        "--model",
        &none,
    ];
    let report: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let reference: Vec<Vec<f64>> = serde_json::from_str(&pyqg_python_ok(&[
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/closure/similarity_reference.py"
        ),
        "--files",
        "8",
        &target,
        &f("lr.h5"),
        &f("smag.h5"),
        &target,
        &f("lr.h5"),
    ]))
    .unwrap();
    let models = report["models"].as_array().unwrap();
    assert_eq!(models.len(), 3);
    for (m, want) in models.iter().zip(&reference) {
        let name = m["name"].as_str().unwrap();
        let got: Vec<f64> = serde_json::from_value(m["scores"]["scores"].clone()).unwrap();
        let err = got
            .iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
            .fold(0.0f64, f64::max);
        println!("{name}: largest score difference {err:.1e}");
        assert!(err <= 1e-10, "{name}: {err:e}");
        // The target scores 1 and the baseline 0, exactly: a distance of a set to itself is 0.
        let exact = match name {
            "itself" => Some(1.0),
            "none" => Some(0.0),
            _ => None,
        };
        if let Some(x) = exact {
            assert!(got.iter().all(|s| *s == x), "{name}: {got:?}");
        }
    }
    // The table names every model.
    let table = ok(&[&args[..2], &args[3..]].concat());
    assert!(
        table.contains("smag") && table.contains("mean of 18"),
        "{table}"
    );
    // Bad input is named, with the flag and the file.
    let bare = tmp.path().join("bare.h5");
    ok(&[
        "simulate",
        "-q",
        "--steps",
        "300",
        "--set",
        "model.nx=16",
        "--set",
        "model.ny=16",
        "--set",
        "output.snapshot_interval=25",
        "--out",
        bare.to_str().unwrap(),
    ]);
    let bare = format!("bare={}", bare.display());
    for (bad, msg) in [
        (vec!["--model", &bare], "without the time average"),
        (vec!["--model", "smag"], "allowed NAME=FILE"),
        (vec!["--model", &smag, "--model", &smag], "given twice"),
        (vec!["--model", &smag, "--last", "0"], "--last 0"),
        (
            vec!["--model", &smag, "--last", "500"],
            "fewer than the 500",
        ),
        (vec!["--model", "x=nofile.h5"], "nofile.h5"),
    ] {
        let base = [
            "closure",
            "score",
            "--target",
            &target,
            "--baseline",
            &f("lr.h5"),
        ];
        let r = medida(&[&base[..], &bad[..]].concat());
        assert_eq!(r.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(msg), "{bad:?}: {err}");
    }
}

//! `medida closure data` and `medida closure discover` as a user runs them, at small size
//! (64 -> 16, a fifth of a year): the files xarray opens, a rerun that keeps what is done, the
//! report, and bad input named before anything is written.

mod common;

use common::{closure_data_args, medida, ok, python_ok, strs};
use std::path::Path;

/// An eddy dataset of `runs` runs of `years` in `dir`, 64 -> 16, with `extra` flags.
fn dataset(dir: &Path, runs: &str, years: &str, extra: &[&str]) -> std::process::Output {
    let args = closure_data_args(dir, runs, years, "240");
    medida(&[&strs(&args)[..], extra].concat())
}

/// The 3-run, 0.2-year dataset of these tests.
fn data(dir: &Path, extra: &[&str]) -> std::process::Output {
    dataset(dir, "3", "0.2", extra)
}

#[test]
fn datasets_open_in_xarray_and_a_rerun_keeps_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("eddy");
    let o = data(&dir, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // 0.2 years = 1728 steps of an hour: snapshots at 0, 240, ..., 1680 h.
    let check = r#"
import sys, xarray as xr
ds = xr.open_dataset(sys.argv[1], engine="h5netcdf")
assert ds.s_q.dims == ("time", "lev", "y", "x"), ds.s_q.dims
assert ds.sizes["time"] == 8 and ds.sizes["x"] == 16, dict(ds.sizes)
for v in ["q", "p", "u", "v", "s_q", "phi_uq", "phi_vq", "s_q_total"]:
    assert v in ds, v
assert ds.attrs["operator"] == 1 and "added to dq/dt" in ds.attrs["sign_convention"]
assert ds.attrs["hr_nx"] == 64 and ds.attrs["nx"] == 16
# a spectral operator: the total forcing is the advective one
d = abs(ds.s_q_total - ds.s_q).max() / abs(ds.s_q).max()
assert float(d) < 1e-10, float(d)
print("ok")
"#;
    python_ok(&["-c", check, dir.join("run1.h5").to_str().unwrap()]);
    // The manifest says which runs are complete.
    let manifest = std::fs::read_to_string(dir.join("closure.toml")).unwrap();
    assert!(manifest.contains("\ncomplete = [0, 1, 2]\n"), "{manifest}");
    let before = std::fs::metadata(dir.join("run2.h5"))
        .unwrap()
        .modified()
        .unwrap();
    let o = data(&dir, &[]);
    assert!(o.status.success());
    let after = std::fs::metadata(dir.join("run2.h5"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "a complete run is kept");
    // Other settings in the same folder are refused, and nothing is touched.
    let o = data(&dir, &["--operator", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("other settings"));

    // Discovery over the Ross library: fitted on runs 0-1, scored on run 2, the published
    // closures beside it; JSON report written.
    let res = tmp.path().join("res.json");
    let text = ok(&[
        "closure",
        "discover",
        "--data",
        dir.to_str().unwrap(),
        "--library",
        "ross7; zb20",
        "--train",
        "0,1",
        "--test",
        "2",
        "--out",
        res.to_str().unwrap(),
    ]);
    assert!(
        text.contains("held-out skill") && text.contains("published 7-term closure"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&res).unwrap()).unwrap();
    assert_eq!(report["layers"].as_array().unwrap().len(), 2);
    assert_eq!(report["terms"].as_array().unwrap().len(), 8);
    let r2 = report["layers"][0]["train"]["r2"].as_f64().unwrap();
    assert!(r2.is_finite() && r2 <= 1.0, "{r2}");
    // Beside it res.h5: the held-out run's last snapshot, its forcing (as the dataset holds them,
    // bit for bit) and both closures' predictions, which xarray opens.
    let check = r#"
import sys, numpy as np, xarray as xr
ds = xr.open_dataset(sys.argv[1], engine="h5netcdf")
run = xr.open_dataset(sys.argv[2], engine="h5netcdf")
assert ds.sizes["time"] == 1 and ds.prediction.dims == ("time", "lev", "y", "x"), dict(ds.sizes)
for v in ["q", "s_q"]:
    assert np.array_equal(ds[v].values[0], run[v].values[-1]), v
assert float(ds.time[0]) == float(run.time[-1]) == 1680 * 3600.0
assert np.isfinite(ds.prediction).all() and np.isfinite(ds.prediction_ross7).all()
assert "added to dq/dt" in ds.attrs["sign_convention"]
print("ok")
"#;
    python_ok(&[
        "-c",
        check,
        res.with_extension("h5").to_str().unwrap(),
        dir.join("run2.h5").to_str().unwrap(),
    ]);
    let figs = tmp.path().join("figs");
    for f in [&res, &res.with_extension("h5")] {
        ok(&["plot", f.to_str().unwrap(), "--out", figs.to_str().unwrap()]);
    }
    for png in ["closure_skill", "s_q", "prediction", "prediction_ross7"] {
        assert!(figs.join(format!("{png}.png")).exists(), "{png}");
    }

    // Bad input: a term the data cannot give, shared train and test runs, a missing run.
    for (args, msg) in [
        (vec!["--library", "psi_R"], "only the MEDIDA jet model"),
        (vec!["--train", "0,1", "--test", "1"], "share run 1"),
        (vec!["--train", "0", "--test", "7"], "run 7"),
    ] {
        let never = tmp.path().join("never.json");
        let o = medida(
            &[
                &[
                    "closure",
                    "discover",
                    "--data",
                    dir.to_str().unwrap(),
                    "--out",
                ][..],
                &[never.to_str().unwrap()],
                &args[..],
            ]
            .concat(),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!never.exists());
    }
    // A run still being written (its checkpoint short of the dataset's length) is named, and a
    // discovery that does not use it goes on.
    let short = tmp.path().join("short");
    let o = dataset(&short, "1", "0.1", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::copy(short.join("run0.ckpt.h5"), dir.join("run2.ckpt.h5")).unwrap();
    let d = dir.to_str().unwrap();
    let o = medida(&[
        "closure", "discover", "--data", d, "--train", "0", "--test", "2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run 2"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not complete"));
    ok(&[
        "closure",
        "discover",
        "--data",
        d,
        "--library",
        "ross7",
        "--train",
        "0",
        "--test",
        "1",
    ]);
    std::fs::remove_file(dir.join("run1.h5")).unwrap();
    let o = medida(&[
        "closure", "discover", "--data", d, "--train", "0", "--test", "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run 1"));
}

#[test]
fn bad_dataset_settings_are_named_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bad");
    for (args, msg) in [
        (vec!["--operator", "4"], "operator"),
        (vec!["--hr", "64", "--lr", "24"], "--hr/--lr"),
        (vec!["--config", "channel"], "--config"),
        (vec!["--years=-1"], "--years"),
        (vec!["--runs", "0"], "--runs 0"),
    ] {
        let o = medida(
            &[
                &["closure", "data", "--quiet", "--out", dir.to_str().unwrap()][..],
                &args[..],
            ]
            .concat(),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!dir.exists(), "{args:?} created {}", dir.display());
    }
}

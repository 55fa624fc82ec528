//! End-to-end tests of `medida fit`: PySINDy parity through the CLI, the same answer from .npy and
//! HDF5 inputs, JSON output, and bad input.

use ndarray::{Array1, Array2};
use ndarray_npy::NpzReader;
use std::path::Path;
use std::process::Command;

fn medida(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_medida"))
        .args(args)
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = medida(args);
    assert!(
        out.status.success(),
        "medida {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A committed PySINDy reference case written out as .npy files, with PySINDy's coefficients.
fn pysindy_case(dir: &Path, case: &str) -> (String, String, Array2<f64>, Array1<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pysindy_stlsq.npz");
    let mut npz = NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let x: Array2<f64> = npz.by_name(&format!("{case}/x.npy")).unwrap();
    let y: Array2<f64> = npz.by_name(&format!("{case}/y.npy")).unwrap();
    let coef: Array2<f64> = npz.by_name(&format!("{case}/coef.npy")).unwrap();
    let settings: Array1<f64> = npz.by_name(&format!("{case}/settings.npy")).unwrap();
    let (xp, yp) = (dir.join("x.npy"), dir.join("y.npy"));
    ndarray_npy::write_npy(&xp, &x).unwrap();
    ndarray_npy::write_npy(&yp, &y).unwrap();
    (
        xp.to_str().unwrap().into(),
        yp.to_str().unwrap().into(),
        coef,
        settings,
    )
}

#[test]
fn pysindy_mode_reproduces_pysindy_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    for case in ["noisy_3targets", "normalized"] {
        let (x, y, want, s) = pysindy_case(dir.path(), case);
        let (thr, alpha) = (format!("threshold={}", s[0]), s[1].to_string());
        let scaling = if s[2] != 0.0 { "l2" } else { "none" };
        let v = json(&[
            "fit",
            "--library",
            &x,
            "--target",
            &y,
            "--pysindy",
            "--scaling",
            scaling,
            "--alpha",
            &alpha,
            "--select",
            &thr,
            "--json",
        ]);
        let coef = &v["fit"]["coef"];
        for ((i, j), w) in want.indexed_iter() {
            let got = coef[i][j].as_f64().unwrap();
            assert_eq!(
                got != 0.0,
                *w != 0.0,
                "{case}: support differs at [{i}, {j}]"
            );
            assert!(
                (got - w).abs() <= 1e-8 * w.abs().max(1e-300),
                "{case}: [{i}, {j}] {got} vs PySINDy {w}"
            );
        }
    }
}

#[test]
fn npy_and_hdf5_inputs_give_the_same_fit_and_ensembles_report_inclusion() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y, _, _) = pysindy_case(dir.path(), "noisy_3targets");
    let xa: Array2<f64> = ndarray_npy::read_npy(&x).unwrap();
    let ya: Array2<f64> = ndarray_npy::read_npy(&y).unwrap();
    let h5 = dir.path().join("d.h5");
    let py = std::env::var_os("MEDIDA_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let script = format!(
        "import numpy as np, h5py\nf = h5py.File({:?}, 'w')\nf['X'] = np.load({x:?})\nf['Y'] = np.load({y:?})\n",
        h5.to_str().unwrap()
    );
    let ok = Command::new(&py).args(["-c", &script]).status().unwrap();
    assert!(ok.success(), "writing HDF5 with {}", py.display());
    let (hx, hy) = (format!("{}:X", h5.display()), format!("{}:Y", h5.display()));
    let common = [
        "--select",
        "cv",
        "--ensemble",
        "20",
        "--seed",
        "4",
        "--json",
    ];
    let a = json(
        &[
            &["fit", "--library", x.as_str(), "--target", y.as_str()][..],
            &common,
        ]
        .concat(),
    );
    let b = json(
        &[
            &["fit", "--library", hx.as_str(), "--target", hy.as_str()][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(a["fit"]["coef"], b["fit"]["coef"]);
    assert_eq!(a["ensemble"], b["ensemble"]);
    assert_eq!(a["fit"]["coef"].as_array().unwrap().len(), ya.ncols());
    assert_eq!(a["fit"]["terms"].as_array().unwrap().len(), xa.ncols());
    let inclusion = a["ensemble"]["inclusion"].as_array().unwrap();
    for (i, row) in a["fit"]["coef"].as_array().unwrap().iter().enumerate() {
        for (j, c) in row.as_array().unwrap().iter().enumerate() {
            let p = inclusion[i][j].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p));
            if c.as_f64().unwrap() != 0.0 {
                assert!(p >= 0.5, "selected term [{i}, {j}] has inclusion {p}");
            }
        }
    }
    assert!(!a["path"].as_array().unwrap().is_empty() && a["path"][0]["cv"].is_array());
}

#[test]
fn qr_refit_agrees_with_cholesky_on_a_well_conditioned_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y, _, _) = pysindy_case(dir.path(), "noisy_3targets");
    let chol = json(&["fit", "--library", &x, "--target", &y, "--json"]);
    let qr = json(&[
        "fit",
        "--library",
        &x,
        "--target",
        &y,
        "--refit",
        "qr",
        "--json",
    ]);
    assert!(qr["fit"]["method"].as_str().unwrap().contains("QR refit"));
    for (a, b) in chol["fit"]["coef"]
        .as_array()
        .unwrap()
        .iter()
        .zip(qr["fit"]["coef"].as_array().unwrap())
    {
        for (a, b) in a.as_array().unwrap().iter().zip(b.as_array().unwrap()) {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert_eq!(a != 0.0, b != 0.0);
            assert!((a - b).abs() <= 1e-10 * a.abs().max(1e-300), "{a} vs {b}");
        }
    }
}

#[test]
fn bad_fit_input_is_a_named_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y, _, _) = pysindy_case(dir.path(), "small_exact");
    let short = dir.path().join("short.npy");
    ndarray_npy::write_npy(&short, &Array2::<f64>::zeros((10, 1))).unwrap();
    let names = dir.path().join("names.txt");
    std::fs::write(&names, "a\nb\n").unwrap();
    let rejects = |library: &str, target: &str, extra: &[&str], needle: &str| {
        let args = [
            &["fit", "--library", library, "--target", target][..],
            extra,
        ]
        .concat();
        let out = medida(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in {err}"
        );
    };
    rejects("missing.npy", &y, &[], "missing.npy");
    rejects(&x, short.to_str().unwrap(), &[], "rows");
    let cases: [(&[&str], &str); 7] = [
        (&["--select", "magic"], "--select"),
        (&["--optimizer", "lasso"], "--optimizer"),
        (&["--names", names.to_str().unwrap()], "--names"),
        (
            &["--select", "cv", "--block-rows", "1000000"],
            "cross-validation",
        ),
        (&["--refit", "svd"], "--refit"),
        (&["--term-factors", "1,2"], "term factors"),
        (
            &["--optimizer", "rvm", "--term-factors", "1"],
            "--term-factors",
        ),
    ];
    for (extra, needle) in cases {
        rejects(&x, &y, extra, needle);
    }
}

//! `medida simulate` with the MEDIDA forced jet and model-error cases.

mod common;

use common::{medida, python_ok};
use medida_data::Checkpoint;
use std::path::Path;

fn ok(args: &[&str]) {
    let o = medida(args);
    assert!(
        o.status.success(),
        "medida {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A small jet (48 x 96) for `steps` steps after a spin-up of 1 time unit (40 steps).
fn jet_run(out: &Path, steps: &str, extra: &[&str]) {
    let base = [
        "simulate",
        "-q",
        "--preset",
        "medida-jet",
        "--set",
        "model.nx=48",
        "--set",
        "model.ny=96",
        "--steps",
        steps,
        "--spinup",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    ok(&[&base[..], extra].concat());
}

fn final_bits(ckpt: &Path) -> Vec<u64> {
    Checkpoint::read(ckpt)
        .unwrap()
        .array("qh")
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn model_error_case_runs_the_imperfect_jet_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.h5");
    jet_run(&case, "120", &["--model-error", "case1002"]);
    let check = "import sys, xarray as xr\n\
        ds = xr.open_dataset(sys.argv[1], engine='h5netcdf')\n\
        assert ds.attrs['model_error_case'] == 'case1002'\n\
        assert ds.attrs['coefficient_bottom_drag'] == 0.37 and ds.attrs['coefficient_interface_relaxation'] == 0.11\n\
        assert ds.attrs['coefficient_jet_forcing'] == 0.11 and ds.attrs['coefficient_beta'] == 0.196\n\
        assert ds.x.attrs['units'] == '1' and ds.time.attrs['units'] == '1'\n\
        d = xr.open_dataset(sys.argv[1], engine='h5netcdf', group='diagnostics')\n\
        assert all(d[v].attrs['units'] == '1' for v in ['ke', 'ape', 'enstrophy']), d.ke.attrs\n\
        assert abs(ds.time.values - [1.0, 2.0, 3.0]).max() < 1e-12, ds.time.values\n";
    python_ok(&["-c", check, case.to_str().unwrap()]);

    // The same changes as a [model_error] table give the same bytes; the truth differs.
    let table = dir.path().join("table.h5");
    jet_run(
        &table,
        "120",
        &[
            "--set",
            "model_error.interface_relaxation=0.11",
            "--set",
            "model_error.jet_forcing=0.11",
            "--set",
            "model_error.bottom_drag=0.37",
        ],
    );
    let truth = dir.path().join("truth.h5");
    jet_run(&truth, "120", &[]);
    let ckpt = |p: &Path| p.with_extension("ckpt.h5");
    assert_eq!(final_bits(&ckpt(&case)), final_bits(&ckpt(&table)));
    assert_ne!(final_bits(&ckpt(&case)), final_bits(&ckpt(&truth)));
}

#[test]
fn jet_restart_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight.h5");
    jet_run(&straight, "160", &["--model-error", "case1004"]);
    let split = dir.path().join("split.h5");
    jet_run(&split, "80", &["--model-error", "case1004"]);
    ok(&[
        "simulate",
        "-q",
        "--restart",
        split.to_str().unwrap(),
        "--steps",
        "160",
    ]);
    assert_eq!(
        final_bits(&dir.path().join("split.ckpt.h5")),
        final_bits(&dir.path().join("straight.ckpt.h5"))
    );
}

#[test]
fn unknown_cases_and_foreign_terms_are_named_errors() {
    for (args, needle) in [
        (
            vec![
                "simulate",
                "--preset",
                "medida-jet",
                "--model-error",
                "case2001",
            ],
            "case1001",
        ),
        (
            vec!["simulate", "--model-error", "case1001"],
            "interface_relaxation",
        ),
        (
            vec![
                "simulate",
                "--preset",
                "medida-jet",
                "--set",
                "model_error.viscosity=1",
            ],
            "hyperviscosity",
        ),
        (vec!["config", "show", "--model-error", "nope"], "case1009"),
    ] {
        let o = medida(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in {err}"
        );
    }
}

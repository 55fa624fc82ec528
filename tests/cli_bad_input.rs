//! Bad input, table-driven: every setting of every preset given a wrong type, NaN or an infinity,
//! and the run lengths, thread counts and sizes out of range, is refused before anything is
//! written: exit status 2, an error that names the key, no output file, never a panic.

mod common;

use common::medida;
use std::path::Path;

/// `(key, value)` of every setting `medida config show --preset P` prints (`model.nx`, `64`).
fn settings(preset: &str) -> Vec<(String, String)> {
    let text = common::ok(&["config", "show", "--preset", preset]);
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((k, v)) = line.split_once(" = ") {
            out.push((format!("{section}.{k}"), v.to_string()));
        }
    }
    out
}

/// Values of the wrong kind for a setting whose value is `value`: another type always, and NaN
/// and both infinities for numbers (except `+inf` where it is meaningful: `model.rd = inf`, no
/// deformation radius, is 2-D turbulence).
fn wrong_values(key: &str, value: &str) -> Vec<String> {
    if value.starts_with('"') {
        vec!["1.5".into(), "\"bogus\"".into()]
    } else if value == "true" || value == "false" {
        vec!["\"yes\"".into(), "2".into()]
    } else {
        let mut v = vec!["\"text\"".into(), "nan".into(), "-inf".into()];
        if key != "model.rd" {
            v.push("inf".into());
        }
        v
    }
}

/// Runs `medida simulate --preset P --set ... --out OUT` and asserts it is refused with exit 2,
/// an error naming `names`, and no file at OUT.
fn refused(dir: &Path, preset: &str, sets: &[String], names: &str) {
    let out = dir.join("never.h5");
    let mut args = vec!["simulate", "-q", "--preset", preset, "--out"];
    args.push(out.to_str().unwrap());
    for s in sets {
        args.extend(["--set", s.as_str()]);
    }
    let o = medida(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{sets:?}: {err}");
    assert!(
        err.contains(names),
        "{sets:?}: the error does not name {names}: {err}"
    );
    assert!(!err.contains("panicked"), "{sets:?}: {err}");
    assert!(!out.exists(), "{sets:?}: a file was written");
}

#[test]
fn every_setting_of_the_wrong_kind_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut tried = 0;
    for preset in ["pyqg-eddy", "medida-jet", "2d-turbulence"] {
        // A one-step run (the jet without its spin-up), so only the bad value can fail it.
        let mut base = vec!["run.steps=1".to_string()];
        if preset == "medida-jet" {
            base.push("run.spinup=0".into());
        }
        for (key, value) in settings(preset) {
            let name = key.rsplit('.').next().unwrap();
            for bad in wrong_values(&key, &value) {
                let sets = [&base[..], &[format!("{key}={bad}")]].concat();
                refused(dir.path(), preset, &sets, name);
                tried += 1;
            }
        }
    }
    assert!(tried > 100, "{tried} cases");
}

#[test]
fn sizes_lengths_and_counts_out_of_range_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["model.nx=100000", "model.ny=100000"], "nx"),
        (&["model.nx=4"], "nx"),
        (&["run.steps=9007199254740993"], "run.steps"),
        (&["run.tmax=1e300"], "run.tmax"),
        (&["run.threads=0"], "run.threads"),
        (&["model.dt=-1"], "dt"),
        (&["init.scale=0"], "init.scale"),
        // Unstable at the first step: the CFL number of the initial state names dt.
        (&["model.dt=1e300"], "model.dt"),
        (&["output.compression=10"], "compression"),
    ];
    for (sets, names) in cases {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        refused(dir.path(), "pyqg-eddy", &sets, names);
    }
    // The demo's window and filter, before the spin-up runs.
    let demo_dir = dir.path().join("demo-window");
    for (args, msg) in [
        (
            &["--window", "0"][..],
            "--window 0: allowed 1 or more steps",
        ),
        (
            &["--filter", "kalman"],
            "--filter kalman: allowed oi, enkf or letkf",
        ),
        (
            &["--member-precision", "f32"],
            "--member-precision f32: allowed only with --filter enkf|letkf",
        ),
    ] {
        let o = medida(&[&["demo", "--dir", demo_dir.to_str().unwrap()], args].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(msg), "{args:?}: {err}");
        assert!(!demo_dir.join("truth.h5").exists());
    }
    // Thread counts on every command that takes them, before anything runs.
    for args in [
        &["discover", "--increments", "none.h5", "--threads", "0"][..],
        &["increments", "--truth", "none.h5", "--threads", "300"],
        &["demo", "--threads", "0"],
        &["closure", "discover", "--data", "none", "--threads", "0"],
    ] {
        let o = medida(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("--threads") && err.contains("1 to 256"),
            "{args:?}: {err}"
        );
    }
}

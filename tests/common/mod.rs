//! Helpers shared by the end-to-end tests of the `medida` binary.
#![allow(dead_code)] // each test file uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `medida args`.
pub fn medida(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medida"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `medida args`, asserts success and returns stdout.
pub fn ok(args: &[&str]) -> String {
    let o = medida(args);
    assert!(
        o.status.success(),
        "medida {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A MEDIDA-jet truth run written once per test binary to `CARGO_TARGET_TMPDIR/name`, with the
/// preset, no checkpoints and `extra` settings (`--spinup`, `--tmax`, `--set`, ...).
pub fn jet_truth(name: &str, extra: &[&str]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let args = [
        "simulate",
        "-q",
        "--preset",
        "medida-jet",
        "--set",
        "output.checkpoint_interval=0",
        "--out",
        path.to_str().unwrap(),
    ];
    ok(&[&args[..], extra].concat());
    path
}

/// `medida increments --quiet --truth TRUTH --model-error CASE --out NEW_FILE extra...`, into a
/// file name unique within the test binary.
pub fn increments(truth: &Path, case: &str, extra: &[&str]) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("incr-{case}-{n}.h5"));
    let args = [
        "increments",
        "--quiet",
        "--truth",
        truth.to_str().unwrap(),
        "--model-error",
        case,
        "--out",
        out.to_str().unwrap(),
    ];
    ok(&[&args[..], extra].concat());
    out
}

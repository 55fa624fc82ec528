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

/// Runs medida with `args`, then each of `defaults` whose flag `extra` does not give, then
/// `extra`.
pub fn medida_with(args: &[&str], defaults: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut all = args.to_vec();
    for (flag, value) in defaults {
        if !extra.contains(flag) {
            all.extend([*flag, *value]);
        }
    }
    all.extend(extra);
    medida(&all)
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

/// A MEDIDA-jet truth run written once per test binary to `CARGO_TARGET_TMPDIR/name` (replacing
/// the last test run's), with the preset, no checkpoints and `extra` settings (`--spinup`,
/// `--tmax`, `--set`, ...).
pub fn jet_truth(name: &str, extra: &[&str]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let args = [
        "simulate",
        "-q",
        "--preset",
        "medida-jet",
        "--set",
        "output.checkpoint_interval=0",
        "--overwrite",
        "--out",
        path.to_str().unwrap(),
    ];
    ok(&[&args[..], extra].concat());
    path
}

/// A 48 x 96 jet after 20 time units, 2 snapshots, written once per test binary to
/// `CARGO_TARGET_TMPDIR/name`.
pub fn small_jet_truth(name: &str) -> PathBuf {
    jet_truth(
        name,
        &[
            "--set",
            "model.nx=48",
            "--set",
            "model.ny=96",
            "--spinup",
            "20",
            "--tmax",
            "21",
        ],
    )
}

/// `medida increments --quiet --truth TRUTH --model-error CASE --out NEW_FILE extra...`, into a
/// file name unique within the test binary (replacing the last test run's).
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
        "--overwrite",
        "--out",
        out.to_str().unwrap(),
    ];
    ok(&[&args[..], extra].concat());
    out
}

/// `medida increments --truth TRUTH --model-error case1001 ... args` must exit 2 with `msg` in its
/// error and write nothing.
pub fn increments_refused(truth: &Path, args: &[&str], msg: &str) {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("never-written.h5");
    let base = [
        "increments",
        "--truth",
        truth.to_str().unwrap(),
        "--model-error",
        "case1001",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = medida(&[&base[..], args].concat());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(msg), "{args:?}: {err}");
    assert!(!out.exists(), "{args:?} wrote {}", out.display());
}

/// Decodes `path`, checks its size (`height = None`: any height from 300 to 1400) and that the
/// luminance varies (standard deviation above 20 of 255) with more than a handful of colours.
pub fn check_png(path: &Path, width: u32, height: Option<u32>) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.width(), width, "{}", path.display());
    match height {
        Some(h) => assert_eq!(img.height(), h, "{}", path.display()),
        None => assert!((300..=1400).contains(&img.height()), "{}", path.display()),
    }
    let lum: Vec<f64> = img
        .pixels()
        .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let std = (lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64).sqrt();
    assert!(std > 20.0, "{}: luminance std {std:.1}", path.display());
    // Nothing clipped: no ink (a title, a tick label, a line) within 2 pixels of an edge.
    let (w, h) = img.dimensions();
    let edge = img
        .enumerate_pixels()
        .filter(|(x, y, _)| *x < 2 || *y < 2 || *x + 2 >= w || *y + 2 >= h)
        .find(|(_, _, p)| p.0.iter().any(|&c| c < 195));
    assert!(
        edge.is_none(),
        "{}: ink at the edge (clipped?) at {:?}",
        path.display(),
        edge.map(|(x, y, _)| (x, y))
    );
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 8,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
}

/// The Python with h5py and xarray: $MEDIDA_PYTHON, else the repository's .venv (scripts/setup.sh).
pub fn python() -> PathBuf {
    let p = std::env::var_os("MEDIDA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run scripts/setup.sh or set MEDIDA_PYTHON",
        p.display()
    );
    p
}

/// The Python with pyqg 0.7.2, scipy and h5py: $MEDIDA_PYQG_PYTHON, else the repository's
/// .venv-pyqg (scripts/setup.sh).
pub fn pyqg_python() -> PathBuf {
    let p = std::env::var_os("MEDIDA_PYQG_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-pyqg/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run scripts/setup.sh or set MEDIDA_PYQG_PYTHON",
        p.display()
    );
    p
}

/// Runs the Python of [`python`] with `args` (`-c SCRIPT ...` or `SCRIPT ...`); asserts that it
/// succeeds and returns what it printed.
pub fn python_ok(args: &[&str]) -> String {
    run_python(python(), args)
}

/// [`python_ok`] with the pyqg Python ([`pyqg_python`]).
pub fn pyqg_python_ok(args: &[&str]) -> String {
    run_python(pyqg_python(), args)
}

fn run_python(python: PathBuf, args: &[&str]) -> String {
    let out = Command::new(python).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "python {:?}: {}{}",
        args.first(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A 2-run eddy closure dataset in `dir`, 32 -> 16, a tenth of a year, a snapshot every 50 h
/// (the second half: 9 snapshots per run).
pub fn small_eddy_dataset(dir: &Path) {
    ok(&[
        "closure",
        "data",
        "--quiet",
        "--hr",
        "32",
        "--lr",
        "16",
        "--runs",
        "2",
        "--years",
        "0.1",
        "--snapshot-hours",
        "50",
        "--out",
        dir.to_str().unwrap(),
    ]);
}

/// `medida closure data --quiet` of an eddy dataset, 64 -> 16: `runs` runs of `years`, a
/// snapshot every `hours`, into `out`.
pub fn closure_data_args(out: &Path, runs: &str, years: &str, hours: &str) -> Vec<String> {
    [
        "closure",
        "data",
        "--quiet",
        "--hr",
        "64",
        "--lr",
        "16",
        "--runs",
        runs,
        "--years",
        years,
        "--snapshot-hours",
        hours,
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

/// The arguments as `&str`.
pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A small ensemble filter `filter` (enkf or letkf): 8 members, 1 time unit analysed every 10
/// steps, a quarter observed with noise.
pub const fn small_ensemble(filter: &'static str) -> [&'static str; 18] {
    [
        "--observe",
        "fraction=0.25,noise=0.01,seed=2",
        "--assimilate",
        "1",
        "--filter",
        filter,
        "--members",
        "8",
        "--localization",
        "1",
        "--batch",
        "1",
        "--relaxation",
        "rtps=0.5",
        "--additive",
        "0.5",
        "--update-every",
        "10",
    ]
}

/// The hybrid-gain LETKF of the jet's benches: `members`, localization radius `radius` (grid
/// points), 2 x 2 domains, RTPS 0.5, the whole hybrid gain.
pub const fn letkf(members: &'static str, radius: &'static str) -> [&'static str; 12] {
    [
        "--filter",
        "letkf",
        "--members",
        members,
        "--localization",
        radius,
        "--batch",
        "2",
        "--relaxation",
        "rtps=0.5",
        "--hybrid",
        "1",
    ]
}

//! End-to-end tests of the `medida` binary: output read by Python (h5py, xarray), restart after a
//! real SIGKILL, and bad input.

mod common;

use common::python_ok;
use medida_data::Checkpoint;
use medida_solver::{Model, QgParams};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn medida() -> Command {
    Command::new(env!("CARGO_BIN_EXE_medida"))
}

fn run_ok(args: &[&str]) -> Output {
    let out = medida().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "medida {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn h5py_and_xarray_read_what_rust_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.h5");
    let o = out.to_str().unwrap();
    run_ok(&[
        "simulate",
        "-q",
        "--steps",
        "24",
        "--set",
        "output.snapshot_interval=12",
        "--set",
        "output.diagnostics_interval=6",
        "--set",
        "output.spectral=true",
        "--out",
        o,
    ]);

    // The same run in-process.
    let mut m = Model::new(QgParams::default()).unwrap();
    m.set_pyqg_random_q(0);
    let mut ke = Vec::new();
    for _ in 0..4 {
        ke.push(m.diagnostics().ke);
        m.run(6).unwrap();
    }
    ke.push(m.diagnostics().ke);
    let expected = dir.path().join("expected.npz");
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(&expected).unwrap());
    npz.add_array("q", &m.q()).unwrap();
    npz.add_array("time", &ndarray::arr1(&[0.0, 12.0 * 7200.0, 24.0 * 7200.0]))
        .unwrap();
    npz.add_array("ke", &ndarray::Array1::from(ke)).unwrap();
    npz.add_array("nx", &ndarray::arr0(64.0)).unwrap();
    npz.add_array("dt", &ndarray::arr0(7200.0)).unwrap();
    npz.finish().unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_output.py");
    python_ok(&[
        script.to_str().unwrap(),
        out.to_str().unwrap(),
        expected.to_str().unwrap(),
    ]);
}

/// pyqg's everyday xarray snippets (`ds.q + ds.Qy * ds.y`, `ds.ufull`, `ds.attrs['pyqg:rd']`,
/// `ds.sel(lev=1)`, ...) run on a medida output and on pyqg 0.7.2's own `to_dataset()` of the
/// same run and agree to 1e-12, as do the complex `qh`, `ph` and the time-averaged diagnostics;
/// `xr.open_datatree` opens the file (tests/pyqg/snippets.py).
#[test]
fn a_pyqg_users_snippets_run_on_medidas_file_as_on_pyqgs_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.h5");
    run_ok(&[
        "simulate",
        "-q",
        "--preset",
        "pyqg-eddy",
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
        "--set",
        "init.seed=3",
        "--steps",
        "40",
        "--set",
        "output.snapshot_interval=20",
        "--set",
        "output.checkpoint_interval=0",
        // pyqg's qh, ph and its time-averaged diagnostics (from step 10, every other step).
        "--set",
        "output.spectral=true",
        "--set",
        "output.tavestart=72000",
        "--set",
        "output.taveint=14400",
        "--out",
        out.to_str().unwrap(),
    ]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyqg/snippets.py");
    let said = common::pyqg_python_ok(&[script.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(said.starts_with("ok:"), "{said}");
}

/// `xr.open_datatree` opens and loads every kind of output: a run (with pyqg's spectral fields and
/// averages) and its checkpoint, increments (full and observed), a discovery's results, a closure
/// dataset's run and checkpoint, a closure discovery's results; the field files have named
/// dimensions throughout (tests/python/open_datatree.py).
#[test]
fn every_kind_of_output_opens_as_a_datatree() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (run, inc, obs, res, data, closure) = (
        p("run.h5"),
        p("inc.h5"),
        p("obs.h5"),
        p("res.json"),
        p("data"),
        p("closure.json"),
    );
    let small = ["--set", "model.nx=32", "--set", "model.ny=32"];
    let spectral = [
        "--set",
        "output.spectral=true",
        "--set",
        "output.tavestart=72000",
        "--set",
        "output.checkpoint_interval=20",
    ];
    let simulate = ["simulate", "-q", "--preset", "pyqg-eddy", "--steps", "40"];
    let set_out = ["--set", "output.snapshot_interval=20", "--out", &run];
    run_ok(&[&simulate[..], &small, &spectral, &set_out].concat());
    let error = ["--set", "model_error.bottom_drag=1e-6"];
    run_ok(
        &[
            &["increments", "-q", "--truth", &run, "--out", &inc][..],
            &error,
        ]
        .concat(),
    );
    let observe = ["--observe", "fraction=0.5", "--out", &obs];
    run_ok(&[&["increments", "-q", "--truth", &run][..], &error, &observe].concat());
    let library = ["--library", "pyqg"];
    run_ok(
        &[
            &["discover", "-q", "--increments", &inc, "--out", &res][..],
            &library,
        ]
        .concat(),
    );
    common::small_eddy_dataset(Path::new(&data));
    let held_out = ["--train", "0", "--test", "1", "--out", &closure];
    run_ok(
        &[
            &["closure", "discover", "--data", &data, "--library", "ross7"][..],
            &held_out,
        ]
        .concat(),
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/open_datatree.py");
    let files = [
        run.clone(),
        inc,
        obs,
        format!("{data}/run0.h5"),
        p("closure.h5"),
        "--plain".into(),
        p("res.h5"),
        p("run.ckpt.h5"),
        format!("{data}/run0.ckpt.h5"),
    ];
    let args: Vec<&str> = std::iter::once(script.to_str().unwrap())
        .chain(files.iter().map(String::as_str))
        .collect();
    let said = python_ok(&args);
    assert_eq!(
        said.lines().filter(|l| l.starts_with("ok ")).count(),
        8,
        "{said}"
    );
}

/// A run in progress owns its output: a second run asked to replace it (`--overwrite`) or to
/// continue it (`--restart`) is refused with exit 2 naming the writing process, and the running
/// output is untouched; once that process is gone, replacing works. Readers open it meanwhile
/// with xarray's defaults.
#[test]
fn a_running_output_is_not_replaced_or_continued_by_another_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.h5");
    let o = out.to_str().unwrap();
    // A long run whose output is small (one snapshot, at the end: its room is allocated at once).
    let small = [
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
        "--set",
        "output.snapshot_interval=0",
    ];
    let mut first = medida()
        .args(
            [
                &["simulate", "-q", "--steps", "100000000", "--out", o][..],
                &small,
            ]
            .concat(),
        )
        .spawn()
        .unwrap();
    let start = Instant::now();
    // Until the run has its output open for writing (HDF5's lock).
    while medida_data::check_not_written(&out).is_ok() && start.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = first.id().to_string();
    // A reader opens it as any file (no lock option), seeing no snapshot yet (one, at the end).
    let seen = python_ok(&[
        "-c",
        "import sys, xarray as xr; ds = xr.open_dataset(sys.argv[1], engine='h5netcdf'); print(ds.sizes['time'], int(ds.time.notnull().sum()))",
        o,
    ]);
    assert_eq!(seen.trim(), "1 0");
    let replace = [
        &["simulate", "-q", "--steps", "10", "--overwrite", "--out", o][..],
        &small,
    ]
    .concat();
    for second in [&replace[..], &["simulate", "-q", "--restart", o]] {
        let r = medida().args(second).output().unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{second:?}: {err}");
        assert!(
            err.contains("being written by another run") && err.contains(&pid),
            "{second:?}: {err}"
        );
    }
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run was stopped"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    run_ok(&replace);
}

/// The final model state in a checkpoint: (name, f64 bits) of every array.
fn final_state(ckpt: &Path) -> Vec<(String, Vec<u64>)> {
    let c = Checkpoint::read(ckpt).unwrap();
    c.arrays
        .iter()
        .map(|(n, a)| (n.clone(), a.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

#[test]
fn restart_after_sigkill_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let steps = "20000";
    let common = [
        "--set",
        "output.checkpoint_interval=1000",
        "--set",
        "output.snapshot_interval=500",
        "-q",
    ];
    let straight = dir.path().join("straight.h5");
    let mut args = vec![
        "simulate",
        "--steps",
        steps,
        "--out",
        straight.to_str().unwrap(),
    ];
    args.extend(common);
    run_ok(&args);

    let killed = dir.path().join("killed.h5");
    let ckpt = dir.path().join("killed.ckpt.h5");
    let mut first = vec![
        "simulate",
        "--steps",
        steps,
        "--out",
        killed.to_str().unwrap(),
    ];
    first.extend(common);
    let restart = ["simulate", "-q", "--restart", killed.to_str().unwrap()];
    // Kill three times at different moments, each time after a new checkpoint appeared.
    let mut kills = 0;
    for (round, wait_ms) in [7u64, 23, 41].into_iter().enumerate() {
        let before = std::fs::metadata(&ckpt).and_then(|m| m.modified()).ok();
        let mut child = medida()
            .args(if round == 0 { &first[..] } else { &restart[..] })
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::fs::metadata(&ckpt).and_then(|m| m.modified()).ok() == before
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(wait_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        Checkpoint::read(&ckpt).expect("a checkpoint survives SIGKILL whole");
        medida_data::read_array(&killed, "q").expect("the output stays readable after SIGKILL");
    }
    assert!(
        kills >= 2,
        "the runs finished before they could be killed ({kills} kills)"
    );
    run_ok(&restart);
    assert!(
        final_state(&ckpt) == final_state(&dir.path().join("straight.ckpt.h5")),
        "restarted run differs from the straight run"
    );
    let q_a = medida_data::read_array(&killed, "q").unwrap();
    let q_b = medida_data::read_array(&straight, "q").unwrap();
    assert_eq!(q_a, q_b, "snapshots of the restarted run differ");
}

/// Runs medida expecting bad-input failure: exit code 2, `needle` in the message, no output written.
fn rejects(args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.h5");
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--out", out.to_str().unwrap()]);
    let o = medida()
        .current_dir(dir.path())
        .args(&full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "medida {args:?}: {err}");
    assert!(
        err.contains(needle),
        "medida {args:?}: expected {needle:?} in: {err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "medida {args:?} left files: {left:?}");
}

#[test]
fn bad_input_is_a_named_error_with_exit_code_2_and_no_output() {
    rejects(&["simulate", "--set", "model.dt=-1"], "`dt` = -1");
    rejects(&["simulate", "--set", "model.nx=63"], "`nx` = 63");
    rejects(&["simulate", "--set", "model.nx=4"], "`nx` = 4");
    rejects(&["simulate", "--set", "model.viscosity=1e3"], "viscosity");
    rejects(
        &["simulate", "--set", "output.precision=f16"],
        "output.precision",
    );
    rejects(&["simulate", "--config", "missing.toml"], "missing.toml");
    rejects(&["simulate", "--init", "missing.npy"], "missing.npy");
    rejects(&["simulate", "--preset", "pyqg-ocean"], "pyqg-eddy");
    rejects(
        &[
            "simulate",
            "--preset",
            "pyqg-eddy",
            "--model-error",
            "case1001",
        ],
        "--model-error case1001: the MEDIDA study's model-error cases change terms of its forced jet (run them with --preset medida-jet)",
    );
    rejects(
        &["simulate", "--steps", "10", "--tmax", "1e5"],
        "--steps or --tmax",
    );
}

/// `--restart` continues only a checkpoint of the output's own run: another run's checkpoint
/// beside it (the run identity differs) and a tampered one (negative or fractional counts, NaN
/// time, counts the config does not schedule) are refused with exit 2 before anything is
/// written; the output's bytes stay as they were.
#[test]
fn restart_refuses_another_runs_or_a_tampered_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        run_ok(&[
            "simulate",
            "-q",
            "--steps",
            "30",
            "--set",
            "model.nx=32",
            "--set",
            "model.ny=32",
            "--set",
            &format!("init.seed={seed}"),
            "--set",
            "output.snapshot_interval=10",
            "--set",
            "output.checkpoint_interval=20",
            "--out",
            out.to_str().unwrap(),
        ]);
        out
    };
    run("a.h5", "1");
    let b = run("b.h5", "2");
    let (ckpt_a, ckpt_b) = (dir.path().join("a.ckpt.h5"), dir.path().join("b.ckpt.h5"));
    let continue_b = [
        "simulate",
        "-q",
        "--steps",
        "40",
        "--restart",
        b.to_str().unwrap(),
    ];
    let restart = |expect: &str| {
        let before = std::fs::read(&b).unwrap();
        let r = medida().args(continue_b).output().unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{expect}: {err}");
        assert!(err.contains(expect), "expected {expect:?} in {err}");
        assert_eq!(
            std::fs::read(&b).unwrap(),
            before,
            "{expect}: the output changed"
        );
    };
    // Run a's checkpoint beside run b's output.
    let own = std::fs::read(&ckpt_b).unwrap();
    std::fs::copy(&ckpt_a, &ckpt_b).unwrap();
    restart("two different runs");
    std::fs::write(&ckpt_b, &own).unwrap();
    // b's own checkpoint with one number changed.
    for (name, value, expect) in [
        ("tc", -1.0, "valid model state"),
        ("t", f64::NAN, "valid model state"),
        ("n_snapshots", 2.5, "n_snapshots = 2.5"),
        ("n_snapshots", 1.0, "not a checkpoint of this run"),
        ("n_series", -3.0, "n_series = -3"),
    ] {
        let mut c = Checkpoint::read(&ckpt_b).unwrap();
        c.numbers.iter_mut().find(|(n, _)| n == name).unwrap().1 = value;
        c.write_atomic(&ckpt_b).unwrap();
        restart(expect);
        std::fs::write(&ckpt_b, &own).unwrap();
    }
    // Untampered, it continues.
    run_ok(&continue_b);
}

#[test]
fn truncated_restart_file_is_rejected_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.h5");
    run_ok(&[
        "simulate",
        "-q",
        "--steps",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    let ckpt = dir.path().join("run.ckpt.h5");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() / 3]).unwrap();
    let before = std::fs::read(&out).unwrap();
    let restart = || {
        medida()
            .args([
                "simulate",
                "--restart",
                out.to_str().unwrap(),
                "--steps",
                "40",
            ])
            .output()
            .unwrap()
    };
    let o = restart();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("run.ckpt.h5"), "{err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the output was modified"
    );
    // A truncated output (with a good checkpoint) is rejected too.
    std::fs::write(&ckpt, &bytes).unwrap();
    std::fs::write(&out, &before[..before.len() / 2]).unwrap();
    let o = restart();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("run.h5"));

    // A restart asked for fewer steps than the run has done is refused, naming both.
    std::fs::write(&out, &before).unwrap();
    let o = medida()
        .args([
            "simulate",
            "--restart",
            out.to_str().unwrap(),
            "--steps",
            "10",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("has done 20 steps, more than the 10 asked for"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the output was modified"
    );
}

#[test]
fn init_from_npy_and_config_show_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let show = run_ok(&[
        "config",
        "show",
        "--preset",
        "pyqg-jet",
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
    ]);
    let cfg = dir.path().join("jet.toml");
    std::fs::write(&cfg, &show.stdout).unwrap();
    assert!(String::from_utf8_lossy(&show.stdout).contains("bottom_drag = 7e-8"));

    let mut m = Model::new(QgParams {
        nx: 32,
        ny: 32,
        ..Default::default()
    })
    .unwrap();
    m.set_pyqg_random_q(5);
    let q0 = m.q();
    let npy = dir.path().join("q0.npy");
    ndarray_npy::write_npy(&npy, &q0).unwrap();
    let out = dir.path().join("run.h5");
    run_ok(&[
        "simulate",
        "-q",
        "--config",
        cfg.to_str().unwrap(),
        "--init",
        npy.to_str().unwrap(),
        "--steps",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    let q = medida_data::read_array(&out, "q").unwrap();
    assert_eq!(q.index_axis(ndarray::Axis(0), 0), q0.into_dyn().view());
}

#[test]
fn snapshot_interval_zero_writes_the_final_state_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.h5");
    run_ok(&[
        "simulate",
        "-q",
        "--steps",
        "8",
        "--set",
        "model.nx=16",
        "--set",
        "model.ny=16",
        "--set",
        "output.snapshot_interval=0",
        "--out",
        out.to_str().unwrap(),
    ]);
    let time = medida_data::read_array(&out, "time").unwrap();
    assert_eq!(time.iter().copied().collect::<Vec<f64>>(), [8.0 * 7200.0]);
    let mut m = Model::new(QgParams {
        nx: 16,
        ny: 16,
        ..Default::default()
    })
    .unwrap();
    m.set_pyqg_random_q(0);
    m.run(8).unwrap();
    let q = medida_data::read_array(&out, "q").unwrap();
    assert_eq!(q.shape(), [1, 2, 16, 16]);
    assert_eq!(
        q.iter().copied().collect::<Vec<f64>>(),
        m.q().iter().copied().collect::<Vec<f64>>()
    );
}

#[test]
fn init_from_a_run_chooses_and_names_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let small = ["--set", "model.nx=16", "--set", "model.ny=16"];
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["simulate", "-q", "--out"];
        let out = path(out);
        args.push(&out);
        args.extend(small);
        args.extend(extra);
        medida().args(&args).output().unwrap()
    };
    let o = run(
        "source.h5",
        &["--steps", "16", "--set", "output.snapshot_interval=8"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let source = path("source.h5");
    let o = run(
        "from1.h5",
        &[
            "--init",
            &source,
            "--time",
            "1",
            "--steps",
            "8",
            "--set",
            "output.snapshot_interval=8",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let q = |p: &str, i: usize| {
        let a = medida_data::read_array(Path::new(p), "q").unwrap();
        a.index_axis(ndarray::Axis(0), i).to_owned()
    };
    assert_eq!(q(&path("from1.h5"), 0), q(&source, 1));
    let init =
        medida_data::read_text_attr(Path::new(&path("from1.h5")), "initial_condition").unwrap();
    assert!(
        init.contains("snapshot 1 of 3, t = 57600"),
        "the output names the state it started from: {init}"
    );
    // Out of range, and a file without snapshots: named errors, exit 2, no output.
    for (extra, msg) in [
        (
            vec!["--init", &source, "--time", "3"],
            "--time 3: allowed -3 to 2",
        ),
        (
            vec!["--init", &source, "--time", "-4"],
            "--time -4: allowed -3 to 2",
        ),
    ] {
        let o = run("bad.h5", &[&extra[..], &["--steps", "1"]].concat());
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{e}");
        assert!(e.contains(msg), "{e}");
        assert!(!dir.path().join("bad.h5").exists());
    }
    // A file without snapshots (a run killed before its first).
    python_ok(&[
        "-c",
        "import sys, h5py; h5py.File(sys.argv[1], 'w').create_dataset('q', shape=(0, 2, 16, 16), maxshape=(None, 2, 16, 16))",
        &path("empty.h5"),
    ]);
    let o = run("bad.h5", &["--init", &path("empty.h5"), "--steps", "1"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("holds no snapshot"), "{e}");
}

/// `medida completions SHELL` prints a script that knows every subcommand and flag; an unknown
/// shell is a usage error naming the allowed ones.
#[test]
fn completions_know_the_subcommands() {
    let bash = String::from_utf8(run_ok(&["completions", "bash"]).stdout).unwrap();
    for word in [
        "simulate",
        "train-rl",
        "calibrate",
        "--model-error",
        "--preset",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let zsh = String::from_utf8(run_ok(&["completions", "zsh"]).stdout).unwrap();
    assert!(zsh.starts_with("#compdef medida"), "{}", &zsh[..40]);
    let out = medida().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bash") && err.contains("fish"), "{err}");
}

/// pyqg's own files (`m.to_dataset().to_netcdf(...)`, and several concatenated along time) are
/// an initial state (`--init`, taking pyqg's parameters from the file), a truth
/// (`increments --truth`) and a figure source (`plot`).
#[test]
fn a_pyqg_file_is_an_initial_state_a_truth_and_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let (one, three) = (dir.path().join("one.nc"), dir.path().join("three.nc"));
    common::pyqg_python_ok(&[
        "-c",
        "import sys, numpy as np, pyqg, xarray as xr\n\
         np.random.seed(1)\n\
         m = pyqg.QGModel(nx=32, L=2e6, W=2e6, dt=3600., rek=1e-6, U1=0.03, beta=1.2e-11, ntd=1, log_level=0)\n\
         dss = []\n\
         for k in range(3):\n\
         \x20   for _ in range(24):\n\
         \x20       m._step_forward()\n\
         \x20   dss.append(m.to_dataset())\n\
         dss[-1].to_netcdf(sys.argv[1], engine='h5netcdf', invalid_netcdf=True)\n\
         xr.concat(dss, 'time').to_netcdf(sys.argv[2], engine='h5netcdf', invalid_netcdf=True)\n",
        one.to_str().unwrap(),
        three.to_str().unwrap(),
    ]);
    let run = dir.path().join("run.h5");
    run_ok(&[
        "simulate",
        "-q",
        "--init",
        one.to_str().unwrap(),
        "--steps",
        "4",
        "--set",
        "output.checkpoint_interval=0",
        "--out",
        run.to_str().unwrap(),
    ]);
    let num = |name: &str| medida_data::read_number_attr(&run, name).unwrap();
    assert_eq!(
        [num("pyqg:nx"), num("pyqg:L"), num("pyqg:dt")],
        [32.0, 2e6, 3600.0]
    );
    assert_eq!([num("pyqg:rek"), num("pyqg:beta")], [1e-6, 1.2e-11]);
    let ubg = medida_data::read_array(&run, "Ubg").unwrap();
    assert_eq!(ubg.as_slice().unwrap(), &[0.03, 0.0]);
    let q0 = medida_data::read_array(&run, "q").unwrap();
    let pyqg_q = medida_data::read_array(&one, "q").unwrap();
    assert_eq!(
        q0.index_axis(ndarray::Axis(0), 0),
        pyqg_q.index_axis(ndarray::Axis(0), 0),
        "the run starts from pyqg's state"
    );
    let init = medida_data::read_text_attr(&run, "initial_condition").unwrap();
    assert!(init.contains("one.nc, snapshot 0 of 1"), "{init}");

    let inc = dir.path().join("inc.h5");
    run_ok(&[
        "increments",
        "-q",
        "--truth",
        three.to_str().unwrap(),
        "--set",
        "model_error.bottom_drag=2e-6",
        "--out",
        inc.to_str().unwrap(),
    ]);
    let dqdt = medida_data::read_array(&inc, "dqdt").unwrap();
    assert_eq!(dqdt.shape(), &[3, 2, 32, 32]);
    assert!(dqdt.iter().all(|x| x.is_finite()) && dqdt.iter().any(|&x| x != 0.0));

    let figs = dir.path().join("figs");
    let listed = String::from_utf8(
        run_ok(&[
            "plot",
            three.to_str().unwrap(),
            "--out",
            figs.to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(listed.lines().count(), 3, "{listed}");
}

/// A second run never replaces a first by accident: an existing --out is refused (exit 2, the
/// file untouched) unless --overwrite; an output equal to the input is refused even then; the
/// checkpoint beside a replaced run is the new run's.
#[test]
fn a_second_run_does_not_replace_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.h5");
    let ckpt = dir.path().join("run.ckpt.h5");
    let o = out.to_str().unwrap();
    let small = [
        "simulate",
        "-q",
        "--steps",
        "8",
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        small.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run_ok = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok(&args)
    };
    run_ok(with(&["--set", "output.checkpoint_interval=4", "--out", o]));
    assert!(ckpt.exists());
    let first = std::fs::read(&out).unwrap();
    let again = medida()
        .args(with(&["--set", "init.seed=7", "--out", o]))
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("exists") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        first,
        "the first run's file changed"
    );
    // Its own initial state: refused, with or without --overwrite.
    for extra in [&[][..], &["--overwrite"][..]] {
        let args = with(&[&["--init", o, "--out", o][..], extra].concat());
        let same = medida().args(&args).output().unwrap();
        assert_eq!(same.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&same.stderr).contains("is the input file"));
    }
    assert_eq!(std::fs::read(&out).unwrap(), first);
    // increments into its own truth: refused.
    let inc = medida()
        .args([
            "increments",
            "--truth",
            o,
            "--set",
            "model_error.bottom_drag=1e-6",
            "--out",
            o,
        ])
        .output()
        .unwrap();
    assert_eq!(inc.status.code(), Some(2));
    assert_eq!(std::fs::read(&out).unwrap(), first);
    // --overwrite replaces the run; the old checkpoint goes with it.
    run_ok(with(&[
        "--overwrite",
        "--set",
        "init.seed=7",
        "--set",
        "output.checkpoint_interval=0",
        "--out",
        o,
    ]));
    assert_ne!(std::fs::read(&out).unwrap(), first);
    let c = Checkpoint::read(&ckpt).unwrap();
    assert!(
        c.text("config").unwrap().contains("seed = 7"),
        "the checkpoint is not the new run's"
    );
}

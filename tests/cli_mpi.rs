//! `mpirun -n N medida discover|fit|closure data|closure calibrate` (cargo feature `mpi`): every
//! rank fits its share of the rows, makes its share of a dataset's runs or runs its share of a
//! calibration's members, and the result is the one-process result byte for byte; rank 0 alone
//! prints and writes the results.
//!
//!     cargo test --features mpi --test cli_mpi
//!
//! Needs OpenMPI's `mpirun` (Debian: openmpi-bin; scripts/test.sh runs this when it is there).
#![cfg(feature = "mpi")]

mod common;

use common::{closure_data_args, ok, small_jet_truth, strs};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `mpirun -n ranks medida args`: its stdout, asserting success.
fn mpirun(ranks: usize, args: &[&str]) -> String {
    String::from_utf8(mpirun_output(ranks, args).stdout).unwrap()
}

/// `mpirun -n ranks medida args`, asserting success.
fn mpirun_output(ranks: usize, args: &[&str]) -> std::process::Output {
    let o = Command::new("mpirun")
        // As root in CI containers; more ranks than cores on small machines.
        .args(["--allow-run-as-root", "--oversubscribe", "-n"])
        .arg(ranks.to_string())
        .arg(env!("CARGO_BIN_EXE_medida"))
        .args(args)
        .output()
        .expect("mpirun (OpenMPI) on the PATH");
    assert!(
        o.status.success(),
        "mpirun -n {ranks} medida {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// `timeout SECONDS mpirun -n ranks` (as root, oversubscribed), to be given its program: a job
/// left hanging becomes a failure (exit 124).
fn mpirun_within(seconds: u32, ranks: usize) -> Command {
    let mut c = Command::new("timeout");
    c.arg(seconds.to_string())
        .args(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n"])
        .arg(ranks.to_string());
    c
}

/// `name` in the tests' directory, with what an earlier run left under it (and, for a report
/// FILE.json, its FILE.h5) removed.
fn tmp(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_file(&p);
    let _ = std::fs::remove_file(p.with_extension("h5"));
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn discover_over_ranks_equals_one_process_byte_for_byte() {
    let truth = small_jet_truth("mpi-jet-truth.h5");
    let full = common::increments(&truth, "case1002", &[]);
    // Sparse stations: a different number of rows per snapshot.
    let sparse = common::increments(&truth, "case1002", &["--observe", "fraction=0.5"]);
    for (incr, extra) in [
        (&full, &[][..]),
        (&full, &["--select", "cv", "--ensemble", "8"][..]),
        (&sparse, &["--optimizer", "rvm", "--block-rows", "500"][..]),
    ] {
        let args = [&["discover", "--json", "--increments", s(incr)][..], extra].concat();
        let alone = ok(&args);
        assert!(alone.contains("\"support_exact\""), "{alone}");
        for ranks in [2, 3] {
            assert_eq!(mpirun(ranks, &args), alone, "{ranks} ranks, {extra:?}");
        }
    }
    // Rank 0 alone writes the report, the same file as one process writes.
    let (one, two) = (tmp("mpi-one.json"), tmp("mpi-two.json"));
    let args = ["discover", "-q", "--increments", s(&full), "--out"];
    let table = ok(&[&args[..], &[s(&one)]].concat());
    assert_eq!(
        mpirun(2, &[&args[..], &[s(&two)]].concat()),
        table,
        "one table, rank 0's"
    );
    // Without -q: the note says the ranks shared the fit.
    let o = mpirun_output(2, &["discover", "--increments", s(&full)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("over 2 MPI ranks"), "{err}");
    // And rank 0 accounts for the exchange: one all-gather of the 100 blocks' statistics.
    assert!(err.contains("MPI exchanges: 1, receiving"), "{err}");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&two), read(&one));
}

#[test]
fn fit_over_ranks_equals_one_process_and_refuses_the_qr_refit() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    // 20,000 rows, 5 columns; y = 2 x1 - 3 x3 plus a small deterministic wiggle.
    let n = 20_000;
    let xa = ndarray::Array2::from_shape_fn((n, 5), |(i, j)| {
        ((i * 37 + j * 101) % 997) as f64 / 498.5 - 1.0
    });
    let ya = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| {
        2.0 * xa[[i, 1]] - 3.0 * xa[[i, 3]] + 1e-3 * ((i * 13 % 7) as f64 - 3.0)
    });
    ndarray_npy::write_npy(&x, &xa).unwrap();
    ndarray_npy::write_npy(&y, &ya).unwrap();
    let args = [
        "fit",
        "--json",
        "--library",
        s(&x),
        "--target",
        s(&y),
        "--select",
        "cv",
    ];
    let alone = ok(&args);
    assert_eq!(mpirun(2, &args), alone);
    let o = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-n", "2"])
        .arg(env!("CARGO_BIN_EXE_medida"))
        .args(args)
        .args(["--refit", "qr"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Cholesky refit over ranks"), "{err}");
}

#[test]
fn a_rank_that_dies_stops_the_job_naming_it_and_nothing_is_written() {
    let truth = small_jet_truth("mpi-jet-truth-dies.h5");
    let incr = common::increments(&truth, "case1001", &[]);
    let out = tmp("mpi-dies.json");
    // Rank 1 fails at once (its increments file does not exist) while rank 0 reads, evaluates
    // and waits for it in the exchange.
    let script = format!(
        "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then i=/nonexistent.h5; else i={}; fi; \
         exec {} discover -q --increments \"$i\" --out {}",
        s(&incr),
        env!("CARGO_BIN_EXE_medida"),
        s(&out)
    );
    // A rank left waiting would hang the job: `timeout` turns that into a failure.
    let o = mpirun_within(120, 2)
        .args(["bash", "-c"])
        .arg(script)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(124), "the job hung: {err}");
    assert!(
        err.contains("error (rank 1 of 2)") && err.contains("/nonexistent.h5"),
        "rank 1's own error: {err}"
    );
    assert!(err.contains("rank 1"), "mpirun names the rank: {err}");
    assert!(!out.exists() && !out.with_extension("h5").exists());
}

/// The files of the folder `dir`, by name, with their bytes.
fn folder(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The process of the job running `medida closure data --out dir` as MPI rank `rank`.
fn rank_process(rank: usize, dir: &Path) -> Option<String> {
    let want = format!("OMPI_COMM_WORLD_RANK={rank}");
    std::fs::read_dir("/proc").unwrap().find_map(|e| {
        let p = e.ok()?.path();
        let cmdline = std::fs::read(p.join("cmdline")).ok()?;
        let environ = std::fs::read(p.join("environ")).ok()?;
        let ours = String::from_utf8_lossy(&cmdline).contains(s(dir))
            && environ.split(|&b| b == 0).any(|v| v == want.as_bytes());
        ours.then(|| p.file_name()?.to_str().map(String::from))?
    })
}

#[test]
fn closure_data_over_ranks_equals_one_process_and_a_killed_rank_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    // Three runs of a year, 64 -> 16, a checkpoint every 720 steps of 8640.
    let data = |out: &Path| -> Vec<String> {
        let mut args = closure_data_args(out, "3", "1", "72");
        args.extend(["--threads".into(), "1".into()]);
        args
    };
    let one = tmp.path().join("one");
    ok(&strs(&data(&one)));
    let alone = folder(&one);
    let three = tmp.path().join("three");
    mpirun(3, &strs(&data(&three)));
    assert!(
        folder(&three) == alone,
        "3 ranks: not the one-process bytes"
    );

    // Two ranks (rank 0: runs 0 and 2, rank 1: run 1); rank 1 killed after its first checkpoint.
    let two = tmp.path().join("two");
    let args = data(&two);
    let mut job = mpirun_within(120, 2)
        .arg(env!("CARGO_BIN_EXE_medida"))
        .args(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while !two.join("run1.ckpt.h5").exists() {
        assert!(job.try_wait().unwrap().is_none(), "the job ended first");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let pid = rank_process(1, &two).expect("rank 1's process");
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    let o = job.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_ne!(o.status.code(), Some(124), "the job hung: {err}");
    assert!(err.contains("rank 1"), "mpirun names the rank: {err}");
    // Run 1 is not complete, and neither the manifest nor a discovery takes it for complete.
    let manifest = std::fs::read_to_string(two.join("closure.toml")).unwrap();
    let complete = manifest
        .lines()
        .find(|l| l.starts_with("complete = "))
        .unwrap();
    assert!(!complete.contains('1'), "{complete}");
    let o = common::medida(&[
        "closure",
        "discover",
        "--data",
        s(&two),
        "--train",
        "0",
        "--test",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not complete"));
    // The same command again finishes what is left: the one-process dataset, byte for byte.
    mpirun(2, &strs(&args));
    assert!(
        folder(&two) == alone,
        "2 ranks after a kill: not the one-process bytes"
    );
}

#[test]
fn calibration_over_ranks_equals_one_process_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::small_eddy_dataset(&data);
    let calibrate = |out: &Path, extra: &[&str]| -> Vec<String> {
        [
            "closure",
            "calibrate",
            "--data",
            s(&data),
            "--closure",
            "smagorinsky",
            "--spinup",
            "3d",
            "--window",
            "10d",
            "--sample-every",
            "24h",
            "--bins",
            "4",
            "--threads",
            "1",
            "--out",
            s(out),
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect()
    };
    // An inversion (7 members: shares of 4 + 3 and 3 + 2 + 2) and a sweep of 5 values.
    for extra in [
        &["--members", "7", "--iterations", "3"][..],
        &["--sweep", "0.05,0.1,0.15,0.2,0.3"][..],
    ] {
        let one = tmp.path().join("one.json");
        let table = ok(&strs(&calibrate(&one, extra)));
        for ranks in [2, 3] {
            let many = tmp.path().join(format!("ranks{ranks}.json"));
            let printed = mpirun(ranks, &strs(&calibrate(&many, extra)));
            assert_eq!(
                printed, table,
                "{ranks} ranks, {extra:?}: rank 0's table alone"
            );
            assert!(
                std::fs::read(&many).unwrap() == std::fs::read(&one).unwrap(),
                "{ranks} ranks, {extra:?}: not the one-process report"
            );
            std::fs::remove_file(&many).unwrap();
        }
        std::fs::remove_file(&one).unwrap();
    }
}

#[test]
fn ensemble_filters_over_ranks_equal_one_process_byte_for_byte() {
    let truth = small_jet_truth("mpi-jet-truth-ensemble.h5");
    // 8 members (shares 4 + 4 and 3 + 3 + 2), a quarter observed with noise, 4 cycles; the
    // LETKF also with the hybrid gain (the analysis means gathered mid-cycle) and with its
    // members in single precision.
    let filter = |name: &'static str, hybrid: &'static str, precision: &'static str| {
        [
            &common::small_ensemble(name)[..],
            &["--threads", "1", "--hybrid", hybrid],
            &["--member-precision", precision],
        ]
        .concat()
    };
    for (name, hybrid, precision) in [
        ("letkf", "0", "f64"),
        ("enkf", "0", "f64"),
        ("letkf", "0.5", "f64"),
        ("letkf", "0", "f32"),
    ] {
        let filter = filter(name, hybrid, precision);
        let alone = common::increments(&truth, "case1001", &filter);
        let alone = std::fs::read(alone).unwrap();
        for ranks in [2, 3] {
            let out = tmp(&format!("mpi-{name}-{hybrid}-{precision}-{ranks}.h5"));
            let args = [
                "increments",
                "--quiet",
                "--truth",
                s(&truth),
                "--model-error",
                "case1001",
                "--out",
                s(&out),
            ];
            mpirun(ranks, &[&args[..], &filter].concat());
            assert!(
                std::fs::read(&out).unwrap() == alone,
                "{name} (hybrid {hybrid}, members in {precision}) over {ranks} ranks: not the one-process file"
            );
        }
    }
    // Without an ensemble there is nothing to share: refused, naming what is.
    let o = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-n", "2"])
        .arg(env!("CARGO_BIN_EXE_medida"))
        .args([
            "increments",
            "--truth",
            s(&truth),
            "--model-error",
            "case1001",
        ])
        .args(["--out", s(&tmp("mpi-never.h5"))])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only an ensemble filter's members"), "{err}");
    assert!(!tmp("mpi-never.h5").exists());
}

//! Crash tests: `simulate`, a restart, `increments` and `demo` killed (SIGKILL) at chosen write
//! system calls (strace's fault injection: the Nth `pwrite64` of a thread) and at random times.
//! After every kill: nothing half-written under a final name (a `simulate` output, written in
//! place, opens in xarray with only whole records, each the uninterrupted run's), the first
//! restart (or, killed before its first checkpoint, a new run) succeeds, and its file is the
//! uninterrupted run's, byte for byte. Prints the counts. Needs strace (scripts/setup.sh installs it).

mod common;

use common::{closure_data_args, medida, ok, python_ok, strs};
use medida_data::read_array;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The run every `simulate` kill interrupts: 32 x 32, 1500 steps, a snapshot every 20 steps, a
/// diagnostics record every 5, a checkpoint every 100.
const SETTINGS: [&str; 6] = [
    "model.nx=32",
    "model.ny=32",
    "run.steps=1500",
    "output.snapshot_interval=20",
    "output.diagnostics_interval=5",
    "output.checkpoint_interval=100",
];

/// The datasets compared with the uninterrupted run.
const ARRAYS: [&str; 6] = [
    "time",
    "q",
    "p",
    "ufull",
    "diagnostics/diag_time",
    "diagnostics/ke",
];

fn strace() -> &'static str {
    let found = Command::new("strace").arg("-V").output().is_ok();
    assert!(
        found,
        "strace not found: run scripts/setup.sh (apt-get install strace)"
    );
    "strace"
}

/// Runs `medida args` killed at the `when`-th `pwrite64` of any of its threads; whether it was.
fn kill_at_write(when: u32, args: &[&str]) -> bool {
    let inject = format!("inject=pwrite64:signal=KILL:when={when}");
    let status = Command::new(strace())
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=pwrite64", "-e"])
        .arg(inject)
        .arg(env!("CARGO_BIN_EXE_medida"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    !status.success()
}

/// Runs `medida args` killed after `after` (if it has not ended); whether it was.
fn kill_after(after: Duration, args: &[&str]) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_medida"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let killed = child.try_wait().unwrap().is_none();
    child.kill().unwrap_or(());
    child.wait().unwrap();
    killed
}

/// The names in `dir`.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts that the arrays of `got` are `reference`'s, bit for bit.
fn assert_same(got: &Path, reference: &Path, names: &[&str], what: &str) {
    for name in names {
        let (a, b) = (
            read_array(got, name).unwrap(),
            read_array(reference, name).unwrap(),
        );
        let same =
            a.shape() == b.shape() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{what}: {name} differs from the uninterrupted run's");
    }
}

/// Counts of one kind of kill.
#[derive(Default)]
struct Tally {
    tried: usize,
    killed: usize,
    restarts: usize,
    new_runs: usize,
}

impl Tally {
    fn report(&self, what: &str) {
        eprintln!(
            "{what}: {} tried, {} killed; then {} restarts and {} runs started again (no checkpoint to restart from), every one succeeding the first time with the uninterrupted run's data; 0 panics, 0 data lost",
            self.tried, self.killed, self.restarts, self.new_runs
        );
    }
}

/// After a kill of the run writing `out` (with `config`): a copy of what it left for the reader
/// check, then its restart (or a new run when no checkpoint was written), which must succeed the
/// first time and end equal to `reference`.
fn recover(out: &Path, config: &Path, reference: &Path, kept: &mut Vec<PathBuf>, t: &mut Tally) {
    let dir = out.parent().unwrap();
    if out.exists() {
        let copy = dir.join(format!("killed-{}.h5", kept.len()));
        std::fs::copy(out, &copy).unwrap();
        kept.push(copy);
    }
    let ckpt = out.with_extension("ckpt.h5");
    if ckpt.exists() {
        assert!(out.exists(), "a checkpoint without its output");
        ok(&["simulate", "-q", "--restart", s(out)]);
        t.restarts += 1;
    } else {
        ok(&[
            "simulate",
            "-q",
            "--config",
            s(config),
            "--out",
            s(out),
            "--overwrite",
        ]);
        t.new_runs += 1;
    }
    assert_same(out, reference, &ARRAYS, &format!("{}", out.display()));
    let same = std::fs::read(out).unwrap() == std::fs::read(reference).unwrap();
    assert!(same, "{}: not the uninterrupted run's bytes", out.display());
    let left: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| n.contains(".tmp-") || n.contains(".part"))
        .collect();
    assert!(left.is_empty(), "temporaries left: {left:?}");
}

#[test]
fn a_killed_run_leaves_whole_records_and_restarts_the_first_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("crash.toml");
    let mut show = vec!["config", "show"];
    for setting in SETTINGS {
        show.extend(["--set", setting]);
    }
    std::fs::write(&config, ok(&show)).unwrap();
    let reference = dir.path().join("reference.h5");
    let started = Instant::now();
    ok(&[
        "simulate",
        "-q",
        "--config",
        s(&config),
        "--out",
        s(&reference),
    ]);
    let wall = started.elapsed();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let out = work.join("run.h5");
    let run = ["simulate", "-q", "--config", s(&config), "--out", s(&out)];
    let fresh = || {
        for f in [out.clone(), out.with_extension("ckpt.h5")] {
            let _ = std::fs::remove_file(f);
        }
    };
    let mut kept = Vec::new();

    // At chosen writes of a thread (of about 3,800 in all, a checkpoint every 250): creation,
    // the run, checkpoints, the end.
    let mut at_write = Tally::default();
    for when in [
        1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 3100, 3600,
    ] {
        fresh();
        at_write.tried += 1;
        if kill_at_write(when, &run) {
            at_write.killed += 1;
            recover(&out, &config, &reference, &mut kept, &mut at_write);
        }
    }
    at_write.report("simulate killed at a write");
    assert!(
        at_write.killed >= 17,
        "only {} of the kills hit the run",
        at_write.killed
    );

    // A restart killed too: the next one succeeds.
    let mut restart = Tally::default();
    for when in [1, 3, 10, 40, 150] {
        fresh();
        restart.tried += 1;
        assert!(
            kill_at_write(400, &run),
            "the run ended before its 400th write"
        );
        assert!(out.with_extension("ckpt.h5").exists());
        if kill_at_write(when, &["simulate", "-q", "--restart", s(&out)]) {
            restart.killed += 1;
            recover(&out, &config, &reference, &mut kept, &mut restart);
        }
    }
    restart.report("a restart killed at a write");

    // At random times (a fixed seed) over the uninterrupted run's wall time.
    let mut at_time = Tally::default();
    let mut state: u64 = 20_261_203;
    for _ in 0..8 {
        fresh();
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let fraction = (state >> 11) as f64 / (1u64 << 53) as f64;
        at_time.tried += 1;
        if kill_after(wall.mul_f64(fraction), &run) {
            at_time.killed += 1;
            recover(&out, &config, &reference, &mut kept, &mut at_time);
        }
    }
    at_time.report("simulate killed at a random time");

    // What a reader (xarray) sees in each killed output.
    let mut args = vec![
        "tests/python/check_killed.py".to_string(),
        s(&reference).into(),
    ];
    args.extend(kept.iter().map(|p| s(p).to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    eprintln!("{}", python_ok(&args).trim());
}

/// `increments` writes its output under a temporary name and publishes it whole: killed at any
/// write, its output is absent (a second run writes it) or complete. A killed `demo` leaves no
/// result without its arrays and no incomplete increments, and runs again to the same table.
#[test]
fn a_killed_increments_or_demo_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let demo = [
        "demo",
        "-q",
        "--dir",
        s(&demo_dir),
        "--spinup",
        "5",
        "--snapshots",
        "2",
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
    ];
    let table = |o: &str| -> String {
        o.lines()
            .filter(|l| !l.starts_with("demo done in"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let expected = table(&ok(&demo));
    let truth = dir.path().join("truth.h5");
    std::fs::copy(demo_dir.join("truth.h5"), &truth).unwrap();
    let demo_increments = dir.path().join("demo-increments.h5");
    std::fs::copy(demo_dir.join("increments.h5"), &demo_increments).unwrap();
    let reference = dir.path().join("increments.h5");
    let incr = |out: &Path| -> Vec<String> {
        [
            "increments",
            "-q",
            "--truth",
            s(&truth),
            "--model-error",
            "case1002",
            "--out",
            s(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let args = incr(&reference);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let existing = ["time", "q", "q_forecast", "dqdt"];

    let mut increments = Tally::default();
    let out = dir.path().join("work.h5");
    for when in [1, 2, 3, 5, 8, 11, 14, 17, 20] {
        let _ = std::fs::remove_file(&out);
        increments.tried += 1;
        let args = incr(&out);
        if kill_at_write(when, &args.iter().map(String::as_str).collect::<Vec<_>>()) {
            increments.killed += 1;
            if out.exists() {
                assert_same(&out, &reference, &existing, "a killed increments' output");
            }
            let mut again = incr(&out);
            again.push("--overwrite".into());
            ok(&again.iter().map(String::as_str).collect::<Vec<_>>());
            increments.new_runs += 1;
            assert_same(&out, &reference, &existing, "increments after a kill");
        }
    }
    increments.report("increments killed at a write");
    assert!(increments.killed >= 8);

    let mut demos = Tally::default();
    for when in [1, 3, 8, 15, 25, 40, 60, 80] {
        demos.tried += 1;
        if kill_at_write(when, &demo) {
            demos.killed += 1;
            let have = names(&demo_dir);
            let has = |n: &str| have.iter().any(|h| h == n);
            assert_eq!(
                has("discovery.json"),
                has("discovery.h5"),
                "a result without its arrays: {have:?}"
            );
            if has("increments.h5") {
                assert_same(
                    &demo_dir.join("increments.h5"),
                    &demo_increments,
                    &existing,
                    "a killed demo's increments",
                );
            }
            let rerun = medida(&demo);
            assert!(
                rerun.status.success(),
                "{}",
                String::from_utf8_lossy(&rerun.stderr)
            );
            assert_eq!(table(&String::from_utf8_lossy(&rerun.stdout)), expected);
            demos.new_runs += 1;
        }
    }
    demos.report("demo killed at a write");
    assert!(demos.killed >= 7);
}

/// `closure data` killed at chosen writes of the first run and (run 0 already complete) of the
/// second: the same command run again continues each run from its checkpoint (or starts over a
/// run killed before its first) and the folder ends the uninterrupted dataset's, byte for byte,
/// `closure.toml` included.
#[test]
fn a_killed_closure_dataset_continues_to_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, work) = (dir.path().join("reference"), dir.path().join("work"));
    // Two runs of 1728 steps, a snapshot every 24 (a checkpoint every 240): about 6,500 writes
    // by each run's thread.
    let data = |out: &Path| -> Vec<String> {
        let mut args = closure_data_args(out, "2", "0.2", "24");
        args.extend(["--threads".into(), "1".into()]);
        args
    };
    ok(&strs(&data(&reference)));
    let args = data(&work);
    let args = strs(&args);
    let mut tally = Tally::default();
    for (run0_done, when) in [1, 3, 30, 300, 2000, 5000, 6500]
        .map(|w| (false, w))
        .into_iter()
        .chain([100, 3000, 6500].map(|w| (true, w)))
    {
        let _ = std::fs::remove_dir_all(&work);
        if run0_done {
            std::fs::create_dir(&work).unwrap();
            for name in ["run0.h5", "run0.ckpt.h5"] {
                std::fs::copy(reference.join(name), work.join(name)).unwrap();
            }
        }
        tally.tried += 1;
        if !kill_at_write(when, &args) {
            continue;
        }
        tally.killed += 1;
        let killed = names(&work);
        let rerun = medida(&args);
        assert!(
            rerun.status.success(),
            "after a kill at write {when} ({killed:?}): {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        let ckpts = killed.iter().filter(|n| n.ends_with(".ckpt.h5")).count();
        if ckpts > usize::from(run0_done) {
            tally.restarts += 1;
        } else {
            tally.new_runs += 1;
        }
        assert_eq!(
            names(&work),
            names(&reference),
            "after a kill at write {when}"
        );
        for name in names(&reference) {
            let same = std::fs::read(work.join(&name)).unwrap()
                == std::fs::read(reference.join(&name)).unwrap();
            assert!(
                same,
                "{name} after a kill at write {when}: not the uninterrupted bytes"
            );
        }
    }
    tally.report("closure data killed at a write");
    assert!(
        tally.killed >= 9,
        "only {} of the kills hit the runs",
        tally.killed
    );
}

//! Progress on a non-terminal stderr (a pipe, a log file): plain lines, never a carriage return
//! that would run lines together; `-q` says nothing.

mod common;

use common::medida;

/// Runs `medida args` with stderr piped; asserts success and returns stderr.
fn stderr_of(args: &[&str]) -> String {
    let out = medida(args);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "medida {args:?}: {err}");
    err
}

#[test]
fn piped_progress_is_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let small = [
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
        "--set",
        "output.checkpoint_interval=0",
    ];
    let run = d("run.h5");
    let simulate = [&["simulate", "--steps", "100", "--out", &run][..], &small].concat();
    let demo_dir = d("demo");
    let demo = [
        "demo",
        "--spinup",
        "2",
        "--snapshots",
        "2",
        "--set",
        "model.nx=48",
        "--set",
        "model.ny=96",
        "--dir",
        &demo_dir,
    ];
    let data_dir = d("data");
    let data = [
        "closure",
        "data",
        "--hr",
        "32",
        "--lr",
        "16",
        "--runs",
        "1",
        "--years",
        "0.05",
        "--snapshot-hours",
        "50",
        "--out",
        &data_dir,
    ];
    for args in [&simulate[..], &demo[..], &data[..]] {
        let err = stderr_of(args);
        assert!(
            !err.contains('\r'),
            "medida {args:?}: a carriage return in {err:?}"
        );
        assert!(
            err.lines().any(|l| l.starts_with("step ")),
            "medida {args:?}: no progress line in {err:?}"
        );
        if args[0] == "demo" {
            // The discovery's stages: the regression, then the corrected forecasts to the last.
            let stages: Vec<&str> = err
                .lines()
                .filter(|l| l.starts_with("discover: "))
                .collect();
            assert!(stages[0].starts_with("discover: fitting "), "{err}");
            let last = stages.last().unwrap();
            let counts: Vec<&str> = last
                .split(' ')
                .filter(|w| w.parse::<u32>().is_ok())
                .collect();
            assert!(
                last.starts_with("discover: corrected forecasts from ") && counts[0] == counts[1],
                "the corrected forecasts' progress does not reach the last: {err}"
            );
        }
    }
    // -q: nothing on stderr.
    let silent = d("q.h5");
    let quiet = [
        &["simulate", "-q", "--steps", "100", "--out", &silent][..],
        &small,
    ]
    .concat();
    assert_eq!(stderr_of(&quiet), "");
}

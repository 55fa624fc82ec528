//! A full disk: every command that writes fails with the system's own error ("No space left on
//! device") and leaves nothing half-written under a final name: no result without its arrays,
//! no truncated figure, no temporary. Runs on a small tmpfs, which needs root (CI runs as root);
//! elsewhere the test says why it did nothing.

mod common;

use common::{medida, ok};
use std::path::PathBuf;
use std::process::Command;

/// A tmpfs of `size` mounted on a new directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        if !o.status.success() {
            eprintln!(
                "full-disk test not run: cannot mount a tmpfs ({})",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return None;
        }
        Some(Self { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Empties the disk.
    fn clear(&self) {
        for e in std::fs::read_dir(self.dir.path()).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                std::fs::remove_dir_all(p).unwrap();
            } else {
                std::fs::remove_file(p).unwrap();
            }
        }
    }

    /// The names on the disk.
    fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Runs `args`, asserting failure with the system's out-of-space error named.
fn fails_for_space(args: &[&str]) {
    let o = medida(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded on a full disk");
    assert!(
        err.contains("No space left on device"),
        "{args:?}: the error does not say the disk is full: {err}"
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn a_full_disk_is_named_and_leaves_nothing_half_written() {
    let Some(disk) = SmallDisk::mount("16k") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let w = |name: &str| work.path().join(name).to_str().unwrap().to_string();
    let (run, inc) = (w("run.h5"), w("inc.h5"));
    let small = ["--set", "model.nx=32", "--set", "model.ny=32"];
    let steps = ["--steps", "40", "--set", "output.snapshot_interval=20"];
    ok(&[&["simulate", "-q", "--out", &run][..], &small, &steps].concat());
    let error = ["--set", "model_error.bottom_drag=1e-6"];
    ok(&[
        &["increments", "-q", "--truth", &run, "--out", &inc][..],
        &error,
    ]
    .concat());

    // A discovery's result: its arrays fit, its JSON report does not: neither stays.
    let res = disk.path("res.json");
    let r = res.to_str().unwrap();
    fails_for_space(&[
        "discover",
        "-q",
        "--increments",
        &inc,
        "--library",
        "pyqg",
        "--out",
        r,
    ]);
    assert_eq!(disk.names(), Vec::<String>::new(), "left on the disk");

    // Figures: none truncated.
    let figs = disk.path("figs");
    fails_for_space(&["plot", &run, "--out", figs.to_str().unwrap()]);
    for f in std::fs::read_dir(&figs).unwrap() {
        let f = f.unwrap().path();
        assert!(
            image::open(&f).is_ok(),
            "{}: a figure left truncated",
            f.display()
        );
    }
    disk.clear();

    // A run: the error is the system's; no temporary is left.
    let out = disk.path("big.h5");
    let big = [
        &[
            "simulate",
            "-q",
            "--steps",
            "200",
            "--out",
            out.to_str().unwrap(),
        ][..],
        &["--set", "output.snapshot_interval=10"],
    ]
    .concat();
    fails_for_space(&big);
    let names = disk.names();
    assert!(
        names
            .iter()
            .all(|n| !n.contains(".tmp-") && !n.contains(".part")),
        "temporaries left: {names:?}"
    );

    // Standard output to a full device is a named error too.
    let o = Command::new(env!("CARGO_BIN_EXE_medida"))
        .args(["config", "show"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("No space left on device"));
}

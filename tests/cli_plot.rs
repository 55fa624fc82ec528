//! `medida plot` and `--plots`: every figure kind renders from a small run, decodes as PNG, has
//! the expected size and is not blank.

mod common;

use common::{check_png, medida, ok};

#[test]
fn a_run_gives_fields_spectrum_and_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let plots = dir.path().join("plots");
    ok(&[
        "simulate",
        "-q",
        "--steps",
        "200",
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
        "--set",
        "output.snapshot_interval=50",
        "--set",
        "output.diagnostics_interval=10",
        "--out",
        run.to_str().unwrap(),
        "--plots",
        plots.to_str().unwrap(),
    ]);
    for f in ["q", "p"] {
        check_png(&plots.join(format!("{f}.png")), 1040, None);
    }
    check_png(&plots.join("spectrum.png"), 900, Some(600));
    check_png(&plots.join("diagnostics.png"), 900, Some(600));
    // Each panel's colour bar is labelled with the quantity and its units ("q [s^-1]"), in the
    // last 22 columns of the panel (right of the tick labels) about the middle rows.
    let img = image::open(plots.join("q.png")).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    for right in [w / 2, w] {
        let dark = (right - 22..right - 2)
            .flat_map(|x| (h / 3..2 * h / 3).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y)[0] < 100)
            .count();
        assert!(
            dark > 40,
            "no colour-bar label left of column {right}: {dark} dark pixels"
        );
    }
    // `medida plot` on the same file, at the first snapshot, lists what it wrote.
    let again = dir.path().join("again");
    let listed = ok(&[
        "plot",
        run.to_str().unwrap(),
        "--time",
        "0",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    check_png(&again.join("q.png"), 1040, None);
    // The same figures as SVG: vector files whose labels are text.
    let svg = dir.path().join("svg");
    let listed = ok(&[
        "plot",
        run.to_str().unwrap(),
        "--format",
        "svg",
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    for f in ["q", "p", "spectrum", "diagnostics"] {
        let text = std::fs::read_to_string(svg.join(format!("{f}.svg"))).unwrap();
        assert!(
            text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
            "{f}.svg"
        );
        assert!(
            text.matches("<text").count() > 10,
            "{f}.svg: too few text labels"
        );
    }
    let q = std::fs::read_to_string(svg.join("q.svg")).unwrap();
    assert!(
        q.contains("q [s^-1]") && q.contains("layer 2"),
        "q.svg lacks its labels"
    );
    assert_eq!(
        medida(&["plot", run.to_str().unwrap(), "--format", "pdf"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn the_demo_gives_increments_coefficients_and_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    // An earlier demo's result (a pass this one does not make) and a file of the user's.
    let stale = dir.path().join("discovery-pass2.json");
    let mine = dir.path().join("notes.txt");
    std::fs::write(&stale, "{}").unwrap();
    std::fs::write(&mine, "mine").unwrap();
    ok(&[
        "demo",
        "--quiet",
        "--spinup",
        "2",
        "--snapshots",
        "2",
        "--set",
        "model.nx=48",
        "--set",
        "model.ny=96",
        "--dir",
        dir.path().to_str().unwrap(),
        "--plots",
        plots.to_str().unwrap(),
    ]);
    for f in ["q", "p", "increments_dqdt", "increments_q"] {
        check_png(&plots.join(format!("{f}.png")), 1040, None);
    }
    // case 1002: 7 (layer, term) rows of 140 px
    check_png(&plots.join("coefficients.png"), 980, Some(600));
    check_png(&plots.join("sweep.png"), 900, Some(600));
    check_png(&plots.join("spectrum.png"), 900, Some(600));
    assert!(
        !stale.exists(),
        "an earlier demo's result stayed beside this one's"
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");
}

#[test]
fn plot_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("x.json");
    std::fs::write(&bogus, "{\"a\": 1}").unwrap();
    for (file, msg) in [
        (
            bogus.to_str().unwrap(),
            "not a `medida discover --out` result",
        ),
        ("/nonexistent.h5", "no such file"),
    ] {
        let o = medida(&["plot", file, "--out", dir.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains(msg));
    }
}

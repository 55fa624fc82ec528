//! `medida closure train-rl` as a user runs it, at test size (a 32 x 32 run of the 2-D
//! turbulence preset as the reference, a 16 x 16 coarse model, a few short episodes): the policy
//! file holds the agents, the training log and the held-out assessment; the same seed gives the
//! same bytes at 1 and 2 threads; the policy runs as a closure in `simulate` and changes the run;
//! a policy is never overwritten, a policy run is not restarted, and bad input is named before
//! anything runs. PPO, the networks and the sign of the coefficient field are tested in
//! `medida_discovery::closure::rl` and `discovery/tests/eddy_viscosity_sign.rs`.

mod common;

use common::{check_png, medida, medida_with, ok};
use medida_data::{read_array, read_text_attr};
use ndarray::Axis;
use std::path::{Path, PathBuf};

/// A 32 x 32 run of the 2-D turbulence preset with 21 snapshots.
fn reference(dir: &Path) -> PathBuf {
    let out = dir.join("ref.h5");
    ok(&[
        "simulate",
        "--quiet",
        "--preset",
        "2d-turbulence",
        "--set",
        "model.nx=32",
        "--set",
        "model.ny=32",
        "--set",
        "output.snapshot_interval=20",
        "--steps",
        "400",
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}

fn train(target: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let args = [
        "closure",
        "train-rl",
        "--quiet",
        "--target",
        target.to_str().unwrap(),
        "--lr",
        "16",
        "--from",
        "0.05",
        "--out",
        out.to_str().unwrap(),
    ];
    let defaults = [
        ("--episodes", "4"),
        ("--per-update", "2"),
        ("--episode", "0.02"),
        ("--interval", "10"),
        ("--bins", "3"),
        ("--hidden", "8"),
        ("--epochs", "2"),
        ("--assess-starts", "2"),
    ];
    medida_with(&args, &defaults, extra)
}

/// `medida simulate` of the 2-D turbulence preset on 16 x 16 points (a snapshot every 20 steps)
/// for `steps` steps into `dir/out`, with `extra` arguments.
fn simulate(dir: &Path, out: &str, steps: &str, extra: &[&str]) -> (std::process::Output, PathBuf) {
    let path = dir.join(out);
    let mut args = vec![
        "simulate",
        "--quiet",
        "--preset",
        "2d-turbulence",
        "--set",
        "model.nx=16",
        "--set",
        "model.ny=16",
        "--set",
        "output.snapshot_interval=20",
        "--steps",
        steps,
        "--out",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    (medida(&args), path)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn training_assessment_and_simulate_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let target = reference(dir.path());
    let run = |name: &str, threads: &str| {
        let out = dir.path().join(name);
        let o = train(
            &target,
            &out,
            &["--threads", threads, "--against", "smagorinsky:cs=0.1"],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (one, two) = (run("one.json", "1"), run("two.json", "2"));
    assert_eq!(
        std::fs::read(&one).unwrap(),
        std::fs::read(&two).unwrap(),
        "the same seed gives the same policy at 1 and 2 threads"
    );
    let p = json(&one);
    assert_eq!(p["kind"], "medida closure train-rl policy");
    assert_eq!(p["agents"]["blocks"], 4);
    // 4 episodes, 2 per update; each of 0.02 / 5e-4 = 40 steps, 4 decisions of 32 agents.
    let updates = p["training"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    for u in updates {
        for e in u["episodes"].as_array().unwrap() {
            assert_eq!(e["decisions"], 4, "{e}");
        }
    }
    let names: Vec<&str> = p["assessment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["policy", "none", "smagorinsky:cs=0.1"]);
    for a in p["assessment"].as_array().unwrap() {
        assert_eq!(a["stable"], serde_json::json!([2, 2]), "{a}");
        let rmse = a["log_spectrum_rmse"].as_f64().unwrap();
        assert!(rmse.is_finite() && rmse > 0.0, "{a}");
    }
    // The policy's coefficient spread: 2 runs of ten episodes (40 decisions) and the first.
    let c = &p["assessment"][0]["coefficients"];
    assert_eq!(c["decisions"], 82, "{c}");
    assert!(c["spatial_ratio"].as_f64().unwrap() >= 1.0, "{c}");
    let range = &p["policy"]["range"];
    let median = c["median"].as_f64().unwrap();
    assert!(
        median > range["c_min"].as_f64().unwrap() && median < range["c_max"].as_f64().unwrap(),
        "{c} {range}"
    );
    assert!(p["assessment"][1]["coefficients"].is_null());
    // Its figures: spectra per layer, PDFs, the training curve.
    let figs = dir.path().join("figs");
    ok(&[
        "plot",
        one.to_str().unwrap(),
        "--out",
        figs.to_str().unwrap(),
    ]);
    for f in [
        "policy_spectrum1",
        "policy_spectrum2",
        "policy_pdf",
        "policy_training",
    ] {
        check_png(&figs.join(format!("{f}.png")), 900, Some(600));
    }
    // Another seed, another policy.
    let other = dir.path().join("other.json");
    assert!(train(&target, &other, &["--seed", "1"]).status.success());
    assert_ne!(json(&other)["policy"], p["policy"]);

    // The policy as a closure in simulate: the run differs from the run without a closure
    // and from the constant closure, and its config keeps the policy.
    let sim = |out: &str, steps: &str, extra: &[&str]| simulate(dir.path(), out, steps, extra);
    let last_q = |path: &Path| {
        let q = read_array(path, "q").unwrap();
        q.index_axis(Axis(0), q.shape()[0] - 1).to_owned()
    };
    let (o, with) = sim("with.h5", "40", &["--closure", one.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, none) = sim("none.h5", "40", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, constant) = sim("constant.h5", "40", &["--closure", "smagorinsky:cs=0.1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (qw, qn, qc) = (last_q(&with), last_q(&none), last_q(&constant));
    assert!(qw.iter().all(|v| v.is_finite()));
    assert_ne!(qw, qn, "the policy's closure acts");
    assert_ne!(qw, qc, "the policy's field is not the constant closure");
    let config = read_text_attr(&with, "config").unwrap();
    assert!(
        config.contains("medida closure train-rl policy"),
        "the config holds the policy"
    );
    // A state with an empty lower layer (as pyqg's random initial condition has): the agents
    // see a zero spectrum there, and their field stays finite.
    let lower_zero = dir.path().join("lower_zero.npy");
    let mut q0 = last_q(&none);
    q0.index_axis_mut(Axis(0), 1).fill(0.0);
    ndarray_npy::write_npy(&lower_zero, &q0).unwrap();
    let (o, _) = sim(
        "lower_zero.h5",
        "40",
        &[
            "--closure",
            one.to_str().unwrap(),
            "--init",
            lower_zero.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let continued = continues_exactly(dir.path(), &one);
    let config = read_text_attr(&continued, "config").unwrap();
    assert!(
        config.contains("steps = 60"),
        "the output's config says its new length: {config}"
    );

    // The policy on another grid is refused, naming both.
    let (o, _) = sim(
        "grid.h5",
        "40",
        &[
            "--set",
            "model.nx=32",
            "--set",
            "model.ny=32",
            "--closure",
            one.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("trained on 16 x 16"), "{e}");
}

/// Agents that set the backscatter's returned fraction `cb` locally (its dissipation's `cs`
/// fixed): trained from `cb = 0.8`, within their range, and the policy runs in `simulate`.
#[test]
fn agents_can_set_the_backscatter_locally() {
    let dir = tempfile::tempdir().unwrap();
    let target = reference(dir.path());
    let out = dir.path().join("back.json");
    let o = train(
        &target,
        &out,
        &[
            "--closure",
            "backscatter:cs=0.1",
            "--range",
            "0.05,1.5",
            "--initial",
            "cb=0.8",
            "--against",
            "backscatter:cs=0.1,cb=0.8",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = json(&out);
    assert_eq!(
        p["agents"]["closure"],
        serde_json::json!({"backscatter": {"cs": 0.1}})
    );
    for a in p["assessment"].as_array().unwrap() {
        assert_eq!(a["stable"], serde_json::json!([2, 2]), "{a}");
    }
    let median = p["assessment"][0]["coefficients"]["median"]
        .as_f64()
        .unwrap();
    assert!((0.05..=1.5).contains(&median), "{median}");
    runs_in_simulate(dir.path(), &out);
}

/// `policy` drives a 40-step `simulate` run whose `q` stays finite.
fn runs_in_simulate(dir: &Path, policy: &Path) {
    let (o, sim) = simulate(
        dir,
        "sim.h5",
        "40",
        &["--closure", policy.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(read_array(&sim, "q").unwrap().iter().all(|v| v.is_finite()));
}

/// A run of `policy` continues exactly: 45 steps (the checkpoint 5 steps after a decision, with
/// what the policy recorded since), then to 60, equals 60 steps in one go. Returns the
/// continued run.
fn continues_exactly(dir: &Path, policy: &Path) -> PathBuf {
    let every15 = ["--set", "output.snapshot_interval=15"];
    let policy = ["--closure", policy.to_str().unwrap()];
    let extra = [every15, policy].concat();
    let (o, straight) = simulate(dir, "straight.h5", "60", &extra);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, continued) = simulate(dir, "continued.h5", "45", &extra);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = medida(&[
        "simulate",
        "--quiet",
        "--restart",
        continued.to_str().unwrap(),
        "--steps",
        "60",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        read_array(&continued, "q").unwrap(),
        read_array(&straight, "q").unwrap(),
        "the continued policy run is the straight one, bit for bit"
    );
    continued
}

/// `--tail-weight`: the first update's episodes (the untrained policy, so the same decisions
/// with and without tails) earn the spectrum's reward less the weighted tail misfit, and the
/// policy, which records the tails, runs in `simulate` and continues exactly from a checkpoint.
#[test]
fn the_pdf_tails_enter_the_reward() {
    let dir = tempfile::tempdir().unwrap();
    let target = reference(dir.path());
    let (plain, tails) = (dir.path().join("plain.json"), dir.path().join("tails.json"));
    let o = train(&target, &plain, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = train(
        &target,
        &tails,
        &["--tail-weight", "2", "--tail-thresholds", "2,3"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (p, t) = (json(&plain), json(&tails));
    assert_eq!(p["agents"]["tails"], serde_json::Value::Null);
    let spec = &t["agents"]["tails"];
    assert_eq!(spec["weight"], 2.0);
    assert_eq!(spec["thresholds"], serde_json::json!([2.0, 3.0]));
    assert_eq!(
        spec["reference"].as_array().unwrap().len(),
        4,
        "2 layers x 2"
    );
    let first = |f: &serde_json::Value| -> Vec<(f64, u64)> {
        f["training"][0]["episodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["mean_reward"].as_f64().unwrap(),
                    e["decisions"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (without, with) = (first(&p), first(&t));
    assert_eq!(without.len(), with.len());
    for ((r0, d0), (r1, d1)) in without.iter().zip(&with) {
        assert_eq!(d0, d1);
        // Lower by the weighted tail misfit, unless both sit at the clip.
        assert!(r1 < r0 || (*r0 == -10.0 && *r1 == -10.0), "{r1} vs {r0}");
    }
    runs_in_simulate(dir.path(), &tails);
    continues_exactly(dir.path(), &tails);
}

#[test]
fn a_policy_is_never_overwritten_and_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("absent.h5");
    let out = dir.path().join("p.json");
    std::fs::write(&out, "mine").unwrap();
    let o = train(&target, &out, &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    let fresh = dir.path().join("q.json");
    for (extra, msg) in [
        (
            &["--closure", "zb20"][..],
            "`zb20`: a closure with a coefficient field",
        ),
        (
            &["--closure", "backscatter:cb=0.8"][..],
            "the backscatter field's only constant is its dissipation's cs",
        ),
        (&["--range", "0.1,0.01"][..], "allowed 0 < c_min < c_max"),
        (&["--range", "0.1"][..], "--range: allowed two numbers"),
        (
            &["--reward", "best"][..],
            "reward `best`: allowed scatter or study",
        ),
        (&["--blocks", "0"][..], "--blocks 0: allowed 1 or more"),
        (
            &["--reward-clip", "0"][..],
            "--reward-clip 0: allowed a number > 0",
        ),
        (&["--interval", "0"][..], "--interval 0: allowed 1 or more"),
        (
            &["--tail-weight", "-1"][..],
            "--tail-weight -1: allowed a number >= 0",
        ),
        (
            &["--tail-weight", "1", "--reward", "study"][..],
            "the tails are weighed by the scatter reward only",
        ),
        (
            &["--tail-thresholds", "3,0"][..],
            "--tail-thresholds [3.0, 0.0]: allowed numbers > 0",
        ),
        (&["--held-out", "1"][..], "--held-out 1: allowed a fraction"),
        (&["--against", "magic"][..], "unknown closure `magic`"),
    ] {
        let o = train(&target, &fresh, extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(msg), "{extra:?}: {e}");
        assert!(!fresh.exists());
    }
}

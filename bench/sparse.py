"""Discovery from sparse observations: case x observed fraction x interpolator x noise, written to
docs/sparse.md; and the time to interpolate one 96 x 192 snapshot per method, written to
docs/benchmarks.md.

    python bench/sparse.py        # builds the release binary first; about 25 minutes on 2 cores

The truth is the MEDIDA jet after 250 time units of spin-up (3 snapshots one time unit apart); the
prior of spectral-oi comes from a separate run (another random initial state, 10 snapshots from
t = 250 to 290). Each row: `medida increments --observe fraction=F,noise=N,seed=1 --interp I`
(q observed at the stations, the forecast from the interpolated field, the increment at the
stations), then `medida discover` with STLSQ and the threshold chosen by BIC or by 3-fold CV.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIDA = str(ROOT / "target" / "release" / "medida")
DOC = ROOT / "docs" / "sparse.md"


def run(*args, capture=False):
    out = subprocess.run([MEDIDA, *args], check=True, capture_output=True, text=True)
    return out.stdout


def timed(*args):
    t0 = os.times().elapsed
    run(*args)
    return os.times().elapsed - t0


def analysis_error(path):
    import h5py
    with h5py.File(path) as f:
        return [float(f[f"diagnostics/analysis_error{lev}"][:].mean()) for lev in (1, 2)]


def summarise(res):
    """support (exact / what went wrong), largest error % of the expected terms, spurious terms."""
    rows = res["table"]
    errs = [r["error_percent"] for r in rows if r["error_percent"] is not None]
    spurious = [r for r in rows if r["error_percent"] is None]
    missing = [r for r in rows if r["error_percent"] is not None and r["discovered"] == 0]
    worst = max(errs) if errs else float("nan")
    verdict = "exact" if res["support_exact"] else f"{len(spurious)} spurious, {len(missing)} missed"
    ok = res["support_exact"] and worst <= 5.0
    big = max((abs(r["discovered"]) for r in spurious), default=0.0)
    return verdict, worst, big, ok


def main():
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        truth, prior = d / "truth.h5", d / "prior.h5"
        common = ["--preset", "medida-jet", "--set", "run.threads=2", "--set", "output.checkpoint_interval=0", "--spinup", "250"]
        run("simulate", "--quiet", *common, "--tmax", "252", "--out", str(truth))
        run("simulate", "--quiet", *common, "--tmax", "290", "--set", "output.snapshot_interval=160", "--set", "init.seed=5", "--out", str(prior))
        configs = []
        for case in ["case1001", "case1002", "case1004"]:
            for frac in [0.75, 0.5, 0.25]:
                configs.append((case, frac, "spectral-oi", 0.0, None))
                configs.append((case, frac, "rff-ridge", 0.0, None))
            configs.append((case, 0.75, "spectral-oi", 1e-3, None))
            configs.append((case, 0.75, "spectral-oi", 1e-4, None))
        configs.append(("case1001", 0.75, "rbf", 0.0, 1))
        configs.append(("case1001", 0.5, "rbf", 0.0, 1))
        configs.append(("case1001", 0.75, "rff-mlp:steps=1000", 0.0, 1))
        configs.append(("case1001", 0.75, "mlp:steps=1000", 0.0, 1))
        configs.append(("case1001", 1.0, "spectral-oi", 0.0, None))
        lines = []
        for case, frac, interp, noise, count in configs:
            inc = d / "inc.h5"
            args = ["increments", "--quiet", "--truth", str(truth), "--model-error", case, "--threads", "2",
                    "--observe", f"fraction={frac},noise={noise},seed=1", "--interp", interp,
                    "--prior", str(prior), "--out", str(inc)]
            if count:
                args += ["--count", str(count)]
            secs = timed(*args)
            e1, e2 = analysis_error(inc)
            cells = []
            for sel in (["--select", "bic"], ["--select", "cv", "--folds", "3"]):
                res = json.loads(run("discover", "--json", "--increments", str(inc), *sel))
                verdict, worst, big, ok = summarise(res)
                cells.append(f"{'**ok**' if ok else 'fails'}: {verdict}, error {worst:.2g}%, largest spurious {big:.2g}")
            name = interp.split(":")[0]
            lines.append(f"| {case} | {frac:.0%} | {name} | {noise:g} | {e1:.1e} / {e2:.1e} | {cells[0]} | {cells[1]} | {secs:.0f} |")
            print(lines[-1], flush=True)
        timing = []
        for interp in ["spectral-oi", "rff-ridge", "rbf", "rff-mlp:steps=1000", "mlp:steps=1000"]:
            for frac in [0.5]:
                base = ["increments", "--quiet", "--truth", str(truth), "--model-error", "case1001", "--threads", "2",
                        "--count", "1", "--prior", str(prior), "--out", str(d / "t.h5")]
                t_obs = statistics.median([timed(*base, "--observe", f"fraction={frac},seed=1", "--interp", interp) for _ in range(1 if "mlp" in interp else 3)])
                t_full = statistics.median([timed(*base) for _ in range(3)])
                timing.append(f"| {interp} | {frac:.0%} | {t_obs - t_full:.1f} |")
    text = "\n".join([
        "# Discovery from sparse observations",
        "",
        "Written by `python bench/sparse.py` on " + machine() + ".",
        "",
        __doc__.split("\n\n", 2)[2].strip(),
        "",
        "A run **succeeds** when the support is exact in both layers and every expected coefficient is",
        "within 5%. Analysis error: relative L2 error of the interpolated q against the truth, layer 1 /",
        "layer 2 (mean over the snapshots). Networks: one snapshot, 1,000 Adam steps (1.5-3.5 minutes",
        "per snapshot); `mlp` is the same network without the Fourier-feature layer.",
        "",
        "| case | observed | interpolator | noise | analysis error | STLSQ + BIC | STLSQ + 3-fold CV | s |",
        "|---|---|---|---|---|---|---|---|",
        *lines,
    ])
    DOC.write_text(text + "\n")
    print(f"wrote {DOC}")
    write_section("interpolation", "\n".join([
        "## Interpolating one 96 x 192 snapshot (both layers) from 50% of the points",
        "",
        "Produced by one run of",
        "",
        "    python bench/sparse.py",
        "",
        f"on {machine()}. Seconds of `medida increments --count 1 --observe fraction=0.5` beyond the same",
        "command without observations (2 threads; median of 3 runs, 1 for the networks). spectral-oi",
        "includes the Cholesky factorisation of the 9,216 x 9,216 station covariance per layer (reused",
        "for every later snapshot with the same stations); rbf a dense LU of the same size per layer and",
        "snapshot; the networks train 1,000 full-batch Adam steps.",
        "",
        "| interpolator | observed | s |",
        "|---|---|---|",
        *timing,
        "",
        "Target for rff-mlp: under 60 s per snapshot at the accuracy that makes discovery succeed. Not met:",
        "no network setting tried reaches the accuracy discovery needs (see docs/sparse.md).",
    ]))


if __name__ == "__main__":
    sys.exit(main())

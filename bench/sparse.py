"""Discovery from sparse observations: state x case x observed fraction x interpolator x noise,
written to docs/sparse.md; and the time to interpolate one 96 x 192 snapshot per method, written to
docs/benchmarks.md.

    python bench/sparse.py        # builds the release binary first; about 30 minutes on 2 cores

Two states of the MEDIDA jet (96 x 192), 3 snapshots one time unit apart each: *turbulent*, after
the study's 250 time units of spin-up (the jet has gone unstable and shed eddies), and *spin-up*,
after 100 time units (kinetic energy an eighth of the equilibrium's, no eddies yet). spectral-oi's
prior comes from a separate run of the same model (another random initial state, 10 snapshots
over the next 40 time units). Each row: `medida increments --observe fraction=F,noise=N,seed=1
--interp I` (q observed at the stations, the forecast from the interpolated field, the increment at
the stations), then `medida discover` with STLSQ and the threshold chosen by BIC or by 3-fold CV,
on every station or (`--min-neighbours 7`) on the stations with at least 7 of their 8 neighbours
observed. These are analyses by interpolation alone; docs/assimilation.md has discovery from
analyses made by assimilating the observations into the model, which succeeds where these fail.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from sections import kept_sections, machine, page_head, write_section
from summary import summarise

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


def verdict(inc, *args):
    """One discovery, summarised: ok or what failed, the largest error of the expected terms, the
    largest spurious coefficient."""
    out = subprocess.run([MEDIDA, "discover", "--json", "--increments", str(inc), *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return "no rows" if "no rows" in out.stderr else "error: " + out.stderr.strip().splitlines()[-1]
    s = summarise(json.loads(out.stdout))
    kind = "support exact" if s.exact else f"{len(s.spurious)} spurious, {len(s.missed)} missed"
    big = max((abs(r["discovered"]) for r in s.spurious), default=0.0)
    head = "**ok**" if s.ok else f"fails ({kind})"
    tail = f", spurious up to {big:.2g}" if big else ""
    return f"{head}: {s.worst:.2g}%{tail}"


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        common = ["--preset", "medida-jet", "--set", "run.threads=2", "--set", "output.checkpoint_interval=0"]
        states = {}
        for state, spinup in [("turbulent", 250), ("spin-up", 100)]:
            truth, prior = d / f"truth{spinup}.h5", d / f"prior{spinup}.h5"
            run("simulate", "--quiet", *common, "--spinup", str(spinup), "--tmax", str(spinup + 2), "--out", str(truth))
            run("simulate", "--quiet", *common, "--spinup", str(spinup), "--tmax", str(spinup + 40),
                "--set", "output.snapshot_interval=160", "--set", "init.seed=5", "--out", str(prior))
            states[state] = (truth, prior)
        configs = []
        for state in states:
            for case in ["case1001", "case1002", "case1004"]:
                for frac in [0.75, 0.5, 0.25]:
                    configs.append((state, case, frac, "spectral-oi", 0.0, None))
        for case in ["case1001", "case1002", "case1004"]:
            configs.append(("turbulent", case, 0.75, "spectral-oi", 1e-3, None))
            configs.append(("spin-up", case, 0.5, "spectral-oi", 1e-3, None))
        for frac in [0.75, 0.5]:
            for interp in ["cubic", "rbf", "rff-ridge"]:
                configs.append(("turbulent", "case1001", frac, interp, 0.0, 1 if interp == "rbf" else None))
            configs.append(("spin-up", "case1001", frac, "cubic", 0.0, None))
        configs.append(("turbulent", "case1001", 0.75, "rff-mlp:steps=1000", 0.0, 1))
        configs.append(("turbulent", "case1001", 0.75, "mlp:steps=1000", 0.0, 1))
        configs.append(("spin-up", "case1001", 0.75, "rff-mlp:steps=1000", 0.0, 1))
        configs.append(("spin-up", "case1001", 0.75, "mlp:steps=1000", 0.0, 1))
        configs.append(("turbulent", "case1001", 1.0, "spectral-oi", 0.0, None))
        lines = []
        for state, case, frac, interp, noise, count in configs:
            truth, prior = states[state]
            inc = d / "inc.h5"
            args = ["increments", "--quiet", "--overwrite", "--truth", str(truth), "--model-error", case, "--threads", "2",
                    "--observe", f"fraction={frac},noise={noise},seed=1", "--interp", interp,
                    "--prior", str(prior), "--out", str(inc)]
            if count:
                args += ["--count", str(count)]
            secs = timed(*args)
            e1, e2 = analysis_error(inc)
            cv = ["--select", "cv", "--folds", "3"]
            cells = [verdict(inc, "--select", "bic"), verdict(inc, *cv), verdict(inc, *cv, "--min-neighbours", "7")]
            name = interp.split(":")[0]
            lines.append(f"| {state} | {case} | {frac:.0%} | {name} | {noise:g} | {e1:.1e} / {e2:.1e} | "
                         + " | ".join(cells) + f" | {secs:.0f} |")
            print(lines[-1], flush=True)
        timing = []
        truth, prior = states["turbulent"]
        for interp in ["spectral-oi", "rff-ridge", "rbf", "cubic", "rff-mlp:steps=1000", "mlp:steps=1000"]:
            base = ["increments", "--quiet", "--overwrite", "--truth", str(truth), "--model-error", "case1001",
                    "--threads", "2", "--count", "1", "--prior", str(prior), "--out", str(d / "t.h5")]
            t_obs = statistics.median([timed(*base, "--observe", "fraction=0.5,seed=1", "--interp", interp)
                                       for _ in range(1 if "mlp" in interp else 3)])
            t_full = statistics.median([timed(*base) for _ in range(3)])
            timing.append(f"| {interp} | 50% | {t_obs - t_full:.2f} |")
    text = "\n".join([
        *page_head("Discovery from sparse observations", "bench/sparse.py", __doc__),
        "A run **succeeds** when the support is exact in both layers and every expected coefficient is",
        "within 5%; each cell gives the largest error of the expected coefficients and the largest",
        "spurious coefficient (`no rows`: no station has 7 observed neighbours). Analysis error: relative",
        "L2 error of the interpolated q against the truth, layer 1 / layer 2 (mean over the snapshots).",
        "Networks: one snapshot, 1,000 Adam steps (1.5-3.5 minutes per snapshot); `mlp` is the same",
        "network without the Fourier-feature layer. Noise is relative to each layer's standard deviation.",
        "",
        "| state | case | observed | interpolator | noise | analysis error | BIC, all stations | CV, all stations | CV, 7+ neighbours | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *lines,
    ])
    kept = kept_sections(DOC)
    DOC.write_text(text + "\n" + ("\n" + kept if kept else ""))
    print(f"wrote {DOC}")
    write_section("interpolation", "\n".join([
        "## Interpolating one 96 x 192 snapshot (both layers) from 50% of the points",
        "",
        "Produced by one run of",
        "",
        "    python bench/sparse.py",
        "",
        f"on {machine()}. Seconds of `medida increments --count 1 --observe fraction=0.5` beyond the same",
        "command without observations (2 threads; median of 3 runs, 1 for the networks), turbulent jet.",
        "spectral-oi includes the Cholesky factorisation of the 9,216 x 9,216 station covariance per",
        "layer (reused for every later snapshot with the same stations); rbf a dense LU of the same size",
        "per layer and snapshot; cubic a Delaunay triangulation and the gradient iteration per layer and",
        "snapshot; the networks train 1,000 full-batch Adam steps.",
        "",
        "| interpolator | observed | s |",
        "|---|---|---|",
        *timing,
        "",
        "Target for rff-mlp: under 60 s per snapshot at the accuracy that makes discovery succeed. Not met:",
        "at 1,000 full-batch steps it takes about twice that, and its analysis (3% error) is too coarse: on",
        "the turbulent jet discovery from interpolation alone needs about 2% (spectral-oi at 1.1% succeeds,",
        "cubic at 1.9% once; see docs/sparse.md). Mini-batches reach the same 3% in 43 s (section",
        "rff-mlp below), still too coarse.",
    ]))


if __name__ == "__main__":
    sys.exit(main())

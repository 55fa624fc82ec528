"""The RFF network's accuracy against its training time on one 96 x 192 snapshot of the turbulent
jet, full batch and mini-batch, and whether discovery succeeds from its analysis; written to the
section "rff-mlp" of docs/benchmarks.md.

    .venv/bin/python bench/rff.py        # builds the release binary first; about 20 minutes on 2 cores

The study's jet after 250 time units of spin-up, 3 snapshots, observed at 75% of the points
(stations seed 1), case 1001; each row is `medida increments --count K --observe
fraction=0.75,seed=1 --interp rff-mlp:...` (seconds per snapshot beyond the same command without
observations, so training and prediction of both layers), then `medida discover --select cv
--folds 3`. For comparison the same with spectral-oi and cubic.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from sections import machine, write_section
from summary import summarise

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIDA = os.environ.get("MEDIDA_BIN", str(ROOT / "target" / "release" / "medida"))
# (interpolator, snapshots): the full-batch network on one snapshot only (about 3 minutes each)
INTERPS = [
    ("rff-mlp:steps=1000", 1),
    ("rff-mlp:steps=1000,batch=1024", 3),
    ("rff-mlp:steps=3000,batch=1024,lr=3e-3", 3),
    ("rff-mlp:steps=3000,batch=512,lr=3e-3,frequencies=512", 3),
    ("spectral-oi", 3),
    ("cubic", 3),
]


def run(*args):
    t0 = os.times().elapsed
    out = subprocess.run([MEDIDA, *args], check=True, capture_output=True, text=True)
    return out.stdout, os.times().elapsed - t0


def analysis_error(path):
    import h5py
    with h5py.File(path) as f:
        return [float(f[f"diagnostics/analysis_error{lev}"][:].mean()) for lev in (1, 2)]


def verdict(inc, *extra):
    s = summarise(json.loads(run("discover", "--json", "--increments", str(inc), "--select", "cv", "--folds", "3",
                                 *extra)[0]))
    return ("**ok**" if s.ok else "fails") + f": {s.worst:.2g}%" + (f", {len(s.spurious)} spurious" if s.spurious else "")


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        common = ["--preset", "medida-jet", "--set", "run.threads=2", "--set", "output.checkpoint_interval=0",
                  "--spinup", "250"]
        truth, prior = d / "truth.h5", d / "prior.h5"
        run("simulate", "--quiet", *common, "--tmax", "252", "--out", str(truth))
        run("simulate", "--quiet", *common, "--tmax", "290", "--set", "output.snapshot_interval=160",
            "--set", "init.seed=5", "--out", str(prior))
        base = ["increments", "--quiet", "--overwrite", "--truth", str(truth), "--model-error", "case1001",
                "--threads", "2", "--prior", str(prior)]
        t_full = {k: run(*base, "--count", str(k), "--out", str(d / "full.h5"))[1] for k in (1, 3)}
        for interp, k in INTERPS:
            inc = d / "inc.h5"
            _, secs = run(*base, "--count", str(k), "--observe", "fraction=0.75,seed=1", "--interp", interp,
                          "--out", str(inc))
            e1, e2 = analysis_error(inc)
            cells = [verdict(inc, *extra) if k == 3 else "-" for extra in ([], ["--min-neighbours", "7"])]
            rows.append(f"| {interp} | {(secs - t_full[k]) / k:.1f} | {e1:.1e} / {e2:.1e} | "
                        + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    write_section("rff-mlp", "\n".join([
        "## The RFF network: accuracy against training time",
        "",
        "Produced by one run of",
        "",
        "    .venv/bin/python bench/rff.py",
        "",
        f"on {machine()}. 96 x 192 snapshots of the turbulent jet observed at 75%",
        "(stations seed 1), case 1001: seconds per snapshot of `medida increments --count K --observe",
        "fraction=0.75,seed=1 --interp I` beyond the same command without observations (both layers,",
        "2 threads; single runs), the analysis error (relative L2, layer 1 / layer 2, mean over the",
        "snapshots) and discovery from the 3 snapshots' stations, all or those with 7 of 8 neighbours",
        "observed (STLSQ, 3-fold CV; ok = exact support, every coefficient within 5%; the full-batch",
        "network runs on one snapshot only, `-`).",
        "",
        "| interpolator | s | analysis error | discovery, all stations | discovery, 7+ neighbours |",
        "|---|---|---|---|---|",
        *rows,
    ]))


if __name__ == "__main__":
    sys.exit(main())

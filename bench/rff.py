"""The RFF network's accuracy against its training time on one 96 x 192 snapshot of the turbulent
jet, full batch and mini-batch, and whether discovery succeeds from its analysis; written to the
section "rff-mlp" of docs/benchmarks.md.

    .venv/bin/python bench/rff.py        # builds the release binary first; about 20 minutes on 2 cores

The study's jet after 250 time units of spin-up, observed at 75% of the points (stations seed 1),
case 1001; each row is `medida increments --count 1 --observe fraction=0.75,seed=1 --interp
rff-mlp:...` (seconds beyond the same command without observations, so training and prediction
of both layers), then `medida discover --select cv --folds 3`. For comparison the same with
spectral-oi and cubic.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIDA = os.environ.get("MEDIDA_BIN", str(ROOT / "target" / "release" / "medida"))
INTERPS = [
    "rff-mlp:steps=1000",
    "rff-mlp:steps=1000,batch=1024",
    "rff-mlp:steps=3000,batch=1024",
    "rff-mlp:steps=3000,batch=1024,lr=3e-3",
    "rff-mlp:steps=3000,batch=512,lr=3e-3,frequencies=512",
    "spectral-oi",
    "cubic",
]


def run(*args):
    t0 = os.times().elapsed
    out = subprocess.run([MEDIDA, *args], check=True, capture_output=True, text=True)
    return out.stdout, os.times().elapsed - t0


def analysis_error(path):
    import h5py
    with h5py.File(path) as f:
        return [float(f[f"diagnostics/analysis_error{lev}"][0]) for lev in (1, 2)]


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        common = ["--preset", "medida-jet", "--set", "run.threads=2", "--set", "output.checkpoint_interval=0",
                  "--spinup", "250"]
        truth, prior = d / "truth.h5", d / "prior.h5"
        run("simulate", "--quiet", *common, "--tmax", "251", "--out", str(truth))
        run("simulate", "--quiet", *common, "--tmax", "290", "--set", "output.snapshot_interval=160",
            "--set", "init.seed=5", "--out", str(prior))
        base = ["increments", "--quiet", "--truth", str(truth), "--model-error", "case1001", "--threads", "2",
                "--count", "1", "--prior", str(prior)]
        _, t_full = run(*base, "--out", str(d / "full.h5"))
        for interp in INTERPS:
            inc = d / "inc.h5"
            _, secs = run(*base, "--observe", "fraction=0.75,seed=1", "--interp", interp, "--out", str(inc))
            e1, e2 = analysis_error(inc)
            res = json.loads(run("discover", "--json", "--increments", str(inc), "--select", "cv", "--folds", "3")[0])
            errs = [r["error_percent"] for r in res["table"] if r["error_percent"] is not None]
            spurious = sum(r["error_percent"] is None for r in res["table"])
            worst = max(errs)
            ok = res["support_exact"] and worst <= 5.0
            verdict = ("**ok**" if ok else "fails") + f": {worst:.2g}%" + (f", {spurious} spurious" if spurious else "")
            rows.append(f"| {interp} | {secs - t_full:.1f} | {e1:.1e} / {e2:.1e} | {verdict} |")
            print(rows[-1], flush=True)
    write_section("rff-mlp", "\n".join([
        "## The RFF network: accuracy against training time",
        "",
        "Produced by one run of",
        "",
        "    .venv/bin/python bench/rff.py",
        "",
        f"on {machine()}. One 96 x 192 snapshot of the turbulent jet observed at 75%",
        "(stations seed 1), case 1001: seconds of `medida increments --count 1 --observe fraction=0.75,seed=1",
        "--interp I` beyond the same command without observations (both layers, 2 threads; single runs),",
        "the analysis error (relative L2, layer 1 / layer 2) and discovery from that snapshot's",
        "stations (STLSQ, 3-fold CV; ok = exact support, every coefficient within 5%).",
        "",
        "| interpolator | s | analysis error | discovery |",
        "|---|---|---|---|",
        *rows,
    ]))


if __name__ == "__main__":
    sys.exit(main())

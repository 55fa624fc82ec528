"""The RFF network's accuracy against its training choices and time on one 96 x 192 snapshot of the
turbulent jet; written to the section "rff-mlp" of docs/benchmarks.md (discovery from its
analyses: bench/rff_discovery.py).

    .venv/bin/python bench/rff.py        # builds the release binary first; about 25 minutes on 2 cores

The study's jet after 250 time units of spin-up, observed at 75% of the points (stations seed 1);
each row is `medida increments --count K --observe fraction=0.75,seed=1 --interp I` (seconds per
snapshot beyond the same command without observations, so training and prediction of both layers).
Each training choice is added to the same base, then all together; for comparison spectral-oi and
cubic.
"""
import contextlib
import os
import pathlib
import subprocess
import sys
import tempfile

from sections import machine, write_section
from summary import analysis

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIDA = os.environ.get("MEDIDA_BIN", str(ROOT / "target" / "release" / "medida"))
BASE = "rff-mlp:steps=3000,batch=512,lr=3e-3,frequencies=512"
CHOSEN = f"{BASE},sigma=4,octaves=3,cosine=1,refit=1e-8"
# (interpolator, snapshots)
INTERPS = [
    (BASE, 1),
    (f"{BASE},refit=1e-8", 1),
    (f"{BASE},isotropic=1", 1),
    (f"{BASE},cosine=1", 1),
    (f"{BASE},sigma=4,octaves=3", 1),
    (CHOSEN, 1),
    (f"{CHOSEN},steps=6000", 1),
    (f"{CHOSEN},steps=12000", 1),
    (CHOSEN, 3),
    (f"{CHOSEN},warm=1000", 3),
    ("mlp:steps=3000,batch=512,lr=3e-3,cosine=1,refit=1e-8", 1),
    ("spectral-oi", 1),
    ("cubic", 1),
]


def run(*args):
    t0 = os.times().elapsed
    out = subprocess.run([MEDIDA, *args], check=True, capture_output=True, text=True)
    return out.stdout, os.times().elapsed - t0


def jet_runs(d, snapshots):
    """In directory `d`: the study's jet after 250 time units of spin-up, `snapshots` snapshots one
    time unit apart (truth.h5), and spectral-oi's prior, another initial state's run (prior.h5)."""
    common = ["--preset", "medida-jet", "--set", "run.threads=2", "--set", "output.checkpoint_interval=0",
              "--spinup", "250"]
    truth, prior = d / "truth.h5", d / "prior.h5"
    run("simulate", "--quiet", *common, "--tmax", str(250 + snapshots - 1), "--out", str(truth))
    run("simulate", "--quiet", *common, "--tmax", "290", "--set", "output.snapshot_interval=160",
        "--set", "init.seed=5", "--out", str(prior))
    return truth, prior


@contextlib.contextmanager
def jet_dir(snapshots):
    """The release binary built (unless the command line says --no-build), then a temporary
    directory with `jet_runs(d, snapshots)` in it: yields `(d, truth, prior)`."""
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        yield (d, *jet_runs(d, snapshots))


def first_analysis(inc, truth):
    """The first snapshot's analysis `q` of increments file `inc`, the true `q` at its time, and its
    stations (where the increment is defined), each `(lev, y, x)`."""
    import h5py
    import numpy as np
    with h5py.File(inc) as f, h5py.File(truth) as t:
        q_true = t["q"][int(np.argmin(abs(t["time"][:] - f["time"][0])))]
        return f["q"][0], q_true, np.isfinite(f["dqdt"][0])


def split_error(q, q_true, stations):
    """Per layer, the analysis' misfit at the stations and its error elsewhere: RMS relative to the
    true field's RMS."""
    import numpy as np
    out = []
    for lev in (0, 1):
        e, rms = q[lev] - q_true[lev], np.sqrt((q_true[lev] ** 2).mean())
        out.append((np.sqrt((e[stations[lev]] ** 2).mean()) / rms, np.sqrt((e[~stations[lev]] ** 2).mean()) / rms))
    return out


def fit_and_scales(inc, truth):
    """Per layer, from the first snapshot of increments file `inc`: the misfit at the stations and
    the error elsewhere (`split_error`), and the error's share of the truth's energy in the top
    third of the isotropic wavenumbers."""
    import h5py
    with h5py.File(inc) as f:
        kr, err, tru = f["kr"][:], f["error_spectrum"][0], f["truth_spectrum"][0]
    top = kr > 2 * kr.max() / 3
    split = split_error(*first_analysis(inc, truth))
    return [(*split[lev], err[lev][top].sum() / tru[lev][top].sum()) for lev in (0, 1)]


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        truth, prior = jet_runs(d, 3)
        base = ["increments", "--quiet", "--overwrite", "--truth", str(truth), "--model-error", "case1001",
                "--threads", "2", "--prior", str(prior)]
        t_full = {k: run(*base, "--count", str(k), "--out", str(d / "full.h5"))[1] for k in (1, 3)}
        for interp, k in INTERPS:
            inc = d / "inc.h5"
            _, secs = run(*base, "--count", str(k), "--observe", "fraction=0.75,seed=1", "--interp", interp,
                          "--out", str(inc))
            (e1, e2), (k1, k2) = analysis(inc)
            split = fit_and_scales(inc, truth)
            cells = [" / ".join(f"{layer[j]:.1e}" for layer in split) for j in range(3)]
            rows.append(f"| `{interp}` | {k} | {(secs - t_full[k]) / k:.1f} | {e1:.1e} / {e2:.1e} | "
                        f"{k1:.2f} / {k2:.2f} | " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    write_section("rff-mlp", "\n".join([
        "## The RFF network: accuracy against training choices and time",
        "",
        "Produced by one run of",
        "",
        "    .venv/bin/python bench/rff.py",
        "",
        f"on {machine()}. A 96 x 192 snapshot of the turbulent jet observed at 75%",
        "(stations seed 1): seconds per snapshot of `medida increments --count K --observe",
        "fraction=0.75,seed=1 --interp I` beyond the same command without observations (both layers,",
        "2 threads; single runs), the analysis error (relative L2, layer 1 / layer 2, mean over the",
        "snapshots) and the isotropic wavenumber where the error's spectrum reaches the truth's (nan:",
        "nowhere up to the largest ring, 6.5). Each training choice added to the first row's",
        "base, then the chosen set; `warm=1000`: the second and third snapshots start from the",
        "previous one's weights and take 1,000 steps. Then, from the first snapshot: the misfit at the",
        "stations and the error elsewhere (RMS relative to the field's) and the error's share of the",
        "truth's spectrum in the top third of the wavenumbers. Discovery from these analyses:",
        "docs/sparse.md.",
        "",
        "| interpolator | snapshots | s | analysis error | error = signal at | misfit at stations | "
        "error elsewhere | error / signal, top third of k |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]))


if __name__ == "__main__":
    sys.exit(main())

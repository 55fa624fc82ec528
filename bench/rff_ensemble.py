"""An ensemble of RFF networks (the same settings, other seeds): does averaging them lower the
error between the stations, and does their spread map it? Written to the section "rff-ensemble" of
docs/benchmarks.md.

    .venv/bin/python bench/rff_ensemble.py [--members M]   # default 4; about 8 minutes on 2 cores

One 96 x 192 snapshot of the turbulent jet observed at 75% (stations seed 1), as bench/rff.py;
each member is `medida increments --count 1 --observe fraction=0.75,seed=1 --interp
rff-mlp:...,seed=S` with bench/rff.py's chosen settings.
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

from rff import CHOSEN, first_analysis, jet_runs, run, split_error
from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    import numpy as np
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        truth, prior = jet_runs(d, 2)
        qs = []
        for seed in range(args.members):
            inc = d / f"member{seed}.h5"
            run("increments", "--quiet", "--truth", str(truth), "--prior", str(prior), "--model-error", "case1001",
                "--threads", "2", "--count", "1", "--observe", "fraction=0.75,seed=1",
                "--interp", f"{CHOSEN},seed={seed}", "--out", str(inc))
            q, q_true, stations = first_analysis(inc, truth)
            qs.append(q)
    cell = lambda split, j: " / ".join(f"{layer[j]:.2e}" for layer in split)
    rows = []
    for seed, q in enumerate(qs):
        split = split_error(q, q_true, stations)
        rows.append(f"| seed {seed} | {cell(split, 0)} | {cell(split, 1)} |")
    for n in range(2, len(qs) + 1):
        split = split_error(np.mean(qs[:n], axis=0), q_true, stations)
        rows.append(f"| mean of seeds 0-{n - 1} | {cell(split, 0)} | {cell(split, 1)} |")
    mean, spread = np.mean(qs, axis=0), np.std(qs, axis=0)
    maps = []
    for lev in (0, 1):
        err, sd = np.abs(mean[lev] - q_true[lev])[~stations[lev]], spread[lev][~stations[lev]]
        maps.append((np.corrcoef(err, sd)[0, 1], np.sqrt((sd ** 2).mean() / (err ** 2).mean())))
    for r in rows:
        print(r)
    write_section("rff-ensemble", "\n".join([
        "## An ensemble of RFF networks",
        "",
        "Produced by one run of",
        "",
        "    .venv/bin/python bench/rff_ensemble.py",
        "",
        f"on {machine()}. {len(qs)} networks with bench/rff.py's chosen settings",
        f"(`{CHOSEN}`) and seeds 0-{len(qs) - 1}, one 96 x 192 snapshot of the turbulent jet",
        "observed at 75% (stations seed 1): the misfit at the stations and the error elsewhere (RMS",
        "relative to the field's, layer 1 / layer 2) of each network and of the mean of the first n.",
        "",
        "| analysis | misfit at stations | error elsewhere |",
        "|---|---|---|",
        *rows,
        "",
        "As an uncertainty map, between the stations: the correlation of the members' spread with the",
        "mean's absolute error "
        + " / ".join(f"{c:.2f}" for c, _ in maps)
        + ", the spread's RMS over the error's " + " / ".join(f"{r:.2f}" for _, r in maps) + ".",
    ]))


if __name__ == "__main__":
    sys.exit(main())

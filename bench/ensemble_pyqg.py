"""An ensemble of 40 members of pyqg's eddy configuration on 128 x 128 points, stepped on 1 and 2
cores: medida against pyqg 0.7.2 in the same run; writes docs/benchmarks.md.

    python bench/ensemble_pyqg.py            # about 3 minutes
    python bench/ensemble_pyqg.py --quick    # shorter measurements

The study's jet is not in pyqg, and pyqg 0.7.2 cannot run its 96 x 192 grid either (its inversion
assumes ny = nx: `QGModel(nx=96, ny=192)` fails building the inversion matrix), so the row pyqg can
have is its own eddy physics on the nearest square grid, 128 x 128 (16,384 points against the
jet's 18,432), each member from pyqg's random initial condition with its own seed. medida: `cargo
bench -p medida-solver --bench ensemble -- eddy_128` (criterion medians; the members spread over a rayon pool of 1 or 2 threads, each
member bit-identical to a lone run). pyqg: the members split between 1 or 2 processes (pyFFTW,
ntd=1, OMP_NUM_THREADS=1), each process stepping its members in turn (`_step_forward`); an
ensemble step is the slowest process's time for one step of all its members, the median of 7
batches.
"""
import argparse
import json
import multiprocessing as mp
import os
import pathlib
import statistics
import textwrap
import subprocess
import sys
import time

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEMBERS = 40


def criterion_ms(name, threads):
    path = ROOT / "target" / "criterion" / "eddy_128" / name / str(threads) / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"] / 1e6


def members(seeds):
    import numpy as np
    import pyqg

    out = []
    for s in seeds:
        np.random.seed(s)
        m = pyqg.QGModel(nx=128, ntd=1, log_level=0)
        for _ in range(20):
            m._step_forward()
        out.append(m)
    return out


def worker(seeds, rounds, batches, barrier, results):
    ms = members(seeds)
    times = []
    for _ in range(batches):
        barrier.wait()
        t0 = time.perf_counter()
        for _ in range(rounds):
            for m in ms:
                m._step_forward()
        times.append((time.perf_counter() - t0) / rounds * 1e3)
    results.put(times)


def time_pyqg(processes, rounds):
    """Median over 7 batches of the slowest process's ms per ensemble step."""
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    seeds = [list(range(MEMBERS))[p::processes] for p in range(processes)]
    procs = [ctx.Process(target=worker, args=(s, rounds, 7, barrier, results)) for s in seeds]
    for p in procs:
        p.start()
    # A process that fails never reports: wait for each at most 10 minutes.
    per = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return statistics.median(max(batch) for batch in zip(*per))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter measurements")
    args = ap.parse_args()
    crit = ["--warm-up-time", "1", "--measurement-time", "3"] if args.quick else []
    subprocess.run(["cargo", "bench", "-q", "-p", "medida-solver", "--bench", "ensemble", "--",
                    "eddy_128", *crit], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    os.environ["OMP_NUM_THREADS"] = "1"
    import pyqg

    lone = criterion_ms("lone", 1)
    rows = []
    for threads in (1, 2):
        ours = criterion_ms(f"members{MEMBERS}", threads)
        theirs = time_pyqg(threads, 3 if args.quick else 10)
        rows.append((threads, theirs, ours))
        print(f"{threads} core(s): pyqg {theirs:.1f} ms, medida {ours:.1f} ms per ensemble step", flush=True)
    lines = [
        "## An ensemble of 40 members at 128 x 128: medida vs pyqg 0.7.2",
        "",
        "Produced by one run of",
        "",
        "    python bench/ensemble_pyqg.py" + (" --quick" if args.quick else ""),
        "",
        *textwrap.wrap(
            f"on {machine()}; pyqg {pyqg.__version__} (pyFFTW, ntd=1). pyqg's eddy configuration on "
            "128 x 128 (pyqg cannot run the jet, nor its 96 x 192 grid: its inversion assumes ny = "
            "nx), 40 members from pyqg's random initial condition, seeds 0-39. medida: criterion "
            "medians of one step of every member, spread over 1 or 2 threads. pyqg: the members "
            "split between 1 or 2 processes, each stepping its own in turn; the slowest process's "
            f"time, median of 7 batches. A lone member's step, for scale: medida {lone:.3f} ms on "
            f"one thread (criterion), so a member inside the ensemble costs "
            f"{rows[0][2] / MEMBERS / lone:.2f}x a lone one (40 models' arrays do not stay in cache "
            "between their steps).", 98),
        "",
        "| cores | pyqg ms per ensemble step | medida ms per ensemble step | speed-up | pyqg steps/s per member | medida steps/s per member |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {t} | {p:.1f} | {m:.1f} | {p / m:.2f}x | {1e3 / p:.1f} | {1e3 / m:.1f} |" for t, p, m in rows]
    lines += [
        "",
        "The MEDIDA jet itself (leapfrog, the 3/2 rule, forcing and sponge) is in the section",
        "\"An ensemble of the jet\" above; pyqg cannot run it.",
    ]
    write_section("ensemble_pyqg", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

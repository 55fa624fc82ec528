"""Time `medida demo` from nothing to the printed table (spin-up, truth, increments, discovery,
corrected forecasts) and write the wall time to docs/benchmarks.md.

    python bench/demo.py        # builds the release binary first

Runs `medida demo --case case1002` (96 x 192, 250 time units = 10,000 leapfrog steps of spin-up,
3 snapshots, 2 threads) three times and reports the median wall and CPU time; then each case
1001-1008 once, recording the discovered support and the largest coefficient error. The released
NumPy code of the MEDIDA study needs about 14 minutes for 20,000 steps on 2 cores
(shared/reference/medida-qg.md section 1.11), so about 7 minutes for this spin-up alone; that
measurement was not repeated here.
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
MEDIDA = ROOT / "target" / "release" / "medida"
RELEASED_SPINUP_SECONDS = 14 * 60 / 2
CASES = [f"case{c}" for c in range(1001, 1009)]


def run_demo(case, d):
    """(wall s, CPU s, results JSON) of one demo run in directory d."""
    t0 = os.times().elapsed
    proc = subprocess.Popen([str(MEDIDA), "demo", "--quiet", "--case", case, "--dir", d],
                            stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, f"medida demo --case {case} failed"
    wall = os.times().elapsed - t0
    with open(pathlib.Path(d) / "discovery.json") as f:
        return wall, usage.ru_utime + usage.ru_stime, json.load(f)


def main():
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    walls, cpus, rows = [], [], []
    with tempfile.TemporaryDirectory() as d:
        for _ in range(3):
            w, c, _ = run_demo("case1002", d)
            walls.append(w)
            cpus.append(c)
        for case in CASES:
            w, _, res = run_demo(case, d)
            errs = [r["error_percent"] for r in res["table"] if r["error_percent"] is not None]
            terms = "; ".join(f"L{r['layer']} {r['discovered']:+.6f} {r['term']}" for r in res["table"])
            corr = res["correction"]
            rows.append(f"| {case} | {'exact' if res['support_exact'] else 'WRONG'} | {max(errs):.1e} | "
                        f"{statistics.median(corr['imperfect']):.2e} | {statistics.median(corr['corrected']):.2e} | "
                        f"{w:.1f} | {terms} |")
    wall = statistics.median(walls)
    lines = [
        "## `medida demo`: spin-up, truth, increments, discovery and correction",
        "",
        "Produced by one run of",
        "",
        "    python bench/demo.py",
        "",
        f"on {machine()}. `medida demo --case case1002`: the MEDIDA jet on 96 x 192 from a random state,",
        "250 time units (10,000 leapfrog steps) of spin-up, 3 truth snapshots one time unit apart,",
        "one-step increments of the imperfect model, STLSQ over the 10-term released library with the",
        "threshold chosen by BIC, then 400-step forecasts of the truth, imperfect and corrected models",
        "from each snapshot. 2 threads; median of 3 runs; the release binary was built beforehand.",
        "",
        "| wall s | CPU s | released NumPy code, spin-up alone (reference measurement) | ratio |",
        "|---|---|---|---|",
        f"| {wall:.1f} | {statistics.median(cpus):.1f} | about {RELEASED_SPINUP_SECONDS:.0f} s | {RELEASED_SPINUP_SECONDS / wall:.0f}x |",
        "",
        "Target: under 60 s for case 1002 including the spin-up.",
        "",
        "Every case (one demo run each; coefficient error in percent of the expected value; forecast",
        "error = relative L2 error of q after 400 steps = 10 time units, median over the 3 starts):",
        "",
        "| case | support | largest error % | imperfect forecast error | corrected forecast error | wall s | discovered |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    write_section("demo", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

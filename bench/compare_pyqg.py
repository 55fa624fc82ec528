"""Time one model step of medida and pyqg 0.7.2 on the same grids, in the same run, and write the
table to docs/benchmarks.md.

    python bench/compare_pyqg.py            # all sizes (about 5 minutes)
    python bench/compare_pyqg.py --quick    # shorter measurements

medida: `cargo bench -p medida-solver --bench step` (criterion; medians of its samples). pyqg:
QGModel(nx, ntd=1, log_level=0) with default physics, 20 warm-up steps, then 7 repetitions of a
batch of steps; the median per-step wall time and CPU time (process_time) over the repetitions.
Both start from pyqg's random initial condition with seed 0.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
SIZES = [64, 128, 256, 512]


def criterion_median_ms(group, nx):
    path = ROOT / "target" / "criterion" / group / str(nx) / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"] / 1e6


def time_pyqg(nx, seconds):
    import numpy as np
    import pyqg

    np.random.seed(0)
    m = pyqg.QGModel(nx=nx, ntd=1, log_level=0)
    for _ in range(20):
        m._step_forward()
    t0 = time.perf_counter()
    m._step_forward()
    batch = max(3, int(seconds / 7 / max(time.perf_counter() - t0, 1e-6)))
    wall, cpu = [], []
    for _ in range(7):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(batch):
            m._step_forward()
        wall.append((time.perf_counter() - w0) / batch * 1e3)
        cpu.append((time.process_time() - c0) / batch * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter measurements")
    args = ap.parse_args()
    crit = ["--warm-up-time", "1", "--measurement-time", "2"] if args.quick else []
    subprocess.run(["cargo", "bench", "-q", "-p", "medida-solver", "--bench", "step", "--", *crit],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    os.environ["OMP_NUM_THREADS"] = "1"
    import pyqg

    rows = []
    for nx in SIZES:
        pw, pc = time_pyqg(nx, 3.0 if args.quick else 8.0)
        r1 = criterion_median_ms("step_1thread", nx)
        r2 = criterion_median_ms("step_2thread", nx)
        r32 = criterion_median_ms("step_f32_1thread", nx)
        floor = criterion_median_ms("fft10_1thread", nx)
        rows.append((nx, pw, pc, r1, floor, r2, r32))
        print(f"nx={nx}: pyqg {pw:.3f} ms wall, {pc:.3f} ms CPU; medida {r1:.3f} ms (1 thread), "
              f"{r2:.3f} ms (2 threads), {r32:.3f} ms (f32), FFT floor {floor:.3f} ms", flush=True)

    lines = [
        "## One step of the two-layer model: medida vs pyqg 0.7.2",
        "",
        "Default pyqg physics (eddy case), pyqg's random initial condition with seed 0, double precision.",
        "Produced by one run of",
        "",
        "    python bench/compare_pyqg.py" + (" --quick" if args.quick else ""),
        "",
        f"on {machine()}; pyqg {pyqg.__version__} (pyFFTW build, ntd=1).",
        "medida times are criterion medians (`cargo bench -p medida-solver --bench step`); pyqg times are",
        "medians of 7 batches. The FFT floor is the 10 single-layer real FFTs a step needs (4 forward,",
        "6 inverse), timed with medida's own planned transforms.",
        "",
        "| nx | pyqg wall ms/step | pyqg CPU ms/step | medida 1 thread ms/step | speed-up vs pyqg wall | "
        "speed-up vs pyqg CPU | FFT floor ms | floor / pyqg CPU | step / floor | medida 2 threads ms/step | "
        "2-thread speed-up | medida f32 1 thread ms/step | f32 speed-up over f64 | f32 vs pyqg CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for nx, pw, pc, r1, floor, r2, r32 in rows:
        lines.append(f"| {nx} | {pw:.3f} | {pc:.3f} | {r1:.3f} | {pw / r1:.2f}x | {pc / r1:.2f}x | "
                     f"{floor:.3f} | {floor / pc:.2f} | {r1 / floor:.2f} | {r2:.3f} | {r1 / r2:.2f}x | "
                     f"{r32:.3f} | {r1 / r32:.2f}x | {pc / r32:.2f}x |")
    lines += [
        "",
        "Reading the table: the speed-up columns are pyqg's time over medida's single-thread time; medida",
        "runs one thread unless a rayon pool with more is installed, and its CPU time equals its wall time",
        "then. Two threads split the two layers, and give the same bytes as one thread. The f32 columns",
        "are the same model with `model.precision = \"f32\"` (state, kernel and transforms in single",
        "precision; pyqg has none, so its column compares with pyqg's double-precision step).",
        "",
        "The floor column bounds what any implementation with these FFTs can reach: a step needs its 10",
        "transforms, so a speed-up over pyqg of more than 1 / (floor / pyqg CPU) is impossible with",
        "rustfft on this machine (pyqg's pyFFTW transforms are about as fast). Beyond the floor, a step",
        "spends its time in memory passes over the spectral and physical arrays, which at nx = 512 no",
        "longer fit in cache.",
    ]
    write_section("solver", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

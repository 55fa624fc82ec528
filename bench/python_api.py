"""Time medida's Python package against pyqg 0.7.2 and against medida's own CLI, in the same run,
and write the table to docs/benchmarks.md.

    .venv-pyqg/bin/python bench/python_api.py     # pyqg and the package side by side (about 2 minutes)

For each nx: `run()` of a fixed number of steps of pyqg's `QGModel(nx, ntd=1, log_level=0)` and
of `medida.QGModel(nx)` (default physics, tmax set to that many steps), and `medida simulate` of
the same steps with no snapshot, diagnostics or checkpoint (process start and the output's
creation included); medians of 5 repetitions, wall time. Needs the release binary
(`cargo build --release`) and the package installed (`pip install ./python`).
"""
import pathlib
import statistics
import subprocess
import time

import medida
import pyqg

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
STEPS = {64: 1000, 128: 300, 256: 100, 512: 30}
REPEATS = 5


def median_wall(make_and_run):
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        make_and_run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_pyqg(nx, steps):
    m = pyqg.QGModel(nx=nx, ntd=1, log_level=0, tmax=steps * 7200.0)
    m.run()


def run_medida(nx, steps):
    m = medida.QGModel(nx=nx, tmax=steps * 7200.0)
    m.run()


def run_cli(nx, steps, out):
    subprocess.run(
        [str(ROOT / "target/release/medida"), "simulate", "-q", "--overwrite", "--out", str(out),
         "--steps", str(steps), "--set", f"model.nx={nx}", "--set", f"model.ny={nx}",
         "--set", "output.snapshot_interval=0", "--set", "output.diagnostics_interval=0",
         "--set", "output.checkpoint_interval=0"],
        check=True,
    )


def main():
    import tempfile

    lines = [
        "## The Python package: `medida.QGModel` vs pyqg 0.7.2 and vs the CLI",
        "",
        "Produced by one run of",
        "",
        "    .venv-pyqg/bin/python bench/python_api.py",
        "",
        f"on {machine()}. Wall time of `run()` (model created inside the timing), medians of "
        f"{REPEATS}; the CLI's time includes starting the process and writing its output.",
        "",
        "| nx | steps | pyqg s | medida.QGModel s | medida simulate (CLI) s | pyqg / package | package / CLI |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "run.h5"
        for nx, steps in STEPS.items():
            p = median_wall(lambda: run_pyqg(nx, steps))
            m = median_wall(lambda: run_medida(nx, steps))
            c = median_wall(lambda: run_cli(nx, steps, out))
            lines.append(f"| {nx} | {steps} | {p:.3f} | {m:.3f} | {c:.3f} | {p / m:.2f}x | {m / c:.2f} |")
            print(lines[-1], flush=True)
    write_section("python_api", "\n".join(lines))


if __name__ == "__main__":
    main()

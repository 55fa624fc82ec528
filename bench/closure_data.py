"""A 10-year 256 x 256 eddy run (Ross et al.'s high resolution, dt 3600 s, 86,400 steps), medida
beside pyqg 0.7.2 on the same machine in the same run; writes docs/benchmarks.md.

    python bench/closure_data.py    # needs a release build and .venv-pyqg (scripts/setup.sh)

medida: `medida simulate --set model.nx=256 --set model.ny=256 --set model.dt=3600 --tmax
3.1104e8`, single thread, pyqg's time averages over years 5-10 (as `medida closure data`
accumulates them, once a day) and a snapshot every 1000 h. pyqg: `QGModel(nx=256, dt=3600,
tmax=3.1104e8, tavestart=1.5552e8, taveint=86400, ntd=1)` (the same daily averages; pyqg's
default `taveint` of 1 s would average every step) with pyFFTW (its fastest single-thread build),
`run()`. One run each (a run is 5-15 minutes); wall and CPU seconds.
"""
import os
import pathlib
import subprocess
import sys
import tempfile

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIDA = ROOT / "target" / "release" / "medida"
PYQG = ROOT / ".venv-pyqg" / "bin" / "python"
YEARS = 10
TMAX = YEARS * 360 * 86400.0
STEPS = 86400  # TMAX / dt
PYQG_RUN = f"""
import pyqg
m = pyqg.QGModel(nx=256, dt=3600.0, tmax={TMAX}, tavestart={TMAX / 2}, taveint=86400.0, ntd=1, log_level=0)
m.run()
assert m.tc == {STEPS}, m.tc
"""


def timed(args, env=None):
    t0 = os.times().elapsed
    proc = subprocess.Popen(args, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, f"{args[0]} failed"
    return os.times().elapsed - t0, usage.ru_utime + usage.ru_stime


def main():
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as d:
        ours = timed([str(MEDIDA), "simulate", "-q", "--out", str(pathlib.Path(d) / "hr.h5"),
                      "--set", "model.nx=256", "--set", "model.ny=256", "--set", "model.dt=3600",
                      "--tmax", str(TMAX), "--set", "run.threads=1", "--set", f"output.tavestart={TMAX / 2}",
                      "--set", "output.snapshot_interval=1000", "--set", "output.diagnostics_interval=100",
                      "--set", "output.checkpoint_interval=10000"])
    theirs = timed([str(PYQG), "-c", PYQG_RUN], env=dict(os.environ, OMP_NUM_THREADS="1"))
    lines = [
        "## Closure data: a 10-year 256 x 256 high-resolution run",
        "",
        "Produced by one run of",
        "",
        "    python bench/closure_data.py",
        "",
        f"on {machine()}. 86,400 steps of Ross et al.'s eddy configuration at 256 x 256, dt 3600 s, single",
        "thread, time averages over years 5-10 in both, accumulated once a day.",
        "",
        "| run | wall s | CPU s | steps/s (CPU) |",
        "|---|---|---|---|",
        f"| medida simulate (snapshot every 1000 h, checkpoints) | {ours[0]:.0f} | {ours[1]:.0f} | {STEPS / ours[1]:.0f} |",
        f"| pyqg 0.7.2 with pyFFTW, `run()` | {theirs[0]:.0f} | {theirs[1]:.0f} | {STEPS / theirs[1]:.0f} |",
        "",
        f"medida is {theirs[1] / ours[1]:.1f}x faster in CPU time. Target (issue 15): at most 100 s on one core,",
        f"i.e. 1.16 ms per step (issue 23: 90 s); here {ours[1] / STEPS * 1e3:.2f} ms per step, the bare",
        "step (the solver section above, measured on its own day) and the averages and output.",
    ]
    write_section("closure_data", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

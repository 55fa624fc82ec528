"""Time 20,000 steps of the MEDIDA forced jet (96 x 192, single thread) end to end with the CLI and
write steps per second to docs/benchmarks.md.

    python bench/jet.py        # needs a release build (cargo build --release)

Runs `medida simulate --preset medida-jet --steps 20000 --spinup 0` (leapfrog, 3 snapshots and
diagnostics per 40 steps written, as the preset does) three times and reports the median CPU
time. The released NumPy code of the MEDIDA study took about 14 minutes for 20,000 steps on a
2-core machine (shared/reference/medida-qg.md section 1.11); the ratio below is against that
measurement, which was not repeated here.
"""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIDA = ROOT / "target" / "release" / "medida"
STEPS = 20_000
RELEASED_SECONDS = 14 * 60


def time_run(extra):
    """Median (CPU, wall) seconds of three runs of 20,000 steps with `extra` arguments."""
    cpu, wall = [], []
    with tempfile.TemporaryDirectory() as d:
        for _ in range(3):
            args = [str(MEDIDA), "simulate", "-q", "--preset", "medida-jet", "--steps", str(STEPS),
                    "--spinup", "0", "--overwrite", "--out", str(pathlib.Path(d) / "jet.h5"), *extra]
            t0 = os.times().elapsed
            proc = subprocess.Popen(args, env=dict(os.environ, RAYON_NUM_THREADS="1"))
            _, status, usage = os.wait4(proc.pid, 0)
            assert status == 0, "medida failed"
            wall.append(os.times().elapsed - t0)
            cpu.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def main():
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    rows = [
        ("stepping (no snapshots or diagnostics)", time_run(["--set", "output.snapshot_interval=0", "--set", "output.diagnostics_interval=0"])),
        ("the preset's output (snapshot and diagnostics every 40 steps, 590 MB)", time_run([])),
    ]
    lines = [
        "## MEDIDA forced jet: 20,000 steps at 96 x 192",
        "",
        "Produced by one run of",
        "",
        "    python bench/jet.py",
        "",
        f"on {machine()}. `medida simulate --preset medida-jet --steps 20000 --spinup 0`, single thread:",
        "leapfrog with Robert-Asselin filter, 3/2 de-aliasing (the advection's transforms run on",
        "144 x 288), implicit hyperviscosity, sponge; median of 3 runs each.",
        "",
        "| run | CPU s | wall s | steps/s (CPU) | released NumPy code (reference measurement) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, (c, w) in rows:
        lines.append(f"| {name} | {c:.2f} | {w:.2f} | {STEPS / c:.0f} | about {RELEASED_SECONDS} s | {RELEASED_SECONDS / c:.0f}x |")
    lines += ["", "Target: 20,000 steps in under 20 s (the stepping row)."]
    write_section("jet", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

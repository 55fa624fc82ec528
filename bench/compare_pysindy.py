"""Fit 400,000 x {20, 50, 100} STLSQ problems with PySINDy 2.1 and with medida in the same run,
single thread, and write CPU-time ratios and peak memory to docs/benchmarks.md.

    python bench/compare_pysindy.py            # needs .venv (scripts/setup.sh) and a release build

The problems are those of stlsq.md section 5: Gaussian columns with Toeplitz correlation
0.6^|i-j|, 3, 4 or 5 true terms from (1.5, -0.8, 0.3, 2.0, -1.2), noise 10% of std(Xw);
threshold 0.1, alpha 0.05. Each fit runs in its own process: PySINDy's `STLSQ().fit(X, y)` on
arrays already in memory (median CPU time of 3 fits after a warm-up; peak RSS growth during the
fits), and `medida fit --pysindy` end to end from the .npy files (median CPU time of 3 runs after
a warm-up, including reading the files; peak RSS of the process). criterion times medida's
in-memory fit against forming X^T X alone.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys

from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PY = ROOT / ".venv" / "bin" / "python"
MEDIDA = ROOT / "target" / "release" / "medida"
N = 400_000

MAKE = """
import numpy as np, sys
n, p, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(p)
c = 0.6 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
x = rng.standard_normal((n, p)) @ np.linalg.cholesky(c).T
w = np.zeros(p); k = 3 + p // 50
w[rng.choice(p, k, replace=False)] = [1.5, -0.8, 0.3, 2.0, -1.2][:k]
y = x @ w; y = y + 0.1 * y.std() * rng.standard_normal(n)
np.save(f"{path}/x{p}.npy", x); np.save(f"{path}/y{p}.npy", y[:, None])
np.save(f"{path}/w{p}.npy", w)
"""

PYSINDY = """
import json, resource, statistics, sys, time, warnings
import numpy as np, pysindy as ps
from threadpoolctl import threadpool_info
x, y = np.load(sys.argv[1]), np.load(sys.argv[2])
warnings.simplefilter("ignore")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ps.STLSQ(threshold=0.1, alpha=0.05).fit(x, y)
cpu = []
for _ in range(3):
    t = time.process_time(); opt = ps.STLSQ(threshold=0.1, alpha=0.05).fit(x, y); cpu.append(time.process_time() - t)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"cpu": statistics.median(cpu), "extra_mib": (peak - before) / 1024,
                  "coef": opt.coef_[0].tolist(), "blas": sorted({i["internal_api"] + ":" + str(i["num_threads"]) for i in threadpool_info()})}))
"""


def medida_run(p, stem=""):
    args = [str(MEDIDA), "fit", "--library", str(OUT / f"{stem}x{p}.npy"), "--target", str(OUT / f"{stem}y{p}.npy"),
            "--pysindy", "--alpha", "0.05", "--select", "threshold=0.1", "--json"]
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    runs = []
    for _ in range(4):
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        assert status == 0, f"medida failed on p={p}"
        runs.append((usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, json.loads(out)))
    runs = runs[1:]  # the first run warms the page cache
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]["fit"]["coef"][0]


def criterion_ms(name, p):
    path = ROOT / "target" / "criterion" / "stlsq_400k" / name / str(p) / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"] / 1e6


def main():
    import numpy as np
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "bench", "-q", "-p", "medida-discovery", "--bench", "stlsq"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    # One BLAS thread for PySINDy; OPENBLAS_CORETYPE/L2_SIZE (set on this workplace for old OpenBLAS
    # builds) would slow the current numpy, so they are unset for the peer, as the workplace advises.
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # The process's own footprint (binary, libraries, allocator): medida on 1,000 rows.
    subprocess.run([str(PY), "-c", MAKE, "1000", "20", str(OUT)], check=True)
    for name in ("x20", "y20"):
        (OUT / f"{name}.npy").rename(OUT / f"tiny{name}.npy")
    baseline = medida_run(20, "tiny")[1]
    rows = []
    for p in (20, 50, 100):
        subprocess.run([str(PY), "-c", MAKE, str(N), str(p), str(OUT)], check=True)
        ps = json.loads(subprocess.run([str(PY), "-c", PYSINDY, str(OUT / f"x{p}.npy"), str(OUT / f"y{p}.npy")],
                                       env=env, check=True, capture_output=True, text=True).stdout)
        cpu, rss, coef = medida_run(p)
        diff = float(np.max(np.abs(np.array(coef) - np.array(ps["coef"]))) / np.max(np.abs(ps["coef"])))
        support = (np.array(coef) != 0).tolist() == (np.array(ps["coef"]) != 0).tolist()
        gram, fit = criterion_ms("gram_only", p), criterion_ms("gram_and_fit", p)
        chunk = 16384 * (p + 1) * 8 / 2**20
        rows.append((p, ps["cpu"], cpu, ps["extra_mib"], rss, chunk, gram, fit, support, diff, ps["blas"]))
        print(rows[-1], flush=True)
    size = {p: N * p * 8 / 2**20 for p in (20, 50, 100)}
    lines = [
        "## STLSQ on 400,000 rows: medida vs PySINDy 2.1",
        "",
        "Produced by one run of",
        "",
        "    python bench/compare_pysindy.py",
        "",
        f"on {machine()}; PySINDy BLAS pools {rows[0][10]}.",
        "Data as in stlsq.md section 5 (Toeplitz correlation 0.6, 3-5 true terms, 10% noise); threshold 0.1,",
        "alpha 0.05; single thread. PySINDy: `STLSQ().fit(X, y)` on arrays in memory, median CPU time of 3",
        "fits, peak RSS growth during the fits. medida: `medida fit --pysindy` end to end from the .npy files",
        "(reading included), median CPU time of 3 runs, peak RSS of the whole process. Both find the same",
        "support; the coefficient column is the largest difference relative to the largest coefficient.",
        "",
        f"medida's peak RSS on a 1,000-row problem (binary, libraries, allocator) is {baseline:.0f} MiB; the",
        "column after it is what the large problem adds, to compare with the size of one chunk.",
        "",
        "| p | size(X) MiB | PySINDy CPU s | medida CPU s (from files) | speed-up | PySINDy extra memory MiB | "
        "medida peak RSS MiB | medida extra MiB | one chunk MiB | same support | coef difference |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p, pc, mc, pm, mr, chunk, gram, fit, support, diff, _ in rows:
        lines.append(f"| {p} | {size[p]:.0f} | {pc:.3f} | {mc:.3f} | {pc / mc:.1f}x | {pm:.0f} | {mr:.0f} | {mr - baseline:.0f} | {chunk:.1f} | "
                     f"{'yes' if support else 'NO'} | {diff:.1e} |")
    lines += [
        "",
        "medida in memory (criterion medians, `cargo bench -p medida-discovery --bench stlsq`): forming",
        "X^T X and X^T y alone against the whole fit (statistics, iterations, refit).",
        "",
        "| p | X^T X alone ms | whole STLSQ ms | ratio |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[6]:.1f} | {r[7]:.1f} | {r[7] / r[6]:.2f} |")
    write_section("stlsq", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

"""Time PySINDy 2.1's STLSQ against medida.STLSQ inside `pysindy.SINDy`, in the same run, on a
400,000-sample problem with a 55-term library, and write the table to docs/benchmarks.md.

    .venv/bin/python bench/python_stlsq.py     # PySINDy and the package side by side (about 3 minutes)

The problem: 5 state variables (Gaussian, Toeplitz correlation 0.6^|i-j|), their derivatives a
sparse cubic polynomial of them (3 terms each) plus 10% noise, given to `SINDy.fit(x, t, x_dot=...)`
with `PolynomialLibrary(degree=3, include_bias=False)` (55 terms): X is 400,000 x 55, 5 targets.
Threshold 0.1, alpha 0.05 (PySINDy's defaults but the threshold). For each optimizer: the whole
`SINDy.fit` (library evaluation included, the same for both) and the optimizer's `fit` alone on
the evaluated library, wall and CPU time, medians of 3 after a warm-up, the machine's default
threads (PySINDy's BLAS, medida's rayon pool).
"""
import os
import statistics
import time
import warnings

import numpy as np
import pysindy as ps
from threadpoolctl import threadpool_info

import medida
from sections import machine, write_section

N, D, REPEATS = 400_000, 5, 3


def problem():
    rng = np.random.default_rng(20261203)
    c = 0.6 ** np.abs(np.subtract.outer(np.arange(D), np.arange(D)))
    x = rng.standard_normal((N, D)) @ np.linalg.cholesky(c).T
    library = ps.PolynomialLibrary(degree=3, include_bias=False).fit(x)
    theta = np.asarray(library.transform(x))
    w = np.zeros((D, theta.shape[1]))
    for i in range(D):
        w[i, rng.choice(theta.shape[1], 3, replace=False)] = [1.5, -0.8, 0.3]
    x_dot = theta @ w.T
    x_dot += 0.1 * x_dot.std(axis=0) * rng.standard_normal(x_dot.shape)
    return x, x_dot, theta


def median_times(run):
    run()
    wall, cpu = [], []
    for _ in range(REPEATS):
        t0, c0 = time.perf_counter(), time.process_time()
        result = run()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), result


def main():
    warnings.simplefilter("ignore")
    x, x_dot, theta = problem()
    optimizers = {"PySINDy STLSQ": ps.STLSQ, "medida.STLSQ": medida.STLSQ}
    rows, coefs = [], {}
    for name, make in optimizers.items():
        def sindy():
            model = ps.SINDy(optimizer=make(threshold=0.1), feature_library=ps.PolynomialLibrary(degree=3, include_bias=False))
            return model.fit(x, t=1.0, x_dot=x_dot).coefficients()

        def alone():
            return make(threshold=0.1).fit(theta, x_dot).coef_

        s_wall, s_cpu, coefs[name] = median_times(sindy)
        a_wall, a_cpu, _ = median_times(alone)
        rows.append((name, s_wall, s_cpu, a_wall, a_cpu))
        print(rows[-1], flush=True)
    theirs, ours = coefs["PySINDy STLSQ"], coefs["medida.STLSQ"]
    same = bool(((theirs != 0) == (ours != 0)).all())
    diff = np.abs(ours - theirs).max() / np.abs(theirs).max()
    (_, ps_sw, ps_sc, ps_aw, ps_ac), (_, m_sw, m_sc, m_aw, m_ac) = rows
    blas = sorted({f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info()})
    lines = [
        "## `medida.STLSQ` inside `pysindy.SINDy`: against PySINDy's own STLSQ",
        "",
        "Produced by one run of",
        "",
        "    .venv/bin/python bench/python_stlsq.py",
        "",
        f"on {machine()}; PySINDy's BLAS pools {blas}, medida's rayon threads "
        f"{os.environ.get('RAYON_NUM_THREADS', os.cpu_count())}. 400,000 samples of 5 variables, "
        "`PolynomialLibrary(degree=3, include_bias=False)` (55 terms), 5 targets with 3 true terms "
        "each and 10% noise; threshold 0.1, alpha 0.05. Medians of 3 after a warm-up. The SINDy "
        "columns time the whole `SINDy(optimizer=...).fit(x, t, x_dot=x_dot)` (the library evaluation "
        "is the same for both); the optimizer columns its `fit` alone on the evaluated 400,000 x 55 "
        "library.",
        "",
        "| optimizer | SINDy.fit wall s | SINDy.fit CPU s | optimizer wall s | optimizer CPU s |",
        "|---|---|---|---|---|",
    ]
    for name, sw, sc, aw, ac in rows:
        lines.append(f"| {name} | {sw:.3f} | {sc:.3f} | {aw:.3f} | {ac:.3f} |")
    lines += [
        f"| ratio PySINDy / medida | {ps_sw / m_sw:.1f}x | {ps_sc / m_sc:.1f}x | {ps_aw / m_aw:.1f}x | {ps_ac / m_ac:.1f}x |",
        "",
        f"Same support: {'yes' if same else 'NO'}; largest coefficient difference {diff:.1e} of the "
        "largest coefficient.",
    ]
    write_section("python_stlsq", "\n".join(lines))


if __name__ == "__main__":
    main()

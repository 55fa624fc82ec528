"""Write PySINDy 2.1 STLSQ reference fits that medida's STLSQ is tested against.

    python tests/pysindy/make_reference.py            # (re)write tests/data/pysindy_stlsq.npz
    python tests/pysindy/make_reference.py --check    # refit with PySINDy, compare with the committed file

Each case is a seeded random problem: correlated columns spanning several orders of magnitude,
a planted sparse model per target, Gaussian noise relative to the target's std, and one set of
STLSQ settings. Stored per case: X, Y, PySINDy's coef_ (targets x terms) and the settings.
"""
import pathlib
import sys
import warnings

import numpy as np
import pysindy as ps

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from reference import check_flag, write_or_check  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "pysindy_stlsq.npz"

# name: (n, p, m, noise, threshold, alpha, normalize_columns, seed)
CASES = {
    "small_exact": (200, 6, 1, 0.0, 0.1, 0.05, False, 1),
    "noisy_3targets": (400, 10, 3, 0.01, 0.1, 0.05, False, 2),
    "noisy_10pct": (400, 8, 2, 0.1, 0.2, 0.05, False, 3),
    "normalized": (300, 12, 2, 0.01, 0.5, 0.05, True, 4),
    "normalized_noisy": (400, 15, 3, 0.05, 1.0, 0.0, True, 5),
    "ridge_heavy": (250, 9, 2, 0.02, 0.05, 50.0, False, 6),
    "threshold_kills_one": (300, 7, 2, 0.01, 2.5, 0.05, False, 7),
}


def problem(n, p, m, noise, seed):
    rng = np.random.RandomState(seed)
    base = rng.randn(n, p)
    mix = np.eye(p) + 0.4 * rng.randn(p, p) / np.sqrt(p)  # correlated columns
    scales = 10.0 ** rng.uniform(-1, 1, size=p)
    x = (base @ mix) * scales
    coef = np.zeros((m, p))
    for i in range(m):
        support = rng.choice(p, size=min(3, p), replace=False)
        coef[i, support] = rng.choice([-1, 1], size=support.size) * rng.uniform(0.5, 3.0, size=support.size) / scales[support]
    y = x @ coef.T
    y = y + noise * y.std(axis=0) * rng.randn(n, m)
    return x, y


def fit(x, y, threshold, alpha, normalize):
    opt = ps.STLSQ(threshold=threshold, alpha=alpha, max_iter=20, normalize_columns=normalize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt.fit(x, y)
    return opt.coef_


def same(_name, fresh, committed):
    """The same support and coefficients to 1e-12 of the largest."""
    same_support = np.array_equal(fresh != 0, committed != 0)
    err = np.abs(fresh - committed).max() / max(np.abs(committed).max(), 1e-300)
    return same_support and err <= 1e-12, f"rel max err {err:.1e}" + ("" if same_support else ", support differs")


def main():
    check = check_flag(__doc__)
    assert ps.__version__.startswith("2.1"), f"need pysindy 2.1, found {ps.__version__}"
    out = {}
    for name, (n, p, m, noise, thr, alpha, norm, seed) in CASES.items():
        x, y = problem(n, p, m, noise, seed)
        out[f"{name}/x"], out[f"{name}/y"] = x, y
        out[f"{name}/coef"] = fit(x, y, thr, alpha, norm)
        out[f"{name}/settings"] = np.array([thr, alpha, float(norm)])
    return write_or_check(DATA, out, check, same, "PySINDy reference")


if __name__ == "__main__":
    sys.exit(main())

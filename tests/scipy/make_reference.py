"""Write scipy Clough-Tocher reference interpolants that medida's `cubic` is tested against.

    python tests/scipy/make_reference.py            # (re)write tests/data/scipy_clough_tocher.npz
    python tests/scipy/make_reference.py --check    # recompute with scipy, compare with the committed file

Each case: seeded random scattered points in a rectangle (generic positions, so the Delaunay
triangulation is unique and Qhull and delaunator agree), a smooth field with some small-scale
content at the points, and scipy's CloughTocher2DInterpolator (default tol 1e-6, maxiter 400) at
random query points inside the points' convex hull and at a regular grid (NaN outside the hull).
Stored per case: points (n, 2), values (n,), queries (m, 2), scipy's values (m,).
"""
import pathlib
import sys

import numpy as np
import scipy
from scipy.interpolate import CloughTocher2DInterpolator

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from reference import check_flag, write_or_check  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "scipy_clough_tocher.npz"

# name: (points, queries, width, height, seed)
CASES = {
    "unit_square": (60, 200, 1.0, 1.0, 1),
    "jet_box": (400, 500, 46.0, 68.0, 2),
}


def case(n, m, w, h, seed):
    rng = np.random.RandomState(seed)
    pts = rng.uniform(0, 1, size=(n, 2)) * [w, h]
    x, y = pts[:, 0] / w, pts[:, 1] / h
    values = np.sin(2 * np.pi * x) * np.cos(4 * np.pi * y) + 0.3 * np.cos(10 * np.pi * x * y) + x
    q = rng.uniform(0, 1, size=(m, 2)) * [w, h]
    gx, gy = np.meshgrid(np.linspace(0, w, 13), np.linspace(0, h, 11))
    queries = np.vstack([q, np.column_stack([gx.ravel(), gy.ravel()])])
    out = CloughTocher2DInterpolator(pts, values)(queries)
    return {"points": pts, "values": values, "queries": queries, "scipy": out}


def same(_name, fresh, committed):
    """NaN where scipy's is, and equal to 1e-10 of the largest value elsewhere."""
    same_nan = np.array_equal(np.isnan(fresh), np.isnan(committed))
    d = np.nanmax(np.abs(committed - fresh)) / max(1.0, np.nanmax(np.abs(fresh)))
    return same_nan and d <= 1e-10, f"rel max err {d:.1e}" + ("" if same_nan else ", NaN pattern differs")


def main():
    check = check_flag(__doc__)
    data = {}
    for name, params in CASES.items():
        for k, v in case(*params).items():
            data[f"{name}/{k}"] = v
    return write_or_check(DATA, data, check, same, f"Clough-Tocher reference (scipy {scipy.__version__})")


if __name__ == "__main__":
    sys.exit(main())

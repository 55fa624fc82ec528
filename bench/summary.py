"""One discovery (`medida discover --json`, or the FILE.json of --out), and the analyses of a
`medida increments --observe` output, summarised for the results tables of the bench scripts."""
from types import SimpleNamespace


def summarise(res):
    """exact: the support is the expected one in both layers; worst: the largest error (%) of the
    expected terms; ok: exact and worst within 5%; spurious: the table rows of terms not expected;
    missed: the rows of expected terms not found."""
    rows = res["table"]
    errs = [r["error_percent"] for r in rows if r["error_percent"] is not None]
    worst = max(errs) if errs else float("nan")
    exact = res["support_exact"]
    return SimpleNamespace(
        exact=exact,
        worst=worst,
        ok=exact and worst <= 5.0,
        spurious=[r for r in rows if r["error_percent"] is None],
        missed=[r for r in rows if r["error_percent"] is not None and r["discovered"] == 0],
    )


def analysis(path):
    """Per layer: the analysis error (relative L2), mean over the snapshots, and the wavenumber where
    the error's spectrum reaches the truth's, mean over the snapshots where it does (NaN: none)."""
    import h5py
    import numpy as np
    with h5py.File(path) as f:
        g = f["diagnostics"]
        cross = [g[f"error_reaches_signal{lev}"][:] for lev in (1, 2)]
        return ([float(g[f"analysis_error{lev}"][:].mean()) for lev in (1, 2)],
                [float(c[np.isfinite(c)].mean()) if np.isfinite(c).any() else float("nan") for c in cross])

"""What medida's optimizers share: PySINDy's optimizer interface, the input checks and the native
fit (`medida fit`'s regression, run in Rust on the arrays in place, without the GIL).

With PySINDy installed, medida's optimizers are PySINDy optimizers (subclasses of its
`BaseOptimizer`), so `pysindy.SINDy(optimizer=medida.STLSQ(...))` works unchanged; without it,
they stand alone with the same attributes (`coef_`, `ind_`, `intercept_`, `iters`, `Theta_`) and
`fit`, `predict`, `complexity`.
"""

import math
import numbers
import warnings

import numpy as np

from .. import _medida

try:
    from pysindy.optimizers import BaseOptimizer as _Base
except ImportError:

    class _Base:
        """PySINDy's `BaseOptimizer`, the part medida's optimizers use, for when PySINDy is not
        installed."""

        def __init__(self, max_iter=20, normalize_columns=False, initial_guess=None, copy_X=True, unbias=True):
            self.max_iter = max_iter
            self.normalize_columns = normalize_columns
            self.initial_guess = initial_guess
            self.copy_X = copy_X
            self.unbias = unbias
            self.iters = 0

        def predict(self, x):
            """The fitted targets of library rows `x`, (samples, targets)."""
            return np.asarray(x, dtype=np.float64) @ self.coef_.T

        @property
        def complexity(self):
            """Number of nonzero coefficients."""
            return int(np.count_nonzero(self.coef_))


class SparseOptimizer(_Base):
    """A medida optimizer behind PySINDy's interface: `fit(x, y)` runs `medida fit` with the flags
    of `_flags()` on the arrays (a subclass's `_settings()` gives its flags and threshold); the
    result is in `coef_` (targets x terms, in the units of the data), and `fit_` (the native
    result: `equations()`, `summary()`, `json()`, `std`)."""

    def _flags(self, select=None):
        """The `medida fit` / `medida discover` flags of these settings: the threshold fixed, or
        selected by `select` ("bic", "aic", "cv") over the optimizer's default grid."""
        flags, threshold = self._settings()
        return flags + ["--select", select if select is not None else f"threshold={threshold!r}"]

    def fit(self, x_, y, sample_weight=None, **reduce_kws):
        """Fits targets `y` (samples, or samples x targets) on library columns `x_` (samples x
        terms). Rows whose library or targets are all NaN are dropped, as PySINDy does; other
        NaN or Inf is a ValueError. `sample_weight` (one value, or one per sample, >= 0) weights
        the rows' squared residuals."""
        x, y = _rows(x_, y, sample_weight)
        self.Theta_ = x
        self._reduce(x, y)
        return self

    def _reduce(self, x, y):
        result = _medida.fit(x, y, self._flags())
        self.fit_ = result
        self.coef_ = result.coef
        self.ind_ = self.coef_ != 0
        self.iters = result.iterations
        self.intercept_ = 0.0
        for w in result.warnings:
            warnings.warn(w, UserWarning, stacklevel=4)

    def equations(self, feature_names=None, precision=3):
        """The fitted equations, one line per target, with `feature_names` for the terms."""
        return self.fit_.equations(precision, names=_names(feature_names))

    def print(self, feature_names=None, precision=3):
        """Prints the fitted equations (`y = 2.000 x0 - 0.500 x2`)."""
        print(self.equations(feature_names, precision), end="")


def _names(names):
    return None if names is None else [str(n) for n in names]


def _rows(x, y, sample_weight):
    """`x` (n, p) and `y` (n, m) as float64 arrays (no copy when they already are), with PySINDy's
    all-NaN rows dropped and sample weights applied."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x: a 2-D array (samples, library terms), got shape {x.shape}")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y: shape (samples,) or (samples, targets) with x's {x.shape[0]} samples, got {y.shape}")
    # One pass without a temporary: a sum is finite unless some value is not (or it overflows,
    # which only sends a finite problem through the row check below).
    if not (np.isfinite(x.sum()) and np.isfinite(y.sum())):
        keep = ~(np.isnan(x).all(axis=1) | np.isnan(y).all(axis=1))
        x, y = x[keep], y[keep]
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim > 1 or (w.ndim == 1 and w.shape[0] != x.shape[0]):
            raise ValueError(f"sample_weight: one value or one per sample ({x.shape[0]}), got shape {w.shape}")
        if not (np.isfinite(w).all() and (w >= 0).all()):
            raise ValueError("sample_weight: allowed finite values >= 0")
        s = np.sqrt(w).reshape(-1, 1)
        x, y = x * s, y * s
    return x, y


def check_number(name, value, low=0.0):
    """`value` as a float, a ValueError naming `name` unless finite and >= `low`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: a number, not {type(value).__name__}")
    if not (math.isfinite(value) and value >= low):
        raise ValueError(f"{name} = {value}: allowed a finite number >= {low:g}")
    return float(value)


def check_count(name, value, low=1):
    """`value` as an int, a ValueError naming `name` unless >= `low`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: a whole number, not {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} = {value}: allowed {low} or more")
    return int(value)


def check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: True or False, not {type(value).__name__}")
    return bool(value)

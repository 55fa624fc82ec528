"""`RVM`: the relevance vector machine (Tipping 2001) of the MEDIDA study, computed by medida."""

from .base import SparseOptimizer, check_number

_SCALINGS = ("rms", "l2", "none")


class RVM(SparseOptimizer):
    """Sparse Bayesian regression: each coefficient has a Gaussian prior whose precision is fitted
    by type-II maximum likelihood; terms whose precision reaches `threshold_alpha` are pruned.
    `coef_` holds the posterior means, `std_` their posterior standard deviations (the
    uncertainty of each coefficient), in the units of the data.

    `scaling`: "rms" (columns and targets divided by their root-mean-square, the default: the
    threshold then means the same whatever the units), "l2" (PySINDy's normalize_columns) or
    "none". On the QG library the pruning threshold is best selected, not fixed:
    `medida.discover(..., optimizer=medida.RVM(), select="bic")`. Tolerance 1e-3, at most 3000 iterations, initial precisions 1e-6 (the MEDIDA study's).
    """

    def __init__(self, threshold_alpha=1e4, scaling="rms", copy_X=True):
        if scaling not in _SCALINGS:
            raise ValueError(f"scaling = {scaling!r}: allowed {', '.join(map(repr, _SCALINGS))}")
        super().__init__(max_iter=3000, normalize_columns=scaling == "l2", copy_X=copy_X)
        self.threshold_alpha = check_number("threshold_alpha", threshold_alpha)
        if self.threshold_alpha == 0:
            raise ValueError("threshold_alpha = 0: allowed a finite number > 0")
        self.scaling = scaling

    def _settings(self):
        return ["--optimizer", "rvm", "--scaling", self.scaling], self.threshold_alpha

    def _reduce(self, x, y):
        super()._reduce(x, y)
        self.std_ = self.fit_.std

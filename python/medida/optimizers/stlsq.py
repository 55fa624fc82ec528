"""`STLSQ`: PySINDy 2.1's sequentially thresholded least squares, computed by medida."""

from .base import SparseOptimizer, check_count, check_flag, check_number


class STLSQ(SparseOptimizer):
    """Sequentially thresholded least squares with PySINDy 2.1's keywords, defaults and results.

    Each iteration ridge-solves each target on its current terms (`alpha` added to the diagonal of
    X_S^T X_S) and drops the terms with |coefficient| < `threshold`; it stops when no support
    changes or after `max_iter` iterations, then refits ordinary least squares on each support
    (`unbias`). `normalize_columns` divides the columns by their L2 norms first (threshold and
    alpha then act on the normalised problem; `coef_` is in the units of the data).
    `initial_guess` is accepted and, as in PySINDy's STLSQ, does not change the result.

    Unlike PySINDy, the rows are summed once into X^T X and X^T y (no copy of X, no unused
    least-squares initial guess), in Rust without the GIL.
    """

    def __init__(
        self,
        threshold=0.1,
        alpha=0.05,
        max_iter=20,
        normalize_columns=False,
        copy_X=True,
        initial_guess=None,
        unbias=True,
    ):
        super().__init__(
            max_iter=check_count("max_iter", max_iter),
            normalize_columns=check_flag("normalize_columns", normalize_columns),
            initial_guess=initial_guess,
            copy_X=copy_X,
            unbias=check_flag("unbias", unbias),
        )
        self.threshold = check_number("threshold", threshold)
        self.alpha = check_number("alpha", alpha)

    def _settings(self):
        flags = [
            "--optimizer", "stlsq", "--pysindy",
            "--alpha", repr(float(self.alpha)),
            "--max-iter", str(int(self.max_iter)),
            "--scaling", "l2" if self.normalize_columns else "none",
        ]
        return flags + ([] if self.unbias else ["--no-unbias"]), self.threshold

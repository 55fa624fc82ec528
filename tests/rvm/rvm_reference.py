"""An independent NumPy relevance vector machine (Tipping 2001), written from the update equations
on the raw data, and the reference fits medida's RVM is tested against.

    python tests/rvm/rvm_reference.py            # (re)write tests/data/rvm_reference.npz
    python tests/rvm/rvm_reference.py --check    # refit, compare with the committed file

Columns and target are divided by their root-mean-square first (medida's default scaling); the
loop is that of the MEDIDA study's rvm.py (from scikit-rvm): posterior, gamma, alpha, beta, prune
alpha >= threshold_alpha, stop when max|alpha - alpha_old| < tol after the second iteration; then
the posterior on the final active set. Coefficients and standard deviations are returned in the
units of the data.
"""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from reference import check_flag, write_or_check  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "rvm_reference.npz"

# name: (n, p, noise, threshold_alpha, seed)
CASES = {
    "clean": (300, 8, 0.0, 1e4, 11),
    "noise1pct": (500, 10, 0.01, 1e4, 12),
    "noise5pct": (500, 12, 0.05, 1e3, 13),
    "noise10pct_lowthr": (800, 10, 0.10, 1e2, 14),
}


def rvm(x, y, threshold_alpha, tol=1e-3, max_iter=3000, alpha0=1e-6, beta0=1e-6):
    n, p = x.shape
    cs = np.sqrt((x**2).mean(axis=0))
    ts = np.sqrt((y**2).mean())
    phi, t = x / cs, y / ts
    active = np.arange(p)
    alpha = np.full(p, alpha0)
    alpha_old = alpha.copy()
    beta = beta0

    def posterior(active, alpha, beta):
        ph = phi[:, active]
        sigma = np.linalg.inv(np.diag(alpha) + beta * ph.T @ ph)
        return sigma, beta * sigma @ ph.T @ t

    for it in range(max_iter):
        sigma, m = posterior(active, alpha, beta)
        gamma = 1.0 - alpha * np.diag(sigma)
        alpha = gamma / m**2
        beta = (n - gamma.sum()) / np.sum((t - phi[:, active] @ m) ** 2)
        keep = alpha < threshold_alpha
        active, alpha, alpha_old = active[keep], alpha[keep], alpha_old[keep]
        if active.size == 0:
            break
        if np.max(np.abs(alpha - alpha_old)) < tol and it > 1:
            break
        alpha_old = alpha.copy()
    coef, std = np.zeros(p), np.zeros(p)
    if active.size:
        sigma, m = posterior(active, alpha, beta)
        coef[active] = m * ts / cs[active]
        std[active] = np.sqrt(np.diag(sigma)) * ts / cs[active]
    return coef, std


def problem(n, p, noise, seed):
    rng = np.random.RandomState(seed)
    mix = np.eye(p) + 0.4 * rng.randn(p, p) / np.sqrt(p)
    scales = 10.0 ** rng.uniform(-1, 1, size=p)
    x = (rng.randn(n, p) @ mix) * scales
    coef = np.zeros(p)
    support = rng.choice(p, size=3, replace=False)
    coef[support] = rng.choice([-1, 1], size=3) * rng.uniform(0.5, 3.0, size=3) / scales[support]
    y = x @ coef
    return x, y + noise * y.std() * rng.randn(n)


def same(fresh, committed):
    """Equal to 1e-10 of the largest value."""
    err = np.abs(fresh - committed).max() / max(np.abs(committed).max(), 1e-300)
    return err <= 1e-10, f"rel max err {err:.1e}"


def main():
    check = check_flag(__doc__)
    out = {}
    for name, (n, p, noise, thr, seed) in CASES.items():
        x, y = problem(n, p, noise, seed)
        coef, std = rvm(x, y, thr)
        out.update({f"{name}/x": x, f"{name}/y": y[:, None], f"{name}/coef": coef, f"{name}/std": std,
                    f"{name}/threshold_alpha": np.array(thr)})
    return write_or_check(DATA, out, check, same, "RVM reference")


if __name__ == "__main__":
    sys.exit(main())

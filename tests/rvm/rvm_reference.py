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


EPS = np.finfo(float).eps


def tolerances(x, y, coef, noise):
    """What the mathematics determines of a fit, and to what accuracy, as `{name: compare}`.

    Columns and target are RMS-scaled (phi, t) as in `rvm`; kappa is the condition number of the
    active columns. A backward-stable solve of the posterior gets the coefficients to about
    p kappa eps relative: coefficients (and, with noise, the widths, set by a residual well above
    round-off) must agree to 1e3 p kappa eps, the 1e3 covering the sums of length n and the
    iteration's re-use of its own output (measured: 3e-16 against a bound of about 2e-12).

    Noise-free data have a width of exactly zero: what is computed is round-off, which differs
    between BLAS builds and processors (two machines here: 13% apart). What is determined is
    its size. The computed residual obeys |r| <= n eps kappa |phi| |m|, and the width of term j
    is sqrt(|r|^2 / (n - p) [(phi^T phi)^-1]_jj): both runs' widths must lie below that bound
    (measured: 400x below it)."""
    n, p = x.shape
    active = coef != 0
    cs, ts = np.sqrt((x**2).mean(axis=0)), np.sqrt((y**2).mean())
    phi = x[:, active] / cs[active]
    kappa = np.linalg.cond(phi)
    rel = 1e3 * p * kappa * EPS

    def close(fresh, committed):
        err = np.abs(fresh - committed).max() / max(np.abs(committed).max(), 1e-300)
        return err <= rel, f"rel max err {err:.1e} (allowed {rel:.1e}: kappa {kappa:.2f})"

    if noise > 0:
        return {"coef": close, "std": close}
    m = coef[active] * cs[active] / ts
    r_max = n * EPS * kappa * np.linalg.norm(phi, 2) * np.linalg.norm(m)
    bound = np.zeros(p)
    bound[active] = r_max / np.sqrt(n - active.sum()) * np.sqrt(np.diag(np.linalg.inv(phi.T @ phi)))
    bound[active] *= ts / cs[active]

    def round_off(fresh, committed):
        worst = max((fresh / np.where(active, bound, 1.0)).max(), (committed / np.where(active, bound, 1.0)).max())
        ok = worst <= 1.0 and not fresh[~active].any() and not committed[~active].any()
        return ok, f"round-off widths, at most {worst:.1e} of the round-off bound (allowed 1)"

    return {"coef": close, "std": round_off}


def same(fresh, committed):
    """The seeded problems themselves: x is a product over p = at most 12 terms, so BLAS builds may
    differ by p eps of the largest value; 10 p eps allows for that and nothing more."""
    err = np.abs(fresh - committed).max() / max(np.abs(committed).max(), 1e-300)
    tol = 10 * 12 * EPS
    return err <= tol, f"rel max err {err:.1e} (allowed {tol:.1e})"


def main():
    check = check_flag(__doc__)
    out, compare = {}, {}
    for name, (n, p, noise, thr, seed) in CASES.items():
        x, y = problem(n, p, noise, seed)
        coef, std = rvm(x, y, thr)
        out.update({f"{name}/x": x, f"{name}/y": y[:, None], f"{name}/coef": coef, f"{name}/std": std,
                    f"{name}/threshold_alpha": np.array(thr)})
        compare.update({f"{name}/{k}": f for k, f in tolerances(x, y, coef, noise).items()})
    return write_or_check(DATA, out, check, lambda k, a, b: compare.get(k, same)(a, b), "RVM reference")


if __name__ == "__main__":
    sys.exit(main())

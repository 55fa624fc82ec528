"""medida.STLSQ and medida.RVM: against PySINDy 2.1 on its own Lorenz example, against the CLI to
the bit, standing alone without PySINDy, and refusing bad input. Run by scripts/test.sh in .venv
(PySINDy and medida side by side; MEDIDA_BIN names the CLI, else target/debug/medida).

Tolerance against PySINDy: both solve the same least-squares problems, PySINDy by LAPACK on the
rows, medida by Cholesky on X^T X; their difference is bounded by cond(X_S^T X_S) * eps * |w|.
On the Lorenz library that is below 1e-12 |w|; the test allows the issue's 1e-10 of the largest
coefficient."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pysindy as ps
import pytest
from pysindy.utils import lorenz
from scipy.integrate import solve_ivp

import medida

ROOT = pathlib.Path(__file__).resolve().parents[2]


def medida_bin():
    given = os.environ.get("MEDIDA_BIN")
    return given if given else str(ROOT / "target" / "debug" / "medida")


@pytest.fixture(scope="module")
def lorenz_data():
    """PySINDy's feature-overview example: the Lorenz system from (-8, 8, 27), dt 0.002, 10 time
    units, integrated with its settings (LSODA, rtol = atol = 1e-12)."""
    dt = 0.002
    t = np.arange(0, 10, dt)
    x = solve_ivp(lorenz, (t[0], t[-1]), [-8, 8, 27], t_eval=t, rtol=1e-12, atol=1e-12, method="LSODA").y.T
    return x, t, dt


SETTINGS = [
    dict(threshold=0.1),
    dict(threshold=0.5, alpha=1.0),
    dict(threshold=1000.0, normalize_columns=True),
    dict(threshold=0.1, unbias=False),
    dict(threshold=0.1, max_iter=1),
]


@pytest.mark.parametrize("kw", SETTINGS, ids=[str(s) for s in SETTINGS])
def test_inside_sindy_equals_pysindy_stlsq(lorenz_data, kw):
    x, _, dt = lorenz_data
    fits = {}
    for name, opt in [("pysindy", ps.STLSQ(**kw)), ("medida", medida.STLSQ(**kw))]:
        model = ps.SINDy(optimizer=opt, feature_library=ps.PolynomialLibrary(degree=2))
        fits[name] = model.fit(x, t=dt).coefficients()
    theirs, ours = fits["pysindy"], fits["medida"]
    assert ((theirs != 0) == (ours != 0)).all(), f"supports differ:\n{theirs}\n{ours}"
    assert np.count_nonzero(theirs) >= 7
    err = np.abs(ours - theirs).max() / np.abs(theirs).max()
    print(f"{kw}: {np.count_nonzero(ours)} terms, max difference {err:.1e} of the largest coefficient")
    assert err <= 1e-10


def test_is_a_pysindy_optimizer():
    opt = medida.STLSQ(threshold=0.3, alpha=0.1, normalize_columns=True)
    assert isinstance(opt, ps.optimizers.BaseOptimizer)
    from sklearn.base import clone

    copy = clone(opt)
    assert copy.get_params() == opt.get_params()
    assert copy.get_params()["threshold"] == 0.3 and copy.get_params()["normalize_columns"] is True


def test_sample_weight_equals_pysindy(lorenz_data):
    x, _, dt = lorenz_data
    library = ps.PolynomialLibrary(degree=2).fit(x)
    theta = np.asarray(library.transform(x))
    xdot = np.asarray(ps.FiniteDifference()._differentiate(x, dt))
    w = np.linspace(0.5, 2.0, len(x))
    theirs = ps.STLSQ(threshold=0.1).fit(theta, xdot, sample_weight=w).coef_
    ours = medida.STLSQ(threshold=0.1).fit(theta, xdot, sample_weight=w).coef_
    assert ((theirs != 0) == (ours != 0)).all()
    assert np.abs(ours - theirs).max() <= 1e-10 * np.abs(theirs).max()


def regression_problem():
    rng = np.random.default_rng(20261203)
    x = rng.standard_normal((3000, 6))
    y = np.stack([x @ [1.5, 0, -0.7, 0, 0, 0.02], x @ [0, 2.0, 0, 0, 0.3, 0]], axis=1)
    return x, y + 0.01 * rng.standard_normal(y.shape)


@pytest.mark.parametrize("opt", [medida.STLSQ(threshold=0.05), medida.RVM(), medida.RVM(threshold_alpha=10.0, scaling="none")],
                         ids=["stlsq", "rvm", "rvm-none"])
def test_same_numbers_as_the_cli_to_the_bit(tmp_path, opt):
    x, y = regression_problem()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    opt.fit(x, y)
    cmd = [medida_bin(), "fit", "--library", str(tmp_path / "x.npy"), "--target", str(tmp_path / "y.npy"), "--json"]
    out = json.loads(subprocess.run(cmd + opt._flags(), check=True, capture_output=True, text=True).stdout)
    assert np.array_equal(np.array(out["fit"]["coef"]), opt.coef_), (out["fit"]["coef"], opt.coef_)
    if isinstance(opt, medida.RVM):
        assert np.array_equal(np.array(out["fit"]["std"]), opt.std_)
        assert (opt.std_[opt.coef_ != 0] > 0).all()
    assert json.loads(opt.fit_.json()) == out


def test_standalone_print_and_predict():
    x, y = regression_problem()
    opt = medida.STLSQ(threshold=0.05).fit(x, y)
    assert opt.equations(["a", "b", "c", "d", "e", "f"]).splitlines() == [
        "y0 = 1.500 a - 0.700 c",
        "y1 = 2.000 b + 0.300 e",
    ]
    assert np.allclose(opt.predict(x), x @ opt.coef_.T)
    assert opt.complexity == 4


def test_works_without_pysindy():
    code = (
        "import sys; sys.modules['pysindy'] = None\n"
        "import numpy as np, medida\n"
        "x = np.random.default_rng(1).standard_normal((500, 3)); y = x @ [2.0, 0.0, -1.0]\n"
        "o = medida.STLSQ(threshold=0.1).fit(x, y)\n"
        "assert not any(c.__module__.startswith('pysindy') for c in type(o).__mro__)\n"
        "assert np.allclose(o.coef_, [[2.0, 0.0, -1.0]], atol=1e-12) and o.complexity == 2\n"
        "assert np.allclose(o.predict(x)[:, 0], y)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_warns_when_every_term_is_eliminated():
    x, y = regression_problem()
    with pytest.warns(UserWarning, match="eliminated"):
        opt = medida.STLSQ(threshold=100.0).fit(x, y)
    assert not opt.coef_.any()


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: medida.STLSQ(threshold=-1), ValueError, "threshold = -1"),
        (lambda: medida.STLSQ(alpha=float("nan")), ValueError, "alpha"),
        (lambda: medida.STLSQ(max_iter=0), ValueError, "max_iter = 0"),
        (lambda: medida.STLSQ(threshold="0.1"), TypeError, "threshold"),
        (lambda: medida.STLSQ(verbose=True), TypeError, "verbose"),
        (lambda: medida.RVM(scaling="max"), ValueError, "scaling"),
        (lambda: medida.RVM(threshold_alpha=0), ValueError, "threshold_alpha"),
        (lambda: medida.STLSQ().fit(np.ones((5, 2)), np.ones(4)), ValueError, "y: shape"),
        (lambda: medida.STLSQ().fit(np.ones(5), np.ones(5)), ValueError, "x: a 2-D array"),
        (lambda: medida.STLSQ().fit(np.array([[1.0, np.nan], [2.0, 1.0]]), np.ones(2)), ValueError, "NaN"),
        (lambda: medida.STLSQ().fit(np.ones((5, 2)), np.ones(5), sample_weight=-np.ones(5)), ValueError, "sample_weight"),
        (lambda: medida.STLSQ().fit(np.eye(3), np.ones(3)).equations(["a"]), ValueError, "feature_names: 1 given for 3"),
    ],
)
def test_bad_input_is_refused_by_name(make, error, words):
    with pytest.raises(error, match=words):
        make()

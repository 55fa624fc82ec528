"""medida.QGModel against pyqg 0.7.2, from the same q: the pyqg tests of issue "A Python
package". Run by scripts/test.sh in .venv-pyqg (pyqg and medida side by side)."""

import pathlib
import sys

import numpy as np
import pyqg
import pytest

import medida

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "pyqg"))
from everyday import SNIPPETS  # noqa: E402

# The eddy configuration (pyqg's defaults) and a jet-like one that changes every parameter.
CASES = {
    "eddy": {},
    "jet-like": dict(nx=48, L=2e6, dt=3600.0, beta=1e-11, rd=20000.0, delta=0.1, H1=600.0,
                     rek=7e-8, U1=0.03, U2=-0.005, filterfac=18.0),
}


def initial_q(nx, ny):
    rng = np.random.default_rng(20261203)
    return 1e-6 * rng.standard_normal((2, ny, nx))


@pytest.mark.parametrize("case", CASES)
def test_200_steps_equal_pyqg(case):
    kw = CASES[case]
    theirs = pyqg.QGModel(log_level=0, tmax=200 * kw.get("dt", 7200.0), **kw)
    ours = medida.QGModel(tmax=200 * kw.get("dt", 7200.0), **kw)
    q0 = initial_q(theirs.nx, theirs.ny)
    theirs.set_q(q0)
    ours.set_q(q0)
    theirs.run()
    ours.run()
    assert ours.tc == theirs.tc == 200
    assert ours.t == pytest.approx(theirs.t, rel=1e-15)
    # pyqg's u, v, ph are those its last step computed from the state before it (a step lag);
    # medida's are the current state's: ask pyqg to invert its current q too.
    theirs._invert()
    # Round-off of 200 steps of a turbulent flow from the same state: pyqg's own FFTW-vs-NumPy
    # differences are of this size; 1e-12 of the field's scale is the bar.
    for name in ("q", "u", "v", "ufull", "vfull", "ph"):
        a, b = getattr(ours, name), getattr(theirs, name)
        err = np.abs(a - b).max() / np.abs(b).max()
        assert err < 1e-12, f"{case}: {name} differs from pyqg by {err:.2e} of its scale"
    np.testing.assert_allclose(ours.Ubg, theirs.Ubg, rtol=1e-15)
    np.testing.assert_allclose(ours.Qy, theirs.Qy, rtol=1e-14)
    np.testing.assert_allclose(ours.x, theirs.x, rtol=1e-15)
    np.testing.assert_allclose(ours.y, theirs.y, rtol=1e-15)
    qh_err = np.abs(ours.qh - theirs.qh).max() / np.abs(theirs.qh).max()
    assert qh_err < 1e-12


def test_step_forward_and_snapshots_follow_pyqg():
    theirs = pyqg.QGModel(log_level=0, tmax=20 * 7200.0)
    ours = medida.QGModel(tmax=20 * 7200.0)
    q0 = initial_q(64, 64)
    theirs.set_q(q0)
    ours.set_q(q0)
    theirs._step_forward()
    ours.step_forward()
    assert ours.tc == theirs.tc == 1
    assert np.abs(ours.q - theirs.q).max() < 1e-12 * np.abs(theirs.q).max()
    snaps = lambda m: list(m.run_with_snapshots(tsnapstart=7200.0 * 5, tsnapint=7200.0 * 4))
    assert snaps(ours) == pytest.approx(snaps(theirs), rel=1e-15)


def test_to_dataset_reads_as_pyqg_users_read_it():
    m = medida.QGModel(tmax=3 * 7200.0, rd=12000.0)
    m.run()
    ds = m.to_dataset()
    assert ds.attrs["pyqg:rd"] == 12000.0
    assert ds.q.dims == ("time", "lev", "y", "x")
    np.testing.assert_array_equal(ds.q.isel(time=-1).values, m.q)
    np.testing.assert_array_equal(ds.ufull.isel(time=-1).values, m.u + m.Ubg[:, None, None])
    assert {"Qy", "Ubg", "ufull", "vfull", "p"} <= set(ds.variables)
    assert float(ds.time[0]) == m.t


def test_to_dataset_is_pyqgs_dataset():
    """pyqg's own to_dataset() beside medida's, from the same q after 20 steps: every variable,
    coordinate and attribute pyqg writes, the everyday snippets, within 1e-12 of each magnitude;
    its 18 time-averaged diagnostics (averaged every 3 steps from the start) within 1e-10
    (sums of products of the fields: round-off, measured 4e-13)."""
    kw = dict(tmax=20 * 7200.0, rd=12000.0, twrite=500.0, tavestart=0.0, taveint=3 * 7200.0)
    theirs = pyqg.QGModel(log_level=0, **kw)
    ours = medida.QGModel(**kw)
    q0 = initial_q(64, 64)
    theirs.set_q(q0)
    ours.set_q(q0)
    theirs.run()
    ours.run()
    # pyqg's fields and tendency lag q by one step: recompute them for its current q.
    theirs._invert()
    theirs._do_advection()
    theirs._do_friction()
    py, md = theirs.to_dataset(), ours.to_dataset()
    assert set(py.variables) <= set(md.variables), set(py.variables) - set(md.variables)
    assert set(py.attrs) <= set(md.attrs), set(py.attrs) - set(md.attrs)

    def close(name, a, b, tol=1e-12):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype.kind == b.dtype.kind, (name, a.shape, b.shape, a.dtype, b.dtype)
        assert np.abs(a - b).max() <= tol * max(np.abs(b).max(), 1e-300), name

    averaged = set(theirs.diagnostics) & set(py.variables)
    assert len(averaged) == 18, averaged

    # pyqg's uh and vh are FFTW's scratch after its inverse transforms to u and v (a c2r transform
    # overwrites its input: pyqg's own u is irfft(-il ph), its stored uh is not -il ph); medida's
    # are the transforms of u and v, compared with those of pyqg's u and v.
    for name in py.variables:
        assert md[name].dims == py[name].dims, name
        if name in ("uh", "vh"):
            close(name, md[name], np.fft.rfftn(py[name[0]], axes=(-2, -1)))
        else:
            close(name, md[name], py[name], 1e-10 if name in averaged else 1e-12)
    for key in py.attrs:
        if key.startswith("pyqg:"):
            close(key, md.attrs[key], py.attrs[key])
    for name, snippet in SNIPPETS.items():
        a, b = snippet(md), snippet(py)
        assert a.dims == b.dims, name
        close(name, a, b)


ROOT = pathlib.Path(__file__).resolve().parents[2]
CLOSURES = {
    "smagorinsky:cs=0.15": dict(uv_parameterization=pyqg.parameterizations.Smagorinsky(0.15)),
    "backscatter": dict(q_parameterization=pyqg.parameterizations.BackscatterBiharmonic(np.sqrt(0.007), 1.2)),
    "zb20": dict(uv_parameterization=pyqg.parameterizations.ZannaBolton2020(-46761284)),
}


@pytest.mark.parametrize("closure", CLOSURES)
def test_closure_keyword_equals_pyqgs_parameterization(closure):
    """`closure=` adds a medida closure as pyqg's parameterization keywords add pyqg's: 200 steps
    from the turbulent 32 x 32 state of the closure cross-check (tests/data/closure_baselines.npz)
    within 1e-10 (round-off grown by 200 steps of turbulence; measured about 1e-14)."""
    q0 = np.load(ROOT / "tests" / "data" / "closure_baselines.npz")["q0"]
    theirs = pyqg.QGModel(nx=32, dt=3600.0, ntd=1, log_level=0, tmax=200 * 3600.0, **CLOSURES[closure])
    ours = medida.QGModel(nx=32, dt=3600.0, tmax=200 * 3600.0, closure=closure)
    bare = medida.QGModel(nx=32, dt=3600.0, tmax=200 * 3600.0)
    for m in (theirs, ours, bare):
        m.set_q(q0)
        m.run()
    err = np.abs(ours.q - theirs.q).max() / np.abs(theirs.q).max()
    assert err <= 1e-10, f"{closure}: {err:.1e}"
    assert np.abs(bare.q - theirs.q).max() > 1e3 * err * np.abs(theirs.q).max()


PARAMETERIZATIONS = {
    "q_parameterization (pyqg's backscatter)": dict(
        q_parameterization=pyqg.parameterizations.BackscatterBiharmonic(np.sqrt(0.007), 1.2)),
    "uv_parameterization (pyqg's Smagorinsky)": dict(uv_parameterization=pyqg.parameterizations.Smagorinsky(0.15)),
    "parameterization (pyqg's ZB2020)": dict(parameterization=pyqg.parameterizations.ZannaBolton2020(-46761284)),
    "a plain function and a uv one together": dict(
        q_parameterization=lambda m: -1e-7 * m.q, uv_parameterization=pyqg.parameterizations.Smagorinsky(0.15)),
}


@pytest.mark.parametrize("name", PARAMETERIZATIONS)
def test_pyqg_parameterizations_run_on_medida(name):
    """pyqg's parameterization keywords, with pyqg's own parameterization objects (which read
    m.u, m.v, m.ph, m.fft, m.ifft, m.ik, m.il, m.dx, m.Hi) or a plain function: 200 steps from the
    turbulent 32 x 32 state, within 1e-10 of pyqg (measured about 1e-14)."""
    kw = PARAMETERIZATIONS[name]
    q0 = np.load(ROOT / "tests" / "data" / "closure_baselines.npz")["q0"]
    theirs = pyqg.QGModel(nx=32, dt=3600.0, ntd=1, log_level=0, tmax=200 * 3600.0, **kw)
    ours = medida.QGModel(nx=32, dt=3600.0, tmax=200 * 3600.0, **kw)
    for m in (theirs, ours):
        m.set_q(q0)
        m.run()
    err = np.abs(ours.q - theirs.q).max() / np.abs(theirs.q).max()
    assert err <= 1e-10, f"{name}: {err:.1e}"


def test_single_precision_is_pyqgs_model_to_f32_round_off():
    # 20 steps from the same q: each step rounds to f32 (2^-24 = 6e-8) and adds a few u of its
    # own; 1e-5 of the field's scale bounds 20 steps with room, and a missing term is far above it.
    kw = dict(tmax=20 * 7200.0)
    theirs = pyqg.QGModel(log_level=0, **kw)
    ours = medida.QGModel(precision="f32", **kw)
    q0 = initial_q(64, 64)
    theirs.set_q(q0)
    ours.set_q(q0)
    theirs.run()
    ours.run()
    assert ours.q.dtype == np.float64
    assert np.array_equal(ours.q.astype(np.float32).astype(np.float64), ours.q)
    err = np.abs(ours.q - theirs.q).max() / np.abs(theirs.q).max()
    assert 0 < err < 1e-5, err
    with pytest.raises(ValueError, match="precision = 'f16': allowed"):
        medida.QGModel(precision="f16")


def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match="nope"):
        medida.QGModel(nope=1)
    with pytest.raises(TypeError, match="nx"):
        medida.QGModel(nx=64.5)
    with pytest.raises(ValueError, match="nx` = 2: allowed"):
        medida.QGModel(nx=2)
    with pytest.raises(ValueError, match="`dt` = -1: allowed"):
        medida.QGModel(dt=-1.0)
    with pytest.raises(ValueError, match="tmax = 1e.300: allowed"):
        medida.QGModel(tmax=1e300)
    with pytest.raises(ValueError, match="unknown closure"):
        medida.QGModel(closure="smagorinksy")
    with pytest.raises(TypeError, match="closure"):
        medida.QGModel(closure=0.15)
    with pytest.raises(TypeError, match="q_parameterization: a callable"):
        medida.QGModel(q_parameterization=1.0)
    with pytest.raises(ValueError, match="not both"):
        medida.QGModel(parameterization=pyqg.parameterizations.Smagorinsky(0.15), q_parameterization=lambda m: m.q)
    bad = medida.QGModel(tmax=7200.0, q_parameterization=lambda m: np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="q_parameterization: returned shape"):
        bad.run()
    m = medida.QGModel()
    with pytest.raises(ValueError, match="shape"):
        m.set_q(np.zeros((2, 32, 32)))
    with pytest.raises(ValueError, match="q"):
        m.set_q(np.full((2, 64, 64), np.nan))

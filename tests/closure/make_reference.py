"""Reference coarse-graining and subgrid forcing that medida's closure module is tested against.

    python tests/closure/make_reference.py            # (re)write tests/data/closure_reference.npz
    python tests/closure/make_reference.py --check    # recompute from the committed state, compare

Runs in the pyqg environment (.venv-pyqg: pyqg 0.7.2 and gcm-filters 0.5.1). pyqg runs its
high-resolution model (64 x 64, dt = 3600 s, the eddy configuration) into turbulence; that state
is stored, and everything else is computed from it, so --check repeats the computation on the
committed state (pyqg's FFTW plans are not bit-reproducible, so a fresh run would differ).

From the state, per operator of Ross et al. (2023) to a 16 x 16 grid (r = 4), written from the
closure reference (section 1.3-1.4): Operator 1 (truncation to |k|, |l| < nc/2 times the coarse
model's exponential filter, / r^2) and Operator 2 (times exp(-kappa^2 (2 dx)^2 / 24)) in NumPy,
Operator 3 with gcm-filters itself (Gaussian, filter_scale = r, dx_min = 1, REGULAR grid, then
r x r block means with xarray). The coarse model is a pyqg QGModel of the same parameters, and
its advection and tendency are pyqg's own:

- q_bar = coarsen(q)
- s_q = pyqg advection of the coarse model at q_bar minus coarsen(pyqg advection at q), in the
  tendency convention (what must be added to dq/dt)
- phi_uq = coarsen(ufull q) - ufull_bar q_bar, phi_vq = coarsen(v q) - v_bar q_bar
- s_q_total = coarsen(dqhdt) - dqhdt_bar (pyqg's tendencies before the filter)

and, on Operator 1's coarse state, the closure library's columns: the 7 terms of the published
hybrid-symbolic closure (`advected(x) = ddx(x ufull) + ddy(x vfull)`, Ross's FeatureExtractor)
and the curl of pyqg's own ZannaBolton2020(constant=1) velocity forcing.
"""
import pathlib
import sys

import numpy as np
import pyqg
import xarray as xr
import gcm_filters

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from reference import check_flag, write_or_check  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "closure_reference.npz"
HR, LR, STEPS, SEED = 64, 16, 3000, 0
PARAMS = dict(dt=3600.0)


def model(nx):
    return pyqg.QGModel(nx=nx, ntd=1, log_level=0, **PARAMS)


def spectral(op, m_hr, m_lr, field):
    """Operators 1 and 2 on a real high-resolution field (lev, y, x)."""
    r = m_hr.nx // m_lr.nx
    vh = m_hr.fft(field)
    nk = m_lr.nx // 2
    trunc = np.concatenate((vh[:, :nk, : nk + 1], vh[:, -nk:, : nk + 1]), axis=1)
    if op == 1:
        f = m_lr.filtr
    else:
        f = np.exp(-m_lr.wv**2 * (2 * m_lr.dx) ** 2 / 24)
    return m_lr.ifft(trunc * f / r**2)


def diffusion(m_hr, m_lr, field):
    """Operator 3: gcm-filters' Gaussian, then block means."""
    r = m_hr.nx // m_lr.nx
    filt = gcm_filters.Filter(
        dx_min=1, filter_scale=r, filter_shape=gcm_filters.FilterShape.GAUSSIAN,
        grid_type=gcm_filters.GridType.REGULAR,
    )
    da = xr.DataArray(field, dims=["lev", "y", "x"])
    return filt.apply(da, dims=["y", "x"]).coarsen(y=r, x=r).mean().values


def coarsen(op, m_hr, m_lr, field):
    return diffusion(m_hr, m_lr, field) if op == 3 else spectral(op, m_hr, m_lr, field)


def tendency(m):
    m._invert()
    m._do_advection()
    m._do_friction()
    return m.ifft(m.dqhdt)


def forcing(op, q):
    m_hr, m_lr = model(HR), model(LR)
    m_hr.set_q(q)
    m_hr._invert()
    adv_hr = m_hr.ifft(m_hr._advect(m_hr.q))
    q_bar = coarsen(op, m_hr, m_lr, m_hr.q)
    m_lr.set_q(q_bar)
    m_lr._invert()
    adv_lr = m_lr.ifft(m_lr._advect(m_lr.q))
    out = {
        "q_bar": q_bar,
        "s_q": adv_lr - coarsen(op, m_hr, m_lr, adv_hr),
        "phi_uq": coarsen(op, m_hr, m_lr, m_hr.ufull * m_hr.q) - m_lr.ufull * m_lr.q,
        "phi_vq": coarsen(op, m_hr, m_lr, m_hr.vfull * m_hr.q) - m_lr.vfull * m_lr.q,
        "s_q_total": coarsen(op, m_hr, m_lr, tendency(m_hr)) - tendency(m_lr),
    }
    return out, m_lr


def columns(m):
    """The published closure's 7 terms and the curl of pyqg's ZB2020 forcing (kappa = 1)."""
    ik, il = m.ik, m.il
    wv2 = -(m.k**2 + m.l**2)
    spec = m.fft
    real = m.ifft
    lap = lambda f: real(wv2 * spec(f))
    ddx = lambda f: real(ik * spec(f))
    ddy = lambda f: real(il * spec(f))
    adv = lambda f: real(ik * spec(f * m.ufull) + il * spec(f * m.vfull))
    q, u, v = m.q, m.u, m.v
    out = {
        "lap(adv(q))": lap(adv(q)),
        "lap2(adv(q))": lap(lap(adv(q))),
        "lap3(adv(q))": lap(lap(lap(adv(q)))),
        "lap2(q)": lap(lap(q)),
        "lap3(q)": lap(lap(lap(q))),
        "adv(adv(dx(lap(v))))": adv(adv(ddx(lap(v)))),
        "adv(adv(dy(lap(u))))": adv(adv(ddy(lap(u)))),
    }
    du, dv = pyqg.parameterizations.ZannaBolton2020(constant=1.0)(m)
    out["zb20"] = real(-il * spec(du) + ik * spec(dv))
    return out


def same(name, fresh, committed):
    """Recomputed from the committed state: FFT round-off only. Values to 1e-12 of each array's
    largest value (the spectral operators are a few FFTs and products of O(1) factors; the
    diffusion filter adds 5 stencil sweeps; the library's deepest terms eight FFTs)."""
    err = np.abs(fresh - committed).max() / max(np.abs(committed).max(), 1e-300)
    return err <= 1e-12, f"rel max err {err:.1e}"


def main():
    check = check_flag(__doc__)
    if check:
        q = np.load(DATA)["q_hr"]
    else:
        np.random.seed(SEED)
        m = model(HR)
        for _ in range(STEPS):
            m._step_forward()
        q = m.q.copy()
    out = {"q_hr": q}
    for op in (1, 2, 3):
        f, m_lr = forcing(op, q)
        out.update({f"op{op}/{k}": v for k, v in f.items()})
        if op == 1:
            out.update({f"columns/{k}": v for k, v in columns(m_lr).items()})
    out["params"] = np.array([HR, LR, PARAMS["dt"]])
    return write_or_check(DATA, out, check, same, "closure reference (pyqg 0.7.2, gcm-filters 0.5.1)")


if __name__ == "__main__":
    sys.exit(main())

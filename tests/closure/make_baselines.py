"""pyqg 0.7.2's own closures and time-averaged diagnostics, the reference of medida's built-in closures and averaged diagnostics.

    python tests/closure/make_baselines.py            # (re)write tests/data/closure_baselines.npz
    python tests/closure/make_baselines.py --check    # recompute from the committed state, compare

Runs in the pyqg environment (.venv-pyqg). pyqg runs the eddy configuration on 32 x 32 points
(dt = 3600 s) into turbulence; that state is stored and everything else starts from it. Per
closure, `none`, `smagorinsky` (pyqg's Smagorinsky(0.15)), `backscatter`
(BackscatterBiharmonic(sqrt(0.007), 1.2)), `zb20` (ZannaBolton2020(-46761284)) and `ross7` (Ross
et al.'s published 7-term hybrid-symbolic closure with its released weights, a
q_parameterization written as their FeatureExtractor evaluates it: `advected(x) = ddx(x ufull) +
ddy(x vfull)`, every operator through the grid):

- `dq/<closure>`: what the closure adds to dq/dt at the state, on the grid (a velocity closure
  enters as pyqg adds it: -il FFT(du) + ik FFT(dv));
- `q/<closure>`: q after 200 steps of pyqg with the closure;
- `<diagnostic>/<closure>`: pyqg's 18 time-averaged diagnostics of that run (tavestart 0,
  taveint 5 dt: every 5th step from step 5 on, 39 accumulations).

--check recomputes from the committed state: the closures' tendencies must agree to 1e-12 of
each array's largest value (FFT round-off), the 200-step runs and their averages to 1e-9
(pyqg's FFTW plans are not bit-reproducible, and 200 steps of turbulence amplify the difference).
"""
import pathlib
import sys

import numpy as np
import pyqg

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference import check_flag, write_or_check  # noqa: E402
from make_reference import columns  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "closure_baselines.npz"
NX, DT, SPINUP, STEPS, EVERY, SEED = 32, 3600.0, 30000, 200, 5, 1
ROSS7 = [
    "lap(adv(q))", "lap2(adv(q))", "lap3(adv(q))", "lap2(q)", "lap3(q)",
    "adv(adv(dx(lap(v))))", "adv(adv(dy(lap(u))))",
]
WEIGHTS = np.array([
    [1.4077349573135765e07, 1.9300721349777748e15, 2.3311494532833229e22, 1.1828024430000000e09,
     1.1410567621344224e17, -6.7029178551956909e10, 8.9901990193476257e10],
    [5.196460289865505e06, 7.031351150824246e14, 1.130130768679029e11, 8.654265196250000e08,
     7.496556547888773e16, -8.300923156070618e11, 9.790139405295905e11],
])


def ross7(m):
    cols = columns(m)
    return sum(WEIGHTS[:, j, None, None] * cols[name] for j, name in enumerate(ROSS7))


CLOSURES = {
    "none": {},
    "smagorinsky": dict(uv_parameterization=pyqg.parameterizations.Smagorinsky(0.15)),
    "backscatter": dict(
        q_parameterization=pyqg.parameterizations.BackscatterBiharmonic(np.sqrt(0.007), 1.2)),
    "zb20": dict(uv_parameterization=pyqg.parameterizations.ZannaBolton2020(-46761284)),
    "ross7": dict(q_parameterization=ross7),
}


def model(**kw):
    return pyqg.QGModel(nx=NX, dt=DT, ntd=1, log_level=0, **kw)


def added(m, closure):
    """What the closure adds to dq/dt at m's state, on the grid."""
    m._invert()
    if "uv_parameterization" in closure:
        du, dv = closure["uv_parameterization"](m)
        return m.ifft(-m.il * m.fft(du) + m.ik * m.fft(dv))
    if "q_parameterization" in closure:
        return closure["q_parameterization"](m)
    return np.zeros_like(m.q)


def run(q0, closure):
    m = model(tmax=STEPS * DT, tavestart=0.0, taveint=EVERY * DT, **closure)
    m.q = q0
    m.run()
    assert m.tc == STEPS
    return m


def compare(name, fresh, committed):
    tol = 1e-12 if name.startswith("dq/") or name == "q0" else 1e-9
    err = np.abs(fresh - committed).max() / max(np.abs(committed).max(), 1e-300)
    return err <= tol, f"rel max err {err:.1e} (allowed {tol:.0e})"


def main():
    check = check_flag(__doc__)
    if check:
        q0 = np.load(DATA)["q0"]
    else:
        np.random.seed(SEED)
        m = model()
        for _ in range(SPINUP):
            m._step_forward()
        q0 = m.q.copy()
    out = {"q0": q0, "params": np.array([NX, DT, STEPS, EVERY])}
    for name, closure in CLOSURES.items():
        m = model(**closure)
        m.q = q0
        out[f"dq/{name}"] = added(m, closure)
        m = run(q0, closure)
        out[f"q/{name}"] = m.q.copy()
        for d in m.diagnostics:
            out[f"{d}/{name}"] = np.asarray(m.get_diagnostic(d))
    return write_or_check(DATA, out, check, compare, "closure baselines (pyqg 0.7.2)")


if __name__ == "__main__":
    sys.exit(main())

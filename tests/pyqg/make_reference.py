"""Write pyqg 0.7.2 reference data that medida's solver is tested against.

    python tests/pyqg/make_reference.py            # (re)write tests/data/pyqg_*.npz
    python tests/pyqg/make_reference.py --check    # regenerate in memory, compare with the committed files

Needs pyqg 0.7.2 (see tests/pyqg/requirements.txt for how it installs). For each case it stores the
initial PV q0 (pyqg's own random IC after np.random.seed(seed)), the tendency at t=0, q after the
snapshot steps, the filter, and diagnostics of the final state computed with pyqg's own functions.
pyqg runs are not bit-reproducible (FFTW_MEASURE plans), so --check compares with a tolerance.
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import pyqg
from pyqg.diagnostic_tools import calc_ispec

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
STEPS = [1, 2, 3, 10, 200]

CASES = {
    # pyqg defaults (the eddy configuration).
    "eddy64": dict(seed=0, params=dict(nx=64)),
    # Every physical parameter changed, a smaller grid and an older filter strength.
    "custom32": dict(
        seed=7,
        params=dict(nx=32, L=2e6, W=2e6, dt=3600.0, beta=1.2e-11, rd=25e3, delta=0.5, H1=750.0,
                    U1=0.04, U2=-0.01, rek=1e-6, filterfac=18.4),
    ),
}


def run_case(seed, params):
    np.random.seed(seed)
    m = pyqg.QGModel(ntd=1, log_level=0, **params)
    out = {"q0": m.q.copy()}
    m._invert()
    m._do_advection()
    m._do_friction()
    out["dqhdt0"] = m.dqhdt.copy()
    for n in range(1, STEPS[-1] + 1):
        m._step_forward()
        if n in STEPS:
            out[f"q_step{n}"] = m.q.copy()
    # Diagnostics of the final state from a fresh inversion (pyqg's ph lags one step).
    m._invert()
    ph = m.ph
    out["ke"] = np.array(m._calc_ke())
    out["cfl"] = np.array(m._calc_cfl())
    out["ape"] = np.array(0.5 * m.rd**-2 * m.del1 * m.del2 * m.spec_var(ph[0] - ph[1]))
    out["enstrophy_layer"] = np.array([0.5 * m.spec_var(m.qh[i]) for i in range(2)])
    kespec = m.wv2 * np.abs(ph) ** 2 / m.M**2
    out["ispec_kr"], out["ispec_ke1"] = calc_ispec(m, kespec[0])
    out["ispec_ke2"] = calc_ispec(m, kespec[1])[1]
    out["filtr"] = m.filtr.copy()
    full = dict(nx=m.nx, ny=m.ny, L=m.L, W=m.W, dt=m.dt, beta=m.beta, rd=m.rd, delta=m.delta,
                H1=m.Hi[0], U1=m.U1, U2=m.U2, rek=m.rek, filterfac=m.filterfac)
    for k, v in full.items():
        out[f"param_{k}"] = np.array(float(v))
    out["seed"] = np.array(float(seed))
    out["steps"] = np.array(STEPS, dtype=np.float64)
    out["versions"] = np.array(json.dumps({"pyqg": pyqg.__version__, "numpy": np.__version__}))
    return out


def split_complex(d):
    out = {}
    for k, v in d.items():
        v = np.asarray(v)
        if np.iscomplexobj(v):
            out[k + "_re"], out[k + "_im"] = np.ascontiguousarray(v.real), np.ascontiguousarray(v.imag)
        else:
            out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    ap.add_argument("--rtol", type=float, default=1e-12, help="relative max-norm tolerance for --check")
    args = ap.parse_args()
    assert pyqg.__version__.startswith("0.7.2"), f"need pyqg 0.7.2, found {pyqg.__version__}"
    failed = 0
    for name, case in CASES.items():
        data = split_complex(run_case(case["seed"], case["params"]))
        path = DATA / f"pyqg_{name}.npz"
        if not args.check:
            DATA.mkdir(parents=True, exist_ok=True)
            np.savez(path, **data)
            print(f"wrote {path} ({path.stat().st_size} bytes)")
            continue
        ref = np.load(path)
        for k, v in data.items():
            if v.dtype.kind in "US":
                continue
            scale = max(np.abs(ref[k]).max(), 1e-300)
            err = np.nanmax(np.abs(v - ref[k])) / scale
            ok = err <= args.rtol
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}/{k}: rel max err {err:.2e}")
    if args.check:
        print(f"{'FAILED' if failed else 'passed'}: committed pyqg reference {'differs from' if failed else 'matches'} a fresh pyqg run")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

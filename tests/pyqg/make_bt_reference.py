"""Write pyqg 0.7.2's single-layer model (BTModel with rd = 0: 2-D turbulence on a beta-plane)
as the reference for medida's uncoupled layers (rd = inf): tests/data/pyqg_bt32.npz.

    python tests/pyqg/make_bt_reference.py            # (re)write the file
    python tests/pyqg/make_bt_reference.py --check    # regenerate in memory, compare with it

A 32 x 32, 2 pi x 2 pi domain, beta = 20 and linear drag rek = 0.1 (the SMARL study's case 2
without forcing and viscosity), pyqg's filter, dt = 0.005; pyqg's random initial field scaled
to O(1) vorticity, and q after 1, 10 and 200 steps.
"""
import argparse
import pathlib
import sys

import numpy as np
import pyqg

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
PARAMS = dict(nx=32, L=2 * np.pi, W=2 * np.pi, dt=0.005, beta=20.0, rek=0.1, rd=0.0,
              filterfac=23.6)
STEPS = [1, 10, 200]


def run():
    np.random.seed(5)
    m = pyqg.BTModel(ntd=1, log_level=0, **PARAMS)
    q0 = 10.0 * (np.random.rand(1, m.ny, m.nx) - 0.5)
    m.set_q(q0)
    out = {"q0": q0.copy()}
    for n in range(1, STEPS[-1] + 1):
        m._step_forward()
        if n in STEPS:
            out[f"q_step{n}"] = m.q.copy()
    for k, v in PARAMS.items():
        out[f"param_{k}"] = np.array(float(v))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file")
    ap.add_argument("--rtol", type=float, default=1e-12, help="relative max-norm tolerance")
    args = ap.parse_args()
    out = run()
    path = DATA / "pyqg_bt32.npz"
    if not args.check:
        np.savez(path, **out)
        return
    ref = np.load(path)
    worst = max(
        float(np.max(np.abs(out[k] - ref[k])) / max(float(np.max(np.abs(ref[k]))), 1e-300))
        for k in out
    )
    print(f"pyqg_bt32: max relative difference {worst:.1e} (allowed {args.rtol:g})")
    if worst > args.rtol:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""A pyqg user's everyday xarray snippets on a medida output and on pyqg 0.7.2's own
`to_dataset()` of the same run: `snippets.py RUN.h5`.

RUN.h5 is a `medida simulate --preset pyqg-eddy` run (any grid, seed and length, a snapshot at
its last step). pyqg is built from the file's `pyqg:` attributes and its config, started from
pyqg's own random PV after `np.random.seed(seed)` (the state medida starts from), and stepped as
many times. Every snippet must run on both datasets and give the same dims; the variables both
have (q, p, u, v, ufull, vfull, Ubg, Qy, the coordinates and the snippets' results) must agree
within 1e-12 of their largest magnitude: pyqg and medida agree to round-off (about 1e-14 after
hundreds of steps, docs/validation), far below the 1e-12 asked here. `xr.open_datatree` must
open the medida file. Exits non-zero with a message on the first failure.
"""
import sys
import tomllib

import numpy as np
import pyqg
import xarray as xr
from everyday import SNIPPETS

TOL = 1e-12

path = sys.argv[1]
md = xr.open_dataset(path, engine="h5netcdf")
cfg = tomllib.loads(md.attrs["config"])
a = md.attrs

np.random.seed(cfg["init"]["seed"])
m = pyqg.QGModel(
    nx=int(a["pyqg:nx"]), ny=int(a["pyqg:ny"]), L=a["pyqg:L"], W=a["pyqg:W"], dt=a["pyqg:dt"],
    rd=a["pyqg:rd"], delta=a["pyqg:delta"], H1=cfg["model"]["H1"], beta=a["pyqg:beta"],
    rek=a["pyqg:rek"], U1=float(md.Ubg[0]), U2=float(md.Ubg[1]), filterfac=a["pyqg:filterfac"],
    ntd=1, log_level=0,
    **({"tavestart": a["pyqg:tavestart"], "taveint": cfg["output"]["taveint"]}
       if "pyqg:tavestart" in a else {}),
)
for _ in range(cfg["run"]["steps"]):
    m._step_forward()
# pyqg's p, u, v, ufull lag q by one step (the inversion comes first in its step): invert the
# final q, as medida writes them.
m._invert()
py = m.to_dataset()
md = md.isel(time=[-1])


def same(name, x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    assert x.shape == y.shape, f"{name}: shapes {x.shape} (medida) and {y.shape} (pyqg)"
    scale = max(np.abs(y).max(), 1e-300)
    err = np.abs(x - y).max() / scale
    assert err <= TOL, f"{name}: medida and pyqg differ by {err:.1e} of its magnitude"
    return err


worst = 0.0
for name, snippet in SNIPPETS.items():
    r_md, r_py = snippet(md), snippet(py)
    assert r_md.dims == r_py.dims, f"{name}: dims {r_md.dims} (medida) and {r_py.dims} (pyqg)"
    worst = max(worst, same(name, r_md, r_py))
for name in ["q", "p", "u", "v", "ufull", "vfull", "Ubg", "Qy", "x", "y", "lev", "lev_mid"]:
    assert md[name].dims == py[name].dims, f"{name}: dims {md[name].dims} and {py[name].dims}"
    worst = max(worst, same(name, md[name], py[name]))
assert md.lev.dtype.kind == "i", f"lev is {md.lev.dtype}, pyqg's is integer"
# pyqg's complex spectral fields (when the run wrote them: `output.spectral`).
spectral = [n for n in ["qh", "ph"] if n in md]
for name in spectral:
    assert md[name].dtype.kind == "c", f"{name} is {md[name].dtype}, pyqg's is complex"
    assert md[name].dims == py[name].dims, f"{name}: dims {md[name].dims} and {py[name].dims}"
    worst = max(worst, same(name + " (real)", md[name].real, py[name].real))
    worst = max(worst, same(name + " (imaginary)", md[name].imag, py[name].imag))
    for c in ["l", "k"]:
        worst = max(worst, same(c, md[c], py[c]))
# pyqg's time-averaged diagnostics (when the run accumulated them: `output.tavestart`). pyqg's
# to_dataset() puts each on a time of its own (the one call's); medida writes the run's one
# average without it: the same values on the same remaining dims.
averaged = [n for n in py.data_vars if "time" in py[n].dims and n in md and n not in py.coords
            and n not in ["q", "p", "u", "v", "ufull", "vfull", "qh", "ph"]]
for name in averaged:
    p1 = py[name].isel(time=0)
    assert md[name].dims == p1.dims, f"{name}: dims {md[name].dims} and {p1.dims} (pyqg)"
    worst = max(worst, same(name, md[name], p1))
for key in py.attrs:
    if key.startswith("pyqg:") and key[5:] in ["nx", "ny", "nz", "nk", "nl", "M", "L", "W", "dt",
                                               "rd", "delta", "filterfac", "beta", "rek"]:
        worst = max(worst, same(key, md.attrs[key], py.attrs[key]))

tree = xr.open_datatree(path, engine="h5netcdf")
assert "ke" in tree["diagnostics"].ds and "q" in tree.ds, tree
print(f"ok: {len(SNIPPETS)} snippets, {len(spectral)} spectral fields and {len(averaged)} "
      f"time-averaged diagnostics on medida's file and pyqg's to_dataset(); "
      f"largest difference {worst:.1e} of the magnitude")

"""Ross et al.'s online similarity scores recomputed from the files of a `medida closure evaluate`, independently of medida.

    python tests/closure/similarity_reference.py DATA EVAL    # prints {closure: [18 scores]} as JSON
    python tests/closure/similarity_reference.py --files LAST TARGET BASELINE MODEL...
        # `medida closure score`'s: run files, comma-separated per set; prints [[18 scores] per MODEL]

Runs in the pyqg environment (.venv-pyqg: pyqg 0.7.2, scipy, h5py). Written from the closure
reference (section 1.7): for every closure folder of EVAL (the runs of `medida closure evaluate
--out EVAL`) and the target (the high-resolution runs of DATA, `medida closure data --out DATA`),

- the 10 distributional distances: scipy's `wasserstein_distance` between the values pooled over
  space, the last 10 snapshots (LAST with --files) and every run, of q, ufull = u + U, vfull = v,
  KE = ufull^2 + vfull^2 and Ens = curl(ufull, vfull)^2, per layer; u and v come from pyqg's own
  inversion of q (a pyqg QGModel with the file's parameters), the curl from NumPy FFT derivatives;
- the 8 spectral distances: the RMS difference, over the bins below both models' `0.65 pi / dx`
  (the first k where pyqg's filter is below 1), of pyqg's `calc_ispec` of the run-averaged time
  averages KEspec and Ensspec per layer, KEflux + paramspec_KEflux, APEflux + paramspec_APEflux,
  APEgenspec and KEfrictionspec read from the files;
- S = 1 - D(closure, target) / D(none, target).
"""
import json
import pathlib
import sys

import h5py
import numpy as np
import pyqg
import pyqg.diagnostic_tools
from scipy.stats import wasserstein_distance

LAST = 10
SPECTRA = [("KEspec", 0, None), ("KEspec", 1, None), ("Ensspec", 0, None), ("Ensspec", 1, None),
           ("KEflux", None, "paramspec_KEflux"), ("APEflux", None, "paramspec_APEflux"),
           ("APEgenspec", None, None), ("KEfrictionspec", None, None)]


def model(f, nx):
    """A pyqg QGModel with the parameters a medida file records (its grid of nx points)."""
    a = f.attrs
    return pyqg.QGModel(nx=int(nx), L=float(a["L"]), W=float(a["W"]), rd=float(a["rd"]),
                        delta=float(a["delta"]), H1=float(a["H1"]), beta=float(a["beta"]),
                        U1=float(a["U1"]), U2=float(a["U2"]), rek=float(a["rek"]),
                        filterfac=float(a["filterfac"]), log_level=0)


def samples(m, qs):
    """Pooled q, ufull, vfull, KE, Ens per layer over snapshots qs (each (lev, y, x))."""
    out = [[] for _ in range(10)]
    for q in qs:
        m.q = q
        m._invert()
        u = m.u + m.Ubg[:, None, None]
        v = m.v.copy()  # pyqg overwrites its v at the next inversion
        curl = m.ifft(m.ik * m.fft(v) - m.il * m.fft(u))
        for z in range(2):
            for i, x in enumerate([q[z], u[z], v[z], u[z] ** 2 + v[z] ** 2, curl[z] ** 2]):
                out[2 * i + z].append(x.ravel())
    return [np.concatenate(x) for x in out]


def spectra(files):
    """Run-averaged spectra of SPECTRA from time averages `read(name)` of each run."""
    out = []
    for name, lev, param in SPECTRA:
        runs = []
        for read in files:
            s = read(name)
            s = s[lev] if lev is not None else s
            if param:
                p = read(param)
                s = s + (p[lev] if lev is not None else p)
            runs.append(s)
        out.append(np.mean(runs, axis=0))
    return out


def cutoff(m):
    return m.k[0][np.argwhere(np.array(m.filtr)[0] < 1)[0, 0]]


def ensemble(kind, paths, hr=False, last=LAST):
    reads, pools = [], None
    for p in paths:
        with h5py.File(p, "r") as f:
            if hr:
                q = f["q_hr"][...][-last:]
                m = model(f, f["x_hr"].shape[0])
            else:
                q = f["q"][...][-last:]
                m = model(f, f["x"].shape[0])
            averages = {name: f[name][...] for name, _, _ in SPECTRA}
            averages.update({param: f[param][...] for _, _, param in SPECTRA if param})
        s = samples(m, q)
        pools = s if pools is None else [np.concatenate([a, b]) for a, b in zip(pools, s)]
        reads.append(averages.__getitem__)
    return dict(m=m, samples=pools, spectra=spectra(reads), kind=kind)


def differences(a, b):
    d = [wasserstein_distance(x, y) for x, y in zip(a["samples"], b["samples"])]
    kmax = min(cutoff(a["m"]), cutoff(b["m"]))
    for sa, sb in zip(a["spectra"], b["spectra"]):
        kr, ia = pyqg.diagnostic_tools.calc_ispec(a["m"], sa)
        _, ib = pyqg.diagnostic_tools.calc_ispec(b["m"], sb)
        nk = (kr < kmax).sum()
        d.append(np.sqrt(np.mean((ia[:nk] - ib[:nk]) ** 2)))
    return np.array(d)


def scores(last, target, baseline, models):
    """`medida closure score`'s scores: each set a comma-separated list of run files."""
    sets = lambda spec: [pathlib.Path(p) for p in spec.split(",")]
    target = ensemble("target", sets(target), last=last)
    d2 = differences(ensemble("baseline", sets(baseline), last=last), target)
    return [list(1 - differences(ensemble("model", sets(m), last=last), target) / d2) for m in models]


def main():
    if sys.argv[1] == "--files":
        last, target, baseline, *models = sys.argv[2:]
        print(json.dumps(scores(int(last), target, baseline, models)))
        return
    data, ev = map(pathlib.Path, sys.argv[1:3])
    report = json.loads((ev / "scores.json").read_text())
    hr = [p for p in sorted(data.glob("run*.h5")) if not p.name.endswith(".ckpt.h5")]
    target = ensemble("target", hr, hr=True)
    runs = {c["closure"]: sorted(pathlib.Path(c["folder"]).glob("run*.h5")) for c in report["closures"]}
    runs = {k: [p for p in v if not p.name.endswith(".ckpt.h5")] for k, v in runs.items()}
    baseline = ensemble("none", runs["none"])
    d2 = differences(baseline, target)
    out = {}
    for name, paths in runs.items():
        d1 = differences(ensemble(name, paths), target)
        out[name] = list(1 - d1 / d2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

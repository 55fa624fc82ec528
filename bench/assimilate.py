"""Discovery from sparse observations by data assimilation (`medida demo --observe`), per case,
observed fraction, station set and noise, written to docs/assimilation.md.

    .venv/bin/python bench/assimilate.py   # builds the release binary first; about 60 minutes on 2 cores

Each row is one `medida demo --case C --observe fraction=F,seed=S[,noise=N] --passes 3
--snapshots K --update-every U` on the study's turbulent jet (96 x 192, 250 time units of
spin-up, K snapshots one time unit apart). Every pass makes its analyses by cycling optimal
interpolation with a model: from the interpolated observations of a truth snapshot the model runs
10 time units, and every U steps (default 10) the innovations
(observation minus model at the stations) are interpolated by spectral-oi and added to the model
state; the increment is then formed at the stations, and STLSQ with 3-fold cross-validation
discovers from every station. Pass 1 assimilates into the imperfect model, passes 2 and 3 into the
imperfect model corrected by the previous pass's discovery. Each cell: the largest error of the
expected coefficients, and the spurious or missed terms. Analysis error: relative L2 error of the
final pass's analyses against the truth, layer 1 / layer 2 (mean over the snapshots).
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from sections import page_head
from summary import summarise

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIDA = os.environ.get("MEDIDA_BIN", str(ROOT / "target" / "release" / "medida"))
DOC = ROOT / "docs" / "assimilation.md"
PASSES = 3

# (fraction, stations seeds, noise, snapshots)
RUNS = [
    (0.75, [0], 0.0, 3),
    (0.5, [0, 1, 2], 0.0, 3),
    (0.25, [0, 1, 2], 0.0, 3),
    (0.25, [0, 1, 2], 0.0, 10),
    (0.5, [0], 1e-3, 3),
]
# Steps between analyses, case 1004 at 50% (the default is 10).
ABLATION = [5, 40]


def cell(path):
    s = summarise(json.loads(path.read_text()))
    text = f"{s.worst:.2g}%"
    if s.spurious:
        big = max(s.spurious, key=lambda r: abs(r["discovered"]))
        text += f", {len(s.spurious)} spurious (largest {big['discovered']:.2g} {big['term']} L{big['layer']})"
    elif not s.exact:
        text += ", terms missed"
    return ("**ok** " if s.ok else "") + text, s.ok


def analysis_error(path):
    import h5py
    with h5py.File(path) as f:
        g = f["diagnostics"]
        return " / ".join(f"{g[f'analysis_error{k}'][:].mean():.1e}" for k in (1, 2))


def run(tmp, case, frac, seed, noise, snapshots, every=10):
    spec = f"fraction={frac},seed={seed}" + (f",noise={noise}" if noise else "")
    d = pathlib.Path(tmp) / f"{case}-{spec}-{snapshots}-{every}"
    t0 = os.times().elapsed
    out = subprocess.run([MEDIDA, "demo", "--quiet", "--case", case, "--observe", spec,
                          "--passes", str(PASSES), "--snapshots", str(snapshots),
                          "--update-every", str(every), "--dir", str(d)],
                         capture_output=True, text=True)
    secs = os.times().elapsed - t0
    passes = [d / f"discovery-pass{k}.json" for k in range(1, PASSES)] + [d / "discovery.json"]
    passes = [p for p in passes if p.exists()]
    cells = [cell(p)[0] for p in passes] + ["-"] * (PASSES - len(passes))
    final = "**succeeds**" if len(passes) == PASSES and cell(passes[-1])[1] else "fails"
    if out.returncode != 0:
        final = out.stderr.strip().splitlines()[-1][:90]
    err = analysis_error(d / "increments.h5") if (d / "increments.h5").exists() else "-"
    return (f"| {case} | {frac:.0%} | {noise:g} | {seed} | {snapshots} | {every} | {err} | " + " | ".join(cells)
            + f" | {final} | {secs:.0f} |")


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for frac, seeds, noise, snapshots in RUNS:
            for case in ["case1001", "case1002", "case1004"]:
                for seed in seeds:
                    lines.append(run(tmp, case, frac, seed, noise, snapshots))
                    print(lines[-1], flush=True)
        for every in ABLATION:
            lines.append(run(tmp, "case1004", 0.5, 0, 0.0, 3, every))
            print(lines[-1], flush=True)
    text = "\n".join([
        *page_head("Discovery from sparse observations by data assimilation", "bench/assimilate.py", __doc__),
        "A run **succeeds** when the final pass has the exact support in both layers and every expected",
        "coefficient within 5%. Noise is relative to each layer's standard deviation.",
        "",
        "| case | observed | noise | stations seed | snapshots | steps between analyses | analysis error | pass 1 | pass 2 | pass 3 | result | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *lines,
    ])
    DOC.write_text(text + "\n")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    sys.exit(main())

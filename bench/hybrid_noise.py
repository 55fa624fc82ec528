"""The noise the static interpolator assumes in cycled analyses (`--interp spectral-oi:noise=E`):
analysis errors of the cycled interpolation and of the hybrid-gain LETKF for several E, with the
case's model, with the model corrected by a first discovery, and with the perfect model; then
discovery from the best analyses. Written to the section "hybrid-noise" of docs/assimilation.md.

    .venv/bin/python bench/hybrid_noise.py        # builds the release binary first; about 12 minutes on 2 cores

Case 1002, a quarter of the grid observed with noise 1% of each layer's standard deviation
(stations seed 0), the jet's first three snapshots (96 x 192 after 250 time units of spin-up), the
LETKF of bench/increment_bias.py. The spectral-oi prior is the model's climatological spectrum: for
the first analysis (no background) the observations' own noise E = 0.01 weights them right, but the
innovations of a cycled analysis are the forecast's error, a small fraction of the climatological
variance, against which that noise is far too small: the analysis then copies the noise into the
state at every station.
"""
import json
import pathlib

from increment_bias import ASSIMILATE, LETKF, discover, increments, perfect_model
from rff import jet_dir, run
from sections import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "assimilation.md"
NOISES = ["0.01", "0.03", "0.1", "0.2"]


def errors(inc):
    """The analysis error of the first snapshot of `inc`, layer 1 / layer 2 (relative L2)."""
    import h5py
    with h5py.File(inc) as f:
        return [float(f[f"diagnostics/analysis_error{lev}"][0]) for lev in (1, 2)]


def describe(table):
    """A discovery's table in one line: each term's error (%), or its coefficient when spurious."""
    return "; ".join(f"{r['term']} L{r['layer']} " + (f"{r['error_percent']:.1f}%" if r["error_percent"] is not None
                                                       else f"spurious {r['discovered']:+.3f}") for r in table)


def main():
    with jet_dir(3) as (d, truth, prior):
        # The first pass: the table's LETKF with the observations' noise, a 20-step window.
        first = increments(d, truth, prior, "first", "--window", "20", *LETKF)
        correction = d / "pass1.json"
        run("discover", "--quiet", "--increments", str(first), "--select", "cv", "--drift-iterations", "0",
            "--out", str(correction))
        models = [("case 1002", []), ("corrected by the first pass", ["--correction", str(correction)]),
                  ("perfect", perfect_model(first))]
        rows = []
        for model, extra in models:
            for time in (ASSIMILATE, 2 * ASSIMILATE) if model != "perfect" else (2 * ASSIMILATE,):
                for label, filt in [("cycled spectral-oi", []), ("hybrid-gain LETKF", LETKF)]:
                    for e in NOISES if filt else NOISES[::2]:
                        inc = increments(d, truth, prior, "a", "--count", "1", "--overwrite", "--interp",
                                         f"spectral-oi:noise={e}", *filt, *extra, assimilate=time)
                        e1, e2 = errors(inc)
                        rows.append(f"| {model} | {time} | {label} | {e} | {e1:.2e} / {e2:.2e} |")
                        print(rows[-1], flush=True)
        best = increments(d, truth, prior, "best", "--window", "20", "--interp", "spectral-oi:noise=0.1",
                          "--correction", str(correction), *LETKF, assimilate=2 * ASSIMILATE)
        s, table = discover(best)
        e1, e2 = errors(best)
        found, first_cells = describe(table), describe(json.loads(correction.read_text())["table"])
    write_section("hybrid-noise", "\n".join([
        "### The noise the static interpolator assumes",
        "",
        "Produced by one run of",
        "",
        "    .venv/bin/python bench/hybrid_noise.py",
        "",
        f"on {machine()}. The first snapshot's analysis after 10 or 20 time units",
        "(`medida increments --count 1 --assimilate T --interp spectral-oi:noise=E ...`), relative L2",
        "error layer 1 / layer 2; the models: the case's, the case's corrected by the first pass's",
        "discovery (`--correction`: the LETKF with E = 0.01, a 20-step window, `medida discover",
        "--select cv --drift-iterations 0`), and the truth's coefficients.",
        "",
        "| model | time units | analysis | E | analysis error |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"The first pass's discovery: {first_cells}.",
        "",
        "Discovery from the second pass's analyses (corrected model, 20 time units, E = 0.1, a 20-step",
        f"window; three snapshots, analysis error {e1:.2e} / {e2:.2e}): {found}; "
        + ("**succeeds**." if s.ok else ("exact support." if s.exact else "not the exact support.")),
    ]), doc=DOC)


if __name__ == "__main__":
    main()

"""Plot an ensemble assimilation's cycles: RMSE of the forecast and analysis means against the
truth and the ensemble spread, per layer, against time; and the rank histograms.

    .venv/bin/python bench/ensemble_cycles.py INCREMENTS.h5 OUT.png [--snapshot 0]

INCREMENTS.h5 is written by `medida increments --assimilate T --filter enkf|letkf ...` (its
`forecast_rmse`, `analysis_rmse`, `forecast_spread`, `analysis_spread`, `rank_histogram`).
"""
import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("increments")
    ap.add_argument("out")
    ap.add_argument("--snapshot", type=int, default=0)
    a = ap.parse_args()
    with h5py.File(a.increments, "r") as f:
        cycle = f["cycle"][:]
        dt = float(dict(f.attrs).get("pyqg:dt", 1.0))
        series = {k: f[k][a.snapshot] for k in
                  ["forecast_rmse", "analysis_rmse", "forecast_spread", "analysis_spread"]}
        ranks = f["rank_histogram"][a.snapshot]
        filt = f.attrs.get("filter", "")
    filt = filt.decode() if isinstance(filt, bytes) else filt
    t = cycle * dt
    fig, ax = plt.subplots(2, 2, figsize=(11, 7), gridspec_kw={"width_ratios": [2, 1]})
    for lev in range(2):
        a0 = ax[lev, 0]
        a0.plot(t, series["forecast_rmse"][lev], "C0-", label="forecast RMSE")
        a0.plot(t, series["analysis_rmse"][lev], "C1-", label="analysis RMSE")
        a0.plot(t, series["forecast_spread"][lev], "C0--", label="forecast spread")
        a0.plot(t, series["analysis_spread"][lev], "C1--", label="analysis spread")
        a0.set_ylabel(f"layer {lev + 1}: q")
        a0.set_xlabel("time since the first observations")
        a0.legend(fontsize=8)
        a1 = ax[lev, 1]
        h = ranks[lev]
        a1.bar(range(len(h)), h / h.sum(), color="C2")
        a1.axhline(1 / len(h), color="k", lw=0.8)
        a1.set_xlabel("rank of the truth among the forecast members")
        a1.set_ylabel("fraction")
    fig.suptitle(f"{filt} (snapshot {a.snapshot})", fontsize=9)
    fig.tight_layout()
    fig.savefig(a.out, dpi=100)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()

"""The model-error pipeline over files, from Python: `simulate`, `increments` and `discover` run
what `medida simulate`, `medida increments` and `medida discover` run, with the same files,
numbers and messages.

    medida.simulate("truth.h5", preset="medida-jet", spinup=20, tmax=21, set={"model.nx": 48, "model.ny": 96})
    medida.increments("truth.h5", "increments.h5", model_error="case1002")
    d = medida.discover("increments.h5", optimizer=medida.RVM())
    d.print(); d.coef; d.to_dataset()

Keywords are the command's flags with `_` for `-` (`model_error="case1002"` is `--model-error
case1002`, `overwrite=True` is `--overwrite`; a list or a dict repeats a flag: `set={"model.nx":
48}` is `--set model.nx=48`); `medida COMMAND --help` lists them. The work runs in Rust without
the GIL; Ctrl-C stops it after the current step, as a kill would (an increments file or a
report is not published; a simulation's output keeps its whole records, and `simulate(out,
restart=out)` continues it from its last checkpoint), and raises KeyboardInterrupt. Bad input is a ValueError, a failed run (an unstable model) a
RuntimeError, each with the command line's message.
"""

import json
import pathlib

import numpy as np

from . import _medida


def simulate(out, **flags):
    """Runs the model a preset, config and settings describe (`medida simulate`), writing
    snapshots, diagnostics and checkpoints to `out`; returns its path."""
    _medida.simulate(_flags(out=out, **flags))
    return pathlib.Path(out)


def increments(truth, out, **flags):
    """Analysis increments of an imperfect model (`model_error="case1002"`, or `set=...`) against
    the truth run `truth`, written to `out` (`medida increments`); returns its path."""
    _medida.increments(_flags(truth=truth, out=out, **flags))
    return pathlib.Path(out)


def discover(increments, optimizer=None, select=None, **flags):
    """The model error as equations, from an increments file (`medida discover`): the library
    (`library="medida10"`), the regression (by default medida's STLSQ on RMS-scaled columns;
    `optimizer=medida.STLSQ(...)` or `medida.RVM(...)` with their settings), its threshold
    (`select="bic"`, "aic" or "cv" over a grid, `thresholds=[...]` for the grid; an optimizer's
    own threshold when it is given without `select`), `out="report.json"` to write the report
    files too."""
    if optimizer is not None:
        regression = optimizer._flags(select)
    else:
        regression = _flags(select=select)
    report, summary, equations, warnings = _medida.discover(_flags(increments=increments, **flags) + regression)
    return Discovery(json.loads(report), summary, equations, warnings)


class Discovery:
    """What `medida discover` found: `coef` and `std` (posterior standard deviations, RVM), `expected`
    (from the model-error case, when known), as xarray (lev, term); `equations`, `summary`,
    `warnings`, `support_exact`; the whole report as `report` (a dict, as `--json` prints it)."""

    def __init__(self, report, summary, equations, warnings):
        self.report = report
        self.summary = summary
        self.equations = equations
        self.warnings = list(warnings)

    def _lev_term(self, values, name):
        import xarray as xr

        fit = self.report["fit"]
        return xr.DataArray(
            np.asarray(values, dtype=np.float64),
            dims=("lev", "term"),
            coords={"lev": [1, 2], "term": fit["terms"]},
            name=name,
        )

    @property
    def coef(self):
        """Discovered coefficients (lev, term); 0 where a term is not selected. Added to dq/dt."""
        return self._lev_term(self.report["fit"]["coef"], "coef")

    @property
    def std(self):
        """Posterior standard deviations of the coefficients (RVM), or None."""
        std = self.report["fit"]["std"]
        return None if std is None else self._lev_term(std, "std")

    @property
    def expected(self):
        """The model-error case's coefficients (lev, term), or None without a case."""
        return self._lev_term(self.report["expected"], "expected") if self.report["case"] else None

    @property
    def support_exact(self):
        """Whether the discovered terms are the expected ones in both layers."""
        return bool(self.report["support_exact"])

    def print(self):
        """Prints the table `medida discover` prints."""
        print(self.summary, end="")

    def __repr__(self):
        return self.summary

    def to_dataset(self):
        """coef, std and expected on (lev, term), with the case, library, method and counts as
        attributes."""
        import xarray as xr

        arrays = {a.name: a for a in (self.coef, self.std, self.expected) if a is not None}
        ds = xr.Dataset(arrays)
        r = self.report
        ds.attrs.update(
            case=r["case"] or "",
            description=r["description"] or "",
            library=r["library"],
            method=r["fit"]["method"],
            rows=r["rows"],
            snapshots=r["snapshots"],
            support_exact=int(r["support_exact"]),
            equations=self.equations,
        )
        ds.coef.attrs["long_name"] = "discovered coefficient, added to dq/dt"
        return ds


def _flags(**keywords):
    """Command-line flags from keywords: `--name value`, `--name` for True, nothing for None or
    False, the flag repeated for each item of a list or each `key=value` of a dict."""
    flags = []
    for key, value in keywords.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            flags.append(flag)
            continue
        if isinstance(value, dict):
            value = [f"{k}={_text(v)}" for k, v in value.items()]
        for item in value if isinstance(value, (list, tuple)) else [value]:
            flags += [flag, _text(item)]
    return flags


def _text(value):
    return repr(value) if isinstance(value, float) else str(value)

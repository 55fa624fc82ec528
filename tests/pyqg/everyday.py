"""A pyqg user's everyday xarray snippets, each a function of a dataset in pyqg's `to_dataset()`
layout: run on medida's files (`snippets.py`) and on `medida.QGModel.to_dataset()`
(`python/tests/test_qgmodel.py`), beside pyqg's own dataset."""
import xarray as xr

SNIPPETS = {
    "upper-layer PV at the last time": lambda ds: ds.q.isel(time=-1, lev=0),
    "total PV q + Qy y": lambda ds: (ds.q + ds.Qy * ds.y).isel(time=-1),
    "full velocities": lambda ds: ds.ufull.isel(time=-1),
    "meridional full velocity": lambda ds: ds.vfull.isel(time=-1),
    "lower layer by label": lambda ds: ds.q.sel(lev=2).isel(time=-1),
    "background flow of the upper layer": lambda ds: ds.Ubg.sel(lev=1),
    "background PV gradient": lambda ds: ds.Qy,
    "kinetic energy per layer": lambda ds: 0.5 * (ds.u**2 + ds.v**2).isel(time=-1).mean(("x", "y")),
    "eddy kinetic energy from full velocities": lambda ds: (
        0.5 * ((ds.ufull - ds.Ubg) ** 2 + ds.vfull**2).isel(time=-1).mean(("x", "y"))),
    "streamfunction": lambda ds: ds.p.isel(time=-1),
    "zonal-mean zonal velocity": lambda ds: ds.ufull.isel(time=-1).mean("x"),
    "deformation radius": lambda ds: xr.DataArray(ds.attrs["pyqg:rd"]),
    "beta": lambda ds: xr.DataArray(ds.attrs["pyqg:beta"]),
    "time step": lambda ds: xr.DataArray(ds.attrs["pyqg:dt"]),
    "grid size": lambda ds: xr.DataArray(ds.attrs["pyqg:nx"] * ds.attrs["pyqg:ny"]),
    "domain": lambda ds: xr.DataArray([ds.attrs["pyqg:L"], ds.attrs["pyqg:W"]]),
    "bottom drag": lambda ds: xr.DataArray(ds.attrs["pyqg:rek"]),
    "grid spacing from x": lambda ds: ds.x.diff("x").mean(),
    "model time": lambda ds: ds.time.isel(time=-1),
}

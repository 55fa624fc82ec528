"""Open a medida output with h5py and xarray (h5netcdf engine) and check it against what the Rust
side computed in-process: `check_output.py RUN.h5 EXPECTED.npz`.

EXPECTED.npz holds q (last snapshot), time (snapshot times), ke (diagnostics), nx, dt.
Exits non-zero with a message on the first mismatch.
"""
import sys

import h5py
import numpy as np
import xarray as xr

path, expected = sys.argv[1], np.load(sys.argv[2])

with h5py.File(path, "r") as f:
    assert f["q"].shape[1:] == expected["q"].shape, (f["q"].shape, expected["q"].shape)
    assert np.array_equal(f["q"][-1], expected["q"]), "h5py: q differs from the Rust model"
    scales = [d[0].name.lstrip("/") for d in f["q"].dims]
    assert scales == ["time", "lev", "y", "x"], scales

ds = xr.open_dataset(path, engine="h5netcdf")
assert ds["q"].dims == ("time", "lev", "y", "x"), ds["q"].dims
for name in ["q", "p", "u", "v", "ufull", "vfull"]:
    assert ds[name].dims == ("time", "lev", "y", "x"), name
    assert "units" in ds[name].attrs and "long_name" in ds[name].attrs, name
assert ds["q"].attrs["units"] == "s^-1" and ds["p"].attrs["units"] == "m^2 s^-1"
assert ds["x"].attrs["units"] == "m" and ds["y"].attrs["units"] == "m" and ds["time"].attrs["units"] == "s"
assert list(ds["lev"].values) == [1, 2] and ds["lev"].dtype.kind == "i", ds["lev"].values  # pyqg's
nx = int(expected["nx"])
assert ds.sizes["x"] == nx and ds.attrs["nx"] == nx, (ds.sizes, ds.attrs["nx"])
assert np.allclose(ds["x"].values, (np.arange(nx) + 0.5) * ds.attrs["L"] / nx, rtol=0, atol=1e-9)
assert ds.attrs["dt"] == float(expected["dt"])
# String parameters as themselves, not their TOML form.
assert ds.attrs["stepper"] == "ab3" and ds.attrs["dealias"] == "none", (ds.attrs["stepper"], ds.attrs["dealias"])
assert np.array_equal(ds["time"].values, expected["time"]), (ds["time"].values, expected["time"])
assert np.array_equal(ds["q"].isel(time=-1).values, expected["q"]), "xarray: q differs from the Rust model"
# Spectral PV: pyqg's layout and wavenumbers, and the rfft2 of the physical q written beside it.
assert ds["qh"].dims == ("time", "lev", "l", "k") and ds["qh"].dtype == np.complex128, ds["qh"]
ny, dx, dy = ds.sizes["y"], ds.attrs["L"] / nx, ds.attrs["W"] / ds.sizes["y"]
assert np.allclose(ds["l"].values, 2 * np.pi * np.fft.fftfreq(ny, dy), rtol=1e-12, atol=0)
assert np.allclose(ds["k"].values, 2 * np.pi * np.fft.rfftfreq(nx, dx), rtol=1e-12, atol=0)
qh = ds["qh"].values
ref = np.fft.rfft2(ds["q"].values)
err = np.abs(qh - ref).max() / np.abs(ref).max()
assert err < 1e-10, f"qh differs from numpy rfft2(q) by {err:.1e}"
diag = xr.open_dataset(path, engine="h5netcdf", group="diagnostics")
assert diag["ke"].dims == ("diag_time",) and diag["ke"].attrs["units"] == "m^2 s^-2"
assert np.array_equal(diag["ke"].values, expected["ke"]), (diag["ke"].values, expected["ke"])
print(f"ok: {path} reads in h5py and xarray with dims {ds['q'].dims} and the Rust values")

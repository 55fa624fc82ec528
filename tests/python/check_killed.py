"""What a reader sees in outputs of killed runs (tests/cli_crash.rs).

    check_killed.py REFERENCE KILLED...

REFERENCE is the uninterrupted run's output; each KILLED file is a copy of the output a run
left when it was killed (a `simulate` output, written in place). Each is opened with xarray, as
a user would, with no knowledge of medida: the snapshots and diagnostics records are those with
a time; they must be a leading run of records, each bit for bit the reference's (no torn, zero-
or NaN-filled record with a time), and every record after them has no time. Prints the counts.
"""

import sys

import numpy as np
import xarray as xr


def check(ref, got, dim, name):
    t = got[dim].values
    n = int(np.argmax(np.isnan(t))) if np.isnan(t).any() else len(t)
    assert np.isnan(t[n:]).all(), f"{name}: a {dim} after a missing one"
    assert len(t) == ref.sizes[dim], f"{name}: {len(t)} {dim} records, reference {ref.sizes[dim]}"
    for var in got.data_vars:
        if dim not in got[var].dims:
            continue
        a = got[var].isel({dim: slice(0, n)}).values
        b = ref[var].isel({dim: slice(0, n)}).values
        assert not np.isnan(a).any(), f"{name}: {var} has NaN in a record with a time"
        assert np.array_equal(a, b), f"{name}: {var} differs from the reference"
    assert np.array_equal(t[:n], ref[dim].values[:n]), f"{name}: {dim} differs"
    return n, len(t) - n


def main():
    ref_path, killed = sys.argv[1], sys.argv[2:]
    ref = xr.open_dataset(ref_path, engine="h5netcdf")
    ref_d = xr.open_dataset(ref_path, engine="h5netcdf", group="diagnostics")
    seen = [0, 0, 0, 0]
    for path in killed:
        with xr.open_dataset(path, engine="h5netcdf") as got:
            s = check(ref, got, "time", path)
        with xr.open_dataset(path, engine="h5netcdf", group="diagnostics") as got:
            d = check(ref_d, got, "diag_time", path)
        for i, x in enumerate(s + d):
            seen[i] += x
    print(
        f"{len(killed)} killed outputs opened: {seen[0]} snapshots and {seen[2]} diagnostics "
        f"records, each equal to the reference's; {seen[1]} and {seen[3]} not yet written (no time)"
    )


if __name__ == "__main__":
    main()

"""Open every given medida output with `xr.open_datatree` (and each of its groups as a dataset)
and load it: `open_datatree.py FILE... [--plain FILE...]`. In the files before `--plain` (fields
in pyqg's layout: runs, increments, closure datasets) every data variable must have named
dimensions; the files after it are plain arrays with their names in text (checkpoints, the
`discover --out` results), which xarray opens with its `phony_dim_N`. Exits non-zero with a
message on the first file that fails; prints one line per file.
"""
import sys
import warnings

import xarray as xr

args = sys.argv[1:]
plain = set(args[args.index("--plain") + 1:]) if "--plain" in args else set()
for path in [a for a in args if a != "--plain"]:
    with warnings.catch_warnings():
        # h5netcdf warns that arrays without dimension scales get phony dims: the plain files.
        warnings.simplefilter("ignore", UserWarning)
        tree = xr.open_datatree(path, engine="h5netcdf")
    names = []
    for node in tree.subtree:
        ds = node.to_dataset().load()
        names += [f"{node.path.rstrip('/')}/{v}" for v in ds.data_vars]
        if path not in plain:
            phony = [v for v in ds.data_vars if any(d.startswith("phony_dim") for d in ds[v].dims)]
            assert not phony, f"{path}: {phony} have no named dimensions"
    assert names, f"{path}: no variables"
    print(f"ok {path}: {len(names)} variables in {len(list(tree.subtree))} groups")

#!/usr/bin/env bash
# Install what medida and its tests need on a fresh Debian machine that has Rust:
# - system packages: HDF5 (with its high-level library), pkg-config, Python headers and venv;
#   with `--mpi` also OpenMPI and libclang (for `cargo build --features mpi`; the tests use it);
# - .venv: the Python environment of the cross-checks and notebooks (h5py, xarray, h5netcdf,
#   PySINDy 2.1, pytest; NumPy 2; matplotlib and nbclient for the notebooks), see tests/requirements.txt
#   and notebooks/requirements.txt;
# - .venv-pyqg: pyqg 0.7.2, the solver's reference, which needs NumPy < 2 and Cython < 3, and
#   gcm-filters 0.5.1, the reference of the closure module's third coarse-graining operator,
#   h5py and scipy for the cross-check of the online similarity scores, and xarray and h5netcdf
#   so that pyqg's own to_dataset() is compared with medida's files.
# - .venv-dapper: DAPPER 1.7.1, the reference of the ensemble filters (EnKF, ETKF, LETKF), in
#   its own environment because it pins Jupyter and notebook versions of its own.
# - medida's Python package (python/) into .venv and .venv-pyqg, and pytest into .venv-pyqg.
# Safe to re-run: what is already there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
pkg-config --exists hdf5 2>/dev/null || need_apt+=(libhdf5-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v python3 >/dev/null || need_apt+=(python3 python3-dev)
python3 -c "import ensurepip, venv" 2>/dev/null || need_apt+=(python3-venv)
# pyqg builds a C extension: it needs Python's headers and a C compiler.
python3 -c "import os, sysconfig; assert os.path.exists(sysconfig.get_paths()['include'] + '/Python.h')" 2>/dev/null || need_apt+=(python3-dev)
command -v cc >/dev/null || need_apt+=(gcc)
command -v strace >/dev/null || need_apt+=(strace) # the crash tests (tests/cli_crash.rs)
# `--mpi`: OpenMPI and libclang (the mpi crate's bindings), for `--features mpi` and its tests.
if [ "${1:-}" = "--mpi" ]; then
    command -v mpirun >/dev/null || need_apt+=(openmpi-bin)
    dpkg -s libopenmpi-dev >/dev/null 2>&1 || need_apt+=(libopenmpi-dev)
    dpkg -s libclang-dev >/dev/null 2>&1 || need_apt+=(libclang-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || { echo "setup: creating .venv"; python3 -m venv .venv; }
if ! .venv/bin/python -c "import h5py, xarray, h5netcdf, pysindy, scipy, matplotlib, nbclient, ipykernel, pytest" 2>/dev/null; then
    echo "setup: installing Python packages into .venv"
    .venv/bin/pip install -q -r tests/requirements.txt -r notebooks/requirements.txt
fi

[ -x .venv-pyqg/bin/python ] || { echo "setup: creating .venv-pyqg"; python3 -m venv .venv-pyqg; }
if ! .venv-pyqg/bin/python -c "import pyqg" 2>/dev/null; then
    echo "setup: building pyqg 0.7.2 into .venv-pyqg (about 2-3 minutes)"
    # pyqg 0.7.2 only builds with Cython < 3 against NumPy < 2, and newer pip versions do not pass
    # constraints into build isolation: install its build dependencies first, then build without
    # isolation (pyqg.md route A). setuptools_scm is required, or pip silently picks pyqg 0.4.0.
    c="$PWD/tests/pyqg/constraints.txt"
    .venv-pyqg/bin/pip install -q -c "$c" "cython<3" "numpy<2" setuptools wheel "setuptools_scm[toml]>=6.2" pyfftw
    .venv-pyqg/bin/pip install -q -c "$c" --no-build-isolation -r tests/pyqg/requirements.txt
fi
if ! .venv-pyqg/bin/python -c "import gcm_filters" 2>/dev/null; then
    echo "setup: installing gcm-filters 0.5.1 into .venv-pyqg"
    .venv-pyqg/bin/pip install -q -c "$PWD/tests/pyqg/constraints.txt" "gcm-filters==0.5.1"
fi
if ! .venv-pyqg/bin/python -c "import h5py, scipy, xarray, h5netcdf" 2>/dev/null; then
    echo "setup: installing h5py, scipy, xarray and h5netcdf into .venv-pyqg (the similarity"
    echo "       scores' cross-check; pyqg's own to_dataset() beside medida's files)"
    .venv-pyqg/bin/pip install -q -c "$PWD/tests/pyqg/constraints.txt" h5py scipy xarray h5netcdf
fi
if ! .venv-pyqg/bin/python -c "import pytest" 2>/dev/null; then
    echo "setup: installing pytest into .venv-pyqg (the Python package's tests against pyqg)"
    .venv-pyqg/bin/pip install -q -c "$PWD/tests/pyqg/constraints.txt" pytest
fi
[ -x .venv-dapper/bin/python ] || { echo "setup: creating .venv-dapper"; python3 -m venv .venv-dapper; }
if ! .venv-dapper/bin/python -c "import dapper" 2>/dev/null; then
    echo "setup: installing DAPPER 1.7.1 into .venv-dapper (the ensemble filters' reference)"
    .venv-dapper/bin/pip install -q "dapper==1.7.1"
fi
# medida's Python package (python/, PyO3 + maturin): built once (cargo's release profile, in this
# workspace's target/), installed into both environments; reinstalled each time, so it follows
# the checkout.
echo "setup: building medida's Python package (python/) into .venv and .venv-pyqg"
.venv/bin/pip install -q ./python
.venv-pyqg/bin/pip install -q -c "$PWD/tests/pyqg/constraints.txt" ./python
echo "setup: done"

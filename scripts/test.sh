#!/usr/bin/env bash
# Every test of medida, as CI runs it: set-up, the Rust test suite, and the cross-checks that
# regenerate reference data with pyqg and compare it with the committed files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --mpi
export MEDIDA_PYTHON="$PWD/.venv/bin/python"
export MEDIDA_PYQG_PYTHON="$PWD/.venv-pyqg/bin/python"
cargo test --workspace --all-targets
cargo test --workspace --doc
echo "== notebooks: every notebook executed top to bottom (nbclient), data made by the debug binary"
MEDIDA_BIN="$PWD/target/debug/medida" "$MEDIDA_PYTHON" tests/notebooks/run_notebooks.py
echo "== pyqg cross-check: committed reference data against a fresh pyqg run"
"$MEDIDA_PYQG_PYTHON" tests/pyqg/make_reference.py --check
"$MEDIDA_PYQG_PYTHON" tests/pyqg/make_bt_reference.py --check
echo "== closure cross-check: committed coarse-graining and forcing against pyqg, NumPy and gcm-filters"
"$MEDIDA_PYQG_PYTHON" tests/closure/make_reference.py --check
echo "== PySINDy cross-check: committed STLSQ reference fits against a fresh PySINDy run"
"$MEDIDA_PYTHON" tests/pysindy/make_reference.py --check
echo "== scipy cross-check: committed Clough-Tocher reference against a fresh scipy run"
"$MEDIDA_PYTHON" tests/scipy/make_reference.py --check
echo "== Python package: medida.QGModel against pyqg 0.7.2 (pytest)"
"$MEDIDA_PYQG_PYTHON" -m pytest -q -W ignore::DeprecationWarning python/tests/test_qgmodel.py
echo "== Python package: STLSQ/RVM against PySINDy 2.1 and the CLI; JetModel, checkpoints and the pipeline against the CLI (pytest)"
MEDIDA_BIN="$PWD/target/debug/medida" "$MEDIDA_PYTHON" -m pytest -q python/tests/test_optimizers.py python/tests/test_jetmodel.py python/tests/test_checkpoints.py python/tests/test_pipeline.py
echo "== Python package: installed from the checkout into an empty venv (pip install ./python)"
fresh="$(mktemp -d)"
python3 -m venv "$fresh/venv"
"$fresh/venv/bin/pip" install -q ./python
"$fresh/venv/bin/python" -c "
import numpy as np, medida
m = medida.QGModel(tmax=10 * 7200.0); m.run(); ds = m.to_dataset()
assert m.tc == 10 and ds.q.shape == (1, 2, 64, 64)
x = np.random.default_rng(0).standard_normal((1000, 4)); o = medida.STLSQ().fit(x, x @ [1.0, 0.0, -2.0, 0.0])
assert o.complexity == 2 and np.allclose(o.coef_, [[1.0, 0.0, -2.0, 0.0]], atol=1e-12)
print('passed: medida', medida.__version__, 'installs into an empty venv; QGModel runs, STLSQ fits without PySINDy')"
rm -rf "$fresh"
echo "== DAPPER cross-check: committed EnKF/ETKF/LETKF analyses and Lorenz-96 scores against a fresh DAPPER run"
.venv-dapper/bin/python tests/dapper/make_reference.py --check
echo "== RVM cross-check: committed reference against a fresh run of the NumPy implementation"
"$MEDIDA_PYTHON" tests/rvm/rvm_reference.py --check
echo "== MPI: discover, fit, closure data, calibrate and EnKF/LETKF increments under mpirun -n 2 and 3 equal one process byte for byte (--features mpi)"
cargo test --features mpi --test cli_mpi

"""medida.JetModel and the terms' coefficients: the same numbers as `medida simulate` of the same
config (to the bit), model-error cases, and an imperfect model made perfect again by setting its
coefficients back. Run by scripts/test.sh in .venv (MEDIDA_BIN names the CLI)."""

import subprocess

import h5py
import numpy as np
import pytest

import medida
from test_optimizers import medida_bin

SMALL = dict(nx=48, ny=96, tmax=1.0)  # 40 steps of dt = 0.025


def cli_q(tmp_path, *extra):
    out = tmp_path / "cli.h5"
    subprocess.run([medida_bin(), "simulate", "-q", "--preset", "medida-jet", "--spinup", "0", "--steps", "40",
                    "--set", "model.nx=48", "--set", "model.ny=96", "--set", "output.snapshot_interval=40",
                    "--set", "output.checkpoint_interval=0", "--overwrite", "--out", str(out), *extra], check=True)
    with h5py.File(out) as f:
        return f["q"][-1]


@pytest.mark.parametrize("case", [None, "case1002", "case1004"])
def test_equals_medida_simulate_to_the_bit(tmp_path, case):
    m = medida.JetModel(model_error=case, **SMALL)
    m.run()
    assert m.tc == 40
    theirs = cli_q(tmp_path, *(["--model-error", case] if case else []))
    assert np.array_equal(m.q, theirs)


def test_imperfect_model_with_its_coefficients_set_back_is_the_truth():
    truth = medida.JetModel(**SMALL)
    imperfect = medida.JetModel(model_error="case1002", **SMALL)
    changed = {k: v for k, v in truth.coefficients.items() if imperfect.coefficients[k] != v}
    assert set(changed) == {"bottom_drag", "interface_relaxation", "jet_forcing"}
    for name, value in changed.items():
        imperfect.set_coefficient(name, value)
    assert imperfect.coefficients == truth.coefficients
    truth.run()
    imperfect.run()
    assert np.array_equal(truth.q, imperfect.q)


def test_keywords_and_errors():
    m = medida.JetModel(nx=32, ny=64, L=20.0, W=40.0, dt=0.01, bottom_drag=0.1, tmax=0.05)
    assert (m.nx, m.ny, m.L, m.W, m.dt) == (32, 64, 20.0, 40.0, 0.01)
    assert m.coefficients["bottom_drag"] == 0.1 and m._m.total_steps == 5
    ds = m.to_dataset()
    assert ds.q.shape == (1, 2, 64, 32) and "bottom_drag = 0.1" in ds.attrs["medida:config"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'rek'"):
        medida.JetModel(rek=1.0)
    with pytest.raises(ValueError, match="unknown model-error case `case9`"):
        medida.JetModel(model_error="case9")
    with pytest.raises(ValueError, match="not a term of this model"):
        m.set_coefficient("drag", 1.0)
    with pytest.raises(ValueError, match="the MEDIDA study's model-error cases change terms of its forced jet"):
        medida.QGModel(model_error="case1002")

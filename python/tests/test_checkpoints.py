"""Saving and loading models: a run continued from a checkpoint equals the run that never
stopped, to the bit; a medida simulate checkpoint loads; existing files are not overwritten
unless asked; a wrong file is refused by name. Run by scripts/test.sh in .venv (MEDIDA_BIN names
the CLI)."""

import subprocess

import numpy as np
import pytest

import medida
from test_optimizers import medida_bin


def continued(model, tmp_path, steps, **load):
    """q after `steps` more steps, straight on and through save/load."""
    path = tmp_path / "model.h5"
    model.save(path)
    for _ in range(steps):
        model.step_forward()
    loaded = type(model).load(path, **load)
    for _ in range(steps):
        loaded.step_forward()
    assert loaded.tc == model.tc and loaded.t == model.t
    return model.q, loaded.q, loaded


def test_qgmodel_continues_bit_for_bit(tmp_path):
    m = medida.QGModel(nx=32, rek=7e-7)
    for _ in range(30):
        m.step_forward()
    straight, resumed, loaded = continued(m, tmp_path, 30)
    assert np.array_equal(straight, resumed)
    assert loaded.rek == 7e-7 and loaded.nx == 32
    assert loaded.to_dataset().attrs["pyqg:rek"] == 7e-7


def test_time_averaged_diagnostics_continue_through_a_checkpoint(tmp_path):
    m = medida.QGModel(nx=32, tavestart=0.0, taveint=2 * 7200.0)
    for _ in range(10):
        m.step_forward()
    straight, resumed, loaded = continued(m, tmp_path, 10)
    assert np.array_equal(straight, resumed)
    ours, theirs = m.diagnostics, loaded.diagnostics
    assert len(ours) == 19 and ours.keys() == theirs.keys()
    for name in ours:
        assert np.array_equal(ours[name]["value"], theirs[name]["value"]), name
    with pytest.raises(KeyError, match="no such diagnostic"):
        medida.QGModel(nx=32).get_diagnostic("KEspec")


def test_jetmodel_with_changed_coefficients_and_a_parameterization(tmp_path):
    damping = dict(q_parameterization=lambda m: -0.01 * m.q)
    m = medida.JetModel(nx=32, ny=64, model_error="case1002", **damping)
    m.set_coefficient("bottom_drag", 0.2)  # kept in the saved config
    for _ in range(10):
        m.step_forward()
    straight, resumed, loaded = continued(m, tmp_path, 10, **damping)
    assert np.array_equal(straight, resumed)
    assert loaded.coefficients["bottom_drag"] == 0.2


def test_loads_a_medida_simulate_checkpoint(tmp_path):
    out = tmp_path / "run.h5"
    subprocess.run([medida_bin(), "simulate", "-q", "--steps", "20", "--set", "model.nx=32", "--set", "model.ny=32",
                    "--set", "output.checkpoint_interval=10", "--out", str(out)], check=True)
    m = medida.QGModel.load(tmp_path / "run.ckpt.h5")
    assert m.tc == 20 and m.nx == 32


def test_refuses_overwriting_and_wrong_files(tmp_path):
    m = medida.QGModel(nx=32)
    path = tmp_path / "m.h5"
    m.save(path)
    with pytest.raises(ValueError, match="exists: choose another path, or replace it with overwrite"):
        m.save(path)
    m.step_forward()
    m.save(path, overwrite=True)
    assert medida.QGModel.load(path).tc == 1
    with pytest.raises(ValueError, match="not a JetModel checkpoint"):
        medida.JetModel.load(path)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        medida.QGModel.load(junk)

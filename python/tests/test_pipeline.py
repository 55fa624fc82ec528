"""medida.simulate, medida.increments, medida.discover: the same files and numbers as the CLI (to
the bit), the CLI's messages for bad input, and Ctrl-C. Run by scripts/test.sh in .venv (MEDIDA_BIN
names the CLI, else target/debug/medida)."""

import json
import os
import signal
import subprocess
import threading
import time

import h5py
import numpy as np
import pytest

import medida
from test_optimizers import medida_bin

SMALL_JET = dict(preset="medida-jet", spinup=20, tmax=21, set={"model.nx": 48, "model.ny": 96, "output.checkpoint_interval": 0})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    truth = medida.simulate(tmp / "truth.h5", **SMALL_JET)
    inc = medida.increments(truth, tmp / "increments.h5", model_error="case1002")
    return tmp, truth, inc


def cli(*args):
    return subprocess.run([medida_bin(), *map(str, args)], check=True, capture_output=True, text=True).stdout


def test_files_equal_the_cli_runs(files):
    tmp, truth, inc = files
    cli("simulate", "-q", "--preset", "medida-jet", "--spinup", "20", "--tmax", "21", "--set", "model.nx=48",
        "--set", "model.ny=96", "--set", "output.checkpoint_interval=0", "--out", tmp / "cli-truth.h5")
    cli("increments", "-q", "--truth", tmp / "cli-truth.h5", "--model-error", "case1002", "--out", tmp / "cli-inc.h5")
    for ours, theirs, names in [(truth, tmp / "cli-truth.h5", ["q", "time"]), (inc, tmp / "cli-inc.h5", ["dqdt", "q", "q_forecast"])]:
        with h5py.File(ours) as a, h5py.File(theirs) as b:
            for name in names:
                assert np.array_equal(a[name][()], b[name][()]), name


@pytest.mark.parametrize("optimizer", [None, medida.RVM()], ids=["default", "rvm-bic"])
def test_discovery_equals_the_cli_to_the_bit(files, optimizer):
    _, _, inc = files
    found = medida.discover(inc, optimizer=optimizer, select="bic")
    flags = optimizer._flags("bic") if optimizer is not None else ["--select", "bic"]
    assert found.report == json.loads(cli("discover", "-q", "--increments", inc, "--json", *flags))
    assert found.summary == cli("discover", "-q", "--increments", inc, *flags)
    # case 1002 from full observations: the expected terms, to round-off of the increments.
    assert found.support_exact
    assert np.abs(found.coef - found.expected).max() <= 1e-6 * np.abs(found.expected).max()
    ds = found.to_dataset()
    assert ds.coef.dims == ("lev", "term") and ds.attrs["case"] == "case1002"
    assert ("std" in ds) == isinstance(optimizer, medida.RVM)


def test_bad_input_has_the_clis_message(files):
    tmp, truth, inc = files
    with pytest.raises(ValueError, match="exists: choose another --out, or replace it with --overwrite"):
        medida.increments(truth, inc, model_error="case1002")
    with pytest.raises(ValueError, match="unexpected argument '--windoww'"):
        medida.increments(truth, tmp / "x.h5", windoww=3)
    with pytest.raises(ValueError, match="case9999"):
        medida.increments(truth, tmp / "x.h5", model_error="case9999")
    assert not (tmp / "x.h5").exists()


def test_ctrl_c_stops_a_run_leaving_whole_records(tmp_path):
    out = tmp_path / "long.h5"
    fired = []

    def ctrl_c():
        fired.append(time.perf_counter() - t0)
        os.kill(os.getpid(), signal.SIGINT)

    # A process started in the background by a shell without job control (`cmd &` in a script,
    # as CI runners may) inherits SIGINT ignored, and Python then keeps it ignored: no Python
    # program there sees Ctrl-C. Give this test Python's own handler, as an interactive session has.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, ctrl_c)
    t0 = time.perf_counter()
    timer.start()
    try:
        medida.simulate(out, preset="medida-jet", spinup=0, steps=100_000, set={
            "model.nx": 48, "model.ny": 96, "output.snapshot_interval": 200, "output.checkpoint_interval": 0})
    except KeyboardInterrupt as e:
        assert "interrupted at step" in str(e), e
    else:  # what a failure needs to be understood: when Ctrl-C came, how long the run took
        pytest.fail(f"no KeyboardInterrupt: Ctrl-C sent at {fired} s, the run ended after "
                    f"{time.perf_counter() - t0:.1f} s, SIGINT handler {signal.getsignal(signal.SIGINT)}")
    finally:
        signal.signal(signal.SIGINT, previous)
    elapsed = time.perf_counter() - t0
    timer.join()
    assert elapsed < 30, f"the run took {elapsed:.1f} s to stop"
    with h5py.File(out) as f:  # room for 501 records; those written before Ctrl-C have a time
        times, q = f["time"][()], f["q"][()]
    written = np.isfinite(times)
    assert 1 <= written.sum() < len(times) and np.isfinite(q[written]).all()

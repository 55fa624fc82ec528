"""medida from Python: the two-layer quasi-geostrophic model with pyqg's interface, and sparse
regression with PySINDy's.

    import medida
    m = medida.QGModel(nx=64, dt=7200.0, tmax=3.1536e7, rek=5.787e-7)
    m.run()
    m.q, m.p, m.u, m.v, m.qh          # NumPy arrays (lev, y, x), as pyqg's
    ds = m.to_dataset()               # xarray, pyqg's names, dims and `pyqg:` attributes

A pyqg script changes its import: `QGModel` takes pyqg 0.7.2's keywords and defaults, steps
with pyqg's stepper and physics (equal to pyqg to round-off) and has `run()`, `step_forward()`,
`run_with_snapshots()`, `set_q()`. The stepping runs in Rust without the GIL; Ctrl-C stops it.

    jet = medida.JetModel(model_error="case1002")   # the MEDIDA jet; jet.coefficients, jet.set_coefficient()

    opt = medida.STLSQ(threshold=0.1)     # PySINDy 2.1's STLSQ, keywords and results
    pysindy.SINDy(optimizer=opt).fit(x, t=dt).print()
    medida.RVM().fit(library, target).print()   # with posterior standard deviations, std_

    medida.simulate("truth.h5", preset="medida-jet")              # the pipeline over files,
    medida.increments("truth.h5", "inc.h5", model_error="case1002")  # as the CLI runs it
    medida.discover("inc.h5", optimizer=medida.RVM()).to_dataset()
"""

from . import _medida
from .model import JetModel, QGModel
from .optimizers import RVM, STLSQ
from .pipeline import Discovery, discover, increments, simulate

__all__ = ["QGModel", "JetModel", "STLSQ", "RVM", "simulate", "increments", "discover", "Discovery"]
__version__ = _medida.__version__

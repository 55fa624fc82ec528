"""`QGModel`: pyqg's two-layer model, computed by medida (pyqg's keywords, defaults, attributes
and dataset layout)."""

import numpy as np

from . import _medida

# pyqg's keyword -> medida's config key (`medida config show --preset pyqg-eddy`).
_KEYS = {
    "nx": "model.nx",
    "ny": "model.ny",
    "L": "model.L",
    "W": "model.W",
    "dt": "model.dt",
    "rd": "model.rd",
    "delta": "model.delta",
    "H1": "model.H1",
    "filterfac": "model.filterfac",
    "beta": "terms.beta",
    "rek": "terms.bottom_drag",
    "U1": "terms.background_flow1",
    "U2": "terms.background_flow2",
}

# pyqg 0.7.2's defaults (QGModel and Model).
_DEFAULTS = {
    "nx": 64,
    "ny": None,
    "L": 1e6,
    "W": None,
    "dt": 7200.0,
    "rd": 15000.0,
    "delta": 0.25,
    "H1": 500.0,
    "filterfac": 23.6,
    "beta": 1.5e-11,
    "rek": 5.787e-7,
    "U1": 0.025,
    "U2": 0.0,
    "tmax": 1576800000.0,
}

# pyqg keywords that change only its logging or its own diagnostics' averaging window.
_NO_EFFECT = {"twrite", "tavestart", "taveint", "log_level", "logfile", "fftw_num_threads", "ntd"}


class QGModel:
    """pyqg's two-layer `QGModel`, computed by medida.

    Keywords as pyqg 0.7.2's, with its defaults: nx, ny (nx), L [m], W (L), dt [s], tmax [s],
    rd [m], delta (H1/H2), H1 [m], beta [1/(m s)], rek [1/s], U1, U2 [m/s], filterfac; and
    `seed`, the initial state's (pyqg's random field). pyqg's logging and averaging keywords
    are accepted and have no effect; any other keyword is a TypeError, a value outside its
    allowed range a ValueError naming it.
    """

    def __init__(self, seed=0, **kwargs):
        params = dict(_DEFAULTS)
        for key, value in kwargs.items():
            if key in _NO_EFFECT:
                continue
            if key not in params:
                raise TypeError(f"QGModel() got an unexpected keyword argument {key!r}")
            params[key] = value
        params["ny"] = params["nx"] if params["ny"] is None else params["ny"]
        params["W"] = params["L"] if params["W"] is None else params["W"]
        settings = [f"init.seed={_integer('seed', seed)}"]
        for key, value in params.items():
            integer = key in ("nx", "ny")
            number = _integer(key, value) if integer else _number(key, value)
            if key == "tmax":
                # pyqg steps while t < tmax: as many steps as tmax / dt rounded up.
                dt = float(_number("dt", params["dt"]))
                # A dt that is not > 0 is the config's to name (below).
                steps = np.ceil(float(number) / dt * (1 - 1e-12)) if dt > 0 else 0
                if not 0 <= steps <= 2**53:
                    raise ValueError(
                        f"tmax = {value}: allowed 0 to 2^53 steps of dt = {params['dt']}"
                    )
                settings.append(f"run.steps={int(steps)}")
            else:
                settings.append(f"{_KEYS[key]}={number}")
        self._m = _medida.Model("pyqg-eddy", settings)
        self._params = params

    # --- pyqg's parameters ---
    def __getattr__(self, name):
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    @property
    def t(self):
        """Model time [s]."""
        return self._m.t

    @property
    def tc(self):
        """Steps taken."""
        return self._m.tc

    @property
    def dx(self):
        return self.L / self.nx

    @property
    def dy(self):
        return self.W / self.ny

    @property
    def x(self):
        """Cell-centre positions [m], (ny, nx) as pyqg's."""
        return np.meshgrid(self._coord(self.nx, self.dx), self._coord(self.ny, self.dy))[0]

    @property
    def y(self):
        return np.meshgrid(self._coord(self.nx, self.dx), self._coord(self.ny, self.dy))[1]

    @staticmethod
    def _coord(n, d):
        return (np.arange(n) + 0.5) * d

    @property
    def Ubg(self):
        """Background zonal velocity per layer [m/s]."""
        return np.array(self._m.background()[0])

    @property
    def Qy(self):
        """Background PV gradient per layer [1/(m s)]."""
        return np.array(self._m.background()[1])

    # --- state ---
    @property
    def q(self):
        """Potential vorticity anomaly (lev, y, x) [1/s]."""
        return _array(self._m.q())

    def _puv(self):
        return [_array(a) for a in self._m.p_u_v()]

    @property
    def p(self):
        """Streamfunction (lev, y, x) [m^2/s]."""
        return self._puv()[0]

    @property
    def u(self):
        """Zonal velocity anomaly (lev, y, x) [m/s] (pyqg's `u`; `ufull` adds Ubg)."""
        return self._puv()[1]

    @property
    def v(self):
        """Meridional velocity (lev, y, x) [m/s]."""
        return self._puv()[2]

    @property
    def ufull(self):
        return self.u + self.Ubg[:, None, None]

    @property
    def vfull(self):
        return self.v

    @property
    def qh(self):
        """q's Fourier transform (lev, l, k), NumPy's rfftn over (y, x) as pyqg's."""
        return np.fft.rfftn(self.q, axes=(-2, -1))

    @property
    def ph(self):
        return np.fft.rfftn(self.p, axes=(-2, -1))

    def set_q(self, q):
        """Sets the PV anomaly: an array of the model's shape (2, ny, nx), finite."""
        q = np.asarray(q, dtype=np.float64)
        shape = (2, self.ny, self.nx)
        if q.shape != shape:
            raise ValueError(f"q: shape {q.shape}, the model's q has shape {shape}")
        self._m.set_q(np.ascontiguousarray(q).tobytes())

    # --- stepping, as pyqg's ---
    def step_forward(self):
        """One step."""
        self._m.step(1)

    def run(self):
        """Steps until t reaches tmax."""
        self._m.step(max(self._m.total_steps - self._m.tc, 0))

    def run_with_snapshots(self, tsnapstart=0.0, tsnapint=432000.0):
        """pyqg's generator: steps until tmax, yielding t after every step at which
        t >= tsnapstart and the step count is a multiple of ceil(tsnapint / dt)."""
        every = int(np.ceil(tsnapint / self.dt))
        while self._m.tc < self._m.total_steps:
            self._m.step(1)
            if self.t >= tsnapstart and self.tc % every == 0:
                yield self.t

    def to_dataset(self):
        """The state as pyqg's `to_dataset()` lays it out: q, p, u, v, ufull, vfull on
        (time, lev, y, x), Ubg and Qy on lev, and the `pyqg:` attributes."""
        import xarray as xr

        dims = ("time", "lev", "y", "x")
        fields = {
            name: (dims, getattr(self, name)[None])
            for name in ("q", "p", "u", "v", "ufull", "vfull")
        }
        ds = xr.Dataset(
            {**fields, "Ubg": (("lev",), self.Ubg), "Qy": (("lev",), self.Qy)},
            coords={
                "time": [self.t],
                "lev": [1, 2],
                "y": self._coord(self.ny, self.dy),
                "x": self._coord(self.nx, self.dx),
            },
        )
        for key in ("nx", "ny", "L", "W", "dt", "tmax", "rd", "delta", "H1", "beta", "rek", "filterfac"):
            ds.attrs[f"pyqg:{key}"] = self._params[key]
        ds.attrs["pyqg:tc"] = self.tc
        ds.attrs["title"] = "pyqg's QGModel, computed by medida"
        return ds


def _array(pair):
    data, shape = pair
    return np.frombuffer(data, dtype=np.float64).reshape(shape).copy()


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: a number, not {type(value).__name__}")
    return repr(float(value))


def _integer(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: a whole number, not {type(value).__name__}")
    return str(int(value))

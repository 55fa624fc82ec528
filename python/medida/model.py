"""`QGModel`: pyqg's two-layer model, computed by medida (pyqg's keywords, defaults, attributes
and dataset layout)."""

import os
from functools import cached_property

import numpy as np

from . import _medida

# Keywords of both models that are `[model]` keys of the same name.
_GRID = {key: f"model.{key}" for key in ("nx", "ny", "L", "W", "dt", "rd")}

# pyqg's keyword -> medida's config key (`medida config show --preset pyqg-eddy`).
_KEYS = {
    **_GRID,
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

# pyqg keywords that change only its logging or threads.
_NO_EFFECT = {"twrite", "log_level", "logfile", "fftw_num_threads", "ntd"}
# Those of them pyqg's to_dataset() records, with pyqg 0.7.2's defaults.
_LOGGING = {"twrite": 1000.0, "ntd": 1}
# pyqg's averaging window of its time-averaged diagnostics [s], with its defaults.
_AVERAGING = {"tavestart": 315360000.0, "taveint": 86400.0}


class _Model:
    """What medida's models share: a preset made into a run config by keywords (`_KEYS`: keyword
    -> config key, `_DEFAULTS`), the state as NumPy arrays, pyqg's stepping, the terms'
    coefficients and the dataset."""

    _PRESET = ""
    _KEYS = {}
    _DEFAULTS = {}
    _NO_EFFECT = set()
    # Settings that keywords do not change.
    _FIXED = ()
    # A term only this class's models have (what `load` checks a checkpoint against).
    _OWN_TERM = ""
    _TITLE = ""

    def __init__(self, seed=0, model_error=None, closure=None, q_parameterization=None,
                 uv_parameterization=None, parameterization=None, precision="f64", **kwargs):
        name = type(self).__name__
        params = dict(self._DEFAULTS)
        for key, value in kwargs.items():
            if key in self._NO_EFFECT:
                continue
            if key not in params:
                raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
            params[key] = value
        if precision not in ("f64", "f32"):
            raise ValueError(f"precision = {precision!r}: allowed 'f64' (pyqg's) or 'f32'")
        settings = [f"init.seed={_integer('seed', seed)}", f'model.precision="{precision}"', *self._FIXED]
        for key, value in params.items():
            if key == "tmax":
                if value is not None:
                    settings.append(f"run.steps={_steps(value, params['dt'])}")
            elif value is not None:
                number = _integer(key, value) if key in ("nx", "ny") else _number(key, value)
                settings.append(f"{self._KEYS[key]}={number}")
        if model_error is not None and not isinstance(model_error, str):
            raise TypeError(f"model_error: a case name such as 'case1002', not {type(model_error).__name__}")
        if closure is not None and not isinstance(closure, (str, os.PathLike)):
            raise TypeError(f"closure: a built-in closure's name ('smagorinsky:cs=0.15') or a discovered closure's JSON file, not {type(closure).__name__}")
        self._m = _medida.Model(self._PRESET, settings, model_error, None if closure is None else os.fspath(closure))
        self._params = params
        self._parameterize(q_parameterization, uv_parameterization, parameterization)

    def _parameterize(self, q, uv, combined):
        self._parameterization = _parameterization(q, uv, combined)
        if self._parameterization is not None:
            self._m.add_parameterization_term()

    # --- checkpoints ---
    def save(self, path, overwrite=False):
        """Writes the model's complete state (q, the stepper's history, step count, time) and
        config to `path` (HDF5), atomically: a kill leaves the file whole or absent. `load(path)`
        continues the run bit for bit. An existing file is refused unless `overwrite`. A Python
        parameterization is not saved: give it to `load` again."""
        self._m.save(os.fspath(path), bool(overwrite))

    @classmethod
    def load(cls, path, q_parameterization=None, uv_parameterization=None, parameterization=None):
        """The model a checkpoint holds (written by `save`, or a `medida simulate` run's
        `.ckpt.h5`), in its state, with the parameterization keywords as the constructor's."""
        m = cls.__new__(cls)
        m._m = _medida.Model.load(os.fspath(path))
        if cls._OWN_TERM not in dict(m._m.coefficients()):
            raise ValueError(f"{os.fspath(path)}: not a {cls.__name__} checkpoint (its model has no term "
                             f"{cls._OWN_TERM!r}; load it with the model class it came from)")
        m._params = m._loaded_params()
        m._parameterize(q_parameterization, uv_parameterization, parameterization)
        return m

    def _loaded_params(self):
        return {}

    # --- parameters ---
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

    # --- pyqg's time-averaged diagnostics ---
    @property
    def diagnostics(self):
        """pyqg's time-averaged diagnostics accumulated so far, {name: {dims, units,
        description, value}} (from tavestart on, every taveint; empty before)."""
        return {name: {"dims": tuple(dims), "units": units, "description": description, "value": value}
                for name, dims, units, description, value in self._m.diagnostics()}

    def get_diagnostic(self, name):
        """The average of pyqg's diagnostic `name` (pyqg's `get_diagnostic`)."""
        found = self.diagnostics
        if name not in found:
            raise KeyError(f"{name!r}: no such diagnostic averaged yet (averaged: {sorted(found) or 'none'}; "
                           f"they accumulate from tavestart on, every taveint)")
        return found[name]["value"]

    # --- terms ---
    @property
    def coefficients(self):
        """The tendency's terms and their coefficients, {name: value} (`m.coefficients['bottom_drag']`)."""
        return dict(self._m.coefficients())

    def set_coefficient(self, name, value):
        """Sets the coefficient of term `name` (a key of `coefficients`): an imperfect model is the
        same model with coefficients changed."""
        if not isinstance(name, str):
            raise TypeError(f"name: a term name, not {type(name).__name__}")
        self._m.set_coefficient(name, float(_number(name, value)))

    # --- state ---
    @property
    def q(self):
        """Potential vorticity anomaly (lev, y, x) [1/s]."""
        return self._m.q()

    def _puv(self):
        # p, u, v of the current state, computed once per state (a parameterization reads them
        # several times a step); set_q changes the state without a step.
        key = (self._m.tc, self.__dict__.get("_version", 0))
        if self.__dict__.get("_puv_key") != key:
            self._puv_cache, self._puv_key = self._m.p_u_v(), key
        return self._puv_cache

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
        return self.fft(self.q)

    @property
    def ph(self):
        return self.fft(self.p)

    def set_q(self, q):
        """Sets the PV anomaly: an array of the model's shape (2, ny, nx), finite."""
        q = np.asarray(q, dtype=np.float64)
        shape = (2, self.ny, self.nx)
        if q.shape != shape:
            raise ValueError(f"q: shape {q.shape}, the model's q has shape {shape}")
        self._m.set_q(q)
        self._version = self.__dict__.get("_version", 0) + 1

    # --- stepping, as pyqg's ---
    def step_forward(self):
        """One step."""
        self._steps(1)

    def run(self):
        """Steps until t reaches tmax."""
        self._steps(max(self._m.total_steps - self._m.tc, 0))

    def run_with_snapshots(self, tsnapstart=0.0, tsnapint=432000.0):
        """pyqg's generator: steps until tmax, yielding t after every step at which
        t >= tsnapstart and the step count is a multiple of ceil(tsnapint / dt)."""
        every = int(np.ceil(tsnapint / self.dt))
        while self._m.tc < self._m.total_steps:
            self._steps(1)
            if self.t >= tsnapstart and self.tc % every == 0:
                yield self.t

    def _steps(self, n):
        if self._parameterization is None:
            self._m.step(n)
            return
        for _ in range(n):
            # As pyqg: the parameterization sees the state the step starts from.
            self._m.set_parameterization(np.asarray(self._parameterization(self), dtype=np.float64))
            self._m.step(1)

    # --- pyqg's spectral helpers, for parameterizations written for pyqg ---
    def fft(self, v):
        """Real FFT over (y, x), as pyqg's."""
        return np.fft.rfftn(v, axes=(-2, -1))

    def ifft(self, vh):
        """Its inverse, as pyqg's."""
        return np.fft.irfftn(vh, s=(self.ny, self.nx), axes=(-2, -1))

    @cached_property
    def kk(self):
        """Zonal wavenumbers of the rfft's last axis [1/m]."""
        return 2 * np.pi / self.L * np.arange(self.nx // 2 + 1)

    @cached_property
    def ll(self):
        """Meridional wavenumbers [1/m] (NumPy's fft order)."""
        return 2 * np.pi / self.W * np.fft.fftfreq(self.ny, 1 / self.ny)

    @cached_property
    def k(self):
        """Zonal wavenumber on the (l, k) grid, as pyqg's."""
        return np.meshgrid(self.kk, self.ll)[0]

    @cached_property
    def l(self):  # noqa: E743 (pyqg's name)
        """Meridional wavenumber on the (l, k) grid, as pyqg's."""
        return np.meshgrid(self.kk, self.ll)[1]

    @cached_property
    def ik(self):
        return 1j * self.k

    @cached_property
    def il(self):
        return 1j * self.l

    @cached_property
    def wv2(self):
        return self.k**2 + self.l**2

    @property
    def Hi(self):
        """Layer thicknesses (H1, H2)."""
        return np.array(self._m.thicknesses())

    @property
    def H(self):
        return float(self.Hi.sum())

    @property
    def dqdt(self):
        """The tendency dq/dt of the current state, every term (lev, y, x) [1/s^2]."""
        return self._m.dqdt()

    @property
    def dqhdt(self):
        """The tendency's transform (lev, l, k), pyqg's `dqhdt` (with its Nyquist column)."""
        return self._m.dqhdt()

    def to_dataset(self):
        """The state as pyqg's `to_dataset()` lays it out: q, p, u, v, ufull, vfull, dqdt on
        (time, lev, y, x), their transforms qh, ph, uh, vh, dqhdt on (time, lev, l, k), Ubg and
        Qy on lev, coordinates time, lev, lev_mid, y, x, l, k, and the parameters as attributes."""
        import xarray as xr

        dims, spectral = ("time", "lev", "y", "x"), ("time", "lev", "l", "k")
        fields = {name: getattr(self, name) for name in ("q", "p", "u", "v", "ufull", "vfull", "dqdt")}
        data = {name: (dims, a[None]) for name, a in fields.items()}
        for name in ("q", "p", "u", "v"):
            data[name + "h"] = (spectral, self.fft(fields[name])[None])
        data["dqhdt"] = (spectral, self.dqhdt[None])
        ds = xr.Dataset(
            {**data, "Ubg": (("lev",), self.Ubg), "Qy": (("lev",), self.Qy)},
            coords={
                "time": [self.t],
                "lev": [1, 2],
                "lev_mid": [1.5],
                "y": self._coord(self.ny, self.dy),
                "x": self._coord(self.nx, self.dx),
                "l": self.ll,
                "k": self.kk,
            },
        )
        for name, d in self.diagnostics.items():
            ds[name] = (("time", *d["dims"]), d["value"][None])
            ds[name].attrs.update(long_name=d["description"], units=d["units"])
        ds.attrs.update(self._attrs())
        return ds

    def _attrs(self):
        return {"medida:config": self._m.config(), "medida:tc": self.tc, "title": self._TITLE}


class QGModel(_Model):
    """pyqg's two-layer `QGModel`, computed by medida.

    Keywords as pyqg 0.7.2's, with its defaults: nx, ny (nx), L [m], W (L), dt [s], tmax [s],
    rd [m], delta (H1/H2), H1 [m], beta [1/(m s)], rek [1/s], U1, U2 [m/s], filterfac,
    q_parameterization (f(m) -> dq, added to dq/dt), uv_parameterization (f(m) -> (du, dv),
    entering as their curl), parameterization (pyqg's objects, either kind); and medida's:
    `closure` (a medida closure: "smagorinsky:cs=0.15", `medida closure list`, or a `medida
    closure discover` FILE.json), `seed`, the initial state's (pyqg's random field), `precision`
    ("f64", pyqg's, or "f32": the state and the step in single precision, about 1.3-1.9x faster;
    arrays are returned as float64 either way).
    tavestart and taveint [s] set when pyqg's time-averaged diagnostics accumulate
    (`diagnostics`, `get_diagnostic`, `to_dataset()`); pyqg's logging keywords are accepted and
    have no effect; any other keyword is a TypeError, a value outside its allowed range a
    ValueError naming it.
    """

    _PRESET = "pyqg-eddy"
    _KEYS = _KEYS
    _DEFAULTS = _DEFAULTS
    _NO_EFFECT = _NO_EFFECT
    _OWN_TERM = "background_flow1"

    def __init__(self, seed=0, tavestart=_AVERAGING["tavestart"], taveint=_AVERAGING["taveint"], **kwargs):
        self._logging = dict(_LOGGING)
        self._logging.update({k: v for k, v in kwargs.items() if k in _LOGGING})
        # pyqg's square defaults: ny = nx, W = L.
        for key, like in (("ny", "nx"), ("W", "L")):
            if kwargs.get(key) is None:
                kwargs[key] = kwargs.get(like, _DEFAULTS[like])
        super().__init__(seed=seed, **kwargs)
        self._averaging = {"tavestart": tavestart, "taveint": taveint}
        self._m.average(float(_number("tavestart", tavestart)), float(_number("taveint", taveint)))

    @classmethod
    def load(cls, path, **parameterization):
        m = super().load(path, **parameterization)
        m._m.average()
        return m

    def _loaded_params(self):
        self._logging = dict(_LOGGING)
        params = dict(self._m.pyqg_params())
        self._averaging = {key: params.pop(key, default) for key, default in _AVERAGING.items()}
        params["nx"], params["ny"] = int(params["nx"]), int(params["ny"])
        return params

    def _attrs(self):
        """pyqg 0.7.2's attributes (its averaging and logging keywords as given, or its defaults)."""
        keys = ("nx", "ny", "L", "W", "dt", "tmax", "rd", "delta", "H1", "beta", "rek", "filterfac")
        attrs = {f"pyqg:{key}": self._params[key] for key in keys}
        attrs.update({f"pyqg:{key}": value for key, value in {**self._logging, **self._averaging}.items()})
        attrs.update({
            "pyqg:tc": self.tc, "pyqg:nz": 2, "pyqg:M": self.nx * self.ny, "pyqg:nk": self.nx // 2 + 1,
            "pyqg:nl": self.ny, "pyqg:del2": 1 / (1 + self.delta),
            "title": "pyqg's QGModel, computed by medida",
            "reference": "https://pyqg.readthedocs.io/en/latest/index.html",
        })
        return attrs


# JetModel's keyword -> medida's config key (`medida config show --preset medida-jet`).
_JET_KEYS = {
    **_GRID,
    "sigma": "jet.sigma",
    "u1": "jet.u1",
    "beta": "terms.beta",
    "bottom_drag": "terms.bottom_drag",
    "hyperviscosity": "terms.hyperviscosity",
    "interface_relaxation": "terms.interface_relaxation",
    "jet_forcing": "terms.jet_forcing",
    "sponge": "terms.sponge",
}


class JetModel(_Model):
    """The MEDIDA study's forced jet (Lutsko et al. 2015 as set up by the study): two equal layers
    on a 46 x 68 channel-like periodic domain, relaxation of the interface to a jet profile
    (width `sigma`, speed `u1`), bottom drag, a sponge, hyperviscosity; non-dimensional units.

    Keywords (the `medida-jet` preset's values unless given): nx (96), ny (192), L (46), W (68),
    dt (0.025), tmax (model time; default the preset's 20,000 steps), rd, sigma, u1, and the
    terms' coefficients beta (0.196), bottom_drag (0.07), interface_relaxation (0.01),
    jet_forcing (0.01), sponge (1), hyperviscosity (1e-6); `seed` of the random initial state;
    `model_error` ("case1001" ... "case1009"), the study's imperfect model instead of the truth.
    Start it from a spun-up state with `set_q` (a `medida.simulate(..., preset="medida-jet")`
    run's last q), or run the spin-up (250 time units) from the random state.
    """

    _PRESET = "medida-jet"
    _KEYS = _JET_KEYS
    _OWN_TERM = "jet_forcing"
    _DEFAULTS = {**{key: None for key in _JET_KEYS}, "dt": 0.025, "tmax": None}
    # run() steps from the state as it is: no spin-up of its own.
    _FIXED = ("run.spinup=0",)

    nx = property(lambda self: self._m.shape()[2], doc="Grid points in x.")
    ny = property(lambda self: self._m.shape()[1], doc="Grid points in y.")
    L = property(lambda self: self._m.extent()[0], doc="Domain length in x.")
    W = property(lambda self: self._m.extent()[1], doc="Domain length in y.")
    dt = property(lambda self: self._m.dt, doc="Time step.")
    _TITLE = "the MEDIDA forced jet, computed by medida"


def _steps(tmax, dt):
    """pyqg steps while t < tmax: as many steps as tmax / dt rounded up."""
    number, dt = float(_number("tmax", tmax)), float(_number("dt", dt))
    # A dt that is not > 0 is the config's to name.
    steps = np.ceil(number / dt * (1 - 1e-12)) if dt > 0 else 0
    if not 0 <= steps <= 2**53:
        raise ValueError(f"tmax = {tmax}: allowed 0 to 2^53 steps of dt = {dt}")
    return int(steps)


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: a number, not {type(value).__name__}")
    return repr(float(value))


def _integer(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: a whole number, not {type(value).__name__}")
    return str(int(value))


def _parameterization(q, uv, combined):
    """One callable `f(m) -> dq` (lev, y, x), added to dq/dt, from pyqg's keywords:
    `q_parameterization` (returns dq), `uv_parameterization` (returns (du, dv), which enter as
    their curl, as in pyqg), or `parameterization` (either kind, by its `parameterization_type`,
    as pyqg's parameterization objects declare it)."""
    if combined is not None:
        if q is not None or uv is not None:
            raise ValueError("parameterization: give it, or q_parameterization / uv_parameterization, not both")
        kind = getattr(combined, "parameterization_type", None)
        if kind not in ("q_parameterization", "uv_parameterization"):
            raise TypeError("parameterization: an object with parameterization_type 'q_parameterization' or "
                            "'uv_parameterization' (pyqg's parameterizations)")
        q, uv = (combined, None) if kind == "q_parameterization" else (None, combined)
    for name, f in (("q_parameterization", q), ("uv_parameterization", uv)):
        if f is not None and not callable(f):
            raise TypeError(f"{name}: a callable taking the model, not {type(f).__name__}")
    if q is not None and uv is not None:
        return lambda m: q(m) + _curl(m, *uv(m))
    if uv is not None:
        return lambda m: _curl(m, *uv(m))
    return q


def _curl(m, du, dv):
    """What a velocity tendency (du, dv) adds to dq/dt: its curl, as pyqg computes it."""
    return m.ifft(-m.il * m.fft(du) + m.ik * m.fft(dv))

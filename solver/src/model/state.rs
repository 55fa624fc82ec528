//! The model's state: setting and reading `q`, its spectrum and streamfunction, and the complete
//! state (with the steppers' history) for checkpoints.

use super::kernel::Layer;
use super::{Model, NZ, Prognostic, with_core};
use crate::Complex64;
use crate::error::{SolverError, invalid};
use crate::lanes::all_finite;
use crate::real::{Real, narrow, narrow_complex};
use ndarray::{Array3, ArrayView3, Axis};
use rustfft::num_complex::Complex;
use std::borrow::Cow;

/// Everything needed to continue a run bit for bit: spectral fields in pyqg's `(lev, l, k)` layout.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelState {
    /// Physical PV `q`, `(lev, y, x)`.
    pub q: Array3<f64>,
    /// Spectral PV `q_hat`.
    pub qh: Array3<Complex64>,
    /// Tendencies of the previous two steps (AB3 history).
    pub dqhdt_p: Array3<Complex64>,
    /// See `dqhdt_p`.
    pub dqhdt_pp: Array3<Complex64>,
    /// Leapfrog's previous (filtered) level.
    pub qh_prev: Array3<Complex64>,
    /// Adams-Bashforth level: 0 (next step Euler), 1 (AB2) or 2 (AB3).
    pub ablevel: u8,
    /// Steps taken.
    pub tc: u64,
    /// Model time [s].
    pub t: f64,
}

impl Model {
    /// Sets the PV anomaly `q` [1/s], shape `(2, ny, nx)`. Time stepping restarts with forward Euler.
    pub fn set_q(&mut self, q: ArrayView3<f64>) -> Result<(), SolverError> {
        let g = self.grid();
        let expected = [NZ, g.ny, g.nx];
        if q.shape() != expected {
            return Err(SolverError::Shape {
                name: "q",
                got: q.shape().to_vec(),
                expected: expected.to_vec(),
            });
        }
        if q.iter().any(|v| !v.is_finite()) {
            return Err(invalid("q", "a field with NaN or Inf", "finite values"));
        }
        let range = "finite values in the model's precision (|q| < 3.4e38 in f32)";
        with_core!(&mut self.core, c => {
            let layers: Vec<Vec<_>> = q
                .outer_iter()
                .map(|l| narrow(&l.iter().copied().collect::<Vec<f64>>()))
                .collect();
            if !layers.iter().all(|l| all_finite(l)) {
                return Err(invalid("q", "values beyond the model's precision", range));
            }
            for (layer, q) in c.layers.iter_mut().zip(layers) {
                // pyqg keeps the given q itself rather than irfft2(rfft2(q)).
                layer.q.copy_from_slice(&q);
                let mut buf = q;
                layer.ws.fft.forward(&mut buf, &mut layer.qh);
            }
        });
        self.ablevel = 0;
        Ok(())
    }

    /// pyqg's random initial PV for `seed` ([`crate::init::pyqg_random_q`]: its lower layer is
    /// zero); in a model of uncoupled layers (`rd = inf`, 2-D turbulence) the lower layer is an
    /// independent realization of the same recipe, drawn from `seed + 2^31`, and each layer's
    /// mean is removed (a vorticity on a periodic domain has none).
    pub fn random_q(&self, seed: u32) -> Array3<f64> {
        let mut q = crate::init::pyqg_random_q(self.grid(), seed);
        if self.params().rd.is_infinite() {
            let other = crate::init::pyqg_random_q(self.grid(), seed.wrapping_add(1 << 31));
            q.index_axis_mut(Axis(0), 1)
                .assign(&other.index_axis(Axis(0), 0));
            for mut layer in q.outer_iter_mut() {
                let mean = layer.mean().unwrap_or(0.0);
                layer.mapv_inplace(|v| v - mean);
            }
        }
        q
    }

    /// Sets the random initial condition [`Model::random_q`] for `seed`.
    pub fn set_pyqg_random_q(&mut self, seed: u32) {
        let q = self.random_q(seed);
        self.set_q(q.view())
            .expect("the random IC has the model's shape and is finite");
    }

    /// The PV anomaly `q` [1/s], `(lev, y, x)`.
    pub fn q(&self) -> Array3<f64> {
        let (nx, ny) = (self.grid().nx, self.grid().ny);
        with_core!(&self.core, c => {
            Array3::from_shape_fn((NZ, ny, nx), |(z, j, i)| c.layers[z].q[j * nx + i].wide())
        })
    }

    /// The spectral PV `q_hat`, `(lev, l, k)` in pyqg's layout.
    pub fn qh(&self) -> Array3<Complex64> {
        let qh = self.qh_spectra();
        self.stack_pyqg([&qh[0], &qh[1]])
    }

    /// The streamfunction `psi_hat` of the current `q`, `(lev, l, k)` (pyqg `ph`, but never lagging).
    pub fn ph(&self) -> Array3<Complex64> {
        let psi = self.invert();
        self.stack_pyqg([&psi[0], &psi[1]])
    }

    /// Each layer's `q_hat` (k-major) without an inversion, and in `f64` without a copy: what a
    /// spectrum sampled every step reads.
    pub fn qh_spectra(&self) -> [Cow<'_, [Complex64]>; NZ] {
        with_core!(&self.core, c => c.layers.each_ref().map(|l| Real::widen(&l.qh)))
    }

    /// The current state as the evaluator takes it: `q_hat` and a fresh `psi_hat`, k-major.
    pub fn spectral_state(&self) -> crate::eval::SpectralState {
        crate::eval::SpectralState {
            qh: self.qh_spectra().map(Cow::into_owned),
            ph: self.invert(),
        }
    }

    /// The tendency `dq_hat/dt` of the current state, `(lev, l, k)` (pyqg `dqhdt`).
    pub fn dqhdt(&mut self) -> Array3<Complex64> {
        self.evaluate();
        let d = self.history(|l| &l.dqhdt, |l| &l.dqhdt);
        self.stack_pyqg([&d[0], &d[1]])
    }

    /// The tendency `dq/dt` of the current state in physical space, `(lev, y, x)` (pyqg `dqdt`).
    pub fn dqdt(&mut self) -> Array3<f64> {
        self.evaluate();
        let tendency = self
            .history(|l| &l.dqhdt, |l| &l.dqhdt)
            .map(Cow::into_owned);
        self.to_physical(&tendency)
    }

    /// One spectral array of each layer, in `f64`: `f64` picks it from a double-precision layer,
    /// `f32` from a single-precision one.
    fn history<'a>(
        &'a self,
        double: impl Fn(&'a Layer<f64>) -> &'a [Complex64],
        single: impl Fn(&'a Layer<f32>) -> &'a [Complex<f32>],
    ) -> [Cow<'a, [Complex64]>; NZ] {
        match &self.core {
            Prognostic::F64(c) => c.layers.each_ref().map(|l| Cow::Borrowed(double(l))),
            Prognostic::F32(c) => c.layers.each_ref().map(|l| f32::widen(single(l))),
        }
    }

    /// The complete state, for checkpoints.
    pub fn state(&self) -> ModelState {
        let stack = |d: [Cow<'_, [Complex64]>; NZ]| self.stack_pyqg([&d[0], &d[1]]);
        ModelState {
            q: self.q(),
            qh: self.qh(),
            dqhdt_p: stack(self.history(|l| &l.dqhdt_p, |l| &l.dqhdt_p)),
            dqhdt_pp: stack(self.history(|l| &l.dqhdt_pp, |l| &l.dqhdt_pp)),
            qh_prev: stack(self.history(|l| &l.prev, |l| &l.prev)),
            ablevel: self.ablevel,
            tc: self.tc,
            t: self.t,
        }
    }

    /// Restores a state taken by [`Model::state`] from a model with the same grid.
    pub fn restore(&mut self, s: &ModelState) -> Result<(), SolverError> {
        let g = self.grid().clone();
        let spec = [NZ, g.ny, g.nk()];
        for (name, shape) in [
            ("q", s.q.shape()),
            ("qh", s.qh.shape()),
            ("dqhdt_p", s.dqhdt_p.shape()),
            ("dqhdt_pp", s.dqhdt_pp.shape()),
            ("qh_prev", s.qh_prev.shape()),
        ] {
            let expected: &[usize] = if name == "q" {
                &[NZ, g.ny, g.nx]
            } else {
                &spec
            };
            if shape != expected {
                return Err(SolverError::Shape {
                    name: "state",
                    got: shape.to_vec(),
                    expected: expected.to_vec(),
                });
            }
        }
        if s.ablevel > 2 {
            return Err(invalid("ablevel", s.ablevel, "0, 1 or 2"));
        }
        if !(s.t.is_finite()) {
            return Err(invalid("t", s.t, "a finite model time"));
        }
        let finite = s.q.iter().all(|v| v.is_finite())
            && [&s.qh, &s.dqhdt_p, &s.dqhdt_pp, &s.qh_prev]
                .iter()
                .all(|a| a.iter().all(|z| z.re.is_finite() && z.im.is_finite()));
        if !finite {
            return Err(invalid("state", "arrays with NaN or Inf", "finite values"));
        }
        with_core!(&mut self.core, c => {
            let mut layers = Vec::with_capacity(NZ);
            for lev in 0..NZ {
                let take = |a: &Array3<Complex64>| {
                    narrow_complex(&g.from_pyqg_layout(a.index_axis(Axis(0), lev)))
                };
                let spectra = [&s.qh, &s.dqhdt_p, &s.dqhdt_pp, &s.qh_prev].map(take);
                let q = narrow(&s.q.index_axis(Axis(0), lev).iter().copied().collect::<Vec<_>>());
                if !fits(&q, &spectra) {
                    let range = "values within the model's precision (below 3.4e38 in f32)";
                    return Err(invalid("state", "values beyond the model's precision", range));
                }
                layers.push((q, spectra));
            }
            for (layer, (q, [qh, p, pp, prev])) in c.layers.iter_mut().zip(layers) {
                (layer.q, layer.qh, layer.dqhdt_p, layer.dqhdt_pp, layer.prev) = (q, qh, p, pp, prev);
            }
        });
        (self.ablevel, self.tc, self.t) = (s.ablevel, s.tc, s.t);
        Ok(())
    }

    /// Streamfunction `p` [m^2/s] and anomaly velocities `u`, `v` [m/s] (without the background
    /// flow), `(lev, y, x)` each, from a fresh inversion of the current `q`.
    pub fn p_u_v(&self) -> [Array3<f64>; 3] {
        let psi = self.invert();
        let (u, v) = self.velocities(&psi);
        [self.to_physical(&psi), u, v]
    }

    /// Physical `u = -dpsi/dy`, `v = dpsi/dx` of spectral `psi`.
    pub(crate) fn velocities(&self, psi: &[Vec<Complex64>; NZ]) -> (Array3<f64>, Array3<f64>) {
        let deriv = |f: &dyn Fn(f64, f64) -> Complex64| -> [Vec<Complex64>; NZ] {
            let m = self.grid().spectral_map(f);
            [0, 1].map(|lev| psi[lev].iter().zip(&m).map(|(p, m)| p * m).collect())
        };
        let u = self.to_physical(&deriv(&|_, l| Complex64::new(0.0, -l)));
        let v = self.to_physical(&deriv(&|k, _| Complex64::new(0.0, k)));
        (u, v)
    }

    /// `psi_hat` of the current state, k-major, per layer.
    pub(crate) fn invert(&self) -> [Vec<Complex64>; NZ] {
        let qh = self.qh_spectra();
        self.spectral.invert([&qh[0], &qh[1]])
    }

    /// Physical fields of `spectral` per layer, `(lev, y, x)`.
    pub(crate) fn to_physical(&self, spectral: &[Vec<Complex64>; NZ]) -> Array3<f64> {
        let mut fft = self.spectral.workspace().fft;
        let (nx, ny) = (self.grid().nx, self.grid().ny);
        let mut out = Array3::zeros((NZ, ny, nx));
        let mut buf = vec![0.0; nx * ny];
        for (lev, s) in spectral.iter().enumerate() {
            fft.inverse(s, &mut buf);
            out.index_axis_mut(Axis(0), lev)
                .iter_mut()
                .zip(&buf)
                .for_each(|(d, s)| *d = *s);
        }
        out
    }

    fn stack_pyqg(&self, fields: [&[Complex64]; NZ]) -> Array3<Complex64> {
        let (nl, nk) = (self.grid().nl(), self.grid().nk());
        Array3::from_shape_fn((NZ, nl, nk), |(z, il, ik)| fields[z][ik * nl + il])
    }
}

/// Whether a layer rounded to the model's precision is still finite.
fn fits<T: Real>(q: &[T], spectra: &[Vec<Complex<T>>]) -> bool {
    all_finite(q) && spectra.iter().flatten().all(|z| all_finite(&[z.re, z.im]))
}

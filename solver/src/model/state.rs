//! The model's state: setting and reading `q`, its spectrum and streamfunction, and the complete
//! state (with the steppers' history) for checkpoints.

use super::{Model, NZ};
use crate::Complex64;
use crate::error::{SolverError, invalid};
use ndarray::{Array3, ArrayView3, Axis};

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
        for (lev, layer) in self.layers.iter_mut().enumerate() {
            let mut buf: Vec<f64> = q.index_axis(Axis(0), lev).iter().copied().collect();
            layer.ws.fft.forward(&mut buf, &mut layer.qh);
            // pyqg keeps the given q itself rather than irfft2(rfft2(q)).
            layer
                .q
                .iter_mut()
                .zip(q.index_axis(Axis(0), lev))
                .for_each(|(d, s)| *d = *s);
        }
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
        Array3::from_shape_fn((NZ, ny, nx), |(z, j, i)| self.layers[z].q[j * nx + i])
    }

    /// The spectral PV `q_hat`, `(lev, l, k)` in pyqg's layout.
    pub fn qh(&self) -> Array3<Complex64> {
        self.stack_pyqg([&self.layers[0].qh, &self.layers[1].qh])
    }

    /// The streamfunction `psi_hat` of the current `q`, `(lev, l, k)` (pyqg `ph`, but never lagging).
    pub fn ph(&self) -> Array3<Complex64> {
        let psi = self.invert();
        self.stack_pyqg([&psi[0], &psi[1]])
    }

    /// Each layer's `q_hat` as the model holds it (k-major), without a copy or an inversion: what
    /// a spectrum sampled every step reads.
    pub fn qh_spectra(&self) -> [&[Complex64]; NZ] {
        [&self.layers[0].qh, &self.layers[1].qh]
    }

    /// The current state as the evaluator takes it: `q_hat` and a fresh `psi_hat`, k-major.
    pub fn spectral_state(&self) -> crate::eval::SpectralState {
        crate::eval::SpectralState {
            qh: [self.layers[0].qh.clone(), self.layers[1].qh.clone()],
            ph: self.invert(),
        }
    }

    /// The tendency `dq_hat/dt` of the current state, `(lev, l, k)` (pyqg `dqhdt`).
    pub fn dqhdt(&mut self) -> Array3<Complex64> {
        self.evaluate();
        self.stack_pyqg([&self.layers[0].dqhdt, &self.layers[1].dqhdt])
    }

    /// The tendency `dq/dt` of the current state in physical space, `(lev, y, x)` (pyqg `dqdt`).
    pub fn dqdt(&mut self) -> Array3<f64> {
        self.evaluate();
        let tendency = [self.layers[0].dqhdt.clone(), self.layers[1].dqhdt.clone()];
        self.to_physical(&tendency)
    }

    /// The complete state, for checkpoints.
    pub fn state(&self) -> ModelState {
        let l = &self.layers;
        ModelState {
            q: self.q(),
            qh: self.qh(),
            dqhdt_p: self.stack_pyqg([&l[0].dqhdt_p, &l[1].dqhdt_p]),
            dqhdt_pp: self.stack_pyqg([&l[0].dqhdt_pp, &l[1].dqhdt_pp]),
            qh_prev: self.stack_pyqg([&l[0].prev, &l[1].prev]),
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
        for (lev, layer) in self.layers.iter_mut().enumerate() {
            let take = |a: &Array3<Complex64>| g.from_pyqg_layout(a.index_axis(Axis(0), lev));
            layer.qh = take(&s.qh);
            layer.dqhdt_p = take(&s.dqhdt_p);
            layer.dqhdt_pp = take(&s.dqhdt_pp);
            layer.prev = take(&s.qh_prev);
            layer.q = s.q.index_axis(Axis(0), lev).iter().copied().collect();
        }
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

    /// Spectral PV of layer `lev`, k-major.
    pub(crate) fn layer_qh(&self, lev: usize) -> &[Complex64] {
        &self.layers[lev].qh
    }

    /// `psi_hat` of the current state, k-major, per layer.
    pub(crate) fn invert(&self) -> [Vec<Complex64>; NZ] {
        self.spectral
            .invert([&self.layers[0].qh[..], &self.layers[1].qh[..]])
    }

    /// Physical fields of `spectral` per layer, `(lev, y, x)`.
    pub(crate) fn to_physical(&self, spectral: &[Vec<Complex64>; NZ]) -> Array3<f64> {
        let mut fft = self.layers[0].ws.fft.clone();
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

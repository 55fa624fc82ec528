//! The fused kernel of one layer: tendency from the inversion's streamfunction and the compiled
//! linear part, advection through the toolkit's one Jacobian, the sponge, and the stepper
//! updates, each a single pass over the layer's arrays.

use super::NZ;
use super::compile::Kernel;
use crate::Complex64;
use crate::lanes::all_finite;
use crate::params::Dealias;
use crate::spectral::{Spectral, Speeds, Workspace};

/// `lin - c (ik uqh + il vqh)` at one wavenumber; `c = 1` skips the multiplication (pyqg's form).
#[inline(always)]
fn tendency_at(
    lin: Complex64,
    k: f64,
    l: f64,
    uqh: Complex64,
    vqh: Complex64,
    c: f64,
) -> Complex64 {
    let adv = Complex64::new(k * uqh.im + l * vqh.im, -(k * uqh.re + l * vqh.re));
    if c == 1.0 { lin + adv } else { lin + adv * c }
}

impl Kernel {
    /// Phase one of a step, for layer `lev`: `psi_hat = a q_hat` (the arithmetic of
    /// [`crate::inversion::Inversion::invert_layer`]) and the linear tendency, in one pass.
    /// Reads both layers' `q_hat`, so it runs before either layer updates.
    pub(crate) fn invert_and_linear(
        &self,
        spectral: &Spectral,
        lev: usize,
        qh: [&[Complex64]; NZ],
        ph: &mut [Complex64],
        lin: &mut [Complex64],
    ) {
        let n = ph.len();
        let [a0, a1] = &spectral.inversion().a[lev];
        let [b0, b1] = &self.linear_on_q[lev];
        let (a0, a1, b0, b1, q0, q1, lin) = (
            &a0[..n],
            &a1[..n],
            &b0[..n],
            &b1[..n],
            &qh[0][..n],
            &qh[1][..n],
            &mut lin[..n],
        );
        for i in 0..n {
            let (q0, q1) = (q0[i], q1[i]);
            ph[i] = q0 * a0[i] + q1 * a1[i];
            lin[i] = b0[i] * q0 + b1[i] * q1;
        }
        if let Some(f) = &self.forcing[lev] {
            lin.iter_mut().zip(f).for_each(|(l, f)| *l += f);
        }
    }
}

/// One layer's prognostic state, tendency history and scratch.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// PV anomaly, spectral (k-major).
    pub qh: Vec<Complex64>,
    /// PV anomaly, physical `(ny, nx)`; always `irfft2(qh)` (or the `q` given to `set_q`).
    pub q: Vec<f64>,
    /// Tendency at the current step, and the two before.
    pub dqhdt: Vec<Complex64>,
    pub dqhdt_p: Vec<Complex64>,
    pub dqhdt_pp: Vec<Complex64>,
    pub ws: Workspace,
    /// Spectral fluxes `FFT(u q)`, `FFT(v q)`.
    uqh: Vec<Complex64>,
    vqh: Vec<Complex64>,
    /// Linear tendency minus the sponge, when a sponge is present.
    damped: Vec<Complex64>,
    /// Leapfrog: the (Robert-Asselin filtered) previous level. RK4: the level at the step's start.
    pub prev: Vec<Complex64>,
    /// RK4: the weighted sum of the stage tendencies.
    acc: Vec<Complex64>,
}

impl Layer {
    pub(crate) fn new(spectral: &Spectral) -> Self {
        let grid = spectral.grid();
        let (ns, np) = (grid.n_spec(), grid.n_phys());
        let zc = || vec![Complex64::default(); ns];
        Self {
            qh: zc(),
            q: vec![0.0; np],
            dqhdt: zc(),
            dqhdt_p: zc(),
            dqhdt_pp: zc(),
            ws: spectral.workspace(),
            uqh: zc(),
            vqh: zc(),
            damped: zc(),
            prev: zc(),
            acc: zc(),
        }
    }

    /// Phase two of a step for layer `lev`: the tendency `dqhdt = lin - c_J (ik FFT(u q) + il FFT(v q))`
    /// and, with `dts = Some([dt1, dt2, dt3])`, the filtered AB update, history shift and
    /// `q = irfft2(qh)`. Returns the advecting speeds and whether the new `q` is finite.
    pub(crate) fn tendency_and_update(
        &mut self,
        lev: usize,
        ph: &[Complex64],
        lin: &[Complex64],
        kernel: &Kernel,
        spectral: &Spectral,
        dts: Option<[f64; 3]>,
    ) -> (Speeds, bool) {
        let c = kernel.c_j[lev];
        let ubg = kernel.ubg[lev];
        let speeds = if c != 0.0 {
            // The padded (3/2) products take q from its spectrum; the plain ones from q itself.
            let q = (spectral.dealias() != Dealias::ThreeHalves).then_some(&self.q[..]);
            spectral.fluxes(
                &mut self.ws,
                ph,
                &self.qh,
                q,
                ubg,
                &mut self.uqh,
                &mut self.vqh,
            )
        } else {
            Speeds {
                u: ubg.abs(),
                v: 0.0,
            }
        };
        let lin = match &kernel.sponge[lev] {
            Some(s) => {
                self.sponge(s, lin);
                &self.damped[..]
            }
            None => lin,
        };
        // Column by column (k-major): `k` is the column's, `l` the same in every column, so
        // neither is read as a whole array. Equal-length slices drop the bounds checks.
        let nl = spectral.grid().nl();
        let (k, l_col) = (spectral.k(), &spectral.l()[..nl]);
        let filtr = &kernel.filtr[lev];
        let Self {
            qh,
            q,
            dqhdt,
            dqhdt_p,
            dqhdt_pp,
            ws,
            uqh,
            vqh,
            ..
        } = self;
        let column = |ik: usize| ik * nl..(ik + 1) * nl;
        let Some([dt1, dt2, dt3]) = dts else {
            for (ik, d) in dqhdt.chunks_exact_mut(nl).enumerate() {
                let (kk, r) = (k[ik * nl], column(ik));
                let (lin, uqh, vqh) = (&lin[r.clone()], &uqh[r.clone()], &vqh[r]);
                for il in 0..nl {
                    d[il] = tendency_at(lin[il], kk, l_col[il], uqh[il], vqh[il], c);
                }
            }
            return (speeds, true);
        };
        // The update writes q_hat and, scaled, the inverse transform's input (as `Fft2::inverse`
        // would): q_hat is swept once.
        let norm = ws.fft.inverse_norm();
        ws.fft.inverse_with(
            |cols| {
                for (ik, cols) in cols.chunks_exact_mut(nl).enumerate() {
                    let (kk, r) = (k[ik * nl], column(ik));
                    let (lin, uqh, vqh, filtr) = (
                        &lin[r.clone()],
                        &uqh[r.clone()],
                        &vqh[r.clone()],
                        &filtr[r.clone()],
                    );
                    let (qh, d, np, npp) = (
                        &mut qh[r.clone()],
                        &mut dqhdt[r.clone()],
                        &dqhdt_p[r.clone()],
                        &dqhdt_pp[r],
                    );
                    for il in 0..nl {
                        let tend = tendency_at(lin[il], kk, l_col[il], uqh[il], vqh[il], c);
                        d[il] = tend;
                        let new = (qh[il] + tend * dt1 + np[il] * dt2 + npp[il] * dt3) * filtr[il];
                        qh[il] = new;
                        cols[il] = new * norm;
                    }
                }
            },
            q,
        );
        let finite = all_finite(q);
        self.rotate_history();
        (speeds, finite)
    }

    /// The filtered AB update from the tendency already in `dqhdt` (the same arithmetic as the
    /// fused update of [`Layer::tendency_and_update`]), history shift and `q = irfft2(qh)`.
    /// Returns whether the new `q` is finite.
    pub(crate) fn ab_update(&mut self, [dt1, dt2, dt3]: [f64; 3], filtr: &[f64]) -> bool {
        let n = self.qh.len();
        let (qh, d, np, npp, filtr) = (
            &mut self.qh[..n],
            &self.dqhdt[..n],
            &self.dqhdt_p[..n],
            &self.dqhdt_pp[..n],
            &filtr[..n],
        );
        for idx in 0..n {
            qh[idx] = (qh[idx] + d[idx] * dt1 + np[idx] * dt2 + npp[idx] * dt3) * filtr[idx];
        }
        self.shift_history()
    }

    /// `dqhdt_pp <- dqhdt_p <- dqhdt`, then `q = irfft2(qh)`; whether `q` is finite.
    fn shift_history(&mut self) -> bool {
        self.rotate_history();
        self.ws.fft.inverse(&self.qh, &mut self.q);
        all_finite(&self.q)
    }

    /// `dqhdt_pp <- dqhdt_p <- dqhdt` (the oldest becomes scratch for the next tendency).
    fn rotate_history(&mut self) {
        std::mem::swap(&mut self.dqhdt_pp, &mut self.dqhdt_p);
        std::mem::swap(&mut self.dqhdt_p, &mut self.dqhdt);
    }

    /// RK4 stage: `acc += w dqhdt`, then the next stage `qh = prev + h dqhdt`, or with
    /// `finish = Some((dt, filtr))` the step's end `qh = filtr (prev + dt acc)`; and `q = irfft2(qh)`.
    pub(crate) fn rk4_stage(&mut self, h: f64, w: f64, finish: Option<(f64, &[f64])>) {
        for ((a, d), (q, p)) in self
            .acc
            .iter_mut()
            .zip(&self.dqhdt)
            .zip(self.qh.iter_mut().zip(&self.prev))
        {
            *a += d * w;
            *q = p + d * h;
        }
        if let Some((dt, filtr)) = finish {
            for (((q, p), a), f) in self.qh.iter_mut().zip(&self.prev).zip(&self.acc).zip(filtr) {
                *q = (p + a * dt) * f;
            }
        }
        self.ws.fft.inverse(&self.qh, &mut self.q);
    }

    /// Starts an RK4 step: remembers the level and clears the stage sum.
    pub(crate) fn rk4_start(&mut self) {
        self.prev.copy_from_slice(&self.qh);
        self.acc.fill(Complex64::default());
    }

    /// Leapfrog step from the tendency in `dqhdt`: forward Euler on the first step, else
    /// `q^(n+1) = filtr_2dt (q^(n-1) + 2 dt N^n)` and the Robert-Asselin filter
    /// `q^n <- q^n + g (q^(n+1) - 2 q^n + q^(n-1))`, kept as the next step's `q^(n-1)`.
    /// Returns whether the new `q` is finite.
    pub(crate) fn leapfrog(
        &mut self,
        dt: f64,
        g: f64,
        euler: bool,
        filtr: &[f64],
        filtr_2dt: &[f64],
    ) -> bool {
        if euler {
            for (((q, p), d), f) in self
                .qh
                .iter_mut()
                .zip(self.prev.iter_mut())
                .zip(&self.dqhdt)
                .zip(filtr)
            {
                *p = *q;
                *q = (*q + d * dt) * f;
            }
        } else {
            for (((q, p), d), f) in self
                .qh
                .iter_mut()
                .zip(self.prev.iter_mut())
                .zip(&self.dqhdt)
                .zip(filtr_2dt)
            {
                let new = (*p + d * (2.0 * dt)) * f;
                *p = *q + (new - *q * 2.0 + *p) * g;
                *q = new;
            }
        }
        self.ws.fft.inverse(&self.qh, &mut self.q);
        all_finite(&self.q)
    }

    /// `damped = lin - FFT(s(y) (q - <q>_x))`; uses the workspace's `u` as scratch (free after
    /// the fluxes).
    fn sponge(&mut self, s: &[f64], lin: &[Complex64]) {
        let nx = self.q.len() / s.len();
        for ((row, out), &sj) in self
            .q
            .chunks_exact(nx)
            .zip(self.ws.u.chunks_exact_mut(nx))
            .zip(s)
        {
            let mean = row.iter().sum::<f64>() / nx as f64;
            out.iter_mut()
                .zip(row)
                .for_each(|(o, q)| *o = sj * (q - mean));
        }
        self.ws.fft.forward(&mut self.ws.u, &mut self.damped);
        self.damped
            .iter_mut()
            .zip(lin)
            .for_each(|(d, l)| *d = l - *d);
    }
}

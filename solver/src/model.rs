//! The two-layer QG model: state, terms with coefficients, and its time steppers (pyqg's AB3 by
//! default; leapfrog with a Robert-Asselin filter; classical RK4).
//!
//! One step (pyqg `_step_forward`): invert `psi_hat = a q_hat`; per layer, velocities to physical
//! space, flux-form advection, the fused linear terms, then
//! `q_hat <- filtr (q_hat + dt (c1 N + c2 N_prev + c3 N_prev2))` with Euler, AB2, then AB3
//! coefficients, and `q = irfft2(q_hat)`. Ten single-layer real FFTs per step.
//!
//! Threading: after the inversion the two layers are independent, so they run in parallel on the
//! ambient rayon pool. Each layer's arithmetic is the same whatever the thread count, so results
//! are identical byte for byte at any number of threads.

use crate::Complex64;
use crate::dealias::{Padded, two_thirds_mask};
use crate::error::{SolverError, invalid};
use crate::fft::{Fft2, FftPlans};
use crate::filter::exponential_filter;
use crate::grid::Grid;
use crate::inversion::Inversion;
use crate::params::{Dealias, QgParams, Stepper};
use crate::term::{External, LinearTendency, Term, TermKind};
use ndarray::{Array3, ArrayView3};
use rayon::prelude::*;

/// Number of layers.
pub const NZ: usize = 2;

/// Adams-Bashforth weights `(c1, c2, c3)` for the given level (0: Euler, 1: AB2, 2+: AB3).
fn ab_weights(ablevel: u8) -> [f64; 3] {
    match ablevel {
        0 => [1.0, 0.0, 0.0],
        1 => [1.5, -0.5, 0.0],
        _ => [23.0 / 12.0, -16.0 / 12.0, 5.0 / 12.0],
    }
}

/// Spectral operators shared read-only by both layers during a step.
#[derive(Debug, Clone)]
struct Operators {
    /// `k` at each k-major spectral index.
    k: Vec<f64>,
    /// `l` at each k-major spectral index.
    l: Vec<f64>,
    inversion: Inversion,
    /// Multiplies the whole update: pyqg's exponential filter, divided by `1 + dt nu (k^8 + l^8)`
    /// for implicit hyperviscosity.
    filtr: Vec<f64>,
    /// The same for an update over `2 dt` (leapfrog).
    filtr_2dt: Vec<f64>,
    /// State-independent forcing per layer (from the jet forcing), k-major.
    forcing: [Option<Vec<Complex64>>; NZ],
    /// Sponge profile `s(y)` times its coefficient, one value per row (when a sponge is present).
    sponge: Option<Vec<f64>>,
    /// The 2/3 rule's mask on the advection products (with `Dealias::TwoThirds`).
    dealias_mask: Option<Vec<f64>>,
    /// Every linear term as multipliers of `q_hat`: `b[i][k]` (see [`LinearTendency::through_inversion`]).
    linear_on_q: [[Vec<Complex64>; NZ]; NZ],
    /// Coefficient of the advection term (0 when absent).
    c_j: f64,
    /// Background flow per layer, from the mean-flow-advection terms (for the CFL number).
    ubg: [f64; NZ],
    /// Terms evaluated by outside code, with their coefficients, added to the linear tendency.
    external: Vec<(External, f64)>,
}

impl Operators {
    /// Phase one of a step, for layer `lev`: `psi_hat = a q_hat` and the linear tendency.
    /// Reads both layers' `q_hat`, so it runs before either layer updates.
    fn invert_and_linear(
        &self,
        lev: usize,
        qh: [&[Complex64]; NZ],
        ph: &mut [Complex64],
        lin: &mut [Complex64],
    ) {
        self.inversion.invert_layer(lev, qh, ph);
        let [b0, b1] = &self.linear_on_q[lev];
        for ((((l, b0), b1), q0), q1) in lin.iter_mut().zip(b0).zip(b1).zip(qh[0]).zip(qh[1]) {
            *l = b0 * q0 + b1 * q1;
        }
        if let Some(f) = &self.forcing[lev] {
            lin.iter_mut().zip(f).for_each(|(l, f)| *l += f);
        }
    }
}

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

/// One layer's prognostic state, tendency history and scratch.
#[derive(Debug, Clone)]
struct Layer {
    /// PV anomaly, spectral (k-major).
    qh: Vec<Complex64>,
    /// PV anomaly, physical `(ny, nx)`; always `irfft2(qh)`.
    q: Vec<f64>,
    /// Tendency at the current step, and the two before.
    dqhdt: Vec<Complex64>,
    dqhdt_p: Vec<Complex64>,
    dqhdt_pp: Vec<Complex64>,
    fft: Fft2,
    /// Spectral fluxes `FFT(u q)`, `FFT(v q)`.
    uqh: Vec<Complex64>,
    vqh: Vec<Complex64>,
    /// Linear tendency minus the sponge, when a sponge is present.
    damped: Vec<Complex64>,
    /// Leapfrog: the (Robert-Asselin filtered) previous level. RK4: the level at the step's start.
    prev: Vec<Complex64>,
    /// RK4: the weighted sum of the stage tendencies.
    acc: Vec<Complex64>,
    /// The 3/2 rule's padded transforms (with `Dealias::ThreeHalves`).
    padded: Option<Padded>,
    /// Physical velocities, then fluxes.
    u: Vec<f64>,
    v: Vec<f64>,
}

/// Largest speeds seen while computing a tendency: `max |u + U|`, `max |v|`.
#[derive(Debug, Clone, Copy, Default)]
struct Speeds {
    u: f64,
    v: f64,
}

impl Layer {
    fn new(grid: &Grid, plans: FftPlans, dealias: Dealias) -> Self {
        let (ns, np) = (grid.n_spec(), grid.n_phys());
        let zc = || vec![Complex64::default(); ns];
        Self {
            qh: zc(),
            q: vec![0.0; np],
            dqhdt: zc(),
            dqhdt_p: zc(),
            dqhdt_pp: zc(),
            fft: Fft2::new(plans),
            uqh: zc(),
            damped: zc(),
            prev: zc(),
            acc: zc(),
            padded: (dealias == Dealias::ThreeHalves).then(|| Padded::new(grid)),
            vqh: zc(),
            u: vec![0.0; np],
            v: vec![0.0; np],
        }
    }

    /// Phase two of a step for layer `lev`: the tendency `dqhdt = lin - c_J (ik FFT(u q) + il FFT(v q))`
    /// and, with `dts = Some([dt1, dt2, dt3])`, the filtered AB update, history shift and
    /// `q = irfft2(qh)`. Returns the advecting speeds and whether the new `q` is finite.
    fn tendency_and_update(
        &mut self,
        lev: usize,
        ph: &[Complex64],
        lin: &[Complex64],
        ops: &Operators,
        dts: Option<[f64; 3]>,
    ) -> (Speeds, bool) {
        let advect = ops.c_j != 0.0;
        let speeds = if advect {
            self.fluxes(ph, ops, ops.ubg[lev])
        } else {
            Speeds {
                u: ops.ubg[lev].abs(),
                v: 0.0,
            }
        };
        let lin = match &ops.sponge {
            Some(s) => {
                self.sponge(s, lin);
                &self.damped[..]
            }
            None => lin,
        };
        // Equal-length slices let the compiler drop bounds checks in the loops below.
        let n = self.qh.len();
        let (k, l, filtr, lin) = (&ops.k[..n], &ops.l[..n], &ops.filtr[..n], &lin[..n]);
        let (uqh, vqh) = (&self.uqh[..n], &self.vqh[..n]);
        let c = if advect { ops.c_j } else { 0.0 };
        let Some([dt1, dt2, dt3]) = dts else {
            for (idx, d) in self.dqhdt[..n].iter_mut().enumerate() {
                *d = tendency_at(lin[idx], k[idx], l[idx], uqh[idx], vqh[idx], c);
            }
            return (speeds, true);
        };
        let (qh, d, np, npp) = (
            &mut self.qh[..n],
            &mut self.dqhdt[..n],
            &self.dqhdt_p[..n],
            &self.dqhdt_pp[..n],
        );
        for idx in 0..n {
            let tend = tendency_at(lin[idx], k[idx], l[idx], uqh[idx], vqh[idx], c);
            d[idx] = tend;
            qh[idx] = (qh[idx] + tend * dt1 + np[idx] * dt2 + npp[idx] * dt3) * filtr[idx];
        }
        std::mem::swap(&mut self.dqhdt_pp, &mut self.dqhdt_p);
        std::mem::swap(&mut self.dqhdt_p, &mut self.dqhdt);
        self.fft.inverse(&self.qh, &mut self.q);
        (speeds, self.q.iter().sum::<f64>().is_finite())
    }

    /// RK4 stage: `acc += w dqhdt`, then the next stage `qh = prev + h dqhdt`, or with
    /// `finish = Some((dt, filtr))` the step's end `qh = filtr (prev + dt acc)`; and `q = irfft2(qh)`.
    fn rk4_stage(&mut self, h: f64, w: f64, finish: Option<(f64, &[f64])>) {
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
        self.fft.inverse(&self.qh, &mut self.q);
    }

    /// Leapfrog step from the tendency in `dqhdt`: forward Euler on the first step, else
    /// `q^(n+1) = filtr_2dt (q^(n-1) + 2 dt N^n)` and the Robert-Asselin filter
    /// `q^n <- q^n + g (q^(n+1) - 2 q^n + q^(n-1))`, kept as the next step's `q^(n-1)`.
    /// Returns whether the new `q` is finite.
    fn leapfrog(&mut self, dt: f64, g: f64, euler: bool, ops: &Operators) -> bool {
        if euler {
            for (((q, p), d), f) in self
                .qh
                .iter_mut()
                .zip(self.prev.iter_mut())
                .zip(&self.dqhdt)
                .zip(&ops.filtr)
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
                .zip(&ops.filtr_2dt)
            {
                let new = (*p + d * (2.0 * dt)) * f;
                *p = *q + (new - *q * 2.0 + *p) * g;
                *q = new;
            }
        }
        self.fft.inverse(&self.qh, &mut self.q);
        self.q.iter().sum::<f64>().is_finite()
    }

    /// `damped = lin - FFT(s(y) (q - <q>_x))`; uses `u` as scratch (free after the fluxes).
    fn sponge(&mut self, s: &[f64], lin: &[Complex64]) {
        let nx = self.q.len() / s.len();
        for ((row, out), &sj) in self
            .q
            .chunks_exact(nx)
            .zip(self.u.chunks_exact_mut(nx))
            .zip(s)
        {
            let mean = row.iter().sum::<f64>() / nx as f64;
            out.iter_mut()
                .zip(row)
                .for_each(|(o, q)| *o = sj * (q - mean));
        }
        self.fft.forward(&mut self.u, &mut self.damped);
        self.damped
            .iter_mut()
            .zip(lin)
            .for_each(|(d, l)| *d = l - *d);
    }

    /// `uqh = FFT(u q)`, `vqh = FFT(v q)` with `u = irfft2(-i l ph)`, `v = irfft2(i k ph)`.
    /// `ubg` is the layer's background flow, counted in the returned speeds only.
    fn fluxes(&mut self, ph: &[Complex64], ops: &Operators, ubg: f64) -> Speeds {
        if let Some(padded) = self.padded.as_mut() {
            let (u, v) = padded.fluxes(
                ph,
                &self.qh,
                &ops.k,
                &ops.l,
                ubg,
                &mut self.uqh,
                &mut self.vqh,
            );
            return Speeds { u, v };
        }
        let norm = self.fft.inverse_norm();
        let (k, l) = (&ops.k, &ops.l);
        self.fft.inverse_with(
            |uh| {
                uh.iter_mut()
                    .zip(ph)
                    .zip(l)
                    .for_each(|((u, p), &l)| *u = Complex64::new(l * p.im, -l * p.re) * norm)
            },
            &mut self.u,
        );
        self.fft.inverse_with(
            |vh| {
                vh.iter_mut()
                    .zip(ph)
                    .zip(k)
                    .for_each(|((v, p), &k)| *v = Complex64::new(-k * p.im, k * p.re) * norm)
            },
            &mut self.v,
        );
        // q is finite (checked after every update and by set_q), so u and v are too: a plain max suffices.
        let (mut umax, mut vmax) = (0.0f64, 0.0f64);
        for ((u, v), &q) in self.u.iter_mut().zip(self.v.iter_mut()).zip(&self.q) {
            let (su, sv) = ((*u + ubg).abs(), v.abs());
            umax = if su > umax { su } else { umax };
            vmax = if sv > vmax { sv } else { vmax };
            *u *= q;
            *v *= q;
        }
        self.fft.forward(&mut self.u, &mut self.uqh);
        self.fft.forward(&mut self.v, &mut self.vqh);
        if let Some(mask) = &ops.dealias_mask {
            for ((u, v), m) in self.uqh.iter_mut().zip(self.vqh.iter_mut()).zip(mask) {
                *u *= m;
                *v *= m;
            }
        }
        Speeds { u: umax, v: vmax }
    }
}

/// The two-layer QG model.
#[derive(Debug, Clone)]
pub struct Model {
    params: QgParams,
    grid: Grid,
    terms: Vec<Term>,
    ops: Operators,
    layers: [Layer; NZ],
    /// Streamfunction and linear tendency of the current step (phase one's output).
    ph: [Vec<Complex64>; NZ],
    lin: [Vec<Complex64>; NZ],
    ablevel: u8,
    tc: u64,
    t: f64,
}

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

/// A term's coefficient must be finite; the error names the term.
fn check_coefficient(name: &str, value: f64) -> Result<(), SolverError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(invalid(
            "coefficient",
            format!("{value} for term `{name}`"),
            "a finite number",
        ))
    }
}

/// pyqg's terms for `params`, each with its truth coefficient.
pub fn pyqg_terms(params: &QgParams) -> Vec<Term> {
    vec![
        Term::new(TermKind::Advection, 1.0),
        Term::new(TermKind::MeanFlowAdvection { lev: 0 }, params.U1),
        Term::new(TermKind::MeanFlowAdvection { lev: 1 }, params.U2),
        Term::new(TermKind::Beta, params.beta),
        Term::new(
            TermKind::ShearPvGradient {
                f1: params.f1(),
                f2: params.f2(),
            },
            params.U1 - params.U2,
        ),
        Term::new(TermKind::BottomDrag, params.rek),
    ]
}

impl Model {
    /// The pyqg model for `params`, with `q = 0`. Use [`Model::set_q`] or
    /// [`Model::set_pyqg_random_q`] to give it a state.
    pub fn new(params: QgParams) -> Result<Self, SolverError> {
        let terms = pyqg_terms(&params);
        Self::with_terms(params, terms)
    }

    /// A model whose tendency is the sum of `terms`; `params` gives the grid, `dt`, the
    /// inversion (`rd`, `delta`) and the filter.
    pub fn with_terms(params: QgParams, terms: Vec<Term>) -> Result<Self, SolverError> {
        params.validate()?;
        for t in &terms {
            check_coefficient(&t.name(), t.coefficient)?;
        }
        let grid = params.grid()?;
        for t in &terms {
            let (len, want) = match &t.kind {
                TermKind::Sponge { profile } => (profile.len(), grid.ny),
                TermKind::JetForcing { psi_r_hat } => (psi_r_hat.len(), grid.n_spec()),
                _ => continue,
            };
            if len != want {
                return Err(SolverError::Shape {
                    name: "term data",
                    got: vec![len],
                    expected: vec![want],
                });
            }
        }
        let plans = FftPlans::new(&grid);
        let ops = Operators {
            k: grid.spectral_map(|k, _| k),
            l: grid.spectral_map(|_, l| l),
            inversion: Inversion::new(&grid, params.f1(), params.f2()),
            filtr: Vec::new(),
            filtr_2dt: Vec::new(),
            forcing: Default::default(),
            sponge: None,
            dealias_mask: (params.dealias == Dealias::TwoThirds).then(|| two_thirds_mask(&grid)),
            linear_on_q: Default::default(),
            c_j: 0.0,
            ubg: [0.0; NZ],
            external: Vec::new(),
        };
        let layers = [
            Layer::new(&grid, plans.clone(), params.dealias),
            Layer::new(&grid, plans, params.dealias),
        ];
        let zeros = vec![Complex64::default(); grid.n_spec()];
        let ph = [zeros.clone(), zeros.clone()];
        let lin = [zeros.clone(), zeros];
        let mut model = Self {
            params,
            grid,
            terms,
            ops,
            layers,
            ph,
            lin,
            ablevel: 0,
            tc: 0,
            t: 0.0,
        };
        model.fuse_terms();
        Ok(model)
    }

    /// Rebuilds the fused operators after the term set changed.
    fn fuse_terms(&mut self) {
        let linear = LinearTendency::fuse(&self.terms, &self.grid);
        self.ops.linear_on_q = linear.through_inversion(&self.ops.inversion);
        self.ops.forcing = linear.constant;
        let exp_filter = exponential_filter(&self.grid, self.params.filterfac);
        let mut nu_k8 = vec![0.0; exp_filter.len()];
        let mut sponge: Option<Vec<f64>> = None;
        for t in self.terms.iter().filter(|t| t.coefficient != 0.0) {
            match &t.kind {
                TermKind::Hyperviscosity => {
                    let k8 = self.grid.spectral_map(|k, l| k.powi(8) + l.powi(8));
                    nu_k8
                        .iter_mut()
                        .zip(&k8)
                        .for_each(|(a, k8)| *a += t.coefficient * k8);
                }
                TermKind::Sponge { profile } => {
                    let acc = sponge.get_or_insert_with(|| vec![0.0; profile.len()]);
                    acc.iter_mut()
                        .zip(profile)
                        .for_each(|(a, s)| *a += t.coefficient * s);
                }
                _ => {}
            }
        }
        // Implicit hyperviscosity: the update over h is divided by 1 + h nu (k^8 + l^8).
        let damping = |h: f64| -> Vec<f64> {
            exp_filter
                .iter()
                .zip(&nu_k8)
                .map(|(f, nk)| if *nk == 0.0 { *f } else { f / (1.0 + h * nk) })
                .collect()
        };
        self.ops.filtr = damping(self.params.dt);
        self.ops.filtr_2dt = damping(2.0 * self.params.dt);
        self.ops.sponge = sponge;
        self.ops.c_j = self
            .terms
            .iter()
            .filter(|t| t.kind == TermKind::Advection)
            .map(|t| t.coefficient)
            .sum();
        self.ops.external = self
            .terms
            .iter()
            .filter(|t| t.coefficient != 0.0)
            .filter_map(|t| match &t.kind {
                TermKind::External(e) => Some((e.clone(), t.coefficient)),
                _ => None,
            })
            .collect();
        self.ops.ubg = [0.0; NZ];
        for t in &self.terms {
            if let TermKind::MeanFlowAdvection { lev } = t.kind {
                self.ops.ubg[lev] += t.coefficient;
            }
        }
    }

    /// The parameters.
    pub fn params(&self) -> &QgParams {
        &self.params
    }
    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// The terms of the tendency with their coefficients.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }
    /// Steps taken (pyqg `tc`).
    pub fn tc(&self) -> u64 {
        self.tc
    }
    /// Model time [s] (pyqg `t`).
    pub fn t(&self) -> f64 {
        self.t
    }
    /// The exponential filter, in pyqg's `(nl, nk)` layout.
    pub fn filtr(&self) -> ndarray::Array2<f64> {
        let view =
            ndarray::ArrayView2::from_shape((self.grid.nk(), self.grid.nl()), &self.ops.filtr)
                .expect("filter size");
        view.t().to_owned()
    }

    /// Adds a term (with its coefficient) to the tendency; its name must be new.
    pub fn add_term(&mut self, term: Term) -> Result<(), SolverError> {
        check_coefficient(&term.name(), term.coefficient)?;
        if self.terms.iter().any(|t| t.name() == term.name()) {
            return Err(invalid(
                "term",
                term.name(),
                "a name that is not already one of the model's terms",
            ));
        }
        self.terms.push(term);
        self.fuse_terms();
        Ok(())
    }

    /// Sets the coefficient of the term called `name` (see [`Term::name`]).
    pub fn set_coefficient(&mut self, name: &str, value: f64) -> Result<(), SolverError> {
        check_coefficient(name, value)?;
        let term = self
            .terms
            .iter_mut()
            .find(|t| t.name() == name)
            .ok_or_else(|| SolverError::InvalidParameter {
                name: "term",
                value: name.to_string(),
                allowed: "the name of one of the model's terms (Model::terms)",
            })?;
        term.coefficient = value;
        self.fuse_terms();
        Ok(())
    }

    /// Sets the PV anomaly `q` [1/s], shape `(2, ny, nx)`. Time stepping restarts with forward Euler.
    pub fn set_q(&mut self, q: ArrayView3<f64>) -> Result<(), SolverError> {
        let expected = [NZ, self.grid.ny, self.grid.nx];
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
            let mut buf: Vec<f64> = q
                .index_axis(ndarray::Axis(0), lev)
                .iter()
                .copied()
                .collect();
            layer.fft.forward(&mut buf, &mut layer.qh);
            // pyqg keeps the given q itself rather than irfft2(rfft2(q)).
            layer
                .q
                .iter_mut()
                .zip(q.index_axis(ndarray::Axis(0), lev))
                .for_each(|(d, s)| *d = *s);
        }
        self.ablevel = 0;
        Ok(())
    }

    /// Sets pyqg's random initial condition for `seed` (see [`crate::init::pyqg_random_q`]).
    pub fn set_pyqg_random_q(&mut self, seed: u32) {
        let q = crate::init::pyqg_random_q(&self.grid, seed);
        self.set_q(q.view())
            .expect("the random IC has the model's shape and is finite");
    }

    /// The PV anomaly `q` [1/s], `(lev, y, x)`.
    pub fn q(&self) -> Array3<f64> {
        let (nx, ny) = (self.grid.nx, self.grid.ny);
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

    /// The tendency of the current state into each layer's `dqhdt`; the speeds that advect it.
    fn evaluate(&mut self) -> [Speeds; NZ] {
        self.phase_one();
        let (ph, lin, ops) = (&self.ph, &self.lin, &self.ops);
        let mut speeds = [Speeds::default(); NZ];
        self.layers
            .par_iter_mut()
            .zip(speeds.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, s))| {
                *s = layer
                    .tendency_and_update(lev, &ph[lev], &lin[lev], ops, None)
                    .0;
            });
        speeds
    }

    /// One classical RK4 step; the update is multiplied by `filtr` (filter, implicit hyperviscosity).
    fn step_rk4(&mut self) -> ([Speeds; NZ], bool) {
        let dt = self.params.dt;
        for layer in &mut self.layers {
            layer.prev.copy_from_slice(&layer.qh);
            layer.acc.fill(Complex64::default());
        }
        let mut first = [Speeds::default(); NZ];
        for (stage, (a, w)) in [
            (0.5, 1.0 / 6.0),
            (0.5, 2.0 / 6.0),
            (1.0, 2.0 / 6.0),
            (0.0, 1.0 / 6.0),
        ]
        .into_iter()
        .enumerate()
        {
            let speeds = self.evaluate();
            if stage == 0 {
                first = speeds;
            }
            let finish = (stage == 3).then_some((dt, &self.ops.filtr[..]));
            self.layers
                .par_iter_mut()
                .for_each(|layer| layer.rk4_stage(a * dt, w, finish));
        }
        (
            first,
            self.layers
                .iter()
                .all(|l| l.q.iter().sum::<f64>().is_finite()),
        )
    }

    /// One leapfrog step with the Robert-Asselin filter (Euler on the first step).
    fn step_leapfrog(&mut self) -> ([Speeds; NZ], bool) {
        let speeds = self.evaluate();
        let (dt, g, euler, ops) = (
            self.params.dt,
            self.params.robert_asselin,
            self.ablevel == 0,
            &self.ops,
        );
        let mut finite = [true; NZ];
        self.layers
            .par_iter_mut()
            .zip(finite.par_iter_mut())
            .for_each(|(layer, f)| *f = layer.leapfrog(dt, g, euler, ops));
        (speeds, finite.iter().all(|f| *f))
    }

    /// Inversion and linear tendency of both layers, in parallel.
    fn phase_one(&mut self) {
        let (layers, ops) = (&self.layers, &self.ops);
        let qh = [&layers[0].qh[..], &layers[1].qh[..]];
        self.ph
            .par_iter_mut()
            .zip(self.lin.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (ph, lin))| {
                ops.invert_and_linear(lev, qh, ph, lin);
            });
        let [lin0, lin1] = &mut self.lin;
        for (e, c) in &ops.external {
            e.0.add_tendency(qh, [&self.ph[0], &self.ph[1]], *c, [lin0, lin1]);
        }
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
        let (nx, ny, nk) = (self.grid.nx, self.grid.ny, self.grid.nk());
        let spec = [NZ, ny, nk];
        for (name, shape) in [
            ("q", s.q.shape()),
            ("qh", s.qh.shape()),
            ("dqhdt_p", s.dqhdt_p.shape()),
            ("dqhdt_pp", s.dqhdt_pp.shape()),
            ("qh_prev", s.qh_prev.shape()),
        ] {
            let expected: &[usize] = if name == "q" { &[NZ, ny, nx] } else { &spec };
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
        for (lev, layer) in self.layers.iter_mut().enumerate() {
            let take = |a: &Array3<Complex64>| {
                self.grid
                    .from_pyqg_layout(a.index_axis(ndarray::Axis(0), lev))
            };
            layer.qh = take(&s.qh);
            layer.dqhdt_p = take(&s.dqhdt_p);
            layer.dqhdt_pp = take(&s.dqhdt_pp);
            layer.prev = take(&s.qh_prev);
            layer.q =
                s.q.index_axis(ndarray::Axis(0), lev)
                    .iter()
                    .copied()
                    .collect();
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
            let m = self.grid.spectral_map(f);
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

    /// Background zonal flow per layer: the coefficients of the mean-flow-advection terms [m/s].
    pub fn background_flow(&self) -> [f64; NZ] {
        self.ops.ubg
    }

    /// `psi_hat` of the current state, k-major, per layer.
    pub(crate) fn invert(&self) -> [Vec<Complex64>; NZ] {
        let mut psi = [
            vec![Complex64::default(); self.grid.n_spec()],
            vec![Complex64::default(); self.grid.n_spec()],
        ];
        let qh = [&self.layers[0].qh[..], &self.layers[1].qh[..]];
        for (lev, p) in psi.iter_mut().enumerate() {
            self.ops.inversion.invert_layer(lev, qh, p);
        }
        psi
    }

    /// Physical fields of `spectral` per layer, `(lev, y, x)`.
    pub(crate) fn to_physical(&self, spectral: &[Vec<Complex64>; NZ]) -> Array3<f64> {
        let mut fft = self.layers[0].fft.clone();
        let (nx, ny) = (self.grid.nx, self.grid.ny);
        let mut out = Array3::zeros((NZ, ny, nx));
        let mut buf = vec![0.0; nx * ny];
        for (lev, s) in spectral.iter().enumerate() {
            fft.inverse(s, &mut buf);
            out.index_axis_mut(ndarray::Axis(0), lev)
                .iter_mut()
                .zip(&buf)
                .for_each(|(d, s)| *d = *s);
        }
        out
    }

    fn stack_pyqg(&self, fields: [&[Complex64]; NZ]) -> Array3<Complex64> {
        let (nl, nk) = (self.grid.nl(), self.grid.nk());
        Array3::from_shape_fn((NZ, nl, nk), |(z, il, ik)| fields[z][ik * nl + il])
    }

    /// Advances one time step. On error (non-finite values or CFL > 1) the state is not meaningful.
    pub fn step(&mut self) -> Result<(), SolverError> {
        let (speeds, finite) = match self.params.stepper {
            Stepper::Ab3 => self.step_ab3(),
            Stepper::Rk4 => self.step_rk4(),
            Stepper::Leapfrog => self.step_leapfrog(),
        };
        let (step, time) = (self.tc, self.t);
        self.tc += 1;
        self.t += self.params.dt;
        self.ablevel = (self.ablevel + 1).min(2);
        let unstable = |reason: String| Err(SolverError::Unstable { step, time, reason });
        let cfl = self.cfl_of(&speeds);
        if !finite || cfl.is_nan() {
            return unstable("non-finite values in q, u or v".into());
        }
        if cfl > 1.0 {
            return unstable(format!("CFL number {cfl:.3} > 1; reduce dt"));
        }
        Ok(())
    }

    /// pyqg's AB3 step (Euler, then AB2, then AB3), fused with the tendency per layer.
    fn step_ab3(&mut self) -> ([Speeds; NZ], bool) {
        let dts = ab_weights(self.ablevel).map(|c| c * self.params.dt);
        self.phase_one();
        let (ph, lin, ops) = (&self.ph, &self.lin, &self.ops);
        let mut outcome = [(Speeds::default(), true); NZ];
        self.layers
            .par_iter_mut()
            .zip(outcome.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, out))| {
                *out = layer.tendency_and_update(lev, &ph[lev], &lin[lev], ops, Some(dts));
            });
        (outcome.map(|o| o.0), outcome.iter().all(|o| o.1))
    }

    /// Advances `n` steps, stopping at the first error.
    pub fn run(&mut self, n: u64) -> Result<(), SolverError> {
        (0..n).try_for_each(|_| self.step())
    }

    /// `max(|u + U| dt/dx, |v| dt/dy)` over layers.
    fn cfl_of(&self, speeds: &[Speeds; NZ]) -> f64 {
        let (dt, dx, dy) = (self.params.dt, self.grid.dx(), self.grid.dy());
        speeds
            .iter()
            .map(|s| (s.u * dt / dx).max(s.v * dt / dy))
            .fold(0.0, |a: f64, b| {
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else {
                    a.max(b)
                }
            })
    }
}

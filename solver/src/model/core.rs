//! The model's prognostic core in its real type `T`: both layers, the phase-one outputs, the
//! kernel's tables and the advection's transforms, and the steppers over both layers.
//!
//! Threading: after the inversion the two layers are independent, so they run in parallel on the
//! ambient rayon pool; a cross-layer Jacobian (a corrected model's) reads the other layer's
//! fluxes, so then both layers' fluxes are made before either update. An AB3 step on a large
//! grid inverts in the layers instead ([`ON_THE_FLY_BYTES`]): each reads both layers' level at
//! the step's start, which stays in place until both are done. Each layer's arithmetic is the
//! same whatever the thread count.

use super::NZ;
use super::compile::Kernel;
use super::kernel::{Layer, Linear, Tables, Update};
use crate::diagnostics::averaged::StepView;
use crate::eval::{Evaluator, SpectralState};
use crate::lanes::all_finite;
use crate::real::Real;
use crate::spectral::{Advection, Spectral, Speeds, Streamfunction};
use rayon::prelude::*;
use rustfft::num_complex::Complex;

/// The least size of one spectral array for which an AB3 step forms the streamfunction and the
/// linear tendency where it reads them ([`Tables::on_the_fly`]) instead of in phase one: then the
/// twenty or so arrays a layer's step sweeps no longer fit a core's L2 cache (2 MB on the
/// machines of docs/benchmarks.md), and the passes are bound by memory traffic, which this
/// saves. Below it, the separate passes, which vectorize better, were mostly as fast or faster
/// (one thread, Intel Xeon, 2026-12-07: on the fly f64 nx 64 2% and f32 nx 96-144 3-7% slower,
/// f64 nx 96 4% faster; from the threshold on, f64 nx 112-512 5-8% and f32 nx 160-512 5-7%
/// faster). The results are the same bits either way.
const ON_THE_FLY_BYTES: usize = 96 * 1024;

/// Both layers of a model stepping in `T`.
#[derive(Debug, Clone)]
pub(crate) struct Core<T: Real> {
    pub layers: [Layer<T>; NZ],
    /// Streamfunction and linear tendency of the current state after an evaluation or a step
    /// that ran phase one (not after a step that formed them on the fly).
    pub ph: [Vec<Complex<T>>; NZ],
    lin: [Vec<Complex<T>>; NZ],
    tables: Tables<T>,
    advection: Advection<T>,
}

impl<T: Real> Core<T> {
    /// A core of `q = 0` for `kernel` compiled on `spectral`.
    pub(crate) fn new(kernel: &Kernel, spectral: &Spectral) -> Self {
        let grid = spectral.grid();
        let (ns, np) = (grid.n_spec(), grid.n_phys());
        let advection: Advection<T> = spectral.advection();
        let zeros = || vec![Complex::default(); ns];
        Self {
            layers: [0, 1].map(|_| Layer::new(&advection, ns, np)),
            ph: [zeros(), zeros()],
            lin: [zeros(), zeros()],
            tables: Tables::new(kernel, spectral),
            advection,
        }
    }

    /// Takes the tables of a recompiled kernel.
    pub(crate) fn recompiled(&mut self, kernel: &Kernel, spectral: &Spectral) {
        self.tables = Tables::new(kernel, spectral);
    }

    /// What a diagnostic step reads after [`Core::evaluate`], in `f64`.
    pub(crate) fn step_view(&self, ablevel: u8) -> StepView<'_> {
        let l = &self.layers;
        StepView {
            qh: [T::widen(&l[0].qh), T::widen(&l[1].qh)],
            ph: [T::widen(&self.ph[0]), T::widen(&self.ph[1])],
            dqhdt: [T::widen(&l[0].dqhdt), T::widen(&l[1].dqhdt)],
            dqhdt_p: [T::widen(&l[0].dqhdt_p), T::widen(&l[1].dqhdt_p)],
            dqhdt_pp: [T::widen(&l[0].dqhdt_pp), T::widen(&l[1].dqhdt_pp)],
            ablevel,
        }
    }

    /// Inversion and linear tendency of both layers, in parallel, then the terms evaluated
    /// outside the fused kernel (in `f64`, on the widened state).
    fn phase_one(&mut self, kernel: &Kernel, eval: &mut Evaluator) {
        let (layers, tables) = (&self.layers, &self.tables);
        let qh = [&layers[0].qh[..], &layers[1].qh[..]];
        self.ph
            .par_iter_mut()
            .zip(self.lin.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (ph, lin))| tables.invert_and_linear(lev, qh, ph, lin));
        if kernel.generic.iter().all(Vec::is_empty) {
            return;
        }
        let widen = |x: &[Complex<T>]| T::widen(x).into_owned();
        let state = SpectralState {
            qh: [widen(&layers[0].qh), widen(&layers[1].qh)],
            ph: [widen(&self.ph[0]), widen(&self.ph[1])],
        };
        // Both layers' expressions in one plan, so that they share their subexpressions.
        let spectra = eval
            .plan_spectra(&kernel.generic_plan, &state)
            .expect("the kernel's terms were checked when it was compiled");
        let mut spectra = spectra.into_iter();
        for (lev, lin) in self.lin.iter_mut().enumerate() {
            for ((w, _), h) in kernel.generic[lev].iter().zip(spectra.by_ref()) {
                lin.iter_mut().zip(&h).for_each(|(d, h)| {
                    let h = h * w;
                    *d = *d + Complex::new(T::of(h.re), T::of(h.im));
                });
            }
        }
    }

    /// The tendency of the current state into each layer's `dqhdt`; the speeds that advect it.
    pub(crate) fn evaluate(&mut self, kernel: &Kernel, eval: &mut Evaluator) -> [Speeds; NZ] {
        self.step_or_evaluate(None, kernel, eval).map(|o| o.0)
    }

    /// pyqg's AB3 step with the weights times `dt` (Euler, AB2, AB3), fused with the tendency per
    /// layer; the speeds and whether the new `q` is finite.
    pub(crate) fn step_ab3(
        &mut self,
        dts: [f64; 3],
        kernel: &Kernel,
        eval: &mut Evaluator,
    ) -> ([Speeds; NZ], bool) {
        self.step_with(Update::Ab3(dts.map(T::of)), kernel, eval)
    }

    /// A step of `update` fused with the tendency per layer; the speeds and whether the new `q`
    /// is finite.
    fn step_with(
        &mut self,
        update: Update<T>,
        kernel: &Kernel,
        eval: &mut Evaluator,
    ) -> ([Speeds; NZ], bool) {
        let outcome = self.step_or_evaluate(Some(update), kernel, eval);
        (outcome.map(|o| o.0), outcome.iter().all(|o| o.1))
    }

    fn step_or_evaluate(
        &mut self,
        update: Option<Update<T>>,
        kernel: &Kernel,
        eval: &mut Evaluator,
    ) -> [(Speeds, bool); NZ] {
        // An AB3 step whose linear tendencies are the compiled operators on q_hat alone leaves
        // phase one to the layers, which form psi_hat and the linear tendency from both layers'
        // levels where they read them (the same bits, four fewer passes over a spectrum per
        // layer). An evaluation keeps it: the diagnostics read psi_hat after it.
        let on_the_fly = matches!(update, Some(Update::Ab3(_)))
            && kernel.generic.iter().all(Vec::is_empty)
            && self.tables.inverts_in_the_step()
            && size_of_val(&self.layers[0].qh[..]) >= ON_THE_FLY_BYTES;
        if !on_the_fly {
            self.phase_one(kernel, eval);
        }
        // Then both layers read both levels at the step's start, held here while they step.
        let taken = on_the_fly.then(|| self.layers.each_mut().map(|l| std::mem::take(&mut l.qh)));
        let levels = taken.as_ref().map(|t| [&t[0][..], &t[1][..]]);
        let (ph, tables, advection) = (&self.ph, &self.tables, &self.advection);
        let stored = &self.lin;
        let sources = |lev: usize| match levels {
            Some(qh) => tables.on_the_fly(lev, qh),
            None => (
                Streamfunction::Spectrum(&ph[lev][..]),
                Linear::Stored(&stored[lev][..]),
            ),
        };
        let crosses = tables.crosses();
        let mut outcome = [(Speeds::default(), true); NZ];
        // Each layer's fluxes, then (without cross-layer Jacobians) its update on the same core.
        self.layers
            .par_iter_mut()
            .zip(outcome.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, out))| {
                let ((psi, lin), old) = (sources(lev), levels.map(|qh| qh[lev]));
                out.0 = layer.fluxes(lev, psi, old, tables, advection);
                if !crosses {
                    out.1 = layer.tendency_and_update(lev, lin, old, tables, advection, update);
                }
            });
        if crosses {
            // A cross-layer Jacobian reads the other layer's fluxes: all of them before any
            // update.
            let layers = &self.layers;
            self.lin
                .par_iter_mut()
                .enumerate()
                .for_each(|(lev, lin)| tables.add_cross_advection(lev, lin, layers, advection));
            let lin = &self.lin;
            self.layers
                .par_iter_mut()
                .zip(outcome.par_iter_mut())
                .enumerate()
                .for_each(|(lev, (layer, out))| {
                    let lin = Linear::Stored(&lin[lev][..]);
                    out.1 = layer.tendency_and_update(lev, lin, None, tables, advection, update);
                });
        }
        if let Some(taken) = taken {
            for (layer, qh) in self.layers.iter_mut().zip(taken) {
                layer.qh = qh;
            }
        }
        if let Some(Update::Ab3(_)) = update {
            self.layers.iter_mut().for_each(Layer::finish_ab3);
        }
        outcome
    }

    /// The AB3 update of both layers from the tendency already in `dqhdt`; whether `q` is finite.
    pub(crate) fn update_ab3(&mut self, dts: [f64; 3]) -> bool {
        let (dts, tables) = (dts.map(T::of), &self.tables);
        let mut finite = [true; NZ];
        self.layers
            .par_iter_mut()
            .zip(finite.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, f))| *f = layer.ab_update(dts, &tables.filtr[lev]));
        finite.iter().all(|f| *f)
    }

    /// One classical RK4 step; the update is multiplied by the update filter.
    pub(crate) fn step_rk4(
        &mut self,
        dt: f64,
        kernel: &Kernel,
        eval: &mut Evaluator,
    ) -> ([Speeds; NZ], bool) {
        self.layers.iter_mut().for_each(|l| l.rk4_start());
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
            let speeds = self.evaluate(kernel, eval);
            if stage == 0 {
                first = speeds;
            }
            let filtr = &self.tables.filtr;
            self.layers
                .par_iter_mut()
                .enumerate()
                .for_each(|(lev, layer)| {
                    let finish = (stage == 3).then_some((T::of(dt), &filtr[lev][..]));
                    layer.rk4_stage(T::of(a * dt), T::of(w), finish)
                });
        }
        let finite = self.layers.iter().all(|l| all_finite(&l.q));
        (first, finite)
    }

    /// One leapfrog step with the Robert-Asselin filter `g` (Euler when `euler`), fused with the
    /// tendency per layer.
    pub(crate) fn step_leapfrog(
        &mut self,
        dt: f64,
        g: f64,
        euler: bool,
        kernel: &Kernel,
        eval: &mut Evaluator,
    ) -> ([Speeds; NZ], bool) {
        let (dt, g) = (T::of(dt), T::of(g));
        self.step_with(Update::Leapfrog { dt, g, euler }, kernel, eval)
    }
}

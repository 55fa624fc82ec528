//! Time steppers: pyqg's AB3 (Euler, then AB2, then AB3, fused with the tendency), leapfrog with
//! a Robert-Asselin filter (Euler first), classical RK4; each update multiplied by the update
//! filter. A step that produces NaN/Inf or a CFL number above 1 is an error.

use super::{Model, NZ};
use crate::diagnostics::averaged::{Averages, StepView};
use crate::error::SolverError;
use crate::eval::SpectralState;
use crate::params::Stepper;
use crate::spectral::Speeds;
use rayon::prelude::*;

/// Adams-Bashforth weights `(c1, c2, c3)` for the given level (0: Euler, 1: AB2, 2+: AB3).
fn ab_weights(ablevel: u8) -> [f64; 3] {
    match ablevel {
        0 => [1.0, 0.0, 0.0],
        1 => [1.5, -0.5, 0.0],
        _ => [23.0 / 12.0, -16.0 / 12.0, 5.0 / 12.0],
    }
}

impl Model {
    /// Advances one time step. On error (non-finite values or CFL > 1) the state is not meaningful.
    pub fn step(&mut self) -> Result<(), SolverError> {
        let (speeds, finite) = match self.params.stepper {
            Stepper::Ab3 => self.step_ab3(),
            Stepper::Rk4 => self.step_rk4(),
            Stepper::Leapfrog => self.step_leapfrog(),
        };
        self.finish_step(speeds, finite)
    }

    /// Advances one step as [`Model::step`] does (the same bytes), first adding the step to
    /// `averages` when it is due ([`Averages::due`]): pyqg's diagnostics of the state at the
    /// start of the step and of its tendency.
    pub fn step_averaging(&mut self, averages: &mut Averages) -> Result<(), SolverError> {
        if !averages.due(self) {
            return self.step();
        }
        let speeds = self.evaluate();
        averages.accumulate(self, &self.step_view());
        let (speeds, finite) = match self.params.stepper {
            Stepper::Ab3 => (speeds, self.update_ab3()),
            Stepper::Rk4 => self.step_rk4(),
            Stepper::Leapfrog => self.step_leapfrog(),
        };
        self.finish_step(speeds, finite)
    }

    /// What a diagnostic step reads, after [`Model::evaluate`]: the state at the start of the
    /// step and the tendencies.
    fn step_view(&self) -> StepView<'_> {
        let l = &self.layers;
        StepView {
            qh: [&l[0].qh, &l[1].qh],
            ph: [&self.ph[0], &self.ph[1]],
            dqhdt: [&l[0].dqhdt, &l[1].dqhdt],
            dqhdt_p: [&l[0].dqhdt_p, &l[1].dqhdt_p],
            dqhdt_pp: [&l[0].dqhdt_pp, &l[1].dqhdt_pp],
            ablevel: self.ablevel,
        }
    }

    /// The AB3 update of both layers from the tendency already in `dqhdt`; whether `q` is finite.
    fn update_ab3(&mut self) -> bool {
        let dts = ab_weights(self.ablevel).map(|c| c * self.params.dt);
        let kernel = &self.kernel;
        let mut finite = [true; NZ];
        self.layers
            .par_iter_mut()
            .zip(finite.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, f))| *f = layer.ab_update(dts, &kernel.filtr[lev]));
        finite.iter().all(|f| *f)
    }

    /// Step count, time and Adams-Bashforth level after a step; its errors.
    fn finish_step(&mut self, speeds: [Speeds; NZ], finite: bool) -> Result<(), SolverError> {
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

    /// Advances `n` steps, stopping at the first error.
    pub fn run(&mut self, n: u64) -> Result<(), SolverError> {
        (0..n).try_for_each(|_| self.step())
    }

    /// Inversion and linear tendency of both layers, in parallel, then the terms evaluated
    /// outside the fused kernel.
    fn phase_one(&mut self) {
        let (layers, kernel, spectral) = (&self.layers, &self.kernel, &*self.spectral);
        let qh = [&layers[0].qh[..], &layers[1].qh[..]];
        self.ph
            .par_iter_mut()
            .zip(self.lin.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (ph, lin))| {
                kernel.invert_and_linear(spectral, lev, qh, ph, lin);
            });
        if kernel.generic.iter().all(Vec::is_empty) {
            return;
        }
        let state = SpectralState {
            qh: [layers[0].qh.clone(), layers[1].qh.clone()],
            ph: self.ph.clone(),
        };
        // Both layers' expressions in one plan, so that they share their subexpressions.
        let spectra = self
            .eval
            .plan_spectra(&kernel.generic_plan, &state)
            .expect("the kernel's terms were checked when it was compiled");
        let mut spectra = spectra.into_iter();
        for (lev, lin) in self.lin.iter_mut().enumerate() {
            for ((w, _), h) in kernel.generic[lev].iter().zip(spectra.by_ref()) {
                lin.iter_mut().zip(&h).for_each(|(d, h)| *d += h * w);
            }
        }
    }

    /// The tendency of the current state into each layer's `dqhdt`; the speeds that advect it.
    pub(super) fn evaluate(&mut self) -> [Speeds; NZ] {
        self.phase_one();
        let (ph, lin, kernel, spectral) = (&self.ph, &self.lin, &self.kernel, &*self.spectral);
        let mut speeds = [Speeds::default(); NZ];
        self.layers
            .par_iter_mut()
            .zip(speeds.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, s))| {
                *s = layer
                    .tendency_and_update(lev, &ph[lev], &lin[lev], kernel, spectral, None)
                    .0;
            });
        speeds
    }

    /// pyqg's AB3 step (Euler, then AB2, then AB3), fused with the tendency per layer.
    fn step_ab3(&mut self) -> ([Speeds; NZ], bool) {
        let dts = ab_weights(self.ablevel).map(|c| c * self.params.dt);
        self.phase_one();
        let (ph, lin, kernel, spectral) = (&self.ph, &self.lin, &self.kernel, &*self.spectral);
        let mut outcome = [(Speeds::default(), true); NZ];
        self.layers
            .par_iter_mut()
            .zip(outcome.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, out))| {
                *out = layer.tendency_and_update(
                    lev,
                    &ph[lev],
                    &lin[lev],
                    kernel,
                    spectral,
                    Some(dts),
                );
            });
        (outcome.map(|o| o.0), outcome.iter().all(|o| o.1))
    }

    /// One classical RK4 step; the update is multiplied by the update filter.
    fn step_rk4(&mut self) -> ([Speeds; NZ], bool) {
        let dt = self.params.dt;
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
            let speeds = self.evaluate();
            if stage == 0 {
                first = speeds;
            }
            let filtr = &self.kernel.filtr;
            self.layers
                .par_iter_mut()
                .enumerate()
                .for_each(|(lev, layer)| {
                    let finish = (stage == 3).then_some((dt, &filtr[lev][..]));
                    layer.rk4_stage(a * dt, w, finish)
                });
        }
        let finite = self.layers.iter().all(|l| crate::lanes::all_finite(&l.q));
        (first, finite)
    }

    /// One leapfrog step with the Robert-Asselin filter (Euler on the first step).
    fn step_leapfrog(&mut self) -> ([Speeds; NZ], bool) {
        let speeds = self.evaluate();
        let (dt, g, euler, kernel) = (
            self.params.dt,
            self.params.robert_asselin,
            self.ablevel == 0,
            &self.kernel,
        );
        let mut finite = [true; NZ];
        self.layers
            .par_iter_mut()
            .zip(finite.par_iter_mut())
            .enumerate()
            .for_each(|(lev, (layer, f))| {
                *f = layer.leapfrog(dt, g, euler, &kernel.filtr[lev], &kernel.filtr_2dt[lev])
            });
        (speeds, finite.iter().all(|f| *f))
    }

    /// `max(|u + U| dt/dx, |v| dt/dy)` over layers.
    fn cfl_of(&self, speeds: &[Speeds; NZ]) -> f64 {
        let (dt, dx, dy) = (self.params.dt, self.grid().dx(), self.grid().dy());
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

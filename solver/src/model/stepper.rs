//! Time steppers: pyqg's AB3 (Euler, then AB2, then AB3, fused with the tendency), leapfrog with
//! a Robert-Asselin filter (Euler first), classical RK4; each update multiplied by the update
//! filter. A step that produces NaN/Inf or a CFL number above 1 is an error.

use super::{Model, NZ, Prognostic, with_core};
use crate::diagnostics::averaged::{Averages, StepView};
use crate::error::SolverError;
use crate::params::Stepper;
use crate::spectral::Speeds;

/// Adams-Bashforth weights `(c1, c2, c3)` for the given level (0: Euler, 1: AB2, 2+: AB3).
fn ab_weights(ablevel: u8) -> [f64; 3] {
    match ablevel {
        0 => [1.0, 0.0, 0.0],
        1 => [1.5, -0.5, 0.0],
        _ => [23.0 / 12.0, -16.0 / 12.0, 5.0 / 12.0],
    }
}

/// Runs `f` on a thread of rayon's current pool, at once when the caller is one (in a
/// `ThreadPool::install`, a parallel iterator, or `f` itself), else handed to the global pool
/// while the caller waits. A step's parallel passes fork from inside the pool: forked from any
/// other thread, each of them is handed over and waited for in turn, which made a 64 x 64 step
/// 0.089 ms instead of 0.073 on one core and 0.103 ms instead of 0.0645 on two (Intel Xeon,
/// 2026-12-07, docs/benchmarks.md). Wrap a loop of steps in it to hand the loop over once:
/// [`Model::run`] does.
pub fn in_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

impl Model {
    /// Advances one time step. On error (non-finite values or CFL > 1) the state is not meaningful.
    pub fn step(&mut self) -> Result<(), SolverError> {
        in_pool(|| {
            let (speeds, finite) = self.advance();
            self.finish_step(speeds, finite)
        })
    }

    /// The step of the model's stepper on its core: the speeds that advected the state and whether
    /// the new `q` is finite.
    fn advance(&mut self) -> ([Speeds; NZ], bool) {
        let (p, euler) = (&self.params, self.ablevel == 0);
        let (kernel, eval) = (&self.kernel, &mut self.eval);
        let dts = ab_weights(self.ablevel).map(|c| c * p.dt);
        with_core!(&mut self.core, c => match p.stepper {
            Stepper::Ab3 => c.step_ab3(dts, kernel, eval),
            Stepper::Rk4 => c.step_rk4(p.dt, kernel, eval),
            Stepper::Leapfrog => c.step_leapfrog(p.dt, p.robert_asselin, euler, kernel, eval),
        })
    }

    /// Advances one step as [`Model::step`] does (the same bytes), first adding the step to
    /// `averages` when it is due ([`Averages::due`]): pyqg's diagnostics of the state at the
    /// start of the step and of its tendency.
    pub fn step_averaging(&mut self, averages: &mut Averages) -> Result<(), SolverError> {
        if !averages.due(self) {
            return self.step();
        }
        in_pool(|| self.step_averaged(averages))
    }

    /// [`Model::step_averaging`] of a step whose averages are due.
    fn step_averaged(&mut self, averages: &mut Averages) -> Result<(), SolverError> {
        let speeds = self.evaluate();
        averages.accumulate(self, &self.step_view());
        let (speeds, finite) = match self.params.stepper {
            Stepper::Ab3 => {
                let dts = ab_weights(self.ablevel).map(|c| c * self.params.dt);
                (speeds, with_core!(&mut self.core, c => c.update_ab3(dts)))
            }
            Stepper::Rk4 | Stepper::Leapfrog => self.advance(),
        };
        self.finish_step(speeds, finite)
    }

    /// What a diagnostic step reads, after [`Model::evaluate`]: the state at the start of the
    /// step and the tendencies, in `f64`.
    fn step_view(&self) -> StepView<'_> {
        with_core!(&self.core, c => c.step_view(self.ablevel))
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
        in_pool(|| (0..n).try_for_each(|_| self.step()))
    }

    /// The tendency of the current state into each layer's `dqhdt`; the speeds that advect it.
    pub(super) fn evaluate(&mut self) -> [Speeds; NZ] {
        let (kernel, eval) = (&self.kernel, &mut self.eval);
        with_core!(&mut self.core, c => c.evaluate(kernel, eval))
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

#[cfg(test)]
mod tests {
    use super::in_pool;

    #[test]
    fn in_pool_runs_on_a_pool_thread_and_at_once_inside_one() {
        assert_eq!(
            rayon::current_thread_index(),
            None,
            "the test thread is no worker"
        );
        assert!(in_pool(rayon::current_thread_index).is_some());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            let caller = std::thread::current().id();
            assert_eq!(in_pool(|| std::thread::current().id()), caller);
        });
    }
}

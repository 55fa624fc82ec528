//! Subgrid forcing of a coarse model, from a high-resolution state and an operator (Ross et al.
//! 2023, section 1.4 of the closure reference), with the sign stated once:
//!
//! **`S_q` is what must be added to dq/dt of the coarse model**: the coarse-grained tendency of
//! the advection minus the coarse model's own advection of the coarse-grained state,
//! `S_q = J_lr(psi_bar, q_bar) - bar(J(psi, q))` with `J(psi, q) = div(u q)` (anomaly velocity; the
//! background terms are linear and commute with the spectral operators). It is the opposite of
//! what Ross's released `Coarsener.subgrid_forcing` returns and the sign of the published
//! hybrid-symbolic closure (the tendency convention).
//!
//! The fluxes `phi_uq = bar(u_full q) - u_full_bar q_bar`, `phi_vq = bar(v q) - v_bar q_bar` (full
//! velocities, Ross's definition) give `S_q = -(dx phi_uq + dy phi_vq)` (exactly for the spectral
//! operators, which commute with derivatives). The total forcing
//! `S_q,tot = bar(dq/dt) - dq/dt_lr(q_bar)` is the difference of the two models' whole tendencies
//! (before the exponential filter, as pyqg's `dqhdt`); for the spectral operators it equals `S_q`.
//! Coarse velocities are those of the coarse model's inversion of `q_bar`, not filtered velocities.

use super::coarsen::{Coarsening, Operator};
use crate::error::DiscoveryError;
use medida_solver::{Expr, Model};
use ndarray::{Array3, Axis};

/// The forcing of one high-resolution state, on the low-resolution grid, `(lev, y, x)` each.
#[derive(Debug, Clone, PartialEq)]
pub struct Forcing {
    /// The coarse-grained PV `q_bar`.
    pub q: Array3<f64>,
    /// The subgrid PV forcing, added to dq/dt.
    pub s_q: Array3<f64>,
    /// Its zonal flux, `S_q = -(dx phi_uq + dy phi_vq)`.
    pub phi_uq: Array3<f64>,
    /// Its meridional flux.
    pub phi_vq: Array3<f64>,
    /// The total forcing, `bar(dq/dt) - dq/dt_lr(q_bar)`.
    pub s_q_total: Array3<f64>,
}

/// Forcings of high-resolution states for one coarse model and operator.
#[derive(Debug, Clone)]
pub struct SubgridForcing {
    coarsening: Coarsening,
    lr: Model,
}

impl SubgridForcing {
    /// The forcing of states of `hr` on the coarse model `lr` (the same physics on a grid
    /// coarser by an integer ratio) by `operator`.
    pub fn new(operator: Operator, hr: &Model, lr: Model) -> Result<Self, DiscoveryError> {
        let (a, b) = (hr.params(), lr.params());
        if a.rd != b.rd || a.delta != b.delta || a.H1 != b.H1 {
            return Err(DiscoveryError::Shape(
                "the coarse model's inversion (rd, delta, H1) differs from the high-resolution one's"
                    .into(),
            ));
        }
        let coarsening = Coarsening::new(operator, hr.grid(), lr.grid(), b.filterfac)?;
        Ok(Self { coarsening, lr })
    }

    /// The operator.
    pub fn coarsening(&self) -> &Coarsening {
        &self.coarsening
    }

    /// The coarse model (its state is the last `q_bar`).
    pub fn coarse_model(&self) -> &Model {
        &self.lr
    }

    /// The forcing of `hr`'s current state (`hr` evaluates its tendency, its state is unchanged).
    pub fn of(&mut self, hr: &mut Model) -> Result<Forcing, DiscoveryError> {
        let c = &mut self.coarsening;
        let g = c.lr().clone();
        let shape = (2, g.ny, g.nx);
        let per_layer = |f: &dyn Fn(usize) -> Vec<f64>| -> Array3<f64> {
            let layers: Vec<Vec<f64>> = (0..2).map(f).collect();
            Array3::from_shape_fn(shape, |(z, j, i)| layers[z][j * g.nx + i])
        };
        let layer = |a: &Array3<f64>, lev: usize| -> Vec<f64> {
            a.index_axis(Axis(0), lev).iter().copied().collect()
        };
        // The high-resolution advection, fluxes and tendency, coarse-grained.
        let q_hr = hr.q();
        let mut eval = hr.evaluator();
        let state = hr.spectral_state();
        let ubg = hr.background_flow();
        let jac = |lev| Expr::jacobian(Expr::psi(lev), Expr::q(lev));
        let mut bar_j = Vec::new();
        let (mut bar_uq, mut bar_vq) = (Vec::new(), Vec::new());
        for (lev, ubg) in ubg.iter().enumerate() {
            bar_j.push(c.spectrum(&eval.spectrum(&jac(lev), &state)?));
            let q = layer(&q_hr, lev);
            let u = eval.field(&Expr::Field(medida_solver::Field::U(lev)), &state)?;
            let v = eval.field(&Expr::Field(medida_solver::Field::V(lev)), &state)?;
            let uq: Vec<f64> = u.iter().zip(&q).map(|(u, q)| (u + ubg) * q).collect();
            let vq: Vec<f64> = v.iter().zip(&q).map(|(v, q)| v * q).collect();
            bar_uq.push(c.field(&uq));
            bar_vq.push(c.field(&vq));
        }
        let dqdt_hr = hr.dqdt();
        let bar_dqdt: Vec<Vec<f64>> = (0..2).map(|l| c.field(&layer(&dqdt_hr, l))).collect();
        let bar_q: Vec<Vec<f64>> = (0..2).map(|l| c.field(&layer(&q_hr, l))).collect();
        let q_bar = per_layer(&|lev| bar_q[lev].clone());
        // The coarse model's own terms at q_bar.
        self.lr.set_q(q_bar.view())?;
        let mut eval = self.lr.evaluator();
        let state = self.lr.spectral_state();
        let ubg = self.lr.background_flow();
        let mut j_lr = Vec::new();
        let (mut uq_lr, mut vq_lr) = (Vec::new(), Vec::new());
        for (lev, ubg) in ubg.iter().enumerate() {
            j_lr.push(eval.field(&jac(lev), &state)?);
            let q = layer(&q_bar, lev);
            let u = eval.field(&Expr::Field(medida_solver::Field::U(lev)), &state)?;
            let v = eval.field(&Expr::Field(medida_solver::Field::V(lev)), &state)?;
            uq_lr.push(
                u.iter()
                    .zip(&q)
                    .map(|(u, q)| (u + ubg) * q)
                    .collect::<Vec<_>>(),
            );
            vq_lr.push(v.iter().zip(&q).map(|(v, q)| v * q).collect::<Vec<_>>());
        }
        let dqdt_lr = self.lr.dqdt();
        let diff = |a: &[Vec<f64>], b: &[Vec<f64>]| {
            per_layer(&|l| a[l].iter().zip(&b[l]).map(|(x, y)| x - y).collect())
        };
        let dqdt_lr: Vec<Vec<f64>> = (0..2).map(|l| layer(&dqdt_lr, l)).collect();
        Ok(Forcing {
            s_q: diff(&j_lr, &bar_j),
            phi_uq: diff(&bar_uq, &uq_lr),
            phi_vq: diff(&bar_vq, &vq_lr),
            s_q_total: diff(&bar_dqdt, &dqdt_lr),
            q: q_bar,
        })
    }
}

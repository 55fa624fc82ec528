//! Physical terms of the PV tendency, each carrying a coefficient.
//!
//! The model's tendency is `dq_i/dt = sum_terms c * T(state)_i`. Changing a coefficient (or dropping
//! or adding a term) turns the truth into an imperfect model; the same terms name the columns of a
//! regression library. Every shape `T` is written here once.
//!
//! Sign convention: a term's shape is what is **added to dq/dt**, so `-beta dx(psi)` has shape
//! `-dx(psi)` and coefficient `beta`.

use crate::Complex64;
use crate::grid::Grid;
use crate::inversion::Inversion;
use std::sync::Arc;

/// A term evaluated outside the solver: a discovered correction, a learned closure. It sees the
/// spectral state of both layers and adds its shape to the tendency; the solver calls it once per
/// tendency evaluation, after the inversion, for every stepper.
pub trait ExternalTendency: Send + Sync + std::fmt::Debug {
    /// A unique, stable name (configs, output attributes, [`Model::set_coefficient`](crate::Model::set_coefficient)).
    fn name(&self) -> String;
    /// How the term reads in an equation.
    fn symbol(&self) -> String;
    /// Adds `coefficient * T(state)` to `dqh[lev]` (k-major spectra of `grid`), from the PV anomaly
    /// `qh` and streamfunction `ph` of both layers (k-major spectra).
    fn add_tendency(
        &self,
        qh: [&[Complex64]; 2],
        ph: [&[Complex64]; 2],
        coefficient: f64,
        dqh: [&mut [Complex64]; 2],
    );
}

/// A shared [`ExternalTendency`]; two are equal when they are the same object.
#[derive(Debug, Clone)]
pub struct External(pub Arc<dyn ExternalTendency>);

impl PartialEq for External {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Which spectral field of a layer a linear action multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// PV anomaly `q_hat`.
    Q,
    /// Streamfunction `psi_hat`.
    Psi,
    /// Nothing: the multiplier itself is added (a forcing independent of the state).
    Constant,
}

/// A linear, wavenumber-diagonal piece of a term: adds `multiplier(k, l) * operand_hat[source]`
/// to `dq_hat[target]/dt`. The multiplier already includes the term's coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearAction {
    /// Layer whose tendency receives the contribution (0 = upper).
    pub target: usize,
    /// Layer of the operand.
    pub source: usize,
    /// Field multiplied.
    pub operand: Operand,
    /// k-major multiplier.
    pub multiplier: Vec<Complex64>,
}

/// The shape of a term.
#[derive(Debug, Clone, PartialEq)]
pub enum TermKind {
    /// `-J(psi_i, q_i) = -div(u_i q_i)` in both layers, by anomaly velocities, in flux form
    /// (pseudo-spectral, no de-aliasing; pyqg's nonlinear term). Coefficient `c_J`, 1 in the truth.
    Advection,
    /// `-dx(q_lev)`: advection of the layer's PV anomaly by its background flow. Coefficient `U_lev`.
    MeanFlowAdvection {
        /// Layer (0 = upper).
        lev: usize,
    },
    /// `-dx(psi_i)` in both layers: advection of planetary vorticity. Coefficient `beta`.
    Beta,
    /// `-F1 dx(psi1)` and `+F2 dx(psi2)`: advection by the PV gradient of the background shear.
    /// Coefficient `U1 - U2`.
    ShearPvGradient {
        /// `F1` [1/m^2].
        f1: f64,
        /// `F2` [1/m^2].
        f2: f64,
    },
    /// `-lap(psi2)` in the lower layer: linear bottom drag. Coefficient `rek` (MEDIDA's `tau_f`).
    BottomDrag,
    /// `+(psi1 - psi2)` in the upper layer and `-(psi1 - psi2)` in the lower: relaxation of the
    /// interface (MEDIDA). Coefficient `tau_d1` (a rate).
    InterfaceRelaxation,
    /// `-psi_R(y)` in the upper layer and `+psi_R(y)` in the lower: the state-independent part of
    /// the relaxation toward the jet profile (MEDIDA). Coefficient `tau_d2` (a rate).
    JetForcing {
        /// `psi_R` as a spectral field (k-major), see [`crate::jet::JetProfiles`].
        psi_r_hat: Vec<Complex64>,
    },
    /// `-s(y) (q_i - <q_i>_x)` in both layers: a sponge on the eddy PV (MEDIDA). Coefficient 1 in the
    /// truth (it scales the profile).
    Sponge {
        /// `s(y)`, one value per grid row.
        profile: Vec<f64>,
    },
    /// `-nu (dx^8 + dy^8) q_i`, i.e. `-nu (k^8 + l^8) q_hat`, treated implicitly: the update is
    /// divided by `1 + dt nu (k^8 + l^8)` (MEDIDA). Coefficient `nu`.
    Hyperviscosity,
    /// A term evaluated by outside code (see [`ExternalTendency`]), e.g. a discovered correction.
    External(External),
}

/// A term with its coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The term's shape.
    pub kind: TermKind,
    /// The number multiplying the shape.
    pub coefficient: f64,
}

impl Term {
    /// A term of the given kind and coefficient.
    pub fn new(kind: TermKind, coefficient: f64) -> Self {
        Self { kind, coefficient }
    }

    /// A unique, stable name, used to look a term up and in configs.
    pub fn name(&self) -> String {
        match &self.kind {
            TermKind::Advection => "advection".into(),
            TermKind::MeanFlowAdvection { lev } => format!("mean_flow_advection{}", lev + 1),
            TermKind::External(e) => e.0.name(),
            TermKind::Beta => "beta".into(),
            TermKind::ShearPvGradient { .. } => "shear_pv_gradient".into(),
            TermKind::BottomDrag => "bottom_drag".into(),
            TermKind::InterfaceRelaxation => "interface_relaxation".into(),
            TermKind::JetForcing { .. } => "jet_forcing".into(),
            TermKind::Sponge { .. } => "sponge".into(),
            TermKind::Hyperviscosity => "hyperviscosity".into(),
        }
    }

    /// How the term reads in an equation, with its coefficient's symbol.
    pub fn symbol(&self) -> String {
        match &self.kind {
            TermKind::Advection => "-c_J J(psi_i, q_i)".into(),
            TermKind::MeanFlowAdvection { lev } => format!("-U{0} dx(q{0})", lev + 1),
            TermKind::External(e) => e.0.symbol(),
            TermKind::Beta => "-beta dx(psi_i)".into(),
            TermKind::ShearPvGradient { .. } => "-(U1-U2) [F1 dx(psi1); -F2 dx(psi2)]".into(),
            TermKind::BottomDrag => "-rek lap(psi2)".into(),
            TermKind::InterfaceRelaxation => "tau_d1 [(psi1 - psi2); -(psi1 - psi2)]".into(),
            TermKind::JetForcing { .. } => "tau_d2 [-psi_R(y); psi_R(y)]".into(),
            TermKind::Sponge { .. } => "-s(y) (q_i - <q_i>_x)".into(),
            TermKind::Hyperviscosity => "-nu (dx^8 + dy^8) q_i (implicit)".into(),
        }
    }

    /// The term's shape in each layer (at unit coefficient) as a sum of `(factor, library term)`,
    /// the terms written in `medida-discovery`'s QG library grammar (`psi1`, `lap(psi2)`,
    /// `dx(psi1)`, `J(psi1, q1)`, `psi_R`). `None` when the shape is not a finite sum of such terms
    /// (sponge, hyperviscosity, external terms). A model error `(c_true - c_model) * shape` is
    /// thus known in the library's basis, which is what discovery should return.
    pub fn layer_shapes(&self) -> Option<[Vec<(f64, &'static str)>; 2]> {
        Some(match &self.kind {
            TermKind::Advection => [vec![(-1.0, "J(psi1, q1)")], vec![(-1.0, "J(psi2, q2)")]],
            TermKind::MeanFlowAdvection { lev: 0 } => [vec![(-1.0, "dx(q1)")], vec![]],
            TermKind::MeanFlowAdvection { .. } => [vec![], vec![(-1.0, "dx(q2)")]],
            TermKind::Beta => [vec![(-1.0, "dx(psi1)")], vec![(-1.0, "dx(psi2)")]],
            TermKind::ShearPvGradient { f1, f2 } => {
                [vec![(-f1, "dx(psi1)")], vec![(*f2, "dx(psi2)")]]
            }
            TermKind::BottomDrag => [vec![], vec![(-1.0, "lap(psi2)")]],
            TermKind::InterfaceRelaxation => [
                vec![(1.0, "psi1"), (-1.0, "psi2")],
                vec![(-1.0, "psi1"), (1.0, "psi2")],
            ],
            TermKind::JetForcing { .. } => [vec![(-1.0, "psi_R")], vec![(1.0, "psi_R")]],
            TermKind::Sponge { .. } | TermKind::Hyperviscosity | TermKind::External(_) => {
                return None;
            }
        })
    }

    /// The term's linear, wavenumber-diagonal actions; empty for nonlinear terms.
    pub fn linear_actions(&self, grid: &Grid) -> Vec<LinearAction> {
        let c = self.coefficient;
        // -c dx(f): multiplier -i k c
        let minus_dx = |scale: f64| grid.spectral_map(|k, _| Complex64::new(0.0, -k * scale));
        let action = |target, source, operand, multiplier| LinearAction {
            target,
            source,
            operand,
            multiplier,
        };
        let constant = |v: Complex64| grid.spectral_map(|_, _| v);
        match &self.kind {
            TermKind::Advection
            | TermKind::Sponge { .. }
            | TermKind::Hyperviscosity
            | TermKind::External(_) => Vec::new(),
            &TermKind::MeanFlowAdvection { lev } => vec![action(lev, lev, Operand::Q, minus_dx(c))],
            TermKind::Beta => (0..2)
                .map(|i| action(i, i, Operand::Psi, minus_dx(c)))
                .collect(),
            &TermKind::ShearPvGradient { f1, f2 } => vec![
                action(0, 0, Operand::Psi, minus_dx(c * f1)),
                action(1, 1, Operand::Psi, minus_dx(-c * f2)),
            ],
            TermKind::BottomDrag => {
                // -lap(psi2) = +kappa^2 psi2_hat
                let m = grid.spectral_map(|k, l| Complex64::new(c * (k * k + l * l), 0.0));
                vec![action(1, 1, Operand::Psi, m)]
            }
            TermKind::InterfaceRelaxation => vec![
                action(0, 0, Operand::Psi, constant(Complex64::new(c, 0.0))),
                action(0, 1, Operand::Psi, constant(Complex64::new(-c, 0.0))),
                action(1, 0, Operand::Psi, constant(Complex64::new(-c, 0.0))),
                action(1, 1, Operand::Psi, constant(Complex64::new(c, 0.0))),
            ],
            TermKind::JetForcing { psi_r_hat } => vec![
                action(
                    0,
                    0,
                    Operand::Constant,
                    psi_r_hat.iter().map(|p| -c * p).collect(),
                ),
                action(
                    1,
                    1,
                    Operand::Constant,
                    psi_r_hat.iter().map(|p| c * p).collect(),
                ),
            ],
        }
    }
}

/// All linear terms of a model summed into one multiplier per (target, operand, source).
#[derive(Debug, Clone, Default)]
pub struct LinearTendency {
    /// `on_q[i]`: multiplier of `q_hat[i]` in `dq_hat[i]/dt`.
    pub on_q: [Option<Vec<Complex64>>; 2],
    /// `on_psi[i][j]`: multiplier of `psi_hat[j]` in `dq_hat[i]/dt`.
    pub on_psi: [[Option<Vec<Complex64>>; 2]; 2],
    /// `constant[i]`: state-independent forcing added to `dq_hat[i]/dt`.
    pub constant: [Option<Vec<Complex64>>; 2],
}

impl LinearTendency {
    /// Sums the linear actions of `terms`.
    pub fn fuse(terms: &[Term], grid: &Grid) -> Self {
        let mut out = Self::default();
        for action in terms
            .iter()
            .filter(|t| t.coefficient != 0.0)
            .flat_map(|t| t.linear_actions(grid))
        {
            let slot = match action.operand {
                Operand::Q => {
                    assert_eq!(
                        action.target, action.source,
                        "a q action couples only a layer to itself"
                    );
                    &mut out.on_q[action.target]
                }
                Operand::Psi => &mut out.on_psi[action.target][action.source],
                Operand::Constant => &mut out.constant[action.target],
            };
            match slot {
                Some(acc) => acc
                    .iter_mut()
                    .zip(&action.multiplier)
                    .for_each(|(a, m)| *a += m),
                None => *slot = Some(action.multiplier),
            }
        }
        out
    }

    /// The same tendency as multipliers of `q_hat` only, through the inversion `psi_hat = a q_hat`:
    /// `dq_hat[i]/dt += sum_k b[i][k] q_hat[k]`, `b[i][k] = sum_j on_psi[i][j] a[j][k] + on_q[i] delta_ik`.
    pub fn through_inversion(&self, inversion: &Inversion) -> [[Vec<Complex64>; 2]; 2] {
        let n = inversion.a[0][0].len();
        std::array::from_fn(|i| {
            std::array::from_fn(|k| {
                let mut b = match (&self.on_q[i], i == k) {
                    (Some(m), true) => m.clone(),
                    _ => vec![Complex64::default(); n],
                };
                for j in 0..2 {
                    if let Some(m) = &self.on_psi[i][j] {
                        b.iter_mut()
                            .zip(m)
                            .zip(&inversion.a[j][k])
                            .for_each(|((b, m), a)| *b += m * a);
                    }
                }
                b
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_pv_gradient_equals_pyqg_qy() {
        let grid = Grid::new(8, 8, 1e6, 1e6).unwrap();
        let (f1, f2, beta, shear) = (3e-9, 7e-10, 1.5e-11, 0.025);
        let terms = [
            Term::new(TermKind::Beta, beta),
            Term::new(TermKind::ShearPvGradient { f1, f2 }, shear),
        ];
        let lin = LinearTendency::fuse(&terms, &grid);
        let qy = [beta + f1 * shear, beta - f2 * shear];
        for (lev, q) in qy.iter().enumerate() {
            let m = lin.on_psi[lev][lev].as_ref().unwrap();
            for (ik, &k) in grid.kk.iter().enumerate() {
                let got = m[ik * grid.nl() + 3];
                assert!(
                    (got.im + k * q).abs() <= 1e-15 * (k * q).abs(),
                    "{got} vs {}",
                    -k * q
                );
                assert_eq!(got.re, 0.0);
            }
        }
        assert!(lin.on_q[0].is_none() && lin.on_psi[0][1].is_none());
    }
}

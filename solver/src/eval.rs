//! Evaluation of expressions on a two-layer state with a model's [`Spectral`] toolkit: a library
//! column, a correction or a closure is computed by the same transforms, operators, inversion and
//! Jacobian as the model's tendency.
//!
//! An expression is a real field: the result of every operator, Jacobian and advection is the
//! spectrum of a real field ([`Spectral::make_real`]), as when each step goes to the grid and
//! back (Ross et al.'s feature extractor). This matters only at the `k = 0` and Nyquist columns,
//! and only when operators are chained (`dx(dx(f))` has no Nyquist-column part).

use crate::Complex64;
use crate::error::SolverError;
use crate::expr::{Expr, Field};
use crate::spectral::{Spectral, Workspace};
use ndarray::ArrayView3;
use std::sync::Arc;

/// A two-layer state in spectral space (k-major spectra, per layer).
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralState {
    /// PV anomaly.
    pub qh: [Vec<Complex64>; 2],
    /// Streamfunction.
    pub ph: [Vec<Complex64>; 2],
}

/// A value: spectral where it came from a linear chain, physical after a product.
enum Value {
    Spectral(Vec<Complex64>),
    Physical(Vec<f64>),
}

/// Evaluates expressions on states; holds one thread's transforms and scratch.
#[derive(Debug, Clone)]
pub struct Evaluator {
    spectral: Arc<Spectral>,
    ws: Workspace,
    /// Background zonal flow per layer, for `adv` (the model's `U1`, `U2`).
    background: [f64; 2],
}

impl Evaluator {
    /// An evaluator with the toolkit `spectral`.
    pub fn new(spectral: Arc<Spectral>) -> Self {
        Self {
            ws: spectral.workspace(),
            spectral,
            background: [0.0; 2],
        }
    }

    /// The same evaluator with a background zonal flow per layer for `adv` (a model's
    /// `Model::background_flow`).
    pub fn with_background(mut self, ubg: [f64; 2]) -> Self {
        self.background = ubg;
        self
    }

    /// The toolkit.
    pub fn spectral(&self) -> &Arc<Spectral> {
        &self.spectral
    }

    /// Checks that `e` can be evaluated with this toolkit (the jet's fields exist when used).
    pub fn check(&self, e: &Expr) -> Result<(), SolverError> {
        match e
            .fields()
            .into_iter()
            .find(|f| matches!(f, Field::PsiR | Field::Sponge))
        {
            Some(f) if self.spectral.jet().is_none() => Err(SolverError::Expression(format!(
                "`{e}` uses `{f}`, which only the MEDIDA jet model has"
            ))),
            _ => Ok(()),
        }
    }

    /// The spectral state of physical PV `q` `(2, ny, nx)`.
    pub fn state(&mut self, q: ArrayView3<f64>) -> Result<SpectralState, SolverError> {
        let g = self.spectral.grid();
        let expected = [2, g.ny, g.nx];
        if q.shape() != expected {
            return Err(SolverError::Shape {
                name: "q",
                got: q.shape().to_vec(),
                expected: expected.to_vec(),
            });
        }
        let qh = std::array::from_fn(|lev| {
            let mut buf: Vec<f64> = q
                .index_axis(ndarray::Axis(0), lev)
                .iter()
                .copied()
                .collect();
            let mut out = vec![Complex64::default(); g.n_spec()];
            self.ws.fft.forward(&mut buf, &mut out);
            out
        });
        Ok(self.state_from_qh(qh))
    }

    /// The state of spectral PV `qh` (k-major, per layer): inverts for `psi`.
    pub fn state_from_qh(&self, qh: [Vec<Complex64>; 2]) -> SpectralState {
        let ph = self.spectral.invert([&qh[0], &qh[1]]);
        SpectralState { qh, ph }
    }

    /// The expression on the grid, `(ny, nx)` row-major; an error when `e` fails
    /// [`Evaluator::check`] or `s` is not a state of this grid.
    pub fn field(&mut self, e: &Expr, s: &SpectralState) -> Result<Vec<f64>, SolverError> {
        self.checked(e, s)?;
        Ok(self.field_of(e, s))
    }

    /// The expression's spectrum (k-major); errors as [`Evaluator::field`].
    pub fn spectrum(&mut self, e: &Expr, s: &SpectralState) -> Result<Vec<Complex64>, SolverError> {
        self.checked(e, s)?;
        Ok(self.spectrum_of(e, s))
    }

    fn checked(&self, e: &Expr, s: &SpectralState) -> Result<(), SolverError> {
        self.check(e)?;
        let n = self.spectral.grid().n_spec();
        if let Some(bad) = s.qh.iter().chain(&s.ph).find(|h| h.len() != n) {
            return Err(SolverError::Shape {
                name: "spectral state",
                got: vec![bad.len()],
                expected: vec![n],
            });
        }
        Ok(())
    }

    fn field_of(&mut self, e: &Expr, s: &SpectralState) -> Vec<f64> {
        match self.eval(e, s) {
            Value::Physical(p) => p,
            Value::Spectral(h) => self.field_from(&h),
        }
    }

    fn spectrum_of(&mut self, e: &Expr, s: &SpectralState) -> Vec<Complex64> {
        match self.eval(e, s) {
            Value::Spectral(h) => h,
            Value::Physical(mut p) => self.spectrum_from(&mut p),
        }
    }

    /// The expression times a real spectral multiplier (k-major; a model's update filter), on
    /// the grid; errors as [`Evaluator::field`], or when `multiplier` has the wrong length.
    pub fn filtered_field(
        &mut self,
        e: &Expr,
        s: &SpectralState,
        multiplier: &[f64],
    ) -> Result<Vec<f64>, SolverError> {
        let mut h = self.spectrum(e, s)?;
        if multiplier.len() != h.len() {
            return Err(SolverError::Shape {
                name: "spectral multiplier",
                got: vec![multiplier.len()],
                expected: vec![h.len()],
            });
        }
        h.iter_mut().zip(multiplier).for_each(|(h, m)| *h *= m);
        Ok(self.field_from(&h))
    }

    fn field_from(&mut self, h: &[Complex64]) -> Vec<f64> {
        let mut out = vec![0.0; self.spectral.grid().n_phys()];
        self.ws.fft.inverse(h, &mut out);
        out
    }

    fn spectrum_from(&mut self, p: &mut [f64]) -> Vec<Complex64> {
        let mut out = vec![Complex64::default(); self.spectral.grid().n_spec()];
        self.ws.fft.forward(p, &mut out);
        out
    }

    fn eval(&mut self, e: &Expr, s: &SpectralState) -> Value {
        let grid = self.spectral.grid();
        let nx = grid.nx;
        match e {
            Expr::Field(f) => match f {
                Field::Psi(i) => Value::Spectral(s.ph[*i].clone()),
                Field::Q(i) => Value::Spectral(s.qh[*i].clone()),
                Field::PsiR => Value::Spectral(self.jet().psi_r_hat.clone()),
                Field::Sponge => Value::Physical(rows(&self.jet().sponge, nx)),
                Field::Y => {
                    let half = grid.ly / 2.0;
                    let y: Vec<f64> = grid.y().iter().map(|y| y - half).collect();
                    Value::Physical(rows(&y, nx))
                }
                // u = -dy(psi), v = dx(psi), as the model computes its velocities.
                Field::U(i) => Value::Spectral(
                    s.ph[*i]
                        .iter()
                        .zip(self.spectral.l())
                        .map(|(p, &l)| Complex64::new(l * p.im, -l * p.re))
                        .collect(),
                ),
                Field::V(i) => Value::Spectral(
                    s.ph[*i]
                        .iter()
                        .zip(self.spectral.k())
                        .map(|(p, &k)| Complex64::new(-k * p.im, k * p.re))
                        .collect(),
                ),
                Field::Own(_) => unreachable!("Evaluator::checked refuses own-layer fields"),
            },
            Expr::Advect(lev, a) => {
                let lev = lev.expect("Evaluator::checked refuses own-layer advection");
                let fh = self.spectrum_of(a, s);
                let mut h = self.spectral.jacobian(&mut self.ws, &s.ph[lev], &fh);
                let u = self.background[lev];
                if u != 0.0 {
                    for ((h, f), &k) in h.iter_mut().zip(&fh).zip(self.spectral.k()) {
                        *h += Complex64::new(-k * f.im, k * f.re) * u;
                    }
                }
                self.spectral.make_real(&mut h);
                Value::Spectral(h)
            }
            Expr::Apply(op, a) => {
                let mut h = self.spectrum_of(a, s);
                let (k, l) = (self.spectral.k(), self.spectral.l());
                for ((h, k), l) in h.iter_mut().zip(k).zip(l) {
                    *h *= op.multiplier(*k, *l);
                }
                self.spectral.make_real(&mut h);
                Value::Spectral(h)
            }
            Expr::Jacobian(a, b) => {
                let (ah, bh) = (self.spectrum_of(a, s), self.spectrum_of(b, s));
                let mut h = self.spectral.jacobian(&mut self.ws, &ah, &bh);
                self.spectral.make_real(&mut h);
                Value::Spectral(h)
            }
            Expr::Product(a, b) => {
                let mut pa = self.field_of(a, s);
                let pb = self.field_of(b, s);
                pa.iter_mut().zip(&pb).for_each(|(a, b)| *a *= b);
                Value::Physical(pa)
            }
        }
    }

    fn jet(&self) -> &crate::spectral::JetFields {
        self.spectral
            .jet()
            .expect("Evaluator::checked requires the jet's fields before evaluating")
    }
}

/// A profile per row repeated along x: `(ny, nx)` row-major.
fn rows(profile: &[f64], nx: usize) -> Vec<f64> {
    profile
        .iter()
        .flat_map(|&p| std::iter::repeat_n(p, nx))
        .collect()
}

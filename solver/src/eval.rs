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
use crate::expr::{Expr, Field, Func, Op};
use crate::spectral::{Spectral, Workspace};
use ndarray::ArrayView3;
use std::collections::HashMap;
use std::sync::Arc;

/// A two-layer state in spectral space (k-major spectra, per layer).
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralState {
    /// PV anomaly.
    pub qh: [Vec<Complex64>; 2],
    /// Streamfunction.
    pub ph: [Vec<Complex64>; 2],
}

/// Evaluates expressions on states; holds one thread's transforms and scratch.
///
/// Within one call ([`Evaluator::field`], [`Evaluator::spectrum`], or [`Evaluator::spectra`] for
/// many expressions on one state) every subexpression is computed once, in each form (grid or
/// spectrum) it is needed in: `lap(adv(q1))` and `lap2(adv(q1))` share `adv(q1)`, and a
/// viscosity used in four places is computed once.
#[derive(Debug, Clone)]
pub struct Evaluator {
    spectral: Arc<Spectral>,
    ws: Workspace,
    /// Background zonal flow per layer, for `adv` (the model's `U1`, `U2`).
    background: [f64; 2],
    /// Values of the current call, by expression.
    spectra: HashMap<Expr, Vec<Complex64>>,
    fields: HashMap<Expr, Vec<f64>>,
    numbers: HashMap<Expr, f64>,
}

impl Evaluator {
    /// An evaluator with the toolkit `spectral`.
    pub fn new(spectral: Arc<Spectral>) -> Self {
        Self {
            ws: spectral.workspace(),
            spectral,
            background: [0.0; 2],
            spectra: HashMap::new(),
            fields: HashMap::new(),
            numbers: HashMap::new(),
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
        if e.is_generic() {
            return Err(SolverError::Expression(format!(
                "`{e}` is written for either layer (q, psi, u, v, adv): give the layer (q1, adv2, ...)"
            )));
        }
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
        let out = self.field_of(e, s);
        self.forget();
        Ok(out)
    }

    /// The expression's spectrum (k-major); errors as [`Evaluator::field`].
    pub fn spectrum(&mut self, e: &Expr, s: &SpectralState) -> Result<Vec<Complex64>, SolverError> {
        self.checked(e, s)?;
        let out = self.spectrum_of(e, s);
        self.forget();
        Ok(out)
    }

    /// The spectra of several expressions on one state, sharing their common subexpressions;
    /// errors as [`Evaluator::field`].
    pub fn spectra(
        &mut self,
        exprs: &[&Expr],
        s: &SpectralState,
    ) -> Result<Vec<Vec<Complex64>>, SolverError> {
        for e in exprs {
            self.checked(e, s)?;
        }
        let out = exprs.iter().map(|e| self.spectrum_of(e, s)).collect();
        self.forget();
        Ok(out)
    }

    /// The fields of several expressions on one state, sharing their common subexpressions;
    /// errors as [`Evaluator::field`].
    pub fn fields(
        &mut self,
        exprs: &[&Expr],
        s: &SpectralState,
    ) -> Result<Vec<Vec<f64>>, SolverError> {
        for e in exprs {
            self.checked(e, s)?;
        }
        let out = exprs.iter().map(|e| self.field_of(e, s)).collect();
        self.forget();
        Ok(out)
    }

    /// Ends a call: its values belong to its state.
    fn forget(&mut self) {
        self.spectra.clear();
        self.fields.clear();
        self.numbers.clear();
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

    /// Whether `e` is a number: numbers, domain means, and what is made of them alone.
    fn is_number(e: &Expr) -> bool {
        match e {
            Expr::Number(_) | Expr::Function(Func::Mean, _) => true,
            Expr::Field(_) | Expr::Apply(..) | Expr::Jacobian(..) | Expr::Advect(..) => false,
            _ => e.children().into_iter().all(Self::is_number),
        }
    }

    /// Whether `e` is computed on the grid (products, quotients, functions, the profiles, and
    /// sums of these). Never true where [`Evaluator::spectral_form`] is, so that neither form
    /// of a sum defers to the other forever.
    fn on_grid(e: &Expr) -> bool {
        match e {
            // A multiple of an expression is computed in that expression's form.
            Expr::Product(a, b) if Self::is_number(a) => Self::on_grid(b),
            Expr::Product(a, b) | Expr::Quotient(a, b) if Self::is_number(b) => Self::on_grid(a),
            Expr::Product(..)
            | Expr::Quotient(..)
            | Expr::Function(..)
            | Expr::Field(Field::Sponge | Field::Y) => true,
            Expr::Sum(a, b) | Expr::Difference(a, b) => Self::on_grid(a) && Self::on_grid(b),
            Expr::Negate(a) => Self::on_grid(a),
            _ => false,
        }
    }

    /// Whether `e` is computed as a spectrum (fields, operators, Jacobians, advection, and sums
    /// and multiples of these).
    fn spectral_form(e: &Expr) -> bool {
        match e {
            Expr::Field(Field::Sponge | Field::Y) | Expr::Number(_) => false,
            Expr::Field(_) | Expr::Apply(..) | Expr::Jacobian(..) | Expr::Advect(..) => true,
            Expr::Sum(a, b) | Expr::Difference(a, b) => {
                Self::spectral_form(a) && Self::spectral_form(b)
            }
            Expr::Negate(a) => Self::spectral_form(a),
            Expr::Product(a, b) => {
                (Self::is_number(a) && Self::spectral_form(b))
                    || (Self::is_number(b) && Self::spectral_form(a))
            }
            Expr::Quotient(a, b) => Self::is_number(b) && Self::spectral_form(a),
            Expr::Function(..) => false,
        }
    }

    /// `J(a, b)` (with `background`: plus `U dx(b)`, advection by a layer's full flow), from
    /// `a`'s velocities and `b` on the grid, each computed once per call.
    fn jacobian_of(
        &mut self,
        a: &Expr,
        b: &Expr,
        background: f64,
        s: &SpectralState,
    ) -> Vec<Complex64> {
        let mut h = if self.spectral.dealias() == crate::params::Dealias::ThreeHalves {
            let (ah, bh) = (self.spectrum_of(a, s), self.spectrum_of(b, s));
            self.spectral.jacobian(&mut self.ws, &ah, &bh)
        } else {
            let u = self.field_of(&Expr::Negate(Box::new(a.clone().apply(Op::Dy))), s);
            let v = self.field_of(&a.clone().apply(Op::Dx), s);
            let f = self.field_of(b, s);
            self.spectral
                .jacobian_from_grid(&mut self.ws, &u, &v, &f)
                .expect("not the 3/2 rule")
        };
        if background != 0.0 {
            let fh = self.spectrum_of(b, s);
            for ((h, f), &k) in h.iter_mut().zip(&fh).zip(self.spectral.k()) {
                *h += Complex64::new(-k * f.im, k * f.re) * background;
            }
        }
        self.spectral.make_real(&mut h);
        h
    }

    /// The value of a number expression ([`Evaluator::is_number`]).
    fn number_of(&mut self, e: &Expr, s: &SpectralState) -> f64 {
        if let Some(v) = self.numbers.get(e) {
            return *v;
        }
        let v = match e {
            Expr::Number(n) => n.value(),
            Expr::Function(Func::Mean, a) if Self::on_grid(a) || Self::is_number(a) => {
                let f = self.field_of(a, s);
                f.iter().sum::<f64>() / f.len() as f64
            }
            Expr::Function(Func::Mean, a) => {
                self.spectrum_of(a, s)[0].re / self.spectral.grid().n_phys() as f64
            }
            Expr::Function(Func::Sqrt, a) => self.number_of(a, s).sqrt(),
            Expr::Function(Func::Abs, a) => self.number_of(a, s).abs(),
            Expr::Negate(a) => -self.number_of(a, s),
            Expr::Sum(a, b) => self.number_of(a, s) + self.number_of(b, s),
            Expr::Difference(a, b) => self.number_of(a, s) - self.number_of(b, s),
            Expr::Product(a, b) => self.number_of(a, s) * self.number_of(b, s),
            Expr::Quotient(a, b) => self.number_of(a, s) / self.number_of(b, s),
            _ => unreachable!("called on numbers only"),
        };
        self.numbers.insert(e.clone(), v);
        v
    }

    /// The expression on the grid; computed once per call.
    fn field_of(&mut self, e: &Expr, s: &SpectralState) -> Vec<f64> {
        if let Some(f) = self.fields.get(e) {
            return f.clone();
        }
        let n = self.spectral.grid().n_phys();
        let nx = self.spectral.grid().nx;
        let out = if Self::is_number(e) {
            vec![self.number_of(e, s); n]
        } else {
            match e {
                Expr::Field(Field::Sponge) => rows(&self.jet().sponge, nx),
                Expr::Field(Field::Y) => {
                    let grid = self.spectral.grid();
                    let half = grid.ly / 2.0;
                    let y: Vec<f64> = grid.y().iter().map(|y| y - half).collect();
                    rows(&y, nx)
                }
                Expr::Product(a, b) | Expr::Quotient(a, b) => {
                    let divide = matches!(e, Expr::Quotient(..));
                    if Self::is_number(b) {
                        let c = self.number_of(b, s);
                        let mut f = self.field_of(a, s);
                        f.iter_mut()
                            .for_each(|x| *x = if divide { *x / c } else { *x * c });
                        f
                    } else if Self::is_number(a) && !divide {
                        let c = self.number_of(a, s);
                        let mut f = self.field_of(b, s);
                        f.iter_mut().for_each(|x| *x *= c);
                        f
                    } else {
                        let mut f = self.field_of(a, s);
                        let g = self.field_of(b, s);
                        f.iter_mut()
                            .zip(&g)
                            .for_each(|(x, y)| *x = if divide { *x / y } else { *x * y });
                        f
                    }
                }
                Expr::Function(func, a) => {
                    let mut f = self.field_of(a, s);
                    match func {
                        Func::Sqrt => f.iter_mut().for_each(|x| *x = x.sqrt()),
                        Func::Abs => f.iter_mut().for_each(|x| *x = x.abs()),
                        Func::Mean => unreachable!("a mean is a number"),
                    }
                    f
                }
                Expr::Sum(a, b) | Expr::Difference(a, b) if !Self::spectral_form(e) => {
                    let sign = if matches!(e, Expr::Sum(..)) {
                        1.0
                    } else {
                        -1.0
                    };
                    let mut f = self.field_of(a, s);
                    let g = self.field_of(b, s);
                    f.iter_mut().zip(&g).for_each(|(x, y)| *x += sign * y);
                    f
                }
                Expr::Negate(a) if !Self::spectral_form(e) => {
                    let mut f = self.field_of(a, s);
                    f.iter_mut().for_each(|x| *x = -*x);
                    f
                }
                _ => {
                    let h = self.spectrum_of(e, s);
                    self.field_from(&h)
                }
            }
        };
        self.fields.insert(e.clone(), out.clone());
        out
    }

    /// The expression's spectrum; computed once per call.
    fn spectrum_of(&mut self, e: &Expr, s: &SpectralState) -> Vec<Complex64> {
        if let Some(h) = self.spectra.get(e) {
            return h.clone();
        }
        let n = self.spectral.grid().n_spec();
        let out = if Self::is_number(e) {
            let mut h = vec![Complex64::default(); n];
            h[0] = Complex64::new(
                self.number_of(e, s) * self.spectral.grid().n_phys() as f64,
                0.0,
            );
            h
        } else {
            match e {
                Expr::Field(
                    f @ (Field::Psi(_) | Field::Q(_) | Field::U(_) | Field::V(_) | Field::PsiR),
                ) => self.state_field(*f, s),
                Expr::Advect(lev, a) => {
                    let lev = lev.expect("Evaluator::checked refuses own-layer advection");
                    self.jacobian_of(&Expr::psi(lev), a, self.background[lev], s)
                }
                Expr::Apply(op, a) => {
                    let mut h = self.spectrum_of(a, s);
                    op.apply_to(&mut h, self.spectral.k(), self.spectral.l());
                    self.spectral.make_real(&mut h);
                    h
                }
                Expr::Jacobian(a, b) => self.jacobian_of(a, b, 0.0, s),
                Expr::Sum(a, b) | Expr::Difference(a, b) if !Self::on_grid(e) => {
                    let sign = if matches!(e, Expr::Sum(..)) {
                        1.0
                    } else {
                        -1.0
                    };
                    let mut h = self.spectrum_of(a, s);
                    let g = self.spectrum_of(b, s);
                    h.iter_mut().zip(&g).for_each(|(x, y)| *x += y * sign);
                    h
                }
                Expr::Negate(a) if !Self::on_grid(e) => {
                    let mut h = self.spectrum_of(a, s);
                    h.iter_mut().for_each(|x| *x = -*x);
                    h
                }
                Expr::Product(a, b) | Expr::Quotient(a, b)
                    if Self::is_number(b)
                        || (Self::is_number(a) && matches!(e, Expr::Product(..))) =>
                {
                    let (c, other) = if Self::is_number(b) { (b, a) } else { (a, b) };
                    let c = self.number_of(c, s);
                    let c = if matches!(e, Expr::Quotient(..)) {
                        1.0 / c
                    } else {
                        c
                    };
                    let mut h = self.spectrum_of(other, s);
                    h.iter_mut().for_each(|x| *x *= c);
                    h
                }
                _ => {
                    let mut f = self.field_of(e, s);
                    self.spectrum_from(&mut f)
                }
            }
        };
        self.spectra.insert(e.clone(), out.clone());
        out
    }

    /// A field of the state (or the jet's `psi_R`) as a spectrum; `u = -dy(psi)`,
    /// `v = dx(psi)`, as the model computes its velocities.
    fn state_field(&self, f: Field, s: &SpectralState) -> Vec<Complex64> {
        match f {
            Field::Psi(i) => s.ph[i].clone(),
            Field::Q(i) => s.qh[i].clone(),
            Field::PsiR => self.jet().psi_r_hat.clone(),
            Field::U(i) => s.ph[i]
                .iter()
                .zip(self.spectral.l())
                .map(|(p, &l)| Complex64::new(l * p.im, -l * p.re))
                .collect(),
            Field::V(i) => s.ph[i]
                .iter()
                .zip(self.spectral.k())
                .map(|(p, &k)| Complex64::new(-k * p.im, k * p.re))
                .collect(),
            _ => unreachable!(
                "Evaluator::checked refuses own-layer fields; profiles are grid fields"
            ),
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

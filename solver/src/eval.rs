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
use crate::expr::{Expr, Field, Func};
use crate::plan::{Kind, Plan};
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

/// Evaluates expressions on states; holds one thread's transforms and scratch.
///
/// Within one call ([`Evaluator::field`], [`Evaluator::spectrum`], [`Evaluator::spectra`] and
/// [`Evaluator::fields`] for many expressions on one state, or [`Evaluator::plan_spectra`] for a
/// [`Plan`] compiled once) every subexpression is computed once, in each form (grid or spectrum)
/// it is needed in.
#[derive(Debug, Clone)]
pub struct Evaluator {
    spectral: Arc<Spectral>,
    ws: Workspace,
    /// Background zonal flow per layer, for `adv` (the model's `U1`, `U2`).
    background: [f64; 2],
    /// The layers' coefficient fields `c1`, `c2` on the grid (`None`: 1 everywhere).
    coefficients: [Option<Arc<Vec<f64>>>; 2],
    /// Values of the current call, by node of its plan.
    spectra: Vec<Option<Vec<Complex64>>>,
    fields: Vec<Option<Vec<f64>>>,
    numbers: Vec<Option<f64>>,
}

impl Evaluator {
    /// An evaluator with the toolkit `spectral`.
    pub fn new(spectral: Arc<Spectral>) -> Self {
        Self {
            ws: spectral.workspace(),
            spectral,
            background: [0.0; 2],
            coefficients: [None, None],
            spectra: Vec::new(),
            fields: Vec::new(),
            numbers: Vec::new(),
        }
    }

    /// The same evaluator with a background zonal flow per layer for `adv` (a model's
    /// `Model::background_flow`).
    pub fn with_background(mut self, ubg: [f64; 2]) -> Self {
        self.background = ubg;
        self
    }

    /// Sets layer `lev`'s coefficient field `c` (`(ny, nx)` row-major; `None`: 1 everywhere).
    /// The caller checks its shape and values ([`crate::Model::set_coefficient_field`]).
    pub fn set_coefficient_field(&mut self, lev: usize, c: Option<Arc<Vec<f64>>>) {
        self.coefficients[lev] = c;
    }

    /// The layers' coefficient fields.
    pub fn coefficient_fields(&self) -> &[Option<Arc<Vec<f64>>>; 2] {
        &self.coefficients
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
        Ok(self.fields(&[e], s)?.remove(0))
    }

    /// The expression's spectrum (k-major); errors as [`Evaluator::field`].
    pub fn spectrum(&mut self, e: &Expr, s: &SpectralState) -> Result<Vec<Complex64>, SolverError> {
        Ok(self.spectra(&[e], s)?.remove(0))
    }

    /// The spectra of several expressions on one state, sharing their common subexpressions;
    /// errors as [`Evaluator::field`].
    pub fn spectra(
        &mut self,
        exprs: &[&Expr],
        s: &SpectralState,
    ) -> Result<Vec<Vec<Complex64>>, SolverError> {
        let plan = self.plan(exprs)?;
        self.plan_spectra(&plan, s)
    }

    /// The fields of several expressions on one state, sharing their common subexpressions;
    /// errors as [`Evaluator::field`].
    pub fn fields(
        &mut self,
        exprs: &[&Expr],
        s: &SpectralState,
    ) -> Result<Vec<Vec<f64>>, SolverError> {
        let plan = self.plan(exprs)?;
        self.check_state(s)?;
        self.begin(&plan);
        let out = plan
            .roots
            .iter()
            .map(|&r| self.field_of(&plan, r, s))
            .collect();
        self.begin(&Plan::default());
        Ok(out)
    }

    /// The plan of `exprs`, each checked ([`Evaluator::check`]): compile it once to evaluate
    /// it on many states ([`Evaluator::plan_spectra`]).
    pub fn plan(&self, exprs: &[&Expr]) -> Result<Plan, SolverError> {
        for e in exprs {
            self.check(e)?;
        }
        Ok(Plan::new(exprs))
    }

    /// The spectra of a plan's expressions on `s`, in its order.
    pub fn plan_spectra(
        &mut self,
        plan: &Plan,
        s: &SpectralState,
    ) -> Result<Vec<Vec<Complex64>>, SolverError> {
        self.check_state(s)?;
        self.begin(plan);
        let out = plan
            .roots
            .iter()
            .map(|&r| self.spectrum_of(plan, r, s))
            .collect();
        self.begin(&Plan::default());
        Ok(out)
    }

    /// Empty values for the nodes of `plan` (a call's values belong to its state).
    fn begin(&mut self, plan: &Plan) {
        let n = plan.nodes.len();
        self.spectra.clear();
        self.spectra.resize(n, None);
        self.fields.clear();
        self.fields.resize(n, None);
        self.numbers.clear();
        self.numbers.resize(n, None);
    }

    fn check_state(&self, s: &SpectralState) -> Result<(), SolverError> {
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

    /// The value of a number node.
    fn number_of(&mut self, p: &Plan, id: usize, s: &SpectralState) -> f64 {
        if let Some(v) = self.numbers[id] {
            return v;
        }
        let node = &p.nodes[id];
        let a = |i: usize| node.args[i];
        let v = match node.kind {
            Kind::Number(v) => v,
            Kind::Function(Func::Mean) if !p.nodes[a(0)].spectral => {
                let f = self.field_of(p, a(0), s);
                f.iter().sum::<f64>() / f.len() as f64
            }
            Kind::Function(Func::Mean) => {
                self.spectrum_of(p, a(0), s)[0].re / self.spectral.grid().n_phys() as f64
            }
            Kind::Function(Func::Sqrt) => self.number_of(p, a(0), s).sqrt(),
            Kind::Function(Func::Abs) => self.number_of(p, a(0), s).abs(),
            Kind::Function(Func::Cos) => self.number_of(p, a(0), s).cos(),
            Kind::Negate => -self.number_of(p, a(0), s),
            Kind::Sum => self.number_of(p, a(0), s) + self.number_of(p, a(1), s),
            Kind::Difference => self.number_of(p, a(0), s) - self.number_of(p, a(1), s),
            Kind::Product => self.number_of(p, a(0), s) * self.number_of(p, a(1), s),
            Kind::Quotient => self.number_of(p, a(0), s) / self.number_of(p, a(1), s),
            _ => unreachable!("called on numbers only"),
        };
        self.numbers[id] = Some(v);
        v
    }

    /// A node on the grid; computed once per call.
    fn field_of(&mut self, p: &Plan, id: usize, s: &SpectralState) -> Vec<f64> {
        if let Some(f) = &self.fields[id] {
            return f.clone();
        }
        let node = &p.nodes[id];
        let a = |i: usize| node.args[i];
        let n = self.spectral.grid().n_phys();
        let nx = self.spectral.grid().nx;
        let out = if node.number {
            vec![self.number_of(p, id, s); n]
        } else {
            match node.kind {
                Kind::Field(Field::Sponge) => rows(&self.jet().sponge, nx),
                Kind::Field(Field::Coefficient(lev)) => match &self.coefficients[lev] {
                    Some(c) => c.to_vec(),
                    None => vec![1.0; n],
                },
                Kind::Field(Field::Y) => {
                    let grid = self.spectral.grid();
                    let half = grid.ly / 2.0;
                    let y: Vec<f64> = grid.y().iter().map(|y| y - half).collect();
                    rows(&y, nx)
                }
                Kind::Field(Field::X) => {
                    let grid = self.spectral.grid();
                    let half = grid.lx / 2.0;
                    let x: Vec<f64> = grid.x().iter().map(|x| x - half).collect();
                    (0..grid.ny).flat_map(|_| x.iter().copied()).collect()
                }
                Kind::Product | Kind::Quotient => {
                    let divide = node.kind == Kind::Quotient;
                    let (x, y) = (a(0), a(1));
                    if p.nodes[y].number {
                        let c = self.number_of(p, y, s);
                        let mut f = self.field_of(p, x, s);
                        f.iter_mut()
                            .for_each(|v| *v = if divide { *v / c } else { *v * c });
                        f
                    } else if p.nodes[x].number && !divide {
                        let c = self.number_of(p, x, s);
                        let mut f = self.field_of(p, y, s);
                        f.iter_mut().for_each(|v| *v *= c);
                        f
                    } else {
                        let mut f = self.field_of(p, x, s);
                        let g = self.field_of(p, y, s);
                        f.iter_mut()
                            .zip(&g)
                            .for_each(|(v, w)| *v = if divide { *v / w } else { *v * w });
                        f
                    }
                }
                Kind::Function(func) => {
                    let mut f = self.field_of(p, a(0), s);
                    match func {
                        Func::Sqrt => f.iter_mut().for_each(|x| *x = x.sqrt()),
                        Func::Abs => f.iter_mut().for_each(|x| *x = x.abs()),
                        Func::Cos => f.iter_mut().for_each(|x| *x = x.cos()),
                        Func::Mean => unreachable!("a mean is a number"),
                    }
                    f
                }
                Kind::Sum | Kind::Difference if !node.spectral => {
                    let sign = if node.kind == Kind::Sum { 1.0 } else { -1.0 };
                    let mut f = self.field_of(p, a(0), s);
                    let g = self.field_of(p, a(1), s);
                    f.iter_mut().zip(&g).for_each(|(x, y)| *x += sign * y);
                    f
                }
                Kind::Negate if !node.spectral => {
                    let mut f = self.field_of(p, a(0), s);
                    f.iter_mut().for_each(|x| *x = -*x);
                    f
                }
                _ => {
                    let h = self.spectrum_of(p, id, s);
                    self.field_from(&h)
                }
            }
        };
        if node.uses > 1 {
            self.fields[id] = Some(out.clone());
        }
        out
    }

    /// A node's spectrum; computed once per call.
    fn spectrum_of(&mut self, p: &Plan, id: usize, s: &SpectralState) -> Vec<Complex64> {
        if let Some(h) = &self.spectra[id] {
            return h.clone();
        }
        let node = &p.nodes[id];
        let a = |i: usize| node.args[i];
        let n = self.spectral.grid().n_spec();
        let out = if node.number {
            let mut h = vec![Complex64::default(); n];
            let m = self.spectral.grid().n_phys() as f64;
            h[0] = Complex64::new(self.number_of(p, id, s) * m, 0.0);
            h
        } else {
            match node.kind {
                Kind::Field(
                    f @ (Field::Psi(_) | Field::Q(_) | Field::U(_) | Field::V(_) | Field::PsiR),
                ) => self.state_field(f, s),
                Kind::Jacobian(background) => self.jacobian_of(p, &node.args, background, s),
                Kind::Apply(op) => {
                    let mut h = self.spectrum_of(p, a(0), s);
                    op.apply_to(&mut h, self.spectral.k(), self.spectral.l());
                    self.spectral.make_real(&mut h);
                    h
                }
                Kind::Sum | Kind::Difference if !node.grid => {
                    let sign = if node.kind == Kind::Sum { 1.0 } else { -1.0 };
                    let mut h = self.spectrum_of(p, a(0), s);
                    let g = self.spectrum_of(p, a(1), s);
                    h.iter_mut().zip(&g).for_each(|(x, y)| *x += y * sign);
                    h
                }
                Kind::Negate if !node.grid => {
                    let mut h = self.spectrum_of(p, a(0), s);
                    h.iter_mut().for_each(|x| *x = -*x);
                    h
                }
                Kind::Product | Kind::Quotient
                    if p.nodes[a(1)].number
                        || (p.nodes[a(0)].number && node.kind == Kind::Product) =>
                {
                    let (c, other) = if p.nodes[a(1)].number {
                        (a(1), a(0))
                    } else {
                        (a(0), a(1))
                    };
                    let c = self.number_of(p, c, s);
                    let c = if node.kind == Kind::Quotient {
                        1.0 / c
                    } else {
                        c
                    };
                    let mut h = self.spectrum_of(p, other, s);
                    h.iter_mut().for_each(|x| *x *= c);
                    h
                }
                _ => {
                    let mut f = self.field_of(p, id, s);
                    self.spectrum_from(&mut f)
                }
            }
        };
        if node.uses > 1 {
            self.spectra[id] = Some(out.clone());
        }
        out
    }

    /// `J(a, b)` of a Jacobian node (arguments `a`, `b`, `-dy(a)`, `dx(a)`), plus `U dx(b)` with
    /// layer `background`'s flow for an advection; the velocities and `b` on the grid.
    fn jacobian_of(
        &mut self,
        p: &Plan,
        args: &[usize],
        background: Option<usize>,
        s: &SpectralState,
    ) -> Vec<Complex64> {
        let (a, b, u, v) = (args[0], args[1], args[2], args[3]);
        let mut h = if self.spectral.dealias() == crate::params::Dealias::ThreeHalves {
            let (ah, bh) = (self.spectrum_of(p, a, s), self.spectrum_of(p, b, s));
            self.spectral.jacobian(&mut self.ws, &ah, &bh)
        } else {
            let (u, v, f) = (
                self.field_of(p, u, s),
                self.field_of(p, v, s),
                self.field_of(p, b, s),
            );
            self.spectral
                .jacobian_from_grid(&mut self.ws, &u, &v, &f)
                .expect("not the 3/2 rule")
        };
        if let Some(lev) = background
            && self.background[lev] != 0.0
        {
            let fh = self.spectrum_of(p, b, s);
            let ubg = self.background[lev];
            for ((h, f), &k) in h.iter_mut().zip(&fh).zip(self.spectral.k()) {
                *h += Complex64::new(-k * f.im, k * f.re) * ubg;
            }
        }
        self.spectral.make_real(&mut h);
        h
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

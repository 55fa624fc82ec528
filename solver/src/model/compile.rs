//! Term compilation: a model's terms become the fused kernel a step runs. Every `(layer, factor,
//! expression)` of every shape, weighted by its term's coefficient, goes to the cheapest form that
//! computes it exactly as written:
//!
//! - a chain of wavenumber-diagonal operators on `psi_j` or `q_j` becomes a multiplier of that
//!   spectrum, all of them summed and passed through the inversion into multipliers of `q_hat`
//!   (pyqg's `Qy`, `rek` and `U` terms are these);
//! - an expression that does not read the state is a forcing, evaluated once;
//! - `J(psi_j, q_j)` in layer `i` is the advection kernel: layer `j`'s fluxes, with a coefficient
//!   per pair of layers (a corrected model's cross-layer Jacobian reuses the other layer's);
//! - `s*eddy(q_i)` in layer `i` is the sponge kernel;
//! - an implicit term's operator on `q_i` becomes part of the update filter;
//! - anything else is evaluated by the [`Evaluator`] at every tendency evaluation.
//!
//! The weights are `coefficient * factor`, summed in term order, so the kernel's arithmetic is
//! fixed by the term list and is the same at any thread count.

use super::NZ;
use crate::Complex64;
use crate::error::SolverError;
use crate::eval::{Evaluator, SpectralState};
use crate::expr::{Expr, Field, Op};
use crate::filter::exponential_filter;
use crate::params::QgParams;
use crate::plan::Plan;
use crate::spectral::Spectral;
use crate::term::Term;

/// The fused operators of one term list.
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    /// `b[i][k]`: multiplier of `q_hat[k]` in `dq_hat[i]/dt`, every linear part through the inversion.
    pub linear_on_q: [[Vec<Complex64>; NZ]; NZ],
    /// State-independent forcing per layer.
    pub forcing: [Option<Vec<Complex64>>; NZ],
    /// Sponge profile times its weight, per layer, one value per row.
    pub sponge: [Option<Vec<f64>>; NZ],
    /// `c_j[i][j]`: coefficient of `-J(psi_j, q_j)` in layer `i` (the advection: `c_j[i][i]`).
    pub c_j: [[f64; NZ]; NZ],
    /// Background flow per layer: minus the weight of `dx(q_i)` in layer `i` (for the CFL number).
    pub ubg: [f64; NZ],
    /// Multiplies an update over `dt`: pyqg's exponential filter, divided by `1 + dt rate` for the
    /// implicit terms. Per layer.
    pub filtr: [Vec<f64>; NZ],
    /// The same for an update over `2 dt` (leapfrog).
    pub filtr_2dt: [Vec<f64>; NZ],
    /// Weighted expressions evaluated at every tendency evaluation, per layer.
    pub generic: [Vec<(f64, Expr)>; NZ],
    /// Those expressions, both layers' in order, as one plan: shared parts computed once.
    pub generic_plan: Plan,
}

impl Kernel {
    /// Compiles `terms` on `spectral` with the step and filter of `params`. Errors name the term.
    pub fn compile(
        terms: &[Term],
        spectral: &Spectral,
        params: &QgParams,
        eval: &mut Evaluator,
    ) -> Result<Self, SolverError> {
        check_terms(terms, eval)?;
        let n = spectral.grid().n_spec();
        let mut on_q: [[Option<Vec<Complex64>>; NZ]; NZ] = Default::default();
        let mut on_psi: [[Option<Vec<Complex64>>; NZ]; NZ] = Default::default();
        let mut forcing: [Option<Vec<Complex64>>; NZ] = Default::default();
        let mut sponge: [Option<Vec<f64>>; NZ] = Default::default();
        let mut rate: [Option<Vec<f64>>; NZ] = Default::default();
        let mut generic: [Vec<(f64, Expr)>; NZ] = Default::default();
        let (mut c_j, mut ubg) = ([[0.0; NZ]; NZ], [0.0; NZ]);
        let zero_state = SpectralState {
            qh: [vec![Complex64::default(); n], vec![Complex64::default(); n]],
            ph: [vec![Complex64::default(); n], vec![Complex64::default(); n]],
        };
        for term in terms {
            for (lev, layer) in term.shape().iter().enumerate() {
                for (factor, e) in layer {
                    let weight = term.coefficient * factor;
                    if weight == 0.0 {
                        continue;
                    }
                    if term.is_implicit() {
                        let r = implicit_rate(term, lev, e, weight, spectral)?;
                        add_real(&mut rate[lev], &r);
                        continue;
                    }
                    if let Some((field, ops)) = e.as_linear().filter(|(f, _)| f.is_state()) {
                        if ops == [Op::Dx] && field == Field::Q(lev) {
                            ubg[lev] += -weight;
                        }
                        // u = -dy(psi) and v = dx(psi) are operators on psi.
                        let (slot, ops, weight) = match field {
                            Field::Q(j) => (&mut on_q[lev][j], ops, weight),
                            Field::Psi(j) => (&mut on_psi[lev][j], ops, weight),
                            Field::U(j) => {
                                (&mut on_psi[lev][j], [&[Op::Dy], &ops[..]].concat(), -weight)
                            }
                            Field::V(j) => {
                                (&mut on_psi[lev][j], [&[Op::Dx], &ops[..]].concat(), weight)
                            }
                            _ => unreachable!("own-layer fields are refused by check_terms"),
                        };
                        add(slot, &spectral.multiplier(&ops, weight));
                    } else if !e.reads_state() {
                        let h = eval.spectrum(e, &zero_state)?;
                        let f: Vec<Complex64> = h.iter().map(|h| weight * h).collect();
                        add(&mut forcing[lev], &f);
                    } else if let Some(j) = advected_layer(e) {
                        c_j[lev][j] += -weight;
                    } else if let Some(profile) = own_sponge(e, lev, spectral) {
                        let s: Vec<f64> = profile.iter().map(|s| -weight * s).collect();
                        add_real(&mut sponge[lev], &s);
                    } else {
                        generic[lev].push((weight, e.clone()));
                    }
                }
            }
        }
        let inversion = spectral.inversion();
        let linear_on_q = std::array::from_fn(|i| {
            std::array::from_fn(|k| {
                let mut b = match &on_q[i][k] {
                    Some(m) => m.clone(),
                    None => vec![Complex64::default(); n],
                };
                for (m, a) in on_psi[i].iter().zip(&inversion.a) {
                    if let Some(m) = m {
                        b.iter_mut()
                            .zip(m)
                            .zip(&a[k])
                            .for_each(|((b, m), a)| *b += m * a);
                    }
                }
                b
            })
        });
        let exp_filter = exponential_filter(spectral.grid(), params.filterfac);
        // Implicit terms: the update over h is divided by 1 + h rate.
        let damping = |h: f64, lev: usize| -> Vec<f64> {
            match &rate[lev] {
                None => exp_filter.clone(),
                Some(r) => exp_filter
                    .iter()
                    .zip(r)
                    .map(|(f, r)| if *r == 0.0 { *f } else { f / (1.0 + h * r) })
                    .collect(),
            }
        };
        let generic = generic.map(fold_linear);
        let exprs: Vec<&Expr> = generic.iter().flatten().map(|(_, e)| e).collect();
        let generic_plan = eval.plan(&exprs)?;
        Ok(Self {
            linear_on_q,
            forcing,
            sponge,
            c_j,
            ubg,
            filtr: std::array::from_fn(|lev| damping(params.dt, lev)),
            filtr_2dt: std::array::from_fn(|lev| damping(2.0 * params.dt, lev)),
            generic,
            generic_plan,
        })
    }
}

/// An operator or an advection: linear in its argument.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wrapper {
    Op(Op),
    Advect(Option<usize>),
}

impl Wrapper {
    fn of(e: &Expr) -> Option<(Self, &Expr)> {
        match e {
            Expr::Apply(op, a) => Some((Self::Op(*op), a)),
            Expr::Advect(lev, a) => Some((Self::Advect(*lev), a)),
            _ => None,
        }
    }

    fn wrap(self, e: Expr) -> Expr {
        match self {
            Self::Op(op) => e.apply(op),
            Self::Advect(lev) => e.advected(lev),
        }
    }
}

/// Weighted expressions with the same linear outer operator become one: `a W(x) + b W(y) =
/// W(a x + b y)` (recursively), so that each operator, and above all each advection, is
/// evaluated once: the published closure's two double advections become one. Equal in exact
/// arithmetic; the order is fixed by the term list.
fn fold_linear(items: Vec<(f64, Expr)>) -> Vec<(f64, Expr)> {
    let mut out = Vec::new();
    let mut groups: Vec<(Wrapper, Vec<(f64, Expr)>)> = Vec::new();
    for (w, e) in items {
        match Wrapper::of(&e) {
            Some((wrapper, inner)) => match groups.iter_mut().find(|(g, _)| *g == wrapper) {
                Some((_, members)) => members.push((w, inner.clone())),
                None => groups.push((wrapper, vec![(w, inner.clone())])),
            },
            None => out.push((w, e)),
        }
    }
    for (wrapper, members) in groups {
        if let [(w, e)] = &members[..] {
            out.push((*w, wrapper.wrap(e.clone())));
            continue;
        }
        let sum = fold_linear(members)
            .into_iter()
            .map(|(w, e)| {
                if w == 1.0 {
                    e
                } else {
                    Expr::product(Expr::number(w), e)
                }
            })
            .reduce(|a, b| Expr::Sum(Box::new(a), Box::new(b)))
            .expect("a group has members");
        out.push((1.0, wrapper.wrap(sum)));
    }
    out
}

/// Names are unique and non-empty, coefficients and factors finite, fields known to the toolkit.
fn check_terms(terms: &[Term], eval: &Evaluator) -> Result<(), SolverError> {
    let bad = |t: &Term, reason: String| SolverError::Term {
        name: t.name().to_string(),
        reason,
    };
    for (i, t) in terms.iter().enumerate() {
        if t.name().trim().is_empty() {
            return Err(bad(t, "a term needs a name".into()));
        }
        if terms[..i].iter().any(|o| o.name() == t.name()) {
            return Err(bad(t, "two terms have this name".into()));
        }
        if !t.coefficient.is_finite() {
            return Err(bad(
                t,
                format!("coefficient {}: allowed a finite number", t.coefficient),
            ));
        }
        for (f, e) in t.shape().iter().flatten() {
            if !f.is_finite() {
                return Err(bad(
                    t,
                    format!("factor {f} of `{e}`: allowed a finite number"),
                ));
            }
            if let Some(Field::Psi(j) | Field::Q(j)) = e
                .fields()
                .into_iter()
                .find(|f| matches!(f, Field::Psi(j) | Field::Q(j) if *j >= NZ))
            {
                return Err(bad(
                    t,
                    format!("`{e}` reads layer {}: the model has 2", j + 1),
                ));
            }
            eval.check(e).map_err(|err| bad(t, err.to_string()))?;
        }
    }
    Ok(())
}

/// The damping rate `-weight * multiplier` of an implicit part, which must be a real,
/// non-negative, wavenumber-diagonal operator on the layer's own `q`.
fn implicit_rate(
    term: &Term,
    lev: usize,
    e: &Expr,
    weight: f64,
    spectral: &Spectral,
) -> Result<Vec<f64>, SolverError> {
    let bad = |reason: String| SolverError::Term {
        name: term.name().to_string(),
        reason,
    };
    let Some((Field::Q(j), ops)) = e.as_linear() else {
        return Err(bad(format!(
            "implicit part `{e}` must be operators on q{} alone",
            lev + 1
        )));
    };
    if j != lev {
        return Err(bad(format!(
            "implicit part `{e}` in layer {} acts on another layer",
            lev + 1
        )));
    }
    let m = spectral.multiplier(&ops, 1.0);
    let rate: Vec<f64> = m.iter().map(|m| -weight * m.re).collect();
    if m.iter().any(|m| m.im != 0.0) || rate.iter().any(|r| r.is_nan() || *r < 0.0) {
        return Err(bad(format!(
            "implicit part {weight:e} {e} must damp: a real operator with a rate >= 0 at every wavenumber"
        )));
    }
    Ok(rate)
}

/// `j` of `J(psi_j, q_j)`: layer `j`'s advection of its own PV.
fn advected_layer(e: &Expr) -> Option<usize> {
    (0..NZ).find(|&j| matches!(e, Expr::Jacobian(a, b) if **a == Expr::psi(j) && **b == Expr::q(j)))
}

/// The profile of `s*eddy(q_i)` in layer `i`.
fn own_sponge<'a>(e: &Expr, lev: usize, spectral: &'a Spectral) -> Option<&'a [f64]> {
    match e {
        Expr::Product(a, b)
            if **a == Expr::Field(Field::Sponge) && **b == Expr::q(lev).apply(Op::Eddy) =>
        {
            spectral.jet().map(|j| &j.sponge[..])
        }
        _ => None,
    }
}

fn add(slot: &mut Option<Vec<Complex64>>, m: &[Complex64]) {
    match slot {
        Some(acc) => acc.iter_mut().zip(m).for_each(|(a, m)| *a += m),
        None => *slot = Some(m.to_vec()),
    }
}

fn add_real(slot: &mut Option<Vec<f64>>, m: &[f64]) {
    match slot {
        Some(acc) => acc.iter_mut().zip(m).for_each(|(a, m)| *a += m),
        None => *slot = Some(m.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_linear_operator_is_evaluated_once() {
        let p = |s: &str| Expr::parse(s).unwrap();
        let items = vec![
            (2.0, p("lap(adv1(q1))")),
            (-3.0, p("adv1(adv1(dx(lap(v1))))")),
            (5.0, p("adv1(adv1(dy(lap(u1))))")),
            (7.0, p("q1*q2")),
        ];
        let folded = fold_linear(items);
        let text: Vec<String> = folded.iter().map(|(w, e)| format!("{w} {e}")).collect();
        assert_eq!(
            text,
            [
                "7 q1*q2",
                "2 lap(adv1(q1))",
                "1 adv1(adv1(-3*dx(lap(v1)) + 5*dy(lap(u1))))"
            ]
        );
    }
}

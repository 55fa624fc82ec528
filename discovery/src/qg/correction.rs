//! A discovered model error as a term of the solver: `dq_i/dt += sum_j c_ij T_j(state)`, evaluated
//! with the library's own evaluator at every tendency evaluation, so the corrected model is the
//! imperfect model plus exactly the equation that was printed.

use super::eval::{Evaluator, SpectralState};
use super::expr::Expr;
use medida_solver::{Complex64, External, ExternalTendency, Term, TermKind};
use std::sync::{Arc, Mutex};

/// The correction `sum_j c_ij T_j` per layer `i`.
#[derive(Debug)]
pub struct Correction {
    terms: Vec<(Expr, [f64; 2])>,
    eval: Mutex<Evaluator>,
}

impl Correction {
    /// The correction with `terms` (each with its coefficients in layers 1 and 2; zero
    /// coefficients are dropped) on the evaluator's geometry.
    pub fn new(terms: Vec<(Expr, [f64; 2])>, eval: Evaluator) -> Self {
        Self {
            terms: terms
                .into_iter()
                .filter(|(_, c)| c.iter().any(|c| *c != 0.0))
                .collect(),
            eval: Mutex::new(eval),
        }
    }

    /// The correction as a solver term with coefficient 1 (add it with `Model::add_term`).
    pub fn into_term(self) -> Term {
        Term::new(TermKind::External(External(Arc::new(self))), 1.0)
    }
}

impl ExternalTendency for Correction {
    fn name(&self) -> String {
        "discovered_correction".into()
    }

    fn symbol(&self) -> String {
        let layer = |i: usize| {
            self.terms
                .iter()
                .filter(|(_, c)| c[i] != 0.0)
                .map(|(e, c)| format!("{:+.4e} {e}", c[i]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!("[{}; {}]", layer(0), layer(1))
    }

    fn add_tendency(
        &self,
        qh: [&[Complex64]; 2],
        ph: [&[Complex64]; 2],
        coefficient: f64,
        mut dqh: [&mut [Complex64]; 2],
    ) {
        let state = SpectralState {
            qh: qh.map(<[Complex64]>::to_vec),
            ph: ph.map(<[Complex64]>::to_vec),
        };
        let mut eval = self.eval.lock().unwrap_or_else(|p| p.into_inner());
        for (e, c) in &self.terms {
            let h = eval.spectral(e, &state);
            for (lev, d) in dqh.iter_mut().enumerate() {
                let w = coefficient * c[lev];
                if w != 0.0 {
                    d.iter_mut().zip(&h).for_each(|(d, h)| *d += h * w);
                }
            }
        }
    }
}

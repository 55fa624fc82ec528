//! A term of the PV tendency: a name, a coefficient, and per layer a sum of expressions of the
//! term grammar ([`crate::expr`]), its shape. The model's tendency is
//! `dq_i/dt = sum_terms coefficient * shape_i(state)`; changing a coefficient (or dropping or
//! adding a term) turns the truth into an imperfect model, and the same shapes are what a
//! regression library's columns, a discovered correction and a closure are made of.
//!
//! Sign convention: a term's shape is what is **added to dq/dt**, so `-beta dx(psi)` has shape
//! `-dx(psi)` and coefficient `beta`.

use crate::expr::Expr;
use std::fmt::Write;

/// One layer's part of a shape: `sum (factor * expression)`.
pub type LayerShape = Vec<(f64, Expr)>;

/// A named term with its coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    name: String,
    /// The number multiplying the shape.
    pub coefficient: f64,
    shape: [LayerShape; 2],
    implicit: bool,
}

impl Term {
    /// The term `coefficient * shape`, `shape[i]` added to `dq_i/dt`.
    pub fn new(name: impl Into<String>, coefficient: f64, shape: [LayerShape; 2]) -> Self {
        Self {
            name: name.into(),
            coefficient,
            shape,
            implicit: false,
        }
    }

    /// The same term treated implicitly by the steppers: each layer's shape must be a damping,
    /// wavenumber-diagonal operator on that layer's `q`; an update over `h` is then divided by
    /// `1 + h rate(k, l)` (MEDIDA's hyperviscosity).
    pub fn implicit(mut self) -> Self {
        self.implicit = true;
        self
    }

    /// A unique, stable name: configs, output attributes, `Model::set_coefficient`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shape per layer, at unit coefficient.
    pub fn shape(&self) -> &[LayerShape; 2] {
        &self.shape
    }

    /// Whether the steppers treat the term implicitly.
    pub fn is_implicit(&self) -> bool {
        self.implicit
    }

    /// How the term reads: `name [layer 1; layer 2]`, e.g. `beta [-dx(psi1); -dx(psi2)]`.
    pub fn symbol(&self) -> String {
        let [a, b] = &self.shape;
        let implicit = if self.implicit { " (implicit)" } else { "" };
        format!("{} [{}; {}]{implicit}", self.name, sum_text(a), sum_text(b))
    }
}

/// `sum (factor * expression)` as text: `-dx(q1) - 3.556e-9 dx(psi1)`, `0` when empty.
pub fn sum_text(items: &[(f64, Expr)]) -> String {
    let mut out = String::new();
    for (f, e) in items {
        let sign = if f.is_sign_negative() { "-" } else { "+" };
        let sep = match (out.is_empty(), sign) {
            (true, "-") => "-".to_string(),
            (true, _) => String::new(),
            (false, s) => format!(" {s} "),
        };
        let mag = f.abs();
        if mag == 1.0 {
            let _ = write!(out, "{sep}{e}");
        } else {
            let _ = write!(out, "{sep}{mag:.4e} {e}");
        }
    }
    if out.is_empty() { "0".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Op;

    #[test]
    fn symbols_print_each_layer() {
        let t = Term::new(
            "drift",
            2.0,
            [
                vec![
                    (-1.0, Expr::q(0).apply(Op::Dx)),
                    (-0.5, Expr::psi(0).apply(Op::Dx)),
                ],
                vec![],
            ],
        );
        assert_eq!(t.symbol(), "drift [-dx(q1) - 5.0000e-1 dx(psi1); 0]");
    }
}

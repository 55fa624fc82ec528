//! Expressions compiled into a graph of their distinct subexpressions, built once and evaluated
//! at every step: each subexpression is computed once per evaluation, in the forms (grid or
//! spectrum) it is needed in, and nothing is hashed or compared while evaluating. `lap(adv(q1))`
//! and `lap2(adv(q1))` share `adv(q1)`; every advection by layer 1's flow shares its velocities;
//! a viscosity written four times is computed once.

use crate::expr::{Expr, Field, Func, Op};
use std::collections::HashMap;

/// What a node computes from its arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// A field (no arguments).
    Field(Field),
    /// A number (no arguments).
    Number(f64),
    /// An operator of argument 0.
    Apply(Op),
    /// `J(a, b)` (arguments `a`, `b`, `-dy(a)`, `dx(a)`), plus `U_lev dx(b)` with a layer's
    /// background flow for an advection.
    Jacobian(Option<usize>),
    /// Pointwise products, quotients, sums and differences of arguments 0 and 1.
    Product,
    Quotient,
    Sum,
    Difference,
    /// `-a`.
    Negate,
    /// A pointwise function of argument 0.
    Function(Func),
}

/// One distinct subexpression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub args: Vec<usize>,
    /// A number: numbers, domain means, and what is made of them alone.
    pub number: bool,
    /// Computed as a spectrum: fields, operators, Jacobians, and sums and multiples of these.
    pub spectral: bool,
    /// Computed on the grid: products, quotients, functions, the profiles, and sums of these.
    /// Never with `spectral`, so that neither form of a sum defers to the other forever.
    pub grid: bool,
    /// How many nodes (or roots) read it: a value read once is not kept.
    pub uses: usize,
}

/// Expressions as a graph of distinct subexpressions; the roots in the order given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub(crate) nodes: Vec<Node>,
    pub(crate) roots: Vec<usize>,
}

impl Plan {
    /// The graph of `exprs` (layer-explicit expressions; see [`Expr::in_layer`]).
    pub fn new(exprs: &[&Expr]) -> Self {
        let mut plan = Self::default();
        let mut seen = HashMap::new();
        for e in exprs {
            let id = plan.intern(e, &mut seen);
            plan.nodes[id].uses += 1;
            plan.roots.push(id);
        }
        plan
    }

    /// Number of expressions.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether the plan has no expressions.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    fn intern(&mut self, e: &Expr, seen: &mut HashMap<Expr, usize>) -> usize {
        if let Some(&id) = seen.get(e) {
            return id;
        }
        let mut arg = |x: &Expr, plan: &mut Self| plan.intern(x, seen);
        let (kind, args) = match e {
            Expr::Field(f) => (Kind::Field(*f), vec![]),
            Expr::Number(n) => (Kind::Number(n.value()), vec![]),
            Expr::Apply(op, a) => (Kind::Apply(*op), vec![arg(a, self)]),
            Expr::Jacobian(a, b) => (Kind::Jacobian(None), self.jacobian_args(a, b, seen)),
            Expr::Advect(lev, b) => {
                let lev = lev.expect("layer-explicit expressions only");
                (
                    Kind::Jacobian(Some(lev)),
                    self.jacobian_args(&Expr::psi(lev), b, seen),
                )
            }
            Expr::Product(a, b) => (Kind::Product, vec![arg(a, self), arg(b, self)]),
            Expr::Quotient(a, b) => (Kind::Quotient, vec![arg(a, self), arg(b, self)]),
            Expr::Sum(a, b) => (Kind::Sum, vec![arg(a, self), arg(b, self)]),
            Expr::Difference(a, b) => (Kind::Difference, vec![arg(a, self), arg(b, self)]),
            Expr::Negate(a) => (Kind::Negate, vec![arg(a, self)]),
            Expr::Function(f, a) => (Kind::Function(*f), vec![arg(a, self)]),
        };
        let node = self.classify(kind, args);
        for &a in &node.args {
            self.nodes[a].uses += 1;
        }
        if let Kind::Jacobian(Some(_)) = kind {
            // An advection reads its field on the grid and, for the background flow, its spectrum.
            self.nodes[node.args[1]].uses += 1;
        }
        self.nodes.push(node);
        let id = self.nodes.len() - 1;
        seen.insert(e.clone(), id);
        id
    }

    /// `a`, `b`, and the velocities `-dy(a)`, `dx(a)` of a Jacobian.
    fn jacobian_args(&mut self, a: &Expr, b: &Expr, seen: &mut HashMap<Expr, usize>) -> Vec<usize> {
        let u = Expr::Negate(Box::new(a.clone().apply(Op::Dy)));
        let v = a.clone().apply(Op::Dx);
        [a, b, &u, &v]
            .iter()
            .map(|x| self.intern(x, seen))
            .collect()
    }

    /// The node of `kind` with `args`, its forms from its arguments'.
    fn classify(&self, kind: Kind, args: Vec<usize>) -> Node {
        let n = |i: usize| &self.nodes[args[i]];
        let (number, spectral, grid) = match kind {
            Kind::Number(_) | Kind::Function(Func::Mean) => (true, false, false),
            Kind::Field(Field::Sponge | Field::X | Field::Y | Field::Coefficient(_)) => {
                (false, false, true)
            }
            Kind::Field(_) | Kind::Apply(_) | Kind::Jacobian(_) => (false, true, false),
            Kind::Function(_) => (n(0).number, false, !n(0).number),
            Kind::Negate => (n(0).number, n(0).spectral, n(0).grid),
            Kind::Sum | Kind::Difference => (
                n(0).number && n(1).number,
                n(0).spectral && n(1).spectral,
                n(0).grid && n(1).grid,
            ),
            Kind::Product => {
                let (a, b) = (n(0), n(1));
                let number = a.number && b.number;
                let spectral = (a.number && b.spectral) || (b.number && a.spectral);
                let grid = if a.number {
                    b.grid
                } else if b.number {
                    a.grid
                } else {
                    true
                };
                (number, spectral, grid && !number)
            }
            Kind::Quotient => {
                let (a, b) = (n(0), n(1));
                let number = a.number && b.number;
                (
                    number,
                    b.number && a.spectral,
                    !number && (!b.number || a.grid),
                )
            }
        };
        Node {
            kind,
            args,
            number,
            spectral,
            grid,
            uses: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_subexpressions_are_one_node() {
        let e: Vec<Expr> = ["lap(adv1(q1))", "lap2(adv1(q1))", "adv1(psi2)"]
            .iter()
            .map(|s| Expr::parse(s).unwrap())
            .collect();
        let refs: Vec<&Expr> = e.iter().collect();
        let p = Plan::new(&refs);
        let jacobians = p
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, Kind::Jacobian(_)))
            .count();
        assert_eq!(jacobians, 2, "adv1(q1) once, adv1(psi2) once");
        // psi1's velocities are one pair of nodes, read by both advections.
        let u1 = p
            .nodes
            .iter()
            .filter(|n| n.kind == Kind::Apply(Op::Dy))
            .count();
        assert_eq!(u1, 1);
        assert_eq!(p.len(), 3);
    }
}

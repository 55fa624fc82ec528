//! Closure libraries: columns written once for either layer in the term grammar (`q`, `u`, `v`,
//! `psi` and `adv` are the layer's own; see [`medida_solver::expr`]), each a sum of expressions
//! (a single expression, or a composite such as Zanna-Bolton 2020's PV forcing), evaluated per
//! layer on the coarse model's state with the coarse model's evaluator (its background flow for
//! `adv`, Ross et al.'s `advected`).

use crate::error::{DiscoveryError, library_error};
use crate::library::Library;
use medida_solver::{Evaluator, Expr, LayerShape, SpectralState};

/// The 7 terms of Ross et al.'s hybrid-symbolic closure, in their order (reference section 1.6).
pub const ROSS7: [&str; 7] = [
    "lap(adv(q))",
    "lap2(adv(q))",
    "lap3(adv(q))",
    "lap2(q)",
    "lap3(q)",
    "adv(adv(dx(lap(v))))",
    "adv(adv(dy(lap(u))))",
];

/// The published weights of [`ROSS7`] per layer (SI units; added to dq/dt as they are), with
/// every digit the repository gives.
#[allow(clippy::excessive_precision)]
pub const ROSS7_WEIGHTS: [[f64; 7]; 2] = [
    [
        1.4077349573135765e7,
        1.9300721349777748e15,
        2.3311494532833229e22,
        1.1828024430000000e9,
        1.1410567621344224e17,
        -6.7029178551956909e10,
        8.9901990193476257e10,
    ],
    [
        5.196460289865505e6,
        7.031351150824246e14,
        1.130130768679029e11,
        8.654265196250000e8,
        7.496556547888773e16,
        -8.300923156070618e11,
        9.790139405295905e11,
    ],
];

/// The curl of Zanna and Bolton's (2020) velocity forcing divided by its `kappa`:
/// `2 dx dy(zeta D) + (dx^2 - dy^2)(zeta D_tilde)`, `zeta = lap(psi)`, `D = dx(v) + dy(u)`,
/// `D_tilde = dx(u) - dy(v)` (the trace part of the tensor has no curl); pyqg's
/// `ZannaBolton2020` enters dq/dt as this times `kappa` (default -4.6761284e7 m^2).
pub const ZB20: [(f64, &str); 6] = [
    (2.0, "dx(dy(lap(psi)*dx(v)))"),
    (2.0, "dx(dy(lap(psi)*dy(u)))"),
    (1.0, "dx(dx(lap(psi)*dx(u)))"),
    (-1.0, "dx(dx(lap(psi)*dy(v)))"),
    (-1.0, "dy(dy(lap(psi)*dx(u)))"),
    (1.0, "dy(dy(lap(psi)*dy(v)))"),
];

/// The nonlinear gradient model's PV forcing without its `Delta^2 / 12`:
/// `div(grad(u) . grad(q), grad(v) . grad(q))`.
pub const NGM: [(f64, &str); 4] = [
    (1.0, "dx(dx(u)*dx(q))"),
    (1.0, "dx(dy(u)*dy(q))"),
    (1.0, "dy(dx(v)*dx(q))"),
    (1.0, "dy(dy(v)*dy(q))"),
];

/// More candidates beside [`ROSS7`], `zb20` and `ngm`: Laplacians of q and of its advection to the
/// third power, advection of Laplacians, double advection, and the velocity terms of the Ross
/// closure with fewer advections. Not `lap2(psi)`: it is `dx(lap(v)) - dy(lap(u))` exactly.
pub const CLOSURE_MORE: [&str; 18] = [
    "lap(q)",
    "adv(q)",
    "adv(lap(q))",
    "adv(lap2(q))",
    "lap(adv(lap(q)))",
    "adv(adv(q))",
    "lap(adv(adv(q)))",
    "adv(adv(lap(q)))",
    "dx(lap(v))",
    "dy(lap(u))",
    "adv(dx(lap(v)))",
    "adv(dy(lap(u)))",
    "lap(dx(lap(v)))",
    "lap(dy(lap(u)))",
    "dx(adv(v))",
    "dy(adv(u))",
    "lap(dx(adv(v)))",
    "lap(dy(adv(u)))",
];

/// A library column: a name and its expression, a sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// As it prints (`lap(adv(q))`, `zb20`).
    pub name: String,
    /// The column per unit coefficient, for either layer.
    pub shape: LayerShape,
}

/// A closure library.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosureLibrary {
    spec: String,
    columns: Vec<Column>,
}

impl ClosureLibrary {
    /// A library from a specification: `;`-separated items, each a preset (`ross7`: Ross et al.'s
    /// 7 terms; `zb20` and `ngm`: one composite column each; `closure`: those and 18 more) or an
    /// expression (`lap(adv(q))`, `dx(lap(v))*q`). Repeated columns are an error.
    pub fn parse(spec: &str) -> Result<Self, DiscoveryError> {
        let mut columns: Vec<Column> = Vec::new();
        let one = |e: &str| -> Result<Column, DiscoveryError> {
            let e = Expr::parse(e).map_err(library_error)?;
            Ok(Column {
                name: e.to_string(),
                shape: vec![(1.0, e)],
            })
        };
        let composite = |name: &str, parts: &[(f64, &str)]| -> Result<Column, DiscoveryError> {
            let shape = parts
                .iter()
                .map(|(f, e)| Ok((*f, Expr::parse(e).map_err(library_error)?)))
                .collect::<Result<_, DiscoveryError>>()?;
            Ok(Column {
                name: name.into(),
                shape,
            })
        };
        for item in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let new: Vec<Column> = match item {
                "ross7" => ROSS7.iter().map(|e| one(e)).collect::<Result<_, _>>()?,
                "zb20" => vec![composite("zb20", &ZB20)?],
                "ngm" => vec![composite("ngm", &NGM)?],
                "closure" => {
                    let mut c: Vec<Column> =
                        ROSS7.iter().map(|e| one(e)).collect::<Result<_, _>>()?;
                    c.push(composite("zb20", &ZB20)?);
                    c.push(composite("ngm", &NGM)?);
                    for e in CLOSURE_MORE {
                        c.push(one(e)?);
                    }
                    c
                }
                e => vec![one(e)?],
            };
            for c in new {
                if columns
                    .iter()
                    .any(|o| o.name == c.name || o.shape == c.shape)
                {
                    return Err(DiscoveryError::Library(format!(
                        "`{}` appears twice in the library `{spec}`",
                        c.name
                    )));
                }
                columns.push(c);
            }
        }
        if columns.is_empty() {
            return Err(DiscoveryError::Library(format!(
                "`{spec}`: the library is empty (give ross7, zb20, ngm, closure or expressions separated by `;`)"
            )));
        }
        Ok(Self {
            spec: spec.trim().to_string(),
            columns,
        })
    }

    /// The specification.
    pub fn spec(&self) -> &str {
        &self.spec
    }
    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
    /// The column names.
    pub fn library(&self) -> Library {
        Library::new(self.columns.iter().map(|c| c.name.clone()))
    }

    /// Checks that every column can be evaluated in both layers with `eval` (fields the model has).
    pub fn check(&self, eval: &Evaluator) -> Result<(), DiscoveryError> {
        for c in &self.columns {
            for lev in 0..2 {
                for (_, e) in &c.shape {
                    eval.check(&e.in_layer(lev)).map_err(library_error)?;
                }
            }
        }
        Ok(())
    }

    /// Every column in layer `lev` on `state`, each `(ny, nx)` row-major, evaluated together so
    /// that subexpressions they share (`adv(q)` of `lap(adv(q))` and `lap2(adv(q))`) are
    /// computed once.
    pub fn columns_in_layer(
        &self,
        lev: usize,
        eval: &mut Evaluator,
        state: &SpectralState,
    ) -> Result<Vec<Vec<f64>>, DiscoveryError> {
        let exprs: Vec<Expr> = self
            .columns
            .iter()
            .flat_map(|c| c.shape.iter().map(|(_, e)| e.in_layer(lev)))
            .collect();
        let refs: Vec<&Expr> = exprs.iter().collect();
        let mut fields = eval.fields(&refs, state)?.into_iter();
        Ok(self
            .columns
            .iter()
            .map(|c| {
                c.shape
                    .iter()
                    .zip(fields.by_ref())
                    .map(|((f, _), field)| field.into_iter().map(|v| f * v).collect::<Vec<f64>>())
                    .reduce(|mut acc, x| {
                        acc.iter_mut().zip(&x).for_each(|(a, v)| *a += v);
                        acc
                    })
                    .unwrap_or_default()
            })
            .collect())
    }

    /// The closure with coefficients `coef[lev][j]` as a model term named `name`, coefficient 1.
    pub fn term(&self, name: &str, coef: &[Vec<f64>; 2]) -> medida_solver::Term {
        let layer = |lev: usize| {
            self.columns
                .iter()
                .zip(&coef[lev])
                .filter(|(_, c)| **c != 0.0)
                .flat_map(|(col, c)| col.shape.iter().map(move |(f, e)| (c * f, e.in_layer(lev))))
                .collect()
        };
        medida_solver::Term::new(name, 1.0, [layer(0), layer(1)])
    }
}

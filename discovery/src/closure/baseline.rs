//! Built-in closures: pyqg 0.7.2's parameterizations (`Smagorinsky`, `BackscatterBiharmonic`,
//! `ZannaBolton2020`) and Ross et al.'s published 7-term hybrid-symbolic closure, each written
//! as terms of the coarse model in the one term grammar, so they print as equations, compose
//! with any other term, and run through the same evaluator as libraries and discovered closures.
//! Every term is added to dq/dt; a velocity closure `(du, dv)` enters as its curl
//! `-dy(du) + dx(dv)`, as pyqg adds it.
//!
//! Selected by a specification `name[:key=value,...]`: `smagorinsky:cs=0.15`,
//! `smagorinsky-mean:cs=0.1`, `leith:cl=0.17`, `backscatter:cs=0.0837,cb=1.2`, `backscatter-jet`, `zb20:kappa=-4.676e7`, `ross7`
//! ([`Baseline::parse`]; [`BASELINES`] lists them).

use crate::closure::library::{ClosureLibrary, ROSS7_WEIGHTS, ZB20};
use crate::error::DiscoveryError;
use medida_solver::{Expr, LayerShape, Op, QgParams, Term};
use serde::{Deserialize, Serialize};

/// A built-in closure with its constants.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// pyqg's `Smagorinsky(constant)`: viscosity `nu = (cs dx)^2 sqrt(2 (Sxx^2 + Syy^2 + 2 Sxy^2))`,
    /// `du = 2 (dx(nu Sxx) + dy(nu Sxy))`, `dv = 2 (dx(nu Sxy) + dy(nu Syy))`.
    Smagorinsky {
        /// Smagorinsky constant `C_S`.
        cs: f64,
    },
    /// The SMARL study's Smagorinsky (py2d's): a uniform viscosity from the domain-mean strain
    /// rate, `nu = (cs dx)^2 sqrt(<2 (Sxx^2 + Syy^2 + 2 Sxy^2)>)` (`<.>` the layer's mean),
    /// added to dq/dt as `div(nu grad q)`: it removes enstrophy in every layer. (For a
    /// non-divergent flow on the periodic domain `<|S|^2> = <zeta^2>`, the relative vorticity's.)
    SmagorinskyMean {
        /// Smagorinsky constant `C_S`.
        cs: f64,
    },
    /// Leith's (1996) eddy viscosity on the layer's PV anomaly, as the 2-D turbulence studies
    /// write it on vorticity: `nu = (cl dx)^3 |grad q|`, added to dq/dt as `div(nu grad q)`
    /// (`dx(nu dx(q)) + dy(nu dy(q))`), so a positive `cl` removes enstrophy in every layer:
    /// `d/dt <q^2>/2 = -<nu |grad q|^2>`.
    Leith {
        /// Leith constant `C_L`.
        cl: f64,
    },
    /// pyqg's `BackscatterBiharmonic(smag_constant, back_constant)` (Jansen and Held 2014):
    /// dissipation `D = -lap(dx^2 nu lap2(psi))` with the Smagorinsky `nu`, and backscatter
    /// `-cb lap2(psi) sum_n H_n <psi_n D_n> / (sum_n H_n <psi_n lap2(psi_n)> + 1e-32)`.
    Backscatter {
        /// Smagorinsky constant of the dissipation.
        cs: f64,
        /// Fraction of the dissipated energy returned.
        cb: f64,
    },
    /// pyqg's `ZannaBolton2020(constant)`: `kappa` times the curl of the divergence of Zanna and
    /// Bolton's tensor.
    Zb20 {
        /// `kappa` [m^2].
        kappa: f64,
    },
    /// Ross et al.'s (2023) hybrid-symbolic closure with its published weights.
    Ross7,
}

/// A built-in closure's name, its constants with their defaults, and what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineInfo {
    /// Name in a specification.
    pub name: &'static str,
    /// Constants and defaults.
    pub constants: &'static [(&'static str, f64)],
    /// What it is.
    pub about: &'static str,
}

/// The built-in backscatter's Smagorinsky constant, Ross et al.'s `sqrt(0.007)`.
const BACKSCATTER_CS: f64 = 0.083_666_002_653_407_55;

/// The built-in closures.
pub const BASELINES: [BaselineInfo; 7] = [
    BaselineInfo {
        name: "smagorinsky",
        constants: &[("cs", 0.15)],
        about: "pyqg's Smagorinsky eddy viscosity (velocity closure, enters as its curl); Ross et al. ran cs = 0.15",
    },
    BaselineInfo {
        name: "smagorinsky-mean",
        constants: &[("cs", 0.17)],
        about: "the SMARL study's Smagorinsky: a uniform viscosity (cs dx)^2 sqrt(<|S|^2>) from the layer's domain-mean strain rate, div(nu grad q); the study's default cs = 0.17",
    },
    BaselineInfo {
        name: "leith",
        constants: &[("cl", 0.17)],
        about: "Leith's eddy viscosity (cl dx)^3 |grad q| on the PV anomaly, div(nu grad q); cl = 0.17 is the 2-D turbulence studies' default",
    },
    BaselineInfo {
        name: "backscatter",
        constants: &[("cs", BACKSCATTER_CS), ("cb", 1.2)],
        about: "pyqg's BackscatterBiharmonic (Jansen-Held), Ross et al.'s eddy constants cs = sqrt(0.007), cb = 1.2",
    },
    BaselineInfo {
        name: "backscatter-jet",
        constants: &[("cs", 0.070_710_678_118_654_75), ("cb", 0.8)],
        about: "the same with Perezhogin's jet constants cs = sqrt(0.005), cb = 0.8",
    },
    BaselineInfo {
        name: "zb20",
        constants: &[("kappa", -46_761_284.0)],
        about: "pyqg's ZannaBolton2020 (velocity closure, enters as its curl), kappa in m^2",
    },
    BaselineInfo {
        name: "ross7",
        constants: &[],
        about: "Ross et al.'s (2023) published 7-term hybrid-symbolic closure with its released weights",
    },
];

/// pyqg's squared strain rate `|S|^2 = 2 (Sxx^2 + Syy^2 + 2 Sxy^2)` of the own layer.
macro_rules! strain_squared {
    () => {
        "2*(dx(u)*dx(u) + dy(v)*dy(v) + 2*(0.5*(dy(u) + dx(v)))*(0.5*(dy(u) + dx(v))))"
    };
}

/// pyqg's Smagorinsky `|S|`, `nu / (cs dx)^2`.
const STRAIN: &str = concat!("sqrt(", strain_squared!(), ")");

/// The SMARL study's `sqrt(<|S|^2>)`, the layer's domain mean: a number.
const MEAN_STRAIN: &str = concat!("sqrt(mean(", strain_squared!(), "))");

impl Baseline {
    /// Parses `name[:key=value,...]` (names and constants in [`BASELINES`]); unknown names and
    /// keys, repeated keys and non-finite values are errors naming them.
    pub fn parse(spec: &str) -> Result<Self, DiscoveryError> {
        let bad = |what: String| DiscoveryError::Closure(format!("`{spec}`: {what}"));
        let (name, args) = spec.trim().split_once(':').unwrap_or((spec.trim(), ""));
        let info = BASELINES.iter().find(|b| b.name == name).ok_or_else(|| {
            let names: Vec<&str> = BASELINES.iter().map(|b| b.name).collect();
            bad(format!(
                "unknown closure `{name}` (built-in: {}; or a closure discover result, FILE.json)",
                names.join(", ")
            ))
        })?;
        let mut values: Vec<(&str, f64)> = info.constants.to_vec();
        for (k, v) in constants(args).map_err(bad)? {
            let slot = values.iter_mut().find(|(n, _)| *n == k).ok_or_else(|| {
                let keys: Vec<&str> = info.constants.iter().map(|c| c.0).collect();
                bad(format!(
                    "`{name}` has no constant `{k}` (its constants: {})",
                    if keys.is_empty() {
                        "none".to_string()
                    } else {
                        keys.join(", ")
                    }
                ))
            })?;
            slot.1 = v;
        }
        let get = |k: &str| values.iter().find(|(n, _)| *n == k).map_or(0.0, |c| c.1);
        Ok(match name {
            "smagorinsky" => Self::Smagorinsky { cs: get("cs") },
            "smagorinsky-mean" => Self::SmagorinskyMean { cs: get("cs") },
            "leith" => Self::Leith { cl: get("cl") },
            "backscatter" | "backscatter-jet" => Self::Backscatter {
                cs: get("cs"),
                cb: get("cb"),
            },
            "zb20" => Self::Zb20 {
                kappa: get("kappa"),
            },
            _ => Self::Ross7,
        })
    }

    /// The closure as terms of a coarse model with parameters `p` (its `dx` and layer depths).
    pub fn terms(&self, p: &QgParams) -> Vec<Term> {
        let dx = p.L / p.nx as f64;
        match *self {
            Self::Smagorinsky { cs } => vec![smagorinsky("smagorinsky", (cs * dx).powi(2), STRAIN)],
            Self::SmagorinskyMean { cs } => vec![diffusion(
                "smagorinsky_mean",
                (cs * dx).powi(2),
                MEAN_STRAIN,
            )],
            Self::Leith { cl } => vec![diffusion("leith", (cl * dx).powi(3), LEITH)],
            Self::Backscatter { cs, cb } => backscatter(p, cs, ("backscatter", cb), "").to_vec(),
            Self::Zb20 { kappa } => {
                let items: Vec<(f64, Expr)> = ZB20.iter().map(|(f, e)| (*f, own(e))).collect();
                vec![Term::new("zb20", kappa, layers(&items))]
            }
            Self::Ross7 => {
                let lib = ClosureLibrary::parse("ross7").expect("the preset parses");
                vec![lib.term("ross7", &ROSS7_WEIGHTS.map(|w| w.to_vec()))]
            }
        }
    }
}

/// Leith's `|grad q|` of the own layer, `nu / (cl dx)^3`.
const LEITH: &str = "sqrt(dx(q)*dx(q) + dy(q)*dy(q))";

/// An expression of a built-in closure.
fn own(text: &str) -> Expr {
    Expr::parse(text).expect("a built-in closure parses")
}

/// The same items in both layers.
fn layers(items: &[(f64, Expr)]) -> [LayerShape; 2] {
    std::array::from_fn(|lev| items.iter().map(|(f, e)| (*f, e.in_layer(lev))).collect())
}

/// pyqg's Smagorinsky closure with viscosity `coefficient * nu` (`nu` written for either layer).
fn smagorinsky(name: &str, coefficient: f64, nu: &str) -> Term {
    let sxy = format!("{nu}*(0.5*(dy(u) + dx(v)))");
    let du = own(&format!("2*(dx({nu}*dx(u)) + dy({sxy}))"));
    let dv = own(&format!("2*(dx({sxy}) + dy({nu}*dy(v)))"));
    Term::new(
        name,
        coefficient,
        layers(&[(-1.0, du.apply(Op::Dy)), (1.0, dv.apply(Op::Dx))]),
    )
}

/// A diffusion of PV, `div(coefficient nu grad q)` (Leith's closure, the study's Smagorinsky).
fn diffusion(name: &str, coefficient: f64, nu: &str) -> Term {
    let flux = own(&format!("dx({nu}*dx(q)) + dy({nu}*dy(q))"));
    Term::new(name, coefficient, layers(&[(1.0, flux)]))
}

/// pyqg's `BackscatterBiharmonic` as two terms: the biharmonic Smagorinsky dissipation `D` of
/// constant `cs`, and the backscatter `-lap2(psi) sum_n H_n <psi_n D_n> / sum_n H_n <psi_n
/// lap2(psi_n)>` (the energy `D` removes, returned at large scales) named and weighted by
/// `back`, times `factor` (`""`, or `"c*"`: a coefficient field in place of `cb`).
fn backscatter(p: &QgParams, cs: f64, back: (&str, f64), factor: &str) -> [Term; 2] {
    let dx = p.L / p.nx as f64;
    let c = (cs * dx).powi(2) * dx * dx;
    let dissipation = |lev: usize| {
        let strain = own(STRAIN).in_layer(lev);
        Expr::parse(&format!("lap(lap2(psi{})*{strain})", lev + 1))
            .expect("a built-in closure parses")
    };
    let [h1, h2] = p.hi();
    let d = |lev: usize| format!("(-({c:e}*{}))", dissipation(lev));
    let ratio = format!(
        "({h1:e}*mean(psi1*{d1}) + {h2:e}*mean(psi2*{d2}))/({h1:e}*mean(psi1*lap2(psi1)) + {h2:e}*mean(psi2*lap2(psi2)) + 1e-32)",
        d1 = d(0),
        d2 = d(1)
    );
    // `in_layer` makes a field factor `c` the layer's own.
    let returned = |lev: usize| {
        Expr::parse(&format!("{factor}lap2(psi{})*{ratio}", lev + 1))
            .expect("a built-in closure parses")
            .in_layer(lev)
    };
    [
        Term::new(
            "backscatter_dissipation",
            c,
            [vec![(-1.0, dissipation(0))], vec![(-1.0, dissipation(1))]],
        ),
        Term::new(
            back.0,
            back.1,
            [vec![(-1.0, returned(0))], vec![(-1.0, returned(1))]],
        ),
    ]
}

/// A closure whose constant is a coefficient field `c(x, y, t)` per layer (the grammar's `c`, set
/// as the model runs): an eddy viscosity, Smagorinsky's `nu = c dx^2 |S|` (`c` in place of
/// `cs^2`), the SMARL study's `nu = c dx^2 sqrt(<|S|^2>)` (its `a`) or Leith's `nu = c dx^3 |grad
/// q|` (`c` in place of `cl^3`), where a non-negative field keeps the built-in closure's sign: it
/// removes energy (Smagorinsky) or enstrophy (the study's Smagorinsky, Leith) in every layer; or
/// the Jansen-Held backscatter with a fixed dissipation and `c` in place of `cb`, the local
/// fraction of the dissipated energy returned (a uniform `c` returns exactly that fraction).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldClosure {
    /// pyqg's Smagorinsky with `c = cs^2`.
    Smagorinsky,
    /// The SMARL study's Smagorinsky (domain-mean strain rate) with `c = cs^2`: the study's own
    /// closure.
    #[serde(rename = "smagorinsky-mean")]
    SmagorinskyMean,
    /// Leith with `c = cl^3`.
    Leith,
    /// pyqg's `BackscatterBiharmonic` with its dissipation's Smagorinsky constant `cs` and
    /// `c = cb`.
    Backscatter {
        /// Smagorinsky constant of the dissipation.
        cs: f64,
    },
}

impl FieldClosure {
    /// `smagorinsky`, `smagorinsky-mean`, `leith` or `backscatter[:cs=VALUE]` (the dissipation's
    /// constant; default the built-in backscatter's).
    pub fn parse(spec: &str) -> Result<Self, DiscoveryError> {
        let (name, args) = spec.trim().split_once(':').unwrap_or((spec.trim(), ""));
        let bad = |what: String| DiscoveryError::Closure(format!("`{spec}`: {what}"));
        let pairs = constants(args).map_err(bad)?;
        let closure = match name.trim() {
            "smagorinsky" => Self::Smagorinsky,
            "smagorinsky-mean" => Self::SmagorinskyMean,
            "leith" => Self::Leith,
            "backscatter" => match pairs[..] {
                [] => Self::Backscatter { cs: BACKSCATTER_CS },
                [("cs", cs)] if cs > 0.0 => return Ok(Self::Backscatter { cs }),
                _ => {
                    return Err(bad(
                        "the backscatter field's only constant is its dissipation's cs > 0 (cb is the field)".into(),
                    ));
                }
            },
            other => {
                return Err(DiscoveryError::Closure(format!(
                    "`{other}`: a closure with a coefficient field is `smagorinsky`, `smagorinsky-mean`, `leith` or `backscatter[:cs=VALUE]`"
                )));
            }
        };
        if !pairs.is_empty() {
            return Err(bad(format!(
                "{} takes no constants: its coefficient is the field",
                closure.name()
            )));
        }
        Ok(closure)
    }

    /// The name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Smagorinsky => "smagorinsky",
            Self::SmagorinskyMean => "smagorinsky-mean",
            Self::Leith => "leith",
            Self::Backscatter { .. } => "backscatter",
        }
    }

    /// The built-in closure's constant the coefficient stands for: `cs`, `cl` or `cb`.
    pub fn constant(&self) -> &'static str {
        match self {
            Self::Smagorinsky | Self::SmagorinskyMean => "cs",
            Self::Leith => "cl",
            Self::Backscatter { .. } => "cb",
        }
    }

    /// The closure's term `<name>_field` on a coarse model with parameters `p`.
    pub fn terms(&self, p: &QgParams) -> Vec<Term> {
        let dx = p.L / p.nx as f64;
        match self {
            Self::Smagorinsky => vec![smagorinsky(
                "smagorinsky_field",
                dx * dx,
                &format!("c*{STRAIN}"),
            )],
            Self::SmagorinskyMean => vec![diffusion(
                "smagorinsky_mean_field",
                dx * dx,
                &format!("c*{MEAN_STRAIN}"),
            )],
            Self::Leith => vec![diffusion("leith_field", dx.powi(3), &format!("c*{LEITH}"))],
            Self::Backscatter { cs } => {
                backscatter(p, *cs, ("backscatter_field", 1.0), "c*").to_vec()
            }
        }
    }

    /// The uniform field equal to the built-in closure with constant `constant` (`cs^2`, `cl^3`,
    /// `cb`).
    pub fn coefficient_of(&self, constant: f64) -> f64 {
        match self {
            Self::Smagorinsky | Self::SmagorinskyMean => constant * constant,
            Self::Leith => constant.powi(3),
            Self::Backscatter { .. } => constant,
        }
    }

    /// The built-in closure with the constant a uniform field `c` stands for.
    pub fn baseline(&self, c: f64) -> Baseline {
        match self {
            Self::Smagorinsky => Baseline::Smagorinsky { cs: c.sqrt() },
            Self::SmagorinskyMean => Baseline::SmagorinskyMean { cs: c.sqrt() },
            Self::Leith => Baseline::Leith { cl: c.cbrt() },
            Self::Backscatter { cs } => Baseline::Backscatter { cs: *cs, cb: c },
        }
    }
}

/// Constants written `key=value,...` (blanks around them ignored): each key once, each value a
/// finite number; the error names the offending item.
pub fn constants(text: &str) -> Result<Vec<(&str, f64)>, String> {
    let mut out: Vec<(&str, f64)> = Vec::new();
    for kv in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("`{kv}`: constants are key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if out.iter().any(|(n, _)| *n == k) {
            return Err(format!("`{k}` is given twice"));
        }
        let v = v
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{k}` = {v:?}: allowed a finite number"))?;
        out.push((k, v));
    }
    Ok(out)
}

/// The closure of a `medida closure discover` result: its library with its coefficients, as the
/// term `closure`.
pub fn discovered_terms(
    library: &str,
    coefficients: &[Vec<f64>; 2],
) -> Result<Vec<Term>, DiscoveryError> {
    let lib = ClosureLibrary::parse(library)?;
    for (lev, c) in coefficients.iter().enumerate() {
        if c.len() != lib.columns().len() {
            return Err(DiscoveryError::Closure(format!(
                "layer {}: {} coefficients for the {} terms of `{library}`",
                lev + 1,
                c.len(),
                lib.columns().len()
            )));
        }
    }
    Ok(vec![lib.term("closure", coefficients)])
}

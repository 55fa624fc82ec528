//! The physical terms of the two-layer QG models, each written once: pyqg's (advection, the
//! background flows, beta, bottom drag) and the MEDIDA forced jet's (interface relaxation, jet
//! forcing, sponge, hyperviscosity). Term families ([`crate::pyqg`], [`crate::jet`]) are lists of
//! these with their truth coefficients.
//!
//! Each doc line gives the term's name, its shape (added to `dq_i/dt`, layer 1; layer 2) and
//! what its coefficient is in pyqg's and the MEDIDA study's notation.

use crate::expr::{Expr, Field, Func, Op};
use crate::term::Term;

fn dx(e: Expr) -> Expr {
    e.apply(Op::Dx)
}

/// `advection`: `[-J(psi1, q1); -J(psi2, q2)]`, flux form, de-aliased as the model says.
/// Coefficient `c_J` (1 in the truth).
pub fn advection(c_j: f64) -> Term {
    let j = |lev| vec![(-1.0, Expr::jacobian(Expr::psi(lev), Expr::q(lev)))];
    Term::new("advection", c_j, [j(0), j(1)])
}

/// `background_flow1` / `background_flow2`: advection by layer `lev`'s background zonal flow of
/// its PV anomaly and of the PV gradient it makes through the interface. Coefficient `U1` or `U2`
/// [m/s]; `f1`, `f2` are pyqg's `F1`, `F2`.
/// - `lev = 0`: `[-dx(q1) - F1 dx(psi1); +F2 dx(psi2)]`
/// - `lev = 1`: `[+F1 dx(psi1); -dx(q2) - F2 dx(psi2)]`
///
/// Together: `-U_i dx(q_i)` and pyqg's `-(U1 - U2) [F1 dx(psi1); -F2 dx(psi2)]`.
pub fn background_flow(lev: usize, u: f64, f1: f64, f2: f64) -> Term {
    let own = |l: usize| (-1.0, dx(Expr::q(l)));
    let shape = if lev == 0 {
        [
            vec![own(0), (-f1, dx(Expr::psi(0)))],
            vec![(f2, dx(Expr::psi(1)))],
        ]
    } else {
        [
            vec![(f1, dx(Expr::psi(0)))],
            vec![own(1), (-f2, dx(Expr::psi(1)))],
        ]
    };
    Term::new(format!("background_flow{}", lev + 1), u, shape)
}

/// `beta`: `[-dx(psi1); -dx(psi2)]`, advection of planetary vorticity. Coefficient `beta`.
pub fn beta(beta: f64) -> Term {
    let b = |lev| vec![(-1.0, dx(Expr::psi(lev)))];
    Term::new("beta", beta, [b(0), b(1)])
}

/// `bottom_drag`: `[0; -lap(psi2)]`, linear drag on the lower layer. Coefficient pyqg's `rek`,
/// MEDIDA's `tau_f` [1/s].
pub fn bottom_drag(rek: f64) -> Term {
    Term::new(
        "bottom_drag",
        rek,
        [vec![], vec![(-1.0, Expr::psi(1).apply(Op::Lap(1)))]],
    )
}

/// `interface_relaxation`: `[psi1 - psi2; -(psi1 - psi2)]`, relaxation of the interface (MEDIDA).
/// Coefficient `tau_d1` (a rate).
pub fn interface_relaxation(tau_d1: f64) -> Term {
    Term::new(
        "interface_relaxation",
        tau_d1,
        [
            vec![(1.0, Expr::psi(0)), (-1.0, Expr::psi(1))],
            vec![(-1.0, Expr::psi(0)), (1.0, Expr::psi(1))],
        ],
    )
}

/// `jet_forcing`: `[-psi_R; psi_R]`, the state-independent part of the relaxation toward the jet
/// (MEDIDA). Coefficient `tau_d2` (a rate).
pub fn jet_forcing(tau_d2: f64) -> Term {
    let psi_r = || Expr::Field(Field::PsiR);
    Term::new(
        "jet_forcing",
        tau_d2,
        [vec![(-1.0, psi_r())], vec![(1.0, psi_r())]],
    )
}

/// `sponge`: `[-s*eddy(q1); -s*eddy(q2)]`, damping of the eddy PV by the profile `s(y)` near the
/// walls (MEDIDA). Coefficient 1 in the truth (it scales the profile).
pub fn sponge(c: f64) -> Term {
    let s = |lev| {
        vec![(
            -1.0,
            Expr::product(Expr::Field(Field::Sponge), Expr::q(lev).apply(Op::Eddy)),
        )]
    };
    Term::new("sponge", c, [s(0), s(1)])
}

/// `hyperviscosity`: `[-d8(q1); -d8(q2)]` = `-(k^8 + l^8) q_hat`, implicit: the update over `h` is
/// divided by `1 + h nu (k^8 + l^8)` (MEDIDA). Coefficient `nu`.
pub fn hyperviscosity(nu: f64) -> Term {
    let h = |lev| vec![(-1.0, Expr::q(lev).apply(Op::D8))];
    Term::new("hyperviscosity", nu, [h(0), h(1)]).implicit()
}

/// `drag`: `[-lap(psi1); -lap(psi2)]`, linear drag on the relative vorticity of both layers:
/// pyqg's `rek` drag in every layer, and in 2-D turbulence (uncoupled layers, `q = lap(psi)`)
/// the drag `-alpha q` on every mode but the domain mean (which stays as it is, as in pyqg's
/// `BTModel`). Coefficient the rate `alpha` [1/time].
pub fn drag(alpha: f64) -> Term {
    let d = |lev| vec![(-1.0, Expr::psi(lev).apply(Op::Lap(1)))];
    Term::new("drag", alpha, [d(0), d(1)])
}

/// `viscosity`: `[lap(q1); lap(q2)]`, implicit: the update over `h` is divided by
/// `1 + h nu (k^2 + l^2)`. Coefficient `nu = 1/Re`.
pub fn viscosity(nu: f64) -> Term {
    let v = |lev| vec![(1.0, Expr::q(lev).apply(Op::Lap(1)))];
    Term::new("viscosity", nu, [v(0), v(1)]).implicit()
}

/// `kolmogorov_forcing`: `[-(cos(kf x) + cos(kf y)); the same]`, the SMARL study's forcing
/// `-f`, `f = kf [cos(kf x) + cos(kf y)]`, with `x`, `y` from the domain's centre lines (a
/// translation of the study's origin). Coefficient the amplitude (`kf` in the study).
pub fn kolmogorov_forcing(amplitude: f64, kf: f64) -> Term {
    // Built, not parsed: any `kf` gives a term (a NaN one is refused where configs are checked).
    let wave = |x: Field| {
        Expr::Function(
            Func::Cos,
            Box::new(Expr::product(Expr::number(kf), Expr::Field(x))),
        )
    };
    let f = Expr::Sum(Box::new(wave(Field::X)), Box::new(wave(Field::Y)));
    Term::new(
        "kolmogorov_forcing",
        amplitude,
        [vec![(-1.0, f.clone())], vec![(-1.0, f)]],
    )
}

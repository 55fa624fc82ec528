//! The spectral toolkit of a model, built once per grid and shared (read-only, behind an `Arc`) by
//! the model's kernel, the term evaluator, libraries, corrections and closures: the planned
//! transforms, the k and l tables, the PV inversion, the de-aliasing of products and the one
//! flux-form Jacobian, and the geometry's own fields (the jet's `psi_R(y)` and `s(y)`).
//!
//! Spectra are k-major (`index = ik * nl + il`, see [`Grid::spectral_map`]); physical fields
//! `(ny, nx)` row-major. Each thread that transforms holds its own [`Workspace`].

use crate::Complex64;
use crate::dealias::{Padded, PaddedGrid, two_thirds_mask};
use crate::error::SolverError;
use crate::expr::Op;
use crate::fft::{Fft2, FftPlans};
use crate::grid::Grid;
use crate::inversion::Inversion;
use crate::jet::JetProfiles;
use crate::lanes::products_by_band;
use crate::model::NZ;
use crate::params::{Dealias, QgParams};
use crate::real::{Real, narrow};
use crate::simd::dispatched;
use rustfft::num_complex::Complex;

/// The jet model's fixed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct JetFields {
    /// `psi_R(y)` as a spectrum.
    pub psi_r_hat: Vec<Complex64>,
    /// `s(y)`, one value per row.
    pub sponge: Vec<f64>,
}

/// Transforms, wavenumbers, inversion, de-aliasing and fixed fields of one grid.
#[derive(Debug, Clone)]
pub struct Spectral {
    grid: Grid,
    advection: Advection<f64>,
    inversion: Inversion,
    jet: Option<JetFields>,
}

/// What the flux-form advection needs, in the model's real type: the transforms, the
/// wavenumbers and the de-aliasing. The toolkit holds the `f64` one; a single-precision model
/// its own `f32` one.
#[derive(Debug, Clone)]
pub(crate) struct Advection<T: Real> {
    plans: FftPlans<T>,
    /// `k`, `l` at each spectral index.
    pub(crate) k: Vec<T>,
    pub(crate) l: Vec<T>,
    nl: usize,
    n_phys: usize,
    dealias: Dealias,
    padded: Option<PaddedGrid<T>>,
    mask: Option<Vec<T>>,
}

/// Largest advecting speeds seen while forming the fluxes: `max |u + U|`, `max |v|`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Speeds {
    /// `max |u + U|`.
    pub u: f64,
    /// `max |v|`.
    pub v: f64,
}

/// One thread's transforms and buffers.
#[derive(Debug, Clone)]
pub struct Workspace<T: Real = f64> {
    /// The grid's transforms.
    pub fft: Fft2<T>,
    padded: Option<Padded<T>>,
    /// Physical scratch (the sponge's, and [`Spectral::jacobian_from_grid`]'s products).
    pub(crate) u: Vec<T>,
    pub(crate) v: Vec<T>,
    b: Vec<T>,
    /// Spectral scratch.
    spec: Vec<Complex<T>>,
}

impl<T: Real> Advection<T> {
    /// The advection of `grid` de-aliased by `dealias`.
    pub(crate) fn new(grid: &Grid, dealias: Dealias) -> Self {
        Self {
            plans: FftPlans::new(grid),
            k: narrow(&grid.spectral_map(|k, _| k)),
            l: narrow(&grid.spectral_map(|_, l| l)),
            nl: grid.nl(),
            n_phys: grid.n_phys(),
            dealias,
            padded: (dealias == Dealias::ThreeHalves).then(|| PaddedGrid::new(grid)),
            mask: (dealias == Dealias::TwoThirds).then(|| narrow(&two_thirds_mask(grid))),
        }
    }

    /// The de-aliasing of the products.
    pub(crate) fn dealias(&self) -> Dealias {
        self.dealias
    }

    /// Rows of a spectral column (`ny`).
    pub(crate) fn nl(&self) -> usize {
        self.nl
    }

    /// Transforms and buffers for one thread.
    pub(crate) fn workspace(&self) -> Workspace<T> {
        let np = self.n_phys;
        Workspace {
            fft: Fft2::new(self.plans.clone()),
            padded: self.padded.as_ref().map(PaddedGrid::workspace),
            u: vec![T::zero(); np],
            v: vec![T::zero(); np],
            b: vec![T::zero(); np],
            spec: Vec::new(),
        }
    }

    /// [`Spectral::fluxes`] in this type, the velocities from `psi`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fluxes(
        &self,
        ws: &mut Workspace<T>,
        psi: Streamfunction<'_, T>,
        bh: &[Complex<T>],
        b: Option<&[T]>,
        ubg: T,
        uqh: &mut [Complex<T>],
        vqh: &mut [Complex<T>],
    ) -> Speeds {
        let (k, l) = (&self.k, &self.l);
        if let Some(padded) = ws.padded.as_mut() {
            let (u, v) = padded.fluxes(psi, bh, k, l, ubg, uqh, vqh);
            return Speeds { u, v };
        }
        let b = match b {
            Some(b) => b,
            None => {
                ws.fft.inverse(bh, &mut ws.b);
                &ws.b[..]
            }
        };
        let norm = ws.fft.inverse_norm();
        let l_col = &l[..self.nl];
        let mut speeds = (0.0, 0.0);
        // The model's q is finite (checked after every update and by set_q), so u and v are too.
        ws.fft.round_trip(
            |uh, vh| match psi {
                Streamfunction::Spectrum(ph) => velocities(uh, vh, ph, k, l_col, norm),
                Streamfunction::Inverted { a, qh } => {
                    velocities_inverted(uh, vh, a, qh, k, l_col, norm)
                }
            },
            products_by_band(b, ubg, &mut speeds),
            [uqh, vqh],
        );
        if let Some(mask) = &self.mask {
            for ((u, v), m) in uqh.iter_mut().zip(vqh.iter_mut()).zip(mask) {
                *u = *u * m;
                *v = *v * m;
            }
        }
        Speeds {
            u: speeds.0,
            v: speeds.1,
        }
    }
}

/// The streamfunction that advects: a spectrum, or both layers' `q_hat` inverted wavenumber by
/// wavenumber where the velocities are formed (`psi_hat = q0 a0 + q1 a1`, the arithmetic of the
/// model's inversion, so the same bits), which saves writing `psi_hat` and reading it back.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Streamfunction<'a, T: Real> {
    Spectrum(&'a [Complex<T>]),
    /// The layer's inversion coefficients `a[j]` (on `q_hat[j]`) and both layers' `q_hat`.
    Inverted {
        a: [&'a [T]; NZ],
        qh: [&'a [Complex<T>]; NZ],
    },
}

impl<T: Real> Streamfunction<'_, T> {
    /// `psi_hat` at the k-major index `i`.
    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> Complex<T> {
        match self {
            Streamfunction::Spectrum(ph) => ph[i],
            Streamfunction::Inverted { a, qh } => {
                inverted([qh[0][i], qh[1][i]], [a[0][i], a[1][i]])
            }
        }
    }
}

/// A layer's `psi_hat = q0 a0 + q1 a1` at one wavenumber from both layers' `q_hat` and the
/// layer's inversion coefficients (the model's inversion, [`crate::inversion`]).
#[inline(always)]
pub(crate) fn inverted<T: Real>([q0, q1]: [Complex<T>; NZ], [a0, a1]: [T; NZ]) -> Complex<T> {
    q0 * a0 + q1 * a1
}

/// `(uh, vh) = (-il psi, ik psi) * norm` at one wavenumber.
#[inline(always)]
pub(crate) fn velocity_at<T: Real>(psi: Complex<T>, k: T, l: T, norm: T) -> [Complex<T>; 2] {
    [
        Complex::new(l * psi.im, -l * psi.re) * norm,
        Complex::new(-k * psi.im, k * psi.re) * norm,
    ]
}

dispatched! {
    /// [`velocity_at`] of the spectrum `ph` into `uh` and `vh`, column by column (k-major; `k`
    /// read once per column, `l_col` is `l` in every column).
    fn velocities<T: Real>(
        uh: &mut [Complex<T>],
        vh: &mut [Complex<T>],
        ph: &[Complex<T>],
        k: &[T],
        l_col: &[T],
        norm: T,
    ) {
        let nl = l_col.len();
        let columns = uh.chunks_exact_mut(nl).zip(vh.chunks_exact_mut(nl));
        for (ik, ((u, v), p)) in columns.zip(ph.chunks_exact(nl)).enumerate() {
            let kk = k[ik * nl];
            for (((u, v), &p), &l) in u.iter_mut().zip(v).zip(p).zip(l_col) {
                [*u, *v] = velocity_at(p, kk, l, norm);
            }
        }
    }
}

dispatched! {
    /// [`velocities`] of [`Streamfunction::Inverted`]: `psi_hat = q0 a0 + q1 a1` formed at each
    /// wavenumber, never stored.
    fn velocities_inverted<T: Real>(
        uh: &mut [Complex<T>],
        vh: &mut [Complex<T>],
        a: [&[T]; NZ],
        qh: [&[Complex<T>]; NZ],
        k: &[T],
        l_col: &[T],
        norm: T,
    ) {
        let nl = l_col.len();
        let columns = uh.chunks_exact_mut(nl).zip(vh.chunks_exact_mut(nl)).enumerate();
        for (ik, (u, v)) in columns {
            let (kk, r) = (k[ik * nl], ik * nl..(ik + 1) * nl);
            let (q0, q1, a0, a1) = (&qh[0][r.clone()], &qh[1][r.clone()], &a[0][r.clone()], &a[1][r]);
            let (u, v, l_col) = (&mut u[..nl], &mut v[..nl], &l_col[..nl]);
            for il in 0..nl {
                let p = inverted([q0[il], q1[il]], [a0[il], a1[il]]);
                [u[il], v[il]] = velocity_at(p, kk, l_col[il], norm);
            }
        }
    }
}

impl Spectral {
    /// The toolkit of a model with `params`: grid, inversion (`rd`, `delta`) and de-aliasing.
    pub fn new(params: &QgParams) -> Result<Self, SolverError> {
        params.validate()?;
        let grid = params.grid()?;
        Ok(Self {
            advection: Advection::new(&grid, params.dealias),
            inversion: Inversion::new(&grid, params.f1(), params.f2()),
            jet: None,
            grid,
        })
    }

    /// The same toolkit with the MEDIDA jet's fields `psi_R` and `s` for a jet of amplitude `u1`
    /// and width `sigma` (see [`JetProfiles`]).
    pub fn with_jet(mut self, u1: f64, sigma: f64) -> Self {
        let p = JetProfiles::new(&self.grid, u1, sigma);
        self.jet = Some(JetFields {
            psi_r_hat: p.psi_r_hat(&self.grid),
            sponge: p.sponge,
        });
        self
    }

    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// `k` at each spectral index.
    pub fn k(&self) -> &[f64] {
        &self.advection.k
    }
    /// `l` at each spectral index.
    pub fn l(&self) -> &[f64] {
        &self.advection.l
    }
    /// The PV inversion.
    pub fn inversion(&self) -> &Inversion {
        &self.inversion
    }
    /// The de-aliasing of products.
    pub fn dealias(&self) -> Dealias {
        self.advection.dealias
    }
    /// The jet's fields, when the toolkit has them.
    pub fn jet(&self) -> Option<&JetFields> {
        self.jet.as_ref()
    }

    /// The advection in `T`: for `f64` the toolkit's own (its plans and tables shared, not made
    /// again for every model on the toolkit), for another type made for it.
    pub(crate) fn advection<T: Real>(&self) -> Advection<T> {
        (&self.advection as &dyn std::any::Any)
            .downcast_ref::<Advection<T>>()
            .cloned()
            .unwrap_or_else(|| Advection::new(&self.grid, self.dealias()))
    }

    /// Transforms and buffers for one thread.
    pub fn workspace(&self) -> Workspace {
        self.advection.workspace()
    }

    /// The multiplier of a chain of operators (innermost first) times `weight`, per spectral index.
    pub fn multiplier(&self, ops: &[Op], weight: f64) -> Vec<Complex64> {
        self.k()
            .iter()
            .zip(self.l())
            .map(|(&k, &l)| match ops {
                [] => Complex64::new(weight, 0.0),
                [op] => op.multiplier(k, l) * weight,
                [first, rest @ ..] => {
                    rest.iter()
                        .fold(first.multiplier(k, l), |m, op| m * op.multiplier(k, l))
                        * weight
                }
            })
            .collect()
    }

    /// Makes `h` the spectrum of a real field, as a transform to the grid and back would
    /// (`rfft2(irfft2(h))`): the columns `k = 0` and `k = nx/2`, whose negative-`k` partners are
    /// not stored, become Hermitian in `l`; the other columns are unchanged.
    pub fn make_real(&self, h: &mut [Complex64]) {
        let (nk, nl) = (self.grid.nk(), self.grid.nl());
        for ik in [0, nk - 1] {
            let col = &mut h[ik * nl..(ik + 1) * nl];
            for il in 0..=nl / 2 {
                let jl = (nl - il) % nl;
                let sym = (col[il] + col[jl].conj()) * 0.5;
                col[il] = sym;
                col[jl] = sym.conj();
            }
        }
    }

    /// `psi_hat` of both layers from `q_hat`.
    pub fn invert(&self, qh: [&[Complex64]; 2]) -> [Vec<Complex64>; 2] {
        std::array::from_fn(|lev| {
            let mut p = vec![Complex64::default(); self.grid.n_spec()];
            self.inversion.invert_layer(lev, qh, &mut p);
            p
        })
    }

    /// The fluxes `uqh = FFT(u b)`, `vqh = FFT(v b)` with `u = -dy(a)`, `v = dx(a)`, de-aliased as
    /// the model's advection; `J(a, b) = i (k uqh + l vqh)`. `b` is given as a spectrum, and also
    /// as a field when one is at hand (the model's `q`: not transformed again). `ubg` is a
    /// background flow counted in the returned speeds only.
    #[allow(clippy::too_many_arguments)]
    pub fn fluxes(
        &self,
        ws: &mut Workspace,
        ah: &[Complex64],
        bh: &[Complex64],
        b: Option<&[f64]>,
        ubg: f64,
        uqh: &mut [Complex64],
        vqh: &mut [Complex64],
    ) -> Speeds {
        let psi = Streamfunction::Spectrum(ah);
        self.advection.fluxes(ws, psi, bh, b, ubg, uqh, vqh)
    }

    /// `J(a, b)` as a spectrum from the velocities `u = -dy(a)`, `v = dx(a)` and `b` on the grid
    /// (a caller that has them saves their transforms), de-aliased as the model's advection;
    /// `None` for the 3/2 rule, whose products need the spectra ([`Spectral::jacobian`]).
    pub fn jacobian_from_grid(
        &self,
        ws: &mut Workspace,
        u: &[f64],
        v: &[f64],
        b: &[f64],
    ) -> Option<Vec<Complex64>> {
        if self.dealias() == Dealias::ThreeHalves {
            return None;
        }
        let n = self.grid.n_spec();
        for (((wu, wv), (u, v)), b) in
            ws.u.iter_mut()
                .zip(ws.v.iter_mut())
                .zip(u.iter().zip(v))
                .zip(b)
        {
            *wu = u * b;
            *wv = v * b;
        }
        let mut out = vec![Complex64::default(); n];
        ws.fft.forward(&mut ws.u, &mut out);
        ws.spec.resize(n, Complex64::default());
        ws.fft.forward(&mut ws.v, &mut ws.spec);
        let (k, l, vqh) = (&self.k()[..n], &self.l()[..n], &ws.spec[..n]);
        let mask = self.advection.mask.as_ref();
        for i in 0..n {
            let m = mask.map_or(1.0, |m| m[i]);
            let (uq, vq) = (out[i] * m, vqh[i] * m);
            // i (k uq + l vq)
            out[i] = Complex64::new(-(k[i] * uq.im + l[i] * vq.im), k[i] * uq.re + l[i] * vq.re);
        }
        Some(out)
    }

    /// The Jacobian `J(a, b)` as a spectrum (see [`Spectral::fluxes`]).
    pub fn jacobian(
        &self,
        ws: &mut Workspace,
        ah: &[Complex64],
        bh: &[Complex64],
    ) -> Vec<Complex64> {
        let n = ah.len();
        let mut uqh = vec![Complex64::default(); n];
        let mut vqh = vec![Complex64::default(); n];
        self.fluxes(ws, ah, bh, None, 0.0, &mut uqh, &mut vqh);
        (0..n)
            .map(|i| Complex64::new(0.0, 1.0) * (uqh[i] * self.k()[i] + vqh[i] * self.l()[i]))
            .collect()
    }
}

//! The fused kernel of one layer, in the model's real type: tendency from the inversion's
//! streamfunction and the compiled linear part, advection through the toolkit's one Jacobian, the
//! sponge, and the stepper updates, each a single pass over the layer's arrays.

use super::NZ;
use super::compile::Kernel;
use crate::lanes::all_finite;
use crate::params::Dealias;
use crate::real::{Real, each, narrow, narrow_complex, reals, reals_mut, signs};
use crate::simd::dispatched;
use crate::spectral::{Advection, Spectral, Speeds, Streamfunction, Workspace, inverted};
use rustfft::num_complex::Complex;
use std::ops::Range;

/// `lin - c (ik uqh + il vqh)` at one wavenumber; `c = 1` skips the multiplication (pyqg's form).
#[inline(always)]
fn tendency_at<T: Real>(
    lin: Complex<T>,
    k: T,
    l: T,
    uqh: Complex<T>,
    vqh: Complex<T>,
    c: T,
) -> Complex<T> {
    let adv = Complex::new(k * uqh.im + l * vqh.im, -(k * uqh.re + l * vqh.re));
    if c == T::one() {
        lin + adv
    } else {
        lin + adv * c
    }
}

/// The update a step fuses with its tendency ([`Layer::tendency_and_update`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Update<T> {
    /// pyqg's AB3 (Euler, AB2, AB3), its weights times `dt`.
    Ab3([T; 3]),
    /// Leapfrog over `dt` with the Robert-Asselin filter `g`; forward Euler when `euler`.
    Leapfrog { dt: T, g: T, euler: bool },
}

/// Complex values per block of [`update_block`].
const BLOCK: usize = 8;

/// A layer's linear tendency, which the advection is added to: stored (phase one's, with any
/// forcing, sponge, cross-layer advection or terms evaluated outside the kernel added), or
/// formed at each wavenumber where it is read, from both layers' `q_hat` at the step's start
/// ([`linear_on`], as [`invert`] forms it, so the same bits), which saves writing it and reading
/// it back.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Linear<'a, T: Real> {
    Stored(&'a [Complex<T>]),
    /// The layer's operators `b[j]` on `q_hat[j]`, and both layers' `q_hat`.
    OnQ {
        b: [&'a [Complex<T>]; NZ],
        qh: [&'a [Complex<T>]; NZ],
    },
}

/// A layer's linear tendency `b0 q0 + b1 q1` at one wavenumber from its operators on both layers'
/// `q_hat`.
#[inline(always)]
fn linear_on<T: Real>([b0, b1]: [Complex<T>; NZ], [q0, q1]: [Complex<T>; NZ]) -> Complex<T> {
    b0 * q0 + b1 * q1
}

impl<T: Real> Linear<'_, T> {
    /// The same tendency over the indices `r` (indexed from `r.start`).
    #[inline(always)]
    fn slice(&self, r: Range<usize>) -> Self {
        match self {
            Linear::Stored(lin) => Linear::Stored(&lin[r]),
            Linear::OnQ { b, qh } => Linear::OnQ {
                b: b.map(|b| &b[r.clone()]),
                qh: qh.map(|q| &q[r.clone()]),
            },
        }
    }

    /// The value at `i`.
    #[inline(always)]
    fn at(&self, i: usize) -> Complex<T> {
        match self {
            Linear::Stored(lin) => lin[i],
            Linear::OnQ { b, qh } => linear_on([b[0][i], b[1][i]], [qh[0][i], qh[1][i]]),
        }
    }

    /// The [`BLOCK`] values from `i` on, as interleaved reals.
    #[inline(always)]
    fn block(&self, i: usize) -> [T; 2 * BLOCK] {
        match self {
            Linear::Stored(lin) => reals(&lin[i..i + BLOCK]).try_into().unwrap(),
            Linear::OnQ { b, qh } => {
                let block = |x: &[Complex<T>]| -> [T; 2 * BLOCK] {
                    reals(&x[i..i + BLOCK]).try_into().unwrap()
                };
                let ([b0, b1], [q0, q1]) = (b.map(block), qh.map(block));
                // [`linear_on`] lane by lane: `b q` is re `b.re q.re - b.im q.im`, im `b.re q.im +
                // b.im q.re`, each the first product plus the second times -1 or +1 (exact).
                let sign = signs::<T, { 2 * BLOCK }>();
                let product = |b: &[T; 2 * BLOCK], q: &[T; 2 * BLOCK], j: usize| {
                    b[j & !1] * q[j] + b[j | 1] * q[j ^ 1] * -sign[j]
                };
                each(|j| product(&b0, &q0, j) + product(&b1, &q1, j))
            }
        }
    }
}

/// The filtered AB update fused with the tendency ([`tendency_at`] and the update of
/// [`Layer::tendency_and_update`], operation for operation, so the same bits) at [`BLOCK`]
/// consecutive wavenumbers of one column, on their interleaved reals: each operation runs over the
/// whole block, so that the compiler puts several complex values in a vector register (one per
/// register, half of it idle in single precision, otherwise). From the level `qh` and the
/// tendencies `np` and, in `level`, `npp`, writes the tendency `d`, the new level into `level`
/// and the inverse transform's input `cols` (the new level times `norm`).
#[inline(always)]
fn update_block<T: Real>(
    [lin, qh, uqh, vqh, np]: [&[T]; 5],
    k: T,
    l: &[T],
    filtr: &[T],
    c: T,
    [dt1, dt2, dt3, norm]: [T; 4],
    [d, level, cols]: [&mut [T]; 3],
) {
    let block = |x: &[T]| -> [T; 2 * BLOCK] { x[..2 * BLOCK].try_into().unwrap() };
    let ([lin, qh, uqh, vqh, np], npp) = ([lin, qh, uqh, vqh, np].map(block), block(level));
    let half = |x: &[T]| -> [T; BLOCK] { x[..BLOCK].try_into().unwrap() };
    let (l, filtr) = (half(l), half(filtr));
    // The real part of `ik uqh + il vqh` negated is `k uqh.im + l vqh.im`, the imaginary part
    // `-(k uqh.re + l vqh.re)`: the other part of the same value, times +1 or -1 (exact).
    let sign = signs::<T, { 2 * BLOCK }>();
    let adv: [T; 2 * BLOCK] = each(|j| (k * uqh[j ^ 1] + l[j / 2] * vqh[j ^ 1]) * sign[j]);
    let tend: [T; 2 * BLOCK] = if c == T::one() {
        each(|j| lin[j] + adv[j])
    } else {
        each(|j| lin[j] + adv[j] * c)
    };
    let new: [T; 2 * BLOCK] =
        each(|j| (qh[j] + tend[j] * dt1 + np[j] * dt2 + npp[j] * dt3) * filtr[j / 2]);
    let scaled: [T; 2 * BLOCK] = each(|j| new[j] * norm);
    d[..2 * BLOCK].copy_from_slice(&tend);
    level[..2 * BLOCK].copy_from_slice(&new);
    cols[..2 * BLOCK].copy_from_slice(&scaled);
}

/// The columns of a k-major spectrum of `n` values, `nl` per column: each column's `k` (from
/// the k-major `k`) and its index range.
#[inline(always)]
fn columns<T: Real>(k: &[T], nl: usize, n: usize) -> impl Iterator<Item = (T, Range<usize>)> + '_ {
    (0..n / nl).map(move |ik| (k[ik * nl], ik * nl..(ik + 1) * nl))
}

/// [`tendency_at`] over one column: `d = lin - c (ik uqh + il vqh)`, `lin` read from `d` when
/// `None` (another layer's advection added in place). The kind of `lin` is matched once per
/// column, not at each wavenumber.
#[inline(always)]
fn tendency_column<T: Real>(
    d: &mut [Complex<T>],
    lin: Option<Linear<'_, T>>,
    [uqh, vqh]: [&[Complex<T>]; 2],
    (kk, l_col): (T, &[T]),
    c: T,
) {
    #[inline(always)]
    fn with<T: Real>(
        d: &mut [Complex<T>],
        lin: impl Fn(usize, Complex<T>) -> Complex<T>,
        [uqh, vqh]: [&[Complex<T>]; 2],
        (kk, l_col): (T, &[T]),
        c: T,
    ) {
        for il in 0..l_col.len() {
            d[il] = tendency_at(lin(il, d[il]), kk, l_col[il], uqh[il], vqh[il], c);
        }
    }
    let column = (kk, l_col);
    match lin {
        None => with(d, |_, d| d, [uqh, vqh], column, c),
        Some(Linear::Stored(lin)) => with(d, |il, _| lin[il], [uqh, vqh], column, c),
        Some(on_q) => with(d, |il, _| on_q.at(il), [uqh, vqh], column, c),
    }
}

dispatched! {
    /// The tendency `d = lin - c (ik uqh + il vqh)` ([`tendency_at`]) over the k-major spectrum,
    /// column by column: `k` is the column's, `l_col` the same in every column, so neither is read
    /// as a whole array. With `lin = None`, `d` is the linear tendency, updated in place (another
    /// layer's advection added to it).
    fn tendency<T: Real>(
        d: &mut [Complex<T>],
        lin: Option<Linear<'_, T>>,
        fluxes: [&[Complex<T>]; 2],
        k: &[T],
        l_col: &[T],
        c: T,
    ) {
        for (kk, r) in columns(k, l_col.len(), d.len()) {
            let fluxes = fluxes.map(|f| &f[r.clone()]);
            let lin = lin.map(|lin| lin.slice(r.clone()));
            tendency_column(&mut d[r], lin, fluxes, (kk, l_col), c);
        }
    }
}

dispatched! {
    /// The filtered AB update fused with the tendency, column by column as [`tendency`]: from
    /// the level `qh` (the first input), the tendency `np` and, in `level`, `npp`, writes the
    /// tendency `d`, the new level into `level` (over `npp`, which it is the last to read: no
    /// array is written that was not just read, and the old level stays for the other layer)
    /// and, scaled by `norm`, the inverse transform's input `cols` (as `Fft2::inverse` would).
    /// Blocks of [`BLOCK`] wavenumbers ([`update_block`]), the rest one by one with the same
    /// operations.
    #[allow(clippy::too_many_arguments)]
    fn update<T: Real>(
        outputs: [&mut [Complex<T>]; 3],
        lin: Linear<'_, T>,
        inputs: [&[Complex<T>]; 4],
        wavenumbers: [&[T]; 2],
        filtr: &[T],
        c: T,
        dts: [T; 3],
        norm: T,
    ) {
        let ([d, level, cols], [qh, uqh, vqh, np]) = (outputs, inputs);
        let ([k, l_col], [dt1, dt2, dt3]) = (wavenumbers, dts);
        let nl = l_col.len();
        let whole = nl - nl % BLOCK;
        for (ik, cols) in cols.chunks_exact_mut(nl).enumerate() {
            let (kk, r) = (k[ik * nl], ik * nl..(ik + 1) * nl);
            let lin = lin.slice(r.clone());
            let (qh, uqh, vqh, np, filtr) = (
                &qh[r.clone()],
                &uqh[r.clone()],
                &vqh[r.clone()],
                &np[r.clone()],
                &filtr[r.clone()],
            );
            let (level, d) = (&mut level[r.clone()], &mut d[r]);
            for il in (0..whole).step_by(BLOCK) {
                let (re, r) = (2 * il.., il..);
                let lin = lin.block(il);
                let [qh, uqh, vqh, np] = [qh, uqh, vqh, np].map(|x| &reals(x)[re.clone()]);
                update_block(
                    [&lin, qh, uqh, vqh, np],
                    kk,
                    &l_col[r.clone()],
                    &filtr[r],
                    c,
                    [dt1, dt2, dt3, norm],
                    [
                        &mut reals_mut(d)[re.clone()],
                        &mut reals_mut(level)[re.clone()],
                        &mut reals_mut(cols)[re],
                    ],
                );
            }
            for il in whole..nl {
                let tend = tendency_at(lin.at(il), kk, l_col[il], uqh[il], vqh[il], c);
                d[il] = tend;
                let new = (qh[il] + tend * dt1 + np[il] * dt2 + level[il] * dt3) * filtr[il];
                level[il] = new;
                cols[il] = new * norm;
            }
        }
    }
}

dispatched! {
    /// The leapfrog update fused with the tendency ([`tendency_at`]), column by column as
    /// [`tendency`]: forward Euler `q' = f (q + dt N)` when `euler` (the level kept in `prev`),
    /// else `q' = f (prev + 2 dt N)` and the Robert-Asselin filter `prev = q + g (q' - 2 q +
    /// prev)`, `f` the update filter over the step. Writes the tendency `d`, `qh`, `prev` and,
    /// scaled by `norm`, the inverse transform's input `cols`.
    #[allow(clippy::too_many_arguments)]
    fn leapfrog<T: Real>(
        outputs: [&mut [Complex<T>]; 4],
        lin: Linear<'_, T>,
        fluxes: [&[Complex<T>]; 2],
        wavenumbers: [&[T]; 2],
        filtr: &[T],
        c: T,
        steps: [T; 3],
        euler: bool,
    ) {
        let ([d, qh, prev, cols], [uqh, vqh]) = (outputs, fluxes);
        let ([k, l_col], [dt, g, norm]) = (wavenumbers, steps);
        let two = T::one() + T::one();
        for (kk, r) in columns(k, l_col.len(), d.len()) {
            let d = &mut d[r.clone()];
            let fluxes = [&uqh[r.clone()], &vqh[r.clone()]];
            tendency_column(d, Some(lin.slice(r.clone())), fluxes, (kk, l_col), c);
            let state = qh[r.clone()].iter_mut().zip(&mut prev[r.clone()]);
            let step = d.iter().zip(&filtr[r.clone()]).zip(&mut cols[r]);
            for ((q, p), ((&tend, &f), col)) in state.zip(step) {
                let new = if euler {
                    *p = *q;
                    (*q + tend * dt) * f
                } else {
                    let new = (*p + tend * (two * dt)) * f;
                    *p = *q + (new - *q * two + *p) * g;
                    new
                };
                *q = new;
                *col = new * norm;
            }
        }
    }
}

dispatched! {
    /// `ph = a0 q0 + a1 q1` and `lin = b0 q0 + b1 q1` at every wavenumber, `q0`, `q1` the layers'
    /// `q_hat`.
    fn invert<T: Real>(
        ph: &mut [Complex<T>],
        lin: &mut [Complex<T>],
        a: [&[T]; NZ],
        b: [&[Complex<T>]; NZ],
        qh: [&[Complex<T>]; NZ],
    ) {
        let n = ph.len();
        let (a0, a1, b0, b1, q0, q1, lin) = (
            &a[0][..n],
            &a[1][..n],
            &b[0][..n],
            &b[1][..n],
            &qh[0][..n],
            &qh[1][..n],
            &mut lin[..n],
        );
        for i in 0..n {
            let qh = [q0[i], q1[i]];
            ph[i] = inverted(qh, [a0[i], a1[i]]);
            lin[i] = linear_on([b0[i], b1[i]], qh);
        }
    }
}

/// The compiled [`Kernel`]'s operators and the inversion in the model's real type `T` (for `f64`
/// the same numbers).
#[derive(Debug, Clone)]
pub(crate) struct Tables<T: Real> {
    /// The inversion's `a[i][j]`: `psi_hat[i] = sum_j a[i][j] q_hat[j]`.
    a: [[Vec<T>; NZ]; NZ],
    linear_on_q: [[Vec<Complex<T>>; NZ]; NZ],
    forcing: [Option<Vec<Complex<T>>>; NZ],
    sponge: [Option<Vec<T>>; NZ],
    /// `c_j[i][j]`: coefficient of `-J(psi_j, q_j)` in layer `i`.
    c_j: [[T; NZ]; NZ],
    ubg: [T; NZ],
    /// The update filters over `dt` and `2 dt`, their factors below [`Real::FILTER_FLOOR`] zero.
    pub filtr: [Vec<T>; NZ],
    pub filtr_2dt: [Vec<T>; NZ],
}

/// An update filter rounded to `T`, its factors below [`Real::FILTER_FLOOR`] set to zero.
fn floored<T: Real>(filtr: &[f64]) -> Vec<T> {
    let floor = |f: &f64| {
        if *f < T::FILTER_FLOOR {
            T::zero()
        } else {
            T::of(*f)
        }
    };
    filtr.iter().map(floor).collect()
}

impl<T: Real> Tables<T> {
    /// The tables of `kernel` compiled on `spectral`.
    pub(crate) fn new(kernel: &Kernel, spectral: &Spectral) -> Self {
        let real = |v: &[Vec<f64>; NZ]| std::array::from_fn(|lev| narrow(&v[lev]));
        Self {
            a: spectral.inversion().a.each_ref().map(real),
            linear_on_q: kernel
                .linear_on_q
                .each_ref()
                .map(|row| row.each_ref().map(|b| narrow_complex(b))),
            forcing: kernel
                .forcing
                .each_ref()
                .map(|f| f.as_deref().map(narrow_complex)),
            sponge: kernel.sponge.each_ref().map(|s| s.as_deref().map(narrow)),
            c_j: kernel.c_j.map(|row| row.map(T::of)),
            ubg: kernel.ubg.map(T::of),
            filtr: kernel.filtr.each_ref().map(|f| floored(f)),
            filtr_2dt: kernel.filtr_2dt.each_ref().map(|f| floored(f)),
        }
    }

    /// Phase one of a step, for layer `lev`: `psi_hat = a q_hat` (the arithmetic of
    /// [`crate::inversion::Inversion::invert_layer`]) and the linear tendency, in one pass.
    /// Reads both layers' `q_hat`, so it runs before either layer updates.
    pub(crate) fn invert_and_linear(
        &self,
        lev: usize,
        qh: [&[Complex<T>]; NZ],
        ph: &mut [Complex<T>],
        lin: &mut [Complex<T>],
    ) {
        let [a0, a1] = &self.a[lev];
        let [b0, b1] = &self.linear_on_q[lev];
        invert(ph, lin, [a0, a1], [b0, b1], qh);
        if let Some(f) = &self.forcing[lev] {
            lin.iter_mut().zip(f).for_each(|(l, f)| *l = *l + f);
        }
    }

    /// Whether a step can leave phase one to the layers: each layer's linear tendency is the
    /// compiled operators on `q_hat` alone (no forcing, sponge or cross-layer Jacobian), so it
    /// and the streamfunction can be formed where they are read ([`Tables::on_the_fly`]).
    pub(crate) fn inverts_in_the_step(&self) -> bool {
        !self.crosses()
            && self.forcing.iter().all(Option::is_none)
            && self.sponge.iter().all(Option::is_none)
    }

    /// Layer `lev`'s streamfunction and linear tendency, formed at each wavenumber from both
    /// layers' `qh` (phase one's arithmetic, so the same bits) instead of stored.
    pub(crate) fn on_the_fly<'a>(
        &'a self,
        lev: usize,
        qh: [&'a [Complex<T>]; NZ],
    ) -> (Streamfunction<'a, T>, Linear<'a, T>) {
        let a = self.a[lev].each_ref().map(|a| &a[..]);
        let b = self.linear_on_q[lev].each_ref().map(|b| &b[..]);
        (Streamfunction::Inverted { a, qh }, Linear::OnQ { b, qh })
    }

    /// Whether a layer's tendency advects with another layer's fluxes (a cross-layer Jacobian):
    /// then both layers' fluxes come before either update.
    pub(crate) fn crosses(&self) -> bool {
        (0..NZ).any(|i| (0..NZ).any(|j| i != j && self.c_j[i][j] != T::zero()))
    }

    /// Whether any layer's tendency advects with layer `j`'s fluxes.
    fn advects(&self, j: usize) -> bool {
        self.c_j.iter().any(|row| row[j] != T::zero())
    }

    /// `lin -= c_j[lev][j] (ik uqh_j + il vqh_j)` for every other layer `j` that layer `lev`
    /// advects with, in layer order: the cross-layer Jacobians, from the fluxes of `layers`.
    pub(crate) fn add_cross_advection(
        &self,
        lev: usize,
        lin: &mut [Complex<T>],
        layers: &[Layer<T>; NZ],
        advection: &Advection<T>,
    ) {
        let l_col = &advection.l[..advection.nl()];
        for (j, layer) in layers.iter().enumerate() {
            let c = self.c_j[lev][j];
            if j != lev && c != T::zero() {
                tendency(lin, None, [&layer.uqh, &layer.vqh], &advection.k, l_col, c);
            }
        }
    }
}

/// One layer's prognostic state, tendency history and scratch.
#[derive(Debug, Clone)]
pub(crate) struct Layer<T: Real> {
    /// PV anomaly, spectral (k-major).
    pub qh: Vec<Complex<T>>,
    /// PV anomaly, physical `(ny, nx)`; always `irfft2(qh)` (or the `q` given to `set_q`).
    pub q: Vec<T>,
    /// Tendency at the current step, and the two before.
    pub dqhdt: Vec<Complex<T>>,
    pub dqhdt_p: Vec<Complex<T>>,
    pub dqhdt_pp: Vec<Complex<T>>,
    pub ws: Workspace<T>,
    /// Spectral fluxes `FFT(u q)`, `FFT(v q)`.
    uqh: Vec<Complex<T>>,
    vqh: Vec<Complex<T>>,
    /// Linear tendency minus the sponge, when a sponge is present.
    damped: Vec<Complex<T>>,
    /// Leapfrog: the (Robert-Asselin filtered) previous level. RK4: the level at the step's start.
    pub prev: Vec<Complex<T>>,
    /// RK4: the weighted sum of the stage tendencies.
    acc: Vec<Complex<T>>,
}

impl<T: Real> Layer<T> {
    pub(crate) fn new(advection: &Advection<T>, ns: usize, np: usize) -> Self {
        let zc = || vec![Complex::default(); ns];
        Self {
            qh: zc(),
            q: vec![T::zero(); np],
            dqhdt: zc(),
            dqhdt_p: zc(),
            dqhdt_pp: zc(),
            ws: advection.workspace(),
            uqh: zc(),
            vqh: zc(),
            damped: zc(),
            prev: zc(),
            acc: zc(),
        }
    }

    /// Layer `lev`'s fluxes `FFT(u q)`, `FFT(v q)` into `uqh`, `vqh` when a layer's tendency
    /// advects with them, the velocities from `psi` and `q` from the field (from the level `old`,
    /// `None`: `qh`, for the 3/2 rule); the advecting speeds (with the background flow).
    pub(crate) fn fluxes(
        &mut self,
        lev: usize,
        psi: Streamfunction<'_, T>,
        old: Option<&[Complex<T>]>,
        tables: &Tables<T>,
        advection: &Advection<T>,
    ) -> Speeds {
        let ubg = tables.ubg[lev];
        if !tables.advects(lev) {
            return Speeds {
                u: ubg.abs().wide(),
                v: 0.0,
            };
        }
        let Self {
            qh,
            q,
            ws,
            uqh,
            vqh,
            ..
        } = self;
        // The padded (3/2) products take q from its spectrum; the plain ones from q itself.
        let q = (advection.dealias() != Dealias::ThreeHalves).then_some(&q[..]);
        advection.fluxes(ws, psi, old.unwrap_or(qh), q, ubg, uqh, vqh)
    }

    /// Phase two of a step for layer `lev`, after [`Layer::fluxes`]: the tendency `dqhdt = lin -
    /// c_J (ik FFT(u q) + il FFT(v q))` and, with an `update`, the filtered update and `q =
    /// irfft2` of the new level, in one pass over the spectrum. Returns whether the new `q` is
    /// finite. AB3 updates from the level `old` (`None`: `qh`) and leaves the new one in
    /// `dqhdt_pp` for [`Layer::finish_ab3`], so that `qh` stays the old level until both layers
    /// are done with it; leapfrog updates `qh` in place (and takes `old = None`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tendency_and_update(
        &mut self,
        lev: usize,
        lin: Linear<'_, T>,
        old: Option<&[Complex<T>]>,
        tables: &Tables<T>,
        advection: &Advection<T>,
        update: Option<Update<T>>,
    ) -> bool {
        let c = tables.c_j[lev][lev];
        let lin = match &tables.sponge[lev] {
            Some(s) => {
                self.sponge(s, lin);
                Linear::Stored(&self.damped[..])
            }
            None => lin,
        };
        let nl = advection.nl();
        let (k, l_col) = (&advection.k[..], &advection.l[..nl]);
        let Self {
            qh,
            q,
            dqhdt,
            dqhdt_p,
            dqhdt_pp,
            ws,
            uqh,
            vqh,
            prev,
            ..
        } = self;
        // The update writes the new level and, scaled, the inverse transform's input (as
        // `Fft2::inverse` would): the levels are swept once.
        let norm = ws.fft.inverse_norm();
        match update {
            None => tendency(dqhdt, Some(lin), [uqh, vqh], k, l_col, c),
            Some(Update::Ab3(dts)) => {
                let old = old.unwrap_or(&qh[..]);
                ws.fft.inverse_with(
                    |cols| {
                        self::update(
                            [dqhdt, dqhdt_pp, cols],
                            lin,
                            [old, uqh, vqh, dqhdt_p],
                            [k, l_col],
                            &tables.filtr[lev],
                            c,
                            dts,
                            norm,
                        )
                    },
                    q,
                );
            }
            Some(Update::Leapfrog { dt, g, euler }) => {
                debug_assert!(old.is_none(), "leapfrog updates qh in place");
                let filtr = if euler {
                    &tables.filtr[lev]
                } else {
                    &tables.filtr_2dt[lev]
                };
                ws.fft.inverse_with(
                    |cols| {
                        leapfrog(
                            [dqhdt, qh, prev, cols],
                            lin,
                            [uqh, vqh],
                            [k, l_col],
                            filtr,
                            c,
                            [dt, g, norm],
                            euler,
                        )
                    },
                    q,
                );
            }
        }
        update.is_none() || all_finite(&self.q)
    }

    /// Ends an AB3 step of [`Layer::tendency_and_update`], `qh` the old level again: the new
    /// level into `qh` and `dqhdt_pp <- dqhdt_p <- dqhdt` (the old level's array becomes scratch
    /// for the next tendency).
    pub(crate) fn finish_ab3(&mut self) {
        std::mem::swap(&mut self.qh, &mut self.dqhdt_pp);
        self.rotate_history();
    }

    /// The filtered AB update from the tendency already in `dqhdt` (the same arithmetic as the
    /// fused update of [`Layer::tendency_and_update`]), history shift and `q = irfft2(qh)`.
    /// Returns whether the new `q` is finite.
    pub(crate) fn ab_update(&mut self, [dt1, dt2, dt3]: [T; 3], filtr: &[T]) -> bool {
        let n = self.qh.len();
        let (qh, d, np, npp, filtr) = (
            &mut self.qh[..n],
            &self.dqhdt[..n],
            &self.dqhdt_p[..n],
            &self.dqhdt_pp[..n],
            &filtr[..n],
        );
        for idx in 0..n {
            qh[idx] = (qh[idx] + d[idx] * dt1 + np[idx] * dt2 + npp[idx] * dt3) * filtr[idx];
        }
        self.shift_history()
    }

    /// `dqhdt_pp <- dqhdt_p <- dqhdt`, then `q = irfft2(qh)`; whether `q` is finite.
    fn shift_history(&mut self) -> bool {
        self.rotate_history();
        self.ws.fft.inverse(&self.qh, &mut self.q);
        all_finite(&self.q)
    }

    /// `dqhdt_pp <- dqhdt_p <- dqhdt` (the oldest becomes scratch for the next tendency).
    fn rotate_history(&mut self) {
        std::mem::swap(&mut self.dqhdt_pp, &mut self.dqhdt_p);
        std::mem::swap(&mut self.dqhdt_p, &mut self.dqhdt);
    }

    /// RK4 stage: `acc += w dqhdt`, then the next stage `qh = prev + h dqhdt`, or with
    /// `finish = Some((dt, filtr))` the step's end `qh = filtr (prev + dt acc)`; and `q = irfft2(qh)`.
    pub(crate) fn rk4_stage(&mut self, h: T, w: T, finish: Option<(T, &[T])>) {
        for ((a, &d), (q, &p)) in self
            .acc
            .iter_mut()
            .zip(&self.dqhdt)
            .zip(self.qh.iter_mut().zip(&self.prev))
        {
            *a = *a + d * w;
            *q = p + d * h;
        }
        if let Some((dt, filtr)) = finish {
            for (((q, &p), &a), &f) in self.qh.iter_mut().zip(&self.prev).zip(&self.acc).zip(filtr)
            {
                *q = (p + a * dt) * f;
            }
        }
        self.ws.fft.inverse(&self.qh, &mut self.q);
    }

    /// Starts an RK4 step: remembers the level and clears the stage sum.
    pub(crate) fn rk4_start(&mut self) {
        self.prev.copy_from_slice(&self.qh);
        self.acc.fill(Complex::default());
    }

    /// `damped = lin - FFT(s(y) (q - <q>_x))`; uses the workspace's `u` as scratch (free after
    /// the fluxes).
    fn sponge(&mut self, s: &[T], lin: Linear<'_, T>) {
        let nx = self.q.len() / s.len();
        for ((row, out), &sj) in self
            .q
            .chunks_exact(nx)
            .zip(self.ws.u.chunks_exact_mut(nx))
            .zip(s)
        {
            let mean = row.iter().copied().sum::<T>() / T::of(nx as f64);
            out.iter_mut()
                .zip(row)
                .for_each(|(o, &q)| *o = sj * (q - mean));
        }
        self.ws.fft.forward(&mut self.ws.u, &mut self.damped);
        match lin {
            Linear::Stored(lin) => {
                for (d, &l) in self.damped.iter_mut().zip(lin) {
                    *d = l - *d;
                }
            }
            on_q => {
                for (i, d) in self.damped.iter_mut().enumerate() {
                    *d = on_q.at(i) - *d;
                }
            }
        }
    }
}

//! Evaluation of library terms on a two-layer state, spectrally, with the solver's own transforms,
//! inversion and de-aliasing: a term's column is computed the way the model computes its tendency.

use super::expr::{Expr, Field, Op};
use crate::error::DiscoveryError;
use medida_solver::dealias::{Padded, two_thirds_mask};
use medida_solver::fft::{Fft2, FftPlans};
use medida_solver::inversion::Inversion;
use medida_solver::jet::JetProfiles;
use medida_solver::{Complex64, Dealias, Grid, QgParams};

/// The geometry a library is evaluated on: the grid, the inversion, the de-aliasing of products,
/// and the jet's profiles when the model has them.
#[derive(Debug, Clone)]
pub struct Geometry {
    /// The model's grid.
    pub grid: Grid,
    inversion: Inversion,
    dealias: Dealias,
    /// `psi_R` (k-major spectrum) and `s(y)` per row, for the jet model.
    jet: Option<(Vec<Complex64>, Vec<f64>)>,
}

impl Geometry {
    /// The geometry of a model with `params`; `jet = Some((u1, sigma))` gives `psi_R` and `s`.
    pub fn new(params: &QgParams, jet: Option<(f64, f64)>) -> Result<Self, DiscoveryError> {
        let grid = params.grid()?;
        let jet = jet.map(|(u1, sigma)| {
            let p = JetProfiles::new(&grid, u1, sigma);
            (p.psi_r_hat(&grid), p.sponge)
        });
        Ok(Self {
            inversion: Inversion::new(&grid, params.f1(), params.f2()),
            dealias: params.dealias,
            grid,
            jet,
        })
    }

    /// Spectral PV and streamfunction (k-major, per layer) of the physical PV `q` `(2, ny, nx)`.
    pub fn spectral_state(&self, q: ndarray::ArrayView3<f64>, fft: &mut Fft2) -> SpectralState {
        let mut qh = [
            vec![Complex64::default(); self.grid.n_spec()],
            vec![Complex64::default(); self.grid.n_spec()],
        ];
        for (lev, out) in qh.iter_mut().enumerate() {
            let mut buf: Vec<f64> = q
                .index_axis(ndarray::Axis(0), lev)
                .iter()
                .copied()
                .collect();
            fft.forward(&mut buf, out);
        }
        self.state_from_qh(qh)
    }

    /// The state of spectral PV `qh` (k-major, per layer): inverts for `psi`.
    pub fn state_from_qh(&self, qh: [Vec<Complex64>; 2]) -> SpectralState {
        let ph = std::array::from_fn(|lev| {
            let mut p = vec![Complex64::default(); self.grid.n_spec()];
            self.inversion.invert_layer(lev, [&qh[0], &qh[1]], &mut p);
            p
        });
        SpectralState { qh, ph }
    }
}

/// A two-layer state in spectral space (k-major spectra of the grid, per layer).
#[derive(Debug, Clone)]
pub struct SpectralState {
    /// PV anomaly.
    pub qh: [Vec<Complex64>; 2],
    /// Streamfunction.
    pub ph: [Vec<Complex64>; 2],
}

/// A term's value: spectral where it came from a linear chain, physical after a product.
enum Value {
    Spectral(Vec<Complex64>),
    Physical(Vec<f64>),
}

/// Evaluates terms on states; holds the transforms and scratch (one per thread).
#[derive(Debug, Clone)]
pub struct Evaluator {
    geometry: Geometry,
    fft: Fft2,
    padded: Option<Padded>,
    mask: Option<Vec<f64>>,
    k: Vec<f64>,
    l: Vec<f64>,
}

impl Evaluator {
    /// An evaluator on `geometry`.
    pub fn new(geometry: Geometry) -> Self {
        let grid = &geometry.grid;
        Self {
            fft: Fft2::new(FftPlans::new(grid)),
            padded: (geometry.dealias == Dealias::ThreeHalves).then(|| Padded::new(grid)),
            mask: (geometry.dealias == Dealias::TwoThirds).then(|| two_thirds_mask(grid)),
            k: grid.spectral_map(|k, _| k),
            l: grid.spectral_map(|_, l| l),
            geometry,
        }
    }

    /// The geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The spectral state of physical PV `q` `(2, ny, nx)`.
    pub fn state(&mut self, q: ndarray::ArrayView3<f64>) -> SpectralState {
        self.geometry.spectral_state(q, &mut self.fft)
    }

    /// Checks that `e` can be evaluated on this geometry (the jet profiles exist when used).
    pub fn check(&self, e: &Expr) -> Result<(), DiscoveryError> {
        let jet_field = e
            .fields()
            .into_iter()
            .find(|f| matches!(f, Field::PsiR | Field::Sponge));
        match (jet_field, &self.geometry.jet) {
            (Some(f), None) => Err(DiscoveryError::Library(format!(
                "`{e}` uses `{f}`, which only the MEDIDA jet model has"
            ))),
            _ => Ok(()),
        }
    }

    /// The term on the grid, `(ny, nx)` row-major.
    pub fn physical(&mut self, e: &Expr, s: &SpectralState) -> Vec<f64> {
        match self.eval(e, s) {
            Value::Physical(p) => p,
            Value::Spectral(h) => self.field_of(&h),
        }
    }

    /// The term's spectrum (k-major).
    pub fn spectral(&mut self, e: &Expr, s: &SpectralState) -> Vec<Complex64> {
        match self.eval(e, s) {
            Value::Spectral(h) => h,
            Value::Physical(mut p) => self.spectrum_of(&mut p),
        }
    }

    /// The field of spectrum `h` (k-major).
    pub fn field_of(&mut self, h: &[Complex64]) -> Vec<f64> {
        let mut out = vec![0.0; self.geometry.grid.n_phys()];
        self.fft.inverse(h, &mut out);
        out
    }

    fn spectrum_of(&mut self, p: &mut [f64]) -> Vec<Complex64> {
        let mut out = vec![Complex64::default(); self.geometry.grid.n_spec()];
        self.fft.forward(p, &mut out);
        out
    }

    fn eval(&mut self, e: &Expr, s: &SpectralState) -> Value {
        let nx = self.geometry.grid.nx;
        match e {
            Expr::Field(f) => match f {
                Field::Psi(i) => Value::Spectral(s.ph[*i].clone()),
                Field::Q(i) => Value::Spectral(s.qh[*i].clone()),
                Field::PsiR => Value::Spectral(self.jet().0.clone()),
                Field::Sponge => Value::Physical(rows(&self.jet().1, nx)),
                Field::Y => {
                    let grid = &self.geometry.grid;
                    let half = grid.ly / 2.0;
                    let y: Vec<f64> = grid.y().iter().map(|y| y - half).collect();
                    Value::Physical(rows(&y, nx))
                }
            },
            Expr::Apply(op, a) => {
                let mut h = self.spectral(a, s);
                for ((h, k), l) in h.iter_mut().zip(&self.k).zip(&self.l) {
                    *h *= multiplier(*op, *k, *l);
                }
                Value::Spectral(h)
            }
            Expr::Jacobian(a, b) => {
                let (ah, bh) = (self.spectral(a, s), self.spectral(b, s));
                Value::Spectral(self.jacobian(&ah, &bh))
            }
            Expr::Product(a, b) => {
                let mut pa = self.physical(a, s);
                let pb = self.physical(b, s);
                pa.iter_mut().zip(&pb).for_each(|(a, b)| *a *= b);
                Value::Physical(pa)
            }
        }
    }

    fn jet(&self) -> &(Vec<Complex64>, Vec<f64>) {
        self.geometry
            .jet
            .as_ref()
            .expect("checked by Evaluator::check")
    }

    /// `J(a, b) = div(u b)` with `u = (-dy a, dx a)`, in flux form and de-aliased as the solver's
    /// advection, so `-J(psi_i, q_i)` equals the model's advection tendency.
    fn jacobian(&mut self, ah: &[Complex64], bh: &[Complex64]) -> Vec<Complex64> {
        let n = ah.len();
        let mut uqh = vec![Complex64::default(); n];
        let mut vqh = vec![Complex64::default(); n];
        if let Some(p) = self.padded.as_mut() {
            p.fluxes(ah, bh, &self.k, &self.l, 0.0, &mut uqh, &mut vqh);
        } else {
            let deriv =
                |f: &dyn Fn(usize) -> Complex64| -> Vec<Complex64> { (0..n).map(f).collect() };
            let u = self.field_of(&deriv(&|i| Complex64::new(0.0, -self.l[i]) * ah[i]));
            let v = self.field_of(&deriv(&|i| Complex64::new(0.0, self.k[i]) * ah[i]));
            let b = self.field_of(bh);
            let mut ub: Vec<f64> = u.iter().zip(&b).map(|(u, b)| u * b).collect();
            let mut vb: Vec<f64> = v.iter().zip(&b).map(|(v, b)| v * b).collect();
            uqh = self.spectrum_of(&mut ub);
            vqh = self.spectrum_of(&mut vb);
            if let Some(mask) = &self.mask {
                for ((u, v), m) in uqh.iter_mut().zip(vqh.iter_mut()).zip(mask) {
                    *u *= m;
                    *v *= m;
                }
            }
        }
        (0..n)
            .map(|i| Complex64::new(0.0, 1.0) * (uqh[i] * self.k[i] + vqh[i] * self.l[i]))
            .collect()
    }
}

/// A profile per row repeated along x: `(ny, nx)` row-major.
fn rows(profile: &[f64], nx: usize) -> Vec<f64> {
    profile
        .iter()
        .flat_map(|&p| std::iter::repeat_n(p, nx))
        .collect()
}

/// The spectral multiplier of `op` at wavenumber `(k, l)`.
fn multiplier(op: Op, k: f64, l: f64) -> Complex64 {
    match op {
        Op::Lap(n) => Complex64::new((-(k * k + l * l)).powi(n as i32), 0.0),
        Op::Dx => Complex64::new(0.0, k),
        Op::Dy => Complex64::new(0.0, l),
        Op::Grad => Complex64::new(0.0, k + l),
    }
}

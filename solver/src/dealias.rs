//! De-aliasing of the quadratic advection products: the 3/2 rule (Orszag: the velocities and the
//! PV go to a grid 3/2 as fine through zero-padded spectra, the products are formed there and their
//! spectrum is truncated back) and the 2/3 rule's truncation mask.

use crate::fft::{Fft2, FftPlans};
use crate::grid::Grid;
use crate::lanes::products_by_band;
use crate::real::Real;
use crate::spectral::{Streamfunction, velocity_at};
use rustfft::num_complex::Complex;
use std::sync::Arc;

/// Index of each original k-major spectral coefficient in the padded k-major spectrum, or `None`
/// for the original Nyquist row and column (dropped).
fn padded_index(nx: usize, ny: usize, nyp: usize) -> Vec<Option<usize>> {
    let nk = nx / 2 + 1;
    let mut out = Vec::with_capacity(nk * ny);
    for ik in 0..nk {
        for il in 0..ny {
            let ilp = if il < ny / 2 {
                Some(il)
            } else if il > ny / 2 {
                Some(il + nyp - ny)
            } else {
                None
            };
            out.push(if ik == nx / 2 {
                None
            } else {
                ilp.map(|l| ik * nyp + l)
            });
        }
    }
    out
}

/// The grid 3/2 as fine: its transforms and where each original mode goes, shared read-only by
/// every [`Padded`] workspace of a model or library.
#[derive(Debug, Clone)]
pub struct PaddedGrid<T: Real = f64> {
    plans: FftPlans<T>,
    map: Arc<[Option<usize>]>,
    /// `M' / M`: padded over original point count.
    ratio: T,
    /// Columns of the padded spectrum that hold original modes (`k < nx/2`, the original
    /// Nyquist column dropped): the others are zero on the way in and truncated on the way out.
    band: usize,
    n_phys: usize,
    n_spec: usize,
}

impl<T: Real> PaddedGrid<T> {
    /// The padded grid of `grid` (whose sizes are divisible by 4).
    pub fn new(grid: &Grid) -> Self {
        let (nxp, nyp) = (3 * grid.nx / 2, 3 * grid.ny / 2);
        let padded = Grid::new(nxp, nyp, grid.lx, grid.ly).expect("3/2 of a valid grid is valid");
        Self {
            plans: FftPlans::new(&padded),
            map: padded_index(grid.nx, grid.ny, nyp).into(),
            ratio: T::of(padded.n_phys() as f64 / grid.n_phys() as f64),
            band: grid.nx / 2,
            n_phys: padded.n_phys(),
            n_spec: padded.n_spec(),
        }
    }

    /// Buffers for one thread's products on this grid.
    pub fn workspace(&self) -> Padded<T> {
        Padded {
            fft: Fft2::new(self.plans.clone()),
            map: self.map.clone(),
            ratio: self.ratio,
            band: self.band,
            spec: [0, 1].map(|_| vec![Complex::default(); self.n_spec]),
            q: vec![T::zero(); self.n_phys],
        }
    }
}

/// One thread's transforms and buffers on the padded grid.
#[derive(Debug, Clone)]
pub struct Padded<T: Real = f64> {
    fft: Fft2<T>,
    map: Arc<[Option<usize>]>,
    ratio: T,
    band: usize,
    /// The products' padded spectra.
    spec: [Vec<Complex<T>>; 2],
    /// `q` on the padded grid.
    q: Vec<T>,
}

/// The fill of `N` padded spectra with the original spectra `f(idx)`, zero elsewhere.
fn fill_padded<T: Real, const N: usize>(
    map: &[Option<usize>],
    f: impl Fn(usize) -> [Complex<T>; N],
) -> impl FnOnce([&mut [Complex<T>]; N]) {
    move |mut specs| {
        for spec in specs.iter_mut() {
            spec.fill(Complex::default());
        }
        for (idx, p) in map.iter().enumerate() {
            if let Some(p) = p {
                for (spec, value) in specs.iter_mut().zip(f(idx)) {
                    spec[*p] = value;
                }
            }
        }
    }
}

impl<T: Real> Padded<T> {
    /// `FFT(u q)` and `FFT(v q)` on the original modes, from `psi` and `qh` (k-major, original
    /// grid) with wavenumbers `k`, `l`. Returns `max |u + ubg|` and `max |v|` on the padded grid.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fluxes(
        &mut self,
        psi: Streamfunction<'_, T>,
        qh: &[Complex<T>],
        k: &[T],
        l: &[T],
        ubg: T,
        uqh: &mut [Complex<T>],
        vqh: &mut [Complex<T>],
    ) -> (f64, f64) {
        let (map, ratio, band) = (&*self.map, self.ratio, self.band);
        let scale = ratio * self.fft.inverse_norm();
        let q = &mut self.q;
        let fill_q = fill_padded(map, |i| [qh[i] * scale]);
        self.fft.inverse_band_with(band, |spec| fill_q([spec]), q);
        let mut speeds = (0.0, 0.0);
        let [spec_u, spec_v] = &mut self.spec;
        let fill_velocities = fill_padded(map, |i| velocity_at(psi.at(i), k[i], l[i], scale));
        self.fft.round_trip_band(
            band,
            |uh, vh| fill_velocities([uh, vh]),
            products_by_band(q, ubg, &mut speeds),
            [spec_u, spec_v],
        );
        for (spec, out) in [(&*spec_u, uqh), (&*spec_v, vqh)] {
            for (o, p) in out.iter_mut().zip(map.iter()) {
                *o = p.map_or(Complex::default(), |p| spec[p] / ratio);
            }
        }
        speeds
    }
}

/// The 2/3 rule's mask (k-major): 1 for `|k| <= nx/3` and `|l| <= ny/3` modes, else 0.
pub fn two_thirds_mask(grid: &Grid) -> Vec<f64> {
    let (kmax, lmax) = (
        grid.kk[1] * (grid.nx / 3) as f64,
        grid.ll[1] * (grid.ny / 3) as f64,
    );
    grid.spectral_map(|k, l| {
        if k <= kmax * (1.0 + 1e-12) && l.abs() <= lmax * (1.0 + 1e-12) {
            1.0
        } else {
            0.0
        }
    })
}

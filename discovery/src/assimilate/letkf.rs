//! The local ensemble transform Kalman filter (Hunt, Kostelich and Szunyogh 2007): each local
//! domain of grid columns is analysed by the ETKF from the observations near it, each
//! observation's weight tapered by its distance (the taper multiplies `R^-1`, so
//! `sqrt(taper)` multiplies the normalised observed anomalies and innovation, as in DAPPER's
//! `local_analyses`). Domains without observations keep their forecast.

use super::localization::{Buckets, Localization, PeriodicGrid};
use super::{Observed, transform};
use crate::error::DiscoveryError;
use ndarray::{Array1, Array2, ArrayViewMut2, Axis};
use rayon::prelude::*;

/// An LETKF on a periodic grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letkf {
    /// The state's grid.
    pub grid: PeriodicGrid,
    /// How far observations reach.
    pub localization: Localization,
}

impl Letkf {
    /// An LETKF on `grid` localised by `localization`; checks the settings.
    pub fn new(grid: PeriodicGrid, localization: Localization) -> Result<Self, DiscoveryError> {
        localization.check(&grid)?;
        Ok(Self { grid, localization })
    }

    /// The analysis of `e` `(N, Nx)` in place from `obs`, observation `k` located at
    /// `stations[k] = [y, x]` in grid points. The local analyses run in parallel; each writes
    /// only its own columns, so the result does not depend on the thread count.
    pub fn analyse(
        &self,
        e: &mut Array2<f64>,
        obs: &Observed,
        stations: &[[f64; 2]],
    ) -> Result<(), DiscoveryError> {
        if e.ncols() != self.grid.len() {
            return Err(DiscoveryError::Shape(format!(
                "LETKF on {} levels of {}x{}: ensemble of {} variables (allowed: {})",
                self.grid.levels,
                self.grid.ny,
                self.grid.nx,
                e.ncols(),
                self.grid.len()
            )));
        }
        let domains = self.domains();
        let columns: Vec<usize> = domains.iter().flat_map(|d| self.columns(d)).collect();
        let mut block = e.select(Axis(1), &columns);
        self.analyse_domains(block.view_mut(), obs, &self.reach(&domains, stations))?;
        for (c, &col) in columns.iter().enumerate() {
            e.column_mut(col).assign(&block.column(c));
        }
        Ok(())
    }

    /// The local domains: each a list of `(j, i)` grid columns, both levels analysed together.
    pub fn domains(&self) -> Vec<Vec<(usize, usize)>> {
        self.localization.domains(&self.grid)
    }

    /// The state variables of `domain`: its columns on the first level, then on the next.
    pub fn columns(&self, domain: &[(usize, usize)]) -> Vec<usize> {
        let (plane, nx) = (self.grid.ny * self.grid.nx, self.grid.nx);
        (0..self.grid.levels)
            .flat_map(|lev| domain.iter().map(move |&(j, i)| lev * plane + j * nx + i))
            .collect()
    }

    /// Which observations reach each of `domains` (some of [`domains`](Self::domains)) from
    /// `stations` (`[y, x]` in grid points, one per observation), and how much: what the local
    /// analyses weigh, the same for every analysis with these stations, so a cycled filter whose
    /// stations stay computes it once.
    pub fn reach(&self, domains: &[Vec<(usize, usize)>], stations: &[[f64; 2]]) -> Reach {
        let grid = self.grid;
        let buckets = Buckets::new(&grid, stations);
        let reach = self.localization.reach();
        let near = domains
            .par_iter()
            .map(|domain| {
                let candidates = buckets.near(domain, reach);
                let (near, taper) = self.localization.taper(&grid, domain, stations, candidates);
                Near {
                    width: domain.len() * grid.levels,
                    observations: near,
                    sqrt_taper: Array1::from_iter(taper.iter().map(|c| c.sqrt())),
                }
            })
            .collect();
        Reach {
            stations: stations.to_vec(),
            near,
        }
    }

    /// The local analyses of the domains `reach` was made for, in place: `block` `(N, columns)`
    /// holds every member at their [`columns`](Self::columns), domain after domain (an
    /// ensemble shared by columns among processes, [`super::Layout`]: each process analyses its
    /// own domains, and each domain's analysis is the same whichever process makes it). The
    /// domains run in parallel; those without observations keep their forecast.
    pub fn analyse_domains(
        &self,
        block: ArrayViewMut2<f64>,
        obs: &Observed,
        reach: &Reach,
    ) -> Result<(), DiscoveryError> {
        obs.check(block.nrows())?;
        let (grid, p) = (self.grid, obs.y.len());
        let width: usize = reach.near.iter().map(|d| d.width).sum();
        if block.ncols() != width || reach.stations.len() != p {
            return Err(DiscoveryError::Shape(format!(
                "LETKF on {} levels of {}x{}: {} columns for domains of {width} and {} stations for {p} observations (allowed: one station per observation)",
                grid.levels,
                grid.ny,
                grid.nx,
                block.ncols(),
                reach.stations.len(),
            )));
        }
        let (yn, dy) = obs.normalised();
        // One observation's anomalies per row, to gather a domain's rows.
        let ynt = yn.t().as_standard_layout().into_owned();
        let n = yn.nrows();
        super::split_columns(block, reach.near.iter().map(|d| d.width))
            .into_par_iter()
            .zip(&reach.near)
            .try_for_each(|(local, near)| {
                if near.observations.is_empty() {
                    return Ok(());
                }
                let mut yt = Vec::with_capacity(near.observations.len() * n);
                for (&o, &t) in near.observations.iter().zip(&near.sqrt_taper) {
                    yt.extend(ynt.row(o).iter().map(|y| y * t));
                }
                let dyl: Vec<f64> = (near.observations.iter().zip(&near.sqrt_taper))
                    .map(|(&o, &t)| dy[o] * t)
                    .collect();
                let w = transform::weights_of(&yt, &dyl, n)?;
                transform::apply(local, &w);
                Ok(())
            })
    }
}

/// The observations that reach each local domain of an LETKF and their weights, for one set of
/// stations and the domains and localization of the LETKF that made it ([`Letkf::reach`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    /// The stations it was made for, `[y, x]` in grid points.
    stations: Vec<[f64; 2]>,
    /// Per domain, in order.
    near: Vec<Near>,
}

impl Reach {
    /// Whether it was made for `stations`.
    pub fn is_for(&self, stations: &[[f64; 2]]) -> bool {
        self.stations == stations
    }
}

/// One domain's share of a [`Reach`].
#[derive(Debug, Clone, PartialEq)]
struct Near {
    /// The domain's state variables (its columns times the levels).
    width: usize,
    /// The observations that reach it, ascending.
    observations: Vec<usize>,
    /// The square roots of their tapers: the taper multiplies `R^-1`.
    sqrt_taper: Array1<f64>,
}

#[cfg(test)]
mod tests {
    use super::super::{etkf, gaspari_cohn};
    use super::*;
    use crate::observe::normal;
    use rand_mt::Mt64;

    /// A 2-level 6x8 grid, 20 members, every third point of each level observed.
    struct Problem {
        grid: PeriodicGrid,
        e0: Array2<f64>,
        eo: Array2<f64>,
        y: Array1<f64>,
        r: Array1<f64>,
        stations: Vec<[f64; 2]>,
    }

    impl Problem {
        fn new() -> Self {
            let grid = PeriodicGrid {
                levels: 2,
                ny: 6,
                nx: 8,
            };
            let mut rng = Mt64::new(11);
            let e0 = Array2::from_shape_fn((20, grid.len()), |(_, j)| {
                (j as f64 * 0.3).sin() + normal(&mut rng)
            });
            let h: Vec<usize> = (0..grid.len()).step_by(3).collect();
            let stations = h
                .iter()
                .map(|&s| {
                    let s = s % (grid.ny * grid.nx);
                    [(s / grid.nx) as f64, (s % grid.nx) as f64]
                })
                .collect();
            Self {
                grid,
                eo: e0.select(Axis(1), &h),
                e0,
                y: Array1::from_shape_fn(h.len(), |k| (k as f64 * 0.7).cos()),
                r: Array1::from_shape_fn(h.len(), |k| 0.2 + 0.01 * k as f64),
                stations,
            }
        }

        fn obs(&self) -> Observed<'_> {
            Observed {
                members: self.eo.view(),
                y: self.y.view(),
                variance: self.r.view(),
            }
        }

        /// The LETKF analysis of the problem's ensemble.
        fn letkf(&self, loc: Localization) -> Array2<f64> {
            let mut e = self.e0.clone();
            Letkf::new(self.grid, loc)
                .unwrap()
                .analyse(&mut e, &self.obs(), &self.stations)
                .unwrap();
            e
        }
    }

    #[test]
    fn without_localization_the_letkf_is_the_etkf() {
        let p = Problem::new();
        let mut global = p.e0.clone();
        etkf(&mut global, &p.obs()).unwrap();
        for batch in [(1, 1), (2, 3), (6, 8)] {
            let local = p.letkf(Localization {
                batch,
                ..Localization::isotropic(f64::INFINITY)
            });
            let diff = (&local - &global)
                .iter()
                .fold(0.0f64, |m, d| m.max(d.abs()));
            // The same weights, computed once per domain: round-off of an N = 20 eigenproblem.
            assert!(diff < 1e-12, "batch {batch:?}: {diff}");
        }
    }

    #[test]
    fn a_distant_observation_changes_nothing_and_a_near_one_is_tapered() {
        let grid = PeriodicGrid {
            levels: 1,
            ny: 1,
            nx: 40,
        };
        let mut rng = Mt64::new(5);
        let e0 = Array2::from_shape_fn((10, 40), |_| normal(&mut rng));
        let eo = e0.select(Axis(1), &[0]);
        let (y, r) = (Array1::from(vec![2.0]), Array1::from(vec![0.5]));
        let obs = Observed {
            members: eo.view(),
            y: y.view(),
            variance: r.view(),
        };
        let letkf = Letkf::new(grid, Localization::isotropic(2.0)).unwrap();
        let mut e = e0.clone();
        letkf.analyse(&mut e, &obs, &[[0.0, 0.0]]).unwrap();
        // Beyond 2 x 1.82 radii (7.28 points) the taper is 0: columns 8..=32 are untouched.
        for c in 8..=32 {
            assert_eq!(e.column(c), e0.column(c), "column {c}");
        }
        // At the station the analysis is the ETKF's with R / taper(0) = R.
        let mut single = e0.select(Axis(1), &[0]);
        etkf(&mut single, &obs).unwrap();
        assert!(
            (&e.column(0) - &single.column(0))
                .iter()
                .all(|d| d.abs() < 1e-12)
        );
        // Three points away, the ETKF's with R / taper(3/2).
        let r3 = Array1::from(vec![0.5 / gaspari_cohn(1.5)]);
        let obs3 = Observed {
            variance: r3.view(),
            ..obs
        };
        let mut third = e0.select(Axis(1), &[3]);
        etkf(&mut third, &obs3).unwrap();
        assert!(
            (&e.column(3) - &third.column(0))
                .iter()
                .all(|d| d.abs() < 1e-12)
        );
    }

    #[test]
    fn a_reach_kept_for_later_analyses_gives_their_own_analyses() {
        let p = Problem::new();
        let letkf = Letkf::new(p.grid, Localization::isotropic(2.5)).unwrap();
        let domains = letkf.domains();
        let reach = letkf.reach(&domains, &p.stations);
        assert!(reach.is_for(&p.stations));
        let mut moved = p.stations.clone();
        moved[0][1] += 1.0;
        assert!(!reach.is_for(&moved));
        let columns: Vec<usize> = domains.iter().flat_map(|d| letkf.columns(d)).collect();
        // Two ensembles with the same stations: each analysed with the kept reach, and afresh.
        for shift in [0.0, 0.5] {
            let e0 = p.e0.mapv(|v| v + shift * v.sin());
            let eo = e0.select(Axis(1), &(0..p.grid.len()).step_by(3).collect::<Vec<_>>());
            let obs = Observed {
                members: eo.view(),
                ..p.obs()
            };
            let mut kept = e0.select(Axis(1), &columns);
            letkf
                .analyse_domains(kept.view_mut(), &obs, &reach)
                .unwrap();
            let mut fresh = e0.clone();
            letkf.analyse(&mut fresh, &obs, &p.stations).unwrap();
            assert_eq!(kept, fresh.select(Axis(1), &columns), "shift {shift}");
        }
    }

    #[test]
    fn the_same_bits_at_one_and_two_threads() {
        let p = Problem::new();
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| p.letkf(Localization::isotropic(2.5)))
        };
        assert_eq!(run(1), run(2));
    }
}

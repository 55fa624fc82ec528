//! Localization on a doubly periodic grid: the Gaspari-Cohn taper of the distance between a
//! local analysis domain and each observation, as DAPPER's `nd_Id_localization` and
//! `dist2coeff(..., "GC")` compute it.

use crate::error::{DiscoveryError, invalid};

/// DAPPER's scaling of the Gaspari-Cohn support (its `dist2coeff`): the taper is 0.634, about
/// `exp(-1/2)`, at one localization radius and reaches 0 at `2 x 1.82` radii.
const GC_HALF_WIDTH: f64 = 1.82;

/// Observations whose taper is at most this weigh nothing (DAPPER's `cutoff`).
const CUTOFF: f64 = 1e-3;

/// The Gaspari and Cohn (1999, eq. 4.10) compactly supported fifth-order taper at `r` radii
/// (`r >= 0`): 1 at 0, 0.634 at 1, 0 beyond 3.64.
pub fn gaspari_cohn(r: f64) -> f64 {
    let z = r / GC_HALF_WIDTH;
    let (z2, z3) = (z * z, z * z * z);
    if z <= 1.0 {
        1.0 + z2 * (-z3 / 4.0 + z2 / 2.0) + z3 * (5.0 / 8.0) - z2 * (5.0 / 3.0)
    } else if z <= 2.0 {
        z2 * (z3 / 12.0 - z2 / 2.0) + z3 * (5.0 / 8.0) + z2 * (5.0 / 3.0) - z * 5.0 + 4.0
            - (2.0 / 3.0) / z
    } else {
        0.0
    }
}

/// A state of `levels` layers of `ny x nx` points on a doubly periodic grid, stored level by
/// level, row by row: state index `(lev * ny + j) * nx + i` (a QG `q` of shape `(lev, y, x)`
/// flattened; a 1-D ring is `levels = 1, ny = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodicGrid {
    /// Layers, each analysed together with the others in its columns.
    pub levels: usize,
    /// Points in y.
    pub ny: usize,
    /// Points in x.
    pub nx: usize,
}

impl PeriodicGrid {
    /// The number of state variables.
    pub fn len(&self) -> usize {
        self.levels * self.ny * self.nx
    }

    /// Whether the grid has no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How far observations reach: lengths in grid points in y and x (anisotropic when they
/// differ), and the local analysis domains, blocks of `batch` `(y, x)` grid columns (every
/// level of them) analysed with one set of weights (DAPPER's batches; `(1, 1)` is the
/// per-point LETKF of Hunt et al.).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Localization {
    /// The localization radius in grid points along y (taper about `exp(-1/2)` there).
    pub radius_y: f64,
    /// The localization radius in grid points along x.
    pub radius_x: f64,
    /// Grid columns per local domain along y and x.
    pub batch: (usize, usize),
}

impl Localization {
    /// An isotropic localization of `radius` grid points, analysed point by point.
    pub fn isotropic(radius: f64) -> Self {
        Self {
            radius_y: radius,
            radius_x: radius,
            batch: (1, 1),
        }
    }

    pub(crate) fn check(&self, grid: &PeriodicGrid) -> Result<(), DiscoveryError> {
        for (name, r) in [
            ("localization radius (y)", self.radius_y),
            ("localization radius (x)", self.radius_x),
        ] {
            if r.is_nan() || r <= 0.0 {
                return Err(invalid(name, r, "> 0 grid points (inf for none)"));
            }
        }
        let (by, bx) = self.batch;
        if by == 0 || bx == 0 || by > grid.ny || bx > grid.nx {
            return Err(invalid(
                "localization batch",
                format!("{by}x{bx}"),
                "1 to the grid's size in each direction",
            ));
        }
        Ok(())
    }

    /// The local domains: each a list of `(j, i)` grid columns. Each direction is cut into
    /// `round(n / batch)` near-equal parts, the first ones one longer when they do not divide
    /// evenly (NumPy's `array_split`, as DAPPER's `rectangular_partitioning`).
    pub(crate) fn domains(&self, grid: &PeriodicGrid) -> Vec<Vec<(usize, usize)>> {
        let split = |n: usize, b: usize| -> Vec<std::ops::Range<usize>> {
            let parts = ((n as f64 / b as f64).round_ties_even() as usize).max(1);
            let (size, extra) = (n / parts, n % parts);
            let mut start = 0;
            (0..parts)
                .map(|k| {
                    let len = size + usize::from(k < extra);
                    start += len;
                    start - len..start
                })
                .collect()
        };
        let (ys, xs) = (split(grid.ny, self.batch.0), split(grid.nx, self.batch.1));
        ys.iter()
            .flat_map(|ry| {
                xs.iter().map(move |rx| {
                    ry.clone()
                        .flat_map(|j| rx.clone().map(move |i| (j, i)))
                        .collect()
                })
            })
            .collect()
    }

    /// The observations that reach a domain and their tapers: for each candidate observation
    /// (ascending indices into `stations`, located at `[y, x]` in grid units), the mean over
    /// the domain's columns of the periodic distance in radii, tapered by [`gaspari_cohn`];
    /// those above the cut-off are kept, in the candidates' order.
    pub(crate) fn taper(
        &self,
        grid: &PeriodicGrid,
        domain: &[(usize, usize)],
        stations: &[[f64; 2]],
        candidates: impl IntoIterator<Item = usize>,
    ) -> (Vec<usize>, Vec<f64>) {
        let wrap = |d: f64, n: usize| {
            let d = d.abs() % n as f64;
            d.min(n as f64 - d)
        };
        let mut kept = (Vec::new(), Vec::new());
        for k in candidates {
            let s = stations[k];
            let mean = domain
                .iter()
                .map(|&(j, i)| {
                    let dy = wrap(s[0] - j as f64, grid.ny) / self.radius_y;
                    let dx = wrap(s[1] - i as f64, grid.nx) / self.radius_x;
                    (dy * dy + dx * dx).sqrt()
                })
                .sum::<f64>()
                / domain.len() as f64;
            let c = gaspari_cohn(mean);
            if c > CUTOFF {
                kept.0.push(k);
                kept.1.push(c);
            }
        }
        kept
    }

    /// How many grid cells beyond a domain an observation can be and still reach it, along y
    /// and x: the taper's support (its mean distance is at least its distance to the nearest
    /// column).
    pub(crate) fn reach(&self) -> (f64, f64) {
        let support = 2.0 * GC_HALF_WIDTH;
        (support * self.radius_y + 1.0, support * self.radius_x + 1.0)
    }
}

/// Observations bucketed by the grid cell they fall in, so that a local analysis looks only at
/// the cells within the localization's reach.
pub(crate) struct Buckets {
    cells: Vec<Vec<usize>>,
    ny: usize,
    nx: usize,
}

impl Buckets {
    /// `stations[k] = [y, x]` in grid units, bucketed on `grid` (periodic).
    pub(crate) fn new(grid: &PeriodicGrid, stations: &[[f64; 2]]) -> Self {
        let (ny, nx) = (grid.ny, grid.nx);
        let mut cells = vec![Vec::new(); ny * nx];
        let cell = |v: f64, n: usize| (v.floor().rem_euclid(n as f64) as usize).min(n - 1);
        for (k, s) in stations.iter().enumerate() {
            cells[cell(s[0], ny) * nx + cell(s[1], nx)].push(k);
        }
        Self { cells, ny, nx }
    }

    /// The observations in the cells within `reach` `(y, x)` of the domain's bounding box,
    /// ascending.
    pub(crate) fn near(&self, domain: &[(usize, usize)], reach: (f64, f64)) -> Vec<usize> {
        let span = |coords: &mut dyn Iterator<Item = usize>, reach: f64, n: usize| -> Vec<usize> {
            let (lo, hi) = coords.fold((usize::MAX, 0), |(lo, hi), c| (lo.min(c), hi.max(c)));
            let r = if reach.is_finite() {
                reach.ceil() as usize
            } else {
                n
            };
            if hi - lo + 2 * r + 1 >= n {
                return (0..n).collect();
            }
            (0..hi - lo + 2 * r + 1)
                .map(|d| (lo + n * (r / n + 1) + d - r) % n)
                .collect()
        };
        let ys = span(&mut domain.iter().map(|d| d.0), reach.0, self.ny);
        let xs = span(&mut domain.iter().map(|d| d.1), reach.1, self.nx);
        let mut out: Vec<usize> = ys
            .iter()
            .flat_map(|&j| {
                xs.iter()
                    .flat_map(move |&i| self.cells[j * self.nx + i].iter().copied())
            })
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaspari_cohn_is_a_continuous_taper_with_dappers_scaling() {
        assert_eq!(gaspari_cohn(0.0), 1.0);
        // Gaspari and Cohn's value at the joint of the pieces (z = 1): 1 - 5/3 + 5/8 + 1/2 - 1/4.
        assert!((gaspari_cohn(1.82) - 5.0 / 24.0).abs() < 1e-15);
        // About exp(-1/2) = 0.607 at one radius, as DAPPER's scaling intends (0.634: within 5%).
        assert!((gaspari_cohn(1.0) / (-0.5f64).exp() - 1.0).abs() < 0.05);
        assert!(gaspari_cohn(2.0 * 1.82).abs() < 1e-15); // 0 up to the polynomial's round-off
        assert_eq!(gaspari_cohn(5.0), 0.0);
        // Continuous at the joint of its two pieces (z = 1), and decreasing.
        let (a, b) = (
            gaspari_cohn(1.82 * (1.0 - 1e-9)),
            gaspari_cohn(1.82 * (1.0 + 1e-9)),
        );
        assert!((a - b).abs() < 1e-8, "{a} {b}");
        let v: Vec<f64> = (0..80).map(|k| gaspari_cohn(k as f64 * 0.05)).collect();
        assert!(v.windows(2).all(|w| w[1] <= w[0]));
    }

    #[test]
    fn domains_split_like_numpy_array_split() {
        let grid = PeriodicGrid {
            levels: 2,
            ny: 5,
            nx: 7,
        };
        let loc = Localization {
            batch: (2, 3),
            ..Localization::isotropic(2.0)
        };
        let d = loc.domains(&grid);
        // round(5/2) = 2 parts in y (3 + 2 rows), round(7/3) = 2 in x (4 + 3 columns).
        assert_eq!(d.len(), 4);
        assert_eq!(d[0].len(), 12);
        assert_eq!(d[3], vec![(3, 4), (3, 5), (3, 6), (4, 4), (4, 5), (4, 6)]);
        let mut all: Vec<_> = d.concat();
        all.sort();
        assert_eq!(all.len(), 35);
        all.dedup();
        assert_eq!(all.len(), 35);
    }

    #[test]
    fn the_taper_wraps_around_the_periodic_grid() {
        let grid = PeriodicGrid {
            levels: 1,
            ny: 1,
            nx: 40,
        };
        let loc = Localization::isotropic(4.0);
        let stations = [[0.0, 39.0], [0.0, 1.0], [0.0, 20.0]];
        let (k, c) = loc.taper(&grid, &[(0, 0)], &stations, 0..3);
        assert_eq!(k, vec![0, 1]);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[0], gaspari_cohn(0.25));
    }

    #[test]
    fn buckets_find_every_observation_that_reaches_a_domain() {
        let grid = PeriodicGrid {
            levels: 2,
            ny: 30,
            nx: 50,
        };
        let mut rng = rand_mt::Mt64::new(9);
        let stations: Vec<[f64; 2]> = (0..400)
            .map(|_| {
                [
                    (rng.next_u64() % 3000) as f64 / 100.0,
                    (rng.next_u64() % 5000) as f64 / 100.0,
                ]
            })
            .collect();
        let buckets = Buckets::new(&grid, &stations);
        for loc in [
            Localization {
                batch: (2, 3),
                ..Localization::isotropic(2.0)
            },
            Localization {
                radius_y: 1.0,
                radius_x: 5.0,
                batch: (1, 1),
            },
            Localization {
                batch: (3, 2),
                ..Localization::isotropic(f64::INFINITY)
            },
        ] {
            for domain in loc.domains(&grid) {
                let all = loc.taper(&grid, &domain, &stations, 0..stations.len());
                let near = loc.taper(
                    &grid,
                    &domain,
                    &stations,
                    buckets.near(&domain, loc.reach()),
                );
                assert_eq!(all, near, "{loc:?} {domain:?}");
            }
        }
    }

    #[test]
    fn bad_settings_are_errors() {
        let grid = PeriodicGrid {
            levels: 1,
            ny: 4,
            nx: 4,
        };
        let msg = Localization::isotropic(0.0)
            .check(&grid)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("localization radius") && msg.contains("> 0"),
            "{msg}"
        );
        let loc = Localization {
            batch: (5, 1),
            ..Localization::isotropic(1.0)
        };
        assert!(loc.check(&grid).unwrap_err().to_string().contains("batch"));
    }
}

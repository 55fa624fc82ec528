//! Where a field is observed, and with how much noise.

use crate::error::{DiscoveryError, invalid};
use rand_mt::Mt64;

/// What is observed: a fraction of the grid points, drawn at random from `seed`, with Gaussian
/// noise of standard deviation `noise` times the field's standard deviation.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationSpec {
    /// Fraction of grid points observed, in (0, 1].
    pub fraction: f64,
    /// Noise standard deviation relative to the field's standard deviation (0: exact).
    pub noise: f64,
    /// Seed of the station draw and of the noise.
    pub seed: u64,
    /// A new set of stations at every observation time (default: the same stations throughout,
    /// as the released code).
    pub vary: bool,
}

impl ObservationSpec {
    /// Parses `fraction=0.25,noise=0.001,seed=1[,vary=true]` (`noise` defaults to 0, `seed` to 0).
    pub fn parse(text: &str) -> Result<Self, DiscoveryError> {
        let mut spec = Self {
            fraction: f64::NAN,
            noise: 0.0,
            seed: 0,
            vary: false,
        };
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(invalid(
                    "observe",
                    item,
                    "key=value items: fraction, noise, seed, vary",
                ));
            };
            let bad = || {
                invalid(
                    "observe",
                    item,
                    "fraction in (0, 1], noise >= 0, seed an integer, vary true/false",
                )
            };
            match key.trim() {
                "fraction" => spec.fraction = value.trim().parse().map_err(|_| bad())?,
                "noise" => spec.noise = value.trim().parse().map_err(|_| bad())?,
                "seed" => spec.seed = value.trim().parse().map_err(|_| bad())?,
                "vary" => spec.vary = value.trim().parse().map_err(|_| bad())?,
                _ => return Err(invalid("observe", key, "fraction, noise, seed or vary")),
            }
        }
        if !(spec.fraction > 0.0 && spec.fraction <= 1.0) {
            return Err(invalid(
                "observe.fraction",
                spec.fraction,
                "a number in (0, 1]",
            ));
        }
        if !(spec.noise >= 0.0 && spec.noise.is_finite()) {
            return Err(invalid("observe.noise", spec.noise, "a finite number >= 0"));
        }
        Ok(spec)
    }

    /// The observed points (flat row-major indices into `n` grid points, sorted) at observation
    /// time number `time` (only matters with `vary`).
    pub fn stations(&self, n: usize, time: u64) -> Vec<usize> {
        let m = ((self.fraction * n as f64).round() as usize).clamp(1, n);
        let mut rng = Mt64::new(
            self.seed
                ^ if self.vary {
                    time.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                } else {
                    0
                },
        );
        // Partial Fisher-Yates: the first m of a random permutation.
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..m {
            let j = i + (rng.next_u64() % (n - i) as u64) as usize;
            all.swap(i, j);
        }
        let mut s = all[..m].to_vec();
        s.sort_unstable();
        s
    }

    /// `field` at `stations` plus noise (`noise` times the standard deviation of the whole field),
    /// drawn from a generator seeded by the spec's seed, `time` and `stream` (e.g. the layer).
    pub fn observe(&self, field: &[f64], stations: &[usize], time: u64, stream: u64) -> Vec<f64> {
        let mut out: Vec<f64> = stations.iter().map(|&i| field[i]).collect();
        if self.noise > 0.0 {
            let n = field.len() as f64;
            let mean = field.iter().sum::<f64>() / n;
            let std = (field.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            let mut rng = Mt64::new(
                self.seed
                    .wrapping_add(0x5851_F42D_4C95_7F2D)
                    .wrapping_add(time.wrapping_mul(1_000_003))
                    .wrapping_add(stream.wrapping_mul(7919)),
            );
            out.iter_mut()
                .for_each(|v| *v += self.noise * std * normal(&mut rng));
        }
        out
    }
}

/// For every point of a periodic `(ny, nx)` grid (row-major), how many of its eight neighbours
/// are `observed`. An interpolant's gradient at a station is far more accurate when the
/// neighbours are observed too (on the MEDIDA jet at 75% observed, the error of the Jacobian at
/// stations with all eight observed is a third of that at stations with four).
pub fn observed_neighbours(observed: &[bool], nx: usize) -> Vec<u8> {
    let ny = observed.len() / nx;
    (0..observed.len())
        .map(|i| {
            let (x, y) = (i % nx, i / nx);
            let mut n = 0;
            for dy in [ny - 1, 0, 1] {
                for dx in [nx - 1, 0, 1] {
                    if (dx, dy) != (0, 0) && observed[(y + dy) % ny * nx + (x + dx) % nx] {
                        n += 1;
                    }
                }
            }
            n
        })
        .collect()
}

/// A standard normal deviate (Box-Muller).
pub fn normal(rng: &mut Mt64) -> f64 {
    let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stations_are_seeded_and_sized() {
        let s = ObservationSpec::parse("fraction=0.25,seed=3").unwrap();
        let a = s.stations(1000, 0);
        assert_eq!(a.len(), 250);
        assert_eq!(a, s.stations(1000, 7), "fixed over time");
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        let v = ObservationSpec {
            vary: true,
            ..s.clone()
        };
        assert_ne!(v.stations(1000, 0), v.stations(1000, 1));
        let other = ObservationSpec { seed: 4, ..s };
        assert_ne!(other.stations(1000, 0), a);
    }

    #[test]
    fn neighbours_wrap_around_the_periodic_edges() {
        // 4 x 3 grid: only the corner (0, 0) unobserved; its neighbours wrap to the far edges
        let mut obs = vec![true; 12];
        obs[0] = false;
        let n = observed_neighbours(&obs, 4);
        assert_eq!(n[0], 8);
        // columns 3, 0 and 1 neighbour the corner (they miss it); column 2 does not
        for (i, &c) in n.iter().enumerate().skip(1) {
            assert_eq!(c, if i % 4 == 2 { 8 } else { 7 }, "point {i}: {n:?}");
        }
        let single = observed_neighbours(
            &[true, false, false, false, false, false, false, false, false],
            3,
        );
        assert_eq!(single, vec![0, 1, 1, 1, 1, 1, 1, 1, 1]);
    }

    #[test]
    fn noise_has_the_requested_size() {
        let field: Vec<f64> = (0..20000).map(|i| (i as f64 * 0.01).sin() * 3.0).collect();
        let s = ObservationSpec::parse("fraction=1,noise=0.01,seed=1").unwrap();
        let st = s.stations(field.len(), 0);
        let y = s.observe(&field, &st, 0, 0);
        let err: Vec<f64> = y.iter().zip(&field).map(|(a, b)| a - b).collect();
        let rms = (err.iter().map(|e| e * e).sum::<f64>() / err.len() as f64).sqrt();
        let std = (field.iter().map(|v| v * v).sum::<f64>() / field.len() as f64).sqrt();
        assert!((rms / std / 0.01 - 1.0).abs() < 0.03, "{}", rms / std);
    }

    #[test]
    fn bad_specs_are_named() {
        for (t, msg) in [
            ("fraction=0", "observe.fraction"),
            ("fraction=1.5", "observe.fraction"),
            ("noise=0.1", "observe.fraction"),
            ("fraction=0.5,noise=-1", "observe.noise"),
            ("fraction=0.5,colour=red", "observe"),
            ("fraction", "key=value"),
        ] {
            let e = ObservationSpec::parse(t).unwrap_err().to_string();
            assert!(e.contains(msg), "{t}: {e}");
        }
    }
}

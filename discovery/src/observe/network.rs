//! Neural-network interpolators (candle, CPU): an MLP on the coordinates (`mlp`, which suffers
//! from spectral bias) and the same MLP behind a Gaussian random-Fourier-feature layer
//! (`rff-mlp`, the MEDIDA study's interpolator). Trained with Adam on the relative MSE at the
//! stations (full batch or mini-batches, a constant or cosine-decayed learning rate, optionally a
//! closed-form output layer and warm starts from the previous field); weights and features drawn
//! from a seed, so runs repeat exactly.

use super::features::{FourierFeatures, unit_coords};
use super::interp::{Interpolator, ridge_weights};
use crate::error::DiscoveryError;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use faer::Mat;
use medida_solver::Grid;
use rand_mt::Mt64;
use std::sync::Mutex;

/// An MLP interpolator: `tanh` hidden layers of equal width, trained with Adam.
#[derive(Debug)]
pub struct Network {
    grid: Grid,
    /// Random Fourier features `[cos(2 pi B x), sin(2 pi B x)]`: `(frequencies, sigma)`, the rows of
    /// `B` drawn from N(0, sigma^2) in cycles per domain and rounded to whole cycles (periodic
    /// features; the study's are not rounded); `None` feeds the coordinates (scaled to [-1, 1])
    /// straight to the first layer.
    pub rff: Option<(usize, f64)>,
    /// Hidden width.
    pub width: usize,
    /// Number of hidden layers.
    pub depth: usize,
    /// Adam steps.
    pub steps: usize,
    /// Stations per Adam step: 0 for all (full batch), else mini-batches drawn without
    /// replacement, a new seeded shuffle every pass over the stations.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed of the weights and the frequencies.
    pub seed: u64,
    /// Fourier-feature scales: the frequencies are dealt in turn to `sigma`, `2 sigma`, ...,
    /// `2^(octaves - 1) sigma` (1: one scale, as the study).
    pub octaves: usize,
    /// Frequencies isotropic in physical space: along y the standard deviation is `sigma ly /
    /// lx` cycles per domain (false: `sigma` on both axes of the unit square, as the study).
    pub isotropic: bool,
    /// The learning rate falls as a half cosine from `lr` to 0 over the steps (false: constant).
    pub cosine: bool,
    /// After Adam, the output layer is refitted in closed form (f64): ridge regression of the
    /// station values on the last hidden layer's outputs and a constant, with this ridge relative
    /// to the mean diagonal of their Gram matrix. `None` keeps Adam's output layer.
    pub refit: Option<f64>,
    /// Warm starts: every field after the first starts from the weights this network was
    /// trained to on the previous field and takes this many Adam steps instead of `steps`
    /// (consecutive snapshots are close). The result then depends on the order of the calls,
    /// as made by `medida increments` (snapshots in time order). `None`: every field from the
    /// seed's random weights.
    pub warm: Option<usize>,
    /// The weights after the last call, each layer's `(w, b)` (for `warm`).
    previous: Mutex<Option<Vec<(Tensor, Tensor)>>>,
}

impl Clone for Network {
    /// The same settings, without the trained weights of earlier calls.
    fn clone(&self) -> Self {
        Self {
            grid: self.grid.clone(),
            previous: Mutex::new(None),
            ..*self
        }
    }
}

fn nn_err(e: candle_core::Error) -> DiscoveryError {
    DiscoveryError::Degenerate(format!("network: {e}"))
}

impl Network {
    /// A network on `grid`.
    pub fn new(
        grid: &Grid,
        rff: Option<(usize, f64)>,
        width: usize,
        depth: usize,
        steps: usize,
        lr: f64,
        seed: u64,
    ) -> Self {
        Self {
            grid: grid.clone(),
            rff,
            width,
            depth,
            steps,
            lr,
            seed,
            batch: 0,
            octaves: 1,
            isotropic: false,
            cosine: false,
            refit: None,
            warm: None,
            previous: Mutex::new(None),
        }
    }

    /// The same network trained on mini-batches of `batch` stations (0: full batch).
    pub fn with_batch(self, batch: usize) -> Self {
        Self { batch, ..self }
    }

    /// Input features of grid points (flat indices), `(points, inputs)` row-major.
    fn inputs(&self, ff: Option<&FourierFeatures>, points: &[usize]) -> (Vec<f32>, usize) {
        let coords = points.iter().map(|&p| unit_coords(&self.grid, p));
        match ff {
            None => (
                coords
                    .flat_map(|(x, y)| [(2.0 * x - 1.0) as f32, (2.0 * y - 1.0) as f32])
                    .collect(),
                2,
            ),
            Some(ff) => (
                coords.flat_map(|c| ff.row(c)).map(|v| v as f32).collect(),
                ff.len(),
            ),
        }
    }
}

/// The learning rate of Adam step `step` of `steps` under a half-cosine decay from `lr` to 0.
fn cosine_decay(lr: f64, step: usize, steps: usize) -> f64 {
    0.5 * lr * (1.0 + (std::f64::consts::PI * step as f64 / steps as f64).cos())
}

/// `(rows, width)` hidden outputs as f64 rows.
fn rows(h: &Tensor) -> candle_core::Result<Vec<Vec<f64>>> {
    h.to_dtype(DType::F64)?.to_vec2::<f64>()
}

/// The closed-form output layer: weights `w` (one per hidden output, then the constant) of the
/// ridge regression of `values` on the hidden outputs `h` at the stations,
/// `(A^T A + ridge tr(A^T A)/p I) w = A^T values` with `A = [h, 1]`, in the field's own units.
fn refit_output(
    h: &Tensor,
    values: &[f64],
    mean: f64,
    std: f64,
    ridge: f64,
) -> candle_core::Result<Vec<f64>> {
    let h = rows(h)?;
    let p = h.first().map_or(0, Vec::len) + 1;
    let a = Mat::from_fn(h.len(), p, |r, c| h[r].get(c).copied().unwrap_or(1.0));
    let y = Mat::from_fn(values.len(), 1, |i, _| (values[i] - mean) / std);
    let w = ridge_weights(&a, &y, ridge).ok_or_else(|| {
        candle_core::Error::Msg("refit: singular Gram matrix; raise refit".into())
    })?;
    Ok((0..p)
        .map(|i| std * w[(i, 0)] + if i == p - 1 { mean } else { 0.0 })
        .collect())
}

/// `h w` for hidden outputs `h` and output weights `w` (the constant last).
fn linear(h: &Tensor, w: &[f64]) -> candle_core::Result<Vec<f64>> {
    let (bias, w) = w.split_last().expect("a constant");
    Ok(rows(h)?
        .iter()
        .map(|r| bias + r.iter().zip(w).map(|(a, b)| a * b).sum::<f64>())
        .collect())
}

/// Fisher-Yates shuffle driven by `rng`.
fn shuffle(rng: &mut Mt64, v: &mut [u32]) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// A dense layer `x W^T + b`, initialised as PyTorch's `nn.Linear`: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
struct Dense {
    w: Var,
    b: Var,
}

impl Dense {
    fn new(
        rng: &mut Mt64,
        fan_in: usize,
        fan_out: usize,
        dev: &Device,
    ) -> candle_core::Result<Self> {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let mut draw = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
                        * bound as f32
                })
                .collect()
        };
        let w = Var::from_tensor(&Tensor::from_vec(
            draw(fan_in * fan_out),
            (fan_out, fan_in),
            dev,
        )?)?;
        let b = Var::from_tensor(&Tensor::from_vec(draw(fan_out), fan_out, dev)?)?;
        Ok(Self { w, b })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.w.as_tensor().t()?)?
            .broadcast_add(self.b.as_tensor())
    }
}

impl Interpolator for Network {
    fn name(&self) -> String {
        let kind = match self.rff {
            Some((f, s)) => format!(
                "rff-mlp ({f} frequencies, sigma {s}{}{}, ",
                match self.octaves {
                    0 | 1 => String::new(),
                    o => format!(" in {o} octaves"),
                },
                if self.isotropic { " isotropic" } else { "" }
            ),
            None => "mlp (".into(),
        };
        let batch = match self.batch {
            0 => "full batch".to_string(),
            b => format!("batches of {b}"),
        };
        format!(
            "{kind}{} x {} tanh, {} Adam steps ({batch}), lr {}{}{}, seed {})",
            self.depth,
            self.width,
            self.steps,
            self.lr,
            if self.cosine { " cosine" } else { "" },
            self.refit.map_or(String::new(), |r| format!(
                ", output refitted (ridge {r:.0e})"
            )),
            self.seed
        )
    }

    fn interpolate(&self, stations: &[usize], values: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        let dev = Device::Cpu;
        let mut rng = Mt64::new(self.seed);
        let ff = self.rff.map(|(f, sigma)| {
            let aspect = if self.isotropic {
                self.grid.ly / self.grid.lx
            } else {
                1.0
            };
            let scales: Vec<[f64; 2]> = (0..self.octaves.max(1))
                .map(|o| {
                    let s = sigma * 2f64.powi(o as i32);
                    [s, s * aspect]
                })
                .collect();
            FourierFeatures::draw(&mut rng, f, &scales)
        });
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n)
            .sqrt()
            .max(f64::MIN_POSITIVE);
        let mut run = || -> candle_core::Result<Vec<f64>> {
            let (x, inputs) = self.inputs(ff.as_ref(), stations);
            let x = Tensor::from_vec(x, (stations.len(), inputs), &dev)?;
            let y: Vec<f32> = values.iter().map(|v| ((v - mean) / std) as f32).collect();
            let y = Tensor::from_vec(y, (stations.len(), 1), &dev)?;
            let mut layers = Vec::with_capacity(self.depth + 1);
            let mut fan_in = inputs;
            for _ in 0..self.depth {
                layers.push(Dense::new(&mut rng, fan_in, self.width, &dev)?);
                fan_in = self.width;
            }
            layers.push(Dense::new(&mut rng, fan_in, 1, &dev)?);
            let mut previous = self.previous.lock().expect("no panic holds the lock");
            let steps = match (self.warm, previous.as_ref()) {
                (Some(warm), Some(trained)) => {
                    for (l, (w, b)) in layers.iter().zip(trained) {
                        l.w.set(w)?;
                        l.b.set(b)?;
                    }
                    warm
                }
                _ => self.steps,
            };
            let (output, hidden_layers) = layers.split_last().expect("depth + 1 layers");
            let hidden = |x: &Tensor| -> candle_core::Result<Tensor> {
                let mut h = x.clone();
                for l in hidden_layers {
                    h = l.forward(&h)?.tanh()?;
                }
                Ok(h)
            };
            let forward = |x: &Tensor| output.forward(&hidden(x)?);
            let vars: Vec<Var> = layers
                .iter()
                .flat_map(|l| [l.w.clone(), l.b.clone()])
                .collect();
            let mut opt = AdamW::new(
                vars,
                ParamsAdamW {
                    lr: self.lr,
                    weight_decay: 0.0,
                    ..Default::default()
                },
            )?;
            // Relative MSE; the targets are standardised, so their mean square is 1.
            let m = stations.len();
            let batch = if self.batch == 0 {
                m
            } else {
                self.batch.min(m)
            };
            let mut order: Vec<u32> = (0..m as u32).collect();
            let mut next = m;
            for step in 0..steps {
                if self.cosine {
                    opt.set_learning_rate(cosine_decay(self.lr, step, steps));
                }
                let loss = if batch == m {
                    forward(&x)?.sub(&y)?.sqr()?.mean_all()?
                } else {
                    if next + batch > m {
                        shuffle(&mut rng, &mut order);
                        next = 0;
                    }
                    let idx = Tensor::from_slice(&order[next..next + batch], batch, &dev)?;
                    next += batch;
                    let (xb, yb) = (x.index_select(&idx, 0)?, y.index_select(&idx, 0)?);
                    forward(&xb)?.sub(&yb)?.sqr()?.mean_all()?
                };
                opt.backward_step(&loss)?;
            }
            if self.warm.is_some() {
                *previous = Some(
                    layers
                        .iter()
                        .map(|l| Ok((l.w.as_tensor().copy()?, l.b.as_tensor().copy()?)))
                        .collect::<candle_core::Result<_>>()?,
                );
            }
            let refit = match self.refit {
                Some(ridge) => Some(refit_output(&hidden(&x)?, values, mean, std, ridge)?),
                None => None,
            };
            let all: Vec<usize> = (0..self.grid.n_phys()).collect();
            let mut out = Vec::with_capacity(all.len());
            for chunk in all.chunks(8192) {
                let (xc, _) = self.inputs(ff.as_ref(), chunk);
                let xc = Tensor::from_vec(xc, (chunk.len(), inputs), &dev)?;
                match &refit {
                    Some(w) => out.extend(linear(&hidden(&xc)?, w)?),
                    None => {
                        let pred = forward(&xc)?
                            .flatten_all()?
                            .to_dtype(DType::F64)?
                            .to_vec1::<f64>()?;
                        out.extend(pred.iter().map(|p| mean + std * p));
                    }
                }
            }
            Ok(out)
        };
        run().map_err(nn_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cosine_decay_falls_from_lr_to_zero() {
        assert_eq!(cosine_decay(3e-3, 0, 100), 3e-3);
        assert!((cosine_decay(3e-3, 50, 100) - 1.5e-3).abs() < 1e-18);
        assert!(cosine_decay(3e-3, 99, 100) < 3e-3 * 3e-4);
    }
}

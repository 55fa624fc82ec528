//! Neural-network interpolators (candle, CPU): an MLP on the coordinates (`mlp`, which suffers
//! from spectral bias) and the same MLP behind a Gaussian random-Fourier-feature layer
//! (`rff-mlp`, the MEDIDA study's interpolator). Trained full batch with Adam on the relative MSE
//! at the stations; weights and features drawn from a seed, so runs repeat exactly.

use super::features::{FourierFeatures, unit_coords};
use super::interp::Interpolator;
use crate::error::DiscoveryError;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use medida_solver::Grid;
use rand_mt::Mt64;

/// An MLP interpolator: `tanh` hidden layers of equal width, trained with Adam.
#[derive(Debug, Clone, PartialEq)]
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
            Some((f, s)) => format!("rff-mlp ({f} frequencies, sigma {s}, "),
            None => "mlp (".into(),
        };
        let batch = match self.batch {
            0 => "full batch".to_string(),
            b => format!("batches of {b}"),
        };
        format!(
            "{kind}{} x {} tanh, {} Adam steps ({batch}), lr {}, seed {})",
            self.depth, self.width, self.steps, self.lr, self.seed
        )
    }

    fn interpolate(&self, stations: &[usize], values: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        let dev = Device::Cpu;
        let mut rng = Mt64::new(self.seed);
        let ff = self
            .rff
            .map(|(f, sigma)| FourierFeatures::draw(&mut rng, f, sigma));
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
            let forward = |x: &Tensor| -> candle_core::Result<Tensor> {
                let mut h = x.clone();
                for (i, l) in layers.iter().enumerate() {
                    h = l.forward(&h)?;
                    if i < layers.len() - 1 {
                        h = h.tanh()?;
                    }
                }
                Ok(h)
            };
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
            for _ in 0..self.steps {
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
            let all: Vec<usize> = (0..self.grid.n_phys()).collect();
            let mut out = Vec::with_capacity(all.len());
            for chunk in all.chunks(8192) {
                let (xc, _) = self.inputs(ff.as_ref(), chunk);
                let xc = Tensor::from_vec(xc, (chunk.len(), inputs), &dev)?;
                let pred = forward(&xc)?
                    .flatten_all()?
                    .to_dtype(DType::F64)?
                    .to_vec1::<f64>()?;
                out.extend(pred.iter().map(|p| mean + std * p));
            }
            Ok(out)
        };
        run().map_err(nn_err)
    }
}

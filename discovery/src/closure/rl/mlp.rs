//! A small multilayer perceptron (tanh hidden layers, linear output) with its gradient by
//! back-propagation, and Adam. Written by hand rather than with candle: at this size (two hidden
//! layers of 64, batches of a few hundred) the frameworks' per-call overhead dominates
//! (`crates.md`: candle and burn run 4-5x slower than PyTorch on a small MLP), and a plain loop
//! in f64 is deterministic at any thread count.

use rand_mt::Mt64;
use serde::{Deserialize, Serialize};

/// A fully connected network: `sizes[0]` inputs, tanh hidden layers, `sizes.last()` linear
/// outputs. Parameters are one vector, per layer the weights (row-major, `out x in`) then the
/// biases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    /// Widths of the layers, inputs first.
    pub sizes: Vec<usize>,
    /// All parameters.
    pub params: Vec<f64>,
}

/// The activations of one forward pass, for the backward pass.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// The input and every layer's output (after tanh for the hidden ones).
    acts: Vec<Vec<f64>>,
}

impl Mlp {
    /// A network with Glorot-uniform weights (the output layer scaled by `out_scale`, small for
    /// a policy's mean so the first actions are near the prior) and zero biases, from `rng`.
    pub fn new(sizes: &[usize], out_scale: f64, rng: &mut Mt64) -> Self {
        let mut params = Vec::new();
        for (i, w) in sizes.windows(2).enumerate() {
            let (n_in, n_out) = (w[0], w[1]);
            let limit = (6.0 / (n_in + n_out) as f64).sqrt();
            let scale = if i + 2 == sizes.len() { out_scale } else { 1.0 };
            params.extend((0..n_in * n_out).map(|_| scale * limit * (2.0 * uniform(rng) - 1.0)));
            params.extend(std::iter::repeat_n(0.0, n_out));
        }
        Self {
            sizes: sizes.to_vec(),
            params,
        }
    }

    /// The outputs for input `x`, with the trace for [`Mlp::backward`].
    pub fn forward(&self, x: &[f64]) -> (Vec<f64>, Trace) {
        let mut acts = vec![x.to_vec()];
        let mut off = 0;
        let layers = self.sizes.len() - 1;
        for (i, w) in self.sizes.windows(2).enumerate() {
            let (n_in, n_out) = (w[0], w[1]);
            let (weights, biases) =
                self.params[off..off + n_out * (n_in + 1)].split_at(n_out * n_in);
            let input = &acts[i];
            let out: Vec<f64> = (0..n_out)
                .map(|o| {
                    let z = biases[o]
                        + weights[o * n_in..(o + 1) * n_in]
                            .iter()
                            .zip(input)
                            .map(|(w, a)| w * a)
                            .sum::<f64>();
                    if i + 1 < layers { z.tanh() } else { z }
                })
                .collect();
            acts.push(out);
            off += n_out * (n_in + 1);
        }
        (
            acts.last().expect("an output layer").clone(),
            Trace { acts },
        )
    }

    /// Adds to `grad` the gradient of `sum_o dout[o] * output[o]` with respect to the parameters,
    /// for the pass traced in `trace`.
    pub fn backward(&self, trace: &Trace, dout: &[f64], grad: &mut [f64]) {
        let layers = self.sizes.len() - 1;
        let mut offsets = Vec::with_capacity(layers);
        let mut off = 0;
        for w in self.sizes.windows(2) {
            offsets.push(off);
            off += w[1] * (w[0] + 1);
        }
        let mut delta = dout.to_vec();
        for i in (0..layers).rev() {
            let (n_in, n_out) = (self.sizes[i], self.sizes[i + 1]);
            let off = offsets[i];
            let input = &trace.acts[i];
            for o in 0..n_out {
                let row = &mut grad[off + o * n_in..off + (o + 1) * n_in];
                row.iter_mut()
                    .zip(input)
                    .for_each(|(g, a)| *g += delta[o] * a);
                grad[off + n_out * n_in + o] += delta[o];
            }
            if i > 0 {
                let weights = &self.params[off..off + n_out * n_in];
                delta = (0..n_in)
                    .map(|j| {
                        let back: f64 = (0..n_out).map(|o| weights[o * n_in + j] * delta[o]).sum();
                        back * (1.0 - input[j] * input[j])
                    })
                    .collect();
            }
        }
    }
}

/// A uniform number in [0, 1) from the top 53 bits.
pub fn uniform(rng: &mut Mt64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal number (Box-Muller).
pub fn normal(rng: &mut Mt64) -> f64 {
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Adam (Kingma and Ba 2015) with PyTorch's defaults `beta = (0.9, 0.999)`, `eps = 1e-8`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    /// Adam for `n` parameters.
    pub fn new(n: usize, lr: f64) -> Self {
        Self {
            lr,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One step of `params` down the gradient `grad`.
    pub fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= self.lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The back-propagated gradient equals central differences of the forward pass (to the
    /// differences' truncation error, about h^2 |f'''| ~ 1e-9 here).
    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Mt64::new(3);
        let mut net = Mlp::new(&[5, 7, 6, 2], 1.0, &mut rng);
        net.params
            .iter_mut()
            .for_each(|p| *p += 0.1 * normal(&mut rng));
        let x: Vec<f64> = (0..5).map(|_| normal(&mut rng)).collect();
        let dout = [0.7, -1.3];
        let f = |net: &Mlp| {
            let (y, _) = net.forward(&x);
            y[0] * dout[0] + y[1] * dout[1]
        };
        let (_, trace) = net.forward(&x);
        let mut grad = vec![0.0; net.params.len()];
        net.backward(&trace, &dout, &mut grad);
        let h = 1e-5;
        let mut worst: f64 = 0.0;
        for (i, g) in grad.iter().enumerate() {
            let mut up = net.clone();
            up.params[i] += h;
            let mut down = net.clone();
            down.params[i] -= h;
            let fd = (f(&up) - f(&down)) / (2.0 * h);
            worst = worst.max((fd - g).abs());
        }
        assert!(worst < 1e-8, "largest gradient error {worst:e}");
    }

    /// Adam fits a line: the network learns y = 2x - 1 on [-1, 1] to 1e-3.
    #[test]
    fn adam_fits_a_line() {
        let mut rng = Mt64::new(1);
        let mut net = Mlp::new(&[1, 16, 1], 1.0, &mut rng);
        let mut adam = Adam::new(net.params.len(), 1e-2);
        let xs: Vec<f64> = (0..21).map(|i| -1.0 + 0.1 * i as f64).collect();
        let loss = |net: &Mlp| {
            xs.iter()
                .map(|x| (net.forward(&[*x]).0[0] - (2.0 * x - 1.0)).powi(2))
                .sum::<f64>()
                / xs.len() as f64
        };
        for _ in 0..2000 {
            let mut grad = vec![0.0; net.params.len()];
            for x in &xs {
                let (y, t) = net.forward(&[*x]);
                let d = 2.0 * (y[0] - (2.0 * x - 1.0)) / xs.len() as f64;
                net.backward(&t, &[d], &mut grad);
            }
            adam.step(&mut net.params, &grad);
        }
        assert!(loss(&net) < 1e-3, "loss {}", loss(&net));
    }
}

//! The observation side of `medida increments --observe`: interpolators from their `--interp`
//! specification, and the analysis error spectra written beside the increments.

use crate::error::{Error, input, input_err};
use crate::increments::IncrementsArgs;
use medida_data::{Frames, read_array, read_text_attr};
use medida_discovery::DiscoveryError;
use medida_discovery::observe::{
    Cubic, Interpolator, Kernel, Network, Rbf, RffRidge, SpectralOi, error_reaches_signal,
    error_spectrum,
};
use medida_solver::Model;
use ndarray::{Array2, Array3, Axis};
use std::path::Path;
use std::sync::Mutex;

/// Isotropic spectra of the analysis error and of the truth, `(lev, kr)` each, and per layer the
/// wavenumber where the error reaches the signal ([`error_reaches_signal`]).
pub fn analysis_spectra(
    grid: &medida_solver::Grid,
    truth: &Array3<f64>,
    analysis: &Array3<f64>,
) -> (ndarray::ArrayD<f64>, ndarray::ArrayD<f64>, [f64; 2]) {
    let layer = |a: &Array3<f64>, lev: usize| -> Vec<f64> {
        a.index_axis(Axis(0), lev).iter().copied().collect()
    };
    let spectra: Vec<(Vec<f64>, Vec<f64>, f64)> = (0..2)
        .map(|lev| {
            let (k, e, t) = error_spectrum(grid, &layer(truth, lev), &layer(analysis, lev));
            let crossing = error_reaches_signal(&k, &e, &t);
            (e, t, crossing)
        })
        .collect();
    let nk = spectra[0].0.len();
    let err = Array2::from_shape_fn((2, nk), |(l, k)| spectra[l].0[k]);
    let tru = Array2::from_shape_fn((2, nk), |(l, k)| spectra[l].1[k]);
    (err.into_dyn(), tru.into_dyn(), [spectra[0].2, spectra[1].2])
}

/// `--analyses`: the stored analyses of each layer, handed out in turn, one per call.
struct Stored {
    name: String,
    fields: Vec<Vec<f64>>,
    next: Mutex<usize>,
}

impl Interpolator for Stored {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn interpolate(&self, _: &[usize], _: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        let mut next = self.next.lock().expect("no panic holds the lock");
        let field = self.fields.get(*next).ok_or_else(|| {
            DiscoveryError::Degenerate(format!(
                "--analyses: {} analyses stored, a further one asked",
                self.fields.len()
            ))
        })?;
        *next += 1;
        Ok(field.clone())
    }
}

/// The analyses `q` at `times` from `path`, an earlier `medida increments --observe OBSERVE`
/// output, as one interpolator per layer that returns them in order (without background, the
/// analysis is the interpolant itself). Refused unless `path` was made with the same
/// observations and holds every time.
pub fn stored_analyses(
    path: &Path,
    observe: &str,
    times: &[f64],
) -> Result<[Box<dyn Interpolator>; 2], Error> {
    let at = || input(format!("--analyses {}", path.display()));
    let observations = read_text_attr(path, "observations").map_err(at())?;
    if !observations.starts_with(&format!("{observe} (")) {
        return input_err!(
            "--analyses {}: made with observations {observations:?}, not --observe {observe}",
            path.display()
        );
    }
    if read_text_attr(path, "analysis").is_ok() {
        return input_err!(
            "--analyses {}: its analyses are assimilated (--assimilate), not interpolated",
            path.display()
        );
    }
    let interpolator = read_text_attr(path, "interpolator").map_err(at())?;
    let stored = read_array(path, "time").map_err(at())?;
    let frames = Frames::open(path, "q").map_err(at())?;
    let mut fields = [Vec::new(), Vec::new()];
    for t in times {
        let Some(i) = stored.iter().position(|s| s == t) else {
            return input_err!(
                "--analyses {}: no analysis at time {t} (it holds {} times from {} to {})",
                path.display(),
                stored.len(),
                stored.first().unwrap_or(&f64::NAN),
                stored.last().unwrap_or(&f64::NAN)
            );
        };
        let q = frames.read(i).map_err(at())?;
        for (lev, f) in fields.iter_mut().enumerate() {
            f.push(q.index_axis(Axis(0), lev).iter().copied().collect());
        }
    }
    let name = format!("{interpolator}, stored in {}", path.display());
    Ok(fields.map(|fields| {
        Box::new(Stored {
            name: name.clone(),
            fields,
            next: Mutex::new(0),
        }) as Box<dyn Interpolator>
    }))
}

/// The interpolators `--interp` names.
const NAMES: [&str; 6] = ["spectral-oi", "rff-ridge", "rff-mlp", "mlp", "rbf", "cubic"];

/// Checks `--interp`'s name before any work (its options are checked when it is built).
pub fn check_interp(spec: &str) -> Result<(), Error> {
    let name = spec.split_once(':').map_or(spec, |(n, _)| n);
    if NAMES.contains(&name) {
        Ok(())
    } else {
        input_err!("--interp {name:?}: allowed {}", NAMES.join(", "))
    }
}

/// The run whose snapshots stand for the model's variability (spectral-oi's prior spectrum,
/// the ensemble's perturbations): `--prior`, or the truth run itself; on the truth's grid.
pub(crate) fn prior_frames(a: &IncrementsArgs, truth: &Frames) -> Result<Frames, Error> {
    let prior = match &a.prior {
        Some(p) => Frames::open(p, "q").map_err(input("--prior"))?,
        None => Frames::open(&a.truth, "q")?,
    };
    if prior.shape()[1..] != truth.shape()[1..] {
        return input_err!(
            "--prior: its grid {:?} differs from the truth's {:?}",
            &prior.shape()[2..],
            &truth.shape()[2..]
        );
    }
    Ok(prior)
}

/// One interpolator per layer for `--interp`, with spectral-oi's prior from `--prior` (or the truth).
pub fn interpolators(
    a: &IncrementsArgs,
    truth: &Frames,
    model: &Model,
    noise: f64,
) -> Result<[Box<dyn Interpolator>; 2], Error> {
    let grid = model.grid();
    let (name, options) = a.interp.split_once(':').unwrap_or((a.interp.as_str(), ""));
    let mut opts = std::collections::BTreeMap::new();
    for item in options.split(',').filter(|s| !s.trim().is_empty()) {
        let Some((k, v)) = item.split_once('=') else {
            return input_err!("--interp {}: options are key=value", a.interp);
        };
        let Ok(v) = v.trim().parse::<f64>() else {
            return input_err!("--interp {}: `{k}` needs a number", a.interp);
        };
        opts.insert(k.trim().to_string(), v);
    }
    let mut take = |k: &str, default: f64| opts.remove(k).unwrap_or(default);
    // A count or a seed: a whole number from `min`, or a named error.
    let spec = a.interp.clone();
    let whole = move |k: &str, v: f64, min: f64| -> Result<usize, Error> {
        if v.fract() == 0.0 && v >= min && v <= 1e9 {
            Ok(v as usize)
        } else {
            input_err!("--interp {spec}: `{k}` = {v}: allowed a whole number from {min} to 1e9")
        }
    };
    let out: [Box<dyn Interpolator>; 2] = match name {
        "spectral-oi" => {
            let noise = take("noise", noise);
            if !(noise.is_finite() && noise >= 0.0) {
                return input_err!(
                    "--interp {}: `noise` = {noise}: allowed 0 or more",
                    a.interp
                );
            }
            let prior = prior_frames(a, truth)?;
            let count = prior.shape()[0];
            let picks: Vec<usize> = (0..count).step_by(count.div_ceil(50).max(1)).collect();
            let mut samples = [Vec::new(), Vec::new()];
            for i in picks {
                let q = prior.read(i)?;
                for (lev, s) in samples.iter_mut().enumerate() {
                    s.push(
                        q.index_axis(Axis(0), lev)
                            .iter()
                            .copied()
                            .collect::<Vec<f64>>(),
                    );
                }
            }
            let [s0, s1] = samples;
            [
                Box::new(SpectralOi::from_samples(grid, &s0, noise).map_err(input("--interp"))?),
                Box::new(SpectralOi::from_samples(grid, &s1, noise).map_err(input("--interp"))?),
            ]
        }
        "rff-ridge" => {
            let (f, s, r, k) = (
                take("frequencies", 2000.0),
                take("sigma", 10.0),
                take("ridge", 1e-10),
                take("seed", 0.0),
            );
            let (f, k) = (whole("frequencies", f, 1.0)?, whole("seed", k, 0.0)?);
            if !(s.is_finite() && s > 0.0 && r.is_finite() && r >= 0.0) {
                return input_err!("--interp {}: sigma > 0 and ridge >= 0 needed", a.interp);
            }
            let make = || RffRidge::new(grid, f, s, r, k as u64);
            [Box::new(make()), Box::new(make())]
        }
        "rff-mlp" | "mlp" => {
            let flag = |k: &str, v: f64| -> Result<bool, Error> {
                match v {
                    0.0 => Ok(false),
                    1.0 => Ok(true),
                    _ => input_err!("--interp {}: `{k}` = {v}: allowed 0 or 1", a.interp),
                }
            };
            // The Fourier features, their octaves and isotropy (rff-mlp only).
            let (rff, octaves, isotropic) = match name == "rff-mlp" {
                true => {
                    let (f, s) = (take("frequencies", 256.0), take("sigma", 10.0));
                    if !(s.is_finite() && s > 0.0) {
                        return input_err!("--interp {}: `sigma` must be > 0", a.interp);
                    }
                    (
                        Some((whole("frequencies", f, 1.0)?, s)),
                        whole("octaves", take("octaves", 1.0), 1.0)?,
                        flag("isotropic", take("isotropic", 0.0))?,
                    )
                }
                false => (None, 1, false),
            };
            let (w, d, steps, lr, seed, batch) = (
                whole("width", take("width", 128.0), 1.0)?,
                whole("depth", take("depth", 2.0), 1.0)?,
                whole("steps", take("steps", 3000.0), 1.0)?,
                take("lr", 1e-3),
                whole("seed", take("seed", 0.0), 0.0)? as u64,
                whole("batch", take("batch", 0.0), 0.0)?,
            );
            if !(lr.is_finite() && lr > 0.0) {
                return input_err!("--interp {}: `lr` = {lr}: allowed a number > 0", a.interp);
            }
            let cosine = flag("cosine", take("cosine", 0.0))?;
            let refit = match take("refit", f64::NAN) {
                r if r.is_nan() => None,
                r if r.is_finite() && r >= 0.0 => Some(r),
                r => {
                    return input_err!(
                        "--interp {}: `refit` = {r}: allowed a ridge >= 0",
                        a.interp
                    );
                }
            };
            let warm = match take("warm", 0.0) {
                0.0 => None,
                n => Some(whole("warm", n, 1.0)?),
            };
            let make = || {
                let mut n = Network::new(grid, rff, w, d, steps, lr, seed).with_batch(batch);
                (n.octaves, n.isotropic, n.cosine, n.refit, n.warm) =
                    (octaves, isotropic, cosine, refit, warm);
                n
            };
            [Box::new(make()), Box::new(make())]
        }
        "rbf" => {
            let kernel = match take("epsilon", f64::NAN) {
                e if e.is_nan() => Kernel::ThinPlate,
                e if e > 0.0 && e.is_finite() => Kernel::Multiquadric { epsilon: e },
                e => return input_err!("--interp rbf:epsilon={e}: allowed a number > 0"),
            };
            [
                Box::new(Rbf::new(grid, kernel)),
                Box::new(Rbf::new(grid, kernel)),
            ]
        }
        "cubic" => {
            let margin = whole("margin", take("margin", 8.0), 1.0)?;
            let make = || Cubic::new(grid, margin);
            [Box::new(make()), Box::new(make())]
        }
        other => {
            return input_err!("--interp {other:?}: allowed {}", NAMES.join(", "));
        }
    };
    if let Some(k) = opts.keys().next() {
        return input_err!("--interp {}: unknown option `{k}`", a.interp);
    }
    Ok(out)
}

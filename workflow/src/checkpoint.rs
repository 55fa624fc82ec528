//! A model's complete state as a [`Checkpoint`] and back: q, its transform, the stepper's
//! history (AB3 tendencies or the leapfrog level), step count and time, with the config that
//! rebuilds the model. `medida simulate` adds its output's counts and run identity; the Python
//! package saves and loads models with it.

use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use medida_data::Checkpoint;
use medida_solver::{Averages, Complex64, Model, ModelState};
use ndarray::{Array3, ArrayD, IxDyn};
use std::path::Path;

/// The checkpoint of `model`, built from `cfg`: its state and config.
pub fn of_model(cfg: &RunConfig, model: &Model) -> Checkpoint {
    let s = model.state();
    Checkpoint {
        arrays: vec![
            ("q".into(), s.q.into_dyn()),
            ("qh".into(), split_complex(&s.qh)),
            ("dqhdt_p".into(), split_complex(&s.dqhdt_p)),
            ("dqhdt_pp".into(), split_complex(&s.dqhdt_pp)),
            ("qh_prev".into(), split_complex(&s.qh_prev)),
        ],
        numbers: vec![
            ("tc".into(), s.tc as f64),
            ("t".into(), s.t),
            ("ablevel".into(), s.ablevel as f64),
        ],
        texts: vec![
            ("config".into(), cfg.to_toml()),
            ("medida_version".into(), env!("CARGO_PKG_VERSION").into()),
        ],
    }
}

/// The model state a checkpoint holds, if it holds a complete, valid one (counts whole and
/// >= 0, time finite).
pub fn model_state(c: &Checkpoint) -> Option<ModelState> {
    Some(ModelState {
        q: c.array("q")?.clone().into_dimensionality().ok()?,
        qh: join_complex(c.array("qh")?)?,
        dqhdt_p: join_complex(c.array("dqhdt_p")?)?,
        dqhdt_pp: join_complex(c.array("dqhdt_pp")?)?,
        qh_prev: join_complex(c.array("qh_prev")?)?,
        ablevel: Some(c.number("ablevel")?).filter(|a| [0.0, 1.0, 2.0].contains(a))? as u8,
        tc: Some(c.number("tc")?).filter(|x| is_count(*x))? as u64,
        t: Some(c.number("t")?).filter(|t| t.is_finite())?,
    })
}

/// Whether a checkpoint's number is a count: whole, from 0 to 2^53 (steps, records).
pub(crate) fn is_count(x: f64) -> bool {
    x >= 0.0 && x.fract() == 0.0 && x <= RunConfig::MAX_STEPS as f64
}

/// Writes checkpoint `c` to `path` atomically; an existing file is refused unless `overwrite`.
pub fn save(path: &Path, c: &Checkpoint, overwrite: bool) -> Result<(), Error> {
    if !overwrite && path.exists() {
        return input_err!(
            "{} exists: choose another path, or replace it with overwrite",
            path.display()
        );
    }
    Ok(c.write_atomic(path)?)
}

/// The config and model a checkpoint at `path` holds (written by [`save`] or by `medida
/// simulate`), in the checkpoint's state, and the checkpoint (for what else it holds); errors
/// begin with `context` (`--restart`, `load`).
pub fn load(path: &Path, context: &str) -> Result<(RunConfig, Model, Checkpoint), Error> {
    let c = Checkpoint::read(path).map_err(input(&format!("{context}: cannot read checkpoint")))?;
    let bad = |what: &str| {
        Error::Input(format!(
            "{context}: checkpoint {} lacks {what}",
            path.display()
        ))
    };
    let cfg = RunConfig::from_toml(c.text("config").ok_or_else(|| bad("config"))?)?;
    let mut model = crate::model::build_model(&cfg)?;
    let state = model_state(&c)
        .ok_or_else(|| bad("a complete, valid model state (counts whole and >= 0, time finite)"))?;
    model.restore(&state).map_err(input(context))?;
    Ok((cfg, model, c))
}

/// Adds the sums and count of `averages` (pyqg's time-averaged diagnostics) to `c`.
pub fn save_averages(averages: &Averages, c: &mut Checkpoint) {
    let (count, sums) = averages.sums();
    let flat: Vec<f64> = sums.iter().flatten().copied().collect();
    let n = flat.len();
    let flat = ArrayD::from_shape_vec(IxDyn(&[n]), flat).expect("1-d");
    c.arrays.push(("averages".into(), flat));
    c.numbers.push(("averages_count".into(), count as f64));
}

/// Continues `averages` from the sums and count in `c` (saved by [`save_averages`] from averages
/// of the same model and settings); `None` when `c` lacks them or they do not fit.
pub fn restore_averages(averages: &mut Averages, c: &Checkpoint) -> Option<()> {
    let count = Some(c.number("averages_count")?).filter(|x| is_count(*x))? as u64;
    let flat = c.array("averages")?;
    let (_, template) = averages.sums();
    let total: usize = template.iter().map(Vec::len).sum();
    if flat.len() != total {
        return None;
    }
    let mut it = flat.iter().copied();
    let sums = template
        .iter()
        .map(|s| it.by_ref().take(s.len()).collect())
        .collect();
    averages.restore(count, sums).ok()
}

/// A complex array as real with a trailing dimension `(re, im)`.
pub(crate) fn split_complex(a: &Array3<Complex64>) -> ArrayD<f64> {
    let mut shape = a.shape().to_vec();
    shape.push(2);
    ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let z = a[[i[0], i[1], i[2]]];
        if i[3] == 0 { z.re } else { z.im }
    })
}

fn join_complex(a: &ArrayD<f64>) -> Option<Array3<Complex64>> {
    let s = a.shape();
    (s.len() == 4 && s[3] == 2).then(|| {
        Array3::from_shape_fn((s[0], s[1], s[2]), |(i, j, k)| {
            Complex64::new(a[[i, j, k, 0]], a[[i, j, k, 1]])
        })
    })
}

//! The reference of a calibration: which snapshots (a dataset's second halves or a run file's
//! from a time on), the coarse model's config, the spectra of the snapshots on the coarse bins,
//! and the forward runs' starting states; and model times as the user gives them.

use crate::closure::{Manifest, YEAR, complete, lr_model, read_manifest, run_path};
use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use crate::model::build_model;
use crate::pyqg_file::config_text;
use medida_data::{Frames, read_array};
use medida_discovery::closure::{Coarsening, Operator, SpectrumBins, SpectrumSamples};
use medida_solver::Model;
use ndarray::{Array3, Axis};
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Error>;

/// A model time given as `flag`: a number in the model's units, or with `dimensional` units a
/// number and `y` (360 days), `d` or `h`.
pub(crate) fn duration(text: &str, dimensional: bool, flag: &str) -> Result<f64> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], Some(c)),
        _ => (t, None),
    };
    let scale = match (unit, dimensional) {
        (None, _) => 1.0,
        (Some('y'), true) => YEAR,
        (Some('d'), true) => 86400.0,
        (Some('h'), true) => 3600.0,
        (Some(_), true) => {
            return input_err!("{flag} {text}: allowed a number of seconds, or y, d or h after it");
        }
        (Some(_), false) => {
            return input_err!(
                "{flag} {text}: the model is non-dimensional: give a number of its time units"
            );
        }
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * scale),
        _ => input_err!("{flag} {text}: allowed a model time >= 0"),
    }
}

/// `text` (a duration) as steps of `dt`, at least `min`.
pub(crate) fn steps(text: &str, cfg: &RunConfig, flag: &str, min: u64) -> Result<u64> {
    let dt = cfg.model.dt;
    let n = (duration(text, cfg.is_dimensional(), flag)? / dt).round();
    if n < min as f64 {
        return input_err!("{flag} {text}: allowed at least {min} time steps of {dt}");
    }
    Ok(n as u64)
}

/// Where the reference snapshots come from (`closure calibrate` and `closure train-rl`).
#[derive(clap::Args, Clone, Debug)]
pub struct ReferenceArgs {
    /// A dataset written by `medida closure data`: the coarse-grained snapshots of the second
    /// half of its runs are the reference.
    #[arg(long, conflicts_with = "target", required_unless_present = "target")]
    pub data: Option<PathBuf>,
    /// Or a medida run (`medida simulate --out`): its snapshots from `--from` on are the
    /// reference, the coarse model is its configuration on `--lr` points.
    #[arg(long)]
    pub target: Option<PathBuf>,
    /// With --target: points per side of the coarse model.
    #[arg(long, requires = "target")]
    pub lr: Option<usize>,
    /// With --target: model time of the first reference snapshot (default: half the run), in
    /// the run's units (`1.5y`, `90d`, `12h` for pyqg's SI runs).
    #[arg(long, requires = "target", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Dataset runs of the reference, comma-separated (default: every complete run).
    #[arg(long, value_delimiter = ',')]
    pub runs: Vec<usize>,
}

/// The reference's snapshots of `q` and the coarse model's config and grid.
pub(crate) struct Source {
    /// The coarse model's config.
    pub cfg: RunConfig,
    /// The reference's files, each with the snapshot indices used.
    pub files: Vec<(PathBuf, Vec<usize>)>,
    /// The runs of a dataset (empty for a run file).
    pub runs: Vec<usize>,
    /// The dataset's manifest.
    pub manifest: Option<Manifest>,
    /// Its name.
    pub name: String,
}

/// The snapshots of `path` at times `>= from`, and the smallest spacing of its times.
fn times_from(path: &Path, from: f64, flag: &str) -> Result<(Vec<usize>, f64)> {
    let time = read_array(path, "time").map_err(input(flag))?;
    let times: Vec<f64> = time.iter().copied().collect();
    let spacing = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let picked = (0..times.len()).filter(|&i| times[i] >= from).collect();
    Ok((picked, spacing))
}

/// The reference `a` names: a dataset or a run file.
pub(crate) fn source(a: &ReferenceArgs) -> Result<(Source, f64)> {
    if let Some(target) = &a.target {
        let cfg = RunConfig::from_toml(&config_text(target)?)?;
        let Some(lr) = a.lr else {
            return input_err!("--target needs --lr, the coarse model's points per side");
        };
        let mut lr_cfg = cfg.clone();
        (lr_cfg.model.nx, lr_cfg.model.ny) = (lr, lr);
        lr_cfg.closure = None;
        lr_cfg.validate().map_err(input("--lr"))?;
        if lr > cfg.model.nx.min(cfg.model.ny) {
            return input_err!(
                "--lr {lr}: allowed at most the target's {} x {} points",
                cfg.model.nx,
                cfg.model.ny
            );
        }
        let last = read_array(target, "time")
            .map_err(input("--target"))?
            .iter()
            .copied()
            .fold(0.0, f64::max);
        let from = match &a.from {
            Some(t) => duration(t, cfg.is_dimensional(), "--from")?,
            None => last / 2.0,
        };
        let (picked, spacing) = times_from(target, from, "--target")?;
        return Ok((
            Source {
                cfg: lr_cfg,
                files: vec![(target.clone(), picked)],
                runs: Vec::new(),
                manifest: None,
                name: target.display().to_string(),
            },
            spacing,
        ));
    }
    let data = a.data.as_ref().expect("clap requires --data or --target");
    let m = read_manifest(data)?;
    let hr = RunConfig::from_toml(&m.hr_config)?;
    let (lr_cfg, _) = lr_model(&hr, m.lr)?;
    let runs: Vec<usize> = if a.runs.is_empty() {
        (0..m.runs)
            .filter(|r| complete(&run_path(data, *r), &m).unwrap_or(false))
            .collect()
    } else {
        if let Some(r) = a.runs.iter().find(|r| **r >= m.runs) {
            return input_err!("--runs {r}: the dataset has runs 0..{}", m.runs - 1);
        }
        a.runs.clone()
    };
    if runs.is_empty() {
        return input_err!(
            "--data {}: no complete run (made by medida closure data)",
            data.display()
        );
    }
    let from = hr.output.tavestart.unwrap_or(0.0);
    let mut files = Vec::new();
    let mut spacing = f64::INFINITY;
    for r in &runs {
        let path = run_path(data, *r);
        let (picked, s) = times_from(&path, from, "--data")?;
        spacing = spacing.min(s);
        files.push((path, picked));
    }
    Ok((
        Source {
            cfg: lr_cfg,
            files,
            runs,
            manifest: Some(m),
            name: data.display().to_string(),
        },
        spacing,
    ))
}

/// The spectra of `src`'s snapshots on `bins` (each on its own grid), and `starts_wanted` of them
/// coarse-grained to `model`'s grid as the forward runs' starts: the first of as many files, or
/// of one file's snapshots `window_snapshots` apart.
pub(crate) fn read_reference(
    src: &Source,
    bins: &SpectrumBins,
    model: &Model,
    starts_wanted: usize,
    window_snapshots: f64,
) -> Result<(SpectrumSamples, Vec<Array3<f64>>)> {
    let mut samples = SpectrumSamples::default();
    let mut starts: Vec<Array3<f64>> = Vec::new();
    let per_file = if src.files.len() >= starts_wanted {
        1
    } else {
        starts_wanted
    };
    for (path, picked) in &src.files {
        // A dataset's run file holds the coarse grid's config, a run file its own.
        let text = config_text(path)?;
        let mut probe = build_model(&RunConfig::from_toml(&text)?)?;
        let on = bins.on(probe.grid()).map_err(input("--target"))?;
        let frames = Frames::open(path, "q")?;
        let apart = (window_snapshots.round() as usize).max(1);
        for (n, &i) in picked.iter().enumerate() {
            let q = frames.read(i)?;
            probe.set_q(q.view())?;
            samples.add(&on, &probe.qh_spectra());
            if starts.len() < starts_wanted && n % apart == 0 && n / apart < per_file {
                starts.push(if probe.grid() == model.grid() {
                    q
                } else {
                    let mut c = Coarsening::new(
                        Operator::Sharp,
                        probe.grid(),
                        model.grid(),
                        model.params().filterfac,
                    )
                    .map_err(input("--lr"))?;
                    let (ny, nx) = (model.grid().ny, model.grid().nx);
                    let layers: Vec<f64> = (0..2)
                        .flat_map(|lev| {
                            let f: Vec<f64> = q.index_axis(Axis(0), lev).iter().copied().collect();
                            c.field(&f)
                        })
                        .collect();
                    Array3::from_shape_vec((2, ny, nx), layers).expect("two coarse layers")
                });
            }
        }
    }
    Ok((samples, starts))
}

//! `medida closure calibrate`: a built-in closure's constants calibrated from the enstrophy
//! spectrum alone, by ensemble Kalman inversion ([`medida_discovery::closure::calibrate`]), or
//! scanned (`--sweep`).
//!
//! The reference is either a closure dataset's coarse-grained snapshots from the second half of
//! its runs (`--data`, after spin-up, as the online scores use them), or the snapshots of any
//! medida run from a time on (`--target`, a high-resolution run of the same domain: its spectrum
//! is summed over the coarse grid's bins, which is its sharp spectral truncation). `y` is the log
//! of their mean spectrum in log-spaced bins per layer, and the noise variance of bin `k` is
//! `s_k^2 (1/n_ref + 1/n_run)`, with `s_k^2` the scatter of one snapshot's log spectrum, `n_ref`
//! the snapshots averaged and `n_run` the forward runs' windows in snapshot intervals (taking the
//! reference's snapshots as independent); `--weighting uniform` gives every bin their mean. Each
//! forward run starts from one of `--starts` reference states (the first of as many dataset runs,
//! or of one file's snapshots a window apart), coarse-grained: states of the high-resolution flow,
//! so a short spin-up suffices.

pub(crate) mod reference;

use crate::closure::Manifest;
use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use crate::model::build_model;
use crate::progress::Progress;
use medida_discovery::closure::baseline::constants;
use medida_discovery::closure::calibrate::{
    EkiSettings, ForwardRun, FreeConstants, Iteration, SweepPoint, calibrate, rmse, sweep,
};
use medida_discovery::closure::eki::Eki;
use medida_discovery::closure::{BASELINES, SpectrumBins};
use medida_discovery::ranks::{Ranks, position};
pub use reference::ReferenceArgs;
use reference::{read_reference, source, steps};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

type Result<T> = std::result::Result<T, Error>;

/// What `medida closure calibrate` was asked to do.
#[derive(clap::Args, Clone, Debug)]
pub struct ClosureCalibrateArgs {
    /// The reference snapshots.
    #[command(flatten)]
    pub reference: ReferenceArgs,
    /// A built-in closure (`smagorinsky`, `leith`, `backscatter`, ...); constants given here
    /// (`backscatter:cb=1.2`) are fixed, the others calibrated.
    #[arg(long)]
    pub closure: String,
    /// Prior medians of the calibrated constants, `cs=0.15,...` (default: the built-in values).
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub prior: Option<String>,
    /// Standard deviation of each calibrated constant's natural log in the prior (of its logit
    /// where it has an --upper bound).
    #[arg(long, default_value_t = 0.5)]
    pub prior_log_sd: f64,
    /// Upper bounds of calibrated constants, `cb=1.2,...`: each is inverted as the logit of
    /// `c / U` (EKP's `bounded` constraint), so no update takes it past the bound (a constant
    /// past which the coarse model blows up). The others are unbounded (their logs inverted).
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub upper: Option<String>,
    /// Ensemble members.
    #[arg(long, default_value_t = 20)]
    pub members: usize,
    /// EKI updates.
    #[arg(long, default_value_t = 10)]
    pub iterations: usize,
    /// The EKI step: `adaptive` (EKP's data-misfit controller: small steps while the misfit is
    /// large, done when they add up to 1) or a fixed number (EKI's classical 1).
    #[arg(long, default_value = "adaptive")]
    pub step: String,
    /// Seed of the prior draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Scan these values of the one calibrated constant instead of inverting.
    #[arg(long, value_delimiter = ',', value_name = "VALUE,...")]
    pub sweep: Vec<f64>,
    /// Spin-up of each forward run in model time: a number in the model's units, or for pyqg's
    /// SI runs with a unit, `y` (360 days), `d` or `h`.
    #[arg(long, default_value = "0.25y", allow_hyphen_values = true)]
    pub spinup: String,
    /// Averaging window of each forward run (as --spinup).
    #[arg(long, default_value = "2y", allow_hyphen_values = true)]
    pub window: String,
    /// Model time between the spectra a forward run averages (as --spinup).
    #[arg(long, default_value = "24h", allow_hyphen_values = true)]
    pub sample_every: String,
    /// Forward runs per member, from the first reference snapshots of as many files (dataset
    /// runs) or, for one file, from snapshots one window apart: their spectra are pooled.
    #[arg(long, default_value_t = 1)]
    pub starts: usize,
    /// How bins weigh in the misfit: `scatter` (each by its noise, the snapshots' scatter) or
    /// `uniform` (every bin the mean noise: the plain log-spectrum RMSE is minimised).
    #[arg(long, default_value = "scatter")]
    pub weighting: String,
    /// Log-spaced wavenumber bins per layer, up to 0.65 of the Nyquist wavenumber.
    #[arg(long, default_value_t = 12)]
    pub bins: usize,
    /// Override a setting of the coarse runs (`model.dt=7200`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The result (JSON); an existing file is not overwritten.
    #[arg(long, default_value = "calibration.json")]
    pub out: PathBuf,
    /// Threads: members run in parallel, one per thread.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// The processes sharing the members' runs (MPI ranks under `mpirun`; rank 0 writes
    /// `--out`), or `None` for this one alone: not a flag, the CLI's `mpi` feature sets it.
    #[arg(skip)]
    pub ranks: Option<Arc<dyn Ranks>>,
}

/// The reference statistic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Bin centres [1/m], per layer.
    pub kr: Vec<f64>,
    /// Log mean spectrum, upper layer's bins then lower layer's.
    pub log_spectrum: Vec<f64>,
    /// Noise variance of each.
    pub variance: Vec<f64>,
    /// Snapshots averaged (each of every layer).
    pub snapshots: usize,
    /// The dataset's runs they come from (empty for a run file).
    pub runs: Vec<usize>,
}

/// How one closure's run fits the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// The closure (`none`: without).
    pub closure: String,
    /// Log-spectrum RMSE (`None`: blew up).
    pub rmse: Option<f64>,
    /// Misfit weighted by the reference's noise (1: within it).
    pub misfit: Option<f64>,
    /// Its log spectrum.
    pub log_spectrum: Option<Vec<f64>>,
}

/// What `medida closure calibrate` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// The reference: a dataset folder or a run file.
    pub data: String,
    /// The dataset's configuration (absent for a run file).
    pub dataset: Option<Manifest>,
    /// The closure and which constants were calibrated.
    pub constants: FreeConstants,
    /// The inversion's settings (absent for a sweep).
    pub settings: Option<EkiSettings>,
    /// Forward runs: spin-up, window and sampling interval, in steps.
    pub forward_steps: [u64; 3],
    /// The coarse model's time step (seconds for pyqg's runs, else the model's unit).
    pub dt: f64,
    /// The reference.
    pub reference: Reference,
    /// The coarse model without closure.
    pub no_closure: Fit,
    /// The EKI iterations (the last: the final ensemble).
    pub iterations: Vec<Iteration>,
    /// The sweep's points.
    pub sweep: Vec<SweepPoint>,
    /// The calibrated closure: the constants at the final ensemble's mean unconstrained parameters (for unbounded ones the geometric mean), or the sweep's best point.
    pub result: Option<Fit>,
}

impl CalibrationReport {
    /// A short text summary.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "calibration of {} ({}) against {} snapshots of {}, {} bins per layer\n",
            self.constants.closure,
            self.constants.free.join(", "),
            self.reference.snapshots,
            self.data,
            self.reference.kr.len() / 2
        );
        let row = |f: &Fit| match (f.rmse, f.misfit) {
            (Some(r), Some(m)) => format!(
                "{:<40} log-spectrum RMSE {r:.4}, misfit {m:.3}\n",
                f.closure
            ),
            _ => format!("{:<40} blew up\n", f.closure),
        };
        out.push_str(&row(&self.no_closure));
        for p in &self.sweep {
            out.push_str(&row(&Fit {
                closure: self.constants.spec(&[p.value]),
                rmse: p.rmse,
                misfit: p.misfit,
                log_spectrum: None,
            }));
        }
        for (i, it) in self.iterations.iter().enumerate() {
            let ok: Vec<f64> = it.rmse.iter().flatten().copied().collect();
            let mean: Vec<String> = self
                .constants
                .free
                .iter()
                .zip(&it.mean)
                .zip(&it.log_sd)
                .map(|((k, v), s)| format!("{k} = {v:.4} (log sd {s:.3})"))
                .collect();
            let fits = if it.rmse.is_empty() {
                "final ensemble".to_string()
            } else {
                format!(
                    "member RMSE {:.4}..{:.4}, {} blew up, step {:.3}",
                    ok.iter().copied().fold(f64::INFINITY, f64::min),
                    ok.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    it.rmse.len() - ok.len(),
                    it.step.unwrap_or(0.0)
                )
            };
            out.push_str(&format!("iteration {i}: {}; {fits}\n", mean.join(", ")));
        }
        if let Some(r) = &self.result {
            out.push_str("result: ");
            out.push_str(&row(r));
        }
        out
    }
}

/// A free constant's value from `--{flag} KEY=VALUE,...`: each key must name one.
fn per_constant(flag: &str, text: &str, free: &[String], name: &str) -> Result<Vec<Option<f64>>> {
    let mut out = vec![None; free.len()];
    for (k, v) in constants(text).map_err(|e| Error::Input(format!("--{flag} {e}")))? {
        let Some(i) = free.iter().position(|f| *f == k) else {
            return input_err!(
                "--{flag} {k}: not a calibrated constant of {name} (calibrated: {})",
                free.join(", ")
            );
        };
        out[i] = Some(v);
    }
    Ok(out)
}

/// The closure of `--closure` with its free constants, the prior's medians and the upper bounds.
fn free_constants(a: &ClosureCalibrateArgs) -> Result<(FreeConstants, Vec<f64>, Vec<Option<f64>>)> {
    let (name, given) = a.closure.split_once(':').unwrap_or((&a.closure, ""));
    let calibratable = || BASELINES.iter().filter(|b| !b.constants.is_empty());
    let info = calibratable().find(|b| b.name == name).ok_or_else(|| {
        let names: Vec<&str> = calibratable().map(|b| b.name).collect();
        Error::Input(format!(
            "--closure {name}: allowed a built-in closure with constants ({})",
            names.join(", ")
        ))
    })?;
    // Parsed once whole, so a bad fixed constant is named as the closure names it.
    medida_discovery::closure::Baseline::parse(&a.closure).map_err(input("--closure"))?;
    let fixed: Vec<(String, f64)> = constants(given)
        .map_err(|e| Error::Input(format!("--closure {e}")))?
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let free: Vec<String> = info
        .constants
        .iter()
        .map(|c| c.0.to_string())
        .filter(|k| !fixed.iter().any(|(f, _)| f == k))
        .collect();
    if free.is_empty() {
        return input_err!(
            "--closure {}: every constant is fixed; leave out the ones to calibrate",
            a.closure
        );
    }
    let given_prior = per_constant("prior", a.prior.as_deref().unwrap_or(""), &free, name)?;
    let prior: Vec<f64> = free
        .iter()
        .zip(given_prior)
        .map(|(k, given)| {
            given.unwrap_or_else(|| {
                info.constants
                    .iter()
                    .find(|c| c.0 == k)
                    .map_or(0.0, |c| c.1)
            })
        })
        .collect();
    if let Some((k, v)) = free
        .iter()
        .zip(&prior)
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        return input_err!(
            "--prior {k}={v}: allowed a finite number > 0 (the constants' logs are calibrated)"
        );
    }
    let upper = per_constant("upper", a.upper.as_deref().unwrap_or(""), &free, name)?;
    for ((k, v), u) in free.iter().zip(&prior).zip(&upper) {
        if let Some(u) = u
            && !(u.is_finite() && u > v)
        {
            return input_err!(
                "--upper {k}={u}: allowed a finite number above the prior median {v}"
            );
        }
    }
    Ok((
        FreeConstants {
            closure: name.to_string(),
            free,
            fixed,
        },
        prior,
        upper,
    ))
}

/// Calibrates (or sweeps) the closure of `a` against the dataset's spectrum.
pub fn closure_calibrate(
    a: &ClosureCalibrateArgs,
    progress: &mut dyn Progress,
) -> Result<CalibrationReport> {
    if a.out.exists() {
        return input_err!(
            "--out {}: exists; a calibration does not overwrite a result (remove it or choose another name)",
            a.out.display()
        );
    }
    let (free, prior, upper) = free_constants(a)?;
    if !a.sweep.is_empty() {
        if free.free.len() != 1 {
            return input_err!(
                "--sweep scans one constant; {} are calibrated ({}): fix the others in --closure",
                free.free.len(),
                free.free.join(", ")
            );
        }
        if let Some(v) = a.sweep.iter().find(|v| !v.is_finite()) {
            return input_err!("--sweep {v}: allowed finite numbers");
        }
        if a.upper.is_some() {
            return input_err!(
                "--upper bounds an inversion's constants; a --sweep takes its values as given"
            );
        }
    } else {
        if a.members < 2 {
            return input_err!("--members {}: allowed 2 or more", a.members);
        }
        if a.iterations == 0 {
            return input_err!("--iterations 0: allowed 1 or more");
        }
        if !(a.prior_log_sd.is_finite() && a.prior_log_sd > 0.0) {
            return input_err!("--prior-log-sd {}: allowed a number > 0", a.prior_log_sd);
        }
    }
    let step = match a.step.as_str() {
        "adaptive" => None,
        s => match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Some(v),
            _ => return input_err!("--step {s}: allowed adaptive or a number > 0"),
        },
    };
    if a.threads == 0 {
        return input_err!("--threads 0: allowed 1 or more");
    }
    if !matches!(a.weighting.as_str(), "scatter" | "uniform") {
        return input_err!("--weighting {}: allowed scatter or uniform", a.weighting);
    }
    let (src, spacing) = source(&a.reference)?;
    let mut cfg = RunConfig::resolve_text(&src.cfg.to_toml(), None, &a.set)?;
    cfg.run.threads = 1;
    cfg.closure = None;
    cfg.validate()?;
    let dt = cfg.model.dt;
    let spinup = steps(&a.spinup, &cfg, "--spinup", 0)?;
    let window = steps(&a.window, &cfg, "--window", 1)?;
    let every = steps(&a.sample_every, &cfg, "--sample-every", 1)?;
    if every > window {
        return input_err!(
            "--sample-every {}: allowed at most the window ({})",
            a.sample_every,
            a.window
        );
    }
    let model = build_model(&cfg)?;
    let bins = SpectrumBins::new(model.grid(), a.bins, 0.65).map_err(input("--bins"))?;

    if a.starts == 0 {
        return input_err!("--starts 0: allowed 1 or more");
    }
    let (samples, starts) =
        read_reference(&src, &bins, &model, a.starts, window as f64 * dt / spacing)?;
    let runs = src.runs.clone();
    let (Some(y), Some(scatter)) = (samples.log_mean(), samples.log_variance()) else {
        return input_err!(
            "{}: fewer than 2 reference snapshots after spin-up",
            src.name
        );
    };
    if starts.len() < a.starts {
        return input_err!(
            "--starts {}: the reference has {} states a window apart",
            a.starts,
            starts.len()
        );
    }
    let n_run = (window as f64 * dt / spacing).max(1.0) * a.starts as f64;
    let mut variance: Vec<f64> = scatter
        .iter()
        .map(|s| s * (1.0 / samples.len() as f64 + 1.0 / n_run))
        .collect();
    if a.weighting == "uniform" {
        let mean = variance.iter().sum::<f64>() / variance.len() as f64;
        variance.iter_mut().for_each(|v| *v = mean);
    }
    let eki = Eki::new(y.clone(), variance.clone()).map_err(input("--data"))?;
    let centres = bins.centres();
    let reference = Reference {
        kr: centres.iter().chain(&centres).copied().collect(),
        log_spectrum: y.clone(),
        variance,
        snapshots: samples.len(),
        runs: runs.clone(),
    };
    progress.note(&format!(
        "reference: {} snapshots of {}; forward runs of {spinup} + {window} steps",
        samples.len(),
        src.name
    ));
    let forward = ForwardRun {
        model,
        starts,
        spinup,
        steps: window,
        every,
        bins,
        ranks: a.ranks.clone(),
    };
    let fit = |closure: String, g: Option<Vec<f64>>| Fit {
        closure,
        rmse: g.as_ref().map(|g| rmse(g, &y)),
        misfit: g.as_ref().map(|g| eki.misfit(g)),
        log_spectrum: g,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(|e| Error::Input(format!("--threads {}: {e}", a.threads)))?;
    pool.install(|| {
        let no_closure = fit("none".into(), forward.run(None)?);
        let mut report = CalibrationReport {
            data: src.name.clone(),
            dataset: src.manifest.clone(),
            constants: free.clone(),
            settings: None,
            forward_steps: [spinup, window, every],
            dt,
            reference,
            no_closure,
            iterations: Vec::new(),
            sweep: Vec::new(),
            result: None,
        };
        let best = if a.sweep.is_empty() {
            let settings = EkiSettings {
                members: a.members,
                iterations: a.iterations,
                seed: a.seed,
                prior,
                prior_log_sd: a.prior_log_sd,
                upper,
                step,
            };
            let mut n = 0;
            report.iterations = calibrate(&eki, &forward, &free, &settings, &mut |it| {
                n += 1;
                let ok: Vec<f64> = it.rmse.iter().flatten().copied().collect();
                progress.note(&format!(
                    "iteration {n}/{}: mean constants {:?}, best member RMSE {:.4}, {} blew up, step {:.3}",
                    a.iterations,
                    it.mean,
                    ok.iter().copied().fold(f64::INFINITY, f64::min),
                    it.rmse.len() - ok.len(),
                    it.step.unwrap_or(0.0)
                ));
            })?;
            report.settings = Some(settings);
            report.iterations.last().map(|it| it.mean.clone())
        } else {
            report.sweep = sweep(&eki, &forward, &free, &a.sweep)?;
            report
                .sweep
                .iter()
                .filter_map(|p| p.rmse.map(|r| (r, p.value)))
                .min_by(|x, y| x.0.total_cmp(&y.0))
                .map(|(_, v)| vec![v])
        };
        if let Some(c) = best {
            let spec = free.spec(&c);
            let g = forward.run(Some(&free.closure(&c)?))?;
            report.result = Some(fit(spec, g));
        }
        if position(a.ranks.as_deref()).0 == 0 {
            let text = serde_json::to_string_pretty(&report).expect("a report serialises");
            crate::write_atomic(&a.out, text.as_bytes())?;
        }
        Ok(report)
    })
}

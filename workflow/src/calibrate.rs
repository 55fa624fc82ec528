//! `medida closure calibrate`: a built-in closure's constants calibrated from the enstrophy
//! spectrum alone, by ensemble Kalman inversion ([`medida_discovery::closure::calibrate`]), or
//! scanned (`--sweep`).
//!
//! The reference is a closure dataset's coarse-grained snapshots from the second half of its runs
//! (after spin-up, as the online scores use them): `y` is the log of their mean spectrum in
//! log-spaced bins per layer, and the noise variance of bin `k` is
//! `s_k^2 (1/n_ref + 1/n_run)`, with `s_k^2` the scatter of one snapshot's log spectrum, `n_ref`
//! the snapshots averaged and `n_run` the forward run's window in snapshot intervals (taking
//! snapshots of the dataset, 1000 hours apart by default, as independent). Each forward run starts
//! from the first reference run's coarse-grained state at the start of its second half: a state of
//! the high-resolution flow, so a short spin-up suffices.

use crate::closure::{Manifest, YEAR, complete, lr_model, read_manifest};
use crate::config::RunConfig;
use crate::error::{Error, input, input_err};
use crate::model::build_model;
use crate::progress::Progress;
use medida_data::{Frames, read_array};
use medida_discovery::closure::calibrate::{
    EkiSettings, ForwardRun, FreeConstants, Iteration, SweepPoint, calibrate, rmse, sweep,
};
use medida_discovery::closure::eki::Eki;
use medida_discovery::closure::{BASELINES, SpectrumBins, SpectrumSamples};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

type Result<T> = std::result::Result<T, Error>;

/// What `medida closure calibrate` was asked to do.
#[derive(clap::Args, Clone, Debug)]
pub struct ClosureCalibrateArgs {
    /// A dataset written by `medida closure data`: the coarse-grained snapshots of the second
    /// half of its runs are the reference.
    #[arg(long)]
    pub data: PathBuf,
    /// A built-in closure (`smagorinsky`, `leith`, `backscatter`, ...); constants given here
    /// (`backscatter:cb=1.2`) are fixed, the others calibrated.
    #[arg(long)]
    pub closure: String,
    /// Prior medians of the calibrated constants, `cs=0.15,...` (default: the built-in values).
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub prior: Option<String>,
    /// Standard deviation of each calibrated constant's natural log in the prior.
    #[arg(long, default_value_t = 0.5)]
    pub prior_log_sd: f64,
    /// Ensemble members.
    #[arg(long, default_value_t = 20)]
    pub members: usize,
    /// EKI updates.
    #[arg(long, default_value_t = 10)]
    pub iterations: usize,
    /// Seed of the prior draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Scan these values of the one calibrated constant instead of inverting.
    #[arg(long, value_delimiter = ',', value_name = "VALUE,...")]
    pub sweep: Vec<f64>,
    /// Spin-up of each forward run, in years of 360 days.
    #[arg(long, default_value_t = 0.25)]
    pub spinup_years: f64,
    /// Averaging window of each forward run, in years.
    #[arg(long, default_value_t = 2.0)]
    pub years: f64,
    /// Hours between the spectra a forward run averages.
    #[arg(long, default_value_t = 24.0)]
    pub sample_hours: f64,
    /// Log-spaced wavenumber bins per layer, up to 0.65 of the Nyquist wavenumber.
    #[arg(long, default_value_t = 12)]
    pub bins: usize,
    /// Dataset runs of the reference, comma-separated (default: every complete run).
    #[arg(long, value_delimiter = ',')]
    pub runs: Vec<usize>,
    /// Override a setting of the coarse runs (`model.dt=7200`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The result (JSON); an existing file is not overwritten.
    #[arg(long, default_value = "calibration.json")]
    pub out: PathBuf,
    /// Threads: members run in parallel, one per thread.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
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
    /// Snapshots averaged, and the runs they come from.
    pub snapshots: usize,
    /// The dataset runs.
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
    /// The dataset.
    pub data: String,
    /// Its configuration.
    pub dataset: Manifest,
    /// The closure and which constants were calibrated.
    pub constants: FreeConstants,
    /// The inversion's settings (absent for a sweep).
    pub settings: Option<EkiSettings>,
    /// Forward runs: spin-up, window and sampling steps, and the model's time step [s].
    pub forward_steps: [u64; 3],
    /// The time step [s].
    pub dt: f64,
    /// The reference.
    pub reference: Reference,
    /// The coarse model without closure.
    pub no_closure: Fit,
    /// The EKI iterations (the last: the final ensemble).
    pub iterations: Vec<Iteration>,
    /// The sweep's points.
    pub sweep: Vec<SweepPoint>,
    /// The calibrated closure: the final ensemble's geometric mean, or the sweep's best point.
    pub result: Option<Fit>,
}

impl CalibrationReport {
    /// A short text summary.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "calibration of {} ({}) against {} snapshots of {} (runs {:?}), {} bins per layer\n",
            self.constants.closure,
            self.constants.free.join(", "),
            self.reference.snapshots,
            self.data,
            self.reference.runs,
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
                    "member RMSE {:.4}..{:.4}, {} blew up",
                    ok.iter().copied().fold(f64::INFINITY, f64::min),
                    ok.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    it.rmse.len() - ok.len()
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

/// The closure of `--closure` with its free constants, and the prior's medians.
fn free_constants(a: &ClosureCalibrateArgs) -> Result<(FreeConstants, Vec<f64>)> {
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
    let pairs = |text: &str, flag: &str| -> Result<Vec<(String, f64)>> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').ok_or_else(|| {
                    Error::Input(format!("{flag} `{kv}`: constants are key=value"))
                })?;
                let v: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| Error::Input(format!("{flag} `{kv}`: allowed a finite number")))?;
                Ok((k.trim().to_string(), v))
            })
            .collect()
    };
    let fixed = pairs(given, "--closure")?;
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
    let mut prior: Vec<f64> = free
        .iter()
        .map(|k| {
            info.constants
                .iter()
                .find(|c| c.0 == k)
                .map_or(0.0, |c| c.1)
        })
        .collect();
    for (k, v) in pairs(a.prior.as_deref().unwrap_or(""), "--prior")? {
        let Some(i) = free.iter().position(|f| *f == k) else {
            return input_err!(
                "--prior {k}: not a calibrated constant of {name} (calibrated: {})",
                free.join(", ")
            );
        };
        prior[i] = v;
    }
    if let Some((k, v)) = free
        .iter()
        .zip(&prior)
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        return input_err!(
            "--prior {k}={v}: allowed a finite number > 0 (the constants' logs are calibrated)"
        );
    }
    Ok((
        FreeConstants {
            closure: name.to_string(),
            free,
            fixed,
        },
        prior,
    ))
}

/// `x` years as steps of `dt`, at least `min`.
fn steps(x: f64, dt: f64, flag: &str, min: u64) -> Result<u64> {
    let n = (x * YEAR / dt).round();
    if !(x.is_finite() && x >= 0.0) || n < min as f64 {
        return input_err!(
            "{flag} {x}: allowed a number of years >= {} time steps of {dt} s",
            min
        );
    }
    Ok(n as u64)
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
    let m = read_manifest(&a.data)?;
    let (free, prior) = free_constants(a)?;
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
    if a.threads == 0 {
        return input_err!("--threads 0: allowed 1 or more");
    }
    let hr = RunConfig::from_toml(&m.hr_config)?;
    let (lr_cfg, _) = lr_model(&hr, m.lr)?;
    let mut cfg = RunConfig::resolve_text(&lr_cfg.to_toml(), None, &a.set)?;
    cfg.run.threads = 1;
    cfg.closure = None;
    cfg.validate()?;
    let dt = cfg.model.dt;
    let spinup = steps(a.spinup_years, dt, "--spinup-years", 0)?;
    let window = steps(a.years, dt, "--years", 1)?;
    let every = (a.sample_hours * 3600.0 / dt).round();
    if !(a.sample_hours.is_finite() && every >= 1.0 && every <= window as f64) {
        return input_err!(
            "--sample-hours {}: allowed at least one time step ({dt} s) and at most the window",
            a.sample_hours
        );
    }
    let every = every as u64;
    let model = build_model(&cfg)?;
    let bins = SpectrumBins::new(model.grid(), a.bins, 0.65).map_err(input("--bins"))?;

    // The reference: the second half's snapshots of the chosen runs.
    let runs: Vec<usize> = if a.runs.is_empty() {
        (0..m.runs)
            .filter(|r| complete(&a.data.join(format!("run{r}.h5")), &m).unwrap_or(false))
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
            a.data.display()
        );
    }
    let from = hr.output.tavestart.unwrap_or(0.0);
    let mut samples = SpectrumSamples::default();
    let mut q0 = None;
    let mut spacing = f64::INFINITY;
    let mut probe = model.clone();
    for r in &runs {
        let path = a.data.join(format!("run{r}.h5"));
        let time = read_array(&path, "time").map_err(input("--data"))?;
        let frames = Frames::open(&path, "q").map_err(input("--data"))?;
        let times: Vec<f64> = time.iter().copied().collect();
        for w in times.windows(2) {
            spacing = spacing.min(w[1] - w[0]);
        }
        for (i, _) in times.iter().enumerate().filter(|(_, t)| **t >= from) {
            let q = frames.read(i)?;
            probe.set_q(q.view())?;
            let st = probe.spectral_state();
            samples.add(&bins, &[&st.qh[0], &st.qh[1]]);
            q0.get_or_insert(q);
        }
    }
    let (Some(y), Some(scatter), Some(q0)) = (samples.log_mean(), samples.log_variance(), q0)
    else {
        return input_err!(
            "--data {}: fewer than 2 snapshots after spin-up (t >= {:.0} d) in runs {runs:?}",
            a.data.display(),
            from / 86400.0
        );
    };
    let n_run = (window as f64 * dt / spacing).max(1.0);
    let variance: Vec<f64> = scatter
        .iter()
        .map(|s| s * (1.0 / samples.len() as f64 + 1.0 / n_run))
        .collect();
    let eki = Eki::new(y.clone(), variance.clone(), 1.0).map_err(input("--data"))?;
    let centres = bins.centres();
    let reference = Reference {
        kr: centres.iter().chain(&centres).copied().collect(),
        log_spectrum: y.clone(),
        variance,
        snapshots: samples.len(),
        runs: runs.clone(),
    };
    progress.note(&format!(
        "reference: {} snapshots of runs {runs:?}; forward runs of {spinup} + {window} steps",
        samples.len()
    ));
    let forward = ForwardRun {
        model,
        q0,
        spinup,
        steps: window,
        every,
        bins,
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
            data: a.data.display().to_string(),
            dataset: m.clone(),
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
            };
            let mut n = 0;
            report.iterations = calibrate(&eki, &forward, &free, &settings, &mut |it| {
                n += 1;
                let ok: Vec<f64> = it.rmse.iter().flatten().copied().collect();
                progress.note(&format!(
                    "iteration {n}/{}: geometric mean {:?}, best member RMSE {:.4}, {} blew up",
                    a.iterations,
                    it.mean,
                    ok.iter().copied().fold(f64::INFINITY, f64::min),
                    it.rmse.len() - ok.len()
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
        let text = serde_json::to_string_pretty(&report).expect("a report serialises");
        crate::write_atomic(&a.out, text.as_bytes())?;
        Ok(report)
    })
}

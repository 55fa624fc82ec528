//! `medida demo`: the MEDIDA pipeline from nothing: spin-up and truth run of the forced jet,
//! increments of a model-error case, discovery and correction; with sparse observations,
//! passes that assimilate into the model corrected by the previous pass.

use crate::config::RunConfig;
use crate::discover::{DiscoverArgs, discover};
use crate::error::{Context, Error, input, input_err};
use crate::increments::{IncrementsArgs, increments};
use crate::progress::Progress;
use crate::regression::RegressionArgs;
use crate::simulate::SimulateArgs;
use medida_discovery::model_error::DiscoveryReport;
use medida_discovery::observe::ObservationSpec;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Error>;

/// What `medida demo` was asked to do.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Model-error case.
    #[arg(long, default_value = "case1002")]
    pub case: String,
    /// Directory for the truth run, the increments and the results.
    #[arg(long, default_value = "medida-demo")]
    pub dir: PathBuf,
    /// Spin-up time (model time units, from the random initial state).
    #[arg(long, default_value_t = 250.0)]
    pub spinup: f64,
    /// Number of truth snapshots (one per time unit after the spin-up) giving increments.
    #[arg(long, default_value_t = 3)]
    pub snapshots: usize,
    /// Library (see `medida discover --library`).
    #[arg(long, default_value = "medida10")]
    pub library: String,
    /// Override a setting of the truth run (`model.nx=48`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Observe only part of the grid (see `medida increments --observe`); a second run from
    /// another random state gives spectral-oi its prior, the analyses assimilate the
    /// observations (--assimilate) and the discovery uses 3-fold cross-validation.
    #[arg(long, value_name = "SPEC")]
    pub observe: Option<String>,
    /// With --observe: make each analysis by assimilating the observations for this many time
    /// units into the imperfect model, with an analysis every --update-every steps (see `medida
    /// increments --assimilate`); 0: the interpolated observations alone, and the discovery on
    /// the stations with at least --min-neighbours observed neighbours.
    #[arg(long, value_name = "TIME", default_value_t = 10.0)]
    pub assimilate: f64,
    /// With --assimilate: steps between analyses, at least 1 (see `medida increments
    /// --update-every`).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub update_every: u64,
    /// With --assimilate: the ensemble filter instead of cycled interpolation (see `medida
    /// increments --filter`).
    #[command(flatten)]
    pub ensemble: crate::ensemble::EnsembleArgs,
    /// The increments' forecast window in time steps (see `medida increments --window`); default
    /// 1, or 20 with noisy observations, whose noise a longer window divides by more
    /// (docs/assimilation.md).
    #[arg(long)]
    pub window: Option<u64>,
    /// For windows of more than one step: refit less the window drift at most N times (see
    /// `medida discover --drift-iterations`; 0: off).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub drift_iterations: usize,
    /// With --assimilate: passes in all. The first assimilates into the imperfect model; each
    /// later one into the model corrected by the previous pass's discovery.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// With several passes: model selection (see `medida discover --select`) of the passes
    /// before the last, whose equations correct the next pass's assimilating model. BIC keeps
    /// every term the data support, so a term the analyses attenuate still moves the model
    /// towards the truth, where cross-validation may eliminate it and leave the next pass's model
    /// as wrong as this one's (docs/assimilation.md, case 1004). The last pass, the result, is
    /// selected by cross-validation.
    #[arg(long, default_value = "bic", value_name = "SELECT")]
    pub correction_select: String,
    /// With --observe and --assimilate 0: see `medida discover --min-neighbours`.
    #[arg(long, default_value_t = 7)]
    pub min_neighbours: u8,
    /// Interpolator for --observe (see `medida increments --interp`).
    #[arg(long, default_value = "spectral-oi")]
    pub interp: String,
    /// Threads.
    #[arg(long, default_value_t = 2, value_parser = crate::parse_threads)]
    pub threads: usize,
}

/// The demo's window with noisy observations, in steps: the best of those measured on the jet at
/// 25% observed with noise 1% (docs/assimilation.md).
const NOISY_WINDOW: u64 = 20;

/// Where a demo put its files.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFiles {
    /// The truth run.
    pub truth: PathBuf,
    /// The last pass's increments.
    pub increments: PathBuf,
    /// The last pass's discovery (`discovery.json`, `discovery.h5`).
    pub discovery: PathBuf,
}

/// Runs the demo `a` describes: spin-up and truth, then per pass increments and a discovery,
/// whose report goes to `report` as soon as it is made, with a heading naming the pass and its
/// analyses when there are several (empty for one).
pub fn demo(
    a: &DemoArgs,
    progress: &mut dyn Progress,
    report: &mut dyn FnMut(&DiscoveryReport, &str),
) -> Result<DemoFiles> {
    if a.snapshots == 0 {
        return input_err!("--snapshots 0: allowed 1 or more");
    }
    if a.update_every == 0 {
        return input_err!("--update-every 0: allowed 1 or more steps between analyses");
    }
    if a.window == Some(0) {
        return input_err!("--window 0: allowed 1 or more steps");
    }
    if !(a.assimilate >= 0.0 && a.assimilate.is_finite()) {
        return input_err!(
            "--assimilate {}: allowed a time >= 0 (model time units; 0: interpolation only)",
            a.assimilate
        );
    }
    let spec = match &a.observe {
        Some(text) => Some(ObservationSpec::parse(text).map_err(input("--observe"))?),
        None => None,
    };
    let noisy = spec.is_some_and(|s| s.noise > 0.0);
    let window = a.window.unwrap_or(if noisy { NOISY_WINDOW } else { 1 });
    // Everything the user gave is checked before the spin-up runs.
    crate::config::model_error_case(&a.case).map_err(input("--case"))?;
    medida_discovery::QgLibrary::parse(&a.library).map_err(input("--library"))?;
    crate::observe::check_interp(&a.interp)?;
    a.ensemble.is_ensemble()?;
    a.ensemble.member_precision()?;
    crate::regression::choice("--correction-select", &a.correction_select, FOLDS)?;
    RunConfig::resolve(Some("medida-jet"), None, None, &a.set).map_err(input("--set"))?;
    std::fs::create_dir_all(&a.dir)
        .map_err(|e| Error::Io(format!("create {}", a.dir.display()), e))?;
    remove_previous(&a.dir)?;
    let started = std::time::Instant::now();
    let truth = a.dir.join("truth.h5");
    progress.note(&format!(
        "1/3 truth: MEDIDA jet, {} time units of spin-up, then {} snapshots",
        a.spinup, a.snapshots
    ));
    let length = a.snapshots as f64 - 1.0;
    jet_run(a, &truth, length, &[], progress)?;
    let prior = match &a.observe {
        Some(_) => {
            let prior = a.dir.join("prior.h5");
            progress
                .note("1b/3 prior for the interpolator: the same model from another random state");
            let extra = ["output.snapshot_interval=160", "init.seed=5"];
            jet_run(a, &prior, 40.0, &extra, progress)?;
            Some(prior)
        }
        None => None,
    };
    // Without assimilation one pass; with it, passes whose analyses assimilate the observations
    // into the imperfect model, then into the model corrected by the previous pass.
    let assimilate = (a.observe.is_some() && a.assimilate > 0.0).then_some(a.assimilate);
    let passes = if assimilate.is_some() {
        a.passes.max(1)
    } else {
        1
    };
    let mut correction: Option<PathBuf> = None;
    let incr = a.dir.join("increments.h5");
    let mut out = a.dir.join("discovery.json");
    for pass in 0..passes {
        let last = pass + 1 == passes;
        let how = match (assimilate, &correction) {
            (None, _) => "one step from every snapshot".to_string(),
            (Some(_), None) => {
                "analyses assimilating the observations into the imperfect model".to_string()
            }
            (Some(_), Some(c)) => format!(
                "analyses assimilating the observations into the model corrected by {}",
                c.display()
            ),
        };
        progress.note(&format!("2/3 increments of {} ({how})", a.case));
        let increments_args = IncrementsArgs {
            truth: truth.clone(),
            model_error: Some(a.case.clone()),
            set: Vec::new(),
            window,
            every: 1,
            count: None,
            observe: a.observe.clone(),
            interp: a.interp.clone(),
            analyses: None,
            prior: prior.clone(),
            assimilate,
            correction: correction.clone(),
            update_every: a.update_every,
            ensemble: a.ensemble.clone(),
            out: incr.clone(),
            overwrite: true,
            threads: Some(a.threads),
            ranks: None,
        };
        increments(&increments_args, progress).with_context(|| match &correction {
            None => format!("pass {}: increments", pass + 1),
            Some(c) => format!(
                "pass {}: assimilating into the model corrected by {} (when that correction is far \
                 from the truth, its analyses are too)",
                pass + 1,
                c.display()
            ),
        })?;
        out = if last {
            a.dir.join("discovery.json")
        } else {
            a.dir.join(format!("discovery-pass{}.json", pass + 1))
        };
        progress.note(&format!(
            "3/3 discovery with library {} (pass {} of {passes})\n",
            a.library,
            pass + 1
        ));
        let found = discover(
            &DiscoverArgs {
                increments: incr.clone(),
                library: a.library.clone(),
                trim: 0,
                library_state: "auto".into(),
                unfiltered_library: false,
                // From interpolated observations the well-observed stations (the truth's
                // advection of the interpolation error next to gaps looks like a Jacobian); from
                // assimilated ones every station.
                min_neighbours: match (&a.observe, assimilate) {
                    (Some(_), None) => a.min_neighbours,
                    _ => 0,
                },
                regression: match (&a.observe, last) {
                    // Station rows carry correlated analysis errors, which BIC (independent rows)
                    // takes for signal; held-out rows do not reward them. A correction carried to
                    // the next pass may keep them: that pass measures the whole error again.
                    (Some(_), true) => regression("cv"),
                    (Some(_), false) => regression(&a.correction_select),
                    (None, _) => RegressionArgs::default(),
                },
                correct: last,
                correct_steps: 400,
                drift_iterations: a.drift_iterations,
                out: Some(out.clone()),
                // The demo's directory is its own: a rerun replaces its files.
                overwrite: true,
                threads: a.threads,
            },
            progress,
        )?;
        let mut heading = String::new();
        if passes > 1 {
            heading = format!("== pass {} of {passes}: {how}", pass + 1);
            if !last {
                heading += &format!(
                    "; selected by {}, carried to the next pass",
                    a.correction_select
                );
            }
        }
        report(&found, &heading);
        // The next pass assimilates into the model corrected by this pass's discovery. The
        // analyses lean towards the assimilating model, so a discovery falls short of the error
        // left in that model (measured: about 80% of it for the Jacobian of case 1004 at 50%,
        // 55-70% at 25% with noise); each pass shrinks what is missed by that factor.
        correction = Some(out.clone());
    }
    progress.note(&format!(
        "demo done in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(DemoFiles {
        truth,
        increments: incr,
        discovery: out,
    })
}

/// Cross-validation folds of the demo's discoveries with sparse observations.
const FOLDS: usize = 3;

/// The demo's regression with sparse observations: `select`, [`FOLDS`] for cross-validation.
fn regression(select: &str) -> RegressionArgs {
    RegressionArgs {
        select: select.into(),
        folds: FOLDS,
        ..RegressionArgs::default()
    }
}

/// A demo run of the MEDIDA jet into `out`: the demo's spin-up, then `length` time units; the
/// demo's threads, no checkpoints, `extra` settings and then the user's `--set`s.
fn jet_run(
    a: &DemoArgs,
    out: &Path,
    length: f64,
    extra: &[&str],
    progress: &mut dyn Progress,
) -> Result<()> {
    let mut set = vec![
        format!("run.threads={}", a.threads),
        "output.checkpoint_interval=0".to_string(),
    ];
    set.extend(extra.iter().map(|s| s.to_string()));
    set.extend(a.set.iter().cloned());
    let args = SimulateArgs {
        preset: Some("medida-jet".into()),
        config: None,
        set,
        steps: None,
        tmax: Some(a.spinup + length),
        init: None,
        time: None,
        out: out.to_path_buf(),
        // The demo's directory is its own: a rerun replaces its files.
        overwrite: true,
        restart: None,
        model_error: None,
        spinup: Some(a.spinup),
        closure: None,
        correction: None,
    };
    crate::simulate::simulate(&args, progress)
}

/// Removes what an earlier demo left in `dir` (its files only: truth, prior, increments,
/// discoveries and their checkpoints), so that a demo stopped part way never leaves a new case's
/// files beside an old case's results.
fn remove_previous(dir: &Path) -> Result<()> {
    let ours = |name: &str| {
        ["truth", "prior", "increments", "discovery"]
            .iter()
            .any(|stem| name.starts_with(stem))
            && (name.ends_with(".h5") || name.ends_with(".json"))
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::Io(format!("list {}", dir.display()), e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().is_some_and(ours) {
            std::fs::remove_file(entry.path())
                .map_err(|e| Error::Io(format!("remove {}", entry.path().display()), e))?;
        }
    }
    Ok(())
}

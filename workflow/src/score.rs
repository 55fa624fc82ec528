//! `medida closure score`: Ross et al.'s 18 similarity scores between run files that exist
//! already (`medida simulate` runs with time averages): any sets of runs scored against a target
//! set, with a baseline set as the zero. `medida closure evaluate` makes its coarse runs and
//! scores them the same way; this scores runs made otherwise, for example a single-precision run
//! against a double-precision one, with a second double-precision run as the baseline (a score
//! near 0: as far from the target as another run of the same model).

use crate::config::RunConfig;
use crate::error::{Error, input_err};
use crate::evaluate::{average, last_q, score_rows};
use crate::model::build_model;
use crate::pyqg_file::config_text;
use medida_discovery::closure::similarity::{
    Ensemble, METRICS, Scores18, differences, similarities,
};
use medida_solver::Precision;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

type Result<T> = std::result::Result<T, Error>;

/// What `medida closure score` was asked to do.
#[derive(clap::Args, Clone, Debug)]
pub struct ClosureScoreArgs {
    /// The target runs (Ross: the high-resolution ones), a score of 1: files written by
    /// `medida simulate` with `output.tavestart` (time averages), comma-separated or repeated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "FILE")]
    pub target: Vec<PathBuf>,
    /// The baseline runs (Ross: the coarse runs without a closure), a score of 0.
    #[arg(long, value_delimiter = ',', required = true, value_name = "FILE")]
    pub baseline: Vec<PathBuf>,
    /// A set of runs to score, named: `NAME=FILE[,FILE...]`. Repeatable.
    #[arg(long = "model", required = true, value_name = "NAME=FILE[,FILE...]")]
    pub models: Vec<String>,
    /// Snapshots of each run pooled by the distributional scores: its last ones (Ross: 10).
    #[arg(long, default_value_t = 10)]
    pub last: usize,
}

/// One named set of runs and its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelScores {
    /// Its name (`NAME=` of `--model`).
    pub name: String,
    /// Its run files.
    pub files: Vec<String>,
    /// Its 18 scores and distances to the target.
    pub scores: Scores18,
}

/// What `medida closure score` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    /// The metric names, in the order of every list.
    pub metrics: Vec<String>,
    /// The target's files.
    pub target: Vec<String>,
    /// The baseline's files.
    pub baseline: Vec<String>,
    /// The baseline's 18 distances to the target (each score's denominator).
    pub baseline_distances: Vec<f64>,
    /// Snapshots pooled per run.
    pub last: usize,
    /// One entry per `--model`, in order.
    pub models: Vec<ModelScores>,
}

impl ScoreReport {
    /// The table: one row per metric, one column per model; mean and minimum below.
    pub fn table(&self) -> String {
        let mut out = format!(
            "similarity to {} (1) against {} (0), the last {} snapshots of each run\n\n",
            self.target.join(", "),
            self.baseline.join(", "),
            self.last
        );
        let cols: Vec<(&str, Option<&Scores18>)> = self
            .models
            .iter()
            .map(|m| (m.name.as_str(), Some(&m.scores)))
            .collect();
        out.push_str(&score_rows(&cols));
        out
    }
}

/// The ensemble of the runs in `files`, each read with its own config's inversion and
/// background flow; the flag's name in errors.
fn ensemble(flag: &str, files: &[PathBuf], last: usize) -> Result<Ensemble> {
    let mut out: Option<Ensemble> = None;
    for path in files {
        // Errors of config_text and last_q name the file already.
        let named = |e: Error| Error::Input(format!("{flag}: {e}"));
        let bad = |e: Error| Error::Input(format!("{flag} {}: {e}", path.display()));
        let mut cfg = RunConfig::from_toml(&config_text(path).map_err(named)?).map_err(bad)?;
        // Velocities and vorticity from the stored q in double precision whatever the run's,
        // without its closure or correction (they do not change the inversion).
        cfg.model.precision = Precision::F64;
        (cfg.closure, cfg.correction) = (None, None);
        let mut model = build_model(&cfg).map_err(bad)?;
        let snaps = last_q(path, last).map_err(named)?;
        let e = out.get_or_insert_with(|| Ensemble::new(&model));
        e.add_run(&mut model, &snaps, &|name| average(path, name))
            .map_err(|e| bad(e.into()))?;
    }
    out.ok_or_else(|| Error::Input(format!("{flag}: give at least one run file")))
}

/// `NAME=FILE[,FILE...]` as the name and its files.
fn parse_model(spec: &str) -> Result<(String, Vec<PathBuf>)> {
    let Some((name, files)) = spec.split_once('=') else {
        return input_err!("--model {spec}: allowed NAME=FILE[,FILE...]");
    };
    let files: Vec<PathBuf> = files
        .split(',')
        .filter(|f| !f.is_empty())
        .map(PathBuf::from)
        .collect();
    if name.is_empty() || files.is_empty() {
        return input_err!("--model {spec}: allowed NAME=FILE[,FILE...] with a name and a file");
    }
    Ok((name.to_string(), files))
}

/// Scores every `--model` set against the target and baseline sets.
pub fn closure_score(a: &ClosureScoreArgs) -> Result<ScoreReport> {
    if a.last == 0 {
        return input_err!("--last 0: allowed 1 or more snapshots");
    }
    let models = a
        .models
        .iter()
        .map(|s| parse_model(s))
        .collect::<Result<Vec<_>>>()?;
    if let Some(i) = (1..models.len()).find(|&i| models[..i].iter().any(|m| m.0 == models[i].0)) {
        return input_err!(
            "--model {}: the name {} is given twice",
            a.models[i],
            models[i].0
        );
    }
    let target = ensemble("--target", &a.target, a.last)?;
    let baseline = ensemble("--baseline", &a.baseline, a.last)?;
    let baseline_distances = differences(&baseline, &target).to_vec();
    if let Some(i) = baseline_distances.iter().position(|&d| d == 0.0) {
        return input_err!(
            "--baseline: its {} equals the target's, so no score is defined (the same runs?)",
            METRICS[i]
        );
    }
    let names = |files: &[PathBuf]| files.iter().map(|f| f.display().to_string()).collect();
    let models = models
        .into_iter()
        .map(|(name, files)| {
            let e = ensemble(&format!("--model {name}"), &files, a.last)?;
            Ok(ModelScores {
                scores: similarities(&e, &target, &baseline),
                files: names(&files),
                name,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ScoreReport {
        metrics: METRICS.iter().map(|m| m.to_string()).collect(),
        target: names(&a.target),
        baseline: names(&a.baseline),
        baseline_distances,
        last: a.last,
        models,
    })
}

//! Figures of a trained policy (`medida closure train-rl --out p.json`): each layer's binned
//! enstrophy spectrum of the reference beside the held-out runs of the policy and of the constant
//! closures; the PDFs of `q / sigma_ref` with their tails (log density); the training curve (mean
//! reward per episode against episodes).

use crate::calibration::layer_spectra;
use crate::{Axes, FigureDir, PlotError, Result, line_figure};
use medida_discovery::closure::rl::PolicyFile;
use medida_discovery::closure::rl::train::TAIL_BINS;
use std::path::{Path, PathBuf};

/// Whether `text` (a JSON document) is a train-rl policy.
pub(crate) fn is_policy(text: &str) -> bool {
    text.contains(PolicyFile::KIND)
}

/// The figures of the policy file `text`.
pub(crate) fn policy_figures(file: &Path, text: &str, dir: &FigureDir) -> Result<Vec<PathBuf>> {
    let p = PolicyFile::from_json(text)
        .map_err(|e| PlotError::Input(format!("{}: {e}", file.display())))?;
    let runs = p.assessment.iter().filter(|a| !a.log_spectrum.is_empty());
    let spectra: Vec<(String, &Vec<f64>)> =
        std::iter::once(("reference".to_string(), &p.agents.reference))
            .chain(runs.map(|a| (a.name.clone(), &a.log_spectrum)))
            .collect();
    let mut out = layer_spectra(
        dir,
        "policy_spectrum",
        &p.kr,
        &spectra,
        "held-out runs, time mean",
    )?;
    let (lo, hi, n) = TAIL_BINS;
    let w = (hi - lo) / n as f64;
    let density = |d: &[f64]| -> Vec<(f64, f64)> {
        d.iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(i, v)| (lo + (i as f64 + 0.5) * w, *v))
            .collect()
    };
    let series: Vec<(String, Vec<(f64, f64)>)> =
        std::iter::once(("reference".to_string(), density(&p.target_pdf)))
            .chain(
                p.assessment
                    .iter()
                    .map(|a| (a.name.clone(), density(&a.pdf))),
            )
            .collect();
    let path = dir.file("policy_pdf");
    line_figure(
        &path,
        "PDF of q / sigma(q) of the reference, held-out runs",
        "q / sigma_ref",
        "probability density",
        &series,
        Axes::LogY,
    )?;
    out.push(path);
    let mut done = 0usize;
    let curve: Vec<(f64, f64)> = p
        .training
        .iter()
        .map(|u| {
            done += u.episodes.len();
            let mean = u.episodes.iter().map(|e| e.mean_reward).sum::<f64>()
                / u.episodes.len().max(1) as f64;
            (done as f64, mean)
        })
        .collect();
    let path = dir.file("policy_training");
    line_figure(
        &path,
        "training: mean reward per decision, per update",
        "episodes",
        "reward",
        &[("mean over the update's episodes".to_string(), curve)],
        Axes::Linear,
    )?;
    out.push(path);
    Ok(out)
}

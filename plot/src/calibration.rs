//! Figures of a calibration (`medida closure calibrate --out c.json`): each layer's binned
//! enstrophy spectrum of the reference beside the coarse model without closure and with the
//! calibrated one; the sweep's log-spectrum RMSE against the constant; the inversion's
//! ensemble per iteration.

use crate::{Axes, FigureDir, PlotError, Result, line_figure};
use medida_workflow::calibrate::CalibrationReport;
use std::path::{Path, PathBuf};

/// Whether `text` (a JSON document) is a calibration report.
pub(crate) fn is_calibration(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.get("forward_steps").is_some())
}

/// A closure's spec (`smagorinsky:cs=0.06667884622373035`) with its constants to 3 significant
/// digits, for a legend (`smagorinsky:cs=0.0667`).
fn legend_label(spec: &str) -> String {
    spec.split(',')
        .map(|part| match part.rsplit_once('=') {
            Some((key, v)) => match v.parse::<f64>() {
                Ok(x) if x != 0.0 && !(1e-3..1e4).contains(&x.abs()) => format!("{key}={x:.2e}"),
                Ok(x) => format!("{key}={}", crate::three_digits(x)),
                Err(_) => part.to_string(),
            },
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The figures of the calibration report in `text`.
pub(crate) fn calibration_figures(
    file: &Path,
    text: &str,
    dir: &FigureDir,
) -> Result<Vec<PathBuf>> {
    let r: CalibrationReport = serde_json::from_str(text).map_err(|e| {
        PlotError::Input(format!(
            "{}: {e} (not a `medida closure calibrate` report)",
            file.display()
        ))
    })?;
    let mut out = Vec::new();
    let bins = r.reference.kr.len() / 2;
    let fits = std::iter::once(("reference".to_string(), Some(&r.reference.log_spectrum)))
        .chain(std::iter::once((
            "no closure".to_string(),
            r.no_closure.log_spectrum.as_ref(),
        )))
        .chain(
            r.result
                .iter()
                .map(|f| (legend_label(&f.closure), f.log_spectrum.as_ref())),
        );
    let fits: Vec<(String, &Vec<f64>)> = fits.filter_map(|(n, s)| s.map(|s| (n, s))).collect();
    out.extend(layer_spectra(
        dir,
        "calibration_spectrum",
        &r.reference.kr[..bins],
        &fits,
        "time mean",
    )?);
    let name = r.constants.free.join(", ");
    if !r.sweep.is_empty() {
        let pts: Vec<(f64, f64)> = r
            .sweep
            .iter()
            .filter_map(|p| p.rmse.map(|e| (p.value, e)))
            .collect();
        let mut series = vec![(
            format!("{} (blown-up values left out)", r.constants.closure),
            pts,
        )];
        if let (Some(e), Some(lo), Some(hi)) = (
            r.no_closure.rmse,
            r.sweep.first().map(|p| p.value),
            r.sweep.last().map(|p| p.value),
        ) {
            series.push(("no closure".into(), vec![(lo, e), (hi, e)]));
        }
        let path = dir.file("calibration_sweep");
        line_figure(
            &path,
            "log-spectrum RMSE against the reference",
            &name,
            "RMSE of log <q^2>",
            &series,
            crate::Axes::Linear,
        )?;
        out.push(path);
    }
    // An inversion's report holds its settings beside its iterations.
    if let (false, Some(settings)) = (r.iterations.is_empty(), &r.settings) {
        let mut series = Vec::new();
        let transform = settings
            .transform()
            .map_err(|e| PlotError::Input(e.to_string()))?;
        for (i, k) in r.constants.free.iter().enumerate() {
            // Constant i at the mean unconstrained parameters (log or logit), moved f sd.
            let at = |f: f64| -> Vec<(f64, f64)> {
                r.iterations
                    .iter()
                    .enumerate()
                    .map(|(n, it)| {
                        let mut u = transform.unconstrained(&it.mean);
                        u[i] += f * it.log_sd[i];
                        (n as f64, transform.constrained(&u)[i])
                    })
                    .collect()
            };
            series.push((format!("{k}: at the mean"), at(0.0)));
            series.push((format!("{k}: at +1 sd of its log (logit)"), at(1.0)));
            series.push((format!("{k}: at -1 sd of its log (logit)"), at(-1.0)));
        }
        let path = dir.file("calibration_iterations");
        line_figure(
            &path,
            "ensemble Kalman inversion: the ensemble per iteration",
            "iteration",
            "constant",
            &series,
            crate::Axes::Linear,
        )?;
        out.push(path);
    }
    Ok(out)
}

/// One figure per layer, `<stem>1` and `<stem>2`: the binned enstrophy spectra `fits`
/// (name, log spectrum of both layers' bins) against the bins' centres `kr` (one layer's).
pub(crate) fn layer_spectra(
    dir: &FigureDir,
    stem: &str,
    kr: &[f64],
    fits: &[(String, &Vec<f64>)],
    what: &str,
) -> Result<Vec<PathBuf>> {
    let bins = kr.len();
    let mut out = Vec::new();
    for lev in 0..2 {
        let series: Vec<(String, Vec<(f64, f64)>)> = fits
            .iter()
            .map(|(n, s)| {
                let pts = (0..bins)
                    .map(|b| (kr[b], s[lev * bins + b].exp()))
                    .collect();
                (n.clone(), pts)
            })
            .collect();
        let path = dir.file(&format!("{stem}{}", lev + 1));
        line_figure(
            &path,
            &format!(
                "layer {}: enstrophy <q^2> per log-spaced wavenumber bin ({what})",
                lev + 1
            ),
            "wavenumber",
            "<q^2> in the bin",
            &series,
            Axes::LogLog,
        )?;
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::legend_label;

    #[test]
    fn legend_labels_round_constants_to_three_digits() {
        assert_eq!(
            legend_label("smagorinsky:cs=0.06667884622373035"),
            "smagorinsky:cs=0.0667"
        );
        assert_eq!(legend_label("leith:cl=0.22"), "leith:cl=0.22");
        assert_eq!(
            legend_label("backscatter:cs=0.1034999,cb=-1.23456"),
            "backscatter:cs=0.103,cb=-1.23"
        );
        assert_eq!(legend_label("x:nu=1.5e-7"), "x:nu=1.50e-7");
        assert_eq!(legend_label("x:c=250.7"), "x:c=251");
        assert_eq!(legend_label("none"), "none");
    }
}

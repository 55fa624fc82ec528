//! Figures of a closure discovery (`medida closure discover --out res.json`): the held-out skill
//! per layer of the discovered closure beside the published ones (from `res.json`), and maps of
//! the subgrid forcing beside its predictions (from `res.h5`); and of an online evaluation
//! (`medida closure evaluate --out DIR`, `DIR/scores.json`): the 18 scores, spectra, densities.

use crate::{FigureDir, PALETTE, PlotError, Result, field_figure, figure, input_err, tick};
use medida_data::Frames;
use medida_discovery::closure::ClosureReport;
use medida_workflow::RunConfig;
use medida_workflow::evaluate::{Curves, EvaluationReport};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

/// Whether `file` (a JSON document) is a closure report.
pub(crate) fn is_report(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.get("test_runs").is_some())
}

/// The skill figure of the report in `text`.
pub(crate) fn report_figures(file: &Path, text: &str, dir: &FigureDir) -> Result<Vec<PathBuf>> {
    let report: ClosureReport = serde_json::from_str(text).map_err(|e| {
        PlotError::Input(format!(
            "{}: {e} (not a `medida closure discover --out` result)",
            file.display()
        ))
    })?;
    Ok(vec![skill_figure(&report, dir)?])
}

/// Held-out R^2 per layer: one bar per closure, grouped by layer.
fn skill_figure(r: &ClosureReport, dir: &FigureDir) -> Result<PathBuf> {
    let mut closures = vec![(
        "discovered".to_string(),
        r.layers.iter().map(|l| l.test.r2).collect::<Vec<_>>(),
    )];
    closures.extend(
        r.references
            .iter()
            .map(|c| (c.name.clone(), c.test.iter().map(|s| s.r2).collect())),
    );
    let out = dir.file("closure_skill");
    figure!(&out, (900, 600), |root, e| {
        root.fill(&WHITE).map_err(&e)?;
        // Below -1 a closure is worse than none by far: its bar stops at the axis, its value written.
        let lo = closures
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0, f64::min)
            .max(-1.0);
        let colours = [BLUE, RGBColor(160, 160, 160), RGBColor(255, 140, 0), RED];
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("held-out R^2 on runs {:?}", r.test_runs),
                ("sans-serif", 22),
            )
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..2.0, (lo - 0.05)..1.05)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_label_formatter(&|v| tick(*v, 1.0))
            .y_desc("R^2 = 1 - MSE / Var(S_q)")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(&e)?;
        let width = 0.8 / closures.len() as f64;
        for (k, ((name, r2), c)) in closures.iter().zip(colours.iter().cycle()).enumerate() {
            let c = *c;
            let x = |lev: usize| lev as f64 + 0.1 + k as f64 * width;
            chart
                .draw_series(r2.iter().enumerate().map(|(lev, &v)| {
                    Rectangle::new(
                        [(x(lev), 0.0), (x(lev) + 0.9 * width, v.max(lo))],
                        c.filled(),
                    )
                }))
                .map_err(&e)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.filled()));
            chart
                .draw_series(r2.iter().enumerate().map(|(lev, &v)| {
                    Text::new(
                        format!("{v:.3}"),
                        (x(lev) + 0.45 * width, v.max(lo).max(0.0) + 0.02),
                        ("sans-serif", 13)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
                }))
                .map_err(&e)?;
        }
        for (lev, label) in ["upper layer", "lower layer"].iter().enumerate() {
            let (px, py) = chart.backend_coord(&(lev as f64 + 0.5, lo - 0.05));
            root.draw(&Text::new(
                *label,
                (px, py + 10),
                ("sans-serif", 16)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(&e)?;
        }
        crate::legend(&mut chart, SeriesLabelPosition::UpperRight).map_err(&e)?;
    });
    Ok(out.clone())
}

/// Maps of the forcing and its predictions at snapshot `time` (a held-out run) of `res.h5`.
pub(crate) fn map_figures(
    file: &Path,
    dir: &FigureDir,
    time: i64,
    cfg: &RunConfig,
) -> Result<Vec<PathBuf>> {
    let Some(target) = ["s_q", "s_q_total"]
        .into_iter()
        .find(|f| Frames::open(file, f).is_ok())
    else {
        return input_err!("{}: holds no s_q or s_q_total", file.display());
    };
    let mut out = vec![field_figure(
        file,
        dir,
        (target, target),
        &format!("subgrid forcing {target} (added to dq/dt)"),
        time,
        cfg,
    )?];
    for (field, label) in [
        ("prediction", "discovered closure"),
        ("prediction_ross7", "published 7-term closure"),
    ] {
        out.push(field_figure(file, dir, (field, field), label, time, cfg)?);
    }
    Ok(out)
}

/// Whether `text` (a JSON document) is a `medida closure evaluate` report.
pub(crate) fn is_evaluation(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.get("target_runs").is_some())
}

/// The figures of an online evaluation: the 18 scores per closure, the upper and lower KE
/// spectra, and the densities of the upper layer's q and enstrophy, high resolution beside the
/// coarse runs.
pub(crate) fn evaluation_figures(file: &Path, text: &str, dir: &FigureDir) -> Result<Vec<PathBuf>> {
    let r: EvaluationReport = serde_json::from_str(text).map_err(|e| {
        PlotError::Input(format!(
            "{}: {e} (not a `medida closure evaluate` report)",
            file.display()
        ))
    })?;
    let mut out = vec![scores_figure(&r, dir)?];
    let with_curves: Vec<(&str, &Curves)> = std::iter::once(("high resolution", &r.target))
        .chain(
            r.closures
                .iter()
                .filter_map(|c| c.curves.as_ref().map(|k| (c.closure.as_str(), k))),
        )
        .collect();
    for (s, name, title) in [
        (
            0,
            "closure_kespec1",
            "upper-layer KE spectrum (time mean, years 5-10)",
        ),
        (
            1,
            "closure_kespec2",
            "lower-layer KE spectrum (time mean, years 5-10)",
        ),
    ] {
        let series: Vec<(String, Vec<(f64, f64)>)> = with_curves
            .iter()
            .map(|(n, c)| {
                let pts =
                    c.kr.iter()
                        .zip(&c.spectra[s])
                        .filter(|(k, v)| **k > 0.0 && **v > 0.0)
                        .map(|(k, v)| (*k, *v))
                        .collect();
                (n.to_string(), pts)
            })
            .collect();
        let path = dir.file(name);
        crate::line_figure(
            &path,
            title,
            "wavenumber [1/m]",
            "KE density",
            &series,
            crate::Axes::LogLog,
        )?;
        out.push(path);
    }
    for (k, name, title) in [
        (
            0,
            "closure_pdf_q1",
            "upper-layer q: density over the last snapshots",
        ),
        (
            8,
            "closure_pdf_ens1",
            "upper-layer enstrophy (curl u)^2: density",
        ),
    ] {
        let series: Vec<(String, Vec<(f64, f64)>)> = with_curves
            .iter()
            .map(|(n, c)| {
                let centres = c.edges[k].windows(2).map(|w| 0.5 * (w[0] + w[1]));
                (
                    n.to_string(),
                    centres.zip(c.density[k].iter().copied()).collect(),
                )
            })
            .collect();
        let path = dir.file(name);
        crate::line_figure(
            &path,
            title,
            "value",
            "probability density",
            &series,
            crate::Axes::Linear,
        )?;
        out.push(path);
    }
    Ok(out)
}

/// The 18 scores: a group of bars per metric, one bar per closure; below -2 a bar stops at the
/// axis.
fn scores_figure(r: &EvaluationReport, dir: &FigureDir) -> Result<PathBuf> {
    let closures: Vec<(&str, &[f64])> = r
        .closures
        .iter()
        .skip(1)
        .filter_map(|c| {
            c.scores
                .as_ref()
                .map(|s| (c.closure.as_str(), &s.scores[..]))
        })
        .collect();
    let out = dir.file("closure_scores");
    figure!(&out, (1500, 650), |root, e| {
        root.fill(&WHITE).map_err(&e)?;
        let lo = closures
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0, f64::min)
            .max(-2.0);
        let n = r.metrics.len() as f64;
        let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "online similarity to high resolution ({}; 1 = high resolution, 0 = no closure)",
                r.dataset.config
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n, (lo - 0.1)..1.05)
        .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_label_formatter(&|v| tick(*v, 1.0))
            .y_desc("similarity")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(&e)?;
        let width = 0.85 / closures.len().max(1) as f64;
        for (j, ((name, scores), c)) in closures.iter().zip(PALETTE[1..].iter().cycle()).enumerate()
        {
            let c = *c;
            chart
                .draw_series(scores.iter().enumerate().map(|(i, &v)| {
                    let x = i as f64 + 0.075 + j as f64 * width;
                    Rectangle::new([(x, 0.0), (x + 0.9 * width, v.max(lo))], c.filled())
                }))
                .map_err(&e)?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.filled()));
        }
        for (i, m) in r.metrics.iter().enumerate() {
            let label = m
                .trim_start_matches("distrib_diff_")
                .trim_start_matches("spectral_diff_")
                .replace("frictionspec", "fric");
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, lo - 0.1));
            root.draw(&Text::new(
                label,
                (px, py + 8),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(&e)?;
        }
        crate::legend(&mut chart, SeriesLabelPosition::LowerLeft).map_err(&e)?;
    });
    Ok(out.clone())
}

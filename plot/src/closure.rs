//! Figures of a closure discovery (`medida closure discover --out res.json`): the held-out skill
//! per layer of the discovered closure beside the published ones (from `res.json`), and maps of
//! the subgrid forcing beside its predictions (from `res.h5`).

use crate::{PlotError, Result, draw_err, field_figure, input_err, tick};
use medida_data::Frames;
use medida_discovery::closure::ClosureReport;
use medida_workflow::RunConfig;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

/// Whether `file` (a JSON document) is a closure report.
pub(crate) fn is_report(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.get("test_runs").is_some())
}

/// The skill figure of the report in `text`.
pub(crate) fn report_figures(file: &Path, text: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    let report: ClosureReport = serde_json::from_str(text).map_err(|e| {
        PlotError::Input(format!(
            "{}: {e} (not a `medida closure discover --out` result)",
            file.display()
        ))
    })?;
    Ok(vec![skill_figure(&report, dir)?])
}

/// Held-out R^2 per layer: one bar per closure, grouped by layer.
fn skill_figure(r: &ClosureReport, dir: &Path) -> Result<PathBuf> {
    let mut closures = vec![(
        "discovered".to_string(),
        r.layers.iter().map(|l| l.test.r2).collect::<Vec<_>>(),
    )];
    closures.extend(
        r.references
            .iter()
            .map(|c| (c.name.clone(), c.test.iter().map(|s| s.r2).collect())),
    );
    let out = dir.join("closure_skill.png");
    let e = draw_err(&out);
    let root = BitMapBackend::new(&out, (900, 600)).into_drawing_area();
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
    root.present().map_err(&e)?;
    Ok(out.clone())
}

/// Maps of the forcing and its predictions at snapshot `time` (a held-out run) of `res.h5`.
pub(crate) fn map_figures(
    file: &Path,
    dir: &Path,
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

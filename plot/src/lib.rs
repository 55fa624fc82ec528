//! `medida plot`: PNG or SVG figures of runs, increments and discoveries, drawn with plotters and an
//! embedded DejaVu font (no system font libraries).
//!
//! - a run (`medida simulate` output): `q` and `p` per layer with colour bars, the isotropic KE
//!   spectrum (time mean over the snapshots), the diagnostics time series;
//! - increments (`medida increments`): the increment and the start state per layer, and with
//!   sparse observations the analysis error spectrum against the truth's (the spectral-bias picture);
//! - a discovery (`medida discover --out res.json`): discovered vs expected coefficients with
//!   intervals (two posterior standard deviations of the RVM, or the ensemble's 5-95% quantiles),
//!   and the threshold sweep (residual vs number of terms, the chosen model marked);
//! - a closure discovery (`medida closure discover --out res.json`): held-out R^2 per layer beside
//!   the published closures (`res.json`), the forcing and its predictions mapped (`res.h5`).

use medida_data::{Frames, read_array, read_dataset_text_attr, read_text_attr};
use medida_discovery::model_error::DiscoveryReport;
use medida_discovery::model_error::discovery::Row;
use medida_discovery::regression::PathPoint;
use medida_workflow::{RunConfig, build_model};
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::colors::colormaps::DerivedColorMap;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// What can go wrong drawing.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file is not one plot reads, or a setting is out of range.
    #[error("{0}")]
    Input(String),
    /// Drawing or writing a figure failed.
    #[error("drawing {0}")]
    Draw(String),
    /// Reading the file failed.
    #[error(transparent)]
    Workflow(#[from] medida_workflow::Error),
    /// Reading the file failed.
    #[error(transparent)]
    Data(#[from] medida_data::DataError),
}

impl PlotError {
    /// Whether the error is bad input (exit code 2) rather than a failure.
    pub fn is_input(&self) -> bool {
        match self {
            Self::Input(_) => true,
            Self::Workflow(e) => e.is_input(),
            Self::Draw(_) | Self::Data(_) => false,
        }
    }
}

mod calibration;
mod closure;
mod policy;

type Result<T> = std::result::Result<T, PlotError>;

macro_rules! input_err {
    ($($arg:tt)*) => { Err(PlotError::Input(format!($($arg)*))) };
}
pub(crate) use input_err;

/// A figure's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// PNG (a bitmap, for screens and notebooks).
    #[default]
    Png,
    /// SVG (vector graphics, for papers: text stays text).
    Svg,
}

/// Where figures go: a directory and the format, which names the files (`q.png`, `q.svg`).
#[derive(Debug, Clone)]
pub(crate) struct FigureDir {
    dir: PathBuf,
    format: Format,
}

impl FigureDir {
    /// The figure `stem` in this directory, with the format's extension.
    pub(crate) fn file(&self, stem: &str) -> PathBuf {
        let ext = match self.format {
            Format::Png => "png",
            Format::Svg => "svg",
        };
        self.dir.join(format!("{stem}.{ext}"))
    }
}

/// Opens the drawing area of a `size` figure at `out` (SVG for a `.svg` path, else PNG) as
/// `$root`, with `$e` mapping its drawing errors, runs `$body` (which may use `?`) and writes the
/// file: drawn under a temporary name ([`part_of`]) and renamed when complete, so a failure (a
/// full disk) leaves no truncated figure. The body is compiled once per backend.
macro_rules! figure {
    ($out:expr, $size:expr, |$root:ident, $e:ident| $body:block) => {{
        let out: &std::path::Path = $out;
        let part = crate::part_of(out);
        let drawn = (|| -> crate::Result<()> {
            if out.extension().is_some_and(|x| x == "svg") {
                let $e = crate::draw_err(out);
                let $root = plotters::prelude::SVGBackend::new(&part, $size).into_drawing_area();
                $body
                $root.present().map_err(&$e)?;
            } else {
                let $e = crate::draw_err(out);
                let $root = plotters::prelude::BitMapBackend::new(&part, $size).into_drawing_area();
                $body
                $root.present().map_err(&$e)?;
            }
            Ok(())
        })();
        crate::publish_figure(drawn, &part, out)?;
    }};
}
pub(crate) use figure;

/// Where the figure `out` is drawn before it is complete: `.NAME.part-<pid>.EXT` beside it (the
/// extension kept: the PNG encoder goes by it).
pub(crate) fn part_of(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(Default::default, |s| s.to_string_lossy());
    let ext = out
        .extension()
        .map_or_else(Default::default, |s| s.to_string_lossy());
    out.with_file_name(format!(".{stem}.part-{}.{ext}", std::process::id()))
}

/// Moves the drawn figure `part` to `out`, or on a failure removes it and returns the error.
pub(crate) fn publish_figure(drawn: Result<()>, part: &Path, out: &Path) -> Result<()> {
    let moved = drawn.and_then(|()| {
        std::fs::rename(part, out)
            .map_err(|e| PlotError::Draw(format!("{}: rename into place: {e}", out.display())))
    });
    if moved.is_err() {
        let _ = std::fs::remove_file(part);
    }
    moved
}

/// Writes every figure `file` supports into `dir`, in `format`; returns their paths.
pub fn figures(file: &Path, dir: &Path, time: i64, format: Format) -> Result<Vec<PathBuf>> {
    if !file.exists() {
        return input_err!("{}: no such file", file.display());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| PlotError::Draw(format!("create {}: {e}", dir.display())))?;
    let dir = &FigureDir {
        dir: dir.to_path_buf(),
        format,
    };
    register_font();
    if file.extension().is_some_and(|e| e == "json") {
        let text = std::fs::read_to_string(file)
            .map_err(|e| PlotError::Input(format!("{}: {e}", file.display())))?;
        if policy::is_policy(&text) {
            return policy::policy_figures(file, &text, dir);
        }
        if calibration::is_calibration(&text) {
            return calibration::calibration_figures(file, &text, dir);
        }
        if closure::is_report(&text) {
            return closure::report_figures(file, &text, dir);
        }
        if closure::is_evaluation(&text) {
            return closure::evaluation_figures(file, &text, dir);
        }
        return discovery_figures(file, dir);
    }
    let title = read_text_attr(file, "title").map_err(|e| {
        PlotError::Input(format!(
            "{}: {e} (plot reads medida's .h5 outputs, pyqg's to_dataset() files and discovery .json)",
            file.display()
        ))
    })?;
    let cfg = RunConfig::from_toml(&medida_workflow::pyqg_file::config_text(file)?)?;
    if title.starts_with(medida_workflow::closure::MAPS_TITLE) {
        return closure::map_figures(file, dir, time, &cfg);
    }
    if title.starts_with("medida analysis increments") {
        let mut out = vec![
            field_figure(
                file,
                dir,
                ("dqdt", "increments_dqdt"),
                "increment dq/dt",
                time,
                &cfg,
            )?,
            field_figure(
                file,
                dir,
                ("q", "increments_q"),
                "analysis (start state) q",
                time,
                &cfg,
            )?,
        ];
        if read_array(file, "kr").is_ok() {
            out.push(interpolation_figure(file, dir)?);
        }
        return Ok(out);
    }
    let mut out = vec![
        field_figure(file, dir, ("q", "q"), "PV anomaly q", time, &cfg)?,
        field_figure(file, dir, ("p", "p"), "streamfunction psi", time, &cfg)?,
        spectrum_figure(file, dir, &cfg)?,
    ];
    if medida_data::read_series_time(file).is_ok_and(|t| t.len() > 1) {
        out.push(diagnostics_figure(file, dir, &cfg)?);
    }
    Ok(out)
}

fn register_font() {
    static FONT: Once = Once::new();
    FONT.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let bytes = match style {
                FontStyle::Bold => dejavu::sans::bold(),
                _ => dejavu::sans::regular(),
            };
            plotters::style::register_font("sans-serif", style, bytes)
                .unwrap_or_else(|_| unreachable!("DejaVu Sans is a valid font"));
        }
    });
}

/// Figure errors carry the file name (plotters' errors are not `Send`).
pub(crate) fn draw_err<E: std::fmt::Debug>(out: &Path) -> impl Fn(E) -> PlotError + use<E> {
    let out = out.to_path_buf();
    move |e| PlotError::Draw(format!("{}: {e:?}", out.display()))
}

/// Blue-white-red, for signed fields (symmetric range).
fn diverging() -> DerivedColorMap<RGBColor> {
    DerivedColorMap::new(&[
        RGBColor(33, 102, 172),
        RGBColor(146, 197, 222),
        RGBColor(247, 247, 247),
        RGBColor(244, 165, 130),
        RGBColor(178, 24, 43),
    ])
}

fn units(cfg: &RunConfig) -> (&'static str, bool) {
    match cfg.jet {
        Some(_) => ("", false),
        None => (" [km]", true),
    }
}

/// Dataset `field` at snapshot `time` of `file`, one panel per layer with its colour bar, into
/// `dir/name.png`.
pub(crate) fn field_figure(
    file: &Path,
    dir: &FigureDir,
    (field, name): (&str, &str),
    label: &str,
    time: i64,
    cfg: &RunConfig,
) -> Result<PathBuf> {
    let frames = Frames::open(file, field).map_err(|e| PlotError::Input(e.to_string()))?;
    let n = frames.shape()[0] as i64;
    let i = if time < 0 { n + time } else { time };
    if !(0..n).contains(&i) {
        return input_err!("--time {time}: the file has {n} snapshots");
    }
    let data = frames.read(i as usize)?;
    let t = read_array(file, "time")?[i as usize];
    let bar_label = match read_dataset_text_attr(file, field, "units") {
        Ok(u) if u != "1" && !u.is_empty() => format!("{field} [{u}]"),
        _ => field.to_string(),
    };
    let out = dir.file(name);
    let (ny, nx) = (data.shape()[1], data.shape()[2]);
    let (lx, ly) = (cfg.model.L, cfg.model.W);
    let (unit, km) = units(cfg);
    let scale = if km { 1e-3 } else { 1.0 };
    let panel_w = 520u32;
    let panel_h = ((panel_w - 150) as f64 * ly / lx).round() as u32 + 110;
    figure!(&out, (2 * panel_w, panel_h.min(1400)), |root, e| {
        root.fill(&WHITE).map_err(&e)?;
        // A margin above the title: plotters puts its top at the image's first row.
        let root = root
            .margin(8, 0, 0, 0)
            .titled(
                &format!(
                    "{label}, t = {}{}",
                    tick(t, 0.0),
                    if km { " s" } else { "" }
                ),
                ("sans-serif", 22),
            )
            .map_err(&e)?;
        let cmap = diverging();
        for (lev, area) in root.split_evenly((1, 2)).iter().enumerate() {
            let layer = data.index_axis(ndarray::Axis(0), lev);
            // NaN marks unobserved points (sparse increments): drawn grey, left out of the range.
            let vmax = robust_limit(layer.iter().copied());
            let (plot_area, bar_area) = area.split_horizontally(area.dim_in_pixel().0 - 125);
            let mut chart = ChartBuilder::on(&plot_area)
                .caption(format!("layer {}", lev + 1), ("sans-serif", 18))
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d(0.0..lx * scale, 0.0..ly * scale)
                .map_err(&e)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(6)
                .y_labels(8)
                .x_label_formatter(&|v| tick(*v, 0.0))
                .y_label_formatter(&|v| tick(*v, 0.0))
                .x_desc(format!("x{unit}"))
                .y_desc(format!("y{unit}"))
                .label_style(("sans-serif", 13))
                .draw()
                .map_err(&e)?;
            let (dx, dy) = (lx * scale / nx as f64, ly * scale / ny as f64);
            chart
                .draw_series(
                    (0..ny)
                        .flat_map(|j| (0..nx).map(move |k| (j, k)))
                        .map(|(j, k)| {
                            let v = layer[[j, k]];
                            let c = if v.is_finite() {
                                cmap.get_color_normalized(v.clamp(-vmax, vmax), -vmax, vmax)
                            } else {
                                RGBColor(215, 215, 215)
                            };
                            let (x0, y0) = (k as f64 * dx, j as f64 * dy);
                            Rectangle::new([(x0, y0), (x0 + dx, y0 + dy)], c.filled())
                        }),
                )
                .map_err(&e)?;
            colour_bar(&bar_area, &cmap, vmax, &bar_label, &out)?;
        }
    });
    // The drawing borrows `out` until the end of the function.
    Ok(out.clone())
}

/// The colour range `[-v, v]` of a signed field: the 99th percentile of `|value|` over the finite
/// values (as matplotlib's `robust=True`: a few extreme points do not wash out the rest; they
/// take the end colours).
fn robust_limit(values: impl Iterator<Item = f64>) -> f64 {
    let mut a: Vec<f64> = values.filter(|v| v.is_finite()).map(f64::abs).collect();
    if a.is_empty() {
        return 1e-300;
    }
    let k = (0.99 * (a.len() - 1) as f64).round() as usize;
    let (_, v, _) = a.select_nth_unstable_by(k, f64::total_cmp);
    v.max(1e-300)
}

/// A vertical colour bar of `cmap` over `[-vmax, vmax]`, labelled `label` (quantity and units).
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    cmap: &DerivedColorMap<RGBColor>,
    vmax: f64,
    label: &str,
    out: &Path,
) -> Result<()> {
    let e = &draw_err(out);
    let mut bar = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(48)
        .margin_left(4)
        .right_y_label_area_size(80)
        .build_cartesian_2d(0.0..1.0, -vmax..vmax)
        .map_err(e)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(5)
        .y_label_formatter(&|v| tick(*v, vmax))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(e)?;
    let steps = 100;
    bar.draw_series((0..steps).map(|s| {
        let v0 = -vmax + 2.0 * vmax * s as f64 / steps as f64;
        let v1 = v0 + 2.0 * vmax / steps as f64;
        let c = cmap.get_color_normalized(0.5 * (v0 + v1), -vmax, vmax);
        Rectangle::new([(0.0, v0), (1.0, v1)], c.filled())
    }))
    .map_err(e)?;
    // The label along the bar's right edge (read downwards: plotters mirrors text turned the
    // other way).
    let (w, h) = area.dim_in_pixel();
    let style = ("sans-serif", 14)
        .into_font()
        .transform(FontTransform::Rotate270)
        .into_text_style(area)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        label.to_string(),
        (w as i32 - 12, (h as i32 + 40 - 48) / 2 + 20),
        style,
    ))
    .map_err(e)?;
    Ok(())
}

/// Line and bar colours, told apart in print: black first (the reference curve), then
/// Tableau's ten.
pub(crate) const PALETTE: [RGBColor; 11] = [
    BLACK,
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A count's tick label: the whole number, or nothing between whole numbers.
fn whole(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v.round())
    } else {
        String::new()
    }
}

/// Ticks of a log axis on `[lo, hi]`: 1, 2 and 5 times the powers of ten inside it over up to
/// three decades, the powers alone over more (plotters' own put the powers alone, none on a
/// range shorter than a decade, and its light lines' labels collide at the powers).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (p0, p1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mantissas: &[f64] = if p1 - p0 <= 3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    (p0..=p1)
        .flat_map(|p| mantissas.iter().map(move |m| m * 10f64.powi(p)))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// A tick label: plain with up to 3 significant digits between 0.01 and 10^4, else exponent form;
/// 0 for values below 1e-9 of the axis' `range` (round-off of a tick at zero).
pub(crate) fn tick(v: f64, range: f64) -> String {
    let a = v.abs();
    if a <= 1e-9 * range || a == 0.0 {
        "0".into()
    } else if (1e-2..1e4).contains(&a) {
        three_digits(v)
    } else {
        format!("{v:.1e}")
    }
}

/// `v` in plain notation with 3 significant digits, trailing zeros dropped (for `|v|` from 1e-3
/// to 1e4; smaller values print as 0).
pub(crate) fn three_digits(v: f64) -> String {
    let digits = (2 - v.abs().max(1e-3).log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Log-log KE spectrum per layer, time mean over the snapshots (pyqg's calc_ispec).
fn spectrum_figure(file: &Path, dir: &FigureDir, cfg: &RunConfig) -> Result<PathBuf> {
    let frames = Frames::open(file, "q").map_err(|e| PlotError::Input(e.to_string()))?;
    let mut model = build_model(cfg)?;
    let n = frames.shape()[0];
    let mut mean: Option<medida_solver::diagnostics::IsotropicSpectrum> = None;
    for i in 0..n {
        model
            .set_q(frames.read(i)?.view())
            .map_err(|e| PlotError::Input(format!("{}: {e}", file.display())))?;
        let s = model.ke_spectrum();
        match &mut mean {
            None => mean = Some(s),
            Some(m) => {
                for (lev, acc) in m.layer.iter_mut().enumerate() {
                    acc.iter_mut().zip(&s.layer[lev]).for_each(|(a, b)| *a += b);
                }
            }
        }
    }
    let mut s = mean.ok_or_else(|| PlotError::Input("the run has no snapshots".into()))?;
    s.layer
        .iter_mut()
        .for_each(|l| l.iter_mut().for_each(|v| *v /= n as f64));
    let (unit, _) = units(cfg);
    let series: Vec<(String, Vec<(f64, f64)>)> = (0..2)
        .map(|lev| {
            let pts =
                s.kr.iter()
                    .zip(&s.layer[lev])
                    .filter(|(k, v)| **k > 0.0 && **v > 0.0)
                    .map(|(k, v)| (*k, *v))
                    .collect();
            (format!("layer {}", lev + 1), pts)
        })
        .collect();
    let out = dir.file("spectrum");
    line_figure(
        &out,
        &format!("isotropic KE spectrum, mean over {n} snapshots"),
        &format!("wavenumber{}", if unit.is_empty() { "" } else { " [1/m]" }),
        "KE density",
        &series,
        crate::Axes::LogLog,
    )?;
    Ok(out)
}

/// The analysis error spectrum against the truth's, per layer, time mean (sparse observations).
fn interpolation_figure(file: &Path, dir: &FigureDir) -> Result<PathBuf> {
    let kr = read_array(file, "kr")?;
    let mean = |name: &str, lev: usize| -> Result<Vec<f64>> {
        let a = read_array(file, name)?;
        let nt = a.shape()[0] as f64;
        Ok((0..kr.len())
            .map(|k| (0..a.shape()[0]).map(|t| a[[t, lev, k]]).sum::<f64>() / nt)
            .collect())
    };
    let mut series = Vec::new();
    for lev in 0..2 {
        for (name, what) in [
            ("truth_spectrum", "truth"),
            ("error_spectrum", "analysis error"),
        ] {
            let v = mean(name, lev)?;
            let pts = kr
                .iter()
                .zip(&v)
                .filter(|(k, v)| **k > 0.0 && v.is_finite() && **v > 0.0)
                .map(|(k, v)| (*k, *v))
                .collect();
            series.push((format!("{what}, layer {}", lev + 1), pts));
        }
    }
    let interp = read_text_attr(file, "interpolator").unwrap_or_default();
    let short = interp.split(" (").next().unwrap_or("");
    let out = dir.file("interpolation");
    line_figure(
        &out,
        &format!("{short}: error spectrum of the analysis"),
        "wavenumber",
        "PV variance density",
        &series,
        crate::Axes::LogLog,
    )?;
    Ok(out)
}

/// Energy and enstrophy time series from the `diagnostics` group.
fn diagnostics_figure(file: &Path, dir: &FigureDir, cfg: &RunConfig) -> Result<PathBuf> {
    let t = medida_data::read_series_time(file)?;
    let get = |name: &str| -> Result<Vec<(f64, f64)>> {
        let v = read_array(file, &format!("diagnostics/{name}"))?;
        Ok(t.iter().zip(v.iter()).map(|(t, v)| (*t, *v)).collect())
    };
    let series = vec![
        ("KE".to_string(), get("ke")?),
        ("APE".to_string(), get("ape")?),
        ("total energy".to_string(), get("energy")?),
    ];
    let out = dir.file("diagnostics");
    let (time, energy) = match cfg.jet {
        Some(_) => ("time", "energy"),
        None => ("time [s]", "energy [m^2/s^2]"),
    };
    line_figure(
        &out,
        "energy budget",
        time,
        energy,
        &series,
        crate::Axes::Linear,
    )?;
    Ok(out)
}

/// The series legend, in every figure's style.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
}

/// The axes of a line figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axes {
    /// Both linear.
    Linear,
    /// Both logarithmic.
    LogLog,
    /// Linear x, logarithmic y (densities with their tails).
    LogY,
}

/// Lines with a legend, on `axes`, into `out`.
fn line_figure(
    out: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[(String, Vec<(f64, f64)>)],
    axes: Axes,
) -> Result<()> {
    // x values that are all whole numbers are counts (iterations, episodes): whole labels only.
    let counts = series
        .iter()
        .flat_map(|(_, p)| p.iter())
        .all(|(x, _)| x.fract() == 0.0);
    let pts = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in pts {
        (x0, x1, y0, y1) = (x0.min(*x), x1.max(*x), y0.min(*y), y1.max(*y));
    }
    if x0 >= x1 {
        x1 = x0 + 1.0;
    }
    if y0 >= y1 {
        y1 = y0 + y0.abs().max(1.0);
    }
    figure!(out, (900, 600), |root, e| {
        root.fill(&WHITE).map_err(&e)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(xlabel)
                    .y_desc(ylabel)
                    .x_labels(8)
                    .x_label_formatter(&|v| if counts { whole(*v) } else { tick(*v, 0.0) })
                    .y_label_formatter(&|v| tick(*v, 0.0))
                    .label_style(("sans-serif", 14))
                    .draw()
                    .map_err(&e)?;
                for ((name, p), c) in series.iter().zip(PALETTE.iter().cycle()) {
                    let c = *c;
                    chart
                        .draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2)))
                        .map_err(&e)?
                        .label(name.as_str())
                        .legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2))
                        });
                }
                legend(&mut chart, SeriesLabelPosition::MiddleRight).map_err(&e)?;
            }};
        }
        if axes == Axes::LogLog {
            draw!(
                builder
                    .build_cartesian_2d(
                        (x0..x1).log_scale().with_key_points(log_ticks(x0, x1)),
                        (y0..y1).log_scale().with_key_points(log_ticks(y0, y1))
                    )
                    .map_err(&e)?
            );
        } else if axes == Axes::LogY {
            draw!(
                builder
                    .build_cartesian_2d(
                        x0..x1,
                        (y0..y1).log_scale().with_key_points(log_ticks(y0, y1))
                    )
                    .map_err(&e)?
            );
        } else {
            let pad = 0.05 * (y1 - y0);
            draw!(
                builder
                    .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
                    .map_err(&e)?
            );
        }
    });
    Ok(())
}

fn discovery_figures(file: &Path, dir: &FigureDir) -> Result<Vec<PathBuf>> {
    let report = medida_workflow::discover::read_report(file)?;
    let mut out = vec![coefficients_figure(&report, dir)?];
    if report.path.is_some() {
        out.push(sweep_figure(&report, dir)?);
    }
    Ok(out)
}

/// Discovered and expected coefficient per (layer, term), with intervals.
fn coefficients_figure(v: &DiscoveryReport, dir: &FigureDir) -> Result<PathBuf> {
    let rows = &v.table;
    // Interval: 2 posterior std (RVM) or the ensemble's 5-95% quantiles.
    let interval = |r: &Row| -> Option<(f64, f64)> {
        let d = r.discovered;
        if let Some(s) = r.std.filter(|s| *s > 0.0) {
            return Some((d - 2.0 * s, d + 2.0 * s));
        }
        let j = v.fit.terms.iter().position(|t| *t == r.term)?;
        let q = &v.ensemble.as_ref()?.quantiles;
        let at = |k: usize| q.get([k, r.layer - 1, j]).copied();
        Some((at(0)?, at(2)?))
    };
    let out = dir.file("coefficients");
    let n = rows.len().max(1);
    figure!(&out, ((140 * n as u32).clamp(600, 1800), 600), |root, e| {
        root.fill(&WHITE).map_err(&e)?;
        let vals: Vec<f64> = rows
            .iter()
            .flat_map(|r| [r.discovered, r.expected])
            .chain(rows.iter().filter_map(&interval).flat_map(|(a, b)| [a, b]))
            .collect();
        let lo = vals.iter().copied().fold(0.0, f64::min);
        let hi = vals.iter().copied().fold(0.0, f64::max);
        let pad = 0.1 * (hi - lo).max(1e-12);
        let case = v.case.as_deref().unwrap_or("model error");
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{case}: discovered (blue, with 2 std or 5-95% bars) and expected (grey)"),
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(70)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..n as f64, (lo - pad)..(hi + pad))
            .map_err(&e)?;
        let labels: Vec<String> = rows
            .iter()
            .map(|r| format!("L{} {}", r.layer, r.term))
            .collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_label_formatter(&|v| tick(*v, hi - lo))
            .y_desc("coefficient")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(&e)?;
        for (i, r) in rows.iter().enumerate() {
            let x = i as f64;
            if r.expected != 0.0 {
                let ex = r.expected;
                chart
                    .draw_series([Rectangle::new(
                        [(x + 0.15, 0.0), (x + 0.48, ex)],
                        RGBColor(160, 160, 160).filled(),
                    )])
                    .map_err(&e)?;
            }
            if r.discovered != 0.0 {
                let d = r.discovered;
                chart
                    .draw_series([Rectangle::new(
                        [(x + 0.52, 0.0), (x + 0.85, d)],
                        BLUE.filled(),
                    )])
                    .map_err(&e)?;
            }
            let (px, py) = chart.backend_coord(&(x + 0.5, lo - pad));
            root.draw(&Text::new(
                labels[i].clone(),
                (px, py + 12),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(&e)?;
            if let Some((a, b)) = interval(r) {
                chart
                    .draw_series([PathElement::new(
                        [(x + 0.685, a), (x + 0.685, b)],
                        BLACK.stroke_width(2),
                    )])
                    .map_err(&e)?;
            }
        }
    });
    // The drawing borrows `out` until the end of the function.
    Ok(out.clone())
}

/// Relative residual against the number of terms along the sweep, per layer; chosen marked.
fn sweep_figure(v: &DiscoveryReport, dir: &FigureDir) -> Result<PathBuf> {
    let path = v.path.clone().unwrap_or_default();
    let yty = &v.yty;
    let chosen = v.chosen.clone().unwrap_or_default();
    let out = dir.file("sweep");
    figure!(&out, (900, 600), |root, e| {
        root.fill(&WHITE).map_err(&e)?;
        let point = |p: &PathPoint, i: usize| -> Option<(f64, f64)> {
            let k = *p.complexity.get(i)? as f64;
            let r = p.rss.get(i)? / yty.get(i).copied().filter(|y| *y > 0.0)?;
            Some((k, r.max(1e-30)))
        };
        let mut series: Vec<Vec<(f64, f64)>> = vec![Vec::new(), Vec::new()];
        for p in &path {
            for (i, s) in series.iter_mut().enumerate() {
                s.extend(point(p, i));
            }
        }
        let all: Vec<&(f64, f64)> = series.iter().flatten().collect();
        let kmax = all.iter().map(|p| p.0).fold(1.0, f64::max);
        let rmin = all.iter().map(|p| p.1).fold(1.0, f64::min);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "threshold sweep: residual / |increment|^2 vs number of terms",
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..kmax + 0.5, (rmin * 0.5..2.0).log_scale())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("number of terms")
            // A count: labels at whole numbers only.
            .x_labels((kmax as usize + 2).min(12))
            .x_label_formatter(&|v| whole(*v))
            .y_desc("relative residual")
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(&e)?;
        for (i, (s, c)) in series.iter().zip([BLUE, RED]).enumerate() {
            chart
                .draw_series(s.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(&e)?
                .label(format!("layer {}", i + 1))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
            if let Some(p) = chosen
                .get(i)
                .and_then(|&k| path.get(k))
                .and_then(|p| point(p, i))
            {
                chart
                    .draw_series([Circle::new(p, 10, c.stroke_width(2))])
                    .map_err(&e)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::MiddleRight).map_err(&e)?;
    });
    // The drawing borrows `out` until the end of the function.
    Ok(out.clone())
}

#[cfg(test)]
mod tests {
    use super::whole;

    #[test]
    fn count_labels_are_whole_numbers_or_nothing() {
        assert_eq!(whole(3.0), "3");
        assert_eq!(whole(2.9999999999), "3");
        assert_eq!(whole(2.5), "");
        assert_eq!(whole(-0.5), "");
    }
}

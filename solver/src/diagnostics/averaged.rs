//! pyqg's time-averaged diagnostics (`QGModel` 0.7.2: `model.py`, `qg_model.py`,
//! `qg_diagnostics.py`): the 18 spectra and means a pyqg run accumulates from `tavestart` on
//! (and `ENSparamspec`, the parameterization's enstrophy contribution, pyqg's later addition),
//! every `taveints = ceil(taveint / dt)` steps, each from the state at the start of a step and that
//! step's tendency, as `_increment_diagnostics` computes them. [`Averages::get`] is pyqg's
//! `get_diagnostic` (sum / count), in pyqg's layout: `(lev, l, k)`, `(l, k)`, `(lev)` or a scalar.
//!
//! `M = nx ny`; `del1 = H1/H`, `del2 = H2/H`; `S = [[-F1, F1], [F2, -F2]]`; `a` the inversion
//! (`psi_hat = a q_hat`). Signs are pyqg's: `KEflux`, `APEflux`, `ENSflux` are the transfer into
//! each wavenumber; `paramspec*` is what the parameterization (the terms named in
//! [`Averaging::parameterization`], added to dq/dt) contributes; `rek` is the coefficient of the
//! term `bottom_drag`.

use crate::Complex64;
use crate::error::{SolverError, invalid};
use crate::eval::{Evaluator, SpectralState};
use crate::model::{Model, NZ};
use crate::params::Stepper;
use crate::spectral::Workspace;
use ndarray::{ArrayD, IxDyn};
use std::borrow::Cow;

/// How a diagnostic is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Per layer and wavenumber, `(lev, l, k)`.
    LevSpectrum,
    /// Per wavenumber, `(l, k)`.
    Spectrum,
    /// Per layer, `(lev)`.
    Lev,
    /// One number.
    Scalar,
}

impl Layout {
    /// pyqg's dimension names.
    pub fn dims(self) -> &'static [&'static str] {
        match self {
            Self::LevSpectrum => &["lev", "l", "k"],
            Self::Spectrum => &["l", "k"],
            Self::Lev => &["lev"],
            Self::Scalar => &[],
        }
    }
}

/// One of pyqg's diagnostics: its name, layout, units and description (pyqg's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Diagnostic {
    /// pyqg's name.
    pub name: &'static str,
    /// Its layout.
    pub layout: Layout,
    /// Units.
    pub units: &'static str,
    /// pyqg's description.
    pub description: &'static str,
}

const fn diag(
    name: &'static str,
    layout: Layout,
    units: &'static str,
    description: &'static str,
) -> Diagnostic {
    Diagnostic {
        name,
        layout,
        units,
        description,
    }
}

/// pyqg 0.7.2 `QGModel`'s 18 diagnostics, in the order of its `describe_diagnostics()`, and
/// medida's `ENSparamspec` (the parameterization's enstrophy contribution, which pyqg 0.7.2
/// lacks).
pub const DIAGNOSTICS: [Diagnostic; 19] = [
    diag("Ensspec", Layout::LevSpectrum, "s^-2", "enstrophy spectrum"),
    diag(
        "KEspec",
        Layout::LevSpectrum,
        "m^2 s^-2",
        "kinetic energy spectrum",
    ),
    diag(
        "EKEdiss",
        Layout::Scalar,
        "m^2 s^-3",
        "total energy dissipation by bottom drag",
    ),
    diag(
        "KEfrictionspec",
        Layout::Spectrum,
        "m^2 s^-3",
        "total energy dissipation spectrum by bottom drag",
    ),
    diag("EKE", Layout::Lev, "m^2 s^-2", "mean eddy kinetic energy"),
    diag(
        "Dissspec",
        Layout::Spectrum,
        "m^2 s^-3",
        "Spectral contribution of filter dissipation to total energy",
    ),
    diag(
        "ENSDissspec",
        Layout::Spectrum,
        "s^-3",
        "Spectral contribution of filter dissipation to barotropic enstrophy",
    ),
    diag(
        "paramspec",
        Layout::Spectrum,
        "m^2 s^-3",
        "Spectral contribution of subgrid parameterization (if present)",
    ),
    diag(
        "entspec",
        Layout::Spectrum,
        "m s^-2",
        "barotropic enstrophy spectrum",
    ),
    diag(
        "paramspec_APEflux",
        Layout::Spectrum,
        "m^2 s^-3",
        "total additional APE flux due to subgrid parameterization",
    ),
    diag(
        "paramspec_KEflux",
        Layout::Spectrum,
        "m^2 s^-3",
        "total additional KE flux due to subgrid parameterization",
    ),
    diag(
        "ENSflux",
        Layout::Spectrum,
        "s^-3",
        "barotropic enstrophy flux",
    ),
    diag(
        "ENSgenspec",
        Layout::Spectrum,
        "s^-3",
        "the spectrum of the rate of generation of barotropic enstrophy",
    ),
    diag(
        "ENSfrictionspec",
        Layout::Spectrum,
        "s^-3",
        "the spectrum of the rate of dissipation of barotropic enstrophy due to bottom friction",
    ),
    diag(
        "APEgenspec",
        Layout::Spectrum,
        "m^2 s^-3",
        "the spectrum of the rate of generation of available potential energy",
    ),
    diag(
        "APEflux",
        Layout::Spectrum,
        "m^2 s^-3",
        "spectral flux of available potential energy",
    ),
    diag(
        "KEflux",
        Layout::Spectrum,
        "m^2 s^-3",
        "spectral flux of kinetic energy",
    ),
    diag(
        "APEgen",
        Layout::Scalar,
        "m^2 s^-3",
        "total available potential energy generation",
    ),
    diag(
        "ENSparamspec",
        Layout::Spectrum,
        "s^-3",
        "Spectral contribution of subgrid parameterization to barotropic enstrophy (medida; not in pyqg 0.7.2)",
    ),
];

/// When and what to average.
#[derive(Debug, Clone, PartialEq)]
pub struct Averaging {
    /// Accumulate from this model time on [s] (pyqg `tavestart`).
    pub tavestart: f64,
    /// Interval between accumulations [s] (pyqg `taveint`; every `ceil(taveint / dt)` steps).
    pub taveint: f64,
    /// The terms that are the parameterization, for `paramspec*` (none: zero).
    pub parameterization: Vec<String>,
}

/// Accumulated sums of pyqg's diagnostics; see the module documentation.
#[derive(Debug, Clone)]
pub struct Averages {
    settings: Averaging,
    taveints: u64,
    count: u64,
    /// Per entry of [`DIAGNOSTICS`]: the sum, spectra k-major and layer after layer.
    sums: Vec<Vec<f64>>,
    /// Whether the filter's dissipation (`Dissspec`, `ENSDissspec`) is defined: AB3 only.
    dissipation: bool,
    eval: Evaluator,
    ws: Workspace,
}

/// The part of a model a diagnostic step reads: the state at the start of the step and the
/// tendencies (this step's and the AB3 history), k-major.
pub(crate) struct StepView<'a> {
    pub qh: [Cow<'a, [Complex64]>; NZ],
    pub ph: [Cow<'a, [Complex64]>; NZ],
    pub dqhdt: [Cow<'a, [Complex64]>; NZ],
    pub dqhdt_p: [Cow<'a, [Complex64]>; NZ],
    pub dqhdt_pp: [Cow<'a, [Complex64]>; NZ],
    pub ablevel: u8,
}

impl Averages {
    /// Empty sums for `model`; an error when a setting is out of range or a parameterization
    /// term is not one of the model's.
    pub fn new(model: &Model, settings: Averaging) -> Result<Self, SolverError> {
        if !settings.tavestart.is_finite() || settings.tavestart < 0.0 {
            return Err(invalid("tavestart", settings.tavestart, "a time >= 0 s"));
        }
        if !(settings.taveint.is_finite() && settings.taveint > 0.0) {
            return Err(invalid("taveint", settings.taveint, "a time > 0 s"));
        }
        for name in &settings.parameterization {
            if model.coefficient(name).is_none() {
                return Err(SolverError::Term {
                    name: name.clone(),
                    reason: "named as the parameterization but not a term of the model".into(),
                });
            }
        }
        let n = model.grid().n_spec();
        let sums = DIAGNOSTICS
            .iter()
            .map(|d| match d.layout {
                Layout::LevSpectrum => vec![0.0; NZ * n],
                Layout::Spectrum => vec![0.0; n],
                Layout::Lev => vec![0.0; NZ],
                Layout::Scalar => vec![0.0; 1],
            })
            .collect();
        Ok(Self {
            taveints: (settings.taveint / model.params().dt).ceil().max(1.0) as u64,
            settings,
            count: 0,
            sums,
            dissipation: model.params().stepper == Stepper::Ab3,
            eval: model.evaluator(),
            ws: model.spectral().workspace(),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &Averaging {
        &self.settings
    }

    /// Accumulations so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the step `model` takes next accumulates (pyqg: `t >= dt`, `t >= tavestart` and
    /// `tc % taveints == 0`, at the start of the step).
    pub fn due(&self, model: &Model) -> bool {
        let t = model.t();
        t >= model.params().dt
            && t >= self.settings.tavestart
            && model.tc().is_multiple_of(self.taveints)
    }

    /// The diagnostics this run has: all of [`DIAGNOSTICS`], but the filter's dissipation only
    /// with AB3.
    pub fn available(&self) -> impl Iterator<Item = &'static Diagnostic> + '_ {
        DIAGNOSTICS
            .iter()
            .filter(|d| self.dissipation || !matches!(d.name, "Dissspec" | "ENSDissspec"))
    }

    /// The average of diagnostic `name` (pyqg's `get_diagnostic`), in pyqg's layout; `None` before
    /// the first accumulation or for a name this run does not have.
    pub fn get(&self, name: &str) -> Option<ArrayD<f64>> {
        let i = DIAGNOSTICS.iter().position(|d| d.name == name)?;
        let d = &DIAGNOSTICS[i];
        if self.count == 0 || !self.available().any(|a| a.name == name) {
            return None;
        }
        let c = self.count as f64;
        let sum = &self.sums[i];
        let (nk, nl) = (
            self.eval.spectral().grid().nk(),
            self.eval.spectral().grid().nl(),
        );
        let n = nk * nl;
        // k-major to pyqg's (l, k).
        let pyqg = |s: &[f64]| -> Vec<f64> {
            (0..nl)
                .flat_map(|il| (0..nk).map(move |ik| s[ik * nl + il]))
                .collect()
        };
        let (shape, values): (Vec<usize>, Vec<f64>) = match d.layout {
            Layout::LevSpectrum => (
                vec![NZ, nl, nk],
                (0..NZ)
                    .flat_map(|z| pyqg(&sum[z * n..(z + 1) * n]))
                    .collect(),
            ),
            Layout::Spectrum => (vec![nl, nk], pyqg(sum)),
            Layout::Lev => (vec![NZ], sum.clone()),
            Layout::Scalar => (vec![], sum.clone()),
        };
        let values = values.into_iter().map(|v| v / c).collect();
        Some(ArrayD::from_shape_vec(IxDyn(&shape), values).expect("the layout's size"))
    }

    /// The raw sums and count, for a checkpoint (see [`Averages::restore`]).
    pub fn sums(&self) -> (u64, &[Vec<f64>]) {
        (self.count, &self.sums)
    }

    /// Continues from sums and a count taken by [`Averages::sums`] from averages of the same
    /// model and settings.
    pub fn restore(&mut self, count: u64, sums: Vec<Vec<f64>>) -> Result<(), SolverError> {
        let fits = sums.len() == self.sums.len()
            && sums.iter().zip(&self.sums).all(|(a, b)| a.len() == b.len());
        if !fits {
            return Err(invalid(
                "averages",
                "sums of another grid",
                "the sums of averages of this model",
            ));
        }
        (self.count, self.sums) = (count, sums);
        Ok(())
    }

    /// Adds the diagnostics of one step of `model`, seen through `v`.
    pub(crate) fn accumulate(&mut self, model: &Model, v: &StepView) {
        let p = model.params();
        let grid = model.grid();
        let spectral = model.spectral();
        let (k, l) = (spectral.k(), spectral.l());
        let n = grid.n_spec();
        let m2 = (grid.n_phys() as f64).powi(2);
        let [h1, h2] = p.hi();
        let h = p.h();
        let hi = [h1, h2];
        let (del1, del2) = (h1 / h, h2 / h);
        let (f1, f2) = (p.f1(), p.f2());
        let wv2 = grid.wv2();
        let rek = model.coefficient("bottom_drag").unwrap_or(0.0);
        let ubg = model.background_flow();
        let qy = model.qy();
        let a = &spectral.inversion().a;
        // S psi_hat per layer.
        let sph: [Vec<Complex64>; NZ] = [
            (0..n).map(|i| (v.ph[1][i] - v.ph[0][i]) * f1).collect(),
            (0..n).map(|i| (v.ph[0][i] - v.ph[1][i]) * f2).collect(),
        ];
        // Anomaly velocities on the grid (pyqg's u, v of the step).
        let mut vel = |lev: usize| {
            let mut u = vec![0.0; grid.n_phys()];
            let mut w = vec![0.0; grid.n_phys()];
            let uh: Vec<Complex64> = (0..n)
                .map(|i| Complex64::new(l[i] * v.ph[lev][i].im, -l[i] * v.ph[lev][i].re))
                .collect();
            let vh: Vec<Complex64> = (0..n)
                .map(|i| Complex64::new(-k[i] * v.ph[lev][i].im, k[i] * v.ph[lev][i].re))
                .collect();
            self.ws.fft.inverse(&uh, &mut u);
            self.ws.fft.inverse(&vh, &mut w);
            (u, w)
        };
        let uv = [vel(0), vel(1)];
        let mean = |f: &[f64]| f.iter().sum::<f64>() / f.len() as f64;
        let param = self.parameterization(model, v);
        // a dq_param and S a dq_param.
        let a_param: [Vec<Complex64>; NZ] = std::array::from_fn(|i| {
            (0..n)
                .map(|j| param[0][j] * a[i][0][j] + param[1][j] * a[i][1][j])
                .collect()
        });
        let sa_param: [Vec<Complex64>; NZ] = [
            (0..n)
                .map(|j| (a_param[1][j] - a_param[0][j]) * f1)
                .collect(),
            (0..n)
                .map(|j| (a_param[0][j] - a_param[1][j]) * f2)
                .collect(),
        ];
        // Jacobians as pyqg's `_advect(f, u, v) = ik FFT(u f) + il FFT(v f)`.
        let jq: [Vec<Complex64>; NZ] =
            std::array::from_fn(|z| spectral.jacobian(&mut self.ws, &v.ph[z], &v.qh[z]));
        let xi: [Vec<Complex64>; NZ] =
            std::array::from_fn(|z| (0..n).map(|i| v.ph[z][i] * -wv2[i]).collect());
        let jpxi: [Vec<Complex64>; NZ] =
            std::array::from_fn(|z| spectral.jacobian(&mut self.ws, &v.ph[z], &xi[z]));
        let pt: Vec<Complex64> = (0..n)
            .map(|i| v.ph[0][i] * del1 + v.ph[1][i] * del2)
            .collect();
        let pc: Vec<Complex64> = (0..n).map(|i| v.ph[0][i] - v.ph[1][i]).collect();
        let jptpc: Vec<Complex64> = spectral
            .jacobian(&mut self.ws, &pt, &pc)
            .into_iter()
            .map(|j| -j)
            .collect();
        let filtr = [model.update_filter(0), model.update_filter(1)];
        let dts = match v.ablevel {
            0 => [p.dt, 0.0, 0.0],
            1 => [1.5 * p.dt, -0.5 * p.dt, 0.0],
            _ => [23.0 / 12.0 * p.dt, -16.0 / 12.0 * p.dt, 5.0 / 12.0 * p.dt],
        };
        let diss = |z: usize, i: usize| {
            (v.qh[z][i]
                + v.dqhdt[z][i] * dts[0]
                + v.dqhdt_p[z][i] * dts[1]
                + v.dqhdt_pp[z][i] * dts[2])
                * (filtr[z][i] - 1.0)
        };
        let re_conj = |a: Complex64, b: Complex64| (a.conj() * b).re;
        let i1 = Complex64::new(0.0, 1.0);
        for (d, sum) in DIAGNOSTICS.iter().zip(self.sums.iter_mut()) {
            let spectrum = |f: &dyn Fn(usize) -> f64, sum: &mut [f64]| {
                sum.iter_mut().enumerate().for_each(|(i, s)| *s += f(i))
            };
            match d.name {
                "Ensspec" => (0..NZ).for_each(|z| {
                    spectrum(
                        &|i| v.qh[z][i].norm_sqr() / m2,
                        &mut sum[z * n..(z + 1) * n],
                    )
                }),
                "KEspec" => (0..NZ).for_each(|z| {
                    spectrum(
                        &|i| wv2[i] * v.ph[z][i].norm_sqr() / m2,
                        &mut sum[z * n..(z + 1) * n],
                    )
                }),
                "EKEdiss" => {
                    let (u, w) = &uv[1];
                    let ke: Vec<f64> = u.iter().zip(w).map(|(u, w)| w * w + u * u).collect();
                    sum[0] += h2 / h * rek * mean(&ke);
                }
                "KEfrictionspec" => spectrum(
                    &|i| -rek * h2 / h * wv2[i] * v.ph[1][i].norm_sqr() / m2,
                    sum,
                ),
                "EKE" => (0..NZ).for_each(|z| {
                    let (u, w) = &uv[z];
                    let ke: Vec<f64> = u.iter().zip(w).map(|(u, w)| w * w + u * u).collect();
                    sum[z] += 0.5 * mean(&ke);
                }),
                "Dissspec" if self.dissipation => spectrum(
                    &|i| {
                        -(0..NZ)
                            .map(|z| hi[z] * re_conj(v.ph[z][i], diss(z, i)))
                            .sum::<f64>()
                            / h
                            / p.dt
                            / m2
                    },
                    sum,
                ),
                "ENSDissspec" if self.dissipation => spectrum(
                    &|i| {
                        (0..NZ)
                            .map(|z| hi[z] * re_conj(v.qh[z][i], diss(z, i)))
                            .sum::<f64>()
                            / h
                            / p.dt
                            / m2
                    },
                    sum,
                ),
                "paramspec" => spectrum(
                    &|i| {
                        -(0..NZ)
                            .map(|z| hi[z] / h * re_conj(v.ph[z][i], param[z][i]))
                            .sum::<f64>()
                            / m2
                    },
                    sum,
                ),
                "entspec" => spectrum(
                    &|i| ((v.qh[0][i] * h1 + v.qh[1][i] * h2) / h).norm_sqr() / m2,
                    sum,
                ),
                "paramspec_APEflux" => spectrum(
                    &|i| {
                        -(0..NZ)
                            .map(|z| hi[z] / h * re_conj(v.ph[z][i], sa_param[z][i]))
                            .sum::<f64>()
                            / m2
                    },
                    sum,
                ),
                "paramspec_KEflux" => spectrum(
                    &|i| {
                        wv2[i]
                            * (0..NZ)
                                .map(|z| hi[z] / h * re_conj(v.ph[z][i], a_param[z][i]))
                                .sum::<f64>()
                            / m2
                    },
                    sum,
                ),
                "ENSflux" => spectrum(
                    &|i| {
                        (0..NZ)
                            .map(|z| -hi[z] * re_conj(v.qh[z][i], jq[z][i]))
                            .sum::<f64>()
                            / h
                            / m2
                    },
                    sum,
                ),
                "ENSgenspec" => spectrum(
                    &|i| {
                        (0..NZ)
                            .map(|z| {
                                let ikqy = i1 * k[i] * qy[z];
                                hi[z] * (-ikqy * sph[z][i].conj() * v.ph[z][i]).re
                            })
                            .sum::<f64>()
                            / h
                            / m2
                    },
                    sum,
                ),
                "ENSfrictionspec" => spectrum(
                    &|i| rek * h2 / h * wv2[i] * re_conj(v.qh[1][i], v.ph[1][i]) / m2,
                    sum,
                ),
                "APEgenspec" => spectrum(
                    &|i| {
                        (0..NZ)
                            .map(|z| {
                                hi[z] * ubg[z] * k[i] * (i1 * v.ph[z][i].conj() * sph[z][i]).re
                            })
                            .sum::<f64>()
                            / h
                            / m2
                    },
                    sum,
                ),
                "APEflux" => spectrum(
                    &|i| p.rd.powi(-2) * del1 * del2 * (pc[i] * jptpc[i].conj()).re / m2,
                    sum,
                ),
                "KEflux" => spectrum(
                    &|i| {
                        ((v.ph[0][i] * del1 * jpxi[0][i].conj()).re
                            + (v.ph[1][i] * del2 * jpxi[1][i].conj()).re)
                            / m2
                    },
                    sum,
                ),
                "APEgen" => sum[0] += ape_gen(model, v, del1, del2),
                "ENSparamspec" => spectrum(
                    &|i| {
                        (0..NZ)
                            .map(|z| hi[z] / h * re_conj(v.qh[z][i], param[z][i]))
                            .sum::<f64>()
                            / m2
                    },
                    sum,
                ),
                _ => {}
            }
        }
        self.count += 1;
    }

    /// The parameterization's tendency, spectral per layer (zero without one).
    fn parameterization(&mut self, model: &Model, v: &StepView) -> [Vec<Complex64>; NZ] {
        let n = model.grid().n_spec();
        let mut out = [vec![Complex64::default(); n], vec![Complex64::default(); n]];
        if self.settings.parameterization.is_empty() {
            return out;
        }
        let state = SpectralState {
            qh: [v.qh[0].to_vec(), v.qh[1].to_vec()],
            ph: [v.ph[0].to_vec(), v.ph[1].to_vec()],
        };
        // The coefficient fields as the model has them now (a policy changes them as it runs).
        for (lev, c) in model.coefficient_fields().iter().enumerate() {
            self.eval.set_coefficient_field(lev, c.clone());
        }
        for t in model
            .terms()
            .iter()
            .filter(|t| self.settings.parameterization.iter().any(|n| n == t.name()))
        {
            for (lev, layer) in t.shape().iter().enumerate() {
                for (f, e) in layer {
                    let h = self
                        .eval
                        .spectrum(e, &state)
                        .expect("the model's terms evaluate");
                    let w = t.coefficient * f;
                    out[lev].iter_mut().zip(&h).for_each(|(o, h)| *o += h * w);
                }
            }
        }
        out
    }
}

/// pyqg's `APEgen`: `U rd^-2 del1 del2 Re[sum(ik (del1 ph1 + del2 ph2) conj(ph1 - ph2)) +
/// the same over the columns k[1:-2]] / M^2`, `U = U1 - U2` (pyqg's sum leaves out the column
/// before the last; kept as pyqg computes it).
fn ape_gen(model: &Model, v: &StepView, del1: f64, del2: f64) -> f64 {
    let grid = model.grid();
    let (nk, nl) = (grid.nk(), grid.nl());
    let m2 = (grid.n_phys() as f64).powi(2);
    let [u1, u2] = model.background_flow();
    let k = model.spectral().k();
    let term = |i: usize| {
        let pt = v.ph[0][i] * del1 + v.ph[1][i] * del2;
        let pc = v.ph[0][i] - v.ph[1][i];
        (Complex64::new(0.0, k[i]) * pt * pc.conj()).re
    };
    let all: f64 = (0..nk * nl).map(term).sum();
    let inner: f64 = (1..nk.saturating_sub(2))
        .flat_map(|ik| (0..nl).map(move |il| ik * nl + il))
        .map(term)
        .sum();
    (u1 - u2) * model.params().rd.powi(-2) * del1 * del2 * (all + inner) / m2
}

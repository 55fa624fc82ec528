//! Analyses by ensemble data assimilation: an ensemble of the (imperfect) model runs beside the
//! truth, and every few steps the observations of the truth update it by the EnKF or the LETKF
//! of [`crate::assimilate`]; the ensemble mean at the end is the analysis, and the increment is
//! formed from it as for interpolated observations. The members' flow-dependent covariance is
//! what the static prior of cycled optimal interpolation lacks. The members may be shared among
//! processes ([`Ranks`], [`Layout`]): each forecasts a contiguous run of members, an all-to-all
//! gives each every member at its own columns (the LETKF's local domains, or for the EnKF rows
//! of the grid), where it analyses them, and a second all-to-all returns the analyses to the
//! members' processes. Besides, every process receives the members at the stations and the
//! per-column means, spreads and ranks of the truth from which the cycle's diagnostics are
//! formed; each column's numbers are made by the same arithmetic whichever process holds it, so
//! the result is the one-process result bit for bit.

use super::assimilate::{ASSIMILATION_STREAM, CycleError, observation_time, rms_difference};
use super::increments::{Analysis, Increments, ObservedIncrement, analyse_shared, layer};
use crate::assimilate::enkf::{add_weighted_anomalies, perturbed_observation_weights};
use crate::assimilate::{Inflation, Layout, Letkf, Observed, Reach, mean};
use crate::error::DiscoveryError;
use crate::observe::{Interpolator, ObservationSpec, relative_error};
use crate::ranks::Ranks;
use medida_solver::Model;
use ndarray::{Array1, Array2, Array3, ArrayView3, Axis, concatenate};
use rand_mt::Mt64;
use rayon::prelude::*;
use std::sync::Arc;

/// The observation error assumed for noise-free observations, relative to each layer's standard
/// deviation: a filter needs `R > 0`, and 1% is below what the ensemble can resolve.
pub const NOISE_FREE_ERROR: f64 = 0.01;

/// Which ensemble analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EnsembleFilter {
    /// The stochastic EnKF with perturbed observations, global (no localization).
    Enkf,
    /// The LETKF on the model's grid, both layers of a column analysed together.
    Letkf(Letkf),
}

/// An ensemble of the assimilating model, how it is updated, and what it measured.
#[derive(Debug, Clone)]
pub struct EnsembleAssimilator {
    /// The members: clones of the assimilating model (e.g. the imperfect one).
    pub members: Vec<Model>,
    /// Initial perturbations, one per member, `(lev, y, x)` each, added to the interpolated first
    /// observations (e.g. scaled differences of states of a model run).
    pub perturbations: Vec<Array3<f64>>,
    /// The analysis.
    pub filter: EnsembleFilter,
    /// Inflation after each analysis.
    pub inflation: Inflation,
    /// Steps from the first observations to the analysis.
    pub steps: u64,
    /// Steps between analyses (0 counts as 1).
    pub every: u64,
    /// Seed of the EnKF's observation perturbations.
    pub seed: u64,
    /// The observation error the filter assumes, relative to each layer's standard deviation
    /// (`R = (obs_error std(y))^2`); `None`: the observations' own noise, at least
    /// [`NOISE_FREE_ERROR`]. A larger value than the noise keeps a small ensemble from
    /// collapsing onto more observations than it has members.
    pub obs_error: Option<f64>,
    /// Additive inflation for the model's own error: after each analysis every member gets
    /// `additive` times one of `perturbations` drawn at random (seeded), centred over the
    /// members so the mean is kept (0: none).
    pub additive: f64,
    /// The hybrid gain of Penny (2014): after the ensemble analysis, the innovation left at the
    /// stations (observation minus analysis mean) is interpolated by the static interpolator
    /// (spectral-oi: a climatological covariance) and this fraction of it is added to every
    /// member, moving the mean and keeping the perturbations (0: the ensemble analysis alone).
    pub hybrid: f64,
    /// The processes sharing the members' forecasts (MPI ranks), or `None` for this one alone.
    pub ranks: Option<Arc<dyn Ranks>>,
}

/// What one analysis cycle did, per layer, against the truth (units of `q`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cycle {
    /// The errors of the forecast and analysis means.
    pub error: CycleError,
    /// RMS over the grid of the forecast ensemble's standard deviation.
    pub forecast_spread: [f64; 2],
    /// The same after the analysis and inflation.
    pub analysis_spread: [f64; 2],
    /// Wall time of the cycle (the forecasts, the truth's run, the analysis and its
    /// diagnostics), in seconds: the machine's, not part of the result.
    pub seconds: f64,
}

/// The cycles of one ensemble analysis and the rank histogram of the truth among the forecast
/// members (bin `r`: points where `r` members lie below the truth), per layer over all cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleReport {
    /// One entry per analysis.
    pub cycles: Vec<Cycle>,
    /// `[lev][rank]`, `members + 1` bins.
    pub rank_histogram: [Vec<u64>; 2],
}

/// Layer `lev`'s entries in a state of two layers of `n` points flattened `(lev, y, x)`.
fn level(lev: usize, n: usize) -> ndarray::Slice {
    ndarray::Slice::from(lev * n..(lev + 1) * n)
}

impl EnsembleAssimilator {
    fn check(&self) -> Result<(), DiscoveryError> {
        let m = self.members.len();
        if m < 2 || self.perturbations.len() != m {
            return Err(crate::error::invalid(
                "members",
                format!("{m} models and {} perturbations", self.perturbations.len()),
                "at least 2, one perturbation each",
            ));
        }
        self.inflation.check()
    }

    /// Advances the members `layout` gives this process `steps` steps from their `rows`, in
    /// parallel; each member is its own model, so the result depends neither on the thread
    /// count nor on the process count.
    fn forecast(
        &mut self,
        layout: &Layout,
        rows: &mut Array2<f64>,
        steps: u64,
    ) -> Result<(), DiscoveryError> {
        let shape = self.perturbations[0].raw_dim();
        let mine = layout.my_members();
        self.members[mine.clone()]
            .par_iter_mut()
            .zip(rows.axis_iter_mut(Axis(0)).into_par_iter())
            .enumerate()
            .try_for_each(|(j, (model, mut row))| {
                let i = mine.start + j;
                let q = row
                    .to_owned()
                    .into_shape_with_order(shape)
                    .expect("a state");
                let member = |error| DiscoveryError::Member { member: i, error };
                model.set_q(q.view()).map_err(member)?;
                model.run(steps).map_err(member)?;
                row.assign(&Array1::from_iter(model.q().iter().copied()));
                Ok::<_, DiscoveryError>(())
            })
    }

    /// How the ensemble's state `(lev, y, x)` of `shape` is split by columns for the analysis:
    /// the LETKF's local domains, or for the EnKF the grid's rows (both levels each).
    fn layout(&self, shape: [usize; 3]) -> Result<Layout, DiscoveryError> {
        let [levels, ny, nx] = shape;
        let units = match self.filter {
            EnsembleFilter::Letkf(letkf) => {
                letkf.domains().iter().map(|d| letkf.columns(d)).collect()
            }
            EnsembleFilter::Enkf => (0..ny)
                .map(|j| {
                    (0..levels)
                        .flat_map(|lev| (0..nx).map(move |i| (lev * ny + j) * nx + i))
                        .collect()
                })
                .collect(),
        };
        Layout::new(
            self.members.len(),
            levels * ny * nx,
            units,
            self.ranks.clone(),
        )
    }

    /// The additive inflation after the analysis at observation time `obs_time` at `columns`
    /// of the state, `(members, columns)`: each member `additive` times one of the
    /// perturbations drawn at random (seeded), centred over the members.
    fn additive_perturbations(&self, columns: &[usize], obs_time: u64) -> Array2<f64> {
        let mut rng = Mt64::new(self.seed ^ obs_time.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5);
        let pool = &self.perturbations;
        let mut add = Array2::zeros((self.members.len(), columns.len()));
        for mut row in add.rows_mut() {
            let k = (rng.next_u64() % pool.len() as u64) as usize;
            let p = pool[k].as_standard_layout();
            let p = p.as_slice().expect("a state in standard layout");
            row.assign(&Array1::from_iter(
                columns.iter().map(|&c| p[c] * self.additive),
            ));
        }
        let mean = mean(add.view());
        add - &mean
    }

    /// The analysis of `block` (every member at this process's columns of `layout`) in place;
    /// `reach` keeps the LETKF's [`Reach`] from one analysis to the next while the stations
    /// stay.
    fn analyse(
        &self,
        layout: &Layout,
        block: &mut Array2<f64>,
        obs: &Observed,
        (stations, reach): (&[[f64; 2]], &mut Option<Reach>),
        obs_time: u64,
    ) -> Result<(), DiscoveryError> {
        match self.filter {
            EnsembleFilter::Enkf => {
                let mut rng = Mt64::new(self.seed ^ obs_time.wrapping_mul(0x2545_F491_4F6C_DD1D));
                let m = perturbed_observation_weights(obs, &mut rng)?;
                // Unit by unit (rows of the grid), so each column's sums are the same at any
                // process count.
                for unit in layout.split_units(block.view_mut()) {
                    add_weighted_anomalies(unit, &m);
                }
                Ok(())
            }
            EnsembleFilter::Letkf(letkf) => {
                let reach = match reach {
                    Some(r) if r.is_for(stations) => r,
                    _ => reach.insert(letkf.reach(&letkf.domains()[layout.my_units()], stations)),
                };
                letkf.analyse_domains(block.view_mut(), obs, reach)
            }
        }
    }
}

/// Per column of the `forecast` and `analysis` ensembles (a member per row) at which the truth
/// is `truth`, `(5, columns)`: the forecast and analysis means and variances (`N - 1`), and how
/// many forecast members lie below the truth (counted member by member).
fn column_statistics(
    forecast: &Array2<f64>,
    analysis: &Array2<f64>,
    truth: &Array1<f64>,
) -> Array2<f64> {
    let mut below = Array1::<f64>::zeros(truth.len());
    for member in forecast.rows() {
        for ((b, v), t) in below.iter_mut().zip(member).zip(truth) {
            *b += f64::from(u8::from(v < t));
        }
    }
    let rows = [
        mean(forecast.view()),
        mean(analysis.view()),
        forecast.var_axis(Axis(0), 1.0),
        analysis.var_axis(Axis(0), 1.0),
        below,
    ]
    .map(|r| r.insert_axis(Axis(0)));
    concatenate(Axis(0), &rows.each_ref().map(|r| r.view())).expect("one length per row")
}

impl Increments {
    /// The increment from an analysis by ensemble data assimilation: the truth runs
    /// `assimilator.steps` steps from `q0`; the members start from the interpolated first
    /// observations plus their perturbations and are forecast and analysed every
    /// `assimilator.every` steps with the observations of the truth (stations and noise of
    /// `spec`, error variance `(e std(y))^2` per layer with `e` the assimilator's `obs_error`, else
    /// the noise, at least [`NOISE_FREE_ERROR`]).
    /// The ensemble mean at the end is the analysis from which the increment is formed as in
    /// [`Increments::observed`]. Returns the true state at the analysis, the increment and what
    /// the cycles measured.
    pub fn ensemble_assimilated(
        &mut self,
        q0: ArrayView3<f64>,
        spec: &ObservationSpec,
        time: u64,
        interp: [&dyn Interpolator; 2],
        assimilator: &mut EnsembleAssimilator,
    ) -> Result<(Array3<f64>, ObservedIncrement, EnsembleReport), DiscoveryError> {
        assimilator.check()?;
        let q0 = q0.to_owned();
        let shape = q0.raw_dim();
        let n = shape[1] * shape[2];
        let m = assimilator.members.len();
        let first = analyse_shared(
            &q0,
            None,
            spec,
            (2 * time, 0),
            interp,
            assimilator.ranks.as_deref(),
        )?;
        let layout = assimilator.layout([shape[0], shape[1], shape[2]])?;
        let mine = layout.my_members();
        // This process's members, a state per row.
        let mut rows = Array2::zeros((mine.len(), 2 * n));
        for (mut row, p) in rows
            .rows_mut()
            .into_iter()
            .zip(&assimilator.perturbations[mine])
        {
            if p.raw_dim() != shape {
                return Err(DiscoveryError::Shape(format!(
                    "initial perturbation {:?} for a state {:?}",
                    p.shape(),
                    q0.shape()
                )));
            }
            row.assign(&Array1::from_iter(
                first.q.iter().zip(p.iter()).map(|(a, b)| a + b),
            ));
        }
        // The state variables this process analyses, in its blocks' column order.
        let columns = layout.my_columns();
        self.truth.set_q(q0.view())?;
        let every = assimilator.every.max(1);
        let mut report = EnsembleReport {
            cycles: Vec::new(),
            rank_histogram: [vec![0; m + 1], vec![0; m + 1]],
        };
        let (mut step, mut last, mut amean, mut reach) = (0, None, None, None);
        while step < assimilator.steps {
            let started = std::time::Instant::now();
            let run = every.min(assimilator.steps - step);
            assimilator.forecast(&layout, &mut rows, run)?;
            self.truth.run(run)?;
            step += run;
            let truth = Array1::from_iter(self.truth.q().iter().copied());
            let obs_time = observation_time(time, step);
            let stations = spec.stations(n, obs_time);
            let mut y = Vec::with_capacity(2 * stations.len());
            let mut variance = Vec::with_capacity(2 * stations.len());
            for lev in 0..2 {
                let t = truth.slice_axis(Axis(0), level(lev, n)).to_vec();
                let yl = spec.observe(&t, &stations, obs_time, ASSIMILATION_STREAM + lev as u64);
                let k = yl.len() as f64;
                let mean = yl.iter().sum::<f64>() / k;
                let sd = (yl.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k).sqrt();
                let relative = assimilator
                    .obs_error
                    .unwrap_or(spec.noise.max(NOISE_FREE_ERROR));
                let r = (relative * sd).powi(2).max(f64::MIN_POSITIVE);
                variance.extend(std::iter::repeat_n(r, yl.len()));
                y.extend(yl);
            }
            let observed: Vec<usize> = (0..2)
                .flat_map(|lev| stations.iter().map(move |&s| lev * n + s))
                .collect();
            let eo = layout.gather_members(rows.select(Axis(1), &observed).view())?;
            let (y, variance) = (Array1::from(y), Array1::from(variance));
            let obs = Observed {
                members: eo.view(),
                y: y.view(),
                variance: variance.view(),
            };
            let forecast = layout.to_columns(rows.view())?;
            let mut block = forecast.clone();
            let nx = shape[2];
            let at: Vec<[f64; 2]> = (0..2)
                .flat_map(|_| stations.iter().map(|&s| [(s / nx) as f64, (s % nx) as f64]))
                .collect();
            assimilator.analyse(&layout, &mut block, &obs, (&at, &mut reach), obs_time)?;
            if assimilator.hybrid > 0.0 {
                let means = mean(block.view()).insert_axis(Axis(0));
                let means = layout.gather_columns(means.view())?;
                let k = stations.len();
                // The layers' interpolations (each a solve with its own factor) side by side.
                let fields = (0..2)
                    .into_par_iter()
                    .map(|lev| {
                        let residual: Vec<f64> = (0..k)
                            .map(|j| y[lev * k + j] - means[[0, lev * n + stations[j]]])
                            .collect();
                        interp[lev].interpolate(&stations, &residual)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let shift = Array1::from(fields.concat());
                block += &(shift.select(Axis(0), columns) * assimilator.hybrid);
            }
            assimilator.inflation.apply(&mut block, forecast.view());
            if assimilator.additive > 0.0 {
                block += &assimilator.additive_perturbations(columns, obs_time);
            }
            let t = truth.select(Axis(0), columns);
            let stats = layout.gather_columns(column_statistics(&forecast, &block, &t).view())?;
            let [fmean, am, fvar, avar, below] = [0, 1, 2, 3, 4].map(|k| stats.row(k).to_owned());
            for (lev, hist) in report.rank_histogram.iter_mut().enumerate() {
                below
                    .slice_axis(Axis(0), level(lev, n))
                    .iter()
                    .for_each(|&b| hist[b as usize] += 1);
            }
            let spread = |var: &Array1<f64>| {
                [0, 1].map(|lev| (var.slice_axis(Axis(0), level(lev, n)).sum() / n as f64).sqrt())
            };
            report.cycles.push(Cycle {
                error: CycleError {
                    step,
                    forecast_rmse: rms_difference(&fmean, &truth),
                    analysis_rmse: rms_difference(&am, &truth),
                },
                forecast_spread: spread(&fvar),
                analysis_spread: spread(&avar),
                seconds: started.elapsed().as_secs_f64(),
            });
            layout.to_rows(block.view(), rows.view_mut())?;
            amean = Some(am);
            last = Some((stations, y));
        }
        let amean = match amean {
            Some(a) => a,
            None => {
                let block = layout.to_columns(rows.view())?;
                let means = mean(block.view()).insert_axis(Axis(0));
                layout.gather_columns(means.view())?.row(0).to_owned()
            }
        };
        let mean = amean.into_shape_with_order(shape).expect("a state");
        let q_true = self.truth.q();
        // Noise-free observations: the analysis' misfit at the last stations is removed from the
        // increment, as for the interpolated analyses.
        let mut misfit = [vec![0.0; n], vec![0.0; n]];
        if let (Some((stations, y)), true) = (&last, spec.noise == 0.0) {
            for (lev, mis) in misfit.iter_mut().enumerate() {
                let a = layer(&mean, lev);
                for (k, &s) in stations.iter().enumerate() {
                    mis[s] = a[s] - y[lev * stations.len() + k];
                }
            }
        }
        let error = [0, 1].map(|lev| relative_error(&layer(&q_true, lev), &layer(&mean, lev)));
        let analysis = Analysis {
            q: mean,
            misfit,
            error,
        };
        let inc = self.forecast_from(&q_true, analysis, spec, time)?;
        Ok((q_true, inc, report))
    }
}

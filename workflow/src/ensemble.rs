//! The ensemble filter's settings on the command line (`--filter enkf|letkf` and its options),
//! shared by `medida increments` and `medida demo`, and the ensemble they build.

use crate::error::{Error, input_err};
use medida_data::Frames;
use medida_discovery::assimilate::{Inflation, Letkf, Localization, PeriodicGrid, Relaxation};
use medida_discovery::model_error::{EnsembleAssimilator, EnsembleFilter};
use medida_solver::{Model, Precision};
use rand_mt::Mt64;

/// How an ensemble filter assimilates (with `--assimilate`).
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct EnsembleArgs {
    /// With --assimilate: the analysis. `oi`: cycled optimal interpolation (--update-every, the
    /// default); `enkf`: the stochastic EnKF with perturbed observations; `letkf`: the LETKF
    /// (Hunt et al. 2007) with Gaspari-Cohn localization. The ensemble filters analyse every
    /// --update-every steps.
    #[arg(long, value_name = "oi|enkf|letkf", default_value = "oi")]
    pub filter: String,
    /// With --filter enkf|letkf: ensemble members.
    #[arg(long, value_name = "M", default_value_t = 20)]
    pub members: usize,
    /// With --filter letkf: localization radius in grid points (`L`, or `LY,LX` for different
    /// lengths along y and x); the taper is 0.63 there and 0 beyond 3.64 radii.
    #[arg(long, value_name = "L", default_value = "4")]
    pub localization: String,
    /// With --filter letkf: grid columns analysed together (`B` or `BY,BX`; DAPPER's batches).
    #[arg(long, value_name = "B", default_value = "2")]
    pub batch: String,
    /// With --filter enkf|letkf: multiplicative inflation of the analysis anomalies (1: none).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub inflation: f64,
    /// With --filter enkf|letkf: relaxation to the prior after each analysis, `rtps=A` (spread)
    /// or `rtpp=A` (perturbations), A in [0, 1].
    #[arg(long, value_name = "rtps=A|rtpp=A")]
    pub relaxation: Option<String>,
    /// With --filter enkf|letkf: the initial perturbations' size, as a multiple of the
    /// difference of two states of the prior run (each member starts from the interpolated
    /// observations plus `S (q_a - q_b) / sqrt 2` of a random pair of its snapshots, centred).
    #[arg(long, value_name = "S", default_value_t = 0.3)]
    pub spread: f64,
    /// With --filter enkf|letkf: the observation error the filter assumes, relative to each
    /// layer's standard deviation (default: the observations' noise, at least 0.01).
    #[arg(long, value_name = "E")]
    pub obs_error: Option<f64>,
    /// With --filter enkf|letkf: additive inflation for the model's error, a multiple of the
    /// initial perturbations added after each analysis (0: none).
    #[arg(long, value_name = "A", default_value_t = 0.0)]
    pub additive: f64,
    /// With --filter enkf|letkf: the hybrid gain (Penny 2014), the fraction of the innovation
    /// left after the ensemble analysis that the static interpolator (--interp) adds to every
    /// member (0: none, 1: all of it).
    #[arg(long, value_name = "H", default_value_t = 0.0)]
    pub hybrid: f64,
    /// With --filter enkf|letkf: the members' arithmetic, `f64` or `f32` (default: the imperfect
    /// model's `model.precision`). `f32` steps each member's state, kernel and transforms in
    /// single precision, as ECMWF's forecasts do: a quarter less time per cycle of the jet. The
    /// truth, the analysis and the increments' forecasts keep the models' own precision.
    #[arg(long, value_name = "f64|f32")]
    pub member_precision: Option<String>,
}

/// Parses `A` or `A,B` into two numbers.
fn pair(flag: &str, text: &str) -> Result<(f64, f64), Error> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let nums: Option<Vec<f64>> = parts.iter().map(|p| p.parse().ok()).collect();
    match nums.as_deref() {
        Some([a]) => Ok((*a, *a)),
        Some([a, b]) => Ok((*a, *b)),
        _ => input_err!("{flag} {text}: allowed one number or two separated by a comma (y,x)"),
    }
}

impl EnsembleArgs {
    /// Whether an ensemble filter is asked for (else cycled interpolation).
    pub fn is_ensemble(&self) -> Result<bool, Error> {
        match self.filter.as_str() {
            "oi" => Ok(false),
            "enkf" | "letkf" => Ok(true),
            other => input_err!("--filter {other}: allowed oi, enkf or letkf"),
        }
    }

    /// The filter's description for the output's attributes.
    pub fn describe(&self) -> String {
        let relax = self.relaxation.as_deref().unwrap_or("none");
        let loc = match self.filter.as_str() {
            "letkf" => format!(
                ", localization {} grid points, batches {}",
                self.localization, self.batch
            ),
            _ => String::new(),
        };
        let precision = self
            .member_precision
            .as_deref()
            .map_or(String::new(), |p| format!(" in {p}"));
        format!(
            "{} with {} members{precision}{loc}, inflation {}, relaxation {relax}, additive {}, hybrid gain {}, initial spread {}",
            self.filter, self.members, self.inflation, self.additive, self.hybrid, self.spread
        )
    }

    /// The members' precision from --member-precision, `None` for the imperfect model's own;
    /// refused without an ensemble filter, whose members it is about.
    pub fn member_precision(&self) -> Result<Option<Precision>, Error> {
        let Some(p) = self.member_precision.as_deref() else {
            return Ok(None);
        };
        if !self.is_ensemble()? {
            return input_err!("--member-precision {p}: allowed only with --filter enkf|letkf");
        }
        match p {
            "f64" => Ok(Some(Precision::F64)),
            "f32" => Ok(Some(Precision::F32)),
            other => input_err!("--member-precision {other}: allowed f64 or f32"),
        }
    }

    /// The ensemble of `model` on its grid: `members` clones, each with an initial perturbation
    /// drawn from pairs of `prior`'s snapshots (seeded by `seed`), analysing every `every` of
    /// `steps` steps.
    pub fn build(
        &self,
        model: &Model,
        prior: &Frames,
        steps: u64,
        every: u64,
        seed: u64,
    ) -> Result<EnsembleAssimilator, Error> {
        if !(2..=1000).contains(&self.members) {
            return input_err!("--members {}: allowed 2 to 1000", self.members);
        }
        if let Some(e) = self.obs_error.filter(|e| !(*e > 0.0 && *e <= 10.0)) {
            return input_err!("--obs-error {e}: allowed > 0 and at most 10");
        }
        if !(0.0..=1.0).contains(&self.hybrid) {
            return input_err!("--hybrid {}: allowed 0 to 1", self.hybrid);
        }
        if !(self.additive >= 0.0 && self.additive <= 10.0) {
            return input_err!("--additive {}: allowed 0 to 10", self.additive);
        }
        if !(self.spread >= 0.0 && self.spread <= 10.0) {
            return input_err!("--spread {}: allowed 0 to 10", self.spread);
        }
        let relaxation = match self.relaxation.as_deref().map(|r| r.split_once('=')) {
            None => Relaxation::None,
            Some(Some((kind, a))) => {
                let Ok(a) = a.trim().parse::<f64>() else {
                    return input_err!("--relaxation {kind}={a}: allowed a number in [0, 1]");
                };
                match kind.trim() {
                    "rtps" => Relaxation::Spread(a),
                    "rtpp" => Relaxation::Perturbations(a),
                    k => return input_err!("--relaxation {k}: allowed rtps=A or rtpp=A"),
                }
            }
            Some(None) => {
                return input_err!(
                    "--relaxation {}: allowed rtps=A or rtpp=A",
                    self.relaxation.as_deref().unwrap_or_default()
                );
            }
        };
        let inflation = Inflation {
            factor: self.inflation,
            relaxation,
        };
        inflation
            .check()
            .map_err(|e| Error::Input(format!("--inflation / --relaxation: {e}")))?;
        let grid = model.grid();
        let periodic = PeriodicGrid {
            levels: 2,
            ny: grid.ny,
            nx: grid.nx,
        };
        let filter = match self.filter.as_str() {
            "enkf" => EnsembleFilter::Enkf,
            _ => {
                let (radius_y, radius_x) = pair("--localization", &self.localization)?;
                let (by, bx) = pair("--batch", &self.batch)?;
                let whole = |v: f64| (v.fract() == 0.0 && v >= 1.0).then_some(v as usize);
                let (Some(by), Some(bx)) = (whole(by), whole(bx)) else {
                    return input_err!("--batch {}: allowed whole numbers >= 1", self.batch);
                };
                let loc = Localization {
                    radius_y,
                    radius_x,
                    batch: (by, bx),
                };
                EnsembleFilter::Letkf(
                    Letkf::new(periodic, loc)
                        .map_err(|e| Error::Input(format!("--localization / --batch: {e}")))?,
                )
            }
        };
        let frames = prior.shape()[0];
        if frames < 2 {
            return input_err!(
                "the prior run has {frames} snapshot(s): the ensemble's initial perturbations need 2 or more (give --prior a longer run)"
            );
        }
        let mut rng = Mt64::new(seed ^ 0x6A09_E667_F3BC_C908);
        let mut perturbations = Vec::with_capacity(self.members);
        for _ in 0..self.members {
            let a = (rng.next_u64() % frames as u64) as usize;
            let b = (a + 1 + (rng.next_u64() % (frames as u64 - 1)) as usize) % frames;
            let d = (prior.read(a)? - prior.read(b)?) * (self.spread / std::f64::consts::SQRT_2);
            perturbations.push(d);
        }
        // Centred, so that the ensemble mean starts at the interpolated observations.
        let mean = perturbations.iter().fold(
            ndarray::Array3::zeros(perturbations[0].raw_dim()),
            |m, p| m + p,
        ) / self.members as f64;
        perturbations.iter_mut().for_each(|p| *p -= &mean);
        Ok(EnsembleAssimilator {
            members: vec![model.clone(); self.members],
            perturbations,
            filter,
            inflation,
            steps,
            every,
            seed,
            obs_error: self.obs_error,
            additive: self.additive,
            hybrid: self.hybrid,
            ranks: None,
        })
    }
}

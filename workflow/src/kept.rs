//! What a run keeps beside the records it appends: pyqg's time-averaged diagnostics
//! (`output.tavestart`), for closure datasets the model's own `q` at its last snapshots (the
//! high-resolution reference of the online similarity scores), and the controller of a closure
//! that is a `train-rl` policy (its last decision and the spectra since). Held in memory, saved
//! in every checkpoint (so `--restart` continues them), written to the output at the end of the
//! run.

use crate::config::{OutputConfig, RunConfig};
use crate::error::{Error, input};
use crate::model::{closure_terms, controller};
use medida_data::{Checkpoint, Coordinate, OutputFile};
use medida_discovery::closure::rl::{Controller, ControllerState};
use medida_solver::{Averages, Averaging, Model};
use ndarray::{Array3, ArrayD, Axis, IxDyn};

type Result<T> = std::result::Result<T, Error>;

/// The model's `q` at the snapshots from step `from_tc` on.
#[derive(Debug, Clone)]
pub(crate) struct Finals {
    from_tc: u64,
    q: Vec<Array3<f64>>,
}

/// Averages and final snapshots of a run.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    averages: Option<Averages>,
    /// Suffix of the dimensions the averages and final snapshots are written on: `""` (`l`, `k`
    /// of the run's own grid) or `"_hr"` (a closure dataset's high-resolution grid).
    suffix: &'static str,
    finals: Option<Finals>,
    /// The closure's policy, when it is one.
    controller: Option<Controller>,
}

impl Kept {
    /// Averages as `cfg.output` asks (the closure's terms as pyqg's parameterization), and the
    /// last `finals` snapshots' `q` (0: none).
    pub(crate) fn new(
        cfg: &RunConfig,
        model: &Model,
        suffix: &'static str,
        finals: usize,
    ) -> Result<Self> {
        let averages = match cfg.output.tavestart {
            None => None,
            Some(tavestart) => {
                let parameterization = closure_terms(cfg)?
                    .iter()
                    .map(|t| t.name().to_string())
                    .collect();
                let settings = Averaging {
                    tavestart,
                    taveint: cfg.output.taveint.unwrap_or(OutputConfig::TAVEINT),
                    parameterization,
                };
                Some(Averages::new(model, settings).map_err(input("invalid config"))?)
            }
        };
        let finals = (finals > 0).then(|| Finals {
            from_tc: final_snapshots(cfg, finals).first().copied().unwrap_or(0),
            q: Vec::new(),
        });
        Ok(Self {
            averages,
            suffix,
            finals,
            controller: controller(cfg, model)?,
        })
    }

    /// At the start of a new run (not a continued one): the policy's first decision.
    pub(crate) fn begin(&mut self, model: &mut Model) -> Result<()> {
        if let Some(c) = &mut self.controller {
            c.start(model, None).map_err(input("closure policy"))?;
        }
        Ok(())
    }

    /// One step of `model`, accumulating the averages when due; then the policy's decision
    /// when one is due.
    pub(crate) fn step(&mut self, model: &mut Model) -> Result<()> {
        match &mut self.averages {
            Some(a) => model.step_averaging(a)?,
            None => model.step()?,
        }
        if let Some(c) = &mut self.controller {
            c.after_step(model, None).map_err(input("closure policy"))?;
        }
        Ok(())
    }

    /// Called at every snapshot: keeps `q` when it is one of the final ones.
    pub(crate) fn snapshot(&mut self, model: &Model) {
        if let Some(f) = &mut self.finals
            && model.tc() >= f.from_tc
        {
            f.q.push(model.q());
        }
    }

    /// What a checkpoint holds of this: the averages' sums and count, the final snapshots so far.
    pub(crate) fn checkpoint(&self, c: &mut Checkpoint) {
        if let Some(a) = &self.averages {
            crate::checkpoint::save_averages(a, c);
        }
        if let Some(f) = &self.finals
            && !f.q.is_empty()
        {
            let views: Vec<_> = f.q.iter().map(|q| q.view()).collect();
            let stacked = ndarray::stack(Axis(0), &views).expect("snapshots of one grid");
            c.arrays.push(("final_q".into(), stacked.into_dyn()));
        }
        if let Some(ctl) = &self.controller {
            let s = ctl.state();
            let flat: Vec<f64> = s.samples.concat();
            c.arrays
                .push(("policy_previous".into(), vector(s.previous)));
            c.numbers
                .push(("policy_samples_count".into(), s.samples.len() as f64));
            if !flat.is_empty() {
                c.arrays.push(("policy_samples".into(), vector(flat)));
            }
        }
    }

    /// Continues from checkpoint `c` (taken of a run of the same config) on `model` (already
    /// restored: the policy sets its last decision's field on it again).
    pub(crate) fn restore(&mut self, c: &Checkpoint, model: &mut Model) -> Result<()> {
        let bad = |what: &str| {
            Error::Input(format!(
                "--restart: the checkpoint's {what} do not fit this run"
            ))
        };
        if let Some(a) = &mut self.averages {
            crate::checkpoint::restore_averages(a, c).ok_or_else(|| bad("averages"))?;
        }
        if let (Some(f), Some(q)) = (&mut self.finals, c.array("final_q")) {
            f.q = q
                .outer_iter()
                .map(|s| {
                    s.to_owned()
                        .into_dimensionality()
                        .map_err(|_| bad("final snapshots"))
                })
                .collect::<Result<_>>()?;
        }
        if let Some(ctl) = &mut self.controller {
            let previous = c
                .array("policy_previous")
                .ok_or_else(|| bad("policy's last decision"))?
                .iter()
                .copied()
                .collect();
            let n = c
                .number("policy_samples_count")
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .ok_or_else(|| bad("policy's spectra"))? as usize;
            let flat: Vec<f64> = c
                .array("policy_samples")
                .map(|a| a.iter().copied().collect())
                .unwrap_or_default();
            if (n == 0) != flat.is_empty() || (n > 0 && !flat.len().is_multiple_of(n)) {
                return Err(bad("policy's spectra"));
            }
            let samples = match n {
                0 => Vec::new(),
                _ => flat.chunks(flat.len() / n).map(<[f64]>::to_vec).collect(),
            };
            ctl.resume(model, ControllerState { previous, samples })
                .map_err(input("--restart"))?;
        }
        Ok(())
    }

    /// Writes the averages (pyqg's names, dims and units, with their count) and the final
    /// snapshots (`q{suffix}` on `(time{suffix}, lev, y{suffix}, x{suffix})`) to `out`.
    pub(crate) fn write(&self, out: &mut OutputFile) -> Result<()> {
        let s = self.suffix;
        if let Some(a) = &self.averages
            && a.count() > 0
        {
            let t = a.settings();
            let attrs = [
                ("count", a.count() as f64),
                ("tavestart", t.tavestart),
                ("taveint", t.taveint),
            ];
            for d in a.available() {
                let dims: Vec<String> = d
                    .layout
                    .dims()
                    .iter()
                    .map(|n| {
                        if *n == "lev" {
                            n.to_string()
                        } else {
                            format!("{n}{s}")
                        }
                    })
                    .collect();
                let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
                let value = a.get(d.name).expect("accumulated");
                let long = format!("{} (time average, pyqg's get_diagnostic)", d.description);
                out.write_fixed(d.name, &dims, d.units, &long, &attrs, value.view())?;
            }
        }
        if let Some(f) = &self.finals
            && !f.q.is_empty()
        {
            let views: Vec<_> = f.q.iter().map(|q| q.view()).collect();
            let stacked = ndarray::stack(Axis(0), &views).expect("snapshots of one grid");
            let dims = [
                format!("time{s}"),
                "lev".into(),
                format!("y{s}"),
                format!("x{s}"),
            ];
            let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
            out.write_fixed(
                &format!("q{s}"),
                &dims,
                "s^-1",
                "potential vorticity anomaly of the high-resolution run at its last snapshots",
                &[],
                stacked.into_dyn().view(),
            )?;
        }
        Ok(())
    }
}

/// Whether the output `path` holds the datasets `names` a run keeps. They are written at the
/// run's end, after its final checkpoint: a run killed between the two is not complete, and
/// continuing it from that checkpoint writes them.
pub(crate) fn written(path: &std::path::Path, names: &[&str]) -> bool {
    medida_data::has_datasets(path, names)
}

/// The steps of the last `n` snapshots of a run of `cfg`.
pub(crate) fn final_snapshots(cfg: &RunConfig, n: usize) -> Vec<u64> {
    let all: Vec<u64> = (cfg.spinup_steps()..=cfg.total_steps())
        .filter(|tc| cfg.snapshot_due(*tc))
        .collect();
    all[all.len().saturating_sub(n)..].to_vec()
}

/// The coordinates the kept records of a run of `cfg` on grid `g` are written on, with
/// `suffix`: `l`, `k` for averages; `time`, `y`, `x` for final snapshots (`finals` > 0).
pub(crate) fn kept_coords(
    cfg: &RunConfig,
    g: &medida_solver::Grid,
    suffix: &str,
    finals: usize,
) -> Vec<Coordinate> {
    let unit = crate::schema::units(cfg);
    let coord = |name: &str, values: Vec<f64>, units: &str, long_name: &str| Coordinate {
        name: format!("{name}{suffix}"),
        values,
        units: unit(units),
        long_name: long_name.into(),
        integer: false,
    };
    let mut out = Vec::new();
    if cfg.output.tavestart.is_some() {
        out.push(coord(
            "l",
            g.ll.clone(),
            "m^-1",
            "meridional wavenumber (FFT order)",
        ));
        out.push(coord("k", g.kk.clone(), "m^-1", "zonal wavenumber"));
    }
    if finals > 0 {
        let dt = cfg.model.dt;
        // Model time after tc steps, summed as the model sums it.
        let times = final_snapshots(cfg, finals)
            .into_iter()
            .map(|tc| (0..tc).fold(0.0, |t, _| t + dt))
            .collect();
        out.push(coord(
            "time",
            times,
            "s",
            "model time of the high-resolution snapshots",
        ));
        out.push(coord("y", g.y(), "m", "meridional position (cell centres)"));
        out.push(coord("x", g.x(), "m", "zonal position (cell centres)"));
    }
    out
}

/// A 1-d checkpoint array of `v`.
fn vector(v: Vec<f64>) -> ArrayD<f64> {
    let n = v.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("1-d")
}

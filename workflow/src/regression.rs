//! How to regress, as `medida fit` and `medida discover` are told: optimizer, selection, blocks,
//! ensemble and refit, resolved into a [`Plan`].

use crate::error::{Error, input_err};
use medida_discovery::ranks::Ranks;
use medida_discovery::regression::{Choice, Plan, Refit};
use medida_discovery::{Criterion, Ensemble, Rvm, Scaling, SparseOptimizer, Stlsq};
use std::sync::Arc;

/// How to regress: the flags `medida fit` and `medida discover` share.
#[derive(clap::Args, Clone, Debug)]
pub struct RegressionArgs {
    /// stlsq or rvm.
    #[arg(long, default_value = "stlsq")]
    pub optimizer: String,
    /// Model selection: bic, aic, cv (k-fold over row blocks) or threshold=NUMBER.
    #[arg(long, default_value = "bic")]
    pub select: String,
    /// Thresholds to sweep, comma-separated (default: a log grid for the optimizer).
    #[arg(long, value_delimiter = ',')]
    pub thresholds: Option<Vec<f64>>,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Column scaling: rms (columns and targets by RMS; default), l2 (PySINDy normalize_columns) or none.
    #[arg(long, default_value = "rms")]
    pub scaling: String,
    /// STLSQ ridge parameter (default 0, or 0.05 with --pysindy).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// STLSQ per-term threshold factors, comma-separated, one per library term: term j is kept
    /// when |w_j| >= threshold * factor_j (e.g. 0 to always keep a term, 10 to demand more).
    #[arg(long, value_delimiter = ',')]
    pub term_factors: Option<Vec<f64>>,
    /// STLSQ iterations.
    #[arg(long, default_value_t = 20)]
    pub max_iter: usize,
    /// STLSQ: keep the last thresholded ridge coefficients instead of refitting ordinary least
    /// squares on the selected terms (PySINDy's `unbias=False`).
    #[arg(long)]
    pub no_unbias: bool,
    /// PySINDy 2.1 STLSQ semantics: no scaling (unless --scaling l2), alpha 0.05.
    #[arg(long)]
    pub pysindy: bool,
    /// Rows per block, the unit of CV folds and bootstrap samples (default rows/100).
    #[arg(long)]
    pub block_rows: Option<usize>,
    /// Bagging ensemble of this many models (inclusion probabilities, quantiles).
    #[arg(long, default_value_t = 0)]
    pub ensemble: usize,
    /// Seed of the bagging.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Final refit on the selected terms: cholesky (from the statistics) or qr (a second pass
    /// over the rows; accurate when selected terms are nearly collinear).
    #[arg(long, default_value = "cholesky")]
    pub refit: String,
    /// The processes sharing the regression (MPI ranks under `mpirun`), or `None` for this one
    /// alone: not a flag, the CLI's `mpi` feature sets it.
    #[arg(skip)]
    pub ranks: Option<Arc<dyn Ranks>>,
}

impl RegressionArgs {
    /// The plan these flags describe.
    pub fn plan(&self) -> Result<Plan, Error> {
        let optimizer = optimizer(self)?;
        let choice = choice("--select", &self.select, self.folds)?;
        let refit = match self.refit.as_str() {
            "cholesky" => Refit::Cholesky,
            "qr" => Refit::Qr,
            s => return input_err!("--refit {s:?}: allowed cholesky or qr"),
        };
        if let Some(t) = self
            .thresholds
            .iter()
            .flatten()
            .find(|t| !(t.is_finite() && **t >= 0.0))
        {
            return input_err!("--thresholds: {t} is not a number >= 0");
        }
        if self.block_rows == Some(0) {
            return input_err!("--block-rows 0: allowed 1 or more");
        }
        let mut plan = Plan::new(optimizer, choice);
        plan.thresholds = self.thresholds.clone();
        plan.block_rows = self.block_rows;
        plan.ensemble = (self.ensemble > 0).then_some(Ensemble {
            n_models: self.ensemble,
            seed: self.seed,
        });
        plan.refit = refit;
        plan.ranks = self.ranks.clone();
        Ok(plan)
    }
}

/// The model selection `select` names (`folds` for cross-validation); an error names `flag`.
pub(crate) fn choice(flag: &str, select: &str, folds: usize) -> Result<Choice, Error> {
    Ok(match select {
        "aic" => Choice::Select(Criterion::Aic),
        "bic" => Choice::Select(Criterion::Bic),
        "cv" => Choice::Select(Criterion::Cv { folds }),
        s => match s.strip_prefix("threshold=").map(str::parse::<f64>) {
            Some(Ok(t)) if t.is_finite() && t >= 0.0 => Choice::Threshold(t),
            _ => {
                return input_err!("{flag} {s:?}: allowed aic, bic, cv or threshold=NUMBER (>= 0)");
            }
        },
    })
}

fn optimizer(a: &RegressionArgs) -> Result<Arc<dyn SparseOptimizer>, Error> {
    let scaling = match (a.scaling.as_str(), a.pysindy) {
        ("rms", false) => Scaling::Rms,
        ("rms", true) | ("none", _) => Scaling::None,
        ("l2", _) => Scaling::L2Norm,
        (s, _) => return input_err!("--scaling {s:?}: allowed rms, l2 or none"),
    };
    match a.optimizer.as_str() {
        "stlsq" => {
            let base = if a.pysindy {
                Stlsq::pysindy(0.1, 0.05, a.max_iter, false)
            } else {
                Stlsq::default()
            };
            let alpha = a.alpha.unwrap_or(base.alpha);
            if let Some(f) = a
                .term_factors
                .iter()
                .flatten()
                .find(|f| !(f.is_finite() && **f >= 0.0))
            {
                return input_err!("--term-factors: {f} is not a number >= 0");
            }
            if !(alpha.is_finite() && alpha >= 0.0) {
                return input_err!("--alpha {alpha}: allowed a number >= 0");
            }
            Ok(Arc::new(Stlsq {
                scaling,
                alpha,
                max_iter: a.max_iter,
                term_factor: a.term_factors.clone(),
                unbias: !a.no_unbias,
                ..base
            }))
        }
        "rvm" if a.term_factors.is_some() => {
            input_err!("--term-factors applies to --optimizer stlsq only")
        }
        "rvm" if a.no_unbias => input_err!("--no-unbias applies to --optimizer stlsq only"),
        "rvm" => Ok(Arc::new(Rvm {
            scaling,
            ..Rvm::default()
        })),
        o => input_err!("--optimizer {o:?}: allowed stlsq or rvm"),
    }
}

impl Default for RegressionArgs {
    /// The command line's defaults.
    fn default() -> Self {
        crate::flags::parse("medida fit", &[]).expect("no flags parse")
    }
}

//! A discovered model error as a term of the model: `dq_i/dt += sum_j c_ij T_j(state)`, the
//! printed equation itself. The model compiles it like its own terms (linear columns fused into
//! its multipliers, the rest evaluated by the solver's evaluator), so the corrected model is the
//! imperfect model plus exactly the equation that was printed.

use crate::error::DiscoveryError;
use medida_solver::{Expr, Model, SolverError, Term};
use ndarray::Array3;
use serde::{Deserialize, Serialize};

/// The name of a discovered correction in a model's term list.
pub const CORRECTION: &str = "discovered_correction";

/// The correction with `terms` (each with its coefficients in layers 1 and 2; zero coefficients
/// are dropped), as a term of coefficient 1 named [`CORRECTION`].
pub fn correction_term(terms: &[(Expr, [f64; 2])]) -> Term {
    let layer = |lev: usize| {
        terms
            .iter()
            .filter(|(_, c)| c[lev] != 0.0)
            .map(|(e, c)| (c[lev], e.clone()))
            .collect()
    };
    Term::new(CORRECTION, 1.0, [layer(0), layer(1)])
}

/// The forecast errors of the imperfect and the corrected model against the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectionReport {
    /// Length of each forecast in steps.
    pub steps: u64,
    /// The same in model time.
    pub time: f64,
    /// Per start state: relative L2 error of q after `steps`, imperfect model.
    pub imperfect: Vec<f64>,
    /// The same for the corrected model (infinite, written as null, when it went unstable).
    #[serde(deserialize_with = "null_as_infinity")]
    pub corrected: Vec<f64>,
    /// Median of imperfect / corrected.
    pub improvement: f64,
    /// Why the corrected model could not finish a forecast (its error is then infinite): the
    /// discovered terms do not make a stable model.
    pub unstable: Option<String>,
}

impl CorrectionReport {
    /// The comparison in words.
    pub fn summary(&self) -> String {
        match &self.unstable {
            None => format!(
                "\ncorrected model: forecast error after {} steps (t = {}) relative to the truth, median over {} starts: imperfect {:.3e}, corrected {:.3e} ({:.3e} times smaller)\n",
                self.steps,
                self.time,
                self.imperfect.len(),
                median(&self.imperfect),
                median(&self.corrected),
                self.improvement
            ),
            Some(why) => format!(
                "\ncorrected model: unstable {why}; the discovered terms do not make a stable model (the imperfect model's forecast error after {} steps: {:.3e})\n",
                self.steps,
                median(&self.imperfect)
            ),
        }
    }
}

/// JSON has no infinity: serde_json writes it as null.
fn null_as_infinity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let v: Vec<Option<f64>> = Deserialize::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.unwrap_or(f64::INFINITY)).collect())
}

/// The median of `v` (the mean of the middle two for an even count; NaN when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => s[n / 2],
        _ => 0.5 * (s[n / 2 - 1] + s[n / 2]),
    }
}

/// Runs the truth, the imperfect and the corrected model `steps` steps from every start state
/// and compares their forecasts; `done(k)` after the forecasts from the first `k` start states.
/// A corrected model that goes unstable is a result (infinite error, the reason in `unstable`),
/// not an error; the truth or the imperfect model going unstable is an error.
pub fn forecast_skill(
    truth: &Model,
    model: &Model,
    corrected: &Model,
    starts: &[Array3<f64>],
    steps: u64,
    done: &mut dyn FnMut(usize),
) -> Result<CorrectionReport, DiscoveryError> {
    let mut models = [truth.clone(), model.clone(), corrected.clone()];
    let (mut imperfect, mut fixed, mut unstable) = (Vec::new(), Vec::new(), None);
    let norm = |x: &Array3<f64>| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    for (i, q0) in starts.iter().enumerate() {
        let forecast = |m: &mut Model| -> Result<Array3<f64>, SolverError> {
            m.set_q(q0.view())?;
            m.run(steps)?;
            Ok(m.q())
        };
        let [truth, model, corrected] = &mut models;
        let named = |who: &str, e: SolverError| {
            DiscoveryError::Degenerate(format!("the {who} from increment {i}: {e}"))
        };
        let q_truth = forecast(truth).map_err(|e| named("truth", e))?;
        let q_model = forecast(model).map_err(|e| named("imperfect model", e))?;
        let scale = norm(&q_truth);
        imperfect.push(norm(&(&q_model - &q_truth)) / scale);
        match forecast(corrected) {
            Ok(q) => fixed.push(norm(&(&q - &q_truth)) / scale),
            Err(e) => {
                fixed.push(f64::INFINITY);
                unstable.get_or_insert(format!("from increment {i}: {e}"));
            }
        }
        done(i + 1);
    }
    let ratios: Vec<f64> = imperfect.iter().zip(&fixed).map(|(i, c)| i / c).collect();
    Ok(CorrectionReport {
        steps,
        time: steps as f64 * truth.params().dt,
        improvement: median(&ratios),
        imperfect,
        corrected: fixed,
        unstable,
    })
}

//! The model a config describes: the MEDIDA forced jet's terms when `[jet]` is given, forced 2-D
//! turbulence's when `[turbulence]` is, pyqg's otherwise, with the `[terms]` coefficients and then the `[model_error]` changes applied, and
//! the `[closure]`'s and the `[correction]`'s terms added.

use crate::config::RunConfig;
use crate::error::{Error, input_err};
use medida_discovery::closure::rl::{Controller, PolicyFile};
use medida_discovery::closure::{Baseline, discovered_terms};
use medida_discovery::model_error::correction_term;
use medida_solver::jet::{JetConstants, jet_terms};
use medida_solver::turbulence::{TurbulenceConstants, turbulence_terms};
use medida_solver::{Expr, Model, PyqgPhysics, Spectral, Term, pyqg_terms};

/// The family's terms with their truth coefficients, and the toolkit they need.
fn family_terms(cfg: &RunConfig) -> (Vec<Term>, Option<(f64, f64)>) {
    match (&cfg.jet, &cfg.turbulence) {
        (Some(j), _) => (jet_terms(&JetConstants::default()), Some((j.u1, j.sigma))),
        (None, Some(t)) => (turbulence_terms(&TurbulenceConstants::case1(t.kf)), None),
        (None, None) => (pyqg_terms(&cfg.model, &PyqgPhysics::default()), None),
    }
}

/// The family's term names with their truth (preset) coefficients, in the family's order.
pub fn family(cfg: &RunConfig) -> Vec<(String, f64)> {
    family_terms(cfg)
        .0
        .into_iter()
        .map(|t| (t.name().to_string(), t.coefficient))
        .collect()
}

/// The truth a config describes: its family with the `[terms]` coefficients.
pub fn build_truth(cfg: &RunConfig) -> Result<Model, Error> {
    build(cfg, false)
}

/// The model a config describes: the truth with the `[model_error]` changes applied.
pub fn build_model(cfg: &RunConfig) -> Result<Model, Error> {
    build(cfg, true)
}

fn build(cfg: &RunConfig, with_error: bool) -> Result<Model, Error> {
    let (mut terms, jet) = family_terms(cfg);
    let changes = cfg.terms.iter().map(|(k, v)| ("terms", k, v)).chain(
        with_error
            .then_some(&cfg.model_error.coefficients)
            .into_iter()
            .flatten()
            .map(|(k, v)| ("model_error", k, v)),
    );
    for (section, name, &value) in changes {
        match terms.iter_mut().find(|t| t.name() == name) {
            Some(t) => t.coefficient = value,
            None => {
                let names: Vec<&str> = terms.iter().map(Term::name).collect();
                return input_err!(
                    "invalid config: `{section}.{name}`: not a term of this model; its terms: {}",
                    names.join(", ")
                );
            }
        }
    }
    terms.extend(closure_terms(cfg)?);
    if let Some(c) = &cfg.correction {
        let parsed = c
            .terms
            .iter()
            .zip(c.upper.iter().zip(&c.lower))
            .map(|(t, (&a, &b))| Ok((Expr::parse(t)?, [a, b])))
            .collect::<Result<Vec<_>, medida_solver::SolverError>>()
            .map_err(|e| Error::Input(format!("invalid config: `correction`: {e}")))?;
        terms.push(correction_term(&parsed));
    }
    let invalid = |e: medida_solver::SolverError| Error::Input(format!("invalid config: {e}"));
    let mut spectral = Spectral::new(&cfg.model).map_err(invalid)?;
    if let Some((u1, sigma)) = jet {
        spectral = spectral.with_jet(u1, sigma);
    }
    Model::on(spectral.into(), cfg.model.clone(), terms).map_err(invalid)
}

/// The controller of the config's closure when it is a `train-rl` policy (its frozen, mean
/// action), for `model`.
pub fn controller(cfg: &RunConfig, model: &Model) -> Result<Option<Controller>, Error> {
    let Some(text) = cfg.closure.as_ref().and_then(|c| c.policy.as_ref()) else {
        return Ok(None);
    };
    let bad = |e: medida_discovery::DiscoveryError| {
        Error::Input(format!("invalid config: closure policy: {e}"))
    };
    let f = PolicyFile::from_json(text).map_err(bad)?;
    Ok(Some(
        Controller::new(f.policy, f.agents, model).map_err(bad)?,
    ))
}

/// The terms of the config's closure (none without one), added to the model's tendency.
pub fn closure_terms(cfg: &RunConfig) -> Result<Vec<Term>, Error> {
    let Some(c) = &cfg.closure else {
        return Ok(Vec::new());
    };
    let bad = |e: medida_discovery::DiscoveryError| Error::Input(format!("invalid config: {e}"));
    if let Some(text) = &c.policy {
        let f = PolicyFile::from_json(text).map_err(bad)?;
        return Ok(f.agents.closure.terms(&cfg.model));
    }
    match (&c.builtin, &c.library) {
        (Some(spec), _) => Ok(Baseline::parse(spec).map_err(bad)?.terms(&cfg.model)),
        (None, Some(lib)) => {
            discovered_terms(lib, &[c.upper.clone(), c.lower.clone()]).map_err(bad)
        }
        (None, None) => input_err!("invalid config: `closure` names no closure"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_error_case_applies_to_the_jet_model() {
        let cases: toml::Table = include_str!("../presets/model-errors.toml")
            .parse()
            .unwrap();
        assert_eq!(cases.len(), 9);
        for case in cases.keys() {
            let set = ["model.nx=16".to_string(), "model.ny=16".to_string()];
            let cfg = RunConfig::resolve(Some("medida-jet"), None, Some(case), &set).unwrap();
            let model = build_model(&cfg).unwrap_or_else(|e| panic!("{case}: {e}"));
            let truth = build_truth(&cfg).unwrap();
            for (name, value) in &cfg.model_error.coefficients {
                assert_eq!(model.coefficient(name), Some(*value), "{case}: {name}");
                assert_eq!(
                    truth.coefficient(name),
                    Some(cfg.terms[name]),
                    "{case}: {name}"
                );
            }
        }
    }
}

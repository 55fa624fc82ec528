//! Offline closure discovery: per layer, the subgrid forcing of training runs regressed on a
//! closure library evaluated on the coarse state (streamed Gram, no intercept, RMS-scaled
//! columns), then scored on held-out runs (R^2 and correlation as Ross et al. define them), beside
//! the same scores of fixed closures (the published hybrid-symbolic weights, Zanna-Bolton 2020).

use super::library::ClosureLibrary;
use super::metrics::{Scores, Skill};
use crate::error::DiscoveryError;
use crate::regression::plan::RowSink;
use crate::regression::{Plan, SparseFit};
use medida_solver::Model;
use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};

/// Forcing data: runs of coarse-grained states and their forcing, `(lev, y, x)` each.
pub trait ForcingData {
    /// Number of runs.
    fn runs(&self) -> usize;
    /// Snapshots of run `run`.
    fn snapshots(&self, run: usize) -> usize;
    /// The coarse state `q_bar` and the target forcing of snapshot `i` of run `run`.
    fn read(&self, run: usize, i: usize) -> Result<(Array3<f64>, Array3<f64>), DiscoveryError>;
}

/// Forcing data held in memory: per run, `(q_bar, forcing)` per snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForcingSet(pub Vec<Vec<(Array3<f64>, Array3<f64>)>>);

impl ForcingData for ForcingSet {
    fn runs(&self) -> usize {
        self.0.len()
    }
    fn snapshots(&self, run: usize) -> usize {
        self.0.get(run).map_or(0, Vec::len)
    }
    fn read(&self, run: usize, i: usize) -> Result<(Array3<f64>, Array3<f64>), DiscoveryError> {
        self.0
            .get(run)
            .and_then(|r| r.get(i))
            .cloned()
            .ok_or_else(|| DiscoveryError::Shape(format!("no snapshot {i} of run {run}")))
    }
}

/// A fixed closure scored beside the discovered one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// What it is.
    pub name: String,
    /// Its scores on the held-out runs, per layer.
    pub test: Vec<Scores>,
}

/// One layer's discovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    /// 1 = upper.
    pub layer: usize,
    /// The fit (one target: the layer's forcing).
    pub fit: SparseFit,
    /// The term kept at the strictest threshold of the sweep (the first one selected).
    pub first_term: Option<String>,
    /// Scores on the training runs.
    pub train: Scores,
    /// Scores on the held-out runs.
    pub test: Scores,
}

/// A closure discovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosureReport {
    /// The library, as specified.
    pub library: String,
    /// Column names.
    pub terms: Vec<String>,
    /// Runs fitted on.
    pub train_runs: Vec<usize>,
    /// Runs scored on.
    pub test_runs: Vec<usize>,
    /// Per layer.
    pub layers: Vec<LayerReport>,
    /// Fixed closures on the same held-out runs.
    pub references: Vec<Reference>,
}

impl ClosureReport {
    /// The coefficients per layer, `[layer][term]`.
    pub fn coefficients(&self) -> [Vec<f64>; 2] {
        std::array::from_fn(|lev| self.layers[lev].fit.coef.row(0).to_vec())
    }

    /// As printed: the closure per layer, the first term, and the scores beside the references.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "closure over library {} ({} terms), {}; trained on runs {:?}, scored on runs {:?}\n\n",
            self.library,
            self.terms.len(),
            self.layers.first().map_or("", |l| l.fit.method.as_str()),
            self.train_runs,
            self.test_runs
        );
        for l in &self.layers {
            out.push_str(&l.fit.equations(4));
        }
        out.push_str(&format!(
            "\n{:<34} {:>10} {:>10} {:>10} {:>10}\n",
            "held-out skill", "R^2 upper", "R^2 lower", "corr upper", "corr lower"
        ));
        let row = |name: &str, s: &[Scores]| {
            format!(
                "{name:<34} {:>10.3} {:>10.3} {:>10.3} {:>10.3}\n",
                s[0].r2, s[1].r2, s[0].correlation, s[1].correlation
            )
        };
        let test: Vec<Scores> = self.layers.iter().map(|l| l.test).collect();
        out.push_str(&row("discovered", &test));
        for r in &self.references {
            out.push_str(&row(&r.name, &r.test));
        }
        for l in &self.layers {
            out.push_str(&format!(
                "\nlayer {}: first term selected {}; training R^2 {:.3}, correlation {:.3}",
                l.layer,
                l.first_term.as_deref().unwrap_or("none"),
                l.train.r2,
                l.train.correlation
            ));
        }
        out.push('\n');
        out
    }
}

/// A closure discovery: library and regression.
#[derive(Debug, Clone)]
pub struct ClosureDiscovery {
    /// The library.
    pub library: ClosureLibrary,
    /// The regression (one target per layer).
    pub regression: Plan,
    /// Fixed closures to score beside the discovered one: name, library and coefficients.
    pub references: Vec<(String, ClosureLibrary, [Vec<f64>; 2])>,
}

impl ClosureDiscovery {
    /// Discovers a closure of `coarse` (the coarse model the forcing belongs to) from the runs
    /// `train` of `data` and scores it on the runs `test`.
    pub fn run(
        &self,
        data: &dyn ForcingData,
        coarse: &Model,
        train: &[usize],
        test: &[usize],
    ) -> Result<ClosureReport, DiscoveryError> {
        let eval = coarse.evaluator();
        self.library.check(&eval)?;
        for (_, lib, _) in &self.references {
            lib.check(&eval)?;
        }
        for &r in train.iter().chain(test) {
            if r >= data.runs() || data.snapshots(r) == 0 {
                return Err(DiscoveryError::Shape(format!(
                    "run {r}: the data have {} runs{}",
                    data.runs(),
                    if r < data.runs() {
                        " and this one has no snapshots"
                    } else {
                        ""
                    }
                )));
            }
        }
        if train.is_empty() || test.is_empty() {
            return Err(DiscoveryError::Degenerate(
                "give training and held-out runs".into(),
            ));
        }
        let names = self.library.library();
        let p = names.len();
        let g = coarse.grid();
        let rows: usize = train.iter().map(|&r| data.snapshots(r) * g.n_phys()).sum();
        let mut layers = Vec::new();
        for lev in 0..2 {
            let target = format!("S_q{}", lev + 1);
            let pass = |sink: &mut RowSink<DiscoveryError>| {
                each_snapshot(data, coarse, train, |model, forcing| {
                    let x = columns(&self.library, lev, model)?;
                    let y = forcing.index_axis(Axis(0), lev);
                    let y = Array2::from_shape_vec((g.n_phys(), 1), y.iter().copied().collect())
                        .expect("one value per point");
                    sink.push(x.view(), y.view())
                })
            };
            let out = self
                .regression
                .run(rows, p, 1, &names, &[target.as_str()], pass)?;
            let first_term = out.selection.as_ref().and_then(|s| {
                s.path
                    .iter()
                    .rev()
                    .find(|pt| pt.support.first().is_some_and(|s| !s.is_empty()))
                    .map(|pt| names.names()[pt.support[0][0]].clone())
            });
            let coef = out.fit.coef.row(0).to_vec();
            let score = |runs: &[usize]| score_layer(data, coarse, runs, &self.library, lev, &coef);
            layers.push(LayerReport {
                layer: lev + 1,
                train: score(train)?,
                test: score(test)?,
                first_term,
                fit: out.fit,
            });
        }
        let references = self
            .references
            .iter()
            .map(|(name, lib, coef)| {
                let test = (0..2)
                    .map(|lev| score_layer(data, coarse, test, lib, lev, &coef[lev]))
                    .collect::<Result<_, _>>()?;
                Ok(Reference {
                    name: name.clone(),
                    test,
                })
            })
            .collect::<Result<_, DiscoveryError>>()?;
        Ok(ClosureReport {
            library: self.library.spec().to_string(),
            terms: names.names().to_vec(),
            train_runs: train.to_vec(),
            test_runs: test.to_vec(),
            layers,
            references,
        })
    }
}

/// Calls `f` with the coarse model set to every snapshot of `runs`, and the snapshot's forcing.
fn each_snapshot(
    data: &dyn ForcingData,
    coarse: &Model,
    runs: &[usize],
    mut f: impl FnMut(&Model, &Array3<f64>) -> Result<(), DiscoveryError>,
) -> Result<(), DiscoveryError> {
    let mut model = coarse.clone();
    let g = coarse.grid();
    for &r in runs {
        for i in 0..data.snapshots(r) {
            let (q, forcing) = data.read(r, i)?;
            if forcing.shape() != [2, g.ny, g.nx] {
                return Err(DiscoveryError::Shape(format!(
                    "run {r}, snapshot {i}: forcing of shape {:?} for a {} x {} coarse model",
                    forcing.shape(),
                    g.nx,
                    g.ny
                )));
            }
            model.set_q(q.view())?;
            f(&model, &forcing)?;
        }
    }
    Ok(())
}

/// The closure `sum_j coef[lev][j] column_j` of `lib` on `model`'s state, `(lev, y, x)`: what
/// it adds to dq/dt of the coarse model.
pub fn predict(
    lib: &ClosureLibrary,
    coef: &[Vec<f64>; 2],
    model: &Model,
) -> Result<Array3<f64>, DiscoveryError> {
    let g = model.grid();
    let mut out = Array3::zeros((2, g.ny, g.nx));
    for (lev, c) in coef.iter().enumerate() {
        if c.len() != lib.columns().len() {
            return Err(DiscoveryError::Shape(format!(
                "layer {}: {} coefficients for {} terms",
                lev + 1,
                c.len(),
                lib.columns().len()
            )));
        }
        let pred = layer_prediction(lib, lev, c, model)?;
        out.index_axis_mut(Axis(0), lev)
            .iter_mut()
            .zip(&pred)
            .for_each(|(d, s)| *d = *s);
    }
    Ok(out)
}

/// `sum_j coef_j column_j` of `lib` in layer `lev` on `model`'s state, one value per point.
fn layer_prediction(
    lib: &ClosureLibrary,
    lev: usize,
    coef: &[f64],
    model: &Model,
) -> Result<ndarray::Array1<f64>, DiscoveryError> {
    Ok(columns(lib, lev, model)?.dot(&ndarray::ArrayView1::from(coef)))
}

/// The library's columns in layer `lev` on `model`'s state, `(points, terms)`.
fn columns(lib: &ClosureLibrary, lev: usize, model: &Model) -> Result<Array2<f64>, DiscoveryError> {
    let mut eval = model.evaluator();
    let state = model.spectral_state();
    let n = model.grid().n_phys();
    let mut x = Array2::zeros((n, lib.columns().len()));
    for (j, c) in lib
        .columns_in_layer(lev, &mut eval, &state)?
        .into_iter()
        .enumerate()
    {
        x.column_mut(j)
            .iter_mut()
            .zip(&c)
            .for_each(|(d, s)| *d = *s);
    }
    Ok(x)
}

/// R^2 and correlation of `sum_j coef_j column_j` against the forcing of layer `lev` over `runs`.
fn score_layer(
    data: &dyn ForcingData,
    coarse: &Model,
    runs: &[usize],
    lib: &ClosureLibrary,
    lev: usize,
    coef: &[f64],
) -> Result<Scores, DiscoveryError> {
    let mut skill = Skill::default();
    each_snapshot(data, coarse, runs, |model, forcing| {
        let pred = layer_prediction(lib, lev, coef, model)?;
        let truth: Vec<f64> = forcing.index_axis(Axis(0), lev).iter().copied().collect();
        skill.add(&truth, pred.as_slice().expect("a fresh vector"));
        Ok(())
    })?;
    Ok(skill.scores())
}

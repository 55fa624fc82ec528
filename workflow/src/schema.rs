//! The layout of medida's outputs: pyqg's names, dims `(time, lev, y, x)`, units, every
//! parameter and every term's coefficient (and pyqg's names for those pyqg has) as attributes.

use crate::config::RunConfig;
use medida_data::{AttrValue, Coordinate, Precision, Schema, Variable};
use medida_solver::Model;

/// Diagnostics series written to the `diagnostics` group: name, units, long name.
pub const SERIES: [(&str, &str, &str); 9] = [
    ("ke", "m^2 s^-2", "depth-weighted kinetic energy"),
    ("ke1", "m^2 s^-2", "upper-layer kinetic energy"),
    ("ke2", "m^2 s^-2", "lower-layer kinetic energy"),
    ("ape", "m^2 s^-2", "available potential energy"),
    ("energy", "m^2 s^-2", "total energy"),
    ("enstrophy", "s^-2", "depth-weighted enstrophy"),
    ("enstrophy1", "s^-2", "upper-layer enstrophy"),
    ("enstrophy2", "s^-2", "lower-layer enstrophy"),
    ("cfl", "1", "CFL number"),
];

/// pyqg's spectral fields written with `output.spectral` (complex, dims `lev, l, k`): name, SI
/// units, long name.
pub const SPECTRAL: [(&str, &str, &str); 2] = [
    (
        "qh",
        "s^-1",
        "potential vorticity in spectral space: rfft2(q), unnormalised (pyqg qh)",
    ),
    (
        "ph",
        "m^2 s^-1",
        "streamfunction in spectral space: rfft2(p), unnormalised (pyqg ph)",
    ),
];

/// pyqg's parameter names of term coefficients, written as attributes too.
const PYQG_NAMES: [(&str, &str); 4] = [
    ("beta", "beta"),
    ("U1", "background_flow1"),
    ("U2", "background_flow2"),
    ("rek", "bottom_drag"),
];

/// The MEDIDA study's names of the jet's term coefficients, written as attributes too.
const JET_NAMES: [(&str, &str); 5] = [
    ("c_J", "advection"),
    ("tau_f", "bottom_drag"),
    ("tau_d1", "interface_relaxation"),
    ("tau_d2", "jet_forcing"),
    ("nu", "hyperviscosity"),
];

/// pyqg's `to_dataset()` attributes (`pyqg:rd`, `pyqg:beta`, ...) that a medida run has.
fn pyqg_attrs(cfg: &RunConfig, model: &Model) -> Vec<(String, AttrValue)> {
    let p = &cfg.model;
    let n = |x: usize| AttrValue::I64(x as i64);
    let x = AttrValue::F64;
    let mut out = vec![
        ("nx", n(p.nx)),
        ("ny", n(p.ny)),
        ("nz", n(2)),
        ("nk", n(p.nx / 2 + 1)),
        ("nl", n(p.ny)),
        ("M", n(p.nx * p.ny)),
        ("L", x(p.L)),
        ("W", x(p.W)),
        ("dt", x(p.dt)),
        ("rd", x(p.rd)),
        ("delta", x(p.delta)),
        ("filterfac", x(p.filterfac)),
        ("tmax", x(cfg.total_steps() as f64 * p.dt)),
    ];
    for (pyqg, term) in [("beta", "beta"), ("rek", "bottom_drag")] {
        if let Some(c) = model.coefficient(term) {
            out.push((pyqg, x(c)));
        }
    }
    if let Some(t) = cfg.output.tavestart {
        out.push(("tavestart", x(t)));
    }
    out.into_iter()
        .map(|(k, v)| (format!("pyqg:{k}"), v))
        .collect()
}

/// The output layout: pyqg's names, dims (time, lev, y, x), units, every parameter and every
/// term's coefficient as an attribute. The MEDIDA jet is non-dimensional: its units are "1".
pub fn run_schema(cfg: &RunConfig, model: &Model, init: &str) -> Schema {
    let title = match (&cfg.jet, &cfg.turbulence) {
        (Some(_), _) => {
            "medida two-layer quasi-geostrophic run (MEDIDA forced jet, non-dimensional)"
        }
        (None, Some(_)) => {
            "medida forced 2-D turbulence run (two uncoupled layers: two realizations, non-dimensional)"
        }
        (None, None) => "medida two-layer quasi-geostrophic run (pyqg physics)",
    };
    let mut schema = field_schema(
        cfg,
        model,
        title,
        &[
            ("q", "s^-1", "potential vorticity anomaly"),
            ("p", "m^2 s^-1", "streamfunction"),
            (
                "u",
                "m s^-1",
                "zonal velocity anomaly (without the background flow U)",
            ),
            ("v", "m s^-1", "meridional velocity"),
            (
                "ufull",
                "m s^-1",
                "zonal full velocity u + Ubg (pyqg ufull)",
            ),
            ("vfull", "m s^-1", "meridional full velocity (pyqg vfull)"),
        ],
    );
    if !init.is_empty() {
        schema
            .attrs
            .push(("initial_condition".into(), AttrValue::Str(init.into())));
    }
    let g = model.grid();
    let unit = units(cfg);
    if cfg.output.spectral {
        let coord = |name: &str, values: Vec<f64>, long_name: &str| Coordinate {
            name: name.into(),
            values,
            units: unit("m^-1"),
            long_name: long_name.into(),
            integer: false,
        };
        schema.coords.push(coord(
            "l",
            g.ll.clone(),
            "meridional wavenumber (FFT order)",
        ));
        schema
            .coords
            .push(coord("k", g.kk.clone(), "zonal wavenumber"));
        for (name, units, long_name) in SPECTRAL {
            schema.variables.push(Variable {
                name: name.into(),
                dims: vec!["lev".into(), "l".into(), "k".into()],
                units: unit(units),
                long_name: long_name.into(),
                complex: true,
            });
        }
    }
    for c in crate::kept::kept_coords(cfg, g, "", 0) {
        if !schema.coords.iter().any(|o| o.name == c.name) {
            schema.coords.push(c);
        }
    }
    schema.series = diagnostics_series(cfg);
    schema
}

/// The diagnostics series of a run of `cfg` ([`SERIES`], in its units).
pub fn diagnostics_series(cfg: &RunConfig) -> Vec<Variable> {
    let unit = units(cfg);
    SERIES
        .iter()
        .map(|(n, u, l)| Variable {
            name: (*n).into(),
            dims: vec![],
            units: unit(u),
            long_name: (*l).into(),
            complex: false,
        })
        .collect()
}

/// SI units for pyqg runs, `"1"` for the non-dimensional jet and 2-D turbulence.
pub fn units(cfg: &RunConfig) -> impl Fn(&str) -> String {
    let dimensional = cfg.is_dimensional();
    move |si: &str| {
        if dimensional {
            si.to_string()
        } else {
            "1".to_string()
        }
    }
}

/// A file of `(time, lev, y, x)` fields `(name, SI units, long name)` of the model `cfg`
/// describes: coordinates, the full config and every parameter and term coefficient as attributes,
/// no diagnostics series.
pub fn field_schema(
    cfg: &RunConfig,
    model: &Model,
    title: &str,
    fields: &[(&str, &str, &str)],
) -> Schema {
    let g = model.grid();
    let p = &cfg.model;
    let unit = units(cfg);
    let coord = |name: &str, values: Vec<f64>, units: &str, long_name: &str| Coordinate {
        name: name.into(),
        values,
        units: unit(units),
        long_name: long_name.into(),
        integer: false,
    };
    let mut attrs: Vec<(String, AttrValue)> = vec![
        ("title".into(), AttrValue::Str(title.into())),
        (
            "medida_version".into(),
            AttrValue::Str(env!("CARGO_PKG_VERSION").into()),
        ),
        ("config".into(), AttrValue::Str(cfg.to_toml())),
    ];
    let table = toml::Table::try_from(p).expect("parameters serialise");
    for (k, v) in table {
        let value = match v {
            toml::Value::Integer(i) => AttrValue::I64(i),
            toml::Value::Float(x) => AttrValue::F64(x),
            // A string as itself (not its TOML form, which is quoted).
            toml::Value::String(text) => AttrValue::Str(text),
            other => AttrValue::Str(other.to_string()),
        };
        attrs.push((k, value));
    }
    // pyqg's names for the coefficients pyqg has, beside every term's coefficient below.
    for (pyqg, term) in PYQG_NAMES {
        if let Some(c) = model.coefficient(term) {
            attrs.push((pyqg.into(), AttrValue::F64(c)));
        }
    }
    attrs.extend(pyqg_attrs(cfg, model));
    if let Some(jet) = &cfg.jet {
        attrs.push(("jet_sigma".into(), AttrValue::F64(jet.sigma)));
        attrs.push(("jet_u1".into(), AttrValue::F64(jet.u1)));
        // The study's names: the jet's profile and its terms' coefficients.
        attrs.push(("sigma".into(), AttrValue::F64(jet.sigma)));
        attrs.push(("u1".into(), AttrValue::F64(jet.u1)));
        for (study, term) in JET_NAMES {
            if let Some(c) = model.coefficient(term) {
                attrs.push((study.into(), AttrValue::F64(c)));
            }
        }
    }
    if let Some(t) = &cfg.turbulence {
        attrs.push(("turbulence_kf".into(), AttrValue::F64(t.kf)));
    }
    let [qy1, qy2] = model.qy();
    for (k, x) in [
        ("H2", p.h2()),
        ("F1", p.f1()),
        ("F2", p.f2()),
        ("Qy1", qy1),
        ("Qy2", qy2),
    ] {
        attrs.push((k.into(), AttrValue::F64(x)));
    }
    for t in model.terms() {
        attrs.push((
            format!("coefficient_{}", t.name()),
            AttrValue::F64(t.coefficient),
        ));
        attrs.push((format!("term_{}", t.name()), AttrValue::Str(t.symbol())));
    }
    if let Some(case) = &cfg.model_error.case {
        attrs.push(("model_error_case".into(), AttrValue::Str(case.clone())));
    }
    let per_layer = |name: &str, units: &str, long_name: &str, values: [f64; 2]| {
        let v = Variable {
            name: name.into(),
            dims: vec!["lev".into()],
            units: unit(units),
            long_name: long_name.into(),
            complex: false,
        };
        (v, values.to_vec())
    };
    Schema {
        coords: vec![
            Coordinate {
                integer: true,
                ..coord("lev", vec![1.0, 2.0], "1", "layer (1 = upper)")
            },
            coord("lev_mid", vec![1.5], "1", "interface between the layers"),
            coord("y", g.y(), "m", "meridional position (cell centres)"),
            coord("x", g.x(), "m", "zonal position (cell centres)"),
        ],
        variables: fields
            .iter()
            .map(|(name, u, long_name)| Variable {
                name: (*name).into(),
                dims: vec!["lev".into(), "y".into(), "x".into()],
                units: unit(u),
                long_name: (*long_name).into(),
                complex: false,
            })
            .collect(),
        series: Vec::new(),
        fixed: vec![
            per_layer(
                "Ubg",
                "m s^-1",
                "background zonal velocity",
                model.background_flow(),
            ),
            per_layer(
                "Qy",
                "m^-1 s^-1",
                "background potential vorticity gradient",
                model.qy(),
            ),
        ],
        attrs,
        precision: if cfg.output.precision == "f32" {
            Precision::F32
        } else {
            Precision::F64
        },
        compression: cfg.output.compression,
        time_units: unit("s"),
        // A run writing its output in place allocates its records (`Run::create`).
        records: None,
    }
}

//! The config reader never panics: TOML made of the presets' own keys (and unknown ones) with
//! values of every type (numbers at and beyond every range, NaN, infinities, strings, booleans,
//! arrays, tables) is a config or a named error; a config that is accepted builds its model (grids
//! up to 256 x 256 are built; larger ones only read). Bounded so that it runs in CI, from a fixed
//! seed (the same cases every run; change it to explore more); a failure prints the minimal case.

use medida_workflow::{RunConfig, build_model};
use proptest::prelude::*;

/// `(section, key)` of every setting of the three presets, and two that exist nowhere.
const KEYS: &[(&str, &str)] = &[
    ("model", "nx"),
    ("model", "ny"),
    ("model", "L"),
    ("model", "W"),
    ("model", "dt"),
    ("model", "rd"),
    ("model", "delta"),
    ("model", "H1"),
    ("model", "filterfac"),
    ("model", "stepper"),
    ("model", "dealias"),
    ("model", "robert_asselin"),
    ("jet", "sigma"),
    ("jet", "u1"),
    ("turbulence", "kf"),
    ("terms", "advection"),
    ("terms", "beta"),
    ("terms", "bottom_drag"),
    ("terms", "background_flow1"),
    ("terms", "hyperviscosity"),
    ("terms", "kolmogorov_forcing"),
    ("init", "seed"),
    ("init", "scale"),
    ("run", "steps"),
    ("run", "tmax"),
    ("run", "spinup"),
    ("run", "threads"),
    ("output", "snapshot_interval"),
    ("output", "diagnostics_interval"),
    ("output", "checkpoint_interval"),
    ("output", "precision"),
    ("output", "compression"),
    ("output", "spectral"),
    ("output", "tavestart"),
    ("output", "taveint"),
    ("model_error", "case"),
    ("model_error", "bottom_drag"),
    ("closure", "name"),
    ("model", "nz"),
    ("nowhere", "x"),
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "1",
            "-1",
            "2",
            "7",
            "8",
            "64",
            "65",
            "8192",
            "8194",
            "100000",
            "9223372036854775807",
            "-9223372036854775808",
            "0.0",
            "1e-300",
            "1e300",
            "-1e300",
            "nan",
            "inf",
            "-inf",
            "0.5",
            "-0.025",
            "3600.0",
            "\"ab3\"",
            "\"leapfrog\"",
            "\"rk4\"",
            "\"two-thirds\"",
            "\"f32\"",
            "\"case1002\"",
            "\"\"",
            "\"x\"",
            "true",
            "false",
            "[1, 2]",
            "{ a = 1 }",
        ])
        .prop_map(str::to_string),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        any::<i64>().prop_map(|x| x.to_string()),
    ]
}

fn config() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["pyqg-eddy", "medida-jet", "2d-turbulence"]),
        prop::collection::vec((prop::sample::select(KEYS), value()), 0..6),
    )
        .prop_map(|(preset, changes)| {
            let base = RunConfig::resolve(Some(preset), None, None, &[]).unwrap();
            let mut table: toml::Table = base.to_toml().parse().unwrap();
            for ((section, key), value) in changes {
                let v: toml::Value =
                    format!("v = {value}").parse::<toml::Table>().unwrap()["v"].clone();
                table
                    .entry(section)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .map(|t| t.insert(key.to_string(), v));
            }
            table.to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261203), ..ProptestConfig::default() })]

    #[test]
    fn any_config_is_a_model_or_a_named_error(text in config()) {
        if let Ok(cfg) = RunConfig::from_toml(&text)
            && cfg.model.nx * cfg.model.ny <= 256 * 256
        {
            let _ = build_model(&cfg);
        }
    }

    #[test]
    fn arbitrary_text_is_not_a_crash(text in "\\PC{0,200}") {
        let _ = RunConfig::from_toml(&text);
    }
}

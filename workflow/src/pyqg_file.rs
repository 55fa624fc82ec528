//! The configuration of a file: a medida file's own (`config` attribute), or for pyqg's own
//! files (`m.to_dataset().to_netcdf(...)`) the pyqg-eddy preset with the file's parameters.

use crate::Error;
use crate::config::RunConfig;
use medida_data::{read_array, read_number_attr, read_text_attr};
use std::path::Path;

type Result<T> = std::result::Result<T, Error>;

/// pyqg's attributes taken from its file, with the config key each sets.
const PYQG_KEYS: [(&str, &str); 10] = [
    ("pyqg:nx", "model.nx"),
    ("pyqg:ny", "model.ny"),
    ("pyqg:L", "model.L"),
    ("pyqg:W", "model.W"),
    ("pyqg:dt", "model.dt"),
    ("pyqg:rd", "model.rd"),
    ("pyqg:delta", "model.delta"),
    ("pyqg:filterfac", "model.filterfac"),
    ("pyqg:beta", "terms.beta"),
    ("pyqg:rek", "terms.bottom_drag"),
];

/// The config TOML of the run in `path`: its `config` attribute (a medida file), or the config
/// of a pyqg file ([`pyqg_config`]).
pub fn config_text(path: &Path) -> Result<String> {
    match read_text_attr(path, "config") {
        Ok(text) => Ok(text),
        Err(e) => match pyqg_config(path)? {
            Some(cfg) => Ok(cfg.to_toml()),
            None => Err(Error::Input(format!(
                "{}: {e} (is it a file written by medida, or pyqg's to_dataset()?)",
                path.display()
            ))),
        },
    }
}

/// A pyqg dataset's parameters as a config: the pyqg-eddy preset (pyqg's defaults) with the
/// file's `pyqg:` attributes (`nx`, `ny`, `L`, `W`, `dt`, `rd`, `delta`, `filterfac`, `beta`,
/// `rek`) and background flow (`Ubg` on `lev`: `U1`, `U2`). `H1` is not in pyqg's files: it
/// stays pyqg's default, 500 m (it weights the layers' energies, not the dynamics, which `delta`
/// sets). `None` for a medida file (it has its own `config`) or a file without `pyqg:nx`.
pub fn pyqg_config(path: &Path) -> Result<Option<RunConfig>> {
    if read_text_attr(path, "config").is_ok() || read_number_attr(path, "pyqg:nx").is_err() {
        return Ok(None);
    }
    let bad = |what: String| Error::Input(format!("{}: {what}", path.display()));
    let mut sets = Vec::new();
    for (attr, key) in PYQG_KEYS {
        let x = read_number_attr(path, attr).map_err(|e| bad(e.to_string()))?;
        sets.push(format!("{key}={}", toml_number(key, x)));
    }
    // On `lev`, or on `(time, lev)` after `xr.concat` of several `to_dataset()`s: the same each time.
    let ubg = read_array(path, "Ubg").map_err(|e| bad(format!("{e} (pyqg's Ubg)")))?;
    let values: Vec<f64> = ubg.iter().copied().collect();
    let rows: Vec<&[f64]> = values.chunks(2).collect();
    if ubg.shape().last() != Some(&2) || rows.is_empty() || rows.iter().any(|r| r != &rows[0]) {
        return Err(bad(format!(
            "Ubg of shape {:?}: allowed one background flow per layer, 2 layers, the same at every time",
            ubg.shape()
        )));
    }
    sets.push(format!("terms.background_flow1={:?}", rows[0][0]));
    sets.push(format!("terms.background_flow2={:?}", rows[0][1]));
    RunConfig::resolve(Some("pyqg-eddy"), None, None, &sets)
        .map(Some)
        .map_err(|e| bad(format!("its pyqg parameters: {e}")))
}

/// `x` as TOML for `key`: an integer for the grid sizes, a float otherwise.
fn toml_number(key: &str, x: f64) -> String {
    if key.ends_with(".nx") || key.ends_with(".ny") {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

//! Runs from configurations, for the command line and the Python package alike: the config
//! schema with its presets and model-error cases ([`config`]), the model a config describes
//! ([`model`]), simulations written to files with checkpoints and restarts ([`simulate`]), and
//! the model-error pipeline over files ([`increments`], [`discover`], [`demo`]), and the config of
//! a medida or pyqg file ([`pyqg_file`]). Progress is
//! reported through [`Progress`]; errors say whether they are bad input ([`Error::is_input`]).

pub mod calibrate;
pub mod checkpoint;
pub mod closure;
pub mod config;
pub mod demo;
pub mod discover;
pub mod ensemble;
mod error;
pub mod evaluate;
pub mod fit;
pub mod flags;
pub mod increments;
mod kept;
pub mod model;
pub mod observe;
pub mod progress;
pub mod pyqg_file;
pub mod regression;
pub mod schema;
pub mod score;
pub mod simulate;
pub mod train_rl;

pub use config::RunConfig;
pub use error::{Context, Error};
pub use model::{build_model, build_truth};
pub use progress::{Progress, Silent};

/// `--threads N`: a whole number from 1 to 256 (the range of `run.threads`).
pub fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        _ => Err(format!(
            "`{text}`: allowed a whole number of threads from 1 to 256"
        )),
    }
}

/// Refuses an output that exists (unless `overwrite`) or that is the input `init`: a second
/// run must not replace a first, nor a run its own initial state.
pub(crate) fn check_out(
    out: &std::path::Path,
    overwrite: bool,
    init: Option<&std::path::Path>,
) -> Result<(), Error> {
    if init.is_some_and(|i| same_file(i, out)) {
        return error::input_err!(
            "--out {} is the input file: choose another --out",
            out.display()
        );
    }
    if out.exists() && !overwrite {
        return error::input_err!(
            "--out {} exists: choose another --out, or replace it with --overwrite (a simulate run continues with --restart)",
            out.display()
        );
    }
    Ok(())
}

/// Whether `a` and `b` name the same file (a path to a file not yet written names itself only).
pub(crate) fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b
        || a.canonicalize()
            .is_ok_and(|a| b.canonicalize().is_ok_and(|b| a == b))
}

/// Writes `bytes` to `path` whole or not at all: under a temporary name of this process, synced,
/// then renamed.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let tmp = path.with_file_name(format!(".{name}.part-{}", std::process::id()));
    let written = (|| -> Result<(), Error> {
        let io = |what: &str, e| Error::Io(format!("{what} {}", tmp.display()), e);
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
        f.write_all(bytes).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("sync", e))?;
        drop(f);
        std::fs::rename(&tmp, path)
            .map_err(|e| Error::Io(format!("rename to {}", path.display()), e))
    })();
    if written.is_err() {
        // Nothing half-written stays behind (a full disk, a failed rename).
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

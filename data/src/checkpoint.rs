//! Checkpoints: named arrays, numbers and texts in one small HDF5 file, replaced atomically
//! (written under a temporary name, fsynced, renamed, directory fsynced), so a process killed at
//! any moment leaves either the previous complete checkpoint or the new one.

use crate::error::{Context, DataError};
use crate::output::{sync, tmp_path};
use hdf5::File;
use hdf5::types::VarLenUnicode;
use ndarray::ArrayD;
use std::path::Path;

/// Marker attribute that identifies a medida checkpoint, with the format version.
const MARKER: &str = "medida_checkpoint_version";
const VERSION: i64 = 1;

/// The contents of a checkpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// Named arrays (stored as datasets).
    pub arrays: Vec<(String, ArrayD<f64>)>,
    /// Named numbers (stored as attributes).
    pub numbers: Vec<(String, f64)>,
    /// Named texts (stored as attributes).
    pub texts: Vec<(String, String)>,
}

impl Checkpoint {
    /// Writes the checkpoint to `path`, atomically replacing any previous one (and removing the
    /// temporaries of killed runs).
    pub fn write_atomic(&self, path: &Path) -> Result<(), DataError> {
        let tmp = tmp_path(path);
        let result = self.write(&tmp).and_then(|_| sync(&tmp));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, path).at(path, "rename checkpoint into place")?;
        crate::output::remove_stale_tmps(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .at(dir, "fsync directory")?;
        }
        Ok(())
    }

    fn write(&self, path: &Path) -> Result<(), DataError> {
        let file = File::create(path).at(path, "create checkpoint")?;
        let w = || -> hdf5::Result<()> {
            file.new_attr::<i64>()
                .shape(())
                .create(MARKER)?
                .write_scalar(&VERSION)?;
            for (name, a) in &self.arrays {
                file.new_dataset_builder()
                    .with_data(a)
                    .create(name.as_str())?;
            }
            for (name, x) in &self.numbers {
                file.new_attr::<f64>()
                    .shape(())
                    .create(name.as_str())?
                    .write_scalar(x)?;
            }
            for (name, t) in &self.texts {
                let v: VarLenUnicode =
                    t.parse().map_err(|e| hdf5::Error::from(format!("{e:?}")))?;
                file.new_attr::<VarLenUnicode>()
                    .shape(())
                    .create(name.as_str())?
                    .write_scalar(&v)?;
            }
            file.flush()
        };
        w().at(path, "write checkpoint")?;
        file.close().at(path, "close checkpoint")
    }

    /// Reads a checkpoint. A file that is missing, truncated, not HDF5, or not a medida checkpoint
    /// is an error that names the file.
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).at(path, "open checkpoint")?;
        let version: i64 = file
            .attr(MARKER)
            .and_then(|a| a.read_scalar())
            .map_err(|_| DataError::Invalid {
                path: path.into(),
                what: "not a medida checkpoint".into(),
            })?;
        if version != VERSION {
            return Err(DataError::Invalid {
                path: path.into(),
                what: format!("checkpoint format {version}, this medida reads {VERSION}"),
            });
        }
        let mut out = Self::default();
        for name in file.member_names().at(path, "list datasets")? {
            let a = file
                .dataset(&name)
                .and_then(|d| d.read_dyn::<f64>())
                .at(path, format!("read {name}"))?;
            out.arrays.push((name, a));
        }
        for name in file.attr_names().at(path, "list attributes")? {
            if name == MARKER {
                continue;
            }
            let attr = file.attr(&name).at(path, format!("attribute {name}"))?;
            match attr.read_scalar::<f64>() {
                Ok(x) => out.numbers.push((name, x)),
                Err(_) => {
                    let t: VarLenUnicode =
                        attr.read_scalar().at(path, format!("attribute {name}"))?;
                    out.texts.push((name, t.as_str().to_owned()));
                }
            }
        }
        Ok(out)
    }

    /// The array called `name`.
    pub fn array(&self, name: &str) -> Option<&ArrayD<f64>> {
        self.arrays.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
    /// The number called `name`.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.numbers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, x)| *x)
    }
    /// The text called `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_truncated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.h5");
        let a = ndarray::Array::from_shape_fn((2, 3, 4), |(i, j, k)| {
            (i * 100 + j * 10 + k) as f64 * 0.1
        })
        .into_dyn();
        let c = Checkpoint {
            arrays: vec![("qh".into(), a.clone())],
            numbers: vec![("tc".into(), 12.0)],
            texts: vec![("config".into(), "[model]\nnx = 64\n".into())],
        };
        c.write_atomic(&path).unwrap();
        let back = Checkpoint::read(&path).unwrap();
        assert_eq!(back.array("qh").unwrap(), &a);
        assert_eq!(back.number("tc"), Some(12.0));
        assert_eq!(back.text("config"), c.text("config"));
        assert!(
            !dir.path()
                .join(format!("c.h5.tmp-{}", std::process::id()))
                .exists()
        );

        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.h5");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let e = Checkpoint::read(&cut).unwrap_err().to_string();
        assert!(e.contains("cut.h5"), "{e}");
    }
}

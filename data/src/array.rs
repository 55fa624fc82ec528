//! Reading arrays from any HDF5 file: a whole named dataset (a user's initial state), or the rows
//! of a 1-D or 2-D dataset a slice at a time (a design matrix larger than memory).

use crate::error::{Context, DataError};
use ndarray::{Array2, ArrayD, Axis, s};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The dataset `name` of the HDF5 file at `path`, as f64; of a record dataset of an output
/// written in place, only the records written (a run's output while it runs, or after a kill).
pub fn read_array(path: &Path, name: &str) -> Result<ArrayD<f64>, DataError> {
    let file = hdf5::File::open(path).at(path, "open")?;
    let ds = file.dataset(name).at(path, format!("dataset `{name}`"))?;
    let read = match records_written(&file, &ds, name) {
        Some(n) => {
            crate::output::records_selection(0..n, ds.ndim()).and_then(|sel| ds.read_slice(sel))
        }
        None => ds.read_dyn::<f64>(),
    };
    read.at(path, format!("read `{name}`"))
}

/// How many of `ds`'s records are written, when `ds` (named `name`) is a record dataset of an
/// output written in place that has room for more ([`crate::Records`]): its first dimension is
/// that of the allocated time coordinate beside it (`time`, or the diagnostics' own).
fn records_written(file: &hdf5::File, ds: &hdf5::Dataset, name: &str) -> Option<usize> {
    let time = match name.trim_start_matches('/').split_once('/') {
        Some((group, _)) if group == crate::output::DIAGNOSTICS_GROUP => {
            format!("{group}/{}", crate::SERIES_TIME)
        }
        Some(_) => return None,
        None => "time".into(),
    };
    let time = file.dataset(&time).ok()?;
    let len = time.shape()[0];
    let n = crate::output::written_records(&time).ok()?;
    (n < len && ds.ndim() >= 1 && ds.shape()[0] == len).then_some(n)
}

/// Whether the HDF5 file at `path` opens and holds every dataset of `names` (nothing is read).
pub fn has_datasets(path: &Path, names: &[&str]) -> bool {
    hdf5::File::open(path).is_ok_and(|f| names.iter().all(|n| f.link_exists(n)))
}

/// A 2-D table read a slice of rows at a time: `(rows, columns)` and rows by range.
pub trait Rows {
    /// `(rows, columns)`; a 1-D array is one column.
    fn shape(&self) -> (usize, usize);
    /// Rows `range` as a `rows x columns` array.
    fn read(&self, range: Range<usize>) -> Result<Array2<f64>, DataError>;
}

impl Rows for RowReader {
    fn shape(&self) -> (usize, usize) {
        self.shape()
    }
    fn read(&self, range: Range<usize>) -> Result<Array2<f64>, DataError> {
        self.read(range)
    }
}

impl Rows for crate::npy::NpyRows {
    fn shape(&self) -> (usize, usize) {
        self.shape()
    }
    fn read(&self, range: Range<usize>) -> Result<Array2<f64>, DataError> {
        self.read(range)
    }
}

/// Opens `spec`: a float64 `.npy` file, or `FILE.h5:DATASET` (also `.hdf5`, `.nc`).
pub fn open_rows(spec: &str) -> Result<Box<dyn Rows>, DataError> {
    let h5 = spec
        .rsplit_once(':')
        .filter(|(f, _)| [".h5", ".hdf5", ".nc"].iter().any(|e| f.ends_with(e)));
    match h5 {
        Some((file, name)) => Ok(Box::new(RowReader::open(Path::new(file), name)?)),
        None => Ok(Box::new(crate::npy::NpyRows::open(Path::new(spec))?)),
    }
}

/// A 1-D (`n`) or 2-D (`n x k`) dataset read by rows.
#[derive(Debug)]
pub struct RowReader {
    path: PathBuf,
    ds: hdf5::Dataset,
    rows: usize,
    cols: usize,
}

impl RowReader {
    /// Opens dataset `name` of `path`.
    pub fn open(path: &Path, name: &str) -> Result<Self, DataError> {
        let file = hdf5::File::open(path).at(path, "open")?;
        let ds = file.dataset(name).at(path, format!("dataset `{name}`"))?;
        let shape = ds.shape();
        let (rows, cols) = match shape[..] {
            [n] => (n, 1),
            [n, k] => (n, k),
            _ => {
                return Err(DataError::Invalid {
                    path: path.into(),
                    what: format!(
                        "dataset `{name}` has shape {shape:?}; expected (rows,) or (rows, columns)"
                    ),
                });
            }
        };
        Ok(Self {
            path: path.into(),
            ds,
            rows,
            cols,
        })
    }

    /// `(rows, columns)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Rows `range` as a `rows x columns` array.
    pub fn read(&self, range: Range<usize>) -> Result<Array2<f64>, DataError> {
        if self.ds.ndim() == 1 {
            let v: ndarray::Array1<f64> = self
                .ds
                .read_slice_1d(s![range])
                .at(&self.path, "read rows")?;
            Ok(v.insert_axis(Axis(1)))
        } else {
            self.ds
                .read_slice_2d(s![range, ..])
                .at(&self.path, "read rows")
        }
    }
}

/// The text attribute `name` of the HDF5 file at `path` (e.g. a medida output's `config`).
pub fn read_text_attr(path: &Path, name: &str) -> Result<String, DataError> {
    let file = hdf5::File::open(path).at(path, "open")?;
    let attr = file.attr(name).at(path, format!("attribute `{name}`"))?;
    let t: hdf5::types::VarLenUnicode = attr
        .read_scalar()
        .at(path, format!("read attribute `{name}`"))?;
    Ok(t.as_str().to_owned())
}

/// The text attribute `name` of dataset `dataset` (its `units`, `long_name`).
pub fn read_dataset_text_attr(path: &Path, dataset: &str, name: &str) -> Result<String, DataError> {
    let file = hdf5::File::open(path).at(path, "open")?;
    let ds = file
        .dataset(dataset)
        .at(path, format!("dataset `{dataset}`"))?;
    let attr = ds
        .attr(name)
        .at(path, format!("attribute `{name}` of `{dataset}`"))?;
    let t: hdf5::types::VarLenUnicode = attr
        .read_scalar()
        .at(path, format!("read attribute `{name}` of `{dataset}`"))?;
    Ok(t.as_str().to_owned())
}

/// A `(time, lev, y, x)` dataset read one time at a time.
#[derive(Debug)]
pub struct Frames {
    path: PathBuf,
    ds: hdf5::Dataset,
    shape: [usize; 4],
}

impl Frames {
    /// Opens dataset `name` of the file at `path`; it must have four dimensions (of an output
    /// written in place, the records written are its times).
    pub fn open(path: &Path, name: &str) -> Result<Self, DataError> {
        let file = hdf5::File::open(path).at(path, "open")?;
        let ds = file.dataset(name).at(path, format!("dataset `{name}`"))?;
        let mut shape: [usize; 4] = ds.shape().try_into().map_err(|_| DataError::Invalid {
            path: path.to_path_buf(),
            what: format!(
                "dataset `{name}` has shape {:?}, expected (time, lev, y, x)",
                ds.shape()
            ),
        })?;
        if let Some(n) = records_written(&file, &ds, name) {
            shape[0] = n;
        }
        Ok(Self {
            path: path.to_path_buf(),
            ds,
            shape,
        })
    }

    /// `(time, lev, y, x)`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    /// The field at time index `i`, `(lev, y, x)`.
    pub fn read(&self, i: usize) -> Result<ndarray::Array3<f64>, DataError> {
        if i >= self.shape[0] {
            return Err(DataError::Invalid {
                path: self.path.clone(),
                what: format!(
                    "time index {i} out of range (the file has {})",
                    self.shape[0]
                ),
            });
        }
        self.ds
            .read_slice::<f64, _, ndarray::Ix3>(s![i, .., .., ..])
            .at(&self.path, format!("read time {i}"))
    }
}

/// The numeric attribute `name` of the HDF5 file at `path`, as f64.
pub fn read_number_attr(path: &Path, name: &str) -> Result<f64, DataError> {
    let file = hdf5::File::open(path).at(path, "open")?;
    let attr = file.attr(name).at(path, format!("attribute `{name}`"))?;
    // A scalar, or a one-element array as netCDF writers (h5netcdf, pyqg's files) store numbers.
    let values: Vec<f64> = attr
        .read_raw()
        .at(path, format!("read attribute `{name}`"))?;
    match values[..] {
        [x] => Ok(x),
        _ => Err(DataError::Invalid {
            path: path.into(),
            what: format!("attribute `{name}` holds {} numbers, not one", values.len()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_datasets_names_what_a_file_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.h5");
        assert!(!has_datasets(&path, &["x"]), "no file");
        let f = hdf5::File::create(&path).unwrap();
        f.new_dataset::<f64>().shape(3).create("x").unwrap();
        drop(f);
        assert!(has_datasets(&path, &["x"]));
        assert!(!has_datasets(&path, &["x", "y"]));
    }
}

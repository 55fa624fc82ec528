//! Reading one named array from any HDF5 file (a user's initial state, say).

use crate::error::{Context, DataError};
use ndarray::ArrayD;
use std::path::Path;

/// The dataset `name` of the HDF5 file at `path`, as f64.
pub fn read_array(path: &Path, name: &str) -> Result<ArrayD<f64>, DataError> {
    let file = hdf5::File::open(path).at(path, "open")?;
    let ds = file.dataset(name).at(path, format!("dataset `{name}`"))?;
    ds.read_dyn::<f64>().at(path, format!("read `{name}`"))
}

//! medida's on-disk schema. HDF5 files that `xarray.open_dataset(path, engine="h5netcdf")` opens
//! with named dimensions and coordinates ([`output`]), and checkpoints written atomically, so a run
//! killed at any moment leaves either the previous or the new one ([`checkpoint`]).
//!
//! This crate knows arrays, dimensions and attributes, not physics.

mod array;
pub mod checkpoint;
mod dimscale;
pub mod error;
mod lock;
pub mod npy;
pub mod output;

pub use array::{
    Frames, RowReader, Rows, has_datasets, open_rows, read_array, read_dataset_text_attr,
    read_number_attr, read_text_attr,
};
pub use checkpoint::Checkpoint;
pub use error::DataError;
pub use lock::check_not_written;
pub use npy::NpyRows;
pub use output::{
    AttrValue, Coordinate, OutputFile, Precision, Records, SERIES_TIME, Schema, Variable, publish,
    read_series_time, tmp_path,
};

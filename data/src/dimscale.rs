//! HDF5 dimension scales (the H5DS calls of libhdf5_hl), which netCDF-4, h5py and xarray read as
//! named dimensions.

use hdf5::Dataset;
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_uint};

type Hid = i64;
type Herr = c_int;

unsafe extern "C" {
    fn H5DSset_scale(dsid: Hid, dimname: *const c_char) -> Herr;
    fn H5DSattach_scale(did: Hid, dsid: Hid, idx: c_uint) -> Herr;
}

/// Marks `scale` as the dimension scale called `name`.
pub(crate) fn set_scale(scale: &Dataset, name: &str) -> Result<(), String> {
    let name = CString::new(name).map_err(|e| e.to_string())?;
    // SAFETY: a valid open dataset id and a NUL-terminated string; HDF5 copies the name.
    let status = unsafe { H5DSset_scale(scale.id(), name.as_ptr()) };
    if status < 0 {
        Err("H5DSset_scale failed".into())
    } else {
        Ok(())
    }
}

/// Attaches dimension scale `scale` to dimension `idx` of `data`.
pub(crate) fn attach_scale(data: &Dataset, scale: &Dataset, idx: usize) -> Result<(), String> {
    let idx = c_uint::try_from(idx).map_err(|e| e.to_string())?;
    // SAFETY: two valid open dataset ids in the same file.
    let status = unsafe { H5DSattach_scale(data.id(), scale.id(), idx) };
    if status < 0 {
        Err("H5DSattach_scale failed".into())
    } else {
        Ok(())
    }
}

//! The output file: snapshots of fields over an unlimited `time` dimension, coordinates as
//! dimension scales with units and long names, variables without time (pyqg's `Ubg`, `Qy`), run
//! attributes, and a `diagnostics` group holding time series on their own dimension
//! [`SERIES_TIME`]. Laid out as netCDF-4 so that `xarray.open_dataset(path, engine="h5netcdf")`
//! (and `group="diagnostics"`) gives named dimensions, and `xarray.open_datatree` opens the whole
//! file (the series' times are not the snapshots', so they are not called `time`).
//!
//! The file is created complete (every coordinate and attribute) under a temporary name and moved
//! into place ([`publish`]: never over an existing file unless asked). A file written in place
//! by a running model ([`Schema::records`]) then holds the space of every record it will have,
//! NaN-filled, from its creation, and appending writes only data, never HDF5's structure: a kill
//! at any moment leaves a file that opens, whose records are those with a time (a record's time
//! is written after its fields are on their way to disk), and [`OutputFile::finish`] adds what is
//! written at the end to a copy that replaces the file whole. A file written under a temporary
//! name and published whole grows record by record instead (and may be compressed).

use crate::dimscale::{attach_scale, set_scale};
use crate::error::{Context, DataError};
use crate::lock::{check_not_written, lock_for_writing};
use hdf5::plist::dataset_create::{AllocTime, FillTime};
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Extent, Extents, File, Group, H5Type};
use ndarray::{ArrayViewD, IxDyn};
use num_complex::Complex;
use std::path::{Path, PathBuf};

/// Storage type of fields and series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// 32-bit floats (half the size; about 7 significant digits).
    F32,
    /// 64-bit floats, as computed.
    F64,
}

/// A coordinate: a fixed-size dimension with values.
#[derive(Debug, Clone, PartialEq)]
pub struct Coordinate {
    /// Dimension name (`lev`, `y`, `x`, ...).
    pub name: String,
    /// Values along the dimension.
    pub values: Vec<f64>,
    /// Units (CF style, e.g. `m`).
    pub units: String,
    /// Long name.
    pub long_name: String,
    /// The values are whole numbers, stored as 64-bit integers (pyqg's `lev`).
    pub integer: bool,
}

/// A variable written once per snapshot (dims after `time`) or per diagnostics record (no dims).
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// Dimensions after `time`, each the name of a [`Coordinate`].
    pub dims: Vec<String>,
    /// Units.
    pub units: String,
    /// Long name.
    pub long_name: String,
    /// Complex values (pyqg's `qh`, `ph`): stored as h5py's complex compound `(r, i)`, which
    /// xarray reads as complex; given to [`OutputFile::append_snapshot`] with a last axis of
    /// length 2 (real, imaginary) after the dims.
    pub complex: bool,
}

/// A global attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A number.
    F64(f64),
    /// An integer.
    I64(i64),
    /// Text.
    Str(String),
}

/// Everything fixed about an output file.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Fixed dimensions with their values.
    pub coords: Vec<Coordinate>,
    /// Snapshot variables, written in this order by [`OutputFile::append_snapshot`].
    pub variables: Vec<Variable>,
    /// Diagnostics series, written in this order by [`OutputFile::append_series`].
    pub series: Vec<Variable>,
    /// Variables without time (pyqg's `Ubg` and `Qy` on `lev`), written with the file: the
    /// values in C order over the variable's dims.
    pub fixed: Vec<(Variable, Vec<f64>)>,
    /// Global attributes.
    pub attrs: Vec<(String, AttrValue)>,
    /// Storage type.
    pub precision: Precision,
    /// Deflate level 0 (none) to 9.
    pub compression: u8,
    /// Units of the `time` coordinates (`s`, or `1` for non-dimensional models).
    pub time_units: String,
    /// The records of a file written in place ([`OutputFile::open`] continues it), all
    /// allocated when it is created; `None`: datasets grow with each record (a file written
    /// under a temporary name and published whole).
    pub records: Option<Records>,
}

/// How many snapshots and diagnostics records a file written in place has room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Records {
    /// Snapshots.
    pub snapshots: usize,
    /// Diagnostics records.
    pub series: usize,
}

/// Name of the group holding the diagnostics series.
pub const DIAGNOSTICS_GROUP: &str = "diagnostics";

/// Name of the diagnostics series' time coordinate and dimension (in [`DIAGNOSTICS_GROUP`]).
pub const SERIES_TIME: &str = "diag_time";

/// The series' time coordinate of files written before it had its own name.
const SERIES_TIME_BEFORE: &str = "time";

/// The model times of a file's diagnostics records (read under the name of files written before
/// the series had their own dimension too).
pub fn read_series_time(path: &Path) -> Result<ndarray::ArrayD<f64>, DataError> {
    crate::read_array(path, &format!("{DIAGNOSTICS_GROUP}/{SERIES_TIME}")).or_else(|e| {
        crate::read_array(path, &format!("{DIAGNOSTICS_GROUP}/{SERIES_TIME_BEFORE}")).map_err(|_| e)
    })
}

/// An output file open for appending.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    file: File,
    time: Dataset,
    fields: Vec<Dataset>,
    series_time: Dataset,
    series: Vec<Dataset>,
    schema: Schema,
    /// Snapshots and diagnostics records written.
    written: (usize, usize),
    /// The write lock on the file ([`crate::lock`]), held while it is open: `None` for a file
    /// only read, or written under a temporary name.
    lock: Option<std::fs::File>,
}

fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e:?}")))?;
    loc.new_attr::<VarLenUnicode>()
        .shape(())
        .create(name)?
        .write_scalar(&v)
}

/// Writes `attrs` on the file's root.
fn write_attrs(file: &File, attrs: &[(String, AttrValue)], path: &Path) -> Result<(), DataError> {
    for (name, value) in attrs {
        let r = match value {
            AttrValue::F64(x) => file
                .new_attr::<f64>()
                .shape(())
                .create(name.as_str())
                .and_then(|a| a.write_scalar(x)),
            AttrValue::I64(x) => file
                .new_attr::<i64>()
                .shape(())
                .create(name.as_str())
                .and_then(|a| a.write_scalar(x)),
            AttrValue::Str(s) => str_attr(file, name, s),
        };
        r.at(path, format!("attribute {name}"))?;
    }
    Ok(())
}

fn describe(ds: &Dataset, units: &str, long_name: &str) -> hdf5::Result<()> {
    str_attr(ds, "units", units)?;
    str_attr(ds, "long_name", long_name)
}

impl OutputFile {
    /// Creates the file at `path`, complete but with no snapshots; a file already at `path` is
    /// [`DataError::Exists`] (checked atomically, so of two runs started together one refuses).
    pub fn create(path: &Path, schema: &Schema) -> Result<Self, DataError> {
        Self::create_with(path, schema, false)
    }

    /// [`OutputFile::create`], replacing a file at `path` (the user asked for it), unless a run
    /// is writing it ([`DataError::Busy`]).
    pub fn create_replacing(path: &Path, schema: &Schema) -> Result<Self, DataError> {
        Self::create_with(path, schema, true)
    }

    fn create_with(path: &Path, schema: &Schema, replace: bool) -> Result<Self, DataError> {
        if schema.compression > 9 {
            return Err(DataError::Invalid {
                path: path.into(),
                what: format!("compression {} not in 0..=9", schema.compression),
            });
        }
        let tmp = tmp_path(path);
        let result = Self::write_skeleton(&tmp, schema);
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        publish(&tmp, path, replace)?;
        Self::open_writing(path, schema)
    }

    fn write_skeleton(path: &Path, schema: &Schema) -> Result<(), DataError> {
        let file = File::create(path).at(path, "create")?;
        let coord = |g: &Group, c: &Coordinate| -> hdf5::Result<Dataset> {
            let builder = g.new_dataset_builder();
            let ds = if c.integer {
                let values: Vec<i64> = c.values.iter().map(|&x| x as i64).collect();
                builder.with_data(&values).create(c.name.as_str())?
            } else {
                builder.with_data(&c.values).create(c.name.as_str())?
            };
            describe(&ds, &c.units, &c.long_name)?;
            Ok(ds)
        };
        let mut scales = Vec::new();
        for c in &schema.coords {
            let ds = coord(&file, c).at(path, format!("coordinate {}", c.name))?;
            set_scale(&ds, &c.name).map_err(|what| DataError::Invalid {
                path: path.into(),
                what,
            })?;
            scales.push(ds);
        }
        let room = schema.records.map(|r| (r.snapshots, r.series));
        let snapshots = room.map(|r| r.0);
        let time = Self::record_dataset(&file, "time", &[], Storage::TIME, 0, snapshots)
            .at(path, "time")?;
        describe(&time, &schema.time_units, "model time").at(path, "time")?;
        set_scale(&time, "time").map_err(|what| DataError::Invalid {
            path: path.into(),
            what,
        })?;
        for v in &schema.variables {
            let mut shape = Vec::new();
            let mut dims = Vec::new();
            for d in &v.dims {
                let i = schema
                    .coords
                    .iter()
                    .position(|c| &c.name == d)
                    .ok_or_else(|| DataError::Invalid {
                        path: path.into(),
                        what: format!("variable {} has unknown dimension {d}", v.name),
                    })?;
                shape.push(schema.coords[i].values.len());
                dims.push(&scales[i]);
            }
            let storage = schema.storage(v.complex);
            let ds = Self::record_dataset(
                &file,
                &v.name,
                &shape,
                storage,
                schema.compression,
                snapshots,
            )
            .at(path, format!("variable {}", v.name))?;
            describe(&ds, &v.units, &v.long_name).at(path, &v.name)?;
            let attach = std::iter::once(&time).chain(dims);
            for (i, scale) in attach.enumerate() {
                attach_scale(&ds, scale, i).map_err(|what| DataError::Invalid {
                    path: path.into(),
                    what,
                })?;
            }
        }
        for (v, values) in &schema.fixed {
            let dims: Vec<&str> = v.dims.iter().map(String::as_str).collect();
            let shape: Vec<usize> = dims
                .iter()
                .map(|d| {
                    schema
                        .coords
                        .iter()
                        .find(|c| c.name == *d)
                        .map_or(0, |c| c.values.len())
                })
                .collect();
            let data =
                ndarray::ArrayD::from_shape_vec(IxDyn(&shape), values.clone()).map_err(|_| {
                    DataError::Invalid {
                        path: path.into(),
                        what: format!(
                            "{}: {} values for dims {dims:?} of lengths {shape:?}",
                            v.name,
                            values.len()
                        ),
                    }
                })?;
            fixed_dataset(&file, path, v, &dims, &[], data.view())?;
        }
        let group = file
            .create_group(DIAGNOSTICS_GROUP)
            .at(path, "diagnostics group")?;
        let where_ = format!("{DIAGNOSTICS_GROUP}/{SERIES_TIME}");
        let series = room.map(|r| r.1);
        let stime = Self::record_dataset(&group, SERIES_TIME, &[], Storage::TIME, 0, series)
            .at(path, &where_)?;
        describe(
            &stime,
            &schema.time_units,
            "model time of the diagnostics records",
        )
        .at(path, &where_)?;
        set_scale(&stime, SERIES_TIME).map_err(|what| DataError::Invalid {
            path: path.into(),
            what,
        })?;
        for v in &schema.series {
            let storage = schema.storage(false);
            let ds = Self::record_dataset(&group, &v.name, &[], storage, 0, series)
                .at(path, format!("series {}", v.name))?;
            describe(&ds, &v.units, &v.long_name).at(path, &v.name)?;
            attach_scale(&ds, &stime, 0).map_err(|what| DataError::Invalid {
                path: path.into(),
                what,
            })?;
        }
        write_attrs(&file, &schema.attrs, path)?;
        file.flush().at(path, "flush")?;
        file.close().at(path, "close")?;
        sync(path)
    }

    /// A dataset of records `(n, shape...)`: with `room`, `n` = `room` records allocated now,
    /// contiguous and NaN-filled (writing one changes no structure); without, `n` = 0 growing
    /// along its first dimension, chunked one record at a time (series: 1024 records a chunk).
    fn record_dataset(
        g: &Group,
        name: &str,
        shape: &[usize],
        storage: Storage,
        compression: u8,
        room: Option<usize>,
    ) -> hdf5::Result<Dataset> {
        let builder = match (storage.precision, storage.complex) {
            (Precision::F32, false) => g.new_dataset::<f32>().fill_value(f32::NAN),
            (Precision::F64, false) => g.new_dataset::<f64>().fill_value(f64::NAN),
            (Precision::F32, true) => g
                .new_dataset::<Complex<f32>>()
                .fill_value(Complex::new(f32::NAN, f32::NAN)),
            (Precision::F64, true) => g
                .new_dataset::<Complex<f64>>()
                .fill_value(Complex::new(f64::NAN, f64::NAN)),
        };
        if let Some(n) = room {
            let mut full = vec![n];
            full.extend_from_slice(shape);
            // Filled by our writes, not HDF5's (whose failure on a full disk hides the errno).
            let ds = builder
                .shape(full)
                .no_chunk()
                .alloc_time(Some(AllocTime::Early))
                .fill_time(FillTime::Never)
                .create(name)?;
            fill_nan(&ds, storage)?;
            return Ok(ds);
        }
        let mut extents = vec![Extent::resizable(0)];
        extents.extend(shape.iter().map(|&n| Extent::fixed(n)));
        let mut chunk = vec![if shape.is_empty() { 1024 } else { 1 }];
        chunk.extend_from_slice(shape);
        let mut builder = builder.shape(Extents::new(extents)).chunk(chunk);
        if compression > 0 {
            builder = builder.shuffle().deflate(compression);
        }
        builder.create(name)
    }

    /// Opens the file a run writes in place ([`Schema::records`]) to continue it after
    /// `n_snapshots` snapshots and `n_series` diagnostics records (what a checkpoint recorded):
    /// the records after those are withdrawn (their times first), to be written again. A file
    /// laid out otherwise (another length, other attributes: a run continued for longer, or
    /// written by an older medida) is first rebuilt with `schema`'s layout and those records, and
    /// replaces it whole.
    pub fn open(
        path: &Path,
        schema: &Schema,
        n_snapshots: usize,
        n_series: usize,
    ) -> Result<Self, DataError> {
        check_not_written(path)?;
        let Some(room) = schema.records else {
            return Err(DataError::Invalid {
                path: path.into(),
                what: "only a file written in place (its records allocated) is continued".into(),
            });
        };
        if n_snapshots > room.snapshots || n_series > room.series {
            return Err(DataError::Invalid {
                path: path.into(),
                what: format!(
                    "{n_snapshots} snapshots and {n_series} diagnostics records kept, room for {} and {}",
                    room.snapshots, room.series
                ),
            });
        }
        let mut out = Self::open_writing(path, schema)?;
        let (have_snap, have_series) = out.written;
        if have_snap < n_snapshots || have_series < n_series {
            return Err(DataError::Invalid {
                path: path.into(),
                what: format!(
                    "holds {have_snap} snapshots and {have_series} diagnostics records, fewer than the checkpoint's {n_snapshots} and {n_series}"
                ),
            });
        }
        if !out.laid_out_as(schema) {
            drop(out);
            Self::rebuild(path, schema, n_snapshots, n_series)?;
            out = Self::open_writing(path, schema)?;
        }
        out.withdraw(n_snapshots, n_series)?;
        Ok(out)
    }

    /// `file` (at `path`, laid out by `schema`) with its datasets and the records it holds: those
    /// with a time, up to the first without.
    fn attach(path: &Path, schema: &Schema, file: File) -> Result<Self, DataError> {
        let get = |g: &Group, name: &str| g.dataset(name).at(path, format!("dataset {name}"));
        let time = get(&file, "time")?;
        let fields = schema
            .variables
            .iter()
            .map(|v| get(&file, &v.name))
            .collect::<Result<Vec<_>, _>>()?;
        let group = file
            .group(DIAGNOSTICS_GROUP)
            .at(path, "diagnostics group")?;
        let series_time = get(&group, SERIES_TIME)
            .or_else(|e| group.dataset(SERIES_TIME_BEFORE).map_err(|_| e))?;
        let series = schema
            .series
            .iter()
            .map(|v| get(&group, &v.name))
            .collect::<Result<Vec<_>, _>>()?;
        let written = (
            written_records(&time).at(path, "read time")?,
            written_records(&series_time).at(path, "read diagnostics times")?,
        );
        Ok(Self {
            path: path.into(),
            file,
            time,
            fields,
            series_time,
            series,
            schema: schema.clone(),
            written,
            lock: None,
        })
    }

    /// Opens the file at `path` to write it in place: its write lock taken, HDF5's own
    /// (which would keep readers out) off.
    fn open_writing(path: &Path, schema: &Schema) -> Result<Self, DataError> {
        let lock = lock_for_writing(path)?;
        let file = File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .append(path)
            .at(path, "open for appending")?;
        let mut out = Self::attach(path, schema, file)?;
        out.lock = Some(lock);
        Ok(out)
    }

    /// Whether the file has `schema`'s room for records (allocated, not growing) and attributes.
    fn laid_out_as(&self, schema: &Schema) -> bool {
        let room = schema.records.map(|r| (r.snapshots, r.series));
        let allocated = !self.time.is_resizable() && !self.series_time.is_resizable();
        allocated
            && room == Some((self.time.shape()[0], self.series_time.shape()[0]))
            && schema
                .attrs
                .iter()
                .all(|(name, value)| read_attr(&self.file, name, value).as_ref() == Some(value))
    }

    /// Writes a new file laid out by `schema` with the first `n_snapshots` snapshots and
    /// `n_series` diagnostics records of the file at `path`, and moves it over that file.
    fn rebuild(
        path: &Path,
        schema: &Schema,
        n_snapshots: usize,
        n_series: usize,
    ) -> Result<(), DataError> {
        let tmp = tmp_path(path);
        let copied = Self::copy_records(path, &tmp, schema, n_snapshots, n_series);
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        publish(&tmp, path, true)
    }

    /// A file at `to` laid out by `schema` with the first records of the file at `from`.
    fn copy_records(
        from: &Path,
        to: &Path,
        schema: &Schema,
        n_snapshots: usize,
        n_series: usize,
    ) -> Result<(), DataError> {
        Self::write_skeleton(to, schema)?;
        let src = Self::attach(from, schema, File::open(from).at(from, "open")?)?;
        let dst = Self::attach(to, schema, File::append(to).at(to, "open")?)?;
        let storage = |complex| schema.storage(complex);
        let fields = schema.variables.iter().map(|v| storage(v.complex));
        let pairs = std::iter::once((&src.time, &dst.time, Storage::TIME)).chain(
            src.fields
                .iter()
                .zip(&dst.fields)
                .zip(fields)
                .map(|((a, b), s)| (a, b, s)),
        );
        for (a, b, s) in pairs {
            copy_leading(a, b, s, n_snapshots).at(to, "copy snapshots")?;
        }
        let series = std::iter::once((&src.series_time, &dst.series_time, Storage::TIME)).chain(
            src.series
                .iter()
                .zip(&dst.series)
                .map(|(a, b)| (a, b, storage(false))),
        );
        for (a, b, s) in series {
            copy_leading(a, b, s, n_series).at(to, "copy diagnostics")?;
        }
        dst.file.flush().at(to, "flush")?;
        drop((src, dst));
        sync(to)
    }

    /// Withdraws the records after the first `n_snapshots` and `n_series`: their times become
    /// NaN (on disk before their fields are), then their fields.
    fn withdraw(&mut self, n_snapshots: usize, n_series: usize) -> Result<(), DataError> {
        let p = self.path.clone();
        let (have_snap, have_series) = self.written;
        let storage = |complex| self.schema.storage(complex);
        let nan_from = |ds: &Dataset, s: Storage, from: usize, to: usize| -> hdf5::Result<()> {
            if from < to {
                write_nan(ds, s, from..to)?;
            }
            Ok(())
        };
        nan_from(&self.time, Storage::TIME, n_snapshots, have_snap).at(&p, "withdraw snapshots")?;
        nan_from(&self.series_time, Storage::TIME, n_series, have_series)
            .at(&p, "withdraw diagnostics")?;
        self.flush()?;
        let complex = self.schema.variables.iter().map(|v| v.complex);
        for (ds, complex) in self.fields.iter().zip(complex) {
            nan_from(ds, storage(complex), n_snapshots, have_snap).at(&p, "withdraw snapshots")?;
        }
        for ds in &self.series {
            nan_from(ds, storage(false), n_series, have_series).at(&p, "withdraw diagnostics")?;
        }
        self.written = (n_snapshots, n_series);
        self.flush()
    }

    /// Snapshots and diagnostics records written so far.
    pub fn counts(&self) -> (usize, usize) {
        self.written
    }

    /// Appends one snapshot at time `t`: one array per schema variable, in schema order. In a
    /// file written in place the fields are flushed before the time that makes them a record.
    pub fn append_snapshot(&mut self, t: f64, fields: &[ArrayViewD<f64>]) -> Result<(), DataError> {
        if fields.len() != self.fields.len() {
            return Err(DataError::Invalid {
                path: self.path.clone(),
                what: format!(
                    "{} fields given, schema has {}",
                    fields.len(),
                    self.fields.len()
                ),
            });
        }
        let n = self.written.0;
        let room = self.schema.records.map(|r| r.snapshots);
        self.check_room(n, room, "snapshots")?;
        let complex = self.schema.variables.iter().map(|v| v.complex);
        for ((ds, f), complex) in self.fields.iter().zip(fields).zip(complex) {
            let mut shape = ds.shape();
            let mut wants = shape[1..].to_vec();
            if complex {
                wants.push(2);
            }
            if wants != f.shape() {
                return Err(DataError::Invalid {
                    path: self.path.clone(),
                    what: format!("field shape {:?}, dataset wants {wants:?}", f.shape()),
                });
            }
            if room.is_none() {
                shape[0] = n + 1;
                ds.resize(shape).at(&self.path, "grow")?;
            }
            let record = f.view().insert_axis(ndarray::Axis(0));
            let storage = self.schema.storage(complex);
            write_record(ds, storage, record, n).at(&self.path, "write snapshot")?;
        }
        if room.is_some() {
            self.flush()?;
        }
        append_scalar(&self.time, n, t, Precision::F64, room.is_none())
            .at(&self.path, "write time")?;
        self.written.0 += 1;
        Ok(())
    }

    /// Appends one diagnostics record at time `t`: one value per schema series, in order (in a
    /// file written in place, flushed before the time that makes them a record).
    pub fn append_series(&mut self, t: f64, values: &[f64]) -> Result<(), DataError> {
        if values.len() != self.series.len() {
            return Err(DataError::Invalid {
                path: self.path.clone(),
                what: format!(
                    "{} values given, schema has {}",
                    values.len(),
                    self.series.len()
                ),
            });
        }
        let n = self.written.1;
        let room = self.schema.records.map(|r| r.series);
        self.check_room(n, room, "diagnostics records")?;
        let grow = room.is_none();
        for (ds, &v) in self.series.iter().zip(values) {
            append_scalar(ds, n, v, self.schema.precision, grow).at(&self.path, "write series")?;
        }
        if !grow {
            self.flush()?;
        }
        append_scalar(&self.series_time, n, t, Precision::F64, grow)
            .at(&self.path, "write series time")?;
        self.written.1 += 1;
        Ok(())
    }

    /// An error when record `n` is beyond the file's `room` for `what`.
    fn check_room(&self, n: usize, room: Option<usize>, what: &str) -> Result<(), DataError> {
        match room {
            Some(room) if n >= room => Err(DataError::Invalid {
                path: self.path.clone(),
                what: format!("has room for {room} {what}, all written"),
            }),
            _ => Ok(()),
        }
    }

    /// Ends a file written in place: a copy of it (compressed, if the schema asks) gets what
    /// `extra` adds (time averages, with [`OutputFile::write_fixed`]) and replaces it whole, so
    /// a kill at any moment leaves the file complete, with or without them.
    pub fn finish<E: From<DataError>>(
        self,
        extra: impl FnOnce(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        let (path, schema, (n_snapshots, n_series)) =
            (self.path.clone(), self.schema.clone(), self.written);
        self.flush()?;
        drop(self);
        let tmp = tmp_path(&path);
        let result = (|| -> Result<(), E> {
            let mut final_schema = schema.clone();
            if schema.compression > 0 {
                final_schema.records = None;
                Self::copy_records(&path, &tmp, &final_schema, n_snapshots, n_series)?;
            } else {
                std::fs::copy(&path, &tmp).at(&tmp, "copy")?;
            }
            let file = File::append(&tmp).at(&tmp, "open")?;
            let mut out = Self::attach(&tmp, &final_schema, file)?;
            extra(&mut out)?;
            out.flush()?;
            drop(out);
            sync(&tmp)?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(publish(&tmp, &path, true)?)
    }

    /// Writes (or replaces) a dataset without a time dimension, such as a time average: `dims`
    /// name coordinates of the file (`[]` for one number), `data` has their lengths. Stored in
    /// f64 whatever the file's precision; `attrs` are numbers written beside units and long name.
    pub fn write_fixed(
        &mut self,
        name: &str,
        dims: &[&str],
        units: &str,
        long_name: &str,
        attrs: &[(&str, f64)],
        data: ArrayViewD<f64>,
    ) -> Result<(), DataError> {
        let v = Variable {
            name: name.into(),
            dims: dims.iter().map(|d| (*d).into()).collect(),
            units: units.into(),
            long_name: long_name.into(),
            complex: false,
        };
        fixed_dataset(&self.file, &self.path, &v, dims, attrs, data)
    }

    /// Hands everything written so far to the operating system (a kill of this process no
    /// longer loses it).
    pub fn flush(&self) -> Result<(), DataError> {
        self.file.flush().at(&self.path, "flush")
    }

    /// [`OutputFile::flush`], then waits until it is on the disk (a power cut no longer loses
    /// it): before a checkpoint counts the records.
    pub fn sync(&self) -> Result<(), DataError> {
        self.flush()?;
        sync(&self.path)
    }
}

/// Writes (or replaces) the time-less variable `v` (its `dims` coordinates of `file`, which must
/// have the array's lengths) with `data` in f64, its units, long name and number attributes `attrs`.
fn fixed_dataset(
    file: &File,
    path: &Path,
    v: &Variable,
    dims: &[&str],
    attrs: &[(&str, f64)],
    data: ArrayViewD<f64>,
) -> Result<(), DataError> {
    let name = v.name.as_str();
    let invalid = |what: String| DataError::Invalid {
        path: path.into(),
        what,
    };
    if dims.len() != data.ndim() {
        return Err(invalid(format!(
            "{name}: {} dims for an array of {}",
            dims.len(),
            data.ndim()
        )));
    }
    let mut scales = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        let scale = file
            .dataset(d)
            .map_err(|_| invalid(format!("{name}: the file has no coordinate {d}")))?;
        if scale.shape() != [data.shape()[i]] {
            return Err(invalid(format!(
                "{name}: dimension {d} has length {}, the array {}",
                scale.shape()[0],
                data.shape()[i]
            )));
        }
        scales.push(scale);
    }
    if file.link_exists(name) {
        file.unlink(name).at(path, format!("replace {name}"))?;
    }
    let data = data.as_standard_layout();
    let ds = file
        .new_dataset_builder()
        .with_data(&data)
        .create(name)
        .at(path, format!("dataset {name}"))?;
    describe(&ds, &v.units, &v.long_name).at(path, name)?;
    for (attr, x) in attrs {
        ds.new_attr::<f64>()
            .shape(())
            .create(*attr)
            .and_then(|a| a.write_scalar(x))
            .at(path, format!("{name}: attribute {attr}"))?;
    }
    for (i, scale) in scales.iter().enumerate() {
        attach_scale(&ds, scale, i).map_err(&invalid)?;
    }
    Ok(())
}

/// How a dataset's values are stored.
#[derive(Debug, Clone, Copy)]
struct Storage {
    precision: Precision,
    complex: bool,
}

impl Schema {
    /// How the schema's fields (`complex` or not) and series are stored.
    fn storage(&self, complex: bool) -> Storage {
        Storage {
            precision: self.precision,
            complex,
        }
    }
}

impl Storage {
    /// Times: real, in f64 whatever the fields' precision.
    const TIME: Self = Self {
        precision: Precision::F64,
        complex: false,
    };
}

/// The selection of records `range` along the first of `ndim` dimensions (all of the others).
pub(crate) fn records_selection(
    range: std::ops::Range<usize>,
    ndim: usize,
) -> hdf5::Result<ndarray::SliceInfo<Vec<ndarray::SliceInfoElem>, IxDyn, IxDyn>> {
    use ndarray::SliceInfoElem;
    let full = SliceInfoElem::Slice {
        start: 0,
        end: None,
        step: 1,
    };
    let mut elems = vec![SliceInfoElem::Slice {
        start: range.start as isize,
        end: Some(range.end as isize),
        step: 1,
    }];
    elems.extend(std::iter::repeat_n(full, ndim - 1));
    ndarray::SliceInfo::try_from(elems).map_err(|e| hdf5::Error::from(e.to_string()))
}

/// Writes `record` (leading dimension 1; complex: a last axis (real, imaginary) beyond the
/// dataset's) at index `n` of `ds`'s first dimension.
fn write_record(
    ds: &Dataset,
    storage: Storage,
    record: ArrayViewD<f64>,
    n: usize,
) -> hdf5::Result<()> {
    let ndim = record.ndim() - usize::from(storage.complex);
    let sel = records_selection(n..n + 1, ndim)?;
    let complex = |x: ArrayViewD<f64>| -> ndarray::ArrayD<Complex<f64>> {
        let last = ndarray::Axis(ndim);
        let (re, im) = (x.index_axis(last, 0), x.index_axis(last, 1));
        ndarray::Zip::from(&re)
            .and(&im)
            .map_collect(|&r, &i| Complex::new(r, i))
    };
    match (storage.precision, storage.complex) {
        (Precision::F64, false) => ds.write_slice(&record, sel),
        (Precision::F32, false) => ds.write_slice(&record.mapv(|x| x as f32), sel),
        (Precision::F64, true) => ds.write_slice(&complex(record), sel),
        (Precision::F32, true) => ds.write_slice(
            &complex(record).mapv(|z| Complex::new(z.re as f32, z.im as f32)),
            sel,
        ),
    }
}

/// Writes NaN over records `range` of `ds`.
fn write_nan(ds: &Dataset, storage: Storage, range: std::ops::Range<usize>) -> hdf5::Result<()> {
    let mut shape = ds.shape();
    shape[0] = range.len();
    let sel = records_selection(range, shape.len())?;
    match (storage.precision, storage.complex) {
        (Precision::F64, false) => {
            ds.write_slice(&ndarray::ArrayD::from_elem(shape, f64::NAN), sel)
        }
        (Precision::F32, false) => {
            ds.write_slice(&ndarray::ArrayD::from_elem(shape, f32::NAN), sel)
        }
        (Precision::F64, true) => {
            let nan = Complex::new(f64::NAN, f64::NAN);
            ds.write_slice(&ndarray::ArrayD::from_elem(shape, nan), sel)
        }
        (Precision::F32, true) => {
            let nan = Complex::new(f32::NAN, f32::NAN);
            ds.write_slice(&ndarray::ArrayD::from_elem(shape, nan), sel)
        }
    }
}

/// Writes NaN over every record of `ds`, some megabytes at a time.
fn fill_nan(ds: &Dataset, storage: Storage) -> hdf5::Result<()> {
    let n = ds.shape()[0];
    let record = ds.shape()[1..].iter().product::<usize>().max(1);
    let per_write = (1 << 21) / record + 1;
    (0..n)
        .step_by(per_write)
        .try_for_each(|from| write_nan(ds, storage, from..(from + per_write).min(n)))
}

/// Copies the first `n` records of `from` to `to` (grown to `n` if it grows).
fn copy_leading(from: &Dataset, to: &Dataset, storage: Storage, n: usize) -> hdf5::Result<()> {
    if to.is_resizable() {
        let mut shape = to.shape();
        shape[0] = n;
        to.resize(shape)?;
    }
    if n == 0 {
        return Ok(());
    }
    fn copy<T: H5Type>(from: &Dataset, to: &Dataset, n: usize) -> hdf5::Result<()> {
        let sel = records_selection(0..n, from.ndim())?;
        let data: ndarray::ArrayD<T> = from.read_slice(sel.clone())?;
        to.write_slice(&data, sel)
    }
    match (storage.precision, storage.complex) {
        (Precision::F64, false) => copy::<f64>(from, to, n),
        (Precision::F32, false) => copy::<f32>(from, to, n),
        (Precision::F64, true) => copy::<Complex<f64>>(from, to, n),
        (Precision::F32, true) => copy::<Complex<f32>>(from, to, n),
    }
}

/// Writes `v` at index `n` of the 1-D `ds` (grown to `n + 1` first when `grow`).
fn append_scalar(
    ds: &Dataset,
    n: usize,
    v: f64,
    precision: Precision,
    grow: bool,
) -> hdf5::Result<()> {
    if grow {
        ds.resize(n + 1)?;
    }
    fn one<T: H5Type>(ds: &Dataset, n: usize, v: T) -> hdf5::Result<()> {
        ds.write_slice(&[v], n..n + 1)
    }
    match precision {
        Precision::F64 => one(ds, n, v),
        Precision::F32 => one(ds, n, v as f32),
    }
}

/// The records a time coordinate says are written: all of a growing one's; of an allocated one
/// ([`Schema::records`]), those up to its first NaN (a record not written, or being written).
pub(crate) fn written_records(time: &Dataset) -> hdf5::Result<usize> {
    if time.is_resizable() {
        return Ok(time.shape()[0]);
    }
    let t: Vec<f64> = time.read_raw()?;
    Ok(t.iter().take_while(|t| !t.is_nan()).count())
}

/// The attribute `name` of `file` as the kind of `like`, if it has one.
fn read_attr(file: &File, name: &str, like: &AttrValue) -> Option<AttrValue> {
    let a = file.attr(name).ok()?;
    Some(match like {
        AttrValue::F64(_) => AttrValue::F64(a.read_scalar().ok()?),
        AttrValue::I64(_) => AttrValue::I64(a.read_scalar().ok()?),
        AttrValue::Str(_) => {
            AttrValue::Str(a.read_scalar::<VarLenUnicode>().ok()?.as_str().to_owned())
        }
    })
}

/// Moves the complete file `tmp` to `path`: replacing what is there when `replace`, else only if
/// nothing is (a hard link, which the OS refuses atomically when `path` exists:
/// [`DataError::Exists`]), never over a file a run is writing ([`DataError::Busy`]); `tmp` is
/// gone either way.
pub fn publish(tmp: &Path, path: &Path, replace: bool) -> Result<(), DataError> {
    remove_stale_tmps(path);
    if replace {
        if let Err(busy) = check_not_written(path) {
            let _ = std::fs::remove_file(tmp);
            return Err(busy);
        }
        return std::fs::rename(tmp, path).at(path, "rename into place");
    }
    let linked = std::fs::hard_link(tmp, path);
    let _ = std::fs::remove_file(tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(DataError::Exists {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(e).at(path, "link into place"),
    }
}

/// Removes the temporaries of `path` ([`tmp_path`]) that killed runs left: those whose process
/// is gone. Best effort: what cannot be listed or removed stays.
pub(crate) fn remove_stale_tmps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.tmp-");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let pid = file.to_str().and_then(|f| f.strip_prefix(&prefix));
        if let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `path` with `.tmp-<pid>` appended, in the same directory (so a rename is atomic).
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".tmp-{}", std::process::id()));
    PathBuf::from(s)
}

/// fsync a file's contents.
pub(crate) fn sync(path: &Path) -> Result<(), DataError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .at(path, "fsync")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn schema(precision: Precision) -> Schema {
        let coord = |name: &str, n: usize| Coordinate {
            name: name.into(),
            values: (0..n).map(|i| i as f64).collect(),
            units: "1".into(),
            long_name: name.into(),
            integer: false,
        };
        Schema {
            coords: vec![coord("lev", 2), coord("k", 3)],
            variables: vec![Variable {
                name: "qh".into(),
                dims: vec!["lev".into(), "k".into()],
                units: "s^-1".into(),
                long_name: "spectral PV".into(),
                complex: true,
            }],
            series: Vec::new(),
            fixed: Vec::new(),
            attrs: Vec::new(),
            precision,
            compression: 0,
            time_units: "s".into(),
            records: None,
        }
    }

    /// Publishing an output removes the temporaries of its name that killed runs left (their
    /// process is gone), not those of a live process, nor other names'.
    #[test]
    fn publishing_removes_stale_temporaries_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run.h5");
        let name = |suffix: &str| dir.path().join(format!("run.h5{suffix}"));
        // Above Linux's largest pid (2^22): never a live process.
        let stale = name(".tmp-4194305");
        let live = name(&format!(".tmp-{}", std::os::unix::process::parent_id()));
        let other = dir.path().join("other.h5.tmp-4194305");
        for f in [&stale, &live, &other] {
            std::fs::write(f, b"partial").unwrap();
        }
        let tmp = tmp_path(&out);
        std::fs::write(&tmp, b"complete").unwrap();
        publish(&tmp, &out, false).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"complete");
        assert!(!stale.exists() && !tmp.exists());
        assert!(live.exists() && other.exists());
    }

    /// A complex variable is stored as h5py's compound (r, i) and reads back exactly (f64) or
    /// as the nearest f32 of each part; a field without the (real, imaginary) axis is refused.
    #[test]
    fn complex_fields_are_stored_as_complex() {
        let dir = tempfile::tempdir().unwrap();
        // (lev, k, 2): value 10 lev + k + 0.1 i (an f32 rounding is visible in the parts).
        let field = ArrayD::from_shape_fn(IxDyn(&[2, 3, 2]), |ix| {
            let re = 10.0 * ix[0] as f64 + ix[1] as f64 + 1.0 / 3.0;
            if ix[2] == 0 { re } else { -0.1 * re }
        });
        for precision in [Precision::F64, Precision::F32] {
            let path = dir.path().join(format!("{precision:?}.h5"));
            let mut out = OutputFile::create(&path, &schema(precision)).unwrap();
            out.append_snapshot(0.0, &[field.view()]).unwrap();
            let flat = ArrayD::<f64>::zeros(IxDyn(&[2, 3]));
            let refused = out.append_snapshot(1.0, &[flat.view()]).unwrap_err();
            assert!(refused.to_string().contains("[2, 3, 2]"), "{refused}");
            out.flush().unwrap();
            drop(out);
            let ds = File::open(&path).unwrap().dataset("qh").unwrap();
            assert_eq!(ds.shape(), [1, 2, 3]);
            let read: Vec<Complex<f64>> = match precision {
                Precision::F64 => ds.read_raw::<Complex<f64>>().unwrap(),
                Precision::F32 => ds
                    .read_raw::<Complex<f32>>()
                    .unwrap()
                    .iter()
                    .map(|z| Complex::new(z.re as f64, z.im as f64))
                    .collect(),
            };
            let round = |x: f64| match precision {
                Precision::F64 => x,
                Precision::F32 => x as f32 as f64,
            };
            for (i, z) in read.iter().enumerate() {
                let (lev, k) = (i / 3, i % 3);
                assert_eq!(z.re, round(field[[lev, k, 0]]));
                assert_eq!(z.im, round(field[[lev, k, 1]]));
            }
        }
    }

    /// A file written in place: its room is allocated NaN, a reader (medida's) sees the records
    /// with a time; a continuation withdraws those after the checkpoint's counts (NaN again);
    /// another length rebuilds it with the records kept; the end adds time averages to a
    /// compressed copy that replaces it.
    #[test]
    fn a_file_written_in_place_grows_by_records_with_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.h5");
        let mut schema = schema(Precision::F64);
        schema.variables[0].complex = false;
        schema.series = vec![Variable {
            name: "ke".into(),
            dims: vec![],
            units: "1".into(),
            long_name: "ke".into(),
            complex: false,
        }];
        schema.records = Some(Records {
            snapshots: 3,
            series: 4,
        });
        let field = |x: f64| ArrayD::from_elem(IxDyn(&[2, 3]), x);
        let mut out = OutputFile::create(&path, &schema).unwrap();
        for n in 0..2 {
            out.append_snapshot(n as f64, &[field(n as f64 + 0.5).view()])
                .unwrap();
            out.append_series(n as f64, &[10.0 + n as f64]).unwrap();
        }
        assert_eq!(out.counts(), (2, 2));
        out.flush().unwrap();
        // Read as another process would, beside the writer (HDF5 wants the writer's locking
        // setting for a file this process has open).
        let raw = |name: &str| -> Vec<f64> {
            File::with_options()
                .with_fapl(|p| p.file_locking(false))
                .open(&path)
                .unwrap()
                .dataset(name)
                .unwrap()
                .read_raw()
                .unwrap()
        };
        assert_eq!(raw("time").len(), 3);
        assert!(raw("time")[2].is_nan() && raw("qh")[12..].iter().all(|x| x.is_nan()));
        drop(out);
        assert_eq!(crate::read_array(&path, "qh").unwrap().shape(), [2, 2, 3]);
        assert_eq!(
            crate::read_array(&path, "diagnostics/ke")
                .unwrap()
                .as_slice()
                .unwrap(),
            [10.0, 11.0]
        );

        // Continued after 1 snapshot and 1 record: the second is withdrawn, then written again.
        let mut out = OutputFile::open(&path, &schema, 1, 1).unwrap();
        assert_eq!(out.counts(), (1, 1));
        assert!(raw("time")[1].is_nan() && raw("qh")[6..12].iter().all(|x| x.is_nan()));
        out.append_snapshot(1.0, &[field(1.5).view()]).unwrap();
        out.flush().unwrap();
        drop(out);

        // Continued for longer: rebuilt with room for 5, the 2 snapshots and 1 record kept.
        schema.records = Some(Records {
            snapshots: 5,
            series: 6,
        });
        let out = OutputFile::open(&path, &schema, 2, 1).unwrap();
        assert_eq!(out.counts(), (2, 1));
        assert_eq!(raw("time").len(), 5);
        assert_eq!(&raw("time")[..2], [0.0, 1.0]);
        assert_eq!(raw("qh")[6..12], [1.5; 6]);

        // The end: a compressed copy with the time average replaces the file.
        schema.compression = 4;
        let mut out = out;
        out.schema.compression = 4;
        out.finish(|f| {
            f.write_fixed(
                "mean",
                &[],
                "1",
                "mean",
                &[],
                ndarray::arr0(1.0).into_dyn().view(),
            )
        })
        .unwrap();
        let file = File::open(&path).unwrap();
        let qh = file.dataset("qh").unwrap();
        assert_eq!(qh.shape(), [2, 2, 3]);
        assert!(qh.is_chunked() && file.dataset("mean").is_ok());
        assert!(
            !dir.path()
                .join(format!("run.h5.tmp-{}", std::process::id()))
                .exists()
        );
    }
}

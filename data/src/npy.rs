//! Rows of a float64 `.npy` file (C order, little-endian: what `numpy.save` writes), read a slice
//! at a time with positioned reads, so a file larger than memory costs one slice of memory.

use crate::error::{Context, DataError};
use ndarray::Array2;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A 1-D (`n`) or 2-D (`n x k`) float64 `.npy` file read by rows.
#[derive(Debug)]
pub struct NpyRows {
    path: PathBuf,
    file: File,
    offset: u64,
    rows: usize,
    cols: usize,
}

impl NpyRows {
    /// Opens `path` and parses its header.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).at(path, "open")?;
        let invalid = |what: &str| DataError::Invalid {
            path: path.into(),
            what: what.into(),
        };
        let mut pre = [0u8; 12];
        file.read_exact_at(&mut pre, 0)
            .map_err(|_| invalid("not a .npy file (too short)"))?;
        if &pre[..6] != b"\x93NUMPY" {
            return Err(invalid("not a .npy file (no NUMPY magic)"));
        }
        let (len, start) = match pre[6] {
            1 => (u16::from_le_bytes([pre[8], pre[9]]) as usize, 10),
            2 | 3 => (
                u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as usize,
                12,
            ),
            v => {
                return Err(invalid(&format!(
                    ".npy format version {v} is not supported"
                )));
            }
        };
        let mut header = vec![0u8; len];
        file.read_exact_at(&mut header, start as u64)
            .map_err(|_| invalid("truncated .npy header"))?;
        let header = String::from_utf8_lossy(&header);
        let field = |key: &str| header.split(&format!("'{key}':")).nth(1).map(str::trim);
        if !field("descr").is_some_and(|d| d.starts_with("'<f8'")) {
            return Err(invalid(
                "not float64 little-endian data (descr must be '<f8'; use x.astype('<f8'))",
            ));
        }
        if !field("fortran_order").is_some_and(|f| f.starts_with("False")) {
            return Err(invalid(
                "Fortran-ordered array; save a C-ordered copy (numpy.ascontiguousarray)",
            ));
        }
        let shape = field("shape")
            .and_then(|s| s.strip_prefix('('))
            .and_then(|s| s.split(')').next())
            .ok_or_else(|| invalid("no shape in the .npy header"))?;
        let dims: Vec<usize> = shape
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| invalid("unreadable shape in the .npy header"))?;
        let (rows, cols) = match dims[..] {
            [n] => (n, 1),
            [n, k] => (n, k),
            _ => {
                return Err(invalid(&format!(
                    "shape {dims:?}; expected (rows,) or (rows, columns)"
                )));
            }
        };
        let offset = (start + len) as u64;
        let size = file.metadata().at(path, "size")?.len();
        // The payload the header claims, checked against the file before anything is allocated
        // (a shape too large to count is as truncated as one the file is too short for).
        let claimed = rows
            .checked_mul(cols)
            .and_then(|n| n.checked_mul(8))
            .and_then(|n| (n as u64).checked_add(offset));
        if claimed.is_none_or(|c| size < c) {
            return Err(invalid(&format!(
                "truncated: {size} bytes for a ({rows}, {cols}) float64 array"
            )));
        }
        Ok(Self {
            path: path.into(),
            file,
            offset,
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
        let n = range.end.min(self.rows).saturating_sub(range.start);
        let mut values = vec![0.0f64; n * self.cols];
        let at = self.offset + (range.start * self.cols * 8) as u64;
        self.file
            .read_exact_at(bytemuck::cast_slice_mut(&mut values), at)
            .at(&self.path, "read rows")?;
        if cfg!(target_endian = "big") {
            values
                .iter_mut()
                .for_each(|v| *v = f64::from_bits(u64::from_le(v.to_bits())));
        }
        Ok(Array2::from_shape_vec((n, self.cols), values).expect("n x cols values"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_of_what_ndarray_npy_writes_and_rejects_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = Array2::from_shape_fn((7, 3), |(i, j)| i as f64 * 10.0 + j as f64);
        let p = dir.path().join("a.npy");
        ndarray_npy::write_npy(&p, &a).unwrap();
        let r = NpyRows::open(&p).unwrap();
        assert_eq!(r.shape(), (7, 3));
        assert_eq!(r.read(2..5).unwrap(), a.slice(ndarray::s![2..5, ..]));
        let v = ndarray::Array1::from(vec![1.5, 2.5, 3.5]);
        let p1 = dir.path().join("v.npy");
        ndarray_npy::write_npy(&p1, &v).unwrap();
        assert_eq!(
            NpyRows::open(&p1)
                .unwrap()
                .read(1..3)
                .unwrap()
                .column(0)
                .to_vec(),
            vec![2.5, 3.5]
        );
        let bytes = std::fs::read(&p).unwrap();
        let cut = dir.path().join("cut.npy");
        std::fs::write(&cut, &bytes[..bytes.len() - 8]).unwrap();
        assert!(
            NpyRows::open(&cut)
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let ints = dir.path().join("i.npy");
        ndarray_npy::write_npy(&ints, &ndarray::Array1::from(vec![1i64, 2])).unwrap();
        assert!(
            NpyRows::open(&ints)
                .unwrap_err()
                .to_string()
                .contains("float64")
        );
    }
}

//! Shared by the reference tests: open a committed reference file of `tests/data/` and list its cases.

use ndarray_npy::NpzReader;
use std::fs::File;

/// The npz `tests/data/{file}` and the names of its cases (those with a `case/{key}` entry).
pub fn reference(file: &str, key: &str) -> (NpzReader<File>, Vec<String>) {
    let path = format!("{}/../tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut npz =
        NpzReader::new(File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap();
    let cases = npz
        .names()
        .unwrap()
        .iter()
        .filter_map(|n| {
            n.trim_end_matches(".npy")
                .strip_suffix(&format!("/{key}"))
                .map(str::to_string)
        })
        .collect();
    (npz, cases)
}

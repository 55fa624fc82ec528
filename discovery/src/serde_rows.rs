//! JSON-friendly serialisation of arrays as nested lists (rows of rows), for users reading results
//! with any JSON tool.

use ndarray::{Array2, Array3};
use serde::Serializer;
use serde::ser::SerializeSeq;

/// A 2-D array as a list of rows.
pub fn matrix<S: Serializer>(a: &Array2<f64>, s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(a.nrows()))?;
    for row in a.outer_iter() {
        seq.serialize_element(&row.to_vec())?;
    }
    seq.end()
}

/// An optional 2-D array as a list of rows, or null.
pub fn opt_matrix<S: Serializer>(a: &Option<Array2<f64>>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => matrix(a, s),
        None => s.serialize_none(),
    }
}

/// A 3-D array as a list of matrices.
pub fn cube<S: Serializer>(a: &Array3<f64>, s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(a.shape()[0]))?;
    for m in a.outer_iter() {
        let rows: Vec<Vec<f64>> = m.outer_iter().map(|r| r.to_vec()).collect();
        seq.serialize_element(&rows)?;
    }
    seq.end()
}

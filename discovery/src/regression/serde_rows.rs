//! JSON-friendly serialisation of arrays as nested lists (rows of rows), for users reading results
//! with any JSON tool.

use ndarray::{Array2, Array3};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serializer};

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

/// JSON has no NaN or infinity (serde_json writes null): read null back as NaN.
fn lenient(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// A list of numbers, null read as NaN.
pub fn de_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let v: Vec<Option<f64>> = Deserialize::deserialize(d)?;
    Ok(v.into_iter().map(lenient).collect())
}

fn rows_to_matrix<E: serde::de::Error>(rows: Vec<Vec<Option<f64>>>) -> Result<Array2<f64>, E> {
    let m = rows.len();
    let p = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != p) {
        return Err(E::custom("rows of different lengths"));
    }
    let flat: Vec<f64> = rows.into_iter().flatten().map(lenient).collect();
    Array2::from_shape_vec((m, p), flat).map_err(E::custom)
}

/// A list of rows as a 2-D array.
pub fn de_matrix<'de, D: Deserializer<'de>>(d: D) -> Result<Array2<f64>, D::Error> {
    rows_to_matrix(Deserialize::deserialize(d)?)
}

/// A list of rows, or null.
pub fn de_opt_matrix<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Array2<f64>>, D::Error> {
    let v: Option<Vec<Vec<Option<f64>>>> = Deserialize::deserialize(d)?;
    v.map(rows_to_matrix).transpose()
}

/// A list of matrices as a 3-D array.
pub fn de_cube<'de, D: Deserializer<'de>>(d: D) -> Result<Array3<f64>, D::Error> {
    let v: Vec<Vec<Vec<Option<f64>>>> = Deserialize::deserialize(d)?;
    let mats = v
        .into_iter()
        .map(rows_to_matrix)
        .collect::<Result<Vec<Array2<f64>>, D::Error>>()?;
    let views: Vec<_> = mats.iter().map(|m| m.view()).collect();
    if views.is_empty() {
        return Ok(Array3::zeros((0, 0, 0)));
    }
    ndarray::stack(ndarray::Axis(0), &views).map_err(serde::de::Error::custom)
}

//! The file readers never panic nor allocate what a file does not hold: `.npy` files with
//! arbitrary headers (shapes, types, orders, lengths) and payloads, and medida's own HDF5
//! checkpoints cut at arbitrary lengths or with bytes flipped, are read or refused with a named
//! error. Bounded so that it runs in CI, from a fixed seed (the same cases every run;
//! change it to explore more); a failure prints the minimal case.

use medida_data::{Checkpoint, NpyRows};
use ndarray::ArrayD;
use proptest::prelude::*;
use std::io::Write;

/// An `.npy` file: magic, version, a header of `dict` padded as NumPy pads it, then `payload`.
fn npy(major: u8, dict: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = dict.as_bytes().to_vec();
    let unpadded = 10 + header.len() + 1;
    header.resize(header.len() + (64 - unpadded % 64) % 64, b' ');
    header.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([major, 0]);
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header);
    out.extend(payload);
    out
}

/// A header dictionary: well-formed with any type, order and shape (including shapes far beyond
/// the payload), or arbitrary text.
fn header() -> impl Strategy<Value = String> {
    let descr = prop::sample::select(vec![
        "'<f8'", "'>f8'", "'<f4'", "'<i8'", "'|u1'", "'<c16'", "'x'", "3",
    ]);
    let order = prop::sample::select(vec!["False", "True", "0", "'no'"]);
    let dim = prop_oneof![0u64..5, Just(1u64 << 40), Just(u64::MAX), Just(1u64 << 62)];
    let shape = prop::collection::vec(dim, 0..4).prop_map(|d| {
        let items: Vec<String> = d.iter().map(u64::to_string).collect();
        let comma = if items.len() == 1 { "," } else { "" };
        format!("({}{comma})", items.join(", "))
    });
    prop_oneof![
        (descr, order, shape).prop_map(|(d, o, s)| format!(
            "{{'descr': {d}, 'fortran_order': {o}, 'shape': {s}, }}"
        )),
        "\\PC{0,80}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261203), ..ProptestConfig::default() })]

    #[test]
    fn any_npy_is_read_or_refused(
        major in 1u8..4,
        dict in header(),
        payload in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&npy(major, &dict, &payload)).unwrap();
        if let Ok(rows) = NpyRows::open(f.path()) {
            let (n, _) = rows.shape();
            let _ = rows.read(0..n.min(4));
        }
    }
}

/// A small checkpoint's bytes.
fn checkpoint_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.h5");
    let c = Checkpoint {
        arrays: vec![(
            "q".into(),
            ArrayD::from_shape_fn(vec![2, 3, 4], |i| i[2] as f64),
        )],
        numbers: vec![("tc".into(), 7.0)],
        texts: vec![("config".into(), "[model]\nnx = 4".into())],
    };
    c.write_atomic(&path).unwrap();
    std::fs::read(&path).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261203), ..ProptestConfig::default() })]

    #[test]
    fn a_cut_or_damaged_checkpoint_is_read_or_refused(
        cut in 0.0f64..1.0,
        flips in prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..4),
    ) {
        let mut bytes = checkpoint_bytes();
        bytes.truncate((bytes.len() as f64 * cut) as usize);
        let n = bytes.len();
        for (at, b) in flips {
            if n > 0 {
                bytes[((n as f64 * at) as usize).min(n - 1)] ^= b;
            }
        }
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&bytes).unwrap();
        let _ = Checkpoint::read(f.path());
    }
}

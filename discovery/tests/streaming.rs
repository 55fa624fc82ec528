//! Streaming equals in-memory: fits from statistics accumulated in any chunks, at any thread
//! count, are identical bit for bit to fits from the whole matrix.

use medida_discovery::GramBuilder;
use medida_discovery::{Gram, Library, Rvm, Stlsq};
use ndarray::{Array2, s};

#[test]
fn chunked_and_whole_matrix_fits_are_identical() {
    let n = 10_000;
    let x = Array2::from_shape_fn((n, 6), |(i, j)| {
        (((i * 37 + j * 11) % 97) as f64 / 48.5 - 1.0) * (1.0 + j as f64)
    });
    let y = Array2::from_shape_fn((n, 2), |(i, k)| {
        0.7 * x[[i, 1]] - 0.2 * x[[i, 4 - k]] + 1e-3 * (((i * 13) % 7) as f64 - 3.0)
    });
    let lib = Library::numbered(6);
    let whole = Gram::from_rows(x.view(), y.view());
    let fit_whole = (
        Stlsq::default().fit(&whole, &lib, &["a", "b"]).unwrap(),
        Rvm::default().fit(&whole, &lib, &["a", "b"]).unwrap(),
    );
    for (chunk, threads) in [(1, 1), (333, 2), (4096, 1), (7000, 2)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let gram = pool.install(|| {
            let mut b = GramBuilder::new(6, 2);
            for start in (0..n).step_by(chunk) {
                let end = (start + chunk).min(n);
                b.push(x.slice(s![start..end, ..]), y.slice(s![start..end, ..]))
                    .unwrap();
            }
            b.finish()
        });
        let fits = (
            Stlsq::default().fit(&gram, &lib, &["a", "b"]).unwrap(),
            Rvm::default().fit(&gram, &lib, &["a", "b"]).unwrap(),
        );
        assert!(
            fits == fit_whole,
            "chunks of {chunk} rows on {threads} threads give another fit"
        );
    }
    assert_eq!(fit_whole.0.support(0), vec![1, 4]);
}

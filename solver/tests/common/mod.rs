//! Helpers shared by the solver's integration tests.

/// `f` run inside a rayon pool of `threads` threads (the model's layers and an ensemble's members
/// spread over the ambient pool).
pub fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool of 1 or 2 threads")
        .install(f)
}

//! How a workflow reports progress: the command line draws a bar or logs lines, the Python
//! package stays quiet or calls back. Everything a workflow says to the user goes through here.

/// Receives the progress of runs and the notes of a pipeline.
pub trait Progress: Send {
    /// A run of steps `start..=total` begins; `seconds`: model time is in seconds (else
    /// non-dimensional).
    fn begin(&mut self, start: u64, total: u64, seconds: bool);
    /// Step `tc` reached model time `t`.
    fn step(&mut self, tc: u64, t: f64);
    /// The run ended.
    fn end(&mut self);
    /// A note for the user: a stage of a pipeline, what was written.
    fn note(&mut self, text: &str);
    /// Whether the caller wants the run stopped (Ctrl-C in Python); asked after every step,
    /// the run then ends with [`crate::Error::Interrupted`] as if it had failed there.
    fn interrupted(&mut self) -> bool {
        false
    }
}

/// Says nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn begin(&mut self, _: u64, _: u64, _: bool) {}
    fn step(&mut self, _: u64, _: f64) {}
    fn end(&mut self) {}
    fn note(&mut self, _: &str) {}
}

/// Model time as shown to a user: days for a model in seconds, the number itself otherwise.
pub fn model_time(t: f64, seconds: bool) -> String {
    if seconds {
        format!("{:.1} d", t / 86400.0)
    } else {
        format!("{t:.2}")
    }
}

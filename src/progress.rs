//! Progress of a run: a bar with steps/s, model time and ETA on a terminal; plain log lines every
//! tenth of the run otherwise; nothing with `--quiet`. Everything goes to stderr.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

const DAY: f64 = 86400.0;

/// Reports the progress of a run from step `start` to `total`.
pub struct Progress {
    bar: Option<ProgressBar>,
    log: bool,
    start: u64,
    total: u64,
    started: Instant,
    /// Model time in seconds (shown in days), or non-dimensional (shown as is).
    seconds: bool,
    next_log: u64,
}

impl Progress {
    /// A reporter for steps `start..=total`.
    pub fn new(start: u64, total: u64, quiet: bool, seconds: bool) -> Self {
        let terminal = !quiet && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} steps  {per_sec}  t = {msg}  ETA {eta}",
                )
                .expect("valid template"),
            );
            bar.set_position(start);
            bar
        });
        Self {
            bar,
            log: !quiet && !terminal,
            start,
            total,
            started: Instant::now(),
            next_log: start,
            seconds,
        }
    }

    /// Reports that step `tc` reached model time `t` [s].
    pub fn update(&mut self, tc: u64, t: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(tc);
            bar.set_message(self.time(t));
        } else if self.log && tc >= self.next_log {
            let done = tc - self.start;
            let secs = self.started.elapsed().as_secs_f64();
            let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
            let eta = if rate > 0.0 {
                (self.total - tc) as f64 / rate
            } else {
                0.0
            };
            eprintln!(
                "step {tc}/{} ({:.0}%)  t = {}  {rate:.0} steps/s  ETA {eta:.0} s",
                self.total,
                100.0 * tc as f64 / self.total.max(1) as f64,
                self.time(t)
            );
            self.next_log = tc + (self.total - self.start).div_ceil(10).max(1);
        }
    }

    /// Model time `t` as shown: days for a model in seconds, the number itself otherwise.
    pub fn time(&self, t: f64) -> String {
        if self.seconds {
            format!("{:.1} d", t / DAY)
        } else {
            format!("{t:.2}")
        }
    }

    /// A message that does not break the bar.
    pub fn println(&self, msg: &str) {
        match &self.bar {
            Some(bar) => bar.println(msg),
            None if self.log => eprintln!("{msg}"),
            None => {}
        }
    }

    /// Ends the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

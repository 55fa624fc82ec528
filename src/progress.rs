//! Progress on stderr: a bar with steps/s, model time and ETA on a terminal; plain log lines
//! every tenth of a run otherwise; nothing with `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use medida_workflow::progress::model_time;
use std::io::IsTerminal;
use std::time::Instant;

/// The command line's [`medida_workflow::Progress`].
pub struct Reporter {
    quiet: bool,
    bar: Option<ProgressBar>,
    start: u64,
    total: u64,
    started: Instant,
    seconds: bool,
    next_log: u64,
}

impl Reporter {
    /// A reporter; `quiet` says nothing at all.
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            bar: None,
            start: 0,
            total: 0,
            started: Instant::now(),
            seconds: true,
            next_log: 0,
        }
    }
}

impl medida_workflow::Progress for Reporter {
    fn begin(&mut self, start: u64, total: u64, seconds: bool) {
        (self.start, self.total, self.seconds) = (start, total, seconds);
        (self.started, self.next_log) = (Instant::now(), start);
        self.bar = (!self.quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len}  {per_sec}  t = {msg}  ETA {eta}",
                )
                .expect("valid template"),
            );
            bar.set_position(start);
            bar
        });
    }

    fn step(&mut self, tc: u64, t: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(tc);
            bar.set_message(model_time(t, self.seconds));
        } else if !self.quiet && tc >= self.next_log {
            let secs = self.started.elapsed().as_secs_f64();
            let rate = (tc - self.start) as f64 / secs.max(1e-9);
            let eta = (self.total.saturating_sub(tc)) as f64 / rate.max(1e-9);
            eprintln!(
                "step {tc}/{} ({:.0}%)  t = {}  {rate:.0} steps/s  ETA {eta:.0} s",
                self.total,
                100.0 * tc as f64 / self.total.max(1) as f64,
                model_time(t, self.seconds)
            );
            self.next_log = tc + (self.total - self.start).div_ceil(10).max(1);
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn note(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if !self.quiet => eprintln!("{text}"),
            None => {}
        }
    }
}

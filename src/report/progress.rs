//! Progress bars on standard error (indicatif): bytes read of all inputs with rate and
//! time left, then pairs resolved. They are drawn only when standard error is a terminal
//! and `--quiet` is off; otherwise every bar is hidden, so a cron job's mail or a
//! redirected log never receives a control character.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Makes the run's bars, all drawn or all hidden.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    drawn: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress {
            drawn: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// A bar for the bytes of the inputs; the reader sets its length once it has walked
    /// the paths, or leaves it unknown when standard input is read, and the bar becomes a
    /// counter.
    pub fn reading(&self) -> ProgressBar {
        self.bar(
            0,
            "reading   {spinner:.1} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
    }

    /// A bar for the pairs being resolved.
    pub fn resolving(&self, pairs: u64) -> ProgressBar {
        self.bar(
            pairs,
            "resolving [{bar:40}] {pos}/{len} pairs {rate} eta {eta}",
        )
    }

    fn bar(&self, len: u64, template: &str) -> ProgressBar {
        if !self.drawn {
            return ProgressBar::hidden();
        }
        // indicatif's own {per_sec} prints four decimals (38.2189/s); one is what a person reads.
        let style = ProgressStyle::with_template(template)
            .expect("the templates above are valid")
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.1}/s", state.per_sec());
                },
            )
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
            .with_style(style);
        // Redraw while a slow DNS server or a large gzip member keeps the counter still.
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_or_not_a_terminal_means_hidden() {
        assert!(Progress::new(true).reading().is_hidden());
        assert!(Progress::new(true).resolving(10).is_hidden());
        let terminal = std::io::stderr().is_terminal();
        assert_eq!(Progress::new(false).reading().is_hidden(), !terminal);
    }
}

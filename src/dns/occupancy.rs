//! How busy the resolving was, for performance work (issue 6): with `REPUDIATE_DNS_PROFILE`
//! set, `audit` samples every millisecond how many queries are on the wire (permits of
//! `--concurrency` in use) and how many evaluations are running, and prints their
//! distribution on standard error. A run whose queries in flight stay well under
//! `--concurrency` is limited before the network: by the evaluations, the CPU, or the
//! resolver library. Off by default; it never changes a result.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

/// The environment variable that turns sampling on.
pub const ENV: &str = "REPUDIATE_DNS_PROFILE";

/// Samples of one gauge.
#[derive(Debug, Default, Clone)]
pub struct Gauge {
    samples: Vec<usize>,
}

impl Gauge {
    fn record(&mut self, value: usize) {
        self.samples.push(value);
    }

    /// "mean M, p10/p50/p90 A/B/C, peak P", or "no samples".
    pub fn describe(&self) -> String {
        if self.samples.is_empty() {
            return "no samples".into();
        }
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let at = |q: usize| sorted[(sorted.len() - 1) * q / 100];
        let mean = sorted.iter().sum::<usize>() as f64 / sorted.len() as f64;
        format!(
            "mean {mean:.1}, p10/p50/p90 {}/{}/{}, peak {}",
            at(10),
            at(50),
            at(90),
            sorted[sorted.len() - 1]
        )
    }

    /// The mean of each tenth of the run, in order ("a b c ..."): where in the run the
    /// gauge was low (the ramp-up, a stretch in the middle, the tail), which the
    /// distribution alone does not say.
    pub fn by_tenth(&self) -> String {
        let n = self.samples.len();
        (0..10)
            .filter_map(|i| {
                let part = &self.samples[n * i / 10..n * (i + 1) / 10];
                (!part.is_empty()).then(|| (part.iter().sum::<usize>() / part.len()).to_string())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The share of samples at or above `limit`, in percent.
    pub fn share_at_least(&self, limit: usize) -> f64 {
        let n = self.samples.iter().filter(|&&v| v >= limit).count();
        crate::model::pct(n as u64, self.samples.len() as u64)
    }
}

/// A running sampler; [`Sampler::finish`] stops it and returns what it saw.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    task: JoinHandle<(Gauge, Gauge)>,
}

impl Sampler {
    /// Starts sampling `read` (queries in flight, evaluations running) on the current
    /// runtime, or returns `None` when [`ENV`] is not set.
    pub fn start_if_asked<F>(read: F) -> Option<Sampler>
    where
        F: Fn() -> (usize, usize) + Send + 'static,
    {
        std::env::var_os(ENV)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let (mut queries, mut evaluations) = (Gauge::default(), Gauge::default());
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            while !stopped.load(Ordering::Relaxed) {
                tick.tick().await;
                let (q, e) = read();
                queries.record(q);
                evaluations.record(e);
            }
            (queries, evaluations)
        });
        Some(Sampler { stop, task })
    }

    /// Stops sampling and returns (queries in flight, evaluations running).
    pub async fn finish(self) -> (Gauge, Gauge) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_describes_its_distribution() {
        let mut g = Gauge::default();
        for v in 1..=100 {
            g.record(v);
        }
        assert_eq!(g.describe(), "mean 50.5, p10/p50/p90 10/50/90, peak 100");
        assert_eq!(g.share_at_least(91), 10.0);
        assert_eq!(Gauge::default().describe(), "no samples");
        assert_eq!(g.by_tenth(), "5 15 25 35 45 55 65 75 85 95");
        assert_eq!(Gauge::default().by_tenth(), "");
    }
}

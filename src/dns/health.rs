//! Tells a dead resolver from a bad night. A resolver that is down, firewalled, refusing us
//! or simply the wrong address fails every question, and left alone a run would spend
//! timeout × tries on each of 20,000 domains and then report them all `tempfail` with exit
//! 0. So the first [`FIRST_QUESTIONS`] questions sent to the network are watched: if every
//! one of them fails in a way that speaks about the server, not the name
//! ([`super::Failure::says_server_unusable`]: no reply, connection refused, no route, REFUSED),
//! DNS is unusable — nothing more is sent, and the run stops with exit 1 naming the
//! servers and how they failed. A run that asks fewer questions is judged on those it asked.
//! One answer of any kind from a server (even NXDOMAIN or SERVFAIL) settles it: the servers
//! work, and later failures are the night's, counted by `--max-tempfail`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Outcome;

/// How many of the first questions must all fail before DNS is declared unusable.
pub const FIRST_QUESTIONS: usize = 50;

/// The failure given to questions not sent once DNS is known to be unusable.
pub const NOT_ASKED: &str = "not asked: DNS is unusable";

pub struct Health {
    window: usize,
    servers: Vec<SocketAddr>,
    /// Set once the answer is known either way; later questions skip the lock.
    settled: AtomicBool,
    dead: AtomicBool,
    first: Mutex<First>,
}

/// What the first questions got.
#[derive(Default)]
struct First {
    seen: usize,
    /// A server answered one of them.
    answered: bool,
    /// How the others failed: the failure's text and how many times.
    failures: BTreeMap<String, usize>,
}

impl Health {
    /// Watches the first `window` questions sent to `servers`.
    pub fn new(window: usize, servers: Vec<SocketAddr>) -> Health {
        Health {
            window: window.max(1),
            servers,
            settled: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            first: Mutex::new(First::default()),
        }
    }

    /// Records the outcome of one question a server was sent.
    pub fn record(&self, outcome: &Outcome) {
        if self.settled.load(Ordering::Relaxed) {
            return;
        }
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if first.answered || first.seen >= self.window {
            return;
        }
        first.seen += 1;
        match outcome {
            Outcome::Failed(f) if f.says_server_unusable() => {
                *first.failures.entry(f.to_string()).or_default() += 1;
            }
            _ => {
                first.answered = true;
                self.settled.store(true, Ordering::Relaxed);
                return;
            }
        }
        if first.seen == self.window {
            self.dead.store(true, Ordering::Relaxed);
            self.settled.store(true, Ordering::Relaxed);
        }
    }

    /// Whether all of the first questions have failed (the run should stop sending).
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }

    /// At the end of the DNS work: why DNS was unusable, when every question sent (up to
    /// the first `window`) failed at the server; `None` when a server answered or nothing
    /// was sent.
    pub fn unusable(&self) -> Option<Unusable> {
        let first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if first.answered || first.seen == 0 {
            return None;
        }
        let mut failures: Vec<(String, usize)> = first
            .failures
            .iter()
            .map(|(k, &n)| (k.clone(), n))
            .collect();
        failures.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Some(Unusable {
            questions: first.seen,
            stopped_early: self.is_dead(),
            servers: self.servers.clone(),
            failures,
        })
    }
}

/// Why DNS was found unusable: printed as the run's fatal error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub questions: usize,
    /// The run stopped sending after the first questions (rather than running out of them).
    pub stopped_early: bool,
    pub servers: Vec<SocketAddr>,
    /// Each way the questions failed and how many times, most frequent first.
    pub failures: Vec<(String, usize)>,
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let servers = if self.servers.is_empty() {
            "the system's nameservers".to_string()
        } else {
            let names: Vec<String> = self.servers.iter().map(|s| s.to_string()).collect();
            names.join(", ")
        };
        let n = self.questions;
        let all = if n == 1 {
            format!("the only question sent to {servers} failed")
        } else if self.stopped_early {
            format!("the first {n} questions sent to {servers} all failed")
        } else {
            format!("all {n} questions sent to {servers} failed")
        };
        let how: Vec<String> = self
            .failures
            .iter()
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect();
        write!(
            f,
            "DNS is unusable: {all} ({}); no report was written \
             (check --nameserver, or /etc/resolv.conf when none is given)",
            how.join(", ")
        )?;
        if self.stopped_early {
            f.write_str("; the run stopped early")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Data, Failure};

    fn server() -> Vec<SocketAddr> {
        vec!["127.0.0.1:9".parse().unwrap()]
    }

    fn failed(f: Failure) -> Outcome {
        Outcome::Failed(f)
    }

    #[test]
    fn the_first_questions_all_failing_is_fatal_and_stops_the_run() {
        let h = Health::new(3, server());
        h.record(&failed(Failure::ConnectionRefused));
        h.record(&failed(Failure::ConnectionRefused));
        assert!(!h.is_dead(), "two of three");
        h.record(&failed(Failure::Timeout));
        assert!(h.is_dead());
        h.record(&Outcome::NxDomain);
        let u = h.unusable().expect("unusable");
        assert_eq!(u.questions, 3);
        assert_eq!(
            u.to_string(),
            "DNS is unusable: the first 3 questions sent to 127.0.0.1:9 all failed \
             (connection refused: 2, timeout: 1); no report was written (check --nameserver, \
             or /etc/resolv.conf when none is given); the run stopped early"
        );
    }

    #[test]
    fn one_answer_of_any_kind_settles_it() {
        for answer in [
            Outcome::NxDomain,
            Outcome::NoData,
            Outcome::Found(Data::Addrs(vec![])),
            failed(Failure::ServFail),
            failed(Failure::BadAnswer("x".into())),
            failed(Failure::Slow),
        ] {
            let h = Health::new(3, server());
            h.record(&failed(Failure::Timeout));
            h.record(&answer);
            for _ in 0..5 {
                h.record(&failed(Failure::Timeout));
            }
            assert!(!h.is_dead(), "{answer:?}");
            assert_eq!(h.unusable(), None, "{answer:?}");
        }
    }

    #[test]
    fn a_short_run_is_judged_on_the_questions_it_asked() {
        let h = Health::new(50, server());
        assert_eq!(h.unusable(), None, "nothing sent, nothing to judge");
        h.record(&failed(Failure::Refused));
        h.record(&failed(Failure::Refused));
        assert!(!h.is_dead(), "still under the window: the run goes on");
        let u = h.unusable().expect("every question asked failed");
        assert!(!u.stopped_early);
        assert!(
            u.to_string().starts_with(
                "DNS is unusable: all 2 questions sent to 127.0.0.1:9 failed (REFUSED: 2)"
            ),
            "{u}"
        );
    }
}

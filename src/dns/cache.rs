//! The run-wide answer cache. Rules: one entry per (name, type); the first asker starts the
//! query as its own task and every asker, concurrent or later, awaits the same shared
//! result, so a run asks each question once however many pairs need it — even when the
//! first asker gives up at its evaluation deadline, because the task is not its to cancel.
//! Failures are kept for the run too (one answer per question keeps verdicts consistent).
//! No DashMap guard is held across an `.await`: the shared future is cloned out first.
//!
//! Each answer carries its absolute expiry, taken when it arrived, so the end of the run can
//! hand [`super::persist`] what is worth keeping; answers loaded from a `--cache` file are
//! seeded as already-finished entries and are served as [`Source::Cache`]. A seeded entry
//! counts once when first used, so the run can say how many answers the file gave.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use dashmap::DashMap;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::persist::{Entry, unix_now};
use super::{Answer, Failure, Outcome, QType, Source};

/// A finished answer, the Unix second its TTL runs out and the one it arrived.
#[derive(Clone, Debug)]
struct Cached {
    answer: Answer,
    expires: u64,
    received: u64,
    /// For an answer from the `--cache` file: whether the run has used it yet.
    from_file: Option<Arc<AtomicBool>>,
}

type Pending = Shared<BoxFuture<'static, Cached>>;

/// One map per record type, so a question is looked up by `&str` without building an owned
/// key: nearly all of a run's lookups are hits (an audit of 20,000 domains asks ~24,000
/// questions and answers ~390,000 lookups from here). The hasher is foldhash's, at a
/// fraction of SipHash's cost (SipHash was half of each hit's instructions, callgrind,
/// docs/performance.md). The names come from logs and DNS answers, which anyone can shape,
/// so the hash is seeded at random per process as SipHash was: foldhash is only "minimally
/// DoS-resistant", enough against collisions computed in advance, and a batch run gives no
/// one the interactive timing probe it would take to learn the seed.
#[derive(Default)]
pub struct Cache {
    entries: [DashMap<String, Pending, foldhash::fast::RandomState>; 5],
    /// Questions answered from the `--cache` file (each counted at its first use).
    file_answers: AtomicU64,
}

fn slot(qtype: QType) -> usize {
    match qtype {
        QType::Mx => 0,
        QType::A => 1,
        QType::Aaaa => 2,
        QType::Txt => 3,
        QType::Ptr => 4,
    }
}

const QTYPES: [QType; 5] = QType::ALL;

impl Cache {
    /// The answer to a question already answered, if it is: most lookups of a run, read
    /// under the shard's read lock without cloning the shared future or awaiting anything.
    pub fn ready(&self, name: &str, qtype: QType) -> Option<Answer> {
        let entry = self.entries[slot(qtype)].get(name)?;
        let cached = entry.value().peek()?;
        self.count_file_use(cached);
        Some(cached.answer.clone())
    }

    /// Returns the answer and whether this call started the fetch. Must run inside a tokio
    /// runtime (the fetch is spawned).
    pub async fn get_or_fetch<F, Fut>(&self, name: &str, qtype: QType, fetch: F) -> (Answer, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let map = &self.entries[slot(qtype)];
        // The read guard lives only for this statement.
        let known = map.get(name).map(|entry| entry.value().clone());
        let mut started = false;
        let pending = match known {
            Some(pending) => pending,
            None => map
                .entry(name.to_string())
                .or_insert_with(|| {
                    started = true;
                    start(fetch())
                })
                .value()
                .clone(),
        };
        // A finished answer is read without polling the shared future.
        if let Some(cached) = pending.peek() {
            self.count_file_use(cached);
            return (cached.answer.clone(), started);
        }
        (pending.await.answer, started)
    }

    /// Starts the fetch of a question not asked yet, without waiting for it (its first
    /// [`Cache::get_or_fetch`] is then not the one that started it). Must run inside a
    /// tokio runtime.
    pub fn start<F, Fut>(&self, name: &str, qtype: QType, fetch: F)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let map = &self.entries[slot(qtype)];
        if !map.contains_key(name) {
            map.entry(name.to_string())
                .or_insert_with(|| start(fetch()));
        }
    }

    fn count_file_use(&self, cached: &Cached) {
        if let Some(used) = &cached.from_file
            && !used.load(Ordering::Relaxed)
            && !used.swap(true, Ordering::Relaxed)
        {
            self.file_answers.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many questions the `--cache` file has answered so far.
    pub fn file_answers(&self) -> u64 {
        self.file_answers.load(Ordering::Relaxed)
    }

    /// Adds an answer remembered from an earlier run, unless the question is already here.
    /// Its TTL becomes the time it has left at `now`.
    pub fn seed(&self, entry: Entry, now: u64) {
        let answer = Answer {
            ttl: entry.ttl_at(now),
            outcome: entry.outcome,
            source: Source::Cache,
        };
        let cached = Cached {
            answer,
            expires: entry.expires,
            received: entry.received,
            from_file: Some(Arc::new(AtomicBool::new(false))),
        };
        let ready = futures::future::ready(cached).boxed().shared();
        // Polled once here, so `snapshot` sees it as finished even if no one asks for it.
        let _ = ready.clone().now_or_never();
        self.entries[slot(entry.qtype)]
            .entry(entry.name)
            .or_insert(ready);
    }

    /// The finished, definite answers still usable at `now` under `max_age` (see
    /// [`Entry::usable`]): what a `--cache` file keeps. Questions still in flight and
    /// temporary failures are left out.
    pub fn snapshot(&self, now: u64, max_age: u64) -> Vec<Entry> {
        let mut kept = Vec::new();
        for (map, qtype) in self.entries.iter().zip(QTYPES) {
            kept.extend(map.iter().filter_map(|item| {
                let cached = item.value().peek()?;
                if matches!(cached.answer.outcome, Outcome::Failed(_)) {
                    return None;
                }
                let entry = Entry {
                    name: item.key().clone(),
                    qtype,
                    outcome: cached.answer.outcome.clone(),
                    expires: cached.expires,
                    received: cached.received,
                };
                entry.usable(now, max_age).then_some(entry)
            }));
        }
        kept
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.iter().map(DashMap::len).sum()
    }
}

/// Spawns the fetch as its own task (spawning only schedules it: cheap enough under the
/// shard lock) and wraps it in the future every asker shares.
fn start<Fut>(fetch: Fut) -> Pending
where
    Fut: Future<Output = Answer> + Send + 'static,
{
    let task = tokio::spawn(fetch);
    async move {
        let answer = task.await.unwrap_or_else(|e| {
            Answer::failed(
                Failure::BadAnswer(format!("lookup task failed: {e}")),
                Source::Dns,
            )
        });
        let received = unix_now();
        let expires = received.saturating_add(u64::from(answer.ttl));
        Cached {
            answer,
            expires,
            received,
            from_file: None,
        }
    }
    .boxed()
    .shared()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Outcome;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    async fn slow_nx(fetches: Arc<AtomicUsize>, ms: u64) -> Answer {
        fetches.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Answer {
            outcome: Outcome::NxDomain,
            ttl: 1,
            source: Source::Dns,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_askers_share_one_fetch() {
        let cache = Arc::new(Cache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..200 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                let name = format!("n{}.example", i % 7);
                cache
                    .get_or_fetch(&name, QType::A, || slow_nx(fetches, 30))
                    .await
            }));
        }
        let mut fresh = 0;
        for t in tasks {
            let (a, f) = t.await.unwrap();
            assert_eq!(a.outcome, Outcome::NxDomain);
            fresh += usize::from(f);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 7);
        assert_eq!(fresh, 7);
        assert_eq!(cache.len(), 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seeded_answers_are_served_and_kept_with_their_expiry() {
        let cache = Cache::default();
        let now = unix_now();
        cache.seed(
            Entry {
                name: "mail-from.kept.example".into(),
                qtype: QType::Mx,
                outcome: Outcome::NxDomain,
                expires: now + 100,
                received: now - 10,
            },
            now,
        );
        let fetches = Arc::new(AtomicUsize::new(0));
        let (answer, started) = cache
            .get_or_fetch("mail-from.kept.example", QType::Mx, || {
                slow_nx(fetches.clone(), 1)
            })
            .await;
        assert_eq!(
            (answer.source, answer.ttl, started),
            (Source::Cache, 100, false)
        );
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            0,
            "no fetch for a seeded answer"
        );
        cache.seed(
            Entry {
                name: "never.asked.example".into(),
                qtype: QType::A,
                outcome: Outcome::NoData,
                expires: now + 50,
                received: now - 10,
            },
            now,
        );

        // a fetched answer (TTL 1) and a failure (never kept)
        cache
            .get_or_fetch("fresh.example", QType::A, || slow_nx(fetches.clone(), 1))
            .await;
        cache
            .get_or_fetch("down.example", QType::A, || async {
                Answer::failed(Failure::ServFail, Source::Dns)
            })
            .await;
        assert_eq!(cache.file_answers(), 1, "one seeded answer used so far");
        cache
            .get_or_fetch("mail-from.kept.example", QType::Mx, || {
                slow_nx(fetches.clone(), 1)
            })
            .await;
        assert_eq!(cache.file_answers(), 1, "counted once however often used");
        let mut kept: Vec<(String, u64)> = cache
            .snapshot(now, 0)
            .into_iter()
            .map(|e| (e.name, e.expires - now))
            .collect();
        kept.sort();
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert_eq!(kept[1], ("mail-from.kept.example".to_string(), 100));
        assert_eq!(kept[2], ("never.asked.example".to_string(), 50));
        assert_eq!(kept[0].0, "fresh.example");
        assert!((1..=2).contains(&kept[0].1), "{kept:?}");
        assert_eq!(cache.snapshot(now + 100, 0), [], "all expired by then");
        let kept_for_a_day: Vec<String> = cache
            .snapshot(now + 100, 86_400)
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            kept_for_a_day.len(),
            3,
            "a max age keeps them past their TTL"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_started_question_is_asked_once_and_read_by_its_first_lookup() {
        let cache = Cache::default();
        let fetches = Arc::new(AtomicUsize::new(0));
        cache.start("started.example", QType::Mx, || {
            slow_nx(fetches.clone(), 20)
        });
        cache.start("started.example", QType::Mx, || {
            slow_nx(fetches.clone(), 20)
        });
        let (answer, started) = cache
            .get_or_fetch("started.example", QType::Mx, || {
                slow_nx(fetches.clone(), 20)
            })
            .await;
        assert_eq!(answer.outcome, Outcome::NxDomain);
        assert!(!started, "the lookup read the started question");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_asker_giving_up_does_not_cancel_the_query() {
        let cache = Cache::default();
        let fetches = Arc::new(AtomicUsize::new(0));
        let first = tokio::time::timeout(
            Duration::from_millis(10),
            cache.get_or_fetch("slow.example", QType::Mx, || slow_nx(fetches.clone(), 100)),
        )
        .await;
        assert!(first.is_err(), "the first asker hit its deadline");
        let (answer, started) = cache
            .get_or_fetch("slow.example", QType::Mx, || slow_nx(fetches.clone(), 100))
            .await;
        assert_eq!(answer.outcome, Outcome::NxDomain);
        assert!(
            !started,
            "the second asker joined the query already running"
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}

//! The run-wide answer cache. Rules: one entry per (name, type); the first asker runs the
//! query and every concurrent asker awaits the same result, so a run asks each question
//! once however many pairs need it. Failures are kept for the run too (one answer per
//! question per run keeps verdicts consistent). No DashMap guard is ever held across an
//! `.await`: the entry is cloned out of the map first.

use std::future::Future;
use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::OnceCell;

use super::{Answer, QType};

#[derive(Default)]
pub struct Cache {
    entries: DashMap<(String, QType), Arc<OnceCell<Answer>>>,
}

impl Cache {
    /// Returns the answer and whether this call fetched it.
    pub async fn get_or_fetch<F, Fut>(&self, name: String, qtype: QType, fetch: F) -> (Answer, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        let cell = self
            .entries
            .entry((name, qtype))
            .or_default()
            .value()
            .clone();
        let mut fetched = false;
        let answer = cell
            .get_or_init(|| {
                fetched = true;
                fetch()
            })
            .await;
        (answer.clone(), fetched)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Outcome, Source};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

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
                    .get_or_fetch(name, QType::A, || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        Answer {
                            outcome: Outcome::NxDomain,
                            ttl: 1,
                            source: Source::Dns,
                        }
                    })
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
}

//! Evaluates every pair of an audit, a bounded number at once, over one shared DNS stack:
//! the only concurrent stage of the policy work. Each pair is decided by [`verdict_for`],
//! and SPF's answer ([`spf_for`]) is evaluated beside it, the two at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;

use super::spf::NEEDS_SENDER;
use super::{PolicyConfig, spf_for, verdict_for};
use crate::dns::Dns;
use crate::dns::occupancy::Sampler;
use crate::model::{PairKey, PairRow};

/// Evaluates every pair, a bounded number at once (see `evaluation_window`), on the thread
/// that waits for them; the DNS layer bounds the queries in flight, and the queries run as
/// their own tasks on the runtime's worker threads. Spawning every evaluation as a task was
/// measured too: it cost more CPU (wake-ups and shared state across threads) and was slower
/// on a busy 2-core machine, so only the network work is spread.
pub async fn evaluate_all(
    dns: &Dns,
    cfg: &PolicyConfig,
    pairs: HashMap<PairKey, u64>,
    concurrency: usize,
    on_each: &(dyn Fn() + Sync),
) -> Vec<PairRow> {
    let total = pairs.len();
    let window = evaluation_window(concurrency);
    let running_now = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (queries_in_flight, running_now) = (dns.in_flight_probe(), running_now.clone());
        Sampler::start_if_asked(move || (queries_in_flight(), running_now.load(Ordering::Relaxed)))
    };
    let rows = futures::stream::iter(pairs)
        .map(|(key, messages)| {
            let running_now = &running_now;
            async move {
                running_now.fetch_add(1, Ordering::Relaxed);
                let (e, spf) = futures::join!(verdict_for(dns, cfg, &key), spf_for(dns, cfg, &key));
                running_now.fetch_sub(1, Ordering::Relaxed);
                on_each();
                let mut reason = e.reason;
                if spf.as_ref().is_some_and(|s| s.needs_sender) {
                    reason = Some(match reason {
                        Some(r) => format!("{r}; {NEEDS_SENDER}"),
                        None => NEEDS_SENDER.to_string(),
                    });
                }
                PairRow {
                    key,
                    messages,
                    verdict: e.verdict,
                    matched: e.matched,
                    relays: e.relays,
                    reason,
                    authenticated: None,
                    spf: spf.map(|s| s.result),
                }
            }
        })
        .buffer_unordered(window)
        .collect()
        .await;
    if let Some(sampler) = sampler {
        let (queries, evaluations) = sampler.finish().await;
        eprintln!(
            "repudiate: {total} evaluations, at most {window} at once; queries in flight \
             (--concurrency {concurrency}): {}, at the limit {:.0}% of the time; \
             evaluations running: {}",
            queries.describe(),
            queries.share_at_least(concurrency),
            evaluations.describe()
        );
    }
    rows
}

/// Evaluations running at once. Each asks one question at a time and most questions are
/// answered by the cache or wait for a query another evaluation started, so several
/// evaluations per permit keep the network busy; the window stays bounded because an
/// evaluation's deadline (`--eval-timeout`) runs from its start, queueing for a permit
/// included.
fn evaluation_window(concurrency: usize) -> usize {
    concurrency.saturating_mul(4).max(16)
}

//! Evaluates every pair of an audit, a bounded number at once, over one shared DNS stack:
//! the only concurrent stage of the policy work. Pairs come grouped by sender domain, and
//! each domain's policy is walked once per address family ([`super::domain`]) for all its
//! clients, when the first of its pairs needs it; the walk is dropped with the domain's
//! last pair. SPF likewise: once per domain for all its clients ([`super::spf::expand_spf`]),
//! and per pair ([`spf_for`]) where a record reads the client.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use tokio::sync::OnceCell;

use super::domain::{Decided, DomainPolicy, Prepared, expand};
use super::spf::{NEEDS_SENDER, SpfDomain, SpfEvaluation, expand_spf};
use super::{PolicyConfig, spf_for, verdict_for};
use crate::dns::occupancy::Sampler;
use crate::dns::{Dns, QType};
use crate::model::{DayList, PairKey, PairRow, Sender};

/// Evaluates every pair, a bounded number at once (see `evaluation_window`), on the thread
/// that waits for them; the DNS layer bounds the queries in flight, and the queries run as
/// their own tasks on the runtime's worker threads. Spawning every evaluation as a task was
/// measured too: it cost more CPU (wake-ups and shared state across threads) and was slower
/// on a busy 2-core machine, so only the network work is spread.
pub async fn evaluate_all(
    dns: &Dns,
    cfg: &PolicyConfig,
    pairs: impl ExactSizeIterator<Item = (PairKey, u64, DayList)>,
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
    // Sized once: grown by doubling, the last copy held two buffers of rows at once.
    let mut rows = Vec::with_capacity(total);
    let pairs = pairs.map(|(key, messages, days)| (key, (messages, days)));
    let prepared = Prepared::default();
    let mut evaluated = futures::stream::iter(by_domain(pairs))
        .map(|(domain, key, (messages, days))| {
            let (running_now, prepared) = (&running_now, &prepared);
            // Ranked: its questions after the first go before other evaluations' first ones.
            crate::dns::gate::ranked(async move {
                running_now.fetch_add(1, Ordering::Relaxed);
                let (decided, spf) = futures::join!(
                    decide(dns, cfg, prepared, domain.clone(), &key),
                    spf_of(dns, cfg, domain, &key)
                );
                running_now.fetch_sub(1, Ordering::Relaxed);
                on_each();
                let mut reason = decided.reason;
                if spf.as_ref().is_some_and(|s| s.needs_sender) {
                    reason = Some(match reason {
                        Some(r) => format!("{r}; {NEEDS_SENDER}"),
                        None => NEEDS_SENDER.to_string(),
                    });
                }
                PairRow {
                    key,
                    messages,
                    verdict: decided.verdict,
                    matched: decided.matched,
                    relays: decided.relays,
                    reason,
                    authenticated: None,
                    spf: spf.map(|s| s.result),
                    days,
                }
            })
        })
        .buffer_unordered(window);
    while let Some(row) = evaluated.next().await {
        rows.push(row);
    }
    drop(evaluated);
    if let Some(sampler) = sampler {
        let (queries, evaluations) = sampler.finish().await;
        eprintln!(
            "repudiate: {total} evaluations, at most {window} at once; queries in flight \
             (--concurrency {concurrency}): {}, at the limit {:.0}% of the time, mean by \
             tenth of the run {}; evaluations running: {}, by tenth {}",
            queries.describe(),
            queries.share_at_least(concurrency),
            queries.by_tenth(),
            evaluations.describe(),
            evaluations.by_tenth()
        );
    }
    rows
}

/// A sender domain's clients, and its policy walked once per family when first needed.
struct Domain {
    name: String,
    v4: Vec<IpAddr>,
    v6: Vec<IpAddr>,
    walked_v4: OnceCell<DomainPolicy>,
    walked_v6: OnceCell<DomainPolicy>,
    spf: OnceCell<SpfDomain>,
}

/// The pairs in domain order, each evaluable one with its domain; pairs that cannot be
/// evaluated (no or a malformed sender, no address) have none.
fn by_domain<V>(
    pairs: impl Iterator<Item = (PairKey, V)>,
) -> impl Iterator<Item = (Option<Arc<Domain>>, PairKey, V)> {
    let mut groups: HashMap<String, Vec<(PairKey, V)>> = HashMap::new();
    let mut alone = Vec::new();
    for (key, messages) in pairs {
        match (&key.sender, key.ip) {
            (Sender::Domain(d), Some(_)) => {
                groups.entry(d.clone()).or_default().push((key, messages))
            }
            _ => alone.push((None, key, messages)),
        }
    }
    let grouped = groups.into_iter().flat_map(|(name, pairs)| {
        let (v4, v6) = pairs
            .iter()
            .filter_map(|(key, _)| key.ip.map(crate::net::canonical))
            .partition(|ip| ip.is_ipv4());
        let domain = Arc::new(Domain {
            name,
            v4,
            v6,
            walked_v4: OnceCell::new(),
            walked_v6: OnceCell::new(),
            spf: OnceCell::new(),
        });
        pairs
            .into_iter()
            .map(move |(key, messages)| (Some(domain.clone()), key, messages))
    });
    alone.into_iter().chain(grouped)
}

/// The pair's verdict: from its domain's walk, or, for a pair that cannot be evaluated, as
/// [`verdict_for`] decides it.
async fn decide(
    dns: &Dns,
    cfg: &PolicyConfig,
    prepared: &Prepared,
    domain: Option<Arc<Domain>>,
    key: &PairKey,
) -> Decided {
    if let (Some(domain), Some(ip)) = (domain, key.ip) {
        let ip = crate::net::canonical(ip);
        let (cell, wanted, family) = if ip.is_ipv4() {
            (&domain.walked_v4, &domain.v4, QType::A)
        } else {
            (&domain.walked_v6, &domain.v6, QType::Aaaa)
        };
        let walked = cell
            .get_or_init(|| expand(dns, &domain.name, family, wanted, cfg, prepared))
            .await;
        if let Some(decided) = walked.answer(ip, cfg) {
            return decided;
        }
    }
    // Unreachable for a domain's own clients (the walk was asked about each of them); the
    // per-pair walk stays the answer of record for anything else.
    Decided::of(verdict_for(dns, cfg, key).await)
}

/// The pair's SPF result: from its domain's evaluation, or per pair where that one could not
/// answer (a record that reads the client, its deadline passed) and for pairs with no domain.
async fn spf_of(
    dns: &Dns,
    cfg: &PolicyConfig,
    domain: Option<Arc<Domain>>,
    key: &PairKey,
) -> Option<SpfEvaluation> {
    if let (Some(domain), Some(ip), true, false) = (domain, key.ip, cfg.spf, cfg.trace) {
        let evaluated = domain
            .spf
            .get_or_init(|| async {
                let clients: Vec<IpAddr> = domain.v4.iter().chain(&domain.v6).copied().collect();
                expand_spf(dns, &domain.name, &clients, cfg.eval_timeout).await
            })
            .await;
        if let Some(answer) = evaluated.answer(ip) {
            return Some(answer);
        }
    }
    spf_for(dns, cfg, key).await
}

/// Evaluations running at once. Each asks one question at a time and most questions are
/// answered by the cache or wait for a query another evaluation started, so several
/// evaluations per permit keep the network busy; the window stays bounded because an
/// evaluation's deadline (`--eval-timeout`) runs from its start, queueing for a permit
/// included.
fn evaluation_window(concurrency: usize) -> usize {
    concurrency.saturating_mul(4).max(16)
}

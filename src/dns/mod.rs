//! DNS: answers the policies' questions — MX at `MAIL-FROM.<name>`, A or AAAA of a relay, and
//! for SPF the TXT records and PTR names it needs — through a stack of zone files (`--zone`, what-if answers), a run-wide single-flight cache,
//! and hickory-resolver. Outcomes are typed: "no records" is never confused with a failure,
//! because the policy turns the first into `no-policy` and the second into `tempfail`.

pub(crate) mod cache;
pub(crate) mod diagnose;
pub(crate) mod exchange;
pub mod gate;
pub mod health;
pub(crate) mod occupancy;
pub mod persist;
pub(crate) mod reply;
pub mod upstream;
pub mod wire;
pub(crate) mod zone_error;
pub mod zones;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cache::Cache;
use dashmap::DashSet;
use gate::{Gate, Slot};
use health::Health;
use persist::Entry;
use upstream::Upstream;
use zones::{ZoneAnswer, Zones};

/// The record types the check asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QType {
    Mx,
    A,
    Aaaa,
    /// SPF records (RFC 7208 §3) and nothing else the project reads.
    Txt,
    /// Reverse names, for SPF's `ptr` mechanism and `%{p}` macro.
    Ptr,
}

impl QType {
    pub fn as_str(self) -> &'static str {
        match self {
            QType::Mx => "MX",
            QType::A => "A",
            QType::Aaaa => "AAAA",
            QType::Txt => "TXT",
            QType::Ptr => "PTR",
        }
    }

    /// Every type, in the order caches and files list them.
    pub const ALL: [QType; 5] = [QType::Mx, QType::A, QType::Aaaa, QType::Txt, QType::Ptr];

    /// The address type that holds `ip`'s family.
    pub fn for_ip(ip: IpAddr) -> QType {
        if ip.is_ipv4() { QType::A } else { QType::Aaaa }
    }
}

/// One MX record. `exchange` is lowercase ASCII without the trailing dot; the root (`MX 0 .`,
/// RFC 7505 null MX) is the empty string.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MxTarget {
    pub preference: u16,
    pub exchange: String,
}

/// Data of a positive answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    /// Shared, not copied, by every clone of the answer: a policy that lists thousands of
    /// relays, each delegating to the same list, hands that one list out thousands of times,
    /// and the walk skips a list it has merged before by identity (docs/design.md §2.5).
    Mx(Arc<[MxTarget]>),
    Addrs(Vec<IpAddr>),
    /// One string per TXT record, its character-strings joined without separator (RFC 7208
    /// §3.3). Bytes that are not UTF-8 become U+FFFD: still not ASCII, so an SPF record
    /// holding them stays a `permerror`.
    Txt(Vec<String>),
    /// PTR target names: lowercase, without the trailing dot.
    Ptr(Vec<String>),
}

/// Why a question could not be answered. All of these are temporary for the check
/// (docs/design.md §2.2: the draft's 450).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    ServFail,
    Refused,
    /// Another error response code (FORMERR, NOTIMP, ...).
    Rcode(String),
    /// No reply in time, and the network said nothing either: a silent server.
    Timeout,
    /// No reply in time, but the server answered the same question asked once more: it is
    /// there, only slow (a resolver still waiting on an authoritative server, say).
    Slow,
    /// Nothing listens on the server's port (ICMP port unreachable, or a TCP reset).
    ConnectionRefused,
    /// This machine has no network towards the server (no interface, no route at all).
    Unreachable,
    /// The network reports the server's host unreachable (no route to host).
    NoRoute,
    /// A reply that could not be used: truncated over TCP too, unparseable, looping CNAMEs.
    BadAnswer(String),
    /// Any other socket error, or servers failing in different ways (each named).
    Network(String),
    /// `--offline` and neither a zone file nor the cache had the answer.
    Offline,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::ServFail => f.write_str("SERVFAIL"),
            Failure::Refused => f.write_str("REFUSED"),
            Failure::Rcode(code) => f.write_str(code),
            Failure::Timeout => f.write_str("timeout"),
            Failure::Slow => f.write_str("timeout (the server is up, but did not answer in time)"),
            Failure::ConnectionRefused => f.write_str("connection refused"),
            Failure::Unreachable => f.write_str("network unreachable"),
            Failure::NoRoute => f.write_str("no route to host"),
            Failure::BadAnswer(why) => write!(f, "bad answer: {why}"),
            Failure::Network(why) => write!(f, "network error: {why}"),
            Failure::Offline => f.write_str("offline"),
        }
    }
}

impl Failure {
    /// Whether the failure says the server is unusable rather than that this one question
    /// is: it did not answer, could not be reached, or refuses to serve us. Enough of these
    /// at the start of a run, and nothing else, mean a dead resolver (see [`health`]).
    pub fn says_server_unusable(&self) -> bool {
        matches!(
            self,
            Failure::Timeout
                | Failure::ConnectionRefused
                | Failure::Unreachable
                | Failure::NoRoute
                | Failure::Network(_)
                | Failure::Refused
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Found(Data),
    /// The name does not exist.
    NxDomain,
    /// The name exists but has no records of this type.
    NoData,
    Failed(Failure),
}

/// Where an answer came from (shown by `check`, counted in statistics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Zone,
    Cache,
    Dns,
    /// Not asked at all (offline with no answer).
    None,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Zone => "zone",
            Source::Cache => "cache",
            Source::Dns => "dns",
            Source::None => "none",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub outcome: Outcome,
    /// Seconds; for negative answers the SOA's negative TTL when known, else 0.
    pub ttl: u32,
    pub source: Source,
}

impl Answer {
    pub fn failed(failure: Failure, source: Source) -> Answer {
        Answer {
            outcome: Outcome::Failed(failure),
            ttl: 0,
            source,
        }
    }
}

/// The one thing the policy needs from DNS. `name` is lowercase ASCII without the
/// trailing dot. Implemented by [`Dns`] and by in-memory fakes in tests.
pub trait Lookup: Sync {
    fn lookup(&self, name: &str, qtype: QType) -> impl Future<Output = Answer> + Send;

    /// Starts asking `name`'s `qtype` without waiting for the answer, which a later
    /// [`Lookup::lookup`] reads: for questions a caller knows it will ask, to have them on
    /// the wire together. The default does nothing (the lookup asks).
    fn start(&self, name: &str, qtype: QType) {
        let _ = (name, qtype);
    }
}

/// Counters for the summary. Each distinct question is counted once, by where its answer
/// came from; lookups the run answered from its own earlier questions are `reused`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Questions sent to a DNS server.
    pub queries: AtomicU64,
    /// Lookups answered by a question this run had already asked (or was asking).
    pub reused: AtomicU64,
    /// Questions answered by `--zone` files (each counted once, however often looked up).
    pub zone_answers: AtomicU64,
    /// Questions without a usable answer: sent and failed, or not sent under `--offline`.
    pub failures: AtomicU64,
    /// Of `failures`, the questions `--offline` did not send.
    pub offline: AtomicU64,
}

/// The resolution stack: zone files, then the cache, then DNS (unless offline).
pub struct Dns {
    zones: Zones,
    /// The questions the zone files have answered, so each counts once.
    zone_answered: DashSet<(String, QType)>,
    cache: Cache,
    network: Network,
    pub stats: Arc<Stats>,
    /// Whether the first questions found the nameservers usable at all.
    pub health: Arc<Health>,
}

/// What a cache miss needs, shareable with the spawned query task.
#[derive(Clone)]
struct Network {
    upstream: Option<Arc<Upstream>>,
    /// `--concurrency` permits.
    in_flight: Arc<Gate>,
    stats: Arc<Stats>,
    health: Arc<Health>,
}

impl Network {
    /// `urgent`: asked by an evaluation already under way ([`gate`]).
    async fn ask(self, name: String, qtype: QType, urgent: bool) -> Answer {
        let Some(upstream) = self.upstream else {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            self.stats.offline.fetch_add(1, Ordering::Relaxed);
            return Answer::failed(Failure::Offline, Source::None);
        };
        // The permit is held only while the query is on the network (see `Upstream::query`).
        let mut slot = Slot::new(self.in_flight, urgent);
        slot.hold().await;
        // Once the servers are known to be unusable, nothing more is sent: the run stops.
        if self.health.is_dead() {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            return Answer::failed(Failure::Network(health::NOT_ASKED.into()), Source::None);
        }
        self.stats.queries.fetch_add(1, Ordering::Relaxed);
        // Boxed: the exchange's state is several kilobytes, and the task that runs this
        // future (one per cache miss) is moved several times as tokio spawns, polls and
        // reads it; those copies were a few percent of the audit's instructions.
        let answer = Box::pin(upstream.query_within(&name, qtype, &mut slot)).await;
        self.health.record(&answer.outcome);
        if matches!(answer.outcome, Outcome::Failed(_)) {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }
}

impl Dns {
    /// `upstream` is `None` for `--offline`; `concurrency` bounds queries in flight.
    pub fn new(zones: Zones, upstream: Option<Upstream>, concurrency: usize) -> Dns {
        let stats = Arc::new(Stats::default());
        let servers = upstream
            .as_ref()
            .map_or(Vec::new(), |u| u.servers().to_vec());
        let health = Arc::new(Health::new(health::FIRST_QUESTIONS, servers));
        Dns {
            zones,
            zone_answered: Default::default(),
            cache: Cache::default(),
            network: Network {
                upstream: upstream.map(Arc::new),
                in_flight: Gate::new(concurrency.max(1)),
                stats: stats.clone(),
                health: health.clone(),
            },
            stats,
            health,
        }
    }

    /// Questions the `--cache` file has answered so far (each counted once).
    pub fn file_answers(&self) -> u64 {
        self.cache.file_answers()
    }

    /// Reads the queries on the wire (permits of `--concurrency` in use) whenever called,
    /// from any thread, for as long as it is kept.
    pub fn in_flight_probe(&self) -> impl Fn() -> usize + Send + 'static {
        let gate = self.network.in_flight.clone();
        move || gate.in_use()
    }

    /// Seeds the run's cache with answers kept from earlier runs (`--cache`).
    pub fn preload(&self, entries: Vec<Entry>, now: u64) {
        for entry in entries {
            self.cache.seed(entry, now);
        }
    }

    /// What a `--cache` file should keep at `now`: every definite answer of this run and
    /// every loaded one still usable under `max_age` (`--cache-max-age`, seconds).
    /// Zone-file answers never enter the cache, so they are never here.
    pub fn persistable(&self, now: u64, max_age: u64) -> Vec<Entry> {
        self.cache.snapshot(now, max_age)
    }
}

impl Lookup for Dns {
    fn start(&self, name: &str, qtype: QType) {
        // A zone-file answer needs no start; a CNAME out of the zones is left to the lookup.
        if !self.zones.is_empty() {
            return;
        }
        self.cache.start(name, qtype, || {
            let urgent = gate::under_way();
            self.network.clone().ask(name.to_string(), qtype, urgent)
        });
    }

    async fn lookup(&self, name: &str, qtype: QType) -> Answer {
        let name: Cow<'_, str> = if self.zones.is_empty() {
            Cow::Borrowed(name)
        } else {
            match self.zones.answer(name, qtype) {
                ZoneAnswer::Answer(answer) => {
                    if self.zone_answered.insert((name.to_string(), qtype)) {
                        self.stats.zone_answers.fetch_add(1, Ordering::Relaxed);
                    }
                    return answer;
                }
                // A CNAME inside the zones pointing outside them: ask for the target.
                ZoneAnswer::FallThrough(name) => Cow::Owned(name),
            }
        };
        // Nearly every lookup of a run finds its answer ready: it is served without the
        // shared future's bookkeeping.
        if let Some(answer) = self.cache.ready(&name, qtype) {
            return self.reused(answer);
        }
        // Only a miss needs the network side (and its own copy of the name).
        let (answer, fresh) = self
            .cache
            .get_or_fetch(&name, qtype, || {
                let urgent = gate::under_way();
                self.network.clone().ask(name.to_string(), qtype, urgent)
            })
            .await;
        if fresh { answer } else { self.reused(answer) }
    }
}

impl Dns {
    /// An answer this run asked for earlier (or that a `--cache` file gave), as a lookup
    /// that did not start the question sees it.
    fn reused(&self, mut answer: Answer) -> Answer {
        if answer.source == Source::Dns {
            self.stats.reused.fetch_add(1, Ordering::Relaxed);
            answer.source = Source::Cache;
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_zone_answered_question_counts_once() {
        let mut zones = Zones::default();
        zones
            .add_text(
                "$ORIGIN example.\n$TTL 60\nrelay A 192.0.2.1\nMAIL-FROM.a MX 0 relay\n",
                None,
            )
            .unwrap();
        let dns = Dns::new(zones, None, 1);
        for _ in 0..3 {
            dns.lookup("relay.example", QType::A).await;
            dns.lookup("mail-from.a.example", QType::Mx).await;
        }
        dns.lookup("relay.example", QType::Aaaa).await;
        assert_eq!(dns.stats.zone_answers.load(Ordering::Relaxed), 3);
        // Outside the zones and offline: a failure, counted as an offline one.
        dns.lookup("elsewhere.test", QType::A).await;
        dns.lookup("elsewhere.test", QType::A).await;
        assert_eq!(dns.stats.failures.load(Ordering::Relaxed), 1);
        assert_eq!(dns.stats.offline.load(Ordering::Relaxed), 1);
        assert_eq!(dns.stats.queries.load(Ordering::Relaxed), 0);
    }
}

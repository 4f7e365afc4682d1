//! A dead resolver is told from a bad night, over real sockets on 127.0.0.1: a closed port
//! (the kernel refuses), a silent server (a socket that never answers) and the in-process
//! test server answering REFUSED each give their own failure kind per question, and when
//! the first questions all fail that way the stack stops sending and says why. One answer
//! of any kind keeps the run going. Library level here (the resolution stack and its health
//! watch); `tests/dns_health_cli.rs` runs the binary for the exit codes.
//!
//! Why: issue 13 — a closed port used to read as `timeout`, a machine without a network as
//! "no connections available", and a run against a dead resolver took minutes to report
//! every pair `tempfail` with exit 0.

#[path = "support/dns_server.rs"]
mod dns_server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dns_server::{Faults, TestDns};
use repudiate::dns::health::{FIRST_QUESTIONS, NOT_ASKED};
use repudiate::dns::upstream::{Upstream, UpstreamConfig};
use repudiate::dns::zones::Zones;
use repudiate::dns::{Dns, Failure, Lookup, Outcome, QType};

const TIMEOUT: Duration = Duration::from_millis(300);

const ZONE: &str = "$ORIGIN test.\n$TTL 300\n\
    @ IN SOA ns1.test. hostmaster.test. ( 1 3600 600 86400 300 )\n\
    @ IN NS ns1.test.\nns1 IN A 127.0.0.1\nlive IN A 192.0.2.1\n";

fn stack(servers: Vec<SocketAddr>, concurrency: usize) -> Dns {
    let upstream = Upstream::new(&UpstreamConfig {
        nameservers: servers,
        timeout: TIMEOUT,
        attempts: 1,
    })
    .expect("resolver");
    Dns::new(Zones::default(), Some(upstream), concurrency)
}

/// A UDP port nobody listens on: bound to learn a free number, then released.
fn closed_port() -> SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap()
}

fn name(i: usize) -> String {
    format!("q{i}.test")
}

/// Asks `n` distinct questions at once and returns their failures in order.
async fn ask_many(dns: &Dns, n: usize) -> Vec<Outcome> {
    let asks = (0..n).map(|i| async move { dns.lookup(&name(i), QType::A).await.outcome });
    futures::future::join_all(asks).await
}

fn queries(dns: &Dns) -> u64 {
    dns.stats.queries.load(std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_connection_refused_and_stops_the_run_after_the_first_questions() {
    let port = closed_port();
    let dns = stack(vec![port], 100);
    let outcomes = ask_many(&dns, 80).await;
    let refused = outcomes
        .iter()
        .filter(|o| **o == Outcome::Failed(Failure::ConnectionRefused))
        .count();
    let not_asked = outcomes
        .iter()
        .filter(|o| **o == Outcome::Failed(Failure::Network(NOT_ASKED.into())))
        .count();
    assert!(dns.health.is_dead());
    // All 80 start together, so some may be sent before the 50th failure is known; none
    // is sent after, and every one sent was refused.
    assert_eq!(refused as u64, queries(&dns), "{outcomes:?}");
    assert!(refused >= FIRST_QUESTIONS, "{refused}");
    assert_eq!(refused + not_asked, 80, "{outcomes:?}");
    let unusable = dns.health.unusable().expect("DNS is unusable").to_string();
    assert!(
        unusable.starts_with(&format!(
            "DNS is unusable: the first {FIRST_QUESTIONS} questions sent to {port} all failed \
             (connection refused: {FIRST_QUESTIONS})"
        )),
        "{unusable}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_unusable_nothing_more_is_sent() {
    let dns = stack(vec![closed_port()], 10);
    ask_many(&dns, FIRST_QUESTIONS).await;
    assert!(dns.health.is_dead());
    let sent = queries(&dns);
    let later = dns.lookup("later.test", QType::Mx).await;
    assert_eq!(
        later.outcome,
        Outcome::Failed(Failure::Network(NOT_ASKED.into()))
    );
    assert_eq!(queries(&dns), sent, "nothing sent after the verdict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_a_timeout_and_the_verdict_comes_within_a_few_timeouts() {
    // Bound and never read: the kernel keeps the datagrams, nobody answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let dns = stack(vec![addr], 100);
    let started = Instant::now();
    let outcomes = ask_many(&dns, 60).await;
    let took = started.elapsed();
    assert!(dns.health.is_dead());
    assert!(
        outcomes
            .iter()
            .all(|o| *o == Outcome::Failed(Failure::Timeout)
                || *o == Outcome::Failed(Failure::Network(NOT_ASKED.into()))),
        "{outcomes:?}"
    );
    // One try of 0.3 s and a probe of at most as long, all questions at once: far below
    // what 60 questions one after another would take (36 s).
    assert!(took < Duration::from_secs(5), "{took:?}");
    let unusable = dns.health.unusable().unwrap().to_string();
    assert!(
        unusable.contains(&format!("sent to {addr} all failed (timeout: ")),
        "{unusable}"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_every_question_is_unusable() {
    let faults = (0..FIRST_QUESTIONS).fold(Faults::default(), |f, i| f.refused(&name(i)));
    let server = TestDns::start(&[("test.", ZONE)], faults).await;
    let dns = stack(vec![server.addr], 100);
    let outcomes = ask_many(&dns, FIRST_QUESTIONS).await;
    assert!(
        outcomes
            .iter()
            .all(|o| *o == Outcome::Failed(Failure::Refused)),
        "{outcomes:?}"
    );
    let unusable = dns.health.unusable().expect("unusable").to_string();
    assert!(
        unusable.contains(&format!("(REFUSED: {FIRST_QUESTIONS})")),
        "{unusable}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_among_failures_keeps_the_run_going() {
    // Every question refused but one, which is answered: a working server having a bad night.
    let faults = (1..FIRST_QUESTIONS + 10).fold(Faults::default(), |f, i| f.refused(&name(i)));
    let server = TestDns::start(&[("test.", ZONE)], faults).await;
    let dns = stack(vec![server.addr], 1);
    assert_eq!(
        dns.lookup("q0.test", QType::A).await.outcome,
        Outcome::NxDomain
    );
    let outcomes = ask_many(&dns, FIRST_QUESTIONS + 10).await;
    assert!(!dns.health.is_dead());
    assert_eq!(dns.health.unusable(), None);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Failed(Failure::Refused))
            .count(),
        FIRST_QUESTIONS + 9,
        "every other question was sent and refused"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_name_on_a_live_server_stays_a_timeout() {
    let server = TestDns::start(&[("test.", ZONE)], Faults::default().blackhole("gone.test")).await;
    let dns = stack(vec![server.addr], 4);
    assert_eq!(
        dns.lookup("gone.test", QType::A).await.outcome,
        Outcome::Failed(Failure::Timeout)
    );
    assert!(matches!(
        dns.lookup("live.test", QType::A).await.outcome,
        Outcome::Found(_)
    ));
    assert_eq!(dns.health.unusable(), None);
    server.stop().await;
}

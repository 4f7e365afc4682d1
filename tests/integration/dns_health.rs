//! A dead resolver is told from a bad night, over real sockets on 127.0.0.1: a closed port
//! (the kernel refuses), a silent server (a socket that never answers) and the in-process
//! test server answering REFUSED each give their own failure kind per question, and when
//! the first questions all fail that way the stack stops sending and says why. One answer
//! of any kind keeps the run going. First at the library level (the resolution stack and its
//! health watch), then through the built binary for what cron sees: exit 1 naming the
//! server and the failure, no report written; and exit 4 when a completed run's tempfail
//! share is above `--max-tempfail`, beside `--fail-above`'s 3.
//!
//! Why: issue 13 — a closed port used to read as `timeout`, a machine without a network as
//! "no connections available", and a run against a dead resolver took minutes to report
//! every pair `tempfail` with exit 0.

use crate::support::bin::{bin, output_beside_server, stderr};

use crate::support::dns_server;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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

// ---- through the binary ----

/// A pairs CSV of `domains` (one message each from 203.0.113.1) in `dir`.
fn pairs_file(dir: &Path, domains: &[String]) -> std::path::PathBuf {
    let mut text = String::from("domain,ip,messages\n");
    for d in domains {
        writeln!(text, "{d},203.0.113.1,1").unwrap();
    }
    let path = dir.join("pairs.csv");
    std::fs::write(&path, text).unwrap();
    path
}

async fn run(args: Vec<String>) -> (Output, Duration) {
    let mut cmd = bin();
    cmd.args(&args);
    output_beside_server(cmd).await
}

fn audit_args(input: &Path, server: SocketAddr, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "audit".into(),
        input.display().to_string(),
        "--nameserver".into(),
        server.to_string(),
        "--timeout".into(),
        "0.3".into(),
        "--attempts".into(),
        "1".into(),
        "-q".into(),
        "-o".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_against_a_closed_port_is_exit_1_naming_the_server_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let port = closed_port();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/maillog");
    let (o, _) = run(audit_args(&demo, port, &out, &[])).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // The demo log asks four questions (two sender domains: each policy and each SPF
    // record); all were refused.
    assert!(
        err.contains(&format!(
            "repudiate: DNS is unusable: all 4 questions sent to {port} failed (connection refused: 4)"
        )),
        "{err}"
    );
    assert!(!out.exists(), "no report for a run whose DNS was dead");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_stops_the_run_after_the_first_questions() {
    // A socket that counts what it receives and never answers.
    let silent = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = silent.local_addr().unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let counter = {
        let (silent, received) = (silent.clone(), received.clone());
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while silent.recv_from(&mut buf).await.is_ok() {
                received.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let domains: Vec<String> = (0..300).map(|i| format!("d{i}.example")).collect();
    let input = pairs_file(dir.path(), &domains);
    let out = dir.path().join("out.csv");
    let (o, took) = run(audit_args(&input, addr, &out, &["--concurrency", "10"])).await;
    counter.abort();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "DNS is unusable: the first {FIRST_QUESTIONS} questions sent to {addr} all failed \
             (timeout: {FIRST_QUESTIONS})"
        )),
        "{err}"
    );
    assert!(err.contains("the run stopped early"), "{err}");
    // Each question sent is one datagram from the resolver and one from the probe; with 10
    // in flight, at most 59 questions were sent before the 50th failure stopped the run,
    // where 300 would have been sent without it.
    let sent = received.load(Ordering::SeqCst);
    assert!(sent <= 2 * (FIRST_QUESTIONS as u64 + 9), "{sent} datagrams");
    assert!(sent >= FIRST_QUESTIONS as u64, "{sent} datagrams");
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answering_refused_is_exit_1() {
    let domains: Vec<String> = (0..60).map(|i| format!("d{i}.test")).collect();
    // Every question refused: the policies and the SPF records alike.
    let faults = domains.iter().fold(Faults::default(), |f, d| {
        f.refused(&format!("mail-from.{d}")).refused(d)
    });
    let server = TestDns::start(&[("test.", ZONE)], faults).await;
    let dir = tempfile::tempdir().unwrap();
    let input = pairs_file(dir.path(), &domains);
    let out = dir.path().join("out.csv");
    let (o, _) = run(audit_args(&input, server.addr, &out, &[])).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("(REFUSED: {FIRST_QUESTIONS})")),
        "{err}"
    );
    server.stop().await;
}

/// 10 sender domains with a policy that permits 203.0.113.1 (nonrepudiated), of which
/// `broken` answer SERVFAIL, and `forged` (policy without that client: repudiated).
fn night_zone(domains: usize) -> String {
    let mut zone = String::from(ZONE);
    zone.push_str("relay IN A 203.0.113.1\nother IN A 198.51.100.1\n");
    for i in 0..domains {
        writeln!(zone, "MAIL-FROM.d{i} IN MX 10 relay.test.").unwrap();
    }
    zone.push_str("MAIL-FROM.forged IN MX 10 other.test.\n");
    zone
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_tempfails_is_exit_4_with_the_report_written_and_it_wins_over_3() {
    let broken = 3;
    let faults = (0..broken).fold(Faults::default(), |f, i| {
        f.servfail(&format!("mail-from.d{i}.test"))
    });
    let zone = night_zone(10);
    let server = TestDns::start(&[("test.", &zone)], faults).await;
    let dir = tempfile::tempdir().unwrap();
    let mut domains: Vec<String> = (0..10).map(|i| format!("d{i}.test")).collect();
    domains.push("forged.test".into());
    let input = pairs_file(dir.path(), &domains);
    let out = dir.path().join("out.csv");

    // 3 of 11 evaluated messages are tempfail: 27.27 %, above the default of 10.
    let (o, _) = run(audit_args(&input, server.addr, &out, &[])).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert_eq!(
        err.trim_end(),
        "repudiate: 27.27 % of evaluated messages are tempfail (SERVFAIL 3), above \
         --max-tempfail 10: DNS was too unreliable to trust this report",
        "said even with -q, and nothing else"
    );
    let csv = std::fs::read_to_string(&out).expect("the report is written");
    assert_eq!(csv.matches(",tempfail,").count(), broken, "{csv}");

    // Under the limit: a clean exit.
    let (o, _) = run(audit_args(
        &input,
        server.addr,
        &out,
        &["--max-tempfail", "30"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));

    // Both alerts: each is said, and 4 wins over 3.
    let (o, _) = run(audit_args(
        &input,
        server.addr,
        &out,
        &["--fail-above", "5"],
    ))
    .await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("9.09 % of messages would be repudiated, above --fail-above 5"),
        "{err}"
    );
    assert!(err.contains("above --max-tempfail 10"), "{err}");
    // Independent: --fail-above alone still gives 3 once tempfail is allowed.
    let (o, _) = run(audit_args(
        &input,
        server.addr,
        &out,
        &["--fail-above", "5", "--max-tempfail", "50"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    server.stop().await;
}

//! Every verdict of docs/design.md §2, reached through the real resolution stack (`Dns` + `Upstream`
//! on hickory-resolver) over UDP and TCP sockets to the in-process test server, with its
//! fault injection; plus one audit through the built binary.
//!
//! Why: `src/policy/tests.rs` proves the rules against an in-memory fake; this file proves
//! that what a real resolver reports (rcodes, timeouts, truncation, CNAMEs, oversized
//! RRsets, mismatched owners) reaches the same verdicts, and that the run-wide cache asks
//! the network each question once. All traffic stays on 127.0.0.1.

use crate::support::bin::{bin, output_beside_server};

use crate::support::dns_server;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dns_server::{Faults, TestDns};
use repudiate::dns::upstream::{Upstream, UpstreamConfig};
use repudiate::dns::zones::Zones;
use repudiate::dns::{Data, Dns, Failure, Lookup, Outcome, QType, Source};
use repudiate::model::Verdict;
use repudiate::policy::{Evaluation, PolicyConfig, Trusted, evaluate};

const ZONE: &str = include_str!("../../fixtures/dns/verdicts.zone");

/// Per-try timeout: long enough for a loaded CI machine on loopback, short enough that the
/// blackhole cases cost a fraction of a second.
const TIMEOUT: Duration = Duration::from_millis(250);

async fn server(faults: Faults) -> TestDns {
    TestDns::start(&[("test.", ZONE)], faults).await
}

fn upstream(server: &TestDns, timeout: Duration, attempts: usize) -> Upstream {
    Upstream::new(&UpstreamConfig {
        nameservers: vec![server.addr],
        timeout,
        attempts,
    })
    .expect("resolver for the test server")
}

/// A fresh stack (empty cache) aimed at `server` only, no zone files.
fn stack(server: &TestDns, attempts: usize) -> Dns {
    Dns::new(
        Zones::default(),
        Some(upstream(server, TIMEOUT, attempts)),
        8,
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn eval(dns: &Dns, domain: &str, client: &str, cfg: &PolicyConfig) -> Evaluation {
    evaluate(dns, domain, ip(client), cfg).await
}

fn reason(e: &Evaluation) -> &str {
    e.reason.as_deref().unwrap_or("")
}

/// The `i`th relay of the 40-relay policy (as generated in the zone file).
fn big_relay(i: usize) -> String {
    format!("mx{i:02}-{}.big.test", "x".repeat(56))
}

/// The `i`th relay of the 150-relay policy.
fn fanout_relay(i: usize) -> String {
    format!("r{i:03}.fanout.test")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_relay_matches_in_the_clients_family_only() {
    let srv = server(Faults::default()).await;
    let cfg = PolicyConfig::default();

    let dns = stack(&srv, 1);
    let e = eval(&dns, "direct.test", "192.0.2.10", &cfg).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("out.direct.test"));
    assert_eq!(e.relays, ["out.direct.test"]);
    assert_eq!((e.lookups, e.reason.as_deref()), (2, None));
    assert_eq!(srv.queries_for("out.direct.test", "A"), 1);
    assert_eq!(srv.queries_for("out.direct.test", "AAAA"), 0);

    srv.reset_counts();
    let dns = stack(&srv, 1);
    let e = eval(&dns, "direct.test", "2001:db8::10", &cfg).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("out.direct.test"));
    assert_eq!(srv.queries_for("out.direct.test", "AAAA"), 1);
    assert_eq!(srv.queries_for("out.direct.test", "A"), 0);

    // An IPv4-mapped client is IPv4 (docs/design.md §2.4): only A may be asked.
    srv.reset_counts();
    let dns = stack(&srv, 1);
    let e = eval(&dns, "direct.test", "::ffff:192.0.2.10", &cfg).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("out.direct.test"));
    assert_eq!(srv.queries_for("out.direct.test", "A"), 1);
    assert_eq!(srv.queries_for("out.direct.test", "AAAA"), 0);

    // The same relay set, a foreign client: the policy exists and says no.
    let e = eval(&dns, "direct.test", "2001:db8::99", &cfg).await;
    assert_eq!(e.verdict, Verdict::Repudiated);
    assert_eq!(
        (e.matched, e.relays),
        (None, vec!["out.direct.test".to_string()])
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegation_chain_and_its_depth_limit() {
    let srv = server(Faults::default()).await;
    let relay_ip = "192.0.2.40";

    // Strict draft behaviour first, on a cold cache, so the server counts show that no
    // MAIL-FROM.<target> question was sent at all.
    let dns = stack(&srv, 1);
    let strict = PolicyConfig {
        max_depth: 0,
        ..Default::default()
    };
    let e = eval(&dns, "chain.test", relay_ip, &strict).await;
    assert_eq!(e.verdict, Verdict::Repudiated, "{e:?}");
    assert_eq!(e.relays, ["p1.chain.test"]);
    assert_eq!(e.lookups, 2);
    assert_eq!(srv.queries_for("p1.chain.test", "A"), 1);
    assert_eq!(srv.queries_for("mail-from.p1.chain.test", "MX"), 0);
    assert_eq!(srv.queries(), 2);

    let e = eval(&dns, "chain.test", relay_ip, &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated, "{e:?}");
    assert_eq!(e.matched.as_deref(), Some("relay.p3.chain.test"));
    assert_eq!(
        e.relays,
        [
            "p1.chain.test",
            "p2.chain.test",
            "p3.chain.test",
            "relay.p3.chain.test"
        ]
    );
    // MX chain, then A and MAIL-FROM MX of p1, p2, p3, then A of the relay.
    assert_eq!(e.lookups, 8);

    // Three delegation levels are exactly enough; two are not.
    let three = PolicyConfig {
        max_depth: 3,
        ..Default::default()
    };
    assert_eq!(
        eval(&dns, "chain.test", relay_ip, &three).await.verdict,
        Verdict::Nonrepudiated
    );
    let two = PolicyConfig {
        max_depth: 2,
        ..Default::default()
    };
    let e = eval(&dns, "chain.test", relay_ip, &two).await;
    assert_eq!(e.verdict, Verdict::Permerror, "{e:?}");
    assert!(reason(&e).contains("--max-depth 2"), "{e:?}");
    assert_eq!(e.matched, None);
    // ... A p3, then MAIL-FROM.p3 is asked at the limit and proves the chain goes deeper
    assert_eq!(e.lookups, 7);
    assert_eq!(
        e.relays,
        ["p1.chain.test", "p2.chain.test", "p3.chain.test"]
    );

    // At exactly the limit a foreign client is repudiated: MAIL-FROM.relay.p3 is still asked,
    // finds no further delegation, so the limit was not exceeded.
    let e = eval(&dns, "chain.test", "203.0.113.1", &three).await;
    assert_eq!(e.verdict, Verdict::Repudiated, "{e:?}");
    assert_eq!(e.lookups, 9);
    assert_eq!(srv.queries_for("mail-from.relay.p3.chain.test", "MX"), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegation_loops_terminate_asking_each_name_once() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 1);
    let cfg = PolicyConfig::default();
    let foreign = "203.0.113.9";

    // Two domains naming each other.
    let e = tokio::time::timeout(
        Duration::from_secs(5),
        eval(&dns, "loopa.test", foreign, &cfg),
    )
    .await
    .expect("a loop between domains terminates");
    assert_eq!(e.verdict, Verdict::Repudiated, "{e:?}");
    assert_eq!(e.relays, ["loopa.test", "loopb.test"]);
    assert_eq!(e.lookups, 4);
    for (name, t) in [
        ("mail-from.loopa.test", "MX"),
        ("loopb.test", "A"),
        ("mail-from.loopb.test", "MX"),
        ("loopa.test", "A"),
    ] {
        assert_eq!(srv.queries_for(name, t), 1, "{name} {t}");
    }
    assert_eq!(srv.queries(), 4);

    // Two providers naming each other behind a third domain.
    srv.reset_counts();
    let e = tokio::time::timeout(
        Duration::from_secs(5),
        eval(&dns, "looper.test", foreign, &cfg),
    )
    .await
    .expect("a loop between providers terminates");
    assert_eq!(e.verdict, Verdict::Repudiated, "{e:?}");
    assert_eq!(e.relays, ["provx.test", "provy.test"]);
    assert_eq!(e.lookups, 5);
    for (name, t) in [
        ("mail-from.looper.test", "MX"),
        ("provx.test", "A"),
        ("mail-from.provx.test", "MX"),
        ("provy.test", "A"),
        ("mail-from.provy.test", "MX"),
    ] {
        assert_eq!(srv.queries_for(name, t), 1, "{name} {t}");
    }
    assert_eq!(srv.queries(), 5);

    // The loop does not hide a real relay of it.
    let e = eval(&dns, "looper.test", "192.0.2.54", &cfg).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("provy.test"));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_limit_bounds_a_fan_out_to_150_relays() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 1);
    srv.reset_counts();

    let e = eval(
        &dns,
        "fanout.test",
        "198.51.100.149",
        &PolicyConfig::default(),
    )
    .await;
    assert_eq!(e.verdict, Verdict::Permerror, "{:?}", e.reason);
    assert_eq!(reason(&e), "more than 100 DNS lookups");
    assert_eq!(e.matched, None);
    assert_eq!(e.lookups, 100);
    assert_eq!(e.relays.len(), 150, "every target is listed as a relay");
    // The budget is what the server saw: the policy MX plus the first 99 relays by name,
    // each once; none beyond, no delegation question. The 150-record MX RRset does not fit
    // in UDP, so that one question was sent twice on the wire (UDP, then TCP).
    assert_eq!(srv.queries_for("mail-from.fanout.test", "MX"), 2);
    assert_eq!((srv.udp_queries(), srv.tcp_queries()), (100, 1));
    for i in 0..150 {
        let expected = u64::from(i < 99);
        assert_eq!(
            srv.queries_for(&fanout_relay(i), "A"),
            expected,
            "relay {i}"
        );
        assert_eq!(
            srv.queries_for(&format!("mail-from.{}", fanout_relay(i)), "MX"),
            0
        );
    }

    // With room for all of them the last relay matches. The cache answers the first 99
    // questions now, yet they count the same (a verdict never depends on cache state), and
    // only the 51 new ones reach the server.
    srv.reset_counts();
    let generous = PolicyConfig {
        max_lookups: 400,
        ..Default::default()
    };
    let e = eval(&dns, "fanout.test", "198.51.100.149", &generous).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated, "{:?}", e.reason);
    assert_eq!(e.matched.as_deref(), Some("r149.fanout.test"));
    assert_eq!(e.lookups, 151);
    assert_eq!(srv.queries(), 51);
    assert_eq!(srv.queries_for("r149.fanout.test", "A"), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_mx_repudiates_all_but_the_perimeter() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 1);

    let e = eval(
        &dns,
        "nomail.test",
        "198.51.100.7",
        &PolicyConfig::default(),
    )
    .await;
    assert_eq!(e.verdict, Verdict::Repudiated, "{e:?}");
    assert_eq!(
        (e.matched.as_deref(), e.relays.len(), e.lookups),
        (None, 0, 1)
    );
    // The root is not a host to look up.
    assert_eq!(srv.queries(), 1);

    let perimeter = PolicyConfig {
        trusted: vec![Trusted {
            label: "perimeter:198.51.100.0/24".into(),
            net: "198.51.100.0/24".parse().unwrap(),
        }],
        ..Default::default()
    };
    let e = eval(&dns, "nomail.test", "198.51.100.7", &perimeter).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated, "{e:?}");
    assert_eq!(e.matched.as_deref(), Some("perimeter:198.51.100.0/24"));
    // Outside the perimeter the null MX still decides.
    let e = eval(&dns, "nomail.test", "203.0.113.7", &perimeter).await;
    assert_eq!(e.verdict, Verdict::Repudiated);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_policy_for_nxdomain_and_nodata() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 2);
    let cfg = PolicyConfig::default();

    // The outcome behind each verdict, so NXDOMAIN and NODATA are both really exercised.
    // Both carry the SOA's negative TTL, which `--cache` keeps them for.
    let nx = dns.lookup("mail-from.absent.test", QType::Mx).await;
    assert_eq!((nx.outcome, nx.ttl), (Outcome::NxDomain, 300));
    let nodata = dns.lookup("mail-from.txtonly.test", QType::Mx).await;
    assert_eq!((nodata.outcome, nodata.ttl), (Outcome::NoData, 300));

    for domain in ["absent.test", "txtonly.test"] {
        let e = eval(&dns, domain, "192.0.2.10", &cfg).await;
        assert_eq!(e.verdict, Verdict::NoPolicy, "{domain}: {e:?}");
        assert_eq!(
            (e.matched, e.reason, e.lookups),
            (None, None, 1),
            "{domain}"
        );
        assert!(e.relays.is_empty());
        // A negative answer is an answer: not retried although two tries are allowed.
        assert_eq!(
            srv.queries_for(&format!("mail-from.{domain}"), "MX"),
            1,
            "{domain}"
        );
    }
    assert_eq!(srv.queries(), 2);
    srv.stop().await;
}

/// Some servers (dnsmasq, forwarders) leave the SOA out of a real NODATA. Such an answer is
/// judged whole (through hickory it is asked once more by hand, because a reply to another
/// question reads the same there); matched and still empty, it stays NODATA: `no-policy`,
/// not `tempfail`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_policy_for_a_nodata_without_its_soa() {
    let srv = server(Faults::default().nodata_without_soa("mail-from.txtonly.test")).await;
    let dns = stack(&srv, 2);
    let nodata = dns.lookup("mail-from.txtonly.test", QType::Mx).await;
    // No SOA, so no negative TTL to keep it for.
    assert_eq!((nodata.outcome, nodata.ttl), (Outcome::NoData, 0));
    let e = eval(&dns, "txtonly.test", "192.0.2.10", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::NoPolicy, "{e:?}");
    assert_eq!((e.reason, e.relays.len()), (None, 0));
    // One question: the lean UDP path sees the reply whole, and it holds no CNAME to follow.
    assert_eq!(srv.queries_for("mail-from.txtonly.test", "MX"), 1);
    assert_eq!(srv.queries_for("mail-from.txtonly.test", "CNAME"), 0);
    srv.stop().await;
}

/// RFC 6761 names are answered by hickory itself, without an SOA: they must not be asked
/// again by hand (the server would not know them, and the answer would turn into a failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_the_resolver_answers_itself_stay_negative_and_reach_no_server() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 1);
    let nx = dns.lookup("mail-from.example.invalid", QType::Mx).await;
    assert_eq!(nx.outcome, Outcome::NxDomain);
    let nodata = dns.lookup("mail-from.localhost", QType::Mx).await;
    assert_eq!(nodata.outcome, Outcome::NoData);
    assert_eq!(srv.queries(), 0, "{:?}", srv.question_counts());
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_lookup_failures_are_tempfail() {
    let faults = Faults::default()
        .servfail("mail-from.sf.test")
        .refused("mail-from.refused.test")
        .blackhole("mail-from.silent.test");
    let srv = server(faults).await;
    let dns = stack(&srv, 2);
    let cfg = PolicyConfig::default();

    // The relay's address is the client's in every case: only the failure can decide.
    // `attempts` counts tries, the first included; a question that got no reply at all is
    // sent once more by the probe that asks the kernel why (src/dns/diagnose.rs).
    for (domain, said, sent) in [
        ("sf.test", "SERVFAIL", 2),
        ("refused.test", "REFUSED", 2),
        ("silent.test", "timeout", 3),
    ] {
        let e = eval(&dns, domain, "192.0.2.10", &cfg).await;
        assert_eq!(e.verdict, Verdict::Tempfail, "{domain}: {e:?}");
        assert_eq!(reason(&e), format!("mail-from.{domain} MX: {said}"));
        assert_eq!((e.matched, e.lookups), (None, 1));
        assert_eq!(
            srv.queries_for(&format!("mail-from.{domain}"), "MX"),
            sent,
            "{domain}"
        );
    }
    assert_eq!(
        srv.queries_for("out.direct.test", "A"),
        0,
        "no relay is looked up after a failure"
    );
    assert_eq!(
        dns.stats
            .failures
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_relay_lookup_is_tempfail_unless_another_relay_matches() {
    let srv = server(Faults::default().servfail_type("down.twofail.test", "A")).await;
    let dns = stack(&srv, 1);
    let cfg = PolicyConfig::default();

    let e = eval(&dns, "twofail.test", "203.0.113.5", &cfg).await;
    assert_eq!(
        e.verdict,
        Verdict::Tempfail,
        "a failure is never repudiated: {e:?}"
    );
    assert_eq!(reason(&e), "down.twofail.test A: SERVFAIL");
    assert_eq!(e.relays, ["down.twofail.test", "out.direct.test"]);

    let e = eval(&dns, "twofail.test", "192.0.2.10", &cfg).await;
    assert_eq!(
        e.verdict,
        Verdict::Nonrepudiated,
        "a match found elsewhere wins: {e:?}"
    );
    assert_eq!(e.matched.as_deref(), Some("out.direct.test"));
    assert_eq!(e.reason, None);
    // Preference 0 first: the failing relay was asked (once, from the cache the 2nd time).
    assert_eq!(srv.queries_for("down.twofail.test", "A"), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_relay_rrset_arrives_over_tcp() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 1);
    let e = eval(&dns, "big.test", "198.51.100.239", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated, "{e:?}");
    assert_eq!(e.matched, Some(big_relay(39)));
    assert_eq!(e.relays.len(), 40);
    assert_eq!(e.relays, (0..40).map(big_relay).collect::<Vec<_>>());
    assert_eq!(e.lookups, 41);
    assert!(
        srv.tcp_queries() >= 1,
        "the MX RRset is over 1232 bytes: TCP"
    );
    assert_eq!(
        srv.queries_for("mail-from.big.test", "MX"),
        2,
        "UDP (truncated), then TCP"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_relay_answer_is_retried_over_tcp() {
    let srv = server(Faults::default().truncate_udp("relay.trunc.test")).await;
    let dns = stack(&srv, 1);
    let e = eval(&dns, "trunc.test", "192.0.2.60", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated, "{e:?}");
    assert_eq!(e.matched.as_deref(), Some("relay.trunc.test"));
    assert_eq!(srv.queries_for("relay.trunc.test", "A"), 2);
    assert_eq!(srv.tcp_queries(), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cname_mx_target_is_followed_and_named() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 1);
    let e = eval(&dns, "alias.test", "192.0.2.10", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated, "{e:?}");
    assert_eq!(
        e.matched.as_deref(),
        Some("mail.alias.test"),
        "matched names the MX target, not the canonical name"
    );
    assert_eq!(e.relays, ["mail.alias.test"]);
    // The CNAME chase happened inside one question (the server followed it in-zone).
    assert_eq!(e.lookups, 2);
    assert_eq!(srv.queries_for("mail.alias.test", "A"), 1);
    assert_eq!(srv.queries_for("out.direct.test", "A"), 0);
    srv.stop().await;
}

/// hickory-resolver 0.26.3 drops answer records whose owner is not the queried name and
/// reports "no records, NOERROR" without an SOA; the tool asks again by hand, sees the
/// foreign owner, and fails the question: `tempfail`, never `no-policy` and never a match.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_owner_answer_is_never_trusted() {
    let srv = server(Faults::default().wrong_answer("mail-from.wrong.test")).await;
    let dns = stack(&srv, 1);
    let e = eval(&dns, "wrong.test", "192.0.2.10", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Tempfail, "{e:?}");
    assert_eq!(
        reason(&e),
        "mail-from.wrong.test MX: bad answer: answer records for another owner: \
         wrong-answer.mail-from.wrong.test"
    );
    assert!(e.relays.is_empty(), "{e:?}");
    assert_eq!(
        dns.lookup("mail-from.wrong.test", QType::Mx).await.outcome,
        Outcome::Failed(Failure::BadAnswer(
            "answer records for another owner: wrong-answer.mail-from.wrong.test".into()
        ))
    );
    // One question, its reply judged whole; the second lookup came from the run's cache.
    assert_eq!(srv.queries_for("mail-from.wrong.test", "MX"), 1);
    assert_eq!(srv.queries_for("out.direct.test", "A"), 0);
    srv.stop().await;
}

/// Measured with hickory-resolver 0.26.3: a reply to another question is dropped over UDP
/// (the try times out), but once a truncated answer has opened a TCP connection to the
/// server, the retry goes over it and the reply is taken, its foreign records dropped: "no
/// records, NOERROR" without an SOA. The check by hand must turn that into a failure. The
/// lean UDP path (the default) must name the same fault from the reply it kept aside.
async fn reply_to_another_question_is_a_failure(lean: bool) -> (u64, u64) {
    let faults = Faults::default()
        .wrong_question("mail-from.direct.test")
        .truncate_udp("relay.trunc.test");
    let srv = server(faults).await;
    let up = upstream(&srv, TIMEOUT, 2);
    let up = if lean { up } else { up.hickory_only() };
    // Opens the TCP connection hickory goes on using.
    let relay = up.query("relay.trunc.test", QType::A).await;
    assert_eq!(
        relay.outcome,
        Outcome::Found(Data::Addrs(vec![ip("192.0.2.60")]))
    );
    assert_eq!(srv.tcp_queries(), 1);
    srv.reset_counts();

    let answer = up.query("mail-from.direct.test", QType::Mx).await;
    assert_eq!(
        answer.outcome,
        Outcome::Failed(Failure::BadAnswer(
            "answer for another question: wrong-question.mail-from.direct.test MX".into()
        ))
    );
    let counts = (srv.udp_queries(), srv.tcp_queries());
    srv.stop().await;
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_to_another_question_is_a_failure_even_when_hickory_takes_it() {
    // hickory: one UDP try (reply dropped), one TCP try (reply taken); then the check by
    // hand over UDP, whose reply is seen whole.
    assert_eq!(reply_to_another_question_is_a_failure(false).await, (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_to_another_question_is_a_failure_on_the_lean_path() {
    // The lean UDP path keeps the reply aside while its try waits for the right one, and
    // judges it when the try ends: one UDP question, nothing over the TCP connection.
    assert_eq!(reply_to_another_question_is_a_failure(true).await, (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_deadline_gives_tempfail() {
    let srv = server(Faults::default().delay_all(Duration::from_millis(300))).await;
    // A per-try timeout far beyond the deadline, so only the deadline can end it.
    let dns = Dns::new(
        Zones::default(),
        Some(upstream(&srv, Duration::from_secs(3), 1)),
        8,
    );
    let cfg = PolicyConfig {
        eval_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let t0 = Instant::now();
    let e = eval(&dns, "direct.test", "192.0.2.10", &cfg).await;
    let took = t0.elapsed();
    assert_eq!(e.verdict, Verdict::Tempfail, "{e:?}");
    assert!(reason(&e).contains("deadline"), "{e:?}");
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(srv.queries_for("mail-from.direct.test", "MX"), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_query_per_question_per_run() {
    let srv = server(Faults::default()).await;
    let dns = stack(&srv, 1);
    let cfg = PolicyConfig::default();
    let mut clients: Vec<String> = (1..=49).map(|i| format!("203.0.113.{i}")).collect();
    clients.push("192.0.2.40".into());

    let evals =
        futures::future::join_all(clients.iter().map(|c| eval(&dns, "chain.test", c, &cfg))).await;
    let matched: Vec<_> = evals
        .iter()
        .filter(|e| e.verdict == Verdict::Nonrepudiated)
        .collect();
    assert_eq!(matched.len(), 1);
    assert_eq!(matched[0].matched.as_deref(), Some("relay.p3.chain.test"));
    assert_eq!(
        evals
            .iter()
            .filter(|e| e.verdict == Verdict::Repudiated)
            .count(),
        49
    );
    assert!(
        evals
            .iter()
            .filter(|e| e.verdict == Verdict::Repudiated)
            .all(|e| e.lookups == 9)
    );

    let questions = [
        ("mail-from.chain.test", "MX"),
        ("p1.chain.test", "A"),
        ("mail-from.p1.chain.test", "MX"),
        ("p2.chain.test", "A"),
        ("mail-from.p2.chain.test", "MX"),
        ("p3.chain.test", "A"),
        ("mail-from.p3.chain.test", "MX"),
        ("relay.p3.chain.test", "A"),
        ("mail-from.relay.p3.chain.test", "MX"),
    ];
    for (name, t) in questions {
        assert_eq!(srv.queries_for(name, t), 1, "{name} {t}");
    }
    assert_eq!(srv.queries(), 9);
    let asked: u64 = evals.iter().map(|e| u64::from(e.lookups)).sum();
    let stats = &dns.stats;
    let (queries, hits) = (
        stats.queries.load(std::sync::atomic::Ordering::Relaxed),
        stats.reused.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert_eq!(queries, 9);
    assert_eq!(
        queries + hits,
        asked,
        "every other question was answered by the cache"
    );
    let again = dns.lookup("relay.p3.chain.test", QType::A).await;
    assert_eq!(again.source, Source::Cache);
    assert_eq!(srv.queries(), 9);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_is_tempfail_without_traffic() {
    let srv = server(Faults::default()).await;
    let dns = Dns::new(Zones::default(), None, 8);
    let e = eval(&dns, "direct.test", "192.0.2.10", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Tempfail, "{e:?}");
    assert!(reason(&e).contains("offline"), "{e:?}");
    assert_eq!(
        dns.stats.queries.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert_eq!(srv.queries(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_binary_over_sockets() {
    let srv = server(Faults::default().servfail("mail-from.sf.test")).await;
    let msg = |from: &str, client: &str, n: u32| {
        format!(
            "From {from} Tue Jun  4 10:00:00 2024\n\
             Return-Path: <{from}>\n\
             Received: from x (x [{client}]) by mx.test (Postfix) with ESMTP id {n}; Tue, 4 Jun 2024 10:00:00 +0000\n\
             Subject: message {n}\n\
             \n\
             Hello.\n\
             \n"
        )
    };
    let mbox = [
        msg("orders@direct.test", "192.0.2.10", 1),
        msg("orders@direct.test", "203.0.113.66", 2),
        msg("someone@absent.test", "198.51.100.3", 3),
        msg("news@sf.test", "192.0.2.10", 4),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.mbox");
    std::fs::write(&path, mbox).unwrap();

    let nameserver = srv.addr.to_string();
    let mut cmd = bin();
    cmd.arg("audit").arg(&path).args([
        "--nameserver",
        &nameserver,
        "--timeout",
        "0.3",
        "--attempts",
        "1",
        "-q",
        // The SERVFAIL domain is on purpose: its tempfail share is expected.
        "--max-tempfail",
        "100",
    ]);
    let (out, _) = output_beside_server(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "domain,ip,messages,verdict,matched,relays,reason,authenticated,spf\n\
         absent.test,198.51.100.3,1,no-policy,,,,,none\n\
         direct.test,192.0.2.10,1,nonrepudiated,out.direct.test,out.direct.test,,,none\n\
         direct.test,203.0.113.66,1,repudiated,,out.direct.test,,,none\n\
         sf.test,192.0.2.10,1,tempfail,,,mail-from.sf.test MX: SERVFAIL,,none\n"
    );
    // The zone publishes no SPF: absent.test does not exist, direct.test and sf.test have
    // no TXT (NODATA), so SPF says none; its TXT question is asked once per domain.
    assert_eq!(srv.queries_for("direct.test", "TXT"), 1);
    // One run, one question each: the policy MX of three domains and one relay A (the
    // SERVFAIL policy once, since a single try was allowed).
    assert_eq!(srv.queries_for("mail-from.direct.test", "MX"), 1);
    assert_eq!(srv.queries_for("out.direct.test", "A"), 1);
    assert_eq!(srv.queries_for("mail-from.sf.test", "MX"), 1);
    srv.stop().await;
}

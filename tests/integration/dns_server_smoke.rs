//! Smoke test of the in-process DNS server in `tests/integration/support/dns_server.rs`, driven by
//! hickory-resolver 0.26.3 directly (no project code involved).
//!
//! Why: other integration tests rely on this server to give exact answers, to inject faults
//! and to count queries. This file pins down both the server behaviour and how the resolver
//! reports each outcome (the `NetError`/`DnsError` variants the project maps to verdicts), so
//! a hickory upgrade that changes either fails here first. All traffic stays on 127.0.0.1.

use crate::support::dns_server;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use dns_server::{Faults, TestDns};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData};

const SMOKE_ZONE: &str = include_str!("../../fixtures/dns/smoke.zone");

/// Per-try timeout of the default test resolver.
const TIMEOUT: Duration = Duration::from_millis(300);

/// Resolver aimed at `dns` only: cache off, no hosts file, `attempts` retries (tries =
/// attempts + 1), `timeout` per try.
fn resolver_with(dns: &TestDns, timeout: Duration, attempts: usize) -> TokioResolver {
    let mut ns = NameServerConfig::udp_and_tcp(dns.addr.ip());
    for c in ns.connections.iter_mut() {
        c.port = dns.addr.port();
    }
    let cfg = ResolverConfig::from_name_servers(vec![ns]);
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = attempts;
    opts.cache_size = 0;
    opts.use_hosts_file = ResolveHosts::Never;
    TokioResolver::builder_with_config(cfg, TokioRuntimeProvider::default())
        .with_options(opts)
        .build()
        .expect("build resolver")
}

fn resolver(dns: &TestDns) -> TokioResolver {
    resolver_with(dns, TIMEOUT, 0)
}

async fn smoke_server(faults: Faults) -> TestDns {
    TestDns::start(&[("test.", SMOKE_ZONE)], faults).await
}

fn mx_pairs(lookup: &hickory_resolver::lookup::Lookup) -> Vec<(u16, String)> {
    let mut v: Vec<(u16, String)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn expect_no_records(res: Result<hickory_resolver::lookup::Lookup, NetError>) -> NoRecords {
    match res {
        Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => nr,
        other => panic!("expected NoRecordsFound, got {other:?}"),
    }
}

fn expect_rcode(res: Result<hickory_resolver::lookup::Lookup, NetError>) -> ResponseCode {
    match res {
        Err(NetError::Dns(DnsError::ResponseCode(code))) => code,
        other => panic!("expected DnsError::ResponseCode, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mx_answer_has_preference_and_exchange() {
    let dns = smoke_server(Faults::default()).await;
    let r = resolver(&dns);
    let lookup = r.mx_lookup("mx.test.").await.expect("MX lookup");
    assert_eq!(
        mx_pairs(&lookup),
        vec![
            (10, "mail1.test.".to_owned()),
            (20, "mail2.test.".to_owned())
        ]
    );
    assert_eq!(dns.queries_for("mx.test", "MX"), 1);
    assert_eq!((dns.udp_queries(), dns.tcp_queries()), (1, 0));
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_and_aaaa_answers() {
    let dns = smoke_server(Faults::default()).await;
    let r = resolver(&dns);
    let v4: Vec<Ipv4Addr> = r
        .ipv4_lookup("mail1.test.")
        .await
        .expect("A lookup")
        .answers()
        .iter()
        .filter_map(|rec| match &rec.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    assert_eq!(v4, vec![Ipv4Addr::new(192, 0, 2, 1)]);
    let v6: Vec<Ipv6Addr> = r
        .ipv6_lookup("mail1.test.")
        .await
        .expect("AAAA lookup")
        .answers()
        .iter()
        .filter_map(|rec| match &rec.data {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
        .collect();
    assert_eq!(v6, vec!["2001:db8::1".parse::<Ipv6Addr>().unwrap()]);
    // mail2 has an A but no AAAA: NODATA.
    let nr = expect_no_records(r.ipv6_lookup("mail2.test.").await);
    assert_eq!(nr.response_code, ResponseCode::NoError);
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nxdomain_and_nodata_are_distinguished() {
    let dns = smoke_server(Faults::default()).await;
    let r = resolver(&dns);

    let nx = expect_no_records(r.mx_lookup("nope.test.").await);
    assert_eq!(nx.response_code, ResponseCode::NXDomain);
    assert!(nx.soa.is_some(), "NXDOMAIN carries the zone SOA");
    assert_eq!(nx.negative_ttl, Some(300));

    let nodata = expect_no_records(r.mx_lookup("nomx.test.").await);
    assert_eq!(nodata.response_code, ResponseCode::NoError);
    assert!(nodata.soa.is_some(), "NODATA carries the zone SOA");

    // The helper predicates agree.
    let e = r.mx_lookup("nope.test.").await.unwrap_err();
    assert!(e.is_nx_domain() && e.is_no_records_found());
    let e = r.mx_lookup("nomx.test.").await.unwrap_err();
    assert!(!e.is_nx_domain() && e.is_no_records_found());

    // Negative answers are not retried: one query per lookup (two lookups each).
    assert_eq!(dns.queries_for("nope.test", "MX"), 2);
    assert_eq!(dns.queries_for("nomx.test", "MX"), 2);
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_and_refused_are_response_codes() {
    let faults = Faults::default()
        .servfail("ServFail.Test.") // normalised: case and trailing dot do not matter
        .refused("refused.test")
        .servfail_type("mail1.test", "AAAA");
    let dns = smoke_server(faults).await;
    let r = resolver_with(&dns, TIMEOUT, 1);

    assert_eq!(
        expect_rcode(r.mx_lookup("servfail.test.").await),
        ResponseCode::ServFail
    );
    assert_eq!(
        expect_rcode(r.ipv4_lookup("servfail.test.").await),
        ResponseCode::ServFail,
        "a name rule covers every type"
    );
    assert_eq!(
        expect_rcode(r.mx_lookup("refused.test.").await),
        ResponseCode::Refused
    );
    // Type-specific rule: AAAA fails, A of the same name is served.
    assert_eq!(
        expect_rcode(r.ipv6_lookup("mail1.test.").await),
        ResponseCode::ServFail
    );
    r.ipv4_lookup("mail1.test.")
        .await
        .expect("A of mail1 unaffected by the AAAA rule");

    // Error response codes are retried like timeouts: attempts + 1 = 2 tries each, all UDP.
    assert_eq!(dns.queries_for("servfail.test", "MX"), 2);
    assert_eq!(dns.queries_for("servfail.test", "A"), 2);
    assert_eq!(dns.queries_for("refused.test", "MX"), 2);
    assert_eq!(dns.queries_for("mail1.test", "AAAA"), 2);
    assert_eq!(dns.queries_for("mail1.test", "A"), 1);
    assert_eq!(dns.tcp_queries(), 0);
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackhole_is_a_timeout() {
    let dns = smoke_server(Faults::default().blackhole("blackhole.test")).await;
    let r = resolver_with(&dns, Duration::from_millis(200), 1);
    let t0 = Instant::now();
    let res = r.mx_lookup("blackhole.test.").await;
    let elapsed = t0.elapsed();
    assert!(
        matches!(res, Err(NetError::Timeout)),
        "expected NetError::Timeout, got {res:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(400),
        "2 tries × 200 ms, took {elapsed:?}"
    );
    // Both tries reached the server, over UDP: timeouts do not fall back to TCP.
    assert_eq!(dns.queries_for("blackhole.test", "MX"), 2);
    assert_eq!(dns.tcp_queries(), 0);
    // Other names on the same server still answer.
    r.mx_lookup("mx.test.").await.expect("unaffected name");
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_truncation_falls_back_to_tcp() {
    let dns = smoke_server(Faults::default().truncate_udp("trunc.test")).await;
    let r = resolver(&dns);
    let lookup = r.mx_lookup("trunc.test.").await.expect("answer over TCP");
    assert_eq!(mx_pairs(&lookup), vec![(10, "mail1.test.".to_owned())]);
    assert_eq!(dns.udp_queries(), 1);
    assert_eq!(dns.tcp_queries(), 1);
    assert_eq!(dns.queries_for("trunc.test", "MX"), 2);
    dns.stop().await;
}

/// 40 MX records with long, incompressible first labels: far more than the 1232-byte EDNS
/// payload, so hickory-server truncates the UDP reply itself and the client retries over TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_rrset_arrives_complete_over_tcp() {
    let mut zone = String::from(
        "$ORIGIN big.test.\n$TTL 300\n\
         @ IN SOA ns1.big.test. hostmaster.big.test. 1 3600 600 86400 300\n",
    );
    let mut expected = Vec::new();
    for i in 0..40u16 {
        let label = format!("mx{i:02}-{}", "x".repeat(56));
        zone.push_str(&format!("many IN MX {i} {label}.exchangers.example.\n"));
        expected.push((i, format!("{label}.exchangers.example.")));
    }
    let wire_estimate: usize = expected.iter().map(|(_, n)| n.len() + 14).sum();
    assert!(
        wire_estimate > 1232 * 2,
        "RRset must exceed the UDP payload"
    );

    let dns = TestDns::start(
        &[("big.test.", &zone), ("test.", SMOKE_ZONE)],
        Faults::default(),
    )
    .await;
    let r = resolver(&dns);
    let lookup = r.mx_lookup("many.big.test.").await.expect("MX lookup");
    assert_eq!(mx_pairs(&lookup), expected, "all 40 MX records");
    assert!(dns.tcp_queries() >= 1, "answer must have come over TCP");
    assert_eq!(dns.udp_queries(), 1, "one truncated UDP reply first");
    // The second zone is served by the same server.
    r.mx_lookup("mx.test.").await.expect("second zone");
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays_are_applied() {
    let delay = Duration::from_millis(150);
    let dns = smoke_server(Faults::default().delay("slow.test", delay)).await;
    let r = resolver_with(&dns, Duration::from_secs(2), 0);

    let t0 = Instant::now();
    r.ipv4_lookup("slow.test.").await.expect("delayed answer");
    let slow = t0.elapsed();
    assert!(slow >= delay, "delayed lookup took {slow:?}");

    let t0 = Instant::now();
    r.ipv4_lookup("mail1.test.")
        .await
        .expect("undelayed answer");
    let fast = t0.elapsed();
    assert!(fast < delay, "undelayed lookup took {fast:?}");
    dns.stop().await;

    // delay_all applies to every name and adds to a per-name delay.
    let dns = smoke_server(
        Faults::default()
            .delay_all(Duration::from_millis(100))
            .delay("slow.test", Duration::from_millis(100)),
    )
    .await;
    let r = resolver_with(&dns, Duration::from_secs(2), 0);
    let t0 = Instant::now();
    r.ipv4_lookup("mail1.test.").await.expect("answer");
    assert!(t0.elapsed() >= Duration::from_millis(100));
    let t0 = Instant::now();
    r.ipv4_lookup("slow.test.").await.expect("answer");
    assert!(t0.elapsed() >= Duration::from_millis(200));
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_counts_are_exact() {
    let dns = smoke_server(Faults::default()).await;
    let r = resolver(&dns);
    for _ in 0..3 {
        r.mx_lookup("mx.test.").await.unwrap();
    }
    r.mx_lookup("MX.Test.").await.unwrap(); // same key after normalisation
    for _ in 0..2 {
        r.ipv4_lookup("mail1.test.").await.unwrap();
    }
    let _ = r.mx_lookup("nope.test.").await.unwrap_err();

    assert_eq!(dns.queries_for("mx.test", "MX"), 4);
    assert_eq!(dns.queries_for("MX.TEST.", "mx"), 4);
    assert_eq!(dns.queries_for("mail1.test.", "A"), 2);
    assert_eq!(dns.queries_for("mail1.test", "AAAA"), 0);
    assert_eq!(dns.queries_for("nope.test", "MX"), 1);
    assert_eq!(dns.queries(), 7);
    assert_eq!((dns.udp_queries(), dns.tcp_queries()), (7, 0));

    dns.reset_counts();
    assert_eq!(dns.queries(), 0);
    assert_eq!(dns.queries_for("mx.test", "MX"), 0);
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cname_to_in_zone_name_is_followed() {
    let dns = smoke_server(Faults::default()).await;
    let r = resolver(&dns);
    let lookup = r.ipv4_lookup("alias.test.").await.expect("A via CNAME");
    let a: Vec<Ipv4Addr> = lookup
        .answers()
        .iter()
        .filter_map(|rec| match &rec.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    assert_eq!(a, vec![Ipv4Addr::new(192, 0, 2, 1)]);
    let cname_targets: Vec<Name> = lookup
        .answers()
        .iter()
        .filter_map(|rec| match &rec.data {
            RData::CNAME(c) => Some(c.0.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        cname_targets,
        vec![Name::from_ascii("mail1.test.").unwrap()]
    );
    // The server chases the in-zone CNAME itself and puts both records in one reply, so the
    // resolver sends a single query.
    assert_eq!(dns.queries_for("alias.test", "A"), 1);
    assert_eq!(dns.queries_for("mail1.test", "A"), 0);
    assert_eq!(dns.queries(), 1);
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answer_is_rejected() {
    let dns = smoke_server(Faults::default().wrong_answer("wrong.test")).await;
    let r = resolver(&dns);
    // wrong.test has a real A (192.0.2.40) and MX; the server sends them under the owner
    // wrong-answer.wrong.test., which the resolver drops → NODATA-like NoRecordsFound.
    let nr = expect_no_records(r.ipv4_lookup("wrong.test.").await);
    assert_eq!(nr.response_code, ResponseCode::NoError);
    let nr = expect_no_records(r.mx_lookup("wrong.test.").await);
    assert_eq!(nr.response_code, ResponseCode::NoError);
    assert_eq!(dns.queries_for("wrong.test", "A"), 1);
    assert_eq!(dns.queries_for("wrong.test", "MX"), 1);
    dns.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_and_tcp_share_one_loopback_port() {
    let dns = smoke_server(Faults::default()).await;
    assert!(dns.addr.ip().is_loopback());
    assert_ne!(dns.addr.port(), 0);
    // Port is in use for TCP too: connecting succeeds.
    tokio::net::TcpStream::connect(dns.addr)
        .await
        .expect("TCP listener on the same port");
    dns.stop().await;
}

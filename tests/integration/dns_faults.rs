//! DNS faults over real sockets, through the built binary: each fault of the in-process
//! server (`tests/integration/support/dns_server.rs`) must end in the verdict docs/design.md §2 names, with the
//! failed question in the CSV's `reason` column; a DNS failure never becomes `repudiated`
//! or `no-policy`. Then the work bounds, counted at the server: a policy fanning out to
//! hundreds of names stays within `--max-lookups`, a slow server is cut off by
//! `--eval-timeout`, each (name, type) is asked once per run even while many pairs wait for
//! it, and `--concurrency N` bounds what the server sees in flight without serialising it.
//!
//! Why: `tests/dns_verdicts.rs` proves the verdicts through the library; this file proves
//! what an operator sees in the report, and measures at the server rather than trusting the
//! tool's own counters. What that file already covers (policy SERVFAIL/REFUSED/timeout via
//! the library, a relay truncated over UDP, the 150-relay fan-out at the default budget,
//! the wrong-owner answer for a policy) is not repeated here. All traffic stays on 127.0.0.1.

use crate::support::bin::{bin, output_beside_server};

use crate::support::dns_server;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use dns_server::{Faults, TestDns};

const SOA: &str = "$ORIGIN test.\n$TTL 300\n\
    @ IN SOA ns1.test. hostmaster.test. ( 2024060401 3600 600 86400 300 )\n\
    @ IN NS ns1.test.\nns1 IN A 127.0.0.1\n";

/// The faults scenario: every policy is sound, only an injected fault (or the record that
/// is the fault, for the CNAME loop and the non-host target) can break it.
const FAULT_RECORDS: &str = "\
out.direct            IN A     192.0.2.10
MAIL-FROM.sf          IN MX    10 out.direct.test.
MAIL-FROM.refused     IN MX    10 out.direct.test.
MAIL-FROM.silent      IN MX    10 out.direct.test.
MAIL-FROM.trunc       IN MX    10 out.direct.test.
MAIL-FROM.wrongq      IN MX    10 out.direct.test.
; a relay that never answers, alone and beside a relay that matches
MAIL-FROM.deadrelay   IN MX    10 dead.relay.test.
MAIL-FROM.tworelay    IN MX    0 dead.relay.test.
MAIL-FROM.tworelay    IN MX    5 out.direct.test.
dead.relay            IN A     192.0.2.20
; a relay whose name is a CNAME loop
MAIL-FROM.cnloop      IN MX    10 loop1.test.
loop1                 IN CNAME loop2.test.
loop2                 IN CNAME loop1.test.
; an MX target that is an IP address, not a host name: never looked up as one
MAIL-FROM.numeric     IN MX    0 192.0.2.10.
; a relay whose address comes back under another owner
MAIL-FROM.wrongowner  IN MX    10 wo.relay.test.
wo.relay              IN A     192.0.2.30
; a name with no MX (an address only), whose NODATA comes without an SOA (as from dnsmasq)
MAIL-FROM.nosoa       IN A     192.0.2.10
";

/// Per-try timeout of the faults run: loopback answers take microseconds.
const TIMEOUT: &str = "0.3";

fn zone(records: &str) -> String {
    format!("{SOA}{records}")
}

/// One row of the pairs CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    verdict: String,
    matched: String,
    relays: String,
    reason: String,
}

struct Run {
    rows: HashMap<(String, String), Row>,
    took: Duration,
}

/// Runs `repudiate audit` on a pairs file of `pairs` (domain, ip; one message each) against
/// `server` with `args`, and returns the rows keyed by (domain, ip). Panics unless it exits 0.
async fn audit(server: &TestDns, pairs: &[(String, String)], args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.csv");
    let mut text = String::from("domain,ip,messages\n");
    for (domain, ip) in pairs {
        writeln!(text, "{domain},{ip},1").unwrap();
    }
    std::fs::write(&input, text).unwrap();
    let mut cmd = bin();
    cmd.arg("audit")
        .arg(&input)
        .args(["--nameserver", &server.addr.to_string(), "-q"])
        // The faults are the point: a tempfail share that would end in exit 4 is expected.
        .args(["--max-tempfail", "100"])
        .args(args);
    let (out, took) = output_beside_server(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "domain",
            "ip",
            "messages",
            "verdict",
            "matched",
            "relays",
            "reason",
            "authenticated",
            "spf"
        ]
    );
    let mut rows = HashMap::new();
    for rec in reader.records() {
        let rec = rec.unwrap();
        let row = Row {
            verdict: rec[3].to_string(),
            matched: rec[4].to_string(),
            relays: rec[5].to_string(),
            reason: rec[6].to_string(),
        };
        rows.insert((rec[0].to_string(), rec[1].to_string()), row);
    }
    assert_eq!(rows.len(), pairs.len(), "one row per pair");
    Run { rows, took }
}

fn pair(domain: &str, ip: &str) -> (String, String) {
    (domain.to_string(), ip.to_string())
}

fn row(verdict: &str, matched: &str, relays: &str, reason: &str) -> Row {
    Row {
        verdict: verdict.into(),
        matched: matched.into(),
        relays: relays.into(),
        reason: reason.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_ends_in_its_verdict_with_the_reason_in_the_csv() {
    let faults = Faults::default()
        .servfail("mail-from.sf.test")
        .refused("mail-from.refused.test")
        .blackhole("mail-from.silent.test")
        .truncate_always("mail-from.trunc.test")
        .wrong_question("mail-from.wrongq.test")
        .wrong_answer("wo.relay.test")
        .nodata_without_soa("mail-from.nosoa.test")
        .blackhole("dead.relay.test");
    let zone = zone(FAULT_RECORDS);
    let srv = TestDns::start(&[("test.", &zone)], faults).await;

    // The client is the relay's address wherever a relay exists: only the fault can decide.
    let d = "out.direct.test";
    let expected = [
        (
            pair("sf.test", "192.0.2.10"),
            row("tempfail", "", "", "mail-from.sf.test MX: SERVFAIL"),
        ),
        (
            pair("refused.test", "192.0.2.10"),
            row("tempfail", "", "", "mail-from.refused.test MX: REFUSED"),
        ),
        (
            pair("silent.test", "192.0.2.10"),
            row("tempfail", "", "", "mail-from.silent.test MX: timeout"),
        ),
        // TC=1 over TCP as well: the answer never arrives whole.
        (
            pair("trunc.test", "192.0.2.10"),
            row(
                "tempfail",
                "",
                "",
                "mail-from.trunc.test MX: bad answer: response was truncated; TCP already tried or no other transport available",
            ),
        ),
        // A reply to another question: hickory drops it over UDP but takes it when it retries
        // over TCP (the connection trunc.test opened), reading it as an empty NODATA; asked
        // again by hand, the reply is seen whole and rejected. (Without a TCP connection
        // hickory's tries time out: `tempfail` too, with `timeout` as the reason.)
        (
            pair("wrongq.test", "192.0.2.10"),
            row(
                "tempfail",
                "",
                "",
                "mail-from.wrongq.test MX: bad answer: answer for another question: wrong-question.mail-from.wrongq.test MX",
            ),
        ),
        // The relay's address under another owner: never used, and never "no address" either.
        (
            pair("wrongowner.test", "192.0.2.30"),
            row(
                "tempfail",
                "",
                "wo.relay.test",
                "wo.relay.test A: bad answer: answer records for another owner: wrong-answer.wo.relay.test",
            ),
        ),
        // A real NODATA without its SOA is still NODATA.
        (
            pair("nosoa.test", "192.0.2.10"),
            row("no-policy", "", "", ""),
        ),
        (
            pair("deadrelay.test", "192.0.2.20"),
            row(
                "tempfail",
                "",
                "dead.relay.test",
                "dead.relay.test A: timeout",
            ),
        ),
        // A match found elsewhere wins over the failure; without one the failure decides.
        (
            pair("tworelay.test", "192.0.2.10"),
            row("nonrepudiated", d, &format!("dead.relay.test;{d}"), ""),
        ),
        (
            pair("tworelay.test", "203.0.113.5"),
            row(
                "tempfail",
                "",
                &format!("dead.relay.test;{d}"),
                "dead.relay.test A: timeout",
            ),
        ),
        (
            pair("cnloop.test", "203.0.113.5"),
            row(
                "tempfail",
                "",
                "loop1.test",
                "loop1.test A: bad answer: CNAME loop loop1.test -> loop2.test -> loop1.test",
            ),
        ),
        // Ignored and said; the policy still stands (nothing permitted), never tempfail.
        (
            pair("numeric.test", "192.0.2.10"),
            row(
                "repudiated",
                "",
                "",
                "ignored invalid relay name \"192.0.2.10\"",
            ),
        ),
    ];
    let pairs: Vec<_> = expected.iter().map(|(p, _)| p.clone()).collect();
    let run = audit(&srv, &pairs, &["--timeout", TIMEOUT, "--attempts", "2"]).await;
    for (key, want) in &expected {
        let got = &run.rows[key];
        // hickory takes the reply to another question only when it retries over a TCP
        // connection the truncated questions left open; whether that connection is still
        // there depends on timing, and otherwise its tries time out. Either way the verdict
        // is tempfail with the failed question in `reason`.
        if key.0 == "wrongq.test" && got.reason.ends_with("MX: timeout") {
            assert_eq!(
                (got.verdict.as_str(), got.reason.as_str()),
                ("tempfail", "mail-from.wrongq.test MX: timeout")
            );
            continue;
        }
        assert_eq!(got, want, "{key:?}");
        if !want.reason.is_empty() && want.verdict == "tempfail" {
            assert!(
                got.verdict != "repudiated" && got.verdict != "no-policy",
                "a DNS failure became a verdict: {key:?} {got:?}"
            );
        }
    }
    // Two tries per question (`--attempts 2`) reached the server for each failing policy,
    // and the one that got no reply at all once more: the probe that asks the kernel why
    // (src/dns/diagnose.rs), which here hears nothing either, so it stays a timeout.
    for (name, sent) in [("sf", 2), ("refused", 2), ("silent", 3)] {
        assert_eq!(
            srv.queries_for(&format!("mail-from.{name}.test"), "MX"),
            sent,
            "{name}"
        );
    }
    // Each reply is seen whole on the lean UDP path (src/dns/wire.rs), so one question
    // each: the reply to another question is kept while the try waits for the right one and
    // judged when the try ends; the wrong-owner relay's and the bare NODATA's replies are
    // judged as they come, the latter holding no CNAME to follow (so no further question).
    let wrongq = srv.queries_for("mail-from.wrongq.test", "MX");
    assert_eq!(wrongq, 1, "questions for the wrong-question policy");
    assert_eq!(srv.queries_for("wo.relay.test", "A"), 1);
    assert_eq!(srv.queries_for("mail-from.nosoa.test", "MX"), 1);
    assert_eq!(srv.queries_for("mail-from.nosoa.test", "CNAME"), 0);
    // The IP-literal target was never looked up as a name.
    assert_eq!(srv.queries_for("192.0.2.10", "A"), 0);
    assert_eq!(srv.queries_for("mail-from.192.0.2.10", "MX"), 0);
    srv.stop().await;
}

/// 300 relays, each of which would delegate again if asked; the client is only the last.
fn fanout_zone() -> String {
    let mut records = String::new();
    for i in 0..300 {
        writeln!(records, "MAIL-FROM.fanout IN MX {i} r{i:03}.fanout.test.").unwrap();
        let ip = if i == 299 {
            "192.0.2.99".to_string()
        } else {
            format!("198.51.100.{}", i % 200)
        };
        writeln!(records, "r{i:03}.fanout IN A {ip}").unwrap();
        writeln!(
            records,
            "MAIL-FROM.r{i:03}.fanout IN MX 10 more{i:03}.fanout.test."
        )
        .unwrap();
    }
    zone(&records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_to_hundreds_of_names_stays_within_max_lookups_at_the_server() {
    let zone = fanout_zone();
    let srv = TestDns::start(&[("test.", &zone)], Faults::default()).await;
    let pairs = [pair("fanout.test", "192.0.2.99")];

    // SPF off: its TXT question is outside --max-lookups, which this counts at the server.
    let run = audit(
        &srv,
        &pairs,
        &["--max-lookups", "50", "--attempts", "1", "--no-spf"],
    )
    .await;
    let got = &run.rows[&pairs[0]];
    assert_eq!(
        (
            got.verdict.as_str(),
            got.reason.as_str(),
            got.matched.as_str()
        ),
        ("permerror", "more than 50 DNS lookups", "")
    );
    // Counted at the server: at most 50 distinct questions, each asked once, except the
    // 300-record MX RRset which does not fit UDP and is asked again over TCP.
    let questions = srv.question_counts();
    assert_eq!(questions.len(), 50, "{questions:?}");
    assert_eq!((srv.udp_queries(), srv.tcp_queries()), (50, 1));
    assert!(
        questions
            .iter()
            .all(|(name, t, _)| !name.starts_with("mail-from.r")
                && !name.starts_with("more")
                && (t == "A" || name == "mail-from.fanout.test")),
        "no delegation question within the budget: {questions:?}"
    );

    // With room for all of them the last relay matches, after exactly the questions needed.
    srv.reset_counts();
    let run = audit(
        &srv,
        &pairs,
        &["--max-lookups", "400", "--attempts", "1", "--no-spf"],
    )
    .await;
    let got = &run.rows[&pairs[0]];
    assert_eq!(
        (
            got.verdict.as_str(),
            got.matched.as_str(),
            got.reason.as_str()
        ),
        ("nonrepudiated", "r299.fanout.test", "")
    );
    assert_eq!(got.relays.split(';').count(), 300);
    assert_eq!(srv.question_counts().len(), 301);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_is_cut_off_by_the_evaluation_deadline() {
    let zone = zone(FAULT_RECORDS);
    let srv = TestDns::start(
        &[("test.", &zone)],
        Faults::default().delay_all(Duration::from_secs(3)),
    )
    .await;
    let pairs = [
        pair("sf.test", "192.0.2.10"),
        pair("refused.test", "192.0.2.10"),
        pair("tworelay.test", "192.0.2.10"),
    ];
    // A per-try timeout far beyond the deadline: only the deadline can end the evaluations.
    let args = [
        "--timeout",
        "10",
        "--attempts",
        "1",
        "--eval-timeout",
        "0.5",
    ];
    let run = audit(&srv, &pairs, &args).await;
    for p in &pairs {
        assert_eq!(
            run.rows[p],
            row("tempfail", "", "", "evaluation deadline of 500ms passed"),
            "{p:?}"
        );
    }
    // Loose bounds: past the deadline, far before one reply (3 s) or the per-try timeout;
    // the evaluations ran side by side, not one deadline after another.
    assert!(
        run.took >= Duration::from_millis(500) && run.took < Duration::from_millis(2900),
        "{:?}",
        run.took
    );
    srv.stop().await;
}

/// Five domains sharing one delegated provider and each with a relay of its own.
fn shared_zone() -> String {
    let mut records = String::from(
        "MAIL-FROM.hub IN MX 10 relay.hub.test.\nrelay.hub IN A 192.0.2.77\nhub IN A 192.0.2.70\n",
    );
    for d in 1..=5 {
        writeln!(records, "MAIL-FROM.s{d} IN MX 10 hub.test.").unwrap();
        writeln!(records, "MAIL-FROM.s{d} IN MX 20 own.s{d}.test.").unwrap();
        writeln!(records, "own.s{d} IN A 192.0.2.{d}").unwrap();
    }
    zone(&records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_query_per_question_per_run_even_while_answers_are_in_flight() {
    let zone = shared_zone();
    // Every answer takes 200 ms, so the pairs of a domain all ask while its first query is
    // still on the wire: they must wait for it, not send their own.
    let srv = TestDns::start(
        &[("test.", &zone)],
        Faults::default().delay_all(Duration::from_millis(200)),
    )
    .await;
    let mut pairs = Vec::new();
    for d in 1..=5 {
        for c in 1..=39 {
            pairs.push(pair(&format!("s{d}.test"), &format!("203.0.113.{c}")));
        }
        pairs.push(pair(&format!("s{d}.test"), "192.0.2.77"));
    }
    let run = audit(&srv, &pairs, &["--timeout", "5", "--attempts", "1"]).await;
    for (key, got) in &run.rows {
        let want = if key.1 == "192.0.2.77" {
            "nonrepudiated"
        } else {
            "repudiated"
        };
        assert_eq!(got.verdict, want, "{key:?} {got:?}");
    }
    let questions = srv.question_counts();
    assert!(
        questions.iter().all(|(_, _, n)| *n == 1),
        "a question was sent twice: {questions:?}"
    );
    // Per domain: its policy, its own relay's A and MAIL-FROM, and SPF's TXT (asked by all
    // 40 pairs of the domain at once, sent once); shared: hub's A and MAIL-FROM,
    // relay.hub's A and MAIL-FROM.
    assert_eq!(questions.len(), 5 * 4 + 4, "{questions:?}");
    assert_eq!(srv.tcp_queries(), 0);
    srv.stop().await;
}

/// `n` domains, each with a policy naming the direct relay.
fn many_policies_zone(n: usize) -> String {
    let mut records = String::from("out.direct IN A 192.0.2.10\n");
    for d in 0..n {
        writeln!(records, "MAIL-FROM.c{d} IN MX 10 out.direct.test.").unwrap();
    }
    zone(&records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_bounds_queries_in_flight_without_serialising_them() {
    let zone = many_policies_zone(40);
    let srv = TestDns::start(
        &[("test.", &zone)],
        Faults::default().delay_all(Duration::from_millis(100)),
    )
    .await;
    let pairs: Vec<_> = (0..40)
        .map(|d| pair(&format!("c{d}.test"), "192.0.2.10"))
        .collect();
    let common = ["--timeout", "5", "--attempts", "1"];

    for (limit, floor) in [(3u64, 2u64), (16, 4)] {
        srv.reset_counts();
        let n = limit.to_string();
        let args: Vec<&str> = common
            .iter()
            .copied()
            .chain(["--concurrency", &n])
            .collect();
        let run = audit(&srv, &pairs, &args).await;
        assert!(
            run.rows.values().all(|r| r.verdict == "nonrepudiated"),
            "{:?}",
            run.rows
        );
        assert_eq!(
            srv.queries(),
            81,
            "40 policies, one shared relay, 40 SPF TXT questions"
        );
        let peak = srv.max_in_flight();
        // Never more than allowed, and really in parallel: 81 answers of 100 ms each would
        // take over 8 s one by one.
        assert!(peak <= limit, "--concurrency {limit}: {peak} in flight");
        assert!(
            peak >= floor,
            "--concurrency {limit}: only {peak} in flight"
        );
        assert!(run.took < Duration::from_secs(6), "{:?}", run.took);
    }
    srv.stop().await;
}

/// `n` hops of CNAME, `<label>0 -> <label>1 -> ... -> <label>n`, the last with an address.
fn cname_chain(label: &str, n: usize, last_ip: &str) -> String {
    let mut records = String::new();
    for i in 0..n {
        writeln!(records, "{label}{i} IN CNAME {label}{}.test.", i + 1).unwrap();
    }
    writeln!(records, "{label}{n} IN A {last_ip}").unwrap();
    records
}

/// Faults once read as forgery (issue 14): policies and relays are sound, and only the
/// injected fault can break them.
fn forgery_faults_zone() -> String {
    let mut records = String::from(
        "\
MAIL-FROM.short      IN MX 10 s0.test.
MAIL-FROM.long       IN MX 10 l0.test.
MAIL-FROM.endless    IN MX 10 e0.test.
MAIL-FROM.brokenhop  IN MX 10 b0.test.
; a relay whose name is an alias of itself, and whose CNAME question then fails
MAIL-FROM.selfsf     IN MX 10 selfsf.test.
selfsf               IN CNAME selfsf.test.
MAIL-FROM.selfdead   IN MX 10 selfdead.test.
selfdead             IN CNAME selfdead.test.
; a relay whose A question is answered with an AAAA record
MAIL-FROM.v6answer   IN MX 10 v6answer.relay.test.
v6answer.relay       IN A 192.0.2.50
v6answer.relay       IN AAAA 2001:db8::50
; a policy whose MX question is answered with an A record
MAIL-FROM.aanswer    IN MX 10 out.direct.test.
MAIL-FROM.aanswer    IN A 192.0.2.10
out.direct           IN A 192.0.2.10
; a relay whose own MAIL-FROM (delegation) is answered with an A record
MAIL-FROM.deleg      IN MX 10 prov.test.
prov                 IN A 192.0.2.60
MAIL-FROM.prov       IN MX 10 inner.prov.test.
MAIL-FROM.prov       IN A 192.0.2.61
inner.prov           IN A 192.0.2.62
",
    );
    records.push_str(&cname_chain("s", 3, "192.0.2.41"));
    records.push_str(&cname_chain("l", 12, "192.0.2.42"));
    records.push_str(&cname_chain("e", 40, "192.0.2.43"));
    records.push_str(&cname_chain("b", 12, "192.0.2.44"));
    zone(&records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_that_once_read_as_forgery_end_in_tempfail_or_the_true_answer() {
    let mut faults = Faults::default()
        .servfail_type("selfsf.test", "CNAME")
        .blackhole_type("selfdead.test", "CNAME")
        .other_type("v6answer.relay.test", "AAAA")
        .other_type("mail-from.aanswer.test", "A")
        .other_type("mail-from.prov.test", "A")
        // the tenth hop of the broken chain fails, past where hickory gives up
        .servfail("b10.test");
    for (label, hops) in [("s", 3), ("l", 12), ("e", 40), ("b", 12)] {
        for i in 0..hops {
            faults = faults.cname_hop_only(&format!("{label}{i}.test"));
        }
    }
    let zone = forgery_faults_zone();
    let srv = TestDns::start(&[("test.", &zone)], faults).await;

    let expected = [
        // A chain answered one hop per query is followed, to its address: the true answer.
        (
            pair("short.test", "192.0.2.41"),
            row("nonrepudiated", "s0.test", "s0.test", ""),
        ),
        (
            pair("short.test", "203.0.113.9"),
            row("repudiated", "", "s0.test", ""),
        ),
        // Longer than hickory follows (8), within the bound (16): still the true answer.
        (
            pair("long.test", "192.0.2.42"),
            row("nonrepudiated", "l0.test", "l0.test", ""),
        ),
        (
            pair("long.test", "203.0.113.9"),
            row("repudiated", "", "l0.test", ""),
        ),
        // Past the bound: no answer, so no verdict either.
        (
            pair("endless.test", "203.0.113.9"),
            row(
                "tempfail",
                "",
                "e0.test",
                "e0.test A: bad answer: CNAME chain longer than 16: e0.test -> e1.test -> ...",
            ),
        ),
        // A hop that fails after hickory gave up: the failure, never "no address".
        (
            pair("brokenhop.test", "203.0.113.9"),
            row("tempfail", "", "b0.test", "b0.test A: SERVFAIL"),
        ),
        (
            pair("selfsf.test", "203.0.113.9"),
            row(
                "tempfail",
                "",
                "selfsf.test",
                "selfsf.test A: bad answer: CNAME loop selfsf.test -> selfsf.test",
            ),
        ),
        (
            pair("selfdead.test", "203.0.113.9"),
            row(
                "tempfail",
                "",
                "selfdead.test",
                "selfdead.test A: bad answer: CNAME loop selfdead.test -> selfdead.test",
            ),
        ),
        (
            pair("v6answer.test", "192.0.2.50"),
            row(
                "tempfail",
                "",
                "v6answer.relay.test",
                "v6answer.relay.test A: bad answer: answer records of another type: AAAA",
            ),
        ),
        (
            pair("aanswer.test", "203.0.113.9"),
            row(
                "tempfail",
                "",
                "",
                "mail-from.aanswer.test MX: bad answer: answer records of another type: A",
            ),
        ),
        (
            pair("deleg.test", "203.0.113.9"),
            row(
                "tempfail",
                "",
                "prov.test",
                "mail-from.prov.test MX: bad answer: answer records of another type: A",
            ),
        ),
    ];
    let pairs: Vec<_> = expected.iter().map(|(p, _)| p.clone()).collect();
    let run = audit(&srv, &pairs, &["--timeout", TIMEOUT, "--attempts", "1"]).await;
    let mut wrong = Vec::new();
    for (key, want) in &expected {
        let got = &run.rows[key];
        if got != want {
            wrong.push(format!("{key:?}\n   got  {got:?}\n   want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A chain is one question of the policy's budget however many hops it takes, and each
    // hop of the long chain is asked a bounded number of times.
    for i in 0..12 {
        let asked = srv.queries_for(&format!("l{i}.test"), "A");
        assert!((1..=3).contains(&asked), "l{i}.test asked {asked} times");
    }
    assert_eq!(
        srv.queries_for("e17.test", "A"),
        0,
        "followed past the bound"
    );

    // Two questions are the whole budget the 12-hop chain needs: the policy, the relay's A.
    let long = [pair("long.test", "192.0.2.42")];
    let run = audit(&srv, &long, &["--timeout", TIMEOUT, "--max-lookups", "2"]).await;
    assert_eq!(
        run.rows[&long[0]],
        row("nonrepudiated", "l0.test", "l0.test", "")
    );
    srv.stop().await;
}

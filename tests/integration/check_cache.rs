//! `repudiate check` and `--cache`, end to end through the built binary: against the
//! in-process DNS server (real UDP/TCP on 127.0.0.1, every query counted) and against
//! `--zone` fixtures.
//!
//! Why: the lookup tree is the tool's answer to "why this verdict?", so its names, types,
//! sources, counts and rule are asserted as a user would read them; and a cache is only
//! worth having if a rerun really sends no question already answered, asks expired ones
//! again, never keeps a failure, and never trusts a damaged file.

use crate::support::bin::{bin, output_beside_server, stderr};

use crate::support::dns_server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use dns_server::{Faults, TestDns};
use repudiate::dns::persist::{self, Entry};
use repudiate::dns::{Data, MxTarget, Outcome, QType};

const ZONE: &str = include_str!("../../fixtures/dns/verdicts.zone");
const DEMO_ZONE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo/what-if.zone");

async fn server(faults: Faults) -> TestDns {
    TestDns::start(&[("test.", ZONE)], faults).await
}

async fn repudiate(args: Vec<String>) -> Output {
    let mut cmd = bin();
    cmd.args(&args);
    output_beside_server(cmd).await.0
}

/// `check SENDER IP` against `srv` with a short timeout, plus `extra` flags.
fn check_args(srv: &TestDns, sender: &str, ip: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["check", sender, ip, "--nameserver"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(srv.addr.to_string());
    args.extend(["--timeout", "0.5", "--attempts", "1"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The rows of `check --format csv`, by column name.
fn rows(csv_text: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// `(step, parent, depth, name, type, outcome, source)` of each row.
fn steps(rows: &[HashMap<String, String>]) -> Vec<[String; 7]> {
    rows.iter()
        .map(|r| {
            [
                "step", "parent", "depth", "name", "type", "outcome", "source",
            ]
            .map(|c| r[c].clone())
        })
        .collect()
}

fn step(s: &str, p: &str, d: &str, name: &str, t: &str, o: &str, src: &str) -> [String; 7] {
    [s, p, d, name, t, o, src].map(String::from)
}

fn cache_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("dns.cache")
}

fn cache_text(path: &Path) -> String {
    std::fs::read_to_string(path).expect("the cache file was written")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_explains_delegation_then_answers_from_the_cache() {
    let srv = server(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let flags = ["--format", "csv", "--cache", cache.to_str().unwrap()];

    let first = rows(&stdout(
        &repudiate(check_args(&srv, "orders@chain.test", "192.0.2.40", &flags)).await,
    ));
    let expected = |src: &str| {
        vec![
            step("1", "", "0", "mail-from.chain.test", "MX", "found", src),
            step("2", "1", "0", "p1.chain.test", "A", "nodata", src),
            step("3", "2", "1", "mail-from.p1.chain.test", "MX", "found", src),
            step("4", "3", "1", "p2.chain.test", "A", "nodata", src),
            step("5", "4", "2", "mail-from.p2.chain.test", "MX", "found", src),
            step("6", "5", "2", "p3.chain.test", "A", "nodata", src),
            step("7", "6", "3", "mail-from.p3.chain.test", "MX", "found", src),
            step("8", "7", "3", "relay.p3.chain.test", "A", "found", src),
        ]
    };
    assert_eq!(steps(&first), expected("dns"));
    let r = &first[0];
    assert_eq!(
        [&r["domain"], &r["ip"], &r["verdict"], &r["matched"]],
        [
            "chain.test",
            "192.0.2.40",
            "nonrepudiated",
            "relay.p3.chain.test"
        ]
    );
    assert_eq!(r["rule"], "the client is an address of a permitted relay");
    assert_eq!(
        (r["lookups"].as_str(), r["max_lookups"].as_str()),
        ("8", "100")
    );
    assert_eq!(first[7]["data"], "192.0.2.40");
    assert_eq!(first[7]["ttl"], "300");
    assert_eq!(first[0]["data"], "10 p1.chain.test");
    // The eight questions of the tree, and SPF's TXT at chain.test (NODATA).
    assert_eq!(srv.queries(), 9, "one query per question");
    let kept = cache_text(&cache);
    assert!(
        has_row(&kept, "relay.p3.chain.test,A,found", "192.0.2.40"),
        "{kept}"
    );
    assert!(has_row(&kept, "chain.test,TXT,nodata", ""), "{kept}");
    assert!(kept.contains("\nend 9 fnv1a64:"), "{kept}");

    // Within the TTLs a rerun sends nothing: every answer is the cache's.
    srv.reset_counts();
    let second = rows(&stdout(
        &repudiate(check_args(&srv, "orders@chain.test", "192.0.2.40", &flags)).await,
    ));
    assert_eq!(steps(&second), expected("cache"));
    assert_eq!(second[0]["verdict"], "nonrepudiated");
    assert_eq!(srv.queries(), 0, "no query at the server");
    let ttl: u32 = second[7]["ttl"].parse().unwrap();
    assert!(
        (290..=300).contains(&ttl),
        "the time left, not the original TTL: {ttl}"
    );

    // The person's view of the same run: a tree indented by delegation, sources named.
    let text = stdout(
        &repudiate(check_args(
            &srv,
            "orders@chain.test",
            "192.0.2.40",
            &["--cache", cache.to_str().unwrap()],
        ))
        .await,
    );
    assert!(text.contains("\nverdict: nonrepudiated\n"), "{text}");
    assert!(
        text.contains("\nrule:    the client is an address of a permitted relay\n"),
        "{text}"
    );
    assert!(
        text.contains("\nlookups: 8 of at most 100 (--max-lookups)"),
        "{text}"
    );
    assert!(
        text.contains("\n#1 mail-from.chain.test MX: 10 p1.chain.test  (cache, ttl "),
        "{text}"
    );
    assert!(
        text.contains(
            "\n            #7 mail-from.p3.chain.test MX: 10 relay.p3.chain.test  (cache, ttl "
        ),
        "{text}"
    );
    assert!(
        text.contains("\n              #8 relay.p3.chain.test A: 192.0.2.40  (cache, ttl ")
            && text.contains(", depth 3)  <- 192.0.2.40 matches\n"),
        "{text}"
    );
    assert_eq!(srv.queries(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_answers_are_kept_with_the_negative_ttl() {
    let srv = server(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let flags = ["--format", "csv", "--cache", cache.to_str().unwrap()];
    let before = persist::unix_now();
    for domain in ["absent.test", "txtonly.test"] {
        let r = rows(&stdout(
            &repudiate(check_args(&srv, domain, "192.0.2.1", &flags)).await,
        ));
        assert_eq!(r[0]["verdict"], "no-policy");
    }
    let after = persist::unix_now();
    let entries = persist::load(&cache, before, 0).unwrap();
    let find = |name: &str| entries.iter().find(|e| e.name == name).cloned();
    let nx = find("mail-from.absent.test").expect("NXDOMAIN kept");
    let nodata = find("mail-from.txtonly.test").expect("NODATA kept");
    assert_eq!((nx.qtype, &nx.outcome), (QType::Mx, &Outcome::NxDomain));
    assert_eq!(nodata.outcome, Outcome::NoData);
    for e in [&nx, &nodata] {
        // the SOA's negative TTL (minimum 300), counted from when the answer came
        assert!(
            (before + 300..=after + 300).contains(&e.expires),
            "{e:?} not within [{}, {}]",
            before + 300,
            after + 300
        );
    }

    srv.reset_counts();
    for domain in ["absent.test", "txtonly.test"] {
        let r = rows(&stdout(
            &repudiate(check_args(&srv, domain, "192.0.2.1", &flags)).await,
        ));
        assert_eq!(
            (r[0]["verdict"].as_str(), r[0]["source"].as_str()),
            ("no-policy", "cache")
        );
    }
    assert_eq!(srv.queries(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_never_kept() {
    let srv = server(Faults::default().servfail_type("down.twofail.test", "A")).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let flags = ["--format", "csv", "--cache", cache.to_str().unwrap()];
    for run in ["first", "second"] {
        srv.reset_counts();
        let r = rows(&stdout(
            &repudiate(check_args(&srv, "twofail.test", "192.0.2.10", &flags)).await,
        ));
        let shown: Vec<(&str, &str, &str)> = r
            .iter()
            .map(|r| {
                (
                    r["name"].as_str(),
                    r["outcome"].as_str(),
                    r["source"].as_str(),
                )
            })
            .collect();
        let src = if run == "first" { "dns" } else { "cache" };
        assert_eq!(
            shown,
            [
                ("mail-from.twofail.test", "found", src),
                ("down.twofail.test", "error", "dns"),
                ("out.direct.test", "found", src),
            ],
            "{run} run"
        );
        assert_eq!(r[1]["data"], "SERVFAIL");
        assert_eq!(r[0]["verdict"], "nonrepudiated");
        // the failed question is asked again on every run, the rest only on the first
        assert_eq!(srv.queries_for("down.twofail.test", "A"), 1, "{run} run");
        // the first run also asks SPF's TXT at twofail.test (NODATA, kept)
        let expected_total = if run == "first" { 4 } else { 1 };
        assert_eq!(srv.queries(), expected_total, "{run} run");
        assert!(!cache_text(&cache).contains("\ndown.twofail.test,A,"));
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_entries_are_asked_again_and_valid_ones_are_believed() {
    let srv = server(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let now = persist::unix_now();
    // An expired policy for direct.test, and a still-valid one for alias.test that the
    // server contradicts: the first must be asked again, the second used as it is.
    let entries = [
        Entry {
            name: "mail-from.direct.test".into(),
            qtype: QType::Mx,
            outcome: Outcome::NxDomain,
            expires: now - 10,
            received: now - 310,
        },
        Entry {
            name: "mail-from.alias.test".into(),
            qtype: QType::Mx,
            outcome: Outcome::Found(Data::Mx(
                vec![MxTarget {
                    preference: 10,
                    exchange: "remembered.test".into(),
                }]
                .into(),
            )),
            expires: now + 600,
            received: now - 60,
        },
        Entry {
            name: "remembered.test".into(),
            qtype: QType::A,
            outcome: Outcome::Found(Data::Addrs(vec!["198.51.100.99".parse().unwrap()])),
            expires: now + 600,
            received: now - 60,
        },
    ];
    std::fs::write(&cache, persist::render(&entries)).unwrap();
    let flags = ["--format", "csv", "--cache", cache.to_str().unwrap()];

    let r = rows(&stdout(
        &repudiate(check_args(&srv, "direct.test", "192.0.2.10", &flags)).await,
    ));
    assert_eq!(
        (r[0]["verdict"].as_str(), r[0]["source"].as_str()),
        ("nonrepudiated", "dns")
    );
    assert_eq!(
        srv.queries_for("mail-from.direct.test", "MX"),
        1,
        "expired: asked again"
    );

    let r = rows(&stdout(
        &repudiate(check_args(&srv, "alias.test", "198.51.100.99", &flags)).await,
    ));
    assert_eq!(r[0]["verdict"], "nonrepudiated");
    assert_eq!(r[0]["matched"], "remembered.test");
    assert!(r.iter().all(|r| r["source"] == "cache"), "{r:?}");
    let ttl: u32 = r[0]["ttl"].parse().unwrap();
    assert!((590..=600).contains(&ttl), "{ttl}");
    assert_eq!(srv.queries_for("mail-from.alias.test", "MX"), 0);

    // Both runs rewrote the file: the fresh answer replaced the expired one, the valid
    // loaded entries were kept.
    let kept = cache_text(&cache);
    assert!(
        has_row(
            &kept,
            "mail-from.direct.test,MX,found",
            "10:out.direct.test"
        ),
        "{kept}"
    );
    assert!(
        has_row(&kept, "remembered.test,A,found", "198.51.100.99"),
        "{kept}"
    );
    srv.stop().await;
}

/// A cache written by the previous release (format 2, space-separated lines) is believed,
/// and the run writes it back as CSV (format 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_2_cache_is_read_and_rewritten_as_csv() {
    let srv = server(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let now = persist::unix_now();
    let mut v2 = format!(
        "repudiate-dns-cache 2\n\
         {e} {r} mail-from.alias.test MX found 10:remembered.test\n\
         {e} {r} remembered.test A found 198.51.100.99\n",
        e = now + 600,
        r = now - 60
    );
    // FNV-1a 64 of every byte before the end line, as format 2 wrote it.
    let sum = v2.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    v2.push_str(&format!("end 2 fnv1a64:{sum:016x}\n"));
    std::fs::write(&cache, v2).unwrap();
    let flags = ["--format", "csv", "--cache", cache.to_str().unwrap()];

    let out = repudiate(check_args(&srv, "alias.test", "198.51.100.99", &flags)).await;
    assert_eq!(stderr(&out), "", "a format 2 file is not an error");
    let r = rows(&stdout(&out));
    assert_eq!(r[0]["verdict"], "nonrepudiated");
    assert!(r.iter().all(|r| r["source"] == "cache"), "{r:?}");
    assert_eq!(srv.queries_for("mail-from.alias.test", "MX"), 0);

    let kept = cache_text(&cache);
    assert!(
        kept.starts_with(&format!("{}\n", persist::HEADER)),
        "{kept}"
    );
    assert!(
        has_row(&kept, "remembered.test,A,found", "198.51.100.99"),
        "{kept}"
    );
    srv.stop().await;
}

/// Records with a two-second TTL: the real expiry path, from the server's TTL to the file's
/// absolute time to the next run's decision to ask again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_ttl_expires_between_runs() {
    let short = "$ORIGIN short.\n$TTL 2\n@ SOA ns.short. h.short. 1 2 3 4 2\nMAIL-FROM.quick MX 10 out.quick.short.\nout.quick A 192.0.2.77\n";
    let srv = TestDns::start(&[("short.", short)], Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let flags = ["--format", "csv", "--cache", cache.to_str().unwrap()];
    let args = || check_args(&srv, "quick.short", "192.0.2.77", &flags);

    let r = rows(&stdout(&repudiate(args()).await));
    assert_eq!(
        (r[0]["verdict"].as_str(), r[0]["ttl"].as_str()),
        ("nonrepudiated", "2")
    );
    // MX, A, and SPF's TXT at quick.short (NODATA, negative TTL 2).
    assert_eq!(srv.queries(), 3);
    // Saved well within the two seconds (a run takes a fraction of one).
    let kept = cache_text(&cache);
    assert!(kept.contains("\nend 3 "), "{kept}");
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let r = rows(&stdout(&repudiate(args()).await));
    assert!(
        r.iter().all(|r| r["source"] == "dns"),
        "expired, so asked again: {r:?}"
    );
    assert_eq!(srv.queries(), 6);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_cache_file_is_reported_and_ignored_whole() {
    let srv = server(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let flags = ["--format", "csv", "--cache", cache.to_str().unwrap()];
    stdout(&repudiate(check_args(&srv, "direct.test", "192.0.2.10", &flags)).await);
    let good = cache_text(&cache);
    assert_eq!(
        good.lines().count(),
        5,
        "header, three entries (SPF's TXT at direct.test too), end: {good}"
    );

    // Cut inside the last entry: its first entry is intact but must not be trusted either.
    let cut = good.rfind(",found").unwrap();
    std::fs::write(&cache, &good[..cut]).unwrap();
    srv.reset_counts();
    let out = repudiate(check_args(&srv, "direct.test", "192.0.2.10", &flags)).await;
    let r = rows(&stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("--cache {} line 4: truncated", cache.display())),
        "{err}"
    );
    assert!(r.iter().all(|r| r["source"] == "dns"), "{r:?}");
    assert_eq!(srv.queries(), 3);
    assert_eq!(cache_text(&cache).lines().count(), 5, "rewritten whole");

    // A changed byte behind an intact end line.
    let damaged = cache_text(&cache).replacen("192.0.2.10", "192.0.2.11", 1);
    std::fs::write(&cache, damaged).unwrap();
    let out = repudiate(check_args(&srv, "direct.test", "192.0.2.10", &flags)).await;
    assert_eq!(
        rows(&stdout(&out))[0]["verdict"],
        "nonrepudiated",
        "not the damaged address"
    );
    assert!(
        stderr(&out).contains("line 5: checksum mismatch"),
        "{}",
        stderr(&out)
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_answers_are_not_written_to_the_cache() {
    let srv = server(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let zone = dir.path().join("what-if.zone");
    std::fs::write(
        &zone,
        "$ORIGIN example.\n$TTL 600\nMAIL-FROM.whatif MX 10 out.direct.test.\n",
    )
    .unwrap();
    let flags = [
        "--format",
        "csv",
        "--cache",
        cache.to_str().unwrap(),
        "--zone",
        zone.to_str().unwrap(),
    ];
    for expected in ["dns", "cache"] {
        let r = rows(&stdout(
            &repudiate(check_args(&srv, "whatif.example", "192.0.2.10", &flags)).await,
        ));
        let shown: Vec<(&str, &str)> = r
            .iter()
            .map(|r| (r["name"].as_str(), r["source"].as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("mail-from.whatif.example", "zone"),
                ("out.direct.test", expected)
            ]
        );
    }
    let kept = cache_text(&cache);
    assert!(!kept.contains("whatif"), "{kept}");
    assert!(
        has_row(&kept, "out.direct.test,A,found", "192.0.2.10"),
        "{kept}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_rerun_with_the_cache_sends_no_query() {
    let srv = server(Faults::default().servfail("mail-from.sf.test")).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_path(&dir);
    let mbox = dir.path().join("mail.mbox");
    let msg = |from: &str, client: &str, n: u32| {
        format!(
            "From {from} Tue Jun  4 10:00:00 2024\n\
             Return-Path: <{from}>\n\
             Received: from x (x [{client}]) by mx.test (Postfix) with ESMTP id {n}; Tue, 4 Jun 2024 10:00:00 +0000\n\
             \n\
             Hello.\n\
             \n"
        )
    };
    let text = [
        msg("a@chain.test", "192.0.2.40", 1),
        msg("b@direct.test", "203.0.113.66", 2),
        msg("c@absent.test", "198.51.100.3", 3),
        msg("d@sf.test", "192.0.2.10", 4),
    ]
    .concat();
    std::fs::write(&mbox, text).unwrap();
    let args: Vec<String> = [
        "audit",
        mbox.to_str().unwrap(),
        "--nameserver",
        &srv.addr.to_string(),
        "--timeout",
        "0.5",
        "--attempts",
        "1",
        "--cache",
        cache.to_str().unwrap(),
        "-q",
        // One domain of four fails on purpose: a tempfail share that is the test's point.
        "--max-tempfail",
        "100",
    ]
    .map(String::from)
    .to_vec();

    let first = stdout(&repudiate(args.clone()).await);
    let asked = srv.queries();
    assert!(asked >= 11, "{asked}");
    srv.reset_counts();
    let second = stdout(&repudiate(args).await);
    assert_eq!(second, first, "the same report from the cache");
    assert_eq!(
        srv.queries(),
        1,
        "only the SERVFAIL question is asked again"
    );
    assert_eq!(srv.queries_for("mail-from.sf.test", "MX"), 1);
    srv.stop().await;
}

#[tokio::test]
async fn check_against_zone_fixtures_offline() {
    let out = repudiate(
        [
            "check",
            "someone@customer.example",
            "192.0.2.80",
            "--zone",
            DEMO_ZONE,
            "--offline",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    let text = stdout(&out);
    let expected = "\
domain:  customer.example
client:  192.0.2.80
verdict: nonrepudiated
matched: bigmail.example
relays:  bigmail.example
rule:    the client is an address of a permitted relay
lookups: 2 of at most 100 (--max-lookups); delegation up to 10 levels (--max-depth)

#1 mail-from.customer.example MX: 0 bigmail.example  (zone file, ttl 3600, depth 0)
  #2 bigmail.example A: 192.0.2.80  (zone file, ttl 3600, depth 0)  <- 192.0.2.80 matches

spf:     fail (decided by -all at customer.example)
checked: someone@customer.example; HELO unknown
limits:  1 of 10 DNS-querying terms, 0 of 2 void lookups (RFC 7208, fixed)

  customer.example TXT: \"v=spf1 include:_spf.bigmail.example -all\"  (zone file, ttl 3600)
  record at customer.example: v=spf1 include:_spf.bigmail.example -all
    include:_spf.bigmail.example
      _spf.bigmail.example TXT: \"v=spf1 ip4:192.0.2.21 ip4:192.0.2.22 ip6:2001:db8:2::/48 ~all\"  (zone file, ttl 3600)
      record at _spf.bigmail.example: v=spf1 ip4:192.0.2.21 ip4:192.0.2.22 ip6:2001:db8:2::/48 ~all
        ip4:192.0.2.21
        ip4:192.0.2.22
        ip6:2001:db8:2::/48
        ~all
          => ~all matches: softfail
      => include:_spf.bigmail.example: softfail, not a match
    -all
      => -all matches: fail
";
    // 192.0.2.80 is the provider's web server: the MAIL-FROM check delegates to the
    // provider's apex and finds it; SPF's include lists only the relays, so it fails.
    assert_eq!(text, expected);

    // Delegation off: the provider's relays are never asked, and its own address is the
    // only permitted one.
    let out = repudiate(
        [
            "check",
            "customer.example",
            "192.0.2.22",
            "--zone",
            DEMO_ZONE,
            "--offline",
            "--max-depth",
            "0",
            "--format",
            "csv",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    let r = rows(&stdout(&out));
    assert_eq!(
        steps(&r),
        [
            step(
                "1",
                "",
                "0",
                "mail-from.customer.example",
                "MX",
                "found",
                "zone"
            ),
            step("2", "1", "0", "bigmail.example", "A", "found", "zone"),
        ]
    );
    assert_eq!(r[0]["verdict"], "repudiated");
    assert_eq!(r[0]["rule"], "no permitted relay has the client's address");

    // A relay outside the zones, offline: the question is shown as not asked; the default
    // budget gives tempfail, a budget of two questions runs out before MAIL-FROM.<relay>.
    let flaky = |limit: &str| {
        [
            "check",
            "flaky.example",
            "192.0.2.1",
            "--zone",
            DEMO_ZONE,
            "--offline",
            "--max-lookups",
            limit,
        ]
        .map(String::from)
        .to_vec()
    };
    let text = stdout(&repudiate(flaky("100")).await);
    assert!(text.contains("\nverdict: tempfail\n"), "{text}");
    assert!(
        text.contains(
            "\nreason:  relay.flaky.test A: offline; mail-from.relay.flaky.test MX: offline\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "\n    #3 mail-from.relay.flaky.test MX: error: offline  (not asked, depth 1)\n"
        ),
        "{text}"
    );
    let text = stdout(&repudiate(flaky("2")).await);
    assert!(text.contains("\nverdict: permerror\n"), "{text}");
    assert!(
        text.contains("\nrule:    a lookup limit was reached before a match\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  #2 relay.flaky.test A: error: offline  (not asked, depth 0)\n"),
        "{text}"
    );
    assert!(
        text.contains("\nlookups: 2 of at most 2 (--max-lookups)"),
        "{text}"
    );

    let out = repudiate(
        ["check", "<>", "192.0.2.1", "--offline"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    let text = stdout(&out);
    assert!(text.contains("\nverdict: null-sender\n"), "{text}");
    assert!(
        text.contains("\nrule:    the null sender (MAIL FROM:<>, a bounce) is not evaluated\n"),
        "{text}"
    );
}

#[tokio::test]
async fn check_rejects_a_bad_ip_with_exit_1() {
    let out = repudiate(
        ["check", "user@example.org", "192.0.2.300", "--offline"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("\"192.0.2.300\" is not an IPv4 or IPv6 address"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

/// Whether the cache text has a row for `key` (`NAME,TYPE,OUTCOME`) whose data is `data`:
/// the expiry and receipt times between them change from run to run.
fn has_row(kept: &str, key: &str, data: &str) -> bool {
    kept.lines().any(|l| {
        l.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(','))
            .is_some_and(|rest| rest.ends_with(&format!(",{data}")))
    })
}

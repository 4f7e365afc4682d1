//! One settings file for the nightly job (issue 13), through the built binary: every audit
//! setting read from `--config` (zone files, offline, cache, cache age, what to count,
//! limits) gives the run the same flags would; `scan` resolves a perimeter host name once
//! through the file's nameservers; `--cache-max-age` lets last night's answers serve tonight
//! after their TTL ran out, and the DNS table says how many did; limits that mean nothing
//! are refused with the reason; a pairs file saved by a spreadsheet (byte-order mark, CRLF)
//! is read. DNS traffic goes to the in-process server on 127.0.0.1 only.

use crate::support::bin::{bin, output_beside_server};

use crate::support::dns_server;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use dns_server::{Faults, TestDns};

fn demo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/demo")
        .join(file)
}

async fn run(args: Vec<String>) -> Output {
    let mut cmd = bin();
    cmd.args(&args);
    output_beside_server(cmd).await.0
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs and insists on exit 0, returning standard output and standard error.
async fn ok(a: Vec<String>) -> (String, String) {
    let o = run(a).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    (text(&o.stdout), text(&o.stderr))
}

/// The line of `table` whose words start with `first`, squeezed to single spaces.
fn line(table: &str, first: &str) -> String {
    table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|l| l.starts_with(first))
        .unwrap_or_else(|| panic!("no line {first:?} in\n{table}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_run_from_a_config_file_alone_matches_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(demo("what-if.zone"), dir.path().join("what-if.zone")).unwrap();
    let config = dir.path().join("nightly.toml");
    // The demo's command line (fixtures/demo/cmd) as a file, zone path relative to it.
    std::fs::write(
        &config,
        "perimeter = [\"198.51.100.0/28\"]\nzones = [\"what-if.zone\"]\noffline = true\n",
    )
    .unwrap();
    let mbox = demo("mail.mbox").display().to_string();
    let log = demo("maillog").display().to_string();
    let (from_file, _) = ok(args(&[
        "audit",
        &mbox,
        &log,
        "--config",
        config.to_str().unwrap(),
        "-q",
    ]))
    .await;
    let zone = demo("what-if.zone").display().to_string();
    let (from_flags, _) = ok(args(&[
        "audit",
        &mbox,
        &log,
        "--zone",
        &zone,
        "--offline",
        "--perimeter",
        "198.51.100.0/28",
        "-q",
    ]))
    .await;
    assert_eq!(from_file, from_flags);
    let expected = std::fs::read_to_string(demo("expected.csv")).unwrap();
    assert_eq!(from_file, expected, "and both are the demo's golden report");

    // Switches in the file: rejected attempts counted, the null sender judged by HELO.
    std::fs::write(
        &config,
        "perimeter = [\"198.51.100.0/28\"]\nzones = [\"what-if.zone\"]\noffline = true\n\
         include_rejected = true\n",
    )
    .unwrap();
    let (with_rejected, _) = ok(args(&[
        "audit",
        &log,
        "--config",
        config.to_str().unwrap(),
        "-q",
    ]))
    .await;
    assert!(
        with_rejected.contains("nomail.example,203.0.113.99,1,repudiated"),
        "the NOQUEUE reject line counts: {with_rejected}"
    );
}

const ZONE: &str = "$ORIGIN test.\n$TTL 1\n\
    @ IN SOA ns1.test. hostmaster.test. ( 1 3600 600 86400 1 )\n\
    @ IN NS ns1.test.\nns1 IN A 127.0.0.1\n\
    border IN A 203.0.113.66\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_resolves_a_perimeter_host_name_once_through_the_files_nameservers() {
    let server = TestDns::start(&[("test.", ZONE)], Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scan.toml");
    std::fs::write(
        &config,
        format!(
            "perimeter = [\"border.test\"]\nnameservers = [\"{}\"]\n",
            server.addr
        ),
    )
    .unwrap();
    let log = demo("maillog").display().to_string();
    let (plain, _) = ok(args(&["scan", &log, "-q"])).await;
    assert!(plain.contains("shop.example,203.0.113.66,1"), "{plain}");
    assert_eq!(server.queries(), 0, "no perimeter name, no DNS");

    let (bordered, err) = ok(args(&["scan", &log, "--config", config.to_str().unwrap()])).await;
    assert!(
        !bordered.contains("203.0.113.66"),
        "the border host's client is internal now: {bordered}"
    );
    assert_eq!(line(&err, "internal"), "internal 2", "{err}");
    assert_eq!(server.queries_for("border.test", "A"), 1);
    assert_eq!(server.queries(), 2, "its A and AAAA, nothing else");

    // A name that does not resolve is fatal, named with its flag.
    std::fs::write(
        &config,
        format!(
            "perimeter = [\"nowhere.test\"]\nnameservers = [\"{}\"]\n",
            server.addr
        ),
    )
    .unwrap();
    let o = run(args(&["scan", &log, "--config", config.to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--perimeter nowhere.test"),
        "{}",
        text(&o.stderr)
    );
    server.stop().await;
}

const POLICY_ZONE: &str = "$ORIGIN test.\n$TTL 1\n\
    @ IN SOA ns1.test. hostmaster.test. ( 1 3600 600 86400 1 )\n\
    @ IN NS ns1.test.\nns1 IN A 127.0.0.1\n\
    MAIL-FROM.shop IN MX 10 out.shop.test.\nout.shop IN A 192.0.2.10\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_max_age_lets_last_nights_answers_serve_after_their_ttl() {
    let server = TestDns::start(&[("test.", POLICY_ZONE)], Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.csv");
    std::fs::write(
        &pairs,
        "domain,ip,messages\nshop.test,192.0.2.10,3\nshop.test,203.0.113.5,1\n",
    )
    .unwrap();
    let cache = dir.path().join("dns.cache");
    let config = dir.path().join("nightly.toml");
    std::fs::write(
        &config,
        format!(
            "nameservers = [\"{}\"]\ncache = \"dns.cache\"\n[limits]\ntimeout = 0.5\n\
             cache_max_age = \"1h\"\n",
            server.addr
        ),
    )
    .unwrap();
    let night = args(&[
        "audit",
        pairs.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    let (first, err) = ok(night.clone()).await;
    assert!(cache.exists());
    // The policy, its relay's address, the relay's own MAIL-FROM (no such name) and the
    // domain's SPF record (none).
    let asked = server.queries();
    assert_eq!(asked, 4);
    assert!(
        line(&err, "sent to a server").starts_with(&format!("sent to a server {asked} ")),
        "{err}"
    );
    assert_eq!(
        line(&err, "answered by the --cache"),
        "answered by the --cache file 0"
    );

    // Every TTL (1 s) has run out; the answers are still younger than an hour.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    server.reset_counts();
    let (second, err) = ok(night.clone()).await;
    assert_eq!(second, first, "the same report");
    assert_eq!(server.queries(), 0, "nothing asked again: {err}");
    assert_eq!(
        line(&err, "answered by the --cache"),
        format!("answered by the --cache file {asked}")
    );
    assert!(
        line(&err, "sent to a server").starts_with("sent to a server 0 "),
        "{err}"
    );

    // The flag wins over the file: with 0, answers live by their TTL and are asked again.
    let (third, _) = ok([night, args(&["--cache-max-age", "0"])].concat()).await;
    assert_eq!(third, first);
    assert_eq!(server.queries(), asked);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meaningless_limits_are_refused_with_the_reason() {
    let log = demo("maillog").display().to_string();
    for (flag, value, reason) in [
        ("--max-lookups", "0", "every evaluation asks one question"),
        ("--concurrency", "0", "none is asked"),
        ("--attempts", "0", "no question is asked"),
        ("--jobs", "0", "one thread to read"),
        ("--max-tempfail", "150", "from 0 to 100"),
        ("--cache-max-age", "forever", "a duration such as 36h"),
    ] {
        let o = run(args(&["audit", &log, "--offline", flag, value])).await;
        assert_eq!(o.status.code(), Some(1), "{flag} {value}");
        let err = text(&o.stderr);
        assert!(
            err.contains(flag) && err.contains(reason),
            "{flag} {value}: {err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[limits]\nmax_lookups = 0\n").unwrap();
    let o = run(args(&[
        "audit",
        &log,
        "--offline",
        "--config",
        config.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("every evaluation asks one question"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pairs_file_saved_by_a_spreadsheet_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("from-excel.csv");
    std::fs::write(
        &pairs,
        b"\xEF\xBB\xBFdomain,ip,messages\r\nshop.example,203.0.113.66,4\r\n",
    )
    .unwrap();
    let zone = demo("what-if.zone").display().to_string();
    let (out, _) = ok(args(&[
        "audit",
        pairs.to_str().unwrap(),
        "--zone",
        &zone,
        "--offline",
        "-q",
    ]))
    .await;
    assert_eq!(
        out,
        "domain,ip,messages,verdict,matched,relays,reason,authenticated,spf\n\
         shop.example,203.0.113.66,4,repudiated,,out.shop.example,,,fail\n"
    );
}

//! The smaller limits of issue 14, through the built binary: `--jobs` beyond reason is
//! refused at once, `--eval-timeout` holds when every answer comes from a zone file, `check
//! --format csv` gives a long relay list once, and a file name cannot forge a line of its own
//! on standard error.

use crate::support::bin::{bin, stderr};

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

fn demo_mbox() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/mail.mbox")
}

#[test]
fn jobs_beyond_the_limit_are_refused_with_a_reason_and_the_limit_starts_fast() {
    let o = bin()
        .args(["scan", "-q", "--jobs", "10000"])
        .arg(demo_mbox())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--jobs 10000 is more than 256"),
        "{}",
        stderr(&o)
    );
    let started = Instant::now();
    let o = bin()
        .args(["scan", "-q", "--jobs", "256"])
        .arg(demo_mbox())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// A what-if zone: `big.q.test` lists `n` relays, each of which delegates to a relay of its
/// own, none of them the client.
fn big_zone(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut z = String::from(
        "$ORIGIN q.test.\n$TTL 300\n@ IN SOA ns.q.test. h.q.test. 1 3600 600 86400 300\n",
    );
    for i in 0..n {
        let (hi, lo) = (i / 256, i % 256);
        writeln!(z, "MAIL-FROM.big IN MX {} r{i}.q.test.", i % 50).unwrap();
        writeln!(z, "r{i} IN A 10.0.{hi}.{lo}").unwrap();
        writeln!(z, "MAIL-FROM.r{i} IN MX 10 s{i}.q.test.").unwrap();
        writeln!(z, "s{i} IN A 10.1.{hi}.{lo}").unwrap();
    }
    let path = dir.join("big.zone");
    fs::write(&path, z).unwrap();
    path
}

fn check(zone: &Path, extra: &[&str]) -> Output {
    let o = bin()
        .args(["check", "x@big.q.test", "192.0.2.1", "--offline", "--zone"])
        .arg(zone)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

#[test]
fn the_evaluation_deadline_holds_when_answers_come_from_zone_files() {
    let tmp = tempfile::tempdir().unwrap();
    let zone = big_zone(tmp.path(), 3000);
    // Without a deadline in reach, the 12,001 questions end in the true verdict.
    let o = check(&zone, &["--max-lookups", "20000", "--format", "csv"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines().nth(1).unwrap().contains(",repudiated,"),
        "{text:.300}"
    );
    // Every answer is ready at once, so only a deadline checked between questions can cut
    // the evaluation off; 1 ms is far less than 12,001 questions take.
    let o = check(
        &zone,
        &["--max-lookups", "20000", "--eval-timeout", "0.001"],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("verdict: tempfail"), "{text:.600}");
    assert!(
        text.contains("evaluation deadline of 1ms passed"),
        "{text:.600}"
    );
    // The rule names the limit by its flag (spelled by the command layer).
    assert!(
        text.contains("\nrule:    the per-evaluation deadline (--eval-timeout) passed\n"),
        "{text:.600}"
    );
}

#[test]
fn check_csv_gives_the_relay_list_once() {
    let tmp = tempfile::tempdir().unwrap();
    let zone = big_zone(tmp.path(), 300);
    let o = check(&zone, &["--max-lookups", "2000", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(o.stdout.as_slice());
    let relays = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "relays")
        .unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1 + 2 * 300 * 2, "one row per question");
    assert_eq!(
        rows[0][relays].split(';').count(),
        600,
        "every relay, on the first row"
    );
    assert!(
        rows[1..].iter().all(|r| r[relays].is_empty()),
        "the list is not repeated"
    );
    assert!(rows.iter().all(|r| &r[2] == "repudiated"), "the verdict is");
}

#[test]
fn a_newline_in_a_file_name_cannot_forge_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let forged = "x\nrepudiate: all 12 inputs read, nothing repudiated\n.log";
    fs::write(tmp.path().join(forged), "not mail\n").unwrap();
    let o = bin()
        .args(["scan", "-q"])
        .arg(tmp.path().join(forged))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for line in err.lines() {
        assert!(
            line.starts_with("repudiate: "),
            "a line of its own: {line:?}"
        );
        assert!(!line.starts_with("repudiate: all 12"), "forged: {err}");
    }
    assert!(
        err.contains("x\\nrepudiate: all 12 inputs read, nothing repudiated\\n.log"),
        "{err}"
    );
}

//! The cron contract through the binary: `--summary`/`--history`/`--html` files,
//! `--fail-above` (exit 3), `--config` (flags win, unknown keys fail), the output lock
//! between overlapping runs, and pair files from several hosts merged in one audit.

use crate::support::bin::{bin, demo, stderr};

use std::fs::{self, File};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// The demo audit (offline, what-if zone) with extra arguments.
fn audit(extra: &[&str]) -> Output {
    bin()
        .args([
            "audit",
            "mail.mbox",
            "maillog",
            "--zone",
            "what-if.zone",
            "--offline",
            "--perimeter",
            "198.51.100.0/28",
        ])
        .args(extra)
        .current_dir(demo())
        .output()
        .unwrap()
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn history_gets_its_header_once_and_a_row_per_run() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history.csv");
    let first = audit(&["-q", "--history", arg(&history)]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let second = audit(&["-q", "--history", arg(&history)]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));

    let text = fs::read_to_string(&history).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0],
        "run_at,inputs,messages,nonrepudiated,repudiated,no_policy,tempfail,permerror,null_sender,unknown,skipped,repudiated_pct,\
         spf_pass,spf_fail,spf_softfail,spf_neutral,spf_none,spf_temperror,spf_permerror,\
         period_first,period_last,undated"
    );
    // The demo as fixtures/demo/expected.csv states it: 18 messages from 2 inputs, 9 nonrepudiated,
    // 4 repudiated, one each of the other five verdicts, 5 skipped records; 4/18 = 22.22 %.
    // SPF (the 16 messages of evaluated pairs): 8 pass (shop's relay 5, customer's 3), 4 fail
    // (shop forged 2, nomail, nopolicy), 2 none (the loops), flaky temperror, fanout permerror.
    let expected_tail = "2,18,9,4,1,1,1,1,1,5,22.22,8,4,0,0,2,1,1";
    let mut stamps = Vec::new();
    for row in &lines[1..] {
        let (run_at, tail) = row.split_once(',').unwrap();
        let (tail, period) = tail.split_at(expected_tail.len());
        assert_eq!(tail, expected_tail);
        // The mbox's first `From ` date, then the maillog's last line, whose year comes from
        // the file's time (a checkout's, so only the day is known here); nothing undated.
        let period: Vec<&str> = period.split(',').collect();
        assert_eq!(period[..2], ["", "2024-06-04T10:00:00Z"], "{row}");
        assert!(period[2].ends_with("-06-04T10:06:00Z"), "{row}");
        assert_eq!(period[3], "0", "{row}");
        assert!(
            run_at.len() == 20 && run_at.ends_with('Z') && run_at.as_bytes()[10] == b'T',
            "RFC 3339 UTC: {run_at}"
        );
        stamps.push(run_at.to_string());
    }
    assert!(stamps[0] <= stamps[1], "{stamps:?}");
}

#[test]
fn fail_above_exits_3_only_when_the_share_is_exceeded_and_says_so_under_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history.csv");
    // the demo: 4 of 18 messages repudiated, 22.22 %
    let over = audit(&["-q", "--fail-above", "22.2", "--history", arg(&history)]);
    assert_eq!(over.status.code(), Some(3), "{}", stderr(&over));
    assert!(
        stderr(&over).contains("22.22 % of messages would be repudiated, above --fail-above 22.2"),
        "{}",
        stderr(&over)
    );
    assert!(!over.stdout.is_empty(), "the report is still written");
    assert_eq!(
        fs::read_to_string(&history).unwrap().lines().count(),
        2,
        "and the history row"
    );
    let under = audit(&["-q", "--fail-above", "22.3"]);
    assert_eq!(under.status.code(), Some(0), "{}", stderr(&under));
    assert!(under.stderr.is_empty());
    // a failed input and an exceeded share: the alert wins, the input is still named
    let both = audit(&["-q", "--fail-above", "1", "missing.log"]);
    assert_eq!(both.status.code(), Some(3));
    assert!(stderr(&both).contains("missing.log"), "{}", stderr(&both));
    for bad in ["-1", "101", "NaN"] {
        let o = audit(&["-q", "--fail-above", bad]);
        assert_eq!(o.status.code(), Some(1), "--fail-above {bad}");
    }
}

#[test]
fn every_output_is_renamed_into_place_and_the_table_lists_the_worst() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    let o = audit(&[
        "-o",
        arg(&p("pairs.csv")),
        "--summary",
        arg(&p("domains.csv")),
        "--html",
        arg(&p("report.html")),
        "--history",
        arg(&p("history.csv")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".domains.csv.lock",
            ".history.csv.lock",
            ".pairs.csv.lock",
            ".report.html.lock",
            "domains.csv",
            "history.csv",
            "pairs.csv",
            "report.html"
        ],
        "no temporary file left"
    );
    let err = stderr(&o);
    let squeezed = |first: &str| {
        err.lines()
            .find(|l| l.split_whitespace().next() == Some(first))
            .unwrap_or_else(|| panic!("{first} missing from\n{err}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(squeezed("shop.example"), "shop.example 2 of 7 28.6% 1");
    assert_eq!(squeezed("203.0.113.66"), "203.0.113.66 2 of 2 100.0% 1");
    assert!(
        err.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")
                == "sender domain repudiated messages % client IPs"),
        "the ranking has column headers: {err}"
    );
    // Offline, nothing is sent; the time is the run's own (milliseconds, under a second).
    let sent = squeezed("sent");
    assert!(
        sent.starts_with("sent to a server 0 0.0/s over ") && sent.ends_with(" ms"),
        "{sent}"
    );
    assert!(!err.contains("cache hits"), "{err}");
    assert!(
        squeezed("repudiated").starts_with("repudiated 4 22.2%"),
        "{err}"
    );

    let html = fs::read_to_string(p("report.html")).unwrap();
    assert!(html.contains("<td class=\"name\">shop.example</td>"));
    assert!(html.contains("<svg"));
}

#[test]
fn html_escapes_what_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    // an input whose name is markup; file names come from anywhere
    let hostile = tmp.path().join("<b>x<b>&\"'.mbox");
    fs::copy(demo().join("mail.mbox"), &hostile).unwrap();
    let html_path = tmp.path().join("r.html");
    let o = bin()
        .args([
            "audit",
            "--offline",
            "--zone",
            "what-if.zone",
            "-q",
            "--html",
        ])
        .arg(&html_path)
        .arg(&hostile)
        .current_dir(demo())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = fs::read_to_string(html_path).unwrap();
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&lt;b&gt;x&lt;b&gt;&amp;&quot;&#39;.mbox"),
        "{html}"
    );
}

#[test]
fn two_outputs_naming_one_file_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let same = tmp.path().join("same.csv");
    let o = audit(&["-o", arg(&same), "--summary", arg(&same)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--output and --summary name the same file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_overlapping_run_waits_for_the_lock_then_gives_up_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history.csv");
    // this test plays the first run: it holds the history's lock
    let held = File::create(tmp.path().join(".history.csv.lock")).unwrap();
    held.lock().unwrap();
    let started = Instant::now();
    let blocked = audit(&["-q", "--history", arg(&history), "--lock-wait", "0.5"]);
    assert!(started.elapsed() >= Duration::from_millis(500), "it waited");
    assert_eq!(blocked.status.code(), Some(1));
    let err = stderr(&blocked);
    assert!(
        err.contains("another repudiate run is writing")
            && err.contains("history.csv")
            && err.contains("(--lock-wait)"),
        "{err}"
    );
    assert!(blocked.stdout.is_empty(), "nothing was done");
    assert!(!history.exists(), "no row appended");

    // released while the second run waits: it goes on and appends
    let waiter = std::thread::spawn({
        let history = history.clone();
        move || audit(&["-q", "--history", arg(&history), "--lock-wait", "30"])
    });
    std::thread::sleep(Duration::from_millis(300));
    drop(held);
    let after = waiter.join().unwrap();
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert_eq!(fs::read_to_string(&history).unwrap().lines().count(), 2);
}

#[test]
fn config_file_sets_outputs_and_limits_and_flags_win() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("repudiate.toml");
    fs::write(
        &cfg,
        "perimeter = [\"198.51.100.0/28\"]\n\
         [limits]\nfail_above = 50\nmax_lookups = 1000\n\
         [outputs]\npairs = \"out/pairs.csv\"\nsummary = \"out/domains.csv\"\nhistory = \"out/history.csv\"\n",
    )
    .unwrap();
    fs::create_dir(tmp.path().join("out")).unwrap();
    let run = |extra: &[&str]| {
        bin()
            .args(["audit", "mail.mbox", "maillog", "--zone", "what-if.zone"])
            .args(["--offline", "-q", "--config", arg(&cfg)])
            .args(extra)
            .current_dir(demo())
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "pairs went to the file");
    let pairs = fs::read_to_string(tmp.path().join("out/pairs.csv")).unwrap();
    let expected = fs::read_to_string(demo().join("expected.csv")).unwrap();
    // the file's perimeter applied: every row but the fan-out is the demo's
    let others = |csv: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| !l.starts_with("fanout.example,"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(others(&pairs), others(&expected));
    // limits.max_lookups = 1000: the fan-out is judged, no longer permerror
    let fanout = pairs
        .lines()
        .find(|l| l.starts_with("fanout.example,"))
        .unwrap();
    assert_eq!(fanout.split(',').nth(3), Some("repudiated"), "{fanout}");
    assert!(tmp.path().join("out/domains.csv").is_file());
    assert_eq!(
        fs::read_to_string(tmp.path().join("out/history.csv"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    // flags win: --fail-above on the command line over the file's 50
    let flagged = run(&["--fail-above", "5"]);
    assert_eq!(flagged.status.code(), Some(3), "{}", stderr(&flagged));
    // and -o over [outputs] pairs
    let moved = tmp.path().join("elsewhere.csv");
    let o = run(&["-o", arg(&moved)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(moved.is_file());
    // --perimeter on the command line replaces the file's list: the border relays'
    // 198.51.100.x hops are clients again
    assert!(!pairs.contains("198.51.100."));
    let o = run(&["--perimeter", "192.0.2.250", "-o", arg(&moved)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fs::read_to_string(&moved).unwrap().contains("198.51.100."));
}

#[test]
fn config_unknown_keys_and_bad_values_are_fatal_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("perimeters = [\"192.0.2.1\"]\n", "perimeters"),
        ("[limits]\nmax_dept = 3\n", "max_dept"),
        ("[outputs]\nsumary = \"x.csv\"\n", "sumary"),
        ("perimeter = [\"not a host!\"]\n", "not a host!"),
        ("[limits]\nconcurrency = 0\n", "--concurrency"),
    ];
    for (text, named) in cases {
        let cfg = tmp.path().join("bad.toml");
        fs::write(&cfg, text).unwrap();
        let o = bin()
            .args(["audit", "mail.mbox", "--offline", "--config", arg(&cfg)])
            .current_dir(demo())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{text}");
        let err = stderr(&o);
        assert!(err.contains(named), "{text}: {err}");
        assert!(o.stdout.is_empty(), "{text}: nothing ran");
    }
}

#[test]
fn pair_files_from_three_hosts_add_up_in_one_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let host = |n: &str| tmp.path().join(format!("{n}.csv"));
    // three "hosts": the mbox, the log, and the mbox again (a second server that saw the
    // same senders), each scanned where it lives
    for (name, input) in [
        ("mx1", "mail.mbox"),
        ("mx2", "maillog"),
        ("mx3", "mail.mbox"),
    ] {
        let s = bin()
            .args(["scan", input, "--perimeter", "198.51.100.0/28", "-q", "-o"])
            .arg(host(name))
            .current_dir(demo())
            .status()
            .unwrap();
        assert!(s.success());
    }
    let scanned = |name: &str| -> std::collections::HashMap<(String, String), u64> {
        let mut r = csv::Reader::from_path(host(name)).unwrap();
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                (
                    (rec[0].to_string(), rec[1].to_string()),
                    rec[2].parse().unwrap(),
                )
            })
            .collect()
    };
    let mut expected: std::collections::HashMap<(String, String), u64> = Default::default();
    for name in ["mx1", "mx2", "mx3"] {
        for (k, n) in scanned(name) {
            *expected.entry(k).or_insert(0) += n;
        }
    }
    let summary = tmp.path().join("domains.csv");
    let merged = bin()
        .args([
            "audit",
            "--zone",
            "what-if.zone",
            "--offline",
            "-q",
            "--summary",
        ])
        .arg(&summary)
        .args([host("mx1"), host("mx2"), host("mx3")])
        .current_dir(demo())
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    let mut got: std::collections::HashMap<(String, String), u64> = Default::default();
    let mut r = csv::Reader::from_reader(&merged.stdout[..]);
    for rec in r.records() {
        let rec = rec.unwrap();
        let key = (rec[0].to_string(), rec[1].to_string());
        assert!(
            got.insert(key, rec[2].parse().unwrap()).is_none(),
            "one row per pair"
        );
    }
    assert_eq!(
        got, expected,
        "every pair's count is the sum over the hosts"
    );
    // and the per-domain summary adds up to the same total
    let total: u64 = expected.values().sum();
    let mut r = csv::Reader::from_path(&summary).unwrap();
    let summed: u64 = r
        .records()
        .map(|rec| rec.unwrap()[1].parse::<u64>().unwrap())
        .sum();
    assert_eq!(summed, total);
    assert!(total > 18, "three hosts, more than the demo's 18: {total}");
}

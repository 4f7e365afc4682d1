//! `-` as an output names standard output (issue: `-o -` used to write a file called `-`):
//! `-o -` is the same as no `-o`, a report named `-` goes to standard output when the pairs
//! go to a file, and two outputs that would share standard output are refused before any
//! input is read. Through the built binary, in a scratch folder that must stay empty of `-`.

use std::path::Path;
use std::process::Output;

use crate::support::bin::{bin, demo, stderr, stdout};

/// The demo audit (offline, its what-if zone) or scan, with `extra` arguments, run in `dir`.
fn demo_run(dir: &Path, command: &str, extra: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.args([command, "-q"]).arg(demo().join("mail.mbox"));
    if command == "audit" {
        cmd.args(["--offline", "--zone"])
            .arg(demo().join("what-if.zone"));
    }
    cmd.args(extra).current_dir(dir).output().unwrap()
}

fn ok(o: Output) -> Output {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

fn no_dash_file(dir: &Path) {
    assert!(!dir.join("-").exists(), "a file named - was written");
}

#[test]
fn dash_o_is_standard_output_like_no_o() {
    let tmp = tempfile::tempdir().unwrap();
    for command in ["scan", "audit"] {
        let plain = ok(demo_run(tmp.path(), command, &[]));
        let dashed = ok(demo_run(tmp.path(), command, &["-o", "-"]));
        assert!(
            stdout(&plain).starts_with("domain,ip,messages"),
            "{command}"
        );
        assert_eq!(stdout(&dashed), stdout(&plain), "{command}");
        no_dash_file(tmp.path());
    }
}

#[test]
fn a_report_named_dash_goes_to_standard_output_beside_a_pairs_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 5] = [
        ("audit", "--summary", "domain,messages,pairs,"),
        ("audit", "--by-day", "day,messages,"),
        ("audit", "--html", "<!DOCTYPE html>"),
        ("audit", "--json", "{\n  \"format\": \"repudiate-summary\""),
        (
            "scan",
            "--metrics",
            "# HELP repudiate_last_run_timestamp_seconds",
        ),
    ];
    for (command, flag, start) in cases {
        let out = ok(demo_run(
            tmp.path(),
            command,
            &["-o", "pairs.csv", flag, "-"],
        ));
        assert!(
            stdout(&out).starts_with(start),
            "{command} {flag} -: {}",
            stdout(&out)
        );
        assert!(tmp.path().join("pairs.csv").is_file(), "{command} {flag}");
        no_dash_file(tmp.path());
    }
}

#[test]
fn two_outputs_on_standard_output_are_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "audit",
            &["--json", "-"],
            "the pairs CSV (no -o, or -o -) and --json - would both go to standard output",
        ),
        (
            "scan",
            &["-o", "-", "--metrics", "-"],
            "the pairs CSV (no -o, or -o -) and --metrics - would both go to standard output",
        ),
        (
            "audit",
            &["-o", "p.csv", "--summary", "-", "--html", "-"],
            "--summary - and --html - would both go to standard output",
        ),
        (
            "audit",
            &["-o", "p.csv", "--history", "-"],
            "--history cannot be - (standard output)",
        ),
    ];
    for (command, extra, message) in cases {
        let out = demo_run(tmp.path(), command, extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(message),
            "{extra:?}: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty(), "{extra:?}");
        // Refused before any output (or its lock) was made.
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "{extra:?}: {left:?}");
    }
}

/// Metrics to a standard output that cannot be written (`/dev/full`): the run is fatal, and
/// the JSON beside it, which would say exit status 0, is not put in place.
#[test]
fn json_is_not_published_when_metrics_to_standard_output_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let full = std::fs::File::create("/dev/full").expect("/dev/full (Linux)");
    let out = bin()
        .args(["scan", "-q"])
        .arg(demo().join("maillog"))
        .args(["-o", "pairs.csv", "--json", "run.json", "--metrics", "-"])
        .current_dir(tmp.path())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("standard output"), "{}", stderr(&out));
    assert!(
        !tmp.path().join("run.json").exists(),
        "the JSON was published although the run failed"
    );
}
